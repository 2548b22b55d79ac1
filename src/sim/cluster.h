/* cluster.h: the replicas of one simulated target as a queueing model, a
 * discrete-time simulation in steps of SS_SIM_STEP_MS. Pure: no clock, no
 * I/O; the randomness is a seeded generator, so a replay is reproducible.
 *
 * The model: requests arrive as a Poisson process at the trace's rate (or
 * evenly spaced). The gateway sends each to the ready replica with the least
 * work left (least outstanding); a replica serves `concurrency` at a time,
 * each for service_ms, in arrival order, so a request's latency is known
 * when it is dispatched. With no ready replica a request waits at the
 * gateway when the policy buffers there (servescale's queue at zero, the
 * Knative activator, Ray's handles) and fails at once otherwise (a Service
 * without endpoints). A request that would wait longer than timeout_ms
 * fails. A new replica serves startup_ms after it was asked for; a replica
 * scaled away drains (takes no new request, finishes its queue) and counts
 * until it is empty.
 *
 * Each second closes with a record (ss_sim_second): its arrivals, the p99
 * latency of the requests whose fate was settled in it (failures count as
 * infinitely slow), failures, requests over the SLO, and the replicas. The
 * cluster owns its storage; ss_sim_cluster_free releases it. */
#ifndef SS_SIM_CLUSTER_H
#define SS_SIM_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define SS_SIM_STEP_MS 100
#define SS_SIM_MAX_CONCURRENCY 64
#define SS_SIM_MAX_REPLICAS 1000
/* Seconds of per-replica completions kept: enough for the longest metric
 * window plus delay behind now and the longest wait ahead of it. */
#define SS_SIM_BUSY_RING 512
#define SS_SIM_MAX_METRIC_DELAY_MS 120000
#define SS_SIM_MAX_TIMEOUT_MS 300000
#define SS_SIM_MAX_SERVICE_MS 600000   /* --service-time-ms, and a trace's */
#define SS_SIM_MAX_STARTUP_MS 3600000  /* --startup-ms, and a trace's */

struct ss_sim_model {
  int64_t service_ms;   /* per request, > 0 */
  int32_t concurrency;  /* requests a replica serves at once, 1..SS_SIM_MAX_CONCURRENCY */
  int64_t startup_ms;   /* from asked for to serving */
  int64_t timeout_ms;   /* a request waiting longer fails */
  int64_t slo_p99_ms;   /* a second whose p99 exceeds it violates the SLO */
  bool poisson;         /* Poisson arrivals (else evenly spaced) */
  uint64_t seed;
};

struct ss_sim_replica {
  int64_t created_ms, ready_ms; /* serving from ready_ms */
  bool draining;
  int64_t free_at[SS_SIM_MAX_CONCURRENCY]; /* when each slot is next free */
  int64_t last_finish_ms;                  /* its queue is empty from then */
  uint32_t done[SS_SIM_BUSY_RING];         /* completions per second, by second % ring */
};

struct ss_sim_second {
  double arrivals;
  int32_t replicas;  /* asked for (the scale's spec.replicas) at the second's end */
  int32_t ready;
  int32_t alive;     /* every replica using resources, draining included */
  double p99_ms;     /* 0 when nothing was settled; INFINITY with a failure in the 1 % */
  uint32_t settled, failed, over_slo;
  bool violation;    /* p99 over the SLO or a failure */
  /* the metric against its target, in replicas: what the policy's metric
   * alone asked for at its last decision (the HPA's proposal), before its
   * windows, limits and holds; set by the replay (sim.c), not the cluster */
  double metric_replicas;
};

struct ss_sim_cluster {
  struct ss_sim_model m;
  bool buffer_at_zero;
  int64_t now_ms;
  struct ss_sim_replica *r; /* owned; alive replicas, draining ones included */
  size_t n, cap;
  int32_t spec;             /* replicas asked for (not draining) */
  /* requests waiting at the gateway: arrival times, a ring */
  int64_t *wait;
  size_t wait_head, wait_n, wait_cap;
  /* in-flight accounting: +1 at arrival, -1 at the step its request ends */
  int64_t *ends;            /* per step of the run (and the timeout after it) */
  size_t n_steps;
  int64_t inflight;         /* outstanding at now: queued anywhere or being served */
  /* arrivals */
  uint64_t rng;
  double work;              /* unit-rate work left before the next arrival */
  /* the second being recorded */
  double *lat;              /* latencies settled this second, ms; owned */
  size_t lat_n, lat_cap;
  struct ss_sim_second cur;
  double replica_ms;        /* integral of alive replicas */
  uint64_t total_failed;
};

/* Starts with `replicas` ready replicas at time 0 for a run of n_steps.
 * Returns SS_EOK, SS_EINVALID (a model value out of range) or SS_ENOMEM. */
enum ss_err ss_sim_cluster_init(struct ss_sim_cluster *c, const struct ss_sim_model *m,
                                bool buffer_at_zero, int32_t replicas, size_t n_steps);
void ss_sim_cluster_free(struct ss_sim_cluster *c);

/* Sets the replicas asked for at now: new ones start (serving after
 * startup_ms), surplus ones drain (those not yet serving first, then those
 * with the least work). Returns SS_EOK or SS_ENOMEM. */
enum ss_err ss_sim_cluster_scale(struct ss_sim_cluster *c, int32_t desired);

/* Runs one step [now, now + SS_SIM_STEP_MS) at rate rps, then advances now.
 * Returns SS_EOK or SS_ENOMEM. */
enum ss_err ss_sim_cluster_step(struct ss_sim_cluster *c, double rps);

/* Closes the current second into *out and starts the next. */
enum ss_err ss_sim_cluster_close_second(struct ss_sim_cluster *c, struct ss_sim_second *out);

/* Replicas serving now (not draining). */
int32_t ss_sim_cluster_ready(const struct ss_sim_cluster *c);
/* Requests waiting at the gateway now. */
size_t ss_sim_cluster_waiting(const struct ss_sim_cluster *c);
/* Requests completed by replica i in the seconds [from_s, to_s). */
uint64_t ss_sim_cluster_done(const struct ss_sim_cluster *c, size_t i, int64_t from_s,
                             int64_t to_s);

#endif
