/* test_store.c: unit tests for src/store/: object semantics (uid,
 * resourceVersion, generation, conflicts), persistence across reopen,
 * listing, watches (replay, live, filtering, expiry, shutdown) and events.
 * Each test opens a fresh database in its own temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"

static const struct ss_kind_ref SDEP = {"machinelearning.seldon.io", "seldondeployments"};
static const struct ss_kind_ref MODEL = {"mlops.seldon.io", "models"};
static const struct ss_kind_ref EVENTS = {"", "events"};

struct fixture {
  char dir[64];
  char path[128];
  struct ss_store *st;
};

static int setup(void **state) {
  struct fixture *f = calloc(1, sizeof *f);
  if (!f)
    return -1;
  snprintf(f->dir, sizeof f->dir, "/tmp/ss_store_test.XXXXXX");
  if (!mkdtemp(f->dir))
    return -1;
  snprintf(f->path, sizeof f->path, "%s/store.db", f->dir);
  struct ss_error err = {0};
  if (ss_store_open(f->path, &f->st, &err)) {
    fprintf(stderr, "open: %s\n", err.msg);
    return -1;
  }
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fixture *f = *state;
  ss_store_close(f->st);
  static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
  for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
    char p[160];
    snprintf(p, sizeof p, "%s%s", f->path, suffixes[i]);
    unlink(p);
  }
  rmdir(f->dir);
  free(f);
  return 0;
}

static void reopen(struct fixture *f) {
  struct ss_error err = {0};
  ss_store_close(f->st);
  f->st = NULL;
  assert_int_equal(ss_store_open(f->path, &f->st, &err), SS_EOK);
}

static json_t *sdep(const char *ns, const char *name, int replicas) {
  json_t *o = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:i}}", "apiVersion",
                        "machinelearning.seldon.io/v1", "kind", "SeldonDeployment", "metadata",
                        "name", name, "namespace", ns, "spec", "replicas", replicas);
  assert_non_null(o);
  return o;
}

static const char *md_str(const json_t *o, const char *field) {
  return json_string_value(json_object_get(json_object_get(o, "metadata"), field));
}

static uint64_t rv_of(const json_t *o) {
  const char *s = md_str(o, "resourceVersion");
  assert_non_null(s);
  char *end = NULL;
  unsigned long long v = strtoull(s, &end, 10);
  assert_true(*s && !*end);
  return v;
}

static json_int_t generation_of(const json_t *o) {
  return json_integer_value(json_object_get(json_object_get(o, "metadata"), "generation"));
}

/* Creates ns/name and returns the stored object. */
static json_t *create(struct ss_store *st, const char *ns, const char *name, int replicas) {
  json_t *o = sdep(ns, name, replicas), *stored = NULL;
  struct ss_error err = {0};
  enum ss_err e = ss_store_create(st, SDEP, o, &stored, &err);
  if (e)
    print_error("create %s/%s: %s\n", ns, name, err.msg);
  assert_int_equal(e, SS_EOK);
  json_decref(o);
  return stored;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* ---- create, get ---- */

static void test_create_sets_uid_resource_version_generation_and_timestamp(void **state) {
  struct fixture *f = *state;
  json_t *o = sdep("seldon", "m", 1), *stored = NULL, *got = NULL;
  json_t *md = json_object_get(o, "metadata");
  json_object_set_new(md, "uid", json_string("caller-uid"));
  json_object_set_new(md, "resourceVersion", json_string("99"));
  json_object_set_new(md, "generation", json_integer(7));
  json_object_set_new(md, "creationTimestamp", json_string("1999-01-01T00:00:00Z"));
  struct ss_error err = {0};
  assert_int_equal(ss_store_create(f->st, SDEP, o, &stored, &err), SS_EOK);

  const char *uid = md_str(stored, "uid");
  assert_non_null(uid);
  assert_int_equal(strlen(uid), 36);
  assert_true(uid[8] == '-' && uid[13] == '-' && uid[18] == '-' && uid[23] == '-');
  assert_int_equal(uid[14], '4');                  /* version 4 */
  assert_non_null(strchr("89ab", uid[19]));        /* RFC 4122 variant */
  assert_int_equal(rv_of(stored), 1);
  assert_int_equal(ss_store_rv(f->st), 1);
  assert_int_equal(generation_of(stored), 1);

  const char *ts = md_str(stored, "creationTimestamp");
  assert_non_null(ts);
  struct tm tm = {0};
  int used = 0;
  assert_int_equal(sscanf(ts, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                          &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used),
                   6);
  assert_int_equal(used, (int)strlen("2026-11-23T18:30:00Z"));
  assert_int_equal(strlen(ts), used);
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  time_t when = timegm(&tm);
  assert_true(labs((long)(time(NULL) - when)) < 60);

  /* The caller's object is borrowed, not changed. */
  assert_string_equal(md_str(o, "uid"), "caller-uid");

  assert_int_equal(ss_store_get(f->st, SDEP, "seldon", "m", &got, &err), SS_EOK);
  assert_true(json_equal(got, stored));
  json_decref(o);
  json_decref(stored);
  json_decref(got);
}

static void test_create_gives_each_object_its_own_uid(void **state) {
  struct fixture *f = *state;
  json_t *a = create(f->st, "seldon", "a", 1), *b = create(f->st, "seldon", "b", 1);
  assert_string_not_equal(md_str(a, "uid"), md_str(b, "uid"));
  json_decref(a);
  json_decref(b);
}

static void test_create_of_taken_name_is_already_exists_and_no_write(void **state) {
  struct fixture *f = *state;
  json_decref(create(f->st, "seldon", "m", 1));
  json_t *o = sdep("seldon", "m", 2), *stored = NULL;
  struct ss_error err = {0};
  assert_int_equal(ss_store_create(f->st, SDEP, o, &stored, &err), SS_EEXISTS);
  assert_null(stored);
  assert_non_null(strstr(err.msg, "already exists"));
  assert_int_equal(ss_store_rv(f->st), 1);
  /* The same name in another namespace or of another kind is another key. */
  json_decref(create(f->st, "other", "m", 1));
  assert_int_equal(ss_store_create(f->st, MODEL, o, NULL, &err), SS_EOK);
  json_decref(o);
}

static void test_create_with_generate_name_appends_five_characters(void **state) {
  struct fixture *f = *state;
  json_t *o = json_pack("{s:{s:s, s:s}}", "metadata", "generateName", "gen-", "namespace", "ns");
  json_t *a = NULL, *b = NULL;
  struct ss_error err = {0};
  assert_int_equal(ss_store_create(f->st, SDEP, o, &a, &err), SS_EOK);
  assert_int_equal(ss_store_create(f->st, SDEP, o, &b, &err), SS_EOK);
  const char *na = md_str(a, "name"), *nb = md_str(b, "name");
  assert_int_equal(strlen(na), 4 + 5);
  assert_memory_equal(na, "gen-", 4);
  for (const char *p = na + 4; *p; p++)
    assert_true((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'));
  assert_string_not_equal(na, nb);
  json_decref(o);
  json_decref(a);
  json_decref(b);
}

static void test_create_without_name_or_generate_name_is_invalid(void **state) {
  struct fixture *f = *state;
  json_t *o = json_pack("{s:{s:s}}", "metadata", "namespace", "ns");
  struct ss_error err = {0};
  assert_int_equal(ss_store_create(f->st, SDEP, o, NULL, &err), SS_EINVALID);
  assert_int_equal(ss_store_rv(f->st), 0);
  json_decref(o);
}

static void test_get_of_absent_object_is_not_found(void **state) {
  struct fixture *f = *state;
  json_t *got = (json_t *)1;
  struct ss_error err = {0};
  assert_int_equal(ss_store_get(f->st, SDEP, "seldon", "nope", &got, &err), SS_ENOTFOUND);
  assert_null(got);
  assert_string_equal(err.msg, "seldondeployments.machinelearning.seldon.io \"nope\" not found");
}

static void test_names_with_sql_metacharacters_are_stored_verbatim(void **state) {
  struct fixture *f = *state;
  const char *name = "x'); DROP TABLE objects; --";
  json_decref(create(f->st, "ns'\"", name, 1));
  json_t *got = NULL;
  struct ss_error err = {0};
  assert_int_equal(ss_store_get(f->st, SDEP, "ns'\"", name, &got, &err), SS_EOK);
  assert_string_equal(md_str(got, "name"), name);
  json_decref(got);
  json_t *items = NULL;
  assert_int_equal(ss_store_list(f->st, SDEP, NULL, &items, NULL, &err), SS_EOK);
  assert_int_equal(json_array_size(items), 1);
  json_decref(items);
}

/* ---- update, update_status, delete ---- */

static void test_update_keeps_uid_creation_timestamp_and_status(void **state) {
  struct fixture *f = *state;
  json_t *orig = create(f->st, "seldon", "m", 1), *withstatus = NULL, *stored = NULL;
  json_t *status = json_pack("{s:s}", "state", "Available");
  struct ss_error err = {0};
  assert_int_equal(ss_store_update_status(f->st, SDEP, "seldon", "m", status, NULL, &withstatus,
                                          &err),
                   SS_EOK);

  json_t *o = sdep("seldon", "m", 3);
  json_t *md = json_object_get(o, "metadata");
  json_object_set_new(md, "uid", json_string("forged"));
  json_object_set_new(md, "creationTimestamp", json_string("1999-01-01T00:00:00Z"));
  json_object_set_new(o, "status", json_pack("{s:s}", "state", "Failed"));
  json_object_set_new(md, "labels", json_pack("{s:s}", "team", "a"));
  assert_int_equal(ss_store_update(f->st, SDEP, o, &stored, &err), SS_EOK);

  assert_string_equal(md_str(stored, "uid"), md_str(orig, "uid"));
  assert_string_equal(md_str(stored, "creationTimestamp"), md_str(orig, "creationTimestamp"));
  assert_true(json_equal(json_object_get(stored, "status"), status));
  /* What the caller owns did change: labels and spec. */
  assert_string_equal(
      json_string_value(json_object_get(json_object_get(json_object_get(stored, "metadata"),
                                                        "labels"),
                                        "team")),
      "a");
  assert_int_equal(json_integer_value(json_object_get(json_object_get(stored, "spec"),
                                                      "replicas")),
                   3);
  json_decref(orig);
  json_decref(withstatus);
  json_decref(status);
  json_decref(o);
  json_decref(stored);
}

static void test_update_bumps_generation_only_when_spec_changes(void **state) {
  struct fixture *f = *state;
  json_t *v1 = create(f->st, "seldon", "m", 1), *v2 = NULL, *v3 = NULL;
  struct ss_error err = {0};

  json_t *labelled = json_deep_copy(v1);
  json_object_set_new(json_object_get(labelled, "metadata"), "labels",
                      json_pack("{s:s}", "a", "b"));
  assert_int_equal(ss_store_update(f->st, SDEP, labelled, &v2, &err), SS_EOK);
  assert_int_equal(generation_of(v2), 1);
  assert_true(rv_of(v2) > rv_of(v1));

  json_t *scaled = json_deep_copy(v2);
  json_object_set_new(json_object_get(scaled, "spec"), "replicas", json_integer(5));
  assert_int_equal(ss_store_update(f->st, SDEP, scaled, &v3, &err), SS_EOK);
  assert_int_equal(generation_of(v3), 2);
  assert_true(rv_of(v3) > rv_of(v2));
  json_decref(v1);
  json_decref(v2);
  json_decref(v3);
  json_decref(labelled);
  json_decref(scaled);
}

static void test_update_with_stale_resource_version_conflicts(void **state) {
  struct fixture *f = *state;
  json_t *v1 = create(f->st, "seldon", "m", 1), *v2 = NULL, *got = NULL, *v3 = NULL;
  struct ss_error err = {0};
  json_t *o = json_deep_copy(v1);
  json_object_set_new(json_object_get(o, "spec"), "replicas", json_integer(2));
  assert_int_equal(ss_store_update(f->st, SDEP, o, &v2, &err), SS_EOK);

  /* o still carries v1's resourceVersion. */
  json_object_set_new(json_object_get(o, "spec"), "replicas", json_integer(3));
  json_t *stale = NULL;
  assert_int_equal(ss_store_update(f->st, SDEP, o, &stale, &err), SS_ECONFLICT);
  assert_null(stale);
  assert_non_null(strstr(err.msg, "the object has been modified"));
  assert_int_equal(ss_store_get(f->st, SDEP, "seldon", "m", &got, &err), SS_EOK);
  assert_true(json_equal(got, v2));

  /* No resourceVersion at all: unconditional. */
  json_object_set_new(json_object_get(o, "metadata"), "resourceVersion", json_string(""));
  assert_int_equal(ss_store_update(f->st, SDEP, o, &v3, &err), SS_EOK);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(v3, "spec"), "replicas")),
                   3);
  json_decref(v1);
  json_decref(v2);
  json_decref(v3);
  json_decref(got);
  json_decref(o);
}

static void test_update_that_changes_nothing_is_not_a_write(void **state) {
  struct fixture *f = *state;
  json_t *v1 = create(f->st, "seldon", "m", 1), *v2 = NULL;
  struct ss_watch *w = NULL;
  struct ss_error err = {0};
  assert_int_equal(ss_store_watch(f->st, SDEP, NULL, 0, &w, &err), SS_EOK);
  json_t *same = sdep("seldon", "m", 1); /* no resourceVersion, same content */
  assert_int_equal(ss_store_update(f->st, SDEP, same, &v2, &err), SS_EOK);
  assert_int_equal(rv_of(v2), rv_of(v1));
  assert_int_equal(ss_store_rv(f->st), rv_of(v1));
  assert_true(json_equal(v1, v2));
  enum ss_watch_type type;
  json_t *ev = NULL;
  assert_int_equal(ss_watch_next(w, 0, &type, &ev), 0);
  ss_watch_close(w);
  json_decref(v1);
  json_decref(v2);
  json_decref(same);
}

static void test_update_of_absent_object_is_not_found(void **state) {
  struct fixture *f = *state;
  json_t *o = sdep("seldon", "ghost", 1);
  struct ss_error err = {0};
  assert_int_equal(ss_store_update(f->st, SDEP, o, NULL, &err), SS_ENOTFOUND);
  assert_int_equal(ss_store_rv(f->st), 0);
  json_decref(o);
}

static void test_update_status_changes_only_status_without_generation_bump(void **state) {
  struct fixture *f = *state;
  json_t *v1 = create(f->st, "seldon", "m", 1), *v2 = NULL, *v3 = NULL;
  json_t *status = json_pack("{s:i}", "replicas", 1);
  struct ss_error err = {0};
  assert_int_equal(ss_store_update_status(f->st, SDEP, "seldon", "m", status,
                                          md_str(v1, "resourceVersion"), &v2, &err),
                   SS_EOK);
  assert_true(rv_of(v2) > rv_of(v1));
  assert_int_equal(generation_of(v2), 1);
  assert_true(json_equal(json_object_get(v2, "spec"), json_object_get(v1, "spec")));
  assert_true(json_equal(json_object_get(v2, "status"), status));

  /* The same status again is no write. */
  assert_int_equal(ss_store_update_status(f->st, SDEP, "seldon", "m", status, NULL, &v3, &err),
                   SS_EOK);
  assert_int_equal(rv_of(v3), rv_of(v2));
  assert_int_equal(ss_store_rv(f->st), rv_of(v2));

  /* v1's resourceVersion is stale now. */
  json_t *other = json_pack("{s:i}", "replicas", 2);
  assert_int_equal(ss_store_update_status(f->st, SDEP, "seldon", "m", other,
                                          md_str(v1, "resourceVersion"), NULL, &err),
                   SS_ECONFLICT);
  json_decref(v1);
  json_decref(v2);
  json_decref(v3);
  json_decref(status);
  json_decref(other);
}

static void test_resource_version_strictly_increases_across_writes(void **state) {
  struct fixture *f = *state;
  struct ss_error err = {0};
  uint64_t last = ss_store_rv(f->st);
  json_t *a = create(f->st, "seldon", "a", 1), *b = NULL, *c = NULL, *d = NULL;
  assert_true(rv_of(a) > last);
  last = rv_of(a);
  json_object_set_new(json_object_get(a, "spec"), "replicas", json_integer(2));
  assert_int_equal(ss_store_update(f->st, SDEP, a, &b, &err), SS_EOK);
  assert_true(rv_of(b) > last);
  last = rv_of(b);
  json_t *status = json_pack("{s:s}", "state", "Creating");
  assert_int_equal(ss_store_update_status(f->st, SDEP, "seldon", "a", status, NULL, &c, &err),
                   SS_EOK);
  assert_true(rv_of(c) > last);
  last = rv_of(c);
  assert_int_equal(ss_store_event(f->st, c, "Normal", "Scaled", "to 2", &err), SS_EOK);
  assert_true(ss_store_rv(f->st) > last);
  last = ss_store_rv(f->st);
  assert_int_equal(ss_store_delete(f->st, SDEP, "seldon", "a", &d, &err), SS_EOK);
  assert_true(rv_of(d) > last);
  assert_int_equal(ss_store_rv(f->st), rv_of(d));
  json_decref(a);
  json_decref(b);
  json_decref(c);
  json_decref(d);
  json_decref(status);
}

static void test_delete_returns_object_at_deletion_version_and_removes_it(void **state) {
  struct fixture *f = *state;
  json_t *v1 = create(f->st, "seldon", "m", 1), *gone = NULL, *got = NULL;
  struct ss_error err = {0};
  assert_int_equal(ss_store_delete(f->st, SDEP, "seldon", "m", &gone, &err), SS_EOK);
  assert_string_equal(md_str(gone, "uid"), md_str(v1, "uid"));
  assert_int_equal(rv_of(gone), rv_of(v1) + 1);
  assert_int_equal(ss_store_rv(f->st), rv_of(gone));
  assert_int_equal(ss_store_get(f->st, SDEP, "seldon", "m", &got, &err), SS_ENOTFOUND);
  assert_int_equal(ss_store_delete(f->st, SDEP, "seldon", "m", NULL, &err), SS_ENOTFOUND);
  assert_int_equal(ss_store_rv(f->st), rv_of(gone));
  json_decref(v1);
  json_decref(gone);
}

/* ---- persistence, listing ---- */

static void test_reopen_keeps_objects_and_continues_above_old_version(void **state) {
  struct fixture *f = *state;
  json_t *a = create(f->st, "seldon", "a", 1);
  json_decref(create(f->st, "seldon", "b", 1));
  struct ss_error err = {0};
  assert_int_equal(ss_store_delete(f->st, SDEP, "seldon", "b", NULL, &err), SS_EOK);
  uint64_t before = ss_store_rv(f->st);
  assert_int_equal(before, 3);
  reopen(f);
  assert_int_equal(ss_store_rv(f->st), before);
  json_t *got = NULL;
  assert_int_equal(ss_store_get(f->st, SDEP, "seldon", "a", &got, &err), SS_EOK);
  assert_true(json_equal(got, a));
  json_decref(got);
  assert_int_equal(ss_store_get(f->st, SDEP, "seldon", "b", &got, &err), SS_ENOTFOUND);
  json_t *c = create(f->st, "seldon", "c", 1);
  assert_int_equal(rv_of(c), before + 1);
  json_decref(a);
  json_decref(c);
}

static void test_meta_values_persist_and_resource_version_key_is_reserved(void **state) {
  struct fixture *f = *state;
  struct ss_error err = {0};
  char *v = NULL;
  assert_int_equal(ss_store_meta_get(f->st, "token", &v, &err), SS_ENOTFOUND);
  assert_null(v);
  assert_int_equal(ss_store_meta_set(f->st, "token", "abc", &err), SS_EOK);
  assert_int_equal(ss_store_meta_set(f->st, "token", "def", &err), SS_EOK);
  reopen(f);
  assert_int_equal(ss_store_meta_get(f->st, "token", &v, &err), SS_EOK);
  assert_string_equal(v, "def");
  free(v);
  assert_int_equal(ss_store_meta_set(f->st, "resourceVersion", "1", &err), SS_EINVALID);
}

static void test_list_orders_by_namespace_then_name_and_filters(void **state) {
  struct fixture *f = *state;
  const char *keys[][2] = {{"b", "z"}, {"a", "y"}, {"b", "a"}, {"a", "x"}};
  for (size_t i = 0; i < 4; i++)
    json_decref(create(f->st, keys[i][0], keys[i][1], 1));
  json_t *model = json_pack("{s:{s:s, s:s}}", "metadata", "name", "m", "namespace", "a");
  struct ss_error err = {0};
  assert_int_equal(ss_store_create(f->st, MODEL, model, NULL, &err), SS_EOK);

  json_t *items = NULL;
  uint64_t rv = 0;
  assert_int_equal(ss_store_list(f->st, SDEP, NULL, &items, &rv, &err), SS_EOK);
  assert_int_equal(rv, ss_store_rv(f->st));
  const char *want[][2] = {{"a", "x"}, {"a", "y"}, {"b", "a"}, {"b", "z"}};
  assert_int_equal(json_array_size(items), 4);
  for (size_t i = 0; i < 4; i++) {
    json_t *it = json_array_get(items, i);
    assert_string_equal(md_str(it, "namespace"), want[i][0]);
    assert_string_equal(md_str(it, "name"), want[i][1]);
  }
  json_decref(items);

  assert_int_equal(ss_store_list(f->st, SDEP, "b", &items, NULL, &err), SS_EOK);
  assert_int_equal(json_array_size(items), 2);
  assert_string_equal(md_str(json_array_get(items, 0), "name"), "a");
  assert_string_equal(md_str(json_array_get(items, 1), "name"), "z");
  json_decref(items);

  assert_int_equal(ss_store_list(f->st, SDEP, "empty", &items, NULL, &err), SS_EOK);
  assert_int_equal(json_array_size(items), 0);
  json_decref(items);
  json_decref(model);
}

/* ---- watch ---- */

/* The next change, which must come within a second. */
static json_t *expect_change(struct ss_watch *w, enum ss_watch_type want) {
  enum ss_watch_type type = (enum ss_watch_type)-1;
  json_t *obj = NULL;
  assert_int_equal(ss_watch_next(w, 1000, &type, &obj), 1);
  assert_int_equal(type, want);
  assert_non_null(obj);
  return obj;
}

static void expect_quiet(struct ss_watch *w) {
  enum ss_watch_type type;
  json_t *obj = NULL;
  assert_int_equal(ss_watch_next(w, 0, &type, &obj), 0);
  assert_null(obj);
}

static void test_watch_replays_changes_after_resource_version(void **state) {
  struct fixture *f = *state;
  struct ss_error err = {0};
  json_t *a = create(f->st, "seldon", "a", 1);        /* rv 1 */
  json_decref(create(f->st, "seldon", "b", 1));       /* rv 2 */
  json_object_set_new(json_object_get(a, "spec"), "replicas", json_integer(4));
  assert_int_equal(ss_store_update(f->st, SDEP, a, NULL, &err), SS_EOK); /* rv 3 */
  assert_int_equal(ss_store_delete(f->st, SDEP, "seldon", "b", NULL, &err), SS_EOK); /* rv 4 */

  struct ss_watch *w = NULL;
  assert_int_equal(ss_store_watch(f->st, SDEP, NULL, 1, &w, &err), SS_EOK);
  json_t *o = expect_change(w, SS_WATCH_ADDED);
  assert_string_equal(md_str(o, "name"), "b");
  assert_int_equal(rv_of(o), 2);
  json_decref(o);
  o = expect_change(w, SS_WATCH_MODIFIED);
  assert_string_equal(md_str(o, "name"), "a");
  assert_int_equal(rv_of(o), 3);
  json_decref(o);
  o = expect_change(w, SS_WATCH_DELETED);
  assert_string_equal(md_str(o, "name"), "b");
  assert_int_equal(rv_of(o), 4);
  json_decref(o);
  expect_quiet(w);
  ss_watch_close(w);

  /* From the current version: nothing to replay, and that is no error. */
  assert_int_equal(ss_store_watch(f->st, SDEP, NULL, 4, &w, &err), SS_EOK);
  expect_quiet(w);
  ss_watch_close(w);
  json_decref(a);
}

static void test_watch_from_zero_sees_only_later_changes(void **state) {
  struct fixture *f = *state;
  struct ss_error err = {0};
  json_decref(create(f->st, "seldon", "before", 1));
  struct ss_watch *w = NULL;
  assert_int_equal(ss_store_watch(f->st, SDEP, NULL, 0, &w, &err), SS_EOK);
  expect_quiet(w);
  json_decref(create(f->st, "seldon", "after", 1));
  json_t *o = expect_change(w, SS_WATCH_ADDED);
  assert_string_equal(md_str(o, "name"), "after");
  json_decref(o);
  ss_watch_close(w);
}

struct writer_arg {
  struct ss_store *st;
  int delay_ms;
  enum ss_err result;
};

static void *delayed_writer(void *p) {
  struct writer_arg *a = p;
  sleep_ms(a->delay_ms);
  json_t *o = json_pack("{s:{s:s, s:s}}", "metadata", "name", "live", "namespace", "seldon");
  struct ss_error err = {0};
  a->result = ss_store_create(a->st, SDEP, o, NULL, &err);
  json_decref(o);
  return NULL;
}

static void test_watch_wakes_for_change_written_by_another_thread(void **state) {
  struct fixture *f = *state;
  struct ss_error err = {0};
  struct ss_watch *w = NULL;
  assert_int_equal(ss_store_watch(f->st, SDEP, "seldon", 0, &w, &err), SS_EOK);
  struct writer_arg arg = {f->st, 100, SS_EINTERNAL};
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, delayed_writer, &arg), 0);
  enum ss_watch_type type;
  json_t *obj = NULL;
  double t0 = now_s();
  int r = ss_watch_next(w, 5000, &type, &obj);
  double waited = now_s() - t0;
  pthread_join(t, NULL);
  assert_int_equal(arg.result, SS_EOK);
  assert_int_equal(r, 1);
  assert_int_equal(type, SS_WATCH_ADDED);
  assert_string_equal(md_str(obj, "name"), "live");
  assert_true(waited < 4.0); /* woken by the write, not by the timeout */
  json_decref(obj);
  ss_watch_close(w);
}

static void test_watch_sees_only_its_namespace_and_kind(void **state) {
  struct fixture *f = *state;
  struct ss_error err = {0};
  struct ss_watch *w = NULL, *all = NULL;
  assert_int_equal(ss_store_watch(f->st, SDEP, "a", 0, &w, &err), SS_EOK);
  assert_int_equal(ss_store_watch(f->st, SDEP, NULL, 0, &all, &err), SS_EOK);
  json_decref(create(f->st, "b", "other-ns", 1));
  json_t *model = json_pack("{s:{s:s, s:s}}", "metadata", "name", "other-kind", "namespace", "a");
  assert_int_equal(ss_store_create(f->st, MODEL, model, NULL, &err), SS_EOK);
  json_decref(create(f->st, "a", "mine", 1));

  json_t *o = expect_change(w, SS_WATCH_ADDED);
  assert_string_equal(md_str(o, "name"), "mine");
  json_decref(o);
  expect_quiet(w);

  o = expect_change(all, SS_WATCH_ADDED);
  assert_string_equal(md_str(o, "name"), "other-ns");
  json_decref(o);
  o = expect_change(all, SS_WATCH_ADDED);
  assert_string_equal(md_str(o, "name"), "mine");
  json_decref(o);
  expect_quiet(all);
  ss_watch_close(w);
  ss_watch_close(all);
  json_decref(model);
}

static void test_watch_next_times_out_when_nothing_changes(void **state) {
  struct fixture *f = *state;
  struct ss_error err = {0};
  struct ss_watch *w = NULL;
  assert_int_equal(ss_store_watch(f->st, SDEP, NULL, 0, &w, &err), SS_EOK);
  enum ss_watch_type type;
  json_t *obj = NULL;
  double t0 = now_s();
  assert_int_equal(ss_watch_next(w, 150, &type, &obj), 0);
  double waited = now_s() - t0;
  assert_null(obj);
  assert_true(waited >= 0.14 && waited < 2.0);
  ss_watch_close(w);
}

/* Writes n changes (updates of one object). */
static void write_changes(struct ss_store *st, int n) {
  struct ss_error err = {0};
  json_t *o = sdep("load", "churn", 0);
  assert_int_equal(ss_store_create(st, SDEP, o, NULL, &err), SS_EOK);
  for (int i = 1; i < n; i++) {
    json_object_set_new(json_object_get(o, "spec"), "replicas", json_integer(i));
    assert_int_equal(ss_store_update(st, SDEP, o, NULL, &err), SS_EOK);
  }
  json_decref(o);
}

static void test_watch_from_version_older_than_history_is_gone(void **state) {
  struct fixture *f = *state;
  struct ss_error err = {0};
  const int extra = 10;
  write_changes(f->st, SS_STORE_WATCH_HISTORY + extra); /* rvs 1..N+10, 1..10 dropped */
  struct ss_watch *w = NULL;
  assert_int_equal(ss_store_watch(f->st, SDEP, NULL, 1, &w, &err), SS_EGONE);
  assert_null(w);
  assert_non_null(strstr(err.msg, "too old resource version"));
  assert_int_equal(ss_store_watch(f->st, SDEP, NULL, extra - 1, &w, &err), SS_EGONE);
  /* Everything after rv 10 is still there. */
  assert_int_equal(ss_store_watch(f->st, SDEP, NULL, extra, &w, &err), SS_EOK);
  json_t *o = expect_change(w, SS_WATCH_MODIFIED);
  assert_int_equal(rv_of(o), extra + 1);
  json_decref(o);
  ss_watch_close(w);
}

static void test_watch_from_version_before_reopen_is_gone(void **state) {
  struct fixture *f = *state;
  struct ss_error err = {0};
  json_decref(create(f->st, "seldon", "a", 1));
  json_decref(create(f->st, "seldon", "b", 1));
  reopen(f);
  struct ss_watch *w = NULL;
  assert_int_equal(ss_store_watch(f->st, SDEP, NULL, 1, &w, &err), SS_EGONE);
  assert_int_equal(ss_store_watch(f->st, SDEP, NULL, 2, &w, &err), SS_EOK);
  expect_quiet(w);
  json_decref(create(f->st, "seldon", "c", 1));
  json_t *o = expect_change(w, SS_WATCH_ADDED);
  assert_int_equal(rv_of(o), 3);
  json_decref(o);
  ss_watch_close(w);
}

static void test_watch_left_behind_by_history_is_ended(void **state) {
  struct fixture *f = *state;
  struct ss_error err = {0};
  struct ss_watch *w = NULL;
  assert_int_equal(ss_store_watch(f->st, SDEP, NULL, 0, &w, &err), SS_EOK);
  write_changes(f->st, SS_STORE_WATCH_HISTORY + 1);
  enum ss_watch_type type;
  json_t *obj = NULL;
  assert_int_equal(ss_watch_next(w, 0, &type, &obj), -1);
  assert_null(obj);
  ss_watch_close(w);
}

struct blocked_arg {
  struct ss_watch *w;
  int result;
  double waited;
};

static void *blocked_watcher(void *p) {
  struct blocked_arg *a = p;
  enum ss_watch_type type;
  json_t *obj = NULL;
  double t0 = now_s();
  a->result = ss_watch_next(a->w, 10000, &type, &obj);
  a->waited = now_s() - t0;
  json_decref(obj);
  return NULL;
}

static void test_shutdown_wakes_blocked_watcher(void **state) {
  struct fixture *f = *state;
  struct ss_error err = {0};
  struct blocked_arg arg = {NULL, 42, 0};
  assert_int_equal(ss_store_watch(f->st, SDEP, NULL, 0, &arg.w, &err), SS_EOK);
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, blocked_watcher, &arg), 0);
  sleep_ms(100); /* let it block */
  ss_store_shutdown_watches(f->st);
  pthread_join(t, NULL);
  assert_int_equal(arg.result, -1);
  assert_true(arg.waited < 5.0);
  /* And it stays ended. */
  enum ss_watch_type type;
  json_t *obj = NULL;
  assert_int_equal(ss_watch_next(arg.w, 1000, &type, &obj), -1);
  ss_watch_close(arg.w);
}

#define WRITERS 4
#define WRITES_EACH 25

struct burst_arg {
  struct ss_store *st;
  int id;
  int failures;
};

static void *burst_writer(void *p) {
  struct burst_arg *a = p;
  for (int i = 0; i < WRITES_EACH; i++) {
    char name[32];
    snprintf(name, sizeof name, "w%d-%d", a->id, i);
    json_t *o = json_pack("{s:{s:s, s:s}}", "metadata", "name", name, "namespace", "burst");
    struct ss_error err = {0};
    if (ss_store_create(a->st, SDEP, o, NULL, &err))
      a->failures++;
    json_decref(o);
  }
  return NULL;
}

static void test_concurrent_writers_get_distinct_versions_watched_in_order(void **state) {
  struct fixture *f = *state;
  struct ss_error err = {0};
  struct ss_watch *w = NULL;
  assert_int_equal(ss_store_watch(f->st, SDEP, NULL, 0, &w, &err), SS_EOK);
  pthread_t t[WRITERS];
  struct burst_arg args[WRITERS];
  for (int i = 0; i < WRITERS; i++) {
    args[i] = (struct burst_arg){f->st, i, 0};
    assert_int_equal(pthread_create(&t[i], NULL, burst_writer, &args[i]), 0);
  }
  for (int i = 0; i < WRITERS; i++) {
    pthread_join(t[i], NULL);
    assert_int_equal(args[i].failures, 0);
  }
  assert_int_equal(ss_store_rv(f->st), WRITERS * WRITES_EACH);
  for (uint64_t want = 1; want <= WRITERS * WRITES_EACH; want++) {
    json_t *o = expect_change(w, SS_WATCH_ADDED);
    assert_int_equal(rv_of(o), want);
    json_decref(o);
  }
  expect_quiet(w);
  ss_watch_close(w);
}

/* ---- events ---- */

static json_t *find_event(json_t *items, const char *reason) {
  for (size_t i = 0; i < json_array_size(items); i++) {
    json_t *ev = json_array_get(items, i);
    if (!strcmp(json_string_value(json_object_get(ev, "reason")), reason))
      return ev;
  }
  return NULL;
}

static void test_event_has_core_v1_shape_and_lists_as_kind_events(void **state) {
  struct fixture *f = *state;
  struct ss_error err = {0};
  json_t *obj = create(f->st, "seldon", "m", 1);
  assert_int_equal(ss_store_event(f->st, obj, "Normal", "ScalingReplicaSet", "Scaled up to 2",
                                  &err),
                   SS_EOK);
  json_t *items = NULL;
  uint64_t rv = 0;
  assert_int_equal(ss_store_list(f->st, EVENTS, "seldon", &items, &rv, &err), SS_EOK);
  assert_int_equal(json_array_size(items), 1);
  assert_int_equal(rv, 2);
  json_t *ev = json_array_get(items, 0);
  assert_string_equal(json_string_value(json_object_get(ev, "apiVersion")), "v1");
  assert_string_equal(json_string_value(json_object_get(ev, "kind")), "Event");
  assert_string_equal(md_str(ev, "namespace"), "seldon");
  const char *name = md_str(ev, "name");
  assert_int_equal(strlen(name), strlen("m.") + 16);
  assert_memory_equal(name, "m.", 2);
  for (const char *p = name + 2; *p; p++)
    assert_non_null(strchr("0123456789abcdef", *p));
  assert_non_null(md_str(ev, "uid"));
  assert_int_equal(rv_of(ev), 2);

  json_t *inv = json_object_get(ev, "involvedObject");
  assert_string_equal(json_string_value(json_object_get(inv, "apiVersion")),
                      "machinelearning.seldon.io/v1");
  assert_string_equal(json_string_value(json_object_get(inv, "kind")), "SeldonDeployment");
  assert_string_equal(json_string_value(json_object_get(inv, "name")), "m");
  assert_string_equal(json_string_value(json_object_get(inv, "namespace")), "seldon");
  assert_string_equal(json_string_value(json_object_get(inv, "uid")), md_str(obj, "uid"));
  assert_string_equal(json_string_value(json_object_get(inv, "resourceVersion")), "1");

  assert_string_equal(json_string_value(json_object_get(ev, "reason")), "ScalingReplicaSet");
  assert_string_equal(json_string_value(json_object_get(ev, "message")), "Scaled up to 2");
  assert_string_equal(json_string_value(json_object_get(ev, "type")), "Normal");
  assert_int_equal(json_integer_value(json_object_get(ev, "count")), 1);
  assert_non_null(json_string_value(json_object_get(ev, "firstTimestamp")));
  assert_string_equal(json_string_value(json_object_get(ev, "firstTimestamp")),
                      json_string_value(json_object_get(ev, "lastTimestamp")));
  assert_true(json_is_null(json_object_get(ev, "eventTime")));
  assert_string_equal(
      json_string_value(json_object_get(json_object_get(ev, "source"), "component")),
      "servescale");
  assert_string_equal(json_string_value(json_object_get(ev, "reportingComponent")),
                      "servescale");

  /* Gettable by its name like any object. */
  json_t *got = NULL;
  assert_int_equal(ss_store_get(f->st, EVENTS, "seldon", name, &got, &err), SS_EOK);
  assert_true(json_equal(got, ev));
  json_decref(got);
  json_decref(items);
  json_decref(obj);
}

static void test_repeated_event_aggregates_into_one_with_count_two(void **state) {
  struct fixture *f = *state;
  struct ss_error err = {0};
  json_t *obj = create(f->st, "seldon", "m", 1);
  struct ss_watch *w = NULL;
  assert_int_equal(ss_store_watch(f->st, EVENTS, "seldon", 0, &w, &err), SS_EOK);
  assert_int_equal(ss_store_event(f->st, obj, "Warning", "Failed", "image not mapped", &err),
                   SS_EOK);
  assert_int_equal(ss_store_event(f->st, obj, "Warning", "Failed", "image not mapped", &err),
                   SS_EOK);
  json_t *items = NULL;
  assert_int_equal(ss_store_list(f->st, EVENTS, "seldon", &items, NULL, &err), SS_EOK);
  assert_int_equal(json_array_size(items), 1);
  json_t *ev = json_array_get(items, 0);
  assert_int_equal(json_integer_value(json_object_get(ev, "count")), 2);

  json_t *first = expect_change(w, SS_WATCH_ADDED);
  json_t *second = expect_change(w, SS_WATCH_MODIFIED);
  assert_string_equal(md_str(first, "name"), md_str(second, "name"));
  assert_string_equal(md_str(second, "name"), md_str(ev, "name"));
  assert_string_equal(md_str(first, "uid"), md_str(second, "uid"));
  assert_int_equal(json_integer_value(json_object_get(second, "count")), 2);
  json_decref(first);
  json_decref(second);
  json_decref(items);
  ss_watch_close(w);
  json_decref(obj);
}

static void test_events_differing_in_reason_message_type_or_object_are_separate(void **state) {
  struct fixture *f = *state;
  struct ss_error err = {0};
  json_t *a = create(f->st, "seldon", "a", 1), *b = create(f->st, "seldon", "b", 1);
  assert_int_equal(ss_store_event(f->st, a, "Normal", "R1", "m", &err), SS_EOK);
  assert_int_equal(ss_store_event(f->st, a, "Normal", "R2", "m", &err), SS_EOK);
  assert_int_equal(ss_store_event(f->st, a, "Normal", "R1", "other", &err), SS_EOK);
  assert_int_equal(ss_store_event(f->st, a, "Warning", "R1", "m", &err), SS_EOK);
  assert_int_equal(ss_store_event(f->st, b, "Normal", "R1", "m", &err), SS_EOK);
  json_t *items = NULL;
  assert_int_equal(ss_store_list(f->st, EVENTS, NULL, &items, NULL, &err), SS_EOK);
  assert_int_equal(json_array_size(items), 5);
  for (size_t i = 0; i < 5; i++)
    assert_int_equal(json_integer_value(json_object_get(json_array_get(items, i), "count")), 1);
  json_decref(items);
  json_decref(a);
  json_decref(b);
}

static void test_events_past_the_namespace_limit_drop_the_oldest(void **state) {
  struct fixture *f = *state;
  struct ss_error err = {0};
  json_t *obj = create(f->st, "seldon", "m", 1);
  json_t *elsewhere = create(f->st, "other", "m", 1);
  assert_int_equal(ss_store_event(f->st, elsewhere, "Normal", "Kept", "x", &err), SS_EOK);
  char reason[32];
  for (int i = 0; i <= SS_STORE_MAX_EVENTS; i++) {
    snprintf(reason, sizeof reason, "R%d", i);
    assert_int_equal(ss_store_event(f->st, obj, "Normal", reason, "x", &err), SS_EOK);
  }
  json_t *items = NULL;
  assert_int_equal(ss_store_list(f->st, EVENTS, "seldon", &items, NULL, &err), SS_EOK);
  assert_int_equal(json_array_size(items), SS_STORE_MAX_EVENTS);
  assert_null(find_event(items, "R0"));
  assert_non_null(find_event(items, "R1"));
  snprintf(reason, sizeof reason, "R%d", SS_STORE_MAX_EVENTS);
  assert_non_null(find_event(items, reason));
  json_decref(items);
  /* Another namespace's events are not counted against this one. */
  assert_int_equal(ss_store_list(f->st, EVENTS, "other", &items, NULL, &err), SS_EOK);
  assert_int_equal(json_array_size(items), 1);
  json_decref(items);
  json_decref(obj);
  json_decref(elsewhere);
}

static void test_event_about_cluster_scoped_object_goes_to_default(void **state) {
  struct fixture *f = *state;
  struct ss_error err = {0};
  json_t *nsobj = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "Namespace",
                            "metadata", "name", "seldon");
  assert_int_equal(ss_store_event(f->st, nsobj, "Normal", "Created", "namespace", &err), SS_EOK);
  json_t *items = NULL;
  assert_int_equal(ss_store_list(f->st, EVENTS, "default", &items, NULL, &err), SS_EOK);
  assert_int_equal(json_array_size(items), 1);
  json_decref(items);
  json_decref(nsobj);
}

int main(void) {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
  const struct CMUnitTest tests[] = {
      T(test_create_sets_uid_resource_version_generation_and_timestamp),
      T(test_create_gives_each_object_its_own_uid),
      T(test_create_of_taken_name_is_already_exists_and_no_write),
      T(test_create_with_generate_name_appends_five_characters),
      T(test_create_without_name_or_generate_name_is_invalid),
      T(test_get_of_absent_object_is_not_found),
      T(test_names_with_sql_metacharacters_are_stored_verbatim),
      T(test_update_keeps_uid_creation_timestamp_and_status),
      T(test_update_bumps_generation_only_when_spec_changes),
      T(test_update_with_stale_resource_version_conflicts),
      T(test_update_that_changes_nothing_is_not_a_write),
      T(test_update_of_absent_object_is_not_found),
      T(test_update_status_changes_only_status_without_generation_bump),
      T(test_resource_version_strictly_increases_across_writes),
      T(test_delete_returns_object_at_deletion_version_and_removes_it),
      T(test_reopen_keeps_objects_and_continues_above_old_version),
      T(test_meta_values_persist_and_resource_version_key_is_reserved),
      T(test_list_orders_by_namespace_then_name_and_filters),
      T(test_watch_replays_changes_after_resource_version),
      T(test_watch_from_zero_sees_only_later_changes),
      T(test_watch_wakes_for_change_written_by_another_thread),
      T(test_watch_sees_only_its_namespace_and_kind),
      T(test_watch_next_times_out_when_nothing_changes),
      T(test_watch_from_version_older_than_history_is_gone),
      T(test_watch_from_version_before_reopen_is_gone),
      T(test_watch_left_behind_by_history_is_ended),
      T(test_shutdown_wakes_blocked_watcher),
      T(test_concurrent_writers_get_distinct_versions_watched_in_order),
      T(test_event_has_core_v1_shape_and_lists_as_kind_events),
      T(test_repeated_event_aggregates_into_one_with_count_two),
      T(test_events_differing_in_reason_message_type_or_object_are_separate),
      T(test_events_past_the_namespace_limit_drop_the_oldest),
      T(test_event_about_cluster_scoped_object_goes_to_default),
  };
#undef T
  return cmocka_run_group_tests(tests, NULL, NULL);
}
