/* scaling.h: Seldon Core 2's native model autoscaling, as its agent and
 * scheduler decide it (scheduler/pkg/agent/modelscaling, server.go's
 * applyModelScaling). Pure; tests/unit/test_core2_scaling.c.
 *
 * On each replica of a Server, for each Model loaded there, the agent keeps
 * the inference lag (requests in flight: +1 on arrival, -1 on completion,
 * never below 0) and the time the model was last used. Every stats period
 * it reports, per model: scale up when the lag is at least the threshold
 * (the lag is then reset to 0), scale down when the model has been unused
 * at least the inactive threshold (reported every period while it stays
 * unused). The scheduler then moves spec.replicas by one within the
 * Model's bounds: only when minReplicas or maxReplicas is set (otherwise
 * no autoscaling), never below minReplicas nor 1, never above maxReplicas
 * when it is set; a scale-down waits until the model's state has been
 * stable for the cooling-down period. */
#ifndef SS_CORE2_SCALING_H
#define SS_CORE2_SCALING_H

#include <stdbool.h>
#include <stdint.h>

/* Core 2's defaults (scheduler/cmd/agent/cli and server.go), each a setting
 * of its own there (SELDON_SCALING_STATS_PERIOD_SECONDS,
 * SELDON_MODEL_INFERENCE_LAG_THRESHOLD, SELDON_MODEL_INACTIVE_SECONDS_THRESHOLD). */
#define SS_C2_STATS_PERIOD_MS 5000
#define SS_C2_LAG_THRESHOLD 30
#define SS_C2_INACTIVE_MS 30000
#define SS_C2_SCALE_DOWN_COOLING_MS 60000

struct ss_c2_scaling_settings {
  int64_t period_ms;
  uint32_t lag_threshold;
  int64_t inactive_ms;
  int64_t cooling_ms;
};
#define SS_C2_SCALING_DEFAULT \
  ((struct ss_c2_scaling_settings){SS_C2_STATS_PERIOD_MS, SS_C2_LAG_THRESHOLD, SS_C2_INACTIVE_MS, \
                                   SS_C2_SCALE_DOWN_COOLING_MS})

/* One model's lag, as its agents count it, from what a gateway sees: the
 * requests in flight for the model (all its replicas) each stats period.
 * The agent's counter is arrivals less answers since its last reset, never
 * below 0; here that is the requests in flight less those in flight at the
 * reset (base), the base following the in-flight count down when it falls
 * under it (the counter's floor at 0). The gateway spreads a model's
 * requests evenly, so each replica's lag is the share of one replica. */
struct ss_c2_lag {
  int64_t base; /* requests in flight at the last reset (or the least since) */
};

enum ss_c2_trigger { SS_C2_NONE, SS_C2_UP, SS_C2_DOWN };

/* The report of one stats period at now_ms: up when a replica's lag,
 * ceil((inflight - base) / replicas), reaches the threshold (the lag is
 * then reset: base = inflight); else down when unused (nothing since
 * last_used_ms) for the inactive threshold; *lag gets the replica's lag. */
enum ss_c2_trigger ss_c2_lag_check(struct ss_c2_lag *l, const struct ss_c2_scaling_settings *s,
                                   int64_t inflight, int replicas, int64_t last_used_ms,
                                   int64_t now_ms, uint32_t *lag);

/* A Model's replicas after a trigger: replicas + 1 or - 1 when within its
 * bounds, else unchanged (with why set: "No autoscaling", "Violating min
 * replicas", "Violating max replicas", "changed status recently");
 * min_replicas and max_replicas 0 when unset; stable_since_ms is when the
 * model's state last changed. */
int ss_c2_model_replicas(int replicas, int min_replicas, int max_replicas, enum ss_c2_trigger t,
                         int64_t stable_since_ms, int64_t now_ms,
                         const struct ss_c2_scaling_settings *s, const char **why);

/* ---- Servers follow their models (scheduler/pkg/server/utils.go) ---- */

/* How often the scheduler tries to pack a Server's models on fewer replicas
 * when none is empty (Core 2 draws at random; the caller draws and passes
 * the outcome, so these stay pure). */
#define SS_C2_PACK_CHANCE 0.25

/* Scale a Server up when one of its models has more replicas than the
 * Server expects: to that many, at most maxReplicas. No autoscaling when
 * max_replicas < 1. True with *target when it should. */
bool ss_c2_server_scale_up(int expected, int max_replicas, int max_model_replicas, int *target);

/* Scale a Server down: by its empty replicas, and when try_pack (drawn
 * with SS_C2_PACK_CHANCE) to as many replicas as its most replicated model
 * needs, never below minReplicas (or 1); only when it expects more than
 * one. True with *target when it should. */
bool ss_c2_server_scale_down(int expected, int min_replicas, int max_model_replicas, int n_empty,
                             bool try_pack, int *target);

#endif
