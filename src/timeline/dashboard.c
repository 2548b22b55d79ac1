/* dashboard.c: the state the dashboard page (/ui/ on the gateway) shows:
 * every SeldonDeployment, Model and Server with its state, replicas and
 * address, each SeldonDeployment's timeline, and the latest events. Built
 * by the daemon's loop, published to the gateway, which serves it. */
#include <string.h>

#include "timeline/timeline.h"

#define DASHBOARD_EVENTS 50

static const struct {
  const char *group, *plural, *kind;
} kinds[] = {{"machinelearning.seldon.io", "seldondeployments", "SeldonDeployment"},
             {"mlops.seldon.io", "models", "Model"},
             {"mlops.seldon.io", "servers", "Server"}};

static json_t *row(const json_t *o, const char *kind) {
  const json_t *md = json_object_get(o, "metadata"), *st = json_object_get(o, "status");
  const json_t *spec = json_object_get(o, "spec");
  json_t *ready = json_integer(0), *desired = json_integer(0);
  const char *k;
  const json_t *v;
  json_object_foreach((json_t *)json_object_get(st, "deploymentStatus"), k, v) {
    json_integer_set(ready, json_integer_value(ready) +
                                json_integer_value(json_object_get(v, "availableReplicas")));
    json_integer_set(desired, json_integer_value(desired) +
                                  json_integer_value(json_object_get(v, "desiredReplicas")));
  }
  if (strcmp(kind, "SeldonDeployment") != 0) {
    json_integer_set(ready, json_integer_value(json_object_get(st, "availableReplicas")));
    json_integer_set(desired, json_integer_value(json_object_get(spec, "replicas")));
  }
  return json_pack("{s:s, s:O?, s:O?, s:O?, s:o, s:o, s:O?}", "kind", kind, "namespace",
                   json_object_get(md, "namespace"), "name", json_object_get(md, "name"),
                   "state", json_object_get(st, "state"), "ready", ready, "desired", desired,
                   "address", json_object_get(json_object_get(st, "address"), "url"));
}

static json_t *latest_events(struct ss_store *st) {
  json_t *items = NULL, *out = json_array();
  uint64_t rv;
  struct ss_error err = {0};
  if (ss_store_list(st, (struct ss_kind_ref){"", "events"}, NULL, &items, &rv, &err))
    return out;
  /* newest last: sorted by lastTimestamp (RFC 3339 strings sort as times) */
  size_t n = json_array_size(items);
  for (size_t i = 0; i < n && json_array_size(out) < n; i++) {
    const json_t *e = json_array_get(items, i);
    const char *t = json_string_value(json_object_get(e, "lastTimestamp"));
    const json_t *io = json_object_get(e, "involvedObject");
    json_t *r = json_pack("{s:s, s:O?, s:O?, s:O?, s:O?, s:O?, s:O?}", "time", t ? t : "",
                          "type", json_object_get(e, "type"), "reason",
                          json_object_get(e, "reason"), "message", json_object_get(e, "message"),
                          "kind", json_object_get(io, "kind"), "namespace",
                          json_object_get(io, "namespace"), "name", json_object_get(io, "name"));
    size_t j = json_array_size(out);
    while (j > 0 && strcmp(json_string_value(json_object_get(json_array_get(out, j - 1), "time")),
                           t ? t : "") > 0)
      j--;
    json_array_insert_new(out, j, r);
  }
  json_decref(items);
  while (json_array_size(out) > DASHBOARD_EVENTS)
    json_array_remove(out, 0);
  return out;
}

json_t *ss_timeline_dashboard(struct ss_metrics *m, struct ss_store *st, const char *api_url,
                              int64_t since_ms, int64_t now_ms) {
  json_t *deps = json_array(), *timelines = json_array();
  for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
    json_t *items = NULL;
    uint64_t rv;
    struct ss_error err = {0};
    if (ss_store_list(st, (struct ss_kind_ref){kinds[i].group, kinds[i].plural}, NULL, &items,
                      &rv, &err))
      continue;
    size_t j;
    const json_t *o;
    json_array_foreach(items, j, o) {
      json_array_append_new(deps, row(o, kinds[i].kind));
      const json_t *md = json_object_get(o, "metadata");
      const char *ns = json_string_value(json_object_get(md, "namespace"));
      const char *name = json_string_value(json_object_get(md, "name"));
      json_t *tl = i == 0 && ns && name
                       ? ss_timeline_build(m, st, ns, name, since_ms, now_ms, &err)
                       : NULL;
      if (tl)
        json_array_append_new(timelines, tl);
    }
    json_decref(items);
  }
  return json_pack("{s:I, s:s, s:o, s:o, s:o}", "now", (json_int_t)now_ms, "api",
                   api_url ? api_url : "", "deployments", deps, "timelines", timelines, "events",
                   latest_events(st));
}
