/* test_keda.c: unit tests for src/autoscale/keda.c (a KEDA ScaledObject's
 * decision per poll), as one table of named cases, each a short script of
 * polls over simulated time pinning down one rule, and a few longer
 * scenarios (the seed's kedaSpec under a load step). Expected sizes are
 * worked out by hand from KEDA's documented behaviour and the HPA's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "autoscale/keda.h"

#define N_ELEMS(a) (sizeof(a) / sizeof *(a))
#define MAXT 3      /* triggers per case */
#define MAXP 16     /* replicas simulated with samples */
#define MAXSTEPS 12
#define BASE_MS (INT64_C(1000000) * 1000) /* the ScaledObject's creation */

/* Kubernetes' default behavior, as the decoder fills it in. */
static struct ss_scaling_policy up_default_pol[] = {{SS_POLICY_PODS, 4, 15},
                                                    {SS_POLICY_PERCENT, 100, 15}};
static struct ss_scaling_policy down_default_pol[] = {{SS_POLICY_PERCENT, 100, 15}};
static const struct ss_scaling_rules up_default = {0, SS_SELECT_MAX, up_default_pol, 2, -1};
static const struct ss_scaling_rules down_default = {300, SS_SELECT_MAX, down_default_pol, 1, -1};
static struct ss_scaling_policy pods1_60[] = {{SS_POLICY_PODS, 1, 60}};
static const struct ss_scaling_rules up_pods1_per_min = {0, SS_SELECT_MAX, pods1_60, 1, -1};
static const struct ss_scaling_rules down_no_window = {0, SS_SELECT_MAX, down_default_pol, 1, -1};

/* ---- the table ---- */

struct trig_row {
  enum ss_trigger_type type;
  double threshold, activation; /* prometheus */
  enum ss_target_type mt;       /* cpu/memory */
  int64_t target;               /* cpu/memory: percent or milli */
};

#define PROM(th, act) {SS_TRIGGER_PROMETHEUS, th, act, SS_TARGET_AVERAGE_VALUE, 0}
#define CPU_UTIL(pct) {SS_TRIGGER_CPU, 0, 0, SS_TARGET_UTILIZATION, pct}

struct step {
  int64_t t;         /* seconds after creation */
  double v[MAXT];    /* per trigger: prometheus value */
  unsigned fail;     /* bit i: trigger i failed */
  int64_t cpu;       /* cpu triggers: usage per replica, milli (request 1000m) */
  bool now;          /* activate_now */
  bool no_poll;      /* no trigger outcomes (with now) */
  const char *paused, *paused_replicas;
  const char *paused_in, *paused_out; /* paused-scale-in, paused-scale-out */
  int32_t want;      /* the size after this poll */
  const char *by;    /* decider name; NULL: not checked */
  char active, ready, fallback, paused_c; /* 'T' 'F' 'U' '=' (unchanged); 0: not checked */
  const char *active_reason;
  const char *event;    /* an event reason this poll must emit */
  const char *no_event; /* an event reason this poll must not emit */
};

struct keda_case {
  const char *name;
  int32_t min, max, cooldown, initial, polling; /* max 0: 5; polling 0: 15 */
  bool has_idle;
  int32_t idle;
  bool has_fallback;
  int32_t fb_threshold, fb_replicas;
  const struct ss_scaling_rules *up, *down; /* NULL: the defaults */
  bool behavior;                            /* behavior written (implied by up/down) */
  enum ss_keda_fallback_behavior fb_behavior;
  size_t n_trig;
  struct trig_row trig[MAXT];
  int32_t start; /* spec.replicas at creation */
  size_t n_steps;
  struct step steps[MAXSTEPS];
};

#define F1 1u /* trigger 0 failed */
#define F2 2u /* trigger 1 failed */

static const struct keda_case cases[] = {
    /* ---- activation ---- */
    {.name = "activation_above_threshold_strictly", .min = 0, .cooldown = 300, .n_trig = 1,
     .trig = {PROM(10, 5)}, .start = 0, .n_steps = 2,
     .steps = {{.t = 15, .v = {5}, .want = 0, .active = 'F'},
               {.t = 30, .v = {5.001}, .want = 1, .by = "activation", .active = 'T',
                .event = "KEDAScaleTargetActivated"}}},
    {.name = "activation_threshold_defaults_to_zero", .min = 0, .cooldown = 300, .n_trig = 1,
     .trig = {PROM(10, 0)}, .start = 0, .n_steps = 2,
     .steps = {{.t = 15, .v = {0}, .want = 0, .active = 'F', .no_event = "KEDAScaleTargetActivated"},
               {.t = 30, .v = {0.5}, .want = 1, .active = 'T'}}},
    {.name = "activation_ignored_when_min_at_least_one", .min = 1, .cooldown = 0, .n_trig = 1,
     .trig = {PROM(10, 50)}, .start = 1, .n_steps = 2,
     /* below activation, yet the HPA scales on the value and nothing goes to
      * zero; no behavior: up to max(2 x 1, 4) per sync, then the 5 it
      * recommended at t=15 is the highest in its window, which lifts it
      * although the metric is below target (normalizeDesiredReplicas) */
     .steps = {{.t = 15, .v = {45}, .want = 4, .by = "hpa", .active = 'F'},
               {.t = 30, .v = {0}, .want = 5, .active = 'F'}}},
    {.name = "any_trigger_active_makes_target_active", .min = 0, .cooldown = 300, .n_trig = 2,
     .trig = {PROM(10, 5), PROM(10, 5)}, .start = 0, .n_steps = 1,
     .steps = {{.t = 15, .v = {1, 6}, .want = 1, .active = 'T'}}},
    {.name = "zero_to_min_on_activation", .min = 3, .max = 10, .cooldown = 300, .n_trig = 1,
     .trig = {PROM(10, 0)}, .start = 0, .n_steps = 1,
     .steps = {{.t = 15, .v = {20}, .want = 3, .by = "activation", .active = 'T',
                .event = "KEDAScaleTargetActivated"}}},
    {.name = "zero_to_one_then_hpa_takes_over", .min = 0, .cooldown = 300, .n_trig = 1,
     .trig = {PROM(10, 0)}, .start = 0, .n_steps = 2,
     /* activation goes to 1 even though the value asks for more; the HPA
      * next, without behavior: max(2 x 1, 4) */
     .steps = {{.t = 15, .v = {100}, .want = 1, .by = "activation"},
               {.t = 30, .v = {100}, .want = 4, .by = "hpa", .event = "SuccessfulRescale"}}},
    {.name = "inactive_below_min_brought_to_min", .min = 2, .cooldown = 300, .n_trig = 1,
     .trig = {PROM(10, 0)}, .start = 0, .n_steps = 1,
     .steps = {{.t = 15, .v = {0}, .want = 2, .by = "min-replicas", .active = 'F',
                .no_event = "KEDAScaleTargetActivated"}}},

    /* ---- cooldown ---- */
    {.name = "stays_until_cooldown_after_last_active", .min = 0, .cooldown = 60, .n_trig = 1,
     .trig = {PROM(10, 0)}, .start = 1, .n_steps = 5,
     .steps = {{.t = 15, .v = {5}, .want = 1, .active = 'T'},
               {.t = 30, .v = {0}, .want = 1, .active = 'F', .active_reason = "ScalerCooldown"},
               {.t = 60, .v = {0}, .want = 1, .active_reason = "ScalerCooldown"},
               /* 15 + 60 is not before 75: still cooling */
               {.t = 75, .v = {0}, .want = 1, .active_reason = "ScalerCooldown"},
               {.t = 90, .v = {0}, .want = 0, .by = "deactivation", .active = 'F',
                .active_reason = "ScalerNotActive", .event = "KEDAScaleTargetDeactivated"}}},
    {.name = "cooldown_restarts_when_active_again", .min = 0, .cooldown = 60, .n_trig = 1,
     .trig = {PROM(10, 0)}, .start = 1, .n_steps = 4,
     .steps = {{.t = 15, .v = {5}, .want = 1},
               {.t = 60, .v = {5}, .want = 1},
               {.t = 90, .v = {0}, .want = 1},
               {.t = 121, .v = {0}, .want = 0}}},
    {.name = "initial_cooldown_after_creation", .min = 0, .cooldown = 30, .initial = 120,
     .n_trig = 1, .trig = {PROM(10, 0)}, .start = 1, .n_steps = 3,
     .steps = {{.t = 60, .v = {0}, .want = 1, .active_reason = "ScalerCooldown"},
               {.t = 120, .v = {0}, .want = 1},
               {.t = 135, .v = {0}, .want = 0, .by = "deactivation"}}},
    {.name = "never_active_without_initial_cooldown_goes_to_zero", .min = 0, .cooldown = 300,
     .n_trig = 1, .trig = {PROM(10, 0)}, .start = 2, .n_steps = 1,
     .steps = {{.t = 15, .v = {0}, .want = 0, .by = "deactivation"}}},
    {.name = "idle_replica_count_instead_of_zero", .min = 3, .max = 10, .has_idle = true,
     .idle = 1, .cooldown = 30, .n_trig = 1, .trig = {PROM(10, 0)}, .start = 1, .n_steps = 4,
     /* at idle the HPA is off (it would bring 1 up to min 3) */
     .steps = {{.t = 15, .v = {0}, .want = 1, .active = 'F'},
               {.t = 30, .v = {20}, .want = 3, .by = "activation",
                .event = "KEDAScaleTargetActivated"},
               {.t = 45, .v = {0}, .want = 3, .active_reason = "ScalerCooldown"},
               {.t = 75, .v = {0}, .want = 1, .by = "deactivation",
                .event = "KEDAScaleTargetDeactivated"}}},
    {.name = "idle_replica_count_from_above_min", .min = 2, .max = 10, .has_idle = true,
     .idle = 0, .cooldown = 0, .n_trig = 1, .trig = {PROM(10, 0)}, .start = 6, .n_steps = 1,
     .steps = {{.t = 15, .v = {0}, .want = 0, .by = "deactivation"}}},

    /* ---- the HPA part ---- */
    {.name = "average_value_ceil_value_over_threshold", .min = 1, .max = 10, .n_trig = 1,
     .trig = {PROM(10, 0)}, .start = 1, .n_steps = 1,
     .steps = {{.t = 15, .v = {21}, .want = 3, .by = "hpa"}}},
    {.name = "average_value_inside_tolerance_keeps_size", .min = 1, .max = 10, .n_trig = 1,
     .trig = {PROM(10, 0)}, .start = 2, .n_steps = 1,
     .steps = {{.t = 15, .v = {21}, .want = 2}}},
    {.name = "max_over_triggers", .min = 1, .max = 10, .n_trig = 2,
     .trig = {PROM(10, 0), PROM(5, 0)}, .start = 3, .n_steps = 1,
     .steps = {{.t = 15, .v = {25, 30}, .want = 6, .by = "hpa"}}},
    {.name = "clamp_to_max", .min = 1, .max = 5, .n_trig = 1, .trig = {PROM(10, 0)},
     .start = 4, .n_steps = 1, .steps = {{.t = 15, .v = {1000}, .want = 5}}},
    {.name = "above_max_brought_to_max", .min = 1, .max = 5, .n_trig = 1, .trig = {PROM(10, 0)},
     .start = 8, .n_steps = 1, .steps = {{.t = 15, .v = {1000}, .want = 5, .by = "hpa"}}},
    {.name = "advanced_behavior_applies", .min = 1, .max = 10, .up = &up_pods1_per_min,
     .n_trig = 1, .trig = {PROM(10, 0)}, .start = 1, .n_steps = 3,
     /* one replica per minute, counted from the scale events */
     .steps = {{.t = 15, .v = {45}, .want = 2},
               {.t = 30, .v = {45}, .want = 2},
               {.t = 75, .v = {45}, .want = 3}}},
    {.name = "advanced_behavior_scale_down_window_zero", .min = 1, .max = 10,
     .down = &down_no_window, .n_trig = 1, .trig = {PROM(10, 0)}, .start = 5, .n_steps = 1,
     .steps = {{.t = 15, .v = {0}, .want = 1, .by = "hpa"}}},
    {.name = "default_scale_down_stabilization_holds", .min = 1, .max = 10, .n_trig = 1,
     .trig = {PROM(10, 0)}, .start = 5, .n_steps = 2,
     .steps = {{.t = 15, .v = {50}, .want = 5}, {.t = 30, .v = {0}, .want = 5}}},
    {.name = "cpu_trigger_scales_through_hpa", .min = 1, .max = 10, .n_trig = 1,
     .trig = {CPU_UTIL(50)}, .start = 2, .n_steps = 1,
     .steps = {{.t = 15, .cpu = 1000, .want = 4, .by = "hpa"}}},
    {.name = "cpu_only_triggers_always_active", .min = 1, .max = 10, .n_trig = 1,
     .trig = {CPU_UTIL(50)}, .start = 2, .n_steps = 1,
     .steps = {{.t = 15, .cpu = 500, .want = 2, .active = 'T'}}},

    /* ---- fallback and failures ---- */
    {.name = "fallback_after_threshold_failures", .min = 1, .max = 10, .has_fallback = true,
     .fb_threshold = 2, .fb_replicas = 4, .n_trig = 1, .trig = {PROM(10, 0)}, .start = 2,
     .n_steps = 4,
     .steps = {{.t = 15, .v = {20}, .want = 2, .fallback = 'F'},
               {.t = 30, .fail = F1, .want = 2, .fallback = 'F', .event = "KEDAScalerFailed"},
               /* 2 failures is not more than 2 */
               {.t = 45, .fail = F1, .want = 2, .fallback = 'F',
                .no_event = "ScaledObjectFallbackActivated"},
               {.t = 60, .fail = F1, .want = 4, .by = "hpa", .fallback = 'T',
                .event = "ScaledObjectFallbackActivated"}}},
    {.name = "fallback_threshold_zero_on_first_failure", .min = 1, .max = 10,
     .has_fallback = true, .fb_threshold = 0, .fb_replicas = 3, .n_trig = 1,
     .trig = {PROM(10, 0)}, .start = 1, .n_steps = 1,
     .steps = {{.t = 15, .fail = F1, .want = 3, .fallback = 'T'}}},
    {.name = "fallback_left_on_success", .min = 1, .max = 10, .has_fallback = true,
     .fb_threshold = 0, .fb_replicas = 4, .n_trig = 1, .trig = {PROM(10, 0)}, .start = 2,
     .n_steps = 3,
     .steps = {{.t = 15, .fail = F1, .want = 4, .fallback = 'T'},
               {.t = 30, .fail = F1, .want = 4, .fallback = 'T', .no_event = "ScaledObjectFallbackActivated"},
               /* back to the metric; the scale-down window still holds 4 */
               {.t = 45, .v = {20}, .want = 4, .fallback = 'F', .ready = 'T',
                .event = "ScaledObjectFallbackDeactivated"}}},
    {.name = "fallback_not_for_cpu_memory", .min = 1, .max = 10, .has_fallback = true,
     .fb_threshold = 0, .fb_replicas = 6, .n_trig = 1, .trig = {CPU_UTIL(50)}, .start = 2,
     .n_steps = 2,
     .steps = {{.t = 15, .fail = F1, .want = 2, .fallback = 'F',
                .no_event = "ScaledObjectFallbackActivated"},
               {.t = 30, .fail = F1, .want = 2, .fallback = 'F'}}},
    {.name = "fallback_replicas_clamped_to_max", .min = 1, .max = 5, .has_fallback = true,
     .fb_threshold = 0, .fb_replicas = 9, .n_trig = 1, .trig = {PROM(10, 0)}, .start = 3,
     .n_steps = 1, .steps = {{.t = 15, .fail = F1, .want = 5, .fallback = 'T'}}},
    /* KEDA 2.19 (kedacore/keda#7239, "apply fallback in polling loop to
     * enable scaling from zero"): a falling-back trigger counts as active,
     * is no error, so it wakes the target; the HPA then holds the fallback */
    {.name = "fallback_from_zero_activates", .min = 0, .has_fallback = true, .fb_threshold = 0,
     .fb_replicas = 3, .cooldown = 0, .n_trig = 1, .trig = {PROM(10, 0)}, .start = 0,
     .n_steps = 3,
     .steps = {{.t = 15, .fail = F1, .want = 1, .by = "activation", .active = 'T', .ready = 'T',
                .fallback = 'T', .event = "KEDAScaleTargetActivated",
                .no_event = "KEDAScalerFailed"},
               {.t = 30, .fail = F1, .want = 3, .by = "hpa", .active = 'T'},
               /* cooldown 0 after the last (fallback) activity: back to 0 */
               {.t = 45, .v = {0}, .want = 0, .by = "deactivation", .fallback = 'F',
                .event = "ScaledObjectFallbackDeactivated"}}},
    /* below the threshold a failure is an error: nothing wakes */
    {.name = "failure_below_threshold_does_not_wake", .min = 0, .has_fallback = true,
     .fb_threshold = 1, .fb_replicas = 3, .cooldown = 0, .n_trig = 1, .trig = {PROM(10, 0)},
     .start = 0, .n_steps = 2,
     .steps = {{.t = 15, .fail = F1, .want = 0, .active = 'F', .event = "KEDAScalerFailed"},
               {.t = 30, .fail = F1, .want = 1, .by = "activation", .active = 'T'}}},
    {.name = "outage_never_scales_down", .min = 0, .cooldown = 30, .n_trig = 1,
     .trig = {PROM(10, 0)}, .start = 3, .n_steps = 5,
     .steps = {{.t = 15, .v = {30}, .want = 3, .active = 'T'},
               {.t = 30, .fail = F1, .want = 3, .ready = 'F', .active = 'F'},
               {.t = 120, .fail = F1, .want = 3, .ready = 'F'},
               {.t = 400, .fail = F1, .want = 3, .no_event = "KEDAScaleTargetDeactivated"},
               {.t = 415, .v = {30}, .want = 3, .ready = 'T'}}},
    {.name = "outage_with_fallback_pending_no_scale_to_zero", .min = 0, .cooldown = 0,
     .has_fallback = true, .fb_threshold = 5, .fb_replicas = 2, .n_trig = 1,
     .trig = {PROM(10, 0)}, .start = 3, .n_steps = 2,
     .steps = {{.t = 15, .fail = F1, .want = 3, .ready = 'T', .fallback = 'F'},
               {.t = 30, .fail = F1, .want = 3}}},
    {.name = "partial_failure_blocks_scale_down", .min = 1, .max = 10, .down = &down_no_window,
     .n_trig = 2, .trig = {PROM(10, 0), PROM(10, 0)}, .start = 4, .n_steps = 1,
     .steps = {{.t = 15, .v = {0, 0}, .fail = F1, .want = 4, .ready = 'F'}}},
    {.name = "partial_failure_while_active_ready_unknown", .min = 1, .max = 10, .n_trig = 2,
     .trig = {PROM(10, 0), PROM(10, 0)}, .start = 2, .n_steps = 1,
     .steps = {{.t = 15, .v = {0, 40}, .fail = F1, .want = 4, .ready = 'U', .active = 'T'}}},
    {.name = "non_finite_value_counts_as_failure", .min = 0, .cooldown = 0, .n_trig = 1,
     .trig = {PROM(10, 0)}, .start = 2, .n_steps = 1,
     .steps = {{.t = 15, .v = {NAN}, .want = 2, .ready = 'F', .event = "KEDAScalerFailed"}}},

    /* ---- pausing ---- */
    {.name = "paused_holds_replicas", .min = 1, .max = 10, .n_trig = 1, .trig = {PROM(10, 0)},
     .start = 3, .n_steps = 2,
     .steps = {{.t = 15, .v = {1000}, .paused = "true", .want = 3, .paused_c = 'T',
                .active = '=', .fallback = '='},
               /* unpaused: the HPA again, to max(2 x 3, 4) without behavior */
               {.t = 30, .v = {1000}, .want = 6, .paused_c = 'F'}}},
    {.name = "paused_replicas_annotation", .min = 1, .max = 10, .n_trig = 1,
     .trig = {PROM(10, 0)}, .start = 4, .n_steps = 2,
     .steps = {{.t = 15, .v = {1000}, .paused_replicas = "2", .want = 2,
                .by = "paused-replicas", .paused_c = 'T'},
               /* paused-replicas wins over paused: "false" */
               {.t = 30, .v = {1000}, .paused = "false", .paused_replicas = "2", .want = 2,
                .paused_c = 'T'}}},
    {.name = "paused_false_does_not_pause", .min = 1, .max = 10, .n_trig = 1,
     .trig = {PROM(10, 0)}, .start = 1, .n_steps = 1,
     .steps = {{.t = 15, .v = {30}, .paused = "false", .want = 3, .paused_c = 'F'}}},
    {.name = "paused_non_boolean_pauses", .min = 1, .max = 10, .n_trig = 1,
     .trig = {PROM(10, 0)}, .start = 1, .n_steps = 1,
     .steps = {{.t = 15, .v = {30}, .paused = "yes", .want = 1, .paused_c = 'T'}}},
    {.name = "paused_counts_no_failures", .min = 1, .max = 10, .has_fallback = true,
     .fb_threshold = 1, .fb_replicas = 5, .n_trig = 1, .trig = {PROM(10, 0)}, .start = 1,
     .n_steps = 3,
     .steps = {{.t = 15, .fail = F1, .paused = "true", .want = 1},
               {.t = 30, .fail = F1, .paused = "true", .want = 1},
               /* the first failure counted: 1 is not more than 1 */
               {.t = 45, .fail = F1, .want = 1, .fallback = 'F'}}},

    /* ---- lastActiveTime ---- */
    /* RequestScale: active with a failing trigger is PartialTriggerError and
     * does not refresh lastActiveTime, so the cooldown counts from t=15:
     * 15 + 60 is before 90 (refreshed at 30, it would still cool down) */
    {.name = "last_active_not_refreshed_by_failed_poll", .min = 0, .cooldown = 60, .n_trig = 2,
     .trig = {PROM(10, 0), PROM(10, 0)}, .start = 1, .n_steps = 4,
     .steps = {{.t = 15, .v = {5, 0}, .want = 1, .active = 'T', .ready = 'T'},
               {.t = 30, .v = {5, 0}, .fail = F2, .want = 1, .active = 'T', .ready = 'U'},
               {.t = 60, .v = {0, 0}, .want = 1, .active_reason = "ScalerCooldown"},
               {.t = 90, .v = {0, 0}, .want = 0, .by = "deactivation",
                .event = "KEDAScaleTargetDeactivated"}}},

    /* ---- paused-scale-in / paused-scale-out ---- */
    /* scaleToZeroOrIdle returns at once: no deactivation, no cooldown; the
     * HPA's scale-down is Disabled (newHPAForScaledObject) */
    {.name = "paused_scale_in_blocks_deactivation", .min = 0, .max = 10, .cooldown = 0,
     .down = &down_no_window, .n_trig = 1, .trig = {PROM(10, 0)}, .start = 2, .n_steps = 2,
     .steps = {{.t = 15, .v = {0}, .paused_in = "true", .want = 2, .active = 'F',
                .active_reason = "ScalerNotActive", .no_event = "KEDAScaleTargetDeactivated"},
               {.t = 30, .v = {0}, .want = 0, .by = "deactivation"}}},
    {.name = "paused_scale_in_disables_hpa_scale_down", .min = 1, .max = 10,
     .down = &down_no_window, .n_trig = 1, .trig = {PROM(10, 0)}, .start = 4, .n_steps = 2,
     .steps = {{.t = 15, .v = {0}, .paused_in = "1", .want = 4},
               {.t = 30, .v = {0}, .paused_in = "false", .want = 1, .by = "hpa"}}},
    /* a ScaledObject without behavior gets one to pause a direction, which
     * the API server fills with the default rules: +4 pods from 1, not the
     * plain path's max(2 x 1, 4) */
    {.name = "paused_scale_in_gives_hpa_a_behavior", .min = 1, .max = 10, .n_trig = 1,
     .trig = {PROM(10, 0)}, .start = 1, .n_steps = 1,
     .steps = {{.t = 15, .v = {100}, .paused_in = "true", .want = 5, .by = "hpa"}}},
    /* scaleFromZeroOrIdle returns at once; nothing activated */
    {.name = "paused_scale_out_blocks_activation", .min = 0, .cooldown = 300, .n_trig = 1,
     .trig = {PROM(10, 0)}, .start = 0, .n_steps = 2,
     .steps = {{.t = 15, .v = {20}, .paused_out = "yes", .want = 0, .active = 'T',
                .no_event = "KEDAScaleTargetActivated"},
               {.t = 30, .v = {20}, .want = 1, .by = "activation",
                .event = "KEDAScaleTargetActivated"}}},
    {.name = "paused_scale_out_disables_hpa_scale_up", .min = 1, .max = 10, .n_trig = 1,
     .trig = {PROM(10, 0)}, .start = 2, .n_steps = 2,
     .steps = {{.t = 15, .v = {100}, .paused_out = "true", .want = 2},
               {.t = 30, .v = {100}, .want = 4, .by = "hpa"}}},
    /* ...but below minReplicaCount KEDA still brings it to min */
    {.name = "paused_scale_out_still_brought_to_min", .min = 2, .max = 10, .n_trig = 1,
     .trig = {PROM(10, 0)}, .start = 1, .n_steps = 1,
     .steps = {{.t = 15, .v = {0}, .paused_out = "true", .want = 2, .by = "min-replicas"}}},

    /* ---- a request at zero ---- */
    {.name = "activate_now_from_zero", .min = 0, .cooldown = 300, .n_trig = 1,
     .trig = {PROM(10, 0)}, .start = 0, .n_steps = 2,
     .steps = {{.t = 7, .now = true, .no_poll = true, .want = 1, .by = "activation",
                .active = 'T', .event = "KEDAScaleTargetActivated"},
               /* the query still reads 0: the cooldown counts from the wake */
               {.t = 15, .v = {0}, .want = 1, .active_reason = "ScalerCooldown"}}},
    {.name = "activate_now_with_poll_below_activation", .min = 0, .cooldown = 300, .n_trig = 1,
     .trig = {PROM(10, 5)}, .start = 0, .n_steps = 1,
     .steps = {{.t = 15, .v = {1}, .now = true, .want = 1, .active = 'T'}}},
    {.name = "activate_now_to_min", .min = 2, .has_idle = true, .idle = 0, .cooldown = 300,
     .n_trig = 1, .trig = {PROM(10, 0)}, .start = 0, .n_steps = 1,
     .steps = {{.t = 3, .now = true, .no_poll = true, .want = 2}}},
    {.name = "activate_now_ignored_when_paused", .min = 0, .cooldown = 300, .n_trig = 1,
     .trig = {PROM(10, 0)}, .start = 0, .n_steps = 1,
     .steps = {{.t = 3, .now = true, .no_poll = true, .paused = "true", .want = 0}}},
};

/* ---- running a case ---- */

struct sim {
  struct ss_keda_spec spec;
  struct ss_trigger trig[MAXT];
  struct ss_keda_state st;
  int32_t current;
  enum ss_keda_fallback_behavior fb_behavior;
  struct ss_keda_result res;
};

static void sim_init(struct sim *s, const struct keda_case *c) {
  memset(s, 0, sizeof *s);
  s->spec.polling_interval = c->polling ? c->polling : 15;
  s->spec.cooldown_period = c->cooldown;
  s->spec.initial_cooldown_period = c->initial;
  s->spec.min_replicas = c->min;
  s->spec.max_replicas = c->max ? c->max : 5;
  s->spec.idle_replicas = c->has_idle ? c->idle : -1;
  s->spec.has_fallback = c->has_fallback;
  s->spec.fallback_failure_threshold = c->fb_threshold;
  s->spec.fallback_replicas = c->fb_replicas;
  s->spec.up = c->up ? *c->up : up_default;
  s->spec.down = c->down ? *c->down : down_default;
  /* advanced.horizontalPodAutoscalerConfig.behavior written: the HPA KEDA
   * makes has it; else it has none (newHPAForScaledObject) */
  s->spec.has_behavior = c->up || c->down || c->behavior;
  for (size_t i = 0; i < c->n_trig; i++) {
    struct ss_trigger *t = &s->trig[i];
    t->type = c->trig[i].type;
    t->threshold = c->trig[i].threshold;
    t->activation_threshold = c->trig[i].activation;
    t->ignore_null_values = true;
    t->metric_type = c->trig[i].mt;
    t->value.milli = c->trig[i].target * 1000;
  }
  s->spec.triggers = s->trig;
  s->spec.n_triggers = c->n_trig;
  s->current = c->start;
  s->fb_behavior = c->fb_behavior;
  assert_int_equal(ss_keda_state_init(&s->st, &s->spec, BASE_MS), SS_EOK);
}

static bool has_event(const struct ss_keda_result *r, const char *reason) {
  for (size_t i = 0; i < r->n_events; i++)
    if (strcmp(r->events[i].reason, reason) == 0)
      return true;
  return false;
}

static void check_cond(const char *what, const struct ss_keda_condition *c, char want) {
  static const char codes[] = {'=', 'T', 'F', 'U'};
  if (!want)
    return;
  if (codes[c->status] != want)
    fail_msg("%s: want %c, got %c (%s: %s)", what, want, codes[c->status],
             c->reason ? c->reason : "-", c->message);
}

/* One poll: the step's outcomes in, the new size applied and committed. */
static void sim_step(struct sim *s, const struct step *p) {
  struct ss_keda_trigger_input ti[MAXT];
  struct ss_hpa_pod pods[MAXP];
  struct ss_hpa_sample samples[MAXP];
  int64_t now = BASE_MS + p->t * 1000;
  size_t n_pods = s->current > MAXP ? MAXP : (size_t)s->current;
  memset(ti, 0, sizeof ti);
  for (size_t i = 0; i < n_pods; i++) {
    pods[i] = (struct ss_hpa_pod){.ready = true, .start_ms = now - 3600 * 1000,
                                  .ready_change_ms = now - 3590 * 1000};
    samples[i] = (struct ss_hpa_sample){.present = true, .value = p->cpu, .request = 1000,
                                        .at_ms = now - 1000, .window_ms = 30000};
  }
  for (size_t i = 0; i < s->spec.n_triggers; i++) {
    ti[i].failed = (p->fail >> i) & 1u;
    ti[i].error = ti[i].failed ? "connection refused" : NULL;
    ti[i].value = p->v[i];
    ti[i].samples = samples;
  }
  struct ss_keda_input in = {
      .spec_replicas = s->current,
      .status_replicas = s->current,
      .paused = p->paused,
      .paused_replicas = p->paused_replicas,
      .paused_scale_in = p->paused_in,
      .paused_scale_out = p->paused_out,
      .fallback_behavior = s->fb_behavior,
      .triggers = p->no_poll ? NULL : ti,
      .pods = n_pods ? pods : NULL,
      .n_pods = n_pods,
      .activate_now = p->now,
      .now_ms = now,
  };
  assert_int_equal(ss_keda_evaluate(&s->spec, NULL, &s->st, &in, &s->res), SS_EOK);
  assert_int_equal(s->res.scale, s->res.desired != s->current);
  assert_int_equal(ss_keda_commit(&s->st, &s->res, true), SS_EOK);
  if (s->res.scale)
    s->current = s->res.desired;
}

/* Each test's simulation lives in a fixture freed by teardown, so a failed
 * assertion (a longjmp out of the test) leaks nothing. */
struct fixture {
  const struct keda_case *c;
  struct sim s;
};

static int fixture_setup(void **state) {
  struct fixture *f = calloc(1, sizeof *f);
  if (!f)
    return -1;
  f->c = *state;
  *state = f;
  return 0;
}

static int fixture_teardown(void **state) {
  struct fixture *f = *state;
  if (f)
    ss_keda_state_free(&f->s.st);
  free(f);
  return 0;
}

static void run_case(void **state) {
  struct fixture *f = *state;
  const struct keda_case *c = f->c;
  struct sim *s = &f->s;
  sim_init(s, c);
  for (size_t k = 0; k < c->n_steps; k++) {
    const struct step *p = &c->steps[k];
    sim_step(s, p);
    const struct ss_keda_result *r = &s->res;
    if (s->current != p->want)
      fail_msg("step %zu (t=%llds): size %d, want %d (by %s: %s)", k, (long long)p->t,
               s->current, p->want, ss_keda_decider_name(r->by), r->reason);
    if (p->by)
      assert_string_equal(ss_keda_decider_name(r->by), p->by);
    check_cond("Active", &r->active_cond, p->active);
    check_cond("Ready", &r->ready, p->ready);
    check_cond("Fallback", &r->fallback, p->fallback);
    check_cond("Paused", &r->paused_cond, p->paused_c);
    if (p->active_reason) {
      assert_non_null(r->active_cond.reason);
      assert_string_equal(r->active_cond.reason, p->active_reason);
    }
    if (p->event && !has_event(r, p->event))
      fail_msg("step %zu: no %s event", k, p->event);
    if (p->no_event && has_event(r, p->no_event))
      fail_msg("step %zu: unexpected %s event", k, p->no_event);
  }
}

/* ---- fixed tests ---- */

static void seed_spec(struct sim *s, int32_t min) {
  static const struct keda_case seed = {.min = 1, .max = 5, .cooldown = 300, .polling = 15,
                                        .n_trig = 1, .trig = {PROM(10, 0)}, .start = 1};
  sim_init(s, &seed);
  s->spec.min_replicas = min;
}

/* Polls every 15 s from t=15: value[k] at poll k, want[k] the size after. */
static void replay(struct sim *s, const double *values, const int32_t *want, size_t n) {
  for (size_t k = 0; k < n; k++) {
    struct step p = {.t = 15 * (int64_t)(k + 1), .v = {values[k]}};
    sim_step(s, &p);
    if (s->current != want[k])
      fail_msg("poll %zu (t=%llds, value %g): size %d, want %d (by %s: %s)", k,
               (long long)p.t, values[k], s->current, want[k], ss_keda_decider_name(s->res.by),
               s->res.reason);
  }
}

/* The seed's kedaSpec (polling 15, min 1, max 5, threshold 10, no
 * behavior): a request rate of 0, then 45/s for four polls, then 0. Up to
 * max(2 x 1, 4) = 4 at t=45, 5 at t=60; back to 1 when the last high
 * recommendation (t=90) is before the HPA's 300 s cutoff (t=405: without
 * behavior the cutoff itself is still inside). */
static void test_scenario_seed_rate_0_45_0(void **state) {
  struct sim *s = &((struct fixture *)*state)->s;
  seed_spec(s, 1);
  double values[30] = {0};
  int32_t want[30];
  for (size_t k = 0; k < 30; k++) {
    int64_t t = 15 * (int64_t)(k + 1);
    values[k] = t >= 45 && t <= 90 ? 45 : 0;
    want[k] = t < 45 ? 1 : t == 45 ? 4 : t < 405 ? 5 : 1;
  }
  replay(s, values, want, 30);
}

/* minReplicaCount 0: 4 then 5 by the HPA (no behavior); the HPA holds 5
 * while its window has the last 5 (t=60, inclusive, to t=360); KEDA goes to
 * 0 once the cooldown after the last active poll (t=60) has passed
 * (t=375); a value above 0 wakes it to 1, and the HPA takes it from there:
 * 4, then 5. */
static void test_scenario_min_zero_sleeps_and_wakes(void **state) {
  struct sim *s = &((struct fixture *)*state)->s;
  seed_spec(s, 0);
  double values[34] = {0};
  int32_t want[34];
  for (size_t k = 0; k < 34; k++) {
    int64_t t = 15 * (int64_t)(k + 1);
    values[k] = t <= 60 ? 45 : t == 480 ? 3 : t > 480 ? 45 : 0;
    want[k] = t == 15 ? 4 : t < 375 ? 5 : t < 480 ? 0 : t == 480 ? 1 : t == 495 ? 4 : 5;
  }
  replay(s, values, want, 34);
}

/* Prometheus down: nothing moves for failureThreshold polls (at 4, the
 * first poll's limit without behavior), then the HPA is fed fallback.replicas
 * x threshold: the 5 recommended at t=15 is still in its window, which
 * without behavior also lifts a count (normalizeDesiredReplicas takes the
 * highest), so 5; it comes down to 3 once that leaves (t=330); back up on
 * the first good poll, fallback left. */
static void test_scenario_outage_fallback_recovery(void **state) {
  struct sim *s = &((struct fixture *)*state)->s;
  seed_spec(s, 1);
  s->spec.has_fallback = true;
  s->spec.fallback_failure_threshold = 3;
  s->spec.fallback_replicas = 3;
  for (int k = 1; k <= 23; k++) {
    int64_t t = 15 * k;
    struct step p = {.t = t, .v = {45}, .fail = k >= 2 && k <= 22 ? F1 : 0};
    sim_step(s, &p);
    int32_t want = t <= 60 ? 4 : t <= 315 ? 5 : t == 330 ? 3 : 5;
    if (s->current != want)
      fail_msg("poll %d (t=%llds): size %d, want %d", k, (long long)t, s->current, want);
    bool fb = k >= 5 && k <= 22;
    assert_int_equal(s->res.in_fallback, fb);
    if (k == 5)
      assert_true(has_event(&s->res, "ScaledObjectFallbackActivated"));
    if (k == 23)
      assert_true(has_event(&s->res, "ScaledObjectFallbackDeactivated"));
  }
}

static void test_next_poll_due_after_polling_interval(void **state) {
  struct sim *s = &((struct fixture *)*state)->s;
  seed_spec(s, 0);
  assert_int_equal(ss_keda_next_poll_ms(&s->spec, &s->st), BASE_MS);
  struct step p = {.t = 15, .v = {0}};
  sim_step(s, &p);
  assert_int_equal(ss_keda_next_poll_ms(&s->spec, &s->st), BASE_MS + 30 * 1000);
  /* a wake between polls is no poll: the schedule stays */
  struct step wake = {.t = 20, .now = true, .no_poll = true};
  sim_step(s, &wake);
  assert_int_equal(s->current, 1);
  assert_int_equal(ss_keda_next_poll_ms(&s->spec, &s->st), BASE_MS + 30 * 1000);
}

/* KEDA stamps lastActiveTime on activation only when the scale took: a
 * failed update leaves the cooldown clock alone. */
static void test_activation_not_applied_leaves_last_active(void **state) {
  struct sim *s = &((struct fixture *)*state)->s;
  seed_spec(s, 0);
  s->current = 0;
  struct ss_keda_trigger_input ti = {.value = 5};
  struct ss_keda_input in = {.triggers = &ti, .now_ms = BASE_MS + 15000};
  assert_int_equal(ss_keda_evaluate(&s->spec, NULL, &s->st, &in, &s->res), SS_EOK);
  assert_true(s->res.scale);
  assert_int_equal(s->res.desired, 1);
  assert_true(s->res.events[0].on_apply);
  assert_string_equal(s->res.events[0].failed_reason, "KEDAScaleTargetActivationFailed");
  ss_keda_commit(&s->st, &s->res, false);
  assert_false(s->st.has_last_active);
  assert_true(s->st.polled);
  ss_keda_commit(&s->st, &s->res, true);
  assert_true(s->st.has_last_active);
  assert_int_equal(s->st.last_active_ms, BASE_MS + 15000);
}

static void test_metric_values_for_status(void **state) {
  struct sim *s = &((struct fixture *)*state)->s;
  seed_spec(s, 1);
  struct step p = {.t = 15, .v = {45}};
  sim_step(s, &p);
  const struct ss_keda_trigger_status *ts = &s->res.triggers[0];
  assert_string_equal(ts->metric_name, "s0-prometheus");
  assert_true(ts->polled && ts->active && !ts->failed);
  assert_true(ts->value == 45.0);
  assert_true(ts->hpa.valid);
  assert_int_equal(ts->hpa.proposal, 5);
  assert_string_equal(s->res.reason, "external metric s0-prometheus above target");
}

/* Replays pkg/fallback/fallback_test.go: "should use fallback replicas
 * when current replicas is lower when behavior is 'currentReplicasIfHigher'"
 * (10 x 10 with 4 running), "should use current replicas when behavior is
 * 'currentReplicas'" (6 x 10), "should ignore current replicas when
 * behavior is 'static'" (10 x 10 with 15), and the other sides of
 * currentReplicasIfHigher/IfLower. The trigger's value is what the HPA is
 * fed: target 10 x the replicas. */
static void test_fallback_behavior(void **state) {
  struct sim *s = &((struct fixture *)*state)->s;
  static const struct {
    enum ss_keda_fallback_behavior b;
    int32_t current;
    double value;
  } t[] = {
      {SS_KEDA_FALLBACK_CURRENT_IF_HIGHER, 4, 100},  {SS_KEDA_FALLBACK_CURRENT, 6, 60},
      {SS_KEDA_FALLBACK_STATIC, 15, 100},           {SS_KEDA_FALLBACK_CURRENT_IF_HIGHER, 15, 150},
      {SS_KEDA_FALLBACK_CURRENT_IF_LOWER, 4, 40},   {SS_KEDA_FALLBACK_CURRENT_IF_LOWER, 15, 100},
  };
  for (size_t k = 0; k < N_ELEMS(t); k++) {
    seed_spec(s, 1);
    s->spec.max_replicas = 20;
    s->spec.has_fallback = true;
    s->spec.fallback_failure_threshold = 3;
    s->spec.fallback_replicas = 10;
    s->st.failures[0] = 3; /* startingNumberOfFailures */
    s->fb_behavior = t[k].b;
    s->current = t[k].current;
    struct step p = {.t = 15, .fail = F1};
    sim_step(s, &p);
    const struct ss_keda_trigger_status *ts = &s->res.triggers[0];
    if (!ts->fallback || ts->value != t[k].value)
      fail_msg("case %zu: fallback %d value %g, want %g", k, ts->fallback, ts->value,
               t[k].value);
    assert_true(ts->active);
    assert_false(s->res.error);
    assert_int_equal(ts->failures, 4);
    ss_keda_state_free(&s->st);
  }
}

static void test_fallback_behavior_parse(void **state) {
  (void)state;
  enum ss_keda_fallback_behavior b = SS_KEDA_FALLBACK_CURRENT;
  assert_int_equal(ss_keda_fallback_behavior_parse(NULL, &b), 0);
  assert_int_equal(b, SS_KEDA_FALLBACK_STATIC); /* +kubebuilder:default=static */
  assert_int_equal(ss_keda_fallback_behavior_parse("currentReplicasIfLower", &b), 0);
  assert_int_equal(b, SS_KEDA_FALLBACK_CURRENT_IF_LOWER);
  assert_int_equal(ss_keda_fallback_behavior_parse("currentReplicas", &b), 0);
  assert_int_equal(b, SS_KEDA_FALLBACK_CURRENT);
  assert_int_equal(ss_keda_fallback_behavior_parse("scalingModifiers", &b), -1);
  assert_int_equal(ss_keda_fallback_behavior_parse("Static", &b), -1);
  assert_int_equal(b, SS_KEDA_FALLBACK_CURRENT); /* left alone */
}

/* The HPA part keeps its history in the state, which grows as needed and
 * stays bounded: a day of 15 s polls. */
static void test_hpa_history_bounded(void **state) {
  struct sim *s = &((struct fixture *)*state)->s;
  seed_spec(s, 1);
  s->spec.has_behavior = true;
  for (int k = 1; k <= 5760; k++) {
    struct step p = {.t = 15 * (int64_t)k, .v = {(k / 30) % 2 ? 45 : 5}};
    sim_step(s, &p);
  }
  assert_true(s->st.hpa.recs.len <= 300 / 15 + 2);
  assert_true(s->st.hpa.up.len <= 2 && s->st.hpa.down.len <= 2);
}

static void test_rejects_bad_arguments(void **state) {
  struct sim *s = &((struct fixture *)*state)->s;
  seed_spec(s, 1);
  struct ss_keda_input in = {.spec_replicas = 1, .now_ms = BASE_MS};
  /* neither trigger outcomes nor activate_now */
  assert_int_equal(ss_keda_evaluate(&s->spec, NULL, &s->st, &in, &s->res), SS_EINVALID);
  assert_int_equal(ss_keda_evaluate(NULL, NULL, &s->st, &in, &s->res), SS_EINVALID);
  assert_int_equal(ss_keda_evaluate(&s->spec, NULL, &s->st, &in, NULL), SS_EINVALID);
  /* a state made for another number of triggers */
  struct ss_keda_trigger_input ti[2] = {{.value = 1}, {.value = 1}};
  in.triggers = ti;
  s->spec.n_triggers = 2;
  struct ss_trigger two[2] = {s->trig[0], s->trig[0]};
  s->spec.triggers = two;
  assert_int_equal(ss_keda_evaluate(&s->spec, NULL, &s->st, &in, &s->res), SS_EINVALID);
  struct ss_keda_state big;
  s->spec.n_triggers = SS_KEDA_MAX_TRIGGERS + 1;
  assert_int_equal(ss_keda_state_init(&big, &s->spec, 0), SS_ELIMIT);
  ss_keda_state_free(&big);
  ss_keda_state_free(NULL);
}

int main(void) {
  size_t n = N_ELEMS(cases);
  const struct CMUnitTest fixed[] = {
      cmocka_unit_test_setup_teardown(test_scenario_seed_rate_0_45_0, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_scenario_min_zero_sleeps_and_wakes, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_scenario_outage_fallback_recovery, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_next_poll_due_after_polling_interval, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_activation_not_applied_leaves_last_active, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_metric_values_for_status, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_rejects_bad_arguments, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_fallback_behavior, fixture_setup, fixture_teardown),
      cmocka_unit_test(test_fallback_behavior_parse),
      cmocka_unit_test_setup_teardown(test_hpa_history_bounded, fixture_setup, fixture_teardown),
  };
  struct CMUnitTest *tests = calloc(n + N_ELEMS(fixed), sizeof *tests);
  if (!tests)
    return 1;
  for (size_t i = 0; i < n; i++) {
    tests[i].name = cases[i].name;
    tests[i].test_func = run_case;
    tests[i].initial_state = (void *)&cases[i];
    tests[i].setup_func = fixture_setup;
    tests[i].teardown_func = fixture_teardown;
  }
  memcpy(tests + n, fixed, sizeof fixed);
  int rc = _cmocka_run_group_tests("test_keda", tests, n + N_ELEMS(fixed), NULL, NULL);
  free(tests);
  return rc;
}
