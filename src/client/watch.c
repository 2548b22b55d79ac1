/* watch.c: list, then watch from the list's resourceVersion, as client-go's
 * reflector does: a stream the server ends is resumed from the last version
 * seen, a 410 Gone (the version was compacted away) relists. Each call is
 * bounded by its time-out and by a cap on reconnections; nothing polls. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/internal.h"

/* A watch asks the server to end the stream after this long, so that a
 * silently dead connection is noticed (client-go picks 5-10 minutes). */
#define SS_CLIENT_WATCH_CHUNK_S 300
/* Beyond the server's end, how long we wait before calling it dead. */
#define SS_CLIENT_WATCH_GRACE_MS 30000
/* Reconnections (and relists) one watch may make before giving up. */
#define SS_CLIENT_MAX_RECONNECTS 10000
/* A stream that ends this fast is followed by a pause before the next. */
#define SS_CLIENT_RECONNECT_PAUSE_MS 200

struct stream_state {
  ss_client_watch_fn fn;
  void *ctx;
  char rv[32];
  bool user_stopped;
  bool gone;
  bool failed;
  struct ss_client_error *err;
  enum ss_err rc;
};

static bool on_line(void *ud, char *line, size_t len) {
  struct stream_state *st = ud;
  json_error_t jerr;
  json_t *ev = json_loadb(line, len, 0, &jerr);
  const char *type = json_string_value(json_object_get(ev, "type"));
  json_t *obj = json_object_get(ev, "object");
  bool go = true;
  if (!type || !json_is_object(obj)) {
    st->failed = true;
    st->rc = ss__client_fail(st->err, SS_ESYNTAX, "watch: a line is not an event: %s",
                             ev ? "no type or object" : jerr.text);
    go = false;
    goto out;
  }
  if (strcmp(type, "ERROR") == 0) {
    json_int_t code = json_integer_value(json_object_get(obj, "code"));
    if (code == 410) {
      st->gone = true;
    } else {
      struct ss_client_response r = {.code = (long)code, .body = obj};
      st->failed = true;
      st->rc = ss_client_error_from_response(&r, st->err);
    }
    go = false;
    goto out;
  }
  const char *rv = ss__client_rv(obj);
  if (*rv && strlen(rv) < sizeof st->rv)
    snprintf(st->rv, sizeof st->rv, "%s", rv);
  if (strcmp(type, "BOOKMARK") == 0)
    goto out;
  if (!st->fn(st->ctx, type, obj)) {
    st->user_stopped = true;
    go = false;
  }
out:
  json_decref(ev);
  return go;
}

static void pause_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

enum ss_err ss_client_watch(struct ss_client *c, const struct ss_client_kind *k, const char *ns,
                            const struct ss_client_watch_opts *opts, ss_client_watch_fn fn,
                            void *ctx, struct ss_client_error *err) {
  static const struct ss_client_watch_opts none = {0};
  if (!opts)
    opts = &none;
  int64_t start = ss__client_now_ms();
  int64_t deadline = opts->timeout_ms > 0 ? start + opts->timeout_ms : 0;
  struct stream_state st = {.fn = fn, .ctx = ctx, .err = err};
  bool need_list = true;
  char base[SS_CLIENT_PATH_MAX], sel[SS_CLIENT_PATH_MAX], esc[768];
  if (!ss_client_path(k, k->namespaced ? ns : NULL, NULL, NULL, base, sizeof base))
    return ss__client_fail(err, SS_EUSAGE, "invalid namespace \"%s\"", ns ? ns : "");
  sel[0] = '\0';
  if (opts->label_selector && *opts->label_selector) {
    ss__client_escape(opts->label_selector, esc, sizeof esc);
    snprintf(sel, sizeof sel, "&labelSelector=%s", esc);
  }
  if (opts->field_selector && *opts->field_selector) {
    size_t l = strlen(sel);
    ss__client_escape(opts->field_selector, esc, sizeof esc);
    snprintf(sel + l, sizeof sel - l, "&fieldSelector=%s", esc);
  }
  for (int round = 0; round < SS_CLIENT_MAX_RECONNECTS; round++) {
    if (opts->cancel && atomic_load(opts->cancel))
      return SS_EOK;
    int64_t now = ss__client_now_ms();
    if (deadline && now >= deadline)
      return ss__client_fail(err, SS_EIO, "timed out after %d ms", opts->timeout_ms);
    if (need_list) {
      json_t *list = NULL;
      enum ss_err rc;
      if (round > 0 && !fn(ctx, "RELISTED", NULL))
        return SS_EOK;
      if ((rc = ss_client_list(c, k, ns, opts->label_selector, opts->field_selector, &list, err)))
        return rc;
      const char *rv = json_string_value(
          json_object_get(json_object_get(list, "metadata"), "resourceVersion"));
      snprintf(st.rv, sizeof st.rv, "%s", rv ? rv : "");
      size_t i;
      json_t *it;
      bool go = true;
      json_array_foreach(json_object_get(list, "items"), i, it) {
        if (!(go = fn(ctx, "ADDED", it)))
          break;
      }
      json_decref(list);
      if (!go || !fn(ctx, "SYNCED", NULL))
        return SS_EOK;
      need_list = false;
    }
    long chunk = SS_CLIENT_WATCH_CHUNK_S;
    if (deadline && (deadline - now) / 1000 + 1 < chunk)
      chunk = (long)((deadline - now) / 1000 + 1);
    char path[SS_CLIENT_PATH_MAX * 2];
    snprintf(path, sizeof path, "%s?watch=true&allowWatchBookmarks=true&resourceVersion=%s"
             "&timeoutSeconds=%ld%s", base, st.rv, chunk, sel);
    int64_t stream_deadline = now + chunk * 1000 + SS_CLIENT_WATCH_GRACE_MS;
    if (deadline && deadline < stream_deadline)
      stream_deadline = deadline;
    enum ss__stream_end end;
    st.gone = st.failed = st.user_stopped = false;
    enum ss_err rc = ss__client_stream(c, path, stream_deadline, opts->cancel, on_line, &st, &end,
                                       err);
    if (rc == SS_EGONE) {
      need_list = true;
      continue;
    }
    if (rc)
      return rc;
    if (st.failed)
      return st.rc;
    if (st.user_stopped || end == SS__STREAM_CANCELLED)
      return SS_EOK;
    if (st.gone) {
      need_list = true;
      continue;
    }
    if (end == SS__STREAM_DEADLINE && deadline && ss__client_now_ms() >= deadline)
      return ss__client_fail(err, SS_EIO, "timed out after %d ms", opts->timeout_ms);
    /* The server ended the stream (its timeout, or a restart): resume. */
    if (ss__client_now_ms() - now < 1000)
      pause_ms(SS_CLIENT_RECONNECT_PAUSE_MS);
  }
  return ss__client_fail(err, SS_EIO, "watch of %s: gave up after %d reconnections", k->plural,
                         SS_CLIENT_MAX_RECONNECTS);
}

/* ---- an object's events ---- */

struct events_state {
  ss_client_event_fn fn;
  void *ctx;
  unsigned long long last_rv; /* the newest version delivered */
  unsigned long long floor;   /* what a relist has delivered already */
  bool listing;
};

static bool on_event(void *ud, const char *type, const json_t *obj) {
  struct events_state *es = ud;
  if (strcmp(type, "RELISTED") == 0) {
    es->listing = true;
    es->floor = es->last_rv;
    return true;
  }
  if (strcmp(type, "SYNCED") == 0) {
    es->listing = false;
    return true;
  }
  if (!obj || strcmp(type, "DELETED") == 0)
    return true;
  /* resourceVersions here are numbers that grow with every write, so what
   * was delivered before a relist is skipped. A list is in no particular
   * order, hence the floor taken when it began. */
  unsigned long long rv = strtoull(ss__client_rv(obj), NULL, 10);
  if (rv && rv <= (es->listing ? es->floor : es->last_rv))
    return true;
  if (rv > es->last_rv)
    es->last_rv = rv;
  return es->fn(es->ctx, obj);
}

enum ss_err ss_client_watch_events(struct ss_client *c, const char *ns, const char *name,
                                   const struct ss_client_watch_opts *opts, ss_client_event_fn fn,
                                   void *ctx, struct ss_client_error *err) {
  struct ss_client_watch_opts o = {0};
  char field[512];
  if (opts)
    o = *opts;
  if (!name || !*name)
    return ss__client_fail(err, SS_EUSAGE, "no object named for its events");
  int n = snprintf(field, sizeof field, "involvedObject.name=%s", name);
  if (o.uid && *o.uid)
    snprintf(field + n, sizeof field - (size_t)n, ",involvedObject.uid=%s", o.uid);
  o.field_selector = field;
  struct events_state es = {.fn = fn, .ctx = ctx, .listing = true};
  return ss_client_watch(c, ss_client_kind_find("events"), ns && *ns ? ns : ss_client_namespace(c),
                         &o, on_event, &es, err);
}
