/* scalers.c: the SeldonDeployment controller's HPAs and ScaledObjects, and
 * the index of what every stored autoscaler aims at (scalers.h).
 *
 * A pass costs little where nothing changed: an owner whose resourceVersion
 * is the one its autoscalers were last written for, and whose autoscalers
 * nobody else wrote since (the watch says), is not rendered again. */
#include "control/scalers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/owners.h"
#include "k8s/k8s.h"
#include "model/autoscaling.h"

#define KEY_MAX 600

const char *const ss_scalers_inherited_annotations[] = {
    "servescale.io/sync-period-ms",
    "autoscaling.keda.sh/paused",
    "autoscaling.keda.sh/paused-replicas",
    "autoscaling.keda.sh/paused-scale-in",
    "autoscaling.keda.sh/paused-scale-out",
    NULL};

static const struct {
  struct ss_kind_ref ref;
  const char *kind;
} kinds[] = {{SS_HPA_KIND, "HorizontalPodAutoscaler"},
             {SS_SCALEDOBJECT_KIND, "ScaledObject"}};
#define N_KINDS (sizeof kinds / sizeof kinds[0])

struct ss_scalers {
  struct ss_store *st;
  struct ss_watch *watch[N_KINDS]; /* NULL: the index is listed again */
  /* "<plural>|<ns>/<name>" -> {"aim": "<ns>/<Kind>/<name>", "owner": uid|null,
   * "rv": its resourceVersion} for every stored autoscaler */
  json_t *stored;
  json_t *aims;   /* "<ns>/<Kind>/<name>" -> how many autoscalers aim there */
  /* owner uid -> {"rv": its resourceVersion when written, "keys":
   * {key: resourceVersion of our write}} */
  json_t *synced;
  json_t *wanted; /* this pass: key -> owner uid */
  json_t *owners; /* this pass: uid -> true (synced) or false (kept as is) */
};

struct ss_scalers *ss_scalers_new(struct ss_store *st) {
  struct ss_scalers *sc = calloc(1, sizeof *sc);
  if (!sc)
    return NULL;
  sc->st = st;
  sc->stored = json_object();
  sc->aims = json_object();
  sc->synced = json_object();
  sc->wanted = json_object();
  sc->owners = json_object();
  if (!sc->stored || !sc->aims || !sc->synced || !sc->wanted || !sc->owners) {
    ss_scalers_free(sc);
    return NULL;
  }
  return sc;
}

void ss_scalers_free(struct ss_scalers *sc) {
  if (!sc)
    return;
  for (size_t i = 0; i < N_KINDS; i++)
    ss_watch_close(sc->watch[i]);
  json_decref(sc->stored);
  json_decref(sc->aims);
  json_decref(sc->synced);
  json_decref(sc->wanted);
  json_decref(sc->owners);
  free(sc);
}

/* ---- the index ---- */

static void obj_key(size_t ki, const json_t *o, char *buf, size_t size) {
  const json_t *md = json_object_get(o, "metadata");
  const char *ns = json_string_value(json_object_get(md, "namespace"));
  const char *name = json_string_value(json_object_get(md, "name"));
  snprintf(buf, size, "%s|%s/%s", kinds[ki].ref.plural, ns ? ns : "", name ? name : "");
}

static void aim_add(struct ss_scalers *sc, const char *aim, int by) {
  json_int_t n = json_integer_value(json_object_get(sc->aims, aim)) + by;
  if (n > 0)
    json_object_set_new(sc->aims, aim, json_integer(n));
  else
    json_object_del(sc->aims, aim);
}

static void forget(struct ss_scalers *sc, const char *key) {
  const char *aim = json_string_value(json_object_get(json_object_get(sc->stored, key), "aim"));
  if (aim)
    aim_add(sc, aim, -1);
  json_object_del(sc->stored, key);
}

/* An autoscaler's own: what it aims at (a ScaledObject's kind defaults to
 * Deployment, as KEDA defaults it). */
static void remember(struct ss_scalers *sc, size_t ki, const json_t *o) {
  char key[KEY_MAX], aim[KEY_MAX];
  obj_key(ki, o, key, sizeof key);
  forget(sc, key);
  const json_t *ref = json_object_get(json_object_get(o, "spec"), "scaleTargetRef");
  const char *kind = json_string_value(json_object_get(ref, "kind"));
  const char *name = json_string_value(json_object_get(ref, "name"));
  const char *ns = json_string_value(json_object_get(json_object_get(o, "metadata"), "namespace"));
  const char *okind = NULL, *uid = ss_controller_uid(o, &okind);
  json_t *e = json_pack("{s:o, s:s?}", "owner", uid ? json_string(uid) : json_null(), "okind",
                        okind);
  if (!e)
    return;
  if (name && ns) {
    ss_scale_target_key(ns, kind, name, aim, sizeof aim);
    json_object_set_new(e, "aim", json_string(aim));
    aim_add(sc, aim, 1);
  }
  json_object_set_new(sc->stored, key, e);
}

static bool relist(struct ss_scalers *sc) {
  json_object_clear(sc->stored);
  json_object_clear(sc->aims);
  for (size_t ki = 0; ki < N_KINDS; ki++) {
    json_t *items = NULL;
    uint64_t rv;
    ss_watch_close(sc->watch[ki]);
    sc->watch[ki] = NULL;
    if (ss_store_list(sc->st, kinds[ki].ref, NULL, &items, &rv, NULL))
      return false;
    size_t i;
    json_t *o;
    json_array_foreach(items, i, o) remember(sc, ki, o);
    json_decref(items);
    if (ss_store_watch(sc->st, kinds[ki].ref, NULL, rv, &sc->watch[ki], NULL))
      sc->watch[ki] = NULL;
  }
  return true;
}

/* What the controller writes of an autoscaler (its status is the
 * autoscaler's), as a string to compare. malloc'd; NULL on out of memory. */
static char *shape(const json_t *o) {
  const json_t *md = json_object_get(o, "metadata");
  json_t *v = json_pack("{s:O?, s:O?, s:O?, s:O?}", "l", json_object_get(md, "labels"), "a",
                        json_object_get(md, "annotations"), "o",
                        json_object_get(md, "ownerReferences"), "s", json_object_get(o, "spec"));
  char *text = v ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
  json_decref(v);
  return text;
}

/* An owner whose autoscaler someone else changed (or deleted) is synced
 * again at this pass. */
static void note_foreign(struct ss_scalers *sc, const char *key, const json_t *o, bool deleted) {
  const char *uid = ss_controller_uid(o, NULL);
  json_t *memo = uid ? json_object_get(sc->synced, uid) : NULL;
  if (!memo)
    return;
  const char *ours = json_string_value(json_object_get(json_object_get(memo, "keys"), key));
  char *now = deleted ? NULL : shape(o);
  if (!ours || !now || strcmp(ours, now) != 0)
    json_object_del(sc->synced, uid);
  free(now);
}

void ss_scalers_begin(struct ss_scalers *sc) {
  bool lost = false;
  for (size_t ki = 0; ki < N_KINDS && !lost; ki++) {
    lost = !sc->watch[ki];
    while (sc->watch[ki]) {
      enum ss_watch_type type;
      json_t *o = NULL;
      int r = ss_watch_next(sc->watch[ki], 0, &type, &o);
      if (r == 0)
        break;
      if (r < 0) {
        lost = true;
        break;
      }
      char key[KEY_MAX];
      obj_key(ki, o, key, sizeof key);
      note_foreign(sc, key, o, type == SS_WATCH_DELETED);
      if (type == SS_WATCH_DELETED)
        forget(sc, key);
      else
        remember(sc, ki, o);
      json_decref(o);
    }
  }
  if (lost) { /* what happened meanwhile is unknown: every owner is synced again */
    (void)relist(sc); /* on failure, the watches stay NULL: listed again next pass */
    json_object_clear(sc->synced);
  }
}

bool ss_scalers_aim_at(const struct ss_scalers *sc, const char *ns, const char *kind,
                       const char *name) {
  char aim[KEY_MAX];
  ss_scale_target_key(ns, kind, name, aim, sizeof aim);
  return json_object_get(sc->aims, aim) != NULL;
}

/* ---- the controller ---- */

json_t *ss_scalers_desired(const json_t *rendered, const json_t *obj) {
  json_t *d = json_deep_copy(rendered);
  json_t *ref = ss_controller_ref(obj);
  json_t *md = json_object_get(d, "metadata");
  if (!d || !ref || !md) {
    json_decref(d);
    json_decref(ref);
    return NULL;
  }
  json_object_set_new(md, "ownerReferences", json_pack("[o]", ref));
  json_t *spec = json_object_get(d, "spec");
  const char *kind = json_string_value(json_object_get(d, "kind"));
  if (kind && strcmp(kind, "HorizontalPodAutoscaler") == 0 && json_is_object(spec) &&
      !json_object_get(spec, "metrics")) /* what the API server defaults */
    json_object_set_new(spec, "metrics",
                        json_pack("[{s:s, s:{s:s, s:{s:s, s:i}}}]", "type", "Resource",
                                  "resource", "name", "cpu", "target", "type", "Utilization",
                                  "averageUtilization", SS_HPA_DEFAULT_CPU_UTILIZATION));
  const json_t *from = json_object_get(json_object_get(obj, "metadata"), "annotations");
  for (const char *const *a = ss_scalers_inherited_annotations; *a; a++) {
    json_t *v = json_object_get(from, *a);
    if (!json_is_string(v))
      continue;
    json_t *ann = json_object_get(md, "annotations");
    if (!ann)
      json_object_set_new(md, "annotations", ann = json_object());
    json_object_set(ann, *a, v);
  }
  return d;
}

/* What of an owner its autoscalers are made of: its spec (the generation
 * counts its changes) and the annotations they inherit. */
static void owner_sig(const json_t *obj, char *buf, size_t size) {
  const json_t *md = json_object_get(obj, "metadata");
  const json_t *ann = json_object_get(md, "annotations");
  size_t used = (size_t)snprintf(buf, size, "%lld",
                                 (long long)json_integer_value(json_object_get(md, "generation")));
  for (const char *const *a = ss_scalers_inherited_annotations; *a && used < size; a++) {
    const char *v = json_string_value(json_object_get(ann, *a));
    used += (size_t)snprintf(buf + used, size - used, "|%s", v ? v : "");
  }
}

static size_t kind_index(const char *kind) {
  for (size_t ki = 0; kind && ki < N_KINDS; ki++)
    if (strcmp(kinds[ki].kind, kind) == 0)
      return ki;
  return N_KINDS;
}

/* Creates or updates one (a write that changes nothing stores nothing). */
static enum ss_err write_one(struct ss_scalers *sc, size_t ki, json_t *want, json_t *keys,
                             struct ss_error *err) {
  json_t *stored = NULL;
  enum ss_err rc = ss_store_update(sc->st, kinds[ki].ref, want, &stored, err);
  if (rc == SS_ENOTFOUND)
    rc = ss_store_create(sc->st, kinds[ki].ref, want, &stored, err);
  if (rc == SS_EOK) {
    char key[KEY_MAX];
    obj_key(ki, stored, key, sizeof key);
    remember(sc, ki, stored);
    char *sh = shape(stored);
    json_object_set_new(keys, key, json_string(sh ? sh : ""));
    free(sh);
  }
  json_decref(stored);
  return rc;
}

enum ss_err ss_scalers_sync(struct ss_scalers *sc, const json_t *obj,
                            const struct ss_resource *res, struct ss_error *err) {
  const json_t *md = json_object_get(obj, "metadata");
  const char *uid = json_string_value(json_object_get(md, "uid"));
  if (!uid)
    return SS_EOK;
  json_object_set_new(sc->owners, uid, json_true());
  if (res->diags.errors)
    return SS_EOK; /* nothing wanted: what it owned is collected */
  json_t *memo = json_object_get(sc->synced, uid);
  const char *last = json_string_value(json_object_get(memo, "sig"));
  const char *key;
  json_t *v;
  char sig[1024];
  owner_sig(obj, sig, sizeof sig);
  if (memo && last && strcmp(sig, last) == 0) {
    json_object_foreach(json_object_get(memo, "keys"), key, v)
        json_object_set_new(sc->wanted, key, json_string(uid));
    return SS_EOK;
  }
  json_object_del(sc->synced, uid);
  json_t *objs = json_array(), *keys = json_object();
  enum ss_err rc = objs && keys ? ss_k8s_sdep_objects(res, NULL, objs)
                                : SS_ENOMEM;
  if (rc)
    rc = ss_error_set(err, rc, 0, 0, "out of memory");
  size_t i;
  json_t *o;
  json_array_foreach(rc ? NULL : objs, i, o) {
    size_t ki = kind_index(json_string_value(json_object_get(o, "kind")));
    if (ki == N_KINDS)
      continue;
    json_t *want = ss_scalers_desired(o, obj);
    enum ss_err r = want ? write_one(sc, ki, want, keys, err)
                         : ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
    json_decref(want);
    if (r && !rc)
      rc = r;
  }
  json_object_foreach(keys, key, v) json_object_set_new(sc->wanted, key, json_string(uid));
  if (!rc)
    json_object_set_new(sc->synced, uid, json_pack("{s:s, s:O}", "sig", sig, "keys", keys));
  json_decref(keys);
  json_decref(objs);
  return rc;
}

void ss_scalers_keep_owner(struct ss_scalers *sc, const char *uid) {
  if (uid && !json_object_get(sc->owners, uid))
    json_object_set_new(sc->owners, uid, json_false());
}

int ss_scalers_collect(struct ss_scalers *sc) {
  int deleted = 0;
  const char *key;
  json_t *e, *tmp;
  /* owners gone keep no memo */
  json_object_foreach_safe(sc->synced, tmp, key, e) if (!json_object_get(sc->owners, key))
      json_object_del(sc->synced, key);
  json_object_foreach_safe(sc->stored, tmp, key, e) {
    const char *uid = json_string_value(json_object_get(e, "owner"));
    if (!uid)
      continue; /* a user's: theirs to delete */
    json_t *owner = json_object_get(sc->owners, uid);
    const char *wanted_by = json_string_value(json_object_get(sc->wanted, key));
    const char *okind = json_string_value(json_object_get(e, "okind"));
    if (!okind || strcmp(okind, SS_SDEP_KIND) != 0)
      continue; /* a ScaledObject's HPA: the KEDA controller's to collect */
    if (json_is_false(owner) || (owner && wanted_by && strcmp(wanted_by, uid) == 0))
      continue;
    const char *bar = strchr(key, '|'), *slash = bar ? strchr(bar, '/') : NULL;
    if (!bar || !slash)
      continue;
    char plural[64], ns[300];
    snprintf(plural, sizeof plural, "%.*s", (int)(bar - key), key);
    snprintf(ns, sizeof ns, "%.*s", (int)(slash - bar - 1), bar + 1);
    for (size_t ki = 0; ki < N_KINDS; ki++)
      if (strcmp(kinds[ki].ref.plural, plural) == 0 &&
          ss_store_delete(sc->st, kinds[ki].ref, ns, slash + 1, NULL, NULL) == SS_EOK)
        deleted++;
    forget(sc, key);
  }
  json_object_clear(sc->wanted);
  json_object_clear(sc->owners);
  return deleted;
}
