/* core2_status.c: a Model's and a Server's status as Core 2's operator
 * writes it (core2_internal.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control/core2_internal.h"
#include "model/core2.h"

/* ---- status ---- */

static json_t *cond(const json_t *old, const char *type, bool ok, const char *reason,
                    const char *msg) {
  const char *st = ok ? "True" : "False";
  const char *ts = NULL;
  size_t i;
  const json_t *o;
  json_array_foreach(json_object_get(old, "conditions"), i, o) {
    const char *t = json_string_value(json_object_get(o, "type"));
    const char *s = json_string_value(json_object_get(o, "status"));
    if (t && strcmp(t, type) == 0 && s && strcmp(s, st) == 0)
      ts = json_string_value(json_object_get(o, "lastTransitionTime"));
  }
  char now[32];
  if (!ts) {
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
    ts = now;
  }
  json_t *c = json_pack("{s:s, s:s, s:s}", "type", type, "status", st, "lastTransitionTime", ts);
  if (reason && *reason)
    json_object_set_new(c, "reason", json_string(reason));
  if (msg && *msg)
    json_object_set_new(c, "message", json_string(msg));
  return c;
}

static void write_status(struct ss_core2 *c, const char *plural, const json_t *obj,
                         json_t *status) {
  const json_t *old = json_object_get(obj, "status");
  if (old && json_equal(old, status)) {
    json_decref(status);
    return;
  }
  struct ss_error err = {0};
  const char *ns = ss__c2_str_at(obj, "metadata", "namespace"),
             *name = ss__c2_str_at(obj, "metadata", "name");
  if (ss_store_update_status(c->cfg.store, (struct ss_kind_ref){SS_CORE2_GROUP, plural}, ns, name,
                             status, NULL, NULL, &err) &&
      err.code != SS_ENOTFOUND)
    fprintf(stderr, "event=status_write_failed %s=%s/%s error=\"%s\"\n", plural, ns, name, err.msg);
  json_decref(status);
}

int ss__c2_available(const struct model *m) {
  int n = 0;
  for (size_t j = 0; j < m->n; j++)
    n += m->copies[j].st == C_LOADED;
  return n;
}

void ss__c2_model_status(struct ss_core2 *c, struct model *m, const struct ss_c2_placement *pl) {
  const json_t *spec = json_object_get(m->obj, "spec");
  int want = ss__c2_int_at(spec, "replicas", SS_CORE2_DEFAULT_REPLICAS);
  int avail = ss__c2_available(m);
  const char *reason, *msg = "";
  char buf[320];
  bool failed_copy = false;
  for (size_t j = 0; j < m->n; j++)
    failed_copy = failed_copy || m->copies[j].st == C_FAILED;
  if (!m->placed) {
    reason = "ScheduleFailed";
    msg = m->sched_msg;
  } else if (failed_copy || (m->fail[0] && avail < (int)pl->n)) {
    reason = "ModelFailed";
    msg = m->fail;
  } else if (avail < (int)pl->n || avail == 0) {
    reason = "ModelProgressing";
    snprintf(buf, sizeof buf, "%d of %zu replicas loaded", avail, pl->n);
    msg = buf;
  } else {
    reason = "ModelAvailable";
  }
  bool ready = strcmp(reason, "ModelAvailable") == 0;
  if (strcmp(reason, m->last_reason) != 0) {
    if (strcmp(reason, "ScheduleFailed") == 0)
      ss_store_eventf(c->cfg.store, m->obj, "Warning", "ScheduleFailed", NULL, "%s", msg);
    else if (ready)
      ss_store_eventf(c->cfg.store, m->obj, "Normal", "ModelAvailable", NULL,
                      "%d replica(s) available", avail);
    snprintf(m->last_reason, sizeof m->last_reason, "%s", reason);
  }
  if (avail != m->last_available) {
    m->stable_since_ms = c->now_ms;
    m->last_available = avail;
  }
  const json_t *old = json_object_get(m->obj, "status");
  json_t *conds = json_array();
  json_array_append_new(conds, cond(old, "ModelReady", ready, reason, msg));
  json_array_append_new(conds, cond(old, "Ready", ready, reason, msg));
  json_t *st = json_pack("{s:i, s:i, s:o}", "replicas", want, "availableReplicas", avail,
                         "conditions", conds);
  write_status(c, "models", m->obj, st);
}

void ss__c2_server_status(struct ss_core2 *c, const struct server *s) {
  int live = 0, ready = 0, loaded = 0;
  for (int o = 0; o < SS_C2_MAX_REPLICAS; o++) {
    if (!s->slots[o].used)
      continue;
    live++;
    ready += s->slots[o].ready;
  }
  for (size_t i = 0; i < c->n_models; i++)
    for (size_t j = 0; j < c->models[i]->n; j++) {
      const struct copy *cp = &c->models[i]->copies[j];
      loaded += cp->st == C_LOADED && strcmp(c->models[i]->ns, s->ns) == 0 &&
                strcmp(cp->server, s->name) == 0;
    }
  bool ok = s->ok && ready >= s->keep;
  char msg[320] = "";
  const char *reason = s->ok ? (ok ? "" : "ReplicasNotReady") : "ServerConfigUnsupported";
  if (!s->ok)
    snprintf(msg, sizeof msg, "%s", s->why);
  else if (!ok)
    snprintf(msg, sizeof msg, "%d of %d replicas ready", ready, s->keep);
  const json_t *old = json_object_get(s->obj, "status");
  json_t *conds = json_array();
  json_array_append_new(conds, cond(old, "Ready", ok, reason, msg));
  json_array_append_new(conds, cond(old, "StatefulSetReady", ok, reason, msg));
  char sel[SS_NAME_LEN + 32];
  snprintf(sel, sizeof sel, "%s=%s", SS_CORE2_LABEL_SERVER, s->name);
  json_t *st = json_pack("{s:i, s:i, s:s, s:o}", "replicas", live, "loadedModels", loaded,
                         "selector", sel, "conditions", conds);
  write_status(c, "servers", s->obj, st);
}

/* ---- metrics ---- */

#define LOADED "seldon_loaded_model_gauge"
#define LOADED_MEMORY "seldon_loaded_model_memory_bytes_gauge"
#define CAPACITY "seldon_server_replica_memory_capacity_bytes_gauge"
#define LOADS "seldon_load_model_counter"
#define UNLOADS "seldon_unload_model_counter"
#define INFLIGHT "seldon_model_infer_inflight"

static const char *const model_labels[] = {"server", "server_replica", "model_internal",
                                           "namespace", "pod"};
static const char *const replica_labels[] = {"server", "server_replica", "namespace", "pod"};
static const char *const inflight_labels[] = {"model", "namespace"};

void ss__c2_metric_families(struct ss_metrics *m) {
  if (!m)
    return;
  ss_metrics_family(m, LOADED, SS_METRIC_GAUGE, "Models loaded on a server replica", model_labels,
                    5, NULL, 0);
  ss_metrics_family(m, LOADED_MEMORY, SS_METRIC_GAUGE,
                    "Memory of the models loaded on a server replica, in bytes", model_labels, 5,
                    NULL, 0);
  ss_metrics_family(m, CAPACITY, SS_METRIC_GAUGE, "Memory a server replica offers models, in bytes",
                    replica_labels, 4, NULL, 0);
  ss_metrics_family(m, LOADS, SS_METRIC_COUNTER, "Model loads on a server replica", replica_labels,
                    4, NULL, 0);
  ss_metrics_family(m, UNLOADS, SS_METRIC_COUNTER, "Model unloads on a server replica",
                    replica_labels, 4, NULL, 0);
  ss_metrics_family(m, INFLIGHT, SS_METRIC_GAUGE,
                    "Inference requests in flight to a model (its lag, over its replicas)",
                    inflight_labels, 2, NULL, 0);
}

/* The pod of a replica id ("<namespace>.<pod>"). */
static const char *pod_of(const char *ns, const char *replica) {
  size_t l = strlen(ns);
  return strncmp(replica, ns, l) == 0 && replica[l] == '.' ? replica + l + 1 : replica;
}

static void gauge(struct ss_core2 *c, const char *name, const char *const *labels, double v) {
  struct ss_series *s = ss_metrics_series(c->cfg.metrics, name, labels);
  if (!s)
    return;
  ss_series_set(s, v);
  if (c->n_next == c->cap_next) {
    size_t cap = c->cap_next ? 2 * c->cap_next : 32;
    struct ss_series **g = realloc(c->gauges_next, cap * sizeof *g);
    if (!g)
      return;
    c->gauges_next = g;
    c->cap_next = cap;
  }
  c->gauges_next[c->n_next++] = s;
}

void ss__c2_count(struct ss_core2 *c, const struct model *m, const char *server,
                  const char *replica, bool load) {
  if (!c->cfg.metrics)
    return;
  int ord = 0;
  ss__c2_slot_of(ss__c2_server_find(c, m->ns, server), replica, &ord);
  char o[16];
  snprintf(o, sizeof o, "%d", ord);
  const char *v[] = {server, o, m->ns, pod_of(m->ns, replica)};
  ss_series_inc(ss_metrics_series(c->cfg.metrics, load ? LOADS : UNLOADS, v), 1);
}

void ss__c2_gauges(struct ss_core2 *c) {
  if (!c->cfg.metrics)
    return;
  c->n_next = 0;
  for (size_t i = 0; i < c->n_servers; i++) {
    const struct server *s = c->servers[i];
    for (int o = 0; o < SS_C2_MAX_REPLICAS; o++) {
      if (!s->slots[o].used)
        continue;
      char ord[16];
      snprintf(ord, sizeof ord, "%d", o);
      const char *v[] = {s->name, ord, s->ns, pod_of(s->ns, s->slots[o].id)};
      gauge(c, CAPACITY, v, (double)s->capacity);
    }
  }
  for (size_t i = 0; i < c->n_models; i++) {
    const struct model *m = c->models[i];
    for (size_t j = 0; j < m->n; j++) {
      const struct copy *cp = &m->copies[j];
      int ord;
      if (cp->st != C_LOADED ||
          !ss__c2_slot_of(ss__c2_server_find(c, m->ns, cp->server), cp->replica, &ord))
        continue;
      char o[16];
      snprintf(o, sizeof o, "%d", ord);
      const char *v[] = {cp->server, o, m->name, m->ns, pod_of(m->ns, cp->replica)};
      gauge(c, LOADED, v, 1);
      gauge(c, LOADED_MEMORY, v, (double)m->memory);
    }
    if (c->cfg.gateway) {
      int inflight;
      int64_t last;
      ss_gateway_model_load(c->cfg.gateway, m->ns, m->name, &inflight, &last);
      const char *v[] = {m->name, m->ns};
      gauge(c, INFLIGHT, v, inflight);
    }
  }
  /* what this pass set no more is gone from the exposition */
  for (size_t i = 0; i < c->n_gauges; i++) {
    bool kept = false;
    for (size_t j = 0; j < c->n_next && !kept; j++)
      kept = c->gauges_next[j] == c->gauges[i];
    if (!kept)
      ss_series_release(c->cfg.metrics, c->gauges[i]);
  }
  struct ss_series **t = c->gauges;
  c->gauges = c->gauges_next;
  c->n_gauges = c->n_next;
  c->gauges_next = t;
  size_t cap = c->cap_next;
  c->cap_next = c->n_gauges_cap;
  c->n_gauges_cap = cap;
}
