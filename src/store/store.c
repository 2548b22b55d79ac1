/* store.c: the object semantics of the store, as the Kubernetes API server
 * keeps them: who owns which metadata field, when resourceVersion and
 * generation move, what conflicts, and the one path by which every change
 * is written, counted and published to watches. SQL lives in db.c, the
 * watch history in watch.c, events in event.c. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"

/* The apiserver cuts generateName to 63 - 5 so that the generated name
 * still fits a DNS label (apiserver names.maxGeneratedNameLength). */
#define SS_STORE_GENERATE_BASE_MAX 58
/* Attempts at a free generated name before giving up with SS_EEXISTS; with
 * 27^5 names, a second collision in a row means something is wrong. */
#define SS_STORE_GENERATE_TRIES 8

void ss__kind_name(struct ss_kind_ref k, char *buf, size_t size) {
  if (k.group && *k.group)
    snprintf(buf, size, "%s.%s", k.plural, k.group);
  else
    snprintf(buf, size, "%s", k.plural ? k.plural : "");
}

const char *ss__meta_str(const json_t *obj, const char *field) {
  return json_string_value(json_object_get(json_object_get(obj, "metadata"), field));
}

static bool kind_ok(struct ss_kind_ref k) {
  return k.group && k.plural && *k.plural;
}

/* A metadata string field: NULL when absent or null; SS_EINVALID when of
 * another type or carrying a NUL byte, which SQL text would cut short. */
static enum ss_err meta_field(const json_t *md, const char *field, const char **out,
                              struct ss_error *err) {
  const json_t *v = json_object_get(md, field);
  *out = NULL;
  if (!v || json_is_null(v))
    return SS_EOK;
  if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
    return ss_error_set(err, SS_EINVALID, 0, 0, "metadata.%s: must be a string", field);
  *out = json_string_value(v);
  return SS_EOK;
}

/* The key of obj: namespace ("" when absent) and name (NULL when absent). */
static enum ss_err object_key(const json_t *obj, const char **ns, const char **name,
                              struct ss_error *err) {
  enum ss_err e = SS_EOK;
  const json_t *md = json_object_get(obj, "metadata");
  if (!json_is_object(obj) || !json_is_object(md)) {
    e = ss_error_set(err, SS_EINVALID, 0, 0, "metadata: must be an object");
    goto out;
  }
  e = meta_field(md, "namespace", ns, err);
  if (e)
    goto out;
  if (!*ns)
    *ns = "";
  e = meta_field(md, "name", name, err);
  if (!e && *name && !**name)
    *name = NULL;
out:
  return e;
}

/* Both absent is equal too, which json_equal does not say. */
static bool field_equal(const json_t *a, const json_t *b, const char *field) {
  const json_t *x = json_object_get(a, field), *y = json_object_get(b, field);
  return (!x && !y) || (x && y && json_equal(x, y));
}

static enum ss_err set_str(json_t *obj, const char *key, const char *value,
                           struct ss_error *err) {
  if (json_object_set_new(obj, key, json_string(value)))
    return ss_error_set(err, SS_ENOMEM, 0, 0, "setting %s", key);
  return SS_EOK;
}

/* The stored copy of a field: set from src when there, removed otherwise. */
static enum ss_err keep_field(json_t *dst, const json_t *src, const char *key,
                              struct ss_error *err) {
  json_t *v = json_object_get(src, key);
  if (!v) {
    json_object_del(dst, key);
    return SS_EOK;
  }
  if (json_object_set(dst, key, v))
    return ss_error_set(err, SS_ENOMEM, 0, 0, "setting %s", key);
  return SS_EOK;
}

enum ss_err ss__commit_change(struct ss_store *st, struct ss_kind_ref k, const char *ns,
                              const char *name, json_t *obj, enum ss_watch_type type,
                              struct ss_error *err) {
  enum ss_err e = SS_EOK;
  struct ss__change *c = NULL;
  uint64_t rv = st->rv + 1;
  if (rv > INT64_MAX) { /* SQLite integers are signed */
    e = ss_error_set(err, SS_ELIMIT, 0, 0, "resourceVersion exhausted");
    goto out;
  }
  char rvs[24];
  snprintf(rvs, sizeof rvs, "%" PRIu64, rv);
  e = set_str(json_object_get(obj, "metadata"), "resourceVersion", rvs, err);
  if (e)
    goto out;
  if (type == SS_WATCH_ADDED) {
    const char *uid = ss__meta_str(obj, "uid");
    e = ss__db_insert(st, k, ns, name, uid ? uid : "", rv, obj, err);
  } else if (type == SS_WATCH_MODIFIED) {
    e = ss__db_replace(st, k, ns, name, rv, obj, err);
  } else {
    e = ss__db_delete(st, k, ns, name, err);
  }
  if (e)
    goto out;
  e = ss__db_save_rv(st, rv, err);
  if (e)
    goto out;
  /* Made before the commit: once committed, publishing must not fail, or a
   * watch would silently miss the change. */
  c = ss__change_new(k, ns, type, rv, obj);
  if (!c) {
    e = ss_error_set(err, SS_ENOMEM, 0, 0, "recording a change");
    goto out;
  }
  e = ss__db_commit(st, err);
  if (e)
    goto out;
  st->rv = rv;
  ss__history_publish(&st->hist, c);
  c = NULL;
out:
  if (e)
    ss__db_rollback(st);
  ss__change_free(c);
  return e;
}

enum ss_err ss_store_open(const char *path, struct ss_store **out, struct ss_error *err) {
  enum ss_err e = SS_EOK;
  struct ss_store *st = NULL;
  bool mu_ok = false, db_ok = false;
  *out = NULL;
  if (!path) {
    e = ss_error_set(err, SS_EUSAGE, 0, 0, "ss_store_open: no path");
    goto out;
  }
  st = calloc(1, sizeof *st);
  if (!st) {
    e = ss_error_set(err, SS_ENOMEM, 0, 0, "allocating the store");
    goto out;
  }
  if (pthread_mutex_init(&st->mu, NULL)) {
    e = ss_error_set(err, SS_EINTERNAL, 0, 0, "pthread_mutex_init failed");
    goto out;
  }
  mu_ok = true;
  e = ss__db_open(st, path, err);
  if (e)
    goto out;
  db_ok = true;
  e = ss__history_init(&st->hist, st->rv, err);
  if (e)
    goto out;
  *out = st;
  st = NULL;
out:
  if (st) {
    if (db_ok)
      ss__db_close(st);
    if (mu_ok)
      pthread_mutex_destroy(&st->mu);
    free(st);
  }
  return e;
}

void ss_store_close(struct ss_store *st) {
  if (!st)
    return;
  ss__db_close(st);
  ss__history_fini(&st->hist);
  pthread_mutex_destroy(&st->mu);
  free(st);
}

uint64_t ss_store_rv(struct ss_store *st) {
  if (!st)
    return 0;
  pthread_mutex_lock(&st->mu);
  uint64_t rv = st->rv;
  pthread_mutex_unlock(&st->mu);
  return rv;
}

/* With st->mu held and a transaction open: a free name for generateName,
 * set into md. *name points into md. */
static enum ss_err generate_name(struct ss_store *st, struct ss_kind_ref k, const char *ns,
                                 json_t *md, const char **name, struct ss_error *err) {
  enum ss_err e = SS_EOK;
  const char *base = NULL;
  json_t *taken = NULL;
  e = meta_field(md, "generateName", &base, err);
  if (e)
    goto out;
  if (!base || !*base) {
    e = ss_error_set(err, SS_EINVALID, 0, 0,
                     "metadata.name: Required value: name or generateName is required");
    goto out;
  }
  int base_len = (int)strnlen(base, SS_STORE_GENERATE_BASE_MAX);
  for (int i = 0; i < SS_STORE_GENERATE_TRIES; i++) {
    char suffix[SS__NAME_SUFFIX_LEN + 1];
    char buf[SS_STORE_GENERATE_BASE_MAX + SS__NAME_SUFFIX_LEN + 1];
    e = ss__name_suffix(suffix, err);
    if (e)
      goto out;
    snprintf(buf, sizeof buf, "%.*s%s", base_len, base, suffix);
    struct ss_error sub = {0};
    e = ss__db_get(st, k, ns, buf, &taken, &sub);
    json_decref(taken);
    taken = NULL;
    if (e == SS_ENOTFOUND) {
      e = set_str(md, "name", buf, err);
      if (!e)
        *name = json_string_value(json_object_get(md, "name"));
      goto out;
    }
    if (e) {
      if (err)
        *err = sub;
      goto out;
    }
  }
  e = ss_error_set(err, SS_EEXISTS, 0, 0, "no free name from generateName \"%s\"", base);
out:
  return e;
}

enum ss_err ss_store_create(struct ss_store *st, struct ss_kind_ref k, json_t *obj,
                            json_t **stored, struct ss_error *err) {
  enum ss_err e = SS_EOK;
  json_t *copy = NULL;
  bool locked = false, began = false;
  const char *ns = NULL, *name = NULL;
  char uid[SS__UUID_LEN + 1], now[SS__TIME_MAX];
  if (stored)
    *stored = NULL;
  if (!st || !kind_ok(k)) {
    e = ss_error_set(err, SS_EUSAGE, 0, 0, "ss_store_create: no store or kind");
    goto out;
  }
  e = object_key(obj, &ns, &name, err);
  if (e)
    goto out;
  copy = json_deep_copy(obj);
  if (!copy) {
    e = ss_error_set(err, SS_ENOMEM, 0, 0, "copying the object");
    goto out;
  }
  json_t *md = json_object_get(copy, "metadata");
  e = ss__uuid4(uid, err);
  if (e)
    goto out;
  ss__now_rfc3339(now);
  if ((e = set_str(md, "uid", uid, err)) || (e = set_str(md, "creationTimestamp", now, err)))
    goto out;
  if (json_object_set_new(md, "generation", json_integer(1))) {
    e = ss_error_set(err, SS_ENOMEM, 0, 0, "setting generation");
    goto out;
  }
  pthread_mutex_lock(&st->mu);
  locked = true;
  e = ss__db_begin(st, err);
  if (e)
    goto out;
  began = true;
  if (!name) {
    e = generate_name(st, k, ns, md, &name, err);
    if (e)
      goto out;
  }
  began = false; /* committed or rolled back, either way */
  e = ss__commit_change(st, k, ns, name, copy, SS_WATCH_ADDED, err);
  if (e)
    goto out;
  if (stored)
    *stored = json_incref(copy);
out:
  if (began)
    ss__db_rollback(st);
  if (locked)
    pthread_mutex_unlock(&st->mu);
  json_decref(copy);
  return e;
}

enum ss_err ss_store_get(struct ss_store *st, struct ss_kind_ref k, const char *ns,
                         const char *name, json_t **out, struct ss_error *err) {
  enum ss_err e = SS_EOK;
  *out = NULL;
  if (!st || !kind_ok(k) || !name) {
    e = ss_error_set(err, SS_EUSAGE, 0, 0, "ss_store_get: no store, kind or name");
    goto out;
  }
  pthread_mutex_lock(&st->mu);
  e = ss__db_get(st, k, ns ? ns : "", name, out, err);
  pthread_mutex_unlock(&st->mu);
out:
  return e;
}

enum ss_err ss_store_list(struct ss_store *st, struct ss_kind_ref k, const char *ns,
                          json_t **items, uint64_t *rv, struct ss_error *err) {
  enum ss_err e = SS_EOK;
  json_t *list = NULL;
  *items = NULL;
  if (!st || !kind_ok(k)) {
    e = ss_error_set(err, SS_EUSAGE, 0, 0, "ss_store_list: no store or kind");
    goto out;
  }
  list = json_array();
  if (!list) {
    e = ss_error_set(err, SS_ENOMEM, 0, 0, "listing %s", k.plural);
    goto out;
  }
  pthread_mutex_lock(&st->mu);
  e = ss__db_list(st, k, ns, list, err);
  if (rv)
    *rv = st->rv;
  pthread_mutex_unlock(&st->mu);
  if (e)
    goto out;
  *items = list;
  list = NULL;
out:
  json_decref(list);
  return e;
}

static const char *stored_rv(const json_t *obj) {
  const char *rv = ss__meta_str(obj, "resourceVersion");
  return rv ? rv : "";
}

static enum ss_err conflict(struct ss_kind_ref k, const char *name, struct ss_error *err) {
  char kind[256];
  ss__kind_name(k, kind, sizeof kind);
  /* The API server's wording; kubectl shows it as is. */
  return ss_error_set(err, SS_ECONFLICT, 0, 0,
                      "Operation cannot be fulfilled on %s \"%s\": the object has been "
                      "modified; please apply your changes to the latest version and try again",
                      kind, name);
}

/* With st->mu held and the transaction open: writes next over cur unless
 * they are equal, which is no write at all. Ends the transaction. *stored
 * (optional) gets next. */
static enum ss_err write_if_changed(struct ss_store *st, struct ss_kind_ref k, const char *ns,
                                    const char *name, const json_t *cur, json_t *next,
                                    json_t **stored, struct ss_error *err) {
  enum ss_err e = SS_EOK;
  if (json_equal(cur, next))
    ss__db_rollback(st); /* nothing was written */
  else
    e = ss__commit_change(st, k, ns, name, next, SS_WATCH_MODIFIED, err);
  if (!e && stored)
    *stored = json_incref(next);
  return e;
}

enum ss_err ss_store_update(struct ss_store *st, struct ss_kind_ref k, json_t *obj,
                            json_t **stored, struct ss_error *err) {
  enum ss_err e = SS_EOK;
  json_t *cur = NULL, *next = NULL;
  bool locked = false, began = false;
  const char *ns = NULL, *name = NULL, *expect = NULL;
  if (stored)
    *stored = NULL;
  if (!st || !kind_ok(k)) {
    e = ss_error_set(err, SS_EUSAGE, 0, 0, "ss_store_update: no store or kind");
    goto out;
  }
  if ((e = object_key(obj, &ns, &name, err)) ||
      (e = meta_field(json_object_get(obj, "metadata"), "resourceVersion", &expect, err)))
    goto out;
  if (!name) {
    e = ss_error_set(err, SS_EINVALID, 0, 0, "metadata.name: Required value");
    goto out;
  }
  next = json_deep_copy(obj);
  if (!next) {
    e = ss_error_set(err, SS_ENOMEM, 0, 0, "copying the object");
    goto out;
  }
  pthread_mutex_lock(&st->mu);
  locked = true;
  e = ss__db_begin(st, err);
  if (e)
    goto out;
  began = true;
  e = ss__db_get(st, k, ns, name, &cur, err);
  if (e)
    goto out;
  /* An empty resourceVersion means "whatever is stored", as kubectl
   * replace --force and unconditional PUTs send it. */
  if (expect && *expect && strcmp(expect, stored_rv(cur))) {
    e = conflict(k, name, err);
    goto out;
  }
  json_t *cmd = json_object_get(cur, "metadata"), *nmd = json_object_get(next, "metadata");
  if ((e = keep_field(nmd, cmd, "uid", err)) ||
      (e = keep_field(nmd, cmd, "creationTimestamp", err)) ||
      (e = keep_field(nmd, cmd, "resourceVersion", err)) ||
      (e = keep_field(next, cur, "status", err)))
    goto out;
  json_int_t generation = json_integer_value(json_object_get(cmd, "generation"));
  if (!field_equal(cur, next, "spec"))
    generation++;
  if (json_object_set_new(nmd, "generation", json_integer(generation))) {
    e = ss_error_set(err, SS_ENOMEM, 0, 0, "setting generation");
    goto out;
  }
  began = false;
  e = write_if_changed(st, k, ns, name, cur, next, stored, err);
out:
  if (began)
    ss__db_rollback(st);
  if (locked)
    pthread_mutex_unlock(&st->mu);
  json_decref(cur);
  json_decref(next);
  return e;
}

enum ss_err ss_store_update_status(struct ss_store *st, struct ss_kind_ref k, const char *ns,
                                   const char *name, json_t *status, const char *expect_rv,
                                   json_t **stored, struct ss_error *err) {
  enum ss_err e = SS_EOK;
  json_t *cur = NULL, *next = NULL;
  bool locked = false, began = false;
  if (stored)
    *stored = NULL;
  if (!st || !kind_ok(k) || !name) {
    e = ss_error_set(err, SS_EUSAGE, 0, 0, "ss_store_update_status: no store, kind or name");
    goto out;
  }
  ns = ns ? ns : "";
  pthread_mutex_lock(&st->mu);
  locked = true;
  e = ss__db_begin(st, err);
  if (e)
    goto out;
  began = true;
  e = ss__db_get(st, k, ns, name, &cur, err);
  if (e)
    goto out;
  if (expect_rv && *expect_rv && strcmp(expect_rv, stored_rv(cur))) {
    e = conflict(k, name, err);
    goto out;
  }
  next = json_deep_copy(cur);
  if (!next) {
    e = ss_error_set(err, SS_ENOMEM, 0, 0, "copying the object");
    goto out;
  }
  /* A copy: the caller keeps its status and may go on changing it. */
  if (!status)
    json_object_del(next, "status");
  else if (json_object_set_new(next, "status", json_deep_copy(status))) {
    e = ss_error_set(err, SS_ENOMEM, 0, 0, "setting status");
    goto out;
  }
  began = false;
  e = write_if_changed(st, k, ns, name, cur, next, stored, err);
out:
  if (began)
    ss__db_rollback(st);
  if (locked)
    pthread_mutex_unlock(&st->mu);
  json_decref(cur);
  json_decref(next);
  return e;
}

enum ss_err ss_store_delete(struct ss_store *st, struct ss_kind_ref k, const char *ns,
                            const char *name, json_t **deleted, struct ss_error *err) {
  enum ss_err e = SS_EOK;
  json_t *cur = NULL;
  bool locked = false, began = false;
  if (deleted)
    *deleted = NULL;
  if (!st || !kind_ok(k) || !name) {
    e = ss_error_set(err, SS_EUSAGE, 0, 0, "ss_store_delete: no store, kind or name");
    goto out;
  }
  ns = ns ? ns : "";
  pthread_mutex_lock(&st->mu);
  locked = true;
  e = ss__db_begin(st, err);
  if (e)
    goto out;
  began = true;
  e = ss__db_get(st, k, ns, name, &cur, err);
  if (e)
    goto out;
  began = false;
  e = ss__commit_change(st, k, ns, name, cur, SS_WATCH_DELETED, err);
  if (e)
    goto out;
  if (deleted)
    *deleted = json_incref(cur);
out:
  if (began)
    ss__db_rollback(st);
  if (locked)
    pthread_mutex_unlock(&st->mu);
  json_decref(cur);
  return e;
}

enum ss_err ss_store_meta_get(struct ss_store *st, const char *key, char **value,
                              struct ss_error *err) {
  enum ss_err e = SS_EOK;
  *value = NULL;
  if (!st || !key) {
    e = ss_error_set(err, SS_EUSAGE, 0, 0, "ss_store_meta_get: no store or key");
    goto out;
  }
  pthread_mutex_lock(&st->mu);
  e = ss__db_meta_get(st, key, value, err);
  pthread_mutex_unlock(&st->mu);
out:
  return e;
}

enum ss_err ss_store_meta_set(struct ss_store *st, const char *key, const char *value,
                              struct ss_error *err) {
  enum ss_err e = SS_EOK;
  if (!st || !key || !value) {
    e = ss_error_set(err, SS_EUSAGE, 0, 0, "ss_store_meta_set: no store, key or value");
    goto out;
  }
  if (!strcmp(key, SS__META_RV_KEY)) {
    e = ss_error_set(err, SS_EINVALID, 0, 0, "meta key \"%s\" is the store's own", key);
    goto out;
  }
  pthread_mutex_lock(&st->mu);
  e = ss__db_meta_set(st, key, value, err);
  pthread_mutex_unlock(&st->mu);
out:
  return e;
}
