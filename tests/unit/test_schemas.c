/* test_schemas.c: unit tests for src/api/schemas.c and the OpenAPI
 * documents discovery.c serves from it: every kind of the kinds table has a
 * schema with x-kubernetes-group-version-kind at each served version, every
 * $ref resolves within the document that holds it (v3 and v2), every
 * property is described and typed, and a document's URL hash follows its
 * content. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api/internal.h"
#include "api/schemas.h"

#define V3_PREFIX "#/components/schemas/"
#define V2_PREFIX "#/definitions/"

/* Fails naming the ref when a "$ref" under node does not resolve in schemas. */
static void check_refs(const json_t *schemas, const json_t *node, const char *prefix,
                       int *n_refs) {
  if (json_is_array(node)) {
    size_t i;
    const json_t *e;
    json_array_foreach(node, i, e) check_refs(schemas, e, prefix, n_refs);
    return;
  }
  if (!json_is_object(node))
    return;
  const char *ref = json_string_value(json_object_get(node, "$ref"));
  if (ref) {
    if (strncmp(ref, prefix, strlen(prefix)) != 0 ||
        !json_object_get(schemas, ref + strlen(prefix)))
      fail_msg("unresolved $ref %s", ref);
    (*n_refs)++;
  }
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)node, key, v) check_refs(schemas, v, prefix, n_refs);
}

static void test_every_kind_version_has_its_schema(void **state) {
  (void)state;
  for (size_t i = 0; i < ss_api_n_kinds; i++) {
    const struct ss_api_kind *k = &ss_api_kinds[i];
    for (int v = 0; k->versions[v]; v++) {
      char name[256];
      ss_api_schema_name(k, k->versions[v], name, sizeof name);
      json_t *schemas = ss_api_schemas_for(k->group, k->versions[v]);
      const json_t *s = json_object_get(schemas, name);
      if (!s)
        fail_msg("no schema %s for %s", name, k->kind);
      const json_t *gvk = json_array_get(json_object_get(s, "x-kubernetes-group-version-kind"), 0);
      assert_string_equal(json_string_value(json_object_get(gvk, "group")), k->group);
      assert_string_equal(json_string_value(json_object_get(gvk, "version")), k->versions[v]);
      assert_string_equal(json_string_value(json_object_get(gvk, "kind")), k->kind);
      const json_t *props = json_object_get(s, "properties");
      assert_non_null(json_object_get(props, "apiVersion"));
      assert_non_null(json_object_get(props, "metadata"));
      assert_non_null(json_object_get(s, "description"));
      json_decref(schemas);
    }
  }
}

static void test_names_are_the_api_servers(void **state) {
  (void)state;
  static const char *const want[][3] = {
      {"machinelearning.seldon.io", "seldondeployments",
       "io.seldon.machinelearning.v1.SeldonDeployment"},
      {"mlops.seldon.io", "models", "io.seldon.mlops.v1alpha1.Model"},
      {"apps", "deployments", "io.k8s.api.apps.v1.Deployment"},
      {"autoscaling", "horizontalpodautoscalers",
       "io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler"},
      {"", "pods", "io.k8s.api.core.v1.Pod"},
      {"keda.sh", "scaledobjects", "sh.keda.v1alpha1.ScaledObject"},
      {"monitoring.coreos.com", "podmonitors", "com.coreos.monitoring.v1.PodMonitor"},
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    const struct ss_api_kind *k = ss_api_kind_find(want[i][0], want[i][1]);
    assert_non_null(k);
    char name[256];
    ss_api_schema_name(k, k->versions[0], name, sizeof name);
    assert_string_equal(name, want[i][2]);
  }
}

/* Every property has a description and a type or a reference. */
static void check_props(const char *schema_name, const json_t *s) {
  const char *key;
  json_t *p;
  json_object_foreach(json_object_get(s, "properties"), key, p) {
    if (!json_string_value(json_object_get(p, "description")))
      fail_msg("%s.%s has no description", schema_name, key);
    if (!json_object_get(p, "type") && !json_object_get(p, "allOf"))
      fail_msg("%s.%s has no type", schema_name, key);
  }
}

static void test_every_ref_resolves_in_its_document(void **state) {
  (void)state;
  for (size_t i = 0; i < ss_api_n_kinds; i++) {
    const struct ss_api_kind *k = &ss_api_kinds[i];
    for (int v = 0; k->versions[v]; v++) {
      json_t *schemas = ss_api_schemas_for(k->group, k->versions[v]);
      int n_refs = 0;
      check_refs(schemas, schemas, V3_PREFIX, &n_refs);
      assert_true(n_refs > 0);
      const char *name;
      json_t *s;
      json_object_foreach(schemas, name, s) check_props(name, s);
      json_decref(schemas);
    }
  }
  json_t *defs = ss_api_schemas_v2();
  int n_refs = 0;
  check_refs(defs, defs, V2_PREFIX, &n_refs);
  assert_true(n_refs > 0);
  json_decref(defs);
}

static const json_t *at(const json_t *schemas, const char *schema, const char *prop) {
  return json_object_get(json_object_get(json_object_get(schemas, schema), "properties"), prop);
}

static bool required(const json_t *schemas, const char *schema, const char *prop) {
  size_t i;
  const json_t *r;
  json_array_foreach(json_object_get(json_object_get(schemas, schema), "required"), i, r) {
    if (strcmp(json_string_value(r), prop) == 0)
      return true;
  }
  return false;
}

/* What kubectl explain walks: componentSpecs[].spec is a core/v1 PodSpec by
 * reference; Seldon's required fields are required. */
static void test_seldon_deployment_shape(void **state) {
  (void)state;
  json_t *s = ss_api_schemas_for("machinelearning.seldon.io", "v1alpha2");
  const json_t *spec = at(s, "io.seldon.machinelearning.v1.SeldonPodSpec", "spec");
  const json_t *ref = json_object_get(json_array_get(json_object_get(spec, "allOf"), 0), "$ref");
  assert_string_equal(json_string_value(ref), V3_PREFIX "io.k8s.api.core.v1.PodSpec");
  assert_non_null(json_object_get(s, "io.k8s.api.core.v1.Container"));
  assert_non_null(json_object_get(s, "io.seldon.machinelearning.v1alpha2.SeldonDeployment"));
  assert_true(required(s, "io.seldon.machinelearning.v1.SeldonDeploymentSpec", "predictors"));
  assert_true(required(s, "io.seldon.machinelearning.v1.PredictorSpec", "graph"));
  assert_true(required(s, "io.seldon.machinelearning.v1.SeldonHpaSpec", "maxReplicas"));
  const json_t *items = json_object_get(
      at(s, "io.seldon.machinelearning.v1.SeldonScaledObjectSpec", "triggers"), "items");
  ref = json_object_get(json_array_get(json_object_get(items, "allOf"), 0), "$ref");
  assert_string_equal(json_string_value(ref), V3_PREFIX "sh.keda.v1alpha1.ScaleTriggers");
  json_decref(s);
}

/* The hash in /openapi/v3's serverRelativeURL: the same for the same
 * document, different for different ones. */
static const char *hash_of(const json_t *root, const char *key) {
  const char *url = json_string_value(
      json_object_get(json_object_get(json_object_get(root, "paths"), key), "serverRelativeURL"));
  assert_non_null(url);
  const char *h = strstr(url, "?hash=");
  assert_non_null(h);
  return h + 6;
}

static json_t *get(const char *path) {
  struct ss_api_req req = {.method = "GET", .path = path};
  struct ss_api_resp resp = {0};
  assert_true(ss__api_openapi(NULL, &req, &resp));
  assert_int_equal(resp.code, 200);
  json_t *body = json_incref(resp.body);
  ss__api_resp_free(&resp);
  return body;
}

static void test_document_hash_follows_content(void **state) {
  (void)state;
  json_t *a = get("/openapi/v3"), *b = get("/openapi/v3");
  const char *h1 = hash_of(a, "apis/machinelearning.seldon.io/v1");
  assert_int_equal(strlen(h1), 16);
  assert_string_equal(h1, hash_of(b, "apis/machinelearning.seldon.io/v1"));
  assert_string_not_equal(h1, hash_of(a, "apis/machinelearning.seldon.io/v1alpha2"));
  assert_string_not_equal(hash_of(a, "apis/apps/v1"), hash_of(a, "api/v1"));
  json_t *doc = get("/openapi/v3/apis/apps/v1");
  assert_non_null(json_object_get(json_object_get(json_object_get(doc, "components"), "schemas"),
                                  "io.k8s.api.apps.v1.Deployment"));
  json_t *v2 = get("/openapi/v2");
  assert_non_null(json_object_get(json_object_get(v2, "definitions"),
                                  "io.seldon.machinelearning.v1.SeldonDeployment"));
  json_decref(v2);
  json_decref(doc);
  json_decref(a);
  json_decref(b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_kind_version_has_its_schema),
      cmocka_unit_test(test_names_are_the_api_servers),
      cmocka_unit_test(test_every_ref_resolves_in_its_document),
      cmocka_unit_test(test_seldon_deployment_shape),
      cmocka_unit_test(test_document_hash_follows_content),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
