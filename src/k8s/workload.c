/* workload.c: the objects that run a SeldonDeployment's containers on a
 * cluster: one apps/v1 Deployment per componentSpec container (as servescale
 * runs one replica set per container), a Service per predictor, the gateway
 * (Secret, Deployment, Service) and a PodMonitor per namespace. The
 * PodSpec is kept as written: servescale only adds what Seldon's operator
 * adds (the predictive-unit environment and the http and metrics ports) and
 * never changes a field the user wrote. Autoscalers are in autoscale.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k8s/internal.h"
#include "k8s/k8s.h"
#include "model/emit.h"

void ss_k8s_deployment_name(const struct ss_component_spec *c, size_t ci, char *buf,
                            size_t size) {
  if (c->n_containers <= 1) {
    snprintf(buf, size, "%s", c->rs_name);
    return;
  }
  char full[512], name[SS_K8S_NAME_MAX + 1];
  const char *k = ci < c->n_containers && c->containers[ci].name ? c->containers[ci].name : "";
  snprintf(full, sizeof full, "%s-%s", c->rs_name, k);
  ss__k8s_dns_name(full, name);
  snprintf(buf, size, "%s", name);
}

int32_t ss_k8s_replicas(const struct ss_sdep *s, const struct ss_predictor *p,
                        const struct ss_component_spec *c) {
  if (c->keda || c->hpa)
    return -1;
  return ss_component_replicas(s, p, c);
}

void ss__k8s_predictor_service_name(const char *sdep, const char *predictor,
                                    char out[SS_K8S_NAME_MAX + 1]) {
  char full[512];
  snprintf(full, sizeof full, "%s-%s", sdep, predictor);
  ss__k8s_dns_name(full, out);
}

/* The containerPort of the port named name, else dflt (added to ports). */
static int named_port(json_t *ports, const char *name, int dflt) {
  size_t i;
  json_t *p;
  json_array_foreach(ports, i, p) {
    const char *n = json_string_value(json_object_get(p, "name"));
    if (n && strcmp(n, name) == 0 && json_is_integer(json_object_get(p, "containerPort")))
      return (int)json_integer_value(json_object_get(p, "containerPort"));
  }
  json_array_append_new(ports, json_pack("{s:s, s:i, s:s}", "name", name, "containerPort",
                                         dflt, "protocol", "TCP"));
  return dflt;
}

static void add_env(json_t *env, const char *name, const char *value) {
  size_t i;
  json_t *e;
  json_array_foreach(env, i, e) {
    const char *n = json_string_value(json_object_get(e, "name"));
    if (n && strcmp(n, name) == 0)
      return; /* the user's own value wins */
  }
  json_array_append_new(env, json_pack("{s:s, s:s}", "name", name, "value", value));
}

/* The container as written, plus the environment and ports Seldon's
 * operator injects so that its images (and servescale's) find their ports
 * and graph parameters, as servescale's runtime gives them locally. */
static json_t *container(const struct ss_sdep *s, const struct ss_predictor *p,
                         const struct ss_container *k, const json_t *written) {
  json_t *c = ss__k8s_copy_object(written);
  json_t *ports = json_object_get(c, "ports");
  if (!json_is_array(ports)) {
    json_object_set_new(c, "ports", json_array());
    ports = json_object_get(c, "ports");
  }
  int http = named_port(ports, "http", SS_K8S_MODEL_HTTP_PORT);
  int metrics = named_port(ports, "metrics", SS_K8S_MODEL_METRICS_PORT);
  json_t *env = json_object_get(c, "env");
  if (!json_is_array(env)) {
    json_object_set_new(c, "env", json_array());
    env = json_object_get(c, "env");
  }
  const struct ss_graph_node *node = ss_graph_find(&p->graph, k->name);
  char *params = node && node->parameters ? json_dumps(node->parameters, JSON_COMPACT) : NULL;
  char num[16];
  add_env(env, "PREDICTIVE_UNIT_ID", k->name ? k->name : "");
  add_env(env, "PREDICTIVE_UNIT_IMAGE", k->image ? k->image : "");
  add_env(env, "PREDICTOR_ID", p->name);
  add_env(env, "SELDON_DEPLOYMENT_ID", s->name);
  add_env(env, "PREDICTIVE_UNIT_PARAMETERS", params ? params : "[]");
  snprintf(num, sizeof num, "%d", http);
  add_env(env, "PREDICTIVE_UNIT_HTTP_SERVICE_PORT", num);
  snprintf(num, sizeof num, "%d", metrics);
  add_env(env, "PREDICTIVE_UNIT_METRICS_SERVICE_PORT", num);
  free(params);
  return c;
}

/* Labels of a pod template: the componentSpec's own and the predictor's,
 * then servescale's (which win: the selector depends on them). */
static json_t *pod_labels(const struct ss_sdep *s, const struct ss_predictor *p,
                          const json_t *cs_meta, const char *name, const char *svc) {
  json_t *l = ss__k8s_copy_object(json_object_get(cs_meta, "labels"));
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)p->labels, key, v) if (!json_object_get(l, key))
      json_object_set(l, key, v);
  json_object_set_new(l, "app", json_string(name));
  json_object_set_new(l, "app.kubernetes.io/managed-by", json_string(SS_K8S_MANAGED_BY));
  json_object_set_new(l, "seldon-app", json_string(svc));
  json_object_set_new(l, SS_LABEL_SDEP_ID, json_string(s->name));
  /* what the seed's PodMonitor selects */
  json_object_set_new(l, SS_LABEL_MODEL, json_string("true"));
  return l;
}

json_t *ss__k8s_deployment(const struct ss_sdep *s, const struct ss_predictor *p,
                           const struct ss_component_spec *c, size_t ci, const json_t *cs_json,
                           const char *name, const char *ns) {
  char svc[SS_K8S_NAME_MAX + 1];
  ss__k8s_predictor_service_name(s->name, p->name, svc);
  const json_t *cs_meta = json_object_get(cs_json, "metadata");
  json_t *pod = ss__k8s_copy_object(c->pod_spec);
  const json_t *written = json_array_get(json_object_get(c->pod_spec, "containers"), ci);
  /* one container per Deployment, as servescale runs one replica set each */
  json_object_set_new(pod, "containers",
                      json_pack("[o]", container(s, p, &c->containers[ci], written)));
  json_t *tmeta = json_pack("{s:o}", "labels", pod_labels(s, p, cs_meta, name, svc));
  const json_t *ann = json_object_get(cs_meta, "annotations");
  if (json_is_object(ann) && json_object_size(ann))
    json_object_set_new(tmeta, "annotations", json_deep_copy(ann));
  json_t *spec = json_object();
  int32_t replicas = ss_k8s_replicas(s, p, c);
  if (replicas >= 0)
    json_object_set_new(spec, "replicas", json_integer(replicas));
  json_object_set_new(spec, "selector",
                      json_pack("{s:{s:s, s:s}}", "matchLabels", "app", name,
                                SS_LABEL_SDEP_ID, s->name));
  json_object_set_new(spec, "template", json_pack("{s:o, s:o}", "metadata", tmeta, "spec", pod));
  json_t *labels = ss__k8s_sdep_labels(s->name);
  json_object_set_new(labels, "seldon-app", json_string(svc));
  json_object_set_new(labels, "app", json_string(name));
  return json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "apps/v1", "kind", "Deployment",
                   "metadata", ss__k8s_meta(name, ns, labels), "spec", spec);
}

json_t *ss__k8s_predictor_service(const struct ss_sdep *s, const struct ss_predictor *p,
                                  const char *ns) {
  char svc[SS_K8S_NAME_MAX + 1];
  ss__k8s_predictor_service_name(s->name, p->name, svc);
  json_t *labels = ss__k8s_sdep_labels(s->name);
  json_object_set_new(labels, "seldon-app", json_string(svc));
  /* Port 8000 is where Seldon's predictor Service answers (the seed's load
   * test calls <sdep>-<predictor>:8000); Seldon's images serve the external
   * API on their http port as well. */
  return json_pack(
      "{s:s, s:s, s:o, s:{s:{s:s, s:s}, s:[{s:s, s:i, s:s, s:s}, {s:s, s:i, s:s, s:s}]}}",
      "apiVersion", "v1", "kind", "Service", "metadata", ss__k8s_meta(svc, ns, labels), "spec",
      "selector", "seldon-app", svc, SS_LABEL_SDEP_ID, s->name, "ports", "name", "http",
      "port", SS_K8S_GATEWAY_PORT, "targetPort", "http", "protocol", "TCP", "name", "metrics",
      "port", SS_K8S_MODEL_METRICS_PORT, "targetPort", "metrics", "protocol", "TCP");
}

static json_t *gateway_labels(bool pod) {
  json_t *l = json_pack("{s:s, s:s}", "app", SS_K8S_GATEWAY_NAME, "app.kubernetes.io/managed-by",
                        SS_K8S_MANAGED_BY);
  /* The gateway serves Seldon's executor metrics (the seed's KEDA query
   * reads seldon_api_executor_*), so the seed's PodMonitor must select it. */
  if (l && pod)
    json_object_set_new(l, SS_LABEL_MODEL, json_string("true"));
  return l;
}

enum ss_err ss__k8s_gateway(const char *ns, const char *image, const json_t *sdeps, json_t *out) {
  /* The gateway reads the SeldonDeployments (their graphs, oauth keys,
   * traffic) from a file, as `servescale gateway` does alone on one machine. */
  char *text = NULL;
  size_t cap = 0, len = 0;
  size_t i;
  json_t *v;
  json_array_foreach(sdeps, i, v) {
    char *s = ss_emit(v, SS_FMT_YAML);
    if (!s) {
      free(text);
      return SS_ENOMEM;
    }
    size_t n = strlen(s);
    if (len + n + 8 > cap) {
      cap = (len + n + 8) * 2;
      char *t = realloc(text, cap);
      if (!t) {
        free(s);
        free(text);
        return SS_ENOMEM;
      }
      text = t;
    }
    len += (size_t)snprintf(text + len, cap - len, "%s%s", i ? "---\n" : "", s);
    free(s);
  }
  /* A Secret, not a ConfigMap: the resources carry oauth_key and
   * oauth_secret (the 0.2.x seeds do). */
  json_t *cm = json_pack("{s:s, s:s, s:o, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "Secret",
                         "metadata", ss__k8s_meta(SS_K8S_GATEWAY_NAME, ns, gateway_labels(false)),
                         "type", "Opaque", "stringData", "resources.yaml", text ? text : "");
  free(text);
  char port[32];
  snprintf(port, sizeof port, "--port=%d", SS_K8S_GATEWAY_PORT);
  json_t *dep = json_pack(
      "{s:s, s:s, s:o, s:{s:i, s:{s:o}, s:{s:{s:o}, s:{s:[{s:s, s:s, s:[s, s, s, s],"
      " s:[{s:s, s:i, s:s}], s:[{s:s, s:s, s:b}]}], s:[{s:s, s:{s:s}}]}}}}",
      "apiVersion", "apps/v1", "kind", "Deployment", "metadata",
      ss__k8s_meta(SS_K8S_GATEWAY_NAME, ns, gateway_labels(false)), "spec", "replicas", 1,
      "selector", "matchLabels", json_pack("{s:s}", "app", SS_K8S_GATEWAY_NAME), "template",
      "metadata", "labels", gateway_labels(true), "spec", "containers", "name", "gateway",
      "image", image, "args", "gateway", port, "-f", "/etc/servescale/resources.yaml", "ports",
      /* one port serves predictions and /prometheus (data plane issue); it
       * is named for the PodMonitor, the Service targets it by number */
      "name", "metrics", "containerPort", SS_K8S_GATEWAY_PORT, "protocol", "TCP",
      "volumeMounts", "name", "resources", "mountPath", "/etc/servescale", "readOnly", 1,
      "volumes", "name", "resources", "secret", "secretName", SS_K8S_GATEWAY_NAME);
  json_t *svc = json_pack(
      "{s:s, s:s, s:o, s:{s:{s:s}, s:[{s:s, s:i, s:i, s:s}]}}", "apiVersion", "v1", "kind",
      "Service", "metadata", ss__k8s_meta(SS_K8S_GATEWAY_NAME, ns, gateway_labels(false)), "spec",
      "selector", "app", SS_K8S_GATEWAY_NAME, "ports", "name", "http", "port",
      SS_K8S_GATEWAY_PORT, "targetPort", SS_K8S_GATEWAY_PORT, "protocol", "TCP");
  enum ss_err rc = SS_EOK;
  if (!cm || !dep || !svc || json_array_append(out, cm) || json_array_append(out, dep) ||
      json_array_append(out, svc))
    rc = SS_ENOMEM;
  json_decref(cm);
  json_decref(dep);
  json_decref(svc);
  return rc;
}

json_t *ss__k8s_podmonitor(const char *ns) {
  json_t *labels = json_pack("{s:s, s:s}", "app.kubernetes.io/managed-by", SS_K8S_MANAGED_BY,
                             /* what the seed's kube-prometheus-stack release selects */
                             "release", "seldon-monitoring");
  return json_pack("{s:s, s:s, s:o, s:{s:{s:{s:s}}, s:[{s:s, s:s}]}}", "apiVersion",
                   "monitoring.coreos.com/v1", "kind", "PodMonitor", "metadata",
                   ss__k8s_meta(SS_K8S_PODMONITOR_NAME, ns, labels), "spec", "selector",
                   "matchLabels", SS_LABEL_MODEL, "true", "podMetricsEndpoints", "port",
                   "metrics", "path", "/prometheus");
}
