/* runtime.c: the supervisor. Holds the replica sets, and in each tick reaps
 * exits, runs probes, restarts with back-off, scales and rolls templates,
 * stops gracefully and samples /proc, as a ReplicaSet controller and a
 * kubelet would for pods. Processes are started by spawn.c, probes stepped
 * by probe.c, /proc read by procstat.c.
 *
 * Replicas' processes are started by the runtime's own spawner thread, so
 * that a tick never waits for a child to exec (on a busy host that wait is
 * the scheduler's, milliseconds per process): a tick queues the start, the
 * spawner runs it, the next tick takes the result. Meanwhile the replica is
 * STARTING without a process. The spawner is the replicas' parent thread
 * (PR_SET_PDEATHSIG) and lives until ss_runtime_free has stopped them. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/strmap.h"
#include "common/clock.h"
#include "runtime/internal.h"

/* Kubernetes' kubelet: back-off 10 s doubling to 300 s, forgotten after a
 * container has run 10 minutes. */
#define K8S_BACKOFF_BASE_MS 10000
#define K8S_BACKOFF_MAX_MS 300000
#define BACKOFF_RESET_MS (10 * 60 * 1000)
/* Rolling replacement adds one new replica at a time (maxSurge 1,
 * maxUnavailable 0). */
#define ROLLING_SURGE 1
/* How long one tick may wait on probe sockets in total. */
#define PROBE_TICK_BUDGET_MS 5
/* How long one tick may spend starting processes (exec probes, which the
 * tick starts itself, milliseconds each, tens of them under sanitizers;
 * queueing a replica's start for the spawner costs next to nothing); the
 * rest start in the next ticks, as the ReplicaSet controller starts pods in
 * batches. */
#define SPAWN_TICK_BUDGET_MS 100
/* How often a replica's CPU and memory are read from /proc: the daemon's
 * default sync period, what they were read at before its loop ticked every
 * few milliseconds while replicas start (the metrics window samples them
 * once a second); two /proc reads per replica per tick were a large part
 * of a tick with hundreds of replicas. */
#define SAMPLE_PERIOD_MS 200
/* While freeing: how often to look for exits. */
#define FREE_POLL_MS 10
/* How long a leaving replica waits for its requests to finish by default. */
#define DRAIN_TIMEOUT_MS 30000
/* The pod-name suffix alphabet of Kubernetes (no vowels, no 0 1 3). */
#define ID_ALPHABET "bcdfghjklmnpqrstvwxz2456789"
#define ID_SUFFIX_LEN 5

enum { PROBE_READINESS, PROBE_LIVENESS, PROBE_COUNT };

/* A template, shared by the replicas started from it. */
struct tmpl {
  int refs;
  bool proven;              /* a process of it has exec'd */
  struct ss_rs_template t;
};

struct replica {
  char id[SS_REPLICA_ID_LEN];
  struct tmpl *tmpl;        /* the template it runs (a reference) */
  uint64_t seq;             /* creation order, for "newest first" */
  enum ss_replica_phase phase;
  pid_t pid;
  int port;
  int restarts;
  int crashes;              /* consecutive, for the back-off */
  int64_t started_ms, ready_ms;
  int64_t restart_at_ms;    /* BACKOFF: when to start again */
  int64_t kill_at_ms;       /* STOPPING: when SIGTERM becomes SIGKILL */
  int64_t drain_until_ms;   /* DRAINING: stop by then whatever may_stop says */
  bool doomed;              /* stopping for good (scale-down, replacement) */
  bool killed;              /* SIGKILL sent */
  double cpu_seconds;
  int64_t rss_bytes;
  int64_t sampled_ms;       /* when cpu_seconds and rss_bytes were last read; 0: never */
  int last_exit;
  char **envp;              /* its environment, also for exec probes */
  struct spawn_job *job;    /* its process is being started; pid is 0 until then */
  struct ss__probe_run probe[PROBE_COUNT];
};

/* One process start, queued by a tick, run by the spawner thread, taken
 * back by a later tick. The spawner reads only what the job holds (the
 * template is referenced, the environment copied) and writes only its
 * results; r and rs are the tick thread's (under the runtime's mutex). */
struct spawn_job {
  struct spawn_job *next;
  struct replica *r;        /* NULL once the replica is gone: its process is killed */
  struct rset *rs;
  struct tmpl *tmpl;        /* a reference: argv and workdir */
  char **envp;
  const char *state_dir;
  char id[SS_REPLICA_ID_LEN];
  char dir[PATH_MAX], log[PATH_MAX];
  /* results */
  enum ss_err rc;
  pid_t pid;
  int64_t started_ms;
  double cpu_seconds;
  char msg[SS__MSG_MAX];
};

struct rset {
  char name[SS_RS_NAME_LEN];
  struct tmpl *tmpl;        /* current */
  int desired;
  bool removing;
  bool failed;
  char message[256];
  struct replica **reps;
  size_t n, cap;
};

struct event {
  char rs[SS_RS_NAME_LEN];
  const char *type, *reason;
  char message[320];
};

struct ss_runtime {
  pthread_mutex_t mu;
  char *state_dir;
  int port_min, port_max, port_cursor;
  int backoff_base_ms, backoff_max_ms;
  ss_runtime_event_fn on_event;
  void *event_ctx;
  bool (*may_stop)(void *ctx, const char *replica_id);
  void *may_stop_ctx;
  int drain_timeout_ms;
  struct rset **sets;
  size_t nsets, capsets;
  struct ss_strmap by_name;  /* rset name -> rset: the reconciler asks by name, per set, per pass */
  uint64_t seq;
  pid_t *zombies;           /* timed-out exec probes not yet reaped */
  size_t nzombies, capzombies;
  struct event *events;     /* queued under the mutex, emitted without it */
  size_t nevents, capevents;
  int64_t spawn_until;      /* this tick's SPAWN_TICK_BUDGET_MS ends (ss_mono_ms) */
  bool spawned;             /* a process was started in this tick */
  bool routes_changed;      /* a replica became ready or stopped being ready */
  /* the spawner thread and its queues, under spawn_mu (never taken with
   * the spawner waiting on mu: the spawner does not take mu) */
  pthread_t spawner;
  bool spawner_started;
  pthread_mutex_t spawn_mu;
  pthread_cond_t spawn_cv;
  struct spawn_job *queue, *queue_tail; /* to start, in order */
  struct spawn_job *done;   /* started (or failed), for the next tick */
  bool spawn_busy;          /* the spawner is running a job */
  bool spawn_closing;       /* ss_runtime_free: no more starts */
  bool spawn_exit;          /* ss_runtime_free: replicas stopped, the spawner may go */
};

/* Grows *v (of *cap elements of size sz) to hold need; false on ENOMEM. */
static bool grow(void **v, size_t *cap, size_t need, size_t sz) {
  if (need <= *cap)
    return true;
  size_t ncap = *cap ? *cap * 2 : 8;
  while (ncap < need)
    ncap *= 2;
  void *nv = realloc(*v, ncap * sz);
  if (!nv)
    return false;
  *v = nv;
  *cap = ncap;
  return true;
}

static void event(struct ss_runtime *rt, const char *rs, const char *type, const char *reason,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void event(struct ss_runtime *rt, const char *rs, const char *type, const char *reason,
                  const char *fmt, ...) {
  if (!rt->on_event ||
      !grow((void **)&rt->events, &rt->capevents, rt->nevents + 1, sizeof *rt->events))
    return; /* an event lost to ENOMEM is better than a replica lost */
  struct event *e = &rt->events[rt->nevents++];
  snprintf(e->rs, sizeof e->rs, "%s", rs);
  e->type = type;
  e->reason = reason;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->message, sizeof e->message, fmt, ap);
  va_end(ap);
}

/* Takes the queued events under the mutex, then unlocks and calls the
 * callback, so that it may call back into the runtime. */
static void unlock_and_emit(struct ss_runtime *rt) {
  struct event *ev = rt->events;
  size_t n = rt->nevents;
  rt->events = NULL;
  rt->nevents = rt->capevents = 0;
  ss_runtime_event_fn fn = rt->on_event;
  void *ctx = rt->event_ctx;
  pthread_mutex_unlock(&rt->mu);
  for (size_t i = 0; i < n; i++)
    fn(ctx, ev[i].rs, ev[i].type, ev[i].reason, ev[i].message);
  free(ev);
}

static void zombie_add(struct ss_runtime *rt, pid_t pid) {
  if (pid <= 0)
    return;
  if (grow((void **)&rt->zombies, &rt->capzombies, rt->nzombies + 1, sizeof *rt->zombies))
    rt->zombies[rt->nzombies++] = pid;
}

static void zombies_reap(struct ss_runtime *rt, bool block) {
  size_t keep = 0;
  for (size_t i = 0; i < rt->nzombies; i++) {
    int st;
    pid_t w;
    do
      w = waitpid(rt->zombies[i], &st, block ? 0 : WNOHANG);
    while (w < 0 && errno == EINTR);
    if (w == 0)
      rt->zombies[keep++] = rt->zombies[i];
  }
  rt->nzombies = keep;
}

/* Whether this tick may start one more process: always the first, then
 * while the budget lasts. */
static bool may_spawn(struct ss_runtime *rt) {
  return !rt->spawned || ss_mono_ms() < rt->spawn_until;
}

/* ---- templates ---- */

static void strv_free(char **v) {
  if (!v)
    return;
  for (size_t i = 0; v[i]; i++)
    free(v[i]);
  free(v);
}

/* A copy of a NULL-terminated vector; *ok false on ENOMEM. */
static char **strv_dup(char *const *v, bool *ok) {
  if (!v)
    return NULL;
  size_t n = 0;
  while (v[n])
    n++;
  char **c = calloc(n + 1, sizeof *c);
  if (!c)
    goto fail;
  for (size_t i = 0; i < n; i++)
    if (!(c[i] = strdup(v[i])))
      goto fail;
  return c;
fail:
  strv_free(c);
  *ok = false;
  return NULL;
}

static bool strv_eq(char *const *a, char *const *b) {
  if (!a || !b)
    return (!a || !a[0]) && (!b || !b[0]);
  size_t i = 0;
  for (; a[i] && b[i]; i++)
    if (strcmp(a[i], b[i]) != 0)
      return false;
  return !a[i] && !b[i];
}

static bool probe_eq(const struct ss_probe *a, const struct ss_probe *b) {
  return a->type == b->type && strcmp(a->path, b->path) == 0 && a->port == b->port &&
         strv_eq(a->exec_argv, b->exec_argv) && a->initial_delay_s == b->initial_delay_s &&
         a->period_s == b->period_s && a->period_ms == b->period_ms &&
         a->timeout_s == b->timeout_s &&
         a->success_threshold == b->success_threshold &&
         a->failure_threshold == b->failure_threshold;
}

static bool tmpl_eq(const struct ss_rs_template *a, const struct ss_rs_template *b) {
  bool wd = (!a->workdir && !b->workdir) ||
            (a->workdir && b->workdir && strcmp(a->workdir, b->workdir) == 0);
  return wd && strv_eq(a->argv, b->argv) && strv_eq(a->env, b->env) &&
         probe_eq(&a->readiness, &b->readiness) && probe_eq(&a->liveness, &b->liveness) &&
         a->grace_seconds == b->grace_seconds && a->cpu_request_milli == b->cpu_request_milli &&
         a->memory_request_bytes == b->memory_request_bytes;
}

static void tmpl_unref(struct tmpl *t) {
  if (!t || --t->refs > 0)
    return;
  strv_free(t->t.argv);
  strv_free(t->t.env);
  free((char *)t->t.workdir);
  strv_free(t->t.readiness.exec_argv);
  strv_free(t->t.liveness.exec_argv);
  free(t);
}

static struct tmpl *tmpl_new(const struct ss_rs_template *src) {
  struct tmpl *t = calloc(1, sizeof *t);
  if (!t)
    return NULL;
  bool ok = true;
  t->refs = 1;
  t->t = *src;
  t->t.argv = strv_dup(src->argv, &ok);
  t->t.env = strv_dup(src->env, &ok);
  t->t.readiness.exec_argv = strv_dup(src->readiness.exec_argv, &ok);
  t->t.liveness.exec_argv = strv_dup(src->liveness.exec_argv, &ok);
  t->t.workdir = NULL;
  if (src->workdir && !(t->t.workdir = strdup(src->workdir)))
    ok = false;
  t->t.readiness.path[sizeof t->t.readiness.path - 1] = '\0';
  t->t.liveness.path[sizeof t->t.liveness.path - 1] = '\0';
  if (!ok) {
    tmpl_unref(t);
    return NULL;
  }
  return t;
}

/* ---- replicas ---- */

static const struct ss_probe *replica_probe(const struct replica *r, int k) {
  return k == PROBE_READINESS ? &r->tmpl->t.readiness : &r->tmpl->t.liveness;
}

static void replica_free(struct ss_runtime *rt, struct replica *r) {
  if (!r)
    return;
  if (r->job) /* its process, when it comes, is killed */
    r->job->r = NULL;
  for (int k = 0; k < PROBE_COUNT; k++)
    zombie_add(rt, ss__probe_cancel(&r->probe[k]));
  ss__env_free(r->envp);
  tmpl_unref(r->tmpl);
  free(r);
}

static bool id_taken(const struct ss_runtime *rt, const char *id) {
  for (size_t i = 0; i < rt->nsets; i++)
    for (size_t j = 0; j < rt->sets[i]->n; j++)
      if (strcmp(rt->sets[i]->reps[j]->id, id) == 0)
        return true;
  return false;
}

static void make_id(const struct ss_runtime *rt, const char *rs, char *id) {
  static const char alphabet[] = ID_ALPHABET;
  do {
    unsigned char rnd[ID_SUFFIX_LEN];
    if (getrandom(rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd)
      for (size_t i = 0; i < sizeof rnd; i++) /* early boot: any spread will do */
        rnd[i] = (unsigned char)(ss_mono_ms() * 31 + (int64_t)i * 7 + getpid());
    char suffix[ID_SUFFIX_LEN + 1];
    for (size_t i = 0; i < ID_SUFFIX_LEN; i++)
      suffix[i] = alphabet[rnd[i] % (sizeof alphabet - 1)];
    suffix[ID_SUFFIX_LEN] = '\0';
    snprintf(id, SS_REPLICA_ID_LEN, "%s-%s", rs, suffix);
  } while (id_taken(rt, id));
}

/* Ports of every replica, to hand none out twice. */
static int *ports_in_use(const struct ss_runtime *rt, size_t *n) {
  size_t total = 0;
  for (size_t i = 0; i < rt->nsets; i++)
    total += rt->sets[i]->n;
  int *v = malloc((total ? total : 1) * sizeof *v);
  *n = 0;
  if (!v)
    return NULL;
  for (size_t i = 0; i < rt->nsets; i++)
    for (size_t j = 0; j < rt->sets[i]->n; j++)
      if (rt->sets[i]->reps[j]->port > 0)
        v[(*n)++] = rt->sets[i]->reps[j]->port;
  return v;
}

static void enter_backoff(struct ss_runtime *rt, struct rset *rs, struct replica *r,
                          int64_t now) {
  int64_t delay = rt->backoff_base_ms;
  for (int i = 0; i < r->crashes && delay < rt->backoff_max_ms; i++)
    delay *= 2;
  if (delay > rt->backoff_max_ms)
    delay = rt->backoff_max_ms;
  r->crashes++;
  r->phase = SS_REPLICA_BACKOFF;
  r->restart_at_ms = now + delay;
  event(rt, rs->name, "Warning", "BackOff",
        "Back-off restarting failed container %s in replica %s (%lld ms)", rs->name, r->id,
        (long long)delay);
}

static void job_free(struct spawn_job *j) {
  if (!j)
    return;
  tmpl_unref(j->tmpl);
  ss__env_free(j->envp);
  free(j);
}

/* Runs on the spawner thread: creates the log directory, starts the
 * process, writes its pid record. Touches nothing but the job. */
static void job_run(struct spawn_job *j) {
  j->rc = SS_EIO;
  if (ss__mkdirs(j->dir)) {
    snprintf(j->msg, sizeof j->msg, "cannot create %s", j->dir);
    return;
  }
  j->rc = ss__spawn(&(struct ss__spawn_req){.argv = j->tmpl->t.argv, .envp = j->envp,
                                            .workdir = j->tmpl->t.workdir, .log_path = j->log},
                    &j->pid, j->msg, sizeof j->msg);
  if (j->rc)
    return;
  j->started_ms = ss_mono_ms();
  struct ss__proc_sample s = {0};
  if (ss__proc_stat(j->pid, &s))
    j->cpu_seconds = s.cpu_seconds;
  /* A daemon that cannot write the record still runs the replica; only the
   * orphan sweep after a crash loses it. */
  ss__pidrec_write(j->state_dir, j->id, j->pid, j->pid, s.start_ticks);
}

static void *spawner_main(void *arg) {
  struct ss_runtime *rt = arg;
  pthread_mutex_lock(&rt->spawn_mu);
  for (;;) {
    while (!rt->queue && !rt->spawn_exit)
      pthread_cond_wait(&rt->spawn_cv, &rt->spawn_mu);
    if (!rt->queue) /* spawn_exit */
      break;
    struct spawn_job *j = rt->queue;
    rt->queue = j->next;
    if (!rt->queue)
      rt->queue_tail = NULL;
    rt->spawn_busy = true;
    pthread_mutex_unlock(&rt->spawn_mu);
    job_run(j);
    pthread_mutex_lock(&rt->spawn_mu);
    rt->spawn_busy = false;
    j->next = rt->done;
    rt->done = j;
    pthread_cond_broadcast(&rt->spawn_cv);
  }
  pthread_mutex_unlock(&rt->spawn_mu);
  return NULL;
}

/* Starts r's process (first start or restart): queues it for the spawner;
 * the tick that takes the result (spawn_finish) goes on. */
static void replica_start(struct ss_runtime *rt, struct rset *rs, struct replica *r,
                          int64_t now) {
  const struct ss_rs_template *t = &r->tmpl->t;

  /* Keep the port across restarts, as a pod keeps its IP, unless someone
   * else took it meanwhile. */
  if (r->port > 0 && !ss__port_free(r->port))
    r->port = 0;
  if (r->port == 0) {
    size_t n;
    int *avoid = ports_in_use(rt, &n);
    r->port = ss__port_pick(rt->port_min, rt->port_max, &rt->port_cursor, avoid, n);
    free(avoid);
  }
  if (r->port == 0) {
    event(rt, rs->name, "Warning", "Failed", "Error: no free loopback port for replica %s",
          r->id);
    enter_backoff(rt, rs, r, now);
    return;
  }

  char port_kv[3][64], replica_kv[SS_REPLICA_ID_LEN + 32];
  snprintf(port_kv[0], sizeof port_kv[0], "PORT=%d", r->port);
  snprintf(port_kv[1], sizeof port_kv[1], "PREDICTIVE_UNIT_SERVICE_PORT=%d", r->port);
  snprintf(port_kv[2], sizeof port_kv[2], "PREDICTIVE_UNIT_HTTP_SERVICE_PORT=%d", r->port);
  snprintf(replica_kv, sizeof replica_kv, "SERVESCALE_REPLICA=%s", r->id);
  char *ours[] = {port_kv[0], port_kv[1], port_kv[2], replica_kv, NULL};
  ss__env_free(r->envp);
  r->envp = ss__env_build(t->env, ours);

  rt->spawned = true;
  bool ok = r->envp != NULL;
  struct spawn_job *j = ok ? calloc(1, sizeof *j) : NULL;
  if (j && !(j->envp = strv_dup(r->envp, &ok)))
    ok = false;
  if (!j || !ok) {
    job_free(j);
    event(rt, rs->name, "Warning", "Failed", "Error: out of memory");
    enter_backoff(rt, rs, r, now);
    return;
  }
  j->r = r;
  j->rs = rs;
  j->tmpl = r->tmpl;
  r->tmpl->refs++;
  j->state_dir = rt->state_dir;
  snprintf(j->id, sizeof j->id, "%s", r->id);
  snprintf(j->dir, sizeof j->dir, "%s/logs/%s", rt->state_dir, rs->name);
  snprintf(j->log, sizeof j->log, "%s/%s.log", j->dir, r->id);
  r->job = j;
  r->pid = 0;
  r->phase = SS_REPLICA_STARTING;
  pthread_mutex_lock(&rt->spawn_mu);
  if (rt->queue_tail)
    rt->queue_tail->next = j;
  else
    rt->queue = j;
  rt->queue_tail = j;
  pthread_cond_broadcast(&rt->spawn_cv);
  pthread_mutex_unlock(&rt->spawn_mu);
}

static void replica_drop(struct ss_runtime *rt, struct rset *rs, size_t i);
static void replica_terminate(struct ss_runtime *rt, struct replica *r, int64_t now);

/* Takes the result of a start (the tick thread, under mu). Failures that
 * will never pass mark the set failed; others back off. */
static void spawn_finish(struct ss_runtime *rt, struct spawn_job *j, int64_t now) {
  struct replica *r = j->r;
  if (!r) { /* the replica went while its process was being started */
    if (j->rc == SS_EOK) {
      ss__kill_group(j->pid, SIGKILL);
      ss__pidrec_remove(rt->state_dir, j->id);
      zombie_add(rt, j->pid);
    }
    job_free(j);
    return;
  }
  struct rset *rs = j->rs;
  const struct ss_rs_template *t = &r->tmpl->t;
  r->job = NULL;
  if (j->rc && r->doomed) { /* it went while starting, and never ran */
    for (size_t i = 0; i < rs->n; i++)
      if (rs->reps[i] == r) {
        replica_drop(rt, rs, i);
        break;
      }
    job_free(j);
    return;
  }
  if (j->rc == SS_EINVALID) {
    r->phase = SS_REPLICA_FAILED;
    if (r->tmpl == rs->tmpl && !rs->failed) {
      rs->failed = true;
      snprintf(rs->message, sizeof rs->message, "%s", j->msg);
      event(rt, rs->name, "Warning", "Failed", "Error: %s", j->msg);
    }
    job_free(j);
    return;
  }
  if (j->rc) {
    event(rt, rs->name, "Warning", "Failed", "Error: %s", j->msg);
    enter_backoff(rt, rs, r, now);
    job_free(j);
    return;
  }

  r->pid = j->pid;
  r->tmpl->proven = true;
  r->started_ms = j->started_ms;
  r->killed = false;
  r->cpu_seconds = j->cpu_seconds;
  r->rss_bytes = 0;
  r->sampled_ms = 0; /* read at the next tick */
  job_free(j);
  for (int k = 0; k < PROBE_COUNT; k++) {
    ss__probe_init(&r->probe[k]);
    r->probe[k].next_ms = r->started_ms + (int64_t)replica_probe(r, k)->initial_delay_s * 1000;
  }
  if (t->readiness.type == SS_PROBE_NONE) {
    r->phase = SS_REPLICA_READY;
    rt->routes_changed = true;
    r->ready_ms = now;
  } else {
    r->phase = SS_REPLICA_STARTING;
  }
  event(rt, rs->name, "Normal", "Started", "Started container %s in replica %s", rs->name,
        r->id);
  if (r->doomed) { /* it went while starting: it stops as it would have */
    event(rt, rs->name, "Normal", "Killing", "Stopping container %s in replica %s", rs->name,
          r->id);
    replica_terminate(rt, r, now);
  }
}

/* Takes the results of the starts the spawner finished, in the order they
 * were queued. */
static void spawns_collect(struct ss_runtime *rt, int64_t now) {
  pthread_mutex_lock(&rt->spawn_mu);
  struct spawn_job *done = rt->done, *ordered = NULL;
  rt->done = NULL;
  pthread_mutex_unlock(&rt->spawn_mu);
  while (done) { /* the list is newest first */
    struct spawn_job *n = done->next;
    done->next = ordered;
    ordered = done;
    done = n;
  }
  while (ordered) {
    struct spawn_job *n = ordered->next;
    spawn_finish(rt, ordered, now);
    ordered = n;
  }
}

static struct replica *replica_new(struct ss_runtime *rt, struct rset *rs) {
  if (!grow((void **)&rs->reps, &rs->cap, rs->n + 1, sizeof *rs->reps))
    return NULL;
  struct replica *r = calloc(1, sizeof *r);
  if (!r)
    return NULL;
  make_id(rt, rs->name, r->id);
  r->tmpl = rs->tmpl;
  r->tmpl->refs++;
  r->seq = ++rt->seq;
  r->last_exit = -1;
  for (int k = 0; k < PROBE_COUNT; k++)
    ss__probe_init(&r->probe[k]);
  rs->reps[rs->n++] = r;
  return r;
}

static void replica_drop(struct ss_runtime *rt, struct rset *rs, size_t i) {
  replica_free(rt, rs->reps[i]);
  memmove(&rs->reps[i], &rs->reps[i + 1], (rs->n - i - 1) * sizeof *rs->reps);
  rs->n--;
}

/* SIGTERM to the group now, SIGKILL after the grace period. */
static void replica_terminate(struct ss_runtime *rt, struct replica *r, int64_t now) {
  for (int k = 0; k < PROBE_COUNT; k++)
    zombie_add(rt, ss__probe_cancel(&r->probe[k]));
  r->phase = SS_REPLICA_STOPPING;
  int grace = r->tmpl->t.grace_seconds;
  r->kill_at_ms = now + (int64_t)(grace > 0 ? grace : 0) * 1000;
  /* terminationGracePeriodSeconds 0 means kill at once, as in Kubernetes. */
  if (grace <= 0) {
    ss__kill_group(r->pid, SIGKILL);
    r->killed = true;
  } else {
    ss__kill_group(r->pid, SIGTERM);
  }
}

/* Stops r for good: it goes once its process is gone. Returns whether it
 * was dropped at once (no process). */
static bool replica_doom(struct ss_runtime *rt, struct rset *rs, size_t i, int64_t now) {
  struct replica *r = rs->reps[i];
  r->doomed = true;
  if (r->job)
    return false; /* stopped, or dropped, once its start is taken (spawn_finish) */
  if (r->pid <= 0) {
    replica_drop(rt, rs, i);
    return true;
  }
  if (r->phase == SS_REPLICA_STOPPING || r->phase == SS_REPLICA_DRAINING)
    return false;
  if (rt->may_stop && (r->phase == SS_REPLICA_READY || r->phase == SS_REPLICA_UNREADY)) {
    /* It may be serving: first out of the pool, then stopped when idle. */
    for (int k = 0; k < PROBE_COUNT; k++)
      zombie_add(rt, ss__probe_cancel(&r->probe[k]));
    r->phase = SS_REPLICA_DRAINING;
    r->drain_until_ms =
        now + (rt->drain_timeout_ms > 0 ? rt->drain_timeout_ms : DRAIN_TIMEOUT_MS);
    return false;
  }
  event(rt, rs->name, "Normal", "Killing", "Stopping container %s in replica %s", rs->name,
        r->id);
  replica_terminate(rt, r, now);
  return false;
}

/* Leaving replicas whose requests are done (or whose time is up) stop. */
static void finish_draining(struct ss_runtime *rt, struct rset *rs, int64_t now) {
  for (size_t i = 0; i < rs->n; i++) {
    struct replica *r = rs->reps[i];
    if (r->phase != SS_REPLICA_DRAINING || r->pid <= 0)
      continue;
    if (now < r->drain_until_ms && !rt->may_stop(rt->may_stop_ctx, r->id))
      continue;
    event(rt, rs->name, "Normal", "Killing", "Stopping container %s in replica %s", rs->name,
          r->id);
    replica_terminate(rt, r, now);
  }
}

/* The process of r has exited with wait status st. */
static void replica_exited(struct ss_runtime *rt, struct rset *rs, size_t i, int st,
                           int64_t now) {
  struct replica *r = rs->reps[i];
  /* A container's processes end with its main one. */
  ss__kill_group(r->pid, SIGKILL);
  ss__pidrec_remove(rt->state_dir, r->id);
  for (int k = 0; k < PROBE_COUNT; k++)
    zombie_add(rt, ss__probe_cancel(&r->probe[k]));
  r->pid = 0;
  r->last_exit = st;
  r->cpu_seconds = 0;
  r->rss_bytes = 0;
  /* Gone for good, or from an old template that its replacement takes over. */
  if (r->doomed || r->tmpl != rs->tmpl || rs->removing) {
    replica_drop(rt, rs, i);
    return;
  }
  if (now - r->started_ms >= BACKOFF_RESET_MS)
    r->crashes = 0;
  enter_backoff(rt, rs, r, now);
}

/* ---- one tick, step by step ---- */

static void reap(struct ss_runtime *rt, struct rset *rs, int64_t now) {
  for (size_t i = 0; i < rs->n; i++) {
    struct replica *r = rs->reps[i];
    if (r->pid <= 0)
      continue;
    int st = -1;
    pid_t w;
    do
      w = waitpid(r->pid, &st, WNOHANG);
    while (w < 0 && errno == EINTR);
    if (w == 0)
      continue;
    /* ECHILD: someone reaped it for us (SIGCHLD ignored); it is gone all
     * the same. */
    size_t before = rs->n;
    replica_exited(rt, rs, i, w < 0 ? -1 : st, now);
    if (rs->n < before)
      i--;
  }
}

static void enforce_grace(struct ss_runtime *rt, struct rset *rs, int64_t now) {
  (void)rt;
  for (size_t i = 0; i < rs->n; i++) {
    struct replica *r = rs->reps[i];
    if (r->phase == SS_REPLICA_STOPPING && r->pid > 0 && !r->killed && now >= r->kill_at_ms) {
      ss__kill_group(r->pid, SIGKILL);
      r->killed = true;
    }
  }
}

static void probe_result(struct ss_runtime *rt, struct rset *rs, struct replica *r, int k,
                         enum ss__probe_result res, int64_t now) {
  if (res == SS__PROBE_PENDING)
    return;
  struct ss__probe_run *pr = &r->probe[k];
  const struct ss_probe *p = replica_probe(r, k);
  if (res == SS__PROBE_OK) {
    pr->successes++;
    pr->failures = 0;
    if (k == PROBE_READINESS && r->phase != SS_REPLICA_READY &&
        pr->successes >= ss__probe_success_threshold(p)) {
      r->phase = SS_REPLICA_READY;
      rt->routes_changed = true;
      r->ready_ms = now;
    }
    return;
  }
  pr->failures++;
  pr->successes = 0;
  if (pr->failures < ss__probe_failure_threshold(p))
    return;
  if (k == PROBE_READINESS) {
    if (r->phase == SS_REPLICA_READY) {
      r->phase = SS_REPLICA_UNREADY;
      rt->routes_changed = true;
      event(rt, rs->name, "Warning", "Unhealthy", "Readiness probe failed: %s (replica %s)",
            pr->why, r->id);
    }
    return;
  }
  event(rt, rs->name, "Warning", "Unhealthy", "Liveness probe failed: %s (replica %s)",
        pr->why, r->id);
  event(rt, rs->name, "Normal", "Killing",
        "Container %s failed liveness probe, will be restarted (replica %s)", rs->name, r->id);
  replica_terminate(rt, r, now);
}

static bool probing(const struct replica *r) {
  return r->pid > 0 && (r->phase == SS_REPLICA_STARTING || r->phase == SS_REPLICA_READY ||
                        r->phase == SS_REPLICA_UNREADY);
}

/* Starts the probes that are due, then steps those in flight, waiting on
 * their sockets at most PROBE_TICK_BUDGET_MS in all. */
static void run_probes(struct ss_runtime *rt, int64_t now) {
  size_t nprobes = 0;
  for (size_t i = 0; i < rt->nsets; i++) {
    struct rset *rs = rt->sets[i];
    for (size_t j = 0; j < rs->n; j++) {
      struct replica *r = rs->reps[j];
      for (int k = 0; k < PROBE_COUNT && probing(r); k++) {
        const struct ss_probe *p = replica_probe(r, k);
        struct ss__probe_run *pr = &r->probe[k];
        if (p->type == SS_PROBE_NONE)
          continue;
        if (!pr->busy && now >= pr->next_ms &&
            (p->type != SS_PROBE_EXEC || may_spawn(rt))) {
          rt->spawned |= p->type == SS_PROBE_EXEC;
          /* period_ms is for a replica not yet ready: once it is, the
           * probe goes at its ordinary period */
          pr->next_ms = now + (r->phase == SS_REPLICA_STARTING || p->period_s <= 0
                                   ? ss__probe_period_ms(p)
                                   : (int64_t)p->period_s * 1000);
          probe_result(rt, rs, r, k, ss__probe_begin(pr, p, r->port, r->envp, now), now);
        }
        nprobes += pr->busy;
      }
    }
  }
  if (nprobes == 0)
    return;

  struct pollfd *pfds = calloc(nprobes, sizeof *pfds);
  int64_t deadline = ss_mono_ms() + PROBE_TICK_BUDGET_MS;
  for (;;) {
    size_t npoll = 0, busy = 0;
    for (size_t i = 0; i < rt->nsets; i++) {
      struct rset *rs = rt->sets[i];
      for (size_t j = 0; j < rs->n; j++) {
        struct replica *r = rs->reps[j];
        for (int k = 0; k < PROBE_COUNT && probing(r); k++) {
          struct ss__probe_run *pr = &r->probe[k];
          if (!pr->busy)
            continue;
          pid_t zombie = 0;
          probe_result(rt, rs, r, k, ss__probe_step(pr, now, &zombie), now);
          zombie_add(rt, zombie);
          if (pr->busy) {
            busy++;
            if (pfds && npoll < nprobes && ss__probe_pollfd(pr, &pfds[npoll]))
              npoll++;
          }
        }
      }
    }
    int64_t left = deadline - ss_mono_ms();
    if (busy == 0 || npoll == 0 || left <= 0)
      break;
    int n;
    do
      n = poll(pfds, npoll, (int)left);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
      break;
  }
  free(pfds);
}

static int phase_rank(const struct replica *r) {
  if (r->pid <= 0)
    return 0; /* not running at all */
  return r->phase == SS_REPLICA_READY ? 2 : 1;
}

/* The replica to stop first among the live ones of generation cur (or of
 * older ones): not ready before ready, then the newest. */
static ssize_t pick_victim(const struct rset *rs, bool current) {
  ssize_t best = -1;
  for (size_t i = 0; i < rs->n; i++) {
    const struct replica *r = rs->reps[i];
    if (r->doomed || (r->tmpl == rs->tmpl) != current)
      continue;
    if (best < 0) {
      best = (ssize_t)i;
      continue;
    }
    const struct replica *b = rs->reps[best];
    int rr = phase_rank(r), rb = phase_rank(b);
    if (rr < rb || (rr == rb && r->seq > b->seq))
      best = (ssize_t)i;
  }
  return best;
}

static void count(const struct rset *rs, int *cur, int *old, int *cur_ready) {
  *cur = *old = *cur_ready = 0;
  for (size_t i = 0; i < rs->n; i++) {
    const struct replica *r = rs->reps[i];
    if (r->doomed)
      continue;
    if (r->tmpl == rs->tmpl) {
      (*cur)++;
      *cur_ready += r->phase == SS_REPLICA_READY;
    } else {
      (*old)++;
    }
  }
}

/* Restarts what backed off long enough, then moves the set toward its
 * desired count and template: a surplus stops, old replicas stop as new
 * ones become ready, new ones start up to one over the count. */
static void reconcile(struct ss_runtime *rt, struct rset *rs, int64_t now) {
  for (size_t i = 0; i < rs->n; i++) {
    struct replica *r = rs->reps[i];
    if (r->phase == SS_REPLICA_BACKOFF && !r->doomed && now >= r->restart_at_ms &&
        may_spawn(rt)) {
      r->restarts++;
      replica_start(rt, rs, r, now);
    }
  }
  int desired = rs->removing ? 0 : rs->desired;
  int cur, old, ready;
  count(rs, &cur, &old, &ready);
  ssize_t victim;
  while (cur > desired && (victim = pick_victim(rs, true)) >= 0) {
    replica_doom(rt, rs, (size_t)victim, now);
    count(rs, &cur, &old, &ready);
  }
  /* Keep desired replicas serving: an old one goes only when a new ready
   * one stands in for it. */
  while (old > 0 && old > desired - ready && (victim = pick_victim(rs, false)) >= 0) {
    replica_doom(rt, rs, (size_t)victim, now);
    count(rs, &cur, &old, &ready);
  }
  int limit = old > 0 ? desired + ROLLING_SURGE : desired;
  /* A template not known to exec starts one replica first: if it cannot,
   * the set fails without a second try, as when starts were one by one. */
  bool trying = false;
  for (size_t i = 0; !rs->tmpl->proven && i < rs->n && !trying; i++)
    trying = rs->reps[i]->job && rs->reps[i]->tmpl == rs->tmpl;
  while (!rs->failed && !trying && cur < desired && cur + old < limit && may_spawn(rt)) {
    struct replica *r = replica_new(rt, rs);
    if (!r)
      break; /* ENOMEM: the next tick tries again */
    replica_start(rt, rs, r, now);
    trying = !rs->tmpl->proven && r->job;
    count(rs, &cur, &old, &ready);
  }
}

static void sample(struct rset *rs, int64_t now) {
  for (size_t i = 0; i < rs->n; i++) {
    struct replica *r = rs->reps[i];
    if (r->pid <= 0 || (r->sampled_ms && now - r->sampled_ms < SAMPLE_PERIOD_MS))
      continue;
    r->sampled_ms = now;
    struct ss__proc_sample s;
    if (ss__proc_stat(r->pid, &s)) { /* one read: its rss is statm's resident */
      r->cpu_seconds = s.cpu_seconds;
      r->rss_bytes = s.rss_bytes;
    }
  }
}

/* ---- the API ---- */

static struct rset *find(const struct ss_runtime *rt, const char *name) {
  return ss_strmap_get(&rt->by_name, name);
}

struct ss_runtime *ss_runtime_new(const struct ss_runtime_config *cfg) {
  struct ss_runtime *rt = NULL;
  char pids[PATH_MAX];
  if (!cfg || !cfg->state_dir ||
      snprintf(pids, sizeof pids, "%s/pids", cfg->state_dir) >= (int)sizeof pids)
    goto fail;
  if (ss__mkdirs(pids))
    goto fail;
  rt = calloc(1, sizeof *rt);
  if (!rt)
    goto fail;
  if (pthread_mutex_init(&rt->mu, NULL) != 0) {
    free(rt);
    rt = NULL;
    goto fail;
  }
  if (pthread_mutex_init(&rt->spawn_mu, NULL) != 0) {
    pthread_mutex_destroy(&rt->mu);
    free(rt);
    rt = NULL;
    goto fail;
  }
  if (pthread_cond_init(&rt->spawn_cv, NULL) != 0) {
    pthread_mutex_destroy(&rt->spawn_mu);
    pthread_mutex_destroy(&rt->mu);
    free(rt);
    rt = NULL;
    goto fail;
  }
  rt->state_dir = strdup(cfg->state_dir);
  if (!rt->state_dir)
    goto fail;
  rt->port_min = cfg->port_min;
  rt->port_max = cfg->port_max;
  rt->backoff_base_ms = cfg->backoff_base_ms > 0 ? cfg->backoff_base_ms : K8S_BACKOFF_BASE_MS;
  rt->backoff_max_ms = cfg->backoff_max_ms > 0 ? cfg->backoff_max_ms : K8S_BACKOFF_MAX_MS;
  if (rt->backoff_max_ms < rt->backoff_base_ms)
    rt->backoff_max_ms = rt->backoff_base_ms;
  rt->may_stop = cfg->may_stop;
  rt->may_stop_ctx = cfg->may_stop_ctx;
  rt->drain_timeout_ms = cfg->drain_timeout_ms;
  rt->on_event = cfg->on_event;
  rt->event_ctx = cfg->event_ctx;
  if (pthread_create(&rt->spawner, NULL, spawner_main, rt) != 0)
    goto fail;
  rt->spawner_started = true;
  return rt;
fail:
  ss_runtime_free(rt);
  return NULL;
}

static void rset_free(struct ss_runtime *rt, struct rset *rs) {
  if (!rs)
    return;
  for (size_t i = 0; i < rs->n; i++)
    replica_free(rt, rs->reps[i]);
  free(rs->reps);
  tmpl_unref(rs->tmpl);
  free(rs);
}

void ss_runtime_free(struct ss_runtime *rt) {
  if (!rt)
    return;
  pthread_mutex_lock(&rt->mu);
  /* No more starts; the one running ends, and what it started is stopped
   * with the rest. The spawner stays until then: it is their parent. */
  pthread_mutex_lock(&rt->spawn_mu);
  rt->spawn_closing = true;
  struct spawn_job *queued = rt->queue;
  rt->queue = rt->queue_tail = NULL;
  while (rt->spawn_busy)
    pthread_cond_wait(&rt->spawn_cv, &rt->spawn_mu);
  pthread_mutex_unlock(&rt->spawn_mu);
  while (queued) {
    struct spawn_job *n = queued->next;
    if (queued->r)
      queued->r->job = NULL;
    job_free(queued);
    queued = n;
  }
  spawns_collect(rt, ss_mono_ms());
  int64_t now = ss_mono_ms();
  /* Everyone gets SIGTERM at once; each gets its own grace, so the wait is
   * the longest grace in all. */
  for (size_t i = 0; i < rt->nsets; i++) {
    struct rset *rs = rt->sets[i];
    for (size_t j = 0; j < rs->n; j++) {
      struct replica *r = rs->reps[j];
      if (r->pid <= 0)
        continue;
      if (r->phase != SS_REPLICA_STOPPING)
        replica_terminate(rt, r, now);
    }
  }
  for (;;) {
    bool alive = false;
    for (size_t i = 0; i < rt->nsets; i++) {
      struct rset *rs = rt->sets[i];
      for (size_t j = 0; j < rs->n; j++) {
        struct replica *r = rs->reps[j];
        if (r->pid <= 0)
          continue;
        int st;
        pid_t w;
        bool late = ss_mono_ms() >= r->kill_at_ms;
        if (late && !r->killed) {
          ss__kill_group(r->pid, SIGKILL);
          r->killed = true;
        }
        do
          w = waitpid(r->pid, &st, r->killed ? 0 : WNOHANG);
        while (w < 0 && errno == EINTR);
        if (w == 0) {
          alive = true;
          continue;
        }
        ss__kill_group(r->pid, SIGKILL); /* what the main process left behind */
        ss__pidrec_remove(rt->state_dir, r->id);
        r->pid = 0;
      }
    }
    if (!alive)
      break;
    struct timespec ts = {0, FREE_POLL_MS * 1000000L};
    nanosleep(&ts, NULL);
  }
  for (size_t i = 0; i < rt->nsets; i++)
    rset_free(rt, rt->sets[i]);
  free(rt->sets);
  ss_strmap_fini(&rt->by_name);
  zombies_reap(rt, true);
  free(rt->zombies);
  free(rt->events);
  pthread_mutex_unlock(&rt->mu);
  if (rt->spawner_started) {
    pthread_mutex_lock(&rt->spawn_mu);
    rt->spawn_exit = true;
    pthread_cond_broadcast(&rt->spawn_cv);
    pthread_mutex_unlock(&rt->spawn_mu);
    pthread_join(rt->spawner, NULL);
  }
  free(rt->state_dir);
  pthread_cond_destroy(&rt->spawn_cv);
  pthread_mutex_destroy(&rt->spawn_mu);
  pthread_mutex_destroy(&rt->mu);
  free(rt);
}

static bool valid_name(const char *rs) {
  size_t n = rs ? strlen(rs) : 0;
  if (n == 0 || n >= SS_RS_NAME_LEN || strcmp(rs, ".") == 0 || strcmp(rs, "..") == 0)
    return false;
  /* It names directories and files under state_dir. */
  return strchr(rs, '/') == NULL;
}

int ss_runtime_set(struct ss_runtime *rt, const char *rs_name, const struct ss_rs_template *t,
                   int replicas) {
  if (!rt || !valid_name(rs_name) || !t || !t->argv || !t->argv[0] || replicas < 0)
    return SS_EINVALID;
  if (replicas > SS_RUNTIME_MAX_REPLICAS)
    return SS_ELIMIT;
  int rc = SS_ENOMEM;
  struct tmpl *nt = NULL;
  pthread_mutex_lock(&rt->mu);
  struct rset *rs = find(rt, rs_name);
  if (!rs) {
    if (!grow((void **)&rt->sets, &rt->capsets, rt->nsets + 1, sizeof *rt->sets))
      goto out;
    rs = calloc(1, sizeof *rs);
    if (!rs)
      goto out;
    snprintf(rs->name, sizeof rs->name, "%s", rs_name);
    if (!(rs->tmpl = tmpl_new(t)) || !ss_strmap_put(&rt->by_name, rs->name, rs)) {
      tmpl_unref(rs->tmpl);
      free(rs);
      goto out;
    }
    rt->sets[rt->nsets++] = rs;
  } else if (!tmpl_eq(&rs->tmpl->t, t)) {
    if (!(nt = tmpl_new(t)))
      goto out;
    tmpl_unref(rs->tmpl);
    rs->tmpl = nt;
    /* Failure belonged to the old template; the new one gets its chance. */
    rs->failed = false;
    rs->message[0] = '\0';
  }
  rs->desired = replicas;
  rs->removing = false;
  rc = SS_EOK;
out:
  pthread_mutex_unlock(&rt->mu);
  return rc;
}

void ss_runtime_remove(struct ss_runtime *rt, const char *rs_name) {
  if (!rt || !rs_name)
    return;
  pthread_mutex_lock(&rt->mu);
  struct rset *rs = find(rt, rs_name);
  if (rs)
    rs->removing = true;
  pthread_mutex_unlock(&rt->mu);
}

bool ss_runtime_delete_replica(struct ss_runtime *rt, const char *rs_name, const char *id) {
  if (!rt || !rs_name || !id)
    return false;
  bool found = false;
  pthread_mutex_lock(&rt->mu);
  struct rset *rs = find(rt, rs_name);
  for (size_t i = 0; rs && i < rs->n && !found; i++) {
    if (strcmp(rs->reps[i]->id, id) != 0 || rs->reps[i]->doomed)
      continue;
    found = true;
    replica_doom(rt, rs, i, ss_mono_ms());
  }
  unlock_and_emit(rt);
  return found;
}

bool ss_runtime_tick(struct ss_runtime *rt, int64_t now_ms) {
  if (!rt)
    return false;
  pthread_mutex_lock(&rt->mu);
  rt->spawned = false;
  rt->spawn_until = ss_mono_ms() + SPAWN_TICK_BUDGET_MS;
  spawns_collect(rt, now_ms);
  for (size_t i = 0; i < rt->nsets; i++) {
    reap(rt, rt->sets[i], now_ms);
    enforce_grace(rt, rt->sets[i], now_ms);
    finish_draining(rt, rt->sets[i], now_ms);
  }
  run_probes(rt, now_ms);
  for (size_t i = 0; i < rt->nsets; i++) {
    reconcile(rt, rt->sets[i], now_ms);
    sample(rt->sets[i], now_ms);
  }
  for (size_t i = 0; i < rt->nsets; i++) {
    struct rset *rs = rt->sets[i];
    if (!rs->removing || rs->n > 0)
      continue;
    ss_strmap_del(&rt->by_name, rs->name);
    rset_free(rt, rs);
    memmove(&rt->sets[i], &rt->sets[i + 1], (rt->nsets - i - 1) * sizeof *rt->sets);
    rt->nsets--;
    i--;
  }
  zombies_reap(rt, false);
  bool changed = rt->routes_changed;
  rt->routes_changed = false;
  unlock_and_emit(rt);
  return changed;
}

bool ss_runtime_settling(struct ss_runtime *rt) {
  if (!rt)
    return false;
  bool busy = false;
  pthread_mutex_lock(&rt->mu);
  for (size_t i = 0; i < rt->nsets && !busy; i++)
    for (size_t j = 0; j < rt->sets[i]->n && !busy; j++) {
      const struct replica *r = rt->sets[i]->reps[j];
      busy = r->job || (r->pid > 0 && (r->phase == SS_REPLICA_STARTING ||
                                       r->phase == SS_REPLICA_DRAINING));
    }
  pthread_mutex_unlock(&rt->mu);
  return busy;
}

bool ss_runtime_status(struct ss_runtime *rt, const char *rs_name, struct ss_rs_status *out) {
  if (!rt || !rs_name)
    return false;
  pthread_mutex_lock(&rt->mu);
  struct rset *rs = find(rt, rs_name);
  if (rs && out) {
    memset(out, 0, sizeof *out);
    out->replicas = rs->removing ? 0 : rs->desired;
    for (size_t i = 0; i < rs->n; i++) {
      const struct replica *r = rs->reps[i];
      if (r->doomed)
        continue;
      bool live = r->pid > 0;
      out->running += live;
      out->ready += r->phase == SS_REPLICA_READY;
      out->updated += live && r->tmpl == rs->tmpl;
    }
    out->failed = rs->failed;
    snprintf(out->message, sizeof out->message, "%s", rs->message);
  }
  pthread_mutex_unlock(&rt->mu);
  return rs != NULL;
}

size_t ss_runtime_replicas(struct ss_runtime *rt, const char *rs_name,
                           struct ss_replica_info *out, size_t max) {
  if (!rt || !rs_name)
    return 0;
  size_t n = 0;
  pthread_mutex_lock(&rt->mu);
  struct rset *rs = find(rt, rs_name);
  if (rs) {
    n = rs->n;
    for (size_t i = 0; i < rs->n && i < max && out; i++) {
      const struct replica *r = rs->reps[i];
      struct ss_replica_info *o = &out[i];
      memset(o, 0, sizeof *o);
      snprintf(o->id, sizeof o->id, "%s", r->id);
      o->phase = r->phase;
      o->pid = r->pid;
      o->port = r->port;
      o->restarts = r->restarts;
      o->started_ms = r->started_ms;
      o->ready_ms = r->ready_ms;
      o->cpu_seconds = r->cpu_seconds;
      o->rss_bytes = r->rss_bytes;
      o->last_exit = r->last_exit;
    }
  }
  pthread_mutex_unlock(&rt->mu);
  return n;
}

void ss_runtime_each(struct ss_runtime *rt, void (*fn)(void *ctx, const char *rs), void *ctx) {
  if (!rt || !fn)
    return;
  /* Names copied out first: fn may call back into the runtime. */
  pthread_mutex_lock(&rt->mu);
  size_t n = rt->nsets;
  char(*names)[SS_RS_NAME_LEN] = n ? malloc(n * sizeof *names) : NULL;
  for (size_t i = 0; names && i < n; i++)
    memcpy(names[i], rt->sets[i]->name, SS_RS_NAME_LEN);
  pthread_mutex_unlock(&rt->mu);
  for (size_t i = 0; names && i < n; i++)
    fn(ctx, names[i]);
  free(names);
}

bool ss_runtime_log_path(struct ss_runtime *rt, const char *replica_id, char *buf,
                         size_t size) {
  if (!rt || !replica_id || !buf || size == 0)
    return false;
  bool found = false;
  pthread_mutex_lock(&rt->mu);
  for (size_t i = 0; i < rt->nsets && !found; i++) {
    struct rset *rs = rt->sets[i];
    for (size_t j = 0; j < rs->n && !found; j++) {
      if (strcmp(rs->reps[j]->id, replica_id) != 0)
        continue;
      int len = snprintf(buf, size, "%s/logs/%s/%s.log", rt->state_dir, rs->name, replica_id);
      found = len >= 0 && (size_t)len < size;
    }
  }
  pthread_mutex_unlock(&rt->mu);
  return found;
}
