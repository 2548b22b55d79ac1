/* test_apply.c: unit tests for src/api/apply.c, server-side apply on JSON
 * values: create, a re-apply that changes nothing, fields a manager stops
 * applying, lists merged by key, Update entries of ordinary writes,
 * conflicts and force, managers' names; then the PATCH handler in process
 * (fieldManager required, create, no-op re-apply, dryRun=All, a conflict
 * as a 409 Status), each with its own store in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <unistd.h>

#include "api/apply.h"
#include "api/internal.h"

#define GV "machinelearning.seldon.io/v1"

static json_t *J(const char *s) {
  json_error_t e;
  json_t *v = json_loads(s, 0, &e);
  if (!v)
    fail_msg("bad test JSON: %s: %s", e.text, s);
  return v;
}

static struct ss_apply_op op_of(const char *manager, bool force, const char *now) {
  return (struct ss_apply_op){.manager = manager, .api_version = GV, .now = now, .force = force,
                              .reset_status = true};
}

/* Applies cfg (a JSON text) over live (borrowed, may be NULL); asserts it
 * succeeds and returns the new object. */
static json_t *apply_ok(const json_t *live, const char *cfg, const char *manager,
                        const char *now) {
  json_t *c = J(cfg), *out = NULL, *conflicts = NULL;
  struct ss_error err = {0};
  struct ss_apply_op op = op_of(manager, false, now);
  enum ss_err rc = ss_apply(live, c, &op, &out, &conflicts, &err);
  if (rc)
    fail_msg("apply by %s: %s", manager, rc == SS_ECONFLICT ? "conflict" : err.msg);
  json_decref(c);
  return out;
}

static json_t *mf(const json_t *obj) {
  return json_object_get(json_object_get(obj, "metadata"), "managedFields");
}

static json_t *entry_of(const json_t *obj, const char *manager, const char *op) {
  size_t i;
  json_t *e;
  json_array_foreach(mf(obj), i, e) {
    if (strcmp(json_string_value(json_object_get(e, "manager")), manager) == 0 &&
        strcmp(json_string_value(json_object_get(e, "operation")), op) == 0)
      return e;
  }
  return NULL;
}

static void assert_json(const json_t *got, const char *want) {
  json_t *w = J(want);
  if (!json_equal((json_t *)got, w)) {
    char *g = json_dumps(got, JSON_SORT_KEYS | JSON_ENCODE_ANY);
    fail_msg("got %s\nwant %s", g ? g : "NULL", want);
  }
  json_decref(w);
}

#define SDEP_CFG(extra_spec)                                                               \
  "{\"apiVersion\": \"" GV "\", \"kind\": \"SeldonDeployment\", \"metadata\": {\"name\": " \
  "\"m\", \"labels\": {\"app\": \"x\"}}, \"spec\": {" extra_spec "\"predictors\": "       \
  "[{\"name\": \"p\", \"graph\": {\"name\": \"c\"}}]}}"

/* ---- the engine ---- */

static void test_create_records_an_apply_entry(void **state) {
  (void)state;
  json_t *obj = apply_ok(NULL, SDEP_CFG("\"replicas\": 2, "), "a", "2025-01-01T00:00:00Z");
  assert_int_equal(json_integer_value(json_object_get(json_object_get(obj, "spec"), "replicas")), 2);
  assert_int_equal(json_array_size(mf(obj)), 1);
  json_t *e = json_array_get(mf(obj), 0);
  assert_json(e, "{\"manager\": \"a\", \"operation\": \"Apply\", \"apiVersion\": \"" GV "\", "
                 "\"time\": \"2025-01-01T00:00:00Z\", \"fieldsType\": \"FieldsV1\", "
                 "\"fieldsV1\": {\"f:metadata\": {\"f:labels\": {\"f:app\": {}}}, \"f:spec\": "
                 "{\"f:replicas\": {}, \"f:predictors\": {\"k:{\\\"name\\\":\\\"p\\\"}\": "
                 "{\".\": {}, \"f:name\": {}, \"f:graph\": {\"f:name\": {}}}}}}}");
  json_decref(obj);
}

static void test_reapply_unchanged_changes_nothing(void **state) {
  (void)state;
  json_t *one = apply_ok(NULL, SDEP_CFG("\"replicas\": 2, "), "a", "2025-01-01T00:00:00Z");
  json_t *two = apply_ok(one, SDEP_CFG("\"replicas\": 2, "), "a", "2025-06-01T00:00:00Z");
  assert_true(json_equal(one, two)); /* not even the time: nothing changed */
  json_decref(one);
  json_decref(two);
}

static void test_a_field_no_longer_applied_is_removed(void **state) {
  (void)state;
  json_t *one = apply_ok(NULL, SDEP_CFG("\"replicas\": 2, \"annotations\": {\"k\": \"v\"}, "),
                         "a", "t1");
  json_t *two = apply_ok(one, SDEP_CFG(""), "a", "t2");
  json_t *spec = json_object_get(two, "spec");
  assert_null(json_object_get(spec, "replicas"));
  assert_null(json_object_get(spec, "annotations"));
  assert_string_equal(json_string_value(json_object_get(entry_of(two, "a", "Apply"), "time")),
                      "t2");
  json_decref(one);
  json_decref(two);
}

static void test_a_field_another_manager_owns_stays(void **state) {
  (void)state;
  json_t *one = apply_ok(NULL, SDEP_CFG("\"replicas\": 2, "), "a", "t1");
  json_t *two = apply_ok(one, "{\"apiVersion\": \"" GV "\", \"kind\": \"SeldonDeployment\", "
                              "\"metadata\": {\"name\": \"m\", \"labels\": {\"app\": \"x\"}}}",
                         "b", "t2");
  /* a stops applying the label; b still applies it */
  json_t *three = apply_ok(two, "{\"apiVersion\": \"" GV "\", \"kind\": \"SeldonDeployment\", "
                                "\"metadata\": {\"name\": \"m\"}, \"spec\": {\"predictors\": "
                                "[{\"name\": \"p\", \"graph\": {\"name\": \"c\"}}]}}",
                           "a", "t3");
  assert_string_equal(json_string_value(json_object_get(
                          json_object_get(json_object_get(three, "metadata"), "labels"), "app")),
                      "x");
  assert_null(json_object_get(json_object_get(three, "spec"), "replicas"));
  json_decref(one);
  json_decref(two);
  json_decref(three);
}

static void test_predictors_merge_by_name(void **state) {
  (void)state;
  json_t *one = apply_ok(NULL, "{\"apiVersion\": \"" GV "\", \"kind\": \"SeldonDeployment\", "
                               "\"metadata\": {\"name\": \"m\"}, \"spec\": {\"predictors\": ["
                               "{\"name\": \"p1\", \"graph\": {\"name\": \"c\"}}, "
                               "{\"name\": \"p2\", \"graph\": {\"name\": \"c\"}}]}}",
                         "a", "t1");
  json_t *two = apply_ok(one, "{\"apiVersion\": \"" GV "\", \"kind\": \"SeldonDeployment\", "
                              "\"metadata\": {\"name\": \"m\"}, \"spec\": {\"predictors\": ["
                              "{\"name\": \"p3\", \"traffic\": 10}, "
                              "{\"name\": \"p1\", \"traffic\": 90}]}}",
                         "b", "t2");
  assert_json(json_object_get(json_object_get(two, "spec"), "predictors"),
              "[{\"name\": \"p3\", \"traffic\": 10}, "
              "{\"name\": \"p1\", \"graph\": {\"name\": \"c\"}, \"traffic\": 90}, "
              "{\"name\": \"p2\", \"graph\": {\"name\": \"c\"}}]");
  /* a stops applying p2: gone; p1 stays (a still applies it), p3 is b's */
  json_t *three = apply_ok(two, "{\"apiVersion\": \"" GV "\", \"kind\": \"SeldonDeployment\", "
                                "\"metadata\": {\"name\": \"m\"}, \"spec\": {\"predictors\": ["
                                "{\"name\": \"p1\", \"graph\": {\"name\": \"c\"}}]}}",
                           "a", "t3");
  assert_json(json_object_get(json_object_get(three, "spec"), "predictors"),
              "[{\"name\": \"p3\", \"traffic\": 10}, "
              "{\"name\": \"p1\", \"graph\": {\"name\": \"c\"}, \"traffic\": 90}]");
  json_decref(one);
  json_decref(two);
  json_decref(three);
}

#define DEPLOY(env, extra_c)                                                                  \
  "{\"apiVersion\": \"apps/v1\", \"kind\": \"Deployment\", \"metadata\": {\"name\": \"d\"}, " \
  "\"spec\": {\"template\": {\"spec\": {\"containers\": [{\"name\": \"c\", \"image\": "       \
  "\"i\", \"env\": [" env "]" extra_c "}]}}}}"

static void test_containers_env_and_ports_merge_by_key(void **state) {
  (void)state;
  json_t *one = apply_ok(NULL, DEPLOY("{\"name\": \"A\", \"value\": \"1\"}",
                                      ", \"ports\": [{\"containerPort\": 80}], \"args\": [\"x\"]"),
                         "a", "t1");
  /* b adds a variable; a replaces its atomic args */
  json_t *mid = apply_ok(one, DEPLOY("{\"name\": \"B\", \"value\": \"2\"}", ""), "b", "t2");
  json_t *two = apply_ok(mid, DEPLOY("{\"name\": \"A\", \"value\": \"1\"}",
                                     ", \"ports\": [{\"containerPort\": 80}], "
                                     "\"args\": [\"y\", \"z\"]"), "a", "t3");
  json_decref(mid);
  json_t *tspec = json_object_get(json_object_get(json_object_get(two, "spec"), "template"),
                                  "spec");
  json_t *c0 = json_array_get(json_object_get(tspec, "containers"), 0);
  assert_json(json_object_get(c0, "env"),
              "[{\"name\": \"A\", \"value\": \"1\"}, {\"name\": \"B\", \"value\": \"2\"}]");
  assert_json(json_object_get(c0, "args"), "[\"y\", \"z\"]"); /* atomic: replaced whole */
  const json_t *v1 = json_object_get(entry_of(one, "a", "Apply"), "fieldsV1");
  const json_t *c = json_object_get(
      json_object_get(json_object_get(json_object_get(json_object_get(v1, "f:spec"),
                                                      "f:template"), "f:spec"), "f:containers"),
      "k:{\"name\":\"c\"}");
  assert_non_null(json_object_get(json_object_get(c, "f:ports"),
                                  "k:{\"containerPort\":80,\"protocol\":\"TCP\"}"));
  assert_non_null(json_object_get(c, "f:args"));
  json_decref(one);
  json_decref(two);
}

/* kubectl scale sets spec.replicas through /scale: an Update entry. */
static json_t *scaled(const json_t *live, int replicas) {
  json_t *next = json_deep_copy(live);
  json_object_set_new(json_object_get(next, "spec"), "replicas", json_integer(replicas));
  struct ss_apply_op op = {.manager = "kubectl", .api_version = GV, .subresource = "scale",
                           .now = "t5", .reset_status = true};
  ss_apply_record_update(live, next, &op);
  return next;
}

static void test_update_entries_and_conflicts(void **state) {
  (void)state;
  json_t *one = apply_ok(NULL, SDEP_CFG(""), "kubectl", "t1");
  json_t *two = scaled(one, 2);
  assert_json(json_object_get(entry_of(two, "kubectl", "Update"), "fieldsV1"),
              "{\"f:spec\": {\"f:replicas\": {}}}");
  assert_string_equal(json_string_value(json_object_get(entry_of(two, "kubectl", "Update"),
                                                        "subresource")), "scale");
  json_t *cfg = J(SDEP_CFG("\"replicas\": 1, ")), *out = NULL, *conflicts = NULL;
  struct ss_error err = {0};
  struct ss_apply_op op = op_of("other", false, "t6");
  assert_int_equal(ss_apply(two, cfg, &op, &out, &conflicts, &err), SS_ECONFLICT);
  assert_null(out);
  assert_json(conflicts, "[{\"manager\": \"\\\"kubectl\\\" with subresource \\\"scale\\\" using "
                         GV "\", \"field\": \".spec.replicas\"}]");
  json_t *st = ss_apply_conflict_status(conflicts);
  assert_int_equal(json_integer_value(json_object_get(st, "code")), 409);
  assert_string_equal(json_string_value(json_object_get(st, "reason")), "Conflict");
  assert_string_equal(json_string_value(json_object_get(st, "message")),
                      "Apply failed with 1 conflict: conflict with \"kubectl\" with subresource "
                      "\"scale\" using " GV ": .spec.replicas");
  assert_json(json_object_get(json_object_get(st, "details"), "causes"),
              "[{\"reason\": \"FieldManagerConflict\", \"message\": \"conflict with \\\"kubectl\\\" "
              "with subresource \\\"scale\\\" using " GV "\", \"field\": \".spec.replicas\"}]");
  json_decref(st);
  json_decref(conflicts);
  conflicts = NULL;
  /* force: the applier takes the field; the scale entry, left empty, goes */
  op.force = true;
  assert_int_equal(ss_apply(two, cfg, &op, &out, &conflicts, &err), SS_EOK);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(out, "spec"), "replicas")), 1);
  assert_null(entry_of(out, "kubectl", "Update"));
  assert_non_null(entry_of(out, "other", "Apply"));
  assert_non_null(entry_of(out, "kubectl", "Apply"));
  json_decref(out);
  json_decref(cfg);
  /* the same value is no conflict: both own it */
  json_t *same = apply_ok(two, SDEP_CFG("\"replicas\": 2, "), "other", "t7");
  assert_non_null(entry_of(same, "kubectl", "Update"));
  json_decref(same);
  json_decref(one);
  json_decref(two);
}

static void test_conflicts_list_every_field(void **state) {
  (void)state;
  json_t *one = apply_ok(NULL, SDEP_CFG("\"replicas\": 2, "), "a", "t1");
  json_t *cfg = J(SDEP_CFG("\"replicas\": 3, ")), *out = NULL, *conflicts = NULL;
  json_object_set_new(json_object_get(json_object_get(cfg, "metadata"), "labels"), "app",
                      json_string("y"));
  struct ss_error err = {0};
  struct ss_apply_op op = op_of("b", false, "t2");
  assert_int_equal(ss_apply(one, cfg, &op, &out, &conflicts, &err), SS_ECONFLICT);
  json_t *st = ss_apply_conflict_status(conflicts);
  assert_string_equal(json_string_value(json_object_get(st, "message")),
                      "Apply failed with 2 conflicts: conflicts with \"a\":\n"
                      "- .metadata.labels.app\n- .spec.replicas");
  json_decref(st);
  json_decref(conflicts);
  json_decref(cfg);
  json_decref(one);
}

static void test_an_untracked_object_is_before_first_apply(void **state) {
  (void)state;
  json_t *live = J("{\"apiVersion\": \"" GV "\", \"kind\": \"SeldonDeployment\", \"metadata\": "
                   "{\"name\": \"m\", \"uid\": \"u\"}, \"spec\": {\"replicas\": 4}}");
  json_t *cfg = J(SDEP_CFG("\"replicas\": 1, ")), *out = NULL, *conflicts = NULL;
  struct ss_error err = {0};
  struct ss_apply_op op = op_of("a", false, "t1");
  assert_int_equal(ss_apply(live, cfg, &op, &out, &conflicts, &err), SS_ECONFLICT);
  assert_string_equal(json_string_value(json_object_get(json_array_get(conflicts, 0), "manager")),
                      "\"before-first-apply\" using " GV);
  json_decref(conflicts);
  /* an ordinary update of it is not tracked (as on a cluster) */
  json_t *next = json_deep_copy(live);
  json_object_set_new(json_object_get(next, "spec"), "replicas", json_integer(5));
  struct ss_apply_op up = op_of("kubectl-edit", false, "t2");
  ss_apply_record_update(live, next, &up);
  assert_null(mf(next));
  json_decref(next);
  json_decref(cfg);
  json_decref(live);
}

static void test_create_and_update_record_update_entries(void **state) {
  (void)state;
  json_t *obj = J(SDEP_CFG(""));
  struct ss_apply_op op = op_of("kubectl-client-side-apply", false, "t1");
  ss_apply_record_update(NULL, obj, &op);
  assert_json(json_object_get(entry_of(obj, "kubectl-client-side-apply", "Update"), "fieldsV1"),
              "{\"f:metadata\": {\"f:labels\": {\".\": {}, \"f:app\": {}}}, \"f:spec\": {\".\": "
              "{}, \"f:predictors\": {\".\": {}, \"k:{\\\"name\\\":\\\"p\\\"}\": {\".\": {}, "
              "\"f:graph\": {\".\": {}, \"f:name\": {}}, \"f:name\": {}}}}}");
  json_object_set_new(json_object_get(obj, "metadata"), "uid", json_string("u"));
  json_t *next = json_deep_copy(obj);
  json_object_set_new(json_object_get(json_object_get(next, "metadata"), "labels"), "v",
                      json_string("2"));
  struct ss_apply_op edit = op_of("kubectl-edit", false, "t2");
  ss_apply_record_update(obj, next, &edit);
  assert_json(json_object_get(entry_of(next, "kubectl-edit", "Update"), "fieldsV1"),
              "{\"f:metadata\": {\"f:labels\": {\"f:v\": {}}}}");
  assert_int_equal(json_array_size(mf(next)), 2);
  json_decref(next);
  json_decref(obj);
}

static void test_a_config_that_cannot_be_applied(void **state) {
  (void)state;
  json_t *out = NULL, *conflicts = NULL;
  struct ss_error err = {0};
  struct ss_apply_op op = op_of("a", false, "t");
  json_t *c = J("{\"apiVersion\": \"" GV "\", \"kind\": \"SeldonDeployment\", \"metadata\": "
                "{\"name\": \"m\"}, \"spec\": {\"predictors\": [{\"graph\": {}}]}}");
  assert_int_equal(ss_apply(NULL, c, &op, &out, &conflicts, &err), SS_EINVALID);
  assert_non_null(strstr(err.msg, "spec.predictors: Invalid value"));
  assert_non_null(strstr(err.msg, "(name)"));
  json_decref(c);
  c = J("{\"apiVersion\": \"" GV "\", \"kind\": \"SeldonDeployment\", \"metadata\": "
        "{\"name\": \"m\", \"managedFields\": [{\"manager\": \"x\"}]}}");
  assert_int_equal(ss_apply(NULL, c, &op, &out, &conflicts, &err), SS_EUSAGE);
  assert_string_equal(err.msg, "metadata.managedFields must be nil");
  json_decref(c);
}

static void test_manager_names(void **state) {
  (void)state;
  char buf[SS_APPLY_MAX_MANAGER + 1], why[256];
  ss_apply_default_manager("kubectl/v1.32.0 (linux/amd64) kubernetes/70d3cc9", buf, sizeof buf);
  assert_string_equal(buf, "kubectl");
  ss_apply_default_manager("OpenAPI-Generator/31.0.0/python", buf, sizeof buf);
  assert_string_equal(buf, "OpenAPI-Generator");
  ss_apply_default_manager(NULL, buf, sizeof buf);
  assert_string_equal(buf, "unknown");
  char longname[200];
  memset(longname, 'x', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  assert_non_null(ss_apply_check_manager(longname, why, sizeof why));
  assert_string_equal(why, "Too long: may not be more than 128 bytes");
  assert_non_null(ss_apply_check_manager("a\tb", why, sizeof why));
  assert_null(ss_apply_check_manager("kubectl", why, sizeof why));
}

/* ---- the handler, in process ---- */

#define SDEP_PATH "/apis/machinelearning.seldon.io/v1/namespaces/ns/seldondeployments/m"
#define APPLY "application/apply-patch+yaml"
#define SDEP_YAML                                                                       \
  "apiVersion: " GV "\nkind: SeldonDeployment\nmetadata:\n  name: m\nspec:\n"          \
  "  predictors:\n  - name: p\n    graph: {name: c, type: MODEL}\n    componentSpecs:\n" \
  "    - spec:\n        containers:\n        - name: c\n          image: "             \
  "seldonio/mock_classifier:1.0\n"

struct fixture {
  char dir[64], path[128];
  struct ss_api api;
};

static int setup(void **state) {
  struct fixture *f = calloc(1, sizeof *f);
  struct ss_error err = {0};
  if (!f)
    return -1;
  snprintf(f->dir, sizeof f->dir, "/tmp/ss_apply_test.XXXXXX");
  if (!mkdtemp(f->dir))
    return -1;
  snprintf(f->path, sizeof f->path, "%s/store.db", f->dir);
  if (ss_store_open(f->path, &f->api.cfg.store, &err))
    return -1;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fixture *f = *state;
  ss_store_close(f->api.cfg.store);
  static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
  for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
    char p[160];
    snprintf(p, sizeof p, "%s%s", f->path, suffixes[i]);
    unlink(p);
  }
  rmdir(f->dir);
  free(f);
  return 0;
}

/* PATCH SDEP_PATH with body as an apply; returns the status code, *body
 * (optional) the answer. */
static int patch(struct fixture *f, const char *ctype, const char *body, const char *manager,
                 const char *dry, json_t **answer) {
  struct ss_api_req req = {.method = "PATCH", .path = SDEP_PATH, .body = body,
                           .body_len = strlen(body), .content_type = ctype,
                           .q_field_manager = manager, .q_dryrun = dry,
                           .user_agent = "kubectl/v1.32.0"};
  struct ss_api_resp resp = {0};
  ss__api_handle(&f->api, &req, &resp);
  int code = resp.code;
  if (answer)
    *answer = json_incref(resp.body);
  ss__api_resp_free(&resp);
  return code;
}

static const char *rv_of(const json_t *obj) {
  return json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
}

static void test_patch_apply_creates_then_changes_nothing(void **state) {
  struct fixture *f = *state;
  json_t *a = NULL, *b = NULL;
  assert_int_equal(patch(f, APPLY, SDEP_YAML, NULL, NULL, &a), 422);
  assert_string_equal(json_string_value(json_object_get(a, "message")),
                      "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: "
                      "is required for apply patch");
  json_decref(a);
  assert_int_equal(patch(f, APPLY, SDEP_YAML, "kubectl", "All", NULL), 201);
  json_t *none = NULL;
  assert_int_equal(ss_store_get(f->api.cfg.store, (struct ss_kind_ref){"machinelearning.seldon.io",
                   "seldondeployments"}, "ns", "m", &none, NULL), SS_ENOTFOUND);
  assert_int_equal(patch(f, APPLY, SDEP_YAML, "kubectl", NULL, &a), 201);
  assert_non_null(entry_of(a, "kubectl", "Apply"));
  assert_int_equal(patch(f, APPLY, SDEP_YAML, "kubectl", NULL, &b), 200);
  assert_string_equal(rv_of(a), rv_of(b));
  json_decref(b);
  /* a merge patch by kubectl-edit records its Update; an apply changing
   * that field then conflicts */
  assert_int_equal(patch(f, "application/merge-patch+json", "{\"spec\": {\"replicas\": 2}}",
                         "kubectl-edit", NULL, &b), 200);
  assert_non_null(entry_of(b, "kubectl-edit", "Update"));
  json_decref(b);
  char with_replicas[1024];
  snprintf(with_replicas, sizeof with_replicas, "%s  replicas: 1\n", SDEP_YAML);
  assert_int_equal(patch(f, APPLY, with_replicas, "other", NULL, &b), 409);
  assert_string_equal(json_string_value(json_object_get(b, "message")),
                      "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using " GV
                      ": .spec.replicas");
  json_decref(b);
  json_decref(a);
}

static void test_patch_apply_refuses_a_wrong_version(void **state) {
  struct fixture *f = *state;
  json_t *a = NULL;
  assert_int_equal(patch(f, APPLY, "apiVersion: v1\nkind: SeldonDeployment\n", "k", NULL, &a),
                   400);
  assert_string_equal(json_string_value(json_object_get(a, "message")),
                      "Incorrect version specified in apply patch. Specified patch version: v1, "
                      "expected: " GV);
  json_decref(a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_create_records_an_apply_entry),
      cmocka_unit_test(test_reapply_unchanged_changes_nothing),
      cmocka_unit_test(test_a_field_no_longer_applied_is_removed),
      cmocka_unit_test(test_a_field_another_manager_owns_stays),
      cmocka_unit_test(test_predictors_merge_by_name),
      cmocka_unit_test(test_containers_env_and_ports_merge_by_key),
      cmocka_unit_test(test_update_entries_and_conflicts),
      cmocka_unit_test(test_conflicts_list_every_field),
      cmocka_unit_test(test_an_untracked_object_is_before_first_apply),
      cmocka_unit_test(test_create_and_update_record_update_entries),
      cmocka_unit_test(test_a_config_that_cannot_be_applied),
      cmocka_unit_test(test_manager_names),
      cmocka_unit_test_setup_teardown(test_patch_apply_creates_then_changes_nothing, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_patch_apply_refuses_a_wrong_version, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
