/* autoscaling.c: decoding and validation of HPA specs (autoscaling/v2 and the
 * v2beta1 target fields Seldon's 0.2.x examples use) and KEDA specs. What
 * the numbers mean at run time is src/autoscale/'s business. */
#include "model/autoscaling.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "model/fields.h"
#include "model/replicas.h"
#include "promql/promql.h"

static const char *const metric_names[] = {"Resource", "ContainerResource", "Pods", "Object",
                                           "External"};
static const char *const target_names[] = {"Utilization", "AverageValue", "Value"};
static const char *const trigger_names[] = {"prometheus", "cpu", "memory"};

const char *ss_metric_source_name(enum ss_metric_source s) { return metric_names[s]; }
const char *ss_target_type_name(enum ss_target_type t) { return target_names[t]; }
const char *ss_trigger_type_name(enum ss_trigger_type t) { return trigger_names[t]; }

/* KEDA's enum for fallback.behavior (apis/keda/v1alpha1/scaledobject_types.go,
 * +kubebuilder:validation:Enum), in enum ss_keda_fallback_behavior's order;
 * its "scalingModifiers" is left out, as servescale has no scalingModifiers. */
static const char *const fallback_names[] = {"static", "currentReplicas",
                                             "currentReplicasIfHigher", "currentReplicasIfLower"};
#define N_FALLBACK (sizeof fallback_names / sizeof *fallback_names)

const char *ss_keda_fallback_behavior_name(enum ss_keda_fallback_behavior b) {
  return (size_t)b < N_FALLBACK ? fallback_names[b] : "static";
}

int ss_keda_fallback_behavior_parse(const char *s, enum ss_keda_fallback_behavior *out) {
  if (!out)
    return -1;
  if (!s || !*s) { /* +kubebuilder:default=static */
    *out = SS_KEDA_FALLBACK_STATIC;
    return 0;
  }
  for (size_t i = 0; i < N_FALLBACK; i++)
    if (strcmp(s, fallback_names[i]) == 0) {
      *out = (enum ss_keda_fallback_behavior)i;
      return 0;
    }
  return -1;
}

/* Sets obj[key] = value when the key is absent, so output shows the default. */
static void default_int(json_t *obj, const char *key, json_int_t value) {
  json_t *v = json_object_get(obj, key);
  if (!v || json_is_null(v))
    json_object_set_new(obj, key, json_integer(value));
}

static void positive_qty(struct ss__dec *d, const char *key, struct ss_quantity q) {
  if (q.milli <= 0)
    ss__err(d, key, "must be greater than 0");
}

/* ---- HPA metrics ---- */

/* The v2 MetricTarget object at obj[key]. allowed: bit per target type. */
static bool decode_target(struct ss__dec *d, json_t *obj, unsigned allowed,
                          struct ss_metric_target *t) {
  json_t *target = ss__obj(d, obj, "target", true);
  if (!target)
    return false;
  size_t saved = ss_path_key(&d->path, "target");
  bool ok = false;
  const char *type = NULL;
  ss__known_fields(d, target,
                   (const char *const[]){"type", "averageUtilization", "averageValue", "value",
                                         NULL});
  if (ss__str(d, target, "type", true, &type)) {
    int i;
    for (i = 0; i < 3; i++)
      if (strcmp(type, target_names[i]) == 0)
        break;
    if (i == 3) {
      ss__err(d, "type", "unknown target type \"%s\" (use Utilization, AverageValue or Value)",
              type);
    } else if (!(allowed & (1u << i))) {
      ss__err(d, "type", "target type %s is not allowed for this metric type", type);
    } else {
      t->type = (enum ss_target_type)i;
      if (t->type == SS_TARGET_UTILIZATION) {
        if (ss__int32(d, target, "averageUtilization", true, &t->utilization)) {
          if (t->utilization <= 0)
            ss__err(d, "averageUtilization", "must be greater than 0");
          else
            ok = true;
        }
      } else {
        const char *key = t->type == SS_TARGET_VALUE ? "value" : "averageValue";
        if (ss__qty(d, target, key, true, &t->value)) {
          positive_qty(d, key, t->value);
          ok = t->value.milli > 0;
        }
      }
    }
  }
  ss_path_pop(&d->path, saved);
  return ok;
}

/* Reads a v2beta1 target field (targetAverageUtilization, targetAverageValue,
 * targetValue) into the v2 form. Returns true when one was present. */
static bool v2beta1_target(struct ss__dec *d, json_t *src, unsigned allowed,
                           struct ss_metric_target *t) {
  static const char *const keys[] = {"targetAverageUtilization", "targetAverageValue",
                                     "targetValue"};
  static const enum ss_target_type types[] = {SS_TARGET_UTILIZATION, SS_TARGET_AVERAGE_VALUE,
                                              SS_TARGET_VALUE};
  for (int i = 0; i < 3; i++) {
    if (!json_object_get(src, keys[i]))
      continue;
    if (!(allowed & (1u << types[i]))) {
      ss__err(d, keys[i], "is not allowed for this metric type");
      return true;
    }
    t->type = types[i];
    if (types[i] == SS_TARGET_UTILIZATION) {
      if (ss__int32(d, src, keys[i], true, &t->utilization) && t->utilization <= 0)
        ss__err(d, keys[i], "must be greater than 0");
    } else if (ss__qty(d, src, keys[i], true, &t->value)) {
      positive_qty(d, keys[i], t->value);
    }
    return true;
  }
  return false;
}

#define ALLOW(t) (1u << (t))

static void decode_metric(struct ss__dec *d, json_t *m, struct ss_metric_spec *out) {
  const char *type = NULL;
  if (!json_is_object(m)) {
    ss__err(d, NULL, "must be an object");
    return;
  }
  ss__known_fields(d, m,
                   (const char *const[]){"type", "resource", "containerResource", "pods",
                                         "object", "external", NULL});
  if (!ss__str(d, m, "type", true, &type))
    return;
  int src;
  for (src = 0; src < 5; src++)
    if (strcmp(type, metric_names[src]) == 0)
      break;
  if (src == 5) {
    ss__err(d, "type",
            "unknown metric type \"%s\" (use Resource, ContainerResource, Pods, Object or "
            "External)",
            type);
    return;
  }
  out->source = (enum ss_metric_source)src;
  static const char *const member[] = {"resource", "containerResource", "pods", "object",
                                       "external"};
  json_t *body = ss__obj(d, m, member[src], true);
  if (!body)
    return;
  size_t saved = ss_path_key(&d->path, member[src]);
  switch (out->source) {
  case SS_METRIC_RESOURCE:
  case SS_METRIC_CONTAINER_RESOURCE: {
    unsigned allowed = ALLOW(SS_TARGET_UTILIZATION) | ALLOW(SS_TARGET_AVERAGE_VALUE);
    ss__known_fields(d, body,
                     (const char *const[]){"name", "container", "target",
                                           "targetAverageUtilization", "targetAverageValue",
                                           NULL});
    if (ss__str(d, body, "name", true, &out->name) && strcmp(out->name, "cpu") != 0 &&
        strcmp(out->name, "memory") != 0)
      ss__err(d, "name", "unsupported resource \"%s\" (use cpu or memory)", out->name);
    if (out->source == SS_METRIC_CONTAINER_RESOURCE)
      ss__str(d, body, "container", true, &out->container);
    if (!v2beta1_target(d, body, allowed, &out->target))
      decode_target(d, body, allowed, &out->target);
    break;
  }
  case SS_METRIC_PODS: {
    unsigned allowed = ALLOW(SS_TARGET_AVERAGE_VALUE);
    ss__known_fields(d, body,
                     (const char *const[]){"metric", "target", "metricName",
                                           "targetAverageValue", "selector", NULL});
    if (json_object_get(body, "metricName")) { /* v2beta1 */
      ss__str(d, body, "metricName", true, &out->name);
      out->selector = ss__obj(d, body, "selector", false);
      if (!v2beta1_target(d, body, allowed, &out->target))
        ss__err(d, "targetAverageValue", "required value");
    } else {
      json_t *metric = ss__obj(d, body, "metric", true);
      if (metric) {
        size_t s2 = ss_path_key(&d->path, "metric");
        ss__str(d, metric, "name", true, &out->name);
        out->selector = ss__obj(d, metric, "selector", false);
        ss_path_pop(&d->path, s2);
      }
      decode_target(d, body, allowed, &out->target);
    }
    break;
  }
  case SS_METRIC_OBJECT: {
    unsigned allowed = ALLOW(SS_TARGET_VALUE) | ALLOW(SS_TARGET_AVERAGE_VALUE);
    ss__known_fields(d, body,
                     (const char *const[]){"metric", "target", "describedObject", "metricName",
                                           "targetValue", "averageValue", "selector", NULL});
    json_t *ref;
    if ((ref = ss__obj(d, body, "describedObject", false))) { /* v2 */
      size_t s2 = ss_path_key(&d->path, "describedObject");
      ss__str(d, ref, "kind", true, &out->object_kind);
      ss__str(d, ref, "name", true, &out->object_name);
      ss__str(d, ref, "apiVersion", false, &out->object_api_version);
      ss_path_pop(&d->path, s2);
      json_t *metric = ss__obj(d, body, "metric", true);
      if (metric) {
        size_t s3 = ss_path_key(&d->path, "metric");
        ss__str(d, metric, "name", true, &out->name);
        out->selector = ss__obj(d, metric, "selector", false);
        ss_path_pop(&d->path, s3);
      }
      decode_target(d, body, allowed, &out->target);
    } else { /* v2beta1: target is the object reference */
      ref = ss__obj(d, body, "target", true);
      if (ref) {
        size_t s2 = ss_path_key(&d->path, "target");
        ss__str(d, ref, "kind", true, &out->object_kind);
        ss__str(d, ref, "name", true, &out->object_name);
        ss__str(d, ref, "apiVersion", false, &out->object_api_version);
        ss_path_pop(&d->path, s2);
      }
      ss__str(d, body, "metricName", true, &out->name);
      out->selector = ss__obj(d, body, "selector", false);
      if (json_object_get(body, "averageValue")) {
        out->target.type = SS_TARGET_AVERAGE_VALUE;
        if (ss__qty(d, body, "averageValue", true, &out->target.value))
          positive_qty(d, "averageValue", out->target.value);
      } else if (!v2beta1_target(d, body, ALLOW(SS_TARGET_VALUE), &out->target)) {
        ss__err(d, "targetValue", "required value");
      }
    }
    break;
  }
  case SS_METRIC_EXTERNAL: {
    unsigned allowed = ALLOW(SS_TARGET_VALUE) | ALLOW(SS_TARGET_AVERAGE_VALUE);
    ss__known_fields(d, body,
                     (const char *const[]){"metric", "target", "metricName", "metricSelector",
                                           "targetValue", "targetAverageValue", NULL});
    if (json_object_get(body, "metricName")) { /* v2beta1 */
      ss__str(d, body, "metricName", true, &out->name);
      out->selector = ss__obj(d, body, "metricSelector", false);
      if (!v2beta1_target(d, body, allowed, &out->target))
        ss__err(d, "targetValue", "required value (or targetAverageValue)");
    } else {
      json_t *metric = ss__obj(d, body, "metric", true);
      if (metric) {
        size_t s2 = ss_path_key(&d->path, "metric");
        ss__str(d, metric, "name", true, &out->name);
        out->selector = ss__obj(d, metric, "selector", false);
        ss_path_pop(&d->path, s2);
      }
      decode_target(d, body, allowed, &out->target);
    }
    break;
  }
  }
  ss_path_pop(&d->path, saved);
}

/* ---- behavior ---- */

/* HPAScalingRules' defaults (GenerateHPAScaleUpRules, ...ScaleDownRules):
 * scale-up gets a 0 s window, scale-down none (the controller's flag). */
static void default_rules(struct ss__dec *d, struct ss_scaling_rules *r, bool up) {
  r->stabilization_seconds = up ? SS_HPA_DEFAULT_UP_STABILIZATION : SS_HPA_STABILIZATION_UNSET;
  r->select = SS_SELECT_MAX;
  r->tolerance = -1;
  r->n_policies = up ? 2 : 1;
  r->policies = ss_arena_calloc(d->arena, r->n_policies, sizeof *r->policies);
  if (!r->policies) {
    r->n_policies = 0;
    return;
  }
  if (up) {
    r->policies[0] = (struct ss_scaling_policy){SS_POLICY_PODS, SS_HPA_DEFAULT_UP_PODS,
                                                SS_HPA_DEFAULT_POLICY_PERIOD};
    r->policies[1] = (struct ss_scaling_policy){SS_POLICY_PERCENT, SS_HPA_DEFAULT_UP_PERCENT,
                                                SS_HPA_DEFAULT_POLICY_PERIOD};
  } else {
    r->policies[0] = (struct ss_scaling_policy){SS_POLICY_PERCENT, SS_HPA_DEFAULT_DOWN_PERCENT,
                                                SS_HPA_DEFAULT_POLICY_PERIOD};
  }
}

static void decode_rules(struct ss__dec *d, json_t *obj, const char *key, bool up,
                         struct ss_scaling_rules *r) {
  default_rules(d, r, up);
  json_t *rules = ss__obj(d, obj, key, false);
  if (!rules)
    return;
  size_t saved = ss_path_key(&d->path, key);
  ss__known_fields(d, rules,
                   (const char *const[]){"stabilizationWindowSeconds", "selectPolicy",
                                         "policies", "tolerance", NULL});
  if (ss__int32(d, rules, "stabilizationWindowSeconds", false, &r->stabilization_seconds) &&
      (r->stabilization_seconds < 0 || r->stabilization_seconds > SS_HPA_MAX_STABILIZATION))
    ss__err(d, "stabilizationWindowSeconds", "must be between 0 and 3600");
  const char *sel;
  if (ss__str(d, rules, "selectPolicy", false, &sel)) {
    if (strcmp(sel, "Max") == 0)
      r->select = SS_SELECT_MAX;
    else if (strcmp(sel, "Min") == 0)
      r->select = SS_SELECT_MIN;
    else if (strcmp(sel, "Disabled") == 0)
      r->select = SS_SELECT_DISABLED;
    else
      ss__err(d, "selectPolicy", "must be Max, Min or Disabled, not \"%s\"", sel);
  }
  struct ss_quantity tol;
  if (ss__qty(d, rules, "tolerance", false, &tol)) {
    if (tol.milli < 0)
      ss__err(d, "tolerance", "must not be negative");
    else
      r->tolerance = (double)tol.milli / 1000.0;
  }
  json_t *pols = ss__arr(d, rules, "policies", false);
  if (pols) {
    size_t n = json_array_size(pols);
    size_t s2 = ss_path_key(&d->path, "policies");
    if (n == 0 && r->select != SS_SELECT_DISABLED)
      ss__err(d, NULL, "must have at least one policy");
    r->n_policies = n;
    r->policies = ss_arena_calloc(d->arena, n ? n : 1, sizeof *r->policies);
    for (size_t i = 0; r->policies && i < n; i++) {
      json_t *p = json_array_get(pols, i);
      struct ss_scaling_policy *sp = &r->policies[i];
      size_t s3 = ss_path_index(&d->path, i);
      const char *type;
      if (!json_is_object(p)) {
        ss__err(d, NULL, "must be an object");
      } else {
        ss__known_fields(d, p, (const char *const[]){"type", "value", "periodSeconds", NULL});
        if (ss__str(d, p, "type", true, &type)) {
          if (strcmp(type, "Pods") == 0)
            sp->type = SS_POLICY_PODS;
          else if (strcmp(type, "Percent") == 0)
            sp->type = SS_POLICY_PERCENT;
          else
            ss__err(d, "type", "must be Pods or Percent, not \"%s\"", type);
        }
        if (ss__int32(d, p, "value", true, &sp->value) && sp->value <= 0)
          ss__err(d, "value", "must be greater than 0");
        if (ss__int32(d, p, "periodSeconds", true, &sp->period_seconds) &&
            (sp->period_seconds <= 0 || sp->period_seconds > SS_HPA_MAX_POLICY_PERIOD))
          ss__err(d, "periodSeconds", "must be between 1 and 1800");
      }
      ss_path_pop(&d->path, s3);
    }
    ss_path_pop(&d->path, s2);
  }
  ss_path_pop(&d->path, saved);
}

/* obj.behavior into up and down (defaults where it says nothing); returns
 * whether it was written (null reads as absent, as in Kubernetes). */
static bool decode_behavior(struct ss__dec *d, json_t *obj, struct ss_scaling_rules *up,
                            struct ss_scaling_rules *down) {
  json_t *b = ss__obj(d, obj, "behavior", false);
  if (!b) {
    default_rules(d, up, true);
    default_rules(d, down, false);
    return false;
  }
  size_t saved = ss_path_key(&d->path, "behavior");
  ss__known_fields(d, b, (const char *const[]){"scaleUp", "scaleDown", NULL});
  decode_rules(d, b, "scaleUp", true, up);
  decode_rules(d, b, "scaleDown", false, down);
  ss_path_pop(&d->path, saved);
  return true;
}

void ss__hpa_decode(struct ss__dec *d, json_t *obj, bool with_target, struct ss_hpa_spec *out) {
  memset(out, 0, sizeof *out);
  out->component = -1;
  out->min_replicas = SS_HPA_DEFAULT_MIN_REPLICAS;
  ss__known_fields(d, obj,
                   (const char *const[]){"minReplicas", "maxReplicas", "metrics", "metricsv2",
                                         "behavior", "scaleTargetRef", NULL});
  bool have_min = ss__int32(d, obj, "minReplicas", false, &out->min_replicas);
  if (have_min && out->min_replicas < 1)
    ss__err(d, "minReplicas", "must be greater than or equal to 1");
  default_int(obj, "minReplicas", SS_HPA_DEFAULT_MIN_REPLICAS);
  if (ss__int32(d, obj, "maxReplicas", true, &out->max_replicas)) {
    if (out->max_replicas < 1)
      ss__err(d, "maxReplicas", "must be greater than or equal to 1");
    else if (!ss__replicas_within_limit(d, "maxReplicas", out->max_replicas))
      out->max_replicas = SS_MAX_REPLICAS;
    else if (out->max_replicas < out->min_replicas)
      ss__err(d, "maxReplicas", "must be greater than or equal to minReplicas (%d)",
              out->min_replicas);
  }
  if (with_target) {
    json_t *ref = ss__obj(d, obj, "scaleTargetRef", true);
    if (ref) {
      size_t s = ss_path_key(&d->path, "scaleTargetRef");
      ss__known_fields(d, ref, (const char *const[]){"apiVersion", "kind", "name", NULL});
      ss__str(d, ref, "name", true, &out->target_name);
      ss__str(d, ref, "kind", false, &out->target_kind);
      ss__str(d, ref, "apiVersion", false, &out->target_api_version);
      ss_path_pop(&d->path, s);
    }
  } else if (json_object_get(obj, "scaleTargetRef")) {
    ss__warn(d, "scaleTargetRef",
             "ignored: an hpaSpec inside a componentSpec always scales that componentSpec");
  }
  /* Seldon 1.15+ hpaSpec: metricsv2 holds autoscaling/v2 MetricSpecs and,
   * when it has any, Seldon's operator uses them instead of metrics */
  const char *mkey = json_array_size(json_object_get(obj, "metricsv2")) ? "metricsv2" : "metrics";
  if (mkey[7] && json_array_size(json_object_get(obj, "metrics")))
    ss__warn(d, "metrics", "ignored: metricsv2 is given, and Seldon uses it instead");
  json_t *metrics = ss__arr(d, obj, mkey, false);
  size_t n = metrics ? json_array_size(metrics) : 0;
  if (n == 0 && !(json_object_get(obj, "metrics") && !metrics)) {
    /* No metrics: the HPA controller scales on 80% average CPU utilization. */
    out->default_metrics = true;
    out->n_metrics = 1;
    out->metrics = ss_arena_calloc(d->arena, 1, sizeof *out->metrics);
    if (out->metrics) {
      out->metrics[0].source = SS_METRIC_RESOURCE;
      out->metrics[0].name = "cpu";
      out->metrics[0].target.type = SS_TARGET_UTILIZATION;
      out->metrics[0].target.utilization = SS_HPA_DEFAULT_CPU_UTILIZATION;
    }
    json_t *m = json_pack("[{s:s, s:{s:s, s:{s:s, s:i}}}]", "type", "Resource", "resource",
                          "name", "cpu", "target", "type", "Utilization", "averageUtilization",
                          SS_HPA_DEFAULT_CPU_UTILIZATION);
    if (m)
      json_object_set_new(obj, "metrics", m);
  } else if (n) {
    out->n_metrics = n;
    out->metrics = ss_arena_calloc(d->arena, n, sizeof *out->metrics);
    size_t s = ss_path_key(&d->path, mkey);
    for (size_t i = 0; out->metrics && i < n; i++) {
      size_t s2 = ss_path_index(&d->path, i);
      decode_metric(d, json_array_get(metrics, i), &out->metrics[i]);
      ss_path_pop(&d->path, s2);
    }
    ss_path_pop(&d->path, s);
  }
  out->has_behavior = decode_behavior(d, obj, &out->up, &out->down);
}

/* ---- KEDA ---- */

/* metadata[key] must be a string (KEDA's metadata is map[string]string). */
static const char *meta_str(struct ss__dec *d, const json_t *meta, const char *key,
                            bool required) {
  const char *s = NULL;
  const json_t *v = json_object_get(meta, key);
  if (v && !json_is_string(v)) {
    ss__err(d, key, "must be a string (KEDA trigger metadata holds strings: quote it)");
    return NULL;
  }
  if (!ss__str(d, meta, key, required, &s))
    return NULL;
  return s;
}

static bool meta_num(struct ss__dec *d, const json_t *meta, const char *key, bool required,
                     double *out) {
  const char *s = meta_str(d, meta, key, required);
  if (!s)
    return false;
  if (!ss__parse_double(s, out)) {
    ss__err(d, key, "must be a number, not \"%.100s\"", s);
    return false;
  }
  return true;
}

static void decode_prometheus(struct ss__dec *d, const json_t *meta, struct ss_trigger *t) {
  ss__known_fields(d, meta,
                   (const char *const[]){"serverAddress", "query", "threshold",
                                         "activationThreshold", "metricName", "namespace",
                                         "ignoreNullValues", "customHeaders", "timeout",
                                         "authModes", "unsafeSsl", "queryParameters", NULL});
  t->ignore_null_values = true; /* KEDA's default */
  t->timeout_ms = SS_KEDA_DEFAULT_PROM_TIMEOUT_MS;
  t->server_address = meta_str(d, meta, "serverAddress", false);
  if (t->server_address && strncmp(t->server_address, "http://", 7) != 0 &&
      strncmp(t->server_address, "https://", 8) != 0)
    ss__err(d, "serverAddress", "must be an http:// or https:// URL, not \"%.100s\"",
            t->server_address);
  t->query = meta_str(d, meta, "query", true);
  if (t->query && !*t->query)
    ss__err(d, "query", "must not be empty");
  else if (t->query && !t->server_address) {
    /* no serverAddress: the embedded metrics source answers, so the query
     * must be inside its PromQL subset (a Prometheus server takes any) */
    struct ss_promql *pq = NULL;
    struct ss_error perr = {0};
    if (ss_promql_parse(t->query, &pq, &perr))
      ss__err(d, "query", "%s (the embedded metrics source, used when serverAddress is unset)",
              perr.msg);
    ss_promql_free(pq);
  }
  t->metric_name = meta_str(d, meta, "metricName", false);
  if (meta_num(d, meta, "threshold", true, &t->threshold) && t->threshold <= 0)
    ss__err(d, "threshold", "must be greater than 0");
  meta_num(d, meta, "activationThreshold", false, &t->activation_threshold);
  const char *s = meta_str(d, meta, "ignoreNullValues", false);
  if (s) {
    if (strcmp(s, "true") == 0)
      t->ignore_null_values = true;
    else if (strcmp(s, "false") == 0)
      t->ignore_null_values = false;
    else
      ss__err(d, "ignoreNullValues", "must be \"true\" or \"false\", not \"%.100s\"", s);
  }
  double timeout;
  if (meta_num(d, meta, "timeout", false, &timeout)) {
    if (timeout <= 0 || timeout > 600000 || timeout != floor(timeout))
      ss__err(d, "timeout", "must be a whole number of milliseconds between 1 and 600000");
    else
      t->timeout_ms = (int32_t)timeout;
  }
  t->custom_headers = meta_str(d, meta, "customHeaders", false);
  if (t->custom_headers && *t->custom_headers) {
    /* "Name=value,Name2=value2" */
    const char *p = t->custom_headers;
    while (*p) {
      const char *comma = strchr(p, ',');
      const char *end = comma ? comma : p + strlen(p);
      const char *eq = memchr(p, '=', (size_t)(end - p));
      if (!eq || eq == p) {
        ss__err(d, "customHeaders", "must be a list of Name=value separated by commas");
        break;
      }
      p = comma ? comma + 1 : end;
    }
  }
  t->auth_modes = meta_str(d, meta, "authModes", false);
  if (t->auth_modes && strcmp(t->auth_modes, "basic") != 0 &&
      strcmp(t->auth_modes, "bearer") != 0)
    ss__err(d, "authModes", "unsupported \"%.100s\" (use basic or bearer)", t->auth_modes);
}

static void decode_resource_trigger(struct ss__dec *d, json_t *trig, const json_t *meta,
                                    struct ss_trigger *t) {
  const char *mt = NULL;
  ss__known_fields(d, meta, (const char *const[]){"type", "value", "containerName", NULL});
  if (!ss__str(d, trig, "metricType", false, &mt)) { /* the older metadata.type */
    size_t s = ss_path_key(&d->path, "metadata");
    mt = meta_str(d, meta, "type", false);
    ss_path_pop(&d->path, s);
  }
  t->metric_type = SS_TARGET_UTILIZATION;
  if (!mt) {
    ss__err(d, "metricType", "required value (Utilization or AverageValue)");
  } else if (strcmp(mt, "Utilization") == 0) {
    t->metric_type = SS_TARGET_UTILIZATION;
  } else if (strcmp(mt, "AverageValue") == 0) {
    t->metric_type = SS_TARGET_AVERAGE_VALUE;
  } else {
    ss__err(d, "metricType", "must be Utilization or AverageValue, not \"%.100s\"", mt);
  }
  size_t s = ss_path_key(&d->path, "metadata");
  const char *v = meta_str(d, meta, "value", true);
  const char *why;
  if (v) {
    if (!ss_quantity_parse(v, &t->value, &why))
      ss__err(d, "value", "quantity '%.100s' %s", v, why);
    else if (t->value.milli <= 0)
      ss__err(d, "value", "must be greater than 0");
  }
  t->container_name = meta_str(d, meta, "containerName", false);
  ss_path_pop(&d->path, s);
}

static void decode_trigger(struct ss__dec *d, json_t *trig, struct ss_trigger *t) {
  const char *type = NULL;
  if (!json_is_object(trig)) {
    ss__err(d, NULL, "must be an object");
    return;
  }
  ss__known_fields(d, trig,
                   (const char *const[]){"type", "name", "metadata", "metricType",
                                         "authenticationRef", "useCachedMetrics", NULL});
  ss__str(d, trig, "name", false, &t->name);
  if (!ss__str(d, trig, "type", true, &type))
    return;
  int i;
  for (i = 0; i < 3; i++)
    if (strcmp(type, trigger_names[i]) == 0)
      break;
  if (i == 3) {
    ss__err(d, "type", "unsupported trigger type \"%.100s\" (supported: prometheus, cpu, memory)",
            type);
    return;
  }
  t->type = (enum ss_trigger_type)i;
  json_t *meta = ss__obj(d, trig, "metadata", true);
  if (!meta)
    return;
  t->metadata = meta;
  if (t->type == SS_TRIGGER_PROMETHEUS) {
    size_t s = ss_path_key(&d->path, "metadata");
    decode_prometheus(d, meta, t);
    ss_path_pop(&d->path, s);
  } else {
    decode_resource_trigger(d, trig, meta, t);
  }
}

/* fallback.behavior (at d->path = ...fallback): KEDA's CRD enum, default
 * static, written into the document as the API server writes it. A value
 * outside the enum is an error, as the API server rejects it. */
static void decode_fallback_behavior(struct ss__dec *d, json_t *fb,
                                     enum ss_keda_fallback_behavior *out) {
  const char *s = NULL;
  json_t *v = json_object_get(fb, "behavior");
  if (!v || json_is_null(v)) {
    json_object_set_new(fb, "behavior", json_string(fallback_names[SS_KEDA_FALLBACK_STATIC]));
    *out = SS_KEDA_FALLBACK_STATIC;
    return;
  }
  if (!ss__str(d, fb, "behavior", false, &s) || !ss_keda_fallback_behavior_parse(s, out))
    return;
  if (strcmp(s, "scalingModifiers") == 0)
    ss__err(d, "behavior",
            "\"scalingModifiers\" is not supported (it goes with advanced.scalingModifiers, "
            "which servescale does not support; use static, currentReplicas, "
            "currentReplicasIfHigher or currentReplicasIfLower)");
  else
    ss__err(d, "behavior",
            "must be static, currentReplicas, currentReplicasIfHigher or "
            "currentReplicasIfLower, not \"%.100s\"",
            s);
}

/* advanced.scalingModifiers (a formula over the triggers' metrics) is not
 * supported: each trigger is its own HPA metric here. KEDA reads an empty
 * one as absent (IsUsingModifiers), and so does this. */
static void reject_scaling_modifiers(struct ss__dec *d, const json_t *adv) {
  const json_t *v = json_object_get(adv, "scalingModifiers");
  if (!v || json_is_null(v) || (json_is_object(v) && json_object_size(v) == 0))
    return;
  ss__err(d, "scalingModifiers",
          "not supported: servescale scales on each trigger's own metric (remove "
          "advanced.scalingModifiers, or combine the metrics in one prometheus query)");
}

/* A ScaledObject's scaleTargetRef: name required, KEDA's defaults for the
 * rest (an apps/v1 Deployment). */
static void keda_target(struct ss__dec *d, json_t *obj, struct ss_keda_spec *out) {
  json_t *ref = ss__obj(d, obj, "scaleTargetRef", true);
  if (!ref)
    return;
  size_t s = ss_path_key(&d->path, "scaleTargetRef");
  ss__known_fields(d, ref, (const char *const[]){"apiVersion", "kind", "name",
                                                 "envSourceContainerName", NULL});
  ss__str(d, ref, "name", true, &out->target_name);
  out->target_kind = "Deployment";
  out->target_api_version = "apps/v1";
  ss__str(d, ref, "kind", false, &out->target_kind);
  ss__str(d, ref, "apiVersion", false, &out->target_api_version);
  ss_path_pop(&d->path, s);
}

void ss__keda_decode(struct ss__dec *d, json_t *obj, bool with_target, struct ss_keda_spec *out) {
  memset(out, 0, sizeof *out);
  out->polling_interval = SS_KEDA_DEFAULT_POLLING_INTERVAL;
  out->cooldown_period = SS_KEDA_DEFAULT_COOLDOWN_PERIOD;
  out->min_replicas = SS_KEDA_DEFAULT_MIN_REPLICAS;
  out->max_replicas = SS_KEDA_DEFAULT_MAX_REPLICAS;
  out->idle_replicas = -1;
  ss__known_fields(d, obj,
                   (const char *const[]){"pollingInterval", "cooldownPeriod",
                                         "initialCooldownPeriod", "minReplicaCount",
                                         "maxReplicaCount", "idleReplicaCount", "fallback",
                                         "advanced", "triggers",
                                         with_target ? "scaleTargetRef" : NULL, NULL});
  if (with_target)
    keda_target(d, obj, out);
  if (ss__int32(d, obj, "pollingInterval", false, &out->polling_interval) &&
      out->polling_interval < 1)
    ss__err(d, "pollingInterval", "must be at least 1 second");
  if (ss__int32(d, obj, "cooldownPeriod", false, &out->cooldown_period) &&
      out->cooldown_period < 0)
    ss__err(d, "cooldownPeriod", "must not be negative");
  if (ss__int32(d, obj, "initialCooldownPeriod", false, &out->initial_cooldown_period) &&
      out->initial_cooldown_period < 0)
    ss__err(d, "initialCooldownPeriod", "must not be negative");
  bool min_ok = true;
  if (ss__int32(d, obj, "minReplicaCount", false, &out->min_replicas) && out->min_replicas < 0) {
    ss__err(d, "minReplicaCount", "must not be negative");
    min_ok = false;
  }
  if (ss__int32(d, obj, "maxReplicaCount", false, &out->max_replicas)) {
    if (out->max_replicas < 1)
      ss__err(d, "maxReplicaCount", "must be at least 1");
    else if (!ss__replicas_within_limit(d, "maxReplicaCount", out->max_replicas))
      out->max_replicas = SS_MAX_REPLICAS;
    else if (min_ok && out->max_replicas < out->min_replicas)
      ss__err(d, "maxReplicaCount",
              "must be greater than or equal to minReplicaCount (%d)", out->min_replicas);
  } else if (min_ok && out->min_replicas > out->max_replicas) {
    ss__err(d, "minReplicaCount", "must be at most maxReplicaCount (%d)", out->max_replicas);
  }
  if (ss__int32(d, obj, "idleReplicaCount", false, &out->idle_replicas)) {
    if (out->idle_replicas < 0)
      ss__err(d, "idleReplicaCount", "must not be negative");
    else if (out->idle_replicas >= out->min_replicas)
      ss__err(d, "idleReplicaCount", "must be less than minReplicaCount (%d)",
              out->min_replicas);
  }
  default_int(obj, "pollingInterval", SS_KEDA_DEFAULT_POLLING_INTERVAL);
  default_int(obj, "cooldownPeriod", SS_KEDA_DEFAULT_COOLDOWN_PERIOD);
  default_int(obj, "minReplicaCount", SS_KEDA_DEFAULT_MIN_REPLICAS);
  default_int(obj, "maxReplicaCount", SS_KEDA_DEFAULT_MAX_REPLICAS);

  json_t *fb = ss__obj(d, obj, "fallback", false);
  if (fb) {
    size_t s = ss_path_key(&d->path, "fallback");
    ss__known_fields(d, fb, (const char *const[]){"failureThreshold", "replicas", "behavior",
                                                  NULL});
    out->has_fallback = true;
    if (ss__int32(d, fb, "failureThreshold", true, &out->fallback_failure_threshold) &&
        out->fallback_failure_threshold < 0)
      ss__err(d, "failureThreshold", "must not be negative");
    if (ss__int32(d, fb, "replicas", true, &out->fallback_replicas)) {
      if (out->fallback_replicas < 0)
        ss__err(d, "replicas", "must not be negative");
      else
        ss__replicas_within_limit(d, "replicas", out->fallback_replicas);
    }
    decode_fallback_behavior(d, fb, &out->fallback_behavior);
    ss_path_pop(&d->path, s);
  }

  json_t *adv = ss__obj(d, obj, "advanced", false);
  json_t *hpacfg = NULL;
  if (adv) {
    size_t s = ss_path_key(&d->path, "advanced");
    ss__known_fields(d, adv,
                     (const char *const[]){"horizontalPodAutoscalerConfig",
                                           "restoreToOriginalReplicaCount", "scalingModifiers",
                                           NULL});
    reject_scaling_modifiers(d, adv);
    hpacfg = ss__obj(d, adv, "horizontalPodAutoscalerConfig", false);
    if (hpacfg) {
      size_t s2 = ss_path_key(&d->path, "horizontalPodAutoscalerConfig");
      ss__known_fields(d, hpacfg, (const char *const[]){"behavior", "name", NULL});
      out->has_behavior = decode_behavior(d, hpacfg, &out->up, &out->down);
      ss_path_pop(&d->path, s2);
    }
    ss_path_pop(&d->path, s);
  }
  if (!hpacfg) {
    default_rules(d, &out->up, true);
    default_rules(d, &out->down, false);
  }

  json_t *trigs = ss__arr(d, obj, "triggers", true);
  size_t n = trigs ? json_array_size(trigs) : 0;
  if (trigs && n == 0)
    ss__err(d, "triggers", "must have at least one trigger");
  if (n) {
    out->n_triggers = n;
    out->triggers = ss_arena_calloc(d->arena, n, sizeof *out->triggers);
    size_t s = ss_path_key(&d->path, "triggers");
    bool all_resource = true;
    for (size_t i = 0; out->triggers && i < n; i++) {
      size_t s2 = ss_path_index(&d->path, i);
      decode_trigger(d, json_array_get(trigs, i), &out->triggers[i]);
      if (out->triggers[i].type == SS_TRIGGER_PROMETHEUS)
        all_resource = false;
      ss_path_pop(&d->path, s2);
    }
    ss_path_pop(&d->path, s);
    if (out->has_fallback && all_resource)
      ss__warn(d, "fallback", "has no effect: fallback does not apply to cpu and memory triggers");
    if (all_resource && out->min_replicas == 0)
      ss__err(d, "minReplicaCount",
              "must be at least 1 when every trigger is cpu or memory (they cannot wake a "
              "target from zero)");
  }
}

void ss_scale_target_key(const char *ns, const char *kind, const char *name, char *buf,
                         size_t size) {
  snprintf(buf, size, "%s/%s/%s", ns ? ns : "", kind ? kind : "Deployment", name ? name : "");
}
