/* test_loadtest.c: unit tests for src/load/stats.c (the load generator's
 * latency histogram, quantiles and target parsing) and src/load/run.c's
 * argument checks, as tables of cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "load/load.h"

#define N_ELEMS(a) (sizeof(a) / sizeof *(a))

static void test_bucket_bounds_contain_the_latency(void **state) {
  (void)state;
  static const uint64_t us[] = {0, 1, 2, 50, 999, 1000, 1001, 250000, 10000000};
  for (size_t i = 0; i < N_ELEMS(us); i++) {
    size_t b = ss_load_bucket(us[i]);
    assert_true(ss_load_bucket_upper_us(b) >= (double)us[i]);
    if (b > 0) /* the bucket below is too small, and by at most 2 % */
      assert_true(ss_load_bucket_upper_us(b - 1) < (double)us[i] * 1.0000001);
    assert_true(ss_load_bucket_upper_us(b) <= (double)us[i] * SS_LOAD_GROWTH + 1);
  }
  assert_int_equal(ss_load_bucket(UINT64_MAX), SS_LOAD_BUCKETS - 1);
}

static void test_quantiles_within_two_percent(void **state) {
  (void)state;
  struct ss_load_stats *st = calloc(1, sizeof *st);
  struct ss_load_snapshot *s = calloc(1, sizeof *s);
  /* 1 ms .. 100 ms, one each: p50 is 50 ms, p99 99 ms */
  for (uint64_t ms = 1; ms <= 100; ms++)
    ss_load_record(st, ms * 1000, 200);
  ss_load_snapshot_take(st, s);
  double p50 = ss_load_quantile_ms(s->buckets, 0.5), p99 = ss_load_quantile_ms(s->buckets, 0.99);
  assert_true(p50 >= 50 && p50 <= 50 * SS_LOAD_GROWTH);
  assert_true(p99 >= 99 && p99 <= 99 * SS_LOAD_GROWTH);
  ss_load_record(st, 5000, 503);
  ss_load_record(st, 7000, 0);
  ss_load_snapshot_take(st, s);
  assert_int_equal(s->requests, 102);
  assert_int_equal(s->failures, 2);
  assert_int_equal(s->codes[200], 100);
  assert_int_equal(s->codes[503], 1);
  assert_int_equal(s->codes[0], 1);
  assert_int_equal(s->max_us, 100000);
  free(st);
  free(s);
}

static void test_quantile_of_nothing_is_zero(void **state) {
  (void)state;
  static uint64_t none[SS_LOAD_BUCKETS];
  assert_true(ss_load_quantile_ms(none, 0.99) == 0);
}

struct target_case {
  const char *in;
  enum ss_err rc;
  enum ss_load_target_kind kind;
  const char *value; /* name or URL; for errors, a piece of the message */
};

static const struct target_case target_cases[] = {
    {"sdep/seldon-model", SS_EOK, SS_LOAD_TARGET_SDEP, "seldon-model"},
    {"seldondeployment/a.b", SS_EOK, SS_LOAD_TARGET_SDEP, "a.b"},
    {"seldondeployments.machinelearning.seldon.io/x", SS_EOK, SS_LOAD_TARGET_SDEP, "x"},
    {"http://127.0.0.1:8000/seldon/default/m/api/v1.0/predictions", SS_EOK, SS_LOAD_TARGET_URL,
     "http://127.0.0.1:8000/seldon/default/m/api/v1.0/predictions"},
    {"https://h/v2/models/m/infer", SS_EOK, SS_LOAD_TARGET_URL, "https://h/v2/models/m/infer"},
    {"", SS_EINVALID, 0, "target: required"},
    {"sdep/", SS_EINVALID, 0, "target: name"},
    {"sdep/Upper", SS_EINVALID, 0, "not a valid object name"},
    {"sdep/-x", SS_EINVALID, 0, "not a valid object name"},
    {"pods/x", SS_EINVALID, 0, "kind \"pods\""},
    {"ftp://x", SS_EINVALID, 0, "neither a URL"},
    {"localhost:8000", SS_EINVALID, 0, "neither a URL"},
    {"http://", SS_EINVALID, 0, "has no host"},
    {"http:///p", SS_EINVALID, 0, "has no host"},
    {"http://h/a b", SS_EINVALID, 0, "control character at byte 10"},
};

static void test_target_parse_cases(void **state) {
  (void)state;
  for (size_t i = 0; i < N_ELEMS(target_cases); i++) {
    const struct target_case *c = &target_cases[i];
    struct ss_load_target t;
    struct ss_error err = {0};
    enum ss_err rc = ss_load_target_parse(c->in, &t, &err);
    if (rc != c->rc)
      fail_msg("%s: rc %d, want %d (%s)", c->in, rc, c->rc, err.msg);
    if (rc == SS_EOK) {
      assert_int_equal(t.kind, c->kind);
      assert_string_equal(c->kind == SS_LOAD_TARGET_SDEP ? t.name : t.url, c->value);
    } else if (!strstr(err.msg, c->value) || strncmp(err.msg, "target:", 7) != 0) {
      fail_msg("%s: message \"%s\" lacks \"%s\"", c->in, err.msg, c->value);
    }
  }
  char long_url[SS_LOAD_URL_MAX + 16] = "http://h/";
  memset(long_url + 9, 'a', SS_LOAD_URL_MAX);
  long_url[SS_LOAD_URL_MAX + 9] = '\0';
  struct ss_load_target t;
  struct ss_error err = {0};
  assert_int_equal(ss_load_target_parse(long_url, &t, &err), SS_EINVALID);
  assert_non_null(strstr(err.msg, "longer than"));
}

static void test_run_refuses_bad_config_naming_the_field(void **state) {
  (void)state;
  static struct ss_load_stats st;
  struct ss_error err = {0};
  struct ss_load_config cfg = {.url = "http://127.0.0.1:1/", .body = "{}", .body_len = 2,
                               .users = 0, .duration_ms = 1000};
  assert_int_equal(ss_load_run(&cfg, &st, &err), SS_EINVALID);
  assert_non_null(strstr(err.msg, "users:"));
  cfg.users = 1;
  cfg.duration_ms = 0;
  assert_int_equal(ss_load_run(&cfg, &st, &err), SS_EINVALID);
  assert_non_null(strstr(err.msg, "duration:"));
}

static void test_run_counts_refused_connections_as_failures(void **state) {
  (void)state;
  static struct ss_load_stats st;
  static struct ss_load_snapshot s;
  struct ss_error err = {0};
  /* port 1 on loopback: refused at once, so every request is a transport failure */
  struct ss_load_config cfg = {.url = "http://127.0.0.1:1/", .body = "{}", .body_len = 2,
                               .users = 2, .duration_ms = 300, .rps = 50};
  assert_int_equal(ss_load_run(&cfg, &st, &err), SS_EOK);
  ss_load_snapshot_take(&st, &s);
  assert_true(s.requests >= 5 && s.requests <= 20); /* 50/s for 0.3 s, paced */
  assert_int_equal(s.failures, s.requests);
  assert_int_equal(s.codes[0], s.requests);
  assert_int_equal(s.users, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bucket_bounds_contain_the_latency),
      cmocka_unit_test(test_quantiles_within_two_percent),
      cmocka_unit_test(test_quantile_of_nothing_is_zero),
      cmocka_unit_test(test_target_parse_cases),
      cmocka_unit_test(test_run_refuses_bad_config_naming_the_field),
      cmocka_unit_test(test_run_counts_refused_connections_as_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
