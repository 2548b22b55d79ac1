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

static void test_own_utilization(void **state) {
  (void)state;
  /* S = 20 ms, p99 100 ms: about 0.58 (M/D/1's tail at 80 ms of budget) */
  double u = ss_own_utilization(20, 100);
  if (u < 0.5 || u > 0.65)
    fail_msg("utilization %.3f", u);
  assert_true(ss_own_utilization(20, 1000) > SS_OWN_MAX_UTILIZATION - 1e-6);
  assert_true(ss_own_utilization(20, 20) == 0);
  assert_true(ss_own_utilization(20, 200) > u);
}

static void test_own_holds_peak(void **state) {
  (void)state;
  struct ss_own_config cfg = {20, 1, 2000, 100, 0, 20};
  struct ss_own_state st;
  ss_own_init(&cfg, &st);
  double cap = st.per_replica;
  struct ss_own_input in = {.now_ms = 1000, .rate_1s = 4 * cap, .ready = 4, .spec = 4,
                                .inflight = 2};
  assert_int_equal(ss_own_decide(&cfg, &st, &in), 4);
  in.rate_1s = cap / 2; /* load falls: the peak holds for the hold window */
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
  /* a burst: panic adds headroom */
  in = (struct ss_own_input){.now_ms = 300000, .rate_1s = 8 * cap, .ready = 2, .spec = 2};
  assert_int_equal(ss_own_decide(&cfg, &st, &in), 10);
  assert_true(st.panicking);
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
  double cap = st.per_replica; /* about 28.9/s */
  /* 4 requests in the 100 ms since the first: 40/s, 80 queued by the time
   * a replica serves, drained within 2 s: (40 + 80 / 2) / cap */
  struct ss_own_input in = {.now_ms = 50000, .rate_1s = 4, .inflight = 4, .waiting = 4};
  assert_int_equal(ss_own_decide(&cfg, &st, &in), (int)ceil(80 / cap));
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
  double cap = st.per_replica, arrived = 0;
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
      cmocka_unit_test(test_own_utilization),
      cmocka_unit_test(test_own_holds_peak),
      cmocka_unit_test(test_cold_start_sized_for_the_burst),
      cmocka_unit_test(test_start_holds_the_size_taken_over),
      cmocka_unit_test(test_feed_constant_rate),
      cmocka_unit_test(test_feed_step_and_queue),
      cmocka_unit_test(test_feed_late_reset_same_instant),
      cmocka_unit_test(test_feed_into_decision),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
