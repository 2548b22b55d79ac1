/* autoscale.c: a componentSpec's hpaSpec (or its predictor's hpaSpecs entry)
 * as an autoscaling/v2 HorizontalPodAutoscaler, its kedaSpec as a KEDA
 * ScaledObject. The HPA is rebuilt from the typed spec, because the model
 * already turned the v2beta1 metric forms into their v2 meaning; the
 * ScaledObject is the kedaSpec as written, since KEDA reads it as is.
 * Which Deployment they target is the caller's business. */
#include <stdio.h>
#include <string.h>

#include "k8s/internal.h"
#include "k8s/k8s.h"

/* The MetricTarget of autoscaling/v2. */
static json_t *target_v2(const struct ss_metric_target *t) {
  char q[32];
  switch (t->type) {
  case SS_TARGET_UTILIZATION:
    return json_pack("{s:s, s:i}", "type", "Utilization", "averageUtilization",
                     (int)t->utilization);
  case SS_TARGET_AVERAGE_VALUE:
    ss_quantity_format(t->value, q, sizeof q);
    return json_pack("{s:s, s:s}", "type", "AverageValue", "averageValue", q);
  case SS_TARGET_VALUE:
    ss_quantity_format(t->value, q, sizeof q);
    return json_pack("{s:s, s:s}", "type", "Value", "value", q);
  }
  return NULL;
}

/* MetricIdentifier: the name and, when given, the label selector. */
static json_t *metric_id(const struct ss_metric_spec *m) {
  json_t *id = json_pack("{s:s}", "name", m->name ? m->name : "");
  if (id && m->selector)
    json_object_set_new(id, "selector", json_deep_copy(m->selector));
  return id;
}

json_t *ss_k8s_metric_v2(const struct ss_metric_spec *m) {
  json_t *target = target_v2(&m->target);
  json_t *out = NULL;
  if (!target)
    return NULL;
  switch (m->source) {
  case SS_METRIC_RESOURCE:
    out = json_pack("{s:s, s:{s:s, s:O}}", "type", "Resource", "resource", "name",
                    m->name ? m->name : "", "target", target);
    break;
  case SS_METRIC_CONTAINER_RESOURCE:
    out = json_pack("{s:s, s:{s:s, s:s, s:O}}", "type", "ContainerResource",
                    "containerResource", "name", m->name ? m->name : "", "container",
                    m->container ? m->container : "", "target", target);
    break;
  case SS_METRIC_PODS:
    out = json_pack("{s:s, s:{s:o, s:O}}", "type", "Pods", "pods", "metric", metric_id(m),
                    "target", target);
    break;
  case SS_METRIC_OBJECT:
    out = json_pack("{s:s, s:{s:{s:s, s:s, s:s}, s:o, s:O}}", "type", "Object", "object",
                    "describedObject", "apiVersion",
                    m->object_api_version ? m->object_api_version : "", "kind",
                    m->object_kind ? m->object_kind : "", "name",
                    m->object_name ? m->object_name : "", "metric", metric_id(m), "target",
                    target);
    break;
  case SS_METRIC_EXTERNAL:
    out = json_pack("{s:s, s:{s:o, s:O}}", "type", "External", "external", "metric",
                    metric_id(m), "target", target);
    break;
  }
  json_decref(target);
  return out;
}

static json_t *scale_target(const char *name) {
  /* Seldon's hpaSpecs name extensions/v1beta1 (gone since Kubernetes 1.16);
   * the rendered workload is an apps/v1 Deployment, so that is the target. */
  return json_pack("{s:s, s:s, s:s}", "apiVersion", "apps/v1", "kind", "Deployment", "name",
                   name);
}

static json_t *hpa(const struct ss_hpa_spec *h, const json_t *hpa_json, const char *name,
                   const char *ns, json_t *labels) {
  json_t *metrics = json_array();
  json_t *spec = json_pack("{s:o, s:i, s:i}", "scaleTargetRef", scale_target(name),
                           "minReplicas", (int)h->min_replicas, "maxReplicas",
                           (int)h->max_replicas);
  json_t *obj = NULL;
  if (!metrics || !spec)
    goto out;
  /* Metrics left out are left out here too: the HPA controller fills in the
   * same CPU 80% the model assumed. */
  if (!h->default_metrics) {
    for (size_t i = 0; i < h->n_metrics; i++) {
      json_t *m = ss_k8s_metric_v2(&h->metrics[i]);
      if (!m || json_array_append_new(metrics, m))
        goto out;
    }
    json_object_set(spec, "metrics", metrics);
  }
  const json_t *behavior = json_object_get(hpa_json, "behavior");
  if (behavior)
    json_object_set_new(spec, "behavior", json_deep_copy(behavior));
  obj = json_pack("{s:s, s:s, s:o, s:O}", "apiVersion", "autoscaling/v2", "kind",
                  "HorizontalPodAutoscaler", "metadata", ss__k8s_meta(name, ns, json_incref(labels)),
                  "spec", spec);
out:
  json_decref(metrics);
  json_decref(spec);
  return obj;
}

/* The kedaSpec fields in the order KEDA documents them; others follow in
 * their written order, carried through for KEDA's schema to judge. */
static const char *const keda_order[] = {
    "pollingInterval", "cooldownPeriod",  "initialCooldownPeriod", "idleReplicaCount",
    "minReplicaCount", "maxReplicaCount", "fallback",              "advanced",
    "triggers"};

static json_t *scaled_object(const json_t *keda_json, const char *name, const char *ns,
                             json_t *labels, const char *prometheus_url) {
  json_t *spec = json_pack("{s:o}", "scaleTargetRef", scale_target(name));
  json_t *obj = NULL, *filled = json_array();
  if (!spec || !filled)
    goto out;
  for (size_t i = 0; i < sizeof keda_order / sizeof *keda_order; i++) {
    const json_t *v = json_object_get(keda_json, keda_order[i]);
    if (v && strcmp(keda_order[i], "triggers") != 0)
      json_object_set_new(spec, keda_order[i], json_deep_copy(v));
  }
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)keda_json, k, v) {
    if (!json_object_get(spec, k) && strcmp(k, "triggers") != 0 && strcmp(k, "scaleTargetRef") != 0)
      json_object_set_new(spec, k, json_deep_copy(v));
  }
  json_t *triggers = json_array();
  size_t i;
  json_array_foreach(json_object_get(keda_json, "triggers"), i, v) {
    json_t *t = json_deep_copy(v);
    /* metadata as written: the model already refused non-string values,
     * which KEDA's map[string]string would */
    json_t *md = json_object_get(t, "metadata");
    const char *type = json_string_value(json_object_get(t, "type"));
    if (prometheus_url && type && strcmp(type, "prometheus") == 0 && md &&
        !json_object_get(md, "serverAddress")) {
      /* Locally the embedded metrics source answers; a cluster needs a real
       * Prometheus, and the annotation below says which one was assumed. */
      json_object_set_new(md, "serverAddress", json_string(prometheus_url));
      json_array_append_new(filled, json_sprintf("triggers[%zu]", i));
    }
    json_array_append_new(triggers, t);
  }
  json_object_set_new(spec, "triggers", triggers);
  json_t *meta = ss__k8s_meta(name, ns, json_incref(labels));
  if (json_array_size(filled)) {
    char note[512], which[256] = "";
    size_t len = 0;
    json_array_foreach(filled, i, v) {
      if (len >= sizeof which)
        break; /* the note is for people: a long list may end early */
      len += (size_t)snprintf(which + len, sizeof which - len, "%s%s", i ? ", " : "",
                              json_string_value(v));
    }
    snprintf(note, sizeof note,
             "%s: no serverAddress in the kedaSpec (servescale used its embedded metrics); "
             "set to %s, change it with servescale render --prometheus-url",
             which, prometheus_url);
    json_object_set_new(meta, "annotations",
                        json_pack("{s:s}", "servescale.io/prometheus-url", note));
  }
  obj = json_pack("{s:s, s:s, s:o, s:O}", "apiVersion", "keda.sh/v1alpha1", "kind",
                  "ScaledObject", "metadata", meta, "spec", spec);
out:
  json_decref(spec);
  json_decref(filled);
  return obj;
}

json_t *ss_k8s_autoscaler(const struct ss_component_spec *c, const json_t *hpa_json,
                          const json_t *keda_json, const char *name, const char *ns,
                          const char *prometheus_url, const char *sdep) {
  json_t *labels = ss__k8s_sdep_labels(sdep);
  json_t *obj = NULL;
  /* One scaler per Deployment: two would fight over spec.replicas. */
  if (c->keda && keda_json)
    obj = scaled_object(keda_json, name, ns, labels, prometheus_url);
  else if (c->hpa)
    obj = hpa(c->hpa, hpa_json, name, ns, labels);
  json_decref(labels);
  return obj;
}
