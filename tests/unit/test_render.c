/* test_render.c: unit tests for src/k8s (render.c, autoscale.c, workload.c,
 * core2.c): the pure conversions (v2beta1 metric targets to v2, Deployment
 * names, replicas precedence, one scaler per Deployment) on inline
 * resources, and the whole render's order, stability and refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "k8s/k8s.h"
#include "model/resource.h"

/* ---- helpers ---- */

static void load(const char *text, struct ss_resource_set *set) {
  struct ss_error err = {0};
  *set = (struct ss_resource_set){0};
  enum ss_err rc = ss_resources_load(text, strlen(text), NULL, set, &err);
  if (rc)
    print_error("load failed: %s: %s\n", ss_err_name(rc), err.msg);
  assert_int_equal(rc, SS_EOK);
  for (size_t i = 0; i < set->n; i++) {
    for (size_t k = 0; k < set->v[i].diags.n; k++)
      if (set->v[i].diags.v[k].sev != SS_SEV_WARNING)
        print_error("  %s: %s\n", set->v[i].diags.v[k].path, set->v[i].diags.v[k].msg);
  }
}

/* Compact JSON with sorted keys, for comparing with a literal. */
static char *dump(const json_t *v) {
  char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
  assert_non_null(s);
  return s;
}

static void assert_json(const json_t *v, const char *want) {
  char *got = dump(v);
  if (strcmp(got, want) != 0)
    print_error("got  %s\nwant %s\n", got, want);
  assert_string_equal(got, want);
  free(got);
}

static const struct ss_render_opts OPTS = {"servescale/gateway:test", "http://prom:9090"};

static json_t *render_text(const char *text, enum ss_err want) {
  struct ss_resource_set set;
  struct ss_error err = {0};
  load(text, &set);
  json_t *out = json_array();
  enum ss_err rc = ss_k8s_render(&set, &OPTS, out, &err);
  if (rc != want)
    print_error("render: %s: %s\n", ss_err_name(rc), err.msg);
  assert_int_equal(rc, want);
  ss_resources_free(&set);
  return out;
}

static const json_t *find(const json_t *objs, const char *kind, const char *name) {
  size_t i;
  json_t *o;
  json_array_foreach(objs, i, o) {
    const char *n = json_string_value(json_object_get(json_object_get(o, "metadata"), "name"));
    if (strcmp(json_string_value(json_object_get(o, "kind")), kind) == 0 && n &&
        strcmp(n, name) == 0)
      return o;
  }
  return NULL;
}

static size_t count(const json_t *objs, const char *kind) {
  size_t i, n = 0;
  json_t *o;
  json_array_foreach(objs, i, o) n += strcmp(json_string_value(json_object_get(o, "kind")), kind) == 0;
  return n;
}

#define SDEP_HEAD                                                                          \
  "apiVersion: machinelearning.seldon.io/v1\nkind: SeldonDeployment\nmetadata: {name: m}\n" \
  "spec:\n"

/* ---- v2beta1 -> v2 ---- */

static void metric_targets_v1_to_v2(void **state) {
  (void)state;
  struct ss_resource_set set;
  load(SDEP_HEAD
       "  predictors:\n"
       "  - name: p\n"
       "    graph: {name: c, type: MODEL}\n"
       "    componentSpecs:\n"
       "    - spec: {containers: [{name: c, image: x, resources: {requests: {cpu: 100m}}}]}\n"
       "      hpaSpec:\n"
       "        maxReplicas: 3\n"
       "        metrics:\n"
       "        - {type: Resource, resource: {name: cpu, targetAverageUtilization: 10}}\n"
       "        - {type: Resource, resource: {name: memory, targetAverageValue: 100Mi}}\n"
       "        - {type: Pods, pods: {metricName: rps, targetAverageValue: 500m}}\n"
       "        - {type: External, external: {metricName: q, metricSelector: {matchLabels: {a: b}}, targetValue: '7'}}\n"
       "        - {type: Object, object: {metricName: hits, target: {apiVersion: v1, kind: Service, name: s}, targetValue: '2'}}\n"
       "        - {type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 20}}}\n",
       &set);
  assert_int_equal(set.v[0].diags.errors, 0);
  const struct ss_hpa_spec *h = set.v[0].u.sdep.predictors[0].components[0].hpa;
  assert_non_null(h);
  assert_int_equal(h->n_metrics, 6);
  const char *want[] = {
      "{\"resource\":{\"name\":\"cpu\",\"target\":{\"averageUtilization\":10,\"type\":\"Utilization\"}},"
      "\"type\":\"Resource\"}",
      "{\"resource\":{\"name\":\"memory\",\"target\":{\"averageValue\":\"104857600\",\"type\":"
      "\"AverageValue\"}},\"type\":\"Resource\"}",
      "{\"pods\":{\"metric\":{\"name\":\"rps\"},\"target\":{\"averageValue\":\"500m\",\"type\":"
      "\"AverageValue\"}},\"type\":\"Pods\"}",
      "{\"external\":{\"metric\":{\"name\":\"q\",\"selector\":{\"matchLabels\":{\"a\":\"b\"}}},"
      "\"target\":{\"type\":\"Value\",\"value\":\"7\"}},\"type\":\"External\"}",
      "{\"object\":{\"describedObject\":{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"name\":\"s\"},"
      "\"metric\":{\"name\":\"hits\"},\"target\":{\"type\":\"Value\",\"value\":\"2\"}},\"type\":"
      "\"Object\"}",
      "{\"resource\":{\"name\":\"cpu\",\"target\":{\"averageUtilization\":20,\"type\":\"Utilization\"}},"
      "\"type\":\"Resource\"}",
  };
  for (size_t i = 0; i < h->n_metrics; i++) {
    json_t *m = ss_k8s_metric_v2(&h->metrics[i]);
    assert_non_null(m);
    assert_json(m, want[i]);
    json_decref(m);
  }
  ss_resources_free(&set);
}

static void container_resource_metric(void **state) {
  (void)state;
  struct ss_metric_spec m = {.source = SS_METRIC_CONTAINER_RESOURCE,
                             .name = "cpu",
                             .container = "c",
                             .target = {.type = SS_TARGET_UTILIZATION, .utilization = 60}};
  json_t *v = ss_k8s_metric_v2(&m);
  assert_json(v, "{\"containerResource\":{\"container\":\"c\",\"name\":\"cpu\",\"target\":{"
                 "\"averageUtilization\":60,\"type\":\"Utilization\"}},\"type\":\"ContainerResource\"}");
  json_decref(v);
}

/* ---- names ---- */

static void deployment_names(void **state) {
  (void)state;
  struct ss_resource_set set;
  load(SDEP_HEAD
       "  predictors:\n"
       "  - name: p\n"
       "    graph: {name: a, type: MODEL, children: [{name: b, type: MODEL}]}\n"
       "    componentSpecs:\n"
       "    - spec: {containers: [{name: a, image: x, resources: {requests: {cpu: 100m}}}, {name: b, image: x, resources: {requests: {cpu: 100m}}}]}\n"
       "    - metadata: {name: named}\n"
       "      spec: {containers: [{name: c, image: x, resources: {requests: {cpu: 100m}}}]}\n",
       &set);
  assert_int_equal(set.v[0].diags.errors, 0);
  const struct ss_predictor *p = &set.v[0].u.sdep.predictors[0];
  char name[128];
  ss_k8s_deployment_name(&p->components[0], 0, name, sizeof name);
  assert_string_equal(name, "m-p-0-a-b-a"); /* servescale's replica set names */
  ss_k8s_deployment_name(&p->components[0], 1, name, sizeof name);
  assert_string_equal(name, "m-p-0-a-b-b");
  ss_k8s_deployment_name(&p->components[1], 0, name, sizeof name);
  assert_string_equal(name, "m-p-1-named"); /* exactly rs_name */
  assert_string_equal(name, p->components[1].rs_name);
  ss_resources_free(&set);
}

static void long_names_hashed(void **state) {
  (void)state;
  json_t *objs = render_text(
      "apiVersion: machinelearning.seldon.io/v1\nkind: SeldonDeployment\n"
      "metadata: {name: a-rather-long-seldon-deployment-name-for-testing}\n"
      "spec:\n  predictors:\n  - name: predictor-with-a-long-name\n"
      "    graph: {name: c, type: MODEL}\n"
      "    componentSpecs:\n    - spec: {containers: [{name: c, image: x, resources: {requests: {cpu: 100m}}}]}\n",
      SS_EOK);
  size_t i;
  json_t *o;
  json_array_foreach(objs, i, o) {
    const char *n = json_string_value(json_object_get(json_object_get(o, "metadata"), "name"));
    assert_true(strlen(n) <= 63);
  }
  /* the predictor Service as Seldon's operator shortens it */
  const json_t *svc = json_array_get(objs, 1);
  assert_string_equal(json_string_value(json_object_get(svc, "kind")), "Service");
  assert_int_equal(strncmp(json_string_value(json_object_get(json_object_get(svc, "metadata"), "name")),
                           "seldon-", 7),
                   0);
  json_decref(objs);
}

/* ---- replicas ---- */

static void replicas_precedence(void **state) {
  (void)state;
  struct ss_resource_set set;
  load(SDEP_HEAD
       "  replicas: 2\n"
       "  predictors:\n"
       "  - name: p\n"
       "    replicas: 3\n"
       "    traffic: 50\n"
       "    graph: {name: a, type: MODEL}\n"
       "    componentSpecs:\n"
       "    - replicas: 5\n"
       "      spec: {containers: [{name: a, image: x, resources: {requests: {cpu: 100m}}}]}\n"
       "    - spec: {containers: [{name: b, image: x, resources: {requests: {cpu: 100m}}}]}\n"
       "  - name: q\n"
       "    traffic: 50\n"
       "    graph: {name: a, type: MODEL}\n"
       "    componentSpecs:\n"
       "    - spec: {containers: [{name: a, image: x, resources: {requests: {cpu: 100m}}}]}\n"
       "    - spec: {containers: [{name: b, image: x, resources: {requests: {cpu: 100m}}}]}\n"
       "      hpaSpec: {maxReplicas: 4}\n"
       "    - spec: {containers: [{name: c, image: x, resources: {requests: {cpu: 100m}}}]}\n"
       "      kedaSpec: {minReplicaCount: 1, triggers: [{type: cpu, metricType: Utilization, metadata: {value: '50'}}]}\n",
       &set);
  assert_int_equal(set.v[0].diags.errors, 0);
  const struct ss_sdep *s = &set.v[0].u.sdep;
  const struct ss_predictor *p = &s->predictors[0], *q = &s->predictors[1];
  assert_int_equal(ss_k8s_replicas(s, p, &p->components[0]), 5); /* componentSpec */
  assert_int_equal(ss_k8s_replicas(s, p, &p->components[1]), 3); /* predictor */
  assert_int_equal(ss_k8s_replicas(s, q, &q->components[0]), 2); /* spec */
  assert_int_equal(ss_k8s_replicas(s, q, &q->components[1]), -1); /* an HPA owns it */
  assert_int_equal(ss_k8s_replicas(s, q, &q->components[2]), -1); /* KEDA owns it */
  ss_resources_free(&set);

  load("apiVersion: machinelearning.seldon.io/v1\nkind: SeldonDeployment\nmetadata: {name: m}\n"
       "spec: {predictors: [{name: p, graph: {name: a, type: MODEL},"
       " componentSpecs: [{spec: {containers: [{name: a, image: x, resources: {requests: {cpu: 100m}}}]}}]}]}\n",
       &set);
  s = &set.v[0].u.sdep;
  assert_int_equal(ss_k8s_replicas(s, &s->predictors[0], &s->predictors[0].components[0]), 1);
  ss_resources_free(&set);
}

static void rendered_replicas_field(void **state) {
  (void)state;
  json_t *objs = render_text(SDEP_HEAD
                             "  predictors:\n  - name: p\n    replicas: 3\n"
                             "    graph: {name: a, type: MODEL}\n"
                             "    componentSpecs:\n"
                             "    - spec: {containers: [{name: a, image: x, resources: {requests: {cpu: 100m}}}]}\n"
                             "    - spec: {containers: [{name: b, image: x, resources: {requests: {cpu: 100m}}}]}\n"
                             "      hpaSpec: {maxReplicas: 4}\n",
                             SS_EOK);
  const json_t *a = find(objs, "Deployment", "m-p-0-a"), *b = find(objs, "Deployment", "m-p-1-b");
  assert_non_null(a);
  assert_non_null(b);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(a, "spec"), "replicas")), 3);
  assert_null(json_object_get(json_object_get(b, "spec"), "replicas"));
  json_decref(objs);
}

/* ---- one scaler per Deployment ---- */

static void hpa_keda_exclusive(void **state) {
  (void)state;
  json_t *objs = render_text(
      SDEP_HEAD
      "  predictors:\n  - name: p\n    graph: {name: a, type: MODEL}\n"
      "    componentSpecs:\n"
      "    - spec: {containers: [{name: a, image: x, resources: {requests: {cpu: 100m}}}]}\n"
      "      hpaSpec: {minReplicas: 2, maxReplicas: 4}\n"
      "      kedaSpec:\n"
      "        minReplicaCount: 1\n"
      "        fallback: {failureThreshold: 3, replicas: 2}\n"
      "        advanced: {horizontalPodAutoscalerConfig: {behavior: {scaleDown: {stabilizationWindowSeconds: 60}}}}\n"
      "        triggers: [{type: prometheus, metadata: {query: up, threshold: '1'}}]\n"
      "    - spec: {containers: [{name: b, image: x, resources: {requests: {cpu: 100m}}}]}\n"
      "      hpaSpec:\n"
      "        maxReplicas: 4\n"
      "        behavior: {scaleUp: {stabilizationWindowSeconds: 30}}\n"
      "    - spec: {containers: [{name: c, image: x, resources: {requests: {cpu: 100m}}}]}\n",
      SS_EOK);
  assert_int_equal(count(objs, "ScaledObject"), 1);
  assert_int_equal(count(objs, "HorizontalPodAutoscaler"), 1);
  assert_null(find(objs, "HorizontalPodAutoscaler", "m-p-0-a")); /* kedaSpec won */
  const json_t *so = find(objs, "ScaledObject", "m-p-0-a");
  assert_non_null(so);
  const json_t *spec = json_object_get(so, "spec");
  assert_json(json_object_get(spec, "scaleTargetRef"),
              "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"name\":\"m-p-0-a\"}");
  assert_json(json_object_get(spec, "fallback"), "{\"behavior\":\"static\",\"failureThreshold\":3,\"replicas\":2}");
  assert_non_null(json_object_get(spec, "advanced"));
  /* no serverAddress: the --prometheus-url one, and an annotation says so */
  assert_string_equal(json_string_value(json_object_get(
                          json_object_get(json_array_get(json_object_get(spec, "triggers"), 0),
                                          "metadata"),
                          "serverAddress")),
                      "http://prom:9090");
  assert_non_null(json_object_get(json_object_get(json_object_get(so, "metadata"), "annotations"),
                                  "servescale.io/prometheus-url"));
  const json_t *hpa = find(objs, "HorizontalPodAutoscaler", "m-p-1-b");
  assert_non_null(hpa);
  assert_json(json_object_get(json_object_get(hpa, "spec"), "behavior"),
              "{\"scaleUp\":{\"stabilizationWindowSeconds\":30}}");
  /* metrics left out stay out: the controller's CPU 80% */
  assert_null(json_object_get(json_object_get(hpa, "spec"), "metrics"));
  assert_null(find(objs, "HorizontalPodAutoscaler", "m-p-2-c"));
  assert_null(find(objs, "ScaledObject", "m-p-2-c"));
  json_decref(objs);
}

static void hpaspecs_by_full_name(void **state) {
  (void)state;
  json_t *objs = render_text(
      SDEP_HEAD
      "  predictors:\n  - name: p\n    graph: {name: a, type: MODEL}\n"
      "    componentSpecs:\n    - spec: {containers: [{name: a, image: x, resources: {requests: {cpu: 100m}}}]}\n"
      "    hpaSpecs:\n"
      "    - scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: m-p-0-a}\n"
      "      maxReplicas: 6\n"
      "      metrics: [{type: Resource, resource: {name: cpu, targetAverageUtilization: 30}}]\n",
      SS_EOK);
  const json_t *hpa = find(objs, "HorizontalPodAutoscaler", "m-p-0-a");
  assert_non_null(hpa);
  const json_t *spec = json_object_get(hpa, "spec");
  assert_int_equal(json_integer_value(json_object_get(spec, "minReplicas")), 1);
  assert_int_equal(json_integer_value(json_object_get(spec, "maxReplicas")), 6);
  assert_json(json_object_get(json_array_get(json_object_get(spec, "metrics"), 0), "resource"),
              "{\"name\":\"cpu\",\"target\":{\"averageUtilization\":30,\"type\":\"Utilization\"}}");
  json_decref(objs);
}

/* ---- the whole render ---- */

static void order_and_stability(void **state) {
  (void)state;
  const char *text = SDEP_HEAD
      "  predictors:\n  - name: p\n    graph: {name: a, type: MODEL}\n"
      "    componentSpecs:\n    - spec: {containers: [{name: a, image: x, resources: {requests: {cpu: 100m}}}]}\n"
      "      hpaSpec: {maxReplicas: 2}\n"
      "---\n"
      "apiVersion: mlops.seldon.io/v1alpha1\nkind: Model\nmetadata: {name: iris}\n"
      "spec: {storageUri: 'gs://x'}\n"
      "---\n"
      "apiVersion: mlops.seldon.io/v1alpha1\nkind: Server\nmetadata: {name: s}\n"
      "spec: {serverConfig: mlserver}\n";
  json_t *a = render_text(text, SS_EOK), *b = render_text(text, SS_EOK);
  const char *kinds[] = {"Secret",       "Service",    "Service", "Deployment",
                         "Deployment",   "HorizontalPodAutoscaler", "PodMonitor", "Server",
                         "Model"};
  assert_int_equal(json_array_size(a), sizeof kinds / sizeof *kinds);
  for (size_t i = 0; i < json_array_size(a); i++)
    assert_string_equal(json_string_value(json_object_get(json_array_get(a, i), "kind")), kinds[i]);
  char *sa = dump(a), *sb = dump(b);
  assert_string_equal(sa, sb);
  free(sa);
  free(sb);
  json_decref(a);
  json_decref(b);
}

static void refusals(void **state) {
  (void)state;
  /* a resource with errors is not rendered */
  json_decref(render_text(SDEP_HEAD "  predictors: []\n", SS_EINVALID));
  /* two SeldonDeployments rendering to the same objects */
  const char *one = SDEP_HEAD
      "  predictors:\n  - name: p\n    graph: {name: a, type: MODEL}\n"
      "    componentSpecs:\n    - spec: {containers: [{name: a, image: x, resources: {requests: {cpu: 100m}}}]}\n";
  char two[2048];
  snprintf(two, sizeof two, "%s---\n%s", one, one);
  json_decref(render_text(two, SS_ECONFLICT));
  /* other kinds render to nothing */
  json_t *none = render_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", SS_EOK);
  assert_int_equal(json_array_size(none), 0);
  json_decref(none);
}

static void podspec_carried_through(void **state) {
  (void)state;
  json_t *objs = render_text(
      SDEP_HEAD
      "  predictors:\n  - name: p\n    graph: {name: a, type: MODEL, parameters: [{name: k, value: '1', type: INT}]}\n"
      "    componentSpecs:\n"
      "    - metadata: {labels: {team: x}, annotations: {note: y}}\n"
      "      spec:\n"
      "        nodeSelector: {disk: ssd}\n"
      "        terminationGracePeriodSeconds: 7\n"
      "        containers:\n"
      "        - name: a\n"
      "          image: x\n"
      "          env: [{name: PREDICTIVE_UNIT_ID, value: mine}]\n"
      "          ports: [{name: http, containerPort: 8080}]\n"
      "          resources: {requests: {cpu: 250m, memory: 1Gi}}\n",
      SS_EOK);
  const json_t *d = find(objs, "Deployment", "m-p-0-a");
  assert_non_null(d);
  const json_t *tpl = json_object_get(json_object_get(d, "spec"), "template");
  const json_t *pod = json_object_get(tpl, "spec");
  assert_json(json_object_get(pod, "nodeSelector"), "{\"disk\":\"ssd\"}");
  assert_int_equal(json_integer_value(json_object_get(pod, "terminationGracePeriodSeconds")), 7);
  const json_t *c = json_array_get(json_object_get(pod, "containers"), 0);
  assert_json(json_object_get(c, "resources"),
              "{\"requests\":{\"cpu\":\"250m\",\"memory\":\"1Gi\"}}");
  /* the user's env and port win; the missing ones are added */
  const json_t *env = json_object_get(c, "env");
  assert_json(json_array_get(env, 0), "{\"name\":\"PREDICTIVE_UNIT_ID\",\"value\":\"mine\"}");
  size_t i;
  json_t *e;
  int seen_port = 0, seen_params = 0;
  json_array_foreach(env, i, e) {
    const char *n = json_string_value(json_object_get(e, "name"));
    const char *v = json_string_value(json_object_get(e, "value"));
    if (strcmp(n, "PREDICTIVE_UNIT_HTTP_SERVICE_PORT") == 0)
      seen_port = strcmp(v, "8080") == 0;
    if (strcmp(n, "PREDICTIVE_UNIT_PARAMETERS") == 0)
      seen_params = strstr(v, "\"name\":\"k\"") != NULL;
  }
  assert_true(seen_port);
  assert_true(seen_params);
  assert_json(json_object_get(c, "ports"),
              "[{\"containerPort\":8080,\"name\":\"http\"},{\"containerPort\":6000,\"name\":"
              "\"metrics\",\"protocol\":\"TCP\"}]");
  const json_t *meta = json_object_get(tpl, "metadata");
  assert_string_equal(json_string_value(json_object_get(json_object_get(meta, "labels"), "team")), "x");
  assert_string_equal(json_string_value(json_object_get(json_object_get(meta, "labels"), "seldon.io/model")),
                      "true");
  assert_json(json_object_get(meta, "annotations"), "{\"note\":\"y\"}");
  json_decref(objs);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(metric_targets_v1_to_v2),
      cmocka_unit_test(container_resource_metric),
      cmocka_unit_test(deployment_names),
      cmocka_unit_test(long_names_hashed),
      cmocka_unit_test(replicas_precedence),
      cmocka_unit_test(rendered_replicas_field),
      cmocka_unit_test(hpa_keda_exclusive),
      cmocka_unit_test(hpaspecs_by_full_name),
      cmocka_unit_test(order_and_stability),
      cmocka_unit_test(refusals),
      cmocka_unit_test(podspec_carried_through),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
