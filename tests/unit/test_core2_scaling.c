/* test_core2_scaling.c: Seldon Core 2's native model autoscaling
 * (src/core2/scaling.c): the lag counter and its reports, and the
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
  struct ss_c2_lag l;
  ss_c2_lag_init(&l, 0);
  for (int i = 0; i < 29; i++)
    ss_c2_lag_arrive(&l, 1000);
  assert_int_equal(ss_c2_lag_check(&l, &s, 5000), SS_C2_NONE); /* 29 in flight: under 30 */
  ss_c2_lag_arrive(&l, 6000);
  assert_int_equal(ss_c2_lag_check(&l, &s, 10000), SS_C2_UP); /* 30 */
  assert_int_equal(l.lag, 0);                                   /* reset by the report */
  ss_c2_lag_done(&l);                                           /* an answer after the reset */
  assert_int_equal(l.lag, 0);                                   /* never below 0 */
  assert_int_equal(ss_c2_lag_check(&l, &s, 15000), SS_C2_NONE);
  /* unused for 30 s since the last request (6 s): down, every period */
  assert_int_equal(ss_c2_lag_check(&l, &s, 35000), SS_C2_NONE);
  assert_int_equal(ss_c2_lag_check(&l, &s, 36000), SS_C2_DOWN);
  assert_int_equal(ss_c2_lag_check(&l, &s, 41000), SS_C2_DOWN);
  ss_c2_lag_arrive(&l, 42000);
  assert_int_equal(ss_c2_lag_check(&l, &s, 46000), SS_C2_NONE);
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
