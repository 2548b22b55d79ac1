/* test_core2_scaling.c: Seldon Core 2's native model autoscaling
 * (src/core2/scaling.c): the lag, from the requests in flight, its reset and its reports, and the
 * scheduler's step of one within the Model's bounds, as a table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core2/scaling.h"

static void test_lag_and_inactivity(void **state) {
  (void)state;
  const struct ss_c2_scaling_settings s = SS_C2_SCALING_DEFAULT;
  struct ss_c2_lag l = {0};
  uint32_t lag;
  /* 29 in flight on one replica: under 30 */
  assert_int_equal(ss_c2_lag_check(&l, &s, 29, 1, 1000, 5000, &lag), SS_C2_NONE);
  assert_int_equal(lag, 29);
  /* 60 on 2 replicas: 30 each, up, and the lag is reset */
  assert_int_equal(ss_c2_lag_check(&l, &s, 60, 2, 6000, 10000, &lag), SS_C2_UP);
  assert_int_equal(lag, 30);
  /* the same 60 still in flight a period later: no new lag since the reset */
  assert_int_equal(ss_c2_lag_check(&l, &s, 60, 3, 11000, 15000, &lag), SS_C2_NONE);
  assert_int_equal(lag, 0);
  /* answers take it under the reset's count: the counter stops at 0, and
   * arrivals count from there (10 in flight, then 100: 90 new on 3) */
  assert_int_equal(ss_c2_lag_check(&l, &s, 10, 3, 16000, 20000, &lag), SS_C2_NONE);
  assert_int_equal(lag, 0);
  assert_int_equal(ss_c2_lag_check(&l, &s, 100, 3, 21000, 25000, &lag), SS_C2_UP);
  assert_int_equal(lag, 30);
  /* unused for 30 s since the last request (at 21 s): down, every period */
  assert_int_equal(ss_c2_lag_check(&l, &s, 0, 3, 21000, 50000, &lag), SS_C2_NONE);
  assert_int_equal(ss_c2_lag_check(&l, &s, 0, 3, 21000, 51000, &lag), SS_C2_DOWN);
  assert_int_equal(ss_c2_lag_check(&l, &s, 0, 3, 21000, 56000, &lag), SS_C2_DOWN);
  assert_int_equal(ss_c2_lag_check(&l, &s, 1, 3, 57000, 61000, &lag), SS_C2_NONE);
}

static void test_steps_within_bounds(void **state) {
  (void)state;
  const struct ss_c2_scaling_settings s = SS_C2_SCALING_DEFAULT;
  const struct {
    int replicas, min, max;
    enum ss_c2_trigger t;
    int64_t stable_since, now;
    int want;
    const char *why;
  } rows[] = {
      {1, 1, 3, SS_C2_UP, 0, 100000, 2, NULL},
      {3, 1, 3, SS_C2_UP, 0, 100000, 3, "Violating max replicas"},
      {2, 1, 3, SS_C2_DOWN, 0, 100000, 1, NULL},
      {1, 1, 3, SS_C2_DOWN, 0, 100000, 1, "Violating min replicas"},
      {1, 0, 3, SS_C2_DOWN, 0, 100000, 1, "Violating min replicas"}, /* never below 1 */
      {2, 0, 0, SS_C2_UP, 0, 100000, 2, "No autoscaling"},          /* neither bound set */
      {2, 2, 0, SS_C2_UP, 0, 100000, 3, NULL},                      /* no max: unbounded */
      {3, 1, 5, SS_C2_DOWN, 50000, 100000, 3, "changed status recently"}, /* 50 s < 60 s */
      {3, 1, 5, SS_C2_DOWN, 40000, 100000, 2, NULL},
      {3, 1, 5, SS_C2_UP, 99000, 100000, 4, NULL}, /* up does not wait */
  };
  for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
    const char *why = NULL;
    int got = ss_c2_model_replicas(rows[i].replicas, rows[i].min, rows[i].max, rows[i].t,
                                   rows[i].stable_since, rows[i].now, &s, &why);
    if (got != rows[i].want)
      fail_msg("row %zu: %d replicas, want %d", i, got, rows[i].want);
    if ((rows[i].why == NULL) != (why == NULL) || (why && strcmp(why, rows[i].why) != 0))
      fail_msg("row %zu: why \"%s\", want \"%s\"", i, why ? why : "", rows[i].why ? rows[i].why : "");
  }
}

static void test_servers_follow_models(void **state) {
  (void)state;
  int target;
  /* a model at 3 on a server expecting 2 (max 4): up to 3 */
  assert_true(ss_c2_server_scale_up(2, 4, 3, &target));
  assert_int_equal(target, 3);
  /* ... at most maxReplicas */
  assert_true(ss_c2_server_scale_up(2, 2, 5, &target) == true && target == 2);
  assert_false(ss_c2_server_scale_up(3, 4, 3, &target)); /* enough */
  assert_false(ss_c2_server_scale_up(1, 0, 3, &target)); /* no maxReplicas: no autoscaling */
  /* two empty replicas of 4: down to 2; never below minReplicas */
  assert_true(ss_c2_server_scale_down(4, 1, 2, 2, false, &target));
  assert_int_equal(target, 2);
  assert_true(ss_c2_server_scale_down(4, 3, 1, 2, false, &target));
  assert_int_equal(target, 3);
  /* none empty, no packing drawn: stays */
  assert_false(ss_c2_server_scale_down(4, 1, 2, 0, false, &target));
  /* packing drawn: the most replicated model needs 2 of 4 */
  assert_true(ss_c2_server_scale_down(4, 1, 2, 0, true, &target));
  assert_int_equal(target, 2);
  /* one replica: never scaled down */
  assert_false(ss_c2_server_scale_down(1, 0, 0, 1, true, &target));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lag_and_inactivity),
      cmocka_unit_test(test_steps_within_bounds),
      cmocka_unit_test(test_servers_follow_models),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
