/* core2_scale.c: Core 2's native autoscaling in the controller: a Model on
 * its inference lag and use, a Server following its models (the rules:
 * core2/scaling.h; core2_internal.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control/core2_internal.h"
#include "model/core2.h"

/* ---- native autoscaling ---- */

static void write_replicas(struct ss_core2 *c, const char *plural, json_t *obj, int replicas) {
  json_t *o = json_deep_copy(obj);
  json_object_set_new(json_object_get(o, "spec"), "replicas", json_integer(replicas));
  struct ss_error err = {0};
  json_t *stored = NULL;
  if (ss_store_update(c->cfg.store, (struct ss_kind_ref){SS_CORE2_GROUP, plural}, o, &stored,
                      &err) == SS_EOK) {
    /* the rest of the pass sees what was written */
    json_object_set(json_object_get(obj, "spec"), "replicas", json_integer(replicas));
  }
  json_decref(stored);
  json_decref(o);
}

void ss__c2_model_autoscale(struct ss_core2 *c, struct model *m) {
  const json_t *spec = json_object_get(m->obj, "spec");
  int min = ss__c2_int_at(spec, "minReplicas", 0), max = ss__c2_int_at(spec, "maxReplicas", 0);
  if ((min <= 0 && max <= 0) || !c->cfg.gateway || c->now_ms < m->next_scale_ms)
    return;
  const struct ss_c2_scaling_settings set = c->scaling;
  m->next_scale_ms = c->now_ms + set.period_ms;
  int inflight;
  int64_t last;
  ss_gateway_model_load(c->cfg.gateway, m->ns, m->name, &inflight, &last);
  int loaded = ss__c2_available(m);
  if (loaded < 1)
    return;
  uint32_t lag;
  int64_t used = last > m->stable_since_ms ? last : m->stable_since_ms;
  enum ss_c2_trigger t = ss_c2_lag_check(&m->lag, &set, inflight, loaded, used, c->now_ms, &lag);
  if (t == SS_C2_NONE)
    return;
  int cur = ss__c2_int_at(spec, "replicas", SS_CORE2_DEFAULT_REPLICAS);
  const char *why = NULL;
  int next = ss_c2_model_replicas(cur, min, max, t, m->stable_since_ms, c->now_ms, &set, &why);
  if (next == cur)
    return;
  write_replicas(c, "models", m->obj, next);
  m->stable_since_ms = c->now_ms;
  if (t == SS_C2_UP)
    ss_store_eventf(c->cfg.store, m->obj, "Normal", "ScaledUp", NULL,
                    "Scaled model to %d replicas: inference lag %u per replica reached %u", next,
                    lag, set.lag_threshold);
  else
    ss_store_eventf(c->cfg.store, m->obj, "Normal", "ScaledDown", NULL,
                    "Scaled model to %d replicas: unused for %" PRId64 " s", next,
                    (c->now_ms - used) / 1000);
}

void ss__c2_server_autoscale(struct ss_core2 *c, struct server *s) {
  if (s->max < 1 || c->now_ms < s->next_scale_ms)
    return;
  s->next_scale_ms = c->now_ms + c->scaling.period_ms;
  /* a Server an HPA or a ScaledObject scales is left to it */
  if (c->cfg.scalers && ss_scalers_aim_at(c->cfg.scalers, s->ns, "Server", s->name))
    return;
  int most = 0;
  for (size_t i = 0; i < c->n_models; i++) {
    const struct model *m = c->models[i];
    bool here = false;
    for (size_t j = 0; j < m->n; j++)
      here = here || strcmp(m->copies[j].server, s->name) == 0;
    const char *want =
        json_string_value(json_object_get(json_object_get(m->obj, "spec"), "server"));
    here = strcmp(m->ns, s->ns) == 0 && (here || (want && strcmp(want, s->name) == 0));
    int r = ss__c2_int_at(json_object_get(m->obj, "spec"), "replicas", SS_CORE2_DEFAULT_REPLICAS);
    if (here && r > most)
      most = r;
  }
  int target;
  if (ss_c2_server_scale_up(s->spec, s->max, most, &target)) {
    write_replicas(c, "servers", s->obj, target);
    ss_store_eventf(c->cfg.store, s->obj, "Normal", "ScaledUp", NULL,
                    "Scaled server to %d replicas: a model on it wants %d replicas", target, most);
    s->spec = target;
    return;
  }
  int empty = 0;
  for (int o = 0; o < SS_C2_MAX_REPLICAS; o++)
    if (s->slots[o].used && s->slots[o].ready &&
        ss__c2_copies_on(c, s->slots[o].id, NULL, NULL) == 0)
      empty++;
  c->rng ^= c->rng << 13;
  c->rng ^= c->rng >> 7;
  c->rng ^= c->rng << 17;
  bool pack = (double)(c->rng >> 11) / 9007199254740992.0 < SS_C2_PACK_CHANCE;
  if (ss_c2_server_scale_down(s->spec, s->min > 0 ? s->min : 0, most, empty, pack, &target)) {
    write_replicas(c, "servers", s->obj, target);
    ss_store_eventf(c->cfg.store, s->obj, "Normal", "ScaledDown", NULL,
                    "Scaled server to %d replicas: %d replica(s) empty, its models want at most %d",
                    target, empty, most);
    s->spec = target;
  }
}
