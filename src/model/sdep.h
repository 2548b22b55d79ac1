/* sdep.h: the typed SeldonDeployment (machinelearning.seldon.io v1alpha2,
 * v1alpha3, v1). The typed fields are those servescale acts on; everything
 * else stays in the JSON document (doc), exactly as written, for rendering
 * back to Kubernetes. Strings point into doc; arrays live in the arena. */
#ifndef SS_MODEL_SDEP_H
#define SS_MODEL_SDEP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/autoscaling.h"
#include "model/quantity.h"

#define SS_SDEP_GROUP "machinelearning.seldon.io"
#define SS_SDEP_KIND "SeldonDeployment"
/* The labels Seldon's operator puts on a SeldonDeployment's pods (and
 * servescale on its replicas): which deployment, and that it is a model
 * (what the seed's PodMonitor selects). */
#define SS_LABEL_SDEP_ID "seldon-deployment-id"
#define SS_LABEL_MODEL "seldon.io/model"
/* Seldon's operator: a predictor without replicas gets spec.replicas, else 1. */
#define SS_SDEP_DEFAULT_REPLICAS 1
#define SS_RS_NAME_MAX 63 /* a Kubernetes object name used as a DNS label */

struct ss_container {
  const char *name;
  const char *image;
  const char *image_pull_policy;
  const json_t *args, *command, *env, *ports; /* borrowed, may be NULL */
  bool has_cpu_request, has_memory_request;
  struct ss_quantity cpu_request, memory_request;
  bool has_cpu_limit, has_memory_limit;
  struct ss_quantity cpu_limit, memory_limit;
};

struct ss_component_spec {
  const char *name;                 /* metadata.name, may be NULL */
  int32_t replicas;                 /* -1 when unset */
  struct ss_container *containers;
  size_t n_containers;
  int64_t termination_grace_seconds; /* Kubernetes' default 30 when unset */
  const json_t *pod_spec;           /* the whole PodSpec, borrowed */
  struct ss_hpa_spec *hpa;          /* hpaSpec, or the predictor's hpaSpecs entry */
  struct ss_keda_spec *keda;        /* wins over hpa when both are given */
  char rs_name[SS_RS_NAME_MAX + 1]; /* its replica set / Deployment name */
};

enum ss_node_type {
  SS_NODE_UNKNOWN_TYPE,
  SS_NODE_MODEL,
  SS_NODE_TRANSFORMER,
  SS_NODE_OUTPUT_TRANSFORMER,
  SS_NODE_ROUTER,
  SS_NODE_COMBINER
};

enum ss_endpoint_type { SS_ENDPOINT_REST, SS_ENDPOINT_GRPC };

struct ss_graph_node {
  const char *name;
  enum ss_node_type type;
  const char *implementation; /* e.g. RANDOM_ABTEST, SKLEARN_SERVER; may be NULL */
  const char *model_uri;
  enum ss_endpoint_type endpoint;
  const json_t *parameters;   /* borrowed, may be NULL */
  struct ss_graph_node *children;
  size_t n_children;
  int component, container;   /* where its container is, -1 when built in */
};

struct ss_predictor {
  const char *name;
  int32_t replicas;
  int32_t traffic;
  const json_t *labels, *annotations, *explainer; /* borrowed */
  struct ss_graph_node graph;
  struct ss_component_spec *components;
  size_t n_components;
  struct ss_hpa_spec *hpa_specs; /* the predictor-level hpaSpecs */
  size_t n_hpa_specs;
};

struct ss_sdep {
  const char *api_version;
  const char *name, *namespace_;
  const json_t *labels, *annotations; /* metadata's; borrowed */
  const char *spec_name;
  const char *oauth_key, *oauth_secret;
  int32_t replicas;                   /* spec.replicas, -1 when unset */
  struct ss_predictor *predictors;
  size_t n_predictors;
};

const char *ss_node_type_name(enum ss_node_type t);

/* The node named name in the graph rooted at root, or NULL (name may be NULL). */
const struct ss_graph_node *ss_graph_find(const struct ss_graph_node *root, const char *name);

/* Replicas a componentSpec runs when nothing scales it: componentSpec.replicas,
 * else predictor.replicas, else spec.replicas, else 1. */
int32_t ss_component_replicas(const struct ss_sdep *s, const struct ss_predictor *p,
                              const struct ss_component_spec *c);

/* The replica set name Seldon's operator gives a componentSpec's Deployment:
 * <sdep>-<predictor>-<index>-<metadata.name | container names joined by '-'>,
 * and "seldon-<md5 hex>" of that when it exceeds 63 characters. */
void ss_rs_name(const char *sdep, const char *predictor, size_t index,
                const char *suffix, char out[SS_RS_NAME_MAX + 1]);

struct ss__dec;
void ss__sdep_decode(struct ss__dec *d, json_t *root, struct ss_sdep *out);

/* The spec.replicas of a SeldonDeployment's /scale: spec.replicas, else
 * what its first predictor sets, else 1 (what runs when neither is
 * written). The one reading the scale subresource and the autoscaler share. */
int32_t ss_sdep_scale_replicas(const json_t *obj);

#endif
