/* workloads.c: the Deployment controller for Deployments no
 * SeldonDeployment controls (workloads.h). */
#include "control/workloads.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "control/deployments.h"
#include "control/template.h"
#include "model/owners.h"
#include "model/sdep.h"

struct entry {
  json_t *obj;      /* the stored Deployment, as the watch last showed it */
  char ns[SS_RS_NAME_LEN], name[SS_RS_NAME_LEN];
  char uid[64];
  int64_t gen;      /* the generation the template was built from; -1: none */
  bool runnable;
  struct ss_rs_template t;
  char message[256];
  char hash[16];
};

struct ss_workloads {
  struct ss_store *st;
  const struct ss_image_map *images;
  struct ss_watch *watch; /* NULL: listed again at the next pass */
  struct entry **v;
  size_t n;
};

struct ss_workloads *ss_workloads_new(struct ss_store *st, const struct ss_image_map *images) {
  struct ss_workloads *w = calloc(1, sizeof *w);
  if (w) {
    w->st = st;
    w->images = images;
  }
  return w;
}

static void entry_free(struct entry *e) {
  if (!e)
    return;
  json_decref(e->obj);
  ss__template_free(&e->t);
  free(e);
}

void ss_workloads_free(struct ss_workloads *w) {
  if (!w)
    return;
  for (size_t i = 0; i < w->n; i++)
    entry_free(w->v[i]);
  free(w->v);
  ss_watch_close(w->watch);
  free(w);
}

static const char *meta(const json_t *obj, const char *key) {
  return json_string_value(json_object_get(json_object_get(obj, "metadata"), key));
}

static size_t find(const struct ss_workloads *w, const char *ns, const char *name) {
  for (size_t i = 0; i < w->n; i++)
    if (strcmp(w->v[i]->ns, ns) == 0 && strcmp(w->v[i]->name, name) == 0)
      return i;
  return w->n;
}

static void drop(struct ss_workloads *w, size_t i) {
  entry_free(w->v[i]);
  w->v[i] = w->v[--w->n];
}

/* The template of a new generation: its one container, as the
 * SeldonDeployment controller would run it. */
static void build(struct ss_workloads *w, struct entry *e) {
  const json_t *tmpl = json_object_get(json_object_get(e->obj, "spec"), "template");
  const json_t *cs = json_object_get(json_object_get(tmpl, "spec"), "containers");
  const json_t *grace =
      json_object_get(json_object_get(tmpl, "spec"), "terminationGracePeriodSeconds");
  ss__template_free(&e->t);
  e->message[0] = '\0';
  e->runnable = false;
  ss_deployment_template_hash(tmpl, e->hash);
  if (json_array_size(cs) != 1) {
    snprintf(e->message, sizeof e->message,
             "spec.template.spec.containers: servescale runs one container per pod (%zu given)",
             json_array_size(cs));
    return;
  }
  /* Kubernetes' default grace period: 30 s */
  int g = json_is_integer(grace) ? (int)json_integer_value(grace) : 30;
  e->runnable = ss__template_build(w->images, json_array_get(cs, 0), NULL, g, &e->t, e->message,
                                   sizeof e->message);
}

/* A Deployment as the store has it now: kept when no SeldonDeployment
 * controls it, its template built again when its generation moved. */
static void upsert(struct ss_workloads *w, const json_t *obj) {
  const char *ns = meta(obj, "namespace"), *name = meta(obj, "name"), *okind = NULL;
  if (!ns || !name)
    return;
  size_t i = find(w, ns, name);
  bool seldon = ss_controller_uid(obj, &okind) && okind && strcmp(okind, SS_SDEP_KIND) == 0;
  if (seldon) {
    if (i < w->n)
      drop(w, i);
    return;
  }
  struct entry *e = i < w->n ? w->v[i] : NULL;
  const char *uid = meta(obj, "uid");
  if (e && strcmp(e->uid, uid ? uid : "") != 0) { /* deleted and created again */
    drop(w, i);
    e = NULL;
  }
  if (!e) {
    struct entry **v = realloc(w->v, (w->n + 1) * sizeof *v);
    if (!v || !(e = calloc(1, sizeof *e))) {
      if (v)
        w->v = v;
      return;
    }
    w->v = v;
    w->v[w->n++] = e;
    snprintf(e->ns, sizeof e->ns, "%s", ns);
    snprintf(e->name, sizeof e->name, "%s", name);
    snprintf(e->uid, sizeof e->uid, "%s", uid ? uid : "");
    e->gen = -1;
  }
  json_decref(e->obj);
  e->obj = json_incref((json_t *)obj);
  int64_t gen = json_integer_value(json_object_get(json_object_get(obj, "metadata"), "generation"));
  if (gen != e->gen) {
    build(w, e);
    e->gen = gen;
  }
}

static void relist(struct ss_workloads *w) {
  json_t *items = NULL;
  uint64_t rv;
  if (ss_store_list(w->st, (struct ss_kind_ref){"apps", "deployments"}, NULL, &items, &rv, NULL))
    return;
  /* what is not listed is gone */
  for (size_t i = 0; i < w->n;) {
    bool listed = false;
    size_t j;
    const json_t *o;
    json_array_foreach(items, j, o) {
      const char *ns = meta(o, "namespace"), *name = meta(o, "name");
      listed = listed || (ns && name && strcmp(ns, w->v[i]->ns) == 0 &&
                          strcmp(name, w->v[i]->name) == 0);
    }
    if (listed)
      i++;
    else
      drop(w, i);
  }
  size_t j;
  const json_t *o;
  json_array_foreach(items, j, o) upsert(w, o);
  json_decref(items);
  if (ss_store_watch(w->st, (struct ss_kind_ref){"apps", "deployments"}, NULL, rv, &w->watch,
                     NULL))
    w->watch = NULL;
}

static void follow(struct ss_workloads *w) {
  while (w->watch) {
    enum ss_watch_type type;
    json_t *o = NULL;
    int r = ss_watch_next(w->watch, 0, &type, &o);
    if (r == 0)
      return;
    if (r < 0) {
      ss_watch_close(w->watch);
      w->watch = NULL;
      break;
    }
    if (type == SS_WATCH_DELETED) {
      const char *ns = meta(o, "namespace"), *name = meta(o, "name");
      size_t i = ns && name ? find(w, ns, name) : w->n;
      if (i < w->n)
        drop(w, i);
    } else {
      upsert(w, o);
    }
    json_decref(o);
  }
  relist(w);
}

void ss_workloads_each(struct ss_workloads *w,
                       void (*fn)(void *ctx, const struct ss_workload *wl), void *ctx) {
  follow(w);
  for (size_t i = 0; i < w->n; i++) {
    const struct entry *e = w->v[i];
    const json_t *tmpl = json_object_get(json_object_get(e->obj, "spec"), "template");
    const json_t *c0 =
        json_array_get(json_object_get(json_object_get(tmpl, "spec"), "containers"), 0);
    const json_t *r = json_object_get(json_object_get(e->obj, "spec"), "replicas");
    struct ss_workload wl = {
        .ns = e->ns,
        .name = e->name,
        .obj = e->obj,
        .pod_labels = json_object_get(json_object_get(tmpl, "metadata"), "labels"),
        .container = json_string_value(json_object_get(c0, "name")),
        .image = json_string_value(json_object_get(c0, "image")),
        .replicas = json_is_integer(r) ? (int)json_integer_value(r) : 1,
        .t = e->runnable ? &e->t : NULL,
        .message = e->message};
    snprintf(wl.rs, sizeof wl.rs, "%s.%s", e->ns, e->name);
    snprintf(wl.uid, sizeof wl.uid, "%s", e->uid);
    snprintf(wl.hash, sizeof wl.hash, "%s", e->hash);
    fn(ctx, &wl);
  }
}

void ss_workloads_status(struct ss_workloads *w, const struct ss_workload *wl,
                         const struct ss_rs_status *rs) {
  struct ss_rs_status refused = {.failed = true};
  if (!wl->t) {
    snprintf(refused.message, sizeof refused.message, "%s", wl->message);
    rs = &refused;
  }
  struct ss_deploy_run run = {wl->name, wl->replicas, rs, NULL};
  char now[32];
  ss_rfc3339_now(now, sizeof now);
  const json_t *old = json_object_get(wl->obj, "status");
  int64_t gen =
      json_integer_value(json_object_get(json_object_get(wl->obj, "metadata"), "generation"));
  json_t *st = ss_deployment_status(&run, gen, old, now);
  if (st && !json_equal(st, old))
    ss_store_update_status(w->st, (struct ss_kind_ref){"apps", "deployments"}, wl->ns, wl->name,
                           st, NULL, NULL, NULL);
  json_decref(st);
}
