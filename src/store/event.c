/* event.c: core/v1 Events about objects, recorded and aggregated as
 * client-go's event recorder does (a repeat of the same event about the
 * same object bumps count and lastTimestamp), stored as objects of kind
 * {"", "events"} so that list, get and watch serve them, and capped per
 * namespace. Which events to record is the caller's decision. */
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"

/* source.component and reportingComponent of every event. */
#define SS_EVENT_COMPONENT "servescale"
/* Hex digits of the aggregation key in an event's name. */
#define SS_EVENT_KEY_HEX 16

static const struct ss_kind_ref events_kind = {"", "events"};

/* An event's name: <object name>.<hash of what makes two events the same>,
 * so that finding the event to aggregate into is a lookup by key. The
 * object's uid separates a deleted object from its successor of the same
 * name; kind and namespace separate objects with no uid. */
static enum ss_err event_name(const char *const parts[], size_t nparts, const char *obj_name,
                              char **out, struct ss_error *err) {
  enum ss_err e = SS_EOK;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  *out = NULL;
  if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
    e = ss_error_set(err, SS_EINTERNAL, 0, 0, "sha256 unavailable");
    goto out;
  }
  for (size_t i = 0; i < nparts; i++) {
    /* Each part with its NUL, so that ("ab","c") and ("a","bc") differ. */
    if (!EVP_DigestUpdate(ctx, parts[i], strlen(parts[i]) + 1)) {
      e = ss_error_set(err, SS_EINTERNAL, 0, 0, "sha256 failed");
      goto out;
    }
  }
  if (!EVP_DigestFinal_ex(ctx, md, &md_len) || md_len * 2 < SS_EVENT_KEY_HEX) {
    e = ss_error_set(err, SS_EINTERNAL, 0, 0, "sha256 failed");
    goto out;
  }
  size_t len = strlen(obj_name) + 1 + SS_EVENT_KEY_HEX + 1;
  *out = malloc(len);
  if (!*out) {
    e = ss_error_set(err, SS_ENOMEM, 0, 0, "naming an event");
    goto out;
  }
  int n = snprintf(*out, len, "%s.", obj_name);
  for (int i = 0; i < SS_EVENT_KEY_HEX / 2; i++)
    n += snprintf(*out + n, len - (size_t)n, "%02x", md[i]);
out:
  EVP_MD_CTX_free(ctx);
  return e;
}

/* Sets key to value when value is there; an absent field stays absent. */
static int set_opt(json_t *obj, const char *key, const char *value) {
  return value ? json_object_set_new(obj, key, json_string(value)) : 0;
}

static json_t *new_event(const json_t *about, const char *ns, const char *name,
                         const char *type, const char *reason, const char *message,
                         const char *now, const char *uid) {
  json_t *ev = json_object(), *md = json_object(), *inv = json_object(), *src = json_object();
  int bad = !ev || !md || !inv || !src;
  bad |= set_opt(md, "name", name) | set_opt(md, "namespace", ns) | set_opt(md, "uid", uid) |
         set_opt(md, "creationTimestamp", now);
  bad |= set_opt(inv, "apiVersion", json_string_value(json_object_get(about, "apiVersion"))) |
         set_opt(inv, "kind", json_string_value(json_object_get(about, "kind"))) |
         set_opt(inv, "name", ss__meta_str(about, "name")) |
         set_opt(inv, "namespace", ss__meta_str(about, "namespace")) |
         set_opt(inv, "uid", ss__meta_str(about, "uid")) |
         set_opt(inv, "resourceVersion", ss__meta_str(about, "resourceVersion"));
  bad |= set_opt(src, "component", SS_EVENT_COMPONENT);
  bad |= set_opt(ev, "apiVersion", "v1") | set_opt(ev, "kind", "Event");
  bad |= json_object_set(ev, "metadata", md) | json_object_set(ev, "involvedObject", inv);
  bad |= set_opt(ev, "reason", reason) | set_opt(ev, "message", message) |
         set_opt(ev, "type", type) | json_object_set_new(ev, "count", json_integer(1)) |
         set_opt(ev, "firstTimestamp", now) | set_opt(ev, "lastTimestamp", now) |
         json_object_set_new(ev, "eventTime", json_null()) | json_object_set(ev, "source", src) |
         set_opt(ev, "reportingComponent", SS_EVENT_COMPONENT) |
         set_opt(ev, "reportingInstance", "");
  json_decref(md);
  json_decref(inv);
  json_decref(src);
  if (bad) {
    json_decref(ev);
    return NULL;
  }
  return ev;
}

/* With st->mu held: drops the namespace's least recently written events
 * until at most SS_STORE_MAX_EVENTS remain, each a deletion watches see. */
static enum ss_err trim_events(struct ss_store *st, const char *ns, struct ss_error *err) {
  enum ss_err e = SS_EOK;
  json_t *old = NULL;
  char *name = NULL;
  bool began = false;
  for (;;) {
    uint64_t n = 0;
    e = ss__db_begin(st, err);
    if (e)
      goto out;
    began = true;
    if ((e = ss__db_count(st, events_kind, ns, &n, err)))
      goto out;
    if (n <= SS_STORE_MAX_EVENTS)
      break;
    if ((e = ss__db_oldest(st, events_kind, ns, &name, err)) ||
        (e = ss__db_get(st, events_kind, ns, name, &old, err)))
      goto out;
    began = false;
    e = ss__commit_change(st, events_kind, ns, name, old, SS_WATCH_DELETED, err);
    if (e)
      goto out;
    json_decref(old);
    old = NULL;
    free(name);
    name = NULL;
  }
out:
  if (began)
    ss__db_rollback(st);
  json_decref(old);
  free(name);
  return e;
}

enum ss_err ss_store_event(struct ss_store *st, const json_t *about, const char *type,
                           const char *reason, const char *message, struct ss_error *err) {
  enum ss_err e = SS_EOK;
  json_t *ev = NULL;
  char *name = NULL;
  const char *ns = NULL;
  bool locked = false, began = false, added = false;
  if (!st || !type || !reason || !message) {
    e = ss_error_set(err, SS_EUSAGE, 0, 0, "ss_store_event: no store, type, reason or message");
    goto out;
  }
  const char *obj_name = ss__meta_str(about, "name");
  if (!obj_name || !*obj_name) {
    e = ss_error_set(err, SS_EINVALID, 0, 0, "event about an object without metadata.name");
    goto out;
  }
  /* client-go records events about cluster-scoped objects in "default". */
  ns = ss__meta_str(about, "namespace");
  if (!ns || !*ns)
    ns = "default";
  const char *kind = json_string_value(json_object_get(about, "kind"));
  const char *obj_uid = ss__meta_str(about, "uid");
  const char *const key[] = {kind ? kind : "", ns, obj_name, obj_uid ? obj_uid : "",
                             type, reason, message};
  e = event_name(key, sizeof key / sizeof *key, obj_name, &name, err);
  if (e)
    goto out;
  char now[SS__TIME_MAX];
  ss__now_rfc3339(now);
  pthread_mutex_lock(&st->mu);
  locked = true;
  e = ss__db_begin(st, err);
  if (e)
    goto out;
  began = true;
  struct ss_error sub = {0};
  e = ss__db_get(st, events_kind, ns, name, &ev, &sub);
  if (e == SS_EOK) {
    json_int_t count = json_integer_value(json_object_get(ev, "count"));
    if (json_object_set_new(ev, "count", json_integer(count + 1)) ||
        json_object_set_new(ev, "lastTimestamp", json_string(now))) {
      e = ss_error_set(err, SS_ENOMEM, 0, 0, "updating an event");
      goto out;
    }
    began = false;
    e = ss__commit_change(st, events_kind, ns, name, ev, SS_WATCH_MODIFIED, err);
    goto out;
  }
  if (e != SS_ENOTFOUND) {
    if (err)
      *err = sub;
    goto out;
  }
  char uid[SS__UUID_LEN + 1];
  e = ss__uuid4(uid, err);
  if (e)
    goto out;
  ev = new_event(about, ns, name, type, reason, message, now, uid);
  if (!ev) {
    e = ss_error_set(err, SS_ENOMEM, 0, 0, "making an event");
    goto out;
  }
  began = false;
  e = ss__commit_change(st, events_kind, ns, name, ev, SS_WATCH_ADDED, err);
  added = !e;
out:
  if (began)
    ss__db_rollback(st);
  /* A failed trim leaves one event too many, not a lost event: report it
   * all the same, since the store is failing. */
  if (added)
    e = trim_events(st, ns, err);
  if (locked)
    pthread_mutex_unlock(&st->mu);
  json_decref(ev);
  free(name);
  return e;
}

enum ss_err ss_store_eventf(struct ss_store *st, const json_t *about, const char *type,
                            const char *reason, struct ss_error *err, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return ss_store_event(st, about, type, reason, msg, err);
}
