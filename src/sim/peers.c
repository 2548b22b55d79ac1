/* peers.c: Knative's KPA and Ray Serve's default policy as pure functions
 * (see peers.h). Sources: knative/serving pkg/autoscaler/scaling/autoscaler.go
 * (Scale: stable and panic pod counts, the panic threshold, max scale
 * rates, maxPanicPods), and ray-project/ray python/ray/serve/autoscaling_policy.py
 * (replica_queue_length_autoscaling_policy, _calculate_desired_num_replicas:
 * the decision counter against the delays in control loops). */
#include "sim/peers.h"

#include <math.h>

#include "model/replicas.h"

int32_t ss_sim_kpa_decide(const struct ss_sim_kpa_config *cfg, struct ss_sim_kpa_state *st,
                          int64_t now_ms, double stable, double panic, int32_t ready) {
  double pods = ready > 1 ? ready : 1; /* readyPodsCount, at least 1 */
  double up = ceil(SS_SIM_KPA_MAX_SCALE_UP_RATE * pods);
  double down = floor(pods / SS_SIM_KPA_MAX_SCALE_DOWN_RATE);
  double dspc = ceil(stable / cfg->target), dppc = ceil(panic / cfg->target);
  double want_stable = fmin(fmax(dspc, down), up), want_panic = fmin(fmax(dppc, down), up);
  bool over = dppc / pods >= SS_SIM_KPA_PANIC_THRESHOLD_PERCENT / 100.0;
  if (over) {
    st->panicking = true;
    st->panic_since_ms = now_ms;
  } else if (st->panicking && st->panic_since_ms + SS_SIM_KPA_STABLE_WINDOW_MS < now_ms) {
    st->panicking = false;
    st->max_panic_pods = 0;
  }
  double want = want_stable;
  if (st->panicking) {
    /* in panic the revision never scales down */
    if (want_panic > st->max_panic_pods)
      st->max_panic_pods = (int32_t)want_panic;
    want = st->max_panic_pods;
  }
  if (want > 0 || ready == 0) {
    st->zero_wanted = false;
    return ss_replicas_clamp(want, cfg->min, cfg->max);
  }
  /* to zero only after the grace period, keeping the last replica meanwhile */
  if (!st->zero_wanted) {
    st->zero_wanted = true;
    st->zero_since_ms = now_ms;
  }
  if (now_ms - st->zero_since_ms >= SS_SIM_KPA_SCALE_TO_ZERO_GRACE_MS)
    return ss_replicas_clamp(0, cfg->min, cfg->max);
  return ss_replicas_clamp(1, cfg->min, cfg->max);
}

int32_t ss_sim_ray_decide(const struct ss_sim_ray_config *cfg, struct ss_sim_ray_state *st,
                          double ongoing, int32_t current) {
  if (current == 0) {
    /* from zero at once when anything waits */
    st->counter = 0;
    return ongoing > 0 ? ss_replicas_clamp(1, cfg->min, cfg->max) : ss_replicas_clamp(0, cfg->min, cfg->max);
  }
  int32_t want = ss_replicas_clamp(ceil(ongoing / cfg->target), cfg->min, cfg->max);
  int32_t up_loops = (int32_t)(cfg->upscale_delay_ms / SS_SIM_RAY_CONTROL_LOOP_MS);
  int32_t down_loops = (int32_t)(cfg->downscale_delay_ms / SS_SIM_RAY_CONTROL_LOOP_MS);
  if (want > current) {
    if (st->counter < 0)
      st->counter = 0;
    st->counter++;
    if (st->counter > up_loops) {
      st->counter = 0;
      return want;
    }
  } else if (want < current) {
    if (st->counter > 0)
      st->counter = 0;
    st->counter--;
    if (st->counter < -down_loops) {
      st->counter = 0;
      return want;
    }
  } else {
    st->counter = 0;
  }
  return current;
}
