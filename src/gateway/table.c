/* table.c: routing snapshots (built by control/, read by the workers) and
 * the registry of replicas they route to. A snapshot is immutable once
 * published; workers hold references to it while requests use it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/internal.h"

static size_t bucket(const char *id) {
  uint64_t h = 1469598103934665603ull;
  for (const unsigned char *p = (const unsigned char *)id; *p; p++)
    h = (h ^ *p) * 1099511628211ull;
  return (size_t)(h % 1024);
}

void ss__gw_registry_init(struct ss__gw_registry *r) {
  memset(r, 0, sizeof *r);
  pthread_mutex_init(&r->mu, NULL);
}

void ss__gw_registry_destroy(struct ss__gw_registry *r) {
  for (size_t i = 0; i < 1024; i++) {
    struct ss__gw_ep *e = r->buckets[i];
    while (e) {
      struct ss__gw_ep *n = e->next;
      free(e);
      e = n;
    }
  }
  pthread_mutex_destroy(&r->mu);
}

void ss__gw_ep_ref(struct ss__gw_registry *r, struct ss__gw_ep *ep) {
  if (!r || !ep)
    return;
  pthread_mutex_lock(&r->mu);
  ep->refs++;
  pthread_mutex_unlock(&r->mu);
}

void ss__gw_ep_unref(struct ss__gw_registry *r, struct ss__gw_ep *ep) {
  if (!r || !ep)
    return;
  pthread_mutex_lock(&r->mu);
  if (--ep->refs == 0) {
    struct ss__gw_ep **pp = &r->buckets[bucket(ep->id)];
    while (*pp && *pp != ep)
      pp = &(*pp)->next;
    if (*pp)
      *pp = ep->next;
    free(ep);
  }
  pthread_mutex_unlock(&r->mu);
}

/* Under the registry mutex. */
static struct ss__gw_ep *find_locked(struct ss__gw_registry *r, const char *id) {
  for (struct ss__gw_ep *e = r->buckets[bucket(id)]; e; e = e->next)
    if (strcmp(e->id, id) == 0)
      return e;
  return NULL;
}

struct ss__gw_ep *ss__gw_ep_take_locked(struct ss__gw_registry *r, const char *id) {
  struct ss__gw_ep *ep = find_locked(r, id);
  if (!ep) {
    ep = calloc(1, sizeof *ep);
    if (!ep)
      return NULL;
    snprintf(ep->id, sizeof ep->id, "%s", id);
    atomic_init(&ep->inflight, 0);
    atomic_init(&ep->down_since_ms, 0);
    atomic_init(&ep->last_used_ms, 0);
    size_t bk = bucket(ep->id);
    ep->next = r->buckets[bk];
    r->buckets[bk] = ep;
  }
  ep->refs++;
  return ep;
}

struct ss__gw_ep *ss__gw_ep_find_locked(struct ss__gw_registry *r, const char *id) {
  return find_locked(r, id);
}

struct ss__gw_ep *ss__gw_ep_find(struct ss__gw_registry *r, const char *id) {
  pthread_mutex_lock(&r->mu);
  struct ss__gw_ep *e = find_locked(r, id);
  pthread_mutex_unlock(&r->mu);
  return e;
}

struct ss_gw_table *ss_gw_table_new(void) {
  struct ss_gw_table *t = calloc(1, sizeof *t);
  if (t)
    atomic_init(&t->refs, 1);
  return t;
}

static void dep_free(struct ss__gw_dep *d, struct ss__gw_registry *r) {
  for (size_t i = 0; i < d->n_preds; i++) {
    struct ss__gw_pred *p = &d->preds[i];
    for (size_t k = 0; k < p->n_targets; k++) {
      struct ss__gw_target *tg = &p->targets[k];
      for (size_t e = 0; e < tg->n; e++)
        ss__gw_ep_unref(r, tg->eps[e]);
      free(tg->eps);
      free(tg->pending);
    }
    free(p->targets);
    free(p->base);
  }
  free(d->preds);
  if (d->shared) {
    ss_gw_res_unref(d->shared);
  } else {
    ss_resource_free(d->res);
    free(d->res);
  }
}

struct ss_gw_res *ss_gw_res_new(void) {
  struct ss_gw_res *r = calloc(1, sizeof *r);
  if (r)
    atomic_init(&r->refs, 1);
  return r;
}

void ss_gw_res_unref(struct ss_gw_res *r) {
  if (!r || atomic_fetch_sub(&r->refs, 1) != 1)
    return;
  ss_resource_free(&r->res);
  free(r);
}

static void table_destroy(struct ss_gw_table *t, struct ss__gw_registry *r) {
  for (size_t i = 0; i < t->n; i++)
    dep_free(&t->deps[i], r);
  free(t->deps);
  ss_strmap_fini(&t->by_name);
  for (size_t i = 0; i < t->n_models; i++)
    ss__gw_model_free(&t->models[i], r);
  free(t->models);
  ss_strmap_fini(&t->models_by_name);
  free(t);
}

void ss_gw_table_free(struct ss_gw_table *t) {
  /* an unpublished table holds no endpoint references */
  if (t)
    table_destroy(t, NULL);
}

void ss__gw_table_unref(struct ss_gw_table *t, struct ss__gw_registry *r) {
  if (t && atomic_fetch_sub(&t->refs, 1) == 1)
    table_destroy(t, r);
}

/* Adds res, owned (shared NULL) or shared's; on failure nothing is taken. */
static enum ss_err add_dep(struct ss_gw_table *t, struct ss_resource *res,
                           struct ss_gw_res *shared) {
  if (res->kind != SS_KIND_SDEP)
    return SS_EINVALID;
  if (t->n == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 16;
    struct ss__gw_dep *v = realloc(t->deps, cap * sizeof *v);
    if (!v)
      return SS_ENOMEM;
    t->deps = v;
    t->cap = cap;
  }
  struct ss__gw_dep *d = &t->deps[t->n];
  memset(d, 0, sizeof *d);
  const struct ss_sdep *s = &res->u.sdep;
  const char *ns = ss_resource_namespace(res);
  snprintf(d->ns, sizeof d->ns, "%s", ns ? ns : "default");
  snprintf(d->name, sizeof d->name, "%s", s->name ? s->name : "");
  snprintf(d->key, sizeof d->key, "%s/%s", d->ns, d->name);
  d->preds = calloc(s->n_predictors ? s->n_predictors : 1, sizeof *d->preds);
  if (!d->preds)
    return SS_ENOMEM;
  d->n_preds = s->n_predictors;
  for (size_t i = 0; i < s->n_predictors; i++) {
    const struct ss_predictor *p = &s->predictors[i];
    struct ss__gw_pred *gp = &d->preds[i];
    gp->p = p;
    const struct ss_graph_node *g = &p->graph;
    if (g->type == SS_NODE_MODEL && !g->implementation && g->n_children == 0 &&
        g->component >= 0)
      gp->fast_node = g;
    d->traffic_total += p->traffic;
    gp->base = calloc(p->n_components ? p->n_components : 1, sizeof *gp->base);
    size_t n = 0;
    for (size_t c = 0; gp->base && c < p->n_components; c++) {
      gp->base[c] = n;
      n += p->components[c].n_containers;
    }
    gp->targets = calloc(n ? n : 1, sizeof *gp->targets);
    if (!gp->base || !gp->targets) {
      d->n_preds = i + 1;
      dep_free(d, NULL);
      return SS_ENOMEM;
    }
    gp->n_targets = n;
    for (size_t c = 0; c < p->n_components; c++)
      for (size_t k = 0; k < p->components[c].n_containers; k++) {
        const char *img = p->components[c].containers[k].image;
        snprintf(gp->targets[gp->base[c] + k].image, sizeof gp->targets[0].image, "%s",
                 img ? img : "");
      }
  }
  /* the first of a name is the one found, as by a search in order */
  if (!ss_strmap_get(&t->by_name, d->key) &&
      !ss_strmap_put(&t->by_name, d->key, (void *)(uintptr_t)(t->n + 1))) {
    dep_free(d, NULL);
    return SS_ENOMEM;
  }
  d->res = res;
  if (shared) {
    atomic_fetch_add(&shared->refs, 1);
    d->shared = shared;
  }
  t->n++;
  return SS_EOK;
}

enum ss_err ss_gw_table_add(struct ss_gw_table *t, struct ss_resource *res) {
  return add_dep(t, res, NULL);
}

enum ss_err ss_gw_table_add_shared(struct ss_gw_table *t, struct ss_gw_res *r) {
  return add_dep(t, &r->res, r);
}

static struct ss__gw_dep *find_dep(const struct ss_gw_table *t, const char *ns,
                                   const char *name) {
  char key[sizeof t->deps[0].key];
  /* what add_dep cut to fit is not the name asked for */
  if ((size_t)snprintf(key, sizeof key, "%s/%s", ns, name) >= sizeof key ||
      strlen(ns) >= sizeof t->deps[0].ns || strlen(name) >= sizeof t->deps[0].name)
    return NULL;
  uintptr_t i = (uintptr_t)ss_strmap_get(&t->by_name, key);
  return i ? &t->deps[i - 1] : NULL;
}

const struct ss__gw_dep *ss__gw_table_find(const struct ss_gw_table *t, const char *ns,
                                           const char *name) {
  return t ? find_dep(t, ns, name) : NULL;
}

struct ss__gw_target *ss__gw_target_of(const struct ss__gw_pred *p, int component,
                                       int container) {
  if (component < 0 || (size_t)component >= p->p->n_components || container < 0 ||
      (size_t)container >= p->p->components[component].n_containers)
    return NULL;
  return &p->targets[p->base[component] + (size_t)container];
}

enum ss_err ss_gw_table_replicas(struct ss_gw_table *t, const char *ns, const char *name,
                                 size_t predictor, size_t component, size_t container,
                                 const char *rs, const struct ss_gw_replica *replicas,
                                 size_t n) {
  struct ss__gw_dep *d = find_dep(t, ns, name);
  if (!d || predictor >= d->n_preds)
    return SS_ENOTFOUND;
  struct ss__gw_target *tg =
      ss__gw_target_of(&d->preds[predictor], (int)component, (int)container);
  if (!tg)
    return SS_ENOTFOUND;
  snprintf(tg->rs, sizeof tg->rs, "%s", rs);
  free(tg->pending);
  tg->pending = n ? malloc(n * sizeof *replicas) : NULL;
  if (n && !tg->pending)
    return SS_ENOMEM;
  if (n)
    memcpy(tg->pending, replicas, n * sizeof *replicas);
  tg->n_pending = n;
  return SS_EOK;
}

/* "repo/name:tag" -> name part and tag part, as Seldon's executor labels them. */
static void split_image(const char *image, char *repo, size_t rs, char *tag, size_t ts) {
  const char *colon = strrchr(image, ':');
  const char *slash = strrchr(image, '/');
  if (colon && (!slash || colon > slash)) {
    snprintf(repo, rs, "%.*s", (int)(colon - image), image);
    snprintf(tag, ts, "%s", colon + 1);
  } else {
    snprintf(repo, rs, "%s", image);
    snprintf(tag, ts, "latest");
  }
}

/* The graph node running component c, container k (for model_name). */
static const char *node_name(const struct ss_graph_node *n, int c, int k) {
  if (n->component == c && n->container == k)
    return n->name;
  for (size_t i = 0; i < n->n_children; i++) {
    const char *f = node_name(&n->children[i], c, k);
    if (f)
      return f;
  }
  return NULL;
}

void ss__gw_target_resolve_locked(struct ss__gw_target *tg, struct ss__gw_registry *r,
                                  size_t *from) {
  tg->eps = tg->n_pending ? calloc(tg->n_pending, sizeof *tg->eps) : NULL;
  tg->n = 0;
  for (size_t e = 0; tg->eps && e < tg->n_pending; e++) {
    const struct ss_gw_replica *rep = &tg->pending[e];
    if (!rep->ready)
      continue;
    struct ss__gw_ep *ep = ss__gw_ep_take_locked(r, rep->id);
    if (!ep)
      continue;
    ep->port = rep->port;
    ep->addr = rep->addr;
    atomic_store(&ep->routable, true);
    if (from)
      from[tg->n] = e;
    tg->eps[tg->n++] = ep;
  }
}

void ss__gw_table_resolve(struct ss_gw_table *t, struct ss__gw_registry *r,
                          struct ss_metrics *m) {
  /* everything is unroutable unless this snapshot routes to it */
  pthread_mutex_lock(&r->mu);
  for (size_t b = 0; b < 1024; b++)
    for (struct ss__gw_ep *e = r->buckets[b]; e; e = e->next)
      atomic_store(&e->routable, false);
  for (size_t i = 0; i < t->n; i++) {
    struct ss__gw_dep *d = &t->deps[i];
    for (size_t j = 0; j < d->n_preds; j++) {
      struct ss__gw_pred *p = &d->preds[j];
      for (size_t k = 0; k < p->n_targets; k++) {
        ss__gw_target_resolve_locked(&p->targets[k], r, NULL);
      }
    }
  }
  pthread_mutex_unlock(&r->mu);
  ss__gw_models_resolve(t, r, m);
  if (!m)
    return;
  for (size_t i = 0; i < t->n; i++) {
    struct ss__gw_dep *d = &t->deps[i];
    for (size_t j = 0; j < d->n_preds; j++) {
      struct ss__gw_pred *p = &d->preds[j];
      const char *pname = p->p->name ? p->p->name : "";
      const char *sv[] = {d->name, pname, "", "predictions", "post", "200", d->ns};
      p->server_ok[0] = ss_metrics_series(m, "seldon_api_executor_server_requests_seconds", sv);
      sv[3] = "feedback";
      p->server_ok[1] = ss_metrics_series(m, "seldon_api_executor_server_requests_seconds", sv);
      for (size_t c = 0; c < p->p->n_components; c++)
        for (size_t k = 0; k < p->p->components[c].n_containers; k++) {
          struct ss__gw_target *tg = &p->targets[p->base[c] + k];
          char repo[256], tag[128];
          split_image(tg->image, repo, sizeof repo, tag, sizeof tag);
          const char *model = node_name(&p->p->graph, (int)c, (int)k);
          const char *cv[] = {d->name, pname, "", "/predict", "post", "200",
                              model ? model : "", repo, tag, d->ns};
          tg->client_ok =
              ss_metrics_series(m, "seldon_api_executor_client_requests_seconds", cv);
        }
    }
  }
}
