/* scaling.c: Core 2's native model autoscaling (scaling.h). */
#include "core2/scaling.h"

#include <stddef.h>

enum ss_c2_trigger ss_c2_lag_check(struct ss_c2_lag *l, const struct ss_c2_scaling_settings *s,
                                   int64_t inflight, int replicas, int64_t last_used_ms,
                                   int64_t now_ms, uint32_t *lag) {
  if (inflight < l->base) /* answers past the reset's: the counter stops at 0 */
    l->base = inflight;
  int64_t n = replicas > 0 ? replicas : 1, over = inflight - l->base;
  *lag = (uint32_t)((over + n - 1) / n);
  if (*lag >= s->lag_threshold) {
    l->base = inflight;
    return SS_C2_UP;
  }
  if (now_ms - last_used_ms >= s->inactive_ms)
    return SS_C2_DOWN;
  return SS_C2_NONE;
}

int ss_c2_model_replicas(int replicas, int min_replicas, int max_replicas, enum ss_c2_trigger t,
                         int64_t stable_since_ms, int64_t now_ms,
                         const struct ss_c2_scaling_settings *s, const char **why) {
  *why = NULL;
  if (t == SS_C2_NONE)
    return replicas;
  if (min_replicas <= 0 && max_replicas <= 0) {
    *why = "No autoscaling";
    return replicas;
  }
  if (t == SS_C2_DOWN && now_ms - stable_since_ms < s->cooling_ms) {
    *why = "changed status recently";
    return replicas;
  }
  int want = t == SS_C2_UP ? replicas + 1 : replicas - 1;
  if (want < min_replicas || want < 1) {
    *why = "Violating min replicas";
    return replicas;
  }
  if (max_replicas > 0 && want > max_replicas) {
    *why = "Violating max replicas";
    return replicas;
  }
  return want;
}

bool ss_c2_server_scale_up(int expected, int max_replicas, int max_model_replicas, int *target) {
  *target = 0;
  if (expected < 0 || max_replicas < 1)
    return false;
  *target = max_model_replicas < max_replicas ? max_model_replicas : max_replicas;
  return max_model_replicas > expected;
}

bool ss_c2_server_scale_down(int expected, int min_replicas, int max_model_replicas, int n_empty,
                             bool try_pack, int *target) {
  int floor = min_replicas > 0 ? min_replicas : 1;
  bool pack = try_pack && max_model_replicas < expected;
  *target = expected - n_empty > floor ? expected - n_empty : floor;
  if (pack) {
    int remove = expected - max_model_replicas, remain = expected - remove;
    if (remove > n_empty && remain > 0)
      *target = remain > floor ? remain : floor;
  }
  return (pack || n_empty > 0) && expected > 1;
}
