/* test_deployments.c: unit tests for src/control/deployments.c: the
 * Deployment status (what kubectl and `kubectl rollout status` read) as a
 * function of what runs, and the store side (create, update only what
 * changed, garbage collection by owner uid) against a real store in a
 * temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "control/deployments.h"

static const json_t *cond(const json_t *st, const char *type) {
  size_t i;
  const json_t *c;
  json_array_foreach(json_object_get(st, "conditions"), i, c)
    if (strcmp(json_string_value(json_object_get(c, "type")), type) == 0)
      return c;
  return NULL;
}

static const char *cstr(const json_t *c, const char *key) {
  return json_string_value(json_object_get(c, key));
}

static json_int_t ival(const json_t *o, const char *key) {
  return json_integer_value(json_object_get(o, key));
}

static void test_status_settled(void **state) {
  (void)state;
  struct ss_rs_status rs = {.replicas = 3, .running = 3, .ready = 3, .updated = 3};
  struct ss_deploy_run run = {"d", 3, &rs, NULL};
  json_t *st = ss_deployment_status(&run, 4, NULL, "2026-01-01T00:00:00Z");
  assert_int_equal(ival(st, "observedGeneration"), 4);
  assert_int_equal(ival(st, "replicas"), 3);
  assert_int_equal(ival(st, "updatedReplicas"), 3);
  assert_int_equal(ival(st, "readyReplicas"), 3);
  assert_int_equal(ival(st, "availableReplicas"), 3);
  assert_null(json_object_get(st, "unavailableReplicas")); /* omitted when 0, as Kubernetes */
  assert_string_equal(cstr(cond(st, "Available"), "status"), "True");
  assert_string_equal(cstr(cond(st, "Available"), "reason"), "MinimumReplicasAvailable");
  assert_string_equal(cstr(cond(st, "Progressing"), "reason"), "NewReplicaSetAvailable");
  json_decref(st);
}

static void test_status_scaling_up(void **state) {
  (void)state;
  /* 4 wanted, 1 ready: under 4 - 25% = 3 available: not Available yet */
  struct ss_rs_status rs = {.replicas = 4, .running = 4, .ready = 1, .updated = 4};
  struct ss_deploy_run run = {"d", 4, &rs, NULL};
  json_t *st = ss_deployment_status(&run, 2, NULL, "2026-01-01T00:00:00Z");
  assert_int_equal(ival(st, "unavailableReplicas"), 3);
  assert_string_equal(cstr(cond(st, "Available"), "status"), "False");
  assert_string_equal(cstr(cond(st, "Available"), "reason"), "MinimumReplicasUnavailable");
  assert_string_equal(cstr(cond(st, "Progressing"), "reason"), "ReplicaSetUpdated");
  /* 3 of 4 ready: maxUnavailable 25% of 4 is 1, so it is Available */
  rs.ready = 3;
  json_t *st2 = ss_deployment_status(&run, 2, st, "2026-01-01T00:01:00Z");
  assert_string_equal(cstr(cond(st2, "Available"), "status"), "True");
  /* it changed: its transition time is now */
  assert_string_equal(cstr(cond(st2, "Available"), "lastTransitionTime"), "2026-01-01T00:01:00Z");
  /* Progressing stayed True with the same reason: its times are kept */
  assert_string_equal(cstr(cond(st2, "Progressing"), "lastTransitionTime"),
                      "2026-01-01T00:00:00Z");
  json_decref(st);
  json_decref(st2);
}

static void test_status_draining_and_failed(void **state) {
  (void)state;
  /* scaled 3 -> 1: two replicas still draining */
  struct ss_rs_status rs = {.replicas = 1, .running = 3, .ready = 1, .updated = 1};
  struct ss_deploy_run run = {"d", 1, &rs, NULL};
  json_t *st = ss_deployment_status(&run, 1, NULL, "t");
  /* kubectl rollout status waits while replicas > updatedReplicas */
  assert_int_equal(ival(st, "replicas"), 3);
  assert_int_equal(ival(st, "updatedReplicas"), 1);
  assert_string_equal(cstr(cond(st, "Progressing"), "reason"), "ReplicaSetUpdated");
  json_decref(st);
  struct ss_rs_status bad = {.replicas = 1, .failed = true};
  snprintf(bad.message, sizeof bad.message, "exec failed");
  run.rs = &bad;
  st = ss_deployment_status(&run, 1, NULL, "t");
  /* kubectl rollout status fails on ProgressDeadlineExceeded */
  assert_string_equal(cstr(cond(st, "Progressing"), "status"), "False");
  assert_string_equal(cstr(cond(st, "Progressing"), "reason"), "ProgressDeadlineExceeded");
  assert_non_null(strstr(cstr(cond(st, "Progressing"), "message"), "exec failed"));
  json_decref(st);
  /* not running at all (NULL): nothing counted */
  run.rs = NULL;
  st = ss_deployment_status(&run, 1, NULL, "t");
  assert_int_equal(ival(st, "replicas"), 0);
  assert_int_equal(ival(st, "unavailableReplicas"), 1);
  json_decref(st);
}

/* ---- against a store ---- */

static const char *SDEP =
    "{\"apiVersion\":\"machinelearning.seldon.io/v1\",\"kind\":\"SeldonDeployment\","
    "\"metadata\":{\"name\":\"m\",\"namespace\":\"ns\",\"uid\":\"U1\"},"
    "\"spec\":{\"predictors\":[{\"name\":\"p\",\"graph\":{\"name\":\"c\",\"type\":\"MODEL\"},"
    "\"componentSpecs\":[{\"spec\":{\"containers\":[{\"name\":\"c\","
    "\"image\":\"seldonio/mock_classifier:1.0\"}]}}]}]}}";

struct fixture {
  char dir[64];
  struct ss_store *st;
  struct ss_deployments *d;
  json_t *obj;
  struct ss_resource res;
};

static int setup(void **state) {
  struct fixture *f = calloc(1, sizeof *f);
  snprintf(f->dir, sizeof f->dir, "/tmp/ss-deploy-XXXXXX");
  if (!mkdtemp(f->dir))
    return -1;
  char db[128];
  snprintf(db, sizeof db, "%s/db", f->dir);
  struct ss_error err = {0};
  if (ss_store_open(db, &f->st, &err))
    return -1;
  f->d = ss_deployments_new(f->st);
  f->obj = json_loads(SDEP, 0, NULL);
  if (!f->d || !f->obj || ss_resource_decode(f->obj, NULL, "", NULL, &f->res))
    return -1;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fixture *f = *state;
  ss_resource_free(&f->res);
  json_decref(f->obj);
  ss_deployments_free(f->d);
  ss_store_close(f->st);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
  if (system(cmd) != 0)
    return -1;
  free(f);
  return 0;
}

static json_t *stored(struct fixture *f, const char *name) {
  json_t *o = NULL;
  ss_store_get(f->st, SS_DEPLOYMENTS_KIND, "ns", name, &o, NULL);
  return o;
}

static void test_store_sync_and_collect(void **state) {
  struct fixture *f = *state;
  assert_int_equal(f->res.diags.errors, 0);
  struct ss_rs_status rs = {.replicas = 2, .running = 2, .ready = 2, .updated = 2};
  struct ss_deploy_run run = {"m-p-0-c", 2, &rs, NULL};
  struct ss_error err = {0};
  assert_int_equal(ss_deployments_sync(f->d, f->obj, &f->res, &run, 1, &err), SS_EOK);
  assert_int_equal(ss_deployments_collect(f->d), 0);
  json_t *o = stored(f, "m-p-0-c");
  assert_non_null(o);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "spec"), "replicas")), 2);
  json_t *ref = json_array_get(json_object_get(json_object_get(o, "metadata"), "ownerReferences"), 0);
  assert_string_equal(json_string_value(json_object_get(ref, "uid")), "U1");
  assert_int_equal(ival(json_object_get(o, "status"), "readyReplicas"), 2);
  uint64_t rv = ss_store_rv(f->st);
  json_decref(o);

  /* the same again: nothing is written (no new resourceVersion) */
  assert_int_equal(ss_deployments_sync(f->d, f->obj, &f->res, &run, 1, &err), SS_EOK);
  assert_int_equal(ss_deployments_collect(f->d), 0);
  assert_int_equal(ss_store_rv(f->st), rv);

  /* scaled: spec (generation 2) and status follow */
  run.spec_replicas = 3;
  rs.replicas = rs.running = rs.ready = rs.updated = 3;
  assert_int_equal(ss_deployments_sync(f->d, f->obj, &f->res, &run, 1, &err), SS_EOK);
  ss_deployments_collect(f->d);
  o = stored(f, "m-p-0-c");
  assert_int_equal(ival(json_object_get(o, "metadata"), "generation"), 2);
  assert_int_equal(ival(json_object_get(o, "status"), "observedGeneration"), 2);
  assert_int_equal(ival(json_object_get(o, "status"), "replicas"), 3);
  json_decref(o);

  /* an owner that failed to decode keeps what it owns */
  ss_deployments_keep_owner(f->d, "U1");
  assert_int_equal(ss_deployments_collect(f->d), 0);
  assert_non_null(o = stored(f, "m-p-0-c"));
  json_decref(o);

  /* the owner is gone (not synced, not kept): collected */
  assert_int_equal(ss_deployments_collect(f->d), 1);
  assert_null(stored(f, "m-p-0-c"));
}

/* Someone else writes a Deployment (a kubectl scale, a status patch): the
 * next pass sees it through the store's watch and writes it back, while a
 * pass after writes done by itself alone writes nothing. */
static void test_store_others_writes_are_undone(void **state) {
  struct fixture *f = *state;
  struct ss_rs_status rs = {.replicas = 2, .running = 2, .ready = 2, .updated = 2};
  struct ss_deploy_run run = {"m-p-0-c", 2, &rs, NULL};
  struct ss_error err = {0};
  for (int i = 0; i < 2; i++) {
    assert_int_equal(ss_deployments_sync(f->d, f->obj, &f->res, &run, 1, &err), SS_EOK);
    ss_deployments_collect(f->d);
  }
  uint64_t rv = ss_store_rv(f->st);
  /* passes that change nothing write nothing, also after another write to
   * the store (an object of another kind) */
  json_t *other = json_pack("{s:{s:s, s:s}, s:{s:s}}", "metadata", "name", "x", "namespace",
                            "ns", "data", "k", "v");
  assert_int_equal(ss_store_create(f->st, (struct ss_kind_ref){"", "configmaps"}, other, NULL,
                                   &err),
                   SS_EOK);
  json_decref(other);
  rv = ss_store_rv(f->st);
  for (int i = 0; i < 2; i++) {
    assert_int_equal(ss_deployments_sync(f->d, f->obj, &f->res, &run, 1, &err), SS_EOK);
    ss_deployments_collect(f->d);
  }
  assert_int_equal(ss_store_rv(f->st), rv);

  /* scaled behind the controller's back: scaled back */
  json_t *o = stored(f, "m-p-0-c");
  json_object_set_new(json_object_get(o, "spec"), "replicas", json_integer(5));
  json_object_del(json_object_get(o, "metadata"), "resourceVersion");
  assert_int_equal(ss_store_update(f->st, SS_DEPLOYMENTS_KIND, o, NULL, &err), SS_EOK);
  json_decref(o);
  assert_int_equal(ss_deployments_sync(f->d, f->obj, &f->res, &run, 1, &err), SS_EOK);
  ss_deployments_collect(f->d);
  o = stored(f, "m-p-0-c");
  assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "spec"), "replicas")), 2);
  json_decref(o);

  /* its status changed by someone else: written back */
  json_t *bogus = json_pack("{s:i}", "readyReplicas", 0);
  assert_int_equal(ss_store_update_status(f->st, SS_DEPLOYMENTS_KIND, "ns", "m-p-0-c", bogus,
                                          NULL, NULL, &err),
                   SS_EOK);
  json_decref(bogus);
  assert_int_equal(ss_deployments_sync(f->d, f->obj, &f->res, &run, 1, &err), SS_EOK);
  ss_deployments_collect(f->d);
  o = stored(f, "m-p-0-c");
  assert_int_equal(ival(json_object_get(o, "status"), "readyReplicas"), 2);
  json_decref(o);

  /* deleted behind its back: created again */
  assert_int_equal(ss_store_delete(f->st, SS_DEPLOYMENTS_KIND, "ns", "m-p-0-c", NULL, &err),
                   SS_EOK);
  assert_int_equal(ss_deployments_sync(f->d, f->obj, &f->res, &run, 1, &err), SS_EOK);
  ss_deployments_collect(f->d);
  assert_non_null(o = stored(f, "m-p-0-c"));
  assert_int_equal(ival(json_object_get(o, "status"), "readyReplicas"), 2);
  json_decref(o);

  /* and then quiet again */
  rv = ss_store_rv(f->st);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(ss_deployments_sync(f->d, f->obj, &f->res, &run, 1, &err), SS_EOK);
    ss_deployments_collect(f->d);
  }
  assert_int_equal(ss_store_rv(f->st), rv);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_status_settled),
      cmocka_unit_test(test_status_scaling_up),
      cmocka_unit_test(test_status_draining_and_failed),
      cmocka_unit_test_setup_teardown(test_store_sync_and_collect, setup, teardown),
      cmocka_unit_test_setup_teardown(test_store_others_writes_are_undone, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
