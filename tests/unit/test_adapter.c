/* test_adapter.c: the built-in prometheus-adapter (src/adapter): the rule
 * engine on the examples of prometheus-adapter's own documentation
 * (discovery, association by overrides and template, naming, query
 * templates, label matchers for namespaced and root resources), errors
 * naming the rule and field, the ConfigMap form, label selectors as
 * matchers, and answers from the embedded source over a real window. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "adapter/adapter.h"

/* The configuration walkthrough's rule (docs/config-walkthrough.md). */
static const char WALKTHROUGH[] =
    "rules:\n"
    "- seriesQuery: 'http_requests_total{kubernetes_namespace!=\"\",kubernetes_pod_name!=\"\"}'\n"
    "  resources:\n"
    "    overrides:\n"
    "      kubernetes_namespace: {resource: \"namespace\"}\n"
    "      kubernetes_pod_name: {resource: \"pod\"}\n"
    "  name:\n"
    "    matches: \"^(.*)_total\"\n"
    "    as: \"${1}_per_second\"\n"
    "  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)'\n";

static struct ss_adapter_config *parse(const char *text, struct ss_error *err) {
  struct ss_adapter_config *c = NULL;
  memset(err, 0, sizeof *err);
  ss_adapter_config_parse(text, strlen(text), &c, err);
  return c;
}

static void test_walkthrough_discovery_and_query(void **state) {
  (void)state;
  struct ss_error err;
  struct ss_adapter_config *c = parse(WALKTHROUGH, &err);
  assert_non_null(c);
  json_t *series = json_loads("[{\"__name__\":\"http_requests_total\",\"method\":\"GET\","
                              "\"kubernetes_namespace\":\"production\","
                              "\"kubernetes_pod_name\":\"frontend-server-abcd-0123\"}]",
                              0, NULL);
  json_t *metrics = json_object();
  ss_adapter_discover(c, 0, series, metrics);
  const json_t *pods = json_object_get(metrics, "pods/http_requests_per_second");
  assert_non_null(pods);
  assert_string_equal(json_string_value(json_object_get(pods, "label")), "kubernetes_pod_name");
  assert_string_equal(json_string_value(json_object_get(pods, "ns_label")), "kubernetes_namespace");
  assert_true(json_is_true(json_object_get(pods, "namespaced")));
  const json_t *nss = json_object_get(metrics, "namespaces/http_requests_per_second");
  assert_non_null(nss);
  assert_true(json_is_false(json_object_get(nss, "namespaced"))); /* a root resource */
  /* "pods/http_request_per_second for pod1 and pod2 in somens" */
  const char *names[] = {"pod1", "pod2"};
  struct ss_adapter_request req = {.series = "http_requests_total", .ns = "somens",
                                   .ns_label = "kubernetes_namespace",
                                   .resource_label = "kubernetes_pod_name", .names = names,
                                   .n_names = 2};
  char q[SS_ADAPTER_QUERY_MAX];
  assert_int_equal(ss_adapter_build_query(&c->rules[0], &req, q, sizeof q), SS_EOK);
  assert_string_equal(q, "sum(rate(http_requests_total{kubernetes_namespace=\"somens\","
                         "kubernetes_pod_name=~\"pod1|pod2\"}[2m])) by (kubernetes_pod_name)");
  /* a root resource: no namespace matcher; names are regex literals */
  const char *ns_names[] = {"a.b"};
  struct ss_adapter_request root = {.series = "http_requests_total", .ns = NULL,
                                    .ns_label = "kubernetes_namespace",
                                    .resource_label = "kubernetes_namespace", .names = ns_names,
                                    .n_names = 1};
  assert_int_equal(ss_adapter_build_query(&c->rules[0], &root, q, sizeof q), SS_EOK);
  assert_string_equal(q, "sum(rate(http_requests_total{kubernetes_namespace=~\"a\\\\.b\"}[2m])) "
                         "by (kubernetes_namespace)");
  json_decref(metrics);
  json_decref(series);
  ss_adapter_config_free(c);
}

static void test_naming_filters_and_template(void **state) {
  (void)state;
  struct ss_error err;
  struct ss_adapter_config *c = parse(
      "rules:\n"
      "- seriesQuery: '{__name__=~\"^container_.*_total\"}'\n"
      "  seriesFilters: [{isNot: \"^container_.*_seconds_total$\"}]\n"
      "  resources: {template: \"kube_<<.Group>>_<<.Resource>>\"}\n"
      "  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>) <<.GroupBySlice>>'\n",
      &err);
  assert_non_null(c);
  char name[SS_ADAPTER_NAME_MAX];
  /* no capture group: as defaults to $0, the whole name */
  assert_true(ss_adapter_name(&c->rules[0], "container_fs_reads_total", name, sizeof name));
  assert_string_equal(name, "container_fs_reads_total");
  assert_false(ss_adapter_name(&c->rules[0], "container_cpu_usage_seconds_total", name, sizeof name));
  json_t *series = json_loads("[{\"__name__\":\"container_fs_reads_total\","
                              "\"kube_apps_deployment\":\"web\",\"other\":\"x\"}]", 0, NULL);
  json_t *metrics = json_object();
  ss_adapter_discover(c, 0, series, metrics);
  assert_non_null(json_object_get(metrics, "deployments.apps/container_fs_reads_total"));
  assert_int_equal(json_object_size(metrics), 1);
  struct ss_adapter_request req = {.series = "container_fs_reads_total",
                                   .resource_label = "kube_apps_deployment"};
  char q[SS_ADAPTER_QUERY_MAX];
  assert_int_equal(ss_adapter_build_query(&c->rules[0], &req, q, sizeof q), SS_EOK);
  assert_string_equal(q, "sum(container_fs_reads_total{}) by (kube_apps_deployment) "
                         "[kube_apps_deployment]");
  json_decref(metrics);
  json_decref(series);
  ss_adapter_config_free(c);
}

static void expect_error(const char *text, const char *where) {
  struct ss_error err;
  struct ss_adapter_config *c = parse(text, &err);
  assert_null(c);
  if (!strstr(err.msg, where))
    fail_msg("\"%s\" does not name %s", err.msg, where);
}

static void test_bad_rules_are_named(void **state) {
  (void)state;
  expect_error("rules:\n- seriesQuery: x\n", "rules[0].metricsQuery");
  expect_error("rules:\n- metricsQuery: x\n", "rules[0].seriesQuery");
  expect_error("rules:\n- {seriesQuery: x, metricsQuery: x}\n"
               "- {seriesQuery: x, metricsQuery: x, name: {matches: '(a)(b)'}}\n",
               "rules[1].name.as");
  expect_error("externalRules:\n- {seriesQuery: x, metricsQuery: 'sum(<<.Nope>>)'}\n",
               "externalRules[0].metricsQuery");
  expect_error("rules:\n- {seriesQuery: x, metricsQuery: x, name: {matches: '('}}\n",
               "rules[0].name.matches");
  expect_error("rules:\n- {seriesQuery: x, metricsQuery: x, resources: {overrides: {pod: {}}}}\n",
               "rules[0].resources.overrides.pod.resource");
  expect_error("rules:\n- {seriesQuery: x, metricsQuery: x, seriesFilters: [{is: a, isNot: b}]}\n",
               "rules[0].seriesFilters[0]");
  expect_error("kind: ConfigMap\napiVersion: v1\ndata: {other: x}\n", "config.yaml");
}

static void test_a_configmap_is_unwrapped(void **state) {
  (void)state;
  char text[2048];
  snprintf(text, sizeof text,
           "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: adapter-config}\ndata:\n"
           "  config.yaml: |-\n"
           "    externalRules:\n"
           "    - seriesQuery: 'queue_depth{namespace!=\"\"}'\n"
           "      resources: {overrides: {namespace: {resource: namespace}}}\n"
           "      metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>})'\n");
  struct ss_error err;
  struct ss_adapter_config *c = parse(text, &err);
  assert_non_null(c);
  assert_int_equal(c->n, 1);
  assert_true(c->rules[0].external);
  ss_adapter_config_free(c);
  assert_int_equal(ss_adapter_config_default(&c, &err), SS_EOK);
  assert_true(c->n >= 3);
  ss_adapter_config_free(c);
}

static void test_selectors_become_matchers(void **state) {
  (void)state;
  char buf[512], why[128];
  assert_true(ss_adapter_selector_matchers("app=web, tier!=db,env in (a, b),!gpu,zone", buf,
                                           sizeof buf, why, sizeof why));
  assert_string_equal(buf, "app=\"web\",tier!=\"db\",env=~\"a|b\",gpu=\"\",zone!=\"\"");
  assert_true(ss_adapter_selector_matchers("", buf, sizeof buf, why, sizeof why));
  assert_string_equal(buf, "");
  assert_false(ss_adapter_selector_matchers("a in b", buf, sizeof buf, why, sizeof why));
  json_t *sel = json_loads("{\"matchLabels\":{\"app\":\"web\"},\"matchExpressions\":"
                           "[{\"key\":\"env\",\"operator\":\"NotIn\",\"values\":[\"x\",\"y\"]}]}",
                           0, NULL);
  ss_adapter_selector_string(sel, buf, sizeof buf);
  assert_string_equal(buf, "app=web,env notin (x,y)");
  json_decref(sel);
}

/* Answers from the embedded source: a request counter per pod over a
 * real window, through the default rules' shape. */
static void test_embedded_answers(void **state) {
  (void)state;
  struct ss_metrics *m = ss_metrics_new();
  const char *labels[] = {"namespace", "pod"};
  ss_metrics_family(m, "req_total", SS_METRIC_COUNTER, "requests", labels, 2, NULL, 0);
  const char *a[] = {"ns", "web-1"}, *b[] = {"ns", "web-2"}, *other[] = {"else", "x"};
  struct ss_series *sa = ss_metrics_series(m, "req_total", a);
  struct ss_series *sb = ss_metrics_series(m, "req_total", b);
  struct ss_series *so = ss_metrics_series(m, "req_total", other);
  int64_t t0 = 1700000000000;
  for (int s = 0; s <= 60; s += 5) { /* 2/s and 4/s for a minute */
    ss_series_inc(sa, s ? 10 : 0);
    ss_series_inc(sb, s ? 20 : 0);
    ss_series_inc(so, s ? 5 : 0);
    ss_metrics_sample(m, t0 + s * 1000);
  }
  struct ss_error err;
  struct ss_adapter_config *c = parse(
      "rules:\n"
      "- seriesQuery: '{__name__=\"req_total\",namespace!=\"\"}'\n"
      "  resources: {overrides: {namespace: {resource: namespace}, pod: {resource: pod}}}\n"
      "  name: {matches: '^(.*)_total$', as: '${1}_per_second'}\n"
      "  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[1m])) by (<<.GroupBy>>)'\n"
      "externalRules:\n"
      "- seriesQuery: '{__name__=\"req_total\",namespace!=\"\"}'\n"
      "  resources: {overrides: {namespace: {resource: namespace}}}\n"
      "  name: {matches: '^(.*)_total$', as: '${1}_rate'}\n"
      "  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[1m]))'\n",
      &err);
  assert_non_null(c);
  struct ss_adapter_source src = {.metrics = m};
  struct ss_adapter *ad = ss_adapter_new(c, &src);
  int64_t now = t0 + 60000;
  json_t *disc = ss_adapter_discovery(ad, false, now);
  char *text = json_dumps(disc, JSON_COMPACT);
  assert_non_null(strstr(text, "\"pods/req_per_second\""));
  free(text);
  json_decref(disc);
  struct ss_adapter_gr pods;
  ss_adapter_gr_of(NULL, "pods", &pods);
  const char *names[] = {"web-1", "web-2"};
  json_t *out = NULL;
  assert_int_equal(ss_adapter_custom(ad, &pods, "ns", names, 2, "req_per_second", NULL, now,
                                     &out, &err),
                   SS_EOK);
  json_t *items = json_object_get(out, "items");
  assert_int_equal(json_array_size(items), 2);
  for (size_t i = 0; i < 2; i++) {
    json_t *it = json_array_get(items, i);
    const char *n = json_string_value(json_object_get(json_object_get(it, "describedObject"), "name"));
    const char *v = json_string_value(json_object_get(it, "value"));
    assert_string_equal(v, strcmp(n, "web-1") == 0 ? "2" : "4");
  }
  json_decref(out);
  assert_int_equal(ss_adapter_custom(ad, &pods, "ns", names, 2, "nope", NULL, now, &out, &err),
                   SS_ENOTFOUND);
  assert_non_null(strstr(err.msg, "could not find the metric nope"));
  assert_int_equal(ss_adapter_external(ad, "ns", "req_rate", NULL, now, &out, &err), SS_EOK);
  const char *v = json_string_value(json_object_get(json_array_get(json_object_get(out, "items"), 0), "value"));
  assert_string_equal(v, "6"); /* 2 + 4, the other namespace left out */
  json_decref(out);
  ss_adapter_free(ad);
  ss_metrics_free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_walkthrough_discovery_and_query),
      cmocka_unit_test(test_naming_filters_and_template),
      cmocka_unit_test(test_bad_rules_are_named),
      cmocka_unit_test(test_a_configmap_is_unwrapped),
      cmocka_unit_test(test_selectors_become_matchers),
      cmocka_unit_test(test_embedded_answers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
