/* deployments.c: the SeldonDeployment controller's apps/v1 Deployments
 * (deployments.h). The objects come from src/k8s, as `servescale render`
 * prints them; this file adds what a cluster adds (ownerReferences, the
 * replica count, the status) and garbage-collects by owner uid. */
#include "control/deployments.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "k8s/k8s.h"

/* Kubernetes' default Deployment strategy: RollingUpdate, maxUnavailable 25%
 * (rounded down), which is what the Available condition is measured by. */
#define MAX_UNAVAILABLE_PERCENT 25

struct ss_deployments {
  struct ss_store *st;
  json_t *written;   /* "ns/name" -> {"fp": what was last written, "gen": generation} */
  json_t *wanted;    /* this pass: "ns/name" -> owner uid */
  json_t *owners;    /* this pass: uid -> true (synced) or false (kept as is) */
  char *last_sig;    /* wanted and owners when the store was last collected */
  uint64_t seen_rv;  /* the store's resourceVersion at the end of the last pass */
  bool pass_begun;   /* this pass has looked at the store's resourceVersion */
  bool quiet;        /* nothing was written since the last pass: what was last
                        written is what is stored (else someone, a kubectl scale
                        say, may have changed a Deployment: each is written again,
                        which stores nothing where nothing differs) */
};

struct ss_deployments *ss_deployments_new(struct ss_store *st) {
  struct ss_deployments *d = calloc(1, sizeof *d);
  if (!d)
    return NULL;
  d->st = st;
  d->written = json_object();
  d->wanted = json_object();
  d->owners = json_object();
  if (!d->written || !d->wanted || !d->owners) {
    ss_deployments_free(d);
    return NULL;
  }
  return d;
}

void ss_deployments_free(struct ss_deployments *d) {
  if (!d)
    return;
  json_decref(d->written);
  json_decref(d->wanted);
  json_decref(d->owners);
  free(d->last_sig);
  free(d);
}

static void now_rfc3339(char *buf, size_t size) {
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
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
  const json_t *md = json_object_get(obj, "metadata");
  json_t *ref = json_pack("{s:O?, s:O?, s:O?, s:O?, s:b, s:b}", "apiVersion",
                          json_object_get(obj, "apiVersion"), "kind", json_object_get(obj, "kind"),
                          "name", json_object_get(md, "name"), "uid", json_object_get(md, "uid"),
                          "controller", 1, "blockOwnerDeletion", 1);
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
static void template_hash(const json_t *tmpl, char out[16]) {
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

/* Writes one Deployment, and its status, when they differ from what was
 * last written (remembered, so that a pass that changes nothing reads
 * nothing either). */
static enum ss_err write_one(struct ss_deployments *d, const char *ns, json_t *want,
                             const struct ss_deploy_run *run, struct ss_error *err) {
  char key[300];
  snprintf(key, sizeof key, "%s/%s", ns, run->name);
  json_t *memo = d->quiet ? json_object_get(d->written, key) : NULL;
  char *fp = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS);
  if (!fp)
    return ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
  enum ss_err rc = SS_EOK;
  json_t *stored = NULL, *status = NULL;
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
  }
  char now[32];
  now_rfc3339(now, sizeof now);
  if (!(status = ss_deployment_status(run, gen, old, now))) {
    rc = ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
    goto out;
  }
  if (!json_equal(status, old)) {
    rc = ss_store_update_status(d->st, SS_DEPLOYMENTS_KIND, ns, run->name, status, NULL, NULL,
                                err);
    if (rc == SS_ENOTFOUND) { /* gone behind our back: written again next pass */
      json_object_del(d->written, key);
      rc = SS_EOK;
      goto out;
    }
  }
  if (!rc) {
    const char *uid = json_string_value(json_object_get(json_object_get(stored, "metadata"), "uid"));
    const char *old_uid = json_string_value(json_object_get(memo, "uid"));
    char hash[16];
    template_hash(json_object_get(json_object_get(want, "spec"), "template"), hash);
    json_object_set_new(d->written, key,
                        json_pack("{s:s, s:I, s:O, s:s, s:s}", "fp", fp, "gen", gen, "status",
                                  status, "uid", uid ? uid : old_uid ? old_uid : "", "hash",
                                  hash));
  }
out:
  json_decref(status);
  json_decref(stored);
  free(fp);
  return rc;
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
  if (!d->pass_begun) {
    d->quiet = d->seen_rv && ss_store_rv(d->st) == d->seen_rv;
    d->pass_begun = true;
  }
  if (n == 0)
    return SS_EOK; /* nothing wanted (a resource with errors renders nothing) */
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
  return rc;
}

void ss_deployments_keep_owner(struct ss_deployments *d, const char *uid) {
  if (uid && !json_object_get(d->owners, uid))
    json_object_set_new(d->owners, uid, json_false());
}

/* The uid of the controller among obj's ownerReferences, or NULL. */
static const char *owner_uid(const json_t *obj) {
  size_t i;
  const json_t *r;
  json_array_foreach(json_object_get(json_object_get(obj, "metadata"), "ownerReferences"), i, r)
    if (json_is_true(json_object_get(r, "controller")))
      return json_string_value(json_object_get(r, "uid"));
  return NULL;
}

/* What a collection depends on; the store is listed only when it changed. */
static char *signature(const struct ss_deployments *d) {
  json_t *both = json_pack("[O, O]", d->wanted, d->owners);
  char *s = both ? json_dumps(both, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
  json_decref(both);
  return s;
}

int ss_deployments_collect(struct ss_deployments *d) {
  json_t *items = NULL;
  uint64_t rv;
  int deleted = 0;
  char *sig = signature(d);
  bool same = sig && d->last_sig && strcmp(sig, d->last_sig) == 0;
  free(d->last_sig);
  d->last_sig = sig;
  if (!same && ss_store_list(d->st, SS_DEPLOYMENTS_KIND, NULL, &items, &rv, NULL) == SS_EOK) {
    size_t i;
    json_t *o;
    json_array_foreach(items, i, o) {
      const json_t *md = json_object_get(o, "metadata");
      const char *ns = json_string_value(json_object_get(md, "namespace"));
      const char *name = json_string_value(json_object_get(md, "name"));
      const char *uid = owner_uid(o);
      if (!ns || !name || !uid)
        continue; /* not ours */
      char key[300];
      snprintf(key, sizeof key, "%s/%s", ns, name);
      json_t *owner = json_object_get(d->owners, uid);
      const char *wanted_by = json_string_value(json_object_get(d->wanted, key));
      bool keep = json_is_false(owner) || (owner && wanted_by && strcmp(wanted_by, uid) == 0);
      if (keep)
        continue;
      if (ss_store_delete(d->st, SS_DEPLOYMENTS_KIND, ns, name, NULL, NULL) == SS_EOK)
        deleted++;
      json_object_del(d->written, key);
    }
  }
  json_decref(items);
  json_object_clear(d->wanted);
  json_object_clear(d->owners);
  d->seen_rv = ss_store_rv(d->st);
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
