/* test_promql.c: unit tests for src/promql/ (parse.c, format.c, eval.c,
 * source.c): the parser's tree for each construct and its rejection
 * messages, evaluation against a fake source of synthetic series with the
 * expected numbers worked out by Prometheus' documented rules in the
 * comments, KEDA's single-value rules, and the registry's window as a source. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "common/err.h"
#include "metrics/metrics.h"
#include "promql/promql.h"

#define N_ELEMS(a) (sizeof(a) / sizeof *(a))

/* cmocka before 1.1.6 has no assert_double_equal; this prints both. */
#define assert_near(got, want, eps)                                                  \
  do {                                                                               \
    double got_ = (got), want_ = (want);                                             \
    if (!(fabs(got_ - want_) <= (eps))) {                                            \
      print_error("%s = %.17g, want %.17g\n", #got, got_, want_);                     \
      fail();                                                                        \
    }                                                                                \
  } while (0)

/* ---- a fake source: series with samples given in the test ---- */

#define T 1000000000 /* the evaluation time, ms */
#define S(sec) ((int64_t)T + (int64_t)(sec) * 1000) /* T + sec seconds */
#define MAX_SAMPLES 64

struct fake {
  const char *name;
  const char *labels[10]; /* name, value, name, value, ..., NULL */
  size_t n;
  struct ss_sample s[MAX_SAMPLES];
};

/* A counter sampled every step_s seconds from from_s to to_s (relative to T,
 * both included), starting at v0 and rising by slope per second. */
static void counter(struct fake *f, int from_s, int to_s, int step_s, double v0, double slope) {
  f->n = 0;
  for (int t = from_s; t <= to_s; t += step_s) {
    f->s[f->n++] = (struct ss_sample){S(t), v0 + slope * (t - from_s)};
  }
}

static void gauge(struct fake *f, int at_s, double v) {
  f->n = 1;
  f->s[0] = (struct ss_sample){S(at_s), v};
}

struct fake_db {
  struct fake *series;
  size_t n;
};

static void fake_each(void *ctx, const char *name, ss_promql_series_fn *fn, void *fn_ctx) {
  const struct fake_db *db = ctx;
  for (size_t i = 0; i < db->n; i++) {
    const struct fake *f = &db->series[i];
    if (name && strcmp(name, f->name) != 0)
      continue;
    struct ss_timeseries ts;
    memset(&ts, 0, sizeof ts);
    snprintf(ts.name, sizeof ts.name, "%s", f->name);
    for (size_t j = 0; j < N_ELEMS(f->labels) && f->labels[j]; j += 2) {
      snprintf(ts.label_names[ts.n_labels], sizeof ts.label_names[0], "%s", f->labels[j]);
      snprintf(ts.label_values[ts.n_labels], sizeof ts.label_values[0], "%s", f->labels[j + 1]);
      ts.n_labels++;
    }
    ts.samples = f->s;
    ts.n_samples = f->n;
    fn(fn_ctx, &ts);
  }
}

enum {
  REQ_A, REQ_B, SEED_CLASSIFIER, SEED_OTHER,
  EXT_LATE_START, EXT_NEAR_ZERO, EXT_STOPS_EARLY, EXT_ONE_SAMPLE, EXT_THRESHOLD, EXT_ZERO,
  TEMP_H1, TEMP_H2, TEMP_H3, TEMP_H4, NAN_1, NAN_2, OLD_STALE, OLD_EDGE, FUTURE,
  LAT_M1_01, LAT_M1_05, LAT_M1_1, LAT_M1_INF, LAT_M2_01, LAT_M2_05, LAT_M2_1, LAT_M2_INF,
  DUP_A, DUP_B, N_FAKE
};

static struct fake db_series[N_FAKE] = {
    [REQ_A] = {"req_total", {"job", "api", "instance", "a"}},
    [REQ_B] = {"req_total", {"job", "api", "instance", "b"}},
    [SEED_CLASSIFIER] = {"seldon_api_executor_client_requests_seconds_count",
                         {"model_name", "classifier", "deployment_name", "seldon-model"}},
    [SEED_OTHER] = {"seldon_api_executor_client_requests_seconds_count",
                    {"model_name", "other", "deployment_name", "seldon-model"}},
    [EXT_LATE_START] = {"ext_total", {"case", "late_start"}},
    [EXT_NEAR_ZERO] = {"ext_total", {"case", "near_zero"}},
    [EXT_STOPS_EARLY] = {"ext_total", {"case", "stops_early"}},
    [EXT_ONE_SAMPLE] = {"ext_total", {"case", "one_sample"}},
    [EXT_THRESHOLD] = {"ext_total", {"case", "threshold"}},
    [EXT_ZERO] = {"ext_total", {"case", "zero_point"}},
    [TEMP_H1] = {"temp", {"host", "h1", "dc", "x", "rack", "r1"}},
    [TEMP_H2] = {"temp", {"host", "h2", "dc", "x", "rack", "r2"}},
    [TEMP_H3] = {"temp", {"host", "h3", "dc", "y", "rack", "r1"}},
    [TEMP_H4] = {"temp", {"host", "h4", "dc", "y", "rack", "r2", "empty", ""}},
    [NAN_1] = {"nanval", {"k", "1"}},
    [NAN_2] = {"nanval", {"k", "2"}},
    [OLD_STALE] = {"old", {"age", "301s"}},
    [OLD_EDGE] = {"old", {"age", "300s"}},
    [FUTURE] = {"future", {"k", "v"}},
    [LAT_M1_01] = {"lat_bucket", {"model", "m1", "le", "0.1"}},
    [LAT_M1_05] = {"lat_bucket", {"model", "m1", "le", "0.5"}},
    [LAT_M1_1] = {"lat_bucket", {"model", "m1", "le", "1"}},
    [LAT_M1_INF] = {"lat_bucket", {"model", "m1", "le", "+Inf"}},
    [LAT_M2_01] = {"lat_bucket", {"model", "m2", "le", "0.1"}},
    [LAT_M2_05] = {"lat_bucket", {"model", "m2", "le", "0.5"}},
    [LAT_M2_1] = {"lat_bucket", {"model", "m2", "le", "1"}},
    [LAT_M2_INF] = {"lat_bucket", {"model", "m2", "le", "+Inf"}},
    [DUP_A] = {"dup_a", {"x", "1"}},
    [DUP_B] = {"dup_b", {"x", "1"}},
};

static int setup_db(void **state) {
  struct fake *f = db_series;
  /* 10/s from T-120s to T every 5 s, from 100 */
  counter(&f[REQ_A], -120, 0, 5, 100, 10);
  /* 50..80 by 5 per 5 s from T-60s to T-30s, then a reset: 3..28 from
   * T-25s to T */
  counter(&f[REQ_B], -60, -30, 5, 50, 1);
  size_t n = f[REQ_B].n;
  for (int t = -25; t <= 0; t += 5)
    f[REQ_B].s[n++] = (struct ss_sample){S(t), 3 + (t + 25)};
  f[REQ_B].n = n;
  counter(&f[SEED_CLASSIFIER], -60, 0, 5, 1000, 4);
  counter(&f[SEED_OTHER], -60, 0, 5, 1000, 100);
  counter(&f[EXT_LATE_START], -30, 0, 5, 100, 2);
  counter(&f[EXT_NEAR_ZERO], -57, -7, 10, 1, 1);
  counter(&f[EXT_STOPS_EARLY], -60, -40, 5, 0, 1);
  gauge(&f[EXT_ONE_SAMPLE], -10, 5);
  counter(&f[EXT_THRESHOLD], -50, -10, 10, 100, 1);
  counter(&f[EXT_ZERO], -30, 0, 10, 8, 1);
  gauge(&f[TEMP_H1], -10, 1);
  gauge(&f[TEMP_H2], -10, 4);
  gauge(&f[TEMP_H3], -10, 10);
  gauge(&f[TEMP_H4], -10, 20);
  gauge(&f[NAN_1], -10, NAN);
  gauge(&f[NAN_2], -10, 3);
  gauge(&f[OLD_STALE], -301, 1);
  gauge(&f[OLD_EDGE], -300, 2);
  gauge(&f[FUTURE], 10, 1); /* after T: invisible at T */
  /* histogram buckets, cumulative, per second: m1 2, 6, 8, 10; m2 0, 0, 5, 5 */
  static const double m1[] = {2, 6, 8, 10}, m2[] = {0, 0, 5, 5};
  for (int i = 0; i < 4; i++) {
    counter(&f[LAT_M1_01 + i], -60, 0, 5, 0, m1[i]);
    counter(&f[LAT_M2_01 + i], -60, 0, 5, 0, m2[i]);
  }
  counter(&f[DUP_A], -60, 0, 5, 0, 1);
  counter(&f[DUP_B], -60, 0, 5, 0, 1);
  static struct fake_db db;
  db = (struct fake_db){db_series, N_FAKE};
  *state = &db;
  return 0;
}

/* ---- helpers ---- */

static int cmp_line(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A result as text: "<scalar>" or one "{labels} value" per element, sorted,
 * joined by "; ", values with 10 significant digits. */
static void result_text(const struct ss_promql_result *r, char *out, size_t cap) {
  out[0] = '\0';
  if (r->type == SS_PROMQL_SCALAR) {
    snprintf(out, cap, "scalar %.10g", r->scalar);
    return;
  }
  char **lines = calloc(r->n + 1, sizeof *lines);
  assert_non_null(lines);
  for (size_t i = 0; i < r->n; i++) {
    char buf[512];
    size_t len = 0;
    len += (size_t)snprintf(buf + len, sizeof buf - len, "{");
    for (size_t j = 0; j < r->elems[i].n_labels; j++)
      len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s=\"%s\"", j ? "," : "",
                              r->elems[i].labels[j].name, r->elems[i].labels[j].value);
    snprintf(buf + len, sizeof buf - len, "} %.10g", r->elems[i].v);
    lines[i] = strdup(buf);
    assert_non_null(lines[i]);
  }
  qsort(lines, r->n, sizeof *lines, cmp_line);
  size_t len = 0;
  for (size_t i = 0; i < r->n; i++) {
    len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? "; " : "", lines[i]);
    free(lines[i]);
  }
  free(lines);
}

static struct ss_promql_result *eval_ok(void *db, const char *q, int64_t t) {
  struct ss_promql *p = NULL;
  struct ss_error err = {0};
  int rc = ss_promql_parse(q, &p, &err);
  if (rc)
    print_error("parse %s: %s\n", q, err.msg);
  assert_int_equal(rc, SS_EOK);
  struct ss_promql_source src = {fake_each, db};
  struct ss_promql_result *r = NULL;
  rc = ss_promql_eval(p, &src, t, &r, &err);
  if (rc)
    print_error("eval %s: %s\n", q, err.msg);
  assert_int_equal(rc, SS_EOK);
  assert_int_equal(r->type, ss_promql_result_type(p));
  ss_promql_free(p);
  return r;
}

/* ---- parsing ---- */

static void test_parse_constructs_canonical_form(void **state) {
  (void)state;
  static const struct {
    const char *q, *want;
  } cases[] = {
      /* the seed's kedaSpec query */
      {"rate(seldon_api_executor_client_requests_seconds_count{model_name=\"classifier\"}[1m])",
       "rate(seldon_api_executor_client_requests_seconds_count{model_name=\"classifier\"}[1m])"},
      {"foo", "foo"},
      {"foo:bar_total", "foo:bar_total"},
      {"{__name__=\"foo\",a!=\"b\"}", "{__name__=\"foo\", a!=\"b\"}"},
      {"foo{a=\"1\",b!=\"2\",c=~\"x.*\",d!~'y'}", "foo{a=\"1\", b!=\"2\", c=~\"x.*\", d!~\"y\"}"},
      {"foo{a=\"b\",}", "foo{a=\"b\"}"},
      {"foo{a=`raw\\d`}", "foo{a=\"raw\\\\d\"}"},
      {"foo{a=\"q\\\"uote\"}", "foo{a=\"q\\\"uote\"}"},
      {"irate(foo[30s])", "irate(foo[30s])"},
      {"increase(foo[1h])", "increase(foo[1h])"},
      {"rate(foo[90s])", "rate(foo[90s])"},
      {"rate(foo[1m30s])", "rate(foo[90s])"},
      {"rate(foo[500ms])", "rate(foo[500ms])"},
      {"rate(foo[ 2m ])", "rate(foo[2m])"},
      {"sum by (a, b) (foo)", "sum by (a, b) (foo)"},
      {"sum(foo) by (a)", "sum by (a) (foo)"},
      {"avg without (x) (foo)", "avg without (x) (foo)"},
      {"min(foo) without (x,)", "min without (x) (foo)"},
      {"max(foo)", "max(foo)"},
      {"count by () (foo)", "count(foo)"},
      {"sum(rate(a[1m])) by (job) / 10", "(sum by (job) (rate(a[1m])) / 10)"},
      {"1 + 2 * 3", "(1 + (2 * 3))"},
      {"(1 + 2) * 3", "((1 + 2) * 3)"},
      {"1 - 2 - 3", "((1 - 2) - 3)"},
      {"2 ^ 3 ^ 2", "(2 ^ (3 ^ 2))"},
      {"-2 ^ 2", "-(2 ^ 2)"},
      {"1 - -1", "(1 - -1)"},
      {"+foo", "foo"},
      {"-foo", "-foo"},
      {"foo * 2", "(foo * 2)"},
      {"2 / foo", "(2 / foo)"},
      {"foo % 3", "(foo % 3)"},
      {"0x10", "16"},
      {"1e3", "1000"},
      {".5", "0.5"},
      {"Inf", "+Inf"},
      {"-inf", "-Inf"},
      {"NaN", "NaN"},
      {"histogram_quantile(0.95, sum by (le) (rate(x_bucket[1m])))",
       "histogram_quantile(0.95, sum by (le) (rate(x_bucket[1m])))"},
      {"histogram_quantile(0.9, sum(rate(x_bucket[5m])) by (le, model))",
       "histogram_quantile(0.9, sum by (le, model) (rate(x_bucket[5m])))"},
      {"foo # a comment\n * 2", "(foo * 2)"},
      {"sum", "sum"}, /* a metric that happens to be called sum */
  };
  for (size_t i = 0; i < N_ELEMS(cases); i++) {
    struct ss_promql *p = NULL;
    struct ss_error err = {0};
    int rc = ss_promql_parse(cases[i].q, &p, &err);
    if (rc)
      print_error("case %zu %s: %s\n", i, cases[i].q, err.msg);
    assert_int_equal(rc, SS_EOK);
    char buf[512];
    size_t need = ss_promql_format(p, buf, sizeof buf);
    assert_int_equal(need, strlen(buf));
    if (strcmp(buf, cases[i].want) != 0)
      print_error("case %zu %s\n  want %s\n  got  %s\n", i, cases[i].q, cases[i].want, buf);
    assert_string_equal(buf, cases[i].want);
    ss_promql_free(p);
  }
}

static void test_parse_result_types(void **state) {
  (void)state;
  static const struct {
    const char *q;
    enum ss_promql_type want;
  } cases[] = {
      {"1", SS_PROMQL_SCALAR},         {"(1 + 2) * 3", SS_PROMQL_SCALAR},
      {"foo", SS_PROMQL_VECTOR},       {"1 - foo", SS_PROMQL_VECTOR},
      {"sum(foo)", SS_PROMQL_VECTOR},  {"rate(foo[1m])", SS_PROMQL_VECTOR},
  };
  for (size_t i = 0; i < N_ELEMS(cases); i++) {
    struct ss_promql *p = NULL;
    assert_int_equal(ss_promql_parse(cases[i].q, &p, NULL), SS_EOK);
    assert_int_equal(ss_promql_result_type(p), cases[i].want);
    ss_promql_free(p);
  }
}

static void test_parse_format_truncates_and_reports_length(void **state) {
  (void)state;
  struct ss_promql *p = NULL;
  assert_int_equal(ss_promql_parse("sum by (a) (foo)", &p, NULL), SS_EOK);
  char buf[8];
  assert_int_equal(ss_promql_format(p, buf, sizeof buf), strlen("sum by (a) (foo)"));
  assert_string_equal(buf, "sum by ");
  ss_promql_free(p);
}

static void test_parse_rejections_name_feature_and_column(void **state) {
  (void)state;
  static const struct {
    const char *q;
    enum ss_err code;
    unsigned col;
    const char *msg; /* exact, or a prefix when it ends in '*' */
  } cases[] = {
      {"absent(foo)", SS_EUNSUPPORTED, 1, "unsupported function \"absent\" at column 1"},
      {"label_replace(foo, \"a\", \"b\", \"c\", \"d\")", SS_EUNSUPPORTED, 1,
       "unsupported function \"label_replace\" at column 1"},
      {"frobnicate(foo)", SS_ESYNTAX, 1, "unknown function \"frobnicate\" at column 1"},
      {"rate(foo[5m] offset 1m)", SS_EUNSUPPORTED, 14,
       "unsupported modifier \"offset\" at column 14"},
      {"foo offset 5m", SS_EUNSUPPORTED, 5, "unsupported modifier \"offset\" at column 5"},
      {"foo @ 1609746000", SS_EUNSUPPORTED, 5, "unsupported modifier \"@\" at column 5"},
      {"rate(foo[5m:1m])", SS_EUNSUPPORTED, 9, "unsupported subquery at column 9"},
      {"rate(foo[1m])[5m:1m]", SS_EUNSUPPORTED, 14, "unsupported subquery at column 14"},
      {"foo + bar", SS_EUNSUPPORTED, 5,
       "unsupported vector-vector operation \"+\" (one side must be a scalar) at column 5"},
      {"sum(a) / sum(b)", SS_EUNSUPPORTED, 8,
       "unsupported vector-vector operation \"/\" (one side must be a scalar) at column 8"},
      {"foo > 1", SS_EUNSUPPORTED, 5, "unsupported binary operator \">\" at column 5"},
      {"foo and bar", SS_EUNSUPPORTED, 5, "unsupported binary operator \"and\" at column 5"},
      {"foo * on(a) 2", SS_EUNSUPPORTED, 7, "unsupported modifier \"on\" at column 7"},
      {"topk(3, foo)", SS_EUNSUPPORTED, 1, "unsupported aggregation \"topk\" at column 1"},
      {"quantile by (a) (0.9, foo)", SS_EUNSUPPORTED, 1,
       "unsupported aggregation \"quantile\" at column 1"},
      {"\"x\"", SS_EUNSUPPORTED, 1, "unsupported string literal at column 1"},
      {"foo[1m]", SS_EUNSUPPORTED, 1,
       "unsupported range vector result: wrap the range in rate(), irate() or increase() at "
       "column 1"},
      {"foo{a=\"b\"", SS_ESYNTAX, 10,
       "unexpected end of input, expected \",\" or \"}\" at column 10"},
      {"sum(foo", SS_ESYNTAX, 8, "unexpected end of input, expected \")\" at column 8"},
      {"foo{a=b}", SS_ESYNTAX, 7,
       "unexpected identifier \"b\", expected a quoted label value at column 7"},
      {"foo{a==\"b\"}", SS_ESYNTAX, 6,
       "unexpected \"==\", expected a label matcher (=, !=, =~, !~) at column 6"},
      {"foo}", SS_ESYNTAX, 4, "unexpected \"}\" at column 4"},
      {"1 +", SS_ESYNTAX, 4, "unexpected end of input at column 4"},
      {"", SS_ESYNTAX, 1, "empty query at column 1"},
      {"foo $", SS_ESYNTAX, 5, "unexpected character \"$\" at column 5"},
      {"foo{a=\"b}", SS_ESYNTAX, 7, "unterminated string at column 7"},
      {"foo{a=\"\\q\"}", SS_ESYNTAX, 8, "unknown escape sequence \"\\q\" at column 8"},
      {"rate(foo)", SS_ESYNTAX, 6,
       "expected type range vector as argument 1 of function \"rate\", got instant vector at "
       "column 6"},
      {"rate(foo[1m], 1)", SS_ESYNTAX, 15,
       "too many arguments to function \"rate\": want 1 at column 15"},
      {"histogram_quantile(0.5)", SS_ESYNTAX, 23,
       "too few arguments to function \"histogram_quantile\": got 1, want 2 at column 23"},
      {"histogram_quantile(foo, bar)", SS_ESYNTAX, 20,
       "expected type scalar as argument 1 of function \"histogram_quantile\", got instant "
       "vector at column 20"},
      {"sum(foo[1m])", SS_ESYNTAX, 5,
       "expected type instant vector in aggregation \"sum\", got range vector at column 5"},
      {"sum(1)", SS_ESYNTAX, 5,
       "expected type instant vector in aggregation \"sum\", got scalar at column 5"},
      {"sum by (a) (foo) by (b)", SS_ESYNTAX, 18, "unexpected identifier \"by\" at column 18"},
      {"{a=\"\"}", SS_ESYNTAX, 1,
       "vector selector must contain at least one non-empty matcher at column 1"},
      {"{a=~\".*\"}", SS_ESYNTAX, 1,
       "vector selector must contain at least one non-empty matcher at column 1"},
      {"foo{__name__=\"bar\"}", SS_ESYNTAX, 5, "metric name must not be set twice at column 5"},
      {"foo{a=~\"(\"}", SS_ESYNTAX, 8, "bad regular expression \"(\": *"},
      {"rate(foo[0s])", SS_ESYNTAX, 10, "zero range at column 10"},
      {"rate(foo[5x])", SS_ESYNTAX, 11,
       "bad duration: missing unit (ms, s, m, h, d, w, y) at column 11"},
      {"(foo)[1m]", SS_ESYNTAX, 6, "ranges only allowed for vector selectors at column 6"},
      {"-foo[1m]", SS_ESYNTAX, 1,
       "unary expression only allowed on expressions of type scalar or instant vector at "
       "column 1"},
  };
  for (size_t i = 0; i < N_ELEMS(cases); i++) {
    struct ss_promql *p = (struct ss_promql *)&p; /* must be reset to NULL */
    struct ss_error err = {0};
    int rc = ss_promql_parse(cases[i].q, &p, &err);
    if (rc != (int)cases[i].code || err.col != cases[i].col)
      print_error("case %zu %s: rc %d col %u msg %s\n", i, cases[i].q, rc, err.col, err.msg);
    assert_int_equal(rc, cases[i].code);
    assert_int_equal(err.code, cases[i].code);
    assert_null(p);
    assert_int_equal(err.col, cases[i].col);
    size_t len = strlen(cases[i].msg);
    if (cases[i].msg[len - 1] == '*') {
      if (strncmp(err.msg, cases[i].msg, len - 1) != 0)
        print_error("case %zu: want prefix %s\n got %s\n", i, cases[i].msg, err.msg);
      assert_true(strncmp(err.msg, cases[i].msg, len - 1) == 0);
    } else {
      assert_string_equal(err.msg, cases[i].msg);
    }
  }
}

static void test_parse_limits(void **state) {
  (void)state;
  /* nesting past SS_PROMQL_DEPTH_MAX */
  char deep[2 * 200 + 2];
  size_t n = 0;
  for (int i = 0; i < 200; i++)
    deep[n++] = '(';
  deep[n++] = '1';
  for (int i = 0; i < 200; i++)
    deep[n++] = ')';
  deep[n] = '\0';
  struct ss_promql *p = NULL;
  struct ss_error err = {0};
  assert_int_equal(ss_promql_parse(deep, &p, &err), SS_ELIMIT);
  assert_null(p);
  assert_non_null(strstr(err.msg, "nested too deeply"));
  /* a query longer than SS_PROMQL_QUERY_MAX */
  char *long_q = malloc(SS_PROMQL_QUERY_MAX + 2);
  assert_non_null(long_q);
  memset(long_q, 'a', SS_PROMQL_QUERY_MAX + 1);
  long_q[SS_PROMQL_QUERY_MAX + 1] = '\0';
  assert_int_equal(ss_promql_parse(long_q, &p, &err), SS_ELIMIT);
  /* exactly the limit is fine */
  long_q[SS_PROMQL_QUERY_MAX] = '\0';
  assert_int_equal(ss_promql_parse(long_q, &p, &err), SS_EOK);
  ss_promql_free(p);
  free(long_q);
  /* within the depth limit is fine */
  assert_int_equal(ss_promql_parse("((((((((((1))))))))))", &p, &err), SS_EOK);
  ss_promql_free(p);
  ss_promql_free(NULL);
}

/* ---- evaluation ---- */

static void test_eval_table(void **state) {
  static const struct {
    const char *q;
    const char *want;
  } cases[] = {
      /* rate over a steady counter: 13 samples in [T-60s, T] (both ends
       * included), 700 -> 1300, on the range's ends so nothing to
       * extrapolate: 600/60 = the slope, 10/s */
      {"rate(req_total{instance=\"a\"}[1m])", "{instance=\"a\",job=\"api\"} 10"},
      /* increase = rate * range = 600 */
      {"increase(req_total{instance=\"a\"}[1m])", "{instance=\"a\",job=\"api\"} 600"},
      /* 2 m: 25 samples, 1200 over 120 s */
      {"rate(req_total{instance=\"a\"}[2m])", "{instance=\"a\",job=\"api\"} 10"},
      /* counter reset: 50 -> 80, reset to 3, -> 28: the drop adds back 80:
       * 28 - 50 + 80 = 58 over 60 s; the zero point 60*50/58 = 51.7 s back
       * is past the range start (0 s away), so no change: 58/60 */
      {"rate(req_total{instance=\"b\"}[1m])", "{instance=\"b\",job=\"api\"} 0.9666666667"},
      {"increase(req_total{instance=\"b\"}[1m])", "{instance=\"b\",job=\"api\"} 58"},
      /* irate: the last two samples, 23 -> 28 in 5 s */
      {"irate(req_total{instance=\"b\"}[1m])", "{instance=\"b\",job=\"api\"} 1"},
      {"irate(req_total{instance=\"a\"}[30s])", "{instance=\"a\",job=\"api\"} 10"},
      /* the seed's query: 4/s for classifier, the other model left out */
      {"rate(seldon_api_executor_client_requests_seconds_count{model_name=\"classifier\"}[1m])",
       "{deployment_name=\"seldon-model\",model_name=\"classifier\"} 4"},
      /* extrapolation: a series starting 30 s into the 60 s range: 7
       * samples, 100 -> 160, avg step 5 s, threshold 5.5 s; 30 s to the
       * start >= 5.5, so only half a step (2.5 s); zero point 30*100/60 = 50 s
       * back, farther. increase = 60 * (30 + 2.5 + 0) / 30 = 65; rate 65/60 */
      {"increase(ext_total{case=\"late_start\"}[1m])", "{case=\"late_start\"} 65"},
      {"rate(ext_total{case=\"late_start\"}[1m])", "{case=\"late_start\"} 1.083333333"},
      /* near zero: 1 -> 51 at T-57..T-7 every 10 s; 3 s to the start, but
       * the counter was 0 only 50*1/50 = 1 s before the first sample, so 1 s;
       * 7 s to the end < 11: all of it. 50 * (50 + 1 + 7) / 50 = 58 */
      {"increase(ext_total{case=\"near_zero\"}[1m])", "{case=\"near_zero\"} 58"},
      /* stops early: 0 -> 20 at T-60..T-40; the zero point is the first
       * sample (0 s); 40 s to the end >= 5.5: half a step, 2.5 s:
       * 20 * (20 + 0 + 2.5) / 20 = 22.5, rate 22.5/60 = 0.375 */
      {"increase(ext_total{case=\"stops_early\"}[1m])", "{case=\"stops_early\"} 22.5"},
      {"rate(ext_total{case=\"stops_early\"}[1m])", "{case=\"stops_early\"} 0.375"},
      /* the 1.1 allowance: samples every 10 s at T-50..T-10, 10 s from each
       * end; 10 < 1.1 * 10, so both ends are reached: 40 * 60/40 = 60 */
      {"increase(ext_total{case=\"threshold\"}[1m])", "{case=\"threshold\"} 60"},
      /* the zero point when the start is far: 8 -> 38 at T-30..T every 10 s;
       * 30 s to the start, but zero 30 * 8/30 = 8 s back; 8 < 11, so 8 s
       * (Prometheus 2.42 takes the zero point before the threshold test;
       * 2.49+ would cap at half a step first, giving 35):
       * 30 * (30 + 8) / 30 = 38 */
      {"increase(ext_total{case=\"zero_point\"}[1m])", "{case=\"zero_point\"} 38"},
      /* one sample: no rate */
      {"rate(ext_total{case=\"one_sample\"}[1m])", ""},
      {"irate(ext_total{case=\"one_sample\"}[1m])", ""},
      /* selectors and matchers; raw selectors keep the metric name */
      {"temp{dc=\"x\"}",
       "{__name__=\"temp\",dc=\"x\",host=\"h1\",rack=\"r1\"} 1; "
       "{__name__=\"temp\",dc=\"x\",host=\"h2\",rack=\"r2\"} 4"},
      {"temp{host=~\"h[12]\", rack!=\"r1\"}",
       "{__name__=\"temp\",dc=\"x\",host=\"h2\",rack=\"r2\"} 4"},
      {"temp{host!~\"h1|h2|h3\"}",
       "{__name__=\"temp\",dc=\"y\",host=\"h4\",rack=\"r2\"} 20"},
      /* regexes are anchored: "h" matches no host, "h.*" all */
      {"count(temp{host=~\"h\"})", ""},
      {"count(temp{host=~\"1\"})", ""},
      {"count(temp{host=~\"h.*\"})", "{} 4"},
      {"count({__name__=~\"tem.\", dc=\"y\"})", "{} 2"},
      /* a missing label equals "": an empty-valued label is no label */
      {"count(temp{zone=\"\"})", "{} 4"},
      {"count(temp{empty=\"\"})", "{} 4"},
      {"count(temp{zone!=\"\"})", ""},
      /* lookback: the newest sample within 5 m, both ends included */
      {"old", "{__name__=\"old\",age=\"300s\"} 2"},
      {"future", ""},
      {"nothing", ""},
      {"rate(nothing[1m])", ""},
      /* aggregations */
      {"sum(temp)", "{} 35"},
      {"sum by (dc) (temp)", "{dc=\"x\"} 5; {dc=\"y\"} 30"},
      {"sum(temp) by (dc)", "{dc=\"x\"} 5; {dc=\"y\"} 30"},
      {"avg without (host, rack) (temp)", "{dc=\"x\"} 2.5; {dc=\"y\"} 15"},
      {"avg(temp) without (host, rack)", "{dc=\"x\"} 2.5; {dc=\"y\"} 15"},
      {"min(temp)", "{} 1"},
      {"max by (rack) (temp)", "{rack=\"r1\"} 10; {rack=\"r2\"} 20"},
      {"min without (host, dc) (temp)", "{rack=\"r1\"} 1; {rack=\"r2\"} 4"},
      {"count by (dc) (temp)", "{dc=\"x\"} 2; {dc=\"y\"} 2"},
      {"count by (nosuch) (temp)", "{} 4"},
      {"sum without () (temp{host=\"h1\"})", "{dc=\"x\",host=\"h1\",rack=\"r1\"} 1"},
      {"sum by (job) (rate(req_total[1m]))", "{job=\"api\"} 10.96666667"},
      /* NaN: min and max take a number over NaN, sum does not */
      {"max(nanval)", "{} 3"},
      {"min(nanval)", "{} 3"},
      {"sum(nanval)", "{} nan"},
      /* scalar arithmetic */
      {"1 + 2 * 3", "scalar 7"},
      {"(1 + 2) * 3", "scalar 9"},
      {"2 ^ 3 ^ 2", "scalar 512"},
      {"-2 ^ 2", "scalar -4"},
      {"10 / 4 - 1", "scalar 1.5"},
      {"7 % 4", "scalar 3"},
      {"1 / 0", "scalar inf"},
      {"sum(temp) / 5", "{} 7"},
      {"100 - sum(temp)", "{} 65"},
      {"rate(req_total{instance=\"a\"}[1m]) * 60", "{instance=\"a\",job=\"api\"} 600"},
      /* arithmetic drops the metric name */
      {"temp{host=\"h1\"} * 2", "{dc=\"x\",host=\"h1\",rack=\"r1\"} 2"},
      {"2 - temp{host=\"h2\"}", "{dc=\"x\",host=\"h2\",rack=\"r2\"} -2"},
      {"-temp{host=\"h1\"}", "{dc=\"x\",host=\"h1\",rack=\"r1\"} -1"},
      /* histogram_quantile over per-second bucket rates m1 (cumulative)
       * 0.1:2 0.5:6 1:8 +Inf:10. q=0.5: rank 5 falls in (0.1, 0.5] holding
       * 4 of them, 3 into it: 0.1 + 0.4 * 3/4 = 0.4 */
      {"histogram_quantile(0.5, sum by (le) (rate(lat_bucket{model=\"m1\"}[1m])))", "{} 0.4"},
      /* q=0.1: rank 1 in the first bucket, from 0: 0.1 * 1/2 = 0.05 */
      {"histogram_quantile(0.1, sum by (le) (rate(lat_bucket{model=\"m1\"}[1m])))", "{} 0.05"},
      /* q=0.75: rank 7.5 in (0.5, 1] holding 2, 1.5 into it: 0.875 */
      {"histogram_quantile(0.75, sum by (le) (rate(lat_bucket{model=\"m1\"}[1m])))",
       "{} 0.875"},
      /* q=0.9: rank 9 in the +Inf bucket: the highest finite bound, 1 */
      {"histogram_quantile(0.9, sum by (le) (rate(lat_bucket{model=\"m1\"}[1m])))", "{} 1"},
      /* both models summed: 0.1:2 0.5:6 1:13 +Inf:15; rank 7.5 in (0.5, 1]
       * holding 7, 1.5 into it: 0.5 + 0.5 * 1.5/7 = 0.6071428571 */
      {"histogram_quantile(0.5, sum by (le) (rate(lat_bucket[1m])))", "{} 0.6071428571"},
      /* per model (grouped by every label but le): m2 0:0 0.5:0 1:5 +Inf:5,
       * rank 2.5 in (0.5, 1]: 0.5 + 0.5 * 2.5/5 = 0.75 */
      {"histogram_quantile(0.5, rate(lat_bucket[1m]))", "{model=\"m1\"} 0.4; {model=\"m2\"} 0.75"},
      {"histogram_quantile(2 / 4, sum by (le, model) (rate(lat_bucket[1m])))",
       "{model=\"m1\"} 0.4; {model=\"m2\"} 0.75"},
      {"histogram_quantile(1.5, sum by (le) (rate(lat_bucket{model=\"m1\"}[1m])))", "{} inf"},
      {"histogram_quantile(-1, sum by (le) (rate(lat_bucket{model=\"m1\"}[1m])))", "{} -inf"},
      /* no +Inf bucket: NaN */
      {"histogram_quantile(0.5, sum by (le) (rate(lat_bucket{model=\"m1\",le!=\"+Inf\"}[1m])))",
       "{} nan"},
      /* no observations: NaN */
      {"histogram_quantile(0.5, sum by (le) (rate(lat_bucket{model=\"m2\",le=~\"0.1|\\\\+Inf\"}[1m])) * 0)",
       "{} nan"},
      /* no le label: nothing */
      {"histogram_quantile(0.5, temp)", ""},
  };
  char got[2048];
  for (size_t i = 0; i < N_ELEMS(cases); i++) {
    struct ss_promql_result *r = eval_ok(*state, cases[i].q, T);
    result_text(r, got, sizeof got);
    if (strcmp(got, cases[i].want) != 0)
      print_error("case %zu %s\n  want %s\n  got  %s\n", i, cases[i].q, cases[i].want, got);
    assert_string_equal(got, cases[i].want);
    ss_promql_result_free(r);
  }
}

/* At T-25 s the reset is the newest sample: irate is the value after it
 * over the 5 s step, 3/5. */
static void test_eval_irate_across_a_reset(void **state) {
  struct ss_promql_result *r = eval_ok(*state, "irate(req_total{instance=\"b\"}[1m])", S(-25));
  assert_int_equal(r->n, 1);
  assert_near(r->elems[0].v, 0.6, 1e-12);
  ss_promql_result_free(r);
}

/* Evaluated at T+2.5 s, req_total{instance="a"} has 12 samples in
 * [T-57.5 s, T+2.5 s] (T-55..T), 550 apart over 55 s; each end is 2.5 s
 * away, under 1.1 steps (5.5 s), so both are reached: 550 * 60/55 = 600. */
static void test_eval_rate_extrapolates_to_both_ends(void **state) {
  struct ss_promql_result *r =
      eval_ok(*state, "increase(req_total{instance=\"a\"}[1m])", T + 2500);
  assert_int_equal(r->n, 1);
  assert_near(r->elems[0].v, 600, 1e-9);
  ss_promql_result_free(r);
}

static void test_eval_duplicate_labelsets_rejected(void **state) {
  struct ss_promql *p = NULL;
  struct ss_error err = {0};
  assert_int_equal(ss_promql_parse("rate({__name__=~\"dup_.\"}[1m])", &p, &err), SS_EOK);
  struct ss_promql_source src = {fake_each, *state};
  struct ss_promql_result *r = (struct ss_promql_result *)&r;
  assert_int_equal(ss_promql_eval(p, &src, T, &r, &err), SS_EINVALID);
  assert_null(r);
  assert_string_equal(err.msg, "vector cannot contain metrics with the same labelset");
  /* with their names kept, they are two series */
  ss_promql_free(p);
  r = eval_ok(*state, "count({__name__=~\"dup_.\"})", T);
  assert_int_equal(r->n, 1);
  assert_near(r->elems[0].v, 2, 0);
  ss_promql_result_free(r);
}

/* ---- KEDA's single value ---- */

static void test_single_value_keda_rules(void **state) {
  static const struct {
    const char *q;
    bool ignore_null;
    enum ss_err code;
    double want;
  } cases[] = {
      {"rate(req_total{instance=\"a\"}[1m])", true, SS_EOK, 10},
      {"rate(req_total{instance=\"a\"}[1m])", false, SS_EOK, 10},
      {"sum(temp)", false, SS_EOK, 35},
      {"2 * 3", false, SS_EOK, 6}, /* a scalar is one value */
      /* empty: 0 when ignoreNullValues, else an error */
      {"nothing", true, SS_EOK, 0},
      {"nothing", false, SS_ENOTFOUND, 0},
      /* more than one series: an error either way */
      {"temp", true, SS_EINVALID, 0},
      {"temp", false, SS_EINVALID, 0},
      /* NaN and Inf are read as empty */
      {"nanval{k=\"1\"}", true, SS_EOK, 0},
      {"nanval{k=\"1\"}", false, SS_ENOTFOUND, 0},
      {"temp{host=\"h1\"} / 0", true, SS_EOK, 0},
      {"temp{host=\"h1\"} / 0", false, SS_ENOTFOUND, 0},
      {"-1 / 0", false, SS_ENOTFOUND, 0},
      {"0 / 0", true, SS_EOK, 0},
      {"temp{host=\"h1\"} - 5", false, SS_EOK, -4},
  };
  for (size_t i = 0; i < N_ELEMS(cases); i++) {
    struct ss_promql_result *r = eval_ok(*state, cases[i].q, T);
    struct ss_error err = {0};
    double v = -12345;
    int rc = ss_promql_single_value(r, cases[i].ignore_null, &v, &err);
    if (rc != (int)cases[i].code)
      print_error("case %zu %s: rc %d %s\n", i, cases[i].q, rc, err.msg);
    assert_int_equal(rc, cases[i].code);
    if (rc == SS_EOK)
      assert_near(v, cases[i].want, 1e-9);
    else
      assert_true(err.msg[0] != '\0');
    ss_promql_result_free(r);
  }
}

/* ---- the registry's window as the source ---- */

static void test_metrics_source_answers_the_seed_query(void **state) {
  (void)state;
  struct ss_metrics *m = ss_metrics_new();
  assert_non_null(m);
  static const char *const labels[] = {"model_name"};
  assert_int_equal(ss_metrics_family(m, "seldon_api_executor_client_requests_seconds",
                                     SS_METRIC_HISTOGRAM, "help", labels, 1, NULL, 0),
                   SS_EOK);
  static const char *const classifier[] = {"classifier"}, *const other[] = {"other"};
  struct ss_series *c = ss_metrics_series(m, "seldon_api_executor_client_requests_seconds",
                                          classifier);
  struct ss_series *o = ss_metrics_series(m, "seldon_api_executor_client_requests_seconds",
                                          other);
  assert_non_null(c);
  assert_non_null(o);
  /* 10 requests of 20 ms to classifier and 1 of 2 s to other every 5 s,
   * sampled from T-60 s to T: 13 samples, counts 10..130 */
  for (int t = -60; t <= 0; t += 5) {
    for (int i = 0; i < 10; i++)
      ss_series_observe(c, 0.02);
    ss_series_observe(o, 2);
    ss_metrics_sample(m, S(t));
  }
  struct ss_promql_source src = ss_promql_metrics_source(m);
  static const struct {
    const char *q;
    double want;
  } cases[] = {
      /* 120 more over 60 s, samples on both ends: 2/s */
      {"rate(seldon_api_executor_client_requests_seconds_count{model_name=\"classifier\"}[1m])",
       2},
      {"sum(rate(seldon_api_executor_client_requests_seconds_count[1m]))", 2.2},
      /* every classifier request is in (0.01, 0.025]: the median is
       * 0.01 + 0.015 * (1/2) = 0.0175 */
      {"histogram_quantile(0.5, sum by (le) (rate(seldon_api_executor_client_requests_seconds_"
       "bucket{model_name=\"classifier\"}[1m])))",
       0.0175},
      /* 0.02 per request: sum rate / count rate */
      {"sum(rate(seldon_api_executor_client_requests_seconds_sum{model_name=\"classifier\"}[1m]))"
       " / 2",
       0.02},
  };
  for (size_t i = 0; i < N_ELEMS(cases); i++) {
    struct ss_promql *p = NULL;
    struct ss_error err = {0};
    assert_int_equal(ss_promql_parse(cases[i].q, &p, &err), SS_EOK);
    struct ss_promql_result *r = NULL;
    assert_int_equal(ss_promql_eval(p, &src, T, &r, &err), SS_EOK);
    double v = -1;
    int rc = ss_promql_single_value(r, false, &v, &err);
    if (rc || fabs(v - cases[i].want) > 1e-9)
      print_error("case %zu %s: rc %d v %g (%s)\n", i, cases[i].q, rc, v, err.msg);
    assert_int_equal(rc, SS_EOK);
    assert_near(v, cases[i].want, 1e-9);
    ss_promql_result_free(r);
    ss_promql_free(p);
  }
  ss_metrics_free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_constructs_canonical_form),
      cmocka_unit_test(test_parse_result_types),
      cmocka_unit_test(test_parse_format_truncates_and_reports_length),
      cmocka_unit_test(test_parse_rejections_name_feature_and_column),
      cmocka_unit_test(test_parse_limits),
      cmocka_unit_test_setup(test_eval_table, setup_db),
      cmocka_unit_test_setup(test_eval_irate_across_a_reset, setup_db),
      cmocka_unit_test_setup(test_eval_rate_extrapolates_to_both_ends, setup_db),
      cmocka_unit_test_setup(test_eval_duplicate_labelsets_rejected, setup_db),
      cmocka_unit_test_setup(test_single_value_keda_rules, setup_db),
      cmocka_unit_test(test_metrics_source_answers_the_seed_query),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
