/* own.c: servescale's own scaling policy and its feed (see own.h). */
#include "autoscale/own.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "model/replicas.h"

#define MS_PER_S 1000.0

/* The decay rate theta of an M/D/1 wait's tail at arrival rate lambda and
 * service s (seconds): the positive root of lambda (e^(theta s) - 1) = theta. */
static double md1_theta(double lambda, double s) {
  /* f(theta) = lambda (e^(theta s) - 1) - theta is 0 at 0, falls (rho < 1),
   * then rises for good: double hi until f(hi) >= 0, then bisect */
  double lo = 0, hi = 1.0;
  while (lambda * (exp(hi * s) - 1) < hi && hi < 1e9) {
    lo = hi;
    hi *= 2;
  }
  for (int i = 0; i < 100; i++) {
    double mid = (lo + hi) / 2;
    if (lambda * (exp(mid * s) - 1) < mid)
      lo = mid;
    else
      hi = mid;
  }
  return (lo + hi) / 2;
}

double ss_own_utilization(int64_t service_ms, int64_t slo_p99_ms) {
  if (service_ms <= 0 || slo_p99_ms <= service_ms)
    return 0;
  double s = service_ms / MS_PER_S, budget = (slo_p99_ms - service_ms) / MS_PER_S;
  double lo = 0, hi = SS_OWN_MAX_UTILIZATION;
  for (int i = 0; i < 60; i++) {
    double rho = (lo + hi) / 2;
    double tail = rho * exp(-md1_theta(rho / s, s) * budget);
    if (tail <= SS_OWN_P99_TAIL)
      lo = rho;
    else
      hi = rho;
  }
  return lo;
}

void ss_own_init(const struct ss_own_config *cfg, struct ss_own_state *st) {
  memset(st, 0, sizeof *st);
  st->utilization = ss_own_utilization(cfg->service_ms, cfg->slo_p99_ms);
  if (st->utilization <= 0)
    st->utilization = SS_OWN_P99_TAIL; /* an SLO under the service time: carry little */
  st->per_replica = cfg->concurrency * MS_PER_S / (double)cfg->service_ms * st->utilization;
  st->hold_ms = SS_OWN_HOLD_STARTUPS * cfg->startup_ms;
  if (st->hold_ms < SS_OWN_HOLD_MS)
    st->hold_ms = SS_OWN_HOLD_MS;
  if (st->hold_ms > (SS_OWN_HISTORY_S - 1) * 1000)
    st->hold_ms = (SS_OWN_HISTORY_S - 1) * 1000;
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

int32_t ss_own_decide(const struct ss_own_config *cfg, struct ss_own_state *st,
                      const struct ss_own_input *in) {
  double cap = st->per_replica;
  /* requests queued beyond the replicas' slots, drained within a start-up */
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
  }
  double up = ceil((rate + backlog / drain_s) / cap);
  const char *why = "arrivals";
  if (in->waiting > 0 && up < 1) {
    up = 1; /* the gateway holds it: nothing is lost */
    why = "a request waits at zero replicas";
  }
  if (in->rate_1s > SS_OWN_PANIC_FACTOR * cap * (in->ready > 0 ? in->ready : 1) &&
      in->rate_1s > cap) {
    st->panicking = true;
    st->panic_until_ms = in->now_ms + st->hold_ms;
    up = fmax(up, ceil(in->rate_1s * SS_OWN_PANIC_HEADROOM / cap));
    why = "panic: arrivals over twice what the serving replicas carry";
  } else if (st->panicking && in->now_ms >= st->panic_until_ms) {
    st->panicking = false;
  }
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
  if (want < 1)
    why = "no request in the hold window";
  int32_t n = ss_replicas_clamp(want, cfg->min, cfg->max);
  snprintf(st->reason, sizeof st->reason,
           "servescale policy: %s (%.1f requests/s over the last second, %.0f in flight, "
           "%zu waiting, %d ready; a replica carries %.1f/s within the %lld ms p99 SLO)",
           why, in->rate_1s, in->inflight, in->waiting, (int)in->ready, cap,
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
