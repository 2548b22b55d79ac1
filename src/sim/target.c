/* target.c: what each simulated policy reads from a resource: its bounds,
 * and the HPA and KEDA specs (the one written, and the other as it would
 * be). A kedaSpec's HPA is built as KEDA builds it (one External
 * AverageValue metric per prometheus trigger at its threshold, cpu as a
 * Resource metric, minReplicas at least 1); an HPA's KEDA equivalent polls
 * at KEDA's defaults with a trigger per metric. */
#include <stdio.h>
#include <string.h>

#include "autoscale/keda.h"
#include "sim/sim.h"

static enum ss_err unsupported_memory(struct ss_error *err) {
  return ss_error_set(err, SS_EUNSUPPORTED, 0, 0,
                      "metric memory: the simulation models CPU and request rates only");
}

/* The HPA KEDA makes for a ScaledObject. */
static enum ss_err hpa_of_keda(struct ss_sim_target *t, struct ss_error *err) {
  const struct ss_keda_spec *k = &t->keda;
  struct ss_hpa_spec *h = &t->hpa;
  memset(h, 0, sizeof *h);
  h->min_replicas = k->min_replicas > 1 ? k->min_replicas : 1;
  h->max_replicas = k->max_replicas;
  h->has_behavior = k->has_behavior;
  h->up = k->up;
  h->down = k->down;
  h->component = -1;
  for (size_t i = 0; i < k->n_triggers && i < SS_HPA_MAX_METRICS; i++) {
    const struct ss_trigger *tr = &k->triggers[i];
    struct ss_metric_spec *m = &t->metrics[i];
    memset(m, 0, sizeof *m);
    if (tr->type == SS_TRIGGER_MEMORY)
      return unsupported_memory(err);
    if (tr->type == SS_TRIGGER_CPU) {
      m->source = SS_METRIC_RESOURCE;
      m->name = "cpu";
      m->target.type = tr->metric_type;
      if (tr->metric_type == SS_TARGET_UTILIZATION)
        m->target.utilization = (int32_t)(tr->value.milli / 1000);
      else
        m->target.value = tr->value;
    } else {
      snprintf(t->metric_names[i], sizeof t->metric_names[i], "s%zu-prometheus", i);
      m->source = SS_METRIC_EXTERNAL;
      m->name = t->metric_names[i];
      m->target.type = SS_TARGET_AVERAGE_VALUE;
      m->target.value.milli = tr->threshold > 0.001 ? (int64_t)(tr->threshold * 1000) : 1;
    }
    h->n_metrics++;
  }
  h->metrics = t->metrics;
  return SS_EOK;
}

/* A ScaledObject at KEDA's defaults doing what the HPA's metrics say. */
static enum ss_err keda_of_hpa(struct ss_sim_target *t, struct ss_error *err) {
  const struct ss_hpa_spec *h = &t->hpa;
  struct ss_keda_spec *k = &t->keda;
  memset(k, 0, sizeof *k);
  k->polling_interval = SS_KEDA_DEFAULT_POLLING_INTERVAL;
  k->cooldown_period = SS_KEDA_DEFAULT_COOLDOWN_PERIOD;
  k->min_replicas = h->min_replicas;
  k->max_replicas = h->max_replicas;
  k->idle_replicas = -1;
  k->has_behavior = h->has_behavior;
  k->up = h->up;
  k->down = h->down;
  for (size_t i = 0; i < h->n_metrics && i < SS_HPA_MAX_METRICS; i++) {
    const struct ss_metric_spec *m = &h->metrics[i];
    struct ss_trigger *tr = &t->triggers[i];
    memset(tr, 0, sizeof *tr);
    bool resource = m->source == SS_METRIC_RESOURCE || m->source == SS_METRIC_CONTAINER_RESOURCE;
    if (resource && strcmp(m->name, "cpu") != 0)
      return unsupported_memory(err);
    if (resource) {
      tr->type = SS_TRIGGER_CPU;
      tr->metric_type = m->target.type;
      tr->value = m->target.type == SS_TARGET_UTILIZATION
                      ? (struct ss_quantity){(int64_t)m->target.utilization * 1000}
                      : m->target.value;
    } else {
      /* a rate per replica (AverageValue) or in all (Value): the threshold */
      tr->type = SS_TRIGGER_PROMETHEUS;
      tr->threshold = (double)m->target.value.milli / 1000.0;
    }
    k->n_triggers++;
  }
  k->triggers = t->triggers;
  return SS_EOK;
}

static bool has_errors(const struct ss_resource *r) {
  for (size_t i = 0; i < r->diags.n; i++)
    if (r->diags.v[i].sev != SS_SEV_WARNING)
      return true;
  return false;
}

/* The first autoscaled componentSpec of a SeldonDeployment. */
static bool from_sdep(const struct ss_sdep *s, struct ss_sim_target *t) {
  for (size_t p = 0; p < s->n_predictors; p++)
    for (size_t c = 0; c < s->predictors[p].n_components; c++) {
      const struct ss_component_spec *cs = &s->predictors[p].components[c];
      if (!cs->keda && !cs->hpa)
        continue;
      snprintf(t->name, sizeof t->name, "%s", cs->rs_name);
      if (cs->keda) {
        t->keda = *cs->keda;
        t->written = "keda";
      } else {
        t->hpa = *cs->hpa;
        t->written = "hpa";
      }
      return true;
    }
  return false;
}

enum ss_err ss_sim_target_from(const struct ss_resource *r, struct ss_sim_target *t,
                               struct ss_error *err) {
  memset(t, 0, sizeof *t);
  const char *name = ss_resource_name(r);
  snprintf(t->name, sizeof t->name, "%s", name ? name : "");
  if (has_errors(r))
    return ss_error_set(err, SS_EINVALID, 0, 0,
                        "the resource has errors: `servescale validate -f FILE` lists them");
  bool found = false;
  if (r->kind == SS_KIND_SDEP) {
    found = from_sdep(&r->u.sdep, t);
  } else if (r->kind == SS_KIND_HPA) {
    t->hpa = r->u.hpa;
    t->written = "hpa";
    found = true;
  } else if (r->kind == SS_KIND_SCALEDOBJECT) {
    t->keda = r->u.keda;
    t->written = "keda";
    found = true;
  }
  if (!found)
    return ss_error_set(err, SS_EINVALID, 0, 0,
                        "%s %s: nothing autoscaled (no hpaSpec or kedaSpec; or give an HPA or "
                        "a ScaledObject)",
                        r->kind_name[0] ? r->kind_name : "resource", t->name);
  enum ss_err rc;
  if (strcmp(t->written, "keda") == 0) {
    t->min = t->keda.min_replicas;
    t->max = t->keda.max_replicas;
    rc = hpa_of_keda(t, err);
  } else {
    t->min = t->hpa.min_replicas;
    t->max = t->hpa.max_replicas;
    rc = keda_of_hpa(t, err);
  }
  return rc;
}
