/* hpa.c: the HorizontalPodAutoscaler's replica count for one sync, computed
 * as the Kubernetes controller does (autoscaling/v2 with behavior), from the
 * inputs alone. Fetching metrics, the sync loop, applying the size and
 * keeping the history between syncs are the caller's (see hpa.h). */
#include "autoscale/hpa.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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

/* Inclusive on both ends: a ratio of exactly 1 + tolerance does nothing. */
static bool within(struct tolerances t, double ratio) {
  return 1.0 - t.down <= ratio && ratio <= 1.0 + t.up;
}

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

/* How the missing and unready replicas are counted in the recomputation. */
enum fill { FILL_NONE, FILL_ZERO, FILL_TARGET };

struct sums {
  int64_t value, request, count;
};

static struct sums sum_pods(const struct metric_ctx *m, const struct ss_hpa_sample *samples,
                            bool cpu, enum fill missing, bool unready_as_zero,
                            int64_t target_milli, int32_t target_util) {
  struct sums s = {0};
  for (size_t i = 0; i < m->in->n_pods; i++) {
    const struct ss_hpa_sample *smp = &samples[i];
    switch (classify(m, &m->in->pods[i], smp, cpu)) {
    case POD_READY:
      s.value += smp->value;
      break;
    case POD_MISSING:
      if (missing == FILL_NONE)
        continue;
      if (missing == FILL_TARGET)
        s.value += target_util ? smp->request * (int64_t)max_i32(100, target_util) / 100
                               : target_milli;
      break;
    case POD_UNREADY:
      if (!unready_as_zero)
        continue;
      break;
    case POD_IGNORED:
      continue;
    }
    s.request += smp->request;
    s.count++;
  }
  return s;
}

/* The ratio for a set of sums; the integer percent for Utilization. */
static double ratio_of(struct sums s, int64_t target_milli, int32_t target_util, int32_t *util,
                       int64_t *avg) {
  *avg = s.value / s.count;
  if (target_util) {
    *util = (int32_t)(s.value * 100 / s.request);
    return (double)*util / (double)target_util;
  }
  return (double)*avg / (double)target_milli;
}

/* Resource, ContainerResource and Pods: per-replica samples, averaged over
 * the ready replicas, then corrected for the missing and unready ones. */
static int per_pod_replicas(struct metric_ctx *m, const struct ss_metric_spec *ms,
                            const struct ss_hpa_metric_input *mi, struct ss_hpa_metric_status *st) {
  bool util = ms->target.type == SS_TARGET_UTILIZATION;
  int32_t target_util = util ? ms->target.utilization : 0;
  int64_t target_milli = util ? 0 : ms->target.value.milli;
  bool cpu = ms->source != SS_METRIC_PODS && ms->name && strcmp(ms->name, "cpu") == 0;
  const char *api = ms->source == SS_METRIC_PODS ? "custom" : "resource";
  int32_t current = m->in->spec_replicas;

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
  if (util)
    for (size_t i = 0; i < m->in->n_pods; i++)
      if (mi->samples[i].request <= 0)
        return fail(m, "missing request for %s in replica %zu", ms->name ? ms->name : "?", i);

  struct sums s = sum_pods(m, mi->samples, cpu, FILL_NONE, false, target_milli, target_util);
  if (util && s.request == 0)
    return fail(m, "no metrics returned matched known pods");
  int32_t utilization = 0;
  int64_t avg = 0;
  double ratio = ratio_of(s, target_milli, target_util, &utilization, &avg);
  st->has_utilization = util;
  st->average_utilization = utilization;
  st->average_value = avg;

  bool up_with_unready = unready > 0 && ratio > 1.0;
  if (!up_with_unready && missing == 0) {
    st->proposal = within(m->tol, ratio) ? current : ceil_i32(ratio * (double)ready);
    return 0;
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
  struct sums s2 = sum_pods(m, mi->samples, cpu, f, up_with_unready, target_milli, target_util);
  int32_t u2;
  int64_t a2;
  double ratio2 = ratio_of(s2, target_milli, target_util, &u2, &a2);
  /* Back inside the tolerance, or pointing the other way: keep the size. */
  if (within(m->tol, ratio2) || (ratio < 1.0 && ratio2 > 1.0) || (ratio > 1.0 && ratio2 < 1.0)) {
    st->proposal = current;
    return 0;
  }
  int32_t n = ceil_i32(ratio2 * (double)s2.count);
  if ((ratio2 < 1.0 && n > current) || (ratio2 > 1.0 && n < current))
    n = current;
  st->proposal = n;
  return 0;
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

/* Object and External: one total for the whole target. */
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
  int64_t usage = 0;
  for (size_t i = 0; i < mi->n_values; i++)
    usage += mi->values[i];

  if (ms->target.type == SS_TARGET_VALUE) {
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
  int32_t running = m->in->status_replicas;
  int32_t n = running;
  if (running <= 0 || !within(m->tol, (double)usage / ((double)target * (double)running)))
    n = ceil_i32((double)usage / (double)target);
  st->proposal = n;
  st->average_value = running > 0 ? (int64_t)ceil((double)usage / (double)running) : usage;
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

/* ---- behavior: stabilization, then rate policies ---- */

static int64_t window_ms(const struct ss_scaling_rules *r, int64_t dflt) {
  return r->stabilization_seconds < 0 ? dflt : (int64_t)r->stabilization_seconds * 1000;
}

static int32_t stabilize(const struct ss_hpa_spec *spec, const struct ss_hpa_settings *set,
                         const struct ss_hpa_ring *recs, int64_t now, int32_t current,
                         int32_t desired) {
  int64_t up_cut = now - window_ms(&spec->up, 0);
  int64_t down_cut = now - window_ms(&spec->down, set->downscale_stabilization_ms);
  int32_t up = desired, down = desired;
  for (uint32_t i = 0; i < recs->len; i++) {
    const struct ss_hpa_stamp *r = &recs->items[(recs->head + i) % recs->cap];
    if (r->at_ms > up_cut)
      up = min_i32(up, r->replicas);
    if (r->at_ms > down_cut)
      down = max_i32(down, r->replicas);
  }
  /* Scale up no further than the lowest, down no further than the highest
   * recommendation in each window. */
  int32_t rec = current;
  if (rec < up)
    rec = up;
  if (rec > down)
    rec = down;
  return rec;
}

/* Replicas added (up) or removed (!up) by the scale events inside period. */
static int32_t changed_in_period(const struct ss_hpa_ring *ev, int64_t now, int32_t period_s,
                                 bool up) {
  int64_t cut = now - (int64_t)period_s * 1000;
  int32_t n = 0;
  for (uint32_t i = 0; i < ev->len; i++) {
    const struct ss_hpa_stamp *e = &ev->items[(ev->head + i) % ev->cap];
    if (e->at_ms > cut && (up ? e->replicas > 0 : e->replicas < 0))
      n += up ? e->replicas : -e->replicas;
  }
  return n;
}

/* The furthest the policies allow from current, in the given direction. */
static int32_t policy_limit(const struct ss_scaling_rules *r, const struct ss_hpa_ring *ev,
                            int64_t now, int32_t current, bool up) {
  if (r->select == SS_SELECT_DISABLED)
    return current;
  /* Max picks the policy allowing the biggest change, Min the smallest. */
  bool take_max = (r->select == SS_SELECT_MAX) == up;
  int32_t result = take_max ? INT32_MIN : INT32_MAX;
  for (size_t i = 0; i < r->n_policies; i++) {
    const struct ss_scaling_policy *p = &r->policies[i];
    int32_t start = current - changed_in_period(ev, now, p->period_seconds, true) +
                    changed_in_period(ev, now, p->period_seconds, false);
    int32_t proposed;
    if (p->type == SS_POLICY_PODS)
      proposed = up ? start + p->value : start - p->value;
    else if (up) /* rounded up, or a small percentage would never add one */
      proposed = ceil_i32((double)start * (1.0 + (double)p->value / 100.0));
    else
      proposed = trunc_i32((double)start * (1.0 - (double)p->value / 100.0));
    result = take_max ? max_i32(result, proposed) : min_i32(result, proposed);
  }
  return result;
}

static int32_t limit_rate(const struct ss_hpa_spec *spec, const struct ss_hpa_ring *ev,
                          int64_t now, int32_t current, int32_t desired,
                          struct ss_hpa_condition *limited) {
  const char *reason = "DesiredWithinRange";
  const char *msg = "the desired count is within the acceptable range";
  int32_t result = desired;
  if (desired > current) {
    int32_t lim = policy_limit(&spec->up, ev, now, current, true);
    if (lim < current) /* no further up until the period's events age out */
      lim = current;
    int32_t max_allowed = spec->max_replicas;
    if (max_allowed > lim) {
      max_allowed = lim;
      reason = "ScaleUpLimit";
      msg = "the desired replica count is increasing faster than the maximum scale rate";
    } else {
      reason = "TooManyReplicas";
      msg = "the desired replica count is more than the maximum replica count";
    }
    if (desired > max_allowed)
      result = max_allowed;
  } else if (desired < current) {
    int32_t lim = policy_limit(&spec->down, ev, now, current, false);
    if (lim > current)
      lim = current;
    int32_t min_allowed = spec->min_replicas;
    if (min_allowed < lim) {
      min_allowed = lim;
      reason = "ScaleDownLimit";
      msg = "the desired replica count is decreasing faster than the maximum scale rate";
    } else {
      reason = "TooFewReplicas";
      msg = "the desired replica count is less than the minimum replica count";
    }
    if (desired < min_allowed)
      result = min_allowed;
  }
  if (result == desired) {
    reason = "DesiredWithinRange";
    msg = "the desired count is within the acceptable range";
  }
  cond_set(limited, result == desired ? SS_HPA_COND_FALSE : SS_HPA_COND_TRUE, reason, "%s", msg);
  return result;
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
      .tol = {spec->up.tolerance >= 0 ? spec->up.tolerance : set->tolerance,
              spec->down.tolerance >= 0 ? spec->down.tolerance : set->tolerance},
  };
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

  int32_t stable = stabilize(spec, set, &hist->recs, in->now_ms, current, desired);
  out->record = true;
  out->recommendation = (struct ss_hpa_stamp){in->now_ms, desired};
  if (stable != desired) {
    if (desired >= current)
      cond_set(&out->able_to_scale, SS_HPA_COND_TRUE, "ScaleUpStabilized",
               "recent recommendations were lower than current one, applying the lowest recent "
               "recommendation");
    else
      cond_set(&out->able_to_scale, SS_HPA_COND_TRUE, "ScaleDownStabilized",
               "recent recommendations were higher than current one, applying the highest recent "
               "recommendation");
  } else {
    cond_set(&out->able_to_scale, SS_HPA_COND_TRUE, "ReadyForNewScale",
             "recommended size matches current size");
  }
  out->desired = limit_rate(spec, &hist->events, in->now_ms, current, stable,
                            &out->scaling_limited);
  out->scale = out->desired != current;
  return SS_EOK;
}

void ss_hpa_ring_push(struct ss_hpa_ring *r, struct ss_hpa_stamp s) {
  if (!r || r->cap == 0 || !r->items)
    return;
  if (r->len < r->cap) {
    r->items[(r->head + r->len) % r->cap] = s;
    r->len++;
    return;
  }
  r->items[r->head] = s;
  r->head = (r->head + 1) % r->cap;
}

void ss_hpa_commit(struct ss_hpa_history *hist, const struct ss_hpa_result *res, bool applied) {
  if (!hist || !res)
    return;
  if (res->record)
    ss_hpa_ring_push(&hist->recs, res->recommendation);
  if (applied && res->scale && res->desired != res->current)
    ss_hpa_ring_push(&hist->events,
                     (struct ss_hpa_stamp){res->now_ms, res->desired - res->current});
}

uint32_t ss_hpa_ring_cap(const struct ss_hpa_spec *spec, const struct ss_hpa_settings *set,
                         int64_t sync_ms) {
  int64_t longest = 0;
  if (spec && set) {
    longest = window_ms(&spec->up, 0);
    int64_t d = window_ms(&spec->down, set->downscale_stabilization_ms);
    if (d > longest)
      longest = d;
    const struct ss_scaling_rules *rules[2] = {&spec->up, &spec->down};
    for (int k = 0; k < 2; k++)
      for (size_t i = 0; i < rules[k]->n_policies; i++)
        if ((int64_t)rules[k]->policies[i].period_seconds * 1000 > longest)
          longest = (int64_t)rules[k]->policies[i].period_seconds * 1000;
  }
  if (sync_ms <= 0)
    sync_ms = 1;
  int64_t n = longest / sync_ms + 2; /* the window's syncs, plus one at each edge */
  return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}
