/* hpa_v1.c: autoscaling/v1 HorizontalPodAutoscalers served by conversion
 * to and from the stored autoscaling/v2 form (see hpa_v1.h). */
#include "api/hpa_v1.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "api/protobuf.h"
#include "model/doc.h"

#define V1_PREFIX "/apis/autoscaling/v1/"
#define V2_PREFIX "/apis/autoscaling/v2/"
#define PLURAL "horizontalpodautoscalers"

/* ---- the conversions ---- */

/* {type: Resource, resource: {name: cpu, <what>: {...}}} holding n */
static json_t *cpu_metric(const char *what, json_t *n, bool target) {
  json_t *value = target ? json_pack("{s:s, s:O}", "type", "Utilization", "averageUtilization", n)
                         : json_pack("{s:O}", "averageUtilization", n);
  return json_pack("[{s:s, s:{s:s, s:o}}]", "type", "Resource", "resource", "name", "cpu", what,
                   value);
}

/* Moves obj[from] (a v1 percentage) to obj[to] (a v2 metric list). */
static bool percent_to_metrics(json_t *obj, const char *from, const char *to, const char *what,
                               bool target) {
  json_t *n = json_object_get(obj, from);
  if (!json_is_object(obj) || !n)
    return true;
  json_t *m = cpu_metric(what, n, target);
  if (!m || json_object_set_new(obj, to, m))
    return false;
  json_object_del(obj, from);
  return true;
}

/* The averageUtilization of the cpu Resource metric in list, or NULL. */
static json_t *cpu_percent(const json_t *list, const char *what) {
  size_t i;
  json_t *m;
  json_array_foreach(list, i, m) {
    json_t *res = json_object_get(m, "resource");
    const char *type = json_string_value(json_object_get(m, "type"));
    const char *name = json_string_value(json_object_get(res, "name"));
    json_t *value = json_object_get(res, what);
    const char *vtype = json_string_value(json_object_get(value, "type"));
    if (type && strcmp(type, "Resource") == 0 && name && strcmp(name, "cpu") == 0 &&
        (!vtype || strcmp(vtype, "Utilization") == 0))
      return json_object_get(value, "averageUtilization");
  }
  return NULL;
}

/* Replaces obj[from] (a v2 metric list) by obj[to] (a v1 percentage). */
static bool metrics_to_percent(json_t *obj, const char *from, const char *to, const char *what) {
  json_t *n = cpu_percent(json_object_get(obj, from), what);
  if (n && json_object_set(obj, to, n))
    return false;
  json_object_del(obj, from);
  return true;
}

json_t *ss_api_hpa_v1_to_v2(const json_t *v1) {
  json_t *v2 = json_deep_copy(v1);
  if (!v2 || json_object_set_new(v2, "apiVersion", json_string("autoscaling/v2")) ||
      !percent_to_metrics(json_object_get(v2, "spec"), "targetCPUUtilizationPercentage",
                          "metrics", "target", true) ||
      !percent_to_metrics(json_object_get(v2, "status"), "currentCPUUtilizationPercentage",
                          "currentMetrics", "current", false)) {
    json_decref(v2);
    return NULL;
  }
  return v2;
}

json_t *ss_api_hpa_v2_to_v1(const json_t *v2) {
  json_t *v1 = json_deep_copy(v2);
  json_t *spec = json_object_get(v1, "spec"), *status = json_object_get(v1, "status");
  if (!v1 || json_object_set_new(v1, "apiVersion", json_string("autoscaling/v1")) ||
      !metrics_to_percent(spec, "metrics", "targetCPUUtilizationPercentage", "target") ||
      !metrics_to_percent(status, "currentMetrics", "currentCPUUtilizationPercentage",
                          "current")) {
    json_decref(v1);
    return NULL;
  }
  json_object_del(spec, "behavior");
  json_object_del(status, "conditions");
  return v1;
}

/* ---- serving v1 ---- */

/* Whether path is under /apis/autoscaling/v1/[namespaces/NS/]horizontalpodautoscalers. */
static bool is_v1_path(const char *path) {
  const char *rest = path + strlen(V1_PREFIX);
  if (strncmp(path, V1_PREFIX, strlen(V1_PREFIX)) != 0)
    return false;
  if (strncmp(rest, "namespaces/", 11) == 0) {
    rest = strchr(rest + 11, '/');
    if (!rest)
      return false;
    rest++;
  }
  return strncmp(rest, PLURAL, strlen(PLURAL)) == 0 &&
         (rest[strlen(PLURAL)] == '\0' || rest[strlen(PLURAL)] == '/');
}

/* The request's body as an object, or NULL when it cannot be read (the
 * handlers then answer for it, as for any body). */
static json_t *body_object(const struct ss_api_req *req) {
  struct ss_error err = {0};
  struct ss_docs docs = {0};
  json_t *obj = NULL;
  if (ss_api_pb_is_protobuf(req->content_type))
    return ss_api_pb_decode(req->body, req->body_len, NULL, &obj, &err) ? NULL : obj;
  if (ss_docs_parse(req->body, req->body_len, &docs, &err) == SS_EOK && docs.n == 1 &&
      json_is_object(docs.v[0]->root))
    obj = json_incref(docs.v[0]->root);
  ss_docs_free(&docs);
  return obj;
}

/* The body of a create or update in its v2 form, as compact JSON (the
 * caller frees), or NULL with *answered set when resp says why not. */
static char *body_v2(const struct ss_api_req *req, struct ss_api_resp *resp, bool *answered) {
  json_t *v1 = body_object(req), *v2 = NULL;
  char *out = NULL;
  *answered = false;
  if (!v1)
    return NULL;
  const char *av = json_string_value(json_object_get(v1, "apiVersion"));
  if (av && strcmp(av, "autoscaling/v1") != 0) {
    ss__api_status(resp, 400, "BadRequest",
                   "the API version in the data (%s) does not match the expected API version "
                   "(autoscaling/v1)",
                   av);
    *answered = true;
  } else if (!(v2 = ss_api_hpa_v1_to_v2(v1)) || !(out = json_dumps(v2, JSON_COMPACT))) {
    ss__api_status(resp, 500, "InternalError", "out of memory");
    *answered = true;
  }
  json_decref(v1);
  json_decref(v2);
  return out;
}

/* Replaces a v2 HPA (or each in a list) in the answer by its v1 form. */
static void answer_v1(struct ss_api_resp *resp) {
  const char *kind = json_string_value(json_object_get(resp->body, "kind"));
  json_t *items = json_object_get(resp->body, "items");
  size_t i;
  json_t *it;
  if (kind && strcmp(kind, "HorizontalPodAutoscalerList") == 0) {
    json_object_set_new(resp->body, "apiVersion", json_string("autoscaling/v1"));
    json_array_foreach(items, i, it) {
      json_t *v1 = ss_api_hpa_v2_to_v1(it);
      if (!v1 || json_array_set_new(items, i, v1))
        ss__api_status(resp, 500, "InternalError", "out of memory");
    }
  } else if (kind && strcmp(kind, "HorizontalPodAutoscaler") == 0) {
    json_t *v1 = ss_api_hpa_v2_to_v1(resp->body);
    if (!v1) {
      ss__api_status(resp, 500, "InternalError", "out of memory");
      return;
    }
    json_decref(resp->body);
    resp->body = v1;
  }
}

bool ss__api_hpa_v1(struct ss_api *api, const struct ss_api_req *req, struct ss_api_resp *resp) {
  char path[1024];
  bool watch = false, answered = false;
  char *body = NULL;
  if (!is_v1_path(req->path))
    return false;
  if (!ss__api_query_bool("watch", req->q_watch, &watch, resp))
    return true;
  if (watch || strcmp(req->method, "PATCH") == 0) {
    ss__api_status(resp, 405, "MethodNotAllowed",
                   "%s of autoscaling/v1 horizontalpodautoscalers is not served here: use "
                   "autoscaling/v2",
                   watch ? "watch" : "PATCH");
    return true;
  }
  if (snprintf(path, sizeof path, V2_PREFIX "%s", req->path + strlen(V1_PREFIX)) >=
      (int)sizeof path) {
    ss__api_status(resp, 404, "NotFound", "the server could not find the requested resource");
    return true;
  }
  struct ss_api_req v2 = *req;
  v2.path = path;
  bool writes = strcmp(req->method, "POST") == 0 || strcmp(req->method, "PUT") == 0;
  if (writes && req->body && req->body_len) {
    body = body_v2(req, resp, &answered);
    if (answered)
      return true;
    if (body) {
      v2.body = body;
      v2.body_len = strlen(body);
      v2.content_type = "application/json";
    }
  }
  ss__api_handle(api, &v2, resp);
  answer_v1(resp);
  free(body);
  return true;
}
