/* autoscaling.h: the typed autoscaling specs a SeldonDeployment carries: an
 * HPA spec (autoscaling/v2, also read in its v2beta1 form) and a KEDA
 * ScaledObject spec. Decoding fills Kubernetes' and KEDA's defaults into the
 * typed values and into the document, so the normalized output shows them. */
#ifndef SS_MODEL_AUTOSCALING_H
#define SS_MODEL_AUTOSCALING_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/quantity.h"

/* Kubernetes autoscaling/v2 defaults (HorizontalPodAutoscaler API). */
#define SS_HPA_DEFAULT_MIN_REPLICAS 1
#define SS_HPA_DEFAULT_CPU_UTILIZATION 80 /* when metrics is empty */
#define SS_HPA_DEFAULT_UP_STABILIZATION 0
/* scaleDown.stabilizationWindowSeconds has no API default: Kubernetes leaves
 * it nil, and the controller applies its
 * --horizontal-pod-autoscaler-downscale-stabilization (300 s; see
 * src/autoscale/hpa.h, ss_hpa_settings). An unwritten window is this. */
#define SS_HPA_STABILIZATION_UNSET (-1)
#define SS_HPA_DEFAULT_UP_PODS 4
#define SS_HPA_DEFAULT_UP_PERCENT 100
#define SS_HPA_DEFAULT_DOWN_PERCENT 100
#define SS_HPA_DEFAULT_POLICY_PERIOD 15
#define SS_HPA_MAX_STABILIZATION 3600  /* API validation bound */
#define SS_HPA_MAX_POLICY_PERIOD 1800  /* API validation bound */

/* KEDA ScaledObject defaults (keda.sh/v1alpha1). */
#define SS_KEDA_DEFAULT_POLLING_INTERVAL 30
#define SS_KEDA_DEFAULT_COOLDOWN_PERIOD 300
#define SS_KEDA_DEFAULT_MIN_REPLICAS 0
#define SS_KEDA_DEFAULT_MAX_REPLICAS 100
#define SS_KEDA_DEFAULT_PROM_TIMEOUT_MS 3000 /* KEDA's default HTTP timeout */

enum ss_metric_source {
  SS_METRIC_RESOURCE,
  SS_METRIC_CONTAINER_RESOURCE,
  SS_METRIC_PODS,
  SS_METRIC_OBJECT,
  SS_METRIC_EXTERNAL
};

enum ss_target_type { SS_TARGET_UTILIZATION, SS_TARGET_AVERAGE_VALUE, SS_TARGET_VALUE };

struct ss_metric_target {
  enum ss_target_type type;
  int32_t utilization;      /* percent of request, for Utilization */
  struct ss_quantity value; /* for AverageValue and Value */
};

struct ss_metric_spec {
  enum ss_metric_source source;
  const char *name;           /* resource name (cpu, memory) or metric name */
  const char *container;      /* ContainerResource only */
  const json_t *selector;     /* metric label selector, borrowed; may be NULL */
  const char *object_kind;    /* Object: the described object */
  const char *object_name;
  const char *object_api_version;
  struct ss_metric_target target;
};

enum ss_select_policy { SS_SELECT_MAX, SS_SELECT_MIN, SS_SELECT_DISABLED };
enum ss_policy_type { SS_POLICY_PODS, SS_POLICY_PERCENT };

struct ss_scaling_policy {
  enum ss_policy_type type;
  int32_t value;
  int32_t period_seconds;
};

struct ss_scaling_rules {
  int32_t stabilization_seconds; /* SS_HPA_STABILIZATION_UNSET: not written */
  enum ss_select_policy select;
  struct ss_scaling_policy *policies;
  size_t n_policies;
  double tolerance; /* < 0: the controller's default */
};

struct ss_hpa_spec {
  int32_t min_replicas, max_replicas;
  struct ss_metric_spec *metrics;
  size_t n_metrics;
  bool default_metrics;           /* metrics left out: CPU 80% filled in */
  /* spec.behavior was written. The API server does not default a missing
   * behavior, and the controller takes another path without one
   * (src/autoscale/hpa.h); up and down hold the rules' defaults either way. */
  bool has_behavior;
  struct ss_scaling_rules up, down;
  const char *target_name;        /* scaleTargetRef.name; NULL in a componentSpec */
  const char *target_kind;
  const char *target_api_version;
  int component;                  /* index of the componentSpec it scales, -1 unknown */
};

enum ss_trigger_type { SS_TRIGGER_PROMETHEUS, SS_TRIGGER_CPU, SS_TRIGGER_MEMORY };

struct ss_trigger {
  enum ss_trigger_type type;
  const char *name;             /* trigger name, may be NULL */
  const json_t *metadata;       /* borrowed, every key as written */
  /* prometheus */
  const char *server_address;   /* NULL: the embedded metrics source */
  const char *query;
  const char *metric_name;
  double threshold, activation_threshold;
  bool ignore_null_values;
  int32_t timeout_ms;
  const char *custom_headers;   /* "Name=value,Name2=value2" */
  const char *auth_modes;       /* "basic", "bearer" */
  /* cpu and memory */
  enum ss_target_type metric_type; /* Utilization or AverageValue */
  struct ss_quantity value;        /* percent for Utilization, else quantity */
  const char *container_name;
};

/* spec.fallback.behavior: the replicas a falling-back trigger asks for
 * (kedacore/keda pkg/fallback/fallback.go, doFallback). The zero value is
 * KEDA's default (+kubebuilder:default=static). */
enum ss_keda_fallback_behavior {
  SS_KEDA_FALLBACK_STATIC,            /* "static": fallback.replicas */
  SS_KEDA_FALLBACK_CURRENT,           /* "currentReplicas": the current spec.replicas */
  SS_KEDA_FALLBACK_CURRENT_IF_HIGHER, /* "currentReplicasIfHigher": max(current, replicas) */
  SS_KEDA_FALLBACK_CURRENT_IF_LOWER   /* "currentReplicasIfLower": min(current, replicas) */
};

struct ss_keda_spec {
  int32_t polling_interval, cooldown_period, initial_cooldown_period;
  int32_t min_replicas, max_replicas;
  int32_t idle_replicas;          /* -1 when unset */
  bool has_fallback;
  int32_t fallback_failure_threshold, fallback_replicas;
  enum ss_keda_fallback_behavior fallback_behavior; /* static unless has_fallback says more */
  struct ss_scaling_rules up, down; /* advanced.horizontalPodAutoscalerConfig.behavior */
  bool has_behavior;
  struct ss_trigger *triggers;
  size_t n_triggers;
  /* a ScaledObject's scaleTargetRef (KEDA's defaults: apps/v1, Deployment);
   * NULL in a kedaSpec, which always scales its componentSpec */
  const char *target_name, *target_kind, *target_api_version;
};

struct ss__dec;
/* Decode obj (at d->path) and record every error; with_target says whether a
 * scaleTargetRef is expected (hpaSpecs on a predictor) or not (hpaSpec in a
 * componentSpec). obj may get default fields inserted. */
void ss__hpa_decode(struct ss__dec *d, json_t *obj, bool with_target, struct ss_hpa_spec *out);
void ss__keda_decode(struct ss__dec *d, json_t *obj, bool with_target, struct ss_keda_spec *out);

/* Reads a spec.fallback.behavior value; NULL or "" is "static". Returns 0,
 * or -1 for a value KEDA rejects or servescale does not support
 * ("scalingModifiers", which goes with advanced.scalingModifiers), leaving
 * *out alone. */
/* What an autoscaler aims at, as a key: "<ns>/<Kind>/<name>", kind NULL
 * read as Deployment (KEDA's default for a scaleTargetRef). The one rule by
 * which the controllers tell whether two autoscalers share a target. */
void ss_scale_target_key(const char *ns, const char *kind, const char *name, char *buf,
                         size_t size);

int ss_keda_fallback_behavior_parse(const char *s, enum ss_keda_fallback_behavior *out);
/* "static", "currentReplicas", ...; never NULL. */
const char *ss_keda_fallback_behavior_name(enum ss_keda_fallback_behavior b);

const char *ss_metric_source_name(enum ss_metric_source s);
const char *ss_target_type_name(enum ss_target_type t);
const char *ss_trigger_type_name(enum ss_trigger_type t);

#endif
