/* own.h: servescale's own scaling policy, the one decision code that both
 * `servescale simulate --policy servescale` (src/sim) and the daemon's
 * autoscaler (loop.c, for an autoscaler annotated servescale.io/autoscaler:
 * servescale; opt-in, the HPA and KEDA semantics stay the default) call.
 * A pure function of what the gateway sees every SS_OWN_PERIOD_MS: the
 * arrival rate over the last second, the requests in flight (queued at
 * replicas and at the gateway) and the replicas serving; it keeps the
 * recent per-second rates itself. The feed (ss_own_feed_*) turns the
 * gateway's raw figures (requests completed so far, requests outstanding)
 * into that input, so the daemon's shell only reads and writes.
 *
 * - Capacity from the SLO: the fewest replicas that serve a rate with
 *   P(wait > slo - service) under SS_OWN_P99_TAIL, the gateway balancing
 *   them as one queue (M/D/c: Erlang C's chance to wait, times an
 *   exponential tail decaying at 2 (c/s - lambda), Kingman's factor for
 *   deterministic service), and never above SS_OWN_MAX_UTILIZATION
 *   (ss_own_replicas_for). A replica carries more as the load grows: one
 *   carries 25/s at 20 ms and a 100 ms p99, seven 300/s.
 * - Up, at once: the last second's rate, plus the requests queued beyond
 *   the replicas' slots drained within a start-up (the queue growing
 *   before latency shows it), or 1 when a request waits at zero (the
 *   gateway holds it: nothing is lost). At zero, the rate is that of the
 *   requests waiting since the first came, and what will queue during the
 *   start-up counts as backlog: the first start is the burst's size, not a
 *   second late.
 * - Panic: a second's rate over twice what the serving replicas carry
 *   (half of it wants more replicas than serve) starts it; for the hold
 *   window after, the rate gets
 *   SS_OWN_PANIC_HEADROOM and the size holds (no scale-down).
 * - Down: never below the most replicas wanted in any second of the hold
 *   window (max(SS_OWN_HOLD_MS, SS_OWN_HOLD_STARTUPS x startup)),
 *   so noise never flaps it; to zero (when min is 0) once that window saw
 *   no request and none is in flight.
 * - Pre-warming at zero: the idle gaps longer than the hold (from the last
 *   second with traffic to the next) are remembered, the last
 *   SS_OWN_GAPS; from a start-up before the shortest (less
 *   SS_OWN_PREWARM_MARGIN) to the longest (plus the margin) after the
 *   last traffic, the replicas the last burst's first seconds wanted are
 *   kept warm, so a periodic burst finds them serving. Gaps spread wider
 *   than SS_OWN_PREWARM_MAX_MS show no pattern, and nothing is
 *   pre-warmed. (The hybrid histogram keep-alive of Shahrad et al.,
 *   "Serverless in the Wild", USENIX ATC 2020, with its 5th and 99th
 *   percentiles as the extremes of the few gaps kept.) */
#ifndef SS_AUTOSCALE_OWN_H
#define SS_AUTOSCALE_OWN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SS_OWN_PERIOD_MS 100     /* the gateway's sampling period */
#define SS_OWN_HOLD_MS 20000
#define SS_OWN_HOLD_STARTUPS 5
#define SS_OWN_PANIC_FACTOR 2.0
#define SS_OWN_PANIC_HEADROOM 1.25
#define SS_OWN_MAX_UTILIZATION 0.9 /* a replica's busy share, at most */
#define SS_OWN_P99_TAIL 0.01
#define SS_OWN_HISTORY_S 600     /* per-second rates kept (the longest hold) */
#define SS_OWN_REASON_MAX 160
#define SS_OWN_GAPS 16              /* idle gaps remembered */
#define SS_OWN_PREWARM_MIN_GAPS 1
#define SS_OWN_PREWARM_MARGIN 0.1
#define SS_OWN_PREWARM_MAX_MS (30 * 60 * 1000)
#define SS_OWN_BURST_START_MS 5000 /* a burst's first seconds size the pre-warm */
#define SS_OWN_MAX_REPLICAS 100000 /* ss_own_replicas_for's search stops here */
/* A replica's model when nothing says otherwise: `servescale simulate`'s
 * flags' defaults (src/sim/sim.h names them from these) and the daemon's
 * annotations' (docs/autoscaling.md). */
#define SS_OWN_DEFAULT_SERVICE_MS 20
#define SS_OWN_DEFAULT_CONCURRENCY 1
#define SS_OWN_DEFAULT_STARTUP_MS 2000
#define SS_OWN_DEFAULT_SLO_P99_MS 100

struct ss_own_config {
  int64_t service_ms;
  int32_t concurrency;
  int64_t startup_ms;
  int64_t slo_p99_ms;
  int32_t min, max;
};

struct ss_own_state {
  int64_t hold_ms;
  bool panicking;
  int64_t panic_until_ms;
  double wanted[SS_OWN_HISTORY_S]; /* most replicas wanted per second, by second % size */
  int64_t last_second;     /* the newest second in rates, -1 before any */
  int64_t cold_since_ms;   /* requests have waited at zero replicas since; 0: none */
  int64_t last_busy_ms;    /* the last observation with traffic; 0: none yet */
  int64_t gap_ms[SS_OWN_GAPS]; /* idle gaps longer than the hold, a ring */
  size_t n_gaps, gaps_next;
  int64_t burst_since_ms;  /* traffic came back after the last gap then */
  double burst_want;       /* replicas its first seconds' rates wanted */
  char reason[SS_OWN_REASON_MAX]; /* why the last decision, for events */
};

struct ss_own_input {
  int64_t now_ms;
  double rate_1s;    /* arrivals in the last second */
  double inflight;   /* requests in flight, the gateway's queue included */
  size_t waiting;    /* of which waiting at the gateway for a replica */
  int32_t ready, spec;
};

/* Prepares *st for cfg. */
void ss_own_init(const struct ss_own_config *cfg, struct ss_own_state *st);

/* cfg's service or start-up time changed (the daemon measures them): what
 * *st derives from them follows, and what it has seen stays. */
void ss_own_retune(const struct ss_own_config *cfg, struct ss_own_state *st);

/* The policy takes over a target of `current` replicas at now_ms: that
 * size counts as wanted now, so it holds for the hold window before the
 * first scale-down (a daemon's target may start above what its load
 * needs; a replay starts at its minimum, where this changes nothing). */
void ss_own_start(struct ss_own_state *st, int64_t now_ms, int32_t current);

/* Replicas wanted now; st->reason says why. */
int32_t ss_own_decide(const struct ss_own_config *cfg, struct ss_own_state *st,
                          const struct ss_own_input *in);

/* The fewest replicas that serve lambda requests a second with
 * P(wait > slo - service) under SS_OWN_P99_TAIL, the gateway balancing
 * them as one queue (M/D/c); 0 at no load. */
double ss_own_replicas_for(const struct ss_own_config *cfg, double lambda);

/* ---- the feed: the gateway's figures into an ss_own_input ---- */

/* Samples kept: a second at the period, with room for a late tick. */
#define SS_OWN_FEED_SAMPLES 32
#define SS_OWN_RATE_WINDOW_MS 1000

struct ss_own_feed {
  int64_t t_ms[SS_OWN_FEED_SAMPLES];
  double arrived[SS_OWN_FEED_SAMPLES]; /* requests arrived so far, at t_ms */
  size_t head, n;                      /* the ring: oldest at head */
  double completed;                    /* the newest observation's */
};

/* One observation at now_ms: completed is the requests the gateway has
 * answered so far (a counter; a drop is a reset and restarts the feed),
 * outstanding those in flight at replicas plus those queued at the gateway.
 * Every arrival is either answered or still outstanding, so arrivals so far
 * are completed + outstanding, and their rate over the last second needs no
 * counter at the request's start. */
void ss_own_feed_push(struct ss_own_feed *f, int64_t now_ms, double completed, double outstanding);

/* Arrivals a second over the last SS_OWN_RATE_WINDOW_MS before the newest
 * observation: from the newest observation at least that old (scaled to the
 * second), or, while the feed is younger, what arrived since its first
 * observation over a whole second (as the simulation counts its start). */
double ss_own_feed_rate(const struct ss_own_feed *f);

#endif
