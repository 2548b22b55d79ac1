/* test_metrics.c: unit tests for src/metrics/ (registry.c, expose.c,
 * window.c, process.c): exact exposition text, escaping, Seldon's buckets,
 * concurrent observations, the window, released series, limits, and
 * promtool's verdict on the exposition (and on `servescale
 * prometheus-config` when the binary is known). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "metrics/metrics.h"

#define N_ELEMS(a) (sizeof(a) / sizeof *(a))

/* The exposition without the process_* families, whose values vary. */
static char *expose_no_process(struct ss_metrics *m) {
  char *text = ss_metrics_expose(m);
  assert_non_null(text);
  char *out = malloc(strlen(text) + 1);
  assert_non_null(out);
  size_t n = 0;
  for (char *line = text; *line;) {
    char *nl = strchr(line, '\n');
    size_t len = nl ? (size_t)(nl - line) + 1 : strlen(line);
    if (strncmp(line, "process_", 8) != 0 && strncmp(line, "# HELP process_", 15) != 0 &&
        strncmp(line, "# TYPE process_", 15) != 0) {
      memcpy(out + n, line, len);
      n += len;
    }
    line += len;
  }
  out[n] = '\0';
  free(text);
  return out;
}

static void assert_text(const char *got, const char *want) {
  if (strcmp(got, want) != 0) {
    print_error("exposition differs\n--- want\n%s--- got\n%s---\n", want, got);
    fail();
  }
}

/* ---- exposition ---- */

static void test_expose_small_registry_exact(void **state) {
  (void)state;
  struct ss_metrics *m = ss_metrics_new();
  assert_non_null(m);
  static const char *const req_labels[] = {"method", "code"};
  static const double bounds[] = {0.1, 1, 2.5};
  assert_int_equal(ss_metrics_family(m, "ss_test_requests_total", SS_METRIC_COUNTER,
                                     "Requests handled.", req_labels, 2, NULL, 0), SS_EOK);
  assert_int_equal(ss_metrics_family(m, "ss_test_inflight", SS_METRIC_GAUGE,
                                     "Requests in flight.", NULL, 0, NULL, 0), SS_EOK);
  assert_int_equal(ss_metrics_family(m, "ss_test_latency_seconds", SS_METRIC_HISTOGRAM,
                                     "Latency.", req_labels + 1, 1, bounds, 3), SS_EOK);
  /* idempotent */
  assert_int_equal(ss_metrics_family(m, "ss_test_latency_seconds", SS_METRIC_HISTOGRAM,
                                     "Latency.", req_labels + 1, 1, bounds, 3), SS_EOK);

  const char *a[] = {"post", "200"}, *b[] = {"get", "500"}, *c[] = {"post", "500"};
  struct ss_series *sa = ss_metrics_series(m, "ss_test_requests_total", a);
  struct ss_series *sb = ss_metrics_series(m, "ss_test_requests_total", b);
  struct ss_series *sc = ss_metrics_series(m, "ss_test_requests_total", c);
  assert_non_null(sa);
  assert_ptr_equal(sa, ss_metrics_series(m, "ss_test_requests_total", a));
  ss_series_inc(sa, 3);
  ss_series_inc(sb, 1);
  ss_series_inc(sc, 0.5);
  ss_series_inc(sa, -1);    /* ignored: counters never go down */
  ss_series_set(sa, 100);   /* ignored: not a gauge */
  ss_series_observe(sa, 1); /* ignored: not a histogram */

  struct ss_series *g = ss_metrics_series(m, "ss_test_inflight", NULL);
  ss_series_set(g, 7);
  ss_series_add(g, -2);
  ss_series_inc(g, 0.25);

  const char *ok[] = {"200"}, *bad[] = {"503"};
  struct ss_series *h = ss_metrics_series(m, "ss_test_latency_seconds", ok);
  struct ss_series *h2 = ss_metrics_series(m, "ss_test_latency_seconds", bad);
  ss_series_observe(h, 0.05);
  ss_series_observe(h, 0.1); /* le is inclusive */
  ss_series_observe(h, 2);
  ss_series_observe(h, 30);
  ss_series_observe(h2, 1.5);

  char *text = expose_no_process(m);
  assert_text(text,
              "# HELP ss_test_inflight Requests in flight.\n"
              "# TYPE ss_test_inflight gauge\n"
              "ss_test_inflight 5.25\n"
              "# HELP ss_test_latency_seconds Latency.\n"
              "# TYPE ss_test_latency_seconds histogram\n"
              "ss_test_latency_seconds_bucket{code=\"200\",le=\"0.1\"} 2\n"
              "ss_test_latency_seconds_bucket{code=\"200\",le=\"1\"} 2\n"
              "ss_test_latency_seconds_bucket{code=\"200\",le=\"2.5\"} 3\n"
              "ss_test_latency_seconds_bucket{code=\"200\",le=\"+Inf\"} 4\n"
              "ss_test_latency_seconds_sum{code=\"200\"} 32.15\n"
              "ss_test_latency_seconds_count{code=\"200\"} 4\n"
              "ss_test_latency_seconds_bucket{code=\"503\",le=\"0.1\"} 0\n"
              "ss_test_latency_seconds_bucket{code=\"503\",le=\"1\"} 0\n"
              "ss_test_latency_seconds_bucket{code=\"503\",le=\"2.5\"} 1\n"
              "ss_test_latency_seconds_bucket{code=\"503\",le=\"+Inf\"} 1\n"
              "ss_test_latency_seconds_sum{code=\"503\"} 1.5\n"
              "ss_test_latency_seconds_count{code=\"503\"} 1\n"
              "# HELP ss_test_requests_total Requests handled.\n"
              "# TYPE ss_test_requests_total counter\n"
              "ss_test_requests_total{method=\"get\",code=\"500\"} 1\n"
              "ss_test_requests_total{method=\"post\",code=\"200\"} 3\n"
              "ss_test_requests_total{method=\"post\",code=\"500\"} 0.5\n");
  free(text);
  ss_metrics_free(m);
}

static void test_expose_float_formats(void **state) {
  (void)state;
  static const struct {
    double v;
    const char *text;
  } cases[] = {
      {0, "0"},          {1, "1"},           {-1, "-1"},          {0.005, "0.005"},
      {2.5, "2.5"},      {0.1, "0.1"},       {1e6, "1000000"},    {123456789, "123456789"},
      {1e-5, "1e-05"},   {1e20, "1e+20"},    {INFINITY, "+Inf"},  {-INFINITY, "-Inf"},
      {NAN, "NaN"},      {1.0 / 3, "0.3333333333333333"},         {0.1 + 0.2, "0.30000000000000004"},
  };
  struct ss_metrics *m = ss_metrics_new();
  assert_non_null(m);
  for (size_t i = 0; i < N_ELEMS(cases); i++) {
    char name[32], want[128];
    snprintf(name, sizeof name, "ss_test_g%02zu", i);
    assert_int_equal(ss_metrics_family(m, name, SS_METRIC_GAUGE, "g", NULL, 0, NULL, 0), SS_EOK);
    ss_series_set(ss_metrics_series(m, name, NULL), cases[i].v);
    char *text = expose_no_process(m);
    snprintf(want, sizeof want, "\n%s %s\n", name, cases[i].text);
    if (!strstr(text, want)) {
      print_error("%g: want \"%s\" in\n%s", cases[i].v, want + 1, text);
      fail();
    }
    free(text);
  }
  ss_metrics_free(m);
}

static void test_expose_escapes_label_values_and_help(void **state) {
  (void)state;
  struct ss_metrics *m = ss_metrics_new();
  static const char *const labels[] = {"path"};
  assert_int_equal(ss_metrics_family(m, "ss_test_esc_total", SS_METRIC_COUNTER,
                                     "A \\ backslash\nand a \"quote\".", labels, 1, NULL, 0),
                   SS_EOK);
  const char *v[] = {"a\\b\"c\nd"};
  ss_series_inc(ss_metrics_series(m, "ss_test_esc_total", v), 1);
  char *text = expose_no_process(m);
  /* HELP escapes backslash and newline only; label values also quotes */
  assert_text(text, "# HELP ss_test_esc_total A \\\\ backslash\\nand a \"quote\".\n"
                    "# TYPE ss_test_esc_total counter\n"
                    "ss_test_esc_total{path=\"a\\\\b\\\"c\\nd\"} 1\n");
  free(text);
  ss_metrics_free(m);
}

/* Seldon's executor buckets, cumulative, with the seed's label set. */
static void test_expose_seldon_buckets_cumulative(void **state) {
  (void)state;
  struct ss_metrics *m = ss_metrics_new();
  static const char *const labels[] = {"deployment_name", "predictor_name", "predictor_version",
                                       "service", "method", "code", "model_name", "model_image",
                                       "model_version"};
  assert_int_equal(ss_metrics_family(m, "seldon_api_executor_client_requests_seconds",
                                     SS_METRIC_HISTOGRAM, "Calls to graph nodes, in seconds",
                                     labels, 9, NULL, 0), SS_EOK);
  const char *v[] = {"seldon-model", "example", "", "/predict", "post", "200",
                     "classifier", "seldonio/mock_classifier", "1.5.0"};
  struct ss_series *s = ss_metrics_series(m, "seldon_api_executor_client_requests_seconds", v);
  static const double obs[] = {0.001, 0.005, 0.006, 0.07, 0.3, 0.3, 1, 9, 10, 11};
  for (size_t i = 0; i < N_ELEMS(obs); i++)
    ss_series_observe(s, obs[i]);
  char *text = expose_no_process(m);
  static const struct {
    const char *le;
    int cum;
  } want[] = {{"0.005", 2}, {"0.01", 3}, {"0.025", 3}, {"0.05", 3}, {"0.075", 4},
              {"0.1", 4},   {"0.25", 4}, {"0.5", 6},   {"0.75", 6}, {"1", 7},
              {"2.5", 7},   {"5", 7},    {"7.5", 7},   {"10", 9},   {"+Inf", 10}};
  static const char prefix[] =
      "seldon_api_executor_client_requests_seconds_bucket{deployment_name=\"seldon-model\","
      "predictor_name=\"example\",predictor_version=\"\",service=\"/predict\",method=\"post\","
      "code=\"200\",model_name=\"classifier\",model_image=\"seldonio/mock_classifier\","
      "model_version=\"1.5.0\",le=\"";
  const char *at = text;
  for (size_t i = 0; i < N_ELEMS(want); i++) {
    char line[1024];
    snprintf(line, sizeof line, "%s%s\"} %d\n", prefix, want[i].le, want[i].cum);
    const char *found = strstr(at, line);
    if (!found) {
      print_error("missing (in order) %s in\n%s", line, text);
      fail();
    }
    at = found + strlen(line);
  }
  assert_non_null(strstr(text, "_count{deployment_name=\"seldon-model\",predictor_name=\"example\","
                               "predictor_version=\"\",service=\"/predict\",method=\"post\","
                               "code=\"200\",model_name=\"classifier\",model_image=\"seldonio/"
                               "mock_classifier\",model_version=\"1.5.0\"} 10\n"));
  /* the sum, exactly the double the observations add up to, in order */
  double sum = 0;
  for (size_t i = 0; i < N_ELEMS(obs); i++)
    sum += obs[i];
  const char *sum_line = strstr(text, "_sum{deployment_name=\"seldon-model\"");
  assert_non_null(sum_line);
  assert_true(strtod(strstr(sum_line, "} ") + 2, NULL) == sum);
  free(text);
  ss_metrics_free(m);
}

/* ---- concurrency ---- */

struct worker_arg {
  struct ss_series *counter, *gauge, *hist;
};

#define THREADS 4
#define PER_THREAD 100000

static void *worker(void *p) {
  struct worker_arg *a = p;
  for (int i = 0; i < PER_THREAD; i++) {
    ss_series_inc(a->counter, 1);
    ss_series_add(a->gauge, i % 2 ? 1 : -0.5);
    ss_series_observe(a->hist, (i % 4) * 0.25); /* 0, 0.25, 0.5, 0.75: exact in binary */
  }
  return NULL;
}

static void test_concurrent_observations_sum_exactly(void **state) {
  (void)state;
  struct ss_metrics *m = ss_metrics_new();
  static const double bounds[] = {0.25, 0.5};
  assert_int_equal(ss_metrics_family(m, "ss_test_c_total", SS_METRIC_COUNTER, "c", NULL, 0, NULL, 0), SS_EOK);
  assert_int_equal(ss_metrics_family(m, "ss_test_g", SS_METRIC_GAUGE, "g", NULL, 0, NULL, 0), SS_EOK);
  assert_int_equal(ss_metrics_family(m, "ss_test_h_seconds", SS_METRIC_HISTOGRAM, "h", NULL, 0, bounds, 2), SS_EOK);
  struct worker_arg a = {ss_metrics_series(m, "ss_test_c_total", NULL),
                         ss_metrics_series(m, "ss_test_g", NULL),
                         ss_metrics_series(m, "ss_test_h_seconds", NULL)};
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++)
    assert_int_equal(pthread_create(&t[i], NULL, worker, &a), 0);
  /* exposition and sampling while they run: must be safe (TSan/ASan) */
  for (int i = 0; i < 20; i++) {
    free(ss_metrics_expose(m));
    ss_metrics_sample(m, 1000 * i);
  }
  for (int i = 0; i < THREADS; i++)
    pthread_join(t[i], NULL);
  char *text = expose_no_process(m);
  assert_text(text, "# HELP ss_test_c_total c\n"
                    "# TYPE ss_test_c_total counter\n"
                    "ss_test_c_total 400000\n"
                    "# HELP ss_test_g g\n"
                    "# TYPE ss_test_g gauge\n"
                    "ss_test_g 100000\n"
                    "# HELP ss_test_h_seconds h\n"
                    "# TYPE ss_test_h_seconds histogram\n"
                    "ss_test_h_seconds_bucket{le=\"0.25\"} 200000\n"
                    "ss_test_h_seconds_bucket{le=\"0.5\"} 300000\n"
                    "ss_test_h_seconds_bucket{le=\"+Inf\"} 400000\n"
                    "ss_test_h_seconds_sum 150000\n"
                    "ss_test_h_seconds_count 400000\n");
  free(text);
  ss_metrics_free(m);
}

/* ---- the window ---- */

struct collected {
  size_t n;
  char names[64][160];
  size_t n_samples[64];
  struct ss_sample last[64], first[64];
};

static void collect(void *ctx, const struct ss_timeseries *ts) {
  struct collected *c = ctx;
  if (c->n == 64)
    return;
  char *s = c->names[c->n];
  size_t len = (size_t)snprintf(s, 160, "%s", ts->name);
  for (size_t i = 0; i < ts->n_labels && len < 160; i++)
    len += (size_t)snprintf(s + len, 160 - len, "%s%s=%s", i ? "," : "{", ts->label_names[i],
                            ts->label_values[i]);
  if (ts->n_labels && len < 160)
    snprintf(s + len, 160 - len, "}");
  c->n_samples[c->n] = ts->n_samples;
  c->first[c->n] = ts->samples[0];
  c->last[c->n] = ts->samples[ts->n_samples - 1];
  c->n++;
}

static void test_window_keeps_and_drops_by_time(void **state) {
  (void)state;
  struct ss_metrics *m = ss_metrics_new();
  static const char *const labels[] = {"model_name"};
  assert_int_equal(ss_metrics_family(m, "ss_test_w_total", SS_METRIC_COUNTER, "w", labels, 1,
                                     NULL, 0), SS_EOK);
  const char *v[] = {"classifier"};
  struct ss_series *s = ss_metrics_series(m, "ss_test_w_total", v);

  /* every 5 s for 15 minutes: the counter counts seconds */
  const int64_t t0 = INT64_C(1700000000000);
  for (int64_t t = 0; t <= 15 * 60 * 1000; t += 5000) {
    if (t)
      ss_series_inc(s, 5);
    ss_metrics_sample(m, t0 + t);
  }
  struct collected c = {0};
  ss_metrics_each_series(m, "ss_test_w_total", collect, &c);
  assert_int_equal(c.n, 1);
  assert_string_equal(c.names[0], "ss_test_w_total{model_name=classifier}");
  /* 10 minutes inclusive at 5 s: 121 samples, from 5 min to 15 min */
  assert_int_equal(c.n_samples[0], 121);
  assert_int_equal(c.first[0].t_ms, t0 + 5 * 60 * 1000);
  assert_true(c.first[0].v == 300);
  assert_int_equal(c.last[0].t_ms, t0 + 15 * 60 * 1000);
  assert_true(c.last[0].v == 900);

  /* sampling every second: closer samples replace the newest, so the
   * window stays 10 minutes long and the newest value is fresh */
  for (int64_t t = 15 * 60 * 1000 + 1000; t <= 16 * 60 * 1000; t += 1000) {
    ss_series_inc(s, 1);
    ss_metrics_sample(m, t0 + t);
  }
  memset(&c, 0, sizeof c);
  ss_metrics_each_series(m, NULL, collect, &c);
  size_t k;
  for (k = 0; k < c.n && strncmp(c.names[k], "ss_test_w_total", 15) != 0; k++)
    ;
  assert_true(k < c.n);
  assert_true(c.n_samples[k] <= SS_METRICS_WINDOW_SAMPLES);
  assert_int_equal(c.last[k].t_ms, t0 + 16 * 60 * 1000);
  assert_true(c.last[k].v == 960);
  assert_true(c.last[k].t_ms - c.first[k].t_ms <= SS_METRICS_WINDOW_MS);
  assert_true(c.last[k].t_ms - c.first[k].t_ms >= SS_METRICS_WINDOW_MS - SS_METRICS_SAMPLE_SPACING_MS);

  /* a long silence: everything but the new sample leaves the window */
  ss_metrics_sample(m, t0 + 60 * 60 * 1000);
  memset(&c, 0, sizeof c);
  ss_metrics_each_series(m, "ss_test_w_total", collect, &c);
  assert_int_equal(c.n, 1);
  assert_int_equal(c.n_samples[0], 1);
  assert_int_equal(c.first[0].t_ms, t0 + 60 * 60 * 1000);
  ss_metrics_free(m);
}

static void test_window_histogram_series(void **state) {
  (void)state;
  struct ss_metrics *m = ss_metrics_new();
  static const double bounds[] = {0.5, 1};
  static const char *const labels[] = {"code"};
  assert_int_equal(ss_metrics_family(m, "ss_test_wh_seconds", SS_METRIC_HISTOGRAM, "h", labels,
                                     1, bounds, 2), SS_EOK);
  const char *v[] = {"200"};
  struct ss_series *s = ss_metrics_series(m, "ss_test_wh_seconds", v);
  ss_series_observe(s, 0.25);
  ss_series_observe(s, 0.75);
  ss_series_observe(s, 3);
  ss_metrics_sample(m, 1000);

  struct collected c = {0};
  ss_metrics_each_series(m, "ss_test_wh_seconds_bucket", collect, &c);
  assert_int_equal(c.n, 3);
  assert_string_equal(c.names[0], "ss_test_wh_seconds_bucket{code=200,le=0.5}");
  assert_string_equal(c.names[1], "ss_test_wh_seconds_bucket{code=200,le=1}");
  assert_string_equal(c.names[2], "ss_test_wh_seconds_bucket{code=200,le=+Inf}");
  assert_true(c.last[0].v == 1 && c.last[1].v == 2 && c.last[2].v == 3);

  memset(&c, 0, sizeof c);
  ss_metrics_each_series(m, "ss_test_wh_seconds_count", collect, &c);
  assert_int_equal(c.n, 1);
  assert_string_equal(c.names[0], "ss_test_wh_seconds_count{code=200}");
  assert_true(c.last[0].v == 3);

  memset(&c, 0, sizeof c);
  ss_metrics_each_series(m, "ss_test_wh_seconds_sum", collect, &c);
  assert_int_equal(c.n, 1);
  assert_true(c.last[0].v == 4);

  memset(&c, 0, sizeof c);
  ss_metrics_each_series(m, "ss_test_wh_seconds", collect, &c); /* not a sample series */
  assert_int_equal(c.n, 0);
  ss_metrics_free(m);
}

/* The current values, not the window's: before any sample, and ahead of
 * the last one, a histogram's _count and _sum and a counter as they are now. */
static void test_current_values(void **state) {
  (void)state;
  struct ss_metrics *m = ss_metrics_new();
  static const double bounds[] = {0.5, 1};
  static const char *const labels[] = {"code"};
  assert_int_equal(ss_metrics_family(m, "ss_test_cur_seconds", SS_METRIC_HISTOGRAM, "h", labels,
                                     1, bounds, 2), SS_EOK);
  const char *v[] = {"200"};
  struct ss_series *s = ss_metrics_series(m, "ss_test_cur_seconds", v);
  ss_series_observe(s, 0.25);
  struct collected c = {0};
  ss_metrics_each_current(m, "ss_test_cur_seconds_count", 500, collect, &c);
  assert_int_equal(c.n, 1); /* no sample in the window yet, yet a value */
  assert_string_equal(c.names[0], "ss_test_cur_seconds_count{code=200}");
  assert_int_equal(c.n_samples[0], 1);
  assert_int_equal(c.last[0].t_ms, 500);
  assert_true(c.last[0].v == 1);
  ss_metrics_sample(m, 1000);
  ss_series_observe(s, 3);
  memset(&c, 0, sizeof c);
  ss_metrics_each_current(m, "ss_test_cur_seconds_count", 1100, collect, &c);
  assert_true(c.last[0].v == 2); /* the window still says 1 */
  memset(&c, 0, sizeof c);
  ss_metrics_each_current(m, "ss_test_cur_seconds_sum", 1100, collect, &c);
  assert_true(c.last[0].v == 3.25);
  memset(&c, 0, sizeof c);
  ss_metrics_each_current(m, "ss_test_cur_seconds_bucket", 1100, collect, &c);
  assert_int_equal(c.n, 3);
  assert_string_equal(c.names[2], "ss_test_cur_seconds_bucket{code=200,le=+Inf}");
  assert_true(c.last[0].v == 1 && c.last[2].v == 2);
  memset(&c, 0, sizeof c);
  ss_metrics_each_series(m, "ss_test_cur_seconds_count", collect, &c);
  assert_true(c.last[0].v == 1);
  /* summed over the series whose labels match */
  const char *v5[] = {"503"};
  ss_series_observe(ss_metrics_series(m, "ss_test_cur_seconds", v5), 0.1);
  static const char *const code[] = {"code"};
  assert_true(ss_metrics_current_sum(m, "ss_test_cur_seconds_count", NULL, NULL, 0) == 3);
  assert_true(ss_metrics_current_sum(m, "ss_test_cur_seconds_count", code, v5, 1) == 1);
  static const char *const other[] = {"namespace"}, *const empty[] = {""}, *const x[] = {"x"};
  assert_true(ss_metrics_current_sum(m, "ss_test_cur_seconds_count", other, empty, 1) == 3);
  assert_true(ss_metrics_current_sum(m, "ss_test_cur_seconds_count", other, x, 1) == 0);
  ss_metrics_free(m);
}

/* ---- release ---- */

static void test_released_series_vanish(void **state) {
  (void)state;
  struct ss_metrics *m = ss_metrics_new();
  static const char *const labels[] = {"replica"};
  assert_int_equal(ss_metrics_family(m, "ss_test_cpu", SS_METRIC_GAUGE, "cpu", labels, 1, NULL, 0),
                   SS_EOK);
  const char *a[] = {"r-a"}, *b[] = {"r-b"};
  struct ss_series *sa = ss_metrics_series(m, "ss_test_cpu", a);
  struct ss_series *sb = ss_metrics_series(m, "ss_test_cpu", b);
  ss_series_set(sa, 1);
  ss_series_set(sb, 2);
  ss_metrics_sample(m, 1000);
  ss_series_release(m, sa);
  ss_series_release(m, sa); /* twice: harmless */
  ss_series_release(m, NULL);
  ss_series_set(sa, 42); /* a kept pointer: safe, ignored */

  char *text = expose_no_process(m);
  assert_text(text, "# HELP ss_test_cpu cpu\n# TYPE ss_test_cpu gauge\nss_test_cpu{replica=\"r-b\"} 2\n");
  free(text);
  struct collected c = {0};
  ss_metrics_each_series(m, "ss_test_cpu", collect, &c);
  assert_int_equal(c.n, 1);
  assert_string_equal(c.names[0], "ss_test_cpu{replica=r-b}");

  /* the same labels again: a new series from zero */
  struct ss_series *again = ss_metrics_series(m, "ss_test_cpu", a);
  assert_non_null(again);
  assert_ptr_not_equal(again, sa);
  text = expose_no_process(m);
  assert_non_null(strstr(text, "ss_test_cpu{replica=\"r-a\"} 0\n"));
  free(text);

  /* the last series of a family gone: the family is not exposed */
  ss_series_release(m, again);
  ss_series_release(m, sb);
  text = expose_no_process(m);
  assert_string_equal(text, "");
  free(text);
  ss_metrics_free(m);
}

/* ---- declarations and limits ---- */

static void test_family_validation(void **state) {
  (void)state;
  struct ss_metrics *m = ss_metrics_new();
  static const char *const ok[] = {"a", "b"};
  static const char *const dup[] = {"a", "a"};
  static const char *const le[] = {"le"};
  static const char *const reserved[] = {"__name"};
  static const char *const bad[] = {"a-b"};
  static const double unsorted[] = {1, 0.5};
  static const double with_inf[] = {1, INFINITY};
  char longname[SS_METRICS_NAME_MAX + 2];
  memset(longname, 'x', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';

  assert_int_equal(ss_metrics_family(m, "9starts_with_digit", SS_METRIC_GAUGE, "", NULL, 0, NULL, 0), SS_EINVALID);
  assert_int_equal(ss_metrics_family(m, "has space", SS_METRIC_GAUGE, "", NULL, 0, NULL, 0), SS_EINVALID);
  assert_int_equal(ss_metrics_family(m, "", SS_METRIC_GAUGE, "", NULL, 0, NULL, 0), SS_EINVALID);
  assert_int_equal(ss_metrics_family(m, longname, SS_METRIC_GAUGE, "", NULL, 0, NULL, 0), SS_ELIMIT);
  assert_int_equal(ss_metrics_family(m, "x", SS_METRIC_GAUGE, "", dup, 2, NULL, 0), SS_EINVALID);
  assert_int_equal(ss_metrics_family(m, "x", SS_METRIC_GAUGE, "", reserved, 1, NULL, 0), SS_EINVALID);
  assert_int_equal(ss_metrics_family(m, "x", SS_METRIC_GAUGE, "", bad, 1, NULL, 0), SS_EINVALID);
  assert_int_equal(ss_metrics_family(m, "x", SS_METRIC_HISTOGRAM, "", le, 1, NULL, 0), SS_EINVALID);
  assert_int_equal(ss_metrics_family(m, "x", SS_METRIC_HISTOGRAM, "", NULL, 0, unsorted, 2), SS_EINVALID);
  assert_int_equal(ss_metrics_family(m, "x", SS_METRIC_HISTOGRAM, "", NULL, 0, with_inf, 2), SS_EOK);
  assert_int_equal(ss_metrics_family(m, "x", SS_METRIC_HISTOGRAM, "", NULL, 0, with_inf, 1), SS_EOK);
  assert_int_equal(ss_metrics_family(m, "x", SS_METRIC_GAUGE, "", NULL, 0, NULL, 0), SS_ECONFLICT);
  assert_int_equal(ss_metrics_family(m, "y", SS_METRIC_GAUGE, "", ok, 2, NULL, 0), SS_EOK);
  assert_int_equal(ss_metrics_family(m, "y", SS_METRIC_GAUGE, "", ok, 1, NULL, 0), SS_ECONFLICT);
  assert_int_equal(ss_metrics_family(m, "le_ok:colon", SS_METRIC_GAUGE, "", le, 1, NULL, 0), SS_EOK);
  /* the process metrics are the registry's own */
  assert_int_equal(ss_metrics_family(m, "process_open_fds", SS_METRIC_COUNTER, "", NULL, 0, NULL, 0),
                   SS_ECONFLICT);

  assert_null(ss_metrics_series(m, "nope", NULL));
  char longval[SS_METRICS_LABEL_VALUE_MAX + 2];
  memset(longval, 'v', sizeof longval - 1);
  longval[sizeof longval - 1] = '\0';
  const char *lv[] = {longval, "b"};
  assert_null(ss_metrics_series(m, "y", lv));
  longval[SS_METRICS_LABEL_VALUE_MAX] = '\0';
  assert_non_null(ss_metrics_series(m, "y", lv));
  const char *nulls[] = {NULL, "b"}, *empties[] = {"", "b"};
  assert_ptr_equal(ss_metrics_series(m, "y", nulls), ss_metrics_series(m, "y", empties));
  /* NULL series: observations are no-ops */
  ss_series_inc(NULL, 1);
  ss_series_set(NULL, 1);
  ss_series_add(NULL, 1);
  ss_series_observe(NULL, 1);
  ss_metrics_free(m);
  ss_metrics_free(NULL);
}

/* Many series: every one found again by its labels (the hash table grows),
 * and exposed in sorted order. */
static void test_many_series_lookup_and_order(void **state) {
  (void)state;
  struct ss_metrics *m = ss_metrics_new();
  static const char *const labels[] = {"replica"};
  assert_int_equal(ss_metrics_family(m, "ss_test_many", SS_METRIC_GAUGE, "m", labels, 1, NULL, 0),
                   SS_EOK);
  enum { N = 2000 };
  static struct ss_series *made[N];
  for (int i = N - 1; i >= 0; i--) {
    char v[16];
    snprintf(v, sizeof v, "r%05d", i);
    const char *vv[] = {v};
    assert_non_null(made[i] = ss_metrics_series(m, "ss_test_many", vv));
    ss_series_set(made[i], i);
  }
  for (int i = 0; i < N; i++) {
    char v[16];
    snprintf(v, sizeof v, "r%05d", i);
    const char *vv[] = {v};
    assert_ptr_equal(made[i], ss_metrics_series(m, "ss_test_many", vv));
  }
  char *text = expose_no_process(m);
  const char *at = text;
  for (int i = 0; i < N; i++) {
    char line[64];
    snprintf(line, sizeof line, "ss_test_many{replica=\"r%05d\"} %d\n", i, i);
    const char *found = strstr(at, line);
    assert_non_null(found);
    at = found + strlen(line);
  }
  free(text);
  ss_metrics_free(m);
}

static double value_of(const char *text, const char *name) {
  char key[128];
  snprintf(key, sizeof key, "\n%s ", name);
  const char *p = strstr(text, key);
  assert_non_null(p);
  return strtod(p + strlen(key), NULL);
}

static void test_process_metrics(void **state) {
  (void)state;
  struct ss_metrics *m = ss_metrics_new();
  char *text = ss_metrics_expose(m);
  assert_non_null(text);
  assert_non_null(strstr(text, "# TYPE process_cpu_seconds_total counter\n"));
  assert_non_null(strstr(text, "# TYPE process_resident_memory_bytes gauge\n"));
  assert_true(value_of(text, "process_cpu_seconds_total") >= 0);
  assert_true(value_of(text, "process_resident_memory_bytes") > 1024 * 1024);
  double fds = value_of(text, "process_open_fds");
  assert_true(fds >= 3 && fds < 100000);
  double start = value_of(text, "process_start_time_seconds");
  double now = (double)time(NULL);
  assert_true(start > now - 3600 && start <= now + 1);
  free(text);
  ss_metrics_free(m);
}

/* ---- promtool ---- */

/* Runs cmd (promtool reading file), failing with its output when it fails. */
static void run_promtool(const char *cmd) {
  if (system("command -v promtool >/dev/null 2>&1") != 0) {
    print_error("promtool is not on PATH: install Debian's prometheus package "
                "(apt-get install -y prometheus) to check the exposition\n");
    fail();
  }
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  char out[8192];
  size_t n = fread(out, 1, sizeof out - 1, p);
  out[n] = '\0';
  int status = pclose(p);
  if (status != 0) {
    print_error("%s: exit status %d\n%s\n", cmd, status, out);
    fail();
  }
}

static void test_exposition_passes_promtool(void **state) {
  (void)state;
  struct ss_metrics *m = ss_metrics_new();
  static const char *const server_labels[] = {"deployment_name", "predictor_name",
                                              "predictor_version", "service", "method", "code"};
  assert_int_equal(ss_metrics_family(m, "seldon_api_executor_server_requests_seconds",
                                     SS_METRIC_HISTOGRAM, "Requests served by the gateway, in seconds",
                                     server_labels, 6, NULL, 0), SS_EOK);
  static const char *const q[] = {"replica_set"};
  assert_int_equal(ss_metrics_family(m, "servescale_queued_requests", SS_METRIC_GAUGE,
                                     "Requests waiting for a ready replica", q, 1, NULL, 0), SS_EOK);
  assert_int_equal(ss_metrics_family(m, "servescale_test_escapes_total", SS_METRIC_COUNTER,
                                     "Escapes: \\ and\nnewline", q, 1, NULL, 0), SS_EOK);
  const char *v[] = {"seldon-model", "example", "", "predictions", "post", "200"};
  struct ss_series *s = ss_metrics_series(m, "seldon_api_executor_server_requests_seconds", v);
  for (int i = 0; i < 100; i++)
    ss_series_observe(s, i * 0.01);
  const char *rs[] = {"seldon-model-example-0-classifier"};
  ss_series_set(ss_metrics_series(m, "servescale_queued_requests", rs), 3);
  const char *weird[] = {"a\\b\"c\nd"};
  ss_series_inc(ss_metrics_series(m, "servescale_test_escapes_total", weird), 2);

  char *text = ss_metrics_expose(m);
  assert_non_null(text);
  char path[] = "/tmp/ss_test_metrics_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  FILE *f = fdopen(fd, "w");
  fputs(text, f);
  fclose(f);
  char cmd[256];
  snprintf(cmd, sizeof cmd, "promtool check metrics < %s 2>&1", path);
  run_promtool(cmd);
  unlink(path);
  free(text);
  ss_metrics_free(m);
}

/* `servescale prometheus-config` passes `promtool check config`: only in the
 * CMake build, which tells the test where the binary is. */
static void test_prometheus_config_passes_promtool(void **state) {
  (void)state;
#ifdef SS_BINARY
  static const char *const args[] = {"", "--gateway http://127.0.0.1:18000 --interval 2s",
                                     "--gateway https://gw.example:8443/base/ --interval 1m"};
  for (size_t i = 0; i < N_ELEMS(args); i++) {
    char path[] = "/tmp/ss_test_promcfg_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' prometheus-config %s > %s", SS_BINARY, args[i], path);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "promtool check config %s 2>&1", path);
    run_promtool(cmd);
    unlink(path);
  }
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "'%s' prometheus-config --gateway ftp://x >/dev/null 2>&1", SS_BINARY);
  assert_int_not_equal(system(cmd), 0);
  snprintf(cmd, sizeof cmd, "'%s' prometheus-config --interval 0s >/dev/null 2>&1", SS_BINARY);
  assert_int_not_equal(system(cmd), 0);
#else
  skip();
#endif
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_expose_small_registry_exact),
      cmocka_unit_test(test_expose_float_formats),
      cmocka_unit_test(test_expose_escapes_label_values_and_help),
      cmocka_unit_test(test_expose_seldon_buckets_cumulative),
      cmocka_unit_test(test_concurrent_observations_sum_exactly),
      cmocka_unit_test(test_window_keeps_and_drops_by_time),
      cmocka_unit_test(test_window_histogram_series),
      cmocka_unit_test(test_current_values),
      cmocka_unit_test(test_released_series_vanish),
      cmocka_unit_test(test_family_validation),
      cmocka_unit_test(test_many_series_lookup_and_order),
      cmocka_unit_test(test_process_metrics),
      cmocka_unit_test(test_exposition_passes_promtool),
      cmocka_unit_test(test_prometheus_config_passes_promtool),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
