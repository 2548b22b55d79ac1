/* hpa.c: the HorizontalPodAutoscaler's replica count for one sync, computed
 * as the Kubernetes controller does (autoscaling/v2, with and without
 * behavior), from the inputs alone; and the history it keeps between syncs.
 * Fetching metrics, the sync loop and applying the size are the caller's
 * (see hpa.h). Sources: kubernetes/kubernetes pkg/controller/podautoscaler
 * (horizontal.go, replica_calculator.go, metrics/utilization.go). */
#include "autoscale/hpa.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sums over replicas and the percent of request are computed exactly, so
 * they never overflow; results are clamped where they are narrowed. */
__extension__ typedef __int128 i128;

/* ---- small helpers ---- */

static void cond_set(struct ss_hpa_condition *c, enum ss_hpa_cond_status st, const char *reason,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void cond_set(struct ss_hpa_condition *c, enum ss_hpa_cond_status st, const char *reason,
                     const char *fmt, ...) {
  va_list ap;
  c->status = st;
  c->reason = reason;
  va_start(ap, fmt);
  vsnprintf(c->message, sizeof c->message, fmt, ap);
  va_end(ap);
}

struct tolerances {
  double up, down;
};

/* Inclusive on both ends: a ratio of exactly 1 + tolerance does nothing
 * (replica_calculator.go, Tolerances.isWithin). */
static bool within(struct tolerances t, double ratio) {
  return 1.0 - t.down <= ratio && ratio <= 1.0 + t.up;
}

/* int32(math.Ceil(v)), saturating at the int32 bounds as Kubernetes caps
 * replica counts (replica_calculator.go, getUsageRatioReplicaCount and
 * GetExternalPerPodMetricReplicas: MaxInt32); NaN reads as the maximum. */
static int32_t ceil_i32(double v) {
  double c = ceil(v);
  if (!(c < (double)INT32_MAX)) /* also catches NaN */
    return INT32_MAX;
  if (c < (double)INT32_MIN)
    return INT32_MIN;
  return (int32_t)c;
}

static int32_t trunc_i32(double v) {
  if (!(v < (double)INT32_MAX))
    return INT32_MAX;
  if (v < (double)INT32_MIN)
    return INT32_MIN;
  return (int32_t)v;
}

static int32_t sat_i32(int64_t v) {
  return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int32_t)v;
}

static int64_t sat_i64(i128 v) {
  return v > INT64_MAX ? INT64_MAX : v < INT64_MIN ? INT64_MIN : (int64_t)v;
}

/* int64(math.Ceil(v)) for a finite or infinite v, clamped before it is
 * converted (GetExternalPerPodMetricReplicas clamps usage at MaxInt64). */
static int64_t ceil_i64(double v) {
  double c = ceil(v);
  if (!(c < 9223372036854775808.0)) /* 2^63; also NaN */
    return INT64_MAX;
  if (c < -9223372036854775808.0)
    return INT64_MIN;
  return (int64_t)c;
}

static int32_t min_i32(int32_t a, int32_t b) { return a < b ? a : b; }
static int32_t max_i32(int32_t a, int32_t b) { return a > b ? a : b; }

/* ---- one metric ---- */

struct metric_ctx {
  const struct ss_hpa_settings *set;
  const struct ss_hpa_input *in;
  struct tolerances tol;
  char *err; /* SS_HPA_MSG_MAX */
};

static int fail(struct metric_ctx *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct metric_ctx *m, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(m->err, SS_HPA_MSG_MAX, fmt, ap);
  va_end(ap);
  return -1;
}

enum pod_class { POD_IGNORED, POD_UNREADY, POD_MISSING, POD_READY };

/* How the controller groups a replica for a per-replica metric. Readiness
 * only sets CPU samples aside (a starting process burns CPU); for other
 * metrics only replicas not yet running are unready. */
static enum pod_class classify(const struct metric_ctx *m, const struct ss_hpa_pod *p,
                               const struct ss_hpa_sample *s, bool cpu) {
  if (p->gone)
    return POD_IGNORED;
  if (p->pending)
    return POD_UNREADY;
  if (!s->present)
    return POD_MISSING;
  if (cpu) {
    bool unready;
    if (p->start_ms + m->set->cpu_init_period_ms > m->in->now_ms)
      /* Still initializing: use the sample only if the replica is ready and
       * a whole sample window has passed since it became ready. */
      unready = !p->ready || s->at_ms < p->ready_change_ms + s->window_ms;
    else
      /* Past initialization: set aside only a replica that has never been
       * ready (it turned unready within the initial readiness delay). */
      unready = !p->ready && p->start_ms + m->set->initial_readiness_delay_ms > p->ready_change_ms;
    if (unready)
      return POD_UNREADY;
  }
  return POD_READY;
}

/* A replica's name in messages: its own, or "replica <index>". */
static const char *pod_name(const struct ss_hpa_pod *p, size_t i, char *buf, size_t size) {
  if (p->name)
    return p->name;
  snprintf(buf, size, "replica %zu", i);
  return buf;
}

/* A replica's request of the metric's resource, as calculatePodRequests
 * (replica_calculator.go) computes it: the sum over its containers, or for
 * ContainerResource the named container's; a container without a request,
 * or no container of that name, is an error naming it. */
static int pod_request(struct metric_ctx *m, const struct ss_metric_spec *ms, size_t i,
                       const struct ss_hpa_sample *s, i128 *out) {
  const char *res = ms->name ? ms->name : "";
  const char *want = ms->source == SS_METRIC_CONTAINER_RESOURCE ? ms->container : NULL;
  char nb[32];
  const char *pod = pod_name(&m->in->pods[i], i, nb, sizeof nb);
  *out = 0;
  if (s->n_containers == 0 || !s->containers) {
    /* one unnamed container, as callers without container detail give it */
    if (s->request <= 0)
      return fail(m, "missing request for %s in Pod %s", res, pod);
    *out = s->request;
    return 0;
  }
  for (size_t k = 0; k < s->n_containers; k++) {
    const struct ss_hpa_container *c = &s->containers[k];
    const char *cn = c->name ? c->name : "";
    bool named = want && strcmp(want, cn) == 0;
    if (want && !named)
      continue;
    if (!c->has_request)
      return fail(m, "missing request for %s in container %s of Pod %s", res, cn, pod);
    *out += c->request;
    if (named) /* container names are unique inside a pod */
      return 0;
  }
  if (want)
    return fail(m, "container %s not found in Pod %s", want, pod);
  return 0;
}

/* How the missing and unready replicas are counted in the recomputation. */
enum fill { FILL_NONE, FILL_ZERO, FILL_TARGET };

struct sums {
  i128 value, request;
  int64_t count;
};

static struct sums sum_pods(const struct metric_ctx *m, const struct ss_hpa_sample *samples,
                            const i128 *requests, bool cpu, enum fill missing,
                            bool unready_as_zero, int64_t target_milli, int32_t target_util) {
  struct sums s = {0};
  for (size_t i = 0; i < m->in->n_pods; i++) {
    const struct ss_hpa_sample *smp = &samples[i];
    i128 req = requests ? requests[i] : 0;
    switch (classify(m, &m->in->pods[i], smp, cpu)) {
    case POD_READY:
      s.value += smp->value;
      break;
    case POD_MISSING:
      if (missing == FILL_NONE)
        continue;
      /* Kubernetes stores requests[pod] * max(100, target) / 100 as the
       * missing replica's usage; exact here */
      if (missing == FILL_TARGET)
        s.value += target_util ? req * max_i32(100, target_util) / 100 : target_milli;
      break;
    case POD_UNREADY:
      if (!unready_as_zero)
        continue;
      break;
    case POD_IGNORED:
      continue;
    }
    s.request += req;
    s.count++;
  }
  return s;
}

/* The ratio for a set of sums (metrics/utilization.go,
 * GetResourceUtilizationRatio and GetMetricUsageRatio); the integer percent
 * for Utilization. Returns -1 when no request matched (Utilization). The
 * totals are exact; the percent is clamped into int32, where Kubernetes'
 * int64 arithmetic would wrap. */
static int ratio_of(struct sums s, int64_t target_milli, int32_t target_util, double *ratio,
                    int32_t *util, int64_t *avg) {
  *avg = sat_i64(s.value / s.count); /* an average of int64 values fits */
  if (target_util) {
    if (s.request == 0)
      return -1;
    i128 pct = s.value * 100 / s.request;
    *util = pct > INT32_MAX ? INT32_MAX : pct < INT32_MIN ? INT32_MIN : (int32_t)pct;
    *ratio = (double)*util / (double)target_util;
    return 0;
  }
  *ratio = (double)*avg / (double)target_milli;
  return 0;
}

/* Resource, ContainerResource and Pods: per-replica samples, averaged over
 * the ready replicas, then corrected for the missing and unready ones
 * (replica_calculator.go, GetResourceReplicas and calcPlainMetricReplicas). */
static int per_pod_replicas(struct metric_ctx *m, const struct ss_metric_spec *ms,
                            const struct ss_hpa_metric_input *mi, struct ss_hpa_metric_status *st) {
  bool util = ms->target.type == SS_TARGET_UTILIZATION;
  int32_t target_util = util ? ms->target.utilization : 0;
  int64_t target_milli = util ? 0 : ms->target.value.milli;
  bool cpu = ms->source != SS_METRIC_PODS && ms->name && strcmp(ms->name, "cpu") == 0;
  const char *api = ms->source == SS_METRIC_PODS ? "custom" : "resource";
  int32_t current = m->in->spec_replicas;
  i128 *requests = NULL;
  int rc = -1;

  if (util ? target_util <= 0 : target_milli <= 0)
    return fail(m, "invalid target: must be positive");
  if (!mi->samples)
    return fail(m, "no metrics returned from %s metrics API", api);
  if (m->in->n_pods == 0)
    return fail(m, "no pods returned by selector while calculating replica count");
  size_t n_samples = 0, ready = 0, unready = 0, missing = 0;
  for (size_t i = 0; i < m->in->n_pods; i++) {
    n_samples += mi->samples[i].present;
    switch (classify(m, &m->in->pods[i], &mi->samples[i], cpu)) {
    case POD_READY: ready++; break;
    case POD_UNREADY: unready++; break;
    case POD_MISSING: missing++; break;
    case POD_IGNORED: break;
    }
  }
  if (n_samples == 0)
    return fail(m, "no metrics returned from %s metrics API", api);
  if (ready == 0)
    return fail(m, "did not receive metrics for targeted pods (pods might be unready)");
  if (util) {
    /* every replica the selector returns, as Kubernetes lists them */
    requests = calloc(m->in->n_pods, sizeof *requests);
    if (!requests)
      return fail(m, "out of memory");
    for (size_t i = 0; i < m->in->n_pods; i++)
      if (pod_request(m, ms, i, &mi->samples[i], &requests[i]))
        goto out;
  }

  struct sums s = sum_pods(m, mi->samples, requests, cpu, FILL_NONE, false, target_milli,
                           target_util);
  int32_t utilization = 0;
  int64_t avg = 0;
  double ratio;
  if (ratio_of(s, target_milli, target_util, &ratio, &utilization, &avg)) {
    fail(m, "no metrics returned matched known pods");
    goto out;
  }
  st->has_utilization = util;
  st->average_utilization = utilization;
  st->average_value = avg;

  bool up_with_unready = unready > 0 && ratio > 1.0;
  if (!up_with_unready && missing == 0) {
    st->proposal = within(m->tol, ratio) ? current : ceil_i32(ratio * (double)ready);
    rc = 0;
    goto out;
  }
  /* Be conservative about what was not measured: on a scale down a missing
   * replica counts as using the target (for Utilization its request at
   * max(100%, target)), on a scale up as using nothing; unready replicas
   * count as using nothing, and only on a scale up. */
  enum fill f = FILL_NONE;
  if (missing > 0) {
    if (ratio < 1.0)
      f = FILL_TARGET;
    else if (ratio > 1.0) /* exactly on target: nothing to correct */
      f = FILL_ZERO;
  }
  struct sums s2 = sum_pods(m, mi->samples, requests, cpu, f, up_with_unready, target_milli,
                            target_util);
  int32_t u2;
  int64_t a2;
  double ratio2;
  if (ratio_of(s2, target_milli, target_util, &ratio2, &u2, &a2)) {
    fail(m, "no metrics returned matched known pods");
    goto out;
  }
  rc = 0;
  /* Back inside the tolerance, or pointing the other way: keep the size. */
  if (within(m->tol, ratio2) || (ratio < 1.0 && ratio2 > 1.0) || (ratio > 1.0 && ratio2 < 1.0)) {
    st->proposal = current;
    goto out;
  }
  int32_t n = ceil_i32(ratio2 * (double)s2.count);
  if ((ratio2 < 1.0 && n > current) || (ratio2 > 1.0 && n < current))
    n = current;
  st->proposal = n;
out:
  free(requests);
  return rc;
}

/* Replicas that are running and ready: what Value targets multiply by. */
static int ready_pods(struct metric_ctx *m, int32_t *n) {
  if (m->in->n_pods == 0)
    return fail(m, "no pods returned by selector while calculating replica count");
  *n = 0;
  for (size_t i = 0; i < m->in->n_pods; i++) {
    const struct ss_hpa_pod *p = &m->in->pods[i];
    *n += !p->gone && !p->pending && p->ready;
  }
  return 0;
}

/* The sum of a Value series (or an Object's value): capped at MaxInt64 on
 * the way up, as GetExternalMetricReplicas caps it (replica_calculator.go),
 * and at MinInt64 on the way down, where Go's int64 would wrap. */
static int64_t sum_capped(const int64_t *v, size_t n) {
  int64_t usage = 0;
  for (size_t i = 0; i < n; i++) {
    if (v[i] > 0 && usage > INT64_MAX - v[i]) {
      usage = INT64_MAX;
      break;
    }
    if (v[i] < 0 && usage < INT64_MIN - v[i])
      usage = INT64_MIN;
    else
      usage += v[i];
  }
  return usage;
}

/* The sum of an External AverageValue series as
 * GetExternalPerPodMetricReplicas takes it: a total that overflows, or that
 * reads negative (Kubernetes takes either for an overflow), is MaxInt64. */
static int64_t sum_per_pod(const int64_t *v, size_t n) {
  int64_t usage = 0;
  for (size_t i = 0; i < n; i++) {
    if (v[i] > 0 && usage > INT64_MAX - v[i])
      return INT64_MAX;
    usage += v[i]; /* usage >= 0 here, so a negative value cannot overflow */
    if (usage < 0)
      return INT64_MAX;
  }
  return usage;
}

/* Object and External: one total for the whole target
 * (replica_calculator.go: GetObjectMetricReplicas, GetExternalMetricReplicas,
 * GetObjectPerPodMetricReplicas, GetExternalPerPodMetricReplicas). */
static int total_replicas(struct metric_ctx *m, const struct ss_metric_spec *ms,
                          const struct ss_hpa_metric_input *mi, struct ss_hpa_metric_status *st) {
  const char *api = ms->source == SS_METRIC_OBJECT ? "custom" : "external";
  int64_t target = ms->target.value.milli;
  if (target <= 0)
    return fail(m, "invalid target: must be positive");
  if (ms->target.type == SS_TARGET_UTILIZATION)
    return fail(m, "invalid %s metric source: neither a value target nor an average value "
                   "target was set", ms->source == SS_METRIC_OBJECT ? "object" : "external");
  if (!mi->values || mi->n_values == 0)
    return fail(m, "no metrics returned from %s metrics API", api);

  if (ms->target.type == SS_TARGET_VALUE) {
    int64_t usage = sum_capped(mi->values, mi->n_values);
    double ratio = (double)usage / (double)target;
    int32_t current = m->in->spec_replicas;
    st->value = usage;
    if (current == 0) { /* scaled to zero: the ratio alone says how many */
      st->proposal = ceil_i32(ratio);
      return 0;
    }
    if (within(m->tol, ratio)) {
      st->proposal = current;
      return 0;
    }
    int32_t ready = 0;
    if (ready_pods(m, &ready))
      return -1;
    st->proposal = ceil_i32(ratio * (double)ready);
    return 0;
  }
  /* AverageValue: the total over the running replicas, against the target
   * per replica; when it moves, the count that brings it to target. */
  int64_t usage = ms->source == SS_METRIC_EXTERNAL ? sum_per_pod(mi->values, mi->n_values)
                                                   : sum_capped(mi->values, mi->n_values);
  int32_t running = m->in->status_replicas;
  int32_t n = running;
  if (running <= 0 || !within(m->tol, (double)usage / ((double)target * (double)running)))
    n = ceil_i32((double)usage / (double)target);
  st->proposal = n;
  /* The average for status. With no replica running, the total itself
   * (Kubernetes divides by zero there, kubernetes/kubernetes#140956). */
  if (running <= 0)
    st->average_value = usage;
  else if (ms->source == SS_METRIC_EXTERNAL && (double)usage >= 9223372036854775808.0)
    /* GetExternalPerPodMetricReplicas: a total at MaxInt64 (as a float64)
     * is reported as MaxInt64, clamped before it is converted */
    st->average_value = INT64_MAX;
  else
    st->average_value = ceil_i64((double)usage / (double)running);
  return 0;
}

static const char *failed_reason(enum ss_metric_source s) {
  switch (s) {
  case SS_METRIC_RESOURCE: return "FailedGetResourceMetric";
  case SS_METRIC_CONTAINER_RESOURCE: return "FailedGetContainerResourceMetric";
  case SS_METRIC_PODS: return "FailedGetPodsMetric";
  case SS_METRIC_OBJECT: return "FailedGetObjectMetric";
  case SS_METRIC_EXTERNAL: return "FailedGetExternalMetric";
  }
  return "InvalidMetricSourceType";
}

/* The name Kubernetes gives a metric in "<name> above target". */
static void metric_name(const struct ss_metric_spec *ms, char *buf, size_t size) {
  const char *n = ms->name ? ms->name : "";
  bool util = ms->target.type == SS_TARGET_UTILIZATION;
  switch (ms->source) {
  case SS_METRIC_RESOURCE:
    snprintf(buf, size, util ? "%s resource utilization (percentage of request)" : "%s resource", n);
    return;
  case SS_METRIC_CONTAINER_RESOURCE:
    snprintf(buf, size,
             util ? "%s container resource utilization (percentage of request)"
                  : "%s container resource", n);
    return;
  case SS_METRIC_PODS:
    snprintf(buf, size, "pods metric %s", n);
    return;
  case SS_METRIC_OBJECT:
    snprintf(buf, size, "%s metric %s", ms->object_kind ? ms->object_kind : "", n);
    return;
  case SS_METRIC_EXTERNAL:
    snprintf(buf, size, "external metric %s", n);
    return;
  }
  snprintf(buf, size, "%s", n);
}

static int one_metric(struct metric_ctx *m, const struct ss_metric_spec *ms,
                      const struct ss_hpa_metric_input *mi, struct ss_hpa_metric_status *st) {
  if (mi->failed)
    return fail(m, "%s", mi->error && *mi->error ? mi->error : "unable to fetch metrics");
  switch (ms->source) {
  case SS_METRIC_RESOURCE:
  case SS_METRIC_CONTAINER_RESOURCE:
    if (ms->target.type == SS_TARGET_VALUE)
      return fail(m, "invalid resource metric source: neither a utilization target nor a value "
                     "target was set");
    return per_pod_replicas(m, ms, mi, st);
  case SS_METRIC_PODS:
    if (ms->target.type != SS_TARGET_AVERAGE_VALUE)
      return fail(m, "invalid pods metric source: only an average value target is supported");
    return per_pod_replicas(m, ms, mi, st);
  case SS_METRIC_OBJECT:
  case SS_METRIC_EXTERNAL:
    return total_replicas(m, ms, mi, st);
  }
  return fail(m, "unknown metric source type");
}

/* Every metric's proposal; the largest wins. Returns -1 when no count can be
 * trusted: all metrics failed, or some failed and the others would shrink. */
static int all_metrics(const struct ss_hpa_spec *spec, struct metric_ctx *m,
                       struct ss_hpa_result *out, int32_t *replicas, char *name, size_t name_size) {
  size_t invalid = 0;
  const char *first_reason = NULL;
  char first_err[SS_HPA_MSG_MAX] = "";
  char why[SS_HPA_MSG_MAX];
  *replicas = 0;
  name[0] = '\0';
  for (size_t i = 0; i < spec->n_metrics; i++) {
    const struct ss_metric_spec *ms = &spec->metrics[i];
    struct ss_hpa_metric_status *st = &out->metrics[i];
    m->err = why;
    why[0] = '\0';
    if (one_metric(m, ms, &m->in->metrics[i], st)) {
      if (invalid++ == 0) {
        char mn[128];
        metric_name(ms, mn, sizeof mn);
        first_reason = failed_reason(ms->source);
        snprintf(first_err, sizeof first_err, "failed to get %s: %s", mn, why);
      }
      continue;
    }
    st->valid = true;
    if (*replicas == 0 || st->proposal > *replicas) {
      *replicas = st->proposal;
      metric_name(ms, name, name_size);
    }
  }
  if (invalid > 0)
    snprintf(out->error, sizeof out->error, "invalid metrics (%zu invalid out of %zu), first "
             "error is: %s", invalid, spec->n_metrics, first_err);
  if (invalid >= spec->n_metrics || (invalid > 0 && *replicas < m->in->spec_replicas)) {
    cond_set(&out->scaling_active, SS_HPA_COND_FALSE, first_reason,
             "the HPA was unable to compute the replica count: %s", first_err);
    return -1;
  }
  out->partial = invalid > 0;
  cond_set(&out->scaling_active, SS_HPA_COND_TRUE, "ValidMetricFound",
           "the HPA was able to successfully calculate a replica count from %s", name);
  return 0;
}

/* ---- normalization: stabilization, then rate limits ---- */

static int64_t window_ms(const struct ss_scaling_rules *r, int64_t dflt) {
  return r->stabilization_seconds < 0 ? dflt : (int64_t)r->stabilization_seconds * 1000;
}

/* The longest policy period of a direction: its events older than that are
 * outdated (horizontal.go, getLongestPolicyPeriod). */
static int64_t longest_period_ms(const struct ss_scaling_rules *r) {
  int64_t longest = 0;
  for (size_t i = 0; i < r->n_policies; i++)
    if ((int64_t)r->policies[i].period_seconds * 1000 > longest)
      longest = (int64_t)r->policies[i].period_seconds * 1000;
  return longest;
}

/* What one pass over the recommendations finds, as the controller walks
 * them: the stabilization bounds, and the last entry aged out of every
 * window, which the new recommendation will reuse. */
struct rec_scan {
  int32_t up, down;
  bool old;
  uint32_t slot;
};

/* Without behavior (horizontal.go, stabilizeRecommendation): the highest
 * recommendation not before now - window; older ones are reusable. The
 * first sync's record of the current size (recordInitialRecommendation)
 * counts as made now. */
static struct rec_scan scan_plain(const struct ss_hpa_recs *recs, bool seed, int32_t current,
                                  int64_t now, int64_t window, int32_t desired) {
  struct rec_scan r = {desired, desired, false, 0};
  int64_t cutoff = now - window;
  if (seed && now >= cutoff)
    r.down = max_i32(r.down, current);
  for (uint32_t i = 0; i < recs->len; i++) {
    const struct ss_hpa_rec *e = &recs->v[i];
    if (e->at_ms < cutoff) {
      r.old = true;
      r.slot = i;
    } else if (e->replicas > r.down) {
      r.down = e->replicas;
    }
  }
  return r;
}

/* With behavior (stabilizeRecommendationWithBehaviors): the lowest
 * recommendation after now - up window, the highest after now - down
 * window (both strictly after); an entry before both cutoffs is reusable. */
static struct rec_scan scan_behavior(const struct ss_hpa_recs *recs, bool seed, int32_t current,
                                     int64_t now, int64_t up_w, int64_t down_w, int32_t desired) {
  struct rec_scan r = {desired, desired, false, 0};
  int64_t up_cut = now - up_w, down_cut = now - down_w;
  if (seed) {
    if (now > up_cut)
      r.up = min_i32(r.up, current);
    if (now > down_cut)
      r.down = max_i32(r.down, current);
  }
  for (uint32_t i = 0; i < recs->len; i++) {
    const struct ss_hpa_rec *e = &recs->v[i];
    if (e->at_ms > up_cut)
      r.up = min_i32(r.up, e->replicas);
    if (e->at_ms > down_cut)
      r.down = max_i32(r.down, e->replicas);
    if (e->at_ms < up_cut && e->at_ms < down_cut) {
      r.old = true;
      r.slot = i;
    }
  }
  return r;
}

/* Replicas changed by the events strictly after now - period
 * (getReplicasChangePerPeriod). */
static int64_t changed_in_period(const struct ss_hpa_events *ev, int64_t now, int32_t period_s) {
  int64_t cut = now - (int64_t)period_s * 1000;
  int64_t n = 0;
  for (uint32_t i = 0; i < ev->len; i++)
    if (ev->v[i].at_ms > cut)
      n += ev->v[i].change;
  return n;
}

/* The furthest the policies allow from current, in the given direction
 * (calculateScaleUpLimitWithScalingRules, calculateScaleDownLimitWithBehaviors). */
static int32_t policy_limit(const struct ss_scaling_rules *r, const struct ss_hpa_history *h,
                            int64_t now, int32_t current, bool up) {
  if (r->select == SS_SELECT_DISABLED)
    return current;
  /* Max picks the policy allowing the biggest change, Min the smallest. */
  bool take_max = (r->select == SS_SELECT_MAX) == up;
  int32_t result = take_max ? INT32_MIN : INT32_MAX;
  for (size_t i = 0; i < r->n_policies; i++) {
    const struct ss_scaling_policy *p = &r->policies[i];
    int32_t start = sat_i32((int64_t)current - changed_in_period(&h->up, now, p->period_seconds) +
                            changed_in_period(&h->down, now, p->period_seconds));
    int32_t proposed;
    if (p->type == SS_POLICY_PODS)
      proposed = sat_i32(up ? (int64_t)start + p->value : (int64_t)start - p->value);
    else if (up) /* rounded up, or a small percentage would never add one */
      proposed = ceil_i32((double)start * (1.0 + (double)p->value / 100.0));
    else
      proposed = trunc_i32((double)start * (1.0 - (double)p->value / 100.0));
    result = take_max ? max_i32(result, proposed) : min_i32(result, proposed);
  }
  return result;
}

#define WITHIN_RANGE "DesiredWithinRange"
#define WITHIN_RANGE_MSG "the desired count is within the acceptable range"
#define UP_LIMIT "ScaleUpLimit"
#define UP_LIMIT_MSG "the desired replica count is increasing faster than the maximum scale rate"
#define DOWN_LIMIT "ScaleDownLimit"
#define DOWN_LIMIT_MSG "the desired replica count is decreasing faster than the maximum scale rate"
#define TOO_MANY "TooManyReplicas"
#define TOO_MANY_MSG "the desired replica count is more than the maximum replica count"
#define TOO_FEW "TooFewReplicas"
#define TOO_FEW_MSG "the desired replica count is less than the minimum replica count"

/* ScalingLimited is True only when the rate or the bounds moved the count. */
static void set_limited(struct ss_hpa_condition *c, int32_t result, int32_t stable,
                        const char *reason, const char *msg) {
  cond_set(c, result == stable ? SS_HPA_COND_FALSE : SS_HPA_COND_TRUE, reason, "%s", msg);
}

/* With behavior (convertDesiredReplicasWithBehaviorRate): the policies over
 * the scale events, then min/max. */
static int32_t limit_behavior(const struct ss_hpa_spec *spec, const struct ss_hpa_history *h,
                              int64_t now, int32_t current, int32_t desired,
                              struct ss_hpa_condition *limited) {
  const char *reason = WITHIN_RANGE, *msg = WITHIN_RANGE_MSG;
  int32_t result = desired;
  if (desired > current) {
    int32_t lim = policy_limit(&spec->up, h, now, current, true);
    if (lim < current) /* no further up until the period's events age out */
      lim = current;
    int32_t max_allowed = spec->max_replicas;
    const char *r, *mg;
    if (max_allowed > lim) {
      max_allowed = lim;
      r = UP_LIMIT, mg = UP_LIMIT_MSG;
    } else {
      r = TOO_MANY, mg = TOO_MANY_MSG;
    }
    if (desired > max_allowed)
      result = max_allowed, reason = r, msg = mg;
  } else if (desired < current) {
    int32_t lim = policy_limit(&spec->down, h, now, current, false);
    if (lim > current)
      lim = current;
    int32_t min_allowed = spec->min_replicas;
    const char *r, *mg;
    if (min_allowed < lim) {
      min_allowed = lim;
      r = DOWN_LIMIT, mg = DOWN_LIMIT_MSG;
    } else {
      r = TOO_FEW, mg = TOO_FEW_MSG;
    }
    if (desired < min_allowed)
      result = min_allowed, reason = r, msg = mg;
  }
  set_limited(limited, result, desired, reason, msg);
  return result;
}

/* Without behavior (convertDesiredReplicasWithRules): min, and max or the
 * fixed scale-up limit max(2 x current, 4), whichever is lower. */
static int32_t limit_plain(const struct ss_hpa_spec *spec, int32_t current, int32_t desired,
                           struct ss_hpa_condition *limited) {
  int64_t up_limit = (int64_t)SS_HPA_SCALE_UP_LIMIT_FACTOR * current;
  if (up_limit < SS_HPA_SCALE_UP_LIMIT_MINIMUM)
    up_limit = SS_HPA_SCALE_UP_LIMIT_MINIMUM;
  int32_t max_allowed;
  const char *reason, *msg;
  if (spec->max_replicas > up_limit) {
    max_allowed = sat_i32(up_limit);
    reason = UP_LIMIT, msg = UP_LIMIT_MSG;
  } else {
    max_allowed = spec->max_replicas;
    reason = TOO_MANY, msg = TOO_MANY_MSG;
  }
  int32_t result = desired;
  if (desired < spec->min_replicas)
    result = spec->min_replicas, reason = TOO_FEW, msg = TOO_FEW_MSG;
  else if (desired > max_allowed)
    result = max_allowed;
  else
    reason = WITHIN_RANGE, msg = WITHIN_RANGE_MSG;
  set_limited(limited, result, desired, reason, msg);
  return result;
}

#define READY_FOR_NEW_SCALE "ReadyForNewScale"
#define READY_FOR_NEW_SCALE_MSG "recommended size matches current size"
#define UP_STABILIZED "ScaleUpStabilized"
#define UP_STABILIZED_MSG                                                                        \
  "recent recommendations were lower than current one, applying the lowest recent "              \
  "recommendation"
#define DOWN_STABILIZED "ScaleDownStabilized"
#define DOWN_STABILIZED_MSG                                                                      \
  "recent recommendations were higher than current one, applying the highest recent "            \
  "recommendation"

/* The metrics' count through stabilization and the rate limits, on either
 * of the controller's two paths (normalizeDesiredReplicas,
 * normalizeDesiredReplicasWithBehaviors). */
static int32_t normalize(const struct ss_hpa_spec *spec, const struct ss_hpa_settings *set,
                         const struct ss_hpa_input *in, const struct ss_hpa_history *h,
                         int32_t desired, struct ss_hpa_result *out) {
  int32_t current = in->spec_replicas;
  int64_t now = in->now_ms;
  int32_t stable;
  struct rec_scan sc;
  const char *reason = DOWN_STABILIZED, *msg = DOWN_STABILIZED_MSG;
  if (spec->has_behavior) {
    int64_t up_w = window_ms(&spec->up, 0);
    /* maybeInitScaleDownStabilizationWindow: an unset window is the flag's */
    int64_t down_w = window_ms(&spec->down, set->downscale_stabilization_ms);
    sc = scan_behavior(&h->recs, out->seed, current, now, up_w, down_w, desired);
    stable = current;
    if (stable < sc.up)
      stable = sc.up;
    if (stable > sc.down)
      stable = sc.down;
    if (desired >= current)
      reason = UP_STABILIZED, msg = UP_STABILIZED_MSG;
  } else {
    /* Only scale-down is stabilized, so the only reason is this one, even
     * when a higher recent recommendation holds a scale up higher. */
    sc = scan_plain(&h->recs, out->seed, current, now, set->downscale_stabilization_ms, desired);
    stable = sc.down;
  }
  out->record = true;
  out->recommendation = (struct ss_hpa_rec){now, desired};
  out->reuse_rec = sc.old;
  out->rec_slot = sc.slot;
  if (stable != desired)
    cond_set(&out->able_to_scale, SS_HPA_COND_TRUE, reason, "%s", msg);
  else
    cond_set(&out->able_to_scale, SS_HPA_COND_TRUE, READY_FOR_NEW_SCALE, "%s",
             READY_FOR_NEW_SCALE_MSG);
  if (spec->has_behavior)
    return limit_behavior(spec, h, now, current, stable, &out->scaling_limited);
  return limit_plain(spec, current, stable, &out->scaling_limited);
}

/* ---- the sync ---- */

enum ss_err ss_hpa_evaluate(const struct ss_hpa_spec *spec, const struct ss_hpa_settings *set,
                            const struct ss_hpa_input *in, const struct ss_hpa_history *hist,
                            struct ss_hpa_result *out) {
  if (!out)
    return SS_EINVALID;
  memset(out, 0, sizeof *out);
  if (!spec || !set || !in || !hist || (spec->n_metrics && (!spec->metrics || !in->metrics)) ||
      (in->n_pods && !in->pods))
    return SS_EINVALID;
  if (spec->n_metrics > SS_HPA_MAX_METRICS)
    return SS_ELIMIT;

  int32_t current = in->spec_replicas;
  out->current = current;
  out->now_ms = in->now_ms;
  out->n_metrics = spec->n_metrics;
  /* recordInitialRecommendation: the first sync of an HPA records the
   * current size, whatever it then decides */
  out->seed = !hist->started && hist->recs.len == 0;
  /* storeScaleEvent keeps events only for an HPA with behavior */
  out->behavior = spec->has_behavior;
  if (spec->has_behavior) {
    out->up_period_ms = longest_period_ms(&spec->up);
    out->down_period_ms = longest_period_ms(&spec->down);
  }
  cond_set(&out->able_to_scale, SS_HPA_COND_TRUE, "SucceededGetScale",
           "the HPA controller was able to get the target's current scale");

  if (current == 0 && spec->min_replicas != 0) {
    /* Someone scaled the target to zero by hand: hands off. */
    out->desired = 0;
    cond_set(&out->scaling_active, SS_HPA_COND_FALSE, "ScalingDisabled",
             "scaling is disabled since the replica count of the target is zero");
    return SS_EOK;
  }
  if (current > spec->max_replicas) {
    out->desired = spec->max_replicas;
    out->scale = true;
    snprintf(out->reason, sizeof out->reason, "Current number of replicas above Spec.MaxReplicas");
    return SS_EOK;
  }
  if (current < spec->min_replicas) {
    out->desired = spec->min_replicas;
    out->scale = true;
    snprintf(out->reason, sizeof out->reason, "Current number of replicas below Spec.MinReplicas");
    return SS_EOK;
  }

  struct metric_ctx m = {
      .set = set,
      .in = in,
      .tol = {set->tolerance, set->tolerance},
  };
  if (spec->has_behavior) { /* a direction's own tolerance, where it sets one */
    if (spec->up.tolerance >= 0)
      m.tol.up = spec->up.tolerance;
    if (spec->down.tolerance >= 0)
      m.tol.down = spec->down.tolerance;
  }
  int32_t proposal;
  char name[128];
  if (all_metrics(spec, &m, out, &proposal, name, sizeof name)) {
    out->failed = true;
    out->desired = current;
    return SS_EOK;
  }
  int32_t desired = proposal > 0 ? proposal : 0;
  if (desired > current)
    snprintf(out->reason, sizeof out->reason, "%s above target", name);
  else if (desired < current)
    snprintf(out->reason, sizeof out->reason, "All metrics below target");

  out->desired = normalize(spec, set, in, hist, desired, out);
  out->scale = out->desired != current;
  return SS_EOK;
}

/* ---- the history ---- */

/* Room for one more entry in a list of elem-sized entries: grows it by
 * doubling up to SS_HPA_HISTORY_MAX. Returns SS_EOK, SS_ELIMIT (full) or
 * SS_ENOMEM. */
static enum ss_err grow(void **v, uint32_t len, uint32_t *cap, size_t elem) {
  if (len < *cap)
    return SS_EOK;
  if (*cap >= SS_HPA_HISTORY_MAX)
    return SS_ELIMIT;
  uint32_t n = *cap ? *cap * 2 : 8;
  if (n > SS_HPA_HISTORY_MAX)
    n = SS_HPA_HISTORY_MAX;
  void *p = realloc(*v, (size_t)n * elem);
  if (!p)
    return SS_ENOMEM;
  *v = p;
  *cap = n;
  return SS_EOK;
}

enum ss_err ss_hpa_history_add_rec(struct ss_hpa_history *hist, struct ss_hpa_rec rec) {
  if (!hist)
    return SS_EINVALID;
  struct ss_hpa_recs *l = &hist->recs;
  void *v = l->v;
  enum ss_err e = grow(&v, l->len, &l->cap, sizeof *l->v);
  l->v = v;
  if (e == SS_ELIMIT) { /* full: the oldest goes */
    uint32_t oldest = 0;
    for (uint32_t i = 1; i < l->len; i++)
      if (l->v[i].at_ms < l->v[oldest].at_ms)
        oldest = i;
    l->v[oldest] = rec;
    return e;
  }
  if (e)
    return e;
  l->v[l->len++] = rec;
  return SS_EOK;
}

enum ss_err ss_hpa_history_add_event(struct ss_hpa_history *hist, bool up,
                                     struct ss_hpa_event ev) {
  if (!hist)
    return SS_EINVALID;
  struct ss_hpa_events *l = up ? &hist->up : &hist->down;
  void *v = l->v;
  enum ss_err e = grow(&v, l->len, &l->cap, sizeof *l->v);
  l->v = v;
  if (e == SS_ELIMIT) {
    uint32_t oldest = 0;
    for (uint32_t i = 1; i < l->len; i++)
      if (l->v[i].at_ms < l->v[oldest].at_ms)
        oldest = i;
    l->v[oldest] = ev;
    return e;
  }
  if (e)
    return e;
  l->v[l->len++] = ev;
  return SS_EOK;
}

/* storeScaleEvent: events of the direction older than its longest policy
 * period are marked outdated (for good); the new event takes the place of
 * the last outdated one, or is appended. */
static enum ss_err store_event(struct ss_hpa_history *hist, const struct ss_hpa_result *res) {
  bool up = res->desired > res->current;
  struct ss_hpa_events *l = up ? &hist->up : &hist->down;
  int64_t cutoff = res->now_ms - (up ? res->up_period_ms : res->down_period_ms);
  struct ss_hpa_event ev = {res->now_ms,
                            sat_i32(up ? (int64_t)res->desired - res->current
                                       : (int64_t)res->current - res->desired),
                            false};
  bool found = false;
  uint32_t slot = 0;
  for (uint32_t i = 0; i < l->len; i++) {
    if (l->v[i].at_ms < cutoff)
      l->v[i].outdated = true;
    if (l->v[i].outdated) {
      found = true;
      slot = i;
    }
  }
  if (found) {
    l->v[slot] = ev;
    return SS_EOK;
  }
  return ss_hpa_history_add_event(hist, up, ev);
}

enum ss_err ss_hpa_commit(struct ss_hpa_history *hist, const struct ss_hpa_result *res,
                          bool applied) {
  if (!hist || !res)
    return SS_EINVALID;
  enum ss_err result = SS_EOK, e;
  if (res->seed) {
    hist->started = true;
    e = ss_hpa_history_add_rec(hist, (struct ss_hpa_rec){res->now_ms, res->current});
    if (e)
      result = e;
  }
  if (res->record) {
    if (res->reuse_rec && !res->seed && res->rec_slot < hist->recs.len) {
      hist->recs.v[res->rec_slot] = res->recommendation;
    } else {
      e = ss_hpa_history_add_rec(hist, res->recommendation);
      if (e)
        result = e;
    }
  }
  if (applied && res->scale && res->desired != res->current && res->behavior) {
    e = store_event(hist, res);
    if (e)
      result = e;
  }
  return result;
}

void ss_hpa_history_free(struct ss_hpa_history *hist) {
  if (!hist)
    return;
  free(hist->recs.v);
  free(hist->up.v);
  free(hist->down.v);
  memset(hist, 0, sizeof *hist);
}
