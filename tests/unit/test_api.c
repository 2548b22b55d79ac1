/* test_api.c: unit tests for src/api/: what is decided on a request's head
 * (auth.c: public paths, the bearer token, the announced body size) and
 * admission through the handlers (handlers.c, called in process as
 * server.c calls them): every write path (create, update, merge and JSON
 * patch, scale by PUT and PATCH) validates the object it would store with
 * the same rules, replicas that do not fit 32 bits and the replica limit
 * among them, and answers 422 with causes, leaving the stored object as it
 * was. Each test has its own store in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/internal.h"
#include "model/replicas.h"

#define SDEPS "/apis/machinelearning.seldon.io/v1/namespaces/ns/seldondeployments"
#define MODELS "/apis/mlops.seldon.io/v1alpha1/namespaces/ns/models"
#define SERVERS "/apis/mlops.seldon.io/v1alpha1/namespaces/ns/servers"
#define MERGE "application/merge-patch+json"
#define JSONPATCH "application/json-patch+json"

struct fixture {
  char dir[64];
  char path[128];
  struct ss_api api;
  int changes;
};

static void on_changed(void *ctx) { ((struct fixture *)ctx)->changes++; }

static int setup(void **state) {
  struct fixture *f = calloc(1, sizeof *f);
  if (!f)
    return -1;
  snprintf(f->dir, sizeof f->dir, "/tmp/ss_api_test.XXXXXX");
  if (!mkdtemp(f->dir))
    return -1;
  snprintf(f->path, sizeof f->path, "%s/store.db", f->dir);
  struct ss_error err = {0};
  if (ss_store_open(f->path, &f->api.cfg.store, &err)) {
    fprintf(stderr, "open: %s\n", err.msg);
    return -1;
  }
  f->api.cfg.hooks = (struct ss_api_hooks){.ctx = f, .changed = on_changed};
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

/* ---- the request head ---- */

static void test_health_and_version_are_public_only_to_read(void **state) {
  (void)state;
  const char *tok = "s3cret";
  assert_int_equal(ss__api_authorize("GET", "/healthz", NULL, tok), SS__API_AUTH_PUBLIC);
  assert_int_equal(ss__api_authorize("HEAD", "/readyz", NULL, tok), SS__API_AUTH_PUBLIC);
  assert_int_equal(ss__api_authorize("GET", "/version", NULL, tok), SS__API_AUTH_PUBLIC);
  /* a body to a public path would be read without the token */
  assert_int_equal(ss__api_authorize("POST", "/healthz", NULL, tok), SS__API_AUTH_DENIED);
  assert_int_equal(ss__api_authorize("PUT", "/livez", NULL, tok), SS__API_AUTH_DENIED);
  assert_int_equal(ss__api_authorize("GET", "/healthz/x", NULL, tok), SS__API_AUTH_DENIED);
  assert_int_equal(ss__api_authorize("GET", "/apis", NULL, tok), SS__API_AUTH_DENIED);
}

static void test_bearer_token_must_match_exactly(void **state) {
  (void)state;
  const char *tok = "s3cret";
  assert_int_equal(ss__api_authorize("POST", "/apis", "Bearer s3cret", tok), SS__API_AUTH_OK);
  assert_int_equal(ss__api_authorize("POST", "/apis", "bearer s3cret", tok), SS__API_AUTH_OK);
  assert_int_equal(ss__api_authorize("POST", "/apis", "Bearer s3cre", tok), SS__API_AUTH_DENIED);
  assert_int_equal(ss__api_authorize("POST", "/apis", "Bearer s3cretx", tok), SS__API_AUTH_DENIED);
  assert_int_equal(ss__api_authorize("POST", "/apis", "Bearer ", tok), SS__API_AUTH_DENIED);
  assert_int_equal(ss__api_authorize("POST", "/apis", "Basic s3cret", tok), SS__API_AUTH_DENIED);
  assert_int_equal(ss__api_authorize("POST", "/apis", "s3cret", tok), SS__API_AUTH_DENIED);
  assert_int_equal(ss__api_authorize("POST", "/apis", NULL, tok), SS__API_AUTH_DENIED);
  /* with the token, a public path is still public */
  assert_int_equal(ss__api_authorize("GET", "/healthz", "Bearer s3cret", tok),
                   SS__API_AUTH_PUBLIC);
  /* no token configured: everything is open */
  assert_int_equal(ss__api_authorize("POST", "/apis", NULL, NULL), SS__API_AUTH_OK);
  assert_int_equal(ss__api_authorize("POST", "/apis", NULL, ""), SS__API_AUTH_OK);
}

static void test_announced_body_over_the_limit(void **state) {
  (void)state;
  size_t max = SS_API_MAX_BODY;
  char s[64];
  assert_false(ss__api_body_over(NULL, max));
  assert_false(ss__api_body_over("0", max));
  snprintf(s, sizeof s, "%zu", max);
  assert_false(ss__api_body_over(s, max));
  snprintf(s, sizeof s, "%zu", max + 1);
  assert_true(ss__api_body_over(s, max));
  assert_true(ss__api_body_over("3145729", (size_t)3 << 20));
  /* more digits than a size_t holds: over, not wrapped around */
  assert_true(ss__api_body_over("99999999999999999999999999", max));
  assert_true(ss__api_body_over("18446744073709551617", max));
  assert_false(ss__api_body_over("abc", max)); /* the transport refuses it */
  assert_false(ss__api_body_over("", max));
  assert_true(ss__api_body_over("10", 9));
  assert_false(ss__api_body_over("9", 9));
  assert_false(ss__api_body_over("0", 0));
  assert_true(ss__api_body_over("1", 0));
}

/* ---- the deadline to authenticate ---- */

static void test_unauthenticated_connections_are_shut_at_their_deadline(void **state) {
  (void)state;
  struct ss__api_conns *cs = ss__api_conns_new(10, false);
  assert_non_null(cs);
  int a[2], b[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
  struct ss__api_conn *ca = ss__api_conn_open(cs, a[0], 1000);
  struct ss__api_conn *cb = ss__api_conn_open(cs, b[0], 1000);
  assert_non_null(ca);
  assert_non_null(cb);
  ss__api_conn_authenticated(cs, cb);
  /* however busy it looked until then: only the clock counts */
  assert_int_equal(ss__api_conns_expire(cs, 10999), 0);
  assert_int_equal(ss__api_conns_expire(cs, 11000), 1);
  assert_int_equal(ss__api_conns_expire(cs, 99000), 0); /* once */
  char x;
  assert_int_equal(read(a[1], &x, 1), 0); /* the peer sees the end */
  assert_int_equal(write(b[1], "y", 1), 1); /* the authenticated one is untouched */
  assert_int_equal(read(b[0], &x, 1), 1);
  ss__api_conn_close(cs, ca);
  ss__api_conn_close(cs, cb);
  ss__api_conn_close(cs, NULL);
  ss__api_conn_authenticated(cs, NULL);
  assert_int_equal(ss__api_conns_expire(cs, 99000), 0);
  for (int i = 0; i < 2; i++) {
    close(a[i]);
    close(b[i]);
  }
  ss__api_conns_free(cs);
  ss__api_conns_free(NULL);
}

static void test_the_deadline_thread_shuts_an_expired_connection(void **state) {
  (void)state;
  struct ss__api_conns *cs = ss__api_conns_new(1, true);
  assert_non_null(cs);
  int a[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
  struct ss__api_conn *c = ss__api_conn_open(cs, a[0], ss__api_now_ms() - 1000);
  struct pollfd p = {.fd = a[1], .events = POLLIN};
  assert_int_equal(poll(&p, 1, 5000), 1); /* within a few periods, not 5 s */
  char x;
  assert_int_equal(read(a[1], &x, 1), 0);
  ss__api_conn_close(cs, c);
  /* freed with a connection still open: the list goes with it */
  ss__api_conn_open(cs, a[0], ss__api_now_ms());
  ss__api_conns_free(cs);
  close(a[0]);
  close(a[1]);
}

/* ---- admission ---- */

struct answer {
  int code;
  json_t *body;
};

static struct answer call(struct fixture *f, const char *method, const char *path,
                          const char *ctype, const char *body) {
  struct ss_api_req req = {.method = method,
                           .path = path,
                           .body = body,
                           .body_len = body ? strlen(body) : 0,
                           .content_type = ctype};
  struct ss_api_resp resp = {0};
  ss__api_handle(&f->api, &req, &resp);
  struct answer a = {resp.code, json_incref(resp.body)};
  ss__api_resp_free(&resp);
  return a;
}

static const char *sdep_json(const char *name, const char *predictor_replicas) {
  static char buf[2048];
  snprintf(buf, sizeof buf,
           "{\"apiVersion\":\"machinelearning.seldon.io/v1\",\"kind\":\"SeldonDeployment\","
           "\"metadata\":{\"name\":\"%s\"},\"spec\":{\"predictors\":[{\"name\":\"p\","
           "\"replicas\":%s,\"componentSpecs\":[{\"spec\":{\"containers\":[{\"name\":\"c\","
           "\"image\":\"seldonio/mock_classifier:1.0\"}]}}],\"graph\":{\"name\":\"c\"}}]}}",
           name, predictor_replicas);
  return buf;
}

/* Whether a is 422 Invalid with a cause at field whose message holds text. */
static bool invalid_at(const struct answer *a, const char *field, const char *text) {
  const char *reason = json_string_value(json_object_get(a->body, "reason"));
  if (a->code != 422 || !reason || strcmp(reason, "Invalid") != 0)
    return false;
  size_t i;
  json_t *c;
  json_array_foreach(json_object_get(json_object_get(a->body, "details"), "causes"), i, c) {
    const char *fl = json_string_value(json_object_get(c, "field"));
    const char *msg = json_string_value(json_object_get(c, "message"));
    if (fl && msg && strcmp(fl, field) == 0 && strstr(msg, text))
      return true;
  }
  return false;
}

static void expect_invalid(struct answer a, const char *field, const char *text) {
  if (!invalid_at(&a, field, text)) {
    char *s = json_dumps(a.body, JSON_COMPACT);
    fail_msg("want 422 at %s (\"%s\"), got %d %s", field, text, a.code, s ? s : "");
  }
  json_decref(a.body);
}

static void expect_code(struct answer a, int code) {
  if (a.code != code) {
    char *s = json_dumps(a.body, JSON_COMPACT);
    fail_msg("want %d, got %d %s", code, a.code, s ? s : "");
  }
  json_decref(a.body);
}

/* The stored object's resourceVersion and spec, dumped: what must not move. */
static char *stored(struct fixture *f, const char *path) {
  struct answer a = call(f, "GET", path, NULL, NULL);
  assert_int_equal(a.code, 200);
  json_t *md = json_object_get(a.body, "metadata");
  json_t *keep = json_pack("{s:O, s:O}", "rv", json_object_get(md, "resourceVersion"), "spec",
                           json_object_get(a.body, "spec"));
  char *s = json_dumps(keep, JSON_COMPACT | JSON_SORT_KEYS);
  json_decref(keep);
  json_decref(a.body);
  return s;
}

static void assert_unchanged(struct fixture *f, const char *path, char *before) {
  char *after = stored(f, path);
  assert_string_equal(after, before);
  free(after);
}

static void test_create_over_the_replica_limit_is_invalid(void **state) {
  struct fixture *f = *state;
  char over[16], at[16];
  snprintf(over, sizeof over, "%d", SS_MAX_REPLICAS + 1);
  snprintf(at, sizeof at, "%d", SS_MAX_REPLICAS);
  expect_invalid(call(f, "POST", SDEPS, "application/json", sdep_json("big", over)),
                 "spec.predictors[0].replicas", "1000");
  expect_code(call(f, "GET", SDEPS "/big", NULL, NULL), 404);
  expect_invalid(call(f, "POST", SDEPS, "application/json", sdep_json("huge", "2147483648")),
                 "spec.predictors[0].replicas", "32 bits");
  expect_code(call(f, "GET", SDEPS "/huge", NULL, NULL), 404);
  assert_int_equal(f->changes, 0);
  /* the limit itself is allowed */
  expect_code(call(f, "POST", SDEPS, "application/json", sdep_json("edge", at)), 201);
}

static void test_every_replica_field_is_held_to_the_limit(void **state) {
  struct fixture *f = *state;
  static const struct {
    const char *json, *field;
  } cases[] = {
      {"{\"spec\":{\"replicas\":1001}}", "spec.replicas"},
      {"{\"spec\":{\"predictors\":[{\"name\":\"p\",\"graph\":{\"name\":\"c\"},"
       "\"componentSpecs\":[{\"replicas\":1001,\"spec\":{\"containers\":[{\"name\":\"c\","
       "\"image\":\"i\"}]}}]}]}}",
       "spec.predictors[0].componentSpecs[0].replicas"},
      {"{\"spec\":{\"predictors\":[{\"name\":\"p\",\"graph\":{\"name\":\"c\"},"
       "\"componentSpecs\":[{\"hpaSpec\":{\"maxReplicas\":1001},\"spec\":{\"containers\":["
       "{\"name\":\"c\",\"image\":\"i\",\"resources\":{\"requests\":{\"cpu\":\"1\"}}}]}}]}]}}",
       "spec.predictors[0].componentSpecs[0].hpaSpec.maxReplicas"},
      {"{\"spec\":{\"predictors\":[{\"name\":\"p\",\"graph\":{\"name\":\"c\"},"
       "\"hpaSpecs\":[{\"maxReplicas\":5000,\"scaleTargetRef\":{\"name\":\"d\"}}],"
       "\"componentSpecs\":[{\"metadata\":{\"name\":\"d\"},\"spec\":{\"containers\":["
       "{\"name\":\"c\",\"image\":\"i\",\"resources\":{\"requests\":{\"cpu\":\"1\"}}}]}}]}]}}",
       "spec.predictors[0].hpaSpecs[0].maxReplicas"},
      {"{\"spec\":{\"predictors\":[{\"name\":\"p\",\"graph\":{\"name\":\"c\"},"
       "\"componentSpecs\":[{\"kedaSpec\":{\"maxReplicaCount\":1001,\"triggers\":[{\"type\":"
       "\"prometheus\",\"metadata\":{\"query\":\"up\",\"threshold\":\"1\"}}]},\"spec\":{"
       "\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}]}]}}",
       "spec.predictors[0].componentSpecs[0].kedaSpec.maxReplicaCount"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    json_t *obj = json_loads(sdep_json("x", "1"), 0, NULL);
    json_t *patch = json_loads(cases[i].json, 0, NULL);
    assert_non_null(obj);
    assert_non_null(patch);
    /* merged by hand: the case's spec replaces the example's where given */
    json_t *spec = json_object_get(obj, "spec");
    json_object_update(spec, json_object_get(patch, "spec"));
    char *body = json_dumps(obj, JSON_COMPACT);
    expect_invalid(call(f, "POST", SDEPS, "application/json", body), cases[i].field, "1000");
    free(body);
    json_decref(obj);
    json_decref(patch);
  }
  expect_code(call(f, "GET", SDEPS "/x", NULL, NULL), 404);
}

static void test_update_and_patches_over_the_limit_leave_the_object(void **state) {
  struct fixture *f = *state;
  expect_code(call(f, "POST", SDEPS, "application/json", sdep_json("m", "2")), 201);
  char *before = stored(f, SDEPS "/m");
  int changes = f->changes;
  expect_invalid(call(f, "PUT", SDEPS "/m", "application/json", sdep_json("m", "1001")),
                 "spec.predictors[0].replicas", "1000");
  expect_invalid(call(f, "PATCH", SDEPS "/m", MERGE, "{\"spec\":{\"replicas\":2147483648}}"),
                 "spec.replicas", "32 bits");
  expect_invalid(call(f, "PATCH", SDEPS "/m", JSONPATCH,
                      "[{\"op\":\"replace\",\"path\":\"/spec/predictors/0/replicas\","
                      "\"value\":1001}]"),
                 "spec.predictors[0].replicas", "1000");
  assert_unchanged(f, SDEPS "/m", before);
  assert_int_equal(f->changes, changes);
  free(before);
}

static void test_scale_validates_the_object_it_would_store(void **state) {
  struct fixture *f = *state;
  expect_code(call(f, "POST", SDEPS, "application/json", sdep_json("s", "2")), 201);
  char *before = stored(f, SDEPS "/s");
  int changes = f->changes;
  expect_invalid(call(f, "PUT", SDEPS "/s/scale", "application/json",
                      "{\"apiVersion\":\"autoscaling/v1\",\"kind\":\"Scale\",\"metadata\":"
                      "{\"name\":\"s\",\"namespace\":\"ns\"},\"spec\":{\"replicas\":2147483648}}"),
                 "spec.replicas", "32 bits");
  expect_invalid(call(f, "PATCH", SDEPS "/s/scale", MERGE, "{\"spec\":{\"replicas\":1001}}"),
                 "spec.replicas", "1000");
  expect_invalid(call(f, "PATCH", SDEPS "/s/scale", JSONPATCH,
                      "[{\"op\":\"replace\",\"path\":\"/spec/replicas\",\"value\":4294967297}]"),
                 "spec.replicas", "32 bits");
  expect_code(call(f, "PATCH", SDEPS "/s/scale", MERGE, "{\"spec\":{\"replicas\":-1}}"), 422);
  assert_unchanged(f, SDEPS "/s", before);
  assert_int_equal(f->changes, changes);
  free(before);
  /* within the limit, scale writes spec.replicas */
  expect_code(call(f, "PATCH", SDEPS "/s/scale", MERGE, "{\"spec\":{\"replicas\":1000}}"), 200);
  struct answer a = call(f, "GET", SDEPS "/s", NULL, NULL);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(a.body, "spec"),
                                                      "replicas")),
                   1000);
  json_decref(a.body);
}

static void test_core2_models_and_servers_are_held_to_the_limit(void **state) {
  struct fixture *f = *state;
  expect_invalid(call(f, "POST", MODELS, "application/json",
                      "{\"apiVersion\":\"mlops.seldon.io/v1alpha1\",\"kind\":\"Model\","
                      "\"metadata\":{\"name\":\"iris\"},\"spec\":{\"storageUri\":\"gs://x\","
                      "\"replicas\":1001}}"),
                 "spec.replicas", "1000");
  expect_invalid(call(f, "POST", MODELS, "application/json",
                      "{\"apiVersion\":\"mlops.seldon.io/v1alpha1\",\"kind\":\"Model\","
                      "\"metadata\":{\"name\":\"iris\"},\"spec\":{\"storageUri\":\"gs://x\","
                      "\"maxReplicas\":1001}}"),
                 "spec.maxReplicas", "1000");
  expect_code(call(f, "POST", SERVERS, "application/json",
                   "{\"apiVersion\":\"mlops.seldon.io/v1alpha1\",\"kind\":\"Server\","
                   "\"metadata\":{\"name\":\"mls\"},\"spec\":{\"serverConfig\":\"mlserver\","
                   "\"replicas\":1}}"),
              201);
  char *before = stored(f, SERVERS "/mls");
  expect_invalid(call(f, "PATCH", SERVERS "/mls/scale", MERGE, "{\"spec\":{\"replicas\":1001}}"),
                 "spec.replicas", "1000");
  assert_unchanged(f, SERVERS "/mls", before);
  free(before);
}

static void test_patch_nested_deeper_than_documents_may_is_refused(void **state) {
  struct fixture *f = *state;
  expect_code(call(f, "POST", SDEPS, "application/json", sdep_json("d", "1")), 201);
  char *before = stored(f, SDEPS "/d");
  /* a patch goes through the same reader as every body, with its limits */
  size_t depth = 3000;
  char *deep = malloc(depth * 6 + 2);
  assert_non_null(deep);
  size_t o = 0;
  for (size_t i = 0; i < depth; i++)
    o += (size_t)sprintf(deep + o, "{\"a\":");
  deep[o++] = '1';
  for (size_t i = 0; i < depth; i++)
    deep[o++] = '}';
  deep[o] = '\0';
  expect_code(call(f, "PATCH", SDEPS "/d", MERGE, deep), 400);
  free(deep);
  assert_unchanged(f, SDEPS "/d", before);
  free(before);
}

/* A JSON patch builds its result step by step: "add" at ever deeper paths
 * or "copy" of a value that doubles each time would pass any document's
 * limits without its body doing so. */
static void test_json_patch_cannot_grow_past_document_limits(void **state) {
  struct fixture *f = *state;
  expect_code(call(f, "POST", SDEPS, "application/json", sdep_json("g", "1")), 201);
  char *before = stored(f, SDEPS "/g");
  /* each op adds 60 levels under the last: 60, 120, ... */
  json_t *ops = json_array(), *val = json_integer(1);
  for (int i = 0; i < 60; i++)
    val = json_pack("{s:o}", "a", val);
  char path[4096] = "/metadata/annotations";
  for (int op = 0; op < 3; op++) {
    json_array_append_new(ops, json_pack("{s:s, s:s, s:O}", "op", "add", "path", path, "value",
                                         val));
    for (int i = 0; i < 59; i++)
      strcat(path, "/a");
  }
  json_decref(val);
  char *body = json_dumps(ops, JSON_COMPACT);
  struct answer a = call(f, "PATCH", SDEPS "/g", JSONPATCH, body);
  assert_int_equal(a.code, 422);
  assert_non_null(strstr(json_string_value(json_object_get(a.body, "message")), "deeper"));
  json_decref(a.body);
  free(body);
  json_decref(ops);
  /* 40 copies of the spec into itself, each beside the last: 2^40 values */
  ops = json_array();
  for (int i = 0; i < 40; i++) {
    char to[32];
    snprintf(to, sizeof to, "/spec/x%d", i);
    json_array_append_new(ops, json_pack("{s:s, s:s, s:s}", "op", "copy", "from", "/spec",
                                         "path", to));
  }
  body = json_dumps(ops, JSON_COMPACT);
  a = call(f, "PATCH", SDEPS "/g", JSONPATCH, body);
  assert_int_equal(a.code, 422);
  assert_non_null(strstr(json_string_value(json_object_get(a.body, "message")), "values"));
  json_decref(a.body);
  free(body);
  json_decref(ops);
  assert_unchanged(f, SDEPS "/g", before);
  free(before);
}

/* The store the API serves holds the API token and OAuth secrets. */
static void test_store_files_are_private_even_when_they_were_not(void **state) {
  struct fixture *f = *state;
  struct stat st;
  assert_int_equal(stat(f->path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  /* an older database left readable by others, with its -wal */
  ss_store_close(f->api.cfg.store);
  f->api.cfg.store = NULL;
  char wal[160];
  snprintf(wal, sizeof wal, "%s-wal", f->path);
  int fd = open(wal, O_WRONLY | O_CREAT, 0644);
  assert_true(fd >= 0);
  close(fd);
  assert_int_equal(chmod(f->path, 0644), 0);
  assert_int_equal(chmod(wal, 0666), 0);
  struct ss_error err = {0};
  assert_int_equal(ss_store_open(f->path, &f->api.cfg.store, &err), SS_EOK);
  assert_int_equal(stat(f->path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  assert_int_equal(stat(wal, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
}

/* "averageValue: 3" in YAML is a JSON number: stored as the quantity
 * string the API server stores ("3", "500m"), for the printer and clients;
 * a string stays as written. */
static void test_hpa_quantities_are_stored_as_strings(void **state) {
  struct fixture *f = *state;
  static const char hpa[] =
      "{\"apiVersion\":\"autoscaling/v2\",\"kind\":\"HorizontalPodAutoscaler\","
      "\"metadata\":{\"name\":\"h\"},\"spec\":{\"scaleTargetRef\":{\"apiVersion\":"
      "\"apps/v1\",\"kind\":\"Deployment\",\"name\":\"d\"},\"minReplicas\":1,"
      "\"maxReplicas\":3,\"metrics\":[{\"type\":\"Pods\",\"pods\":{\"metric\":{\"name\":"
      "\"m\"},\"target\":{\"type\":\"AverageValue\",\"averageValue\":3}}},"
      "{\"type\":\"External\",\"external\":{\"metric\":{\"name\":\"e\"},\"target\":"
      "{\"type\":\"Value\",\"value\":0.5}}},{\"type\":\"Object\",\"object\":"
      "{\"describedObject\":{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"name\":\"s\"},"
      "\"metric\":{\"name\":\"o\"},\"target\":{\"type\":\"Value\",\"value\":\"2k\"}}}]}}";
  const char *path = "/apis/autoscaling/v2/namespaces/ns/horizontalpodautoscalers";
  expect_code(call(f, "POST", path, "application/json", hpa), 201);
  char one[256];
  snprintf(one, sizeof one, "%s/h", path);
  struct answer a = call(f, "GET", one, NULL, NULL);
  assert_int_equal(a.code, 200);
  json_t *m = json_object_get(json_object_get(a.body, "spec"), "metrics");
  const char *avg = json_string_value(json_object_get(
      json_object_get(json_object_get(json_array_get(m, 0), "pods"), "target"), "averageValue"));
  const char *val = json_string_value(json_object_get(
      json_object_get(json_object_get(json_array_get(m, 1), "external"), "target"), "value"));
  const char *obj = json_string_value(json_object_get(
      json_object_get(json_object_get(json_array_get(m, 2), "object"), "target"), "value"));
  assert_non_null(avg);
  assert_string_equal(avg, "3");
  assert_non_null(val);
  assert_string_equal(val, "500m");
  assert_non_null(obj);
  assert_string_equal(obj, "2k");
  json_decref(a.body);
}

int main(void) {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_health_and_version_are_public_only_to_read),
      cmocka_unit_test(test_bearer_token_must_match_exactly),
      cmocka_unit_test(test_announced_body_over_the_limit),
      cmocka_unit_test(test_unauthenticated_connections_are_shut_at_their_deadline),
      cmocka_unit_test(test_the_deadline_thread_shuts_an_expired_connection),
      T(test_create_over_the_replica_limit_is_invalid),
      T(test_every_replica_field_is_held_to_the_limit),
      T(test_update_and_patches_over_the_limit_leave_the_object),
      T(test_scale_validates_the_object_it_would_store),
      T(test_core2_models_and_servers_are_held_to_the_limit),
      T(test_patch_nested_deeper_than_documents_may_is_refused),
      T(test_json_patch_cannot_grow_past_document_limits),
      T(test_store_files_are_private_even_when_they_were_not),
      T(test_hpa_quantities_are_stored_as_strings),
  };
#undef T
  return cmocka_run_group_tests(tests, NULL, NULL);
}
