/* build.c: one deployment's timeline from the metrics window and the
 * store: request rate and latency quantiles between consecutive samples of
 * the gateway's histogram, replicas from the reconciler's gauges, metrics
 * from the recorder's, events from the store. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timeline/timeline.h"

#define N_LE (SS_METRICS_N_SELDON_BUCKETS + 1) /* +Inf */
#define MAX_NAMES 64

/* The values of every series at one sample time, summed. */
struct column {
  int64_t t;
  double count, desired, ready;
  double le[N_LE];
  bool has_count, has_replicas;
};

struct metric_row {
  char autoscaler[300], metric[128];
  int64_t t[SS_TIMELINE_MAX_POINTS];
  double value[SS_TIMELINE_MAX_POINTS], target;
  size_t n;
  bool has_target;
};

struct acc {
  const char *ns, *name;
  int64_t since;
  const char *targets[MAX_NAMES]; /* the deployment and its Deployments */
  size_t n_targets;
  struct column cols[SS_TIMELINE_MAX_POINTS];
  size_t n_cols;
  struct metric_row metrics[SS_TIMELINE_MAX_METRICS];
  size_t n_metrics;
};

/* The column of time t, made (in time order) when new; NULL when full. */
static struct column *column(struct acc *a, int64_t t) {
  size_t lo = 0, hi = a->n_cols;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (a->cols[mid].t < t)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo < a->n_cols && a->cols[lo].t == t)
    return &a->cols[lo];
  if (a->n_cols == SS_TIMELINE_MAX_POINTS)
    return NULL;
  memmove(&a->cols[lo + 1], &a->cols[lo], (a->n_cols - lo) * sizeof *a->cols);
  a->n_cols++;
  a->cols[lo] = (struct column){.t = t};
  return &a->cols[lo];
}

static int le_index(const char *le) {
  static const double bounds[] = SS_METRICS_SELDON_BUCKETS;
  if (strcmp(le, "+Inf") == 0)
    return N_LE - 1;
  double v = strtod(le, NULL);
  for (int i = 0; i < N_LE - 1; i++)
    if (fabs(bounds[i] - v) < 1e-9)
      return i;
  return -1;
}

static void on_requests(void *ctx, const struct ss_timeseries *ts) {
  struct acc *a = ctx;
  if (strcmp(ss_timeseries_label(ts, "namespace"), a->ns) || strcmp(ss_timeseries_label(ts, "deployment_name"), a->name) ||
      strcmp(ss_timeseries_label(ts, "service"), "predictions"))
    return;
  bool bucket = strstr(ts->name, "_bucket") != NULL;
  int li = bucket ? le_index(ss_timeseries_label(ts, "le")) : -1;
  if (bucket && li < 0)
    return;
  for (size_t i = 0; i < ts->n_samples; i++) {
    struct column *c = column(a, ts->samples[i].t_ms);
    if (!c)
      return;
    if (bucket) {
      c->le[li] += ts->samples[i].v;
    } else {
      c->count += ts->samples[i].v;
      c->has_count = true;
    }
  }
}

static void on_replicas(void *ctx, const struct ss_timeseries *ts) {
  struct acc *a = ctx;
  if (strcmp(ss_timeseries_label(ts, "namespace"), a->ns) || strcmp(ss_timeseries_label(ts, "deployment"), a->name))
    return;
  bool desired = strstr(ts->name, "desired") != NULL;
  for (size_t i = 0; i < ts->n_samples; i++) {
    struct column *c = column(a, ts->samples[i].t_ms);
    if (!c)
      return;
    *(desired ? &c->desired : &c->ready) += ts->samples[i].v;
    c->has_replicas = true;
  }
}

static bool is_target(const struct acc *a, const char *name) {
  for (size_t i = 0; i < a->n_targets; i++)
    if (strcmp(a->targets[i], name) == 0)
      return true;
  return false;
}

static struct metric_row *metric_row(struct acc *a, const char *who, const char *metric) {
  for (size_t i = 0; i < a->n_metrics; i++)
    if (strcmp(a->metrics[i].autoscaler, who) == 0 && strcmp(a->metrics[i].metric, metric) == 0)
      return &a->metrics[i];
  if (a->n_metrics == SS_TIMELINE_MAX_METRICS)
    return NULL;
  struct metric_row *r = &a->metrics[a->n_metrics++];
  memset(r, 0, sizeof *r);
  snprintf(r->autoscaler, sizeof r->autoscaler, "%s", who);
  snprintf(r->metric, sizeof r->metric, "%s", metric);
  return r;
}

static void on_metric(void *ctx, const struct ss_timeseries *ts) {
  struct acc *a = ctx;
  const char *who = ss_timeseries_label(ts, "autoscaler");
  /* the HPA KEDA makes for a ScaledObject repeats the ScaledObject's metric */
  if (strcmp(ss_timeseries_label(ts, "namespace"), a->ns) || !is_target(a, ss_timeseries_label(ts, "target")) ||
      strncmp(who, "HorizontalPodAutoscaler/keda-hpa-", 33) == 0)
    return;
  struct metric_row *r = metric_row(a, who, ss_timeseries_label(ts, "metric"));
  if (!r)
    return;
  bool target = strcmp(ts->name, SS_TIMELINE_TARGET_GAUGE) == 0;
  for (size_t i = 0; i < ts->n_samples && !target; i++)
    if (ts->samples[i].t_ms >= a->since && r->n < SS_TIMELINE_MAX_POINTS) {
      r->t[r->n] = ts->samples[i].t_ms;
      r->value[r->n++] = ts->samples[i].v;
    }
  if (target && ts->n_samples) {
    r->target = ts->samples[ts->n_samples - 1].v;
    r->has_target = true;
  }
}

/* Prometheus' histogram_quantile over the bucket increases d (cumulative),
 * linear within a bucket; seconds. */
static double quantile(const double *d, double q) {
  static const double bounds[] = SS_METRICS_SELDON_BUCKETS;
  double total = d[N_LE - 1];
  if (total <= 0)
    return NAN;
  double rank = q * total;
  for (int i = 0; i < N_LE; i++)
    if (d[i] >= rank) {
      if (i == N_LE - 1)
        return bounds[N_LE - 2];
      double lo = i ? bounds[i - 1] : 0, below = i ? d[i - 1] : 0;
      return d[i] > below ? lo + (bounds[i] - lo) * (rank - below) / (d[i] - below) : bounds[i];
    }
  return bounds[N_LE - 2];
}

static json_t *num_or_null(double v) {
  return isfinite(v) ? json_real(round(v * 1000) / 1000) : json_null();
}

/* series: t, requestRate, latencyP50, latencyP99 (ms), desired, ready. */
static json_t *series(const struct acc *a) {
  json_t *t = json_array(), *rate = json_array(), *p50 = json_array(), *p99 = json_array(),
         *des = json_array(), *rdy = json_array();
  for (size_t i = 1; i < a->n_cols; i++) {
    const struct column *c = &a->cols[i], *b = &a->cols[i - 1];
    if (c->t < a->since)
      continue;
    double dt = (double)(c->t - b->t) / 1000.0, d[N_LE];
    for (int k = 0; k < N_LE; k++)
      d[k] = c->le[k] - b->le[k] > 0 ? c->le[k] - b->le[k] : 0;
    double n = c->count - b->count;
    json_array_append_new(t, json_integer(c->t));
    json_array_append_new(rate, num_or_null(dt > 0 && n >= 0 ? n / dt : NAN));
    json_array_append_new(p50, num_or_null(quantile(d, 0.5) * 1000));
    json_array_append_new(p99, num_or_null(quantile(d, 0.99) * 1000));
    json_array_append_new(des, c->has_replicas ? json_integer((json_int_t)c->desired) : json_null());
    json_array_append_new(rdy, c->has_replicas ? json_integer((json_int_t)c->ready) : json_null());
  }
  return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "t", t, "requestRate", rate, "latencyP50",
                   p50, "latencyP99", p99, "desiredReplicas", des, "readyReplicas", rdy);
}

static json_t *metrics_json(const struct acc *a) {
  json_t *out = json_array();
  for (size_t i = 0; i < a->n_metrics; i++) {
    const struct metric_row *r = &a->metrics[i];
    json_t *t = json_array(), *v = json_array();
    for (size_t k = 0; k < r->n; k++) {
      json_array_append_new(t, json_integer(r->t[k]));
      json_array_append_new(v, num_or_null(r->value[k]));
    }
    json_array_append_new(out, json_pack("{s:s, s:s, s:o, s:o, s:o}", "autoscaler", r->autoscaler,
                                         "metric", r->metric, "target",
                                         r->has_target ? json_real(r->target) : json_null(), "t",
                                         t, "value", v));
  }
  return out;
}

static int64_t parse_time_ms(const char *s) {
  struct tm tm = {0};
  if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
    return -1;
  return (int64_t)timegm(&tm) * 1000;
}

static bool owned_by(const json_t *o, const char *uid) {
  size_t i;
  const json_t *r;
  json_array_foreach(json_object_get(json_object_get(o, "metadata"), "ownerReferences"), i, r) {
    const char *u = json_string_value(json_object_get(r, "uid"));
    if (u && uid && strcmp(u, uid) == 0)
      return true;
  }
  return false;
}

/* The names the deployment's events are about: itself, its Deployments,
 * the autoscalers aimed at either (and the HPAs KEDA makes). */
struct names {
  char v[MAX_NAMES][256];
  size_t n;
};

static void add_name(struct names *n, const char *prefix, const char *s) {
  if (s && n->n < MAX_NAMES)
    snprintf(n->v[n->n++], sizeof n->v[0], "%s%s", prefix, s);
}

static void list_names(struct ss_store *st, const char *group, const char *plural,
                       const char *ns, const char *uid, struct acc *a, struct names *n) {
  json_t *items = NULL;
  uint64_t rv;
  struct ss_error err = {0};
  if (ss_store_list(st, (struct ss_kind_ref){group, plural}, ns, &items, &rv, &err))
    return;
  size_t i;
  const json_t *o;
  json_array_foreach(items, i, o) {
    const char *name = json_string_value(json_object_get(json_object_get(o, "metadata"), "name"));
    const char *target = json_string_value(
        json_object_get(json_object_get(json_object_get(o, "spec"), "scaleTargetRef"), "name"));
    if (plural[0] == 'd' ? owned_by(o, uid) : target && is_target(a, target)) {
      add_name(n, "", name);
      if (plural[0] == 's')
        add_name(n, "keda-hpa-", name);
      if (plural[0] == 'd' && a->n_targets < MAX_NAMES && n->n)
        a->targets[a->n_targets++] = n->v[n->n - 1];
    }
  }
  json_decref(items);
}

static bool named(const struct names *n, const char *s) {
  for (size_t i = 0; s && i < n->n; i++)
    if (strcmp(n->v[i], s) == 0)
      return true;
  return false;
}

static json_t *events(struct ss_store *st, const char *ns, const struct names *n, int64_t since) {
  json_t *items = NULL, *out = json_array();
  uint64_t rv;
  struct ss_error err = {0};
  if (ss_store_list(st, (struct ss_kind_ref){"", "events"}, ns, &items, &rv, &err))
    return out;
  size_t i;
  const json_t *e;
  json_array_foreach(items, i, e) {
    const json_t *io = json_object_get(e, "involvedObject");
    const char *ts = json_string_value(json_object_get(e, "lastTimestamp"));
    int64_t t = parse_time_ms(ts ? ts : json_string_value(json_object_get(e, "eventTime")));
    if (t < since || !named(n, json_string_value(json_object_get(io, "name"))))
      continue;
    json_array_append_new(out, json_pack("{s:I, s:s?, s:s?, s:s?, s:s?, s:s?, s:O?}", "t",
                                         (json_int_t)t, "type",
                                         json_string_value(json_object_get(e, "type")),
                                         "reason", json_string_value(json_object_get(e, "reason")),
                                         "message", json_string_value(json_object_get(e, "message")),
                                         "kind", json_string_value(json_object_get(io, "kind")),
                                         "name", json_string_value(json_object_get(io, "name")),
                                         "count", json_object_get(e, "count")));
  }
  json_decref(items);
  /* the newest SS_TIMELINE_MAX_EVENTS, oldest first (the store lists by name) */
  json_t *sorted = json_array();
  size_t n_out = json_array_size(out);
  int64_t *ts = calloc(n_out ? n_out : 1, sizeof *ts);
  size_t *idx = calloc(n_out ? n_out : 1, sizeof *idx);
  for (size_t k = 0; ts && idx && k < n_out; k++) {
    ts[k] = json_integer_value(json_object_get(json_array_get(out, k), "t"));
    size_t j = k;
    while (j > 0 && ts[idx[j - 1]] > ts[k]) {
      idx[j] = idx[j - 1];
      j--;
    }
    idx[j] = k;
  }
  for (size_t k = n_out > SS_TIMELINE_MAX_EVENTS ? n_out - SS_TIMELINE_MAX_EVENTS : 0;
       ts && idx && k < n_out; k++)
    json_array_append(sorted, json_array_get(out, idx[k]));
  free(ts);
  free(idx);
  json_decref(out);
  return sorted;
}

json_t *ss_timeline_build(struct ss_metrics *m, struct ss_store *st, const char *ns,
                          const char *name, int64_t since_ms, int64_t now_ms,
                          struct ss_error *err) {
  json_t *sdep = NULL;
  if (ss_store_get(st, (struct ss_kind_ref){"machinelearning.seldon.io", "seldondeployments"}, ns,
                   name, &sdep, err)) {
    ss_error_set(err, SS_ENOTFOUND, 0, 0, "seldondeployment %s/%s not found", ns, name);
    return NULL;
  }
  const char *uid = json_string_value(json_object_get(json_object_get(sdep, "metadata"), "uid"));
  struct acc *a = calloc(1, sizeof *a);
  struct names *n = calloc(1, sizeof *n);
  json_t *out = NULL;
  if (!a || !n)
    goto out;
  *a = (struct acc){.ns = ns, .name = name, .since = now_ms - since_ms};
  add_name(n, "", name);
  a->targets[a->n_targets++] = n->v[0];
  list_names(st, "apps", "deployments", ns, uid, a, n);
  list_names(st, "autoscaling", "horizontalpodautoscalers", ns, uid, a, n);
  list_names(st, "keda.sh", "scaledobjects", ns, uid, a, n);
  ss_metrics_each_series(m, "seldon_api_executor_server_requests_seconds_count", on_requests, a);
  ss_metrics_each_series(m, "seldon_api_executor_server_requests_seconds_bucket", on_requests, a);
  ss_metrics_each_series(m, "servescale_replica_set_desired_replicas", on_replicas, a);
  ss_metrics_each_series(m, "servescale_replica_set_ready_replicas", on_replicas, a);
  ss_metrics_each_series(m, SS_TIMELINE_VALUE_GAUGE, on_metric, a);
  ss_metrics_each_series(m, SS_TIMELINE_TARGET_GAUGE, on_metric, a);
  out = json_pack("{s:s, s:s, s:{s:s, s:s}, s:I, s:I, s:o, s:o, s:o}", "apiVersion",
                  "servescale.io/v1", "kind", "Timeline", "metadata", "namespace", ns, "name",
                  name, "since", (json_int_t)a->since, "now", (json_int_t)now_ms, "series",
                  series(a), "metrics", metrics_json(a), "events", events(st, ns, n, a->since));
out:
  free(a);
  free(n);
  json_decref(sdep);
  if (!out && err->code == SS_EOK)
    ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
  return out;
}
