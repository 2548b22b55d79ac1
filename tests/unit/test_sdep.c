/* test_sdep.c: unit tests for src/model/sdep.c, autoscaling.c, core2.c and
 * resource.c, all through ss_resources_load on inline YAML and JSON: what
 * each valid form decodes to (typed values and the defaults written into
 * the document), and for each invalid form the path, reason, line and
 * number of errors. Every invalid case is also replayed as JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/doc.h"
#include "model/resource.h"

#define N_ELEMS(a) (sizeof(a) / sizeof *(a))

/* ---- helpers ---- */

static void dump_diags(const struct ss_resource *r) {
  for (size_t i = 0; i < r->diags.n; i++) {
    const struct ss_diag *d = &r->diags.v[i];
    print_error("  %u:%u: %s%s: %s\n", d->line, d->col,
                d->sev == SS_SEV_WARNING ? "warning: " : "", d->path, d->msg);
  }
}

/* Loads text, which must parse; the caller frees set. */
static void load(const char *text, struct ss_resource_set *set) {
  struct ss_error err = {0};
  *set = (struct ss_resource_set){0};
  enum ss_err rc = ss_resources_load(text, strlen(text), NULL, set, &err);
  if (rc)
    print_error("load failed: %s at %u:%u: %s\n<<%s>>\n", ss_err_name(rc), err.line, err.col,
                err.msg, text);
  assert_int_equal(rc, SS_EOK);
}

/* Loads text holding one resource that must have no errors. */
static const struct ss_resource *load_one(const char *text, struct ss_resource_set *set) {
  load(text, set);
  assert_int_equal(set->n, 1);
  const struct ss_resource *r = &set->v[0];
  if (r->diags.errors) {
    print_error("unexpected errors in <<%s>>:\n", text);
    dump_diags(r);
  }
  assert_int_equal(r->diags.errors, 0);
  return r;
}

static const struct ss_sdep *load_sdep(const char *text, struct ss_resource_set *set) {
  const struct ss_resource *r = load_one(text, set);
  assert_int_equal(r->kind, SS_KIND_SDEP);
  return &r->u.sdep;
}

/* The diagnostic of severity sev at path whose message holds msg, or NULL. */
static const struct ss_diag *find_diag(const struct ss_resource *r, enum ss_severity sev,
                                       const char *path, const char *msg) {
  for (size_t i = 0; i < r->diags.n; i++) {
    const struct ss_diag *d = &r->diags.v[i];
    if (d->sev == sev && strcmp(d->path, path) == 0 && strstr(d->msg, msg))
      return d;
  }
  return NULL;
}

/* Value at a dotted path of plain keys and [n] indexes in obj. */
static json_t *at(json_t *obj, const char *path) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s", path);
  json_t *v = obj;
  for (char *p = buf; v && *p;) {
    if (*p == '[') {
      char *end;
      unsigned long i = strtoul(p + 1, &end, 10);
      v = json_array_get(v, i);
      p = end + 1;
    } else {
      size_t n = strcspn(p, ".[");
      char save = p[n];
      p[n] = '\0';
      v = json_object_get(v, p);
      p[n] = save;
      p += n;
    }
    if (*p == '.')
      p++;
  }
  return v;
}

/* ---- inputs ---- */

/* Lines 1-6; predictors follow from line 7. */
#define HEADN(name)                                                                    \
  "apiVersion: machinelearning.seldon.io/v1\nkind: SeldonDeployment\nmetadata:\n  name: " \
  name "\nspec:\n  predictors:\n"
#define HEAD HEADN("m")
/* Lines 7-14: one predictor "p", graph node "c" on container "c" (no
 * requests); componentSpec fields may follow at six spaces from line 15. */
#define PRED_NOREQ                                                                     \
  "  - name: p\n    graph:\n      name: c\n    componentSpecs:\n    - spec:\n"           \
  "        containers:\n        - name: c\n          image: x\n"
/* Lines 7-17: the same with a cpu request of 500m; more from line 18. */
#define PRED PRED_NOREQ "          resources:\n            requests:\n              cpu: 500m\n"
#define SDEP HEAD PRED

static const char seed_027[] =
    "{\n"
    "  \"apiVersion\": \"machinelearning.seldon.io/v1alpha2\",\n"
    "  \"kind\": \"SeldonDeployment\",\n"
    "  \"metadata\": {\"name\": \"seldon-model\"},\n"
    "  \"spec\": {\n"
    "    \"name\": \"test-deployment\",\n"
    "    \"oauth_key\": \"oauth-key\",\n"
    "    \"oauth_secret\": \"oauth-secret\",\n"
    "    \"predictors\": [{\n"
    "      \"componentSpecs\": [{\n"
    "        \"spec\": {\n"
    "          \"containers\": [{\n"
    "            \"image\": \"seldonio/mock_classifier:1.0\",\n"
    "            \"imagePullPolicy\": \"IfNotPresent\",\n"
    "            \"name\": \"classifier\",\n"
    "            \"resources\": {\"requests\": {\"cpu\": \"0.5\"}}\n"
    "          }],\n"
    "          \"terminationGracePeriodSeconds\": 1\n"
    "        },\n"
    "        \"hpaSpec\": {\n"
    "          \"minReplicas\": 1,\n"
    "          \"maxReplicas\": 4,\n"
    "          \"metrics\": [{\"type\": \"Resource\",\n"
    "                       \"resource\": {\"name\": \"cpu\", \"targetAverageUtilization\": 10}}]\n"
    "        }\n"
    "      }],\n"
    "      \"graph\": {\"children\": [], \"name\": \"classifier\",\n"
    "                \"endpoint\": {\"type\": \"REST\"}, \"type\": \"MODEL\"},\n"
    "      \"name\": \"example\",\n"
    "      \"replicas\": 1\n"
    "    }]\n"
    "  }\n"
    "}\n";

/* The seed's hpaSpecs form; TARGET is scaleTargetRef.name, CPU the request. */
#define SEED_HPASPECS(target, cpu)                                                     \
  "{\"apiVersion\": \"machinelearning.seldon.io/v1alpha2\",\n"                         \
  " \"kind\": \"SeldonDeployment\",\n"                                                 \
  " \"metadata\": {\"name\": \"seldon-model\"},\n"                                     \
  " \"spec\": {\"name\": \"test-deployment\", \"predictors\": [{\n"                    \
  "  \"componentSpecs\": [{\n"                                                         \
  "    \"metadata\": {\"name\": \"my-dep\"},\n"                                        \
  "    \"spec\": {\"containers\": [{\"image\": \"seldonio/mock_classifier:1.0\",\n"    \
  "      \"imagePullPolicy\": \"IfNotPresent\", \"name\": \"classifier\",\n"           \
  "      \"resources\": {\"requests\": {" cpu "}}}],\n"                                \
  "      \"terminationGracePeriodSeconds\": 1}}],\n"                                   \
  "  \"hpaSpecs\": [{\n"                                                               \
  "    \"scaleTargetRef\": {\"apiVersion\": \"extensions/v1beta1\", \"kind\": "        \
  "\"Deployment\", \"name\": \"" target "\"},\n"                                       \
  "    \"minReplicas\": 1, \"maxReplicas\": 4,\n"                                      \
  "    \"metrics\": [{\"type\": \"Resource\",\n"                                       \
  "                 \"resource\": {\"name\": \"cpu\", \"targetAverageUtilization\": 10}}]\n" \
  "  }],\n"                                                                            \
  "  \"graph\": {\"children\": [], \"name\": \"classifier\", \"endpoint\": {\"type\": " \
  "\"REST\"}, \"type\": \"MODEL\"},\n"                                                 \
  "  \"name\": \"example\", \"replicas\": 1}]}}\n"

static const char seed_keda_yaml[] =
    "apiVersion: machinelearning.seldon.io/v1\n"
    "kind: SeldonDeployment\n"
    "metadata:\n"
    "  name: seldon-model\n"
    "spec:\n"
    "  name: test-deployment\n"
    "  predictors:\n"
    "  - componentSpecs:\n"
    "    - spec:\n"
    "        containers:\n"
    "        - image: seldonio/mock_classifier:1.19.0-dev\n"
    "          imagePullPolicy: IfNotPresent\n"
    "          name: classifier\n"
    "          resources:\n"
    "            requests:\n"
    "              cpu: '0.5'\n"
    "      kedaSpec:\n"
    "        pollingInterval: 15                                # Optional. Default: 30 seconds\n"
    "        minReplicaCount: 1                                 # Optional. Default: 0\n"
    "        maxReplicaCount: 5                                 # Optional. Default: 100\n"
    "        triggers:\n"
    "        - type: prometheus\n"
    "          metadata:\n"
    "            # Required\n"
    "            serverAddress: "
    "http://seldon-monitoring-prometheus.seldon-monitoring.svc.cluster.local:9090\n"
    "            metricName: access_frequency\n"
    "            threshold: '10'\n"
    "            query: "
    "rate(seldon_api_executor_client_requests_seconds_count{model_name=\"classifier\"}[1m])\n"
    "    graph:\n"
    "      children: []\n"
    "      endpoint:\n"
    "        type: REST\n"
    "      name: classifier\n"
    "      type: MODEL\n"
    "    name: example\n";

/* ---- valid forms ---- */

static void seed_027_hpa_spec(void **state) {
  (void)state;
  struct ss_resource_set set;
  const struct ss_sdep *s = load_sdep(seed_027, &set);
  assert_string_equal(s->api_version, "machinelearning.seldon.io/v1alpha2");
  assert_string_equal(s->name, "seldon-model");
  assert_string_equal(s->spec_name, "test-deployment");
  assert_string_equal(s->oauth_key, "oauth-key");
  assert_string_equal(s->oauth_secret, "oauth-secret");
  assert_int_equal(s->n_predictors, 1);
  const struct ss_predictor *p = &s->predictors[0];
  assert_string_equal(p->name, "example");
  assert_int_equal(p->replicas, 1);
  assert_int_equal(p->traffic, 100); /* the only predictor takes all traffic */
  assert_int_equal(p->n_components, 1);
  const struct ss_component_spec *c = &p->components[0];
  assert_null(c->name);
  assert_int_equal(c->termination_grace_seconds, 1);
  assert_int_equal(c->n_containers, 1);
  assert_string_equal(c->containers[0].name, "classifier");
  assert_string_equal(c->containers[0].image, "seldonio/mock_classifier:1.0");
  assert_string_equal(c->containers[0].image_pull_policy, "IfNotPresent");
  assert_true(c->containers[0].has_cpu_request);
  assert_int_equal(c->containers[0].cpu_request.milli, 500); /* "0.5" */
  assert_false(c->containers[0].has_memory_request);
  assert_string_equal(c->rs_name, "seldon-model-example-0-classifier");
  assert_null(c->keda);
  const struct ss_hpa_spec *h = c->hpa;
  assert_non_null(h);
  assert_int_equal(h->min_replicas, 1);
  assert_int_equal(h->max_replicas, 4);
  assert_false(h->default_metrics);
  assert_null(h->target_name);
  assert_int_equal(h->n_metrics, 1);
  assert_int_equal(h->metrics[0].source, SS_METRIC_RESOURCE);
  assert_string_equal(h->metrics[0].name, "cpu");
  assert_int_equal(h->metrics[0].target.type, SS_TARGET_UTILIZATION);
  assert_int_equal(h->metrics[0].target.utilization, 10);
  /* no behavior: Kubernetes' defaults; scale-down's window is the
   * controller's flag, not the spec's */
  assert_false(h->has_behavior);
  assert_int_equal(h->up.stabilization_seconds, 0);
  assert_int_equal(h->down.stabilization_seconds, SS_HPA_STABILIZATION_UNSET);
  assert_int_equal(p->graph.type, SS_NODE_MODEL);
  assert_int_equal(p->graph.endpoint, SS_ENDPOINT_REST);
  assert_int_equal(p->graph.component, 0);
  assert_int_equal(p->graph.container, 0);
  assert_int_equal(p->graph.n_children, 0);
  assert_int_equal(ss_component_replicas(s, p, c), 1);
  ss_resources_free(&set);
}

static void seed_hpa_specs_target(void **state) {
  (void)state;
  /* scaleTargetRef by metadata.name and by the full replica set name */
  static const char *const inputs[] = {
      SEED_HPASPECS("my-dep", "\"cpu\": \"0.5\""),
      SEED_HPASPECS("seldon-model-example-0-my-dep", "\"cpu\": \"0.5\""),
  };
  for (size_t i = 0; i < N_ELEMS(inputs); i++) {
    struct ss_resource_set set;
    const struct ss_sdep *s = load_sdep(inputs[i], &set);
    const struct ss_predictor *p = &s->predictors[0];
    assert_int_equal(p->n_hpa_specs, 1);
    const struct ss_hpa_spec *h = &p->hpa_specs[0];
    assert_int_equal(h->component, 0);
    assert_string_equal(h->target_kind, "Deployment");
    assert_string_equal(h->target_api_version, "extensions/v1beta1");
    assert_int_equal(h->min_replicas, 1);
    assert_int_equal(h->max_replicas, 4);
    assert_int_equal(h->metrics[0].target.utilization, 10);
    const struct ss_component_spec *c = &p->components[0];
    assert_string_equal(c->name, "my-dep");
    assert_string_equal(c->rs_name, "seldon-model-example-0-my-dep");
    assert_ptr_equal(c->hpa, h);
    ss_resources_free(&set);
  }
}

static void hpa_v2_metric_forms(void **state) {
  (void)state;
  static const char in[] =
      SDEP "      hpaSpec:\n"
           "        minReplicas: 2\n"
           "        maxReplicas: 10\n"
           "        metrics:\n"
           "        - type: Resource\n"
           "          resource:\n"
           "            name: cpu\n"
           "            target: {type: Utilization, averageUtilization: 60}\n"
           "        - type: Resource\n"
           "          resource:\n"
           "            name: memory\n"
           "            target: {type: AverageValue, averageValue: 500m}\n"
           "        - type: Pods\n"
           "          pods:\n"
           "            metric: {name: requests_per_second}\n"
           "            target: {type: AverageValue, averageValue: \"500m\"}\n"
           "        - type: Object\n"
           "          object:\n"
           "            metric: {name: hits}\n"
           "            describedObject: {apiVersion: networking.k8s.io/v1, kind: Ingress, "
           "name: main}\n"
           "            target: {type: Value, value: 2k}\n"
           "        - type: External\n"
           "          external:\n"
           "            metric: {name: queue_depth, selector: {matchLabels: {q: a}}}\n"
           "            target: {type: Value, value: 30}\n"
           "        - type: ContainerResource\n"
           "          containerResource:\n"
           "            name: cpu\n"
           "            container: c\n"
           "            target: {type: Utilization, averageUtilization: 70}\n";
  struct ss_resource_set set;
  const struct ss_sdep *s = load_sdep(in, &set);
  const struct ss_hpa_spec *h = s->predictors[0].components[0].hpa;
  assert_non_null(h);
  assert_int_equal(h->min_replicas, 2);
  assert_int_equal(h->max_replicas, 10);
  assert_int_equal(h->n_metrics, 6);
  const struct ss_metric_spec *m = h->metrics;
  assert_int_equal(m[0].source, SS_METRIC_RESOURCE);
  assert_int_equal(m[0].target.type, SS_TARGET_UTILIZATION);
  assert_int_equal(m[0].target.utilization, 60);
  assert_string_equal(m[1].name, "memory");
  assert_int_equal(m[1].target.type, SS_TARGET_AVERAGE_VALUE);
  assert_int_equal(m[1].target.value.milli, 500);
  assert_int_equal(m[2].source, SS_METRIC_PODS);
  assert_string_equal(m[2].name, "requests_per_second");
  assert_int_equal(m[2].target.type, SS_TARGET_AVERAGE_VALUE);
  assert_int_equal(m[2].target.value.milli, 500);
  assert_int_equal(m[3].source, SS_METRIC_OBJECT);
  assert_string_equal(m[3].name, "hits");
  assert_string_equal(m[3].object_kind, "Ingress");
  assert_string_equal(m[3].object_name, "main");
  assert_string_equal(m[3].object_api_version, "networking.k8s.io/v1");
  assert_int_equal(m[3].target.type, SS_TARGET_VALUE);
  assert_int_equal(m[3].target.value.milli, 2000000);
  assert_int_equal(m[4].source, SS_METRIC_EXTERNAL);
  assert_string_equal(m[4].name, "queue_depth");
  assert_non_null(m[4].selector);
  assert_int_equal(m[4].target.type, SS_TARGET_VALUE);
  assert_int_equal(m[4].target.value.milli, 30000);
  assert_int_equal(m[5].source, SS_METRIC_CONTAINER_RESOURCE);
  assert_string_equal(m[5].container, "c");
  assert_int_equal(m[5].target.utilization, 70);
  ss_resources_free(&set);
}

static void hpa_v2beta1_metric_forms(void **state) {
  (void)state;
  static const char in[] =
      SDEP "      hpaSpec:\n"
           "        maxReplicas: 3\n"
           "        metrics:\n"
           "        - type: Resource\n"
           "          resource: {name: memory, targetAverageValue: 1Gi}\n"
           "        - type: Pods\n"
           "          pods: {metricName: rps, targetAverageValue: 250m}\n"
           "        - type: Object\n"
           "          object:\n"
           "            target: {kind: Service, name: front}\n"
           "            metricName: latency\n"
           "            targetValue: 100m\n"
           "        - type: External\n"
           "          external: {metricName: backlog, targetValue: 40}\n"
           "        - type: External\n"
           "          external: {metricName: backlog, targetAverageValue: 4}\n";
  struct ss_resource_set set;
  const struct ss_sdep *s = load_sdep(in, &set);
  const struct ss_hpa_spec *h = s->predictors[0].components[0].hpa;
  assert_int_equal(h->n_metrics, 5);
  const struct ss_metric_spec *m = h->metrics;
  assert_int_equal(m[0].target.type, SS_TARGET_AVERAGE_VALUE);
  assert_int_equal(m[0].target.value.milli, 1024LL * 1024 * 1024 * 1000);
  assert_int_equal(m[1].source, SS_METRIC_PODS);
  assert_string_equal(m[1].name, "rps");
  assert_int_equal(m[1].target.type, SS_TARGET_AVERAGE_VALUE);
  assert_int_equal(m[1].target.value.milli, 250);
  assert_int_equal(m[2].source, SS_METRIC_OBJECT);
  assert_string_equal(m[2].name, "latency");
  assert_string_equal(m[2].object_kind, "Service");
  assert_string_equal(m[2].object_name, "front");
  assert_int_equal(m[2].target.type, SS_TARGET_VALUE);
  assert_int_equal(m[2].target.value.milli, 100);
  assert_string_equal(m[3].name, "backlog");
  assert_int_equal(m[3].target.type, SS_TARGET_VALUE);
  assert_int_equal(m[3].target.value.milli, 40000);
  assert_int_equal(m[4].target.type, SS_TARGET_AVERAGE_VALUE);
  assert_int_equal(m[4].target.value.milli, 4000);
  ss_resources_free(&set);
}

static void hpa_defaults(void **state) {
  (void)state;
  static const char in[] = SDEP "      hpaSpec:\n        maxReplicas: 3\n";
  struct ss_resource_set set;
  load(in, &set);
  assert_int_equal(set.n, 1);
  const struct ss_resource *r = &set.v[0];
  assert_int_equal(r->diags.errors, 0);
  assert_int_equal(r->diags.warnings, 0);
  const struct ss_hpa_spec *h = r->u.sdep.predictors[0].components[0].hpa;
  assert_int_equal(h->min_replicas, 1);
  assert_int_equal(h->max_replicas, 3);
  assert_true(h->default_metrics);
  assert_int_equal(h->n_metrics, 1);
  assert_int_equal(h->metrics[0].source, SS_METRIC_RESOURCE);
  assert_string_equal(h->metrics[0].name, "cpu");
  assert_int_equal(h->metrics[0].target.type, SS_TARGET_UTILIZATION);
  assert_int_equal(h->metrics[0].target.utilization, 80);
  /* behavior absent: scale up by max(4 pods, 100%) per 15 s at once ... */
  assert_int_equal(h->up.stabilization_seconds, 0);
  assert_int_equal(h->up.select, SS_SELECT_MAX);
  assert_int_equal(h->up.n_policies, 2);
  assert_int_equal(h->up.policies[0].type, SS_POLICY_PODS);
  assert_int_equal(h->up.policies[0].value, 4);
  assert_int_equal(h->up.policies[0].period_seconds, 15);
  assert_int_equal(h->up.policies[1].type, SS_POLICY_PERCENT);
  assert_int_equal(h->up.policies[1].value, 100);
  assert_int_equal(h->up.policies[1].period_seconds, 15);
  /* ... and down by 100% per 15 s after the controller's window (unset
   * here: --horizontal-pod-autoscaler-downscale-stabilization applies) */
  assert_false(h->has_behavior);
  assert_int_equal(h->down.stabilization_seconds, SS_HPA_STABILIZATION_UNSET);
  assert_int_equal(h->down.select, SS_SELECT_MAX);
  assert_int_equal(h->down.n_policies, 1);
  assert_int_equal(h->down.policies[0].type, SS_POLICY_PERCENT);
  assert_int_equal(h->down.policies[0].value, 100);
  assert_int_equal(h->down.policies[0].period_seconds, 15);
  /* the defaults are written into the document */
  json_t *hj = at(r->obj, "spec.predictors[0].componentSpecs[0].hpaSpec");
  assert_int_equal(json_integer_value(at(hj, "minReplicas")), 1);
  assert_string_equal(json_string_value(at(hj, "metrics[0].type")), "Resource");
  assert_string_equal(json_string_value(at(hj, "metrics[0].resource.name")), "cpu");
  assert_string_equal(json_string_value(at(hj, "metrics[0].resource.target.type")),
                      "Utilization");
  assert_int_equal(json_integer_value(at(hj, "metrics[0].resource.target.averageUtilization")),
                   80);
  ss_resources_free(&set);
}

static void hpa_behavior(void **state) {
  (void)state;
  static const char in[] =
      SDEP "      hpaSpec:\n"
           "        maxReplicas: 8\n"
           "        behavior:\n"
           "          scaleUp:\n"
           "            stabilizationWindowSeconds: 30\n"
           "            selectPolicy: Min\n"
           "            policies:\n"
           "            - {type: Pods, value: 2, periodSeconds: 60}\n"
           "            - {type: Percent, value: 50, periodSeconds: 30}\n"
           "          scaleDown:\n"
           "            stabilizationWindowSeconds: 600\n"
           "            selectPolicy: Disabled\n";
  struct ss_resource_set set;
  const struct ss_sdep *s = load_sdep(in, &set);
  const struct ss_hpa_spec *h = s->predictors[0].components[0].hpa;
  assert_true(h->has_behavior);
  assert_int_equal(h->up.stabilization_seconds, 30);
  assert_int_equal(h->up.select, SS_SELECT_MIN);
  assert_int_equal(h->up.n_policies, 2);
  assert_int_equal(h->up.policies[0].type, SS_POLICY_PODS);
  assert_int_equal(h->up.policies[0].value, 2);
  assert_int_equal(h->up.policies[0].period_seconds, 60);
  assert_int_equal(h->up.policies[1].type, SS_POLICY_PERCENT);
  assert_int_equal(h->up.policies[1].value, 50);
  assert_int_equal(h->up.policies[1].period_seconds, 30);
  assert_int_equal(h->down.stabilization_seconds, 600);
  assert_int_equal(h->down.select, SS_SELECT_DISABLED);
  /* scaleDown names no policies: the default one stays */
  assert_int_equal(h->down.n_policies, 1);
  assert_int_equal(h->down.policies[0].type, SS_POLICY_PERCENT);
  assert_int_equal(h->down.policies[0].value, 100);
  ss_resources_free(&set);
}

static void keda_defaults_and_cpu_trigger(void **state) {
  (void)state;
  static const char in[] = SDEP "      kedaSpec:\n"
                                "        minReplicaCount: 1\n"
                                "        triggers:\n"
                                "        - type: cpu\n"
                                "          metricType: Utilization\n"
                                "          metadata: {value: \"60\"}\n";
  struct ss_resource_set set;
  const struct ss_resource *r = load_one(in, &set);
  const struct ss_keda_spec *k = r->u.sdep.predictors[0].components[0].keda;
  assert_non_null(k);
  assert_null(r->u.sdep.predictors[0].components[0].hpa);
  assert_int_equal(k->polling_interval, 30);
  assert_int_equal(k->cooldown_period, 300);
  assert_int_equal(k->min_replicas, 1);
  assert_int_equal(k->max_replicas, 100);
  assert_int_equal(k->idle_replicas, -1);
  assert_false(k->has_fallback);
  assert_int_equal(k->fallback_behavior, SS_KEDA_FALLBACK_STATIC);
  assert_false(k->has_behavior);
  assert_int_equal(k->up.n_policies, 2);
  assert_int_equal(k->down.stabilization_seconds, SS_HPA_STABILIZATION_UNSET);
  assert_int_equal(k->n_triggers, 1);
  assert_int_equal(k->triggers[0].type, SS_TRIGGER_CPU);
  assert_int_equal(k->triggers[0].metric_type, SS_TARGET_UTILIZATION);
  assert_int_equal(k->triggers[0].value.milli, 60000);
  json_t *kj = at(r->obj, "spec.predictors[0].componentSpecs[0].kedaSpec");
  assert_int_equal(json_integer_value(at(kj, "pollingInterval")), 30);
  assert_int_equal(json_integer_value(at(kj, "cooldownPeriod")), 300);
  assert_int_equal(json_integer_value(at(kj, "minReplicaCount")), 1);
  assert_int_equal(json_integer_value(at(kj, "maxReplicaCount")), 100);
  assert_null(at(kj, "fallback")); /* no fallback: nothing to default */
  ss_resources_free(&set);

  /* with a prometheus trigger minReplicaCount may stay at its default 0 */
  static const char in0[] = SDEP "      kedaSpec:\n"
                                 "        triggers:\n"
                                 "        - type: prometheus\n"
                                 "          metadata: {query: up, threshold: '2.5'}\n";
  r = load_one(in0, &set);
  k = r->u.sdep.predictors[0].components[0].keda;
  assert_int_equal(k->min_replicas, 0);
  assert_int_equal(k->max_replicas, 100);
  assert_null(k->triggers[0].server_address);
  assert_true(k->triggers[0].threshold == 2.5);
  assert_true(k->triggers[0].ignore_null_values);
  assert_int_equal(k->triggers[0].timeout_ms, 3000);
  ss_resources_free(&set);
}

/* has_behavior says whether behavior was written (the controller's path
 * depends on it), whatever defaults fill up and down; a scaleDown window not
 * written stays unset (-1), one written as 0 stays 0. */
static void hpa_behavior_written(void **state) {
  (void)state;
  static const struct {
    const char *behavior; /* the hpaSpec's lines after maxReplicas */
    bool has;
    int32_t up_window, down_window;
  } t[] = {
      {"", false, 0, SS_HPA_STABILIZATION_UNSET},
      {"        behavior:\n", false, 0, SS_HPA_STABILIZATION_UNSET}, /* null: absent */
      {"        behavior: {}\n", true, 0, SS_HPA_STABILIZATION_UNSET},
      {"        behavior:\n          scaleUp: {stabilizationWindowSeconds: 60}\n", true, 60,
       SS_HPA_STABILIZATION_UNSET},
      {"        behavior:\n          scaleDown: {selectPolicy: Min}\n", true, 0,
       SS_HPA_STABILIZATION_UNSET},
      {"        behavior:\n          scaleDown: {stabilizationWindowSeconds: 0}\n", true, 0, 0},
  };
  for (size_t i = 0; i < N_ELEMS(t); i++) {
    char in[1024];
    snprintf(in, sizeof in, "%s      hpaSpec:\n        maxReplicas: 4\n%s", SDEP, t[i].behavior);
    struct ss_resource_set set;
    const struct ss_resource *r = load_one(in, &set);
    const struct ss_hpa_spec *h = r->u.sdep.predictors[0].components[0].hpa;
    if (h->has_behavior != t[i].has || h->up.stabilization_seconds != t[i].up_window ||
        h->down.stabilization_seconds != t[i].down_window)
      print_error("case %zu <<%s>>: has_behavior %d, windows up %d down %d\n", i, t[i].behavior,
                  h->has_behavior, h->up.stabilization_seconds, h->down.stabilization_seconds);
    assert_int_equal(h->has_behavior, t[i].has);
    assert_int_equal(h->up.stabilization_seconds, t[i].up_window);
    assert_int_equal(h->down.stabilization_seconds, t[i].down_window);
    /* an unset window is not written into the document either */
    if (t[i].down_window < 0)
      assert_null(at(r->obj, "spec.predictors[0].componentSpecs[0].hpaSpec.behavior.scaleDown."
                             "stabilizationWindowSeconds"));
    ss_resources_free(&set);
  }

  /* KEDA's advanced.horizontalPodAutoscalerConfig.behavior, the same way */
  static const char keda[] = SDEP "      kedaSpec:\n"
                                  "        advanced:\n"
                                  "          horizontalPodAutoscalerConfig:\n"
                                  "            behavior:\n"
                                  "              scaleUp: {stabilizationWindowSeconds: 5}\n"
                                  "        triggers:\n"
                                  "        - type: prometheus\n"
                                  "          metadata: {query: up, threshold: '1'}\n";
  struct ss_resource_set set;
  const struct ss_sdep *s = load_sdep(keda, &set);
  const struct ss_keda_spec *k = s->predictors[0].components[0].keda;
  assert_true(k->has_behavior);
  assert_int_equal(k->up.stabilization_seconds, 5);
  assert_int_equal(k->down.stabilization_seconds, SS_HPA_STABILIZATION_UNSET);
  ss_resources_free(&set);
}

#define KEDA_FALLBACK(behavior)                                                        \
  SDEP "      kedaSpec:\n"                                                             \
       "        fallback:\n"                                                           \
       "          failureThreshold: 3\n"                                               \
       "          replicas: 2\n" behavior "        triggers:\n"                        \
       "        - type: prometheus\n"                                                  \
       "          metadata: {query: up, threshold: '1'}\n"

/* fallback.behavior: each of KEDA's values, and static when left out
 * (written into the document, as the CRD's default is). */
static void keda_fallback_behavior(void **state) {
  (void)state;
  static const struct {
    const char *in;
    enum ss_keda_fallback_behavior want;
    const char *doc; /* fallback.behavior in the document afterwards */
  } t[] = {
      {KEDA_FALLBACK(""), SS_KEDA_FALLBACK_STATIC, "static"},
      {KEDA_FALLBACK("          behavior:\n"), SS_KEDA_FALLBACK_STATIC, "static"}, /* null */
      {KEDA_FALLBACK("          behavior: ''\n"), SS_KEDA_FALLBACK_STATIC, ""},
      {KEDA_FALLBACK("          behavior: static\n"), SS_KEDA_FALLBACK_STATIC, "static"},
      {KEDA_FALLBACK("          behavior: currentReplicas\n"), SS_KEDA_FALLBACK_CURRENT,
       "currentReplicas"},
      {KEDA_FALLBACK("          behavior: currentReplicasIfHigher\n"),
       SS_KEDA_FALLBACK_CURRENT_IF_HIGHER, "currentReplicasIfHigher"},
      {KEDA_FALLBACK("          behavior: currentReplicasIfLower\n"),
       SS_KEDA_FALLBACK_CURRENT_IF_LOWER, "currentReplicasIfLower"},
  };
  for (size_t i = 0; i < N_ELEMS(t); i++) {
    struct ss_resource_set set;
    const struct ss_resource *r = load_one(t[i].in, &set);
    const struct ss_keda_spec *k = r->u.sdep.predictors[0].components[0].keda;
    assert_true(k->has_fallback);
    assert_int_equal(k->fallback_failure_threshold, 3);
    assert_int_equal(k->fallback_replicas, 2);
    assert_int_equal(k->fallback_behavior, t[i].want);
    assert_string_equal(
        json_string_value(
            at(r->obj, "spec.predictors[0].componentSpecs[0].kedaSpec.fallback.behavior")),
        t[i].doc);
    ss_resources_free(&set);
  }
  /* the names, both ways */
  for (int b = SS_KEDA_FALLBACK_STATIC; b <= SS_KEDA_FALLBACK_CURRENT_IF_LOWER; b++) {
    enum ss_keda_fallback_behavior got = SS_KEDA_FALLBACK_STATIC;
    const char *name = ss_keda_fallback_behavior_name((enum ss_keda_fallback_behavior)b);
    assert_int_equal(ss_keda_fallback_behavior_parse(name, &got), 0);
    assert_int_equal(got, b);
  }
  enum ss_keda_fallback_behavior got = SS_KEDA_FALLBACK_CURRENT;
  assert_int_equal(ss_keda_fallback_behavior_parse("Static", &got), -1); /* case matters */
  assert_int_equal(ss_keda_fallback_behavior_parse("scalingModifiers", &got), -1);
  assert_int_equal(got, SS_KEDA_FALLBACK_CURRENT); /* left alone */
}

/* advanced.scalingModifiers is rejected (bad_cases); an empty one is no
 * modifier at all, as KEDA reads it (IsUsingModifiers). */
static void keda_empty_scaling_modifiers(void **state) {
  (void)state;
  static const char in[] = SDEP "      kedaSpec:\n"
                                "        advanced: {scalingModifiers: {}}\n"
                                "        triggers:\n"
                                "        - type: prometheus\n"
                                "          metadata: {query: up, threshold: '1'}\n";
  struct ss_resource_set set;
  const struct ss_resource *r = load_one(in, &set);
  assert_int_equal(r->diags.warnings, 0);
  ss_resources_free(&set);
}

static void seed_keda(void **state) {
  (void)state;
  struct ss_resource_set set;
  const struct ss_sdep *s = load_sdep(seed_keda_yaml, &set);
  assert_string_equal(s->api_version, "machinelearning.seldon.io/v1");
  const struct ss_component_spec *c = &s->predictors[0].components[0];
  assert_int_equal(c->containers[0].cpu_request.milli, 500);
  assert_string_equal(c->rs_name, "seldon-model-example-0-classifier");
  const struct ss_keda_spec *k = c->keda;
  assert_non_null(k);
  assert_int_equal(k->polling_interval, 15);
  assert_int_equal(k->cooldown_period, 300);
  assert_int_equal(k->min_replicas, 1);
  assert_int_equal(k->max_replicas, 5);
  assert_int_equal(k->n_triggers, 1);
  const struct ss_trigger *t = &k->triggers[0];
  assert_int_equal(t->type, SS_TRIGGER_PROMETHEUS);
  assert_true(t->threshold == 10.0);
  assert_string_equal(t->server_address,
                      "http://seldon-monitoring-prometheus.seldon-monitoring.svc.cluster.local:9090");
  assert_string_equal(t->metric_name, "access_frequency");
  assert_string_equal(
      t->query,
      "rate(seldon_api_executor_client_requests_seconds_count{model_name=\"classifier\"}[1m])");
  assert_true(t->ignore_null_values);
  /* predictor replicas unset: the componentSpec runs 1 (not written, see below) */
  assert_int_equal(s->predictors[0].replicas, -1);
  assert_int_equal(ss_component_replicas(s, &s->predictors[0], c), 1);
  ss_resources_free(&set);
}

static void hpa_and_keda_warns(void **state) {
  (void)state;
  static const char in[] = SDEP "      hpaSpec:\n"
                                "        maxReplicas: 4\n"
                                "      kedaSpec:\n"
                                "        minReplicaCount: 1\n"
                                "        triggers:\n"
                                "        - type: cpu\n"
                                "          metricType: Utilization\n"
                                "          metadata: {value: \"50\"}\n";
  struct ss_resource_set set;
  const struct ss_resource *r = load_one(in, &set);
  assert_int_equal(r->diags.warnings, 1);
  const struct ss_diag *d =
      find_diag(r, SS_SEV_WARNING, "spec.predictors[0].componentSpecs[0].kedaSpec",
                "kedaSpec wins");
  if (!d)
    dump_diags(r);
  assert_non_null(d);
  assert_int_equal(d->line, 21);
  const struct ss_component_spec *c = &r->u.sdep.predictors[0].components[0];
  assert_null(c->hpa);
  assert_non_null(c->keda);
  ss_resources_free(&set);
}

static void unknown_fields_warn(void **state) {
  (void)state;
  static const char in[] = HEAD "  - name: p\n"
                                "    colour: blue\n"
                                "    graph:\n"
                                "      name: c\n"
                                "      implementation: SKLEARN_SERVER\n"
                                "      modelUri: gs://bucket/model\n"
                                "  extra: 1\n";
  struct ss_resource_set set;
  const struct ss_resource *r = load_one(in, &set);
  assert_int_equal(r->diags.warnings, 2);
  const struct ss_diag *d =
      find_diag(r, SS_SEV_WARNING, "spec.predictors[0].colour", "unknown field \"colour\"");
  assert_non_null(d);
  assert_int_equal(d->line, 8);
  assert_true(d->col > 0);
  d = find_diag(r, SS_SEV_WARNING, "spec.extra", "unknown field \"extra\"");
  assert_non_null(d);
  assert_int_equal(d->line, 13);
  ss_resources_free(&set);
}

static void rs_names(void **state) {
  (void)state;
  char out[SS_RS_NAME_MAX + 1];
  ss_rs_name("seldon-model", "example", 0, "classifier", out);
  assert_string_equal(out, "seldon-model-example-0-classifier");
  ss_rs_name("m", "p", 12, "a-b", out);
  assert_string_equal(out, "m-p-12-a-b");
  /* exactly 63 characters: kept */
  ss_rs_name("abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvw", 0, "classifier", out);
  assert_string_equal(out, "abcdefghijklmnopqrstuvwxyz-abcdefghijklmnopqrstuvw-0-classifier");
  /* 64 and more: "seldon-" and the md5 of the full name in hex */
  ss_rs_name("a-very-long-seldon-deployment-name-for-testing", "predictor-with-a-long-name", 0,
             "classifier", out);
  assert_string_equal(out, "seldon-947f6aadd69f2c7d867e2bff5ed5699c");
  ss_rs_name("abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwx", 0, "classifier", out);
  assert_int_equal(strlen(out), 7 + 32);
  assert_memory_equal(out, "seldon-", 7);
  for (size_t i = 7; i < strlen(out); i++)
    assert_non_null(strchr("0123456789abcdef", out[i]));

  /* a componentSpec without metadata.name: its container names joined */
  static const char in[] = HEAD "  - name: p\n"
                                "    graph:\n"
                                "      name: a\n"
                                "      type: TRANSFORMER\n"
                                "      children:\n"
                                "      - name: b\n"
                                "    componentSpecs:\n"
                                "    - spec:\n"
                                "        containers:\n"
                                "        - {name: a, image: x}\n"
                                "        - {name: b, image: y}\n";
  struct ss_resource_set set;
  const struct ss_sdep *s = load_sdep(in, &set);
  assert_string_equal(s->predictors[0].components[0].rs_name, "m-p-0-a-b");
  ss_resources_free(&set);
}

static void component_replicas(void **state) {
  (void)state;
  /* hand-built: each level falls back to the next */
  struct ss_sdep s = {.replicas = 3};
  struct ss_predictor p = {.replicas = 2};
  struct ss_component_spec c = {.replicas = 5};
  assert_int_equal(ss_component_replicas(&s, &p, &c), 5);
  c.replicas = -1;
  assert_int_equal(ss_component_replicas(&s, &p, &c), 2);
  p.replicas = -1;
  assert_int_equal(ss_component_replicas(&s, &p, &c), 3);
  s.replicas = -1;
  assert_int_equal(ss_component_replicas(&s, &p, &c), 1);
  assert_int_equal(ss_component_replicas(NULL, NULL, NULL), 1);
  c.replicas = 0; /* zero is a value, not "unset" */
  assert_int_equal(ss_component_replicas(&s, &p, &c), 0);

  /* decoded */
  static const struct {
    const char *in;
    int32_t want;
  } cases[] = {
      {HEAD "  - name: p\n    replicas: 2\n    graph: {name: c}\n    componentSpecs:\n"
            "    - replicas: 5\n      spec: {containers: [{name: c, image: x}]}\n"
            "  replicas: 3\n",
       5},
      {HEAD "  - name: p\n    replicas: 2\n    graph: {name: c}\n    componentSpecs:\n"
            "    - spec: {containers: [{name: c, image: x}]}\n  replicas: 3\n",
       2},
      {HEAD "  - name: p\n    graph: {name: c}\n    componentSpecs:\n"
            "    - spec: {containers: [{name: c, image: x}]}\n  replicas: 3\n",
       3},
      {HEAD "  - name: p\n    graph: {name: c}\n    componentSpecs:\n"
            "    - spec: {containers: [{name: c, image: x}]}\n",
       1},
  };
  for (size_t i = 0; i < N_ELEMS(cases); i++) {
    struct ss_resource_set set;
    const struct ss_sdep *sd = load_sdep(cases[i].in, &set);
    const struct ss_predictor *pr = &sd->predictors[0];
    int32_t got = ss_component_replicas(sd, pr, &pr->components[0]);
    if (got != cases[i].want)
      print_error("case %zu: replicas %d, want %d\n", i, got, cases[i].want);
    assert_int_equal(got, cases[i].want);
    ss_resources_free(&set);
  }
}

static void graph_nodes(void **state) {
  (void)state;
  static const char in[] = HEAD "  - name: p\n"
                                "    graph:\n"
                                "      name: router\n"
                                "      implementation: RANDOM_ABTEST\n"
                                "      parameters:\n"
                                "      - {name: ratioA, value: '0.5', type: FLOAT}\n"
                                "      children:\n"
                                "      - name: a\n"
                                "        type: MODEL\n"
                                "        endpoint: {type: GRPC}\n"
                                "      - name: t\n"
                                "        type: TRANSFORMER\n"
                                "        children:\n"
                                "        - {name: b, type: MODEL}\n"
                                "    componentSpecs:\n"
                                "    - spec:\n"
                                "        containers:\n"
                                "        - {name: a, image: x}\n"
                                "    - spec:\n"
                                "        containers:\n"
                                "        - {name: t, image: y}\n"
                                "        - {name: b, image: z}\n";
  struct ss_resource_set set;
  const struct ss_sdep *s = load_sdep(in, &set);
  const struct ss_graph_node *g = &s->predictors[0].graph;
  assert_string_equal(g->name, "router");
  assert_int_equal(g->type, SS_NODE_ROUTER);
  assert_string_equal(ss_node_type_name(g->type), "ROUTER");
  assert_string_equal(g->implementation, "RANDOM_ABTEST");
  assert_int_equal(g->component, -1); /* runs in the gateway */
  assert_non_null(g->parameters);
  assert_int_equal(g->n_children, 2);
  assert_string_equal(g->children[0].name, "a");
  assert_int_equal(g->children[0].type, SS_NODE_MODEL);
  assert_int_equal(g->children[0].endpoint, SS_ENDPOINT_GRPC);
  assert_int_equal(g->children[0].component, 0);
  assert_int_equal(g->children[0].container, 0);
  assert_int_equal(g->children[1].type, SS_NODE_TRANSFORMER);
  assert_int_equal(g->children[1].component, 1);
  assert_int_equal(g->children[1].container, 0);
  assert_int_equal(g->children[1].n_children, 1);
  assert_string_equal(g->children[1].children[0].name, "b");
  assert_int_equal(g->children[1].children[0].component, 1);
  assert_int_equal(g->children[1].children[0].container, 1);
  assert_string_equal(s->predictors[0].components[1].rs_name, "m-p-1-t-b");
  ss_resources_free(&set);
}

static void core2_model_server(void **state) {
  (void)state;
  static const char in[] = "apiVersion: mlops.seldon.io/v1alpha1\n"
                           "kind: Model\n"
                           "metadata:\n"
                           "  name: iris\n"
                           "  namespace: seldon\n"
                           "spec:\n"
                           "  storageUri: gs://seldon-models/iris\n"
                           "  requirements: [sklearn]\n"
                           "  memory: 100Ki\n"
                           "  server: mlserver\n"
                           "  minReplicas: 2\n"
                           "  maxReplicas: 4\n"
                           "---\n"
                           "apiVersion: mlops.seldon.io/v1alpha1\n"
                           "kind: Server\n"
                           "metadata:\n"
                           "  name: mlserver\n"
                           "spec:\n"
                           "  serverConfig: mlserver\n"
                           "  replicas: 3\n"
                           "---\n"
                           "apiVersion: mlops.seldon.io/v1alpha1\n"
                           "kind: Model\n"
                           "metadata: {name: plain}\n"
                           "spec: {storageUri: 's3://b/m', replicas: 2}\n";
  struct ss_resource_set set;
  load(in, &set);
  assert_int_equal(set.n, 3);
  for (size_t i = 0; i < set.n; i++)
    assert_int_equal(set.v[i].diags.errors, 0);
  const struct ss_resource *r = &set.v[0];
  assert_int_equal(r->kind, SS_KIND_MODEL);
  assert_string_equal(ss_resource_name(r), "iris");
  assert_string_equal(ss_resource_namespace(r), "seldon");
  const struct ss_model *m = &r->u.model;
  assert_string_equal(m->storage_uri, "gs://seldon-models/iris");
  assert_string_equal(m->server, "mlserver");
  assert_int_equal(json_array_size(m->requirements), 1);
  assert_string_equal(json_string_value(json_array_get(m->requirements, 0)), "sklearn");
  assert_true(m->has_memory);
  assert_int_equal(m->memory.milli, 100 * 1024 * 1000LL);
  assert_int_equal(m->min_replicas, 2);
  assert_int_equal(m->max_replicas, 4);
  assert_int_equal(m->replicas, 2); /* defaulted to minReplicas */
  assert_int_equal(json_integer_value(at(r->obj, "spec.replicas")), 2);
  const struct ss_server *sv = &set.v[1].u.server;
  assert_int_equal(set.v[1].kind, SS_KIND_SERVER);
  assert_string_equal(sv->name, "mlserver");
  assert_string_equal(sv->server_config, "mlserver");
  assert_int_equal(sv->replicas, 3);
  assert_int_equal(sv->min_replicas, -1);
  assert_int_equal(sv->max_replicas, -1);
  m = &set.v[2].u.model;
  assert_int_equal(m->replicas, 2);
  assert_false(m->has_memory);
  assert_null(m->server);
  assert_int_equal(m->min_replicas, -1);
  ss_resources_free(&set);
}

static void api_versions(void **state) {
  (void)state;
  static const char *const versions[] = {"v1alpha2", "v1alpha3", "v1"};
  for (size_t i = 0; i < N_ELEMS(versions); i++) {
    char in[1024];
    snprintf(in, sizeof in,
             "apiVersion: machinelearning.seldon.io/%s\nkind: SeldonDeployment\n"
             "metadata: {name: m}\nspec:\n  predictors:\n%s",
             versions[i], PRED);
    struct ss_resource_set set;
    const struct ss_sdep *s = load_sdep(in, &set);
    assert_true(strstr(s->api_version, versions[i]) != NULL);
    assert_int_equal(s->n_predictors, 1);
    ss_resources_free(&set);
  }
}

static void v1_list(void **state) {
  (void)state;
  static const char in[] = "apiVersion: v1\n"
                           "kind: List\n"
                           "items:\n"
                           "- apiVersion: mlops.seldon.io/v1alpha1\n"
                           "  kind: Server\n"
                           "  metadata: {name: mlserver}\n"
                           "  spec: {serverConfig: mlserver}\n"
                           "- apiVersion: machinelearning.seldon.io/v1\n"
                           "  kind: SeldonDeployment\n"
                           "  metadata: {name: m}\n"
                           "  spec:\n"
                           "    predictors:\n"
                           "    - name: p\n"
                           "      graph: {name: c, implementation: SKLEARN_SERVER, "
                           "modelUri: 'gs://b/m'}\n";
  struct ss_resource_set set;
  load(in, &set);
  assert_int_equal(set.n, 2);
  assert_int_equal(set.v[0].kind, SS_KIND_SERVER);
  assert_string_equal(set.v[0].base, "items[0]");
  assert_int_equal(set.v[0].u.server.replicas, 1);
  assert_int_equal(set.v[1].kind, SS_KIND_SDEP);
  assert_string_equal(set.v[1].base, "items[1]");
  assert_string_equal(ss_resource_name(&set.v[1]), "m");
  assert_int_equal(set.v[0].diags.errors + set.v[1].diags.errors, 0);
  ss_resources_free(&set);
}

static void defaults_in_document(void **state) {
  (void)state;
  static const char in[] = HEAD PRED_NOREQ;
  struct ss_resource_set set;
  const struct ss_resource *r = load_one(in, &set);
  assert_string_equal(json_string_value(at(r->obj, "spec.predictors[0].graph.endpoint.type")),
                      "REST");
  /* predictor replicas are applied when running, never written: the scale
   * subresource's spec.replicas must keep its meaning (docs/defaults.md) */
  assert_null(at(r->obj, "spec.predictors[0].replicas"));
  assert_int_equal(r->u.sdep.predictors[0].replicas, -1);
  assert_int_equal(ss_component_replicas(&r->u.sdep, &r->u.sdep.predictors[0],
                                         &r->u.sdep.predictors[0].components[0]),
                   1);
  /* an endpoint without a type gets REST too; one given stays */
  ss_resources_free(&set);
  static const char in2[] = HEAD "  - name: p\n    graph:\n      name: c\n      endpoint: {}\n"
                                 "      implementation: SKLEARN_SERVER\n      modelUri: gs://b\n"
                                 "      children:\n      - name: d\n        implementation: "
                                 "SKLEARN_SERVER\n        endpoint: {type: GRPC}\n";
  r = load_one(in2, &set);
  assert_string_equal(json_string_value(at(r->obj, "spec.predictors[0].graph.endpoint.type")),
                      "REST");
  assert_string_equal(
      json_string_value(at(r->obj, "spec.predictors[0].graph.children[0].endpoint.type")),
      "GRPC");
  ss_resources_free(&set);

  /* default namespace, only where none is written */
  struct ss_error err = {0};
  assert_int_equal(ss_resources_load(in, strlen(in), "team-a", &set, &err), SS_EOK);
  assert_string_equal(ss_resource_namespace(&set.v[0]), "team-a");
  ss_resources_free(&set);
}

/* ---- invalid forms ---- */

struct bad_case {
  const char *name;
  const char *in;
  const char *path; /* of the expected error */
  const char *msg;  /* a substring of its message */
  unsigned line;    /* its line (YAML) */
  size_t errors;    /* errors in all */
};

static const struct bad_case bad_cases[] = {
    {"bad metadata.name", HEADN("My_Model") PRED, "metadata.name", "invalid name \"My_Model\"",
     4, 1},
    {"bad predictor name",
     HEAD "  - name: Bad_P\n    graph: {name: c, implementation: SKLEARN_SERVER, modelUri: "
          "'gs://b'}\n",
     "spec.predictors[0].name", "invalid name \"Bad_P\"", 7, 1},
    {"bad container name",
     HEAD "  - name: p\n    graph: {name: c, implementation: SKLEARN_SERVER, modelUri: "
          "'gs://b'}\n    componentSpecs:\n    - spec:\n        containers:\n"
          "        - name: Clf\n          image: x\n",
     "spec.predictors[0].componentSpecs[0].spec.containers[0].name", "invalid name \"Clf\"", 12,
     1},
    {"empty predictors",
     "apiVersion: machinelearning.seldon.io/v1\nkind: SeldonDeployment\nmetadata:\n"
     "  name: m\nspec:\n  predictors: []\n",
     "spec.predictors",
     "must have at least one predictor", 6, 1},
    {"graph node without container or implementation",
     HEAD "  - name: p\n    graph:\n      name: nope\n    componentSpecs:\n    - spec:\n"
          "        containers:\n        - {name: c, image: x}\n",
     "spec.predictors[0].graph.name", "graph node \"nope\" has no implementation and no container",
     9, 1},
    {"duplicate predictor names",
     HEAD "  - name: p\n    traffic: 50\n    graph: {name: a, implementation: SIMPLE_MODEL}\n"
          "  - name: p\n    traffic: 50\n    graph: {name: b, implementation: SIMPLE_MODEL}\n",
     "spec.predictors[1].name", "duplicate predictor name \"p\"", 10, 1},
    {"duplicate container names",
     HEAD "  - name: p\n    graph: {name: c}\n    componentSpecs:\n    - spec:\n"
          "        containers:\n        - {name: c, image: x}\n        - {name: c, image: y}\n"
          "        - {name: d, image: z}\n",
     "spec.predictors[0].componentSpecs[0].spec.containers[1].name",
     "duplicate container name \"c\"", 13, 1},
    {"duplicate container names across componentSpecs",
     HEAD "  - name: p\n    graph: {name: c}\n    componentSpecs:\n    - spec:\n"
          "        containers:\n        - {name: c, image: x}\n    - spec:\n"
          "        containers:\n        - {name: c, image: y}\n",
     "spec.predictors[0].componentSpecs[1].spec.containers[0].name",
     "duplicate container name \"c\"", 15, 1},
    {"container without image",
     HEAD "  - name: p\n    graph: {name: c}\n    componentSpecs:\n    - spec:\n"
          "        containers:\n        - name: c\n",
     "spec.predictors[0].componentSpecs[0].spec.containers[0].image", "required value", 12, 1},
    {"duplicate graph node names",
     HEAD "  - name: p\n    graph:\n      name: c\n      children:\n      - name: c\n"
          "    componentSpecs:\n    - spec:\n        containers:\n        - {name: c, image: x}\n",
     "spec.predictors[0].graph.children[0].name", "duplicate graph node name \"c\"", 11, 1},
    {"hpa minReplicas > maxReplicas", SDEP "      hpaSpec:\n        minReplicas: 5\n"
                                           "        maxReplicas: 4\n",
     "spec.predictors[0].componentSpecs[0].hpaSpec.maxReplicas",
     "must be greater than or equal to minReplicas (5)", 20, 1},
    {"keda minReplicaCount > maxReplicaCount",
     SDEP "      kedaSpec:\n        minReplicaCount: 6\n        maxReplicaCount: 5\n"
          "        triggers:\n        - type: prometheus\n"
          "          metadata: {query: up, threshold: '1'}\n",
     "spec.predictors[0].componentSpecs[0].kedaSpec.maxReplicaCount",
     "must be greater than or equal to minReplicaCount (6)", 20, 1},
    {"keda minReplicaCount > default maxReplicaCount",
     SDEP "      kedaSpec:\n        minReplicaCount: 101\n"
          "        triggers:\n        - type: prometheus\n"
          "          metadata: {query: up, threshold: '1'}\n",
     "spec.predictors[0].componentSpecs[0].kedaSpec.minReplicaCount",
     "must be at most maxReplicaCount (100)", 19, 1},
    {"targetAverageUtilization 0",
     SDEP "      hpaSpec:\n        maxReplicas: 4\n        metrics:\n        - type: Resource\n"
          "          resource: {name: cpu, targetAverageUtilization: 0}\n",
     "spec.predictors[0].componentSpecs[0].hpaSpec.metrics[0].resource.targetAverageUtilization",
     "must be greater than 0", 22, 1},
    {"averageUtilization negative",
     SDEP "      hpaSpec:\n        maxReplicas: 4\n        metrics:\n        - type: Resource\n"
          "          resource:\n            name: cpu\n"
          "            target: {type: Utilization, averageUtilization: -5}\n",
     "spec.predictors[0].componentSpecs[0].hpaSpec.metrics[0].resource.target.averageUtilization",
     "must be greater than 0", 24, 1},
    {"averageValue -1",
     SDEP "      hpaSpec:\n        maxReplicas: 4\n        metrics:\n        - type: Pods\n"
          "          pods:\n            metric: {name: rps}\n"
          "            target: {type: AverageValue, averageValue: \"-1\"}\n",
     "spec.predictors[0].componentSpecs[0].hpaSpec.metrics[0].pods.target.averageValue",
     "must be greater than 0", 24, 1},
    {"keda threshold -5",
     SDEP "      kedaSpec:\n        triggers:\n        - type: prometheus\n"
          "          metadata: {query: up, threshold: '-5'}\n",
     "spec.predictors[0].componentSpecs[0].kedaSpec.triggers[0].metadata.threshold",
     "must be greater than 0", 21, 1},
    {"keda threshold 0",
     SDEP "      kedaSpec:\n        triggers:\n        - type: prometheus\n"
          "          metadata:\n            query: up\n            threshold: '0'\n",
     "spec.predictors[0].componentSpecs[0].kedaSpec.triggers[0].metadata.threshold",
     "must be greater than 0", 23, 1},
    {"keda threshold not a number",
     SDEP "      kedaSpec:\n        triggers:\n        - type: prometheus\n"
          "          metadata:\n            query: up\n            threshold: ten\n",
     "spec.predictors[0].componentSpecs[0].kedaSpec.triggers[0].metadata.threshold",
     "must be a number, not \"ten\"", 23, 1},
    {"keda threshold unquoted",
     SDEP "      kedaSpec:\n        triggers:\n        - type: prometheus\n"
          "          metadata:\n            query: up\n            threshold: 10\n",
     "spec.predictors[0].componentSpecs[0].kedaSpec.triggers[0].metadata.threshold",
     "must be a string", 23, 1},
    {"unknown metric type",
     SDEP "      hpaSpec:\n        maxReplicas: 4\n        metrics:\n        - type: Bogus\n",
     "spec.predictors[0].componentSpecs[0].hpaSpec.metrics[0].type",
     "unknown metric type \"Bogus\"", 21, 1},
    {"unknown trigger type",
     SDEP "      kedaSpec:\n        triggers:\n        - type: kafka\n"
          "          metadata: {topic: t}\n",
     "spec.predictors[0].componentSpecs[0].kedaSpec.triggers[0].type",
     "unsupported trigger type \"kafka\"", 20, 1},
    {"cpu utilization without a cpu request",
     HEAD PRED_NOREQ "      hpaSpec:\n        maxReplicas: 4\n        metrics:\n"
                     "        - type: Resource\n"
                     "          resource: {name: cpu, targetAverageUtilization: 10}\n",
     "spec.predictors[0].componentSpecs[0].hpaSpec.metrics[0]",
     "cpu utilization needs a cpu request on every container, and container \"c\"", 18, 1},
    {"seed step 2: hpaSpecs without a cpu request",
     SEED_HPASPECS("my-dep", "\"memory\": \"1Gi\""), "spec.predictors[0].hpaSpecs[0].metrics[0]",
     "add resources.requests.cpu", 15, 1},
    {"default cpu metric without a cpu request",
     HEAD PRED_NOREQ "      hpaSpec:\n        maxReplicas: 4\n",
     "spec.predictors[0].componentSpecs[0].hpaSpec", "the default metric", 16, 1},
    {"keda cpu trigger without a cpu request",
     HEAD PRED_NOREQ "      kedaSpec:\n        minReplicaCount: 1\n        triggers:\n"
                     "        - type: cpu\n          metricType: Utilization\n"
                     "          metadata: {value: '50'}\n",
     "spec.predictors[0].componentSpecs[0].kedaSpec.triggers[0]",
     "cpu utilization needs a cpu request", 18, 1},
    {"keda cpu trigger from zero",
     SDEP "      kedaSpec:\n        triggers:\n        - type: cpu\n"
          "          metricType: Utilization\n          metadata: {value: '50'}\n",
     "spec.predictors[0].componentSpecs[0].kedaSpec.minReplicaCount",
     "must be at least 1 when every trigger is cpu or memory", 19, 1},
    {"scaleTargetRef naming no componentSpec", SEED_HPASPECS("other", "\"cpu\": \"0.5\""),
     "spec.predictors[0].hpaSpecs[0].scaleTargetRef.name",
     "\"other\" names no componentSpec of this predictor (known: my-dep or "
     "seldon-model-example-0-my-dep)",
     13, 1},
    {"malformed cpu request",
     HEAD PRED_NOREQ "          resources: {requests: {cpu: 0.5x}}\n",
     "spec.predictors[0].componentSpecs[0].spec.containers[0].resources.requests.cpu",
     "quantity '0.5x' has an unknown suffix", 15, 1},
    {"malformed averageValue",
     SDEP "      hpaSpec:\n        maxReplicas: 4\n        metrics:\n        - type: Resource\n"
          "          resource: {name: memory, targetAverageValue: abc}\n",
     "spec.predictors[0].componentSpecs[0].hpaSpec.metrics[0].resource.targetAverageValue",
     "quantity 'abc'", 22, 1},
    {"traffic not summing to 100",
     HEAD "  - name: a\n    traffic: 50\n    graph: {name: a, implementation: SIMPLE_MODEL}\n"
          "  - name: b\n    traffic: 40\n    graph: {name: b, implementation: SIMPLE_MODEL}\n",
     "spec.predictors", "traffic of the predictors must sum to 100 (it sums to 90)", 7, 1},
    {"replicas not an integer", HEAD "  - name: p\n    replicas: two\n    graph: {name: c}\n"
                                     "    componentSpecs:\n    - spec:\n        containers:\n"
                                     "        - {name: c, image: x}\n",
     "spec.predictors[0].replicas", "must be an integer, not a string", 8, 1},
    {"unknown apiVersion",
     "apiVersion: machinelearning.seldon.io/v2\nkind: SeldonDeployment\nmetadata: {name: m}\n"
     "spec: {}\n",
     "apiVersion", "unknown version \"v2\"", 1, 1},
    {"Model minReplicas > maxReplicas",
     "apiVersion: mlops.seldon.io/v1alpha1\nkind: Model\nmetadata: {name: iris}\nspec:\n"
     "  storageUri: gs://m\n  minReplicas: 3\n  maxReplicas: 2\n",
     "spec.maxReplicas", "must be greater than or equal to minReplicas (3)", 7, 1},
    {"Server without serverConfig",
     "apiVersion: mlops.seldon.io/v1alpha1\nkind: Server\nmetadata: {name: s}\nspec:\n"
     "  replicas: -1\n",
     "spec.serverConfig", "required value", 5, 2},
    {"hpa scaleDown window written as -1",
     SDEP "      hpaSpec:\n        maxReplicas: 4\n        behavior:\n          scaleDown:\n"
          "            stabilizationWindowSeconds: -1\n",
     "spec.predictors[0].componentSpecs[0].hpaSpec.behavior.scaleDown.stabilizationWindowSeconds",
     "must be between 0 and 3600", 22, 1},
    {"keda fallback.behavior unknown", KEDA_FALLBACK("          behavior: sometimes\n"),
     "spec.predictors[0].componentSpecs[0].kedaSpec.fallback.behavior",
     "must be static, currentReplicas, currentReplicasIfHigher or currentReplicasIfLower, not "
     "\"sometimes\"",
     22, 1},
    {"keda fallback.behavior not a string", KEDA_FALLBACK("          behavior: 3\n"),
     "spec.predictors[0].componentSpecs[0].kedaSpec.fallback.behavior", "must be a string", 22,
     1},
    {"keda fallback.behavior scalingModifiers",
     KEDA_FALLBACK("          behavior: scalingModifiers\n"),
     "spec.predictors[0].componentSpecs[0].kedaSpec.fallback.behavior",
     "\"scalingModifiers\" is not supported", 22, 1},
    {"keda advanced.scalingModifiers",
     SDEP "      kedaSpec:\n        advanced:\n"
          "          scalingModifiers: {formula: \"s0 + s1\", target: '2'}\n"
          "        triggers:\n        - type: prometheus\n"
          "          metadata: {query: up, threshold: '1'}\n"
          "        - type: prometheus\n          metadata: {query: up, threshold: '1'}\n",
     "spec.predictors[0].componentSpecs[0].kedaSpec.advanced.scalingModifiers",
     "not supported: servescale scales on each trigger's own metric", 20, 1},
    {"List item with a bad name",
     "apiVersion: v1\nkind: List\nitems:\n- apiVersion: mlops.seldon.io/v1alpha1\n"
     "  kind: Server\n  metadata:\n    name: Bad_Name\n  spec: {serverConfig: mlserver}\n",
     "metadata.name", "invalid name \"Bad_Name\"", 7, 1},
};

/* The resource of a case: the last one in the stream. */
static const struct ss_resource *case_resource(const struct ss_resource_set *set) {
  assert_true(set->n >= 1);
  return &set->v[set->n - 1];
}

static void check_bad(const struct bad_case *c, const char *in, bool yaml) {
  struct ss_resource_set set;
  load(in, &set);
  const struct ss_resource *r = case_resource(&set);
  const struct ss_diag *d = find_diag(r, SS_SEV_ERROR, c->path, c->msg);
  bool ok = d && r->diags.errors == c->errors && (!yaml || d->line == c->line) &&
            d->line > 0 && d->col > 0;
  for (size_t i = 0; i < r->diags.n; i++)
    ok = ok && r->diags.v[i].line > 0 && r->diags.v[i].col > 0;
  if (!ok) {
    print_error("case \"%s\" (%s): want %zu error(s), one at %s line %u with \"%s\"; got:\n",
                c->name, yaml ? "YAML" : "JSON", c->errors, c->path, c->line, c->msg);
    dump_diags(r);
  }
  ss_resources_free(&set);
  assert_true(ok);
}

static void invalid_cases(void **state) {
  (void)state;
  for (size_t i = 0; i < N_ELEMS(bad_cases); i++)
    check_bad(&bad_cases[i], bad_cases[i].in, bad_cases[i].in[0] != '{');
}

/* Each case again as JSON (the same tree, written by jansson): the same
 * errors, each with a position. */
static void invalid_cases_as_json(void **state) {
  (void)state;
  for (size_t i = 0; i < N_ELEMS(bad_cases); i++) {
    const struct bad_case *c = &bad_cases[i];
    struct ss_docs docs = {0};
    struct ss_error err = {0};
    assert_int_equal(ss_docs_parse(c->in, strlen(c->in), &docs, &err), SS_EOK);
    assert_int_equal(docs.n, 1);
    char *json = json_dumps(docs.v[0]->root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    ss_docs_free(&docs);
    assert_non_null(json);
    assert_int_equal(json[0], '{');
    check_bad(c, json, false);
    free(json);
  }
}

/* The checks above must be able to fail: a valid input matches no case. */
static void invalid_cases_need_errors(void **state) {
  (void)state;
  struct ss_resource_set set;
  const struct ss_resource *r = load_one(SDEP, &set);
  for (size_t i = 0; i < N_ELEMS(bad_cases); i++)
    assert_null(find_diag(r, SS_SEV_ERROR, bad_cases[i].path, bad_cases[i].msg));
  ss_resources_free(&set);
}

/* A syntax error fails the whole stream with a position and no output. */
static void syntax_error(void **state) {
  (void)state;
  static const char in[] = "{\"apiVersion\": \"v1\",\n \"kind\": }\n";
  struct ss_resource_set set = {0};
  struct ss_error err = {0};
  assert_int_equal(ss_resources_load(in, strlen(in), NULL, &set, &err), SS_ESYNTAX);
  assert_int_equal(err.line, 2);
  assert_true(err.col > 0);
  assert_int_equal(set.n, 0);
  ss_resources_free(&set);
}

/* A SKLEARN_SERVER node without a container gets one of its name with
 * seldonio/sklearnserver, and its modelUri as parameter model_uri, as
 * Seldon's operator defaults it; a container of its name is left alone;
 * decoding the result again changes nothing. */
static void sklearn_server_defaults(void **state) {
  (void)state;
  struct ss_resource_set set;
  /* no componentSpecs: one is made */
  const struct ss_resource *r = load_one(
      HEAD "  - name: p\n    graph:\n      name: clf\n      implementation: SKLEARN_SERVER\n"
           "      modelUri: file:///srv/iris\n", &set);
  assert_string_equal(json_string_value(at(r->obj, "spec.predictors[0].componentSpecs[0].spec."
                                                   "containers[0].name")), "clf");
  assert_string_equal(json_string_value(at(r->obj, "spec.predictors[0].componentSpecs[0].spec."
                                                   "containers[0].image")),
                      "seldonio/sklearnserver:1.17.1");
  assert_string_equal(json_string_value(at(r->obj, "spec.predictors[0].graph.parameters[0].name")),
                      "model_uri");
  assert_string_equal(json_string_value(at(r->obj, "spec.predictors[0].graph.parameters[0].value")),
                      "file:///srv/iris");
  const struct ss_predictor *p = &r->u.sdep.predictors[0];
  assert_int_equal(p->n_components, 1);
  assert_int_equal(p->graph.component, 0);
  assert_int_equal(p->graph.container, 0);
  assert_string_equal(p->components[0].rs_name, "m-p-0-clf");
  /* decoded again (a stored object): nothing added twice */
  char *again = json_dumps(r->obj, JSON_COMPACT);
  struct ss_resource_set set2;
  const struct ss_resource *r2 = load_one(again, &set2);
  assert_int_equal(json_array_size(at(r2->obj, "spec.predictors[0].componentSpecs")), 1);
  assert_int_equal(json_array_size(at(r2->obj, "spec.predictors[0].componentSpecs[0].spec."
                                               "containers")), 1);
  assert_int_equal(json_array_size(at(r2->obj, "spec.predictors[0].graph.parameters")), 1);
  free(again);
  ss_resources_free(&set2);
  ss_resources_free(&set);

  /* appended to componentSpecs[0] beside another container; a child node
   * with its own container keeps it */
  r = load_one(HEAD "  - name: p\n    graph:\n      name: clf\n      implementation: "
                    "SKLEARN_SERVER\n      modelUri: /srv/iris\n      parameters:\n"
                    "      - {name: method, type: STRING, value: predict}\n      children:\n"
                    "      - name: own\n        implementation: SKLEARN_SERVER\n"
                    "        modelUri: /srv/own\n    componentSpecs:\n    - spec:\n"
                    "        containers:\n        - name: own\n          image: myorg/own:1\n",
               &set);
  json_t *conts = at(r->obj, "spec.predictors[0].componentSpecs[0].spec.containers");
  assert_int_equal(json_array_size(conts), 2);
  assert_string_equal(json_string_value(at(r->obj, "spec.predictors[0].componentSpecs[0].spec."
                                                   "containers[0].image")), "myorg/own:1");
  assert_string_equal(json_string_value(at(r->obj, "spec.predictors[0].componentSpecs[0].spec."
                                                   "containers[1].name")), "clf");
  assert_string_equal(json_string_value(at(r->obj, "spec.predictors[0].graph.parameters[1].value")),
                      "/srv/iris");
  assert_string_equal(
      json_string_value(at(r->obj, "spec.predictors[0].graph.children[0].parameters[0].value")),
      "/srv/own");
  ss_resources_free(&set);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(seed_027_hpa_spec),
      cmocka_unit_test(seed_hpa_specs_target),
      cmocka_unit_test(hpa_v2_metric_forms),
      cmocka_unit_test(hpa_v2beta1_metric_forms),
      cmocka_unit_test(hpa_defaults),
      cmocka_unit_test(hpa_behavior),
      cmocka_unit_test(keda_defaults_and_cpu_trigger),
      cmocka_unit_test(hpa_behavior_written),
      cmocka_unit_test(keda_fallback_behavior),
      cmocka_unit_test(keda_empty_scaling_modifiers),
      cmocka_unit_test(seed_keda),
      cmocka_unit_test(hpa_and_keda_warns),
      cmocka_unit_test(unknown_fields_warn),
      cmocka_unit_test(rs_names),
      cmocka_unit_test(component_replicas),
      cmocka_unit_test(graph_nodes),
      cmocka_unit_test(core2_model_server),
      cmocka_unit_test(api_versions),
      cmocka_unit_test(v1_list),
      cmocka_unit_test(defaults_in_document),
      cmocka_unit_test(sklearn_server_defaults),
      cmocka_unit_test(invalid_cases),
      cmocka_unit_test(invalid_cases_as_json),
      cmocka_unit_test(invalid_cases_need_errors),
      cmocka_unit_test(syntax_error),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
