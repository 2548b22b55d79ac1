/* keda.c: a KEDA ScaledObject's decision for one poll, as KEDA's scale loop and
 * the HPA it creates make it together: activation to and from zero (or
 * idleReplicaCount) with cooldown, fallback on failing triggers, pausing by
 * annotation, and between 1 and maxReplicaCount the HPA of hpa.c with one
 * External AverageValue metric per trigger. Polling, the queries and applying
 * the size are the caller's (see keda.h). Sources: kedacore/keda
 * pkg/scaling/scale_handler.go (getScaledObjectState, getScalerState),
 * pkg/scaling/executor/scale_scaledobjects.go (RequestScale),
 * pkg/fallback/fallback.go, controllers/keda/hpa.go (newHPAForScaledObject). */
#include "autoscale/keda.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* KEDA's condition wording (apis/keda/v1alpha1 and the scale executor). */
#define READY_OK_REASON "ScaledObjectReady"
#define READY_OK_MSG "ScaledObject is defined correctly and is ready for scaling"

static void cond_set(struct ss_keda_condition *c, enum ss_keda_cond_status st, const char *reason,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void cond_set(struct ss_keda_condition *c, enum ss_keda_cond_status st, const char *reason,
                     const char *fmt, ...) {
  va_list ap;
  c->status = st;
  c->reason = reason;
  va_start(ap, fmt);
  vsnprintf(c->message, sizeof c->message, fmt, ap);
  va_end(ap);
}

static struct ss_keda_event *event_add(struct ss_keda_result *out, enum ss_keda_event_kind kind,
                                       bool warning, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static struct ss_keda_event *event_add(struct ss_keda_result *out, enum ss_keda_event_kind kind,
                                       bool warning, const char *reason, const char *fmt, ...) {
  if (out->n_events >= SS_KEDA_MAX_EVENTS)
    return NULL;
  struct ss_keda_event *e = &out->events[out->n_events++];
  va_list ap;
  e->kind = kind;
  e->warning = warning;
  e->reason = reason;
  va_start(ap, fmt);
  vsnprintf(e->message, sizeof e->message, fmt, ap);
  va_end(ap);
  return e;
}

static int32_t max_i32(int32_t a, int32_t b) { return a > b ? a : b; }

/* A double in thousandths, truncated as KEDA's NewMilliQuantity(int64(v*1000))
 * does, kept inside int64. */
static int64_t to_milli(double v) {
  double m = v * 1000.0;
  if (!(m < 9.2e18))
    return INT64_MAX;
  if (m < -9.2e18)
    return INT64_MIN + 1;
  return (int64_t)m;
}

static bool is_resource(const struct ss_trigger *t) { return t->type != SS_TRIGGER_PROMETHEUS; }

/* Go's strconv.ParseBool, which KEDA applies to autoscaling.keda.sh/paused. */
static int parse_bool(const char *s, bool *v) {
  static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
  static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
  for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
    if (strcmp(s, yes[i]) == 0) {
      *v = true;
      return 0;
    }
    if (strcmp(s, no[i]) == 0) {
      *v = false;
      return 0;
    }
  }
  return -1;
}

static int parse_replicas(const char *s, int32_t *n) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < 0 || v > INT32_MAX)
    return -1;
  *n = (int32_t)v;
  return 0;
}

static bool fallback_usable(const struct ss_keda_spec *spec) {
  /* KEDA's HasValidFallback: both numbers must not be negative. */
  return spec->has_fallback && spec->fallback_failure_threshold >= 0 &&
         spec->fallback_replicas >= 0;
}

/* The replicas a falling-back trigger asks the HPA for (doFallback; an
 * unknown behavior reads as static there too). current: spec.replicas, as
 * KEDA's resolver.GetCurrentReplicas reads it. */
static int32_t fallback_replicas(const struct ss_keda_spec *spec,
                                 enum ss_keda_fallback_behavior b, int32_t current) {
  int32_t fb = spec->fallback_replicas;
  switch (b) {
  case SS_KEDA_FALLBACK_CURRENT: return current;
  case SS_KEDA_FALLBACK_CURRENT_IF_HIGHER: return current > fb ? current : fb;
  case SS_KEDA_FALLBACK_CURRENT_IF_LOWER: return current < fb ? current : fb;
  case SS_KEDA_FALLBACK_STATIC: break;
  }
  return fb;
}

/* target x replicas in milli, as the fallback metric's value, kept inside int64. */
static int64_t fallback_value(int64_t target_milli, int32_t replicas) {
  if (replicas <= 0 || target_milli <= 0)
    return 0;
  if (target_milli > INT64_MAX / replicas)
    return INT64_MAX;
  return target_milli * replicas;
}

/* ---- the HPA part ---- */

/* The HPA KEDA creates: min max(1, minReplicaCount), the ScaledObject's max and
 * behavior, one metric per trigger. paused-scale-in/out disable the HPA's
 * scale-down/up (selectPolicy Disabled), giving it a behavior if it had
 * none; the API server fills the rest of it with the defaults, which the
 * decoded rules already are. */
static void hpa_spec_of(const struct ss_keda_spec *spec, bool no_in, bool no_out,
                        struct ss_hpa_spec *h, struct ss_metric_spec *metrics,
                        char names[][SS_KEDA_METRIC_NAME_MAX]) {
  memset(h, 0, sizeof *h);
  h->min_replicas = max_i32(1, spec->min_replicas);
  h->max_replicas = spec->max_replicas;
  h->up = spec->up;
  h->down = spec->down;
  /* newHPAForScaledObject: the ScaledObject's behavior, or one made to
   * pause a direction */
  h->has_behavior = spec->has_behavior || no_in || no_out;
  if (no_in)
    h->down.select = SS_SELECT_DISABLED;
  if (no_out)
    h->up.select = SS_SELECT_DISABLED;
  h->component = -1;
  h->metrics = metrics;
  h->n_metrics = spec->n_triggers;
  for (size_t i = 0; metrics && i < spec->n_triggers; i++) {
    const struct ss_trigger *t = &spec->triggers[i];
    struct ss_metric_spec *m = &metrics[i];
    memset(m, 0, sizeof *m);
    if (is_resource(t)) {
      m->source = t->container_name ? SS_METRIC_CONTAINER_RESOURCE : SS_METRIC_RESOURCE;
      m->name = t->type == SS_TRIGGER_CPU ? "cpu" : "memory";
      m->container = t->container_name;
      m->target.type = t->metric_type;
      if (t->metric_type == SS_TARGET_UTILIZATION)
        m->target.utilization = (int32_t)(t->value.milli / 1000);
      else
        m->target.value = t->value;
      continue;
    }
    /* KEDA names a trigger's external metric s<index>-<scaler>. */
    snprintf(names[i], SS_KEDA_METRIC_NAME_MAX, "s%zu-prometheus", i);
    m->source = SS_METRIC_EXTERNAL;
    m->name = names[i];
    m->target.type = SS_TARGET_AVERAGE_VALUE;
    int64_t target = to_milli(t->threshold);
    m->target.value.milli = target > 0 ? target : 1;
  }
}

/* ---- pausing ---- */

/* KEDA's getBoolAnnotation: absent is false; a value that is not a boolean
 * (strconv.ParseBool) is true. */
static bool bool_annotation(const char *v) {
  bool b;
  if (!v)
    return false;
  return parse_bool(v, &b) ? true : b;
}

/* Returns true when the annotations pause the target; fills *out. */
static bool evaluate_paused(const struct ss_keda_input *in, struct ss_keda_result *out) {
  int32_t n = in->spec_replicas;
  bool paused = false, bad = false;
  if (in->paused_replicas) {
    /* paused-replicas pauses whatever paused says, and wins over it. */
    paused = true;
    if (parse_replicas(in->paused_replicas, &n)) {
      bad = true;
      n = in->spec_replicas;
    }
  } else {
    paused = bool_annotation(in->paused);
  }
  if (!paused)
    return false;
  out->paused = true;
  out->desired = n;
  out->scale = n != in->spec_replicas;
  out->by = out->scale ? SS_KEDA_BY_PAUSE : SS_KEDA_BY_NONE;
  if (bad)
    snprintf(out->reason, sizeof out->reason,
             "paused; %s \"%.60s\" is not a replica count, holding %d", SS_KEDA_ANN_PAUSED_REPLICAS,
             in->paused_replicas, n);
  else
    snprintf(out->reason, sizeof out->reason, "paused at %d replicas", n);
  cond_set(&out->ready, SS_KEDA_COND_TRUE, READY_OK_REASON, READY_OK_MSG);
  cond_set(&out->paused_cond, SS_KEDA_COND_TRUE, "ScaledObjectPaused", "ScaledObject is paused");
  return true;
}

/* ---- one poll ---- */

enum ss_err ss_keda_evaluate(const struct ss_keda_spec *spec, const struct ss_hpa_settings *set,
                             const struct ss_keda_state *st, const struct ss_keda_input *in,
                             struct ss_keda_result *out) {
  if (!out)
    return SS_EINVALID;
  memset(out, 0, sizeof *out);
  if (!spec || !st || !in || (spec->n_triggers && !spec->triggers) ||
      (in->n_pods && !in->pods) || (!in->triggers && !in->activate_now))
    return SS_EINVALID;
  if (spec->n_triggers > SS_KEDA_MAX_TRIGGERS)
    return SS_ELIMIT;
  if (st->n_triggers != spec->n_triggers)
    return SS_EINVALID;

  const struct ss_hpa_settings dflt = SS_HPA_SETTINGS_DEFAULT;
  if (!set)
    set = &dflt;
  int32_t cur = in->spec_replicas;
  out->current = cur;
  out->desired = cur;
  out->now_ms = in->now_ms;
  out->n_triggers = spec->n_triggers;
  memcpy(out->failures, st->failures, sizeof out->failures);
  out->in_fallback = st->in_fallback;

  out->scale_in_paused = bool_annotation(in->paused_scale_in);
  out->scale_out_paused = bool_annotation(in->paused_scale_out);
  struct ss_metric_spec metrics[SS_KEDA_MAX_TRIGGERS];
  char names[SS_KEDA_MAX_TRIGGERS][SS_KEDA_METRIC_NAME_MAX];
  struct ss_hpa_spec hspec;
  hpa_spec_of(spec, out->scale_in_paused, out->scale_out_paused, &hspec, metrics, names);
  for (size_t i = 0; i < spec->n_triggers; i++) {
    struct ss_keda_trigger_status *ts = &out->triggers[i];
    ts->resource = is_resource(&spec->triggers[i]);
    snprintf(ts->metric_name, sizeof ts->metric_name, "%s",
             ts->resource ? metrics[i].name : names[i]);
    ts->failures = st->failures[i];
  }

  /* Paused: KEDA stops polling and scaling; only paused-replicas moves it. */
  if (evaluate_paused(in, out)) {
    out->active_cond.status = SS_KEDA_COND_UNCHANGED;
    out->fallback.status = SS_KEDA_COND_UNCHANGED;
    return SS_EOK;
  }
  cond_set(&out->paused_cond, SS_KEDA_COND_FALSE, "ScaledObjectUnpaused",
           st->paused ? "pause annotation removed for ScaledObject" : "ScaledObject is not paused");
  cond_set(&out->ready, SS_KEDA_COND_TRUE, READY_OK_REASON, READY_OK_MSG);

  /* The triggers: activity, failures, and what each feeds the HPA. */
  bool polled = in->triggers != NULL;
  out->polled = polled;
  size_t n_prom = 0;
  bool any_active = false, any_fallback = false;
  int64_t values[SS_KEDA_MAX_TRIGGERS];
  struct ss_hpa_metric_input hin[SS_KEDA_MAX_TRIGGERS];
  char active_names[SS_KEDA_MSG_MAX] = "";
  memset(hin, 0, sizeof hin);
  for (size_t i = 0; i < spec->n_triggers; i++) {
    const struct ss_trigger *t = &spec->triggers[i];
    struct ss_keda_trigger_status *ts = &out->triggers[i];
    if (!is_resource(t))
      n_prom++;
    if (!polled)
      continue;
    const struct ss_keda_trigger_input *ti = &in->triggers[i];
    ts->polled = true;
    if (is_resource(t)) {
      /* cpu and memory: straight to the HPA; no activity, no fallback. */
      ts->failed = ti->failed;
      hin[i].failed = ti->failed;
      hin[i].error = ti->error;
      hin[i].samples = ti->samples;
      continue;
    }
    bool failed = ti->failed || !isfinite(ti->value);
    if (!failed) {
      out->failures[i] = 0;
      ts->value = ti->value;
      ts->active = ti->value > t->activation_threshold; /* strictly above */
      if (ts->active) {
        any_active = true;
        size_t len = strlen(active_names);
        snprintf(active_names + len, sizeof active_names - len, "%s%s", len ? ";" : "",
                 ts->metric_name);
      }
      values[i] = to_milli(ti->value);
      hin[i].values = &values[i];
      hin[i].n_values = 1;
      ts->failures = 0;
      continue;
    }
    const char *why = ti->failed ? (ti->error && *ti->error ? ti->error : "unknown error")
                                 : "value is not a finite number";
    ts->failed = true;
    if (out->failures[i] < INT32_MAX)
      out->failures[i]++;
    ts->failures = out->failures[i];
    /* KEDA counts first, then compares: fallback from failure threshold + 1. */
    if (fallback_usable(spec) && out->failures[i] > spec->fallback_failure_threshold) {
      /* The HPA is fed threshold x the fallback replicas, so its
       * AverageValue target asks for them. The fallback suppresses the
       * error and counts as active (getScalerState: fallbackActive ||
       * isMetricActive), so it also wakes a target at zero (KEDA 2.19,
       * kedacore/keda#7239). */
      ts->fallback = true;
      ts->active = true;
      any_fallback = true;
      any_active = true;
      size_t len = strlen(active_names);
      snprintf(active_names + len, sizeof active_names - len, "%s%s", len ? ";" : "",
               ts->metric_name);
      int32_t n = fallback_replicas(spec, in->fallback_behavior, in->spec_replicas);
      values[i] = fallback_value(metrics[i].target.value.milli, n);
      ts->value = (double)values[i] / 1000.0;
      hin[i].values = &values[i];
      hin[i].n_values = 1;
    } else {
      out->error = true;
      event_add(out, SS_KEDA_EV_SCALER_FAILED, true, "KEDAScalerFailed", "%s: %s",
                ts->metric_name, why);
      hin[i].failed = true;
      hin[i].error = why;
    }
  }
  if (polled) {
    out->in_fallback = any_fallback;
    if (any_fallback)
      cond_set(&out->fallback, SS_KEDA_COND_TRUE, "FallbackExists",
               "At least one trigger is falling back on this scaled object");
    else
      cond_set(&out->fallback, SS_KEDA_COND_FALSE, "NoFallbackFound",
               "No fallbacks are active on this scaled object");
    /* checkScalers: on a change of the Fallback condition */
    if (any_fallback && !st->in_fallback)
      event_add(out, SS_KEDA_EV_FALLBACK_ACTIVATED, false, "ScaledObjectFallbackActivated",
                "ScaledObject fallback is active");
    else if (!any_fallback && st->in_fallback)
      event_add(out, SS_KEDA_EV_FALLBACK_DEACTIVATED, false, "ScaledObjectFallbackDeactivated",
                "ScaledObject fallback is no longer active");
  } else {
    out->fallback.status = SS_KEDA_COND_UNCHANGED;
  }

  /* cpu and memory cannot wake a target, so with no other trigger it is
   * always active; a request at zero makes it active at once. */
  bool active = in->activate_now || any_active || (polled && n_prom == 0);
  out->active = active;
  int32_t min = spec->min_replicas;
  bool idle_set = spec->idle_replicas >= 0;

  if (active) {
    if (in->activate_now && !any_active)
      cond_set(&out->active_cond, SS_KEDA_COND_TRUE, "ScalerActive",
               "Scaling is performed because a request is waiting at zero replicas");
    else
      cond_set(&out->active_cond, SS_KEDA_COND_TRUE, "ScalerActive",
               "Scaling is performed because triggers are active");
    if (((idle_set && cur < min) || cur == 0) && out->scale_out_paused) {
      /* scaleFromZeroOrIdle: paused-scale-out holds it where it is, and
       * nothing was activated, so lastActiveTime stays */
    } else if ((idle_set && cur < min) || cur == 0) {
      int32_t to = max_i32(1, min);
      out->desired = to;
      out->by = SS_KEDA_BY_ACTIVATION;
      snprintf(out->reason, sizeof out->reason, "activated: %s",
               any_active ? active_names : "request waiting at zero replicas");
      struct ss_keda_event *e =
          event_add(out, SS_KEDA_EV_ACTIVATED, false, "KEDAScaleTargetActivated",
                    "Scaled from %d to %d, %s %s", cur, to,
                    any_active ? "triggered by" : "caused by",
                    any_active ? active_names : "a request waiting at zero replicas");
      if (e) {
        e->on_apply = true;
        e->failed_reason = "KEDAScaleTargetActivationFailed";
      }
      /* lastActiveTime once the scale took (ss_keda_commit) */
      out->mark_active = true;
    } else if (out->error) {
      /* RequestScale: active but some trigger failed. Ready Unknown, and
       * lastActiveTime is not refreshed by a poll that failed. */
      cond_set(&out->ready, SS_KEDA_COND_UNKNOWN, "PartialTriggerError",
               "Some triggers defined in ScaledObject are not working correctly");
    } else {
      /* the cooldown counts from the last poll that found it active */
      out->mark_active = true;
    }
  } else {
    cond_set(&out->active_cond, SS_KEDA_COND_FALSE, "ScalerNotActive",
             "Scaling is not performed because triggers are not active");
    if (out->error && spec->has_fallback && spec->fallback_replicas != 0) {
      /* Failing, not active: never read the outage as no load. The HPA goes
       * to fallback.replicas once the threshold is passed. */
    } else if (out->error && !spec->has_fallback) {
      cond_set(&out->ready, SS_KEDA_COND_FALSE, "TriggerError",
               "Triggers defined in ScaledObject are not working correctly");
    } else if (((idle_set && cur > spec->idle_replicas) || (cur > 0 && min == 0)) &&
               out->scale_in_paused) {
      /* scaleToZeroOrIdle: paused-scale-in keeps it up, no cooldown either */
    } else if ((idle_set && cur > spec->idle_replicas) || (cur > 0 && min == 0)) {
      /* Back to idle or zero, once the cooldown has passed (strictly, as
       * KEDA's time.Before). Never active: initialCooldownPeriod after
       * creation instead. */
      bool cooled = st->has_last_active
                        ? st->last_active_ms + (int64_t)spec->cooldown_period * 1000 < in->now_ms
                        : st->created_ms + (int64_t)spec->initial_cooldown_period * 1000 <
                              in->now_ms;
      if (cooled) {
        int32_t to = idle_set ? spec->idle_replicas : min;
        out->desired = to;
        out->by = SS_KEDA_BY_DEACTIVATION;
        snprintf(out->reason, sizeof out->reason, "deactivated: triggers not active for %ds",
                 st->has_last_active ? spec->cooldown_period : spec->initial_cooldown_period);
        if (to != cur) {
          struct ss_keda_event *e =
              event_add(out, SS_KEDA_EV_DEACTIVATED, false, "KEDAScaleTargetDeactivated",
                        "Deactivated from %d to %d", cur, to);
          if (e) {
            e->on_apply = true;
            e->failed_reason = "KEDAScaleTargetDeactivationFailed";
          }
        }
      } else {
        out->cooling_down = true;
        cond_set(&out->active_cond, SS_KEDA_COND_FALSE, "ScalerCooldown",
                 "Scaler cooling down because triggers are not active");
      }
    } else if (!idle_set && cur < min) {
      out->desired = min;
      out->by = SS_KEDA_BY_MIN;
      snprintf(out->reason, sizeof out->reason, "below minReplicaCount %d", min);
    }
  }

  /* Between 1 and max, when KEDA itself did not move it, the HPA decides.
   * At zero (or idle) the HPA is off, as Kubernetes' is at zero. */
  if (out->by == SS_KEDA_BY_NONE && polled && cur > 0 &&
      !(idle_set && cur <= spec->idle_replicas)) {
    struct ss_hpa_input hi = {
        .spec_replicas = cur,
        .status_replicas = in->status_replicas,
        .pods = in->pods,
        .n_pods = in->n_pods,
        .metrics = hin,
        .now_ms = in->now_ms,
    };
    enum ss_err e = ss_hpa_evaluate(&hspec, set, &hi, &st->hpa, &out->hpa);
    if (e) {
      memset(out, 0, sizeof *out);
      return e;
    }
    out->hpa_ran = true;
    for (size_t i = 0; i < spec->n_triggers; i++)
      out->triggers[i].hpa = out->hpa.metrics[i];
    if (out->hpa.failed) {
      event_add(out, SS_KEDA_EV_HPA_FAILED, true, "FailedComputeMetricsReplicas", "%s",
                out->hpa.error);
    } else if (out->hpa.scale) {
      out->desired = out->hpa.desired;
      out->by = SS_KEDA_BY_HPA;
      snprintf(out->reason, sizeof out->reason, "%s", out->hpa.reason);
      struct ss_keda_event *ev =
          event_add(out, SS_KEDA_EV_HPA_RESCALE, false, "SuccessfulRescale",
                    "New size: %d; reason: %s", out->hpa.desired, out->hpa.reason);
      if (ev) {
        ev->on_apply = true;
        ev->failed_reason = "FailedRescale";
      }
    }
  }
  out->scale = out->desired != cur;
  if (!out->scale)
    out->by = SS_KEDA_BY_NONE;
  return SS_EOK;
}

enum ss_err ss_keda_commit(struct ss_keda_state *st, const struct ss_keda_result *res,
                           bool applied) {
  if (!st || !res)
    return SS_EINVALID;
  st->paused = res->paused;
  if (res->paused)
    return SS_EOK;
  if (res->polled) {
    st->polled = true;
    st->last_poll_ms = res->now_ms;
    memcpy(st->failures, res->failures, sizeof st->failures);
    st->in_fallback = res->in_fallback;
  }
  /* KEDA stamps lastActiveTime on activation only once the scale took. */
  if (res->mark_active && (res->by != SS_KEDA_BY_ACTIVATION || applied)) {
    st->has_last_active = true;
    st->last_active_ms = res->now_ms;
  }
  if (res->hpa_ran)
    return ss_hpa_commit(&st->hpa, &res->hpa, applied && res->by == SS_KEDA_BY_HPA);
  return SS_EOK;
}

enum ss_err ss_keda_state_init(struct ss_keda_state *st, const struct ss_keda_spec *spec,
                               int64_t created_ms) {
  if (!st || !spec)
    return SS_EINVALID;
  memset(st, 0, sizeof *st);
  if (spec->n_triggers > SS_KEDA_MAX_TRIGGERS)
    return SS_ELIMIT;
  st->created_ms = created_ms;
  st->n_triggers = spec->n_triggers;
  return SS_EOK;
}

void ss_keda_state_free(struct ss_keda_state *st) {
  if (!st)
    return;
  ss_hpa_history_free(&st->hpa);
}

int64_t ss_keda_next_poll_ms(const struct ss_keda_spec *spec, const struct ss_keda_state *st) {
  if (!spec || !st)
    return 0;
  if (!st->polled)
    return st->created_ms;
  return st->last_poll_ms + (int64_t)spec->polling_interval * 1000;
}

const char *ss_keda_decider_name(enum ss_keda_decider d) {
  switch (d) {
  case SS_KEDA_BY_NONE: return "none";
  case SS_KEDA_BY_PAUSE: return "paused-replicas";
  case SS_KEDA_BY_ACTIVATION: return "activation";
  case SS_KEDA_BY_DEACTIVATION: return "deactivation";
  case SS_KEDA_BY_MIN: return "min-replicas";
  case SS_KEDA_BY_HPA: return "hpa";
  }
  return "unknown";
}
