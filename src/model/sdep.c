/* sdep.c: decoding and validation of SeldonDeployments. One pass reads the
 * typed fields (recording type errors), a second checks what spans fields:
 * graph nodes against containers, scale targets against componentSpecs,
 * CPU metrics against CPU requests. Every error is recorded; none stops
 * the pass. Defaults Seldon's operator applies are written into the doc. */
#include "model/sdep.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "model/fields.h"
#include "model/names.h"

static const char *const node_type_names[] = {"", "MODEL", "TRANSFORMER",
                                              "OUTPUT_TRANSFORMER", "ROUTER", "COMBINER"};

const char *ss_node_type_name(enum ss_node_type t) { return node_type_names[t]; }

const struct ss_graph_node *ss_graph_find(const struct ss_graph_node *root, const char *name) {
  if (!name)
    return NULL;
  if (root->name && strcmp(root->name, name) == 0)
    return root;
  for (size_t i = 0; i < root->n_children; i++) {
    const struct ss_graph_node *f = ss_graph_find(&root->children[i], name);
    if (f)
      return f;
  }
  return NULL;
}

/* Implementations Seldon knows; the first group runs inside the gateway. */
static const char *const known_impls[] = {
    "RANDOM_ABTEST", "AVERAGE_COMBINER", "SIMPLE_MODEL", "SIMPLE_ROUTER",
    "UNKNOWN_IMPLEMENTATION", "SKLEARN_SERVER", "XGBOOST_SERVER", "TENSORFLOW_SERVER",
    "MLFLOW_SERVER", "TRITON_SERVER", "HUGGINGFACE_SERVER", "TEMPO_SERVER", NULL};

static const char *const pod_spec_fields[] = {
    "activeDeadlineSeconds", "affinity", "automountServiceAccountToken", "containers",
    "dnsConfig", "dnsPolicy", "enableServiceLinks", "ephemeralContainers", "hostAliases",
    "hostIPC", "hostNetwork", "hostPID", "hostUsers", "hostname", "imagePullSecrets",
    "initContainers", "nodeName", "nodeSelector", "os", "overhead", "preemptionPolicy",
    "priority", "priorityClassName", "readinessGates", "resourceClaims", "resources",
    "restartPolicy", "runtimeClassName", "schedulerName", "schedulingGates",
    "securityContext", "serviceAccount", "serviceAccountName", "setHostnameAsFQDN",
    "shareProcessNamespace", "subdomain", "terminationGracePeriodSeconds", "tolerations",
    "topologySpreadConstraints", "volumes", NULL};

static const char *const container_fields[] = {
    "args", "command", "env", "envFrom", "image", "imagePullPolicy", "lifecycle",
    "livenessProbe", "name", "ports", "readinessProbe", "resizePolicy", "resources",
    "restartPolicy", "securityContext", "startupProbe", "stdin", "stdinOnce",
    "terminationMessagePath", "terminationMessagePolicy", "tty", "volumeDevices",
    "volumeMounts", "workingDir", NULL};

int32_t ss_component_replicas(const struct ss_sdep *s, const struct ss_predictor *p,
                              const struct ss_component_spec *c) {
  if (c && c->replicas >= 0)
    return c->replicas;
  if (p && p->replicas >= 0)
    return p->replicas;
  if (s && s->replicas >= 0)
    return s->replicas;
  return SS_SDEP_DEFAULT_REPLICAS;
}

void ss_rs_name(const char *sdep, const char *predictor, size_t index, const char *suffix,
                char out[SS_RS_NAME_MAX + 1]) {
  char full[1024];
  int n = snprintf(full, sizeof full, "%s-%s-%zu-%s", sdep, predictor, index, suffix);
  if (n >= 0 && (size_t)n <= SS_RS_NAME_MAX) {
    memcpy(out, full, (size_t)n + 1);
    return;
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  size_t len = n < 0 ? 0 : ((size_t)n < sizeof full ? (size_t)n : sizeof full - 1);
  EVP_Digest(full, len, md, &mdlen, EVP_md5(), NULL);
  int k = snprintf(out, SS_RS_NAME_MAX + 1, "seldon-");
  for (unsigned i = 0; i < mdlen && k + 2 <= SS_RS_NAME_MAX; i++)
    k += snprintf(out + k, (size_t)(SS_RS_NAME_MAX + 1 - k), "%02x", md[i]);
}

static void check_label(struct ss__dec *d, const char *key, const char *value) {
  const char *why = ss_dns1123_label(value);
  if (why)
    ss__err(d, key, "invalid name \"%.100s\": %s", value, why);
}

/* ---- containers and componentSpecs ---- */

static void decode_resources(struct ss__dec *d, const json_t *c, struct ss_container *out) {
  json_t *res = ss__obj(d, c, "resources", false);
  if (!res)
    return;
  size_t s = ss_path_key(&d->path, "resources");
  ss__known_fields(d, res, (const char *const[]){"requests", "limits", "claims", NULL});
  static const char *const groups[] = {"requests", "limits"};
  for (int g = 0; g < 2; g++) {
    json_t *m = ss__obj(d, res, groups[g], false);
    if (!m)
      continue;
    size_t s2 = ss_path_key(&d->path, groups[g]);
    const char *k;
    json_t *v;
    json_object_foreach(m, k, v) {
      struct ss_quantity q;
      if (!ss__qty(d, m, k, true, &q))
        continue;
      if (q.milli < 0) {
        ss__err(d, k, "must not be negative");
        continue;
      }
      bool *has = NULL;
      struct ss_quantity *dst = NULL;
      if (strcmp(k, "cpu") == 0) {
        has = g ? &out->has_cpu_limit : &out->has_cpu_request;
        dst = g ? &out->cpu_limit : &out->cpu_request;
      } else if (strcmp(k, "memory") == 0) {
        has = g ? &out->has_memory_limit : &out->has_memory_request;
        dst = g ? &out->memory_limit : &out->memory_request;
      }
      if (has) {
        *has = true;
        *dst = q;
      }
    }
    ss_path_pop(&d->path, s2);
  }
  if (out->has_cpu_request && out->has_cpu_limit &&
      out->cpu_request.milli > out->cpu_limit.milli)
    ss__err(d, "requests", "cpu request must be less than or equal to the cpu limit");
  if (out->has_memory_request && out->has_memory_limit &&
      out->memory_request.milli > out->memory_limit.milli)
    ss__err(d, "requests", "memory request must be less than or equal to the memory limit");
  ss_path_pop(&d->path, s);
}

static void decode_container(struct ss__dec *d, const json_t *c, struct ss_container *out) {
  if (!json_is_object(c)) {
    ss__err(d, NULL, "must be an object");
    return;
  }
  ss__known_fields(d, c, container_fields);
  if (ss__str(d, c, "name", true, &out->name))
    check_label(d, "name", out->name);
  ss__str(d, c, "image", false, &out->image);
  if (ss__str(d, c, "imagePullPolicy", false, &out->image_pull_policy) &&
      strcmp(out->image_pull_policy, "Always") != 0 &&
      strcmp(out->image_pull_policy, "IfNotPresent") != 0 &&
      strcmp(out->image_pull_policy, "Never") != 0)
    ss__err(d, "imagePullPolicy", "must be Always, IfNotPresent or Never, not \"%.100s\"",
            out->image_pull_policy);
  out->args = ss__arr(d, c, "args", false);
  out->command = ss__arr(d, c, "command", false);
  out->env = ss__arr(d, c, "env", false);
  out->ports = ss__arr(d, c, "ports", false);
  decode_resources(d, c, out);
}

static void decode_component(struct ss__dec *d, json_t *cs, struct ss_component_spec *out) {
  out->replicas = -1;
  out->termination_grace_seconds = 30; /* Kubernetes' PodSpec default */
  if (!json_is_object(cs)) {
    ss__err(d, NULL, "must be an object");
    return;
  }
  ss__known_fields(d, cs,
                   (const char *const[]){"metadata", "spec", "hpaSpec", "kedaSpec", "pdbSpec",
                                         "replicas", NULL});
  json_t *md = ss__obj(d, cs, "metadata", false);
  if (md) {
    size_t s = ss_path_key(&d->path, "metadata");
    ss__known_fields(d, md, (const char *const[]){"name", "labels", "annotations", NULL});
    if (ss__str(d, md, "name", false, &out->name))
      check_label(d, "name", out->name);
    ss__strmap(d, md, "labels");
    ss__strmap(d, md, "annotations");
    ss_path_pop(&d->path, s);
  }
  if (ss__int32(d, cs, "replicas", false, &out->replicas) &&
      (out->replicas < 0 || !ss__replicas_within_limit(d, "replicas", out->replicas))) {
    if (out->replicas < 0)
      ss__err(d, "replicas", "must not be negative");
    out->replicas = -1;
  }
  json_t *spec = ss__obj(d, cs, "spec", true);
  if (spec) {
    out->pod_spec = spec;
    size_t s = ss_path_key(&d->path, "spec");
    ss__known_fields(d, spec, pod_spec_fields);
    if (ss__int(d, spec, "terminationGracePeriodSeconds", false,
                &out->termination_grace_seconds) &&
        out->termination_grace_seconds < 0) {
      ss__err(d, "terminationGracePeriodSeconds", "must not be negative");
      out->termination_grace_seconds = 30;
    }
    json_t *cont = ss__arr(d, spec, "containers", true);
    size_t n = cont ? json_array_size(cont) : 0;
    if (cont && n == 0)
      ss__err(d, "containers", "must have at least one container");
    if (n) {
      out->containers = ss_arena_calloc(d->arena, n, sizeof *out->containers);
      out->n_containers = out->containers ? n : 0;
      size_t s2 = ss_path_key(&d->path, "containers");
      for (size_t i = 0; i < out->n_containers; i++) {
        size_t s3 = ss_path_index(&d->path, i);
        decode_container(d, json_array_get(cont, i), &out->containers[i]);
        ss_path_pop(&d->path, s3);
      }
      ss_path_pop(&d->path, s2);
    }
    ss_path_pop(&d->path, s);
  }
  json_t *hpa = ss__obj(d, cs, "hpaSpec", false);
  if (hpa) {
    out->hpa = ss_arena_alloc(d->arena, sizeof *out->hpa);
    size_t s = ss_path_key(&d->path, "hpaSpec");
    if (out->hpa)
      ss__hpa_decode(d, hpa, false, out->hpa);
    ss_path_pop(&d->path, s);
  }
  json_t *keda = ss__obj(d, cs, "kedaSpec", false);
  if (keda) {
    out->keda = ss_arena_alloc(d->arena, sizeof *out->keda);
    size_t s = ss_path_key(&d->path, "kedaSpec");
    if (out->keda)
      ss__keda_decode(d, keda, false, out->keda);
    ss_path_pop(&d->path, s);
  }
}

/* ---- the graph ---- */

static void decode_parameters(struct ss__dec *d, const json_t *node) {
  json_t *params = ss__arr(d, node, "parameters", false);
  if (!params)
    return;
  size_t s = ss_path_key(&d->path, "parameters");
  size_t i;
  json_t *p;
  json_array_foreach(params, i, p) {
    size_t s2 = ss_path_index(&d->path, i);
    const char *name, *type = "STRING", *value;
    if (!json_is_object(p)) {
      ss__err(d, NULL, "must be an object");
    } else {
      ss__known_fields(d, p, (const char *const[]){"name", "value", "type", NULL});
      ss__str(d, p, "name", true, &name);
      ss__str(d, p, "type", false, &type);
      if (ss__str(d, p, "value", true, &value)) {
        double x;
        if (strcmp(type, "INT") == 0) {
          if (!ss__parse_double(value, &x) || x != (double)(long long)x)
            ss__err(d, "value", "must be an integer for type INT, not \"%.100s\"", value);
        } else if (strcmp(type, "FLOAT") == 0 || strcmp(type, "DOUBLE") == 0) {
          if (!ss__parse_double(value, &x))
            ss__err(d, "value", "must be a number for type %s, not \"%.100s\"", type, value);
        } else if (strcmp(type, "BOOL") == 0) {
          if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0)
            ss__err(d, "value", "must be true or false for type BOOL, not \"%.100s\"", value);
        } else if (strcmp(type, "STRING") != 0) {
          ss__err(d, "type", "must be INT, FLOAT, DOUBLE, BOOL or STRING, not \"%.100s\"",
                  type);
        }
      }
    }
    ss_path_pop(&d->path, s2);
  }
  ss_path_pop(&d->path, s);
}

static void decode_node(struct ss__dec *d, json_t *node, struct ss_graph_node *out) {
  out->component = out->container = -1;
  out->type = SS_NODE_MODEL;
  if (!json_is_object(node)) {
    ss__err(d, NULL, "must be an object");
    return;
  }
  ss__known_fields(d, node,
                   (const char *const[]){"name", "type", "implementation", "modelUri",
                                         "endpoint", "parameters", "children", "methods",
                                         "serviceAccountName", "envSecretRefName",
                                         "storageInitializerImage", "logger", NULL});
  if (ss__str(d, node, "name", true, &out->name))
    check_label(d, "name", out->name);
  const char *type;
  if (ss__str(d, node, "type", false, &type)) {
    int i;
    for (i = 1; i < 6; i++)
      if (strcmp(type, node_type_names[i]) == 0)
        break;
    if (i == 6)
      ss__err(d, "type",
              "unknown node type \"%.100s\" (use MODEL, TRANSFORMER, OUTPUT_TRANSFORMER, "
              "ROUTER or COMBINER)",
              type);
    else
      out->type = (enum ss_node_type)i;
  }
  if (ss__str(d, node, "implementation", false, &out->implementation)) {
    bool known = false;
    for (const char *const *k = known_impls; *k; k++)
      known = known || strcmp(*k, out->implementation) == 0;
    if (!known)
      ss__warn(d, "implementation", "unknown implementation \"%.100s\"", out->implementation);
    if (strcmp(out->implementation, "RANDOM_ABTEST") == 0 ||
        strcmp(out->implementation, "SIMPLE_ROUTER") == 0)
      out->type = SS_NODE_ROUTER;
    else if (strcmp(out->implementation, "AVERAGE_COMBINER") == 0)
      out->type = SS_NODE_COMBINER;
  }
  ss__str(d, node, "modelUri", false, &out->model_uri);
  out->endpoint = SS_ENDPOINT_REST;
  json_t *ep = ss__obj(d, node, "endpoint", false);
  if (ep) {
    size_t s = ss_path_key(&d->path, "endpoint");
    const char *t;
    if (ss__str(d, ep, "type", false, &t)) {
      if (strcmp(t, "GRPC") == 0)
        out->endpoint = SS_ENDPOINT_GRPC;
      else if (strcmp(t, "REST") != 0)
        ss__err(d, "type", "must be REST or GRPC, not \"%.100s\"", t);
    } else {
      json_object_set_new(ep, "type", json_string("REST")); /* Seldon's default */
    }
    ss_path_pop(&d->path, s);
  } else if (!json_object_get(node, "endpoint")) {
    json_object_set_new(node, "endpoint", json_pack("{s:s}", "type", "REST"));
  }
  decode_parameters(d, node);
  out->parameters = json_object_get(node, "parameters");
  json_t *kids = ss__arr(d, node, "children", false);
  size_t n = kids ? json_array_size(kids) : 0;
  if (n) {
    out->children = ss_arena_calloc(d->arena, n, sizeof *out->children);
    out->n_children = out->children ? n : 0;
    size_t s = ss_path_key(&d->path, "children");
    for (size_t i = 0; i < out->n_children; i++) {
      size_t s2 = ss_path_index(&d->path, i);
      decode_node(d, json_array_get(kids, i), &out->children[i]);
      ss_path_pop(&d->path, s2);
    }
    ss_path_pop(&d->path, s);
  }
  if (out->type == SS_NODE_COMBINER && n == 0)
    ss__err(d, "children", "a COMBINER needs at least one child");
  if (out->type == SS_NODE_ROUTER && n == 0)
    ss__err(d, "children", "a ROUTER needs at least one child");
}

/* Finds the container named name among the predictor's componentSpecs. */
static bool find_container(const struct ss_predictor *p, const char *name, int *comp,
                           int *cont) {
  for (size_t i = 0; i < p->n_components; i++)
    for (size_t j = 0; j < p->components[i].n_containers; j++) {
      const char *cn = p->components[i].containers[j].name;
      if (cn && strcmp(cn, name) == 0) {
        *comp = (int)i;
        *cont = (int)j;
        return true;
      }
    }
  return false;
}

/* Checks nodes against containers and names against each other. names holds
 * the node names seen so far (arena array of n_names). */
static void check_node(struct ss__dec *d, struct ss_predictor *p, struct ss_graph_node *node,
                       const char **names, size_t *n_names, size_t cap) {
  if (node->name) {
    for (size_t i = 0; i < *n_names; i++)
      if (strcmp(names[i], node->name) == 0)
        ss__err(d, "name", "duplicate graph node name \"%.100s\"", node->name);
    if (*n_names < cap)
      names[(*n_names)++] = node->name;
    if (!find_container(p, node->name, &node->component, &node->container) &&
        !node->implementation)
      ss__err(d, "name",
              "graph node \"%.100s\" has no implementation and no container of that name in "
              "this predictor's componentSpecs",
              node->name);
  }
  size_t s = ss_path_key(&d->path, "children");
  for (size_t i = 0; i < node->n_children; i++) {
    size_t s2 = ss_path_index(&d->path, i);
    check_node(d, p, &node->children[i], names, n_names, cap);
    ss_path_pop(&d->path, s2);
  }
  ss_path_pop(&d->path, s);
}

static size_t count_nodes(const struct ss_graph_node *n) {
  size_t c = 1;
  for (size_t i = 0; i < n->n_children; i++)
    c += count_nodes(&n->children[i]);
  return c;
}

/* Is name a graph node with an implementation (prepackaged server)? */
static bool node_has_impl(const struct ss_graph_node *n, const char *name) {
  if (n->name && strcmp(n->name, name) == 0 && n->implementation)
    return true;
  for (size_t i = 0; i < n->n_children; i++)
    if (node_has_impl(&n->children[i], name))
      return true;
  return false;
}

/* ---- cross-field checks ---- */

/* A Utilization target on resource res needs a request for it on every
 * container the metric covers: the HPA cannot compute a percentage
 * otherwise ("missing request for cpu"). */
static void check_requests(struct ss__dec *d, const char *metric_path,
                           const struct ss_component_spec *c, const char *comp_path,
                           const char *res, const char *only_container, bool dflt) {
  for (size_t i = 0; i < c->n_containers; i++) {
    const struct ss_container *k = &c->containers[i];
    if (only_container && (!k->name || strcmp(k->name, only_container) != 0))
      continue;
    bool has = strcmp(res, "cpu") == 0 ? k->has_cpu_request : k->has_memory_request;
    if (!has)
      ss_diag_err(d->diags, metric_path,
                  "%s utilization%s needs a %s request on every container, and container "
                  "\"%s\" (%s.spec.containers[%zu]) has none: add resources.requests.%s",
                  res, dflt ? " (the default metric, as metrics is left out)" : "", res,
                  k->name ? k->name : "", comp_path, i, res);
  }
}

static void check_hpa_requests(struct ss__dec *d, const struct ss_hpa_spec *h,
                               const char *hpa_path, const struct ss_component_spec *c,
                               const char *comp_path, bool metrics_written) {
  struct ss_path mp;
  for (size_t m = 0; m < h->n_metrics; m++) {
    const struct ss_metric_spec *ms = &h->metrics[m];
    if ((ms->source != SS_METRIC_RESOURCE && ms->source != SS_METRIC_CONTAINER_RESOURCE) ||
        ms->target.type != SS_TARGET_UTILIZATION || !ms->name)
      continue;
    ss_path_set(&mp, hpa_path);
    if (metrics_written) { /* else the default CPU metric: point at the hpaSpec */
      ss_path_key(&mp, "metrics");
      ss_path_index(&mp, m);
    }
    check_requests(d, mp.buf, c, comp_path, ms->name, ms->container, !metrics_written);
  }
}

static void check_keda_requests(struct ss__dec *d, const struct ss_keda_spec *k,
                                const char *keda_path, const struct ss_component_spec *c,
                                const char *comp_path) {
  struct ss_path tp;
  for (size_t t = 0; t < k->n_triggers; t++) {
    const struct ss_trigger *tr = &k->triggers[t];
    if (tr->type == SS_TRIGGER_PROMETHEUS || tr->metric_type != SS_TARGET_UTILIZATION)
      continue;
    ss_path_set(&tp, keda_path);
    ss_path_key(&tp, "triggers");
    ss_path_index(&tp, t);
    check_requests(d, tp.buf, c, comp_path, tr->type == SS_TRIGGER_CPU ? "cpu" : "memory",
                   tr->container_name, false);
  }
}

/* ---- prepackaged servers ---- */

/* seldon-config's predictor_servers: SKLEARN_SERVER's image (Seldon
 * protocol) and its default version. servescale runs it as `servescale
 * model-server` in Seldon's protocol (control/images.c). */
#define SKLEARN_SERVER_IMAGE "seldonio/sklearnserver:1.17.1"
#define GRAPH_DEPTH_MAX 64 /* deeper graphs are the decoder's to refuse */

static bool has_container(const json_t *comps, const char *name) {
  size_t i, j;
  const json_t *cs, *c;
  json_array_foreach(comps, i, cs) {
    json_array_foreach(json_object_get(json_object_get(cs, "spec"), "containers"), j, c) {
      const char *cn = json_string_value(json_object_get(c, "name"));
      if (cn && strcmp(cn, name) == 0)
        return true;
    }
  }
  return false;
}

/* As Seldon's operator defaults a SKLEARN_SERVER graph node: a container
 * named after the node, with the server's image, appended to
 * componentSpecs[0] (a new componentSpec when there is none) unless the
 * predictor has one of that name already; and the node's modelUri as its
 * parameter model_uri, which the server reads from
 * PREDICTIVE_UNIT_PARAMETERS. Malformed JSON is left to the decoder. */
static void default_prepackaged(json_t *pj, json_t *node, int depth) {
  if (!json_is_object(node) || depth > GRAPH_DEPTH_MAX)
    return;
  const char *impl = json_string_value(json_object_get(node, "implementation"));
  const char *name = json_string_value(json_object_get(node, "name"));
  if (impl && name && *name && strcmp(impl, "SKLEARN_SERVER") == 0) {
    json_t *comps = json_object_get(pj, "componentSpecs");
    if (!comps && json_object_set_new(pj, "componentSpecs", json_array()) == 0)
      comps = json_object_get(pj, "componentSpecs");
    if (json_is_array(comps) && !has_container(comps, name)) {
      json_t *c = json_pack("{s:s,s:s}", "name", name, "image", SKLEARN_SERVER_IMAGE);
      json_t *conts = json_object_get(json_object_get(json_array_get(comps, 0), "spec"),
                                      "containers");
      if (json_array_size(comps) == 0)
        json_array_append_new(comps, json_pack("{s:{s:[o]}}", "spec", "containers", c));
      else if (json_is_array(conts))
        json_array_append_new(conts, c);
      else
        json_decref(c);
    }
    /* modelUri wins over a model_uri written before (by an earlier
     * decode of a stored object whose modelUri has changed since) */
    const char *uri = json_string_value(json_object_get(node, "modelUri"));
    json_t *params = json_object_get(node, "parameters");
    bool given = false;
    size_t i;
    json_t *pv;
    json_array_foreach(params, i, pv) {
      const char *pn = json_string_value(json_object_get(pv, "name"));
      if (uri && pn && strcmp(pn, "model_uri") == 0 && json_is_object(pv)) {
        json_object_set_new(pv, "value", json_string(uri));
        given = true;
      }
    }
    if (uri && !params && json_object_set_new(node, "parameters", json_array()) == 0)
      params = json_object_get(node, "parameters");
    if (uri && !given && json_is_array(params))
      json_array_append_new(params, json_pack("{s:s,s:s,s:s}", "name", "model_uri", "type",
                                              "STRING", "value", uri));
  }
  size_t i;
  json_t *kid;
  json_array_foreach(json_object_get(node, "children"), i, kid)
      default_prepackaged(pj, kid, depth + 1);
}

static void decode_predictor(struct ss__dec *d, struct ss_sdep *sd, json_t *pj,
                             struct ss_predictor *p) {
  p->replicas = -1;
  p->traffic = 0;
  if (!json_is_object(pj)) {
    ss__err(d, NULL, "must be an object");
    return;
  }
  ss__known_fields(d, pj,
                   (const char *const[]){"name", "graph", "componentSpecs", "hpaSpecs",
                                         "replicas", "annotations", "engineResources",
                                         "labels", "svcOrchSpec", "traffic", "explainer",
                                         "shadow", "ssl", "progressDeadlineSeconds", NULL});
  if (ss__str(d, pj, "name", true, &p->name))
    check_label(d, "name", p->name);
  if (ss__int32(d, pj, "replicas", false, &p->replicas) &&
      (p->replicas < 0 || !ss__replicas_within_limit(d, "replicas", p->replicas))) {
    if (p->replicas < 0)
      ss__err(d, "replicas", "must not be negative");
    p->replicas = -1;
  }
  if (ss__int32(d, pj, "traffic", false, &p->traffic) &&
      (p->traffic < 0 || p->traffic > 100))
    ss__err(d, "traffic", "must be between 0 and 100");
  p->labels = ss__strmap(d, pj, "labels");
  p->annotations = ss__strmap(d, pj, "annotations");
  p->explainer = ss__obj(d, pj, "explainer", false);

  default_prepackaged(pj, json_object_get(pj, "graph"), 0);
  json_t *comps = ss__arr(d, pj, "componentSpecs", false);
  size_t n = comps ? json_array_size(comps) : 0;
  char comp_path[SS_PATH_MAX];
  if (n) {
    p->components = ss_arena_calloc(d->arena, n, sizeof *p->components);
    p->n_components = p->components ? n : 0;
    size_t s = ss_path_key(&d->path, "componentSpecs");
    for (size_t i = 0; i < p->n_components; i++) {
      size_t s2 = ss_path_index(&d->path, i);
      decode_component(d, json_array_get(comps, i), &p->components[i]);
      ss_path_pop(&d->path, s2);
    }
    ss_path_pop(&d->path, s);
  }
  json_t *graph = ss__obj(d, pj, "graph", true);
  if (graph) {
    size_t s = ss_path_key(&d->path, "graph");
    decode_node(d, graph, &p->graph);
    size_t cap = count_nodes(&p->graph), n_names = 0;
    const char **names = ss_arena_calloc(d->arena, cap, sizeof *names);
    if (names)
      check_node(d, p, &p->graph, names, &n_names, cap);
    ss_path_pop(&d->path, s);
  }

  /* Container names are unique in a predictor: graph nodes find them by name. */
  size_t s = ss_path_key(&d->path, "componentSpecs");
  for (size_t i = 0; i < p->n_components; i++) {
    struct ss_component_spec *c = &p->components[i];
    size_t s2 = ss_path_index(&d->path, i);
    for (size_t j = 0; j < c->n_containers; j++) {
      const char *name = c->containers[j].name;
      if (!name)
        continue;
      /* pushed one key at a time: a key with '.' or '[' would be bracketed */
      size_t s3 = ss_path_key(&d->path, "spec");
      ss_path_key(&d->path, "containers");
      ss_path_index(&d->path, j);
      if (!c->containers[j].image && !(graph && node_has_impl(&p->graph, name)))
        ss__err(d, "image", "required value (only a container named after a graph node "
                            "with an implementation may leave it out)");
      for (size_t i2 = 0; i2 <= i; i2++)
        for (size_t j2 = 0; j2 < p->components[i2].n_containers && (i2 < i || j2 < j); j2++) {
          const char *other = p->components[i2].containers[j2].name;
          if (other && strcmp(other, name) == 0)
            ss__err(d, "name", "duplicate container name \"%.100s\" in this predictor", name);
        }
      ss_path_pop(&d->path, s3);
    }
    /* the replica set name */
    char suffix[512] = "";
    if (c->name) {
      snprintf(suffix, sizeof suffix, "%s", c->name);
    } else {
      for (size_t j = 0; j < c->n_containers; j++) {
        if (!c->containers[j].name)
          continue;
        size_t l = strlen(suffix);
        snprintf(suffix + l, sizeof suffix - l, "%s%s", l ? "-" : "", c->containers[j].name);
      }
    }
    if (sd->name && p->name)
      ss_rs_name(sd->name, p->name, i, suffix, c->rs_name);
    for (size_t i2 = 0; i2 < i; i2++)
      if (c->rs_name[0] && strcmp(p->components[i2].rs_name, c->rs_name) == 0)
        ss__err(d, NULL, "gives the same replica set name \"%s\" as componentSpecs[%zu]",
                c->rs_name, i2);
    ss_path_pop(&d->path, s2);
  }
  ss_path_pop(&d->path, s);

  /* hpaSpecs on the predictor, each aimed at a componentSpec */
  json_t *hpas = ss__arr(d, pj, "hpaSpecs", false);
  size_t nh = hpas ? json_array_size(hpas) : 0;
  if (nh) {
    p->hpa_specs = ss_arena_calloc(d->arena, nh, sizeof *p->hpa_specs);
    p->n_hpa_specs = p->hpa_specs ? nh : 0;
    size_t s3 = ss_path_key(&d->path, "hpaSpecs");
    for (size_t i = 0; i < p->n_hpa_specs; i++) {
      struct ss_hpa_spec *h = &p->hpa_specs[i];
      size_t s4 = ss_path_index(&d->path, i);
      json_t *hj = json_array_get(hpas, i);
      if (!json_is_object(hj)) {
        ss__err(d, NULL, "must be an object");
        ss_path_pop(&d->path, s4);
        continue;
      }
      ss__hpa_decode(d, hj, true, h);
      if (h->target_name) {
        for (size_t c = 0; c < p->n_components; c++) {
          const struct ss_component_spec *cs = &p->components[c];
          if ((cs->name && strcmp(cs->name, h->target_name) == 0) ||
              strcmp(cs->rs_name, h->target_name) == 0)
            h->component = (int)c;
        }
        if (h->component < 0) {
          char known[512] = "";
          for (size_t c = 0; c < p->n_components; c++) {
            size_t l = strlen(known);
            snprintf(known + l, sizeof known - l, "%s%s%s%s", l ? ", " : "",
                     p->components[c].name ? p->components[c].name : "",
                     p->components[c].name ? " or " : "", p->components[c].rs_name);
          }
          size_t s5 = ss_path_key(&d->path, "scaleTargetRef");
          ss__err(d, "name", "\"%.100s\" names no componentSpec of this predictor (known: %s)",
                  h->target_name, known[0] ? known : "none");
          ss_path_pop(&d->path, s5);
        } else {
          struct ss_component_spec *cs = &p->components[h->component];
          if (cs->hpa)
            ss__err(d, "scaleTargetRef",
                    "componentSpecs[%d] is already scaled by another HPA spec",
                    h->component);
          else
            cs->hpa = h;
        }
      }
      ss_path_pop(&d->path, s4);
    }
    ss_path_pop(&d->path, s3);
  }

  /* what scales each componentSpec, and whether its requests allow it */
  for (size_t i = 0; i < p->n_components; i++) {
    struct ss_component_spec *c = &p->components[i];
    size_t s2 = ss_path_key(&d->path, "componentSpecs");
    ss_path_index(&d->path, i);
    snprintf(comp_path, sizeof comp_path, "%s", d->path.buf);
    if (c->hpa && c->keda) {
      ss__warn(d, "kedaSpec", "both hpaSpec and kedaSpec are given: kedaSpec wins and the "
                              "HPA spec is ignored, as Seldon's operator does");
      c->hpa = NULL;
    }
    struct ss_path hp;
    if (c->hpa) {
      json_t *cj = json_array_get(comps, i);
      bool inside = json_object_get(cj, "hpaSpec") != NULL;
      if (inside) {
        ss_path_set(&hp, comp_path);
        ss_path_key(&hp, "hpaSpec");
      } else {
        size_t idx = (size_t)(c->hpa - p->hpa_specs);
        ss_path_pop(&d->path, s2);
        ss_path_key(&d->path, "hpaSpecs");
        ss_path_index(&d->path, idx);
        ss_path_set(&hp, d->path.buf);
      }
      check_hpa_requests(d, c->hpa, hp.buf, c, comp_path, !c->hpa->default_metrics);
    }
    if (c->keda) {
      ss_path_set(&hp, comp_path);
      ss_path_key(&hp, "kedaSpec");
      check_keda_requests(d, c->keda, hp.buf, c, comp_path);
    }
    ss_path_pop(&d->path, s2);
  }
}

void ss__sdep_decode(struct ss__dec *d, json_t *root, struct ss_sdep *out) {
  memset(out, 0, sizeof *out);
  out->replicas = -1;
  ss__str(d, root, "apiVersion", true, &out->api_version);
  json_t *md = ss__obj(d, root, "metadata", true);
  if (md) {
    size_t s = ss_path_key(&d->path, "metadata");
    if (ss__str(d, md, "name", true, &out->name))
      check_label(d, "name", out->name);
    if (ss__str(d, md, "namespace", false, &out->namespace_))
      check_label(d, "namespace", out->namespace_);
    out->labels = ss__strmap(d, md, "labels");
    out->annotations = ss__strmap(d, md, "annotations");
    ss_path_pop(&d->path, s);
  }
  json_t *spec = ss__obj(d, root, "spec", true);
  if (!spec)
    return;
  size_t s = ss_path_key(&d->path, "spec");
  ss__known_fields(d, spec,
                   (const char *const[]){"name", "predictors", "oauth_key", "oauth_secret",
                                         "annotations", "protocol", "transport", "replicas",
                                         "serverType", NULL});
  ss__str(d, spec, "name", false, &out->spec_name);
  ss__str(d, spec, "oauth_key", false, &out->oauth_key);
  ss__str(d, spec, "oauth_secret", false, &out->oauth_secret);
  if ((out->oauth_key == NULL) != (out->oauth_secret == NULL))
    ss__err(d, out->oauth_key ? "oauth_secret" : "oauth_key",
            "required value: oauth_key and oauth_secret go together");
  ss__strmap(d, spec, "annotations");
  const char *proto;
  if (ss__str(d, spec, "protocol", false, &proto) && strcmp(proto, "seldon") != 0)
    ss__err(d, "protocol", "unsupported protocol \"%.100s\" (servescale speaks \"seldon\")",
            proto);
  if (ss__int32(d, spec, "replicas", false, &out->replicas) &&
      (out->replicas < 0 || !ss__replicas_within_limit(d, "replicas", out->replicas))) {
    if (out->replicas < 0)
      ss__err(d, "replicas", "must not be negative");
    out->replicas = -1;
  }
  json_t *preds = ss__arr(d, spec, "predictors", true);
  size_t n = preds ? json_array_size(preds) : 0;
  if (preds && n == 0)
    ss__err(d, "predictors", "must have at least one predictor");
  if (n) {
    out->predictors = ss_arena_calloc(d->arena, n, sizeof *out->predictors);
    out->n_predictors = out->predictors ? n : 0;
    size_t s2 = ss_path_key(&d->path, "predictors");
    int traffic_sum = 0;
    size_t live = 0;
    for (size_t i = 0; i < out->n_predictors; i++) {
      struct ss_predictor *p = &out->predictors[i];
      json_t *pj = json_array_get(preds, i);
      size_t s3 = ss_path_index(&d->path, i);
      decode_predictor(d, out, pj, p);
      bool shadow = json_is_true(json_object_get(pj, "shadow"));
      if (!shadow) {
        traffic_sum += p->traffic;
        live++;
      }
      for (size_t j = 0; j < i; j++)
        if (p->name && out->predictors[j].name && strcmp(p->name, out->predictors[j].name) == 0)
          ss__err(d, "name", "duplicate predictor name \"%.100s\"", p->name);
      ss_path_pop(&d->path, s3);
    }
    if (live == 1) {
      for (size_t i = 0; i < out->n_predictors; i++) {
        json_t *pj = json_array_get(preds, i);
        if (!json_is_true(json_object_get(pj, "shadow")) && out->predictors[i].traffic == 0) {
          out->predictors[i].traffic = 100; /* one predictor takes all traffic */
        }
      }
    } else if (live > 1 && traffic_sum != 100) {
      ss__err(d, NULL, "traffic of the predictors must sum to 100 (it sums to %d)",
              traffic_sum);
    }
    ss_path_pop(&d->path, s2);
  }
  ss_path_pop(&d->path, s);
}

int32_t ss_sdep_scale_replicas(const json_t *obj) {
  const json_t *spec = json_object_get(obj, "spec");
  const json_t *v = json_object_get(spec, "replicas");
  if (json_is_integer(v))
    return (int32_t)json_integer_value(v);
  v = json_object_get(json_array_get(json_object_get(spec, "predictors"), 0), "replicas");
  if (json_is_integer(v))
    return (int32_t)json_integer_value(v);
  return 1;
}
