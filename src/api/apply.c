/* apply.c: server-side apply (apply.h): field sets, merge, prune, compare
 * and managers, after kubernetes-sigs/structured-merge-diff (merge/update.go,
 * typed/merge.go, typed/compare.go, typed/tofieldset.go) and the API
 * server's field manager (managed fields encoding, conflict messages). The
 * store and the request are handlers.c's. */
#include "api/apply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Values nested deeper are compared, merged and owned as one leaf (the
 * document reader stops at 100; stored managedFields are not walked). */
#define SS_APPLY_MAX_DEPTH 256

/* ---- where a value sits, and which lists merge by key there ---- */

struct where {
  const char *field;  /* the field holding the value ("" for a list item, the root) */
  const char *parent; /* the field holding the object the value is in */
  const char *outer;  /* the nearest enclosing list's field, "" when none */
  int depth;
};

struct list_rule {
  const char *field;   /* the list's field name */
  const char *parent;  /* NULL: any */
  const char *outer;   /* NULL: any; "": in no list */
  const char *keys[2]; /* sorted, as Kubernetes serializes them */
  const char *dflt[2]; /* a key's value when an item omits it, or NULL: required */
  bool set;            /* a list of scalars merged as a set (no keys) */
};

/* Kubernetes' list types (x-kubernetes-list-type map / set) for the kinds
 * servescale serves; containerPort's key has protocol's default. */
static const struct list_rule rules[] = {
    {"containers", NULL, NULL, {"name"}, {NULL}, false},
    {"initContainers", NULL, NULL, {"name"}, {NULL}, false},
    {"ephemeralContainers", NULL, NULL, {"name"}, {NULL}, false},
    {"env", NULL, "containers", {"name"}, {NULL}, false},
    {"env", NULL, "initContainers", {"name"}, {NULL}, false},
    {"ports", NULL, "containers", {"containerPort", "protocol"}, {NULL, "TCP"}, false},
    {"ports", NULL, "initContainers", {"containerPort", "protocol"}, {NULL, "TCP"}, false},
    {"volumeMounts", NULL, "containers", {"mountPath"}, {NULL}, false},
    {"volumeMounts", NULL, "initContainers", {"mountPath"}, {NULL}, false},
    {"volumes", "spec", NULL, {"name"}, {NULL}, false},
    {"predictors", "spec", "", {"name"}, {NULL}, false},
    {"ownerReferences", "metadata", "", {"uid"}, {NULL}, false},
    {"conditions", NULL, NULL, {"type"}, {NULL}, false},
    {"finalizers", "metadata", "", {NULL}, {NULL}, true},
};

static const struct list_rule *rule_for(const struct where *w) {
  for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
    const struct list_rule *r = &rules[i];
    if (strcmp(r->field, w->field) == 0 && (!r->parent || strcmp(r->parent, w->parent) == 0) &&
        (!r->outer || strcmp(r->outer, w->outer) == 0))
      return r;
  }
  return NULL;
}

/* A LabelSelector is replaced whole (structType=atomic). */
static bool atomic_map(const struct where *w) {
  return strcmp(w->field, "selector") == 0 || w->depth > SS_APPLY_MAX_DEPTH;
}

static struct where field_where(const struct where *w, const char *key) {
  return (struct where){key, w->field, w->outer, w->depth + 1};
}

static struct where item_where(const struct where *w) {
  return (struct where){"", w->field, w->field, w->depth + 1};
}

static char *prefixed(const char *prefix, const char *s) {
  size_t pl = strlen(prefix), sl = strlen(s);
  char *out = malloc(pl + sl + 1);
  if (out) {
    memcpy(out, prefix, pl);
    memcpy(out + pl, s, sl + 1);
  }
  return out;
}

/* An item's path element ("k:{\"name\":\"x\"}", "v:\"x\""); NULL when it
 * lacks a key or the key is not a scalar. Caller frees. */
static char *item_pe(const json_t *item, const struct list_rule *r) {
  if (r->set) {
    if (json_is_object(item) || json_is_array(item))
      return NULL;
    char *v = json_dumps(item, JSON_COMPACT | JSON_ENCODE_ANY);
    char *pe = v ? prefixed("v:", v) : NULL;
    free(v);
    return pe;
  }
  if (!json_is_object(item))
    return NULL;
  json_t *key = json_object();
  for (int i = 0; i < 2 && r->keys[i]; i++) {
    json_t *v = json_object_get(item, r->keys[i]);
    if (!v && r->dflt[i])
      v = json_string(r->dflt[i]);
    else
      json_incref(v);
    if (!v || json_is_object(v) || json_is_array(v) || json_is_null(v)) {
      json_decref(v);
      json_decref(key);
      return NULL;
    }
    json_object_set_new(key, r->keys[i], v);
  }
  char *k = json_dumps(key, JSON_COMPACT | JSON_SORT_KEYS);
  json_decref(key);
  char *pe = k ? prefixed("k:", k) : NULL;
  free(k);
  return pe;
}

/* The items of a list that merges by key here, by path element in list
 * order (a new object of borrowed items); NULL when the list is atomic
 * here: no rule, an item without its key, or two items with one key. */
static json_t *keyed(const json_t *list, const struct where *w) {
  const struct list_rule *r = json_is_array(list) && w->depth <= SS_APPLY_MAX_DEPTH
                                  ? rule_for(w) : NULL;
  if (!r)
    return NULL;
  json_t *out = json_object();
  size_t i;
  json_t *it;
  json_array_foreach(list, i, it) {
    char *pe = item_pe(it, r);
    bool dup = pe && json_object_get(out, pe);
    if (pe && !dup)
      json_object_set(out, pe, it);
    free(pe);
    if (!pe || dup) {
      json_decref(out);
      return NULL;
    }
  }
  return out;
}

/* ---- field sets: a tree of path elements; "." marks a member ---- */

static json_t *node_child(json_t *node, const char *pe) {
  json_t *c = json_object_get(node, pe);
  if (!c) {
    c = json_object();
    json_object_set_new(node, pe, c);
  }
  return c;
}

static void node_mark(json_t *node) { json_object_set_new(node, ".", json_object()); }

static bool node_member(const json_t *node) { return json_object_get(node, ".") != NULL; }

static void set_union_into(json_t *dst, const json_t *src) {
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)src, k, v) {
    if (strcmp(k, ".") == 0)
      node_mark(dst);
    else
      set_union_into(node_child(dst, k), v);
  }
}

/* Removes src's members from dst; drops nodes left empty. */
static void set_subtract(json_t *dst, const json_t *src) {
  const char *k;
  json_t *v;
  void *tmp;
  json_object_foreach_safe(dst, tmp, k, v) {
    json_t *s = json_object_get(src, k);
    if (!s)
      continue;
    if (strcmp(k, ".") == 0) {
      json_object_del(dst, k);
      continue;
    }
    set_subtract(v, s);
    if (json_object_size(v) == 0)
      json_object_del(dst, k);
  }
}

/* A new set: the members of both. */
static json_t *set_intersect(const json_t *a, const json_t *b) {
  json_t *out = json_object();
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)a, k, v) {
    json_t *o = json_object_get(b, k);
    if (!o)
      continue;
    if (strcmp(k, ".") == 0) {
      node_mark(out);
      continue;
    }
    json_t *c = set_intersect(v, o);
    if (json_object_size(c))
      json_object_set(out, k, c);
    json_decref(c);
  }
  return out;
}

/* The fields of a value (typed/tofieldset.go): leaves, keyed items, empty
 * maps and nulls, atomic lists and maps whole. */
static void fieldset(const json_t *v, const struct where *w, json_t *node) {
  if (json_is_object(v) && !atomic_map(w)) {
    const char *k;
    json_t *val;
    json_object_foreach((json_t *)v, k, val) {
      char *pe = prefixed("f:", k);
      json_t *c = pe ? node_child(node, pe) : NULL;
      free(pe);
      if (!c)
        continue;
      struct where cw = field_where(w, k);
      if (json_is_null(val) || (json_is_object(val) && json_object_size(val) == 0))
        node_mark(c);
      else
        fieldset(val, &cw, c);
    }
    return;
  }
  json_t *items = json_is_array(v) ? keyed(v, w) : NULL;
  if (!items) {
    node_mark(node);
    return;
  }
  struct where iw = item_where(w);
  const char *pe;
  json_t *it;
  json_object_foreach(items, pe, it) {
    json_t *c = node_child(node, pe);
    node_mark(c);
    if (json_is_object(it))
      fieldset(it, &iw, c);
  }
  json_decref(items);
}

/* Drops what no manager owns: the object's identity and bookkeeping
 * (Kubernetes' stripMeta) and, when it is a subresource's, status. */
static void strip_set(json_t *set, bool reset_status) {
  static const char *const meta[] = {"f:name", "f:namespace", "f:creationTimestamp",
                                     "f:selfLink", "f:uid", "f:generation",
                                     "f:managedFields", "f:resourceVersion", ".", NULL};
  json_object_del(set, "f:apiVersion");
  json_object_del(set, "f:kind");
  if (reset_status)
    json_object_del(set, "f:status");
  json_t *md = json_object_get(set, "f:metadata");
  for (int i = 0; md && meta[i]; i++)
    json_object_del(md, meta[i]);
  if (md && json_object_size(md) == 0)
    json_object_del(set, "f:metadata");
}

/* FieldsV1 ({"f:a": {}, "k:{..}": {".": {}, ...}}) to a set; a new one. */
static json_t *set_from_v1(const json_t *v1, int depth) {
  json_t *node = json_object();
  const char *k;
  json_t *v;
  if (depth > SS_APPLY_MAX_DEPTH)
    return node;
  json_object_foreach((json_t *)v1, k, v) {
    if (strcmp(k, ".") == 0) {
      node_mark(node);
      continue;
    }
    if (!json_is_object(v))
      continue;
    json_t *c = set_from_v1(v, depth + 1);
    if (json_object_size(v) == 0)
      node_mark(c);
    json_object_set_new(node, k, c);
  }
  return node;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A set as FieldsV1, keys sorted as Kubernetes writes them; a new one. */
static json_t *set_to_v1(const json_t *node) {
  json_t *out = json_object();
  size_t n = json_object_size(node), i = 0;
  const char **keys = calloc(n + 1, sizeof *keys);
  const char *k;
  json_t *v;
  if (!keys)
    return out;
  json_object_foreach((json_t *)node, k, v) keys[i++] = k;
  qsort(keys, n, sizeof *keys, cmp_str);
  for (i = 0; i < n; i++) {
    const json_t *c = json_object_get(node, keys[i]);
    if (strcmp(keys[i], ".") == 0) {
      if (n > 1)
        json_object_set_new(out, ".", json_object());
      continue;
    }
    json_object_set_new(out, keys[i], set_to_v1(c));
  }
  free(keys);
  return out;
}

/* ---- merge (typed/merge.go): the config's values win; keyed lists by key ---- */

static json_t *merge(const json_t *l, const json_t *r, const struct where *w);

static json_t *merge_maps(const json_t *l, const json_t *r, const struct where *w) {
  json_t *out = json_object();
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)l, k, v) {
    struct where cw = field_where(w, k);
    json_t *rv = json_object_get(r, k);
    json_object_set_new(out, k, rv ? merge(v, rv, &cw) : json_deep_copy(v));
  }
  json_object_foreach((json_t *)r, k, v) if (!json_object_get(l, k))
      json_object_set_new(out, k, json_deep_copy(v));
  return out;
}

static json_t *merge_item(const json_t *l, const json_t *r, const struct where *w) {
  struct where iw = item_where(w);
  return l ? merge(l, r, &iw) : json_deep_copy(r);
}

/* structured-merge-diff's order: items only the live list has keep their
 * place, shared items follow the config's order, new items come where the
 * config puts them. */
static json_t *merge_lists(const json_t *kl, const json_t *kr, const struct where *w) {
  json_t *out = json_array(), *done = json_object(), *shared = json_array();
  size_t ln = json_object_size(kl), rn = json_object_size(kr), li = 0, ri = 0, si = 0;
  const char **lpes = calloc(ln + 1, sizeof *lpes), **rpes = calloc(rn + 1, sizeof *rpes);
  const char *k;
  json_t *v;
  if (!lpes || !rpes)
    goto out;
  json_object_foreach((json_t *)kl, k, v) lpes[li++] = k;
  json_object_foreach((json_t *)kr, k, v) {
    rpes[ri++] = k;
    if (json_object_get(kl, k))
      json_array_append_new(shared, json_string(k));
  }
  li = ri = 0;
#define NEXT_SHARED() json_string_value(json_array_get(shared, si))
  while (li < ln || ri < rn) {
    if (li < ln && ri < rn) {
      if (strcmp(lpes[li], rpes[ri]) == 0) {
        json_object_set_new(done, rpes[ri], json_true());
        json_array_append_new(out, merge_item(json_object_get(kl, lpes[li]),
                                              json_object_get(kr, rpes[ri]), w));
        li++, ri++, si++;
        continue;
      }
      if (json_object_get(kr, lpes[li]) && NEXT_SHARED() && strcmp(NEXT_SHARED(), lpes[li])) {
        li++; /* shared, but not the one this round takes */
        continue;
      }
    }
    if (li < ln) {
      if (!json_object_get(kr, lpes[li])) {
        json_array_append_new(out, json_deep_copy(json_object_get(kl, lpes[li])));
        li++;
        continue;
      }
      if (json_object_get(done, lpes[li]))
        li++;
    }
    if (ri < rn) {
      json_object_set_new(done, rpes[ri], json_true());
      json_array_append_new(out, merge_item(json_object_get(kl, rpes[ri]),
                                            json_object_get(kr, rpes[ri]), w));
      if (NEXT_SHARED() && strcmp(NEXT_SHARED(), rpes[ri]) == 0)
        si++;
      ri++;
    }
  }
#undef NEXT_SHARED
out:
  free(lpes);
  free(rpes);
  json_decref(done);
  json_decref(shared);
  return out;
}

static json_t *merge(const json_t *l, const json_t *r, const struct where *w) {
  if (!l || !r)
    return json_deep_copy(l ? l : r);
  if (json_is_object(l) && json_is_object(r) && !atomic_map(w))
    return merge_maps(l, r, w);
  json_t *kl = keyed(l, w), *kr = kl ? keyed(r, w) : NULL, *out;
  out = kl && kr ? merge_lists(kl, kr, w) : json_deep_copy(r);
  json_decref(kl);
  json_decref(kr);
  return out;
}

/* ---- compare (typed/compare.go): what a write added, changed, removed ---- */

struct cmp {
  json_t *added, *modified, *removed;
  const char *pes[SS_APPLY_MAX_DEPTH + 8];
  int n;
};

static void cmp_insert(json_t *set, const struct cmp *c) {
  if (c->n == 0)
    return;
  for (int i = 0; i < c->n; i++)
    set = node_child(set, c->pes[i]);
  node_mark(set);
}

static void compare(const json_t *l, const json_t *r, const struct where *w, struct cmp *c);

static void compare_child(const json_t *l, const json_t *r, const char *pe,
                          const struct where *w, struct cmp *c) {
  if (c->n >= SS_APPLY_MAX_DEPTH)
    return;
  c->pes[c->n++] = pe;
  compare(l, r, w, c);
  c->n--;
}

static void compare_maps(const json_t *l, const json_t *r, const struct where *w, struct cmp *c) {
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)l, k, v) {
    char *pe = prefixed("f:", k);
    struct where cw = field_where(w, k);
    if (pe)
      compare_child(v, json_object_get(r, k), pe, &cw, c);
    free(pe);
  }
  json_object_foreach((json_t *)r, k, v) {
    if (json_object_get(l, k))
      continue;
    char *pe = prefixed("f:", k);
    struct where cw = field_where(w, k);
    if (pe)
      compare_child(NULL, v, pe, &cw, c);
    free(pe);
  }
}

static void compare_lists(const json_t *kl, const json_t *kr, const struct where *w,
                          struct cmp *c) {
  struct where iw = item_where(w);
  const char *pe;
  json_t *v;
  json_object_foreach((json_t *)kl, pe, v) compare_child(v, json_object_get(kr, pe), pe, &iw, c);
  json_object_foreach((json_t *)kr, pe, v) if (!json_object_get(kl, pe))
      compare_child(NULL, v, pe, &iw, c);
}

/* Whether v has parts compared one by one here (else it is one leaf). */
static bool granular(const json_t *v, const struct where *w) {
  if (json_is_object(v))
    return json_object_size(v) && !atomic_map(w);
  json_t *k = json_array_size(v) ? keyed(v, w) : NULL;
  json_decref(k);
  return k != NULL;
}

static void compare(const json_t *l, const json_t *r, const struct where *w, struct cmp *c) {
  if (!l || !r) {
    const json_t *v = l ? l : r;
    if (granular(v, w)) {
      if (json_is_object(v)) {
        compare_maps(l, r, w, c);
      } else {
        json_t *k = keyed(v, w);
        compare_lists(l ? k : NULL, r ? k : NULL, w, c);
        json_decref(k);
      }
    }
    cmp_insert(l ? c->removed : c->added, c);
    return;
  }
  if (json_is_object(l) && json_is_object(r) && (granular(l, w) || granular(r, w))) {
    compare_maps(l, r, w, c);
    return;
  }
  json_t *kl = json_is_array(l) && json_is_array(r) ? keyed(l, w) : NULL;
  json_t *kr = kl ? keyed(r, w) : NULL;
  if (kr && (json_object_size(kl) || json_object_size(kr)))
    compare_lists(kl, kr, w, c);
  else if (!json_equal((json_t *)l, (json_t *)r))
    cmp_insert(c->modified, c);
  json_decref(kl);
  json_decref(kr);
}

/* ---- prune (merge/update.go): what the applier no longer applies ---- */

/* Removes from v (changed in place) each field and keyed item in last
 * that no manager (owned, the union of all, the applier's new set among
 * them) owns, with everything beneath it. */
static void prune(json_t *v, const json_t *last, const json_t *owned, const struct where *w) {
  if (json_is_object(v) && !atomic_map(w)) {
    const char *k;
    json_t *val;
    void *tmp;
    json_object_foreach_safe(v, tmp, k, val) {
      char *pe = prefixed("f:", k);
      const json_t *ln = pe ? json_object_get(last, pe) : NULL;
      const json_t *on = ln ? json_object_get(owned, pe) : NULL;
      struct where cw = field_where(w, k);
      free(pe);
      if (!ln)
        continue;
      if (!on)
        json_object_del(v, k);
      else
        prune(val, ln, on, &cw);
    }
    return;
  }
  json_t *items = keyed(v, w);
  if (!items)
    return;
  struct where iw = item_where(w);
  json_t *kept = json_array();
  const char *pe;
  json_t *it;
  json_object_foreach(items, pe, it) {
    const json_t *ln = json_object_get(last, pe);
    const json_t *on = ln ? json_object_get(owned, pe) : NULL;
    if (ln && !on)
      continue;
    if (ln)
      prune(it, ln, on, &iw);
    json_array_append(kept, it);
  }
  json_array_clear(v);
  json_array_extend(v, kept);
  json_decref(kept);
  json_decref(items);
}

/* ---- managers: metadata.managedFields ---- */

struct mgr {
  const char *manager, *operation, *api_version, *subresource; /* borrowed or static */
  char time[40];
  json_t *set;
};

struct mgrs {
  struct mgr *v;
  size_t n;
};

static void mgrs_free(struct mgrs *m) {
  for (size_t i = 0; i < m->n; i++)
    json_decref(m->v[i].set);
  free(m->v);
  m->v = NULL;
  m->n = 0;
}

static struct mgr *mgrs_add(struct mgrs *m) {
  struct mgr *v = realloc(m->v, (m->n + 1) * sizeof *v);
  if (!v)
    return NULL;
  m->v = v;
  memset(&v[m->n], 0, sizeof v[m->n]);
  return &v[m->n++];
}

static const char *str_or(const json_t *obj, const char *key, const char *dflt) {
  const char *s = json_string_value(json_object_get(obj, key));
  return s ? s : dflt;
}

/* Decodes managedFields (borrowed: the strings stay mf's); false when an
 * entry is not one (m is then empty: tracking starts over, as the API
 * server does when it cannot decode them). */
static bool mgrs_decode(const json_t *mf, struct mgrs *m) {
  size_t i;
  json_t *e;
  json_array_foreach(mf, i, e) {
    const char *op = str_or(e, "operation", "");
    const json_t *v1 = json_object_get(e, "fieldsV1");
    struct mgr *g = (strcmp(op, "Apply") == 0 || strcmp(op, "Update") == 0) &&
                            json_is_string(json_object_get(e, "manager")) && json_is_object(v1)
                        ? mgrs_add(m) : NULL;
    if (!g) {
      mgrs_free(m);
      return false;
    }
    g->manager = str_or(e, "manager", "");
    g->operation = op;
    g->api_version = str_or(e, "apiVersion", "");
    g->subresource = str_or(e, "subresource", "");
    snprintf(g->time, sizeof g->time, "%s", str_or(e, "time", ""));
    g->set = set_from_v1(v1, 0);
  }
  return true;
}

/* Kubernetes' manager identity: an Apply manager is one whatever the
 * version it applied with; an Update manager is one per version. */
static bool mgr_is(const struct mgr *g, const char *manager, const char *op,
                   const char *api_version, const char *sub) {
  return strcmp(g->manager, manager) == 0 && strcmp(g->operation, op) == 0 &&
         strcmp(g->subresource, sub ? sub : "") == 0 &&
         (strcmp(op, "Apply") == 0 || strcmp(g->api_version, api_version) == 0);
}

static struct mgr *mgrs_find(struct mgrs *m, const char *manager, const char *op,
                             const char *api_version, const char *sub) {
  for (size_t i = 0; i < m->n; i++)
    if (mgr_is(&m->v[i], manager, op, api_version, sub))
      return &m->v[i];
  return NULL;
}

/* How Kubernetes names a manager in a conflict (printManager). */
static void mgr_describe(const struct mgr *g, char *buf, size_t size) {
  int n = snprintf(buf, size, "\"%s\"", g->manager);
  if (n > 0 && (size_t)n < size && g->subresource[0])
    n += snprintf(buf + n, size - (size_t)n, " with subresource \"%s\"", g->subresource);
  if (n > 0 && (size_t)n < size && strcmp(g->operation, "Update") == 0)
    snprintf(buf + n, size - (size_t)n, " using %s", g->api_version);
}

static int mgr_order(const void *a, const void *b) {
  const struct mgr *p = a, *q = b;
  int c;
  if ((c = strcmp(p->operation, q->operation)) || (c = strcmp(p->time, q->time)) ||
      (c = strcmp(p->manager, q->manager)) || (c = strcmp(p->api_version, q->api_version)))
    return c;
  return strcmp(p->subresource, q->subresource);
}

/* Writes m into obj's metadata.managedFields, sorted as the API server
 * sorts them (operation, time, manager, version, subresource); managers
 * left with no field are dropped, and no managers means no managedFields. */
static void mgrs_encode(struct mgrs *m, json_t *obj) {
  json_t *md = json_object_get(obj, "metadata");
  if (!json_is_object(md)) {
    md = json_object();
    json_object_set_new(obj, "metadata", md);
  }
  if (m->n)
    qsort(m->v, m->n, sizeof *m->v, mgr_order);
  json_t *mf = json_array();
  for (size_t i = 0; i < m->n; i++) {
    const struct mgr *g = &m->v[i];
    if (json_object_size(g->set) == 0)
      continue;
    json_t *e = json_pack("{s:s, s:s, s:o, s:s, s:s}", "apiVersion", g->api_version,
                          "fieldsType", "FieldsV1", "fieldsV1", set_to_v1(g->set), "manager",
                          g->manager, "operation", g->operation);
    if (g->subresource[0])
      json_object_set_new(e, "subresource", json_string(g->subresource));
    if (g->time[0])
      json_object_set_new(e, "time", json_string(g->time));
    json_array_append_new(mf, e);
  }
  if (json_array_size(mf))
    json_object_set_new(md, "managedFields", mf);
  else {
    json_object_del(md, "managedFields");
    json_decref(mf);
  }
}

/* A shallow copy of obj without metadata.managedFields (what is compared). */
static json_t *bare(const json_t *obj) {
  if (!json_is_object(obj))
    return NULL;
  json_t *out = json_copy((json_t *)obj);
  json_t *md = json_object_get(out, "metadata");
  if (json_is_object(md)) {
    md = json_copy(md);
    json_object_del(md, "managedFields");
    json_object_set_new(out, "metadata", md);
  }
  return out;
}

static const struct where root = {"", "", "", 0};

/* compare(live, next) without what no manager owns. */
static void compare_objects(const json_t *live, const json_t *next, bool reset_status,
                            struct cmp *c) {
  json_t *l = bare(live), *r = bare(next);
  c->added = json_object();
  c->modified = json_object();
  c->removed = json_object();
  c->n = 0;
  if (l || r)
    compare(l, r, &root, c);
  strip_set(c->added, reset_status);
  strip_set(c->modified, reset_status);
  strip_set(c->removed, reset_status);
  json_decref(l);
  json_decref(r);
}

static void cmp_free(struct cmp *c) {
  json_decref(c->added);
  json_decref(c->modified);
  json_decref(c->removed);
}

/* The Update a write makes (merge/update.go Update, with the API server's
 * "current-operation" merged into the manager's previous entry). */
static void mgrs_update(struct mgrs *m, const json_t *live, const json_t *next,
                        const char *manager, const struct ss_apply_op *op) {
  struct cmp c;
  compare_objects(live, next, op->reset_status, &c);
  json_t *changed = json_deep_copy(c.added);
  set_union_into(changed, c.modified);
  for (size_t i = 0; i < m->n; i++) {
    set_subtract(m->v[i].set, changed);
    set_subtract(m->v[i].set, c.removed);
  }
  if (json_object_size(changed)) {
    struct mgr *g = mgrs_find(m, manager, "Update", op->api_version, op->subresource);
    if (!g && (g = mgrs_add(m))) {
      *g = (struct mgr){manager, "Update", op->api_version,
                        op->subresource ? op->subresource : "", "", json_object()};
    }
    if (g) {
      set_union_into(g->set, changed);
      snprintf(g->time, sizeof g->time, "%s", op->now ? op->now : "");
    }
  }
  json_decref(changed);
  cmp_free(&c);
}

static bool has_uid(const json_t *obj) {
  return json_string_value(json_object_get(json_object_get(obj, "metadata"), "uid")) != NULL;
}

void ss_apply_record_update(const json_t *live, json_t *next, const struct ss_apply_op *op) {
  struct mgrs m = {0};
  const json_t *own = json_object_get(json_object_get(next, "metadata"), "managedFields");
  json_t *keep = json_incref((json_t *)own); /* m borrows its strings */
  bool reset = json_is_array(own) && json_array_size(own) == 0;
  if (!reset && (!mgrs_decode(own, &m) || m.n == 0))
    mgrs_decode(json_object_get(json_object_get(live, "metadata"), "managedFields"), &m);
  if (m.n || !live || !has_uid(live)) /* an untracked object stays so until applied */
    mgrs_update(&m, live, next, op->manager, op);
  mgrs_encode(&m, next);
  mgrs_free(&m);
  json_decref(keep);
}

/* ---- apply ---- */

/* Checks the keyed lists of a config: every item has its key, once. */
static enum ss_err check_keys(const json_t *v, const struct where *w, char *path, size_t plen,
                              struct ss_error *err) {
  size_t used = strlen(path);
  if (w->depth > SS_APPLY_MAX_DEPTH || used + 2 >= plen)
    return SS_EOK;
  if (json_is_object(v)) {
    const char *k;
    json_t *val;
    json_object_foreach((json_t *)v, k, val) {
      struct where cw = field_where(w, k);
      snprintf(path + used, plen - used, "%s%s", used ? "." : "", k);
      enum ss_err rc = check_keys(val, &cw, path, plen, err);
      path[used] = '\0';
      if (rc)
        return rc;
    }
    return SS_EOK;
  }
  const struct list_rule *r = json_is_array(v) ? rule_for(w) : NULL;
  json_t *items = r ? keyed(v, w) : NULL;
  if (r && !items) {
    return ss_error_set(err, SS_EINVALID, 0, 0,
                        r->set ? "%s: Invalid value: a set's items must be distinct scalars"
                               : "%s: Invalid value: every item must have its key (%s%s%s), "
                                 "and no two the same",
                        path, r->keys[0] ? r->keys[0] : "", r->keys[1] ? ", " : "",
                        r->keys[1] ? r->keys[1] : "");
  }
  struct where iw = item_where(w);
  size_t i = 0;
  const char *pe;
  json_t *it;
  enum ss_err rc = SS_EOK;
  json_object_foreach(items, pe, it) {
    snprintf(path + used, plen - used, "[%zu]", i++);
    rc = check_keys(it, &iw, path, plen, err);
    path[used] = '\0';
    if (rc)
      break;
  }
  json_decref(items);
  return rc;
}

/* The managers of a live object; one that no apply or tracked write has
 * touched is, as in Kubernetes, all "before-first-apply"'s. */
static void live_managers(const json_t *live, const struct ss_apply_op *op, struct mgrs *m) {
  if (!live)
    return;
  mgrs_decode(json_object_get(json_object_get(live, "metadata"), "managedFields"), m);
  if (m->n == 0)
    mgrs_update(m, NULL, live, "before-first-apply", op);
}

/* Conflicts of the fields changed with every manager but the applier's
 * (g); with force they change hands, else *conflicts lists them. */
static json_t *take_fields(struct mgrs *m, const struct mgr *g, const json_t *changed, bool force);

enum ss_err ss_apply(const json_t *live, const json_t *config, const struct ss_apply_op *op,
                     json_t **out, json_t **conflicts, struct ss_error *err) {
  enum ss_err rc = SS_EOK;
  struct mgrs m = {0};
  json_t *cfg = NULL, *merged = NULL, *set = NULL, *last = NULL, *owned = NULL;
  struct cmp c = {0};
  char path[512] = "";
  *out = NULL;
  *conflicts = NULL;
  const json_t *cmd = json_object_get(config, "metadata");
  if (json_array_size(json_object_get(cmd, "managedFields")) ||
      json_object_size(json_object_get(cmd, "managedFields"))) {
    rc = ss_error_set(err, SS_EUSAGE, 0, 0, "metadata.managedFields must be nil");
    goto out;
  }
  if ((rc = check_keys(config, &root, path, sizeof path, err)))
    goto out;
  cfg = bare(config);
  if (op->reset_status)
    json_object_del(cfg, "status");
  live_managers(live, op, &m);
  json_t *lb = bare(live);
  merged = lb ? merge(lb, cfg, &root) : json_deep_copy(cfg);
  json_decref(lb);
  set = json_object();
  fieldset(cfg, &root, set);
  strip_set(set, op->reset_status);
  struct mgr *g = mgrs_find(&m, op->manager, "Apply", "", op->subresource);
  if (!g && (g = mgrs_add(&m)))
    *g = (struct mgr){op->manager, "Apply", "", op->subresource ? op->subresource : "", "", NULL};
  if (!g) {
    rc = ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
    goto out;
  }
  last = g->set;
  g->set = json_incref(set);
  g->api_version = op->api_version;
  if (json_object_size(last)) {
    owned = json_object();
    for (size_t i = 0; i < m.n; i++)
      set_union_into(owned, m.v[i].set);
    prune(merged, last, owned, &root);
  }
  if (op->defaults)
    op->defaults(merged, op->ctx);
  compare_objects(live, merged, op->reset_status, &c);
  json_t *changed = json_deep_copy(c.added);
  set_union_into(changed, c.modified);
  *conflicts = take_fields(&m, g, changed, op->force);
  json_decref(changed);
  if (*conflicts) {
    rc = SS_ECONFLICT;
    goto out;
  }
  for (size_t i = 0; i < m.n; i++)
    if (&m.v[i] != g)
      set_subtract(m.v[i].set, c.removed);
  json_t *lbare = bare(live), *mbare = bare(merged);
  if (!lbare || !json_equal(lbare, mbare)) /* as the API server, the time of a change */
    snprintf(g->time, sizeof g->time, "%s", op->now ? op->now : "");
  json_decref(lbare);
  json_decref(mbare);
  mgrs_encode(&m, merged);
  *out = merged;
  merged = NULL;
out:
  mgrs_free(&m);
  cmp_free(&c);
  json_decref(cfg);
  json_decref(merged);
  json_decref(set);
  json_decref(last);
  json_decref(owned);
  return rc;
}

/* ---- conflicts ---- */

/* ".spec", "[name=\"x\"]", "[=\"x\"]" for one path element (fieldpath's
 * PathElement.String), appended to buf. */
static void pe_string(const char *pe, char *buf, size_t size) {
  size_t used = strlen(buf);
  if (used >= size)
    return;
  if (strncmp(pe, "f:", 2) == 0) {
    snprintf(buf + used, size - used, ".%s", pe + 2);
    return;
  }
  json_t *v = json_loads(pe + 2, JSON_DECODE_ANY, NULL);
  char part[512] = "";
  size_t pu = 0;
  const char *k;
  json_t *kv;
  if (strncmp(pe, "k:", 2) == 0 && json_is_object(v)) {
    json_object_foreach(v, k, kv) {
      char *s = json_dumps(kv, JSON_ENCODE_ANY | JSON_COMPACT);
      if (pu < sizeof part)
        pu += (size_t)snprintf(part + pu, sizeof part - pu, "%s%s=%s", pu ? "," : "", k,
                               s ? s : "");
      free(s);
    }
  } else {
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    snprintf(part, sizeof part, "=%s", s ? s : pe + 2);
    free(s);
  }
  json_decref(v);
  snprintf(buf + used, size - used, "[%s]", part);
}

/* Appends {"manager": desc, "field": path} for each member of set. */
static void list_members(const json_t *set, const char *desc, char *path, size_t size,
                         json_t *out) {
  const char *k;
  json_t *v;
  size_t used = strlen(path);
  if (node_member(set) && used)
    json_array_append_new(out, json_pack("{s:s, s:s}", "manager", desc, "field", path));
  json_object_foreach((json_t *)set, k, v) {
    if (strcmp(k, ".") == 0)
      continue;
    pe_string(k, path, size);
    list_members(v, desc, path, size, out);
    path[used] = '\0';
  }
}

static int conflict_order(const void *a, const void *b) {
  const json_t *p = *(const json_t *const *)a, *q = *(const json_t *const *)b;
  int c = strcmp(str_or(p, "manager", ""), str_or(q, "manager", ""));
  return c ? c : strcmp(str_or(p, "field", ""), str_or(q, "field", ""));
}

static json_t *sorted(json_t *arr) {
  size_t n = json_array_size(arr);
  json_t **v = calloc(n + 1, sizeof *v);
  if (!v)
    return arr;
  for (size_t i = 0; i < n; i++)
    v[i] = json_incref(json_array_get(arr, i));
  qsort(v, n, sizeof *v, conflict_order);
  json_array_clear(arr);
  for (size_t i = 0; i < n; i++)
    json_array_append_new(arr, v[i]);
  free(v);
  return arr;
}

static json_t *take_fields(struct mgrs *m, const struct mgr *g, const json_t *changed,
                           bool force) {
  json_t *found = json_array();
  for (size_t i = 0; i < m->n; i++) {
    struct mgr *o = &m->v[i];
    if (o == g)
      continue;
    json_t *both = set_intersect(o->set, changed);
    if (force) {
      set_subtract(o->set, both);
    } else if (json_object_size(both)) {
      char desc[400], path[1024] = "";
      mgr_describe(o, desc, sizeof desc);
      list_members(both, desc, path, sizeof path, found);
    }
    json_decref(both);
  }
  if (json_array_size(found))
    return sorted(found);
  json_decref(found);
  return NULL;
}

json_t *ss_apply_conflict_status(const json_t *conflicts) {
  size_t n = json_array_size(conflicts), i;
  json_t *causes = json_array(), *c;
  char msg[2048];
  size_t used = 0;
  const char *prev = NULL;
  if (n == 1) {
    c = json_array_get(conflicts, 0);
    snprintf(msg, sizeof msg, "Apply failed with 1 conflict: conflict with %s: %s",
             str_or(c, "manager", ""), str_or(c, "field", ""));
  } else {
    used = (size_t)snprintf(msg, sizeof msg, "Apply failed with %zu conflicts: ", n);
  }
  json_array_foreach(conflicts, i, c) {
    const char *mgr = str_or(c, "manager", ""), *field = str_or(c, "field", "");
    char cm[512];
    snprintf(cm, sizeof cm, "conflict with %s", mgr);
    json_array_append_new(causes, json_pack("{s:s, s:s, s:s}", "reason", "FieldManagerConflict",
                                            "message", cm, "field", field));
    if (n == 1 || used >= sizeof msg)
      continue;
    if (!prev || strcmp(prev, mgr) != 0)
      used += (size_t)snprintf(msg + used, sizeof msg - used, "%sconflicts with %s:",
                               prev ? "\n" : "", mgr);
    if (used < sizeof msg)
      used += (size_t)snprintf(msg + used, sizeof msg - used, "\n- %s", field);
    prev = mgr;
  }
  return json_pack("{s:s, s:s, s:{}, s:s, s:s, s:s, s:{s:o}, s:i}", "kind", "Status",
                   "apiVersion", "v1", "metadata", "status", "Failure", "message", msg,
                   "reason", "Conflict", "details", "causes", causes, "code", 409);
}

/* ---- managers' names ---- */

void ss_apply_default_manager(const char *user_agent, char *buf, size_t size) {
  size_t n = 0;
  for (const char *p = user_agent; p && *p && *p != '/' && n + 1 < size &&
                                   n < SS_APPLY_MAX_MANAGER; p++)
    if ((unsigned char)*p >= 0x20 && *p != 0x7f)
      buf[n++] = *p;
  buf[n] = '\0';
  if (n == 0)
    snprintf(buf, size, "unknown");
}

const char *ss_apply_check_manager(const char *manager, char *buf, size_t size) {
  if (strlen(manager) > SS_APPLY_MAX_MANAGER) {
    snprintf(buf, size, "Too long: may not be more than %d bytes", SS_APPLY_MAX_MANAGER);
    return buf;
  }
  for (const char *p = manager; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f) {
      snprintf(buf, size, "Invalid value: \"%.128s\": invalid character %#x (at position %td)",
               manager, (unsigned)(unsigned char)*p, p - manager);
      return buf;
    }
  return NULL;
}
