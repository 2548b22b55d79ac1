/* table.c: meta.k8s.io/v1 Table answers, so that `kubectl get` prints
 * useful columns (Seldon's state, replicas and address for deployments). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/internal.h"

bool ss__api_wants_table(const struct ss_api_req *req) {
  return req->accept && strstr(req->accept, "as=Table") != NULL;
}

static json_t *at(const json_t *obj, const char *path) {
  char part[128];
  const json_t *v = obj;
  while (v && *path) {
    const char *dot = strchr(path, '.');
    size_t n = dot ? (size_t)(dot - path) : strlen(path);
    if (n >= sizeof part)
      return NULL;
    memcpy(part, path, n);
    part[n] = '\0';
    v = json_object_get(v, part);
    path = dot ? dot + 1 : path + n;
  }
  return (json_t *)v;
}

/* "5m", "3h", "2d" as kubectl prints ages. */
static void age(const char *ts, char *buf, size_t size) {
  struct tm tm = {0};
  if (!ts || !strptime(ts, "%Y-%m-%dT%H:%M:%SZ", &tm)) {
    snprintf(buf, size, "<unknown>");
    return;
  }
  long d = (long)difftime(time(NULL), timegm(&tm));
  if (d < 0)
    d = 0;
  if (d < 120)
    snprintf(buf, size, "%lds", d);
  else if (d < 3600 * 3)
    snprintf(buf, size, "%ldm", d / 60);
  else if (d < 86400 * 2)
    snprintf(buf, size, "%ldh", d / 3600);
  else
    snprintf(buf, size, "%ldd", d / 86400);
}

struct column {
  const char *name, *type, *path; /* path NULL: computed */
};

static const struct column sdep_cols[] = {{"Name", "string", "metadata.name"},
                                          {"State", "string", "status.state"},
                                          {"Replicas", "integer", "status.replicas"},
                                          {"Address", "string", "status.address.url"},
                                          {"Age", "date", NULL},
                                          {NULL, NULL, NULL}};
/* Seldon Core 2's CRDs' printer columns (Ready: the ModelReady, or the
 * Server's Ready, condition's status). */
static const struct column model_cols[] = {{"Name", "string", "metadata.name"},
                                           {"Ready", "string", NULL},
                                           {"Desired Replicas", "integer", "spec.replicas"},
                                           {"Available Replicas", "integer",
                                            "status.availableReplicas"},
                                           {"Age", "date", NULL},
                                           {NULL, NULL, NULL}};
static const struct column server_cols[] = {{"Name", "string", "metadata.name"},
                                            {"Ready", "string", NULL},
                                            {"Replicas", "integer", "status.replicas"},
                                            {"Loaded Models", "integer", "status.loadedModels"},
                                            {"Age", "date", NULL},
                                            {NULL, NULL, NULL}};
/* Any other kind: what kubectl prints for a resource without columns. */
static const struct column plain_cols[] = {{"Name", "string", "metadata.name"},
                                           {"Age", "date", NULL},
                                           {NULL, NULL, NULL}};
static const struct column ns_cols[] = {{"Name", "string", "metadata.name"},
                                        {"Status", "string", "status.phase"},
                                        {"Age", "date", NULL},
                                        {NULL, NULL, NULL}};
static const struct column event_cols[] = {{"Last Seen", "string", NULL},
                                           {"Type", "string", "type"},
                                           {"Reason", "string", "reason"},
                                           {"Object", "string", "involvedObject.name"},
                                           {"Message", "string", "message"},
                                           {NULL, NULL, NULL}};
static const struct column pod_cols[] = {{"Name", "string", "metadata.name"},
                                         {"Ready", "string", NULL},
                                         {"Status", "string", "status.phase"},
                                         {"Restarts", "integer", NULL},
                                         {"Age", "date", NULL},
                                         {NULL, NULL, NULL}};

/* What `kubectl get hpa` shows on a cluster. */
static const struct column hpa_cols[] = {{"Name", "string", "metadata.name"},
                                         {"Reference", "string", NULL},
                                         {"Targets", "string", NULL},
                                         {"MinPods", "integer", "spec.minReplicas"},
                                         {"MaxPods", "integer", "spec.maxReplicas"},
                                         {"Replicas", "integer", "status.currentReplicas"},
                                         {"Age", "date", NULL},
                                         {NULL, NULL, NULL}};
/* KEDA's printer columns (its CRD's additionalPrinterColumns). */
static const struct column so_cols[] = {{"Name", "string", "metadata.name"},
                                        {"ScaleTargetKind", "string", NULL},
                                        {"ScaleTargetName", "string", "spec.scaleTargetRef.name"},
                                        {"Min", "integer", "spec.minReplicaCount"},
                                        {"Max", "integer", "spec.maxReplicaCount"},
                                        {"Triggers", "string", NULL},
                                        {"Authentication", "string", NULL},
                                        {"Ready", "string", NULL},
                                        {"Active", "string", NULL},
                                        {"Fallback", "string", NULL},
                                        {"Paused", "string", NULL},
                                        {"Age", "date", NULL},
                                        {NULL, NULL, NULL}};
/* What `kubectl get deployments` shows. */
static const struct column deploy_cols[] = {{"Name", "string", "metadata.name"},
                                            {"Ready", "string", NULL},
                                            {"Up-to-date", "integer", "status.updatedReplicas"},
                                            {"Available", "integer", "status.availableReplicas"},
                                            {"Age", "date", NULL},
                                            {NULL, NULL, NULL}};

/* The status of condition type in obj's status.conditions, "Unknown" if absent. */
static const char *cond_status(const json_t *obj, const char *type) {
  size_t i;
  json_t *c;
  json_array_foreach(at(obj, "status.conditions"), i, c) {
    const char *t = json_string_value(json_object_get(c, "type"));
    const char *s = json_string_value(json_object_get(c, "status"));
    if (t && s && strcmp(t, type) == 0)
      return s;
  }
  return "Unknown";
}

/* ", "-joined values of key (a path inside each element) over the array at
 * path; e.g. the trigger types of a ScaledObject. */
static json_t *joined(const json_t *obj, const char *path, const char *key) {
  char buf[512] = "";
  size_t n = 0, i;
  json_t *e;
  json_array_foreach(at(obj, path), i, e) {
    const char *v = json_string_value(at(e, key));
    if (v && *v && n < sizeof buf)
      n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", n ? "," : "", v);
  }
  return json_string(buf);
}

/* One metric's "current/target" as kubectl prints an HPA's TARGETS:
 * "cpu: 5%/50%" for a resource utilization, else values; <unknown> until
 * the autoscaler measured it. */
static size_t hpa_target(const json_t *spec_m, const json_t *cur_m, char *buf, size_t size) {
  const char *type = json_string_value(json_object_get(spec_m, "type"));
  const char *field = !type ? "" : strcmp(type, "Resource") == 0 ? "resource"
                     : strcmp(type, "ContainerResource") == 0 ? "containerResource"
                     : strcmp(type, "Pods") == 0 ? "pods"
                     : strcmp(type, "Object") == 0 ? "object" : "external";
  const json_t *src = json_object_get(spec_m, field);
  const json_t *target = json_object_get(src, "target");
  const json_t *current = json_object_get(json_object_get(cur_m, field), "current");
  const char *name = json_string_value(json_object_get(src, "name"));
  char cur[64] = "<unknown>", want[64] = "";
  json_t *tu = json_object_get(target, "averageUtilization");
  if (json_is_integer(tu)) {
    snprintf(want, sizeof want, "%lld%%", (long long)json_integer_value(tu));
    json_t *cu = json_object_get(current, "averageUtilization");
    if (json_is_integer(cu))
      snprintf(cur, sizeof cur, "%lld%%", (long long)json_integer_value(cu));
  } else {
    const char *key = json_object_get(target, "value") ? "value" : "averageValue";
    const char *tv = json_string_value(json_object_get(target, key));
    const char *cv = json_string_value(json_object_get(current, key));
    snprintf(want, sizeof want, "%s", tv ? tv : "");
    if (cv)
      snprintf(cur, sizeof cur, "%s", cv);
  }
  if (name && (strcmp(field, "resource") == 0 || strcmp(field, "containerResource") == 0))
    return (size_t)snprintf(buf, size, "%s: %s/%s", name, cur, want);
  /* kubectl marks an External or Object AverageValue target so */
  bool avg = (strcmp(field, "external") == 0 || strcmp(field, "object") == 0) &&
             json_object_get(target, "averageValue");
  return (size_t)snprintf(buf, size, "%s/%s%s", cur, want, avg ? " (avg)" : "");
}

/* A cell no single path gives. */
static json_t *computed(const struct column *cols, const struct column *c, const json_t *it) {
  if (cols == hpa_cols && strcmp(c->name, "Reference") == 0) {
    const char *kind = json_string_value(at(it, "spec.scaleTargetRef.kind"));
    const char *name = json_string_value(at(it, "spec.scaleTargetRef.name"));
    char buf[300];
    snprintf(buf, sizeof buf, "%s/%s", kind ? kind : "", name ? name : "");
    return json_string(buf);
  }
  if (cols == hpa_cols && strcmp(c->name, "Targets") == 0) {
    char buf[512] = "";
    size_t n = 0, i;
    json_t *m;
    json_array_foreach(at(it, "spec.metrics"), i, m) {
      if (n >= sizeof buf - 2)
        break;
      if (n)
        n += (size_t)snprintf(buf + n, sizeof buf - n, ", ");
      if (n < sizeof buf)
        n += hpa_target(m, json_array_get(at(it, "status.currentMetrics"), i), buf + n,
                        sizeof buf - n);
    }
    return json_string(n ? buf : "<none>");
  }
  if (cols == so_cols && strcmp(c->name, "ScaleTargetKind") == 0) {
    const char *v = json_string_value(at(it, "status.scaleTargetKind"));
    if (v)
      return json_string(v);
    const char *api = json_string_value(at(it, "spec.scaleTargetRef.apiVersion"));
    const char *kind = json_string_value(at(it, "spec.scaleTargetRef.kind"));
    char buf[256];
    snprintf(buf, sizeof buf, "%s.%s", api ? api : "apps/v1", kind ? kind : "Deployment");
    return json_string(buf);
  }
  if (cols == so_cols && strcmp(c->name, "Triggers") == 0)
    return joined(it, "spec.triggers", "type");
  if (cols == so_cols && strcmp(c->name, "Authentication") == 0)
    return joined(it, "spec.triggers", "authenticationRef.name");
  if (cols == so_cols)
    return json_string(cond_status(it, c->name));
  if (cols == model_cols || cols == server_cols) { /* a condition's status, "" when unset */
    const char *st = cond_status(it, cols == model_cols ? "ModelReady" : "Ready");
    return json_string(strcmp(st, "Unknown") == 0 ? "" : st);
  }
  if (cols == deploy_cols) { /* Ready: ready of wanted */
    char buf[48];
    snprintf(buf, sizeof buf, "%lld/%lld",
             (long long)json_integer_value(at(it, "status.readyReplicas")),
             (long long)json_integer_value(at(it, "spec.replicas")));
    return json_string(buf);
  }
  if (strcmp(c->name, "Ready") == 0) { /* a pod */
    json_t *c0 = json_array_get(at(it, "status.containerStatuses"), 0);
    return json_string(json_is_true(json_object_get(c0, "ready")) ? "1/1" : "0/1");
  }
  if (strcmp(c->name, "Restarts") == 0) {
    json_t *c0 = json_array_get(at(it, "status.containerStatuses"), 0);
    json_t *rc = json_object_get(c0, "restartCount");
    return json_integer(json_is_integer(rc) ? json_integer_value(rc) : 0);
  }
  return json_string("");
}

json_t *ss__api_table(const struct ss_api_kind *k, json_t *items, const char *rv) {
  const struct column *cols = plain_cols;
  if (strcmp(k->plural, "namespaces") == 0)
    cols = ns_cols;
  else if (strcmp(k->plural, "seldondeployments") == 0)
    cols = sdep_cols;
  else if (strcmp(k->group, "mlops.seldon.io") == 0)
    cols = strcmp(k->plural, "models") == 0 ? model_cols : server_cols;
  else if (strcmp(k->plural, "events") == 0)
    cols = event_cols;
  else if (strcmp(k->plural, "pods") == 0)
    cols = pod_cols;
  else if (strcmp(k->plural, "horizontalpodautoscalers") == 0)
    cols = hpa_cols;
  else if (strcmp(k->plural, "scaledobjects") == 0)
    cols = so_cols;
  else if (strcmp(k->plural, "deployments") == 0)
    cols = deploy_cols;
  json_t *defs = json_array(), *rows = json_array();
  for (const struct column *c = cols; c->name; c++)
    json_array_append_new(defs, json_pack("{s:s, s:s, s:s, s:s, s:i}", "name", c->name, "type",
                                          c->type, "format", strcmp(c->name, "Name") == 0 ? "name" : "",
                                          "description", c->name, "priority", 0));
  size_t i;
  json_t *it;
  json_array_foreach(items, i, it) {
    json_t *cells = json_array();
    for (const struct column *c = cols; c->name; c++) {
      if (c->path) {
        json_t *v = at(it, c->path);
        if (v)
          json_array_append(cells, v);
        else if (strcmp(c->type, "integer") == 0)
          json_array_append_new(cells, json_integer(0));
        else
          json_array_append_new(cells, json_string(""));
      } else if (strcmp(c->name, "Age") == 0 || strcmp(c->name, "Last Seen") == 0) {
        char a[32];
        age(json_string_value(at(it, c->name[0] == 'A' ? "metadata.creationTimestamp"
                                                       : "lastTimestamp")),
            a, sizeof a);
        json_array_append_new(cells, json_string(a));
      } else {
        json_array_append_new(cells, computed(cols, c, it));
      }
    }
    json_t *md = json_deep_copy(json_object_get(it, "metadata"));
    json_array_append_new(rows, json_pack("{s:o, s:{s:s, s:s, s:o}}", "cells", cells, "object",
                                          "kind", "PartialObjectMetadata", "apiVersion",
                                          "meta.k8s.io/v1", "metadata", md ? md : json_object()));
  }
  json_decref(items);
  return json_pack("{s:s, s:s, s:{s:s}, s:o, s:o}", "kind", "Table", "apiVersion",
                   "meta.k8s.io/v1", "metadata", "resourceVersion", rv ? rv : "",
                   "columnDefinitions", defs, "rows", rows);
}
