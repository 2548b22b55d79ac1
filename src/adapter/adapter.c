/* adapter.c: the built-in prometheus-adapter (adapter.h): discovery over
 * the source's series, a rule's query for a request, its answer as the
 * metrics APIs' lists. */
#include "adapter/adapter.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/quantity.h"
#include "promql/http.h"
#include "promql/promql.h"

struct ss_adapter {
  struct ss_adapter_config *cfg;
  struct ss_adapter_source src;
};

struct ss_adapter *ss_adapter_new(struct ss_adapter_config *cfg,
                                  const struct ss_adapter_source *src) {
  struct ss_adapter *a = calloc(1, sizeof *a);
  if (!a) {
    ss_adapter_config_free(cfg);
    return NULL;
  }
  a->cfg = cfg;
  a->src = *src;
  if (src->prometheus_url)
    (void)ss_prom_http_global_init(); /* a failure shows in each query's error */
  return a;
}

void ss_adapter_free(struct ss_adapter *a) {
  if (!a)
    return;
  ss_adapter_config_free(a->cfg);
  free(a);
}

/* ---- the source ---- */

static json_t *labels_json(const struct ss_promql_element *e) {
  json_t *o = json_object();
  for (size_t i = 0; o && i < e->n_labels; i++)
    json_object_set_new(o, e->labels[i].name, json_string(e->labels[i].value));
  return o;
}

/* An instant query: [{"metric": {labels}, "value": number}] (a scalar as
 * one element without labels). */
static enum ss_err query(struct ss_adapter *a, const char *q, int64_t now_ms, json_t **out,
                         struct ss_error *err) {
  *out = NULL;
  if (a->src.prometheus_url) {
    struct ss_prom_http_request req = {.server = a->src.prometheus_url, .query = q,
                                       .timeout_ms = SS_ADAPTER_TIMEOUT_MS};
    json_t *data = NULL;
    enum ss_err rc = ss_prom_http_api(&req, "query", NULL, &data, err);
    if (rc)
      return rc;
    json_t *res = json_object_get(data, "result"), *arr = json_array();
    const char *type = json_string_value(json_object_get(data, "resultType"));
    size_t i;
    json_t *el;
    if (type && strcmp(type, "scalar") == 0)
      json_array_append_new(arr, json_pack("{s:{}, s:O}", "metric", "value", json_array_get(res, 1)));
    else
      json_array_foreach(res, i, el) json_array_append_new(
          arr, json_pack("{s:O, s:O}", "metric", json_object_get(el, "metric"), "value",
                         json_array_get(json_object_get(el, "value"), 1)));
    json_decref(data);
    *out = arr;
    return SS_EOK;
  }
  struct ss_promql *pq = NULL;
  struct ss_promql_result *r = NULL;
  enum ss_err rc = (enum ss_err)ss_promql_parse(q, &pq, err);
  struct ss_promql_source src = ss_promql_metrics_source(a->src.metrics);
  if (!rc)
    rc = (enum ss_err)ss_promql_eval(pq, &src, now_ms, &r, err);
  if (!rc) {
    json_t *arr = json_array();
    if (r->type == SS_PROMQL_SCALAR)
      json_array_append_new(arr, json_pack("{s:{}, s:f}", "metric", "value", r->scalar));
    for (size_t i = 0; r->type == SS_PROMQL_VECTOR && i < r->n; i++)
      json_array_append_new(arr, json_pack("{s:o, s:f}", "metric", labels_json(&r->elems[i]),
                                           "value", r->elems[i].v));
    *out = arr;
  }
  ss_promql_result_free(r);
  ss_promql_free(pq);
  return rc;
}

/* The series a rule's seriesQuery finds: a JSON array of label sets with
 * __name__ (what /api/v1/series answers). */
static json_t *series_of(struct ss_adapter *a, const char *selector, int64_t now_ms) {
  if (a->src.prometheus_url) {
    char extra[64];
    snprintf(extra, sizeof extra, "&start=%lld", (long long)(now_ms / 1000 - SS_ADAPTER_SERIES_AGE_S));
    struct ss_prom_http_request req = {.server = a->src.prometheus_url, .query = selector,
                                       .timeout_ms = SS_ADAPTER_TIMEOUT_MS};
    json_t *data = NULL;
    struct ss_error err = {0};
    ss_prom_http_api(&req, "series", extra, &data, &err);
    return data;
  }
  json_t *res = NULL;
  struct ss_error err = {0};
  if (query(a, selector, now_ms, &res, &err))
    return NULL;
  json_t *arr = json_array();
  size_t i;
  json_t *el;
  json_array_foreach(res, i, el) json_array_append(arr, json_object_get(el, "metric"));
  json_decref(res);
  return arr;
}

/* Every metric the rules give now: key -> {rule, series, group, resource, namespaced}. */
static json_t *discover_all(struct ss_adapter *a, int64_t now_ms) {
  json_t *metrics = json_object();
  for (size_t i = 0; metrics && i < a->cfg->n; i++) {
    json_t *series = series_of(a, a->cfg->rules[i].series_query, now_ms);
    if (series)
      ss_adapter_discover(a->cfg, i, series, metrics);
    json_decref(series);
  }
  return metrics;
}

json_t *ss_adapter_discovery(struct ss_adapter *a, bool external, int64_t now_ms) {
  json_t *metrics = discover_all(a, now_ms), *resources = json_array();
  const char *key;
  json_t *m;
  json_object_foreach(metrics, key, m) {
    bool ext = a->cfg->rules[json_integer_value(json_object_get(m, "rule"))].external;
    if (ext != external)
      continue;
    json_array_append_new(resources,
                          json_pack("{s:s, s:s, s:O, s:s, s:[s]}", "name", key, "singularName", "",
                                    "namespaced", json_object_get(m, "namespaced"), "kind",
                                    external ? "ExternalMetricValueList" : "MetricValueList",
                                    "verbs", "get"));
  }
  json_decref(metrics);
  return json_pack("{s:s, s:s, s:s, s:o}", "kind", "APIResourceList", "apiVersion", "v1",
                   "groupVersion",
                   external ? "external.metrics.k8s.io/v1beta1" : "custom.metrics.k8s.io/v1beta1",
                   "resources", resources);
}

/* ---- answers ---- */

static void now_rfc3339(int64_t now_ms, char *buf, size_t size) {
  time_t t = (time_t)(now_ms / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A value as the metrics APIs print a quantity ("150m", "2"). */
static json_t *quantity(double v) {
  char buf[48];
  if (!isfinite(v))
    v = 0;
  struct ss_quantity q = {.milli = (int64_t)llround(v * 1000.0)};
  ss_quantity_format(q, buf, sizeof buf);
  return json_string(buf);
}

static double value_of(const json_t *v) {
  if (json_is_number(v))
    return json_number_value(v);
  const char *s = json_string_value(v);
  return s ? strtod(s, NULL) : 0;
}

/* Rule r's query for req, run: the elements (query()'s shape). */
static enum ss_err run_rule(struct ss_adapter *a, const struct ss_adapter_rule *r,
                            const struct ss_adapter_request *req, int64_t now_ms, json_t **res,
                            struct ss_error *err) {
  char q[SS_ADAPTER_QUERY_MAX];
  if (ss_adapter_build_query(r, req, q, sizeof q))
    return ss_error_set(err, SS_ELIMIT, 0, 0, "the query of %s is too long", r->where);
  return query(a, q, now_ms, res, err);
}

/* The metric key's rule: SS_ENOTFOUND in the adapter's words otherwise. */
static const json_t *find_metric(const json_t *metrics, const char *key, const char *metric,
                                 const char *what, struct ss_error *err) {
  const json_t *m = json_object_get(metrics, key);
  if (!m)
    ss_error_set(err, SS_ENOTFOUND, 0, 0,
                 "the server could not find the metric %s for %s", metric, what);
  return m;
}

static const char *kind_of(const struct ss_adapter_gr *gr) {
  static const struct { const char *resource, *kind; } kinds[] = {
      {"pods", "Pod"}, {"namespaces", "Namespace"}, {"deployments", "Deployment"},
      {"seldondeployments", "SeldonDeployment"}, {"models", "Model"}, {"servers", "Server"},
      {"services", "Service"}, {"nodes", "Node"}};
  for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
    if (strcmp(kinds[i].resource, gr->resource) == 0)
      return kinds[i].kind;
  return gr->resource;
}

static json_t *metric_value(const struct ss_adapter_gr *gr, const char *ns, const char *name,
                            const char *metric, const char *ts, double v) {
  char av[300];
  snprintf(av, sizeof av, "%s/%s", gr->group, gr->group[0] ? "v1" : "v1");
  if (strcmp(gr->group, "machinelearning.seldon.io") == 0)
    snprintf(av, sizeof av, "machinelearning.seldon.io/v1");
  else if (strcmp(gr->group, "mlops.seldon.io") == 0)
    snprintf(av, sizeof av, "mlops.seldon.io/v1alpha1");
  json_t *obj = json_pack("{s:s, s:s, s:s}", "kind", kind_of(gr), "name", name, "apiVersion", av);
  if (ns && ss_adapter_gr_namespaced(gr))
    json_object_set_new(obj, "namespace", json_string(ns));
  return json_pack("{s:o, s:s, s:s, s:o, s:n}", "describedObject", obj, "metricName", metric,
                   "timestamp", ts, "value", quantity(v), "selector");
}

enum ss_err ss_adapter_custom(struct ss_adapter *a, const struct ss_adapter_gr *gr,
                              const char *ns, const char *const *names, size_t n,
                              const char *metric, const char *metric_selector, int64_t now_ms,
                              json_t **out, struct ss_error *err) {
  *out = NULL;
  char key[3 * SS_ADAPTER_NAME_MAX], what[2 * SS_ADAPTER_NAME_MAX], extra[2048], why[200];
  snprintf(key, sizeof key, "%s%s%s/%s", gr->resource, gr->group[0] ? "." : "", gr->group,
           metric);
  snprintf(what, sizeof what, "%s%s%s", gr->resource, gr->group[0] ? "." : "", gr->group);
  if (!ss_adapter_selector_matchers(metric_selector, extra, sizeof extra, why, sizeof why))
    return ss_error_set(err, SS_EINVALID, 0, 0, "metricLabelSelector: %s", why);
  json_t *metrics = discover_all(a, now_ms);
  const json_t *m = find_metric(metrics, key, metric, what, err);
  enum ss_err rc = m ? SS_EOK : SS_ENOTFOUND;
  const struct ss_adapter_rule *r =
      m ? &a->cfg->rules[json_integer_value(json_object_get(m, "rule"))] : NULL;
  const char *res_label = m ? json_string_value(json_object_get(m, "label")) : "";
  const char *ns_label = m ? json_string_value(json_object_get(m, "ns_label")) : "";
  bool has_ns = ns_label && *ns_label;
  struct ss_adapter_request req = {
      .series = m ? json_string_value(json_object_get(m, "series")) : "",
      .ns = has_ns && ss_adapter_gr_namespaced(gr) ? ns : NULL,
      .ns_label = ns_label,
      .resource_label = res_label,
      .names = names,
      .n_names = n,
      .extra = extra};
  json_t *res = NULL;
  if (!rc)
    rc = run_rule(a, r, &req, now_ms, &res, err);
  if (!rc) {
    char ts[32];
    now_rfc3339(now_ms, ts, sizeof ts);
    json_t *items = json_array();
    size_t i;
    json_t *el;
    json_array_foreach(res, i, el) {
      const char *obj = json_string_value(json_object_get(json_object_get(el, "metric"), res_label));
      if (obj)
        json_array_append_new(items, metric_value(gr, ns, obj, metric, ts,
                                                  value_of(json_object_get(el, "value"))));
    }
    *out = json_pack("{s:s, s:s, s:{}, s:o}", "kind", "MetricValueList", "apiVersion",
                     "custom.metrics.k8s.io/v1beta1", "metadata", "items", items);
  }
  json_decref(res);
  json_decref(metrics);
  return rc;
}

enum ss_err ss_adapter_external(struct ss_adapter *a, const char *ns, const char *metric,
                                const char *selector, int64_t now_ms, json_t **out,
                                struct ss_error *err) {
  *out = NULL;
  char extra[2048], why[200];
  if (!ss_adapter_selector_matchers(selector, extra, sizeof extra, why, sizeof why))
    return ss_error_set(err, SS_EINVALID, 0, 0, "labelSelector: %s", why);
  json_t *metrics = discover_all(a, now_ms);
  const json_t *m = find_metric(metrics, metric, metric, "external metrics", err);
  enum ss_err rc = m ? SS_EOK : SS_ENOTFOUND;
  const struct ss_adapter_rule *r =
      m ? &a->cfg->rules[json_integer_value(json_object_get(m, "rule"))] : NULL;
  if (r && !r->external)
    rc = ss_error_set(err, SS_ENOTFOUND, 0, 0,
                      "the server could not find the metric %s for external metrics", metric);
  const char *ns_label = m ? json_string_value(json_object_get(m, "ns_label")) : "";
  bool has_ns = !rc && ns_label && *ns_label;
  struct ss_adapter_request req = {.series = m ? json_string_value(json_object_get(m, "series")) : "",
                                   .ns = has_ns ? ns : NULL,
                                   .ns_label = ns_label,
                                   .extra = extra};
  json_t *res = NULL;
  if (!rc)
    rc = run_rule(a, r, &req, now_ms, &res, err);
  if (!rc) {
    char ts[32];
    now_rfc3339(now_ms, ts, sizeof ts);
    json_t *items = json_array();
    size_t i;
    json_t *el;
    json_array_foreach(res, i, el) {
      json_t *labels = json_deep_copy(json_object_get(el, "metric"));
      json_object_del(labels, "__name__");
      json_array_append_new(items, json_pack("{s:s, s:o, s:s, s:o}", "metricName", metric,
                                             "metricLabels", labels ? labels : json_object(),
                                             "timestamp", ts, "value",
                                             quantity(value_of(json_object_get(el, "value")))));
    }
    *out = json_pack("{s:s, s:s, s:{}, s:o}", "kind", "ExternalMetricValueList", "apiVersion",
                     "external.metrics.k8s.io/v1beta1", "metadata", "items", items);
  }
  json_decref(res);
  json_decref(metrics);
  return rc;
}

void ss_adapter_selector_string(const json_t *sel, char *buf, size_t size) {
  size_t n = 0;
  buf[0] = '\0';
  const char *k;
  const json_t *v;
  json_object_foreach((json_t *)json_object_get(sel, "matchLabels"), k, v)
    n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%s%s=%s", n ? "," : "", k,
                          json_string_value(v) ? json_string_value(v) : "");
  size_t i;
  json_array_foreach(json_object_get(sel, "matchExpressions"), i, v) {
    const char *key = json_string_value(json_object_get(v, "key"));
    const char *op = json_string_value(json_object_get(v, "operator"));
    if (!key || !op || n >= size)
      continue;
    if (strcmp(op, "Exists") == 0 || strcmp(op, "DoesNotExist") == 0) {
      n += (size_t)snprintf(buf + n, size - n, "%s%s%s", n ? "," : "", op[0] == 'D' ? "!" : "", key);
      continue;
    }
    n += (size_t)snprintf(buf + n, size - n, "%s%s %s (", n ? "," : "", key,
                          strcmp(op, "NotIn") == 0 ? "notin" : "in");
    size_t j;
    const json_t *val;
    json_array_foreach(json_object_get(v, "values"), j, val)
      n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%s%s", j ? "," : "",
                            json_string_value(val) ? json_string_value(val) : "");
    n += (size_t)snprintf(buf + n, n < size ? size - n : 0, ")");
  }
  if (n >= size)
    buf[size - 1] = '\0';
}
