/* record.c: the autoscalers' metric and target as gauges, from their
 * stored status, so that the metrics window keeps their history as it keeps
 * every series'. Pure reading of the store: the HPA and KEDA controllers
 * (src/autoscale) write the status; this only copies numbers. */
#include <stdlib.h>
#include <string.h>

#include "model/quantity.h"
#include "timeline/timeline.h"

struct ss_timeline_recorder {
  struct ss_metrics *m;
  struct ss_series *live[2 * SS_TIMELINE_MAX_RECORDED];
  size_t n_live;
};

static const char *const labels[] = {"namespace", "autoscaler", "target", "metric"};

struct ss_timeline_recorder *ss_timeline_recorder_new(struct ss_metrics *m) {
  struct ss_timeline_recorder *r = calloc(1, sizeof *r);
  if (!r)
    return NULL;
  r->m = m;
  ss_metrics_family(m, SS_TIMELINE_VALUE_GAUGE, SS_METRIC_GAUGE,
                    "An autoscaler's current metric value, from its status", labels, 4, NULL, 0);
  ss_metrics_family(m, SS_TIMELINE_TARGET_GAUGE, SS_METRIC_GAUGE,
                    "An autoscaler's metric target, from its spec", labels, 4, NULL, 0);
  return r;
}

void ss_timeline_recorder_free(struct ss_timeline_recorder *r) {
  free(r);
}

/* A number, or a quantity string ("500m"); false when neither. */
static bool number(const json_t *v, double *out) {
  struct ss_quantity q;
  const char *why;
  if (json_is_number(v)) {
    *out = json_number_value(v);
    return true;
  }
  if (json_is_string(v) && ss_quantity_from_json(v, &q, &why)) {
    *out = (double)q.milli / 1000.0;
    return true;
  }
  return false;
}

struct pass {
  struct ss_timeline_recorder *r;
  struct ss_series *seen[2 * SS_TIMELINE_MAX_RECORDED];
  size_t n_seen;
};

static void set(struct pass *p, const char *family, const char *const *values, double v) {
  if (p->n_seen == sizeof p->seen / sizeof *p->seen)
    return;
  struct ss_series *s = ss_metrics_series(p->r->m, family, values);
  if (!s)
    return;
  ss_series_set(s, v);
  p->seen[p->n_seen++] = s;
}

static void record(struct pass *p, const char *ns, const char *who, const char *target,
                   const char *metric, const json_t *value, const json_t *goal) {
  const char *values[] = {ns, who, target, metric};
  double v;
  if (number(value, &v))
    set(p, SS_TIMELINE_VALUE_GAUGE, values, v);
  if (number(goal, &v))
    set(p, SS_TIMELINE_TARGET_GAUGE, values, v);
}

/* Which member of an HPA MetricSpec holds it ("resource" for Resource). */
static const char *metric_field(const char *type) {
  static const char *const map[][2] = {{"Resource", "resource"},
                                       {"ContainerResource", "containerResource"},
                                       {"Pods", "pods"},
                                       {"Object", "object"},
                                       {"External", "external"}};
  for (size_t i = 0; type && i < sizeof map / sizeof *map; i++)
    if (strcmp(type, map[i][0]) == 0)
      return map[i][1];
  return NULL;
}

static const char *metric_name(const json_t *inner) {
  const char *n = json_string_value(json_object_get(inner, "name"));
  return n ? n : json_string_value(json_object_get(json_object_get(inner, "metric"), "name"));
}

/* The target's key: averageUtilization, averageValue or value. */
static const char *target_key(const json_t *target) {
  return json_object_get(target, "averageUtilization") ? "averageUtilization"
         : json_object_get(target, "averageValue")     ? "averageValue"
                                                       : "value";
}

static void hpa(struct pass *p, const json_t *o, const char *ns, const char *who,
                const char *target) {
  const json_t *spec_m = json_object_get(json_object_get(o, "spec"), "metrics");
  const json_t *cur_m = json_object_get(json_object_get(o, "status"), "currentMetrics");
  size_t i, j;
  const json_t *m, *c;
  json_array_foreach(spec_m, i, m) {
    const char *field = metric_field(json_string_value(json_object_get(m, "type")));
    const json_t *inner = field ? json_object_get(m, field) : NULL;
    const char *name = metric_name(inner);
    if (!name)
      continue;
    const json_t *goal = json_object_get(inner, "target");
    const char *key = target_key(goal);
    const json_t *value = NULL;
    json_array_foreach(cur_m, j, c) {
      const json_t *ci = json_object_get(c, field);
      const char *cn = metric_name(ci);
      if (cn && strcmp(cn, name) == 0)
        value = json_object_get(json_object_get(ci, "current"), key);
    }
    record(p, ns, who, target, name, value, json_object_get(goal, key));
  }
}

static void scaled_object(struct pass *p, const json_t *o, const char *ns, const char *who,
                          const char *target) {
  const json_t *spec_t = json_object_get(json_object_get(o, "spec"), "triggers");
  const json_t *st = json_object_get(json_object_get(o, "status"), "triggers");
  size_t i;
  const json_t *t;
  json_array_foreach(spec_t, i, t) {
    const json_t *s = json_array_get(st, i);
    const char *type = json_string_value(json_object_get(t, "type"));
    const json_t *md = json_object_get(t, "metadata");
    bool res = type && (strcmp(type, "cpu") == 0 || strcmp(type, "memory") == 0);
    const char *name = json_string_value(json_object_get(s, "metricName"));
    record(p, ns, who, target, name ? name : type ? type : "trigger",
           json_object_get(s, res ? "averageUtilization" : "value"),
           json_object_get(md, res ? "value" : "threshold"));
  }
}

static void kind(struct pass *p, struct ss_store *st, const char *group, const char *plural,
                 const char *label) {
  json_t *items = NULL;
  uint64_t rv;
  struct ss_error err = {0};
  if (ss_store_list(st, (struct ss_kind_ref){group, plural}, NULL, &items, &rv, &err))
    return;
  size_t i;
  const json_t *o;
  json_array_foreach(items, i, o) {
    const json_t *md = json_object_get(o, "metadata");
    const char *ns = json_string_value(json_object_get(md, "namespace"));
    const char *name = json_string_value(json_object_get(md, "name"));
    const char *target = json_string_value(
        json_object_get(json_object_get(json_object_get(o, "spec"), "scaleTargetRef"), "name"));
    if (!ns || !name || !target)
      continue;
    char who[300];
    snprintf(who, sizeof who, "%s/%s", label, name);
    if (plural[0] == 'h')
      hpa(p, o, ns, who, target);
    else
      scaled_object(p, o, ns, who, target);
  }
  json_decref(items);
}

void ss_timeline_recorder_run(struct ss_timeline_recorder *r, struct ss_store *st) {
  static _Thread_local struct pass p;
  p.r = r;
  p.n_seen = 0;
  kind(&p, st, "autoscaling", "horizontalpodautoscalers", "HorizontalPodAutoscaler");
  kind(&p, st, "keda.sh", "scaledobjects", "ScaledObject");
  for (size_t i = 0; i < r->n_live; i++) {
    bool kept = false;
    for (size_t j = 0; j < p.n_seen && !kept; j++)
      kept = p.seen[j] == r->live[i];
    if (!kept)
      ss_series_release(r->m, r->live[i]);
  }
  memcpy(r->live, p.seen, p.n_seen * sizeof *p.seen);
  r->n_live = p.n_seen;
}
