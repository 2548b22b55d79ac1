/* test_loop.c: the HPA and KEDA controllers (src/autoscale/loop.c) over a
 * real store and metrics window, with the embedded metrics source and a
 * clock the test moves: stored ScaledObjects and HPAs are the targets, the
 * decision goes to the target's scale (a Deployment's or a
 * SeldonDeployment's) and to their status, activation from zero, the HPA
 * KEDA makes and its clean-up, a target that cannot be scaled. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <unistd.h>

#include "autoscale/loop.h"
#include "autoscale/own.h"
#include "metrics/metrics.h"
#include "store/store.h"

#define T0 ((int64_t)1700000000000) /* a wall-clock ms */
#define RS "m-p-0-c"                /* the replica set the sdep below names */

struct fix {
  char dir[64], path[128];
  struct ss_store *st;
  struct ss_metrics *m;
  struct ss_series *counter;
  struct ss_autoscaler *a;
};

static const struct ss_kind_ref SDEP = {"machinelearning.seldon.io", "seldondeployments"};
static const struct ss_kind_ref SO = {"keda.sh", "scaledobjects"};
static const struct ss_kind_ref HPA = {"autoscaling", "horizontalpodautoscalers"};
static const struct ss_kind_ref DEPLOY = {"apps", "deployments"};

static int setup(void **state) {
  struct fix *f = calloc(1, sizeof *f);
  snprintf(f->dir, sizeof f->dir, "/tmp/ss-loop-XXXXXX");
  if (!mkdtemp(f->dir))
    return -1;
  snprintf(f->path, sizeof f->path, "%s/db", f->dir);
  struct ss_error err = {0};
  if (ss_store_open(f->path, &f->st, &err))
    return -1;
  f->m = ss_metrics_new();
  ss_metrics_family(f->m, "test_requests_total", SS_METRIC_COUNTER, "requests", NULL, 0, NULL, 0);
  f->counter = ss_metrics_series(f->m, "test_requests_total", NULL);
  struct ss_autoscaler_config cfg = {.store = f->st, .metrics = f->m, .sync_ms = 1000};
  f->a = ss_autoscaler_new(&cfg);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fix *f = *state;
  ss_autoscaler_free(f->a);
  ss_metrics_free(f->m);
  ss_store_close(f->st);
  char p[200];
  snprintf(p, sizeof p, "%s-wal", f->path);
  unlink(p);
  snprintf(p, sizeof p, "%s-shm", f->path);
  unlink(p);
  unlink(f->path);
  rmdir(f->dir);
  free(f);
  return 0;
}

/* A Deployment RS at 1 replica and a ScaledObject aimed at it (as the
 * SeldonDeployment controller stores them for a kedaSpec, or a user). */
static void create_scaled(struct fix *f, int min_replicas) {
  json_t *obj = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:i}}", "apiVersion", "apps/v1", "kind",
                          "Deployment", "metadata", "name", RS, "namespace", "ns", "spec",
                          "replicas", 1);
  assert_int_equal(ss_store_create(f->st, DEPLOY, obj, NULL, NULL), SS_EOK);
  json_decref(obj);
  char buf[2048];
  snprintf(buf, sizeof buf,
           "{\"apiVersion\":\"keda.sh/v1alpha1\",\"kind\":\"ScaledObject\","
           "\"metadata\":{\"name\":\"" RS "\",\"namespace\":\"ns\"},"
           "\"spec\":{\"scaleTargetRef\":{\"name\":\"" RS "\"},"
           "\"pollingInterval\":1,\"cooldownPeriod\":5,\"minReplicaCount\":%d,"
           "\"maxReplicaCount\":5,\"triggers\":[{\"type\":\"prometheus\",\"metadata\":{"
           "\"threshold\":\"10\",\"query\":\"rate(test_requests_total[1m])\"}}]}}",
           min_replicas);
  obj = json_loads(buf, 0, NULL);
  assert_non_null(obj);
  assert_int_equal(ss_store_create(f->st, SO, obj, NULL, NULL), SS_EOK);
  json_decref(obj);
}

/* The target Deployment's spec.replicas: what the loop wrote. */
static int scale_of(struct fix *f) {
  json_t *o = NULL;
  ss_store_get(f->st, DEPLOY, "ns", RS, &o, NULL);
  json_t *r = json_object_get(json_object_get(o, "spec"), "replicas");
  int n = json_is_integer(r) ? (int)json_integer_value(r) : -1;
  json_decref(o);
  return n;
}

static json_t *scaled_object(struct fix *f) {
  json_t *o = NULL;
  ss_store_get(f->st, SO, "ns", RS, &o, NULL);
  return o;
}

static int desired(struct fix *f) {
  json_t *o = scaled_object(f);
  json_t *d = json_object_get(json_object_get(o, "status"), "desiredReplicas");
  int n = json_is_integer(d) ? (int)json_integer_value(d) : -1;
  json_decref(o);
  return n;
}

static const char *cond(json_t *o, const char *type) {
  size_t i;
  json_t *c;
  json_array_foreach(json_object_get(json_object_get(o, "status"), "conditions"), i, c)
    if (strcmp(json_string_value(json_object_get(c, "type")), type) == 0)
      return json_string_value(json_object_get(c, "status"));
  return NULL;
}

static void test_a_scaled_object_gets_its_status_and_the_hpa_keda_makes(void **state) {
  struct fix *f = *state;
  create_scaled(f, 1);
  ss_autoscaler_tick(f->a, T0, NULL);
  json_t *o = scaled_object(f);
  assert_non_null(o);
  assert_string_equal(cond(o, "Ready"), "True");
  assert_string_equal(cond(o, "Active"), "False");
  assert_string_equal(json_string_value(json_object_get(json_object_get(o, "status"),
                                                        "scaleTargetKind")),
                      "apps/v1.Deployment");
  json_decref(o);
  assert_int_equal(desired(f), 1); /* no traffic: stays at minReplicaCount */
  assert_int_equal(scale_of(f), 1);
  json_t *h = NULL;
  assert_int_equal(ss_store_get(f->st, HPA, "ns", "keda-hpa-" RS, &h, NULL), SS_EOK);
  json_t *ref = json_array_get(json_object_get(json_object_get(h, "metadata"), "ownerReferences"), 0);
  assert_string_equal(json_string_value(json_object_get(ref, "kind")), "ScaledObject");
  json_t *tr = json_object_get(json_object_get(h, "spec"), "scaleTargetRef");
  assert_string_equal(json_string_value(json_object_get(tr, "name")), RS);
  json_decref(h);
}

static void test_a_rate_above_threshold_scales_up_by_the_hpa_policy(void **state) {
  struct fix *f = *state;
  /* 60 requests a second over the last minute: rate 60, threshold 10 */
  for (int s = 0; s <= 60; s += 5) {
    ss_series_inc(f->counter, s ? 300 : 0);
    ss_metrics_sample(f->m, T0 - 60000 + s * 1000);
  }
  create_scaled(f, 1);
  int64_t next = 0;
  assert_true(ss_autoscaler_tick(f->a, T0, &next));
  /* ceil(60/10) = 6, capped at maxReplicaCount; the kedaSpec sets no
   * behavior, so neither does the HPA KEDA makes, and Kubernetes' path
   * without one allows max(2 x 1, 4) = 4 from 1 */
  assert_int_equal(desired(f), 4);
  assert_int_equal(scale_of(f), 4); /* written to the Deployment's scale */
  assert_int_equal(next, T0 + 1000);
  json_t *o = scaled_object(f);
  assert_string_equal(cond(o, "Active"), "True");
  json_t *tr = json_array_get(json_object_get(json_object_get(o, "status"), "triggers"), 0);
  assert_true(json_real_value(json_object_get(tr, "value")) > 59.0);
  json_decref(o);
}

static void test_idle_goes_to_zero_and_a_waiting_request_wakes_it_at_once(void **state) {
  struct fix *f = *state;
  ss_metrics_sample(f->m, T0 - 1000);
  create_scaled(f, 0);
  ss_autoscaler_tick(f->a, T0, NULL);
  ss_autoscaler_tick(f->a, T0 + 6000, NULL); /* past cooldownPeriod 5 */
  assert_int_equal(desired(f), 0);
  assert_int_equal(scale_of(f), 0); /* written to the Deployment's scale */
  /* not due for another second, but a request waits at zero */
  ss_autoscaler_activate(f->a, "ns." RS);
  assert_true(ss_autoscaler_tick(f->a, T0 + 6100, NULL));
  assert_int_equal(desired(f), 1);
  assert_int_equal(scale_of(f), 1); /* written to the Deployment's scale */
}

static void test_a_deleted_scaled_object_takes_its_hpa_along(void **state) {
  struct fix *f = *state;
  create_scaled(f, 1);
  ss_autoscaler_tick(f->a, T0, NULL);
  json_t *h = NULL;
  assert_int_equal(ss_store_get(f->st, HPA, "ns", "keda-hpa-" RS, &h, NULL), SS_EOK);
  json_decref(h);
  h = NULL;
  assert_int_equal(ss_store_delete(f->st, SO, "ns", RS, NULL, NULL), SS_EOK);
  ss_autoscaler_tick(f->a, T0 + 1000, NULL);
  assert_int_equal(ss_store_get(f->st, HPA, "ns", "keda-hpa-" RS, &h, NULL), SS_ENOTFOUND);
  assert_int_equal(scale_of(f), 1); /* the Deployment is not the autoscaler's to delete */
}

static void create_hpa(struct fix *f, const char *kind, const char *api_version) {
  json_t *obj = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:{s:s, s:s, s:s}, s:i, s:i}}",
                          "apiVersion", "autoscaling/v2", "kind", "HorizontalPodAutoscaler",
                          "metadata", "name", "h", "namespace", "ns", "spec", "scaleTargetRef",
                          "apiVersion", api_version, "kind", kind, "name", "m", "minReplicas", 3,
                          "maxReplicas", 6);
  assert_int_equal(ss_store_create(f->st, HPA, obj, NULL, NULL), SS_EOK);
  json_decref(obj);
}

static const char *hpa_cond(struct fix *f, const char *type, char *reason, size_t size) {
  static char status[16];
  json_t *o = NULL;
  ss_store_get(f->st, HPA, "ns", "h", &o, NULL);
  size_t i;
  json_t *c;
  status[0] = reason[0] = '\0';
  json_array_foreach(json_object_get(json_object_get(o, "status"), "conditions"), i, c)
    if (strcmp(json_string_value(json_object_get(c, "type")), type) == 0) {
      snprintf(status, sizeof status, "%s", json_string_value(json_object_get(c, "status")));
      snprintf(reason, size, "%s", json_string_value(json_object_get(c, "reason")));
    }
  json_decref(o);
  return status;
}

static void test_an_hpa_aimed_at_a_seldon_deployment_writes_its_scale(void **state) {
  struct fix *f = *state;
  json_t *obj = json_loads(
      "{\"apiVersion\":\"machinelearning.seldon.io/v1\",\"kind\":\"SeldonDeployment\","
      "\"metadata\":{\"name\":\"m\",\"namespace\":\"ns\"},\"spec\":{\"replicas\":1,"
      "\"predictors\":[{\"name\":\"p\",\"graph\":{\"name\":\"c\"}}]}}",
      0, NULL);
  assert_int_equal(ss_store_create(f->st, SDEP, obj, NULL, NULL), SS_EOK);
  json_decref(obj);
  create_hpa(f, "SeldonDeployment", "machinelearning.seldon.io/v1");
  ss_autoscaler_tick(f->a, T0, NULL);
  /* below minReplicas: brought into range through the SeldonDeployment's
   * /scale (spec.replicas), as on a cluster */
  json_t *o = NULL;
  assert_int_equal(ss_store_get(f->st, SDEP, "ns", "m", &o, NULL), SS_EOK);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "spec"), "replicas")), 3);
  json_decref(o);
  char reason[64];
  assert_string_equal(hpa_cond(f, "AbleToScale", reason, sizeof reason), "True");
}

static void test_an_hpa_aimed_at_a_model_writes_its_scale(void **state) {
  struct fix *f = *state;
  json_t *obj = json_loads(
      "{\"apiVersion\":\"mlops.seldon.io/v1alpha1\",\"kind\":\"Model\","
      "\"metadata\":{\"name\":\"m\",\"namespace\":\"ns\"},\"spec\":{\"storageUri\":\"/x\"}}",
      0, NULL);
  static const struct ss_kind_ref MODEL = {"mlops.seldon.io", "models"};
  assert_int_equal(ss_store_create(f->st, MODEL, obj, NULL, NULL), SS_EOK);
  json_decref(obj);
  create_hpa(f, "Model", "mlops.seldon.io/v1alpha1");
  ss_autoscaler_tick(f->a, T0, NULL);
  /* a Model's replicas default to 1: below minReplicas, brought to 3 */
  json_t *o = NULL;
  assert_int_equal(ss_store_get(f->st, MODEL, "ns", "m", &o, NULL), SS_EOK);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "spec"), "replicas")), 3);
  json_decref(o);
}

static void test_an_hpa_aimed_at_what_has_no_scale_says_so(void **state) {
  struct fix *f = *state;
  create_hpa(f, "StatefulSet", "apps/v1");
  ss_autoscaler_tick(f->a, T0, NULL);
  char reason[64];
  assert_string_equal(hpa_cond(f, "AbleToScale", reason, sizeof reason), "False");
  assert_string_equal(reason, "FailedGetScale");
  /* and a Deployment that is not there yet */
  json_t *o = NULL;
  ss_store_delete(f->st, HPA, "ns", "h", NULL, NULL);
  create_hpa(f, "Deployment", "apps/v1");
  ss_autoscaler_tick(f->a, T0 + 1000, NULL);
  assert_string_equal(hpa_cond(f, "AbleToScale", reason, sizeof reason), "False");
  assert_string_equal(reason, "FailedGetScale");
  json_decref(o);
}

/* servescale's own policy, opted into by annotation: fed every 100 ms
 * from the gateway's figures (here the replica set's gauges and the
 * client counter, as the daemon's gateway leaves them), it writes the
 * scale with its reason; idle past the hold window it goes to zero, and a
 * request waiting there wakes it at once. */
/* The series the own policy reads, as the daemon's gateway and reconciler
 * leave them. */
struct own_series {
  struct ss_series *ready, *queued, *calls;
};

/* A Deployment RS and a ScaledObject on it with the annotations given
 * (JSON members after servescale.io/autoscaler) and bounds 0..max; the
 * families the policy reads, and RS's series of them. */
static struct own_series own_target(struct fix *f, const char *annotations, int max) {
  json_t *obj = json_loads(
      "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"" RS "\","
      "\"namespace\":\"ns\"},\"spec\":{\"replicas\":1,\"template\":{\"spec\":{\"containers\":"
      "[{\"name\":\"c\"}]}}}}", 0, NULL);
  assert_int_equal(ss_store_create(f->st, DEPLOY, obj, NULL, NULL), SS_EOK);
  json_decref(obj);
  char so[1024];
  snprintf(so, sizeof so,
           "{\"apiVersion\":\"keda.sh/v1alpha1\",\"kind\":\"ScaledObject\",\"metadata\":{"
           "\"name\":\"" RS "\",\"namespace\":\"ns\",\"annotations\":{\"servescale.io/"
           "autoscaler\":\"servescale\"%s}},\"spec\":{\"scaleTargetRef\":{\"name\":\"" RS "\"},"
           "\"minReplicaCount\":0,\"maxReplicaCount\":%d,\"triggers\":[{\"type\":\"prometheus\","
           "\"metadata\":{\"threshold\":\"10\",\"query\":\"rate(test_requests_total[1m])\"}}]}}",
           annotations, max);
  obj = json_loads(so, 0, NULL);
  assert_non_null(obj);
  assert_int_equal(ss_store_create(f->st, SO, obj, NULL, NULL), SS_EOK);
  json_decref(obj);
  static const char *const rs_labels[] = {"namespace", "deployment", "replica_set"};
  static const char *const cl_labels[] = {"deployment_name", "predictor_name", "predictor_version",
                                          "service", "method", "code", "model_name",
                                          "model_image", "model_version", "namespace"};
  ss_metrics_family(f->m, "servescale_replica_set_ready_replicas", SS_METRIC_GAUGE, "r",
                    rs_labels, 3, NULL, 0);
  ss_metrics_family(f->m, "servescale_replica_set_queued_requests", SS_METRIC_GAUGE, "q",
                    rs_labels, 3, NULL, 0);
  ss_metrics_family(f->m, "seldon_api_executor_client_requests_seconds", SS_METRIC_HISTOGRAM,
                    "c", cl_labels, 10, NULL, 0);
  const char *rsv[] = {"ns", "m", RS};
  const char *clv[] = {"m", "p", "", "/predict", "post", "200", "c", "img", "1", "ns"};
  return (struct own_series){
      ss_metrics_series(f->m, "servescale_replica_set_ready_replicas", rsv),
      ss_metrics_series(f->m, "servescale_replica_set_queued_requests", rsv),
      ss_metrics_series(f->m, "seldon_api_executor_client_requests_seconds", clv)};
}

/* Ticks the loop every 100 ms over [from, to), the gateway answering
 * per_tick calls of secs seconds in each; returns to. */
static int64_t own_ticks(struct fix *f, struct ss_series *calls, int64_t from, int64_t to,
                         int per_tick, double secs) {
  for (int64_t t = from; t < to; t += 100) {
    for (int i = 0; i < per_tick; i++)
      ss_series_observe(calls, secs);
    ss_autoscaler_tick(f->a, t, NULL);
  }
  return to;
}

static void test_the_own_policy_scales_from_the_gateways_figures(void **state) {
  struct fix *f = *state;
  struct own_series se = own_target(f, ",\"servescale.io/startup-ms\":\"500\"", 5);
  struct ss_series *ready = se.ready, *queued = se.queued, *calls = se.calls;
  ss_series_set(ready, 1);
  /* 100 requests a second for a second: 3 replicas carry them within the
   * default 100 ms SLO at 20 ms a request (ss_own_replicas_for), and with
   * one replica ready (it carries 25) that is over twice what it carries:
   * panic, 25 % more, 125/s, so 4 */
  int64_t t = T0, next = 0;
  for (; t <= T0 + 1000; t += 100) {
    for (int i = 0; i < 10; i++)
      ss_series_observe(calls, 0.02);
    ss_autoscaler_tick(f->a, t, &next);
    assert_true(next <= t + 100); /* every 100 ms */
  }
  assert_int_equal(scale_of(f), 4);
  json_t *o = scaled_object(f);
  assert_string_equal(cond(o, "Ready"), "True");
  char *text = json_dumps(o, 0);
  assert_non_null(strstr(text, "ServescalePolicy"));
  free(text);
  json_decref(o);
  /* idle: the peak holds for the hold window, then zero */
  ss_series_set(ready, 4);
  for (; t <= T0 + 1000 + 15000; t += 100)
    ss_autoscaler_tick(f->a, t, NULL);
  assert_int_equal(scale_of(f), 4);
  for (; t <= T0 + 1000 + 23000; t += 100)
    ss_autoscaler_tick(f->a, t, NULL);
  assert_int_equal(scale_of(f), 0);
  /* a request waits at zero: woken at once */
  ss_series_set(ready, 0);
  ss_series_set(queued, 1);
  ss_autoscaler_activate(f->a, "ns." RS);
  assert_true(ss_autoscaler_tick(f->a, t + 1, NULL));
  assert_int_equal(scale_of(f), 1);
}

/* Without the service-time annotation the policy measures it: calls of
 * 60 ms at 40/s size it at 20 ms (2 replicas) until the first measure,
 * after 10 s and 50 calls, then at 60 ms: the 2 ready replicas serve
 * 33.3/s at most, the 6.7/s beyond queue through the 2 s start-up and are
 * drained within one, so 46.7/s at 60 ms with 40 ms left of the SLO: 6. */
static void test_the_own_policy_measures_the_service_time(void **state) {
  struct fix *f = *state;
  struct own_series se = own_target(f, "", 10);
  ss_series_set(se.ready, 2);
  int64_t t = own_ticks(f, se.calls, T0, T0 + 5000, 4, 0.06);
  assert_int_equal(scale_of(f), 2); /* the default 20 ms */
  own_ticks(f, se.calls, t, T0 + 12000, 4, 0.06);
  struct ss_own_config measured = {60, 1, SS_OWN_DEFAULT_STARTUP_MS, 100, 0, 10};
  int want = (int)ss_own_replicas_for(&measured, 40 + (40 - 2 * 1000.0 / 60));
  assert_int_equal(want, 6);
  assert_int_equal(scale_of(f), want);
}

/* And the start-up, from its ready replicas' start and ready times: 10 s
 * here, so the hold window is 5 start-ups, 50 s, not the 20 s least: the
 * size taken under load still holds 30 s after the load stopped. */
static void test_the_own_policy_measures_the_start_up(void **state) {
  struct fix *f = *state;
  struct own_series se = own_target(f, "", 10);
  static const char *const rep_labels[] = {"namespace", "deployment", "replica_set", "replica",
                                           "pod"};
  static const char *const fams[] = {"servescale_replica_ready",
                                     "servescale_replica_start_time_seconds",
                                     "servescale_replica_ready_time_seconds"};
  static const double values[][2] = {{1, 1}, {1000.0, 2000.0}, {1010.0, 2010.0}};
  for (size_t i = 0; i < 3; i++) {
    ss_metrics_family(f->m, fams[i], SS_METRIC_GAUGE, "g", rep_labels, 5, NULL, 0);
    for (int r = 0; r < 2; r++) {
      const char *v[] = {"ns", "m", RS, r ? RS "-b" : RS "-a", r ? RS "-b" : RS "-a"};
      ss_series_set(ss_metrics_series(f->m, fams[i], v), values[i][r]);
    }
  }
  ss_metrics_sample(f->m, T0 - 1000); /* the window the daemon samples, as replicas read it */
  ss_series_set(se.ready, 2);
  int64_t t = own_ticks(f, se.calls, T0, T0 + 5000, 4, 0.02);
  int loaded = scale_of(f);
  assert_true(loaded >= 2);
  t = own_ticks(f, se.calls, t, T0 + 5000 + 30000, 0, 0); /* idle */
  assert_int_equal(scale_of(f), loaded);
  own_ticks(f, se.calls, t, T0 + 5000 + 55000, 0, 0);
  assert_int_equal(scale_of(f), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_a_scaled_object_gets_its_status_and_the_hpa_keda_makes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_a_rate_above_threshold_scales_up_by_the_hpa_policy, setup, teardown),
      cmocka_unit_test_setup_teardown(test_idle_goes_to_zero_and_a_waiting_request_wakes_it_at_once, setup, teardown),
      cmocka_unit_test_setup_teardown(test_a_deleted_scaled_object_takes_its_hpa_along, setup, teardown),
      cmocka_unit_test_setup_teardown(test_an_hpa_aimed_at_a_seldon_deployment_writes_its_scale, setup, teardown),
      cmocka_unit_test_setup_teardown(test_an_hpa_aimed_at_a_model_writes_its_scale, setup, teardown),
      cmocka_unit_test_setup_teardown(test_an_hpa_aimed_at_what_has_no_scale_says_so, setup, teardown),
      cmocka_unit_test_setup_teardown(test_the_own_policy_scales_from_the_gateways_figures, setup, teardown),
      cmocka_unit_test_setup_teardown(test_the_own_policy_measures_the_service_time, setup, teardown),
      cmocka_unit_test_setup_teardown(test_the_own_policy_measures_the_start_up, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
