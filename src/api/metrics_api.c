/* metrics_api.c: the routes of the custom and external metrics APIs, as
 * prometheus-adapter serves them, answered by the metrics hook:
 *   /apis/custom.metrics.k8s.io/v1beta1                      discovery
 *   .../namespaces/NS/RESOURCE/NAME/METRIC                   a namespaced object
 *   .../namespaces/NS/pods/ * /METRIC?labelSelector=...      the pods selected
 *   .../RESOURCE/NAME/METRIC                                 a root object (namespaces/NS/METRIC)
 *   /apis/external.metrics.k8s.io/v1beta1[/namespaces/NS/METRIC?labelSelector=...]
 *     (also .../namespaces/NS/metrics/METRIC)
 * RESOURCE is "pods" or "seldondeployments.machinelearning.seldon.io". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "api/selector.h"

#define CUSTOM "/apis/custom.metrics.k8s.io/v1beta1"
#define EXTERNAL "/apis/external.metrics.k8s.io/v1beta1"
#define MAX_SEGS 6

/* The pods of ns the selector picks, by name: a new array of strings. */
static json_t *pod_names(struct ss_api *api, const char *ns, const char *selector,
                         struct ss_api_resp *resp) {
  struct ss_selector *sel = NULL;
  struct ss_error err = {0};
  if (ss_selector_parse(selector, true, &sel, &err)) {
    ss__api_status(resp, 400, "BadRequest", "labelSelector: %s", err.msg);
    return NULL;
  }
  json_t *pods = api->cfg.hooks.pods ? api->cfg.hooks.pods(api->cfg.hooks.ctx, ns) : json_array();
  json_t *names = json_array();
  size_t i;
  const json_t *p;
  json_array_foreach(pods, i, p) if (ss_selector_matches(sel, p)) json_array_append(
      names, json_object_get(json_object_get(p, "metadata"), "name"));
  json_decref(pods);
  ss_selector_free(sel);
  return names;
}

static void answer(struct ss_api *api, const struct ss_api_metrics_query *q,
                   struct ss_api_resp *resp) {
  char why[512] = "";
  int code = 404;
  json_t *out = api->cfg.hooks.metrics(api->cfg.hooks.ctx, q, &code, why, sizeof why);
  if (out) {
    resp->code = 200;
    resp->body = out;
  } else {
    ss__api_status(resp, code, code == 400 ? "BadRequest" : code == 503 ? "ServiceUnavailable"
                                                                          : "NotFound",
                   "%s", why[0] ? why : "the server could not find the requested resource");
  }
}

/* A custom metrics path below the version: 3 segments (a root object) or
 * 5 (namespaces/NS/RESOURCE/NAME/METRIC). */
static void custom(struct ss_api *api, const struct ss_api_req *req,
                   char segs[][SS_API_SEG_MAX], int n, struct ss_api_resp *resp) {
  struct ss_api_metrics_query q = {.selector = req->q_metric_label};
  int at = 0;
  if (n == 5 && strcmp(segs[0], "namespaces") == 0) {
    q.ns = segs[1];
    at = 2;
  } else if (n != 3) {
    ss__api_status(resp, 404, "NotFound", "the server could not find the requested resource");
    return;
  }
  char *dot = strchr(segs[at], '.');
  q.group = dot ? dot + 1 : "";
  if (dot)
    *dot = '\0';
  q.resource = segs[at];
  q.metric = segs[at + 2];
  const char *name = segs[at + 1];
  json_t *names = NULL;
  if (strcmp(name, "*") == 0 && strcmp(q.resource, "pods") == 0 && q.ns) {
    if (!(names = pod_names(api, q.ns, req->q_label, resp)))
      return;
  } else if (strcmp(name, "*") != 0) {
    names = json_pack("[s]", name);
  }
  const char *list[256];
  size_t i;
  const json_t *v;
  json_array_foreach(names, i, v) if (q.n_names < 256) list[q.n_names++] = json_string_value(v);
  q.names = names ? list : NULL;
  if (names && q.n_names == 0) { /* no pod selected: an empty list, as the adapter answers */
    resp->code = 200;
    resp->body = json_pack("{s:s, s:s, s:{}, s:[]}", "kind", "MetricValueList", "apiVersion",
                           "custom.metrics.k8s.io/v1beta1", "metadata", "items");
  } else {
    answer(api, &q, resp);
  }
  json_decref(names);
}

bool ss__api_metrics(struct ss_api *api, const struct ss_api_req *req, struct ss_api_resp *resp) {
  bool external = strncmp(req->path, EXTERNAL, strlen(EXTERNAL)) == 0;
  const char *prefix = external ? EXTERNAL : CUSTOM;
  size_t pl = strlen(prefix);
  if (strncmp(req->path, prefix, pl) != 0 || (req->path[pl] && req->path[pl] != '/'))
    return false;
  if (!api->cfg.hooks.metrics)
    return false;
  if (strcmp(req->method, "GET") != 0) {
    ss__api_status(resp, 405, "MethodNotAllowed", "%s is not allowed on metrics", req->method);
    return true;
  }
  char segs[MAX_SEGS][SS_API_SEG_MAX];
  int n = ss__api_split(req->path + pl, segs, MAX_SEGS);
  struct ss_api_metrics_query q = {.external = external, .discovery = n == 0};
  if (n < 0) {
    ss__api_status(resp, 404, "NotFound", "the server could not find the requested resource");
  } else if (n == 0) {
    answer(api, &q, resp);
  } else if (!external) {
    custom(api, req, segs, n, resp);
  } else if (strcmp(segs[0], "namespaces") == 0 &&
             (n == 3 || (n == 4 && strcmp(segs[2], "metrics") == 0))) {
    q.ns = segs[1];
    q.metric = segs[n - 1];
    q.selector = req->q_label;
    answer(api, &q, resp);
  } else {
    ss__api_status(resp, 404, "NotFound", "the server could not find the requested resource");
  }
  return true;
}
