/* test_sim.c: unit tests for src/sim (servescale simulate): the trace
 * reader's errors, the queueing model against hand-computed cases (a D/D/1
 * and an M/D/1 constant load, an overload, waiting at zero), the peers'
 * rules (KPA's panic at 200 %, its scale-to-zero grace, Ray's delays), the
 * HPA's 300 s stabilization as the replay shows it, and the JSON report's
 * shape. servescale's own policy is tests/unit/test_own.c's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>
#include <jansson.h>

#include "sim/cluster.h"
#include "sim/peers.h"
#include "sim/sim.h"
#include "sim/trace.h"

/* ---- the trace ---- */

static void parse_ok(const char *text, struct ss_sim_trace *tr) {
  struct ss_error err = {0};
  enum ss_err rc = ss_sim_trace_parse(text, strlen(text), tr, &err);
  if (rc)
    fail_msg("unexpected error: line %u: %s", err.line, err.msg);
}

static void parse_bad(const char *text, unsigned line, const char *words) {
  struct ss_sim_trace tr;
  struct ss_error err = {0};
  assert_int_not_equal(ss_sim_trace_parse(text, strlen(text), &tr, &err), SS_EOK);
  assert_int_equal(err.line, line);
  if (!strstr(err.msg, words))
    fail_msg("\"%s\" does not say \"%s\"", err.msg, words);
  assert_null(tr.v);
}

static void test_trace_reads(void **state) {
  (void)state;
  struct ss_sim_trace tr;
  parse_ok("# a comment\n\ntime,rps\n0,10\n 60 , 20.5 \r\n120,0\n", &tr);
  assert_int_equal(tr.n, 3);
  assert_true(tr.end_s == 121.0);
  assert_true(ss_sim_trace_rate(&tr, 59.9) == 10.0);
  assert_true(ss_sim_trace_rate(&tr, 60) == 20.5);
  assert_true(ss_sim_trace_rate(&tr, 120.5) == 0.0);
  assert_true(ss_sim_trace_rate(&tr, 121) == 0.0);
  assert_true(fabs(ss_sim_trace_requests(&tr) - (600 + 60 * 20.5)) < 1e-9);
  ss_sim_trace_free(&tr);
  parse_ok("5,1", &tr); /* no newline at the end, no header */
  assert_int_equal(tr.n, 1);
  assert_true(tr.service_ms == -1 && tr.startup_ms == -1); /* not given */
  ss_sim_trace_free(&tr);
  /* what `servescale record` measured, in comments anywhere; others ignored */
  parse_ok("# service-time-ms: 21\ntime,rps\n0,10\n# note: startup-ms is below\n"
           "#startup-ms:0\n", &tr);
  assert_true(tr.service_ms == 21 && tr.startup_ms == 0);
  ss_sim_trace_free(&tr);
}

static void test_trace_errors(void **state) {
  (void)state;
  parse_bad("time,rps\n0,10\n10\n", 3, "expected TIME,RPS");
  parse_bad("0,10\n5,x\n", 2, "rps: not a number");
  parse_bad("0,10\nabc,3\n", 2, "time: not a number");
  parse_bad("0,10\n10,5\n10,6\n", 3, "not after the previous row");
  parse_bad("0,-1\n", 1, "rps: -1 is outside");
  parse_bad("0,1,2\n", 1, "two columns");
  parse_bad("0,inf\n", 1, "rps: not a number");
  parse_bad("0,nan\n", 1, "rps: not a number");
  parse_bad("# only a comment\n", 1, "no rows");
  parse_bad("", 1, "no rows");
  parse_bad("90000,1\n", 1, "outside [0, 86400)");
  parse_bad("0,1\n# service-time-ms: 0\n", 2, "service-time-ms: not a whole number of ms");
  parse_bad("0,1\n# startup-ms: 1.5\n", 2, "startup-ms: not a whole number");
  parse_bad("# startup-ms: soon\n0,1\n", 1, "startup-ms: not a whole number");
  /* a NUL inside the buffer: the reader is given the length, not a string */
  static const char nul[] = "0,1\n1,\0\n";
  struct ss_sim_trace tr;
  struct ss_error err = {0};
  assert_int_equal(ss_sim_trace_parse(nul, sizeof nul - 1, &tr, &err), SS_ESYNTAX);
  assert_int_equal(err.line, 2);
  assert_non_null(strstr(err.msg, "NUL"));
}

/* ---- the queueing model ---- */

static struct ss_sim_model model(int64_t service_ms, bool poisson) {
  return (struct ss_sim_model){service_ms, 1, 1000, 30000, 100, poisson, 7};
}

/* Runs a cluster of `replicas` for seconds at rps; the seconds' records in
 * out (may be NULL); returns the mean latency of all settled requests. */
static double run_cluster(const struct ss_sim_model *m, bool buffer, int32_t replicas,
                          int32_t scale_to, double rps, size_t seconds,
                          struct ss_sim_second *out, struct ss_sim_cluster *keep) {
  struct ss_sim_cluster c;
  assert_int_equal(ss_sim_cluster_init(&c, m, buffer, replicas, seconds * 10), SS_EOK);
  if (scale_to >= 0)
    assert_int_equal(ss_sim_cluster_scale(&c, scale_to), SS_EOK);
  double sum = 0, n = 0;
  for (size_t s = 0; s < seconds; s++) {
    for (int k = 0; k < 10; k++)
      assert_int_equal(ss_sim_cluster_step(&c, rps), SS_EOK);
    for (size_t i = 0; i < c.lat_n; i++)
      if (isfinite(c.lat[i])) {
        sum += c.lat[i];
        n++;
      }
    struct ss_sim_second sec;
    ss_sim_cluster_close_second(&c, &sec);
    if (out)
      out[s] = sec;
  }
  if (keep)
    *keep = c;
  else
    ss_sim_cluster_free(&c);
  return n ? sum / n : 0;
}

/* D/D/1 under capacity: every request is served at once, 20 ms. */
static void test_cluster_constant_load(void **state) {
  (void)state;
  struct ss_sim_model m = model(20, false);
  struct ss_sim_second sec[60];
  struct ss_sim_cluster c;
  double mean = run_cluster(&m, true, 1, -1, 10, 60, sec, &c);
  assert_true(fabs(mean - 20.0) < 1e-9);
  for (size_t s = 1; s < 60; s++) {
    assert_true(sec[s].arrivals == 10);
    assert_true(sec[s].p99_ms == 20.0);
    assert_false(sec[s].violation);
    assert_int_equal(sec[s].replicas, 1);
  }
  assert_true(fabs(c.replica_ms - 60000.0) < 1e-6); /* one replica for 60 s */
  ss_sim_cluster_free(&c);
}

/* M/D/1 at rho 0.5: Pollaczek-Khinchine's mean wait rho S / (2 (1 - rho))
 * = 10 ms, so a mean latency of 30 ms. */
static void test_cluster_md1(void **state) {
  (void)state;
  struct ss_sim_model m = model(20, true);
  double mean = run_cluster(&m, true, 1, -1, 25, 2000, NULL, NULL);
  if (mean < 29.0 || mean > 31.0)
    fail_msg("M/D/1 mean latency %.2f ms, expected 30 +- 1", mean);
}

/* Twice the capacity on one replica: request k (arriving at 10 k ms)
 * leaves at 20 k + 10 ms, so waits grow 10 ms per request: the p99 of the
 * first second is about 1 s, of the second about 2 s; every second violates. */
static void test_cluster_overload(void **state) {
  (void)state;
  struct ss_sim_model m = model(20, false);
  struct ss_sim_second sec[3];
  run_cluster(&m, true, 1, -1, 100, 3, sec, NULL);
  assert_true(sec[0].p99_ms >= 950 && sec[0].p99_ms <= 1010);
  assert_true(sec[1].p99_ms >= 1950 && sec[1].p99_ms <= 2010);
  assert_true(sec[0].violation && sec[1].violation && sec[2].violation);
  assert_int_equal(sec[0].failed, 0);
}

/* At zero, a buffering gateway holds requests until the replica started
 * (1 s): the nine that came before are sent when it is ready, at 1000 ms,
 * with the one arriving then, and wait behind each other for 200 ms; without
 * the buffer those nine are refused. */
static void test_cluster_zero(void **state) {
  (void)state;
  struct ss_sim_model m = model(20, false);
  struct ss_sim_second sec[3];
  run_cluster(&m, true, 0, 1, 10, 3, sec, NULL);
  assert_int_equal(sec[0].settled, 10);
  assert_int_equal(sec[0].failed, 0);
  assert_true(sec[0].p99_ms == 920.0); /* arrived at 100 ms, answered at 1020 */
  assert_true(sec[0].violation);
  assert_true(sec[2].p99_ms == 20.0);
  run_cluster(&m, false, 0, 1, 10, 3, sec, NULL);
  assert_int_equal(sec[0].failed, 9);
  assert_int_equal(sec[0].settled, 10);
  assert_int_equal(sec[2].failed, 0);
  assert_true(sec[2].p99_ms == 20.0);
}

/* ---- the peers ---- */

static void test_kpa_panic_at_200_percent(void **state) {
  (void)state;
  struct ss_sim_kpa_config cfg = {0.7, 0, 100};
  struct ss_sim_kpa_state st = {0};
  /* 2 ready; panic concurrency 2.0 asks ceil(2/0.7) = 3 pods: 150 %, stable */
  assert_int_equal(ss_sim_kpa_decide(&cfg, &st, 0, 1.3, 2.0, 2), 2);
  assert_false(st.panicking);
  /* 2.8 asks 4 pods: 200 % of 2, panic */
  assert_int_equal(ss_sim_kpa_decide(&cfg, &st, 2000, 1.3, 2.8, 2), 4);
  assert_true(st.panicking);
  /* panicking: no scale-down while the stable window says 2 */
  assert_int_equal(ss_sim_kpa_decide(&cfg, &st, 4000, 1.3, 1.0, 4), 4);
  assert_int_equal(ss_sim_kpa_decide(&cfg, &st, 62000, 1.3, 1.0, 4), 4);
  /* a stable window (60 s) after the last tick over the threshold: out */
  assert_int_equal(ss_sim_kpa_decide(&cfg, &st, 62001, 1.3, 1.0, 4), 2);
  assert_false(st.panicking);
}

static void test_kpa_zero_after_grace(void **state) {
  (void)state;
  struct ss_sim_kpa_config cfg = {0.7, 0, 100};
  struct ss_sim_kpa_state st = {0};
  assert_int_equal(ss_sim_kpa_decide(&cfg, &st, 0, 0, 0, 1), 1);
  assert_int_equal(ss_sim_kpa_decide(&cfg, &st, 28000, 0, 0, 1), 1);
  assert_int_equal(ss_sim_kpa_decide(&cfg, &st, 30000, 0, 0, 1), 0);
  cfg.min = 1;
  memset(&st, 0, sizeof st);
  assert_int_equal(ss_sim_kpa_decide(&cfg, &st, 0, 0, 0, 1), 1);
  assert_int_equal(ss_sim_kpa_decide(&cfg, &st, 40000, 0, 0, 1), 1);
}

static void test_ray_delays(void **state) {
  (void)state;
  struct ss_sim_ray_config cfg = {SS_SIM_RAY_TARGET_ONGOING, SS_SIM_RAY_UPSCALE_DELAY_MS,
                                  SS_SIM_RAY_DOWNSCALE_DELAY_MS, 0, 10};
  struct ss_sim_ray_state st = {0};
  /* 8 ongoing over 2 replicas wants 4, after 30 s of 100 ms loops */
  for (int i = 0; i < 300; i++)
    assert_int_equal(ss_sim_ray_decide(&cfg, &st, 8, 2), 2);
  assert_int_equal(ss_sim_ray_decide(&cfg, &st, 8, 2), 4);
  /* a loop that wants the same size starts the count again */
  for (int i = 0; i < 200; i++)
    ss_sim_ray_decide(&cfg, &st, 8, 2);
  assert_int_equal(ss_sim_ray_decide(&cfg, &st, 4, 2), 2);
  for (int i = 0; i < 300; i++)
    assert_int_equal(ss_sim_ray_decide(&cfg, &st, 8, 2), 2);
  /* down: 600 s */
  memset(&st, 0, sizeof st);
  for (int i = 0; i < 6000; i++)
    assert_int_equal(ss_sim_ray_decide(&cfg, &st, 1, 4), 4);
  assert_int_equal(ss_sim_ray_decide(&cfg, &st, 1, 4), 1);
  /* from zero at once */
  memset(&st, 0, sizeof st);
  assert_int_equal(ss_sim_ray_decide(&cfg, &st, 3, 0), 1);
  assert_int_equal(ss_sim_ray_decide(&cfg, &st, 0, 0), 0);
}

/* ---- replays ---- */

static const char hpa_yaml[] =
    "apiVersion: machinelearning.seldon.io/v1\n"
    "kind: SeldonDeployment\n"
    "metadata: {name: m}\n"
    "spec:\n"
    "  predictors:\n"
    "  - name: p\n"
    "    componentSpecs:\n"
    "    - spec:\n"
    "        containers: [{name: c, image: seldonio/mock_classifier:1.0,\n"
    "                      resources: {requests: {cpu: '0.5'}}}]\n"
    "      hpaSpec:\n"
    "        minReplicas: 1\n"
    "        maxReplicas: 10\n"
    "        metrics:\n"
    "        - type: Resource\n"
    "          resource: {name: cpu, targetAverageUtilization: 50}\n"
    "    graph: {name: c, type: MODEL}\n";

struct fixture {
  struct ss_resource_set set;
  struct ss_sim_target t;
  struct ss_sim_trace tr;
};

static void load(struct fixture *f, const char *yaml, const char *trace) {
  struct ss_error err = {0};
  memset(f, 0, sizeof *f);
  assert_int_equal(ss_resources_load(yaml, strlen(yaml), NULL, &f->set, &err), SS_EOK);
  if (ss_sim_target_from(&f->set.v[0], &f->t, &err))
    fail_msg("target: %s", err.msg);
  parse_ok(trace, &f->tr);
}

static void unload(struct fixture *f) {
  ss_sim_trace_free(&f->tr);
  ss_resources_free(&f->set);
}

/* 150 req/s for 120 s then 20: the HPA scales up within a sync or two of
 * the metric's delay, and down no earlier than 300 s after the load fell
 * (its downscale stabilization), and then only at a sync (every 15 s). */
static void test_hpa_stabilization_in_replay(void **state) {
  (void)state;
  struct fixture f;
  load(&f, hpa_yaml, "0,150\n120,20\n899,20\n");
  assert_string_equal(f.t.written, "hpa");
  struct ss_sim_params p = SS_SIM_PARAMS_DEFAULT;
  struct ss_sim_result r;
  struct ss_error err = {0};
  assert_int_equal(ss_sim_run(&f.t, &p, &f.tr, SS_SIM_HPA, &r, &err), SS_EOK);
  assert_int_equal(r.n_seconds, 900);
  assert_true(r.peak_replicas >= 4);
  size_t first_down = 0;
  for (size_t s = 121; s < r.n_seconds && !first_down; s++)
    if (r.seconds[s].replicas < r.seconds[s - 1].replicas)
      first_down = s;
  assert_true(first_down >= 120 + 300);
  assert_true(first_down < 120 + 300 + 60);
  assert_int_equal(first_down % 15, 0); /* at a sync: t = 15 k */
  assert_true(r.seconds[899].replicas < r.peak_replicas);
  assert_true(r.slo_violation_seconds > 0); /* the start on one replica */
  ss_sim_result_free(&r);
  unload(&f);
}

static const char keda_zero_yaml[] =
    "apiVersion: machinelearning.seldon.io/v1\n"
    "kind: SeldonDeployment\n"
    "metadata: {name: z}\n"
    "spec:\n"
    "  predictors:\n"
    "  - name: p\n"
    "    componentSpecs:\n"
    "    - spec:\n"
    "        containers: [{name: c, image: seldonio/mock_classifier:1.0}]\n"
    "      kedaSpec:\n"
    "        minReplicaCount: 0\n"
    "        maxReplicaCount: 5\n"
    "        triggers:\n"
    "        - type: prometheus\n"
    "          metadata: {serverAddress: 'http://p:9090', metricName: m, threshold: '20',\n"
    "                     query: 'rate(x[1m])'}\n"
    "    graph: {name: c, type: MODEL}\n";

/* Bursts after idle minutes: plain KEDA refuses what arrives at zero until a
 * poll activates it; servescale's policy holds them and loses nothing. */
static void test_scale_to_zero_replay(void **state) {
  (void)state;
  struct fixture f;
  load(&f, keda_zero_yaml, "0,0\n100,30\n160,0\n500,30\n560,0\n799,0\n");
  assert_string_equal(f.t.written, "keda");
  assert_int_equal(f.t.min, 0);
  assert_int_equal(f.t.hpa.min_replicas, 1); /* the HPA KEDA creates */
  struct ss_sim_params p = SS_SIM_PARAMS_DEFAULT;
  struct ss_sim_result own, keda;
  struct ss_error err = {0};
  assert_int_equal(ss_sim_run(&f.t, &p, &f.tr, SS_SIM_OWN, &own, &err), SS_EOK);
  assert_int_equal(ss_sim_run(&f.t, &p, &f.tr, SS_SIM_KEDA, &keda, &err), SS_EOK);
  assert_int_equal(own.failed, 0);
  assert_true(keda.failed > 0);
  assert_int_equal(own.seconds[99].replicas, 0);
  assert_int_equal(own.seconds[450].replicas, 0);
  assert_true(own.seconds[101].replicas >= 1);
  assert_true(own.replica_seconds < keda.replica_seconds);
  ss_sim_result_free(&own);
  ss_sim_result_free(&keda);
  unload(&f);
}

static void test_json_shape(void **state) {
  (void)state;
  struct fixture f;
  load(&f, hpa_yaml, "0,10\n59,10\n");
  struct ss_sim_params p = SS_SIM_PARAMS_DEFAULT;
  struct ss_sim_result r[SS_SIM__N];
  struct ss_error err = {0};
  for (int i = 0; i < SS_SIM__N; i++)
    assert_int_equal(ss_sim_run(&f.t, &p, &f.tr, (enum ss_sim_policy)i, &r[i], &err), SS_EOK);
  char *buf = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&buf, &len);
  assert_non_null(mem);
  assert_int_equal(ss_sim_report(mem, SS_SIM_JSON, &f.t, &p, &f.tr, r, SS_SIM__N), 0);
  fclose(mem);
  json_error_t jerr;
  json_t *doc = json_loads(buf, 0, &jerr);
  assert_non_null(doc);
  assert_int_equal(json_object_size(doc), 1);
  json_t *results = json_object_get(doc, "results");
  assert_int_equal(json_array_size(results), SS_SIM__N);
  const char *want[] = {"policy", "replicaSeconds", "sloViolationSeconds", "failedRequests",
                        "scaleEvents"};
  for (size_t i = 0; i < SS_SIM__N; i++) {
    json_t *e = json_array_get(results, i);
    assert_int_equal(json_object_size(e), 5);
    for (size_t k = 0; k < 5; k++)
      assert_non_null(json_object_get(e, want[k]));
    assert_string_equal(json_string_value(json_object_get(e, "policy")),
                        ss_sim_policy_name((enum ss_sim_policy)i));
    assert_true(json_number_value(json_object_get(e, "replicaSeconds")) >= 60.0 - 1e-9);
  }
  json_decref(doc);
  free(buf);
  for (int i = 0; i < SS_SIM__N; i++)
    ss_sim_result_free(&r[i]);
  unload(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_trace_reads),
      cmocka_unit_test(test_trace_errors),
      cmocka_unit_test(test_cluster_constant_load),
      cmocka_unit_test(test_cluster_md1),
      cmocka_unit_test(test_cluster_overload),
      cmocka_unit_test(test_cluster_zero),
      cmocka_unit_test(test_kpa_panic_at_200_percent),
      cmocka_unit_test(test_kpa_zero_after_grace),
      cmocka_unit_test(test_ray_delays),
      cmocka_unit_test(test_hpa_stabilization_in_replay),
      cmocka_unit_test(test_scale_to_zero_replay),
      cmocka_unit_test(test_json_shape),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
