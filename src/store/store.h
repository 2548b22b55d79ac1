/* store.h: the daemon's state: Kubernetes-style objects in SQLite (WAL),
 * each with uid, resourceVersion, generation and creationTimestamp kept as
 * the Kubernetes API server keeps them, plus a watch feed of changes.
 *
 * Objects are jansson values (JSON as the API serves them). A kind is named
 * by its API group and plural resource name ("machinelearning.seldon.io",
 * "seldondeployments"; core kinds use the group ""). Namespaced objects have
 * a namespace; cluster-scoped ones (namespaces) use "".
 *
 * One global resourceVersion counter, bumped by every write, in the same
 * transaction as the write (as etcd's revision). The store is safe to use
 * from several threads; calls serialize on one connection.
 *
 * What the store does NOT do: validation and defaulting (src/model/), HTTP
 * (src/api/), deciding anything (src/control/). */
#ifndef SS_STORE_STORE_H
#define SS_STORE_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

/* Changes kept in memory for watches, at most this many and for at most
 * this long; a watch from an older resourceVersion gets SS_EGONE (HTTP 410),
 * as from an API server whose history was compacted (etcd's default
 * compaction interval, --etcd-compaction-interval, is 5 minutes). The time
 * bound keeps the memory of a steady daemon steady after 5 minutes,
 * whatever its write rate. */
#define SS_STORE_WATCH_HISTORY 4096
#define SS_STORE_WATCH_HISTORY_MS (5 * 60 * 1000)
/* Events kept per namespace; the oldest are dropped past this. */
#define SS_STORE_MAX_EVENTS 5000

struct ss_store;

struct ss_kind_ref {
  const char *group;  /* "" for core */
  const char *plural; /* "seldondeployments", "events", "namespaces" */
};

/* Opens or creates the database at path (parent directories must exist).
 * It holds secrets: the file, and its -wal, -shm and -journal files when
 * present, are made mode 0600 (owner only) even when they already exist. */
enum ss_err ss_store_open(const char *path, struct ss_store **out, struct ss_error *err);
/* Close every watch first (ss_store_shutdown_watches wakes them). NULL ok. */
void ss_store_close(struct ss_store *st);

/* The current (highest) resourceVersion. */
uint64_t ss_store_rv(struct ss_store *st);

/* Creates obj (borrowed). metadata.name must be set; metadata.namespace for a
 * namespaced kind. The store sets uid (random UUID v4), resourceVersion,
 * generation 1, creationTimestamp (RFC 3339, UTC, seconds); whatever the
 * caller put there is replaced. metadata.generateName is honoured when name
 * is absent (5 random lowercase alphanumerics appended).
 * SS_EEXISTS when the name is taken. *stored (optional) gets a new
 * reference to the stored object. */
enum ss_err ss_store_create(struct ss_store *st, struct ss_kind_ref k, json_t *obj,
                            json_t **stored, struct ss_error *err);

/* *out: a new reference. SS_ENOTFOUND when absent. */
enum ss_err ss_store_get(struct ss_store *st, struct ss_kind_ref k, const char *ns,
                         const char *name, json_t **out, struct ss_error *err);

/* All objects of kind k in ns (NULL: every namespace), ordered by namespace
 * then name; *items a new array; *rv the store's resourceVersion at the time
 * of the list (what a List's metadata.resourceVersion carries). */
enum ss_err ss_store_list(struct ss_store *st, struct ss_kind_ref k, const char *ns,
                          json_t **items, uint64_t *rv, struct ss_error *err);

/* Replaces the object's metadata (labels, annotations, ...) and spec; keeps
 * uid, creationTimestamp and the stored status. When obj carries a
 * metadata.resourceVersion that differs from the stored one: SS_ECONFLICT
 * (absent or "": unconditional).
 * generation is bumped when spec changed (json_equal). A write that changes
 * nothing is not a write: no new resourceVersion, no watch event. */
enum ss_err ss_store_update(struct ss_store *st, struct ss_kind_ref k, json_t *obj,
                            json_t **stored, struct ss_error *err);

/* Replaces only status (the /status subresource) with a copy of status
 * (borrowed; NULL removes it). expect_rv: NULL (or "") or a
 * resourceVersion that must match (SS_ECONFLICT otherwise). No generation
 * bump. Unchanged status: no write. */
enum ss_err ss_store_update_status(struct ss_store *st, struct ss_kind_ref k, const char *ns,
                                   const char *name, json_t *status, const char *expect_rv,
                                   json_t **stored, struct ss_error *err);

/* Deletes; *deleted (optional) gets the object as it was, with the
 * resourceVersion of the deletion (as the API server returns it). */
enum ss_err ss_store_delete(struct ss_store *st, struct ss_kind_ref k, const char *ns,
                            const char *name, json_t **deleted, struct ss_error *err);

/* Records a core/v1 Event about an object (borrowed; its apiVersion, kind,
 * metadata.name, namespace and uid go into involvedObject). type "Normal" or
 * "Warning". An event with the same object uid, type, reason and message as
 * an earlier one updates that one instead: count+1, lastTimestamp now (as
 * the Kubernetes event recorder aggregates). The event is an object of kind
 * {"", "events"} in the object's namespace ("default" for a cluster-scoped
 * object, as client-go records them), named <object name>.<16 hex> (a hash
 * of what aggregates), so list, get and watch work on it like on any kind.
 * Past SS_STORE_MAX_EVENTS in a namespace, the least recently written are
 * deleted (watches see DELETED). */
enum ss_err ss_store_event(struct ss_store *st, const json_t *about, const char *type,
                           const char *reason, const char *message, struct ss_error *err);
/* ss_store_event with a printf-style message (cut to 511 bytes). */
enum ss_err ss_store_eventf(struct ss_store *st, const json_t *about, const char *type,
                            const char *reason, struct ss_error *err, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Watching. A watch sees every change of kind k (in ns, or every namespace
 * when ns is NULL) with a resourceVersion greater than from_rv, in order.
 * from_rv 0 means "from now". SS_EGONE when from_rv is older than the
 * history kept. */
enum ss_watch_type { SS_WATCH_ADDED, SS_WATCH_MODIFIED, SS_WATCH_DELETED };
struct ss_watch;
enum ss_err ss_store_watch(struct ss_store *st, struct ss_kind_ref k, const char *ns,
                           uint64_t from_rv, struct ss_watch **out, struct ss_error *err);
/* Waits up to timeout_ms (< 0: no limit; 0: only looks) for the next
 * change. Returns 1 with *type and *obj (a new reference, the watch's own
 * copy) set, 0 on timeout, -1 when the store is closing or when this watch
 * fell more than SS_STORE_WATCH_HISTORY changes behind (the changes it
 * missed are gone; its client relists). */
int ss_watch_next(struct ss_watch *w, int timeout_ms, enum ss_watch_type *type, json_t **obj);
void ss_watch_close(struct ss_watch *w);
/* Wakes every watcher so it returns (daemon shutdown). */
void ss_store_shutdown_watches(struct ss_store *st);

/* A small key/value table for the daemon's own state (the API token...).
 * *value: malloc'd, the caller frees it; SS_ENOTFOUND when absent. The key
 * "resourceVersion" is the store's own counter: setting it is SS_EINVALID. */
enum ss_err ss_store_meta_get(struct ss_store *st, const char *key, char **value,
                              struct ss_error *err);
enum ss_err ss_store_meta_set(struct ss_store *st, const char *key, const char *value,
                              struct ss_error *err);

#endif
