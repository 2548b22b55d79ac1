/* test_client.c: unit tests for the pure parts of src/client/: kubeconfig
 * parsing and the choice of file (config.c), jsonpath-lite (jsonpath.c),
 * the wait predicates (wait.c) and the kind table and paths (kinds.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "servescale/client.h"

#define N_ELEMS(a) (sizeof(a) / sizeof *(a))

/* "-----BEGIN CERTIFICATE-----\nAB\n" in base64, split as YAML may fold it. */
static const char kubeconfig[] =
    "apiVersion: v1\n"
    "kind: Config\n"
    "clusters:\n"
    "- name: other\n"
    "  cluster:\n"
    "    server: https://10.0.0.1:6443\n"
    "    insecure-skip-tls-verify: true\n"
    "- name: servescale\n"
    "  cluster:\n"
    "    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCkFCCg==\n"
    "    server: https://127.0.0.1:8001/\n"
    "contexts:\n"
    "- name: servescale\n"
    "  context:\n"
    "    cluster: servescale\n"
    "    user: servescale\n"
    "    namespace: seldon\n"
    "- name: other\n"
    "  context:\n"
    "    cluster: other\n"
    "current-context: servescale\n"
    "users:\n"
    "- name: servescale\n"
    "  user:\n"
    "    token: abc123\n";

static void test_config_current_context(void **state) {
  (void)state;
  struct ss_client_config cfg = {0};
  struct ss_client_error err = {0};
  assert_int_equal(ss_client_config_parse(kubeconfig, strlen(kubeconfig), NULL, &cfg, &err), SS_EOK);
  assert_string_equal(cfg.context, "servescale");
  assert_string_equal(cfg.server, "https://127.0.0.1:8001"); /* trailing '/' dropped */
  assert_string_equal(cfg.namespace_, "seldon");
  assert_string_equal(cfg.token, "abc123");
  assert_int_equal(cfg.ca_len, strlen("-----BEGIN CERTIFICATE-----\nAB\n"));
  assert_memory_equal(cfg.ca, "-----BEGIN CERTIFICATE-----\nAB\n", cfg.ca_len);
  assert_false(cfg.insecure);
  assert_null(cfg.path);
  ss_client_config_free(&cfg);
  ss_client_config_free(&cfg); /* twice, and NULL, are fine */
  ss_client_config_free(NULL);
}

static void test_config_named_context(void **state) {
  (void)state;
  struct ss_client_config cfg = {0};
  struct ss_client_error err = {0};
  assert_int_equal(ss_client_config_parse(kubeconfig, strlen(kubeconfig), "other", &cfg, &err), SS_EOK);
  assert_string_equal(cfg.server, "https://10.0.0.1:6443");
  assert_null(cfg.namespace_);
  assert_null(cfg.token);
  assert_null(cfg.ca);
  assert_true(cfg.insecure);
  ss_client_config_free(&cfg);
}

struct bad_config {
  const char *text;
  const char *context;
  enum ss_err code;
  const char *needle; /* in the message */
  unsigned line;      /* 0: not checked */
};

static const struct bad_config bad_configs[] = {
    {"current-context: x\ncontexts: []\n", NULL, SS_ENOTFOUND, "context \"x\" does not exist", 0},
    {"contexts: []\n", NULL, SS_EUSAGE, "no current-context", 0},
    {"current-context: a\ncontexts:\n- name: a\n  context:\n    cluster: nope\n", NULL, SS_ENOTFOUND,
     "cluster \"nope\" does not exist", 5},
    {"current-context: a\ncontexts:\n- name: a\n  context:\n    cluster: c\nclusters:\n- name: c\n"
     "  cluster:\n    insecure-skip-tls-verify: true\n",
     NULL, SS_EUSAGE, "has no server", 0},
    {"current-context: a\ncontexts:\n- name: a\n  context:\n    cluster: c\nclusters:\n- name: c\n"
     "  cluster:\n    server: https://x\n    certificate-authority-data: '!!notbase64'\n",
     NULL, SS_ESYNTAX, "not base64", 10},
    {"current-context: a\ncontexts:\n- name: a\n  context:\n    cluster: c\n    user: u\nclusters:\n"
     "- name: c\n  cluster:\n    server: https://x\n",
     NULL, SS_ENOTFOUND, "user \"u\" does not exist", 0},
    {"clusters: [\n", NULL, SS_ESYNTAX, "kubeconfig", 0},
    {"- a\n- b\n", NULL, SS_ESYNTAX, "one mapping", 0},
};

static void test_config_errors(void **state) {
  (void)state;
  for (size_t i = 0; i < N_ELEMS(bad_configs); i++) {
    const struct bad_config *b = &bad_configs[i];
    struct ss_client_config cfg = {0};
    struct ss_client_error err = {0};
    enum ss_err rc = ss_client_config_parse(b->text, strlen(b->text), b->context, &cfg, &err);
    if (rc != b->code || !strstr(err.msg, b->needle) || (b->line && err.line != b->line))
      fail_msg("case %zu: got %s \"%s\" at line %u, want %s \"%s\" line %u", i, ss_err_name(rc),
               err.msg, err.line, ss_err_name(b->code), b->needle, b->line);
    assert_null(cfg.server); /* nothing half-filled on failure */
  }
}

static void test_config_path_precedence(void **state) {
  (void)state;
  char dir[] = "/tmp/ss_client_test_XXXXXX";
  char buf[4096], want[4200];
  assert_non_null(mkdtemp(dir));
  setenv("SERVESCALE_STATE_DIR", dir, 1);
  setenv("HOME", dir, 1);
  unsetenv("KUBECONFIG");
  /* no daemon kubeconfig yet: ~/.kube/config */
  snprintf(want, sizeof want, "%s/.kube/config", dir);
  assert_string_equal(ss_client_config_path(NULL, buf, sizeof buf), want);
  /* the daemon's, once it exists */
  snprintf(want, sizeof want, "%s/kubeconfig", dir);
  FILE *f = fopen(want, "w");
  assert_non_null(f);
  fclose(f);
  assert_string_equal(ss_client_config_path(NULL, buf, sizeof buf), want);
  assert_string_equal(ss_client_config_path("", buf, sizeof buf), want);
  /* $KUBECONFIG (its first entry) wins over both */
  setenv("KUBECONFIG", "/a/first:/b/second", 1);
  assert_string_equal(ss_client_config_path(NULL, buf, sizeof buf), "/a/first");
  /* and an explicit path over everything */
  assert_string_equal(ss_client_config_path("/x/y", buf, sizeof buf), "/x/y");
  unsetenv("KUBECONFIG");
  unlink(want);
  rmdir(dir);
  /* the state dir rule matches the daemon's */
  unsetenv("SERVESCALE_STATE_DIR");
  setenv("XDG_STATE_HOME", "/xdg", 1);
  ss_client_default_state_dir(buf, sizeof buf);
  assert_string_equal(buf, "/xdg/servescale");
  unsetenv("XDG_STATE_HOME");
  setenv("HOME", "/home/u", 1);
  ss_client_default_state_dir(buf, sizeof buf);
  assert_string_equal(buf, "/home/u/.local/state/servescale");
}

static void test_config_load_names_the_file(void **state) {
  (void)state;
  char path[] = "/tmp/ss_client_kc_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  const char *bad = "current-context: a\ncontexts:\n- name: a\n  context:\n    cluster: nope\n";
  assert_int_equal(write(fd, bad, strlen(bad)), (ssize_t)strlen(bad));
  close(fd);
  struct ss_client_config cfg = {0};
  struct ss_client_error err = {0};
  assert_int_equal(ss_client_config_load(path, NULL, &cfg, &err), SS_ENOTFOUND);
  char want[256];
  snprintf(want, sizeof want, "%s:5:", path);
  if (strncmp(err.msg, want, strlen(want)) != 0)
    fail_msg("message \"%s\" does not start with \"%s\"", err.msg, want);
  unlink(path);
  assert_int_equal(ss_client_config_load("/nonexistent/kubeconfig", NULL, &cfg, &err), SS_EIO);
  assert_non_null(strstr(err.msg, "/nonexistent/kubeconfig"));
}

/* ---- jsonpath-lite ---- */

static const char sdep_json[] =
    "{\"metadata\":{\"name\":\"m\",\"generation\":2,\"labels\":{\"app.kubernetes.io/name\":\"x\"}},"
    "\"spec\":{\"replicas\":2},"
    "\"status\":{\"replicas\":2,\"state\":\"Available\",\"ratio\":0.5,\"ok\":true,"
    "\"observedGeneration\":2,"
    "\"deploymentStatus\":{\"m-p-0-c\":{\"replicas\":2,\"availableReplicas\":2,\"desiredReplicas\":2}},"
    "\"conditions\":[{\"type\":\"DeploymentsReady\",\"status\":\"True\"},"
    "{\"type\":\"Ready\",\"status\":\"False\",\"reason\":\"Creating\"}]}}";

struct jp_case {
  const char *expr;
  const char *text; /* NULL: nothing there */
};

static const struct jp_case jp_cases[] = {
    {"{.status.replicas}", "2"},
    {".status.replicas", "2"},
    {"status.replicas", "2"},
    {"{$.status.state}", "Available"},
    {"{.status.ratio}", "0.5"},
    {"{.status.ok}", "true"},
    {"{.status.conditions[1].type}", "Ready"},
    {"{.status.conditions[0]}", "{\"type\":\"DeploymentsReady\",\"status\":\"True\"}"},
    {"{.status.conditions[?(@.type==\"Ready\")].status}", "False"},
    {"{.status.conditions[?(@.type=='Ready')].reason}", "Creating"},
    {"{.status.conditions[?(@.type==\"Nope\")].status}", NULL},
    {"{.metadata.labels['app.kubernetes.io/name']}", "x"},
    {"{.status.deploymentStatus['m-p-0-c'].desiredReplicas}", "2"},
    {"{.status.deploymentStatus.m-p-0-c.availableReplicas}", "2"},
    {"{.status.missing.deeper}", NULL},
    {"{.status.conditions[7]}", NULL},
    {"{.metadata.name}", "m"},
};

static void test_jsonpath_values(void **state) {
  (void)state;
  json_t *obj = json_loads(sdep_json, 0, NULL);
  assert_non_null(obj);
  for (size_t i = 0; i < N_ELEMS(jp_cases); i++) {
    const json_t *v = NULL;
    struct ss_client_error err = {0};
    enum ss_err rc = ss_client_jsonpath(obj, jp_cases[i].expr, &v, &err);
    if (rc)
      fail_msg("%s: %s", jp_cases[i].expr, err.msg);
    char *text = v ? ss_client_json_text(v) : NULL;
    bool ok = jp_cases[i].text ? text && strcmp(text, jp_cases[i].text) == 0 : text == NULL;
    if (!ok)
      fail_msg("%s: got %s, want %s", jp_cases[i].expr, text ? text : "(nothing)",
               jp_cases[i].text ? jp_cases[i].text : "(nothing)");
    free(text);
  }
  json_decref(obj);
}

static void test_jsonpath_syntax_errors(void **state) {
  (void)state;
  static const char *const bad[] = {"{.status.replicas", "{}", "{.status[x]}", "{.a..b}",
                                    "{.a[?(@.x)]}", "{.a['x]}", "{.a[-1]}", "{.a[*]}", "{.a]b}"};
  json_t *obj = json_object();
  for (size_t i = 0; i < N_ELEMS(bad); i++) {
    const json_t *v = NULL;
    struct ss_client_error err = {0};
    enum ss_err rc = ss_client_jsonpath(obj, bad[i], &v, &err);
    if (rc != SS_ESYNTAX)
      fail_msg("%s: accepted", bad[i]);
    assert_non_null(strstr(err.msg, "jsonpath"));
  }
  json_decref(obj);
}

static void test_json_text(void **state) {
  (void)state;
  struct {
    json_t *v;
    const char *want;
  } cases[] = {{json_integer(-3), "-3"}, {json_real(2.0), "2"},   {json_real(0.1), "0.1"},
               {json_string("a b"), "a b"}, {json_false(), "false"}, {json_null(), "null"},
               {json_pack("[i,s]", 1, "x"), "[1,\"x\"]"}};
  for (size_t i = 0; i < N_ELEMS(cases); i++) {
    char *t = ss_client_json_text(cases[i].v);
    assert_non_null(t);
    assert_string_equal(t, cases[i].want);
    free(t);
    json_decref(cases[i].v);
  }
}

/* ---- wait predicates ---- */

static void test_wait_predicates(void **state) {
  (void)state;
  json_t *obj = json_loads(sdep_json, 0, NULL);
  struct ss_client_wait w = {.what = SS_CLIENT_WAIT_CONDITION, .condition = "DeploymentsReady"};
  assert_true(ss_client_wait_met(&w, obj));
  w.condition = "ready"; /* names compare without case, as kubectl */
  assert_false(ss_client_wait_met(&w, obj));
  w.value = "false";
  assert_true(ss_client_wait_met(&w, obj));
  w.condition = "Missing";
  assert_false(ss_client_wait_met(&w, obj));
  assert_false(ss_client_wait_met(&w, NULL));

  w = (struct ss_client_wait){.what = SS_CLIENT_WAIT_JSONPATH, .jsonpath = "{.status.replicas}", .value = "2"};
  assert_true(ss_client_wait_met(&w, obj));
  w.value = "3";
  assert_false(ss_client_wait_met(&w, obj));
  w.value = NULL; /* present is enough */
  assert_true(ss_client_wait_met(&w, obj));
  w.jsonpath = "{.status.nope}";
  assert_false(ss_client_wait_met(&w, obj));

  w = (struct ss_client_wait){.what = SS_CLIENT_WAIT_DELETE};
  assert_true(ss_client_wait_met(&w, NULL));
  assert_false(ss_client_wait_met(&w, obj));

  w = (struct ss_client_wait){.what = SS_CLIENT_WAIT_REPLICAS, .replicas = -1};
  assert_int_equal(ss_client_desired_replicas(obj), 2);
  assert_true(ss_client_wait_met(&w, obj));
  w.replicas = 2;
  assert_true(ss_client_wait_met(&w, obj));
  w.replicas = 3;
  assert_false(ss_client_wait_met(&w, obj));
  /* a status from before the last spec change does not count */
  json_object_set_new(json_object_get(obj, "metadata"), "generation", json_integer(3));
  w.replicas = -1;
  assert_false(ss_client_wait_met(&w, obj));
  json_object_set_new(json_object_get(obj, "status"), "observedGeneration", json_integer(3));
  assert_true(ss_client_wait_met(&w, obj));
  /* a replica set still starting */
  json_t *rs = json_object_get(json_object_get(json_object_get(obj, "status"), "deploymentStatus"), "m-p-0-c");
  json_object_set_new(rs, "desiredReplicas", json_integer(3));
  assert_int_equal(ss_client_desired_replicas(obj), 3);
  assert_false(ss_client_wait_met(&w, obj));
  json_decref(obj);
  /* no status yet */
  obj = json_pack("{s:{s:s}}", "metadata", "name", "m");
  assert_int_equal(ss_client_desired_replicas(obj), -1);
  assert_false(ss_client_wait_met(&w, obj));
  json_decref(obj);
}

/* ---- kinds and paths ---- */

static void test_kinds(void **state) {
  (void)state;
  static const char *const sdep_names[] = {"sdep", "seldondeployment", "seldondeployments",
                                           "SeldonDeployment", "seldondeployments.machinelearning.seldon.io",
                                           "seldondeployment.machinelearning.seldon.io"};
  for (size_t i = 0; i < N_ELEMS(sdep_names); i++) {
    const struct ss_client_kind *k = ss_client_kind_find(sdep_names[i]);
    assert_non_null(k);
    assert_string_equal(k->plural, "seldondeployments");
  }
  assert_string_equal(ss_client_kind_find("deploy")->plural, "deployments");
  assert_string_equal(ss_client_kind_find("deployments.apps")->kind, "Deployment");
  assert_null(ss_client_kind_find("replicasets"));
  assert_null(ss_client_kind_find("seldondeployments.example.com"));
  assert_string_equal(ss_client_kind_find("po")->kind, "Pod");
  assert_string_equal(ss_client_kind_find("ev")->kind, "Event");
  assert_string_equal(ss_client_kind_find("models")->group, "mlops.seldon.io");

  char buf[512];
  const struct ss_client_kind *k = ss_client_kind_find("sdep");
  assert_true(ss_client_path(k, "seldon", "m", "scale", buf, sizeof buf));
  assert_string_equal(buf, "/apis/machinelearning.seldon.io/v1/namespaces/seldon/seldondeployments/m/scale");
  assert_true(ss_client_path(k, NULL, NULL, NULL, buf, sizeof buf));
  assert_string_equal(buf, "/apis/machinelearning.seldon.io/v1/seldondeployments");
  assert_false(ss_client_path(k, "ns", "a/b", NULL, buf, sizeof buf));
  assert_false(ss_client_path(k, "ns", "m", NULL, buf, 20));
  k = ss_client_kind_find("ns");
  assert_true(ss_client_path(k, "ignored", "x", NULL, buf, sizeof buf));
  assert_string_equal(buf, "/api/v1/namespaces/x");
  assert_string_equal(ss_client_kind_label(ss_client_kind_find("sdep"), buf, sizeof buf),
                      "seldondeployment.machinelearning.seldon.io");
  assert_string_equal(ss_client_kind_label(ss_client_kind_find("pods"), buf, sizeof buf), "pod");

  json_t *o = json_pack("{s:s, s:s}", "apiVersion", "machinelearning.seldon.io/v1alpha2", "kind",
                        "SeldonDeployment");
  assert_ptr_equal(ss_client_kind_of(o), ss_client_kind_find("sdep"));
  json_object_set_new(o, "apiVersion", json_string("other.io/v1"));
  assert_null(ss_client_kind_of(o));
  json_decref(o);
}

static void test_client_new_checks_server(void **state) {
  (void)state;
  struct ss_client *c = NULL;
  struct ss_client_error err = {0};
  struct ss_client_config cfg = {.server = "ftp://x"};
  assert_int_equal(ss_client_new(&cfg, NULL, &c, &err), SS_EUSAGE);
  assert_null(c);
  cfg.server = "https://127.0.0.1:1";
  assert_int_equal(ss_client_new(&cfg, NULL, &c, &err), SS_EOK);
  assert_string_equal(ss_client_namespace(c), "default");
  ss_client_free(c);
  ss_client_free(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_config_current_context),
      cmocka_unit_test(test_config_named_context),
      cmocka_unit_test(test_config_errors),
      cmocka_unit_test(test_config_path_precedence),
      cmocka_unit_test(test_config_load_names_the_file),
      cmocka_unit_test(test_jsonpath_values),
      cmocka_unit_test(test_jsonpath_syntax_errors),
      cmocka_unit_test(test_json_text),
      cmocka_unit_test(test_wait_predicates),
      cmocka_unit_test(test_kinds),
      cmocka_unit_test(test_client_new_checks_server),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
