/* own.c: servescale's own scaling policy and its feed (see own.h). */
#include "autoscale/own.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "model/replicas.h"

#define MS_PER_S 1000.0

/* The probability that a request waits longer than t_s at c servers of
 * service s_s under Poisson arrivals at lambda: Erlang C's chance to wait
 * at all, times the wait's exponential tail. Deterministic service halves
 * the mean wait of exponential service (Kingman: (ca^2 + cs^2) / 2 with
 * cs = 0), so the tail decays at 2 (c / s - lambda). */
static double wait_tail(int64_t c, double lambda, double s, double t_s) {
  double a = lambda * s;
  if (a >= (double)c)
    return 1;
  double b = 1; /* Erlang B, by its recursion in the number of servers */
  for (int64_t k = 1; k <= c; k++)
    b = a * b / ((double)k + a * b);
  double pw = (double)c * b / ((double)c - a * (1 - b));
  return pw * exp(-2 * ((double)c / s - lambda) * t_s);
}

double ss_own_replicas_for(const struct ss_own_config *cfg, double lambda) {
  if (lambda <= 0)
    return 0;
  double s = cfg->service_ms / MS_PER_S, budget = (cfg->slo_p99_ms - cfg->service_ms) / MS_PER_S;
  int64_t k = cfg->concurrency;
  double busy = lambda * s / (double)k; /* replicas' worth of work */
  if (budget <= 0)                      /* an SLO under the service time: carry little */
    return ceil(busy / SS_OWN_P99_TAIL);
  int64_t n = (int64_t)ceil(busy / SS_OWN_MAX_UTILIZATION); /* headroom at any scale */
  if (n < 1)
    n = 1;
  while (n < SS_OWN_MAX_REPLICAS && wait_tail(n * k, lambda, s, budget) > SS_OWN_P99_TAIL)
    n++;
  return (double)n;
}

void ss_own_retune(const struct ss_own_config *cfg, struct ss_own_state *st) {
  st->hold_ms = SS_OWN_HOLD_STARTUPS * cfg->startup_ms;
  if (st->hold_ms < SS_OWN_HOLD_MS)
    st->hold_ms = SS_OWN_HOLD_MS;
  if (st->hold_ms > (SS_OWN_HISTORY_S - 1) * 1000)
    st->hold_ms = (SS_OWN_HISTORY_S - 1) * 1000;
}

void ss_own_init(const struct ss_own_config *cfg, struct ss_own_state *st) {
  memset(st, 0, sizeof *st);
  ss_own_retune(cfg, st);
  st->last_second = -1;
}

/* Keeps the most replicas wanted in each second. */
static void remember(struct ss_own_state *st, int64_t now_ms, double wanted) {
  int64_t s = now_ms / 1000;
  int64_t from = st->last_second + 1;
  if (s - from >= SS_OWN_HISTORY_S) /* a long gap (or a wall clock's first call) */
    from = s - SS_OWN_HISTORY_S + 1;
  for (int64_t k = from; k <= s; k++)
    st->wanted[k % SS_OWN_HISTORY_S] = 0;
  if (s > st->last_second)
    st->last_second = s;
  double *slot = &st->wanted[s % SS_OWN_HISTORY_S];
  if (wanted > *slot)
    *slot = wanted;
}

static double peak(const struct ss_own_state *st) {
  double p = 0;
  int64_t n = st->hold_ms / 1000;
  for (int64_t k = 0; k <= n && k <= st->last_second; k++) {
    double r = st->wanted[(st->last_second - k) % SS_OWN_HISTORY_S];
    if (r > p)
      p = r;
  }
  return p;
}

void ss_own_start(struct ss_own_state *st, int64_t now_ms, int32_t current) {
  remember(st, now_ms, current);
}

/* Learns the idle gaps: a gap is from the last observation with traffic to
 * the next, kept when it was long enough to have scaled to zero. */
static void learn_gaps(struct ss_own_state *st, const struct ss_own_input *in, bool busy) {
  if (!busy)
    return;
  if (st->last_busy_ms && in->now_ms - st->last_busy_ms > st->hold_ms) {
    st->gap_ms[st->gaps_next] = in->now_ms - st->last_busy_ms;
    st->gaps_next = (st->gaps_next + 1) % SS_OWN_GAPS;
    if (st->n_gaps < SS_OWN_GAPS)
      st->n_gaps++;
    st->burst_since_ms = in->now_ms;
    st->burst_want = 0;
  }
  st->last_busy_ms = in->now_ms;
}

/* Whether an idle target should have a replica warm now: once the idle
 * gaps seen so far make the next arrival due (see own.h). */
static bool prewarm_due(const struct ss_own_config *cfg, const struct ss_own_state *st,
                        int64_t now_ms) {
  if (st->n_gaps < SS_OWN_PREWARM_MIN_GAPS || !st->last_busy_ms)
    return false;
  int64_t lo = INT64_MAX, hi = 0;
  for (size_t i = 0; i < st->n_gaps; i++) {
    lo = st->gap_ms[i] < lo ? st->gap_ms[i] : lo;
    hi = st->gap_ms[i] > hi ? st->gap_ms[i] : hi;
  }
  double from = lo * (1 - SS_OWN_PREWARM_MARGIN) - (double)cfg->startup_ms;
  double until = hi * (1 + SS_OWN_PREWARM_MARGIN);
  if (until - from > SS_OWN_PREWARM_MAX_MS)
    return false; /* no pattern: gaps too spread to be worth a warm replica */
  double idle = (double)(now_ms - st->last_busy_ms);
  return idle >= from && idle <= until;
}

/* The replicas the arrivals want at once: the last second's rate, plus the
 * requests queued beyond the replicas' slots drained within a start-up
 * (queue growth, before latency shows it); at zero, sized for the burst. */
static double wanted_up(const struct ss_own_config *cfg, struct ss_own_state *st,
                        const struct ss_own_input *in, const char **why) {
  double slots = (double)in->ready * cfg->concurrency;
  double backlog = in->inflight > slots ? in->inflight - slots : 0;
  double drain_s = fmax(1.0, (double)cfg->startup_ms / MS_PER_S);
  /* at zero replicas the last second's count has seen only the start of
   * the burst: the requests waiting since the first came give its rate
   * sooner, so that the first start is the size the burst needs */
  double rate = in->rate_1s;
  if (in->ready == 0 && in->waiting > 0) {
    if (!st->cold_since_ms)
      st->cold_since_ms = in->now_ms - SS_OWN_PERIOD_MS; /* it came within the last period */
    double since_s = fmax(SS_OWN_PERIOD_MS, (double)(in->now_ms - st->cold_since_ms)) / MS_PER_S;
    rate = fmax(rate, (double)in->waiting / since_s);
    /* and what will have queued by the time the first replicas serve, to
     * be drained within a start-up as any backlog is */
    backlog = fmax(backlog, rate * drain_s);
  } else {
    st->cold_since_ms = 0;
    /* arrivals beyond what the serving replicas can serve at all queue
     * until new ones serve: that backlog counts now, not once it shows */
    double served = (double)in->ready * cfg->concurrency * MS_PER_S / (double)cfg->service_ms;
    if (rate > served)
      backlog = fmax(backlog, (rate - served) * (double)cfg->startup_ms / MS_PER_S);
  }
  double up = ss_own_replicas_for(cfg, rate + backlog / drain_s);
  *why = "arrivals";
  if (in->waiting > 0 && up < 1) {
    up = 1; /* the gateway holds it: nothing is lost */
    *why = "a request waits at zero replicas";
  }
  /* panic: the last second brought over twice what the replicas serving
   * carry (half of it alone wants more replicas than serve); while it
   * lasts, the rate gets headroom */
  double need = ss_own_replicas_for(cfg, in->rate_1s);
  int32_t serving = in->ready > 0 ? in->ready : 1;
  if (ss_own_replicas_for(cfg, in->rate_1s / SS_OWN_PANIC_FACTOR) > serving) {
    st->panicking = true;
    st->panic_until_ms = in->now_ms + st->hold_ms;
    *why = "panic: arrivals over twice what the serving replicas carry";
  } else if (st->panicking && in->now_ms >= st->panic_until_ms) {
    st->panicking = false;
  }
  if (st->panicking)
    up = fmax(up, ss_own_replicas_for(cfg, in->rate_1s * SS_OWN_PANIC_HEADROOM));
  if (st->burst_since_ms && in->now_ms - st->burst_since_ms <= SS_OWN_BURST_START_MS)
    st->burst_want = fmax(st->burst_want, need);
  return up;
}

int32_t ss_own_decide(const struct ss_own_config *cfg, struct ss_own_state *st,
                      const struct ss_own_input *in) {
  bool busy = in->rate_1s > 0 || in->inflight > 0 || in->waiting > 0;
  learn_gaps(st, in, busy);
  const char *why;
  double up = wanted_up(cfg, st, in, &why);
  remember(st, in->now_ms, up);
  double want = fmax(up, peak(st)); /* never below what the recent peak needed */
  if (want > up)
    why = "holding the recent peak";
  if (st->panicking && want < in->spec) {
    want = in->spec;
    why = "panic: holding the size";
  }
  if (want < 1 && in->inflight > 0) {
    want = 1; /* never drop the last replica under a request */
    why = "requests in flight";
  }
  if (want < 1 && !busy && prewarm_due(cfg, st, in->now_ms)) {
    want = fmax(1, st->burst_want);
    remember(st, in->now_ms, want); /* held when the traffic comes, as any size wanted */
    why = "pre-warming: the idle gaps seen make the next arrival due";
  }
  if (want < 1)
    why = "no request in the hold window";
  int32_t n = ss_replicas_clamp(want, cfg->min, cfg->max);
  snprintf(st->reason, sizeof st->reason,
           "servescale policy: %s (%.1f requests/s over the last second, %.0f in flight, "
           "%zu waiting, %d ready; within the %lld ms p99 SLO)",
           why, in->rate_1s, in->inflight, in->waiting, (int)in->ready,
           (long long)cfg->slo_p99_ms);
  return n;
}

/* ---- the feed ---- */

void ss_own_feed_push(struct ss_own_feed *f, int64_t now_ms, double completed,
                      double outstanding) {
  double arrived = completed + (outstanding > 0 ? outstanding : 0);
  if (f->n) {
    size_t last = (f->head + f->n - 1) % SS_OWN_FEED_SAMPLES;
    if (now_ms == f->t_ms[last]) { /* the same instant again: the newest figures win */
      f->arrived[last] = arrived;
      f->completed = completed;
      return;
    }
    /* a counter reset (a series made anew) or the clock stepped back: start over */
    if (completed < f->completed || now_ms < f->t_ms[last])
      f->n = 0;
  }
  f->completed = completed;
  if (f->n >= 2) {
    /* the newest sample moves forward until it is as far from the one
     * before as the ring can hold over a second; then a new one is kept */
    size_t prev = (f->head + f->n - 2) % SS_OWN_FEED_SAMPLES;
    size_t last = (f->head + f->n - 1) % SS_OWN_FEED_SAMPLES;
    if (f->t_ms[last] - f->t_ms[prev] < SS_OWN_RATE_WINDOW_MS / (SS_OWN_FEED_SAMPLES - 4)) {
      f->t_ms[last] = now_ms;
      f->arrived[last] = arrived;
      return;
    }
  }
  if (f->n == SS_OWN_FEED_SAMPLES) {
    f->head = (f->head + 1) % SS_OWN_FEED_SAMPLES;
    f->n--;
  }
  size_t k = (f->head + f->n) % SS_OWN_FEED_SAMPLES;
  f->t_ms[k] = now_ms;
  f->arrived[k] = arrived;
  f->n++;
  /* drop what the window no longer needs: keep one sample at least as old as it */
  while (f->n > 2) {
    size_t second = (f->head + 1) % SS_OWN_FEED_SAMPLES;
    if (f->t_ms[second] > now_ms - SS_OWN_RATE_WINDOW_MS)
      break;
    f->head = second;
    f->n--;
  }
}

double ss_own_feed_rate(const struct ss_own_feed *f) {
  if (f->n < 2)
    return 0;
  size_t last = (f->head + f->n - 1) % SS_OWN_FEED_SAMPLES;
  int64_t now = f->t_ms[last], from = f->t_ms[f->head];
  double d = f->arrived[last] - f->arrived[f->head];
  if (d < 0)
    d = 0;
  if (now - from >= SS_OWN_RATE_WINDOW_MS) /* scaled to the second */
    return d * MS_PER_S / (double)(now - from);
  return d * MS_PER_S / SS_OWN_RATE_WINDOW_MS;
}
