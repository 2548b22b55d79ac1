/* test_scalers.c: unit tests for src/control/scalers.c, the SeldonDeployment
 * controller's HPAs and ScaledObjects against a real store in a temporary
 * directory: stored from the hpaSpec or kedaSpec, owned by the
 * SeldonDeployment; an edit put back; collected when the spec or the owner
 * goes; a user's left alone; the index of what every autoscaler aims at. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "control/scalers.h"

#define DEP "m-p-0-c" /* the Deployment the SeldonDeployment below runs */

static const struct ss_kind_ref SDEP_KIND = {"machinelearning.seldon.io", "seldondeployments"};

static const char *SDEP_KEDA =
    "{\"apiVersion\":\"machinelearning.seldon.io/v1\",\"kind\":\"SeldonDeployment\","
    "\"metadata\":{\"name\":\"m\",\"namespace\":\"ns\","
    "\"annotations\":{\"autoscaling.keda.sh/paused\":\"true\",\"other\":\"x\"}},"
    "\"spec\":{\"predictors\":[{\"name\":\"p\",\"graph\":{\"name\":\"c\",\"type\":\"MODEL\"},"
    "\"componentSpecs\":[{\"spec\":{\"containers\":[{\"name\":\"c\","
    "\"image\":\"seldonio/mock_classifier:1.0\"}]},"
    "\"kedaSpec\":{\"minReplicaCount\":1,\"maxReplicaCount\":4,\"triggers\":[{\"type\":"
    "\"prometheus\",\"metadata\":{\"threshold\":\"10\",\"query\":\"up\"}}]}}]}]}}";

static const char *SDEP_HPA =
    "{\"apiVersion\":\"machinelearning.seldon.io/v1\",\"kind\":\"SeldonDeployment\","
    "\"metadata\":{\"name\":\"m\",\"namespace\":\"ns\"},"
    "\"spec\":{\"predictors\":[{\"name\":\"p\",\"graph\":{\"name\":\"c\",\"type\":\"MODEL\"},"
    "\"componentSpecs\":[{\"spec\":{\"containers\":[{\"name\":\"c\","
    "\"image\":\"seldonio/mock_classifier:1.0\",\"resources\":{\"requests\":{\"cpu\":\"1\"}}}]},"
    "\"hpaSpec\":{\"maxReplicas\":3}}]}]}}";

struct fixture {
  char dir[64];
  struct ss_store *st;
  struct ss_scalers *sc;
};

static int setup(void **state) {
  struct fixture *f = calloc(1, sizeof *f);
  snprintf(f->dir, sizeof f->dir, "/tmp/ss-scalers-XXXXXX");
  if (!mkdtemp(f->dir))
    return -1;
  char db[128];
  snprintf(db, sizeof db, "%s/db", f->dir);
  struct ss_error err = {0};
  if (ss_store_open(db, &f->st, &err) || !(f->sc = ss_scalers_new(f->st)))
    return -1;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fixture *f = *state;
  ss_scalers_free(f->sc);
  ss_store_close(f->st);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
  if (system(cmd) != 0)
    return -1;
  free(f);
  return 0;
}

/* Stores (or replaces) the SeldonDeployment; returns it as stored (uid). */
static json_t *put_sdep(struct fixture *f, const char *text) {
  json_t *obj = json_loads(text, 0, NULL), *stored = NULL;
  assert_non_null(obj);
  if (ss_store_update(f->st, SDEP_KIND, obj, &stored, NULL) == SS_ENOTFOUND)
    assert_int_equal(ss_store_create(f->st, SDEP_KIND, obj, &stored, NULL), SS_EOK);
  json_decref(obj);
  return stored;
}

/* One controller pass over the SeldonDeployment obj (NULL: it is gone). */
static void pass(struct fixture *f, json_t *obj) {
  ss_scalers_begin(f->sc);
  if (obj) {
    json_t *copy = json_deep_copy(obj);
    struct ss_resource res;
    assert_int_equal(ss_resource_decode(copy, NULL, "", NULL, &res), SS_EOK);
    assert_int_equal(res.diags.errors, 0);
    assert_int_equal(ss_scalers_sync(f->sc, obj, &res, NULL), SS_EOK);
    ss_resource_free(&res);
    json_decref(copy);
  }
  ss_scalers_collect(f->sc);
}

static json_t *get(struct fixture *f, struct ss_kind_ref k, const char *name) {
  json_t *o = NULL;
  ss_store_get(f->st, k, "ns", name, &o, NULL);
  return o;
}

static void test_a_kedaSpec_becomes_an_owned_scaled_object(void **state) {
  struct fixture *f = *state;
  json_t *sdep = put_sdep(f, SDEP_KEDA);
  pass(f, sdep);
  json_t *so = get(f, SS_SCALEDOBJECT_KIND, DEP);
  assert_non_null(so);
  const json_t *md = json_object_get(so, "metadata");
  const json_t *ref = json_array_get(json_object_get(md, "ownerReferences"), 0);
  assert_string_equal(json_string_value(json_object_get(ref, "kind")), "SeldonDeployment");
  assert_string_equal(json_string_value(json_object_get(ref, "uid")),
                      json_string_value(json_object_get(json_object_get(sdep, "metadata"), "uid")));
  assert_true(json_is_true(json_object_get(ref, "controller")));
  /* KEDA's pause annotation is inherited, others are not */
  const json_t *ann = json_object_get(md, "annotations");
  assert_string_equal(json_string_value(json_object_get(ann, "autoscaling.keda.sh/paused")), "true");
  assert_null(json_object_get(ann, "other"));
  const json_t *spec = json_object_get(so, "spec");
  assert_string_equal(
      json_string_value(json_object_get(json_object_get(spec, "scaleTargetRef"), "name")), DEP);
  /* a trigger without serverAddress keeps none: the embedded metrics answer it */
  assert_null(json_object_get(
      json_object_get(json_array_get(json_object_get(spec, "triggers"), 0), "metadata"),
      "serverAddress"));
  assert_true(ss_scalers_aim_at(f->sc, "ns", "Deployment", DEP));
  assert_false(ss_scalers_aim_at(f->sc, "ns", "Deployment", "other"));
  json_decref(so);
  json_decref(sdep);
}

static void test_an_hpaSpec_becomes_an_hpa_with_the_api_servers_defaults(void **state) {
  struct fixture *f = *state;
  json_t *sdep = put_sdep(f, SDEP_HPA);
  pass(f, sdep);
  json_t *h = get(f, SS_HPA_KIND, DEP);
  assert_non_null(h);
  const json_t *spec = json_object_get(h, "spec");
  assert_int_equal(json_integer_value(json_object_get(spec, "minReplicas")), 1);
  assert_int_equal(json_integer_value(json_object_get(spec, "maxReplicas")), 3);
  const json_t *m = json_array_get(json_object_get(spec, "metrics"), 0);
  assert_int_equal(json_integer_value(json_object_get(
                       json_object_get(json_object_get(m, "resource"), "target"),
                       "averageUtilization")),
                   80);
  json_decref(h);
  json_decref(sdep);
}

static void test_an_edit_is_put_back_and_a_status_kept(void **state) {
  struct fixture *f = *state;
  json_t *sdep = put_sdep(f, SDEP_HPA);
  pass(f, sdep);
  json_t *h = get(f, SS_HPA_KIND, DEP);
  json_object_set_new(json_object_get(h, "spec"), "maxReplicas", json_integer(9));
  json_object_del(json_object_get(h, "metadata"), "resourceVersion");
  assert_int_equal(ss_store_update(f->st, SS_HPA_KIND, h, NULL, NULL), SS_EOK);
  json_t *st = json_pack("{s:i}", "desiredReplicas", 2);
  assert_int_equal(ss_store_update_status(f->st, SS_HPA_KIND, "ns", DEP, st, NULL, NULL, NULL),
                   SS_EOK);
  json_decref(st);
  json_decref(h);
  pass(f, sdep);
  h = get(f, SS_HPA_KIND, DEP);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(h, "spec"), "maxReplicas")), 3);
  /* the status is the HPA controller's: kept */
  assert_int_equal(
      json_integer_value(json_object_get(json_object_get(h, "status"), "desiredReplicas")), 2);
  json_decref(h);
  json_decref(sdep);
}

static void test_collected_with_the_spec_or_the_owner_and_a_users_kept(void **state) {
  struct fixture *f = *state;
  json_t *sdep = put_sdep(f, SDEP_KEDA);
  pass(f, sdep);
  /* a user's HPA aimed at the SeldonDeployment */
  json_t *mine = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:{s:s, s:s}, s:i}}", "apiVersion",
                           "autoscaling/v2", "kind", "HorizontalPodAutoscaler", "metadata", "name",
                           "mine", "namespace", "ns", "spec", "scaleTargetRef", "kind",
                           "SeldonDeployment", "name", "m", "maxReplicas", 2);
  assert_int_equal(ss_store_create(f->st, SS_HPA_KIND, mine, NULL, NULL), SS_EOK);
  json_decref(mine);
  json_decref(sdep);
  /* the kedaSpec replaced by an hpaSpec: the ScaledObject goes, an HPA comes */
  sdep = put_sdep(f, SDEP_HPA);
  pass(f, sdep);
  json_t *o = get(f, SS_SCALEDOBJECT_KIND, DEP);
  assert_null(o);
  o = get(f, SS_HPA_KIND, DEP);
  assert_non_null(o);
  json_decref(o);
  assert_true(ss_scalers_aim_at(f->sc, "ns", "SeldonDeployment", "m"));
  /* the owner deleted: its HPA goes, the user's stays */
  assert_int_equal(ss_store_delete(f->st, SDEP_KIND, "ns", "m", NULL, NULL), SS_EOK);
  pass(f, NULL);
  assert_null(get(f, SS_HPA_KIND, DEP));
  assert_false(ss_scalers_aim_at(f->sc, "ns", "Deployment", DEP));
  o = get(f, SS_HPA_KIND, "mine");
  assert_non_null(o);
  json_decref(o);
  json_decref(sdep);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_a_kedaSpec_becomes_an_owned_scaled_object, setup, teardown),
      cmocka_unit_test_setup_teardown(test_an_hpaSpec_becomes_an_hpa_with_the_api_servers_defaults, setup, teardown),
      cmocka_unit_test_setup_teardown(test_an_edit_is_put_back_and_a_status_kept, setup, teardown),
      cmocka_unit_test_setup_teardown(test_collected_with_the_spec_or_the_owner_and_a_users_kept, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
