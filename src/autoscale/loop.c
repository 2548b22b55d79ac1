/* loop.c: the autoscaling loop (see loop.h): targets from the stored
 * SeldonDeployments, inputs from the metrics window and Prometheus, the
 * decision written to the target Deployment's scale, and the status into a
 * read-only HorizontalPodAutoscaler or ScaledObject. */
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
#include "model/resource.h"
#include "promql/http.h"
#include "promql/promql.h"

#define KEY_MAX 600
#define MAX_PODS 256           /* replicas of one target the loop looks at */
#define CPU_RATE_SPAN_MS 15000 /* metrics-server's resolution: CPU averaged over 15 s */
#define MAX_CONDS 4

struct cond {
  char type[24], status[8], reason[64], message[SS_HPA_MSG_MAX], since[32];
};

struct target {
  char key[KEY_MAX]; /* "<ns>.<replica set>" */
  char ns[256], dep[256], name[128];
  bool keda, seen;
  char *sig;                  /* the autoscaling spec, serialized: a change resets state */
  int32_t current;            /* the target's scale spec.replicas, read at each sync */
  int64_t next_ms;
  bool activate; /* guarded by a->mu */
  struct ss_hpa_history hist;
  struct ss_keda_state ks;
  bool ks_init;
  struct cond conds[MAX_CONDS];
  char last_scale[32], last_active[32];
  json_t *metric_status; /* currentMetrics (HPA) / trigger values (KEDA) */
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
    if (strcmp(a->v[i]->key, rs) == 0)
      a->v[i]->activate = true;
  pthread_mutex_unlock(&a->mu);
}

/* ---- replicas, from the metrics window ---- */

struct pod_row {
  char replica[160];
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
  size_t n;
};

static const char *label(const struct ss_timeseries *ts, const char *name) {
  for (size_t i = 0; i < ts->n_labels; i++)
    if (strcmp(ts->label_names[i], name) == 0)
      return ts->label_values[i];
  return "";
}

static void pod_cb(void *ctx, const struct ss_timeseries *ts) {
  struct pod_scan *ps = ctx;
  if (!ts->n_samples || strcmp(label(ts, "namespace"), ps->ns) != 0 ||
      strcmp(label(ts, "replica_set"), ps->rs) != 0)
    return;
  const char *rep = label(ts, "replica");
  struct pod_row *r = NULL;
  for (size_t i = 0; i < ps->n && !r; i++)
    if (strcmp(ps->rows[i].replica, rep) == 0)
      r = &ps->rows[i];
  if (!r) {
    if (ps->which != 0 || ps->n == MAX_PODS)
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

static size_t scan_pods(struct ss_autoscaler *a, const char *ns, const char *rs,
                        struct pod_row *rows) {
  static const char *const names[] = {
      "servescale_replica_ready", "servescale_replica_start_time_seconds",
      "servescale_replica_ready_time_seconds", "servescale_replica_cpu_seconds",
      "servescale_replica_resident_memory_bytes"};
  struct pod_scan ps = {.ns = ns, .rs = rs, .rows = rows};
  for (int i = 0; i < 5; i++) {
    ps.which = i;
    ss_metrics_each_series(a->cfg.metrics, names[i], pod_cb, &ps);
  }
  return ps.n;
}

/* One replica's sample of cpu or memory, in hpa.h's milli units. */
static struct ss_hpa_sample pod_sample(const struct pod_row *r, bool cpu, int64_t request_milli) {
  struct ss_hpa_sample s = {.request = request_milli};
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

/* spec.metrics in the autoscaling/v2 form, whichever form the hpaSpec used
 * (v2beta1's targetAverageUtilization reads as a Utilization target). */
static json_t *hpa_spec_metrics(const struct ss_hpa_spec *spec) {
  json_t *arr = json_array();
  for (size_t i = 0; i < spec->n_metrics; i++) {
    const struct ss_metric_spec *m = &spec->metrics[i];
    json_t *target = json_pack("{s:s}", "type", ss_target_type_name(m->target.type));
    if (m->target.type == SS_TARGET_UTILIZATION)
      json_object_set_new(target, "averageUtilization", json_integer(m->target.utilization));
    else
      json_object_set_new(target, m->target.type == SS_TARGET_VALUE ? "value" : "averageValue",
                          qty(m->target.value.milli));
    json_t *inner;
    if (m->source == SS_METRIC_RESOURCE || m->source == SS_METRIC_CONTAINER_RESOURCE) {
      inner = json_pack("{s:s, s:o}", "name", m->name ? m->name : "", "target", target);
      if (m->container)
        json_object_set_new(inner, "container", json_string(m->container));
    } else {
      inner = json_pack("{s:{s:s}, s:o}", "metric", "name", m->name ? m->name : "", "target",
                        target);
      if (m->selector)
        json_object_set_new(json_object_get(inner, "metric"), "selector",
                            json_deep_copy(m->selector));
      if (m->source == SS_METRIC_OBJECT)
        json_object_set_new(inner, "describedObject",
                            json_pack("{s:s?, s:s?, s:s?}", "kind", m->object_kind, "name",
                                      m->object_name, "apiVersion", m->object_api_version));
    }
    json_array_append_new(arr, json_pack("{s:s, s:o}", "type", ss_metric_source_name(m->source),
                                         source_field(m->source), inner));
  }
  return arr;
}

/* Creates or updates the object for t: spec from the SeldonDeployment,
 * status from the last decision. */
static void store_object(struct ss_autoscaler *a, struct target *t, const json_t *owner,
                         json_t *spec, int32_t status_replicas) {
  struct ss_kind_ref k = t->keda ? (struct ss_kind_ref){SS_AUTOSCALE_SO_GROUP, SS_AUTOSCALE_SO_PLURAL}
                                 : (struct ss_kind_ref){SS_AUTOSCALE_HPA_GROUP, SS_AUTOSCALE_HPA_PLURAL};
  json_t *md = json_object_get(owner, "metadata");
  json_t *obj = json_pack(
      "{s:s, s:s, s:{s:s, s:s, s:{s:s}, s:[{s:s, s:s, s:O?, s:O?, s:b, s:b}]}, s:O}", "apiVersion",
      t->keda ? "keda.sh/v1alpha1" : "autoscaling/v2", "kind",
      t->keda ? "ScaledObject" : "HorizontalPodAutoscaler", "metadata", "name", t->name,
      "namespace", t->ns, "labels", "seldon-deployment-id", t->dep, "ownerReferences",
      "apiVersion", SS_SDEP_GROUP "/v1", "kind", "SeldonDeployment", "name",
      json_object_get(md, "name"), "uid", json_object_get(md, "uid"), "controller", 1,
      "blockOwnerDeletion", 1, "spec", spec);
  json_t *stored = NULL;
  if (!obj)
    return;
  if (ss_store_get(a->cfg.store, k, t->ns, t->name, &stored, NULL) == SS_ENOTFOUND)
    ss_store_create(a->cfg.store, k, obj, NULL, NULL);
  else if (stored && !json_equal(json_object_get(stored, "spec"), spec))
    ss_store_update(a->cfg.store, k, obj, NULL, NULL);
  json_decref(stored);
  json_decref(obj);
  json_t *st = json_pack("{s:i, s:i, s:O, s:o}", "currentReplicas", status_replicas,
                         "desiredReplicas", t->current, t->keda ? "triggers" : "currentMetrics",
                         t->metric_status ? t->metric_status : json_null(), "conditions",
                         conds_json(t));
  if (t->last_scale[0])
    json_object_set_new(st, "lastScaleTime", json_string(t->last_scale));
  if (t->keda) {
    json_object_set_new(st, "scaleTargetKind", json_string("apps/v1.Deployment"));
    json_object_set_new(st, "scaleTargetName", json_string(t->name));
    if (t->last_active[0])
      json_object_set_new(st, "lastActiveTime", json_string(t->last_active));
  }
  ss_store_update_status(a->cfg.store, k, t->ns, t->name, st, NULL, NULL, NULL);
  json_decref(st);
}

static void event(struct ss_autoscaler *a, const json_t *owner, bool warning, const char *reason,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void event(struct ss_autoscaler *a, const json_t *owner, bool warning, const char *reason,
                  const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  ss_store_event(a->cfg.store, owner, warning ? "Warning" : "Normal", reason, msg, NULL);
  json_t *md = json_object_get(owner, "metadata");
  const char *ns = json_string_value(json_object_get(md, "namespace"));
  const char *name = json_string_value(json_object_get(md, "name"));
  fprintf(stderr, "event=autoscale sdep=%s/%s reason=%s message=\"%s\"\n", ns ? ns : "",
          name ? name : "", reason, msg);
}

/* ---- one target ---- */

struct ctx {
  const json_t *obj;      /* the SeldonDeployment */
  const struct ss_sdep *s;
  const struct ss_predictor *p;
  const struct ss_component_spec *cs;
  const struct ss_container *k;
  json_t *spec_json; /* the hpaSpec / kedaSpec as written (with defaults) */
  json_t *scale_obj; /* the target Deployment as read this sync (its /scale) */
};

/* The HPA KEDA creates for a ScaledObject (kedacore/keda
 * controllers/keda/hpa.go): keda-hpa-<name>, owned by the ScaledObject,
 * aimed at the same Deployment, its minimum at least 1 (KEDA itself takes a
 * target to and from zero), one External metric per trigger (s<i>-<scaler>,
 * AverageValue of the threshold) or the trigger's Resource metric, and the
 * ScaledObject's advanced HPA behavior. Its status mirrors the decision, so
 * `kubectl get hpa` shows what it shows on a cluster. */
static void store_keda_hpa(struct ss_autoscaler *a, const struct target *t, const struct ctx *c,
                           int32_t status_replicas) {
  const struct ss_keda_spec *ks = c->cs->keda;
  struct ss_kind_ref so_k = {SS_AUTOSCALE_SO_GROUP, SS_AUTOSCALE_SO_PLURAL};
  struct ss_kind_ref hpa_k = {SS_AUTOSCALE_HPA_GROUP, SS_AUTOSCALE_HPA_PLURAL};
  json_t *so = NULL;
  if (ss_store_get(a->cfg.store, so_k, t->ns, t->name, &so, NULL) != SS_EOK)
    return;
  json_t *metrics = json_array();
  for (size_t i = 0; i < ks->n_triggers; i++) {
    const struct ss_trigger *tr = &ks->triggers[i];
    if (tr->type == SS_TRIGGER_PROMETHEUS) {
      char name[SS_KEDA_METRIC_NAME_MAX], thr[64];
      snprintf(name, sizeof name, "s%zu-prometheus", i);
      snprintf(thr, sizeof thr, "%g", tr->threshold);
      json_array_append_new(
          metrics, json_pack("{s:s, s:{s:{s:s, s:{s:{s:s}}}, s:{s:s, s:s}}}", "type", "External",
                             "external", "metric", "name", name, "selector", "matchLabels",
                             "scaledobject.keda.sh/name", t->name, "target", "type",
                             "AverageValue", "averageValue", thr));
    } else {
      json_t *target = tr->metric_type == SS_TARGET_UTILIZATION
                           ? json_pack("{s:s, s:I}", "type", "Utilization", "averageUtilization",
                                       (json_int_t)(tr->value.milli / 1000))
                           : json_pack("{s:s, s:o}", "type", "AverageValue", "averageValue",
                                       qty(tr->value.milli));
      json_array_append_new(metrics, json_pack("{s:s, s:{s:s, s:o}}", "type", "Resource",
                                               "resource", "name",
                                               tr->type == SS_TRIGGER_CPU ? "cpu" : "memory",
                                               "target", target));
    }
  }
  char name[300];
  snprintf(name, sizeof name, "keda-hpa-%s", t->name);
  json_t *spec = json_pack("{s:{s:s, s:s, s:s}, s:i, s:i, s:o}", "scaleTargetRef", "apiVersion",
                           "apps/v1", "kind", "Deployment", "name", t->name, "minReplicas",
                           ks->min_replicas > 0 ? ks->min_replicas : 1, "maxReplicas",
                           ks->max_replicas, "metrics", metrics);
  const json_t *beh = json_object_get(json_object_get(json_object_get(c->spec_json, "advanced"),
                                                      "horizontalPodAutoscalerConfig"),
                                      "behavior");
  if (spec && beh)
    json_object_set(spec, "behavior", (json_t *)beh);
  const json_t *smd = json_object_get(so, "metadata");
  json_t *obj = spec ? json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}, s:[{s:s, s:s, s:O?, s:O?, "
                                 "s:b, s:b}]}, s:O}",
                                 "apiVersion", "autoscaling/v2", "kind", "HorizontalPodAutoscaler",
                                 "metadata", "name", name, "namespace", t->ns, "labels",
                                 "scaledobject.keda.sh/name", t->name, "ownerReferences",
                                 "apiVersion", "keda.sh/v1alpha1", "kind", "ScaledObject", "name",
                                 json_object_get(smd, "name"), "uid", json_object_get(smd, "uid"),
                                 "controller", 1, "blockOwnerDeletion", 1, "spec", spec)
                      : NULL;
  json_t *stored = NULL;
  if (obj && ss_store_get(a->cfg.store, hpa_k, t->ns, name, &stored, NULL) == SS_ENOTFOUND)
    ss_store_create(a->cfg.store, hpa_k, obj, NULL, NULL);
  else if (obj && stored && !json_equal(json_object_get(stored, "spec"), spec))
    ss_store_update(a->cfg.store, hpa_k, obj, NULL, NULL);
  json_t *st = json_pack("{s:i, s:i}", "currentReplicas", status_replicas, "desiredReplicas",
                         t->current);
  if (obj && st)
    ss_store_update_status(a->cfg.store, hpa_k, t->ns, name, st, NULL, NULL, NULL);
  json_decref(st);
  json_decref(stored);
  json_decref(obj);
  json_decref(spec);
  json_decref(so);
}

static int64_t sync_ms(struct ss_autoscaler *a, const struct ctx *c, bool keda) {
  const char *ann = json_string_value(json_object_get(c->s->annotations, SS_AUTOSCALE_ANN_SYNC));
  long v = ann ? strtol(ann, NULL, 10) : 0;
  if (v > 0)
    return v;
  if (a->cfg.sync_ms > 0)
    return a->cfg.sync_ms;
  return keda ? (int64_t)c->cs->keda->polling_interval * 1000 : SS_AUTOSCALE_DEFAULT_HPA_SYNC_MS;
}

/* The Deployment an autoscaler aims at (its scaleTargetRef). */
#define DEPLOYMENTS ((struct ss_kind_ref){"apps", "deployments"})

/* Writes n into the target's scale (the Deployment's spec.replicas), only
 * if nobody wrote it since it was read (resourceVersion): the autoscaler
 * writes the scale and nothing else, as on a cluster. False when it did
 * not (a conflict: the next sync works from the new value). */
static bool write_scale(struct ss_autoscaler *a, const struct ctx *c, int32_t n) {
  json_t *d = c->scale_obj ? json_deep_copy(c->scale_obj) : NULL;
  if (!d)
    return false;
  json_object_set_new(json_object_get(d, "spec"), "replicas", json_integer(n));
  json_object_del(d, "status");
  enum ss_err rc = ss_store_update(a->cfg.store, DEPLOYMENTS, d, NULL, NULL);
  json_decref(d);
  return rc == SS_EOK;
}

static bool eval_hpa(struct ss_autoscaler *a, struct target *t, const struct ctx *c,
                     const struct pod_row *rows, size_t n_rows, int64_t now_ms) {
  const struct ss_hpa_spec *spec = c->cs->hpa;
  const struct ss_hpa_settings set = SS_HPA_SETTINGS_DEFAULT;
  struct ss_hpa_pod pods[MAX_PODS];
  static __thread struct ss_hpa_sample samples[SS_HPA_MAX_METRICS][MAX_PODS];
  struct ss_hpa_metric_input in_m[SS_HPA_MAX_METRICS];
  size_t nm = spec->n_metrics < SS_HPA_MAX_METRICS ? spec->n_metrics : SS_HPA_MAX_METRICS;
  for (size_t i = 0; i < n_rows; i++)
    pods[i] = (struct ss_hpa_pod){.ready = rows[i].ready,
                                  .start_ms = rows[i].start_ms,
                                  .ready_change_ms = rows[i].ready_ms ? rows[i].ready_ms
                                                                      : rows[i].start_ms};
  for (size_t m = 0; m < nm; m++) {
    const struct ss_metric_spec *ms = &spec->metrics[m];
    memset(&in_m[m], 0, sizeof in_m[m]);
    bool res = ms->source == SS_METRIC_RESOURCE || ms->source == SS_METRIC_CONTAINER_RESOURCE;
    bool cpu = ms->name && strcmp(ms->name, "cpu") == 0;
    bool mem = ms->name && strcmp(ms->name, "memory") == 0;
    if (!res || (!cpu && !mem)) {
      in_m[m].failed = true;
      in_m[m].error = "servescale has no source for this metric (only cpu and memory)";
      continue;
    }
    int64_t req = cpu ? (c->k->has_cpu_request ? c->k->cpu_request.milli : 0)
                      : (c->k->has_memory_request ? c->k->memory_request.milli : 0);
    for (size_t i = 0; i < n_rows; i++)
      samples[m][i] = pod_sample(&rows[i], cpu, req);
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
    if (r->scale && !write_scale(a, c, r->desired))
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

static bool eval_keda(struct ss_autoscaler *a, struct target *t, const struct ctx *c,
                      const struct pod_row *rows, size_t n_rows, int64_t now_ms, bool due,
                      bool activate) {
  const struct ss_keda_spec *spec = c->cs->keda;
  const struct ss_hpa_settings set = SS_HPA_SETTINGS_DEFAULT;
  size_t nt = spec->n_triggers < SS_KEDA_MAX_TRIGGERS ? spec->n_triggers : SS_KEDA_MAX_TRIGGERS;
  struct ss_hpa_pod pods[MAX_PODS];
  static __thread struct ss_hpa_sample samples[SS_KEDA_MAX_TRIGGERS][MAX_PODS];
  struct ss_keda_trigger_input tin[SS_KEDA_MAX_TRIGGERS];
  char why[SS_KEDA_MAX_TRIGGERS][SS_KEDA_MSG_MAX];
  for (size_t i = 0; i < n_rows; i++)
    pods[i] = (struct ss_hpa_pod){.ready = rows[i].ready,
                                  .start_ms = rows[i].start_ms,
                                  .ready_change_ms = rows[i].ready_ms ? rows[i].ready_ms
                                                                      : rows[i].start_ms};
  for (size_t i = 0; due && i < nt; i++) {
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
      bool cpu = tr->type == SS_TRIGGER_CPU;
      int64_t req = cpu ? (c->k->has_cpu_request ? c->k->cpu_request.milli : 0)
                        : (c->k->has_memory_request ? c->k->memory_request.milli : 0);
      for (size_t p = 0; p < n_rows; p++)
        samples[i][p] = pod_sample(&rows[p], cpu, req);
      tin[i].samples = samples[i];
    }
  }
  struct ss_keda_input in = {
      .spec_replicas = t->current,
      .status_replicas = (int32_t)n_rows,
      .paused = json_string_value(json_object_get(c->s->annotations, SS_KEDA_ANN_PAUSED)),
      .paused_replicas =
          json_string_value(json_object_get(c->s->annotations, SS_KEDA_ANN_PAUSED_REPLICAS)),
      .paused_scale_in =
          json_string_value(json_object_get(c->s->annotations, SS_KEDA_ANN_PAUSED_SCALE_IN)),
      .paused_scale_out =
          json_string_value(json_object_get(c->s->annotations, SS_KEDA_ANN_PAUSED_SCALE_OUT)),
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
    if (r->scale && !write_scale(a, c, r->desired))
      r->scale = false;
    ss_keda_commit(&t->ks, r, r->scale);
    keda_cond(t, "Ready", &r->ready, now_ms);
    keda_cond(t, "Active", &r->active_cond, now_ms);
    keda_cond(t, "Fallback", &r->fallback, now_ms);
    keda_cond(t, "Paused", &r->paused_cond, now_ms);
    if (t->ks.has_last_active)
      rfc3339(t->ks.last_active_ms, t->last_active, sizeof t->last_active);
    if (r->polled) {
      json_t *arr = json_array();
      for (size_t i = 0; i < r->n_triggers; i++) {
        const struct ss_keda_trigger_status *ts = &r->triggers[i];
        json_t *o = json_pack("{s:s, s:b, s:b, s:b, s:i}", "metricName", ts->metric_name,
                              "failed", ts->failed, "active", ts->active, "fallback", ts->fallback,
                              "failures", (int)ts->failures);
        if (!ts->resource)
          json_object_set_new(o, "value", json_real(isfinite(ts->value) ? ts->value : 0));
        else if (ts->hpa.has_utilization)
          json_object_set_new(o, "averageUtilization", json_integer(ts->hpa.average_utilization));
        if (ts->failed && tin[i].error)
          json_object_set_new(o, "error", json_string(tin[i].error));
        json_array_append_new(arr, o);
      }
      json_decref(t->metric_status);
      t->metric_status = arr;
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

static struct target *find_target(struct ss_autoscaler *a, const char *key) {
  for (size_t i = 0; i < a->n; i++)
    if (strcmp(a->v[i]->key, key) == 0)
      return a->v[i];
  return NULL;
}

static bool visit(struct ss_autoscaler *a, struct ctx *c, const char *display, int64_t now_ms,
                  int64_t *next_ms) {
  const char *ns = json_string_value(json_object_get(json_object_get(c->obj, "metadata"), "namespace"));
  if (!ns)
    ns = "default";
  char key[KEY_MAX];
  snprintf(key, sizeof key, "%s.%s", ns, display);
  bool keda = c->cs->keda != NULL;
  char *sig = json_dumps(c->spec_json, JSON_COMPACT | JSON_SORT_KEYS);
  pthread_mutex_lock(&a->mu);
  struct target *t = find_target(a, key);
  if (!t) {
    struct target **v = realloc(a->v, (a->n + 1) * sizeof *v);
    if (v) {
      a->v = v;
      if ((t = calloc(1, sizeof *t)))
        a->v[a->n++] = t;
    }
  }
  bool activate = t && t->activate;
  if (t)
    t->activate = false;
  pthread_mutex_unlock(&a->mu);
  if (!t) {
    free(sig);
    return false;
  }
  t->seen = true;
  int64_t period = sync_ms(a, c, keda);
  bool fresh = !t->sig || keda != t->keda || (sig && strcmp(sig, t->sig) != 0);
  if (fresh) {
    target_reset(t);
    free(t->sig);
    t->sig = sig;
    sig = NULL;
    t->keda = keda;
    snprintf(t->key, sizeof t->key, "%s", key);
    snprintf(t->ns, sizeof t->ns, "%s", ns);
    snprintf(t->dep, sizeof t->dep, "%s", c->s->name ? c->s->name : "");
    snprintf(t->name, sizeof t->name, "%s", display);
    memset(t->conds, 0, sizeof t->conds);
    if (keda)
      t->ks_init = ss_keda_state_init(&t->ks, c->cs->keda, now_ms) == SS_EOK;
    t->next_ms = now_ms;
  }
  free(sig);
  bool due = now_ms >= t->next_ms;
  bool changed = false;
  bool wake = activate && keda &&
              t->current <= (c->cs->keda->idle_replicas > 0 ? c->cs->keda->idle_replicas : 0);
  if (due || wake) {
    /* the target's scale, as the HPA controller reads it each sync: what
     * the SeldonDeployment controller created, a manual `kubectl scale`,
     * or this loop's last decision; absent until the controller created it */
    json_decref(c->scale_obj);
    c->scale_obj = NULL;
    if (ss_store_get(a->cfg.store, DEPLOYMENTS, ns, display, &c->scale_obj, NULL) != SS_EOK) {
      t->next_ms = now_ms + SS_AUTOSCALE_RETRY_MS;
      if (next_ms && t->next_ms < *next_ms)
        *next_ms = t->next_ms;
      return false;
    }
    json_t *sr = json_object_get(json_object_get(c->scale_obj, "spec"), "replicas");
    t->current = json_is_integer(sr) ? (int32_t)json_integer_value(sr) : 1;
    struct pod_row *rows = calloc(MAX_PODS, sizeof *rows);
    size_t n_rows = rows ? scan_pods(a, ns, display, rows) : 0;
    if (rows) {
      if (keda && t->ks_init)
        changed = eval_keda(a, t, c, rows, n_rows, now_ms, due, activate);
      else if (!keda)
        changed = eval_hpa(a, t, c, rows, n_rows, now_ms);
      json_t *spec = json_deep_copy(c->spec_json);
      if (!keda) {
        json_object_del(spec, "targetCPUUtilizationPercentage");
        json_object_set_new(spec, "metrics", hpa_spec_metrics(c->cs->hpa));
        json_object_set_new(spec, "maxReplicas", json_integer(c->cs->hpa->max_replicas));
        json_object_set_new(spec, "scaleTargetRef",
                            json_pack("{s:s, s:s, s:s}", "apiVersion", "apps/v1", "kind",
                                      "Deployment", "name", display));
        if (!json_object_get(spec, "minReplicas"))
          json_object_set_new(spec, "minReplicas", json_integer(c->cs->hpa->min_replicas));
      } else {
        json_object_set_new(spec, "scaleTargetRef", json_pack("{s:s}", "name", display));
      }
      store_object(a, t, c->obj, spec, (int32_t)n_rows);
      if (keda)
        store_keda_hpa(a, t, c, (int32_t)n_rows);
      json_decref(spec);
    }
    free(rows);
    if (due)
      t->next_ms = now_ms + period;
  }
  if (next_ms && t->next_ms < *next_ms)
    *next_ms = t->next_ms;
  return changed;
}

/* The hpaSpec (or the predictor's hpaSpecs entry) or kedaSpec of a
 * componentSpec, as stored. */
static json_t *spec_json_of(const json_t *obj, size_t pi, size_t ci,
                            const struct ss_component_spec *cs, const struct ss_predictor *p) {
  json_t *pj = json_array_get(json_object_get(json_object_get(obj, "spec"), "predictors"), pi);
  json_t *csj = json_array_get(json_object_get(pj, "componentSpecs"), ci);
  if (cs->keda)
    return json_object_get(csj, "kedaSpec");
  json_t *h = json_object_get(csj, "hpaSpec");
  if (h)
    return h;
  for (size_t i = 0; i < p->n_hpa_specs; i++)
    if (&p->hpa_specs[i] == cs->hpa)
      return json_array_get(json_object_get(pj, "hpaSpecs"), i);
  return NULL;
}

static void sweep_objects(struct ss_autoscaler *a, struct ss_kind_ref k, bool keda) {
  json_t *items = NULL;
  uint64_t rv;
  if (ss_store_list(a->cfg.store, k, NULL, &items, &rv, NULL))
    return;
  size_t i;
  json_t *it;
  json_array_foreach(items, i, it) {
    json_t *md = json_object_get(it, "metadata");
    const char *ns = json_string_value(json_object_get(md, "namespace"));
    const char *name = json_string_value(json_object_get(md, "name"));
    if (!ns || !name)
      continue;
    char key[KEY_MAX];
    snprintf(key, sizeof key, "%s.%s", ns, name);
    struct target *t = find_target(a, key);
    if (!keda && !t && strncmp(name, "keda-hpa-", 9) == 0) {
      /* the HPA a ScaledObject's target has: kept while that target is */
      snprintf(key, sizeof key, "%s.%s", ns, name + 9);
      const struct target *so = find_target(a, key);
      if (so && so->keda)
        continue;
    }
    if (!t || t->keda != keda)
      ss_store_delete(a->cfg.store, k, ns, name, NULL, NULL);
  }
  json_decref(items);
}

bool ss_autoscaler_tick(struct ss_autoscaler *a, int64_t now_ms, int64_t *next_ms) {
  json_t *items = NULL;
  uint64_t rv;
  bool changed = false;
  if (next_ms)
    *next_ms = INT64_MAX;
  struct ss_kind_ref sk = {SS_SDEP_GROUP, "seldondeployments"};
  if (ss_store_list(a->cfg.store, sk, NULL, &items, &rv, NULL))
    return false;
  for (size_t i = 0; i < a->n; i++)
    a->v[i]->seen = false;
  size_t i;
  json_t *obj;
  json_array_foreach(items, i, obj) {
    struct ss_resource res = {0};
    if (ss_resource_decode(obj, NULL, "", NULL, &res) == SS_EOK && !res.diags.errors &&
        res.kind == SS_KIND_SDEP) {
      const struct ss_sdep *s = &res.u.sdep;
      for (size_t pi = 0; pi < s->n_predictors; pi++) {
        const struct ss_predictor *p = &s->predictors[pi];
        for (size_t ci = 0; ci < p->n_components; ci++) {
          const struct ss_component_spec *cs = &p->components[ci];
          if (!cs->keda && !cs->hpa)
            continue;
          for (size_t k = 0; k < cs->n_containers; k++) {
            char display[160];
            if (cs->n_containers == 1)
              snprintf(display, sizeof display, "%s", cs->rs_name);
            else
              snprintf(display, sizeof display, "%s-%s", cs->rs_name,
                       cs->containers[k].name ? cs->containers[k].name : "");
            struct ctx c = {.obj = res.obj ? res.obj : obj,
                            .s = s,
                            .p = p,
                            .cs = cs,
                            .k = &cs->containers[k],
                            .spec_json = spec_json_of(res.obj ? res.obj : obj, pi, ci, cs, p)};
            if (visit(a, &c, display, now_ms, next_ms))
              changed = true;
            json_decref(c.scale_obj);
          }
        }
      }
    }
    ss_resource_free(&res);
  }
  json_decref(items);
  pthread_mutex_lock(&a->mu);
  for (size_t j = 0; j < a->n;) {
    if (a->v[j]->seen) {
      j++;
      continue;
    }
    target_free(a->v[j]);
    a->v[j] = a->v[--a->n];
  }
  pthread_mutex_unlock(&a->mu);
  sweep_objects(a, (struct ss_kind_ref){SS_AUTOSCALE_HPA_GROUP, SS_AUTOSCALE_HPA_PLURAL}, false);
  sweep_objects(a, (struct ss_kind_ref){SS_AUTOSCALE_SO_GROUP, SS_AUTOSCALE_SO_PLURAL}, true);
  return changed;
}
