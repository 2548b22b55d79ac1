/* peers.h: the autoscalers servescale is measured against, besides the HPA
 * and KEDA (whose cores in src/autoscale run as they are): Knative's KPA and
 * Ray Serve's default policy, each a small pure function of what it would
 * observe, written from the projects' documented defaults (docs/simulate.md
 * cites them). The caller (sim.c) computes the observations from the
 * simulated cluster and calls them on each peer's own tick. */
#ifndef SS_SIM_PEERS_H
#define SS_SIM_PEERS_H

#include <stdbool.h>
#include <stdint.h>

/* Knative Serving config-autoscaler defaults. */
#define SS_SIM_KPA_TICK_MS 2000                 /* tick-interval */
#define SS_SIM_KPA_STABLE_WINDOW_MS 60000       /* stable-window */
#define SS_SIM_KPA_PANIC_WINDOW_PERCENT 10.0    /* panic-window-percentage: 6 s */
#define SS_SIM_KPA_PANIC_THRESHOLD_PERCENT 200.0 /* panic-threshold-percentage */
#define SS_SIM_KPA_TARGET_PERCENT 70.0          /* container-concurrency-target-percentage */
#define SS_SIM_KPA_MAX_SCALE_UP_RATE 1000.0     /* max-scale-up-rate */
#define SS_SIM_KPA_MAX_SCALE_DOWN_RATE 2.0      /* max-scale-down-rate */
#define SS_SIM_KPA_SCALE_TO_ZERO_GRACE_MS 30000 /* scale-to-zero-grace-period */

/* Ray Serve AutoscalingConfig defaults (ray.serve.config.AutoscalingConfig). */
#define SS_SIM_RAY_TARGET_ONGOING 2.0       /* target_ongoing_requests */
#define SS_SIM_RAY_UPSCALE_DELAY_MS 30000   /* upscale_delay_s */
#define SS_SIM_RAY_DOWNSCALE_DELAY_MS 600000 /* downscale_delay_s */
#define SS_SIM_RAY_METRICS_INTERVAL_MS 10000 /* metrics_interval_s */
#define SS_SIM_RAY_LOOK_BACK_MS 30000       /* look_back_period_s */
#define SS_SIM_RAY_CONTROL_LOOP_MS 100      /* Serve's CONTROL_LOOP_INTERVAL_S */

struct ss_sim_kpa_config {
  double target;          /* concurrency per replica: containerConcurrency x 70 % */
  int32_t min, max;
};

struct ss_sim_kpa_state {
  bool panicking;
  int64_t panic_since_ms;   /* last tick over the panic threshold */
  int32_t max_panic_pods;
  bool zero_wanted;         /* the stable decision is 0 ... */
  int64_t zero_since_ms;    /* ... since then */
};

/* One KPA tick (Knative's autoscaler.Scale): stable and panic concurrency
 * are the observed in-flight requests averaged over the stable (60 s) and
 * panic (6 s) windows, summed over replicas; ready the replicas serving.
 * Returns the replicas wanted. */
int32_t ss_sim_kpa_decide(const struct ss_sim_kpa_config *cfg, struct ss_sim_kpa_state *st,
                          int64_t now_ms, double stable, double panic, int32_t ready);

struct ss_sim_ray_config {
  double target;      /* target_ongoing_requests */
  int64_t upscale_delay_ms, downscale_delay_ms;
  int32_t min, max;
};

struct ss_sim_ray_state {
  int32_t counter; /* consecutive control loops wanting more (> 0) or fewer (< 0) */
};

/* One Ray Serve control loop (replica_queue_length_autoscaling_policy):
 * ongoing is the total ongoing requests (running and queued, at replicas
 * and handles) as last pushed, current the replicas it runs. Returns the
 * replicas wanted. */
int32_t ss_sim_ray_decide(const struct ss_sim_ray_config *cfg, struct ss_sim_ray_state *st,
                          double ongoing, int32_t current);

#endif
