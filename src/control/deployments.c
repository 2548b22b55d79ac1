/* deployments.c: the SeldonDeployment controller's apps/v1 Deployments
 * (deployments.h). The objects come from src/k8s, as `servescale render`
 * prints them; this file adds what a cluster adds (ownerReferences, the
 * replica count, the status) and garbage-collects by owner uid.
 *
 * A pass must cost little where nothing changed: what was last written is
 * remembered per Deployment, and trusted until a watch on the store shows
 * someone else changed that Deployment (a kubectl scale, say); and an
 * owner whose object and runs are what they were when its Deployments were
 * last written whole is not rendered again. */
#include "control/deployments.h"
#include "model/owners.h"
#include "common/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "k8s/k8s.h"

/* Our writes of one Deployment remembered to tell them from others' in the
 * watch: two a pass at most (spec, status), read at the next pass. */
#define OUR_RVS 4

/* Kubernetes' default Deployment strategy: RollingUpdate, maxUnavailable 25%
 * (rounded down), which is what the Available condition is measured by. */
#define MAX_UNAVAILABLE_PERCENT 25

struct ss_deployments {
  struct ss_store *st;
  /* "ns/name" -> {"fp": what was last written, "gen": generation, "status",
   * "uid", "hash", "rvs": [resourceVersions of our last writes of it, at
   * most OUR_RVS], "stale": true once someone else wrote it: then it is
   * written again, which stores nothing where nothing differs} */
  json_t *written;
  /* owner uid -> {"sig": signature of its object and runs when all its
   * Deployments were last written without error, "rv" and "obj": the
   * resourceVersion of its object and the signature of that version} */
  json_t *synced;
  /* the Deployments in the store, as the watch has shown them: "ns/name" ->
   * the uid of their controller owner (null: none); valid when indexed */
  json_t *stored;
  bool indexed;
  json_t *wanted;    /* this pass: "ns/name" -> owner uid */
  json_t *owners;    /* this pass: uid -> true (synced) or false (kept as is) */
  json_t *last_wanted, *last_owners; /* when the store was last collected */
  bool collected;    /* last_wanted and last_owners hold */
  struct ss_watch *watch; /* Deployments written since the last pass; NULL:
                             every memo is stale (none was watched yet) */
  bool pass_begun;   /* this pass has read the watch */
};

struct ss_deployments *ss_deployments_new(struct ss_store *st) {
  struct ss_deployments *d = calloc(1, sizeof *d);
  if (!d)
    return NULL;
  d->st = st;
  d->written = json_object();
  d->synced = json_object();
  d->stored = json_object();
  d->wanted = json_object();
  d->owners = json_object();
  d->last_wanted = json_object();
  d->last_owners = json_object();
  if (!d->written || !d->synced || !d->stored || !d->wanted || !d->owners || !d->last_wanted ||
      !d->last_owners) {
    ss_deployments_free(d);
    return NULL;
  }
  return d;
}

void ss_deployments_free(struct ss_deployments *d) {
  if (!d)
    return;
  json_decref(d->written);
  json_decref(d->synced);
  json_decref(d->stored);
  json_decref(d->wanted);
  json_decref(d->owners);
  json_decref(d->last_wanted);
  json_decref(d->last_owners);
  ss_watch_close(d->watch);
  free(d);
}

/* One condition; its times kept from the old one of the same type while
 * status and reason stay the same. */
static json_t *condition(const json_t *old_conds, const char *type, bool ok, const char *reason,
                         const char *message, const char *now) {
  const char *since = now, *updated = now;
  size_t i;
  const json_t *c;
  json_array_foreach(old_conds, i, c) {
    const char *t = json_string_value(json_object_get(c, "type"));
    const char *s = json_string_value(json_object_get(c, "status"));
    const char *r = json_string_value(json_object_get(c, "reason"));
    if (!t || strcmp(t, type) != 0)
      continue;
    if (s && strcmp(s, ok ? "True" : "False") == 0) {
      const char *lt = json_string_value(json_object_get(c, "lastTransitionTime"));
      const char *lu = json_string_value(json_object_get(c, "lastUpdateTime"));
      since = lt ? lt : now;
      if (r && strcmp(r, reason) == 0 && lu)
        updated = lu;
    }
  }
  return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", type, "status", ok ? "True" : "False",
                   "lastUpdateTime", updated, "lastTransitionTime", since, "reason", reason,
                   "message", message);
}

json_t *ss_deployment_status(const struct ss_deploy_run *run, int64_t generation,
                             const json_t *old, const char *now) {
  const struct ss_rs_status none = {0};
  const struct ss_rs_status *rs = run->rs ? run->rs : &none;
  int want = run->spec_replicas > 0 ? run->spec_replicas : 0;
  int replicas = rs->running > rs->replicas ? rs->running : rs->replicas;
  int available = rs->ready, updated = rs->updated < replicas ? rs->updated : replicas;
  int unavailable = want - available > 0 ? want - available : 0;
  json_t *st = json_pack("{s:I, s:i, s:i, s:i, s:i}", "observedGeneration", (json_int_t)generation,
                         "replicas", replicas, "updatedReplicas", updated, "readyReplicas",
                         rs->ready, "availableReplicas", available);
  if (!st)
    return NULL;
  if (unavailable)
    json_object_set_new(st, "unavailableReplicas", json_integer(unavailable));
  const json_t *old_conds = json_object_get(old, "conditions");
  bool min_available = available >= want - want * MAX_UNAVAILABLE_PERCENT / 100;
  json_t *conds = json_array();
  json_array_append_new(
      conds, condition(old_conds, "Available", min_available,
                       min_available ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
                       min_available ? "Deployment has minimum availability."
                                     : "Deployment does not have minimum availability.",
                       now));
  char msg[400];
  if (rs->failed) {
    snprintf(msg, sizeof msg, "Deployment \"%s\" cannot start its pods: %s", run->name,
             rs->message);
    json_array_append_new(conds,
                          condition(old_conds, "Progressing", false, "ProgressDeadlineExceeded",
                                    msg, now));
  } else {
    bool done = updated == want && replicas == want && available == want;
    snprintf(msg, sizeof msg, "ReplicaSet \"%s\" %s.", run->name,
             done ? "has successfully progressed" : "is progressing");
    json_array_append_new(conds, condition(old_conds, "Progressing", true,
                                           done ? "NewReplicaSetAvailable" : "ReplicaSetUpdated",
                                           msg, now));
  }
  json_object_set_new(st, "conditions", conds);
  return st;
}

static const json_t *find_named(const json_t *objs, const char *kind, const char *name) {
  size_t i;
  const json_t *o;
  json_array_foreach(objs, i, o) {
    const char *k = json_string_value(json_object_get(o, "kind"));
    const char *n = json_string_value(json_object_get(json_object_get(o, "metadata"), "name"));
    if (k && n && strcmp(k, kind) == 0 && strcmp(n, name) == 0)
      return o;
  }
  return NULL;
}

/* The Deployment as it should be stored: the rendered object, owned by obj,
 * running spec_replicas. New reference. */
static json_t *desired(const json_t *rendered, const json_t *obj, int spec_replicas) {
  json_t *d = json_deep_copy(rendered);
  json_t *ref = ss_controller_ref(obj);
  if (!d || !ref) {
    json_decref(d);
    json_decref(ref);
    return NULL;
  }
  json_object_set_new(json_object_get(d, "metadata"), "ownerReferences", json_pack("[o]", ref));
  json_object_set_new(json_object_get(d, "spec"), "replicas", json_integer(spec_replicas));
  return d;
}

/* Kubernetes' pod-template-hash: FNV-1a (32 bits) of the pod template,
 * its decimal digits spelled in the alphabet of rand.SafeEncodeString (no
 * vowels, no look-alikes), so a label value never spells a word. */
void ss_deployment_template_hash(const json_t *tmpl, char out[16]) {
  static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  char *text = json_dumps(tmpl, JSON_COMPACT | JSON_SORT_KEYS);
  uint32_t h = 2166136261u;
  for (const char *p = text ? text : ""; *p; p++)
    h = (h ^ (unsigned char)*p) * 16777619u;
  free(text);
  char dec[16];
  int n = snprintf(dec, sizeof dec, "%u", h);
  for (int i = 0; i < n; i++)
    out[i] = alphabet[(dec[i] - '0') % (sizeof alphabet - 1)];
  out[n] = '\0';
}

/* The memo of Deployment key, or NULL when there is none or it is stale. */
static json_t *fresh_memo(const struct ss_deployments *d, const char *key) {
  json_t *memo = json_object_get(d->written, key);
  return memo && !json_is_true(json_object_get(memo, "stale")) ? memo : NULL;
}

static const char *rv_of(const json_t *obj) {
  return json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
}

/* Writes one Deployment, and its status, when they differ from what was
 * last written (remembered, so that a pass that changes nothing reads
 * nothing either). */
static enum ss_err write_one(struct ss_deployments *d, const char *ns, json_t *want,
                             const struct ss_deploy_run *run, struct ss_error *err) {
  char key[300];
  snprintf(key, sizeof key, "%s/%s", ns, run->name);
  json_t *memo = fresh_memo(d, key);
  char *fp = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS);
  if (!fp)
    return ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
  enum ss_err rc = SS_EOK;
  json_t *stored = NULL, *status = NULL, *restored = NULL;
  /* the resourceVersions of our writes, to tell them from others' in the watch */
  json_t *rvs = json_copy(json_object_get(memo, "rvs"));
  if (!rvs)
    rvs = json_array();
  const char *last = json_string_value(json_object_get(memo, "fp"));
  json_int_t gen = json_integer_value(json_object_get(memo, "gen"));
  const json_t *old = json_object_get(memo, "status");
  if (!last || strcmp(last, fp) != 0) {
    if (run->expect_rv && *run->expect_rv)
      json_object_set_new(json_object_get(want, "metadata"), "resourceVersion",
                          json_string(run->expect_rv));
    rc = ss_store_update(d->st, SS_DEPLOYMENTS_KIND, want, &stored, err);
    if (rc == SS_ENOTFOUND)
      rc = ss_store_create(d->st, SS_DEPLOYMENTS_KIND, want, &stored, err);
    if (rc == SS_ECONFLICT) { /* its autoscaler wrote the scale since: next pass */
      json_object_del(d->written, key);
      rc = SS_EOK;
      goto out;
    }
    if (rc)
      goto out;
    gen = json_integer_value(json_object_get(json_object_get(stored, "metadata"), "generation"));
    old = json_object_get(stored, "status");
    json_array_clear(rvs);
    if (rv_of(stored))
      json_array_append_new(rvs, json_string(rv_of(stored)));
  }
  char now[32];
  ss_rfc3339_now(now, sizeof now);
  if (!(status = ss_deployment_status(run, gen, old, now))) {
    rc = ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
    goto out;
  }
  if (!json_equal(status, old)) {
    rc = ss_store_update_status(d->st, SS_DEPLOYMENTS_KIND, ns, run->name, status, NULL,
                                &restored, err);
    if (rc == SS_ENOTFOUND) { /* gone behind our back: written again next pass */
      json_object_del(d->written, key);
      rc = SS_EOK;
      goto out;
    }
    if (!rc && rv_of(restored))
      json_array_append_new(rvs, json_string(rv_of(restored)));
    while (json_array_size(rvs) > OUR_RVS)
      json_array_remove(rvs, 0);
  }
  if (!rc) {
    const char *uid = json_string_value(json_object_get(json_object_get(stored, "metadata"), "uid"));
    const char *old_uid = json_string_value(json_object_get(memo, "uid"));
    char hash[16];
    ss_deployment_template_hash(json_object_get(json_object_get(want, "spec"), "template"), hash);
    json_object_set_new(d->written, key,
                        json_pack("{s:s, s:I, s:O, s:s, s:s, s:O?}", "fp", fp, "gen", gen,
                                  "status", status, "uid", uid ? uid : old_uid ? old_uid : "",
                                  "hash", hash, "rvs", rvs));
  }
out:
  json_decref(rvs);
  json_decref(status);
  json_decref(stored);
  json_decref(restored);
  free(fp);
  return rc;
}

/* ---- what changed since the last pass ---- */

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++)
    h = (h ^ b[i]) * 1099511628211ull;
  return h;
}

#define FNV_BASIS 1469598103934665603ull

/* A hash of a JSON value; an object's member order does not count, as for
 * json_equal. skip (may be NULL) is a member of this object left out. */
static uint64_t hash_json(const json_t *v, const char *skip, int depth) {
  uint64_t h = FNV_BASIS;
  int type = json_typeof(v);
  h = fnv(h, &type, sizeof type);
  if (depth > 64) /* deeper than any resource: the same hash, compared again */
    return h;
  switch (json_typeof(v)) {
  case JSON_OBJECT: {
    uint64_t sum = 0;
    const char *key;
    json_t *m;
    json_object_foreach((json_t *)v, key, m) {
      if (skip && strcmp(key, skip) == 0)
        continue;
      uint64_t kh = fnv(FNV_BASIS, key, strlen(key) + 1);
      uint64_t vh = hash_json(m, NULL, depth + 1);
      sum += fnv(kh, &vh, sizeof vh);
    }
    return fnv(h, &sum, sizeof sum);
  }
  case JSON_ARRAY:
    for (size_t i = 0; i < json_array_size(v); i++) {
      uint64_t eh = hash_json(json_array_get(v, i), NULL, depth + 1);
      h = fnv(h, &eh, sizeof eh);
    }
    return h;
  case JSON_STRING:
    return fnv(h, json_string_value(v), json_string_length(v));
  case JSON_INTEGER: {
    json_int_t i = json_integer_value(v);
    return fnv(h, &i, sizeof i);
  }
  case JSON_REAL: {
    double x = json_real_value(v);
    return fnv(h, &x, sizeof x);
  }
  default:
    return h;
  }
}

/* What of an owner its Deployments are made of: its object but for its
 * status and resourceVersion (its own status writes change neither the
 * rendering nor the owner reference). */
static uint64_t object_sig(const json_t *obj) {
  uint64_t h = FNV_BASIS;
  const char *key;
  json_t *m;
  json_object_foreach((json_t *)obj, key, m) {
    if (strcmp(key, "status") == 0)
      continue;
    uint64_t kh = fnv(FNV_BASIS, key, strlen(key) + 1);
    uint64_t vh = hash_json(m, strcmp(key, "metadata") == 0 ? "resourceVersion" : NULL, 0);
    h += fnv(kh, &vh, sizeof vh);
  }
  return h;
}

/* ... and the runs. */
static uint64_t owner_sig(uint64_t h, const struct ss_deploy_run *runs, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const struct ss_deploy_run *r = &runs[i];
    const char *erv = r->expect_rv ? r->expect_rv : "";
    h = fnv(h, r->name, strlen(r->name) + 1);
    h = fnv(h, &r->spec_replicas, sizeof r->spec_replicas);
    h = fnv(h, erv, strlen(erv) + 1);
    int v[6] = {r->rs != NULL, 0, 0, 0, 0, 0};
    if (r->rs) {
      v[1] = r->rs->replicas;
      v[2] = r->rs->running;
      v[3] = r->rs->ready;
      v[4] = r->rs->updated;
      v[5] = r->rs->failed;
      h = fnv(h, r->rs->message, strnlen(r->rs->message, sizeof r->rs->message));
    }
    h = fnv(h, v, sizeof v);
  }
  return h;
}

static bool ours(const json_t *memo, const char *rv) {
  size_t i;
  const json_t *r;
  json_array_foreach(json_object_get(memo, "rvs"), i, r)
    if (rv && json_string_value(r) && strcmp(json_string_value(r), rv) == 0)
      return true;
  return false;
}


/* Reads what the watch saw since it was last read: a Deployment someone
 * else wrote has its memo marked stale, and the index of what is stored
 * follows. Without a watch (the first time, or it fell behind) all memos
 * are stale and the index is listed again before it is used. */
static void watch_read(struct ss_deployments *d) {
  bool lost = !d->watch;
  while (d->watch) {
    enum ss_watch_type type;
    json_t *o = NULL;
    int r = ss_watch_next(d->watch, 0, &type, &o);
    if (r == 0)
      break;
    if (r < 0) { /* fell behind, or the store is closing */
      ss_watch_close(d->watch);
      d->watch = NULL;
      lost = true;
      break;
    }
    const json_t *md = json_object_get(o, "metadata");
    const char *ns = json_string_value(json_object_get(md, "namespace"));
    const char *name = json_string_value(json_object_get(md, "name"));
    char key[300];
    snprintf(key, sizeof key, "%s/%s", ns ? ns : "", name ? name : "");
    json_t *memo = json_object_get(d->written, key);
    if (memo && !ours(memo, rv_of(o)))
      json_object_set_new(memo, "stale", json_true());
    const char *uid = ss_controller_uid(o, NULL);
    if (type == SS_WATCH_DELETED)
      json_object_del(d->stored, key);
    else if (json_object_set_new(d->stored, key, uid ? json_string(uid) : json_null()))
      lost = true; /* out of memory: the index is listed again */
    json_decref(o);
  }
  if (lost) {
    ss_watch_close(d->watch);
    if (ss_store_watch(d->st, SS_DEPLOYMENTS_KIND, NULL, 0, &d->watch, NULL))
      d->watch = NULL; /* all stale again next pass */
    const char *key;
    json_t *memo;
    json_object_foreach(d->written, key, memo)
      json_object_set_new(memo, "stale", json_true());
    d->indexed = false;
  }
}

static void pass_begin(struct ss_deployments *d) {
  if (d->pass_begun)
    return;
  d->pass_begun = true;
  watch_read(d);
}

enum ss_err ss_deployments_sync(struct ss_deployments *d, const json_t *obj,
                                const struct ss_resource *res, const struct ss_deploy_run *runs,
                                size_t n, struct ss_error *err) {
  const json_t *md = json_object_get(obj, "metadata");
  const char *ns = json_string_value(json_object_get(md, "namespace"));
  const char *uid = json_string_value(json_object_get(md, "uid"));
  if (!ns || !uid)
    return SS_EOK;
  json_object_set_new(d->owners, uid, json_true());
  pass_begin(d);
  if (n == 0)
    return SS_EOK; /* nothing wanted (a resource with errors renders nothing) */
  /* the same object and runs as when all its Deployments were last written,
   * and nobody wrote them since: rendered and compared again, they would
   * write nothing */
  json_t *last = json_object_get(d->synced, uid);
  const char *rv = rv_of(obj), *last_rv = json_string_value(json_object_get(last, "rv"));
  uint64_t osig = rv && last_rv && strcmp(rv, last_rv) == 0
                      ? (uint64_t)json_integer_value(json_object_get(last, "obj"))
                      : object_sig(obj);
  uint64_t sig = owner_sig(osig, runs, n);
  bool same = last && (uint64_t)json_integer_value(json_object_get(last, "sig")) == sig;
  for (size_t i = 0; same && i < n; i++) {
    char key[300];
    snprintf(key, sizeof key, "%s/%s", ns, runs[i].name);
    same = fresh_memo(d, key) != NULL;
  }
  if (same) {
    for (size_t i = 0; i < n; i++) {
      char key[300];
      snprintf(key, sizeof key, "%s/%s", ns, runs[i].name);
      json_object_set_new(d->wanted, key, json_string(uid));
    }
    if (rv && (!last_rv || strcmp(rv, last_rv) != 0)) /* its status changed: not hashed again */
      json_object_set_new(last, "rv", json_string(rv));
    return SS_EOK;
  }
  json_object_del(d->synced, uid);
  json_t *objs = json_array();
  enum ss_err rc = objs ? ss_k8s_sdep_objects(res, SS_K8S_DEFAULT_PROMETHEUS_URL, objs) : SS_ENOMEM;
  if (rc) {
    json_decref(objs);
    return ss_error_set(err, rc, 0, 0, "out of memory");
  }
  for (size_t i = 0; i < n; i++) {
    char key[300];
    snprintf(key, sizeof key, "%s/%s", ns, runs[i].name);
    json_object_set_new(d->wanted, key, json_string(uid));
    const json_t *rendered = find_named(objs, "Deployment", runs[i].name);
    json_t *want = rendered ? desired(rendered, obj, runs[i].spec_replicas) : NULL;
    enum ss_err r = want ? write_one(d, ns, want, &runs[i], err) : SS_EOK;
    json_decref(want);
    if (r && !rc)
      rc = r;
  }
  json_decref(objs);
  if (!rc)
    json_object_set_new(d->synced, uid,
                        json_pack("{s:I, s:s?, s:I}", "sig", (json_int_t)sig, "rv", rv, "obj",
                                  (json_int_t)osig));
  return rc;
}

void ss_deployments_keep_owner(struct ss_deployments *d, const char *uid) {
  if (uid && !json_object_get(d->owners, uid))
    json_object_set_new(d->owners, uid, json_false());
}

/* Lists the store's Deployments into the index; false when it cannot. */
static bool index_list(struct ss_deployments *d) {
  json_t *items = NULL;
  uint64_t rv;
  if (ss_store_list(d->st, SS_DEPLOYMENTS_KIND, NULL, &items, &rv, NULL) != SS_EOK)
    return false;
  json_object_clear(d->stored);
  bool ok = true;
  size_t i;
  json_t *o;
  json_array_foreach(items, i, o) {
    const json_t *md = json_object_get(o, "metadata");
    const char *ns = json_string_value(json_object_get(md, "namespace"));
    const char *name = json_string_value(json_object_get(md, "name"));
    const char *uid = ss_controller_uid(o, NULL);
    if (!ns || !name)
      continue;
    char key[300];
    snprintf(key, sizeof key, "%s/%s", ns, name);
    if (json_object_set_new(d->stored, key, uid ? json_string(uid) : json_null()))
      ok = false;
  }
  json_decref(items);
  return ok;
}

int ss_deployments_collect(struct ss_deployments *d) {
  int deleted = 0;
  pass_begin(d);
  watch_read(d); /* what this pass's own writes and others' did to the index */
  /* what a collection depends on; the store is looked at only when it changed */
  bool same = d->collected && json_equal(d->wanted, d->last_wanted) &&
              json_equal(d->owners, d->last_owners);
  if (!same) {
    /* owners gone need no signature */
    const char *key;
    json_t *v, *tmp;
    json_object_foreach_safe(d->synced, tmp, key, v) if (!json_object_get(d->owners, key))
        json_object_del(d->synced, key);
    /* the index holds what is stored once listed while watched; without a
     * watch it is listed each time */
    bool listed = d->indexed || index_list(d);
    d->indexed = listed && d->watch;
    json_object_foreach_safe(d->stored, tmp, key, v) {
      if (!listed)
        break;
      const char *uid = json_string_value(v);
      const char *slash = strchr(key, '/');
      if (!uid || !slash)
        continue; /* not ours */
      json_t *owner = json_object_get(d->owners, uid);
      const char *wanted_by = json_string_value(json_object_get(d->wanted, key));
      bool keep = json_is_false(owner) || (owner && wanted_by && strcmp(wanted_by, uid) == 0);
      if (keep)
        continue;
      char ns[300];
      snprintf(ns, sizeof ns, "%.*s", (int)(slash - key), key);
      if (ss_store_delete(d->st, SS_DEPLOYMENTS_KIND, ns, slash + 1, NULL, NULL) == SS_EOK)
        deleted++;
      json_object_del(d->written, key);
      json_object_del(d->stored, key); /* its deletion comes through the watch too */
    }
  }
  /* this pass's sets are the next one's reference; the old ones, emptied,
   * are filled by the next pass */
  json_t *w = d->last_wanted, *o = d->last_owners;
  d->last_wanted = d->wanted;
  d->last_owners = d->owners;
  json_object_clear(w);
  json_object_clear(o);
  d->wanted = w;
  d->owners = o;
  d->collected = true;
  d->pass_begun = false;
  return deleted;
}

bool ss_deployments_identity(struct ss_deployments *d, const char *ns, const char *name,
                             char uid[64], char hash[16]) {
  char key[300];
  snprintf(key, sizeof key, "%s/%s", ns, name);
  const json_t *memo = json_object_get(d->written, key);
  const char *u = json_string_value(json_object_get(memo, "uid"));
  const char *h = json_string_value(json_object_get(memo, "hash"));
  if (!u || !*u || !h)
    return false;
  snprintf(uid, 64, "%s", u);
  snprintf(hash, 16, "%s", h);
  return true;
}
