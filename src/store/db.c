/* db.c: the store's SQLite layer: opening (WAL, schema), the prepared
 * statements, and one function per statement. Rows and their keys only;
 * what a resourceVersion or a generation means is store.c's business, and
 * the caller holds st->mu around every call here.
 *
 * Every value reaches SQL as a bound parameter; the only SQL text built
 * here is constant. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/internal.h"

/* How long a write waits for another connection's lock (a backup tool, the
 * sqlite3 shell) before failing with SQLITE_BUSY. */
#define SS_STORE_BUSY_TIMEOUT_MS 5000
/* Bumped when the schema changes; a newer database is refused rather than
 * misread. */
#define SS_STORE_SCHEMA_VERSION 1

static const char *const stmt_sql[SS__STMT_COUNT] = {
    [SS__STMT_BEGIN] = "BEGIN IMMEDIATE",
    [SS__STMT_COMMIT] = "COMMIT",
    [SS__STMT_ROLLBACK] = "ROLLBACK",
    [SS__STMT_GET] = "SELECT json FROM objects WHERE grp=?1 AND plural=?2 AND ns=?3 AND name=?4",
    [SS__STMT_INSERT] =
        "INSERT INTO objects(grp, plural, ns, name, uid, rv, json) VALUES(?1,?2,?3,?4,?5,?6,?7)",
    [SS__STMT_REPLACE] =
        "UPDATE objects SET rv=?5, json=?6 WHERE grp=?1 AND plural=?2 AND ns=?3 AND name=?4",
    [SS__STMT_DELETE] = "DELETE FROM objects WHERE grp=?1 AND plural=?2 AND ns=?3 AND name=?4",
    [SS__STMT_LIST_NS] = "SELECT json FROM objects WHERE grp=?1 AND plural=?2 AND ns=?3 "
                         "ORDER BY name",
    [SS__STMT_LIST_ALL] = "SELECT json FROM objects WHERE grp=?1 AND plural=?2 ORDER BY ns, name",
    [SS__STMT_COUNT_NS] = "SELECT count(*) FROM objects WHERE grp=?1 AND plural=?2 AND ns=?3",
    [SS__STMT_OLDEST_NS] = "SELECT name FROM objects WHERE grp=?1 AND plural=?2 AND ns=?3 "
                           "ORDER BY rv LIMIT 1",
    [SS__STMT_META_GET] = "SELECT value FROM meta WHERE key=?1",
    [SS__STMT_META_SET] = "INSERT INTO meta(key, value) VALUES(?1,?2) "
                          "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
};

/* synchronous=NORMAL: in WAL mode a commit survives a process crash and
 * only the last commits can be lost on power failure, which a daemon that
 * reconciles from its resources tolerates. */
static const char schema_sql[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS objects("
    "  grp TEXT NOT NULL, plural TEXT NOT NULL, ns TEXT NOT NULL, name TEXT NOT NULL,"
    "  uid TEXT NOT NULL, rv INTEGER NOT NULL, json TEXT NOT NULL,"
    "  PRIMARY KEY(grp, plural, ns, name));"
    /* For dropping a namespace's oldest events without a sort of them all. */
    "CREATE INDEX IF NOT EXISTS objects_by_rv ON objects(grp, plural, ns, rv);"
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);";

static enum ss_err db_error(struct ss_store *st, struct ss_error *err, const char *what) {
  int rc = sqlite3_errcode(st->db);
  enum ss_err code = rc == SQLITE_NOMEM ? SS_ENOMEM : SS_EIO;
  return ss_error_set(err, code, 0, 0, "sqlite: %s: %s", what, sqlite3_errmsg(st->db));
}

/* Ends a statement's use so that its next use starts clean. */
static void stmt_done(sqlite3_stmt *s) {
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
}

static int bind_key(sqlite3_stmt *s, struct ss_kind_ref k, const char *ns, const char *name) {
  int rc = sqlite3_bind_text(s, 1, k.group, -1, SQLITE_STATIC);
  if (rc == SQLITE_OK)
    rc = sqlite3_bind_text(s, 2, k.plural, -1, SQLITE_STATIC);
  if (rc == SQLITE_OK && ns)
    rc = sqlite3_bind_text(s, 3, ns, -1, SQLITE_STATIC);
  if (rc == SQLITE_OK && name)
    rc = sqlite3_bind_text(s, 4, name, -1, SQLITE_STATIC);
  return rc;
}

/* Runs a statement that returns no rows. */
static enum ss_err run_simple(struct ss_store *st, enum ss__stmt which, struct ss_error *err,
                              const char *what) {
  sqlite3_stmt *s = st->stmt[which];
  enum ss_err e = SS_EOK;
  if (sqlite3_step(s) != SQLITE_DONE)
    e = db_error(st, err, what);
  stmt_done(s);
  return e;
}

static enum ss_err load_rv(struct ss_store *st, struct ss_error *err) {
  char *value = NULL;
  struct ss_error sub = {0};
  enum ss_err e = ss__db_meta_get(st, SS__META_RV_KEY, &value, &sub);
  if (e == SS_ENOTFOUND) {
    st->rv = 0; /* a new database */
    e = SS_EOK;
    goto out;
  }
  if (e) {
    if (err)
      *err = sub;
    goto out;
  }
  char *end = NULL;
  unsigned long long v = strtoull(value, &end, 10);
  if (!*value || *end || v > INT64_MAX) {
    e = ss_error_set(err, SS_EIO, 0, 0, "meta %s is not a resourceVersion: \"%.64s\"",
                     SS__META_RV_KEY, value);
    goto out;
  }
  st->rv = (uint64_t)v;
out:
  free(value);
  return e;
}

static enum ss_err check_schema_version(struct ss_store *st, struct ss_error *err) {
  sqlite3_stmt *s = NULL;
  enum ss_err e = SS_EOK;
  if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK ||
      sqlite3_step(s) != SQLITE_ROW) {
    e = db_error(st, err, "reading the schema version");
    goto out;
  }
  int version = sqlite3_column_int(s, 0);
  if (version > SS_STORE_SCHEMA_VERSION) {
    e = ss_error_set(err, SS_EUNSUPPORTED, 0, 0,
                     "database schema version %d is newer than this servescale's (%d)", version,
                     SS_STORE_SCHEMA_VERSION);
    goto out;
  }
  if (version < SS_STORE_SCHEMA_VERSION) {
    /* PRAGMA takes no parameters; the value is our own constant. */
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version=%d", SS_STORE_SCHEMA_VERSION);
    if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
      e = db_error(st, err, "writing the schema version");
  }
out:
  sqlite3_finalize(s);
  return e;
}

/* The database holds secrets (the API token, OAuth client secrets): it
 * and the files SQLite keeps beside it are readable by their owner only,
 * whatever the umask or an older servescale left. SQLite creates -wal and
 * -shm with the database's mode; those already there are fixed here. */
static enum ss_err restrict_files(const char *path, struct ss_error *err) {
  static const char *const beside[] = {"-wal", "-shm", "-journal"};
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return ss_error_set(err, SS_EIO, 0, 0, "opening %s: %s", path, strerror(errno));
  int rc = fchmod(fd, 0600);
  int saved = errno;
  close(fd);
  if (rc)
    return ss_error_set(err, SS_EIO, 0, 0, "making %s private (mode 0600): %s", path,
                        strerror(saved));
  for (size_t i = 0; i < sizeof beside / sizeof beside[0]; i++) {
    char p[4200];
    if ((size_t)snprintf(p, sizeof p, "%s%s", path, beside[i]) >= sizeof p)
      return ss_error_set(err, SS_EIO, 0, 0, "database path too long: %.100s...", path);
    if (chmod(p, 0600) && errno != ENOENT)
      return ss_error_set(err, SS_EIO, 0, 0, "making %s private (mode 0600): %s", p,
                          strerror(errno));
  }
  return SS_EOK;
}

enum ss_err ss__db_open(struct ss_store *st, const char *path, struct ss_error *err) {
  enum ss_err e = restrict_files(path, err);
  if (e)
    return e;
  /* NOMUTEX: st->mu already serializes every use of the connection. */
  int rc = sqlite3_open_v2(path, &st->db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK) {
    e = ss_error_set(err, rc == SQLITE_NOMEM ? SS_ENOMEM : SS_EIO, 0, 0, "sqlite: opening %s: %s",
                     path, st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
    goto out;
  }
  sqlite3_busy_timeout(st->db, SS_STORE_BUSY_TIMEOUT_MS);
  sqlite3_extended_result_codes(st->db, 1);
  if (sqlite3_exec(st->db, schema_sql, NULL, NULL, NULL) != SQLITE_OK) {
    e = db_error(st, err, "creating the schema");
    goto out;
  }
  e = check_schema_version(st, err);
  if (e)
    goto out;
  for (int i = 0; i < SS__STMT_COUNT; i++) {
    if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[i],
                           NULL) != SQLITE_OK) {
      e = db_error(st, err, "preparing a statement");
      goto out;
    }
  }
  e = load_rv(st, err);
out:
  if (e)
    ss__db_close(st);
  return e;
}

void ss__db_close(struct ss_store *st) {
  if (!st)
    return;
  for (int i = 0; i < SS__STMT_COUNT; i++) {
    sqlite3_finalize(st->stmt[i]);
    st->stmt[i] = NULL;
  }
  sqlite3_close(st->db);
  st->db = NULL;
}

enum ss_err ss__db_begin(struct ss_store *st, struct ss_error *err) {
  return run_simple(st, SS__STMT_BEGIN, err, "begin");
}

enum ss_err ss__db_commit(struct ss_store *st, struct ss_error *err) {
  return run_simple(st, SS__STMT_COMMIT, err, "commit");
}

void ss__db_rollback(struct ss_store *st) {
  /* Fails only when no transaction is open (SQLite already rolled back
   * after an I/O error); nothing is left to undo then. */
  run_simple(st, SS__STMT_ROLLBACK, NULL, "rollback");
}

enum ss_err ss__db_get(struct ss_store *st, struct ss_kind_ref k, const char *ns,
                       const char *name, json_t **out, struct ss_error *err) {
  sqlite3_stmt *s = st->stmt[SS__STMT_GET];
  enum ss_err e = SS_EOK;
  *out = NULL;
  if (bind_key(s, k, ns, name) != SQLITE_OK) {
    e = db_error(st, err, "get");
    goto out;
  }
  int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) {
    char kind[256];
    ss__kind_name(k, kind, sizeof kind);
    e = ss_error_set(err, SS_ENOTFOUND, 0, 0, "%s \"%s\" not found", kind, name);
    goto out;
  }
  if (rc != SQLITE_ROW) {
    e = db_error(st, err, "get");
    goto out;
  }
  const char *text = (const char *)sqlite3_column_text(s, 0);
  json_error_t jerr;
  *out = text ? json_loads(text, 0, &jerr) : NULL;
  if (!*out)
    e = ss_error_set(err, SS_EIO, 0, 0, "stored object %s/%s is not JSON", ns, name);
out:
  stmt_done(s);
  return e;
}

static enum ss_err bind_rv_json(struct ss_store *st, sqlite3_stmt *s, int rv_at, uint64_t rv,
                                const json_t *obj, char **text, struct ss_error *err) {
  *text = json_dumps(obj, JSON_COMPACT);
  if (!*text)
    return ss_error_set(err, SS_ENOMEM, 0, 0, "serializing an object");
  if (sqlite3_bind_int64(s, rv_at, (sqlite3_int64)rv) != SQLITE_OK ||
      sqlite3_bind_text(s, rv_at + 1, *text, -1, SQLITE_STATIC) != SQLITE_OK)
    return db_error(st, err, "binding an object");
  return SS_EOK;
}

enum ss_err ss__db_insert(struct ss_store *st, struct ss_kind_ref k, const char *ns,
                          const char *name, const char *uid, uint64_t rv, const json_t *obj,
                          struct ss_error *err) {
  sqlite3_stmt *s = st->stmt[SS__STMT_INSERT];
  char *text = NULL;
  enum ss_err e = SS_EOK;
  if (bind_key(s, k, ns, name) != SQLITE_OK ||
      sqlite3_bind_text(s, 5, uid, -1, SQLITE_STATIC) != SQLITE_OK) {
    e = db_error(st, err, "insert");
    goto out;
  }
  e = bind_rv_json(st, s, 6, rv, obj, &text, err);
  if (e)
    goto out;
  int rc = sqlite3_step(s);
  if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
    char kind[256];
    ss__kind_name(k, kind, sizeof kind);
    e = ss_error_set(err, SS_EEXISTS, 0, 0, "%s \"%s\" already exists", kind, name);
  } else if (rc != SQLITE_DONE) {
    e = db_error(st, err, "insert");
  }
out:
  stmt_done(s);
  free(text);
  return e;
}

enum ss_err ss__db_replace(struct ss_store *st, struct ss_kind_ref k, const char *ns,
                           const char *name, uint64_t rv, const json_t *obj,
                           struct ss_error *err) {
  sqlite3_stmt *s = st->stmt[SS__STMT_REPLACE];
  char *text = NULL;
  enum ss_err e = SS_EOK;
  if (bind_key(s, k, ns, name) != SQLITE_OK) {
    e = db_error(st, err, "replace");
    goto out;
  }
  e = bind_rv_json(st, s, 5, rv, obj, &text, err);
  if (e)
    goto out;
  if (sqlite3_step(s) != SQLITE_DONE)
    e = db_error(st, err, "replace");
  else if (sqlite3_changes(st->db) != 1) /* callers read the row in this transaction */
    e = ss_error_set(err, SS_EINTERNAL, 0, 0, "replace of %s/%s changed no row", ns, name);
out:
  stmt_done(s);
  free(text);
  return e;
}

enum ss_err ss__db_delete(struct ss_store *st, struct ss_kind_ref k, const char *ns,
                          const char *name, struct ss_error *err) {
  sqlite3_stmt *s = st->stmt[SS__STMT_DELETE];
  enum ss_err e = SS_EOK;
  if (bind_key(s, k, ns, name) != SQLITE_OK || sqlite3_step(s) != SQLITE_DONE)
    e = db_error(st, err, "delete");
  stmt_done(s);
  return e;
}

enum ss_err ss__db_list(struct ss_store *st, struct ss_kind_ref k, const char *ns,
                        json_t *items, struct ss_error *err) {
  sqlite3_stmt *s = st->stmt[ns ? SS__STMT_LIST_NS : SS__STMT_LIST_ALL];
  enum ss_err e = SS_EOK;
  if (bind_key(s, k, ns, NULL) != SQLITE_OK) {
    e = db_error(st, err, "list");
    goto out;
  }
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    const char *text = (const char *)sqlite3_column_text(s, 0);
    json_error_t jerr;
    json_t *obj = text ? json_loads(text, 0, &jerr) : NULL;
    if (!obj) {
      e = ss_error_set(err, SS_EIO, 0, 0, "a stored %s is not JSON", k.plural);
      goto out;
    }
    if (json_array_append_new(items, obj)) {
      e = ss_error_set(err, SS_ENOMEM, 0, 0, "listing %s", k.plural);
      goto out;
    }
  }
  if (rc != SQLITE_DONE)
    e = db_error(st, err, "list");
out:
  stmt_done(s);
  return e;
}

enum ss_err ss__db_count(struct ss_store *st, struct ss_kind_ref k, const char *ns,
                         uint64_t *n, struct ss_error *err) {
  sqlite3_stmt *s = st->stmt[SS__STMT_COUNT_NS];
  enum ss_err e = SS_EOK;
  if (bind_key(s, k, ns, NULL) != SQLITE_OK || sqlite3_step(s) != SQLITE_ROW)
    e = db_error(st, err, "count");
  else
    *n = (uint64_t)sqlite3_column_int64(s, 0);
  stmt_done(s);
  return e;
}

enum ss_err ss__db_oldest(struct ss_store *st, struct ss_kind_ref k, const char *ns,
                          char **name, struct ss_error *err) {
  sqlite3_stmt *s = st->stmt[SS__STMT_OLDEST_NS];
  enum ss_err e = SS_EOK;
  *name = NULL;
  if (bind_key(s, k, ns, NULL) != SQLITE_OK) {
    e = db_error(st, err, "oldest");
    goto out;
  }
  int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) {
    e = ss_error_set(err, SS_ENOTFOUND, 0, 0, "no %s in namespace %s", k.plural, ns);
    goto out;
  }
  if (rc != SQLITE_ROW) {
    e = db_error(st, err, "oldest");
    goto out;
  }
  const char *text = (const char *)sqlite3_column_text(s, 0);
  *name = strdup(text ? text : "");
  if (!*name)
    e = ss_error_set(err, SS_ENOMEM, 0, 0, "oldest %s", k.plural);
out:
  stmt_done(s);
  return e;
}

enum ss_err ss__db_save_rv(struct ss_store *st, uint64_t rv, struct ss_error *err) {
  char text[24];
  snprintf(text, sizeof text, "%" PRIu64, rv);
  return ss__db_meta_set(st, SS__META_RV_KEY, text, err);
}

enum ss_err ss__db_meta_get(struct ss_store *st, const char *key, char **value,
                            struct ss_error *err) {
  sqlite3_stmt *s = st->stmt[SS__STMT_META_GET];
  enum ss_err e = SS_EOK;
  *value = NULL;
  if (sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC) != SQLITE_OK) {
    e = db_error(st, err, "meta get");
    goto out;
  }
  int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) {
    e = ss_error_set(err, SS_ENOTFOUND, 0, 0, "meta key \"%s\" not found", key);
    goto out;
  }
  if (rc != SQLITE_ROW) {
    e = db_error(st, err, "meta get");
    goto out;
  }
  const char *text = (const char *)sqlite3_column_text(s, 0);
  *value = strdup(text ? text : "");
  if (!*value)
    e = ss_error_set(err, SS_ENOMEM, 0, 0, "meta get");
out:
  stmt_done(s);
  return e;
}

enum ss_err ss__db_meta_set(struct ss_store *st, const char *key, const char *value,
                            struct ss_error *err) {
  sqlite3_stmt *s = st->stmt[SS__STMT_META_SET];
  enum ss_err e = SS_EOK;
  if (sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC) != SQLITE_OK ||
      sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC) != SQLITE_OK ||
      sqlite3_step(s) != SQLITE_DONE)
    e = db_error(st, err, "meta set");
  stmt_done(s);
  return e;
}
