/* core2_status.c: a Model's and a Server's status as Core 2's operator
 * writes it (core2_internal.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control/core2_internal.h"
#include "model/core2.h"

/* ---- status ---- */

static json_t *cond(const json_t *old, const char *type, bool ok, const char *reason,
                    const char *msg) {
  const char *st = ok ? "True" : "False";
  const char *ts = NULL;
  size_t i;
  const json_t *o;
  json_array_foreach(json_object_get(old, "conditions"), i, o) {
    const char *t = json_string_value(json_object_get(o, "type"));
    const char *s = json_string_value(json_object_get(o, "status"));
    if (t && strcmp(t, type) == 0 && s && strcmp(s, st) == 0)
      ts = json_string_value(json_object_get(o, "lastTransitionTime"));
  }
  char now[32];
  if (!ts) {
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
    ts = now;
  }
  json_t *c = json_pack("{s:s, s:s, s:s}", "type", type, "status", st, "lastTransitionTime", ts);
  if (reason && *reason)
    json_object_set_new(c, "reason", json_string(reason));
  if (msg && *msg)
    json_object_set_new(c, "message", json_string(msg));
  return c;
}

static void write_status(struct ss_core2 *c, const char *plural, const json_t *obj,
                         json_t *status) {
  const json_t *old = json_object_get(obj, "status");
  if (old && json_equal(old, status)) {
    json_decref(status);
    return;
  }
  struct ss_error err = {0};
  const char *ns = ss__c2_str_at(obj, "metadata", "namespace"),
             *name = ss__c2_str_at(obj, "metadata", "name");
  if (ss_store_update_status(c->cfg.store, (struct ss_kind_ref){SS_CORE2_GROUP, plural}, ns, name,
                             status, NULL, NULL, &err) &&
      err.code != SS_ENOTFOUND)
    fprintf(stderr, "event=status_write_failed %s=%s/%s error=\"%s\"\n", plural, ns, name, err.msg);
  json_decref(status);
}

int ss__c2_available(const struct model *m) {
  int n = 0;
  for (size_t j = 0; j < m->n; j++)
    n += m->copies[j].st == C_LOADED || (m->copies[j].st == C_RETIRING);
  return n;
}

void ss__c2_model_status(struct ss_core2 *c, struct model *m, const struct ss_c2_placement *pl) {
  const json_t *spec = json_object_get(m->obj, "spec");
  int want = ss__c2_int_at(spec, "replicas", SS_CORE2_DEFAULT_REPLICAS);
  int avail = 0;
  for (size_t j = 0; j < m->n; j++)
    avail += m->copies[j].st == C_LOADED;
  const char *reason, *msg = "";
  char buf[320];
  bool failed_copy = false;
  for (size_t j = 0; j < m->n; j++)
    failed_copy = failed_copy || m->copies[j].st == C_FAILED;
  if (!m->placed) {
    reason = "ScheduleFailed";
    msg = m->sched_msg;
  } else if (failed_copy || (m->fail[0] && avail < (int)pl->n)) {
    reason = "ModelFailed";
    msg = m->fail;
  } else if (avail < (int)pl->n || avail == 0) {
    reason = "ModelProgressing";
    snprintf(buf, sizeof buf, "%d of %zu replicas loaded", avail, pl->n);
    msg = buf;
  } else {
    reason = "ModelAvailable";
  }
  bool ready = strcmp(reason, "ModelAvailable") == 0;
  if (strcmp(reason, m->last_reason) != 0) {
    if (strcmp(reason, "ScheduleFailed") == 0)
      ss_store_eventf(c->cfg.store, m->obj, "Warning", "ScheduleFailed", NULL, "%s", msg);
    else if (ready)
      ss_store_eventf(c->cfg.store, m->obj, "Normal", "ModelAvailable", NULL,
                      "%d replica(s) available", avail);
    snprintf(m->last_reason, sizeof m->last_reason, "%s", reason);
  }
  if (avail != m->last_available) {
    m->stable_since_ms = c->now_ms;
    m->last_available = avail;
  }
  const json_t *old = json_object_get(m->obj, "status");
  json_t *conds = json_array();
  json_array_append_new(conds, cond(old, "ModelReady", ready, reason, msg));
  json_array_append_new(conds, cond(old, "Ready", ready, reason, msg));
  json_t *st = json_pack("{s:i, s:i, s:o}", "replicas", want, "availableReplicas", avail,
                         "conditions", conds);
  write_status(c, "models", m->obj, st);
}

void ss__c2_server_status(struct ss_core2 *c, const struct server *s) {
  int live = 0, ready = 0, loaded = 0;
  for (int o = 0; o < SS_C2_MAX_REPLICAS; o++) {
    if (!s->slots[o].used)
      continue;
    live++;
    ready += s->slots[o].ready;
  }
  for (size_t i = 0; i < c->n_models; i++)
    for (size_t j = 0; j < c->models[i]->n; j++) {
      const struct copy *cp = &c->models[i]->copies[j];
      loaded += cp->st == C_LOADED && strcmp(c->models[i]->ns, s->ns) == 0 &&
                strcmp(cp->server, s->name) == 0;
    }
  bool ok = s->ok && ready >= s->keep;
  char msg[320] = "";
  const char *reason = s->ok ? (ok ? "" : "ReplicasNotReady") : "ServerConfigUnsupported";
  if (!s->ok)
    snprintf(msg, sizeof msg, "%s", s->why);
  else if (!ok)
    snprintf(msg, sizeof msg, "%d of %d replicas ready", ready, s->keep);
  const json_t *old = json_object_get(s->obj, "status");
  json_t *conds = json_array();
  json_array_append_new(conds, cond(old, "Ready", ok, reason, msg));
  json_array_append_new(conds, cond(old, "StatefulSetReady", ok, reason, msg));
  char sel[NAME_LEN + 32];
  snprintf(sel, sizeof sel, "%s=%s", SS_CORE2_LABEL_SERVER, s->name);
  json_t *st = json_pack("{s:i, s:i, s:s, s:o}", "replicas", live, "loadedModels", loaded,
                         "selector", sel, "conditions", conds);
  write_status(c, "servers", s->obj, st);
}
