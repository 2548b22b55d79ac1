/* keda.h: a KEDA ScaledObject's decision for one poll (activation to and from
 * zero or idleReplicaCount, cooldown, fallback, pausing, and the HPA it drives
 * between 1 and maxReplicaCount), as a pure function of its inputs.
 *
 * ss_keda_evaluate() reads no clock, does no I/O and keeps no globals. The
 * caller supplies, on every poll (every spec.polling_interval seconds, see
 * ss_keda_next_poll_ms):
 *   - the typed spec (borrowed) and the HPA controller settings (NULL:
 *     Kubernetes' defaults);
 *   - the scale's spec.replicas and status.replicas;
 *   - the pause annotations' values (autoscaling.keda.sh/paused,
 *     paused-replicas, paused-scale-in and paused-scale-out), NULL when
 *     absent, and spec.fallback.behavior (the typed spec's);
 *   - per trigger, in spec order, this poll's outcome: for prometheus the
 *     value (after ignoreNullValues was applied) or that it failed and why;
 *     for cpu and memory the per-replica samples hpa.h wants, parallel to
 *     the pods, or that fetching failed;
 *   - activate_now: a request is waiting at zero replicas (the gateway's
 *     queue); the target counts as active even if no trigger says so. With
 *     activate_now the triggers may be NULL: an off-schedule call that only
 *     wakes the target, counts no failure and runs no HPA;
 *   - now_ms, on the same clock as state->created_ms.
 * The caller keeps one struct ss_keda_state per ScaledObject (ss_keda_state_init
 * / ss_keda_state_free; it owns the HPA's history, which grows as hpa.h
 * says) and calls ss_keda_commit() after each evaluation,
 * saying whether the new size was applied. The caller applies the size, emits
 * the events in result.events (for Activated/Deactivated only once applied;
 * if applying failed, the event's failed_reason instead), and shows the
 * conditions and trigger values in describe.
 *
 * What the caller does not do: the prometheus query, NaN/empty handling
 * (ignoreNullValues), the loop. Those are elsewhere. */
#ifndef SS_AUTOSCALE_KEDA_H
#define SS_AUTOSCALE_KEDA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "autoscale/hpa.h"
#include "common/err.h"
#include "model/autoscaling.h"

#define SS_KEDA_MAX_TRIGGERS SS_HPA_MAX_METRICS /* each trigger is one HPA metric */
#define SS_KEDA_MAX_EVENTS (8 + SS_KEDA_MAX_TRIGGERS)
#define SS_KEDA_MSG_MAX 256
#define SS_KEDA_METRIC_NAME_MAX 64

/* KEDA's annotations on a ScaledObject (apis/keda/v1alpha1/scaledobject_types.go). */
#define SS_KEDA_ANN_PAUSED "autoscaling.keda.sh/paused"
#define SS_KEDA_ANN_PAUSED_REPLICAS "autoscaling.keda.sh/paused-replicas"
#define SS_KEDA_ANN_PAUSED_SCALE_IN "autoscaling.keda.sh/paused-scale-in"
#define SS_KEDA_ANN_PAUSED_SCALE_OUT "autoscaling.keda.sh/paused-scale-out"

/* enum ss_keda_fallback_behavior and ss_keda_fallback_behavior_parse are
 * the model's (model/autoscaling.h): the typed spec carries the value. */

/* One trigger's outcome for this poll. */
struct ss_keda_trigger_input {
  bool failed;       /* the query (or metrics fetch) failed */
  const char *error; /* why, may be NULL; borrowed */
  double value;      /* prometheus: the query's value; NaN/Inf count as failed */
  const struct ss_hpa_sample *samples; /* cpu/memory: n_pods samples; borrowed */
};

struct ss_keda_input {
  int32_t spec_replicas;   /* scale spec.replicas: the size KEDA works from */
  int32_t status_replicas; /* scale status.replicas (running) */
  const char *paused;          /* SS_KEDA_ANN_PAUSED value, NULL when absent */
  const char *paused_replicas; /* SS_KEDA_ANN_PAUSED_REPLICAS value, NULL when absent */
  const char *paused_scale_in;  /* SS_KEDA_ANN_PAUSED_SCALE_IN value, NULL when absent */
  const char *paused_scale_out; /* SS_KEDA_ANN_PAUSED_SCALE_OUT value, NULL when absent */
  /* spec.fallback.behavior: the caller passes spec->fallback_behavior. */
  enum ss_keda_fallback_behavior fallback_behavior;
  const struct ss_keda_trigger_input *triggers; /* spec->n_triggers entries; NULL: no poll */
  const struct ss_hpa_pod *pods; /* the target's replicas, for cpu/memory */
  size_t n_pods;
  bool activate_now; /* a request waits at zero: treat as active now */
  int64_t now_ms;
};

/* Kept between polls; owned by the caller, the HPA history by the state. */
struct ss_keda_state {
  int64_t created_ms;      /* the ScaledObject's creation: initialCooldownPeriod */
  bool has_last_active;    /* status.lastActiveTime is set */
  int64_t last_active_ms;
  bool polled;             /* at least one poll happened */
  int64_t last_poll_ms;
  bool in_fallback;        /* some trigger is falling back */
  bool paused;             /* the last evaluation was paused */
  size_t n_triggers;
  int32_t failures[SS_KEDA_MAX_TRIGGERS]; /* consecutive failed polls per trigger */
  struct ss_hpa_history hpa; /* the HPA's recommendations and scale events */
};

/* Condition status; UNCHANGED: keep what the last evaluation said. */
enum ss_keda_cond_status {
  SS_KEDA_COND_UNCHANGED,
  SS_KEDA_COND_TRUE,
  SS_KEDA_COND_FALSE,
  SS_KEDA_COND_UNKNOWN
};

struct ss_keda_condition {
  enum ss_keda_cond_status status;
  const char *reason; /* static; NULL when UNCHANGED */
  char message[SS_KEDA_MSG_MAX];
};

enum ss_keda_event_kind {
  SS_KEDA_EV_ACTIVATED,      /* KEDAScaleTargetActivated: from 0/idle to max(1, min) */
  SS_KEDA_EV_DEACTIVATED,    /* KEDAScaleTargetDeactivated: to 0/idle after cooldown */
  SS_KEDA_EV_FALLBACK_ACTIVATED,   /* ScaledObjectFallbackActivated */
  SS_KEDA_EV_FALLBACK_DEACTIVATED, /* ScaledObjectFallbackDeactivated */
  SS_KEDA_EV_SCALER_FAILED,  /* KEDAScalerFailed: one trigger's poll failed */
  SS_KEDA_EV_HPA_RESCALE,    /* SuccessfulRescale by the HPA part */
  SS_KEDA_EV_HPA_FAILED      /* FailedComputeMetricsReplicas by the HPA part */
};

struct ss_keda_event {
  enum ss_keda_event_kind kind;
  bool warning;              /* Kubernetes event type Warning (else Normal) */
  bool on_apply;             /* only true once the size was applied */
  const char *reason;        /* static */
  const char *failed_reason; /* static, when on_apply and applying failed; else NULL */
  char message[SS_KEDA_MSG_MAX];
};

/* Who decided the size. */
enum ss_keda_decider {
  SS_KEDA_BY_NONE,         /* nothing to do */
  SS_KEDA_BY_PAUSE,        /* paused-replicas */
  SS_KEDA_BY_ACTIVATION,   /* from 0/idle to max(1, min) */
  SS_KEDA_BY_DEACTIVATION, /* to 0/idle after cooldown */
  SS_KEDA_BY_MIN,          /* inactive below minReplicaCount: brought to min */
  SS_KEDA_BY_HPA           /* the HPA between 1 and max */
};

/* One trigger, for status and describe. */
struct ss_keda_trigger_status {
  char metric_name[SS_KEDA_METRIC_NAME_MAX]; /* KEDA's external name: s<i>-prometheus */
  bool resource;  /* cpu or memory */
  bool polled;    /* this evaluation had its outcome */
  bool failed;
  bool active;    /* value > activationThreshold, or falling back */
  bool fallback;  /* failures > failureThreshold: fed the fallback replicas x threshold */
  double value;   /* prometheus: the value used (the fallback value when falling back) */
  int32_t failures; /* consecutive failed polls, after this one */
  struct ss_hpa_metric_status hpa; /* what the HPA made of it, when it ran */
};

struct ss_keda_result {
  int32_t current; /* spec_replicas it started from */
  int32_t desired;
  bool scale;      /* desired differs and must be applied */
  enum ss_keda_decider by;
  char reason[SS_KEDA_MSG_MAX];

  bool polled;       /* triggers were given */
  bool active;       /* the target counts as active (triggers or activate_now) */
  bool error;        /* some prometheus trigger failed this poll (and is not
                        falling back: a fallback is no error, KEDA's scale handler) */
  bool in_fallback;
  bool paused;
  bool cooling_down; /* inactive, waiting for cooldown before going to 0/idle */
  bool scale_in_paused, scale_out_paused; /* by annotation */

  struct ss_keda_condition ready, active_cond, fallback, paused_cond;

  size_t n_events;
  struct ss_keda_event events[SS_KEDA_MAX_EVENTS];

  size_t n_triggers;
  struct ss_keda_trigger_status triggers[SS_KEDA_MAX_TRIGGERS];

  bool hpa_ran; /* the HPA part decided (or tried to) */
  struct ss_hpa_result hpa;

  /* for ss_keda_commit */
  int64_t now_ms;
  bool mark_active;   /* set lastActiveTime to now (for activation: once applied) */
  int32_t failures[SS_KEDA_MAX_TRIGGERS];
};

/* Prepares *st for spec: no activity yet, created at created_ms, an empty
 * HPA history. Returns SS_EOK, SS_EINVALID (NULL) or SS_ELIMIT (too many
 * triggers). */
enum ss_err ss_keda_state_init(struct ss_keda_state *st, const struct ss_keda_spec *spec,
                               int64_t created_ms);
/* Frees the HPA history; accepts NULL. */
void ss_keda_state_free(struct ss_keda_state *st);

/* Decides one poll. Borrows everything; fills *out. Returns SS_EOK, or
 * SS_EINVALID (NULL argument, a state for another trigger count, no triggers
 * and no activate_now) or SS_ELIMIT (more than SS_KEDA_MAX_TRIGGERS), with
 * *out zeroed. */
enum ss_err ss_keda_evaluate(const struct ss_keda_spec *spec, const struct ss_hpa_settings *set,
                             const struct ss_keda_state *st, const struct ss_keda_input *in,
                             struct ss_keda_result *out);

/* Stores what the evaluation decided; applied: the scale now has
 * res->desired (ignored when res->scale is false). Returns what
 * ss_hpa_commit returned for the HPA's history (SS_EOK when the HPA did not
 * run), SS_EINVALID for NULL; the rest is stored in any case. */
enum ss_err ss_keda_commit(struct ss_keda_state *st, const struct ss_keda_result *res,
                           bool applied);

/* When the next poll is due: now for a state never polled (its creation),
 * else the last poll plus pollingInterval. A request at zero need not wait
 * for it: evaluate with activate_now. */
int64_t ss_keda_next_poll_ms(const struct ss_keda_spec *spec, const struct ss_keda_state *st);

const char *ss_keda_decider_name(enum ss_keda_decider d);

#endif
