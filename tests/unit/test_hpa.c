/* test_hpa.c: unit tests for src/autoscale/hpa.c (the HPA decision), as one
 * table of named cases, each pinning down one rule of the Kubernetes
 * controller, and a few scenarios replaying samples over time. Expected
 * sizes are worked out by hand from the documented algorithm; where a case
 * replays one of Kubernetes' own (pkg/controller/podautoscaler
 * horizontal_test.go, replica_calculator_test.go), the comment names it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "autoscale/hpa.h"

#define N_ELEMS(a) (sizeof(a) / sizeof *(a))
#define MAXP 16
#define MISSING INT64_MIN /* no sample for this replica */
#define NOW_MS (INT64_C(1000000) * 1000)

/* ---- behavior rules used by the cases ---- */

static struct ss_scaling_policy up_default_pol[] = {{SS_POLICY_PODS, 4, 15},
                                                    {SS_POLICY_PERCENT, 100, 15}};
static struct ss_scaling_policy down_default_pol[] = {{SS_POLICY_PERCENT, 100, 15}};
static const struct ss_scaling_rules up_default = {0, SS_SELECT_MAX, up_default_pol, 2, -1};
static const struct ss_scaling_rules down_default = {300, SS_SELECT_MAX, down_default_pol, 1, -1};

static struct ss_scaling_policy pct50_60[] = {{SS_POLICY_PERCENT, 50, 60}};
static struct ss_scaling_policy pods2_60[] = {{SS_POLICY_PODS, 2, 60}};
static struct ss_scaling_policy pods1_60[] = {{SS_POLICY_PODS, 1, 60}};
static struct ss_scaling_policy pct30_60[] = {{SS_POLICY_PERCENT, 30, 60}};
static struct ss_scaling_policy pods1_pct50[] = {{SS_POLICY_PODS, 1, 15},
                                                 {SS_POLICY_PERCENT, 50, 15}};
static const struct ss_scaling_rules up_pct50 = {0, SS_SELECT_MAX, pct50_60, 1, -1};
static const struct ss_scaling_rules up_pods2 = {0, SS_SELECT_MAX, pods2_60, 1, -1};
static const struct ss_scaling_rules up_select_min = {0, SS_SELECT_MIN, up_default_pol, 2, -1};
static const struct ss_scaling_rules up_disabled = {0, SS_SELECT_DISABLED, NULL, 0, -1};
static const struct ss_scaling_rules up_stab60 = {60, SS_SELECT_MAX, up_default_pol, 2, -1};
static const struct ss_scaling_rules up_tol0 = {0, SS_SELECT_MAX, up_default_pol, 2, 0.0};
static const struct ss_scaling_rules down_pods1 = {0, SS_SELECT_MAX, pods1_60, 1, -1};
static const struct ss_scaling_rules down_pods2 = {0, SS_SELECT_MAX, pods2_60, 1, -1};
static const struct ss_scaling_rules down_pct30 = {0, SS_SELECT_MAX, pct30_60, 1, -1};
static const struct ss_scaling_rules down_select_min = {0, SS_SELECT_MIN, pods1_pct50, 2, -1};
static const struct ss_scaling_rules down_select_max = {0, SS_SELECT_MAX, pods1_pct50, 2, -1};
static const struct ss_scaling_rules down_disabled = {0, SS_SELECT_DISABLED, NULL, 0, -1};
static const struct ss_scaling_rules down_tol05 = {0, SS_SELECT_MAX, down_default_pol, 1, 0.5};
static const struct ss_scaling_rules down_stab_unset = {-1, SS_SELECT_MAX, down_default_pol, 1, -1};

/* ---- the table ---- */

#define NO_REQ INT64_MIN /* a container without a request */

struct pod_row {
  bool unready;          /* Ready False, never ready since start */
  bool was_ready;        /* Ready False, but it was ready long after start */
  bool pending, gone;
  int64_t start_s_ago;   /* 0: an hour ago */
  int64_t ready_s_ago;   /* Ready transition; 0: 10 s after start */
  int64_t request;       /* milli; 0: 1000; < 0: no request */
  const char *name;      /* NULL: "p-<index>" */
  /* per-container requests (milli, NO_REQ: none), names "a", "b", ...;
   * n_containers 0: the single request above */
  size_t n_containers;
  int64_t containers[3];
};

struct metric_row {
  enum ss_metric_source src;
  enum ss_target_type tt;
  const char *name;
  int64_t target; /* percent for Utilization, else milli */
  int64_t usage[MAXP];
  int64_t values[4];
  size_t n_values;
  bool failed;
  const char *container; /* ContainerResource */
};

struct hist_row {
  int64_t s_ago;
  int32_t replicas;
};

struct hpa_case {
  const char *name;
  bool no_behavior;                   /* spec without behavior: the plain path */
  bool first_sync;                    /* a new HPA (its history never started) */
  int32_t min, max, current, running; /* running 0: current */
  size_t n_pods;
  struct pod_row pods[MAXP];
  size_t n_metrics;
  struct metric_row metrics[3];
  const struct ss_scaling_rules *up, *down; /* NULL: the defaults */
  double tolerance;                         /* controller setting; 0: 0.1 */
  size_t n_recs, n_events;
  struct hist_row recs[8], events[8]; /* events: signed change */
  /* expected */
  int32_t desired;
  bool scale;
  const char *reason; /* exact */
  const char *active, *able, *limited; /* reasons; NULL: not checked */
  int32_t util;                        /* status utilization; 0: not checked */
  int64_t avg;                         /* status average value; 0: not checked */
  int64_t value;                       /* status value (Value); 0: not checked */
  bool failed;
  const char *error; /* a substring of result.error; NULL: not checked */
};

#define CPU50(...) {SS_METRIC_RESOURCE, SS_TARGET_UTILIZATION, "cpu", 50, {__VA_ARGS__}, {0}, 0, false}
#define CPU_UP_REASON "cpu resource utilization (percentage of request) above target"
#define DOWN_REASON "All metrics below target"

static const struct hpa_case cases[] = {
    /* ---- ratio and tolerance ---- */
    {.name = "utilization_inside_tolerance_keeps_size", .min = 1, .max = 10, .current = 2,
     .n_pods = 2, .n_metrics = 1, .metrics = {CPU50(550, 550)},
     .desired = 2, .reason = "", .active = "ValidMetricFound", .able = "ReadyForNewScale",
     .limited = "DesiredWithinRange", .util = 55},
    {.name = "utilization_at_lower_tolerance_edge_keeps_size", .min = 1, .max = 10, .current = 2,
     .n_pods = 2, .n_metrics = 1, .metrics = {CPU50(450, 450)}, .desired = 2, .reason = "",
     .util = 45},
    {.name = "utilization_just_above_tolerance_scales_up", .min = 1, .max = 10, .current = 2,
     .n_pods = 2, .n_metrics = 1, .metrics = {CPU50(560, 560)}, .desired = 3, .scale = true,
     .reason = CPU_UP_REASON, .util = 56},
    {.name = "utilization_above_target_ceil_ratio_times_ready", .min = 1, .max = 10, .current = 2,
     .n_pods = 2, .n_metrics = 1, .metrics = {CPU50(600, 600)}, .desired = 3, .scale = true,
     .reason = CPU_UP_REASON, .active = "ValidMetricFound", .able = "ReadyForNewScale",
     .limited = "DesiredWithinRange", .util = 60, .avg = 600},
    {.name = "utilization_truncates_to_integer_percent", .min = 1, .max = 10, .current = 2,
     .n_pods = 2, .n_metrics = 1, .metrics = {CPU50(559, 559)}, .desired = 2, .reason = "",
     .util = 55},
    {.name = "utilization_is_sum_usage_over_sum_requests", .min = 1, .max = 10, .current = 2,
     .n_pods = 2, .pods = {{.request = 1000}, {.request = 3000}}, .n_metrics = 1,
     .metrics = {CPU50(1000, 1000)}, .desired = 2, .reason = "", .util = 50},
    {.name = "utilization_below_tolerance_scales_down", .min = 1, .max = 10, .current = 4,
     .n_pods = 4, .n_metrics = 1, .metrics = {CPU50(100, 100, 100, 100)}, .desired = 1,
     .scale = true, .reason = DOWN_REASON, .limited = "DesiredWithinRange", .util = 10},

    /* ---- missing and unready replicas ---- */
    {.name = "scale_up_counts_missing_pods_as_zero", .min = 1, .max = 10, .current = 2,
     .n_pods = 2, .n_metrics = 1, .metrics = {CPU50(2000, MISSING)}, .desired = 4,
     .scale = true, .reason = CPU_UP_REASON, .util = 200},
    {.name = "recompute_falls_inside_tolerance_keeps_size", .min = 1, .max = 10, .current = 2,
     .n_pods = 2, .n_metrics = 1, .metrics = {CPU50(1100, MISSING)}, .desired = 2,
     .reason = "", .util = 110},
    {.name = "scale_down_counts_missing_as_target_and_ignores_unready", .min = 1, .max = 10,
     .current = 4, .n_pods = 4, .pods = {{0}, {0}, {0}, {.unready = true}}, .n_metrics = 1,
     .metrics = {CPU50(100, 100, MISSING, 900)}, .desired = 3, .scale = true,
     .reason = DOWN_REASON, .util = 10},
    {.name = "scale_down_missing_uses_target_above_100_percent", .min = 1, .max = 10,
     .current = 3, .n_pods = 3, .n_metrics = 1,
     .metrics = {{SS_METRIC_RESOURCE, SS_TARGET_UTILIZATION, "cpu", 200, {200, 200, MISSING},
                  {0}, 0, false}},
     .desired = 2, .scale = true, .reason = DOWN_REASON, .util = 20},
    {.name = "scale_up_counts_unready_as_zero", .min = 1, .max = 10, .current = 2, .n_pods = 2,
     .pods = {{0}, {.unready = true}}, .n_metrics = 1, .metrics = {CPU50(2000, 2000)},
     .desired = 4, .scale = true, .reason = CPU_UP_REASON, .util = 200},
    {.name = "recompute_flips_direction_keeps_size", .min = 1, .max = 10, .current = 3,
     .n_pods = 3, .n_metrics = 1, .metrics = {CPU50(750, MISSING, MISSING)}, .desired = 3,
     .reason = "", .util = 75},
    {.name = "recompute_flips_down_to_up_keeps_size", .min = 1, .max = 10, .current = 3,
     .n_pods = 3, .n_metrics = 1, .metrics = {CPU50(300, MISSING, MISSING)}, .desired = 3,
     .reason = "", .util = 30},
    {.name = "cpu_initialization_sets_aside_samples_from_before_ready", .min = 1, .max = 10,
     .current = 2, .n_pods = 2, .pods = {{0}, {.start_s_ago = 60, .ready_s_ago = 10}},
     .n_metrics = 1, .metrics = {CPU50(1000, 3000)}, .desired = 2, .reason = "", .util = 100},
    {.name = "cpu_initialization_uses_samples_a_window_after_ready", .min = 1, .max = 10,
     .current = 2, .n_pods = 2, .pods = {{0}, {.start_s_ago = 120, .ready_s_ago = 100}},
     .n_metrics = 1, .metrics = {CPU50(1000, 3000)}, .desired = 6, .scale = true,
     .reason = CPU_UP_REASON, .limited = "ScaleUpLimit", .util = 200},
    {.name = "cpu_after_init_uses_unready_pod_that_was_ready", .min = 1, .max = 10, .current = 2,
     .n_pods = 2, .pods = {{0}, {.was_ready = true}}, .n_metrics = 1,
     .metrics = {CPU50(1000, 1000)}, .desired = 4, .scale = true, .reason = CPU_UP_REASON,
     .util = 100},
    {.name = "non_cpu_metric_ignores_readiness", .min = 1, .max = 10, .current = 2, .n_pods = 2,
     .pods = {{0}, {.unready = true}}, .n_metrics = 1,
     .metrics = {{SS_METRIC_RESOURCE, SS_TARGET_UTILIZATION, "memory", 50, {1000, 1000}, {0}, 0,
                  false}},
     .desired = 4, .scale = true,
     .reason = "memory resource utilization (percentage of request) above target", .util = 100},
    {.name = "pending_pod_counts_as_unready_for_any_metric", .min = 1, .max = 10, .current = 2,
     .n_pods = 2, .pods = {{0}, {.pending = true}}, .n_metrics = 1,
     .metrics = {{SS_METRIC_RESOURCE, SS_TARGET_UTILIZATION, "memory", 50, {1000, MISSING}, {0},
                  0, false}},
     .desired = 2, .reason = "", .util = 100},
    {.name = "gone_pod_is_left_out", .min = 1, .max = 10, .current = 3, .n_pods = 3,
     .pods = {{0}, {0}, {.gone = true}}, .n_metrics = 1, .metrics = {CPU50(300, 300, MISSING)},
     .desired = 2, .scale = true, .reason = DOWN_REASON, .util = 30},

    /* ---- metric sources ---- */
    {.name = "pods_metric_average_value", .min = 1, .max = 10, .current = 2, .n_pods = 2,
     .n_metrics = 1,
     .metrics = {{SS_METRIC_PODS, SS_TARGET_AVERAGE_VALUE, "rps", 10000, {15000, 15000}, {0}, 0,
                  false}},
     .desired = 3, .scale = true, .reason = "pods metric rps above target", .avg = 15000},
    {.name = "pods_metric_missing_counts_as_target_on_scale_down", .min = 1, .max = 10,
     .current = 3, .n_pods = 3, .n_metrics = 1,
     .metrics = {{SS_METRIC_PODS, SS_TARGET_AVERAGE_VALUE, "rps", 10000, {1000, 1000, MISSING},
                  {0}, 0, false}},
     .desired = 2, .scale = true, .reason = DOWN_REASON, .avg = 1000},
    {.name = "missing_at_exact_target_fills_nothing", .min = 1, .max = 10, .current = 3,
     .n_pods = 3, .n_metrics = 1,
     .metrics = {{SS_METRIC_PODS, SS_TARGET_AVERAGE_VALUE, "rps", 10000, {10000, 10000, MISSING},
                  {0}, 0, false}},
     .desired = 3, .reason = "", .avg = 10000},
    {.name = "resource_average_value", .min = 1, .max = 10, .current = 2, .n_pods = 2,
     .n_metrics = 1,
     .metrics = {{SS_METRIC_RESOURCE, SS_TARGET_AVERAGE_VALUE, "memory", 1000, {3000, 3000},
                  {0}, 0, false}},
     .desired = 6, .scale = true, .reason = "memory resource above target", .avg = 3000},
    {.name = "container_resource_utilization", .min = 1, .max = 10, .current = 2, .n_pods = 2,
     .n_metrics = 1,
     .metrics = {{SS_METRIC_CONTAINER_RESOURCE, SS_TARGET_UTILIZATION, "cpu", 50, {1000, 1000},
                  {0}, 0, false}},
     .desired = 4, .scale = true,
     .reason = "cpu container resource utilization (percentage of request) above target",
     .util = 100},
    {.name = "object_value_times_ready_pods", .min = 1, .max = 10, .current = 3, .n_pods = 3,
     .pods = {{0}, {0}, {.unready = true}}, .n_metrics = 1,
     .metrics = {{SS_METRIC_OBJECT, SS_TARGET_VALUE, "requests", 100000, {0}, {300000}, 1,
                  false}},
     .desired = 6, .scale = true, .reason = "Service metric requests above target"},
    {.name = "object_value_inside_tolerance_keeps_size", .min = 1, .max = 10, .current = 3,
     .n_pods = 3, .n_metrics = 1,
     .metrics = {{SS_METRIC_OBJECT, SS_TARGET_VALUE, "requests", 100000, {0}, {109000}, 1,
                  false}},
     .desired = 3, .reason = ""},
    {.name = "external_value_sums_series", .min = 1, .max = 10, .current = 2, .n_pods = 2,
     .n_metrics = 1,
     .metrics = {{SS_METRIC_EXTERNAL, SS_TARGET_VALUE, "queue", 10000, {0}, {6000, 6000, 8000},
                  3, false}},
     .desired = 4, .scale = true, .reason = "external metric queue above target"},
    {.name = "external_average_value_ceil_total_over_target", .min = 1, .max = 10, .current = 2,
     .n_pods = 2, .n_metrics = 1,
     .metrics = {{SS_METRIC_EXTERNAL, SS_TARGET_AVERAGE_VALUE, "queue", 3000, {0}, {4000, 6000},
                  2, false}},
     .desired = 4, .scale = true, .reason = "external metric queue above target", .avg = 5000},
    {.name = "external_average_value_tolerance_on_total_over_target_times_replicas", .min = 1,
     .max = 10, .current = 2, .n_pods = 2, .n_metrics = 1,
     .metrics = {{SS_METRIC_EXTERNAL, SS_TARGET_AVERAGE_VALUE, "queue", 3000, {0}, {6500}, 1,
                  false}},
     .desired = 2, .reason = "", .avg = 3250},
    {.name = "external_average_value_keeps_running_count_inside_tolerance", .min = 1,
     .max = 10, .current = 4, .running = 2, .n_pods = 2, .n_metrics = 1,
     .metrics = {{SS_METRIC_EXTERNAL, SS_TARGET_AVERAGE_VALUE, "queue", 3000, {0}, {6500}, 1,
                  false}},
     .desired = 2, .scale = true, .reason = DOWN_REASON, .avg = 3250},
    {.name = "object_average_value_ceil_total_over_target", .min = 1, .max = 10, .current = 2,
     .n_pods = 2, .n_metrics = 1,
     .metrics = {{SS_METRIC_OBJECT, SS_TARGET_AVERAGE_VALUE, "requests", 1000, {0}, {500}, 1,
                  false}},
     .desired = 1, .scale = true, .reason = DOWN_REASON, .avg = 250},
    {.name = "scale_from_zero_uses_ratio_alone", .min = 0, .max = 10, .current = 0,
     .n_metrics = 1,
     .metrics = {{SS_METRIC_EXTERNAL, SS_TARGET_VALUE, "queue", 10000, {0}, {25000}, 1, false}},
     .desired = 3, .scale = true, .reason = "external metric queue above target"},

    /* ---- several metrics and failures ---- */
    {.name = "several_metrics_take_max", .min = 1, .max = 10, .current = 2, .n_pods = 2,
     .n_metrics = 2,
     .metrics = {CPU50(600, 600),
                 {SS_METRIC_EXTERNAL, SS_TARGET_VALUE, "queue", 10000, {0}, {25000}, 1, false}},
     .desired = 5, .scale = true, .reason = "external metric queue above target"},
    {.name = "several_metrics_down_only_when_all_below", .min = 1, .max = 10, .current = 4,
     .n_pods = 4, .n_metrics = 2,
     .metrics = {CPU50(100, 100, 100, 100),
                 {SS_METRIC_EXTERNAL, SS_TARGET_VALUE, "queue", 10000, {0}, {15000}, 1, false}},
     .desired = 6, .scale = true, .reason = "external metric queue above target"},
    {.name = "partial_metric_failure_blocks_scale_down", .min = 1, .max = 10, .current = 3,
     .n_pods = 3, .n_metrics = 2,
     .metrics = {CPU50(100, 100, 100),
                 {SS_METRIC_EXTERNAL, SS_TARGET_VALUE, "queue", 10000, {0}, {0}, 0, true}},
     .desired = 3, .failed = true, .reason = "", .active = "FailedGetExternalMetric"},
    {.name = "partial_metric_failure_allows_scale_up", .min = 1, .max = 10, .current = 2,
     .n_pods = 2, .n_metrics = 2,
     .metrics = {CPU50(1000, 1000),
                 {SS_METRIC_EXTERNAL, SS_TARGET_VALUE, "queue", 10000, {0}, {0}, 0, true}},
     .desired = 4, .scale = true, .reason = CPU_UP_REASON, .active = "ValidMetricFound"},
    {.name = "all_metrics_failed_keeps_size", .min = 1, .max = 10, .current = 2, .n_pods = 2,
     .n_metrics = 1,
     .metrics = {{SS_METRIC_RESOURCE, SS_TARGET_UTILIZATION, "cpu", 50, {0}, {0}, 0, true}},
     .desired = 2, .failed = true, .reason = "", .active = "FailedGetResourceMetric"},
    {.name = "missing_request_fails_utilization", .min = 1, .max = 10, .current = 2, .n_pods = 2,
     .pods = {{0}, {.request = -1}}, .n_metrics = 1, .metrics = {CPU50(600, 600)},
     .desired = 2, .failed = true, .reason = "", .active = "FailedGetResourceMetric"},
    {.name = "no_ready_samples_fails_metric", .min = 1, .max = 10, .current = 2, .n_pods = 2,
     .pods = {{.unready = true}, {.unready = true}}, .n_metrics = 1,
     .metrics = {CPU50(600, 600)}, .desired = 2, .failed = true, .reason = "",
     .active = "FailedGetResourceMetric"},
    {.name = "pods_metric_failure_reason", .min = 1, .max = 10, .current = 2, .n_pods = 2,
     .n_metrics = 1,
     .metrics = {{SS_METRIC_PODS, SS_TARGET_AVERAGE_VALUE, "rps", 1000, {0}, {0}, 0, true}},
     .desired = 2, .failed = true, .reason = "", .active = "FailedGetPodsMetric"},

    /* ---- min/max first, and spec replicas 0 ---- */
    {.name = "above_max_goes_to_max_first", .min = 1, .max = 10, .current = 12, .n_pods = 12,
     .n_metrics = 1, .metrics = {CPU50(1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000,
                                       1000, 1000, 1000)},
     .desired = 10, .scale = true, .reason = "Current number of replicas above Spec.MaxReplicas"},
    {.name = "below_min_goes_to_min_first", .min = 3, .max = 10, .current = 1, .n_pods = 1,
     .n_metrics = 1, .metrics = {CPU50(10)}, .desired = 3, .scale = true,
     .reason = "Current number of replicas below Spec.MinReplicas"},
    {.name = "spec_zero_disables", .min = 1, .max = 10, .current = 0, .n_metrics = 1,
     .metrics = {CPU50(0)}, .desired = 0, .reason = "", .active = "ScalingDisabled"},
    {.name = "clamp_to_max_too_many_replicas", .min = 1, .max = 10, .current = 8, .n_pods = 8,
     .n_metrics = 1,
     .metrics = {CPU50(1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000)}, .desired = 10,
     .scale = true, .reason = CPU_UP_REASON, .limited = "TooManyReplicas"},
    {.name = "clamp_to_min_too_few_replicas", .min = 2, .max = 10, .current = 3, .n_pods = 3,
     .n_metrics = 1, .metrics = {CPU50(100, 100, 100)}, .desired = 2, .scale = true,
     .reason = DOWN_REASON, .limited = "TooFewReplicas"},

    /* ---- policies ---- */
    {.name = "default_up_policy_adds_4_pods_from_1", .min = 1, .max = 10, .current = 1,
     .n_pods = 1, .n_metrics = 1, .metrics = {CPU50(5000)}, .desired = 5, .scale = true,
     .reason = CPU_UP_REASON, .limited = "ScaleUpLimit"},
    {.name = "default_up_policy_doubles_large", .min = 1, .max = 100, .current = 10,
     .n_pods = 10,
     .n_metrics = 1,
     .metrics = {CPU50(5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000)},
     .desired = 20, .scale = true, .reason = CPU_UP_REASON, .limited = "ScaleUpLimit"},
    {.name = "policy_percent_up_ceil", .min = 1, .max = 10, .current = 3, .n_pods = 3,
     .n_metrics = 1, .metrics = {CPU50(5000, 5000, 5000)}, .up = &up_pct50, .desired = 5,
     .scale = true, .reason = CPU_UP_REASON, .limited = "ScaleUpLimit"},
    {.name = "policy_pods_up_counts_events_in_period", .min = 1, .max = 10, .current = 5,
     .n_pods = 5, .n_metrics = 1, .metrics = {CPU50(5000, 5000, 5000, 5000, 5000)},
     .up = &up_pods2, .n_events = 1, .events = {{30, 2}}, .desired = 5,
     .reason = CPU_UP_REASON, .limited = "ScaleUpLimit"},
    {.name = "policy_pods_up_forgets_events_before_period", .min = 1, .max = 10, .current = 5,
     .n_pods = 5, .n_metrics = 1, .metrics = {CPU50(5000, 5000, 5000, 5000, 5000)},
     .up = &up_pods2, .n_events = 2, .events = {{60, 2}, {90, 1}}, .desired = 7, .scale = true,
     .reason = CPU_UP_REASON, .limited = "ScaleUpLimit"},
    {.name = "policy_pods_down_limit", .min = 1, .max = 10, .current = 5, .n_pods = 5,
     .n_metrics = 1, .metrics = {CPU50(10, 10, 10, 10, 10)}, .down = &down_pods1, .desired = 4,
     .scale = true, .reason = DOWN_REASON, .limited = "ScaleDownLimit"},
    {.name = "policy_percent_down_floor", .min = 1, .max = 10, .current = 5, .n_pods = 5,
     .n_metrics = 1, .metrics = {CPU50(10, 10, 10, 10, 10)}, .down = &down_pct30, .desired = 3,
     .scale = true, .reason = DOWN_REASON, .limited = "ScaleDownLimit"},
    {.name = "policy_down_counts_scale_ups_and_downs_in_period", .min = 1, .max = 10,
     .current = 3, .n_pods = 3, .n_metrics = 1, .metrics = {CPU50(10, 10, 10)},
     .down = &down_pods2, .n_events = 2, .events = {{40, -3}, {20, 1}}, .desired = 3,
     .reason = DOWN_REASON, .limited = "ScaleDownLimit"},
    {.name = "select_min", .min = 1, .max = 100, .current = 10, .n_pods = 10, .n_metrics = 1,
     .metrics = {CPU50(5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000)},
     .up = &up_select_min, .desired = 14, .scale = true, .reason = CPU_UP_REASON,
     .limited = "ScaleUpLimit"},
    {.name = "select_min_down_takes_smallest_change", .min = 1, .max = 10, .current = 5,
     .n_pods = 5, .n_metrics = 1, .metrics = {CPU50(10, 10, 10, 10, 10)},
     .down = &down_select_min, .desired = 4, .scale = true, .reason = DOWN_REASON,
     .limited = "ScaleDownLimit"},
    {.name = "select_max_down_takes_biggest_change", .min = 1, .max = 10, .current = 5,
     .n_pods = 5, .n_metrics = 1, .metrics = {CPU50(10, 10, 10, 10, 10)},
     .down = &down_select_max, .desired = 2, .scale = true, .reason = DOWN_REASON,
     .limited = "ScaleDownLimit"},
    {.name = "select_disabled", .min = 1, .max = 10, .current = 2, .n_pods = 2, .n_metrics = 1,
     .metrics = {CPU50(5000, 5000)}, .up = &up_disabled, .desired = 2, .reason = CPU_UP_REASON,
     .limited = "ScaleUpLimit"},
    {.name = "select_disabled_down", .min = 1, .max = 10, .current = 4, .n_pods = 4,
     .n_metrics = 1, .metrics = {CPU50(10, 10, 10, 10)}, .down = &down_disabled, .desired = 4,
     .reason = DOWN_REASON, .limited = "ScaleDownLimit"},

    /* ---- stabilization ---- */
    {.name = "stabilization_down_takes_max_in_window", .min = 1, .max = 10, .current = 5,
     .n_pods = 5, .n_metrics = 1, .metrics = {CPU50(10, 10, 10, 10, 10)}, .n_recs = 2,
     .recs = {{100, 5}, {50, 3}}, .desired = 5, .reason = DOWN_REASON,
     .able = "ScaleDownStabilized", .limited = "DesiredWithinRange"},
    {.name = "stabilization_down_ignores_recs_outside_window", .min = 1, .max = 10, .current = 5,
     .n_pods = 5, .n_metrics = 1, .metrics = {CPU50(10, 10, 10, 10, 10)}, .n_recs = 2,
     .recs = {{300, 5}, {50, 3}}, .desired = 3, .scale = true, .reason = DOWN_REASON,
     .able = "ScaleDownStabilized"},
    {.name = "stabilization_down_default_from_settings", .min = 1, .max = 10, .current = 5,
     .n_pods = 5, .n_metrics = 1, .metrics = {CPU50(10, 10, 10, 10, 10)},
     .down = &down_stab_unset, .n_recs = 1, .recs = {{299, 4}}, .desired = 4, .scale = true,
     .reason = DOWN_REASON, .able = "ScaleDownStabilized"},
    {.name = "stabilization_up_takes_min_in_window", .min = 1, .max = 10, .current = 2,
     .n_pods = 2, .n_metrics = 1, .metrics = {CPU50(1500, 1500)}, .up = &up_stab60,
     .n_recs = 2, .recs = {{30, 4}, {61, 2}}, .desired = 4, .scale = true,
     .reason = CPU_UP_REASON, .able = "ScaleUpStabilized"},
    {.name = "stabilization_up_holds_at_current", .min = 1, .max = 10, .current = 2,
     .n_pods = 2, .n_metrics = 1, .metrics = {CPU50(1500, 1500)}, .up = &up_stab60,
     .n_recs = 1, .recs = {{30, 2}}, .desired = 2, .reason = CPU_UP_REASON,
     .able = "ScaleUpStabilized"},

    /* ---- tolerance settings ---- */
    {.name = "tolerance_per_direction_up_zero", .min = 1, .max = 10, .current = 2, .n_pods = 2,
     .n_metrics = 1, .metrics = {CPU50(520, 520)}, .up = &up_tol0, .desired = 3, .scale = true,
     .reason = CPU_UP_REASON},
    {.name = "tolerance_per_direction_down_wide", .min = 1, .max = 10, .current = 2,
     .n_pods = 2, .n_metrics = 1, .metrics = {CPU50(300, 300)}, .down = &down_tol05,
     .desired = 2, .reason = ""},
    {.name = "tolerance_from_controller_setting", .min = 1, .max = 10, .current = 2,
     .n_pods = 2, .n_metrics = 1, .metrics = {CPU50(580, 580)}, .tolerance = 0.2, .desired = 2,
     .reason = ""},

    /* ---- without behavior: normalizeDesiredReplicas ---- */
    /* horizontal_test.go TestConvertDesiredReplicasWithRules, "prenormalized
     * desired replicas within range": 5 -> 7, min 3, max 8 */
    {.name = "no_behavior_desired_within_range", .no_behavior = true, .min = 3, .max = 8,
     .current = 5, .n_pods = 5, .n_metrics = 1, .metrics = {CPU50(700, 700, 700, 700, 700)},
     .desired = 7, .scale = true, .reason = CPU_UP_REASON, .able = "ReadyForNewScale",
     .limited = "DesiredWithinRange"},
    /* ..."prenormalized desired replicas < minReplicas": 3 -> 1, min 2 */
    {.name = "no_behavior_too_few_replicas", .no_behavior = true, .min = 2, .max = 8,
     .current = 3, .n_pods = 3, .n_metrics = 1, .metrics = {CPU50(100, 100, 100)}, .desired = 2,
     .scale = true, .reason = DOWN_REASON, .limited = "TooFewReplicas"},
    /* ..."maxReplicas is the limit because maxReplicas < scaleUpLimit"
     * (from 8 rather than 20, which would be above max and never get here) */
    {.name = "no_behavior_too_many_replicas", .no_behavior = true, .min = 1, .max = 10,
     .current = 8, .n_pods = 8, .n_metrics = 1,
     .metrics = {CPU50(50000, 50000, 50000, 50000, 50000, 50000, 50000, 50000)}, .desired = 10,
     .scale = true, .reason = CPU_UP_REASON, .limited = "TooManyReplicas"},
    /* ..."scaleUpLimit is the limit because scaleUpLimit < maxReplicas":
     * 3 -> 1000 asked, max 2000, limit max(2 x 3, 4) = 6 */
    {.name = "no_behavior_scale_up_limit_twice_current", .no_behavior = true, .min = 1,
     .max = 2000, .current = 3, .n_pods = 3, .n_metrics = 1,
     .metrics = {CPU50(500000, 500000, 500000)}, .desired = 6, .scale = true,
     .reason = CPU_UP_REASON, .able = "ReadyForNewScale", .limited = "ScaleUpLimit"},
    /* scaleUpLimitMinimum: from 1 the limit is 4, where the default behavior
     * would allow 5 */
    {.name = "no_behavior_scale_up_limit_minimum_4", .no_behavior = true, .min = 1, .max = 10,
     .current = 1, .n_pods = 1, .n_metrics = 1, .metrics = {CPU50(5000)}, .desired = 4,
     .scale = true, .reason = CPU_UP_REASON, .limited = "ScaleUpLimit"},
    /* the fixed limit ignores scale events: +2 pods per 60 s would allow 7 */
    {.name = "no_behavior_ignores_policies_and_events", .no_behavior = true, .min = 1,
     .max = 10, .current = 5, .n_pods = 5, .n_metrics = 1,
     .metrics = {CPU50(5000, 5000, 5000, 5000, 5000)}, .up = &up_pods2, .n_events = 1,
     .events = {{30, 2}}, .desired = 10, .scale = true, .reason = CPU_UP_REASON,
     .limited = "TooManyReplicas"},
    /* scale-down stabilized over the controller's 300 s: the highest
     * recommendation not before the cutoff, which is inclusive here
     * (stabilizeRecommendation: Before(cutoff) is old) where the behavior
     * path's window is exclusive (see
     * stabilization_down_ignores_recs_outside_window) */
    {.name = "no_behavior_down_window_includes_cutoff", .no_behavior = true, .min = 1, .max = 10,
     .current = 5, .n_pods = 5, .n_metrics = 1, .metrics = {CPU50(10, 10, 10, 10, 10)},
     .n_recs = 2, .recs = {{300, 5}, {50, 3}}, .desired = 5, .reason = DOWN_REASON,
     .able = "ScaleDownStabilized", .limited = "DesiredWithinRange"},
    {.name = "no_behavior_down_window_from_settings", .no_behavior = true, .min = 1, .max = 10,
     .current = 5, .n_pods = 5, .n_metrics = 1, .metrics = {CPU50(10, 10, 10, 10, 10)},
     .down = &down_pods1, .n_recs = 1, .recs = {{301, 5}}, .desired = 1, .scale = true,
     .reason = DOWN_REASON, .able = "ReadyForNewScale", .limited = "DesiredWithinRange"},
    /* only scale-down is stabilized, and a higher recent recommendation also
     * lifts a scale up (reported as ScaleDownStabilized): 3 -> 5 asked, 7
     * recent, limited to max(2 x 3, 4) = 6 */
    {.name = "no_behavior_recent_higher_recommendation_lifts_scale_up", .no_behavior = true,
     .min = 1, .max = 10, .current = 3, .n_pods = 3, .n_metrics = 1,
     .metrics = {CPU50(800, 800, 800)}, .n_recs = 1, .recs = {{60, 7}}, .desired = 6,
     .scale = true, .reason = CPU_UP_REASON, .able = "ScaleDownStabilized",
     .limited = "ScaleUpLimit"},
    /* no scale-up stabilization without behavior, whatever the rules say */
    {.name = "no_behavior_no_scale_up_window", .no_behavior = true, .min = 1, .max = 10,
     .current = 2, .n_pods = 2, .n_metrics = 1, .metrics = {CPU50(1500, 1500)},
     .up = &up_stab60, .n_recs = 1, .recs = {{30, 2}}, .desired = 4, .scale = true,
     .reason = CPU_UP_REASON, .able = "ReadyForNewScale", .limited = "ScaleUpLimit"},
    /* the controller's tolerance in both directions: no behavior.tolerance */
    {.name = "no_behavior_controller_tolerance", .no_behavior = true, .min = 1, .max = 10,
     .current = 2, .n_pods = 2, .n_metrics = 1, .metrics = {CPU50(520, 520)}, .up = &up_tol0,
     .desired = 2, .reason = "", .util = 52},

    /* ---- a new HPA: recordInitialRecommendation ---- */
    {.name = "first_sync_holds_scale_down_no_behavior", .no_behavior = true, .first_sync = true,
     .min = 1, .max = 10, .current = 4, .n_pods = 4, .n_metrics = 1,
     .metrics = {CPU50(10, 10, 10, 10)}, .desired = 4, .reason = DOWN_REASON,
     .able = "ScaleDownStabilized"},
    {.name = "first_sync_holds_scale_down_behavior", .first_sync = true, .min = 1, .max = 10,
     .current = 4, .n_pods = 4, .n_metrics = 1, .metrics = {CPU50(10, 10, 10, 10)},
     .desired = 4, .reason = DOWN_REASON, .able = "ScaleDownStabilized"},
    {.name = "first_sync_scales_up", .no_behavior = true, .first_sync = true, .min = 1,
     .max = 10, .current = 2, .n_pods = 2, .n_metrics = 1, .metrics = {CPU50(1000, 1000)},
     .desired = 4, .scale = true, .reason = CPU_UP_REASON, .able = "ReadyForNewScale"},

    /* ---- values near INT64_MAX: saturate, never overflow ---- */
    /* replica_calculator.go GetExternalMetricReplicas (kubernetes#133888):
     * the sum caps at MaxInt64, the count at MaxInt32, then the limits */
    {.name = "external_value_sum_caps_at_max_int64", .min = 1, .max = 10, .current = 2,
     .n_pods = 2, .n_metrics = 1,
     .metrics = {{SS_METRIC_EXTERNAL, SS_TARGET_VALUE, "queue", 1000, {0},
                  {INT64_MAX, INT64_MAX, -5}, 3, false}},
     .desired = 6, .scale = true, .reason = "external metric queue above target",
     .limited = "ScaleUpLimit", .value = INT64_MAX},
    {.name = "external_value_sum_saturates_downwards", .min = 1, .max = 10, .current = 2,
     .n_pods = 2, .n_metrics = 1,
     .metrics = {{SS_METRIC_EXTERNAL, SS_TARGET_VALUE, "queue", 1000, {0},
                  {INT64_MIN, INT64_MIN}, 2, false}},
     .desired = 1, .scale = true, .reason = DOWN_REASON, .value = INT64_MIN},
    /* GetExternalPerPodMetricReplicas (kubernetes#127050): an overflowing
     * total is MaxInt64, the count MaxInt32, the average clamped before it
     * is converted */
    {.name = "external_average_value_overflow_caps", .no_behavior = true, .min = 1, .max = 10,
     .current = 2, .n_pods = 2, .n_metrics = 1,
     .metrics = {{SS_METRIC_EXTERNAL, SS_TARGET_AVERAGE_VALUE, "queue", 1000, {0},
                  {INT64_MAX, 1}, 2, false}},
     .desired = 4, .scale = true, .reason = "external metric queue above target",
     .limited = "ScaleUpLimit", .avg = INT64_MAX},
    {.name = "external_average_value_one_replica_max_total", .min = 1, .max = 10, .current = 1,
     .n_pods = 1, .n_metrics = 1,
     .metrics = {{SS_METRIC_EXTERNAL, SS_TARGET_AVERAGE_VALUE, "queue", 1, {0},
                  {INT64_MAX - 1}, 1, false}},
     .desired = 5, .scale = true, .reason = "external metric queue above target",
     .avg = INT64_MAX},
    /* ...and a total that reads negative counts as an overflow there too */
    {.name = "external_average_value_negative_total_reads_as_overflow", .min = 1, .max = 10,
     .current = 2, .n_pods = 2, .n_metrics = 1,
     .metrics = {{SS_METRIC_EXTERNAL, SS_TARGET_AVERAGE_VALUE, "queue", 1000, {0}, {-5000}, 1,
                  false}},
     .desired = 6, .scale = true, .reason = "external metric queue above target",
     .avg = INT64_MAX},
    {.name = "object_average_value_near_max", .min = 1, .max = 10, .current = 2, .n_pods = 2,
     .n_metrics = 1,
     .metrics = {{SS_METRIC_OBJECT, SS_TARGET_AVERAGE_VALUE, "requests", 1000, {0},
                  {INT64_MAX, INT64_MAX}, 2, false}},
     .desired = 6, .scale = true, .reason = "Service metric requests above target",
     .avg = INT64_MAX / 2 + 1},
    /* GetMetricUsageRatio: the average of values near MaxInt64 fits */
    {.name = "pods_metric_average_near_max_int64", .min = 1, .max = 10, .current = 2,
     .n_pods = 2, .n_metrics = 1,
     .metrics = {{SS_METRIC_PODS, SS_TARGET_AVERAGE_VALUE, "rps", 1000, {INT64_MAX, INT64_MAX},
                  {0}, 0, false}},
     .desired = 6, .scale = true, .reason = "pods metric rps above target", .avg = INT64_MAX},
    /* GetResourceUtilizationRatio: exact totals; the percent clamped into
     * int32 (where Kubernetes' int64 would wrap) */
    {.name = "utilization_near_max_int64_clamps_percent", .min = 1, .max = 10, .current = 2,
     .n_pods = 2, .n_metrics = 1, .metrics = {CPU50(INT64_MAX, INT64_MAX)}, .desired = 6,
     .scale = true, .reason = CPU_UP_REASON, .util = INT32_MAX, .avg = INT64_MAX},
    /* a missing replica with a request near MaxInt64 on a scale down: its
     * request x max(100, 200)% / 100 stays exact; the recomputed ratio is
     * back inside the tolerance */
    {.name = "utilization_missing_fill_near_max_int64", .min = 1, .max = 10, .current = 2,
     .n_pods = 2, .pods = {{0}, {.request = INT64_MAX}}, .n_metrics = 1,
     .metrics = {{SS_METRIC_RESOURCE, SS_TARGET_UTILIZATION, "cpu", 200, {100, MISSING}, {0}, 0,
                  false}},
     .desired = 2, .reason = "", .util = 10},
    {.name = "utilization_requests_sum_past_max_int64", .min = 1, .max = 10, .current = 2,
     .n_pods = 2, .pods = {{.n_containers = 2, .containers = {INT64_MAX, INT64_MAX}},
                           {.n_containers = 2, .containers = {INT64_MAX, INT64_MAX}}},
     .n_metrics = 1, .metrics = {CPU50(INT64_MAX, INT64_MAX)}, .desired = 2, .reason = "",
     .util = 50, .avg = INT64_MAX},

    /* ---- requests: the sum over a pod's containers (calculatePodRequests) ---- */
    {.name = "utilization_request_sums_containers", .min = 1, .max = 10, .current = 2,
     .n_pods = 2,
     .pods = {{.n_containers = 2, .containers = {300, 700}},
              {.n_containers = 2, .containers = {300, 700}}},
     .n_metrics = 1, .metrics = {CPU50(1000, 1000)}, .desired = 4, .scale = true,
     .reason = CPU_UP_REASON, .util = 100},
    {.name = "container_resource_uses_named_container_request", .min = 1, .max = 10,
     .current = 2, .n_pods = 2,
     .pods = {{.n_containers = 2, .containers = {3000, 500}},
              {.n_containers = 2, .containers = {3000, 500}}},
     .n_metrics = 1,
     .metrics = {{SS_METRIC_CONTAINER_RESOURCE, SS_TARGET_UTILIZATION, "cpu", 50, {500, 500},
                  {0}, 0, false, "b"}},
     .desired = 4, .scale = true,
     .reason = "cpu container resource utilization (percentage of request) above target",
     .util = 100},
    /* replica_calculator_test.go: "missing request for cpu in container X of Pod Y" */
    {.name = "missing_container_request_names_container_and_pod", .min = 1, .max = 10,
     .current = 2, .n_pods = 2,
     .pods = {{.n_containers = 2, .containers = {500, 500}},
              {.name = "web-7d4b9", .n_containers = 2, .containers = {500, NO_REQ}}},
     .n_metrics = 1, .metrics = {CPU50(600, 600)}, .desired = 2, .failed = true, .reason = "",
     .active = "FailedGetResourceMetric",
     .error = "missing request for cpu in container b of Pod web-7d4b9"},
    {.name = "container_resource_ignores_other_containers_requests", .min = 1, .max = 10,
     .current = 2, .n_pods = 2,
     .pods = {{.n_containers = 2, .containers = {500, NO_REQ}},
              {.n_containers = 2, .containers = {500, NO_REQ}}},
     .n_metrics = 1,
     .metrics = {{SS_METRIC_CONTAINER_RESOURCE, SS_TARGET_UTILIZATION, "cpu", 50, {500, 500},
                  {0}, 0, false, "a"}},
     .desired = 4, .scale = true,
     .reason = "cpu container resource utilization (percentage of request) above target",
     .util = 100},
    {.name = "container_resource_container_not_found", .min = 1, .max = 10, .current = 2,
     .n_pods = 2,
     .pods = {{.n_containers = 2, .containers = {500, 500}},
              {.n_containers = 2, .containers = {500, 500}}},
     .n_metrics = 1,
     .metrics = {{SS_METRIC_CONTAINER_RESOURCE, SS_TARGET_UTILIZATION, "cpu", 50, {500, 500},
                  {0}, 0, false, "sidecar"}},
     .desired = 2, .failed = true, .reason = "", .active = "FailedGetContainerResourceMetric",
     .error = "container sidecar not found in Pod p-0"},
    /* every pod the selector lists is asked, a failed one too */
    {.name = "missing_request_in_gone_pod_fails", .min = 1, .max = 10, .current = 2,
     .n_pods = 3,
     .pods = {{.n_containers = 1, .containers = {500}}, {.n_containers = 1, .containers = {500}},
              {.gone = true, .n_containers = 1, .containers = {NO_REQ}}},
     .n_metrics = 1, .metrics = {CPU50(600, 600, MISSING)}, .desired = 2, .failed = true,
     .reason = "", .error = "missing request for cpu in container a of Pod p-2"},
    /* requests of 0 are requests: no error for them, but nothing to divide
     * by (GetResourceUtilizationRatio) */
    {.name = "zero_requests_match_no_pods", .min = 1, .max = 10, .current = 2, .n_pods = 2,
     .pods = {{.n_containers = 1, .containers = {0}}, {.n_containers = 1, .containers = {0}}},
     .n_metrics = 1, .metrics = {CPU50(600, 600)}, .desired = 2, .failed = true, .reason = "",
     .error = "no metrics returned matched known pods"},
    /* a caller without container detail: the pod's one request, by pod name */
    {.name = "missing_single_request_names_pod", .min = 1, .max = 10, .current = 2,
     .n_pods = 2, .pods = {{0}, {.request = -1}}, .n_metrics = 1, .metrics = {CPU50(600, 600)},
     .desired = 2, .failed = true, .reason = "", .error = "missing request for cpu in Pod p-1"},
};

/* ---- running a case ---- */

struct fixture {
  const struct hpa_case *c;
  struct ss_hpa_spec spec;
  struct ss_metric_spec ms[3];
  struct ss_hpa_pod pods[MAXP];
  char pod_names[MAXP][16];
  struct ss_hpa_container containers[3][MAXP][3];
  struct ss_hpa_sample samples[3][MAXP];
  struct ss_hpa_metric_input mi[3];
  struct ss_hpa_history hist;
  struct ss_hpa_input in;
  struct ss_hpa_settings set;
};

/* Each test's fixture is freed by teardown, so a failed assertion (a
 * longjmp out of the test) leaks nothing. */
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
    ss_hpa_history_free(&f->hist);
  free(f);
  return 0;
}

static void build(const struct hpa_case *c, struct fixture *f) {
  ss_hpa_history_free(&f->hist);
  memset(f, 0, sizeof *f);
  f->c = c;
  f->set = SS_HPA_SETTINGS_DEFAULT;
  if (c->tolerance > 0)
    f->set.tolerance = c->tolerance;
  f->spec.min_replicas = c->min;
  f->spec.max_replicas = c->max;
  f->spec.up = c->up ? *c->up : up_default;
  f->spec.down = c->down ? *c->down : down_default;
  f->spec.n_metrics = c->n_metrics;
  f->spec.metrics = f->ms;
  int64_t now = NOW_MS;
  for (size_t i = 0; i < c->n_pods; i++) {
    const struct pod_row *p = &c->pods[i];
    struct ss_hpa_pod *q = &f->pods[i];
    q->start_ms = now - (p->start_s_ago ? p->start_s_ago : 3600) * 1000;
    q->ready = !p->unready && !p->was_ready && !p->pending;
    q->ready_change_ms = p->ready_s_ago ? now - p->ready_s_ago * 1000 : q->start_ms + 10000;
    if (p->unready)
      q->ready_change_ms = q->start_ms + 5000;
    if (p->was_ready)
      q->ready_change_ms = now - 10000;
    q->pending = p->pending;
    q->gone = p->gone;
    snprintf(f->pod_names[i], sizeof f->pod_names[i], "p-%zu", i);
    q->name = p->name ? p->name : f->pod_names[i];
  }
  for (size_t k = 0; k < c->n_metrics; k++) {
    const struct metric_row *r = &c->metrics[k];
    struct ss_metric_spec *ms = &f->ms[k];
    ms->source = r->src;
    ms->name = r->name;
    ms->container = r->src == SS_METRIC_CONTAINER_RESOURCE ? r->container : NULL;
    ms->object_kind = r->src == SS_METRIC_OBJECT ? "Service" : NULL;
    ms->target.type = r->tt;
    if (r->tt == SS_TARGET_UTILIZATION)
      ms->target.utilization = (int32_t)r->target;
    else
      ms->target.value.milli = r->target;
    for (size_t i = 0; i < c->n_pods; i++) {
      const struct pod_row *p = &c->pods[i];
      struct ss_hpa_sample *s = &f->samples[k][i];
      int64_t req = p->request;
      s->present = r->usage[i] != MISSING;
      s->value = s->present ? r->usage[i] : 0;
      s->request = req == 0 ? 1000 : req;
      s->at_ms = now - 5000;
      s->window_ms = 30000;
      for (size_t j = 0; j < p->n_containers; j++) {
        static const char *const names[] = {"a", "b", "c"};
        f->containers[k][i][j] = (struct ss_hpa_container){
            names[j], p->containers[j] != NO_REQ, p->containers[j] != NO_REQ ? p->containers[j] : 0};
      }
      s->containers = p->n_containers ? f->containers[k][i] : NULL;
      s->n_containers = p->n_containers;
    }
    f->mi[k].failed = r->failed;
    f->mi[k].error = r->failed ? "connection refused" : NULL;
    f->mi[k].samples = f->samples[k];
    f->mi[k].values = r->values;
    f->mi[k].n_values = r->n_values;
  }
  /* like Kubernetes' own tests, which give an empty, non-nil list: the
   * initial recommendation is recorded only for a new HPA */
  f->hist.started = !c->first_sync;
  for (size_t i = 0; i < c->n_recs; i++)
    assert_int_equal(ss_hpa_history_add_rec(&f->hist, (struct ss_hpa_rec){
                                                          now - c->recs[i].s_ago * 1000,
                                                          c->recs[i].replicas}),
                     SS_EOK);
  for (size_t i = 0; i < c->n_events; i++) {
    int32_t ch = c->events[i].replicas;
    assert_int_equal(ss_hpa_history_add_event(&f->hist, ch > 0,
                                              (struct ss_hpa_event){
                                                  now - c->events[i].s_ago * 1000,
                                                  ch > 0 ? ch : -ch, false}),
                     SS_EOK);
  }
  f->spec.has_behavior = !c->no_behavior;
  f->in = (struct ss_hpa_input){c->current, c->running ? c->running : c->current, f->pods,
                                c->n_pods, f->mi, now};
}

static void check_reason(const char *what, const char *want, const struct ss_hpa_condition *got) {
  if (!want)
    return;
  const char *r = got->reason ? got->reason : "(unchanged)";
  if (strcmp(want, r) != 0)
    print_error("%s: want %s, got %s (%s)\n", what, want, r, got->message);
  assert_string_equal(want, r);
}

static void run_case(void **state) {
  struct fixture *f = *state;
  const struct hpa_case *c = f->c;
  build(c, f);
  struct ss_hpa_result res;
  assert_int_equal(ss_hpa_evaluate(&f->spec, &f->set, &f->in, &f->hist, &res), SS_EOK);
  if (res.desired != c->desired || res.scale != c->scale || strcmp(res.reason, c->reason))
    print_error("%s: desired %d scale %d reason \"%s\" error \"%s\"\n", c->name, res.desired,
                res.scale, res.reason, res.error);
  assert_int_equal(res.desired, c->desired);
  assert_int_equal(res.scale, c->scale);
  assert_int_equal(res.failed, c->failed);
  assert_string_equal(res.reason, c->reason);
  check_reason("ScalingActive", c->active, &res.scaling_active);
  check_reason("AbleToScale", c->able, &res.able_to_scale);
  check_reason("ScalingLimited", c->limited, &res.scaling_limited);
  if (c->failed)
    assert_non_null(strstr(res.error, "invalid metrics"));
  if (c->error && !strstr(res.error, c->error))
    fail_msg("error \"%s\" does not say \"%s\"", res.error, c->error);
  if (c->util) {
    assert_true(res.metrics[0].has_utilization);
    assert_int_equal(res.metrics[0].average_utilization, c->util);
  }
  if (c->avg)
    assert_int_equal(res.metrics[0].average_value, c->avg);
  if (c->value)
    assert_int_equal(res.metrics[0].value, c->value);
}

/* ---- non-table checks ---- */

static void test_limited_condition_true_only_when_clamped(void **state) {
  struct fixture *f = *state;
  build(&cases[3], f); /* utilization_above_target_ceil_ratio_times_ready */
  struct ss_hpa_result res;
  assert_int_equal(ss_hpa_evaluate(&f->spec, &f->set, &f->in, &f->hist, &res), SS_EOK);
  assert_int_equal(res.scaling_limited.status, SS_HPA_COND_FALSE);
  f->spec.max_replicas = 2;
  assert_int_equal(ss_hpa_evaluate(&f->spec, &f->set, &f->in, &f->hist, &res), SS_EOK);
  assert_int_equal(res.desired, 2);
  assert_int_equal(res.scaling_limited.status, SS_HPA_COND_TRUE);
  assert_string_equal(res.scaling_limited.reason, "TooManyReplicas");
}

static void test_rejects_bad_arguments(void **state) {
  struct fixture *f = *state;
  build(&cases[0], f);
  struct ss_hpa_result res;
  assert_int_equal(ss_hpa_evaluate(NULL, &f->set, &f->in, &f->hist, &res), SS_EINVALID);
  assert_int_equal(ss_hpa_evaluate(&f->spec, &f->set, &f->in, &f->hist, NULL), SS_EINVALID);
  f->spec.n_metrics = SS_HPA_MAX_METRICS + 1;
  assert_int_equal(ss_hpa_evaluate(&f->spec, &f->set, &f->in, &f->hist, &res), SS_ELIMIT);
  assert_int_equal(ss_hpa_commit(NULL, &res, true), SS_EINVALID);
  ss_hpa_history_free(NULL);
}

static void test_commit_records_recommendation_and_applied_event(void **state) {
  (void)state;
  struct ss_hpa_history h = {.started = true};
  struct ss_hpa_result res = {.current = 2, .desired = 5, .scale = true, .record = true,
                              .recommendation = {1000, 7}, .now_ms = 1000, .behavior = true,
                              .up_period_ms = 15000, .down_period_ms = 15000};
  assert_int_equal(ss_hpa_commit(&h, &res, false), SS_EOK);
  assert_int_equal(h.recs.len, 1);
  assert_int_equal(h.recs.v[0].replicas, 7); /* unstabilized, unclamped */
  assert_int_equal(h.up.len, 0);             /* not applied: no event */
  assert_int_equal(ss_hpa_commit(&h, &res, true), SS_EOK);
  assert_int_equal(h.up.len, 1);
  assert_int_equal(h.up.v[0].change, 3);
  assert_int_equal(h.up.v[0].at_ms, 1000);
  assert_int_equal(h.down.len, 0);
  ss_hpa_history_free(&h);
  assert_null(h.recs.v);
}
/* Replays horizontal_test.go TestNormalizeDesiredReplicas (the path
 * without behavior, stabilizeRecommendation, window 5 min): the highest
 * recommendation in the window wins; an entry older than the window is
 * reused by the new one, the last such entry when there are several. Five
 * replicas at 30% of a 50% target recommend 3. */
static void test_no_behavior_stabilize_recommendation(void **state) {
  struct fixture *f = *state;
  static const struct {
    const char *name;
    size_t n;
    struct hist_row recs[4];
    int32_t want;
    uint32_t want_len, replaced; /* replaced: the index the new one took, or want_len - 1 */
  } t[] = {
      {"empty log", 0, {{0}}, 3, 1, 0},
      {"stabilize", 2, {{120, 4}, {60, 5}}, 5, 3, 2},
      {"no stabilize", 2, {{120, 1}, {60, 2}}, 3, 3, 2},
      {"no stabilize - old recommendations", 2, {{600, 10}, {540, 9}}, 3, 2, 1},
      {"stabilize - old recommendations", 4, {{600, 10}, {60, 4}, {120, 5}, {540, 9}}, 5, 4, 3},
  };
  for (size_t k = 0; k < N_ELEMS(t); k++) {
    struct hpa_case c = {.name = t[k].name, .no_behavior = true, .min = 1, .max = 10,
                         .current = 5, .n_pods = 5, .n_metrics = 1,
                         .metrics = {CPU50(300, 300, 300, 300, 300)}, .n_recs = t[k].n},
                    *cp = &c;
    memcpy(c.recs, t[k].recs, sizeof t[k].recs);
    build(cp, f);
    struct ss_hpa_result res;
    assert_int_equal(ss_hpa_evaluate(&f->spec, &f->set, &f->in, &f->hist, &res), SS_EOK);
    if (res.desired != t[k].want)
      fail_msg("%s: %d replicas, want %d", t[k].name, res.desired, t[k].want);
    assert_string_equal(res.able_to_scale.reason,
                        t[k].want == 3 ? "ReadyForNewScale" : "ScaleDownStabilized");
    assert_int_equal(ss_hpa_commit(&f->hist, &res, true), SS_EOK);
    if (f->hist.recs.len != t[k].want_len)
      fail_msg("%s: log has %u entries, want %u", t[k].name, f->hist.recs.len, t[k].want_len);
    assert_int_equal(f->hist.recs.v[t[k].replaced].replicas, 3);
    assert_int_equal(f->hist.recs.v[t[k].replaced].at_ms, NOW_MS);
    /* no behavior: no scale events kept (storeScaleEvent) */
    assert_int_equal(f->hist.up.len + f->hist.down.len, 0);
  }
}

/* Replays horizontal_test.go TestStoreScaleEvents: events of the direction
 * older than its longest policy period are marked outdated and the last
 * outdated one is replaced; without behavior nothing is stored. Each case
 * runs as a scale up from 10 and as a scale down to 10 (10 <-> 15). The
 * expected change per 60 s is counted before the new event is stored. */
static void test_store_scale_events(void **state) {
  (void)state;
  struct ev {
    int32_t change;
    int64_t s_ago;
    bool outdated;
  };
  static const struct {
    const char *name;
    bool behavior;
    int32_t pods_period, pct_period; /* generateScalingRules' periods (0: no policy) */
    size_t n_prev, n_new;
    struct ev prev[4], next[4];
    int64_t change_60s;
  } t[] = {
      {"empty entries with default behavior", false, 0, 0, 0, 0, {{0}}, {{0}}, 0},
      {"empty entries with two-policy-behavior", true, 60, 60, 0, 1, {{0}}, {{5, 0, false}}, 0},
      {"one outdated entry to be kept untouched without behavior", false, 0, 0, 1, 1,
       {{7, 61, false}}, {{7, 61, false}}, 0},
      {"one outdated entry to be replaced with behavior", true, 60, 60, 1, 1, {{7, 61, false}},
       {{5, 0, false}}, 0},
      {"one actual entry to be not touched with behavior", true, 60, 60, 1, 2,
       {{7, 58, false}}, {{7, 58, false}, {5, 0, false}}, 7},
      {"two entries, one of them to be replaced", true, 60, 0, 2, 2,
       {{7, 61, false}, {6, 59, false}}, {{5, 0, false}, {6, 59, false}}, 6},
      {"replace one entry, use policies with different periods", true, 60, 30, 4, 4,
       {{8, 29, false}, {6, 59, false}, {7, 61, false}, {9, 61, false}},
       {{8, 29, false}, {6, 59, false}, {7, 61, true}, {5, 0, false}}, 14},
      {"two entries, both actual", true, 120, 30, 2, 3, {{7, 58, false}, {6, 59, false}},
       {{7, 58, false}, {6, 59, false}, {5, 0, false}}, 13},
  };
  for (size_t k = 0; k < N_ELEMS(t); k++) {
    for (int dir = 0; dir < 2; dir++) {
      bool up = dir == 0;
      struct ss_hpa_history h = {.started = true};
      for (size_t i = 0; i < t[k].n_prev; i++)
        assert_int_equal(ss_hpa_history_add_event(&h, up,
                                                  (struct ss_hpa_event){
                                                      NOW_MS - t[k].prev[i].s_ago * 1000,
                                                      t[k].prev[i].change, false}),
                         SS_EOK);
      /* getReplicasChangePerPeriod(60, events), through the policy limit:
       * a Pods policy of 0 per 60 s leaves start = current -/+ change */
      int64_t counted = 0;
      const struct ss_hpa_events *l = up ? &h.up : &h.down;
      for (uint32_t i = 0; i < l->len; i++)
        if (l->v[i].at_ms > NOW_MS - 60000)
          counted += l->v[i].change;
      assert_int_equal(counted, t[k].change_60s);
      int64_t longest = t[k].pods_period > t[k].pct_period ? t[k].pods_period : t[k].pct_period;
      struct ss_hpa_result res = {.current = up ? 10 : 15, .desired = up ? 15 : 10,
                                  .scale = true, .now_ms = NOW_MS, .behavior = t[k].behavior,
                                  .up_period_ms = longest * 1000,
                                  .down_period_ms = longest * 1000};
      assert_int_equal(ss_hpa_commit(&h, &res, true), SS_EOK);
      if (l->len != t[k].n_new)
        fail_msg("%s (%s): %u events, want %zu", t[k].name, up ? "up" : "down", l->len,
                 t[k].n_new);
      for (uint32_t i = 0; i < l->len; i++) {
        assert_int_equal(l->v[i].change, t[k].next[i].change);
        assert_int_equal(l->v[i].outdated, t[k].next[i].outdated);
      }
      assert_int_equal((up ? h.down.len : h.up.len), 0);
      ss_hpa_history_free(&h);
    }
  }
}

/* The policy limit reads the events the commits stored: the default
 * scale-up policy (4 pods or 100% per 15 s) counts a scale up made 10 s
 * ago (policy_pods_up_counts_events_in_period, from a real commit). */
static void test_committed_events_limit_next_sync(void **state) {
  struct fixture *f = *state;
  static const struct hpa_case c = {.name = "commit then limit", .min = 1, .max = 100,
                                    .current = 2, .n_pods = 2, .n_metrics = 1,
                                    .metrics = {CPU50(5000, 5000)}};
  build(&c, f);
  f->in.now_ms = NOW_MS - 10000;
  struct ss_hpa_result res;
  assert_int_equal(ss_hpa_evaluate(&f->spec, &f->set, &f->in, &f->hist, &res), SS_EOK);
  assert_int_equal(res.desired, 6); /* max(2 + 4, 2 x 2) */
  assert_int_equal(ss_hpa_commit(&f->hist, &res, true), SS_EOK);
  assert_int_equal(f->hist.up.len, 1);
  /* 10 s later at 6: the period started at 2, so at most max(2 + 4, 4) = 6 */
  f->in.now_ms = NOW_MS;
  f->in.spec_replicas = 6;
  assert_int_equal(ss_hpa_evaluate(&f->spec, &f->set, &f->in, &f->hist, &res), SS_EOK);
  assert_int_equal(res.desired, 6);
  assert_string_equal(res.scaling_limited.reason, "ScaleUpLimit");
}

/* A caller that syncs faster than any window needs runs into
 * SS_HPA_HISTORY_MAX: the oldest entry is replaced and it is told. */
static void test_history_limit_replaces_oldest(void **state) {
  (void)state;
  struct ss_hpa_history h = {0};
  for (uint32_t i = 0; i < SS_HPA_HISTORY_MAX; i++)
    assert_int_equal(ss_hpa_history_add_rec(&h, (struct ss_hpa_rec){1000 + i, 1}), SS_EOK);
  assert_int_equal(ss_hpa_history_add_rec(&h, (struct ss_hpa_rec){999999, 7}), SS_ELIMIT);
  assert_int_equal(h.recs.len, SS_HPA_HISTORY_MAX);
  assert_int_equal(h.recs.v[0].at_ms, 999999); /* 1000 was the oldest */
  assert_int_equal(h.recs.v[0].replicas, 7);
  ss_hpa_history_free(&h);
  assert_int_equal(h.recs.len, 0);
}

/* recordInitialRecommendation: a new HPA's first sync records the current
 * size before its own recommendation, even when it does not compute one. */
static void test_first_sync_records_current_size(void **state) {
  struct fixture *f = *state;
  static const struct hpa_case c = {.name = "first", .first_sync = true, .min = 3, .max = 10,
                                    .current = 1, .n_pods = 1, .n_metrics = 1,
                                    .metrics = {CPU50(10)}};
  build(&c, f);
  struct ss_hpa_result res;
  assert_int_equal(ss_hpa_evaluate(&f->spec, &f->set, &f->in, &f->hist, &res), SS_EOK);
  assert_int_equal(res.desired, 3); /* below min: no recommendation */
  assert_int_equal(ss_hpa_commit(&f->hist, &res, true), SS_EOK);
  assert_true(f->hist.started);
  assert_int_equal(f->hist.recs.len, 1);
  assert_int_equal(f->hist.recs.v[0].replicas, 1);
  /* the second sync records nothing of the kind */
  f->in.spec_replicas = 3;
  f->in.n_pods = 1;
  assert_int_equal(ss_hpa_evaluate(&f->spec, &f->set, &f->in, &f->hist, &res), SS_EOK);
  assert_false(res.seed);
  assert_int_equal(ss_hpa_commit(&f->hist, &res, true), SS_EOK);
  assert_int_equal(f->hist.recs.len, 2);
}

/* ---- scenarios: samples replayed over time ---- */

struct sim {
  struct ss_hpa_spec spec;
  struct ss_metric_spec ms;
  struct ss_hpa_settings set;
  struct ss_hpa_pod pods[MAXP];
  struct ss_hpa_sample samples[MAXP];
  struct ss_hpa_history hist;
  int32_t replicas;
  int64_t now;
  bool behavior; /* the spec has a behavior */
};

static int sim_setup(void **state) {
  struct sim *s = calloc(1, sizeof *s);
  if (!s)
    return -1;
  *state = s;
  return 0;
}

static int sim_teardown(void **state) {
  struct sim *s = *state;
  if (s)
    ss_hpa_history_free(&s->hist);
  free(s);
  return 0;
}

static void sim_init(struct sim *s, int32_t min, int32_t max, int32_t start) {
  ss_hpa_history_free(&s->hist);
  memset(s, 0, sizeof *s);
  s->set = SS_HPA_SETTINGS_DEFAULT;
  s->ms = (struct ss_metric_spec){.source = SS_METRIC_RESOURCE, .name = "cpu",
                                  .target = {SS_TARGET_UTILIZATION, 50, {0}}};
  s->spec = (struct ss_hpa_spec){.min_replicas = min, .max_replicas = max, .metrics = &s->ms,
                                 .n_metrics = 1, .up = up_default, .down = down_default};
  s->behavior = true;
  s->now = NOW_MS;
  s->replicas = start;
  for (int32_t i = 0; i < start; i++)
    s->pods[i] = (struct ss_hpa_pod){true, false, false, s->now - 3600000, s->now - 3590000, NULL};
}

/* One 15 s sync with `load` millicores spread evenly over the replicas. New
 * replicas start at once and turn ready 1 s later; samples cover 10 s and
 * are 1 s old, so a replica counts from the sync after it starts. */
static int32_t sim_step(struct sim *s, int64_t load, struct ss_hpa_result *res) {
  for (int32_t i = 0; i < s->replicas; i++)
    s->samples[i] =
        (struct ss_hpa_sample){true, load / s->replicas, 1000, s->now - 1000, 10000, NULL, 0};
  struct ss_hpa_metric_input mi = {.samples = s->samples};
  s->spec.has_behavior = s->behavior;
  struct ss_hpa_input in = {s->replicas, s->replicas, s->pods, (size_t)s->replicas, &mi, s->now};
  assert_int_equal(ss_hpa_evaluate(&s->spec, &s->set, &in, &s->hist, res), SS_EOK);
  assert_int_equal(ss_hpa_commit(&s->hist, res, true), SS_EOK);
  for (int32_t i = s->replicas; i < res->desired; i++)
    s->pods[i] = (struct ss_hpa_pod){true, false, false, s->now, s->now + 1000, NULL};
  s->replicas = res->desired;
  s->now += 15000;
  return s->replicas;
}

static void replay(struct sim *s, const int64_t *loads, const int32_t *want, size_t n) {
  for (size_t i = 0; i < n; i++) {
    struct ss_hpa_result res;
    int32_t got = sim_step(s, loads[i], &res);
    if (got != want[i])
      print_error("sync %zu (t=%zus): size %d, want %d (%s; %s)\n", i, i * 15, got, want[i],
                  res.able_to_scale.reason, res.scaling_limited.reason ? res.scaling_limited.reason : "-");
    assert_int_equal(got, want[i]);
  }
}

/* 3 cores of load on 1 replica at a 50% target, then 0.3 cores from t=45 s:
 * up by the default policy (+4 from 1), then to 6; down only once the
 * recommendations of 6 are 300 s old (the last at t=30 s leaves at 330 s). */
static void test_scenario_load_step_up_then_down_default_behavior(void **state) {
  struct sim *s = *state;
  sim_init(s, 1, 10, 1);
  int64_t loads[23];
  int32_t want[23];
  for (size_t i = 0; i < 23; i++) {
    loads[i] = i < 3 ? 3000 : 300;
    want[i] = i == 0 ? 5 : i < 22 ? 6 : 1;
  }
  replay(s, loads, want, 23);
}

/* 10 cores on 1 replica: 1 -> 5 (ScaleUpLimit: +4) -> 10 (max). */
static void test_scenario_burst_limited_then_capped_at_max(void **state) {
  struct sim *s = *state;
  sim_init(s, 1, 10, 1);
  const int64_t loads[] = {10000, 10000, 10000};
  const int32_t want[] = {5, 10, 10};
  replay(s, loads, want, 3);
}

/* The same burst on an HPA without behavior (the seeds' hpaSpecs): the
 * controller's fixed limit max(2 x current, 4) per sync, no events: 1 -> 4
 * -> 8 -> 10 (horizontal.go, calculateScaleUpLimit). */
static void test_scenario_burst_without_behavior(void **state) {
  struct sim *s = *state;
  sim_init(s, 1, 10, 1);
  s->behavior = false;
  const int64_t loads[] = {10000, 10000, 10000, 10000};
  const int32_t want[] = {4, 8, 10, 10};
  replay(s, loads, want, 4);
  assert_int_equal(s->hist.up.len, 0);
}

/* No load on 5 replicas with scaleDown {Pods 1 per 60 s}, no stabilization:
 * one replica per minute, counted from the scale events. */
static void test_scenario_scale_down_one_pod_per_minute(void **state) {
  struct sim *s = *state;
  sim_init(s, 1, 10, 5);
  s->spec.down = down_pods1;
  const int64_t loads[14] = {0};
  const int32_t want[] = {4, 4, 4, 4, 3, 3, 3, 3, 2, 2, 2, 2, 1, 1};
  replay(s, loads, want, 14);
}

/* Load that dips for one sync within the window does not shrink the target:
 * 4 replicas at target, one quiet sync, back at target. */
static void test_scenario_brief_dip_does_not_scale_down(void **state) {
  struct sim *s = *state;
  sim_init(s, 1, 10, 4);
  const int64_t loads[] = {2000, 200, 2000, 2000};
  const int32_t want[] = {4, 4, 4, 4};
  replay(s, loads, want, 4);
}

/* Long runs use bounded memory: 2000 syncs 15 s apart (8 h 20 min)
 * with a load that keeps the size moving: the recommendations hold the
 * entries inside the 300 s window plus the one being reused, the scale
 * events those inside the 15 s policy period plus the reused ones. */
static void test_history_bounded_over_long_run(void **state) {
  struct sim *s = *state;
  sim_init(s, 1, 10, 2);
  uint32_t max_recs = 0, max_up = 0, max_down = 0;
  for (int i = 0; i < 2000; i++) {
    struct ss_hpa_result res;
    int64_t load = (i / 25) % 2 ? 400 : 4000; /* up for 25 syncs, then down for 25 */
    sim_step(s, load, &res);
    max_recs = s->hist.recs.len > max_recs ? s->hist.recs.len : max_recs;
    max_up = s->hist.up.len > max_up ? s->hist.up.len : max_up;
    max_down = s->hist.down.len > max_down ? s->hist.down.len : max_down;
  }
  if (max_recs > 300 / 15 + 2 || max_up > 2 || max_down > 2)
    fail_msg("recommendations up to %u (want <= 22), events up %u down %u (want <= 2)", max_recs,
             max_up, max_down);
  assert_true(s->hist.recs.cap <= 32);
  assert_true(max_up >= 1 && max_down >= 1); /* it did scale both ways */
}

#define FIXTURE_TEST(f) cmocka_unit_test_setup_teardown(f, fixture_setup, fixture_teardown)
#define SIM_TEST(f) cmocka_unit_test_setup_teardown(f, sim_setup, sim_teardown)

int main(void) {
  size_t n = N_ELEMS(cases);
  const struct CMUnitTest fixed[] = {
      FIXTURE_TEST(test_limited_condition_true_only_when_clamped),
      FIXTURE_TEST(test_rejects_bad_arguments),
      cmocka_unit_test(test_commit_records_recommendation_and_applied_event),
      FIXTURE_TEST(test_no_behavior_stabilize_recommendation),
      cmocka_unit_test(test_store_scale_events),
      FIXTURE_TEST(test_committed_events_limit_next_sync),
      SIM_TEST(test_history_bounded_over_long_run),
      cmocka_unit_test(test_history_limit_replaces_oldest),
      FIXTURE_TEST(test_first_sync_records_current_size),
      SIM_TEST(test_scenario_load_step_up_then_down_default_behavior),
      SIM_TEST(test_scenario_burst_limited_then_capped_at_max),
      SIM_TEST(test_scenario_burst_without_behavior),
      SIM_TEST(test_scenario_scale_down_one_pod_per_minute),
      SIM_TEST(test_scenario_brief_dip_does_not_scale_down),
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
  int rc = _cmocka_run_group_tests("test_hpa", tests, n + N_ELEMS(fixed), NULL, NULL);
  free(tests);
  return rc;
}
