/* v2.c: Seldon Core 2's data plane in the gateway: the Open Inference (V2)
 * protocol's paths (/v2/health/..., /v2/models/{name}[/versions/{v}]
 * [/ready|/infer]), the models of a routing snapshot (which Server replicas
 * each is loaded on), and Core 2's inference metrics. A call's life (the
 * least-outstanding choice, pools, the queue at zero, draining) is call.c's,
 * the same as for the Seldon protocol. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/worker.h"

/* Core 2's metric names and labels (its agent's, with the namespace and pod
 * Prometheus adds when it scrapes a Server pod). */
#define INFER_TOTAL "seldon_model_infer_total"
#define INFER_SECONDS "seldon_model_infer_seconds_total"
#define AGG_TOTAL "seldon_model_aggregate_infer_total"
#define AGG_SECONDS "seldon_model_aggregate_infer_seconds_total"
static const char *const model_labels[] = {
    "server",      "server_replica", "model",     "model_internal",
    "method_type", "code",           "namespace", "pod"};
static const char *const agg_labels[] = {"server", "server_replica", "method_type", "namespace",
                                         "pod"};

void ss__gw_v2_families(struct ss_metrics *m) {
  if (!m)
    return;
  ss_metrics_family(m, INFER_TOTAL, SS_METRIC_COUNTER, "Inference requests to a model",
                    model_labels, 8, NULL, 0);
  ss_metrics_family(m, INFER_SECONDS, SS_METRIC_COUNTER,
                    "Seconds spent answering a model's inference requests", model_labels, 8, NULL,
                    0);
  ss_metrics_family(m, AGG_TOTAL, SS_METRIC_COUNTER,
                    "Inference requests to every model of a server replica", agg_labels, 5, NULL,
                    0);
  ss_metrics_family(m, AGG_SECONDS, SS_METRIC_COUNTER,
                    "Seconds spent on every model's inference requests of a server replica",
                    agg_labels, 5, NULL, 0);
}

/* ---- the snapshot's models ---- */

static void stat_id(char *buf, size_t size, const char *ns, const char *name) {
  snprintf(buf, size, "model:%s/%s", ns, name);
}

enum ss_err ss_gw_table_model(struct ss_gw_table *t, const char *ns, const char *name,
                              const char *server, const char *rs,
                              const struct ss_gw_replica *replicas, const int *ordinals, size_t n) {
  struct ss__gw_model tmp;
  if (strlen(ns) >= sizeof tmp.ns || strlen(name) >= sizeof tmp.name ||
      strlen(server) >= sizeof tmp.server)
    return SS_EINVALID;
  if (ss_strmap_get(&t->models_by_name, name))
    return SS_EEXISTS;
  if (t->n_models == t->cap_models) {
    size_t cap = t->cap_models ? t->cap_models * 2 : 8;
    struct ss__gw_model *v = realloc(t->models, cap * sizeof *v);
    if (!v)
      return SS_ENOMEM;
    t->models = v;
    t->cap_models = cap;
  }
  struct ss__gw_model *m = &t->models[t->n_models];
  memset(m, 0, sizeof *m);
  snprintf(m->ns, sizeof m->ns, "%s", ns);
  snprintf(m->name, sizeof m->name, "%s", name);
  snprintf(m->server, sizeof m->server, "%s", server);
  snprintf(m->target.rs, sizeof m->target.rs, "%s", rs);
  size_t k = n ? n : 1;
  m->target.pending = calloc(k, sizeof *replicas);
  m->ordinals = calloc(k, sizeof *m->ordinals);
  m->pods = calloc(k, sizeof *m->pods);
  if (!m->target.pending || !m->ordinals || !m->pods ||
      !ss_strmap_put(&t->models_by_name, name, (void *)(uintptr_t)(t->n_models + 1))) {
    ss__gw_model_free(m, NULL);
    return SS_ENOMEM;
  }
  for (size_t i = 0; i < n; i++) {
    m->target.pending[i] = replicas[i];
    m->ordinals[i] = ordinals ? ordinals[i] : (int)i;
    /* the pod's name is the replica id without its "<namespace>." */
    size_t skip = strlen(ns) + 1;
    const char *id = replicas[i].id;
    snprintf(m->pods[i], sizeof m->pods[i], "%s", strlen(id) > skip ? id + skip : id);
  }
  m->target.n_pending = n;
  t->n_models++;
  return SS_EOK;
}

void ss__gw_model_free(struct ss__gw_model *m, struct ss__gw_registry *r) {
  for (size_t e = 0; e < m->target.n; e++)
    ss__gw_ep_unref(r, m->target.eps[e]);
  if (m->stat)
    ss__gw_ep_unref(r, m->stat);
  free(m->target.eps);
  free(m->target.pending);
  free(m->ordinals);
  free(m->pods);
  free(m->ok);
}

const struct ss__gw_model *ss__gw_model_find(const struct ss_gw_table *t, const char *name) {
  uintptr_t i = t ? (uintptr_t)ss_strmap_get(&t->models_by_name, name) : 0;
  return i ? &t->models[i - 1] : NULL;
}

/* The ready replicas become endpoints (kept in the order given, with their
 * ordinals and pods moved along); the model gets its counters. */
static void model_resolve(struct ss__gw_model *m, struct ss__gw_registry *r) {
  size_t *from = calloc(m->target.n_pending ? m->target.n_pending : 1, sizeof *from);
  ss__gw_target_resolve_locked(&m->target, r, from);
  for (size_t e = 0; from && e < m->target.n; e++) {
    m->ordinals[e] = m->ordinals[from[e]];
    memmove(m->pods[e], m->pods[from[e]], sizeof m->pods[0]);
  }
  if (!from) /* out of memory: no labels rather than wrong ones */
    for (size_t e = 0; e < m->target.n; e++)
      m->pods[e][0] = '\0';
  free(from);
  char id[SS_GW_ID_MAX];
  stat_id(id, sizeof id, m->ns, m->name);
  m->stat = ss__gw_ep_take_locked(r, id);
}

/* ordinal < 0 (no replica answered): server_replica "". */
static struct ss_series *model_series(struct ss_metrics *mx, const struct ss__gw_model *m,
                                      const char *name, int ordinal, const char *pod,
                                      const char *code) {
  char ord[16] = "";
  if (ordinal >= 0)
    snprintf(ord, sizeof ord, "%d", ordinal);
  const char *v[] = {m->server, ord, m->name, m->name, "rest", code, m->ns, pod};
  return ss_metrics_series(mx, name, v);
}

static struct ss_series *agg_series(struct ss_metrics *mx, const struct ss__gw_model *m,
                                    const char *name, int ordinal, const char *pod) {
  char ord[16];
  snprintf(ord, sizeof ord, "%d", ordinal);
  const char *v[] = {m->server, ord, "rest", m->ns, pod};
  return ss_metrics_series(mx, name, v);
}

void ss__gw_models_resolve(struct ss_gw_table *t, struct ss__gw_registry *r,
                           struct ss_metrics *mx) {
  pthread_mutex_lock(&r->mu);
  for (size_t i = 0; i < t->n_models; i++)
    model_resolve(&t->models[i], r);
  pthread_mutex_unlock(&r->mu);
  if (!mx)
    return;
  for (size_t i = 0; i < t->n_models; i++) {
    struct ss__gw_model *m = &t->models[i];
    if (!(m->ok = calloc(m->target.n ? m->target.n : 1, sizeof *m->ok)))
      continue; /* looked up per request instead */
    for (size_t e = 0; e < m->target.n; e++) {
      int o = m->ordinals[e];
      const char *pod = m->pods[e];
      m->ok[e] =
          (struct ss__gw_model_series){.count = model_series(mx, m, INFER_TOTAL, o, pod, "200"),
                                       .secs = model_series(mx, m, INFER_SECONDS, o, pod, "200"),
                                       .agg = agg_series(mx, m, AGG_TOTAL, o, pod),
                                       .agg_secs = agg_series(mx, m, AGG_SECONDS, o, pod)};
    }
  }
}

void ss_gateway_model_load(struct ss_gateway *gw, const char *ns, const char *name, int *inflight,
                           int64_t *last_used_ms) {
  char id[SS_GW_ID_MAX];
  stat_id(id, sizeof id, ns, name);
  *inflight = 0;
  *last_used_ms = 0;
  pthread_mutex_lock(&gw->reg.mu);
  struct ss__gw_ep *e = ss__gw_ep_find_locked(&gw->reg, id);
  if (e) {
    *inflight = atomic_load(&e->inflight);
    *last_used_ms = atomic_load(&e->last_used_ms);
  }
  pthread_mutex_unlock(&gw->reg.mu);
}

/* ---- the end of a request ---- */

void ss__gw_v2_finish(struct ss__gw_request *r, int status, double secs) {
  const struct ss__gw_model *m = r->model;
  if (r->v2_counted && m->stat)
    atomic_fetch_sub(&m->stat->inflight, 1);
  struct ss_metrics *mx = r->table->gw ? r->table->gw->cfg.metrics : NULL;
  if (!mx || !r->v2_infer)
    return;
  size_t i = 0;
  while (i < m->target.n && m->target.eps[i] != r->model_ep)
    i++;
  bool known = i < m->target.n;
  if (status == 200 && known && m->ok) {
    ss_series_inc(m->ok[i].count, 1);
    ss_series_inc(m->ok[i].secs, secs);
    ss_series_inc(m->ok[i].agg, 1);
    ss_series_inc(m->ok[i].agg_secs, secs);
    return;
  }
  char code[8];
  snprintf(code, sizeof code, "%d", status);
  int ord = known ? m->ordinals[i] : -1;
  const char *pod = known ? m->pods[i] : "";
  ss_series_inc(model_series(mx, m, INFER_TOTAL, ord, pod, code), 1);
  ss_series_inc(model_series(mx, m, INFER_SECONDS, ord, pod, code), secs);
  if (known) {
    ss_series_inc(agg_series(mx, m, AGG_TOTAL, ord, pod), 1);
    ss_series_inc(agg_series(mx, m, AGG_SECONDS, ord, pod), secs);
  }
}

/* ---- the paths ---- */

static void json_answer(struct ss__gw_conn *c, int code, const char *fmt, const char *arg) {
  json_t *e = json_pack(fmt, "error", arg);
  char *s = e ? json_dumps(e, JSON_COMPACT) : NULL;
  ss__gw_respond(c, code, "application/json", s ? s : "{}", s ? strlen(s) : 2, NULL);
  free(s);
  json_decref(e);
}

static void error_answer(struct ss__gw_conn *c, int code, const char *fmt_msg, const char *name) {
  char msg[256];
  snprintf(msg, sizeof msg, fmt_msg, name);
  json_answer(c, code, "{s:s}", msg);
}

bool ss__gw_v2_handle(struct ss__gw_conn *c, const char *path, int method) {
  if (strncmp(path, "/v2/", 4) != 0)
    return false;
  const char *rest = path + 4;
  struct ss__gw_worker *w = c->w;
  if (strcmp(rest, "health/live") == 0) {
    ss__gw_respond(c, 200, "application/json", "{}", 2, NULL);
    return true;
  }
  if (strcmp(rest, "health/ready") == 0) {
    if (w->table)
      ss__gw_respond(c, 200, "application/json", "{}", 2, NULL);
    else
      json_answer(c, 503, "{s:s}", "the gateway is starting");
    return true;
  }
  if (strncmp(rest, "models/", 7) != 0)
    return false;
  char name[64];
  const char *action;
  if (!ss__gw_v2_path_parse(rest + 7, name, sizeof name, &action)) {
    json_answer(c, 404, "{s:s}", "no such path");
    return true;
  }
  /* Core 2 routes by the Seldon-Model header when it is there */
  if (c->q.model[0])
    snprintf(name, sizeof name, "%s", c->q.model);
  bool infer = strcmp(action, "infer") == 0;
  if (infer ? method != HTTP_POST : method != HTTP_GET) {
    json_answer(c, 405, "{s:s}", infer ? "use POST" : "use GET");
    return true;
  }
  if (!w->table) {
    char *body = ss_gw_error_body(503, "SERVICE_UNAVAILABLE", "the gateway is starting");
    ss__gw_respond(c, 503, "application/json", body ? body : "", body ? strlen(body) : 0,
                   "Retry-After: 1\r\n");
    free(body);
    return true;
  }
  const struct ss__gw_model *m = ss__gw_model_find(w->table, name);
  if (!m) {
    error_answer(c, 404, "Model %s not found", name);
    return true;
  }
  if (!m->target.rs[0]) { /* placed nowhere, loaded nowhere: no use waiting */
    error_answer(c, 503, "Model %s is not loaded on any server: see its status", name);
    return true;
  }
  if (strcmp(action, "ready") == 0 && m->target.n == 0) {
    error_answer(c, 400, "Model %s is not ready", name);
    return true;
  }
  char up[SS__GW_CALL_PATH];
  snprintf(up, sizeof up, "/v2/models/%s%s%s", name, *action ? "/" : "", action);
  ss__gw_v2_call(c, m, up, !infer);
  return true;
}
