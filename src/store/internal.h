/* internal.h: what the files of src/store/ share and nobody outside sees:
 * the store's struct, the SQLite layer (db.c), the write path every change
 * takes (store.c), the change history behind watches (watch.c) and the
 * identifiers the store mints (ident.c). */
#ifndef SS_STORE_INTERNAL_H
#define SS_STORE_INTERNAL_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

/* Prepared once at open, reset after each use. */
enum ss__stmt {
  SS__STMT_BEGIN,
  SS__STMT_COMMIT,
  SS__STMT_ROLLBACK,
  SS__STMT_GET,
  SS__STMT_INSERT,
  SS__STMT_REPLACE,
  SS__STMT_DELETE,
  SS__STMT_LIST_NS,
  SS__STMT_LIST_ALL,
  SS__STMT_COUNT_NS,
  SS__STMT_OLDEST_NS,
  SS__STMT_META_GET,
  SS__STMT_META_SET,
  SS__STMT_COUNT
};

/* The meta key under which the resourceVersion counter lives; reserved, so
 * ss_store_meta_set refuses it. */
#define SS__META_RV_KEY "resourceVersion"

/* One change as watchers see it; owns its strings and obj. */
struct ss__change {
  uint64_t rv;
  char *group, *plural, *ns;
  enum ss_watch_type type;
  json_t *obj; /* the object after the change (before it, for DELETED) */
  int64_t at_ms; /* when it was published (monotonic) */
};

/* The changes of the last SS_STORE_WATCH_HISTORY_MS, at most
 * SS_STORE_WATCH_HISTORY of them, in resourceVersion order. */
struct ss__history {
  pthread_mutex_t mu;
  pthread_cond_t cond; /* broadcast on every change and on shutdown */
  struct ss__change **ring;
  uint64_t total;    /* changes published since open; ring[seq % N] */
  uint64_t first;    /* the oldest retained: seq in [first, total) is in the ring */
  uint64_t floor_rv; /* every change with rv > floor_rv is in the ring */
  bool closing;
};

struct ss_store {
  pthread_mutex_t mu; /* guards db, stmt and rv; taken before hist.mu */
  sqlite3 *db;
  sqlite3_stmt *stmt[SS__STMT_COUNT];
  uint64_t rv; /* the committed counter, mirrored from the meta table */
  struct ss__history hist;
};

/* ---- db.c: SQLite; every function expects st->mu held ---- */
enum ss_err ss__db_open(struct ss_store *st, const char *path, struct ss_error *err);
void ss__db_close(struct ss_store *st);
enum ss_err ss__db_begin(struct ss_store *st, struct ss_error *err);
enum ss_err ss__db_commit(struct ss_store *st, struct ss_error *err);
void ss__db_rollback(struct ss_store *st);
/* *out: a new reference; SS_ENOTFOUND when absent. */
enum ss_err ss__db_get(struct ss_store *st, struct ss_kind_ref k, const char *ns,
                       const char *name, json_t **out, struct ss_error *err);
/* SS_EEXISTS when the key is taken. obj borrowed. */
enum ss_err ss__db_insert(struct ss_store *st, struct ss_kind_ref k, const char *ns,
                          const char *name, const char *uid, uint64_t rv, const json_t *obj,
                          struct ss_error *err);
enum ss_err ss__db_replace(struct ss_store *st, struct ss_kind_ref k, const char *ns,
                           const char *name, uint64_t rv, const json_t *obj,
                           struct ss_error *err);
enum ss_err ss__db_delete(struct ss_store *st, struct ss_kind_ref k, const char *ns,
                          const char *name, struct ss_error *err);
/* Appends the objects of k in ns (NULL: all) to items, by namespace, name. */
enum ss_err ss__db_list(struct ss_store *st, struct ss_kind_ref k, const char *ns,
                        json_t *items, struct ss_error *err);
enum ss_err ss__db_count(struct ss_store *st, struct ss_kind_ref k, const char *ns,
                         uint64_t *n, struct ss_error *err);
/* *name (malloc'd): the object of k in ns written longest ago. */
enum ss_err ss__db_oldest(struct ss_store *st, struct ss_kind_ref k, const char *ns,
                          char **name, struct ss_error *err);
enum ss_err ss__db_save_rv(struct ss_store *st, uint64_t rv, struct ss_error *err);
enum ss_err ss__db_meta_get(struct ss_store *st, const char *key, char **value,
                            struct ss_error *err);
enum ss_err ss__db_meta_set(struct ss_store *st, const char *key, const char *value,
                            struct ss_error *err);

/* ---- store.c: the one write path ---- */
/* With st->mu held and a transaction begun: gives obj the next
 * resourceVersion, writes it (ADDED inserts, MODIFIED replaces, DELETED
 * removes the row and obj is the last state), commits and publishes the
 * change. Always ends the transaction: commits on success, rolls back on
 * failure. obj borrowed (its metadata.resourceVersion is set). */
enum ss_err ss__commit_change(struct ss_store *st, struct ss_kind_ref k, const char *ns,
                              const char *name, json_t *obj, enum ss_watch_type type,
                              struct ss_error *err);
/* "seldondeployments.machinelearning.seldon.io" or "events": the resource
 * as the API server names it in its messages. */
void ss__kind_name(struct ss_kind_ref k, char *buf, size_t size);

/* ---- watch.c: the change history ---- */
enum ss_err ss__history_init(struct ss__history *h, uint64_t rv, struct ss_error *err);
void ss__history_fini(struct ss__history *h);
/* A change ready to publish (obj deep-copied); NULL when out of memory. */
struct ss__change *ss__change_new(struct ss_kind_ref k, const char *ns,
                                  enum ss_watch_type type, uint64_t rv, const json_t *obj);
void ss__change_free(struct ss__change *c);
/* Appends c (takes ownership) and wakes watchers; cannot fail, so it runs
 * after the commit. Called with st->mu held, so the order of the ring is
 * the order of resourceVersions. */
void ss__history_publish(struct ss__history *h, struct ss__change *c);

/* ---- ident.c: identifiers and times ---- */
#define SS__UUID_LEN 36
/* Kubernetes' generateName suffix length (apiserver names.SimpleNameGenerator). */
#define SS__NAME_SUFFIX_LEN 5
#define SS__TIME_MAX 32
enum ss_err ss__uuid4(char out[SS__UUID_LEN + 1], struct ss_error *err);
enum ss_err ss__name_suffix(char out[SS__NAME_SUFFIX_LEN + 1], struct ss_error *err);
/* Now as RFC 3339 UTC with seconds: "2026-11-23T18:30:00Z". */
void ss__now_rfc3339(char out[SS__TIME_MAX]);

/* Small helpers over jansson for metadata fields. */
const char *ss__meta_str(const json_t *obj, const char *field);

#endif
