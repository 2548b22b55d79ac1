/* own.c: servescale's own scaling policy (see own.h). */
#include "sim/own.h"

#include <math.h>
#include <string.h>

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

double ss_sim_own_utilization(int64_t service_ms, int64_t slo_p99_ms) {
  if (service_ms <= 0 || slo_p99_ms <= service_ms)
    return 0;
  double s = service_ms / MS_PER_S, budget = (slo_p99_ms - service_ms) / MS_PER_S;
  double lo = 0, hi = SS_SIM_OWN_MAX_UTILIZATION;
  for (int i = 0; i < 60; i++) {
    double rho = (lo + hi) / 2;
    double tail = rho * exp(-md1_theta(rho / s, s) * budget);
    if (tail <= SS_SIM_OWN_P99_TAIL)
      lo = rho;
    else
      hi = rho;
  }
  return lo;
}

void ss_sim_own_init(const struct ss_sim_own_config *cfg, struct ss_sim_own_state *st) {
  memset(st, 0, sizeof *st);
  st->utilization = ss_sim_own_utilization(cfg->service_ms, cfg->slo_p99_ms);
  if (st->utilization <= 0)
    st->utilization = SS_SIM_OWN_P99_TAIL; /* an SLO under the service time: carry little */
  st->per_replica = cfg->concurrency * MS_PER_S / (double)cfg->service_ms * st->utilization;
  st->hold_ms = SS_SIM_OWN_HOLD_STARTUPS * cfg->startup_ms;
  if (st->hold_ms < SS_SIM_OWN_HOLD_MS)
    st->hold_ms = SS_SIM_OWN_HOLD_MS;
  if (st->hold_ms > (SS_SIM_OWN_HISTORY_S - 1) * 1000)
    st->hold_ms = (SS_SIM_OWN_HISTORY_S - 1) * 1000;
  st->last_second = -1;
}

static int32_t clamp(double v, int32_t lo, int32_t hi) {
  if (!(v > lo))
    return lo;
  if (v > hi)
    return hi;
  return (int32_t)v;
}

/* Keeps the most replicas wanted in each second. */
static void remember(struct ss_sim_own_state *st, int64_t now_ms, double wanted) {
  int64_t s = now_ms / 1000;
  for (int64_t k = st->last_second + 1; k <= s; k++)
    st->wanted[k % SS_SIM_OWN_HISTORY_S] = 0;
  if (s > st->last_second)
    st->last_second = s;
  double *slot = &st->wanted[s % SS_SIM_OWN_HISTORY_S];
  if (wanted > *slot)
    *slot = wanted;
}

static double peak(const struct ss_sim_own_state *st) {
  double p = 0;
  int64_t n = st->hold_ms / 1000;
  for (int64_t k = 0; k <= n && k <= st->last_second; k++) {
    double r = st->wanted[(st->last_second - k) % SS_SIM_OWN_HISTORY_S];
    if (r > p)
      p = r;
  }
  return p;
}

int32_t ss_sim_own_decide(const struct ss_sim_own_config *cfg, struct ss_sim_own_state *st,
                          const struct ss_sim_own_input *in) {
  double cap = st->per_replica;
  /* requests queued beyond the replicas' slots, drained within a start-up */
  double slots = (double)in->ready * cfg->concurrency;
  double backlog = in->inflight > slots ? in->inflight - slots : 0;
  double drain_s = fmax(1.0, (double)cfg->startup_ms / MS_PER_S);
  double up = ceil((in->rate_1s + backlog / drain_s) / cap);
  if (in->waiting > 0 && up < 1)
    up = 1; /* the gateway holds it: nothing is lost */
  if (in->rate_1s > SS_SIM_OWN_PANIC_FACTOR * cap * (in->ready > 0 ? in->ready : 1) &&
      in->rate_1s > cap) {
    st->panicking = true;
    st->panic_until_ms = in->now_ms + st->hold_ms;
    up = fmax(up, ceil(in->rate_1s * SS_SIM_OWN_PANIC_HEADROOM / cap));
  } else if (st->panicking && in->now_ms >= st->panic_until_ms) {
    st->panicking = false;
  }
  remember(st, in->now_ms, up);
  double want = fmax(up, peak(st)); /* never below what the recent peak needed */
  if (st->panicking && want < in->spec)
    want = in->spec;
  if (want < 1 && in->inflight > 0)
    want = 1; /* never drop the last replica under a request */
  return clamp(want, cfg->min, cfg->max);
}
