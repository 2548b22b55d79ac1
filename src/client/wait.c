/* wait.c: waiting for an object to reach a state (a condition, a field's
 * value, a replica count, its deletion) by list then watch: the predicate
 * is a pure function of one version of the object; ss_client_watch brings
 * the versions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client/internal.h"

long ss_client_desired_replicas(const json_t *obj) {
  const json_t *ds = json_object_get(json_object_get(obj, "status"), "deploymentStatus");
  const char *key;
  const json_t *rs;
  long sum = 0;
  if (!json_is_object(ds) || json_object_size(ds) == 0)
    return -1;
  json_object_foreach((json_t *)ds, key, rs) {
    const json_t *d = json_object_get(rs, "desiredReplicas");
    if (!json_is_integer(d))
      return -1;
    sum += (long)json_integer_value(d);
  }
  return sum;
}

static long int_at(const json_t *obj, const char *a, const char *b) {
  const json_t *v = json_object_get(json_object_get(obj, a), b);
  return json_is_integer(v) ? (long)json_integer_value(v) : -1;
}

/* The status describes the current spec, and every replica set runs, ready,
 * what it desires: the object runs want replicas (-1: what it desires). */
static bool replicas_met(const json_t *obj, long want) {
  long gen = int_at(obj, "metadata", "generation");
  long seen = int_at(obj, "status", "observedGeneration");
  if (gen >= 0 && seen >= 0 && seen < gen)
    return false;
  long total = int_at(obj, "status", "replicas");
  const json_t *ds = json_object_get(json_object_get(obj, "status"), "deploymentStatus");
  if (!json_is_object(ds) || json_object_size(ds) == 0) {
    /* Models and Servers report only status.replicas. */
    long spec = int_at(obj, "spec", "replicas");
    return total >= 0 && total == (want >= 0 ? want : spec >= 0 ? spec : 1);
  }
  const char *key;
  const json_t *rs;
  json_object_foreach((json_t *)ds, key, rs) {
    const json_t *dv = json_object_get(rs, "desiredReplicas");
    const json_t *av = json_object_get(rs, "availableReplicas");
    const json_t *rv = json_object_get(rs, "replicas");
    if (!json_is_integer(dv) || !json_is_integer(av) || !json_is_integer(rv) ||
        json_integer_value(av) != json_integer_value(dv) ||
        json_integer_value(rv) != json_integer_value(dv))
      return false;
  }
  long desired = ss_client_desired_replicas(obj);
  if (want >= 0 && desired != want)
    return false;
  return total == desired;
}

bool ss_client_wait_met(const struct ss_client_wait *w, const json_t *obj) {
  if (w->what == SS_CLIENT_WAIT_DELETE)
    return obj == NULL;
  if (!obj)
    return false;
  switch (w->what) {
  case SS_CLIENT_WAIT_CONDITION: {
    const char *want = w->value && *w->value ? w->value : "True";
    size_t i;
    json_t *cond;
    json_array_foreach(json_object_get(json_object_get(obj, "status"), "conditions"), i, cond) {
      const char *type = json_string_value(json_object_get(cond, "type"));
      const char *status = json_string_value(json_object_get(cond, "status"));
      /* kubectl compares condition names and values without case */
      if (type && status && w->condition && strcasecmp(type, w->condition) == 0)
        return strcasecmp(status, want) == 0;
    }
    return false;
  }
  case SS_CLIENT_WAIT_JSONPATH: {
    const json_t *v = NULL;
    if (!w->jsonpath || ss_client_jsonpath(obj, w->jsonpath, &v, NULL) || !v)
      return false;
    if (!w->value)
      return !json_is_false(v) && !json_is_null(v) &&
             !(json_is_string(v) && !*json_string_value(v));
    char *text = ss_client_json_text(v);
    bool met = text && strcmp(text, w->value) == 0;
    free(text);
    return met;
  }
  case SS_CLIENT_WAIT_REPLICAS:
    return replicas_met(obj, w->replicas);
  default:
    return false;
  }
}

struct wait_state {
  const struct ss_client_wait *w;
  const char *name;
  json_t *cur; /* the last version seen, NULL while absent */
  bool met;
};

static bool on_version(void *ud, const char *type, const json_t *obj) {
  struct wait_state *ws = ud;
  bool changed = false;
  if (strcmp(type, "RELISTED") == 0) {
    json_decref(ws->cur); /* the relist says again what exists */
    ws->cur = NULL;
    return true;
  }
  if (strcmp(type, "SYNCED") != 0) {
    const char *n = ss__client_name(obj);
    if (!n || strcmp(n, ws->name) != 0)
      return true;
    json_decref(ws->cur);
    ws->cur = strcmp(type, "DELETED") == 0 ? NULL : json_deep_copy(obj);
    changed = true;
  }
  if (changed && ws->w->progress)
    ws->w->progress(ws->w->ctx, ws->cur);
  /* Absence counts only once a list has been read in full (SYNCED) or a
   * DELETED event says so. */
  if (ws->cur || strcmp(type, "SYNCED") == 0 || strcmp(type, "DELETED") == 0)
    ws->met = ss_client_wait_met(ws->w, ws->cur);
  return !ws->met;
}

enum ss_err ss_client_wait(struct ss_client *c, const struct ss_client_kind *k, const char *ns,
                           const char *name, const struct ss_client_wait *w, json_t **last,
                           struct ss_client_error *err) {
  char field[512];
  struct wait_state ws = {.w = w, .name = name};
  enum ss_err rc;
  if (last)
    *last = NULL;
  if (!name || !*name)
    return ss__client_fail(err, SS_EUSAGE, "wait: no object named");
  if (w->timeout_ms <= 0)
    return ss__client_fail(err, SS_EUSAGE, "wait: a time-out is required");
  if (w->what == SS_CLIENT_WAIT_JSONPATH) {
    /* a bad expression is an error now, not a time-out later */
    const json_t *dummy;
    json_t *empty = json_object();
    if (!w->jsonpath)
      return ss__client_fail(err, SS_EUSAGE, "wait: no jsonpath");
    rc = ss_client_jsonpath(empty, w->jsonpath, &dummy, err);
    json_decref(empty);
    if (rc)
      return rc;
  }
  snprintf(field, sizeof field, "metadata.name=%s", name);
  struct ss_client_watch_opts o = {.field_selector = field, .timeout_ms = w->timeout_ms,
                                   .cancel = w->cancel};
  rc = ss_client_watch(c, k, k->namespaced ? (ns && *ns ? ns : ss_client_namespace(c)) : NULL, &o,
                       on_version, &ws, err);
  if (rc == SS_EOK && !ws.met && !(w->cancel && atomic_load(w->cancel)))
    rc = ss__client_fail(err, SS_EIO, "watch ended before the condition was met");
  if (rc == SS_EIO && !ws.met && err && strncmp(err->msg, "timed out", 9) == 0)
    ss__client_fail(err, SS_EIO, "timed out waiting for the condition on %s/%s", k->plural, name);
  if (last)
    *last = ws.cur;
  else
    json_decref(ws.cur);
  return rc;
}
