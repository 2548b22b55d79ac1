/* loop.c: the HPA and KEDA controllers (see loop.h): targets from the
 * stored HorizontalPodAutoscalers and ScaledObjects, inputs from the
 * metrics window and Prometheus, the decision written to the target's
 * scale, and the status into the autoscaler. */
#include "autoscale/loop.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "autoscale/hpa.h"
#include "autoscale/keda.h"
#include "autoscale/own.h"
#include "adapter/adapter.h"
#include "model/core2.h"
#include "model/names.h"
#include "model/quantity.h"
#include "model/owners.h"
#include "model/resource.h"
#include "promql/http.h"
#include "promql/promql.h"

#define KEY_MAX 600
#define NAME_SIZE (SS_DNS1123_SUBDOMAIN_MAX + 1) /* an object name and its NUL */
#define MAX_PODS 256           /* replicas of one target the loop looks at */
#define MAX_GROUPS 32          /* Deployments of one scale target */
#define MAX_CONTAINERS 16      /* containers of one pod template */
#define CPU_RATE_SPAN_MS 15000 /* metrics-server's resolution: CPU averaged over 15 s */
#define MAX_CONDS 4

struct cond {
  char type[24], status[8], reason[64], message[SS_HPA_MSG_MAX], since[32];
};

/* One autoscaler: a stored HorizontalPodAutoscaler or ScaledObject. */
struct target {
  char key[KEY_MAX];   /* "hpa|<ns>/<name>" or "so|<ns>/<name>" */
  char ns[NAME_SIZE], name[NAME_SIZE];
  char rs[KEY_MAX];    /* "<ns>.<Deployment>" when it aims at a Deployment (activation) */
  bool keda, seen;
  char *sig;                  /* its spec, serialized: a change resets state */
  char *raw_sig;              /* its spec as stored, before decoding (defaults) */
  int32_t current;            /* the target's scale spec.replicas, read at each sync */
  int64_t next_ms;
  bool activate; /* guarded by a->mu */
  struct ss_hpa_history hist;
  struct ss_keda_state ks;
  bool ks_init;
  struct cond conds[MAX_CONDS];
  char last_scale[32], last_active[32];
  json_t *metric_status; /* currentMetrics (HPA) / trigger values (KEDA) */
  /* servescale's own policy, when the annotations ask for it */
  bool own;
  char own_sig[256]; /* its parameters, written: a change starts it afresh */
  struct ss_own_config own_cfg;
  struct ss_own_state own_st;
  struct ss_own_feed feed;
  int64_t own_status_ms; /* its status was last stored then */
  /* what no annotation gives is measured: the service time from the
   * gateway's calls since the last measure (base: their seconds and count
   * then, at base_ms), the start-up from the ready replicas' */
  bool measure_service, measure_startup;
  double base_seconds, base_calls;
  int64_t base_ms, startup_at_ms; /* the last service and start-up measures */
};

struct ss_autoscaler {
  struct ss_autoscaler_config cfg;
  pthread_mutex_t mu;
  struct target **v;
  size_t n;
};

static void rfc3339(int64_t wall_ms, char *buf, size_t size) {
  time_t t = (time_t)(wall_ms / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

struct ss_autoscaler *ss_autoscaler_new(const struct ss_autoscaler_config *cfg) {
  struct ss_autoscaler *a = calloc(1, sizeof *a);
  if (!a)
    return NULL;
  a->cfg = *cfg;
  pthread_mutex_init(&a->mu, NULL);
  /* before the loop's thread queries; a failure shows in each query's error */
  (void)ss_prom_http_global_init();
  return a;
}

static void target_reset(struct target *t) {
  t->own = false;
  t->own_sig[0] = '\0';
  ss_hpa_history_free(&t->hist);
  if (t->ks_init)
    ss_keda_state_free(&t->ks);
  t->ks_init = false;
}

static void target_free(struct target *t) {
  if (!t)
    return;
  target_reset(t);
  free(t->sig);
  free(t->raw_sig);
  json_decref(t->metric_status);
  free(t);
}

void ss_autoscaler_free(struct ss_autoscaler *a) {
  if (!a)
    return;
  for (size_t i = 0; i < a->n; i++)
    target_free(a->v[i]);
  free(a->v);
  pthread_mutex_destroy(&a->mu);
  free(a);
}

void ss_autoscaler_activate(struct ss_autoscaler *a, const char *rs) {
  if (!a || !rs)
    return;
  pthread_mutex_lock(&a->mu);
  for (size_t i = 0; i < a->n; i++)
    if (strcmp(a->v[i]->rs, rs) == 0)
      a->v[i]->activate = true;
  pthread_mutex_unlock(&a->mu);
}

/* ---- replicas, from the metrics window ---- */

/* One Deployment of a scale target: the replica set its pods' metrics are
 * labelled with, and its pod template's containers' requests. */
struct group {
  char rs[NAME_SIZE];
  char cnames[MAX_CONTAINERS][NAME_SIZE];
  struct ss_hpa_container cpu[MAX_CONTAINERS], mem[MAX_CONTAINERS];
  size_t n_containers;
};

struct pod_row {
  char replica[NAME_SIZE];
  const struct group *g;
  bool ready, has_start, has_cpu, has_mem;
  int64_t start_ms, ready_ms;
  double cpu_milli;
  int64_t cpu_at, cpu_window;
  double mem_bytes;
  int64_t mem_at;
};

struct pod_scan {
  const char *ns, *rs;
  int which; /* 0 ready, 1 start, 2 ready time, 3 cpu, 4 memory */
  struct pod_row *rows;
  size_t n, cap;
};

static void pod_cb(void *ctx, const struct ss_timeseries *ts) {
  struct pod_scan *ps = ctx;
  if (!ts->n_samples || strcmp(ss_timeseries_label(ts, "namespace"), ps->ns) != 0 ||
      strcmp(ss_timeseries_label(ts, "replica_set"), ps->rs) != 0)
    return;
  const char *rep = ss_timeseries_label(ts, "replica");
  struct pod_row *r = NULL;
  for (size_t i = 0; i < ps->n && !r; i++)
    if (strcmp(ps->rows[i].replica, rep) == 0)
      r = &ps->rows[i];
  if (!r) {
    if (ps->which != 0 || ps->n == ps->cap)
      return; /* a replica is known by its readiness gauge */
    r = &ps->rows[ps->n++];
    memset(r, 0, sizeof *r);
    snprintf(r->replica, sizeof r->replica, "%s", rep);
  }
  const struct ss_sample *last = &ts->samples[ts->n_samples - 1];
  switch (ps->which) {
  case 0: r->ready = last->v > 0.5; break;
  case 1:
    r->has_start = last->v > 0;
    r->start_ms = (int64_t)(last->v * 1000);
    break;
  case 2: r->ready_ms = (int64_t)(last->v * 1000); break;
  case 3:
    /* usage over up to the last CPU_RATE_SPAN_MS, as metrics-server averages it */
    for (size_t i = 0; i + 1 < ts->n_samples; i++) {
      const struct ss_sample *s = &ts->samples[i];
      if (s->t_ms < last->t_ms - CPU_RATE_SPAN_MS || s->t_ms > last->t_ms - 1000)
        continue;
      if (last->v < s->v)
        break; /* restarted: no rate across the reset */
      r->has_cpu = true;
      r->cpu_milli = (last->v - s->v) * 1000.0 / ((double)(last->t_ms - s->t_ms) / 1000.0);
      r->cpu_at = last->t_ms;
      r->cpu_window = last->t_ms - s->t_ms;
      break;
    }
    break;
  case 4:
    r->has_mem = true;
    r->mem_bytes = last->v;
    r->mem_at = last->t_ms;
    break;
  }
}

/* The replicas of group g (as the metrics window knows them) appended to
 * rows, at most cap; how many. */
static size_t scan_pods(struct ss_autoscaler *a, const char *ns, const struct group *g,
                        struct pod_row *rows, size_t cap) {
  static const char *const names[] = {
      "servescale_replica_ready", "servescale_replica_start_time_seconds",
      "servescale_replica_ready_time_seconds", "servescale_replica_cpu_seconds",
      "servescale_replica_resident_memory_bytes"};
  struct pod_scan ps = {.ns = ns, .rs = g->rs, .rows = rows, .cap = cap};
  for (int i = 0; i < 5; i++) {
    ps.which = i;
    ss_metrics_each_series(a->cfg.metrics, names[i], pod_cb, &ps);
  }
  for (size_t i = 0; i < ps.n; i++)
    rows[i].g = g;
  return ps.n;
}

/* One replica's sample of cpu or memory, in hpa.h's milli units, with its
 * containers' requests (Kubernetes sums them; ContainerResource takes one). */
static struct ss_hpa_sample pod_sample(const struct pod_row *r, bool cpu) {
  struct ss_hpa_sample s = {.containers = cpu ? r->g->cpu : r->g->mem,
                            .n_containers = r->g->n_containers};
  if (cpu && r->has_cpu) {
    s.present = true;
    s.value = (int64_t)llround(r->cpu_milli);
    s.at_ms = r->cpu_at;
    s.window_ms = r->cpu_window;
  } else if (!cpu && r->has_mem) {
    s.present = true;
    s.value = (int64_t)llround(r->mem_bytes * 1000.0);
    s.at_ms = r->mem_at;
    s.window_ms = 0;
  }
  return s;
}

/* ---- prometheus triggers ---- */

static const char *meta(const struct ss_trigger *t, const char *key) {
  return json_string_value(json_object_get(t->metadata, key));
}

/* The value of a prometheus trigger's query from its server (promql/http.h),
 * with the trigger's timeout, customHeaders and authModes (bearer wins when
 * both could apply); false with why on failure. */
static bool prom_http(const struct ss_trigger *t, double *out, char *why, size_t why_size) {
  const char *token = meta(t, "bearerToken"), *user = meta(t, "username");
  bool bearer = t->auth_modes && strstr(t->auth_modes, "bearer") && token;
  bool basic = !bearer && t->auth_modes && strstr(t->auth_modes, "basic") && user;
  struct ss_prom_http_request req = {
      .server = t->server_address,
      .query = t->query,
      .timeout_ms = t->timeout_ms > 0 ? t->timeout_ms : SS_KEDA_DEFAULT_PROM_TIMEOUT_MS,
      .headers = t->custom_headers,
      .bearer_token = bearer ? token : NULL,
      .username = basic ? user : NULL,
      .password = basic ? meta(t, "password") : NULL,
      .ignore_null_values = t->ignore_null_values};
  struct ss_error err = {0};
  if (ss_prom_http_query(&req, out, &err) == SS_EOK)
    return true;
  snprintf(why, why_size, "%s", err.msg);
  return false;
}

static bool prom_embedded(struct ss_autoscaler *a, const struct ss_trigger *t, int64_t now_ms,
                          double *out, char *why, size_t why_size) {
  struct ss_promql *pq = NULL;
  struct ss_promql_result *res = NULL;
  struct ss_error err = {0};
  bool ok = false;
  if (ss_promql_parse(t->query, &pq, &err))
    goto out;
  struct ss_promql_source src = ss_promql_metrics_source(a->cfg.metrics);
  if (ss_promql_eval(pq, &src, now_ms, &res, &err))
    goto out;
  if (ss_promql_single_value(res, t->ignore_null_values, out, &err))
    goto out;
  ok = true;
out:
  if (!ok)
    snprintf(why, why_size, "embedded metrics source: %s", err.msg);
  ss_promql_result_free(res);
  ss_promql_free(pq);
  return ok;
}

/* ---- status objects ---- */

static void set_cond(struct target *t, const char *type, const char *status, const char *reason,
                     const char *message, int64_t now_ms) {
  struct cond *c = NULL;
  for (size_t i = 0; i < MAX_CONDS && !c; i++)
    if (!t->conds[i].type[0] || strcmp(t->conds[i].type, type) == 0)
      c = &t->conds[i];
  if (!c)
    return;
  if (!c->type[0] || strcmp(c->status, status) != 0)
    rfc3339(now_ms, c->since, sizeof c->since);
  snprintf(c->type, sizeof c->type, "%s", type);
  snprintf(c->status, sizeof c->status, "%s", status);
  snprintf(c->reason, sizeof c->reason, "%s", reason ? reason : "");
  snprintf(c->message, sizeof c->message, "%s", message ? message : "");
}

static void hpa_cond(struct target *t, const char *type, const struct ss_hpa_condition *c,
                     int64_t now_ms) {
  if (c->status == SS_HPA_COND_UNCHANGED)
    return;
  set_cond(t, type, c->status == SS_HPA_COND_TRUE ? "True" : "False", c->reason, c->message,
           now_ms);
}

static void keda_cond(struct target *t, const char *type, const struct ss_keda_condition *c,
                      int64_t now_ms) {
  if (c->status == SS_KEDA_COND_UNCHANGED)
    return;
  set_cond(t, type,
           c->status == SS_KEDA_COND_TRUE    ? "True"
           : c->status == SS_KEDA_COND_FALSE ? "False"
                                             : "Unknown",
           c->reason, c->message, now_ms);
}

static json_t *conds_json(const struct target *t) {
  json_t *a = json_array();
  for (size_t i = 0; i < MAX_CONDS; i++)
    if (t->conds[i].type[0])
      json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", t->conds[i].type,
                                         "status", t->conds[i].status, "reason",
                                         t->conds[i].reason, "message", t->conds[i].message,
                                         "lastTransitionTime", t->conds[i].since));
  return a;
}

/* A milli value as Kubernetes prints a quantity: "250m", "3", "1500m". */
static json_t *qty(int64_t milli) {
  char buf[40];
  if (milli % 1000 == 0)
    snprintf(buf, sizeof buf, "%lld", (long long)(milli / 1000));
  else
    snprintf(buf, sizeof buf, "%lldm", (long long)milli);
  return json_string(buf);
}

static const char *source_field(enum ss_metric_source src);

static json_t *hpa_current_metrics(const struct ss_hpa_spec *spec, const struct ss_hpa_result *r) {
  json_t *arr = json_array();
  for (size_t i = 0; i < spec->n_metrics && i < r->n_metrics; i++) {
    const struct ss_metric_spec *m = &spec->metrics[i];
    const struct ss_hpa_metric_status *ms = &r->metrics[i];
    if (!ms->valid)
      continue;
    json_t *cur = json_object();
    if (ms->has_utilization)
      json_object_set_new(cur, "averageUtilization", json_integer(ms->average_utilization));
    if (m->target.type == SS_TARGET_VALUE)
      json_object_set_new(cur, "value", qty(ms->value));
    else
      json_object_set_new(cur, "averageValue", qty(ms->average_value));
    const char *type = ss_metric_source_name(m->source);
    const char *field = source_field(m->source);
    json_t *inner = m->source == SS_METRIC_RESOURCE || m->source == SS_METRIC_CONTAINER_RESOURCE
                        ? json_pack("{s:s, s:o}", "name", m->name ? m->name : "", "current", cur)
                        : json_pack("{s:{s:s}, s:o}", "metric", "name", m->name ? m->name : "",
                                    "current", cur);
    json_array_append_new(arr, json_pack("{s:s, s:o}", "type", type, field, inner));
  }
  return arr;
}

static const char *source_field(enum ss_metric_source src) {
  switch (src) {
  case SS_METRIC_RESOURCE: return "resource";
  case SS_METRIC_CONTAINER_RESOURCE: return "containerResource";
  case SS_METRIC_PODS: return "pods";
  case SS_METRIC_OBJECT: return "object";
  case SS_METRIC_EXTERNAL: return "external";
  }
  return "external";
}

/* ---- the scale target, read through its /scale ---- */

#define DEPLOYMENTS ((struct ss_kind_ref){"apps", "deployments"})
#define SDEPS ((struct ss_kind_ref){SS_SDEP_GROUP, "seldondeployments"})
#define MODELS ((struct ss_kind_ref){SS_CORE2_GROUP, "models"})
#define SERVERS ((struct ss_kind_ref){SS_CORE2_GROUP, "servers"})

/* What an autoscaler reads of its target, as the HPA controller reads a
 * /scale: the object (for a conditional write), spec.replicas, and the
 * pods its selector matches, grouped by Deployment. */
struct scale {
  json_t *obj;
  struct ss_kind_ref kind; /* what obj is */
  bool sdep;           /* a SeldonDeployment */
  int32_t replicas;
  char gvk[128];       /* "apps/v1.Deployment", as KEDA reports it */
  struct group groups[MAX_GROUPS];
  size_t n_groups;
};

/* A Deployment's group: its name and its pod template's containers. */
static void group_of(const json_t *dep, struct group *g) {
  const json_t *md = json_object_get(dep, "metadata");
  const json_t *cs = json_object_get(
      json_object_get(json_object_get(json_object_get(dep, "spec"), "template"), "spec"),
      "containers");
  memset(g, 0, sizeof *g);
  snprintf(g->rs, sizeof g->rs, "%s", json_string_value(json_object_get(md, "name")));
  size_t i;
  const json_t *c;
  json_array_foreach(cs, i, c) {
    if (g->n_containers == MAX_CONTAINERS)
      break;
    size_t k = g->n_containers++;
    const char *n = json_string_value(json_object_get(c, "name"));
    snprintf(g->cnames[k], sizeof g->cnames[k], "%s", n ? n : "");
    g->cpu[k].name = g->mem[k].name = g->cnames[k];
    struct ss_quantity q;
    if ((g->cpu[k].has_request = ss_container_request(c, "cpu", &q)))
      g->cpu[k].request = q.milli;
    if ((g->mem[k].has_request = ss_container_request(c, "memory", &q)))
      g->mem[k].request = q.milli;
  }
}

/* The Deployments a SeldonDeployment owns (its pods are theirs). */
static void sdep_groups(struct ss_autoscaler *a, const char *ns, struct scale *sc) {
  const char *uid =
      json_string_value(json_object_get(json_object_get(sc->obj, "metadata"), "uid"));
  json_t *items = NULL;
  uint64_t rv;
  if (!uid || ss_store_list(a->cfg.store, DEPLOYMENTS, ns, &items, &rv, NULL))
    return;
  size_t i;
  const json_t *d;
  json_array_foreach(items, i, d) {
    size_t j;
    const json_t *r;
    json_array_foreach(json_object_get(json_object_get(d, "metadata"), "ownerReferences"), j, r) {
      const char *ru = json_string_value(json_object_get(r, "uid"));
      if (ru && strcmp(ru, uid) == 0 && sc->n_groups < MAX_GROUPS)
        group_of(d, &sc->groups[sc->n_groups++]);
    }
  }
  json_decref(items);
}

/* Reads the target named by a scaleTargetRef; false with why when it is
 * not there or not a kind with a /scale servescale runs. */
static bool scale_read(struct ss_autoscaler *a, const char *ns, const char *api_version,
                       const char *kind, const char *name, struct scale *sc, char *why,
                       size_t why_size) {
  memset(sc, 0, sizeof *sc);
  kind = kind ? kind : "Deployment";
  sc->sdep = strcmp(kind, SS_SDEP_KIND) == 0;
  bool core2 = strcmp(kind, "Model") == 0 || strcmp(kind, "Server") == 0;
  const char *dflt = sc->sdep ? SS_SDEP_GROUP "/v1" : core2 ? SS_CORE2_GROUP "/v1alpha1" : "apps/v1";
  if (!sc->sdep && !core2 && strcmp(kind, "Deployment") != 0) {
    snprintf(why, why_size,
             "the server could not find the requested resource: %s has no /scale servescale "
             "runs (Deployment, SeldonDeployment, Model, Server)", kind);
    return false;
  }
  sc->kind = sc->sdep ? SDEPS : core2 ? (kind[0] == 'M' ? MODELS : SERVERS) : DEPLOYMENTS;
  snprintf(sc->gvk, sizeof sc->gvk, "%s.%s", api_version ? api_version : dflt, kind);
  if (ss_store_get(a->cfg.store, sc->kind, ns, name, &sc->obj, NULL)) {
    snprintf(why, why_size, "%s.%s \"%s\" not found", sc->kind.plural, sc->kind.group, name);
    return false;
  }
  if (sc->sdep || core2) {
    /* spec.replicas as their /scale reads it; a Model's selector matches
     * no pod (model/core2.h); a Server's pods are not run yet */
    sc->replicas = ss_sdep_scale_replicas(sc->obj);
    if (sc->sdep)
      sdep_groups(a, ns, sc);
  } else {
    const json_t *r = json_object_get(json_object_get(sc->obj, "spec"), "replicas");
    /* Kubernetes defaults an unset Deployment spec.replicas to 1 */
    sc->replicas = json_is_integer(r) ? (int32_t)json_integer_value(r) : 1;
    sc->n_groups = 1;
    group_of(sc->obj, &sc->groups[0]);
  }
  return true;
}

/* Writes n into the target's scale, only if nobody wrote it since it was
 * read (resourceVersion): the autoscaler writes the scale and nothing
 * else, as on a cluster. False when it did not (a conflict: the next sync
 * works from the new value). */
static bool write_scale(struct ss_autoscaler *a, const struct scale *sc, int32_t n) {
  json_t *d = sc->obj ? json_deep_copy(sc->obj) : NULL;
  if (!d)
    return false;
  json_object_set_new(json_object_get(d, "spec"), "replicas", json_integer(n));
  json_object_del(d, "status");
  enum ss_err rc = ss_store_update(a->cfg.store, sc->kind, d, NULL, NULL);
  json_decref(d);
  return rc == SS_EOK;
}

/* ---- one autoscaler ---- */

struct ctx {
  const json_t *obj;               /* the HPA or ScaledObject */
  const json_t *claims;            /* "<ns>/<Kind>/<name>" -> the autoscalers aiming there */
  const struct ss_hpa_spec *hpa;   /* one of the two */
  const struct ss_keda_spec *keda;
  const json_t *annotations;
  struct scale sc;
};

static void event(struct ss_autoscaler *a, const json_t *about, bool warning, const char *reason,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void event(struct ss_autoscaler *a, const json_t *about, bool warning, const char *reason,
                  const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  ss_store_event(a->cfg.store, about, warning ? "Warning" : "Normal", reason, msg, NULL);
  json_t *md = json_object_get(about, "metadata");
  const char *ns = json_string_value(json_object_get(md, "namespace"));
  const char *name = json_string_value(json_object_get(md, "name"));
  const char *kind = json_string_value(json_object_get(about, "kind"));
  fprintf(stderr, "event=autoscale object=%s/%s/%s reason=%s message=\"%s\"\n",
          kind ? kind : "", ns ? ns : "", name ? name : "", reason, msg);
}

/* The status of the autoscaler: the last decision, as the HPA controller
 * and KEDA write it. */
static void store_status(struct ss_autoscaler *a, const struct target *t, const struct ctx *c,
                         int32_t status_replicas) {
  json_t *st = json_pack("{s:i, s:i, s:o, s:o}", "currentReplicas", status_replicas,
                         "desiredReplicas", t->current, t->keda ? "triggers" : "currentMetrics",
                         t->metric_status ? json_incref(t->metric_status) : json_array(),
                         "conditions", conds_json(t));
  if (!st)
    return;
  const json_t *gen = json_object_get(json_object_get(c->obj, "metadata"), "generation");
  if (json_is_integer(gen))
    json_object_set(st, "observedGeneration", (json_t *)gen);
  if (t->last_scale[0])
    json_object_set_new(st, "lastScaleTime", json_string(t->last_scale));
  if (t->keda) {
    char hpa[NAME_SIZE + 16];
    snprintf(hpa, sizeof hpa, "keda-hpa-%s", t->name);
    json_object_set_new(st, "scaleTargetKind", json_string(c->sc.gvk));
    json_object_set_new(st, "hpaName", json_string(hpa));
    if (t->last_active[0])
      json_object_set_new(st, "lastActiveTime", json_string(t->last_active));
  }
  ss_store_update_status(a->cfg.store, t->keda ? SS_AUTOSCALE_SO_KIND : SS_AUTOSCALE_HPA_KIND,
                         t->ns, t->name, st, NULL, NULL, NULL);
  json_decref(st);
}

/* One metric of the HPA KEDA creates, for trigger i. */
static json_t *keda_hpa_metric(const struct ss_trigger *tr, size_t i, const char *so_name) {
  if (tr->type == SS_TRIGGER_PROMETHEUS) {
    char name[SS_KEDA_METRIC_NAME_MAX], thr[64];
    snprintf(name, sizeof name, "s%zu-prometheus", i);
    snprintf(thr, sizeof thr, "%g", tr->threshold);
    return json_pack("{s:s, s:{s:{s:s, s:{s:{s:s}}}, s:{s:s, s:s}}}", "type", "External",
                     "external", "metric", "name", name, "selector", "matchLabels",
                     "scaledobject.keda.sh/name", so_name, "target", "type", "AverageValue",
                     "averageValue", thr);
  }
  json_t *target = tr->metric_type == SS_TARGET_UTILIZATION
                       ? json_pack("{s:s, s:I}", "type", "Utilization", "averageUtilization",
                                   (json_int_t)(tr->value.milli / 1000))
                       : json_pack("{s:s, s:o}", "type", "AverageValue", "averageValue",
                                   qty(tr->value.milli));
  return json_pack("{s:s, s:{s:s, s:o}}", "type", "Resource", "resource", "name",
                   tr->type == SS_TRIGGER_CPU ? "cpu" : "memory", "target", target);
}

/* The HPA KEDA creates for a ScaledObject (kedacore/keda
 * controllers/keda/hpa.go): keda-hpa-<name>, owned by the ScaledObject,
 * aimed at the same target, its minimum at least 1 (KEDA itself takes a
 * target to and from zero), one External metric per trigger (s<i>-<scaler>,
 * AverageValue of the threshold) or the trigger's Resource metric, and the
 * ScaledObject's advanced HPA behavior. Its status mirrors the decision, so
 * `kubectl get hpa` shows what it shows on a cluster. */
static void store_keda_hpa(struct ss_autoscaler *a, const struct target *t, const struct ctx *c,
                           int32_t status_replicas) {
  const struct ss_keda_spec *ks = c->keda;
  json_t *metrics = json_array();
  for (size_t i = 0; metrics && i < ks->n_triggers; i++)
    json_array_append_new(metrics, keda_hpa_metric(&ks->triggers[i], i, t->name));
  char name[NAME_SIZE + 16];
  snprintf(name, sizeof name, "keda-hpa-%s", t->name);
  const json_t *spec_in = json_object_get(c->obj, "spec");
  json_t *ref = json_pack("{s:s, s:s, s:s}", "apiVersion",
                          ks->target_api_version ? ks->target_api_version : "apps/v1", "kind",
                          ks->target_kind ? ks->target_kind : "Deployment", "name",
                          ks->target_name ? ks->target_name : "");
  json_t *spec = json_pack("{s:o, s:i, s:i, s:o}", "scaleTargetRef", ref, "minReplicas",
                           ks->min_replicas > 0 ? ks->min_replicas : 1, "maxReplicas",
                           ks->max_replicas, "metrics", metrics);
  const json_t *beh = json_object_get(json_object_get(json_object_get(spec_in, "advanced"),
                                                      "horizontalPodAutoscalerConfig"),
                                      "behavior");
  if (spec && beh)
    json_object_set(spec, "behavior", (json_t *)beh);
  json_t *owner = ss_controller_ref(c->obj);
  json_t *obj = spec && owner ? json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}, s:[O]}, s:O}",
                                          "apiVersion", "autoscaling/v2", "kind",
                                          "HorizontalPodAutoscaler", "metadata", "name", name,
                                          "namespace", t->ns, "labels",
                                          "scaledobject.keda.sh/name", t->name,
                                          "ownerReferences", owner, "spec", spec)
                              : NULL;
  json_t *stored = NULL;
  if (obj && ss_store_update(a->cfg.store, SS_AUTOSCALE_HPA_KIND, obj, NULL, NULL) == SS_ENOTFOUND)
    ss_store_create(a->cfg.store, SS_AUTOSCALE_HPA_KIND, obj, NULL, NULL);
  json_t *st = json_pack("{s:i, s:i}", "currentReplicas", status_replicas, "desiredReplicas",
                         t->current);
  if (obj && st)
    ss_store_update_status(a->cfg.store, SS_AUTOSCALE_HPA_KIND, t->ns, name, st, NULL, NULL,
                           NULL);
  json_decref(st);
  json_decref(stored);
  json_decref(obj);
  json_decref(owner);
  json_decref(spec);
}

static int64_t sync_ms(struct ss_autoscaler *a, const struct ctx *c) {
  const char *ann = json_string_value(json_object_get(c->annotations, SS_AUTOSCALE_ANN_SYNC));
  long v = ann ? strtol(ann, NULL, 10) : 0;
  if (v > 0)
    return v;
  if (a->cfg.sync_ms > 0)
    return a->cfg.sync_ms;
  return c->keda ? (int64_t)c->keda->polling_interval * 1000 : SS_AUTOSCALE_DEFAULT_HPA_SYNC_MS;
}

static void pods_of(const struct pod_row *rows, size_t n, struct ss_hpa_pod *pods) {
  for (size_t i = 0; i < n; i++)
    pods[i] = (struct ss_hpa_pod){.ready = rows[i].ready,
                                  .start_ms = rows[i].start_ms,
                                  .ready_change_ms = rows[i].ready_ms ? rows[i].ready_ms
                                                                      : rows[i].start_ms,
                                  .name = rows[i].replica};
}

#define MAX_VALUES 256 /* series of one Object or External metric */

/* The object an Object metric describes, as a group-resource. */
static void described_gr(const struct ss_metric_spec *ms, struct ss_adapter_gr *gr) {
  char group[128] = "";
  const char *av = ms->object_api_version ? ms->object_api_version : "";
  const char *slash = strchr(av, '/');
  if (slash)
    snprintf(group, sizeof group, "%.*s", (int)(slash - av), av);
  ss_adapter_gr_of(group, ms->object_kind ? ms->object_kind : "", gr);
}

/* A Pods, Object or External metric through the adapter (the custom and
 * external metrics APIs, as the HPA controller reads them): per-pod
 * samples, or the values of the series. False with why when it failed. */
static bool adapter_metric(struct ss_autoscaler *a, const struct ss_metric_spec *ms,
                           const char *ns, const struct pod_row *rows, size_t n_rows,
                           int64_t now_ms, struct ss_hpa_sample *samples, int64_t *values,
                           size_t *n_values, char *why, size_t why_size) {
  char sel[1024];
  ss_adapter_selector_string(ms->selector, sel, sizeof sel);
  struct ss_error err = {0};
  json_t *out = NULL;
  enum ss_err rc;
  if (!a->cfg.adapter) {
    snprintf(why, why_size, "no metrics adapter");
    return false;
  }
  if (ms->source == SS_METRIC_PODS) {
    const char *names[MAX_PODS];
    struct ss_adapter_gr pods;
    ss_adapter_gr_of(NULL, "pods", &pods);
    for (size_t i = 0; i < n_rows; i++)
      names[i] = rows[i].replica;
    rc = ss_adapter_custom(a->cfg.adapter, &pods, ns, names, n_rows, ms->name, sel, now_ms,
                           &out, &err);
  } else if (ms->source == SS_METRIC_OBJECT) {
    struct ss_adapter_gr gr;
    described_gr(ms, &gr);
    const char *name = ms->object_name ? ms->object_name : "";
    rc = ss_adapter_custom(a->cfg.adapter, &gr, ns, &name, 1, ms->name, sel, now_ms, &out, &err);
  } else {
    rc = ss_adapter_external(a->cfg.adapter, ns, ms->name, sel, now_ms, &out, &err);
  }
  if (rc) {
    snprintf(why, why_size, "%s", err.msg);
    return false;
  }
  size_t i;
  const json_t *it;
  *n_values = 0;
  json_array_foreach(json_object_get(out, "items"), i, it) {
    struct ss_quantity q;
    if (!ss_quantity_from_json(json_object_get(it, "value"), &q, NULL))
      continue;
    const char *obj =
        json_string_value(json_object_get(json_object_get(it, "describedObject"), "name"));
    if (ms->source != SS_METRIC_PODS) {
      if (*n_values < MAX_VALUES)
        values[(*n_values)++] = q.milli;
      continue;
    }
    for (size_t p = 0; obj && p < n_rows; p++)
      if (strcmp(rows[p].replica, obj) == 0)
        samples[p] = (struct ss_hpa_sample){.present = true, .value = q.milli, .at_ms = now_ms};
  }
  json_decref(out);
  if (ms->source != SS_METRIC_PODS && *n_values == 0) {
    snprintf(why, why_size, "no value for metric %s (the query returned nothing)", ms->name);
    return false;
  }
  return true;
}

/* One HPA sync: metrics from the rows, the decision from hpa.h, the scale
 * written. True when the scale changed. */
static bool eval_hpa(struct ss_autoscaler *a, struct target *t, struct ctx *c,
                     const struct pod_row *rows, size_t n_rows, int64_t now_ms) {
  const struct ss_hpa_spec *spec = c->hpa;
  const struct ss_hpa_settings set = SS_HPA_SETTINGS_DEFAULT;
  struct ss_hpa_pod pods[MAX_PODS];
  static __thread struct ss_hpa_sample samples[SS_HPA_MAX_METRICS][MAX_PODS];
  static __thread int64_t values[SS_HPA_MAX_METRICS][MAX_VALUES];
  static __thread char why[SS_HPA_MAX_METRICS][SS_HPA_MSG_MAX];
  struct ss_hpa_metric_input in_m[SS_HPA_MAX_METRICS];
  size_t nm = spec->n_metrics < SS_HPA_MAX_METRICS ? spec->n_metrics : SS_HPA_MAX_METRICS;
  pods_of(rows, n_rows, pods);
  for (size_t m = 0; m < nm; m++) {
    const struct ss_metric_spec *ms = &spec->metrics[m];
    memset(&in_m[m], 0, sizeof in_m[m]);
    bool res = ms->source == SS_METRIC_RESOURCE || ms->source == SS_METRIC_CONTAINER_RESOURCE;
    bool cpu = ms->name && strcmp(ms->name, "cpu") == 0;
    bool mem = ms->name && strcmp(ms->name, "memory") == 0;
    if (!res) {
      memset(samples[m], 0, sizeof samples[m]);
      size_t nv = 0;
      bool ok = adapter_metric(a, ms, t->ns, rows, n_rows, now_ms, samples[m], values[m], &nv,
                               why[m], sizeof why[m]);
      in_m[m].failed = !ok;
      in_m[m].error = ok ? NULL : why[m];
      in_m[m].samples = samples[m];
      in_m[m].values = values[m];
      in_m[m].n_values = nv;
      continue;
    }
    if (!cpu && !mem) {
      in_m[m].failed = true;
      in_m[m].error = "servescale has no source for this resource (only cpu and memory)";
      continue;
    }
    for (size_t i = 0; i < n_rows; i++)
      samples[m][i] = pod_sample(&rows[i], cpu);
    in_m[m].samples = samples[m];
  }
  struct ss_hpa_input in = {.spec_replicas = t->current,
                            .status_replicas = (int32_t)n_rows,
                            .pods = pods,
                            .n_pods = n_rows,
                            .metrics = in_m,
                            .now_ms = now_ms};
  struct ss_hpa_result *r = calloc(1, sizeof *r);
  if (!r)
    return false;
  bool changed = false;
  if (ss_hpa_evaluate(spec, &set, &in, &t->hist, r) == SS_EOK) {
    if (r->scale && !write_scale(a, &c->sc, r->desired))
      r->scale = false; /* not applied: the scale changed under it */
    ss_hpa_commit(&t->hist, r, r->scale);
    hpa_cond(t, "AbleToScale", &r->able_to_scale, now_ms);
    hpa_cond(t, "ScalingActive", &r->scaling_active, now_ms);
    hpa_cond(t, "ScalingLimited", &r->scaling_limited, now_ms);
    json_decref(t->metric_status);
    t->metric_status = hpa_current_metrics(spec, r);
    if (r->failed)
      event(a, c->obj, true, "FailedComputeMetricsReplicas", "%s", r->error);
    if (r->scale) {
      event(a, c->obj, false, "SuccessfulRescale", "New size: %d; reason: %s", (int)r->desired,
            r->reason);
      t->current = r->desired;
      rfc3339(now_ms, t->last_scale, sizeof t->last_scale);
      changed = true;
    }
  }
  free(r);
  return changed;
}

/* The value of each trigger, polled (due) into tin; why holds the errors. */
static void poll_triggers(struct ss_autoscaler *a, const struct ss_keda_spec *spec,
                          const struct pod_row *rows, size_t n_rows, int64_t now_ms,
                          struct ss_keda_trigger_input *tin,
                          struct ss_hpa_sample (*samples)[MAX_PODS],
                          char (*why)[SS_KEDA_MSG_MAX]) {
  size_t nt = spec->n_triggers < SS_KEDA_MAX_TRIGGERS ? spec->n_triggers : SS_KEDA_MAX_TRIGGERS;
  for (size_t i = 0; i < nt; i++) {
    const struct ss_trigger *tr = &spec->triggers[i];
    memset(&tin[i], 0, sizeof tin[i]);
    why[i][0] = '\0';
    if (tr->type == SS_TRIGGER_PROMETHEUS) {
      bool ok = tr->server_address
                    ? prom_http(tr, &tin[i].value, why[i], sizeof why[i])
                    : prom_embedded(a, tr, now_ms, &tin[i].value, why[i], sizeof why[i]);
      tin[i].failed = !ok;
      tin[i].error = ok ? NULL : why[i];
    } else {
      for (size_t p = 0; p < n_rows; p++)
        samples[i][p] = pod_sample(&rows[p], tr->type == SS_TRIGGER_CPU);
      tin[i].samples = samples[i];
    }
  }
}

static json_t *trigger_status(const struct ss_keda_result *r,
                              const struct ss_keda_trigger_input *tin) {
  json_t *arr = json_array();
  for (size_t i = 0; arr && i < r->n_triggers; i++) {
    const struct ss_keda_trigger_status *ts = &r->triggers[i];
    json_t *o = json_pack("{s:s, s:b, s:b, s:b, s:i}", "metricName", ts->metric_name, "failed",
                          ts->failed, "active", ts->active, "fallback", ts->fallback, "failures",
                          (int)ts->failures);
    if (!ts->resource)
      json_object_set_new(o, "value", json_real(isfinite(ts->value) ? ts->value : 0));
    else if (ts->hpa.has_utilization)
      json_object_set_new(o, "averageUtilization", json_integer(ts->hpa.average_utilization));
    if (ts->failed && tin[i].error)
      json_object_set_new(o, "error", json_string(tin[i].error));
    json_array_append_new(arr, o);
  }
  return arr;
}

static const char *ann(const struct ctx *c, const char *key) {
  return json_string_value(json_object_get(c->annotations, key));
}

/* One KEDA poll (due) or activation: the decision from keda.h, the scale
 * written. True when the scale changed. */
static bool eval_keda(struct ss_autoscaler *a, struct target *t, struct ctx *c,
                      const struct pod_row *rows, size_t n_rows, int64_t now_ms, bool due,
                      bool activate) {
  const struct ss_keda_spec *spec = c->keda;
  const struct ss_hpa_settings set = SS_HPA_SETTINGS_DEFAULT;
  struct ss_hpa_pod pods[MAX_PODS];
  static __thread struct ss_hpa_sample samples[SS_KEDA_MAX_TRIGGERS][MAX_PODS];
  struct ss_keda_trigger_input tin[SS_KEDA_MAX_TRIGGERS];
  char why[SS_KEDA_MAX_TRIGGERS][SS_KEDA_MSG_MAX];
  pods_of(rows, n_rows, pods);
  if (due)
    poll_triggers(a, spec, rows, n_rows, now_ms, tin, samples, why);
  struct ss_keda_input in = {.spec_replicas = t->current,
                             .status_replicas = (int32_t)n_rows,
                             .paused = ann(c, SS_KEDA_ANN_PAUSED),
                             .paused_replicas = ann(c, SS_KEDA_ANN_PAUSED_REPLICAS),
                             .paused_scale_in = ann(c, SS_KEDA_ANN_PAUSED_SCALE_IN),
                             .paused_scale_out = ann(c, SS_KEDA_ANN_PAUSED_SCALE_OUT),
                             .triggers = due ? tin : NULL,
                             .pods = pods,
                             .n_pods = n_rows,
                             .fallback_behavior = spec->fallback_behavior,
                             .activate_now = activate,
                             .now_ms = now_ms};
  struct ss_keda_result *r = calloc(1, sizeof *r);
  if (!r)
    return false;
  bool changed = false;
  if (ss_keda_evaluate(spec, &set, &t->ks, &in, r) == SS_EOK) {
    if (r->scale && !write_scale(a, &c->sc, r->desired))
      r->scale = false;
    ss_keda_commit(&t->ks, r, r->scale);
    keda_cond(t, "Ready", &r->ready, now_ms);
    keda_cond(t, "Active", &r->active_cond, now_ms);
    keda_cond(t, "Fallback", &r->fallback, now_ms);
    keda_cond(t, "Paused", &r->paused_cond, now_ms);
    if (t->ks.has_last_active)
      rfc3339(t->ks.last_active_ms, t->last_active, sizeof t->last_active);
    if (r->polled) {
      json_decref(t->metric_status);
      t->metric_status = trigger_status(r, tin);
    }
    for (size_t i = 0; i < r->n_events; i++)
      event(a, c->obj, r->events[i].warning, r->events[i].reason, "%s", r->events[i].message);
    if (r->scale) {
      t->current = r->desired;
      rfc3339(now_ms, t->last_scale, sizeof t->last_scale);
      changed = true;
    }
  }
  free(r);
  return changed;
}

/* ---- servescale's own policy (autoscale/own.h) ---- */

/* The annotations that choose and tune the policy: the autoscaler's when
 * it names a policy, else those of the SeldonDeployment that controls it
 * (the SeldonDeployment controller copies only some annotations onto the
 * autoscalers it makes). *owner: the owner read, for the caller to free. */
static const json_t *policy_annotations(struct ss_autoscaler *a, const struct ctx *c,
                                        const char *ns, json_t **owner) {
  *owner = NULL;
  if (json_object_get(c->annotations, SS_AUTOSCALE_ANN_POLICY))
    return c->annotations;
  size_t i;
  const json_t *r;
  json_array_foreach(json_object_get(json_object_get(c->obj, "metadata"), "ownerReferences"), i,
                     r) {
    const char *kind = json_string_value(json_object_get(r, "kind"));
    const char *name = json_string_value(json_object_get(r, "name"));
    if (!json_is_true(json_object_get(r, "controller")) || !kind || !name ||
        strcmp(kind, SS_SDEP_KIND) != 0)
      continue;
    if (ss_store_get(a->cfg.store, SDEPS, ns, name, owner, NULL) == SS_EOK)
      return json_object_get(json_object_get(*owner, "metadata"), "annotations");
  }
  return c->annotations;
}

/* An integer annotation within [lo, hi]; dflt when absent; -1 when bad. */
static long ann_long(const json_t *anns, const char *key, long dflt, long lo, long hi) {
  const char *v = json_string_value(json_object_get(anns, key));
  if (!v)
    return dflt;
  char *end = NULL;
  long n = strtol(v, &end, 10);
  return end != v && !*end && n >= lo && n <= hi ? n : -1;
}

#define OWN_MAX_MS 600000L /* a service time, start-up or SLO past 10 min is a typo */
#define OWN_MAX_CONCURRENCY 64L

/* Whether the annotations ask for the own policy; when they do, its
 * parameters (a change starts it afresh, with a warning for a bad value). */
static void own_setup(struct ss_autoscaler *a, struct target *t, const struct ctx *c,
                      const json_t *anns, int64_t now_ms) {
  const char *policy = json_string_value(json_object_get(anns, SS_AUTOSCALE_ANN_POLICY));
  if (!policy || strcmp(policy, SS_AUTOSCALE_POLICY_OWN) != 0) {
    t->own = false;
    t->own_sig[0] = '\0';
    return;
  }
  static const struct {
    const char *key;
    long dflt, lo, hi;
  } rows[] = {{SS_AUTOSCALE_ANN_SERVICE, SS_OWN_DEFAULT_SERVICE_MS, 1, OWN_MAX_MS},
              {SS_AUTOSCALE_ANN_CONCURRENCY, SS_OWN_DEFAULT_CONCURRENCY, 1, OWN_MAX_CONCURRENCY},
              {SS_AUTOSCALE_ANN_STARTUP, SS_OWN_DEFAULT_STARTUP_MS, 0, OWN_MAX_MS},
              {SS_AUTOSCALE_ANN_SLO, SS_OWN_DEFAULT_SLO_P99_MS, 1, OWN_MAX_MS}};
  long v[4];
  for (size_t i = 0; i < 4; i++)
    v[i] = ann_long(anns, rows[i].key, rows[i].dflt, rows[i].lo, rows[i].hi);
  int32_t min = c->keda ? c->keda->min_replicas : c->hpa->min_replicas;
  int32_t max = c->keda ? c->keda->max_replicas : c->hpa->max_replicas;
  char sig[sizeof t->own_sig];
  snprintf(sig, sizeof sig, "%ld/%ld/%ld/%ld/%d/%d", v[0], v[1], v[2], v[3], (int)min, (int)max);
  if (t->own && strcmp(sig, t->own_sig) == 0)
    return;
  for (size_t i = 0; i < 4; i++)
    if (v[i] < 0) {
      event(a, c->obj, true, "InvalidAnnotation",
            "%s: %s is not an integer within [%ld, %ld]; the default %ld holds", rows[i].key,
            json_string_value(json_object_get(anns, rows[i].key)), rows[i].lo, rows[i].hi,
            rows[i].dflt);
      v[i] = rows[i].dflt;
    }
  t->own = true;
  snprintf(t->own_sig, sizeof t->own_sig, "%s", sig);
  t->own_cfg = (struct ss_own_config){.service_ms = v[0], .concurrency = (int32_t)v[1],
                                      .startup_ms = v[2], .slo_p99_ms = v[3], .min = min,
                                      .max = max};
  t->measure_service = !json_object_get(anns, SS_AUTOSCALE_ANN_SERVICE);
  t->measure_startup = !json_object_get(anns, SS_AUTOSCALE_ANN_STARTUP);
  t->base_ms = t->startup_at_ms = 0;
  ss_own_init(&t->own_cfg, &t->own_st);
  ss_own_start(&t->own_st, now_ms, t->current);
  memset(&t->feed, 0, sizeof t->feed);
  t->own_status_ms = 0;
}

/* What the gateway shows of one group (Deployment), live: the replica
 * set's gauges (its SeldonDeployment, ready replicas; in flight and queued
 * when there is no gateway to ask), its replicas, and the calls its
 * containers have answered so far. */
struct live {
  const char *ns;
  const struct group *g;
  char sdep[NAME_SIZE];
  double ready, inflight, queued;
  char (*replicas)[NAME_SIZE];
  size_t n_replicas;
  double completed, seconds; /* calls answered so far, and their seconds */
};

/* What the own policy reads of its target, live (live_figures). */
struct own_figures {
  double ready, outstanding, queued, completed, seconds;
  size_t n_replicas;
};

static bool same_rs(const struct ss_timeseries *ts, const struct live *l) {
  return strcmp(ss_timeseries_label(ts, "namespace"), l->ns) == 0 &&
         strcmp(ss_timeseries_label(ts, "replica_set"), l->g->rs) == 0;
}

static void live_ready_cb(void *ctx, const struct ss_timeseries *ts) {
  struct live *l = ctx;
  if (!same_rs(ts, l))
    return;
  l->ready = ts->samples[0].v;
  snprintf(l->sdep, sizeof l->sdep, "%s", ss_timeseries_label(ts, "deployment"));
}

static void live_inflight_cb(void *ctx, const struct ss_timeseries *ts) {
  struct live *l = ctx;
  if (same_rs(ts, l))
    l->inflight = ts->samples[0].v;
}

static void live_queued_cb(void *ctx, const struct ss_timeseries *ts) {
  struct live *l = ctx;
  if (same_rs(ts, l))
    l->queued = ts->samples[0].v;
}

static void live_replica_cb(void *ctx, const struct ss_timeseries *ts) {
  struct live *l = ctx;
  if (same_rs(ts, l) && l->n_replicas < MAX_PODS)
    snprintf(l->replicas[l->n_replicas++], NAME_SIZE, "%s", ss_timeseries_label(ts, "replica"));
}

/* The gateway's calls to the group's containers, every code, answered so
 * far (_count) and the seconds they took (_sum). */
static void live_completed_cb(void *ctx, const struct ss_timeseries *ts) {
  struct live *l = ctx;
  if (strcmp(ss_timeseries_label(ts, "namespace"), l->ns) != 0 ||
      strcmp(ss_timeseries_label(ts, "deployment_name"), l->sdep) != 0)
    return;
  const char *model = ss_timeseries_label(ts, "model_name");
  size_t n = strlen(ts->name);
  bool sum = n > 4 && strcmp(ts->name + n - 4, "_sum") == 0;
  for (size_t i = 0; i < l->g->n_containers; i++)
    if (strcmp(l->g->cnames[i], model) == 0) {
      *(sum ? &l->seconds : &l->completed) += ts->samples[0].v;
      return;
    }
}

/* The own policy's figures for the target: over its groups, the fewest
 * ready, the most outstanding and queued, the most answered (a graph's
 * groups each see a request; the busiest one sizes them all) with its
 * seconds. */
static void live_figures(struct ss_autoscaler *a, const char *ns, const struct scale *sc,
                         int64_t now_ms, struct own_figures *f) {
  static __thread char names[MAX_PODS][NAME_SIZE];
  memset(f, 0, sizeof *f);
  for (size_t g = 0; g < sc->n_groups; g++) {
    struct live l = {.ns = ns, .g = &sc->groups[g], .replicas = names};
    struct ss_metrics *m = a->cfg.metrics;
    ss_metrics_each_current(m, "servescale_replica_set_ready_replicas", now_ms, live_ready_cb, &l);
    ss_metrics_each_current(m, "servescale_replica_ready", now_ms, live_replica_cb, &l);
    if (l.sdep[0]) {
      ss_metrics_each_current(m, "seldon_api_executor_client_requests_seconds_count", now_ms,
                              live_completed_cb, &l);
      ss_metrics_each_current(m, "seldon_api_executor_client_requests_seconds_sum", now_ms,
                              live_completed_cb, &l);
    }
    if (a->cfg.inflight && a->cfg.queued) {
      char id[KEY_MAX];
      l.inflight = 0;
      for (size_t i = 0; i < l.n_replicas; i++) {
        snprintf(id, sizeof id, "%s.%s", ns, names[i]);
        l.inflight += a->cfg.inflight(a->cfg.gateway_ctx, id);
      }
      snprintf(id, sizeof id, "%s.%s", ns, l.g->rs);
      l.queued = a->cfg.queued(a->cfg.gateway_ctx, id);
    } else {
      ss_metrics_each_current(m, "servescale_replica_set_inflight_requests", now_ms,
                              live_inflight_cb, &l);
      ss_metrics_each_current(m, "servescale_replica_set_queued_requests", now_ms,
                              live_queued_cb, &l);
    }
    f->ready = g == 0 || l.ready < f->ready ? l.ready : f->ready;
    f->outstanding = fmax(f->outstanding, l.inflight + l.queued);
    f->queued = fmax(f->queued, l.queued);
    if (l.completed > f->completed) {
      f->completed = l.completed;
      f->seconds = l.seconds;
    }
    if (l.n_replicas > f->n_replicas)
      f->n_replicas = l.n_replicas;
  }
}

/* The slowest group's mean start to ready over its ready replicas (their
 * start and readiness gauges, as scan_pods reads them), in ms; 0: none. */
static double startup_ms(struct ss_autoscaler *a, const char *ns, const struct scale *sc) {
  struct pod_row *rows = calloc(MAX_PODS, sizeof *rows);
  double slowest = 0;
  for (size_t g = 0; rows && g < sc->n_groups; g++) {
    size_t n = scan_pods(a, ns, &sc->groups[g], rows, MAX_PODS);
    double sum = 0;
    int k = 0;
    for (size_t i = 0; i < n; i++)
      if (rows[i].ready && rows[i].has_start && rows[i].ready_ms >= rows[i].start_ms) {
        sum += (double)(rows[i].ready_ms - rows[i].start_ms);
        k++;
      }
    if (k)
      slowest = fmax(slowest, sum / k);
  }
  free(rows);
  return slowest;
}

/* What no annotation gave, measured: the service time as the mean of the
 * calls answered since the last measure, once there are enough of them
 * over long enough; the start-up as the ready replicas', at the same pace.
 * The policy keeps what it has seen (ss_own_retune). */
static void own_measure(struct ss_autoscaler *a, struct target *t, const struct scale *sc,
                        const struct own_figures *f, int64_t now_ms) {
  bool changed = false;
  if (t->measure_service) {
    if (!t->base_ms || f->completed < t->base_calls) { /* first, or counters made anew */
      t->base_ms = now_ms;
      t->base_calls = f->completed;
      t->base_seconds = f->seconds;
    } else if (f->completed - t->base_calls >= SS_AUTOSCALE_MEASURE_CALLS &&
               now_ms - t->base_ms >= SS_AUTOSCALE_MEASURE_MS) {
      double ms = (f->seconds - t->base_seconds) / (f->completed - t->base_calls) * 1000.0;
      int64_t v = ms < 1 ? 1 : (int64_t)llround(ms);
      changed = v != t->own_cfg.service_ms;
      t->own_cfg.service_ms = v;
      t->base_ms = now_ms;
      t->base_calls = f->completed;
      t->base_seconds = f->seconds;
    }
  }
  if (t->measure_startup &&
      (!t->startup_at_ms || now_ms - t->startup_at_ms >= SS_AUTOSCALE_MEASURE_MS)) {
    t->startup_at_ms = now_ms;
    double ms = startup_ms(a, t->ns, sc);
    int64_t v = (int64_t)llround(ms);
    if (ms > 0 && v != t->own_cfg.startup_ms) {
      t->own_cfg.startup_ms = v;
      changed = true;
    }
  }
  if (changed)
    ss_own_retune(&t->own_cfg, &t->own_st);
}

/* One period of the own policy: the gateway's figures into its feed, the
 * decision from own.h, the scale written with the reason as its event.
 * True when the scale changed. */
static bool eval_own(struct ss_autoscaler *a, struct target *t, struct ctx *c, int64_t now_ms,
                     size_t *n_replicas) {
  struct own_figures f;
  live_figures(a, t->ns, &c->sc, now_ms, &f);
  own_measure(a, t, &c->sc, &f, now_ms);
  *n_replicas = f.n_replicas;
  double ready = f.ready, outstanding = f.outstanding, queued = f.queued;
  ss_own_feed_push(&t->feed, now_ms, f.completed, outstanding);
  double rate = ss_own_feed_rate(&t->feed);
  struct ss_own_input in = {.now_ms = now_ms,
                            .rate_1s = rate,
                            .inflight = outstanding,
                            .waiting = queued > 0 ? (size_t)queued : 0,
                            .ready = (int32_t)ready,
                            .spec = t->current};
  int32_t want = ss_own_decide(&t->own_cfg, &t->own_st, &in);
  json_decref(t->metric_status);
  t->metric_status = json_pack(
      "[{s:s, s:{s:{s:s}, s:{s:o}}}]", "type", "External", "external", "metric", "name",
      "servescale_arrivals_per_second", "current", "value", qty((int64_t)llround(rate * 1000)));
  set_cond(t, t->keda ? "Ready" : "ScalingActive", "True", "ServescalePolicy",
           t->own_st.reason, now_ms);
  if (want == t->current)
    return false;
  if (!write_scale(a, &c->sc, want))
    return false; /* the scale changed under it: the next period works from it */
  event(a, c->obj, false, "SuccessfulRescale", "New size: %d; reason: %s", (int)want,
        t->own_st.reason);
  fprintf(stderr, "event=own_decision object=%s/%s replicas=%d from=%d rate=%.1f outstanding=%.0f "
          "queued=%.0f ready=%.0f service_ms=%lld startup_ms=%lld t_ms=%lld\n", t->ns, t->name,
          (int)want, (int)t->current, rate, outstanding, queued, ready,
          (long long)t->own_cfg.service_ms, (long long)t->own_cfg.startup_ms, (long long)now_ms);
  t->current = want;
  rfc3339(now_ms, t->last_scale, sizeof t->last_scale);
  if (t->keda) {
    set_cond(t, "Active", want > 0 ? "True" : "False", "ServescalePolicy",
             want > 0 ? "Scaling is performed because triggers are active"
                      : "Scaling is not performed because triggers are not active",
             now_ms);
    if (want > 0)
      rfc3339(now_ms, t->last_active, sizeof t->last_active);
  }
  return true;
}

static struct target *find_target(struct ss_autoscaler *a, const char *key) {
  for (size_t i = 0; i < a->n; i++)
    if (strcmp(a->v[i]->key, key) == 0)
      return a->v[i];
  return NULL;
}

/* The target of key, created when new; its activation flag taken. */
static struct target *target_get(struct ss_autoscaler *a, const char *key, bool *activate) {
  pthread_mutex_lock(&a->mu);
  struct target *t = find_target(a, key);
  if (!t) {
    struct target **v = realloc(a->v, (a->n + 1) * sizeof *v);
    if (v) {
      a->v = v;
      if ((t = calloc(1, sizeof *t))) {
        snprintf(t->key, sizeof t->key, "%s", key);
        a->v[a->n++] = t;
      }
    }
  }
  *activate = t && t->activate;
  if (t)
    t->activate = false;
  pthread_mutex_unlock(&a->mu);
  return t;
}

/* A new or changed spec starts the target's state afresh. */
static void target_renew(struct ss_autoscaler *a, struct target *t, const struct ctx *c,
                         const char *ns, const char *name, char *sig, int64_t now_ms) {
  target_reset(t);
  free(t->sig);
  t->sig = sig;
  t->keda = c->keda != NULL;
  snprintf(t->ns, sizeof t->ns, "%s", ns);
  snprintf(t->name, sizeof t->name, "%s", name);
  const char *kind = c->keda ? c->keda->target_kind : c->hpa->target_kind;
  const char *tname = c->keda ? c->keda->target_name : c->hpa->target_name;
  pthread_mutex_lock(&a->mu); /* ss_autoscaler_activate reads rs */
  if (!kind || strcmp(kind, "Deployment") == 0)
    snprintf(t->rs, sizeof t->rs, "%s.%s", ns, tname ? tname : "");
  else
    t->rs[0] = '\0';
  pthread_mutex_unlock(&a->mu);
  memset(t->conds, 0, sizeof t->conds);
  if (c->keda)
    t->ks_init = ss_keda_state_init(&t->ks, c->keda, now_ms) == SS_EOK;
  t->next_ms = now_ms;
}

/* A target that cannot be read: the conditions say why, as the HPA
 * controller's FailedGetScale and KEDA's ScaledObjectCheckFailed do, and
 * it is looked at again soon. */
static void scale_missing(struct ss_autoscaler *a, struct target *t, struct ctx *c,
                          const char *why, int64_t now_ms) {
  if (t->keda)
    set_cond(t, "Ready", "False", "ScaledObjectCheckFailed", why, now_ms);
  else
    set_cond(t, "AbleToScale", "False", "FailedGetScale", why, now_ms);
  store_status(a, t, c, 0);
}

/* Whether another autoscaler aims at the same target: the HPA controller
 * then refuses to scale ("pods by selector ... are controlled by multiple
 * HPAs"), and KEDA's admission refuses a second ScaledObject; why names them. */
static bool ambiguous(const struct ctx *c, const char *ns, const char *kind, const char *name,
                      char *why, size_t size) {
  char key[KEY_MAX];
  ss_scale_target_key(ns, kind, name, key, sizeof key);
  const json_t *who = json_object_get(c->claims, key);
  if (json_array_size(who) < 2)
    return false;
  size_t n = (size_t)snprintf(why, size, "%s %s/%s is controlled by multiple autoscalers: [",
                              kind ? kind : "Deployment", ns, name ? name : "");
  size_t i;
  const json_t *w;
  json_array_foreach(who, i, w) if (n < size) n += (size_t)snprintf(
      why + n, size - n, "%s%s", i ? " " : "", json_string_value(w));
  if (n < size)
    snprintf(why + n, size - n, "]");
  return true;
}

/* An autoscaler that shares its target: the condition (AmbiguousSelector,
 * as the HPA controller reports it) and a warning event, no scale. */
static void shared_target(struct ss_autoscaler *a, struct target *t, struct ctx *c,
                          const char *why, int64_t now_ms) {
  bool was = false;
  for (size_t i = 0; i < MAX_CONDS; i++)
    was = was || (strcmp(t->conds[i].reason, "AmbiguousSelector") == 0 ||
                  strcmp(t->conds[i].reason, "ScaledObjectCheckFailed") == 0);
  if (t->keda)
    set_cond(t, "Ready", "False", "ScaledObjectCheckFailed", why, now_ms);
  else
    set_cond(t, "ScalingActive", "False", "AmbiguousSelector", why, now_ms);
  if (!was)
    event(a, c->obj, true, t->keda ? "ScaledObjectCheckFailed" : "AmbiguousSelector", "%s", why);
  store_status(a, t, c, 0);
}

/* One sync of one autoscaler (when due, or woken by a request waiting at
 * zero). True when it changed a scale. */
static bool visit(struct ss_autoscaler *a, struct ctx *c, int64_t now_ms, int64_t *next_ms) {
  const json_t *md = json_object_get(c->obj, "metadata");
  const char *ns = json_string_value(json_object_get(md, "namespace"));
  const char *name = json_string_value(json_object_get(md, "name"));
  if (!ns || !name)
    return false;
  char key[KEY_MAX];
  snprintf(key, sizeof key, "%s|%s/%s", c->keda ? "so" : "hpa", ns, name);
  bool activate;
  struct target *t = target_get(a, key, &activate);
  if (!t)
    return false;
  t->seen = true;
  char *sig = json_dumps(json_object_get(c->obj, "spec"), JSON_COMPACT | JSON_SORT_KEYS);
  if (!t->sig || (sig && strcmp(sig, t->sig) != 0)) {
    target_renew(a, t, c, ns, name, sig, now_ms);
    sig = NULL;
  }
  free(sig);
  bool due = now_ms >= t->next_ms, changed = false;
  int32_t idle = c->keda && c->keda->idle_replicas > 0 ? c->keda->idle_replicas : 0;
  bool wake = activate && ((c->keda && t->current <= idle) || (t->own && t->current == 0));
  if (due || wake) {
    const char *av = c->keda ? c->keda->target_api_version : c->hpa->target_api_version;
    const char *kind = c->keda ? c->keda->target_kind : c->hpa->target_kind;
    const char *tname = c->keda ? c->keda->target_name : c->hpa->target_name;
    char why[SS_HPA_MSG_MAX];
    if (ambiguous(c, ns, kind, tname, why, sizeof why)) {
      shared_target(a, t, c, why, now_ms);
      t->next_ms = now_ms + sync_ms(a, c);
    } else if (!scale_read(a, ns, av, kind, tname ? tname : "", &c->sc, why, sizeof why)) {
      scale_missing(a, t, c, why, now_ms);
      t->next_ms = now_ms + SS_AUTOSCALE_RETRY_MS;
    } else {
      t->current = c->sc.replicas;
      json_t *owner = NULL;
      own_setup(a, t, c, policy_annotations(a, c, ns, &owner), now_ms);
      json_decref(owner);
      if (t->own) {
        size_t n = 0;
        changed = eval_own(a, t, c, now_ms, &n);
        if (changed || now_ms - t->own_status_ms >= SS_AUTOSCALE_OWN_STATUS_MS) {
          store_status(a, t, c, (int32_t)n);
          if (c->keda)
            store_keda_hpa(a, t, c, (int32_t)n);
          t->own_status_ms = now_ms;
        }
      } else {
        struct pod_row *rows = calloc(MAX_PODS, sizeof *rows);
        size_t n_rows = 0;
        for (size_t g = 0; rows && g < c->sc.n_groups; g++)
          n_rows += scan_pods(a, ns, &c->sc.groups[g], rows + n_rows, MAX_PODS - n_rows);
        if (rows && c->keda && t->ks_init)
          changed = eval_keda(a, t, c, rows, n_rows, now_ms, due, activate);
        else if (rows && !c->keda)
          changed = eval_hpa(a, t, c, rows, n_rows, now_ms);
        if (rows) {
          store_status(a, t, c, (int32_t)n_rows);
          if (c->keda)
            store_keda_hpa(a, t, c, (int32_t)n_rows);
        }
        free(rows);
      }
      if (due || t->own)
        t->next_ms = now_ms + (t->own ? SS_OWN_PERIOD_MS : sync_ms(a, c));
    }
    json_decref(c->sc.obj);
    c->sc.obj = NULL;
  }
  if (next_ms && t->next_ms < *next_ms)
    *next_ms = t->next_ms;
  return changed;
}

/* Visits every stored autoscaler of kind k that decodes without errors.
 * HPAs a ScaledObject owns are KEDA's: its controller writes them. */
static bool keda_owned(const json_t *obj) {
  const char *okind = NULL;
  return ss_controller_uid(obj, &okind) && okind && strcmp(okind, "ScaledObject") == 0;
}

/* Who aims at what: "<ns>/<Kind>/<name>" -> ["HorizontalPodAutoscaler/x", ...]
 * over the stored HPAs (a ScaledObject's own one counted as its ScaledObject)
 * and ScaledObjects. */
static json_t *claims_of(const json_t *hpas, const json_t *sos) {
  json_t *claims = json_object();
  const json_t *lists[2] = {hpas, sos};
  for (int l = 0; l < 2; l++) {
    size_t i;
    const json_t *o;
    json_array_foreach(lists[l], i, o) {
      if (l == 0 && keda_owned(o))
        continue;
      const json_t *md = json_object_get(o, "metadata");
      const json_t *ref = json_object_get(json_object_get(o, "spec"), "scaleTargetRef");
      const char *ns = json_string_value(json_object_get(md, "namespace"));
      const char *name = json_string_value(json_object_get(md, "name"));
      if (!ns || !name)
        continue;
      char key[KEY_MAX], who[KEY_MAX];
      ss_scale_target_key(ns, json_string_value(json_object_get(ref, "kind")),
                json_string_value(json_object_get(ref, "name")), key, sizeof key);
      snprintf(who, sizeof who, "%s/%s", l ? "ScaledObject" : "HorizontalPodAutoscaler", name);
      json_t *arr = json_object_get(claims, key);
      if (!arr)
        json_object_set_new(claims, key, arr = json_array());
      json_array_append_new(arr, json_string(who));
    }
  }
  return claims;
}

/* The key of a stored autoscaler (as visit makes it) into key; false when
 * it has no namespace or name. */
static bool key_of(const json_t *obj, bool keda, char *key, size_t size) {
  const json_t *md = json_object_get(obj, "metadata");
  const char *ns = json_string_value(json_object_get(md, "namespace"));
  const char *name = json_string_value(json_object_get(md, "name"));
  if (!ns || !name)
    return false;
  snprintf(key, size, "%s|%s/%s", keda ? "so" : "hpa", ns, name);
  return true;
}

/* A known autoscaler, unchanged since it was last decoded, neither due nor
 * woken: seen, and nothing more to do (decoding every stored autoscaler
 * each tick would cost a lot once the own policy ticks ten times a second). */
static bool idle(struct ss_autoscaler *a, const char *key, const char *raw, int64_t now_ms,
                 int64_t *next_ms) {
  pthread_mutex_lock(&a->mu);
  struct target *t = find_target(a, key);
  bool skip = t && t->raw_sig && raw && strcmp(t->raw_sig, raw) == 0 && !t->activate &&
              now_ms < t->next_ms;
  if (skip) {
    t->seen = true;
    if (next_ms && t->next_ms < *next_ms)
      *next_ms = t->next_ms;
  }
  pthread_mutex_unlock(&a->mu);
  return skip;
}

/* Remembers the stored spec a visit decoded (takes ownership of raw). */
static void remember_raw(struct ss_autoscaler *a, const char *key, char *raw) {
  pthread_mutex_lock(&a->mu);
  struct target *t = find_target(a, key);
  if (t) {
    free(t->raw_sig);
    t->raw_sig = raw;
    raw = NULL;
  }
  pthread_mutex_unlock(&a->mu);
  free(raw);
}

static bool visit_all(struct ss_autoscaler *a, const json_t *items, bool keda,
                      const json_t *claims, int64_t now_ms, int64_t *next_ms) {
  bool changed = false;
  size_t i;
  json_t *obj;
  json_array_foreach(items, i, obj) {
    if (!keda && keda_owned(obj))
      continue;
    char key[KEY_MAX];
    char *raw = json_dumps(json_object_get(obj, "spec"), JSON_COMPACT | JSON_SORT_KEYS);
    bool known = key_of(obj, keda, key, sizeof key);
    if (known && idle(a, key, raw, now_ms, next_ms)) {
      free(raw);
      continue;
    }
    json_t *copy = json_deep_copy(obj); /* decoding fills in defaults */
    struct ss_resource res = {0};
    if (copy && ss_resource_decode(copy, NULL, "", NULL, &res) == SS_EOK &&
        !res.diags.errors &&
        res.kind == (keda ? SS_KIND_SCALEDOBJECT : SS_KIND_HPA)) {
      struct ctx c = {.obj = res.obj,
                      .claims = claims,
                      .hpa = keda ? NULL : &res.u.hpa,
                      .keda = keda ? &res.u.keda : NULL,
                      .annotations = json_object_get(json_object_get(res.obj, "metadata"),
                                                     "annotations")};
      if (visit(a, &c, now_ms, next_ms))
        changed = true;
      if (known) {
        remember_raw(a, key, raw);
        raw = NULL;
      }
    }
    free(raw);
    ss_resource_free(&res);
    json_decref(copy);
  }
  return changed;
}

/* The HPAs of ScaledObjects that are gone (garbage collection by owner). */
static void sweep_keda_hpas(struct ss_autoscaler *a, const json_t *hpas, const json_t *sos) {
  size_t i, j;
  const json_t *h, *so;
  json_array_foreach(hpas, i, h) {
    const char *okind = NULL, *uid = ss_controller_uid(h, &okind);
    if (!uid || !okind || strcmp(okind, "ScaledObject") != 0)
      continue;
    bool live = false;
    json_array_foreach(sos, j, so) {
      const char *su =
          json_string_value(json_object_get(json_object_get(so, "metadata"), "uid"));
      live = live || (su && strcmp(su, uid) == 0);
    }
    const json_t *md = json_object_get(h, "metadata");
    const char *ns = json_string_value(json_object_get(md, "namespace"));
    const char *name = json_string_value(json_object_get(md, "name"));
    if (!live && ns && name)
      ss_store_delete(a->cfg.store, SS_AUTOSCALE_HPA_KIND, ns, name, NULL, NULL);
  }
}

bool ss_autoscaler_tick(struct ss_autoscaler *a, int64_t now_ms, int64_t *next_ms) {
  if (next_ms)
    *next_ms = INT64_MAX;
  for (size_t i = 0; i < a->n; i++)
    a->v[i]->seen = false;
  json_t *sos = NULL, *hpas = NULL;
  uint64_t rv;
  bool listed = !ss_store_list(a->cfg.store, SS_AUTOSCALE_SO_KIND, NULL, &sos, &rv, NULL) &&
                !ss_store_list(a->cfg.store, SS_AUTOSCALE_HPA_KIND, NULL, &hpas, &rv, NULL);
  bool changed = false;
  if (listed) { /* a failed list forgets nothing */
    json_t *claims = claims_of(hpas, sos);
    changed = visit_all(a, sos, true, claims, now_ms, next_ms);
    if (visit_all(a, hpas, false, claims, now_ms, next_ms))
      changed = true;
    sweep_keda_hpas(a, hpas, sos);
    json_decref(claims);
  }
  json_decref(sos);
  json_decref(hpas);
  pthread_mutex_lock(&a->mu);
  for (size_t j = 0; listed && j < a->n;) {
    if (a->v[j]->seen) {
      j++;
      continue;
    }
    target_free(a->v[j]);
    a->v[j] = a->v[--a->n];
  }
  pthread_mutex_unlock(&a->mu);
  return changed;
}
