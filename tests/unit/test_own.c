/* test_own.c: servescale's own policy (src/autoscale/own.c), which both
 * the simulation and the daemon's autoscaler call: the utilization an SLO
 * allows, the peak it holds, zero and panic; and its feed, the gateway's
 * figures (requests completed, requests outstanding) sampled every period
 * into the last second's arrival rate, as the daemon feeds it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "autoscale/own.h"

#define ASSERT_NEAR(a, b, eps)                                                     \
  do {                                                                            \
    double a_ = (a), b_ = (b);                                                    \
    if (fabs(a_ - b_) > (eps))                                                    \
      fail_msg("%s = %g, want %g (within %g)", #a, a_, b_, (double)(eps));        \
  } while (0)

/* ---- servescale's own policy ---- */

/* The replicas a rate wants within the SLO, by hand from Erlang C at 20 ms
 * of service and 80 ms of budget: one replica carries 25/s (half busy,
 * 26/s would wait past 80 ms more than 1 % of the time), two 40/s;
 * 150/s wants 4 (three busy, C(4, 3) = 0.51 times e^-8), and a larger
 * load is carried by fewer replicas per request, up to 90 % busy. */
static void test_own_replicas_for(void **state) {
  (void)state;
  struct ss_own_config cfg = {20, 1, 2000, 100, 0, 20};
  assert_true(ss_own_replicas_for(&cfg, 0) == 0);
  assert_true(ss_own_replicas_for(&cfg, 1) == 1);
  assert_true(ss_own_replicas_for(&cfg, 25) == 1);
  assert_true(ss_own_replicas_for(&cfg, 26) == 2);
  assert_true(ss_own_replicas_for(&cfg, 40) == 2);
  assert_true(ss_own_replicas_for(&cfg, 150) == 4);
  assert_true(ss_own_replicas_for(&cfg, 300) == 7);
  /* 5000/s is 100 replicas' worth of work: the 90 % bound, not the tail */
  assert_true(ss_own_replicas_for(&cfg, 5000) == ceil(100 / SS_OWN_MAX_UTILIZATION));
  /* four requests at once per replica: a quarter of the replicas, or fewer */
  cfg.concurrency = 4;
  assert_true(ss_own_replicas_for(&cfg, 300) == 2);
  /* a looser SLO carries more per replica; one under the service time, little */
  cfg.concurrency = 1;
  cfg.slo_p99_ms = 1000;
  assert_true(ss_own_replicas_for(&cfg, 40) == 1);
  cfg.slo_p99_ms = 20;
  assert_true(ss_own_replicas_for(&cfg, 40) == ceil(0.8 / SS_OWN_P99_TAIL));
}

/* Panic starts at a second's rate over twice what the serving replicas
 * carry: one replica carries between 25/s and 26/s (above), so from one
 * ready replica 50/s is no panic and 52/s is. */
static void test_own_panics_over_twice_what_serves(void **state) {
  (void)state;
  struct ss_own_config cfg = {20, 1, 2000, 100, 0, 20};
  struct ss_own_state st;
  ss_own_init(&cfg, &st);
  struct ss_own_input in = {.now_ms = 1000, .rate_1s = 50, .ready = 1, .spec = 1};
  ss_own_decide(&cfg, &st, &in);
  assert_false(st.panicking);
  in.rate_1s = 52;
  in.now_ms = 1100;
  ss_own_decide(&cfg, &st, &in);
  assert_true(st.panicking);
}

static void test_own_holds_peak(void **state) {
  (void)state;
  struct ss_own_config cfg = {20, 1, 2000, 100, 0, 20};
  struct ss_own_state st;
  ss_own_init(&cfg, &st);
  struct ss_own_input in = {.now_ms = 1000, .rate_1s = 150, .ready = 4, .spec = 4,
                                .inflight = 2};
  assert_int_equal(ss_own_decide(&cfg, &st, &in), 4);
  in.rate_1s = 10; /* load falls: the peak holds for the hold window */
  for (int64_t t = 1100; t < 1000 + SS_OWN_HOLD_MS; t += 100) {
    in.now_ms = t;
    assert_int_equal(ss_own_decide(&cfg, &st, &in), 4);
  }
  in.now_ms = 1000 + SS_OWN_HOLD_MS + 1000;
  assert_int_equal(ss_own_decide(&cfg, &st, &in), 1);
  /* a request at zero wakes it; an idle window with nothing in flight: 0 */
  in = (struct ss_own_input){.now_ms = 100000, .waiting = 1, .inflight = 1};
  assert_int_equal(ss_own_decide(&cfg, &st, &in), 1);
  in = (struct ss_own_input){.now_ms = 200000};
  assert_int_equal(ss_own_decide(&cfg, &st, &in), 0);
  /* a burst to 300/s at 2 replicas (they serve 100/s at most): the 200/s
   * beyond queue for the 2 s start-up, and that backlog, drained within a
   * start-up, counts at once: 300 + 400 / 2 a second */
  in = (struct ss_own_input){.now_ms = 300000, .rate_1s = 300, .ready = 2, .spec = 2};
  assert_int_equal(ss_own_decide(&cfg, &st, &in), (int)ss_own_replicas_for(&cfg, 500));
  assert_int_equal(ss_own_decide(&cfg, &st, &in), 12);
  assert_true(st.panicking); /* over twice what 2 replicas carry */
  in = (struct ss_own_input){.now_ms = 300100, .rate_1s = 60, .ready = 12, .spec = 12};
  assert_int_equal(ss_own_decide(&cfg, &st, &in), 12); /* panic: the size holds */
}

/* At zero replicas, the first requests waiting size the first start: their
 * rate since the first came (the last second's count has seen only the
 * start of the burst), and what will queue while the replicas start,
 * drained within a start-up as any backlog. */
static void test_cold_start_sized_for_the_burst(void **state) {
  (void)state;
  struct ss_own_config cfg = {20, 1, 2000, 100, 0, 20};
  struct ss_own_state st;
  ss_own_init(&cfg, &st);
  /* 4 requests in the 100 ms since the first: 40/s, 80 queued by the time
   * a replica serves, drained within 2 s: 40 + 80 / 2 a second, 3 replicas
   * (the last second's 4/s alone would want 1) */
  struct ss_own_input in = {.now_ms = 50000, .rate_1s = 4, .inflight = 4, .waiting = 4};
  assert_int_equal(ss_own_decide(&cfg, &st, &in), (int)ss_own_replicas_for(&cfg, 80));
  assert_int_equal(ss_own_decide(&cfg, &st, &in), 3);
  /* a lone request: one replica, as before */
  ss_own_init(&cfg, &st);
  in = (struct ss_own_input){.now_ms = 50000, .rate_1s = 1, .inflight = 1, .waiting = 1};
  assert_int_equal(ss_own_decide(&cfg, &st, &in), 1);
}

/* The daemon's policy takes over a target at its current size: that size
 * holds for the hold window (no drop at the first, idle, decision), then
 * goes where the load says; a first call at a wall clock's time is cheap. */
static void test_start_holds_the_size_taken_over(void **state) {
  (void)state;
  struct ss_own_config cfg = {20, 1, 2000, 100, 1, 20};
  struct ss_own_state st;
  ss_own_init(&cfg, &st);
  const int64_t t0 = INT64_C(1700000000000); /* wall-clock ms */
  ss_own_start(&st, t0, 6);
  struct ss_own_input in = {.now_ms = t0 + 100, .ready = 6, .spec = 6};
  assert_int_equal(ss_own_decide(&cfg, &st, &in), 6);
  assert_non_null(strstr(st.reason, "holding the recent peak"));
  in.now_ms = t0 + SS_OWN_HOLD_MS - 1000;
  assert_int_equal(ss_own_decide(&cfg, &st, &in), 6);
  in.now_ms = t0 + SS_OWN_HOLD_MS + 1000;
  assert_int_equal(ss_own_decide(&cfg, &st, &in), 1); /* min 1 */
}

/* Feeds the policy every period from `from` to `to` (ms) at `rate`, the
 * replicas serving as asked; returns the last size asked for. */
static int32_t run_at(const struct ss_own_config *cfg, struct ss_own_state *st, int64_t from,
                      int64_t to, double rate, int32_t spec) {
  for (int64_t t = from; t < to; t += SS_OWN_PERIOD_MS) {
    struct ss_own_input in = {.now_ms = t, .rate_1s = rate, .inflight = rate > 0 ? 1 : 0,
                              .ready = spec, .spec = spec};
    spec = ss_own_decide(cfg, st, &in);
  }
  return spec;
}

/* Bursts of 40/s for 60 s every 6 minutes: after the first gap (300.1 s,
 * from the last busy period to the next) is learned, the next idle period
 * keeps the burst's 2 replicas warm from a start-up before 90 % of it to
 * 110 % of it, and none outside; gaps spread over more than 30 minutes
 * pre-warm nothing. */
static void test_prewarm_periodic_bursts(void **state) {
  (void)state;
  struct ss_own_config cfg = {20, 1, 2000, 100, 0, 20};
  struct ss_own_state st;
  ss_own_init(&cfg, &st);
  int32_t n = run_at(&cfg, &st, 0, 60000, 40, 0);
  assert_int_equal(n, 2);
  n = run_at(&cfg, &st, 60000, 360000, 0, n);
  assert_int_equal(n, 0); /* nothing learned yet: cold */
  n = run_at(&cfg, &st, 360000, 420000, 40, n);
  assert_int_equal(st.n_gaps, 1);
  assert_int_equal(st.gap_ms[0], 300100);
  /* the last busy observation was at 419900: warm from 419900 + 270090 -
   * 2000 = 687990 to 419900 + 330110 = 750010 */
  assert_int_equal(run_at(&cfg, &st, 420000, 687900, 0, n), 0);
  assert_int_equal(run_at(&cfg, &st, 687900, 688100, 0, 0), 2);
  assert_non_null(strstr(st.reason, "pre-warming"));
  assert_int_equal(run_at(&cfg, &st, 688100, 750000, 0, 2), 2);
  assert_int_equal(run_at(&cfg, &st, 750000, 780000, 0, 2), 0);
  /* traffic 40 minutes later: gaps of 5 and 40 minutes are no pattern */
  n = run_at(&cfg, &st, 2820000, 2880000, 40, 0);
  assert_int_equal(st.n_gaps, 2);
  for (int64_t t = 2880000; t < 2880000 + 3000000; t += 60000)
    assert_int_equal(run_at(&cfg, &st, t, t + 60000, 0, n), 0);
}

/* ---- the feed ---- */

/* A constant 200 requests/s answered in 50 ms: 10 outstanding at any time,
 * completions lagging arrivals by those 10. The rate is 200 from the first
 * whole second on, and grows to it (counted over a whole second) before. */
static void test_feed_constant_rate(void **state) {
  (void)state;
  struct ss_own_feed f = {0};
  assert_true(ss_own_feed_rate(&f) == 0);
  for (int64_t t = 0; t <= 3000; t += SS_OWN_PERIOD_MS) {
    double arrived = 200.0 * (double)t / 1000.0;
    double outstanding = arrived < 10 ? arrived : 10;
    ss_own_feed_push(&f, 100000 + t, arrived - outstanding, outstanding);
    if (t == 500)
      ASSERT_NEAR(ss_own_feed_rate(&f), 100, 1e-9); /* half a second seen, over a second */
    if (t >= 1000)
      ASSERT_NEAR(ss_own_feed_rate(&f), 200, 1e-9);
  }
}

/* A step from 0 to 300/s shows within one period, in proportion; queued
 * requests at the gateway (nothing answered yet) count as arrivals. */
static void test_feed_step_and_queue(void **state) {
  (void)state;
  struct ss_own_feed f = {0};
  for (int64_t t = 0; t <= 2000; t += SS_OWN_PERIOD_MS)
    ss_own_feed_push(&f, t, 50, 0); /* idle after 50 requests long ago */
  ASSERT_NEAR(ss_own_feed_rate(&f), 0, 1e-9);
  ss_own_feed_push(&f, 2100, 50, 30); /* 30 arrived, all still outstanding */
  ASSERT_NEAR(ss_own_feed_rate(&f), 30, 1e-9);
  ss_own_feed_push(&f, 2200, 70, 40);
  ASSERT_NEAR(ss_own_feed_rate(&f), 60, 1e-9);
}

/* Late ticks: the rate is taken from the newest observation at least a
 * second old, scaled to a second; a counter reset restarts the feed; the
 * same instant twice keeps the newer figures. */
static void test_feed_late_reset_same_instant(void **state) {
  (void)state;
  struct ss_own_feed f = {0};
  ss_own_feed_push(&f, 0, 0, 0);
  ss_own_feed_push(&f, 1500, 300, 0); /* a tick 1.5 s late */
  ASSERT_NEAR(ss_own_feed_rate(&f), 200, 1e-9);
  ss_own_feed_push(&f, 1500, 310, 5); /* the same instant: newer figures */
  ASSERT_NEAR(ss_own_feed_rate(&f), 210, 1e-9);
  ss_own_feed_push(&f, 1600, 4, 0); /* the counter was made anew: start over */
  ASSERT_NEAR(ss_own_feed_rate(&f), 0, 1e-9);
  ss_own_feed_push(&f, 1700, 24, 0);
  ASSERT_NEAR(ss_own_feed_rate(&f), 20, 1e-9);
  /* many ticks: the ring keeps what a second needs */
  for (int64_t t = 1800; t < 60000; t += 10)
    ss_own_feed_push(&f, t, 24 + (double)(t - 1700) / 10, 0);
  ASSERT_NEAR(ss_own_feed_rate(&f), 100, 1e-6);
}

/* The feed into the decision, as the daemon's shell does each period: a
 * step to 10x a replica's capacity asks for the replicas it needs within
 * the period the step is first seen. */
static void test_feed_into_decision(void **state) {
  (void)state;
  struct ss_own_config cfg = {20, 1, 500, 100, 1, 20};
  struct ss_own_state st;
  struct ss_own_feed f = {0};
  ss_own_init(&cfg, &st);
  double cap = 25, arrived = 0; /* one replica's rate within the SLO */
  int32_t spec = 1;
  for (int64_t t = 0; t <= 1000; t += SS_OWN_PERIOD_MS) {
    ss_own_feed_push(&f, t, arrived, 0);
    struct ss_own_input in = {.now_ms = t, .rate_1s = ss_own_feed_rate(&f), .ready = 1,
                              .spec = spec};
    spec = ss_own_decide(&cfg, &st, &in);
  }
  assert_int_equal(spec, 1);
  /* 10x one replica's capacity arrives from 1 s on: in the first period,
   * a tenth of a second's worth, with the ones not yet answered outstanding */
  arrived += 10 * cap / 10;
  ss_own_feed_push(&f, 1100, arrived - 2, 2);
  struct ss_own_input in = {.now_ms = 1100, .rate_1s = ss_own_feed_rate(&f), .inflight = 2,
                            .ready = 1, .spec = spec};
  int32_t want = ss_own_decide(&cfg, &st, &in);
  assert_true(want > 1);
  assert_non_null(strstr(st.reason, "servescale policy"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_own_replicas_for),
      cmocka_unit_test(test_own_panics_over_twice_what_serves),
      cmocka_unit_test(test_own_holds_peak),
      cmocka_unit_test(test_cold_start_sized_for_the_burst),
      cmocka_unit_test(test_start_holds_the_size_taken_over),
      cmocka_unit_test(test_prewarm_periodic_bursts),
      cmocka_unit_test(test_feed_constant_rate),
      cmocka_unit_test(test_feed_step_and_queue),
      cmocka_unit_test(test_feed_late_reset_same_instant),
      cmocka_unit_test(test_feed_into_decision),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
