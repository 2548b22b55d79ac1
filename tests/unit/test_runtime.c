/* test_runtime.c: unit tests for src/runtime/ (runtime.c, spawn.c, probe.c,
 * procstat.c) with real processes: /bin/sh scripts in a temporary state
 * directory, python3's http.server for HTTP probes. Every wait is bounded
 * by a monotonic clock, and every test's teardown frees the runtime (which
 * stops its processes) and kills what the test started itself, also when
 * an assertion failed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "runtime/internal.h"
#include "runtime/runtime.h"

#define TICK_MS 20
#define MAX_REPS 128
#define MAX_EVENTS 1024
#define MAX_EXTRA 8
#define RS "model-0-classifier"

struct rec_event {
  char rs[SS_RS_NAME_LEN];
  char reason[32];
  char message[320];
  int64_t at_ms;
};

struct fx {
  char dir[64];
  struct ss_runtime *rt;
  struct rec_event events[MAX_EVENTS];
  size_t nevents;
  pid_t extra[MAX_EXTRA]; /* processes a test forked itself */
  size_t nextra;
};

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
    ;
}

static void on_event(void *ctx, const char *rs, const char *type, const char *reason,
                     const char *message) {
  struct fx *fx = ctx;
  assert_non_null(type);
  /* The callback runs without the runtime's mutex: calling back must not
   * deadlock. */
  struct ss_rs_status st;
  ss_runtime_status(fx->rt, rs, &st);
  if (fx->nevents == MAX_EVENTS)
    return;
  struct rec_event *e = &fx->events[fx->nevents++];
  snprintf(e->rs, sizeof e->rs, "%s", rs);
  snprintf(e->reason, sizeof e->reason, "%s", reason);
  snprintf(e->message, sizeof e->message, "%s", message);
  e->at_ms = now_ms();
}

static struct ss_runtime *new_runtime(struct fx *fx) {
  struct ss_runtime_config cfg = {
      .state_dir = fx->dir,
      .backoff_base_ms = 100,
      .backoff_max_ms = 800,
      .on_event = on_event,
      .event_ctx = fx,
  };
  return ss_runtime_new(&cfg);
}

static int setup(void **state) {
  struct fx *fx = calloc(1, sizeof *fx);
  if (!fx)
    return -1;
  snprintf(fx->dir, sizeof fx->dir, "/tmp/ss-rt-XXXXXX");
  if (!mkdtemp(fx->dir)) {
    free(fx);
    return -1;
  }
  fx->rt = new_runtime(fx);
  if (!fx->rt)
    return -1;
  *state = fx;
  return 0;
}

static int teardown(void **state) {
  struct fx *fx = *state;
  if (!fx)
    return 0;
  ss_runtime_free(fx->rt);
  for (size_t i = 0; i < fx->nextra; i++) {
    kill(-fx->extra[i], SIGKILL);
    kill(fx->extra[i], SIGKILL);
    waitpid(fx->extra[i], NULL, 0);
  }
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->dir);
  if (system(cmd) != 0)
    fprintf(stderr, "could not remove %s\n", fx->dir);
  free(fx);
  return 0;
}

static void tick(struct fx *fx) {
  ss_runtime_tick(fx->rt, now_ms());
  sleep_ms(TICK_MS);
}

/* Ticks until cond holds or ms pass, then asserts cond. */
#define WAIT_FOR(fx, cond, ms)                                                          \
  do {                                                                                  \
    int64_t wait_t0_ = now_ms();                                                        \
    while (!(cond) && now_ms() - wait_t0_ < (ms))                                       \
      tick(fx);                                                                         \
    if (!(cond))                                                                        \
      print_error("timed out after %d ms waiting for %s\n", (int)(ms), #cond);         \
    assert_true(cond);                                                                  \
  } while (0)

static size_t reps(struct fx *fx, const char *rs, struct ss_replica_info *out) {
  size_t n = ss_runtime_replicas(fx->rt, rs, out, MAX_REPS);
  return n < MAX_REPS ? n : MAX_REPS;
}

static int count_phase(struct fx *fx, const char *rs, enum ss_replica_phase ph) {
  struct ss_replica_info v[MAX_REPS];
  size_t n = reps(fx, rs, v);
  int c = 0;
  for (size_t i = 0; i < n; i++)
    c += v[i].phase == ph;
  return c;
}

static int ready(struct fx *fx, const char *rs) {
  return count_phase(fx, rs, SS_REPLICA_READY);
}

static size_t count_events(struct fx *fx, const char *reason) {
  size_t c = 0;
  for (size_t i = 0; i < fx->nevents; i++)
    c += strcmp(fx->events[i].reason, reason) == 0;
  return c;
}

/* Index of the first event with reason after index from, or -1. */
static long find_event(struct fx *fx, const char *reason, size_t from) {
  for (size_t i = from; i < fx->nevents; i++)
    if (strcmp(fx->events[i].reason, reason) == 0)
      return (long)i;
  return -1;
}

/* A template running script under /bin/sh -c with T=<state dir>. */
struct tpl {
  char *argv[4];
  char *env[4];
  char tenv[96];
  struct ss_rs_template t;
};

static void tpl_init(struct tpl *p, struct fx *fx, const char *script) {
  memset(p, 0, sizeof *p);
  snprintf(p->tenv, sizeof p->tenv, "T=%s", fx->dir);
  p->argv[0] = "/bin/sh";
  p->argv[1] = "-c";
  p->argv[2] = (char *)script;
  p->env[0] = p->tenv;
  p->env[1] = "FOO=bar";
  p->env[2] = "PORT=1"; /* the runtime's PORT must win */
  p->t.argv = p->argv;
  p->t.env = p->env;
  p->t.grace_seconds = 5;
}

static bool file_exists(const char *dir, const char *name) {
  char path[256];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return access(path, F_OK) == 0;
}

static void touch(const char *dir, const char *name) {
  char path[256];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  int fd = open(path, O_WRONLY | O_CREAT, 0644);
  assert_true(fd >= 0);
  close(fd);
}

/* Reads a small file into buf; false when absent. */
static bool slurp(const char *path, char *buf, size_t size) {
  FILE *f = fopen(path, "r");
  if (!f)
    return false;
  size_t n = fread(buf, 1, size - 1, f);
  buf[n] = '\0';
  fclose(f);
  return true;
}

static bool gone(pid_t pid) {
  return kill(pid, 0) < 0 && errno == ESRCH;
}

/* Whether any process of group pgid still runs (zombies, which wait for
 * whichever init adopted them, do not count). */
static bool group_alive(pid_t pgid) {
  FILE *ls = popen("ls /proc", "r");
  bool alive = false;
  char name[64];
  while (ls && !alive && fgets(name, sizeof name, ls)) {
    int pid = atoi(name);
    if (pid <= 0)
      continue;
    char path[96], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    if (!slurp(path, buf, sizeof buf))
      continue;
    char *p = strrchr(buf, ')');
    char st = 0;
    int ppid = 0, pgrp = 0;
    if (p && sscanf(p + 1, " %c %d %d", &st, &ppid, &pgrp) == 3 && pgrp == pgid && st != 'Z')
      alive = true;
  }
  if (ls)
    pclose(ls);
  return alive;
}

/* ---- scaling up: ports, process groups, environment, logs, sampling ---- */

static void test_scale_up_gives_distinct_ports_groups_env_logs(void **state) {
  struct fx *fx = *state;
  struct tpl p;
  tpl_init(&p, fx,
           "echo \"$PORT $PREDICTIVE_UNIT_SERVICE_PORT $PREDICTIVE_UNIT_HTTP_SERVICE_PORT "
           "$SERVESCALE_REPLICA $FOO\" > \"$T/env-$SERVESCALE_REPLICA.tmp\";"
           "mv \"$T/env-$SERVESCALE_REPLICA.tmp\" \"$T/env-$SERVESCALE_REPLICA\";"
           "echo hello-from-replica; echo to-stderr >&2; exec sleep 60");
  assert_int_equal(ss_runtime_set(fx->rt, RS, &p.t, 3), SS_EOK);
  WAIT_FOR(fx, ready(fx, RS) == 3, 5000);

  struct ss_replica_info v[MAX_REPS];
  assert_int_equal(reps(fx, RS, v), 3);
  for (size_t i = 0; i < 3; i++) {
    assert_true(v[i].pid > 0);
    assert_true(v[i].port > 0);
    assert_int_equal(getpgid(v[i].pid), v[i].pid);
    assert_int_not_equal(getpgid(v[i].pid), getpgrp());
    assert_int_equal(strncmp(v[i].id, RS "-", strlen(RS) + 1), 0);
    assert_int_equal(strlen(v[i].id), strlen(RS) + 6);
    for (size_t j = 0; j < i; j++) {
      assert_int_not_equal(v[i].port, v[j].port);
      assert_int_not_equal(v[i].pid, v[j].pid);
      assert_string_not_equal(v[i].id, v[j].id);
    }
  }
  for (size_t i = 0; i < 3; i++) {
    char name[SS_REPLICA_ID_LEN + 8];
    snprintf(name, sizeof name, "env-%s", v[i].id);
    WAIT_FOR(fx, file_exists(fx->dir, name), 5000);
    char path[256], got[256], want[256];
    snprintf(path, sizeof path, "%s/%s", fx->dir, name);
    assert_true(slurp(path, got, sizeof got));
    snprintf(want, sizeof want, "%d %d %d %s bar\n", v[i].port, v[i].port, v[i].port, v[i].id);
    assert_string_equal(got, want);

    char log[256], text[256];
    assert_true(ss_runtime_log_path(fx->rt, v[i].id, log, sizeof log));
    snprintf(want, sizeof want, "%s/logs/%s/%s.log", fx->dir, RS, v[i].id);
    assert_string_equal(log, want);
    WAIT_FOR(fx, slurp(log, text, sizeof text) && strstr(text, "to-stderr"), 5000);
    assert_non_null(strstr(text, "hello-from-replica"));

    /* The pid record names the process and its start time. */
    char rec[256];
    snprintf(path, sizeof path, "%s/pids/%s", fx->dir, v[i].id);
    assert_true(slurp(path, rec, sizeof rec));
    int pid = 0, pgid = 0;
    unsigned long long start = 0;
    assert_int_equal(sscanf(rec, "%d %d %llu", &pid, &pgid, &start), 3);
    struct ss__proc_sample s;
    assert_true(ss__proc_stat(v[i].pid, &s));
    assert_int_equal(pid, v[i].pid);
    assert_int_equal(pgid, v[i].pid);
    assert_int_equal(start, s.start_ticks);
  }
  tick(fx);
  assert_int_equal(reps(fx, RS, v), 3);
  assert_true(v[0].rss_bytes > 0);
  assert_true(v[0].cpu_seconds >= 0);

  struct ss_rs_status st;
  assert_true(ss_runtime_status(fx->rt, RS, &st));
  assert_int_equal(st.replicas, 3);
  assert_int_equal(st.running, 3);
  assert_int_equal(st.ready, 3);
  assert_int_equal(st.updated, 3);
  assert_false(st.failed);
  assert_int_equal(count_events(fx, "Started"), 3);
  assert_non_null(strstr(fx->events[find_event(fx, "Started", 0)].message,
                         "Started container " RS));
}

/* ---- readiness over HTTP, TCP liveness ---- */

static void test_ready_only_after_http_readiness_passes(void **state) {
  struct fx *fx = *state;
  struct tpl p;
  /* Listens only after a second: until then the probe is refused. */
  tpl_init(&p, fx,
           "touch \"$T/started\"; sleep 1; "
           "exec python3 -m http.server --bind 127.0.0.1 \"$PORT\"");
  p.t.workdir = fx->dir;
  p.t.readiness.type = SS_PROBE_HTTP;
  snprintf(p.t.readiness.path, sizeof p.t.readiness.path, "/");
  p.t.readiness.period_s = 1;
  p.t.liveness.type = SS_PROBE_TCP;
  p.t.liveness.initial_delay_s = 5;
  p.t.liveness.period_s = 1;
  assert_int_equal(ss_runtime_set(fx->rt, RS, &p.t, 1), SS_EOK);
  /* the process runs; the tick after its start knows it (see runtime.c) */
  struct ss_rs_status st;
  WAIT_FOR(fx, file_exists(fx->dir, "started") && ss_runtime_status(fx->rt, RS, &st) &&
                   st.running == 1,
           5000);
  assert_int_equal(count_phase(fx, RS, SS_REPLICA_STARTING), 1);
  assert_true(ss_runtime_status(fx->rt, RS, &st));
  assert_int_equal(st.running, 1);
  assert_int_equal(st.ready, 0);

  WAIT_FOR(fx, ready(fx, RS) == 1, 15000);
  struct ss_replica_info v[MAX_REPS];
  assert_int_equal(reps(fx, RS, v), 1);
  assert_true(v[0].ready_ms >= v[0].started_ms + 1000);

  /* Past the liveness delay the TCP probe passes: no restart. */
  int64_t t0 = now_ms();
  while (now_ms() - t0 < 6500)
    tick(fx);
  assert_int_equal(reps(fx, RS, v), 1);
  assert_int_equal(v[0].restarts, 0);
  assert_int_equal(v[0].phase, SS_REPLICA_READY);
  assert_int_equal(count_events(fx, "Unhealthy"), 0);
}

/* A readiness failure past its threshold makes a ready replica UNREADY
 * without restarting it. */
static void test_readiness_failure_unready_not_restarted(void **state) {
  struct fx *fx = *state;
  struct tpl p;
  tpl_init(&p, fx, "exec sleep 60");
  static char *probe[] = {"/bin/sh", "-c", "test ! -e \"$T/unready\"", NULL};
  p.t.readiness.type = SS_PROBE_EXEC;
  p.t.readiness.exec_argv = probe;
  p.t.readiness.period_s = 1;
  p.t.readiness.failure_threshold = 1;
  assert_int_equal(ss_runtime_set(fx->rt, RS, &p.t, 1), SS_EOK);
  WAIT_FOR(fx, ready(fx, RS) == 1, 5000);
  struct ss_replica_info v[MAX_REPS];
  reps(fx, RS, v);
  pid_t pid = v[0].pid;
  touch(fx->dir, "unready");
  WAIT_FOR(fx, count_phase(fx, RS, SS_REPLICA_UNREADY) == 1, 5000);
  assert_true(find_event(fx, "Unhealthy", 0) >= 0);
  reps(fx, RS, v);
  assert_int_equal(v[0].pid, pid);
  assert_int_equal(v[0].restarts, 0);
  char path[256];
  snprintf(path, sizeof path, "%s/unready", fx->dir);
  unlink(path);
  WAIT_FOR(fx, ready(fx, RS) == 1, 5000);
  reps(fx, RS, v);
  assert_int_equal(v[0].pid, pid);
}

/* ---- scaling down ---- */

static void test_scale_down_sigterm_then_sigkill_after_grace(void **state) {
  struct fx *fx = *state;
  struct tpl p;
  tpl_init(&p, fx,
           "trap 'echo term > \"$T/term-$SERVESCALE_REPLICA\"; exit 0' TERM;"
           "while :; do sleep 0.05; done");
  p.t.grace_seconds = 10;
  assert_int_equal(ss_runtime_set(fx->rt, RS, &p.t, 3), SS_EOK);
  WAIT_FOR(fx, ready(fx, RS) == 3, 5000);
  struct ss_replica_info before[MAX_REPS], after[MAX_REPS];
  assert_int_equal(reps(fx, RS, before), 3);

  int64_t t0 = now_ms();
  assert_int_equal(ss_runtime_set(fx->rt, RS, &p.t, 1), SS_EOK);
  WAIT_FOR(fx, reps(fx, RS, after) == 1, 5000);
  /* Well within the 10 s grace: they left on SIGTERM. */
  assert_true(now_ms() - t0 < 5000);
  /* All were ready: the newest go first, the oldest stays. */
  assert_string_equal(after[0].id, before[0].id);
  for (size_t i = 1; i < 3; i++) {
    char name[SS_REPLICA_ID_LEN + 8];
    snprintf(name, sizeof name, "term-%s", before[i].id);
    assert_true(file_exists(fx->dir, name));
    assert_true(gone(before[i].pid));
  }
  assert_int_equal(count_events(fx, "Killing"), 2);

  /* One that ignores SIGTERM (and so do its children) goes by SIGKILL
   * after its grace. */
  struct tpl q;
  tpl_init(&q, fx, "trap '' TERM; while :; do sleep 0.05; done");
  q.t.grace_seconds = 1;
  assert_int_equal(ss_runtime_set(fx->rt, "stubborn", &q.t, 1), SS_EOK);
  WAIT_FOR(fx, ready(fx, "stubborn") == 1, 5000);
  assert_int_equal(reps(fx, "stubborn", after), 1);
  pid_t pid = after[0].pid;
  t0 = now_ms();
  assert_int_equal(ss_runtime_set(fx->rt, "stubborn", &q.t, 0), SS_EOK);
  tick(fx);
  assert_int_equal(count_phase(fx, "stubborn", SS_REPLICA_STOPPING), 1);
  WAIT_FOR(fx, reps(fx, "stubborn", after) == 0, 5000);
  int64_t took = now_ms() - t0;
  assert_true(took >= 1000);
  assert_true(took < 3000);
  assert_true(gone(pid));
}

/* ---- restarts ---- */

static void test_crash_restarts_with_growing_backoff(void **state) {
  struct fx *fx = *state;
  struct tpl p;
  tpl_init(&p, fx, "echo crashing; exit 3");
  assert_int_equal(ss_runtime_set(fx->rt, RS, &p.t, 1), SS_EOK);
  /* Back-off 100, 200, 400, 800, 800 ms (base 100, max 800). */
  WAIT_FOR(fx, count_events(fx, "Started") >= 6, 8000);
  int64_t at[8];
  size_t n = 0;
  for (size_t i = 0; i < fx->nevents && n < 8; i++)
    if (strcmp(fx->events[i].reason, "Started") == 0)
      at[n++] = fx->events[i].at_ms;
  int64_t gap[5];
  for (int i = 0; i < 5; i++)
    gap[i] = at[i + 1] - at[i];
  print_message("back-off gaps: %lld %lld %lld %lld %lld ms\n", (long long)gap[0],
                (long long)gap[1], (long long)gap[2], (long long)gap[3], (long long)gap[4]);
  assert_true(gap[0] >= 100);
  assert_true(gap[1] >= 200);
  assert_true(gap[2] >= 400);
  assert_true(gap[2] > gap[0] * 2);
  assert_true(gap[4] >= 800);
  assert_true(gap[4] < 800 + 600); /* capped */

  struct ss_replica_info v[MAX_REPS];
  assert_int_equal(reps(fx, RS, v), 1);
  assert_true(v[0].restarts >= 5);
  assert_true(WIFEXITED(v[0].last_exit));
  assert_int_equal(WEXITSTATUS(v[0].last_exit), 3);
  assert_true(count_events(fx, "BackOff") >= 5);
  assert_non_null(strstr(fx->events[find_event(fx, "BackOff", 0)].message,
                         "Back-off restarting failed container"));
  struct ss_rs_status st;
  assert_true(ss_runtime_status(fx->rt, RS, &st));
  assert_false(st.failed);
}

static void test_unrunnable_command_fails_without_looping(void **state) {
  struct fx *fx = *state;
  static char *argv[] = {"/nonexistent", NULL};
  struct ss_rs_template t = {.argv = argv, .grace_seconds = 1};
  assert_int_equal(ss_runtime_set(fx->rt, RS, &t, 2), SS_EOK);
  int64_t t0 = now_ms();
  while (now_ms() - t0 < 1000)
    tick(fx);
  struct ss_rs_status st;
  assert_true(ss_runtime_status(fx->rt, RS, &st));
  assert_true(st.failed);
  assert_non_null(strstr(st.message, "/nonexistent"));
  assert_non_null(strstr(st.message, "No such file"));
  assert_int_equal(st.running, 0);
  assert_int_equal(count_events(fx, "Failed"), 1);
  assert_int_equal(count_events(fx, "Started"), 0);
  assert_int_equal(count_events(fx, "BackOff"), 0);
  struct ss_replica_info v[MAX_REPS];
  assert_int_equal(reps(fx, RS, v), 1);
  assert_int_equal(v[0].phase, SS_REPLICA_FAILED);
  assert_int_equal(v[0].restarts, 0);

  /* A runnable template clears the failure. */
  struct tpl p;
  tpl_init(&p, fx, "exec sleep 60");
  assert_int_equal(ss_runtime_set(fx->rt, RS, &p.t, 2), SS_EOK);
  assert_true(ss_runtime_status(fx->rt, RS, &st));
  assert_false(st.failed);
  WAIT_FOR(fx, ready(fx, RS) == 2 && reps(fx, RS, v) == 2, 5000);
}

static void test_liveness_failure_restarts(void **state) {
  struct fx *fx = *state;
  struct tpl p;
  tpl_init(&p, fx, "exec sleep 60");
  static char *probe[] = {"/bin/sh", "-c", "test ! -e \"$T/sick\"", NULL};
  p.t.liveness.type = SS_PROBE_EXEC;
  p.t.liveness.exec_argv = probe;
  p.t.liveness.period_s = 1;
  p.t.liveness.failure_threshold = 2;
  p.t.grace_seconds = 1;
  assert_int_equal(ss_runtime_set(fx->rt, RS, &p.t, 1), SS_EOK);
  WAIT_FOR(fx, ready(fx, RS) == 1, 5000);
  struct ss_replica_info v[MAX_REPS];
  reps(fx, RS, v);
  pid_t first = v[0].pid;

  touch(fx->dir, "sick");
  WAIT_FOR(fx, find_event(fx, "Killing", 0) >= 0, 8000);
  long unhealthy = find_event(fx, "Unhealthy", 0);
  assert_true(unhealthy >= 0 && unhealthy < find_event(fx, "Killing", 0));
  assert_non_null(strstr(fx->events[unhealthy].message, "Liveness probe failed"));
  char path[256];
  snprintf(path, sizeof path, "%s/sick", fx->dir);
  unlink(path);
  WAIT_FOR(fx, reps(fx, RS, v) == 1 && v[0].restarts >= 1 && v[0].phase == SS_REPLICA_READY,
           8000);
  assert_int_not_equal(v[0].pid, first);
  assert_true(gone(first));
}

/* ---- rolling replacement ---- */

static bool is_old(const struct ss_replica_info *r, const struct ss_replica_info *old,
                   size_t nold) {
  for (size_t i = 0; i < nold; i++)
    if (strcmp(r->id, old[i].id) == 0)
      return true;
  return false;
}

/* Counts the live replicas of the last snapshot by age; checks the
 * rollout's promises: at most one surge, never fewer than 2 ready. */
static void rollout_check(struct fx *fx, const struct ss_replica_info *old, size_t nold,
                          int *n_old, int *n_new, struct ss_replica_info *newest) {
  struct ss_replica_info v[MAX_REPS];
  size_t n = reps(fx, RS, v);
  int live = 0, ok = 0;
  *n_old = *n_new = 0;
  for (size_t i = 0; i < n; i++) {
    if (v[i].phase == SS_REPLICA_STOPPING)
      continue;
    live++;
    ok += v[i].phase == SS_REPLICA_READY;
    if (is_old(&v[i], old, nold)) {
      (*n_old)++;
    } else {
      (*n_new)++;
      if (newest)
        *newest = v[i];
    }
  }
  assert_true(live <= 3);
  assert_true(ok >= 2);
}

static void test_template_change_rolls_one_by_one(void **state) {
  struct fx *fx = *state;
  struct tpl p;
  tpl_init(&p, fx, "exec sleep 60");
  assert_int_equal(ss_runtime_set(fx->rt, RS, &p.t, 2), SS_EOK);
  WAIT_FOR(fx, ready(fx, RS) == 2, 5000);
  struct ss_replica_info old[MAX_REPS];
  assert_int_equal(reps(fx, RS, old), 2);

  /* Same template again: nothing happens. */
  assert_int_equal(ss_runtime_set(fx->rt, RS, &p.t, 2), SS_EOK);
  tick(fx);
  assert_int_equal(count_events(fx, "Started"), 2);

  /* New template: ready only when the test says so, per replica. */
  struct tpl q;
  tpl_init(&q, fx, "exec sleep 61");
  static char *probe[] = {"/bin/sh", "-c", "test -e \"$T/ready-$SERVESCALE_REPLICA\"", NULL};
  q.t.readiness.type = SS_PROBE_EXEC;
  q.t.readiness.exec_argv = probe;
  q.t.readiness.period_s = 1;
  assert_int_equal(ss_runtime_set(fx->rt, RS, &q.t, 2), SS_EOK);

  int n_old = 0, n_new = 0;
  struct ss_replica_info fresh;
  for (int round = 0; round < 2; round++) {
    WAIT_FOR(fx, (rollout_check(fx, old, 2, &n_old, &n_new, &fresh), n_new == round + 1), 5000);
    assert_int_equal(n_old, 2 - round);
    /* Not ready yet: no old one stops, no second new one starts. */
    int64_t t0 = now_ms();
    while (now_ms() - t0 < 1200) {
      tick(fx);
      rollout_check(fx, old, 2, &n_old, &n_new, NULL);
      assert_int_equal(n_old, 2 - round);
      assert_int_equal(n_new, round + 1);
    }
    char name[SS_REPLICA_ID_LEN + 8];
    snprintf(name, sizeof name, "ready-%s", fresh.id);
    touch(fx->dir, name);
    WAIT_FOR(fx, (rollout_check(fx, old, 2, &n_old, &n_new, NULL), n_old == 1 - round), 5000);
  }
  struct ss_replica_info v[MAX_REPS];
  WAIT_FOR(fx, reps(fx, RS, v) == 2 && ready(fx, RS) == 2, 5000);
  assert_false(is_old(&v[0], old, 2));
  assert_false(is_old(&v[1], old, 2));
  assert_true(gone(old[0].pid));
  assert_true(gone(old[1].pid));
  struct ss_rs_status st;
  assert_true(ss_runtime_status(fx->rt, RS, &st));
  assert_int_equal(st.updated, 2);
  assert_int_equal(st.ready, 2);
}

/* ---- removal, orphans, free ---- */

static void test_remove_leaves_no_process(void **state) {
  struct fx *fx = *state;
  struct tpl p;
  /* Children in the group too: they must go with their replica. */
  tpl_init(&p, fx, "sleep 60 & sleep 60 & wait");
  p.t.grace_seconds = 2;
  assert_int_equal(ss_runtime_set(fx->rt, RS, &p.t, 2), SS_EOK);
  WAIT_FOR(fx, ready(fx, RS) == 2, 5000);
  struct ss_replica_info v[MAX_REPS];
  assert_int_equal(reps(fx, RS, v), 2);
  ss_runtime_remove(fx->rt, RS);
  struct ss_rs_status st;
  WAIT_FOR(fx, !ss_runtime_status(fx->rt, RS, &st), 5000);
  for (size_t i = 0; i < 2; i++) {
    assert_true(gone(v[i].pid));
    WAIT_FOR(fx, !group_alive(v[i].pid), 2000);
    char name[SS_REPLICA_ID_LEN + 8];
    snprintf(name, sizeof name, "pids/%s", v[i].id);
    assert_false(file_exists(fx->dir, name));
  }
  assert_int_equal(ss_runtime_replicas(fx->rt, RS, v, MAX_REPS), 0);
  char buf[256];
  assert_false(ss_runtime_log_path(fx->rt, v[0].id, buf, sizeof buf));
}

/* A replica that goes while its process is being started (by the
 * runtime's spawner thread) leaves no process and no pid record behind,
 * whether the start finished before it went or after. */
static void test_gone_while_starting_leaves_no_process(void **state) {
  struct fx *fx = *state;
  struct tpl p;
  tpl_init(&p, fx, "echo $$ > \"$T/pid-$SERVESCALE_REPLICA\"; exec sleep 60");
  for (int round = 0; round < 5; round++) {
    assert_int_equal(ss_runtime_set(fx->rt, RS, &p.t, 1), SS_EOK);
    ss_runtime_tick(fx->rt, now_ms()); /* queues the start */
    struct ss_replica_info v[MAX_REPS];
    assert_int_equal(reps(fx, RS, v), 1);
    if (round % 2)
      assert_true(ss_runtime_delete_replica(fx->rt, RS, v[0].id));
    ss_runtime_remove(fx->rt, RS);
    struct ss_rs_status st;
    WAIT_FOR(fx, !ss_runtime_status(fx->rt, RS, &st), 5000);
    char name[SS_REPLICA_ID_LEN + 8], path[512], text[32] = "";
    snprintf(name, sizeof name, "pids/%s", v[0].id);
    assert_false(file_exists(fx->dir, name));
    snprintf(path, sizeof path, "%s/pid-%s", fx->dir, v[0].id);
    FILE *f = fopen(path, "r");
    if (f) { /* it ran: it must be gone */
      if (!fgets(text, sizeof text, f))
        text[0] = '\0';
      fclose(f);
      pid_t pid = (pid_t)atoi(text);
      if (pid > 0)
        WAIT_FOR(fx, gone(pid) || !group_alive(pid), 2000);
    }
  }
  assert_int_equal(count_events(fx, "Failed"), 0);
}

/* Forks "sleep 60" in its own process group, outside the runtime. */
static pid_t fork_sleeper(struct fx *fx) {
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    setpgid(0, 0);
    execl("/bin/sleep", "sleep", "60", (char *)NULL);
    _exit(127);
  }
  setpgid(pid, pid);
  fx->extra[fx->nextra++] = pid;
  return pid;
}

static void write_record(struct fx *fx, const char *id, pid_t pid, unsigned long long start) {
  char path[256];
  snprintf(path, sizeof path, "%s/pids/%s", fx->dir, id);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fprintf(f, "%d %d %llu\n", (int)pid, (int)pid, start);
  fclose(f);
}

static void test_reap_orphans_kills_only_matching_start_time(void **state) {
  struct fx *fx = *state;
  pid_t orphan = fork_sleeper(fx), stranger = fork_sleeper(fx);
  struct ss__proc_sample s1, s2;
  WAIT_FOR(fx, ss__proc_stat(orphan, &s1) && ss__proc_stat(stranger, &s2), 2000);
  write_record(fx, "old-rs-abcde", orphan, s1.start_ticks);
  /* Same pid, other start time: a reused pid, someone else's. */
  write_record(fx, "old-rs-fghjk", stranger, s2.start_ticks + 1);
  write_record(fx, "old-rs-gone1", 999999999, 1);

  assert_int_equal(ss_runtime_reap_orphans(fx->dir), 1);
  int st = 0;
  assert_int_equal(waitpid(orphan, &st, 0), orphan);
  assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
  fx->extra[0] = fx->extra[--fx->nextra]; /* reaped: not teardown's */
  assert_int_equal(waitpid(stranger, &st, WNOHANG), 0);
  assert_int_equal(kill(stranger, 0), 0);
  assert_false(file_exists(fx->dir, "pids/old-rs-abcde"));
  assert_false(file_exists(fx->dir, "pids/old-rs-fghjk"));
  assert_false(file_exists(fx->dir, "pids/old-rs-gone1"));
  assert_int_equal(ss_runtime_reap_orphans(fx->dir), 0);
  assert_int_equal(ss_runtime_reap_orphans(NULL), 0);
}

/* A daemon killed by SIGKILL takes its replicas along (PR_SET_PDEATHSIG). */
static void test_replicas_die_with_a_killed_daemon(void **state) {
  struct fx *fx = *state;
  char pidfile[128];
  snprintf(pidfile, sizeof pidfile, "%s/daemon-replica", fx->dir);
  pid_t daemon = fork();
  assert_true(daemon >= 0);
  if (daemon == 0) {
    /* The "daemon": no cmocka here, only _exit. */
    struct ss_runtime *rt = new_runtime(fx);
    struct tpl p;
    tpl_init(&p, fx, "exec sleep 60");
    if (!rt || ss_runtime_set(rt, RS, &p.t, 1) != SS_EOK)
      _exit(1);
    int64_t t0 = now_ms();
    struct ss_replica_info v[1];
    while (now_ms() - t0 < 5000) {
      ss_runtime_tick(rt, now_ms());
      if (ss_runtime_replicas(rt, RS, v, 1) == 1 && v[0].pid > 0) {
        FILE *f = fopen(pidfile, "w");
        if (f) {
          fprintf(f, "%d\n", (int)v[0].pid);
          fclose(f);
        }
        break;
      }
      sleep_ms(TICK_MS);
    }
    sleep_ms(30000);
    _exit(0);
  }
  fx->extra[fx->nextra++] = daemon;
  char buf[64];
  WAIT_FOR(fx, slurp(pidfile, buf, sizeof buf) && atoi(buf) > 0, 5000);
  pid_t replica = atoi(buf);
  assert_true(group_alive(replica));
  kill(daemon, SIGKILL);
  waitpid(daemon, NULL, 0);
  fx->nextra--;
  WAIT_FOR(fx, !group_alive(replica), 3000);
  /* Its record stays behind; the sweep finds nothing to kill and tidies. */
  assert_int_equal(ss_runtime_reap_orphans(fx->dir), 0);
}

static void test_free_stops_everything(void **state) {
  struct fx *fx = *state;
  struct tpl a, b;
  tpl_init(&a, fx, "trap '' TERM; while :; do sleep 0.05; done");
  a.t.grace_seconds = 1;
  tpl_init(&b, fx, "exec sleep 60");
  assert_int_equal(ss_runtime_set(fx->rt, "ignores-term", &a.t, 2), SS_EOK);
  assert_int_equal(ss_runtime_set(fx->rt, "plain", &b.t, 2), SS_EOK);
  WAIT_FOR(fx, ready(fx, "ignores-term") == 2 && ready(fx, "plain") == 2, 5000);
  struct ss_replica_info v[4];
  ss_runtime_replicas(fx->rt, "ignores-term", v, 2);
  ss_runtime_replicas(fx->rt, "plain", v + 2, 2);
  int64_t t0 = now_ms();
  ss_runtime_free(fx->rt);
  fx->rt = NULL;
  int64_t took = now_ms() - t0;
  assert_true(took >= 1000 && took < 3000);
  for (size_t i = 0; i < 4; i++)
    assert_true(gone(v[i].pid));
  assert_int_equal(ss_runtime_reap_orphans(fx->dir), 0); /* no records left */
}

/* ---- a tick stays short with many replicas ---- */

static void test_tick_with_50_replicas_stays_short(void **state) {
  struct fx *fx = *state;
  struct tpl p;
  tpl_init(&p, fx, "exec sleep 60");
  /* Nothing listens: every probe fails, every second. */
  p.t.readiness.type = SS_PROBE_HTTP;
  p.t.readiness.period_s = 1;
  p.t.liveness.type = SS_PROBE_TCP;
  p.t.liveness.period_s = 1;
  p.t.liveness.failure_threshold = 1000;
  p.t.grace_seconds = 1;
  assert_int_equal(ss_runtime_set(fx->rt, RS, &p.t, 50), SS_EOK);
  struct ss_rs_status st;
  int64_t worst_start = 0, worst = 0, t0 = now_ms(), all_at = 0;
  /* Starting is spread over ticks; then 2.5 s of probing all 50. */
  while (now_ms() - t0 < 20000 && (!all_at || now_ms() - all_at < 2500)) {
    int64_t a = now_ms();
    ss_runtime_tick(fx->rt, a);
    int64_t d = now_ms() - a;
    if (!all_at && d > worst_start)
      worst_start = d;
    if (all_at && d > worst)
      worst = d;
    assert_true(ss_runtime_status(fx->rt, RS, &st));
    if (!all_at && st.running == 50)
      all_at = now_ms();
    sleep_ms(TICK_MS);
  }
  print_message("50 replicas: all started in %lld ms, worst starting tick %lld ms, "
                "worst probing tick %lld ms\n",
                (long long)(all_at - t0), (long long)worst_start, (long long)worst);
  assert_true(all_at > 0);
  assert_true(worst_start < 500);
  assert_true(worst < 200);
  assert_true(ss_runtime_status(fx->rt, RS, &st));
  assert_int_equal(st.ready, 0);
  assert_int_equal(st.running, 50);
}

/* /proc/<pid>/stat's rss (what a replica's memory is sampled from) is
 * statm's resident. */
static void test_proc_stat_rss_is_statm_resident(void **state) {
  (void)state;
  static char ballast[8 << 20];
  memset(ballast, 1, sizeof ballast); /* resident, and more than the jitter below */
  struct ss__proc_sample s = {0};
  int64_t statm = 0;
  assert_true(ss__proc_stat(getpid(), &s));
  assert_true(ss__proc_rss(getpid(), &statm));
  assert_true(s.rss_bytes >= (int64_t)sizeof ballast);
  int64_t d = s.rss_bytes - statm;
  assert_true(d < (1 << 20) && d > -(1 << 20));
}

/* ---- the API's edges ---- */

static void test_api_edges(void **state) {
  struct fx *fx = *state;
  struct tpl p;
  tpl_init(&p, fx, "exec sleep 60");
  assert_int_equal(ss_runtime_set(fx->rt, "", &p.t, 1), SS_EINVALID);
  assert_int_equal(ss_runtime_set(fx->rt, "a/b", &p.t, 1), SS_EINVALID);
  assert_int_equal(ss_runtime_set(fx->rt, "..", &p.t, 1), SS_EINVALID);
  char longname[SS_RS_NAME_LEN + 1];
  memset(longname, 'x', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  assert_int_equal(ss_runtime_set(fx->rt, longname, &p.t, 1), SS_EINVALID);
  assert_int_equal(ss_runtime_set(fx->rt, RS, &p.t, -1), SS_EINVALID);
  assert_int_equal(ss_runtime_set(fx->rt, RS, &p.t, SS_RUNTIME_MAX_REPLICAS + 1), SS_ELIMIT);
  struct ss_rs_template empty = {0};
  assert_int_equal(ss_runtime_set(fx->rt, RS, &empty, 1), SS_EINVALID);
  struct ss_rs_status st;
  assert_false(ss_runtime_status(fx->rt, RS, &st));
  assert_int_equal(ss_runtime_replicas(fx->rt, RS, NULL, 0), 0);
  ss_runtime_remove(fx->rt, "unknown");
  ss_runtime_free(NULL);
  ss_runtime_tick(NULL, 0);
  assert_null(ss_runtime_new(NULL));

  assert_int_equal(ss_runtime_set(fx->rt, "b-set", &p.t, 0), SS_EOK);
  assert_int_equal(ss_runtime_set(fx->rt, "a-set", &p.t, 0), SS_EOK);
  tick(fx);
  assert_true(ss_runtime_status(fx->rt, "a-set", &st));
  assert_int_equal(st.replicas, 0);
}

static void count_sets(void *ctx, const char *rs) {
  (void)rs;
  (*(int *)ctx)++;
}

static void test_each_lists_sets(void **state) {
  struct fx *fx = *state;
  struct tpl p;
  tpl_init(&p, fx, "exec sleep 60");
  assert_int_equal(ss_runtime_set(fx->rt, "one", &p.t, 0), SS_EOK);
  assert_int_equal(ss_runtime_set(fx->rt, "two", &p.t, 0), SS_EOK);
  int n = 0;
  ss_runtime_each(fx->rt, count_sets, &n);
  assert_int_equal(n, 2);
  ss_runtime_remove(fx->rt, "one");
  tick(fx);
  n = 0;
  ss_runtime_each(fx->rt, count_sets, &n);
  assert_int_equal(n, 1);
}

/* ---- the helpers of spawn.c ---- */

static void test_env_build_overrides(void **state) {
  (void)state;
  char *a[] = {"PATH=/custom", "X=1", "X=2", NULL};
  char *b[] = {"X=3", "Y=4", NULL};
  char **env = ss__env_build(a, b);
  assert_non_null(env);
  int path = 0, x = 0, y = 0;
  for (size_t i = 0; env[i]; i++) {
    if (strncmp(env[i], "PATH=", 5) == 0) {
      path++;
      assert_string_equal(env[i], "PATH=/custom");
    }
    if (strncmp(env[i], "X=", 2) == 0) {
      x++;
      assert_string_equal(env[i], "X=3");
    }
    y += strcmp(env[i], "Y=4") == 0;
  }
  assert_int_equal(path, 1);
  assert_int_equal(x, 1);
  assert_int_equal(y, 1);
  ss__env_free(env);
  ss__env_free(NULL);
}

static void test_port_range(void **state) {
  (void)state;
  int cursor = 0;
  int base = ss__port_pick(0, 0, &cursor, NULL, 0);
  assert_true(base > 0);
  /* A range of whatever the kernel just gave us, avoiding its first port. */
  int lo = base, hi = base + 3 > 65535 ? base : base + 3;
  int avoid[] = {lo};
  int p = ss__port_pick(lo, hi, &cursor, avoid, 1);
  if (hi > lo) {
    assert_true(p > lo && p <= hi);
  } else {
    assert_int_equal(p, 0);
  }
}

int main(void) {
  /* The replicas' shells must not inherit an ignored SIGPIPE or the like
   * from the test runner; the runtime resets them, this is belt and
   * braces for fork_sleeper. */
  signal(SIGPIPE, SIG_DFL);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_scale_up_gives_distinct_ports_groups_env_logs, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_ready_only_after_http_readiness_passes, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_readiness_failure_unready_not_restarted, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_scale_down_sigterm_then_sigkill_after_grace, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_crash_restarts_with_growing_backoff, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unrunnable_command_fails_without_looping, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_liveness_failure_restarts, setup, teardown),
      cmocka_unit_test_setup_teardown(test_template_change_rolls_one_by_one, setup, teardown),
      cmocka_unit_test_setup_teardown(test_remove_leaves_no_process, setup, teardown),
      cmocka_unit_test_setup_teardown(test_gone_while_starting_leaves_no_process, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_reap_orphans_kills_only_matching_start_time, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_replicas_die_with_a_killed_daemon, setup, teardown),
      cmocka_unit_test_setup_teardown(test_free_stops_everything, setup, teardown),
      cmocka_unit_test_setup_teardown(test_tick_with_50_replicas_stays_short, setup, teardown),
      cmocka_unit_test(test_proc_stat_rss_is_statm_resident),
      cmocka_unit_test_setup_teardown(test_api_edges, setup, teardown),
      cmocka_unit_test_setup_teardown(test_each_lists_sets, setup, teardown),
      cmocka_unit_test(test_env_build_overrides),
      cmocka_unit_test(test_port_range),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
