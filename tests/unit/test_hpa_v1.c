/* test_hpa_v1.c: unit tests for src/api/hpa_v1.c: the autoscaling/v1
 * <-> v2 conversions of a HorizontalPodAutoscaler (the cpu percentage is
 * the cpu Utilization metric), and v1 served through the handlers as
 * kubectl autoscale uses it: a v1 body, JSON or protobuf, is stored in its
 * v2 form and answered in v1; patch and watch at v1 are 405; a v2 body at
 * v1 is 400. Each test that stores has its own store in a temporary
 * directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <unistd.h>

#include "api/hpa_v1.h"
#include "api/internal.h"

#define V1 "/apis/autoscaling/v1/namespaces/apps/horizontalpodautoscalers"
#define V2 "/apis/autoscaling/v2/namespaces/apps/horizontalpodautoscalers"

/* kubectl 1.32's `kubectl autoscale deployment web --min=1 --max=3
 * --cpu-percent=50` body (-v=9) */
static const char KUBECTL_HPA_V1[] =
    "\x6b\x38\x73\x00\x0a\x29\x0a\x0e\x61\x75\x74\x6f\x73\x63\x61\x6c\x69\x6e\x67\x2f\x76\x31"
    "\x12\x17\x48\x6f\x72\x69\x7a\x6f\x6e\x74\x61\x6c\x50\x6f\x64\x41\x75\x74\x6f\x73\x63\x61"
    "\x6c\x65\x72\x12\x3f\x0a\x13\x0a\x03\x77\x65\x62\x12\x00\x1a\x00\x22\x00\x2a\x00\x32\x00"
    "\x38\x00\x42\x00\x12\x22\x0a\x1a\x0a\x0a\x44\x65\x70\x6c\x6f\x79\x6d\x65\x6e\x74\x12\x03"
    "\x77\x65\x62\x1a\x07\x61\x70\x70\x73\x2f\x76\x31\x10\x01\x18\x03\x20\x32\x1a\x04\x18\x00"
    "\x20\x00\x1a\x00\x22\x00";

static const char V1_JSON[] =
    "{\"apiVersion\":\"autoscaling/v1\",\"kind\":\"HorizontalPodAutoscaler\","
    "\"metadata\":{\"name\":\"json\"},\"spec\":{\"scaleTargetRef\":{\"apiVersion\":\"apps/v1\","
    "\"kind\":\"Deployment\",\"name\":\"web\"},\"minReplicas\":1,\"maxReplicas\":4,"
    "\"targetCPUUtilizationPercentage\":70}}";

struct fixture {
  char dir[64];
  char path[128];
  struct ss_api api;
};

static int setup(void **state) {
  struct fixture *f = calloc(1, sizeof *f);
  struct ss_error err = {0};
  if (!f)
    return -1;
  snprintf(f->dir, sizeof f->dir, "/tmp/ss_hpa_v1_test.XXXXXX");
  if (!mkdtemp(f->dir))
    return -1;
  snprintf(f->path, sizeof f->path, "%s/store.db", f->dir);
  if (ss_store_open(f->path, &f->api.cfg.store, &err)) {
    fprintf(stderr, "open: %s\n", err.msg);
    return -1;
  }
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fixture *f = *state;
  static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
  ss_store_close(f->api.cfg.store);
  for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
    char p[160];
    snprintf(p, sizeof p, "%s%s", f->path, suffixes[i]);
    unlink(p);
  }
  rmdir(f->dir);
  free(f);
  return 0;
}

/* One request through the handlers; the answer's body is kept in *body
 * (the caller frees it). Returns the status code. */
static int call(struct fixture *f, const char *method, const char *path, const char *ctype,
                const char *body, size_t len, json_t **out) {
  struct ss_api_req req = {.method = method, .path = path, .body = body, .body_len = len,
                           .content_type = ctype};
  struct ss_api_resp resp = {0};
  ss__api_handle(&f->api, &req, &resp);
  int code = resp.code;
  if (out)
    *out = json_incref(resp.body);
  ss__api_resp_free(&resp);
  return code;
}

/* The value at a dotted path ("spec.metrics.0.type"), or NULL. */
static json_t *at(json_t *obj, const char *path) {
  char buf[256], *save = NULL;
  snprintf(buf, sizeof buf, "%s", path);
  for (char *k = strtok_r(buf, ".", &save); k && obj; k = strtok_r(NULL, ".", &save))
    obj = json_is_array(obj) ? json_array_get(obj, (size_t)atoi(k)) : json_object_get(obj, k);
  return obj;
}

static const char *str_at(json_t *obj, const char *path) {
  return json_string_value(at(obj, path));
}

static json_int_t int_at(json_t *obj, const char *path) {
  return json_integer_value(at(obj, path));
}

/* ---- the conversions ---- */

static void test_v1_to_v2_and_back(void **state) {
  (void)state;
  json_t *v1 = json_loads(V1_JSON, 0, NULL);
  json_object_set_new(v1, "status",
                      json_pack("{s:i, s:i, s:i}", "currentReplicas", 2, "desiredReplicas", 3,
                                "currentCPUUtilizationPercentage", 91));
  json_t *v2 = ss_api_hpa_v1_to_v2(v1);
  assert_non_null(v2);
  assert_string_equal(str_at(v2, "apiVersion"), "autoscaling/v2");
  assert_null(at(v2, "spec.targetCPUUtilizationPercentage"));
  assert_string_equal(str_at(v2, "spec.metrics.0.type"), "Resource");
  assert_string_equal(str_at(v2, "spec.metrics.0.resource.name"), "cpu");
  assert_string_equal(str_at(v2, "spec.metrics.0.resource.target.type"), "Utilization");
  assert_int_equal(int_at(v2, "spec.metrics.0.resource.target.averageUtilization"), 70);
  assert_int_equal(int_at(v2, "status.currentMetrics.0.resource.current.averageUtilization"), 91);
  assert_int_equal(int_at(v2, "spec.maxReplicas"), 4);

  /* a v2 object with what v1 cannot say: only the cpu percentage stays */
  json_t *more = json_pack("{s:s, s:{s:s, s:{s:s, s:s}}}", "type", "Pods", "pods", "metric",
                           "name", "rps", "target", "type", "AverageValue");
  json_array_insert_new(at(v2, "spec.metrics"), 0, more);
  json_object_set_new(at(v2, "spec"), "behavior", json_object());
  json_t *back = ss_api_hpa_v2_to_v1(v2);
  assert_non_null(back);
  json_object_del(v1, "status");
  json_object_set_new(v1, "status", json_pack("{s:i, s:i, s:i}", "currentReplicas", 2,
                                               "desiredReplicas", 3,
                                               "currentCPUUtilizationPercentage", 91));
  assert_true(json_equal(back, v1));
  json_decref(back);
  json_decref(v2);
  json_decref(v1);
}

static void test_v1_without_a_target_has_no_metrics(void **state) {
  (void)state;
  json_t *v1 = json_loads(V1_JSON, 0, NULL);
  json_object_del(at(v1, "spec"), "targetCPUUtilizationPercentage");
  json_t *v2 = ss_api_hpa_v1_to_v2(v1);
  assert_null(at(v2, "spec.metrics"));
  json_t *back = ss_api_hpa_v2_to_v1(v2);
  assert_null(at(back, "spec.targetCPUUtilizationPercentage"));
  json_decref(back);
  json_decref(v2);
  json_decref(v1);
}

/* ---- served through the handlers ---- */

static void test_v1_json_is_stored_as_v2_and_answered_in_v1(void **state) {
  struct fixture *f = *state;
  json_t *body = NULL;
  assert_int_equal(call(f, "POST", V1, "application/json", V1_JSON, strlen(V1_JSON), &body), 201);
  assert_string_equal(str_at(body, "apiVersion"), "autoscaling/v1");
  assert_int_equal(int_at(body, "spec.targetCPUUtilizationPercentage"), 70);
  json_decref(body);

  assert_int_equal(call(f, "GET", V2 "/json", NULL, NULL, 0, &body), 200);
  assert_string_equal(str_at(body, "apiVersion"), "autoscaling/v2");
  assert_int_equal(int_at(body, "spec.metrics.0.resource.target.averageUtilization"), 70);
  assert_string_equal(str_at(body, "spec.scaleTargetRef.kind"), "Deployment");
  json_decref(body);

  assert_int_equal(call(f, "GET", V1, NULL, NULL, 0, &body), 200);
  assert_string_equal(str_at(body, "apiVersion"), "autoscaling/v1");
  assert_string_equal(str_at(body, "items.0.apiVersion"), "autoscaling/v1");
  assert_int_equal(int_at(body, "items.0.spec.targetCPUUtilizationPercentage"), 70);
  json_decref(body);

  assert_int_equal(call(f, "DELETE", V1 "/json", NULL, NULL, 0, &body), 200);
  assert_string_equal(str_at(body, "apiVersion"), "autoscaling/v1");
  json_decref(body);
  assert_int_equal(call(f, "GET", V2 "/json", NULL, NULL, 0, NULL), 404);
}

static void test_kubectl_autoscale_protobuf(void **state) {
  struct fixture *f = *state;
  json_t *body = NULL;
  assert_int_equal(call(f, "POST", V1, "application/vnd.kubernetes.protobuf", KUBECTL_HPA_V1,
                        sizeof KUBECTL_HPA_V1 - 1, &body),
                   201);
  assert_string_equal(str_at(body, "metadata.name"), "web");
  assert_int_equal(int_at(body, "spec.targetCPUUtilizationPercentage"), 50);
  json_decref(body);
  assert_int_equal(call(f, "GET", V2 "/web", NULL, NULL, 0, &body), 200);
  assert_int_equal(int_at(body, "spec.minReplicas"), 1);
  assert_int_equal(int_at(body, "spec.maxReplicas"), 3);
  assert_string_equal(str_at(body, "spec.metrics.0.resource.target.type"), "Utilization");
  assert_int_equal(int_at(body, "spec.metrics.0.resource.target.averageUtilization"), 50);
  json_decref(body);
}

static void test_v1_refusals(void **state) {
  struct fixture *f = *state;
  json_t *body = NULL;
  const char *merge = "{\"spec\":{\"maxReplicas\":5}}";
  assert_int_equal(call(f, "PATCH", V1 "/x", "application/merge-patch+json", merge,
                        strlen(merge), &body),
                   405);
  assert_non_null(strstr(str_at(body, "message"), "autoscaling/v2"));
  json_decref(body);

  char v2_body[sizeof V1_JSON + 8];
  snprintf(v2_body, sizeof v2_body, "%s", V1_JSON);
  memcpy(strstr(v2_body, "autoscaling/v1"), "autoscaling/v2", 14);
  assert_int_equal(call(f, "POST", V1, "application/json", v2_body, strlen(v2_body), &body),
                   400);
  assert_non_null(strstr(str_at(body, "message"), "(autoscaling/v2) does not match"));
  json_decref(body);

  /* bad protobuf at v1: the same 400 as anywhere */
  assert_int_equal(call(f, "POST", V1, "application/vnd.kubernetes.protobuf", KUBECTL_HPA_V1, 30,
                        &body),
                   400);
  assert_non_null(strstr(str_at(body, "message"), "could not be decoded: protobuf:"));
  json_decref(body);
  /* an invalid v1 HPA: refused naming the v2 field */
  const char *bad = "{\"metadata\":{\"name\":\"bad\"},\"spec\":{\"scaleTargetRef\":{\"kind\":"
                    "\"Deployment\",\"name\":\"web\"},\"maxReplicas\":0}}";
  assert_int_equal(call(f, "POST", V1, "application/json", bad, strlen(bad), &body), 422);
  assert_non_null(strstr(str_at(body, "message"), "spec.maxReplicas"));
  json_decref(body);
  /* other groups and versions are not touched */
  assert_int_equal(call(f, "GET", "/apis/autoscaling/v1/namespaces/apps/scaledobjects", NULL,
                        NULL, 0, NULL),
                   404);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_v1_to_v2_and_back),
      cmocka_unit_test(test_v1_without_a_target_has_no_metrics),
      cmocka_unit_test_setup_teardown(test_v1_json_is_stored_as_v2_and_answered_in_v1, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_kubectl_autoscale_protobuf, setup, teardown),
      cmocka_unit_test_setup_teardown(test_v1_refusals, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
