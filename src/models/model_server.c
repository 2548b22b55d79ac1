/* model_server.c: `servescale model-server`, the multi-model server behind
 * a Seldon Core 2 Server replica (MLServer's part): models loaded and
 * unloaded over the V2 repository API, inference over the Open Inference
 * protocol, a sklearn runtime in a Python co-process (sklearn_runtime.py,
 * embedded) and the mock classifier's answer in process. With --seldon it
 * serves one sklearn model over Seldon's v1 protocol, as Seldon's
 * SKLEARN_SERVER does. The V2 JSON is v2.c's, the HTTP plumbing serve.c's;
 * which models go where is the controller's. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "models/models.h"
#include "models/serve.h"
#include "models/v2.h"

extern char **environ;

#define PROG "servescale model-server" /* in messages */
#define COMPONENT "model-server"       /* in log lines */
#define DEFAULT_PORT 9000              /* MLServer's HTTP port is 8080; Seldon's wrapper's 9000 */
#define DEFAULT_CAPABILITIES "sklearn,mock"
#define DEFAULT_MEMORY 1073741824LL    /* 1 GiB, as the brief of Core 2 Servers here */
#define BODY_MAX ((size_t)16 << 20)    /* request body limit: V2 tensors are larger than Seldon's */
#define DISCARD_MAX (4 * BODY_MAX)     /* a body over the limit is read and dropped up to this */
#define CONN_MAX 256u                  /* concurrent connections (one thread each) */
#define CONN_IDLE_TIMEOUT_S 60u
#define DRAIN_MS 5000                  /* SIGTERM: in-flight requests get this long */
#define NAME_MAX_LEN 253               /* a model name: a Kubernetes object name */
#define SEGMENTS_MAX 8                 /* path segments of a route */
#define SK_LINE_MAX ((size_t)256 << 20) /* one answer line of the co-process */
#define SK_START_MS 60000              /* python, numpy and sklearn import in this */
#define SK_LOAD_MS 120000              /* a model loads in this */
#define SK_PREDICT_MS 60000            /* a prediction answers in this, or the runtime restarts */
#define SK_PREDICT_ENV "SERVESCALE_SKLEARN_TIMEOUT_MS" /* overrides SK_PREDICT_MS */
#define SK_BACKOFF_MIN_MS 500          /* restarts after a failed restart back off ... */
#define SK_BACKOFF_MAX_MS 10000        /* ... up to this */
#define SK_STOP_MS 3000                /* at exit the co-process gets this to see EOF */
#define SYSTEM_PYTHON "/usr/bin/python3" /* Debian's, with python3-sklearn */

/* The co-process's source, made from sklearn_runtime.py at configure time. */
extern const char ss__msrv_sklearn_py[];

enum runtime { RT_SKLEARN, RT_MOCK };
static const char *const runtime_names[] = {"sklearn", "mock"};

struct model {
  char *name;
  char *key;      /* the co-process's name for this load: name#generation */
  enum runtime rt;
  char *path;     /* sklearn: the model.joblib file */
  char *uri;      /* as given */
  long long memory;
  struct ss_mock_params mock;
  json_t *meta;   /* the /v2/models/{name} answer */
  struct ss__msrv_gate gate; /* mock: its workers parameter */
  bool proba;     /* sklearn: has predict_proba */
  int refs;       /* the table's one, and one per request using it */
  struct model *next;
};

enum sk_state { SK_NONE, SK_UP, SK_RESTARTING, SK_STOPPING };

/* The sklearn co-process: one per server, started by the first sklearn
 * load, restarted by its supervisor thread when it dies. */
struct sklearn {
  pthread_mutex_t io;   /* one request at a time on the pipes */
  atomic_int state;
  pid_t pid;            /* written with io held, or by the supervisor alone */
  int to_fd, from_fd;
  char *buf;            /* what was read and not yet taken */
  size_t len, cap;
  char python[256];     /* which interpreter, for messages */
  bool supervising;
  pthread_t supervisor;
  int predict_ms;       /* SK_PREDICT_MS, or $SERVESCALE_SKLEARN_TIMEOUT_MS */
};

struct server {
  const char *name;     /* --server */
  long replica;
  long long memory;
  char capabilities[256];
  bool seldon;          /* --seldon: Seldon's v1 protocol for one model */
  const char *method;   /* --seldon: predict_proba (Seldon's default) or predict */
  const char *seldon_model; /* --seldon: the model's name in the table */

  pthread_mutex_t lock; /* the table and every refs */
  pthread_mutex_t repo; /* one load or unload at a time */
  struct model *models;
  unsigned long generation;
  struct sklearn sk;

  atomic_int in_flight;
  atomic_bool draining;
  atomic_bool abandon;  /* stopping: cut mock delays short */
};

/* ---- small helpers ---- */

#define log_event(...) ss__msrv_log(COMPONENT, __VA_ARGS__)

/* text fit for a quoted log value: its double quotes and control bytes
 * become single quotes and '?', so that a line stays one key=value line */
static const char *quotable(const char *text, char *buf, size_t size) {
  size_t i = 0;
  for (; text && text[i] && i + 1 < size; i++)
    buf[i] = text[i] == '"' ? '\'' : (unsigned char)text[i] < 0x20 ? '?' : text[i];
  buf[i] = '\0';
  return buf;
}

static long long elapsed_ms(int64_t since_ns) {
  return (long long)((ss__msrv_clock_ns(CLOCK_MONOTONIC) - since_ns) / 1000000);
}

static void uuid4(char out[37]) {
  unsigned char r[16];
  if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
    /* no entropy: a counter and the clock are unique enough for an id */
    static atomic_ulong n;
    uint64_t t = (uint64_t)ss__msrv_clock_ns(CLOCK_REALTIME), k = atomic_fetch_add(&n, 1);
    memcpy(r, &t, 8);
    memcpy(r + 8, &k, 8);
  }
  r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
  r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
  snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
           r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12],
           r[13], r[14], r[15]);
}

static bool has_word(const char *list, const char *word) {
  size_t n = strlen(word);
  for (const char *p = list; p && *p;) {
    const char *e = strchr(p, ',');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (len == n && strncmp(p, word, n) == 0)
      return true;
    p = e ? e + 1 : NULL;
  }
  return false;
}

/* ---- replies ---- */

static enum MHD_Result reply_json(struct server *s, struct MHD_Connection *c, unsigned code,
                                  const json_t *v) {
  return ss__msrv_reply_json(c, code, v, atomic_load(&s->draining));
}

/* {"error": msg}, MLServer's error shape. */
static enum MHD_Result reply_error(struct server *s, struct MHD_Connection *c, unsigned code,
                                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static enum MHD_Result reply_error(struct server *s, struct MHD_Connection *c, unsigned code,
                                   const char *fmt, ...) {
  char msg[SS_ERROR_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  json_t *v = json_pack("{s:s}", "error", msg);
  if (!v)
    return MHD_NO;
  enum MHD_Result ret = reply_json(s, c, code, v);
  json_decref(v);
  return ret;
}

static enum MHD_Result reply_empty(struct server *s, struct MHD_Connection *c) {
  return ss__msrv_reply(c, MHD_HTTP_OK, "application/json", (void *)"{}", 2,
                        MHD_RESPMEM_PERSISTENT, atomic_load(&s->draining), NULL);
}

/* ---- the sklearn co-process ---- */

static void sk_close(struct sklearn *sk) {
  if (sk->to_fd >= 0)
    close(sk->to_fd);
  if (sk->from_fd >= 0)
    close(sk->from_fd);
  sk->to_fd = sk->from_fd = -1;
  sk->len = 0;
}

/* Writes all of text and a newline; false when the co-process is gone. */
static bool sk_write(struct sklearn *sk, const char *text) {
  size_t n = strlen(text);
  for (int part = 0; part < 2; part++) {
    const char *p = part ? "\n" : text;
    size_t left = part ? 1 : n;
    while (left > 0) {
      ssize_t w = write(sk->to_fd, p, left);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        return false;
      p += w;
      left -= (size_t)w;
    }
  }
  return true;
}

/* Reads one answer line within ms; *line is a new JSON value. SS_EIO when
 * the co-process is gone, SS_ELIMIT on time-out or an answer too long,
 * SS_ESYNTAX when it is not JSON. */
static enum ss_err sk_read(struct sklearn *sk, int ms, json_t **line, struct ss_error *err) {
  int64_t deadline = ss__msrv_clock_ns(CLOCK_MONOTONIC) + (int64_t)ms * 1000000;
  *line = NULL;
  for (;;) {
    char *nl = sk->len ? memchr(sk->buf, '\n', sk->len) : NULL;
    if (nl) {
      size_t n = (size_t)(nl - sk->buf);
      json_error_t jerr;
      *line = json_loadb(sk->buf, n, 0, &jerr);
      memmove(sk->buf, nl + 1, sk->len - n - 1);
      sk->len -= n + 1;
      if (!*line)
        return ss_error_set(err, SS_ESYNTAX, 0, 0, "the sklearn runtime answered no JSON: %s",
                            jerr.text);
      return SS_EOK;
    }
    int64_t left = deadline - ss__msrv_clock_ns(CLOCK_MONOTONIC);
    if (left <= 0)
      return ss_error_set(err, SS_ELIMIT, 0, 0, "the sklearn runtime did not answer within %d ms",
                          ms);
    struct pollfd pfd = {.fd = sk->from_fd, .events = POLLIN};
    int pr = poll(&pfd, 1, (int)(left / 1000000) + 1);
    if (pr < 0 && errno == EINTR)
      continue;
    if (pr < 0)
      return ss_error_set(err, SS_EIO, 0, 0, "poll: %s", strerror(errno));
    if (pr == 0)
      continue;
    if (sk->cap - sk->len < 65536) {
      if (sk->cap >= SK_LINE_MAX)
        return ss_error_set(err, SS_ELIMIT, 0, 0, "the sklearn runtime's answer is over %zu bytes",
                            SK_LINE_MAX);
      size_t cap = sk->cap ? sk->cap * 2 : 65536 * 2;
      char *p = realloc(sk->buf, cap);
      if (!p)
        return ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
      sk->buf = p;
      sk->cap = cap;
    }
    ssize_t r = read(sk->from_fd, sk->buf + sk->len, sk->cap - sk->len);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return ss_error_set(err, SS_EIO, 0, 0, "the sklearn runtime exited");
    sk->len += (size_t)r;
  }
}

/* One request and its answer, io held, state unchecked. A time-out kills
 * the co-process (its supervisor restarts it): its late answer would
 * otherwise be taken for the next request's. */
static enum ss_err sk_call_locked(struct sklearn *sk, const json_t *req, int ms, json_t **resp,
                                  struct ss_error *err) {
  *resp = NULL;
  if (sk->to_fd < 0)
    return ss_error_set(err, SS_EIO, 0, 0, "the sklearn runtime is restarting");
  char *text = json_dumps(req, JSON_COMPACT);
  if (!text)
    return ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
  bool ok = sk_write(sk, text);
  free(text);
  if (!ok)
    return ss_error_set(err, SS_EIO, 0, 0, "the sklearn runtime exited");
  enum ss_err rc = sk_read(sk, ms, resp, err);
  if (rc && rc != SS_ENOMEM && sk->pid > 0)
    kill(sk->pid, SIGKILL);
  return rc;
}

/* One request while the runtime is up; SS_EIO (503) while it restarts. */
static enum ss_err sk_call(struct sklearn *sk, const json_t *req, int ms, json_t **resp,
                           struct ss_error *err) {
  pthread_mutex_lock(&sk->io);
  enum ss_err rc;
  if (atomic_load(&sk->state) != SK_UP)
    rc = ss_error_set(err, SS_EIO, 0, 0, "the sklearn runtime is restarting");
  else
    rc = sk_call_locked(sk, req, ms, resp, err);
  pthread_mutex_unlock(&sk->io);
  return rc;
}

/* Starts the co-process and reads its first line, io held. SS_EUNSUPPORTED
 * when python3 or its modules are missing (the reason in err). */
static enum ss_err sk_spawn(struct sklearn *sk, struct ss_error *err) {
  enum ss_err rc = SS_EOK;
  int in[2] = {-1, -1}, out[2] = {-1, -1};
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  json_t *hello = NULL;
  bool fa_ok = false, attr_ok = false;

  const char *python = getenv("SERVESCALE_PYTHON");
  if (!python || !*python)
    python = access(SYSTEM_PYTHON, X_OK) == 0 ? SYSTEM_PYTHON : "python3";
  snprintf(sk->python, sizeof sk->python, "%s", python);
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
    rc = ss_error_set(err, SS_EIO, 0, 0, "pipe: %s", strerror(errno));
    goto out;
  }
  fa_ok = posix_spawn_file_actions_init(&fa) == 0;
  attr_ok = posix_spawnattr_init(&attr) == 0;
  if (!fa_ok || !attr_ok || posix_spawn_file_actions_adddup2(&fa, in[0], 0) ||
      posix_spawn_file_actions_adddup2(&fa, out[1], 1)) {
    rc = ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
    goto out;
  }
  /* Request threads block SIGTERM and SIGINT and the server ignores
   * SIGPIPE; the child starts with neither. */
  sigset_t none, dflt;
  sigemptyset(&none);
  sigemptyset(&dflt);
  sigaddset(&dflt, SIGTERM);
  sigaddset(&dflt, SIGINT);
  sigaddset(&dflt, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &dflt);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  char *argv[] = {(char *)python, "-c", (char *)ss__msrv_sklearn_py, "servescale-sklearn", NULL};
  pid_t pid;
  int e = posix_spawnp(&pid, python, &fa, &attr, argv, environ);
  if (e) {
    rc = ss_error_set(err, SS_EUNSUPPORTED, 0, 0, "cannot run %s: %s", python, strerror(e));
    goto out;
  }
  close(in[0]);
  close(out[1]);
  in[0] = out[1] = -1;
  sk->pid = pid;
  sk->to_fd = in[1];
  sk->from_fd = out[0];
  in[1] = out[0] = -1;
  sk->len = 0;
  rc = sk_read(sk, SK_START_MS, &hello, err);
  if (rc == SS_EIO)
    rc = ss_error_set(err, SS_EUNSUPPORTED, 0, 0, "%s exited before it started (is it python3?)",
                      python);
  if (!rc && !json_is_true(json_object_get(hello, "ok")))
    rc = ss_error_set(err, SS_EUNSUPPORTED, 0, 0, "the sklearn runtime cannot start: %s",
                      json_string_value(json_object_get(hello, "error"))
                          ? json_string_value(json_object_get(hello, "error"))
                          : "no reason given");
  if (rc) {
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
      ;
    sk_close(sk);
    sk->pid = -1;
    goto out;
  }
  log_event("event=runtime_start runtime=sklearn pid=%ld python=%s python_version=%s "
            "sklearn=%s numpy=%s",
            (long)pid, python, json_string_value(json_object_get(hello, "python")),
            json_string_value(json_object_get(hello, "sklearn")),
            json_string_value(json_object_get(hello, "numpy")));
out:
  json_decref(hello);
  if (fa_ok)
    posix_spawn_file_actions_destroy(&fa);
  if (attr_ok)
    posix_spawnattr_destroy(&attr);
  for (int i = 0; i < 2; i++) {
    if (in[i] >= 0)
      close(in[i]);
    if (out[i] >= 0)
      close(out[i]);
  }
  return rc;
}

static json_t *sk_load_request(const struct model *m) {
  return json_pack("{s:s,s:s,s:s}", "op", "load", "key", m->key, "path", m->path);
}

/* Sleeps ms unless stopping starts; false when it did. */
static bool sk_nap(struct sklearn *sk, int ms) {
  for (int t = 0; t < ms; t += 50) {
    if (atomic_load(&sk->state) == SK_STOPPING)
      return false;
    struct timespec ts = {.tv_sec = 0, .tv_nsec = 50 * 1000000};
    nanosleep(&ts, NULL);
  }
  return atomic_load(&sk->state) != SK_STOPPING;
}

/* The supervisor: reaps the co-process; when it dies, starts another and
 * loads every sklearn model into it again, then serves again. Requests
 * meanwhile get 503. */
static void *sk_supervise(void *arg) {
  struct server *s = arg;
  struct sklearn *sk = &s->sk;
  for (;;) {
    int status = 0;
    pid_t pid = sk->pid;
    if (pid <= 0)
      break;
    /* Waited for without reaping, then reaped with io held: whoever kills
     * sk->pid holds io too, so the pid is never one the system has handed
     * to another process meanwhile. */
    siginfo_t si;
    while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR)
      ;
    int st = SK_UP;
    if (atomic_load(&sk->state) != SK_STOPPING)
      atomic_compare_exchange_strong(&sk->state, &st, SK_RESTARTING);
    pthread_mutex_lock(&sk->io);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
      ;
    sk_close(sk);
    sk->pid = -1;
    pthread_mutex_unlock(&sk->io);
    if (atomic_load(&sk->state) == SK_STOPPING)
      break;
    log_event("event=runtime_exit runtime=sklearn pid=%ld %s=%d action=restart", (long)pid,
              WIFSIGNALED(status) ? "signal" : "status",
              WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    int backoff = SK_BACKOFF_MIN_MS;
    for (;;) {
      if (atomic_load(&sk->state) == SK_STOPPING)
        return NULL;
      struct ss_error err = {0};
      int64_t t0 = ss__msrv_clock_ns(CLOCK_MONOTONIC);
      pthread_mutex_lock(&sk->io);
      enum ss_err rc = sk_spawn(sk, &err);
      pthread_mutex_unlock(&sk->io);
      if (!rc && atomic_load(&sk->state) == SK_STOPPING) {
        pthread_mutex_lock(&sk->io); /* stopping began meanwhile: EOF ends it */
        close(sk->to_fd);
        sk->to_fd = -1;
        pthread_mutex_unlock(&sk->io);
        break;
      }
      if (rc) {
        char q[SS_ERROR_MSG_MAX];
        log_event("event=runtime_restart runtime=sklearn ok=false error=\"%s\" retry_ms=%d",
                  quotable(err.msg, q, sizeof q), backoff);
        if (!sk_nap(sk, backoff))
          return NULL;
        backoff = backoff * 2 > SK_BACKOFF_MAX_MS ? SK_BACKOFF_MAX_MS : backoff * 2;
        continue;
      }
      /* every sklearn model loaded again, one at a time, with the table
       * unlocked during each load (requests see 503 until the end) */
      size_t loaded = 0, failed = 0;
      pthread_mutex_lock(&s->lock);
      json_t *reqs = json_array();
      for (struct model *m = s->models; m && reqs; m = m->next)
        if (m->rt == RT_SKLEARN)
          json_array_append_new(reqs, sk_load_request(m));
      pthread_mutex_unlock(&s->lock);
      size_t i;
      json_t *req;
      json_array_foreach(reqs, i, req) {
        json_t *resp = NULL;
        pthread_mutex_lock(&sk->io);
        rc = sk_call_locked(sk, req, SK_LOAD_MS, &resp, &err);
        pthread_mutex_unlock(&sk->io);
        if (!rc && json_is_true(json_object_get(resp, "ok")))
          loaded++;
        else {
          failed++;
          char q[SS_ERROR_MSG_MAX];
          log_event("event=reload runtime=sklearn key=%s ok=false error=\"%s\"",
                    json_string_value(json_object_get(req, "key")),
                    quotable(rc ? err.msg : json_string_value(json_object_get(resp, "error")), q,
                             sizeof q));
        }
        json_decref(resp);
      }
      json_decref(reqs);
      st = SK_RESTARTING;
      atomic_compare_exchange_strong(&sk->state, &st, SK_UP);
      log_event("event=runtime_restart runtime=sklearn ok=true pid=%ld models=%zu failed=%zu "
                "ms=%lld",
                (long)sk->pid, loaded, failed, elapsed_ms(t0));
      break;
    }
  }
  return NULL;
}

/* Starts the co-process on the first sklearn load, repo held. SS_EIO while
 * it restarts; SS_EUNSUPPORTED when it cannot run at all. */
static enum ss_err sk_ensure(struct server *s, struct ss_error *err) {
  struct sklearn *sk = &s->sk;
  int st = atomic_load(&sk->state);
  if (st == SK_UP)
    return SS_EOK;
  if (st != SK_NONE)
    return ss_error_set(err, SS_EIO, 0, 0, "the sklearn runtime is restarting");
  pthread_mutex_lock(&sk->io);
  enum ss_err rc = sk_spawn(sk, err);
  pthread_mutex_unlock(&sk->io);
  if (rc)
    return rc;
  atomic_store(&sk->state, SK_UP);
  if (pthread_create(&sk->supervisor, NULL, sk_supervise, s) != 0) {
    /* without a supervisor a death would go unnoticed: refuse instead */
    atomic_store(&sk->state, SK_NONE);
    pthread_mutex_lock(&sk->io);
    kill(sk->pid, SIGKILL);
    while (waitpid(sk->pid, NULL, 0) < 0 && errno == EINTR)
      ;
    sk_close(sk);
    sk->pid = -1;
    pthread_mutex_unlock(&sk->io);
    return ss_error_set(err, SS_ENOMEM, 0, 0, "cannot start the runtime's supervisor thread");
  }
  sk->supervising = true;
  return SS_EOK;
}

/* At exit: EOF on its stdin ends the co-process; a stuck one is killed. */
static void sk_stop(struct sklearn *sk) {
  atomic_store(&sk->state, SK_STOPPING);
  pthread_mutex_lock(&sk->io);
  if (sk->to_fd >= 0) {
    close(sk->to_fd);
    sk->to_fd = -1;
  }
  pthread_mutex_unlock(&sk->io);
  if (sk->supervising) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += SK_STOP_MS / 1000;
    if (pthread_timedjoin_np(sk->supervisor, NULL, &ts) != 0) {
      /* the co-process (perhaps one the supervisor started meanwhile) did
       * not end at EOF */
      pthread_mutex_lock(&sk->io);
      if (sk->pid > 0)
        kill(sk->pid, SIGKILL);
      pthread_mutex_unlock(&sk->io);
      pthread_join(sk->supervisor, NULL);
    }
    sk->supervising = false;
  }
  sk_close(sk);
  free(sk->buf);
  sk->buf = NULL;
}

/* ---- the table ---- */

static void model_free(struct model *m) {
  if (!m)
    return;
  free(m->name);
  free(m->key);
  free(m->path);
  free(m->uri);
  json_decref(m->meta);
  ss__msrv_gate_destroy(&m->gate);
  free(m);
}

/* The model called name with a reference the caller releases, or NULL. */
static struct model *model_get(struct server *s, const char *name) {
  pthread_mutex_lock(&s->lock);
  struct model *m = s->models;
  while (m && strcmp(m->name, name) != 0)
    m = m->next;
  if (m)
    m->refs++;
  pthread_mutex_unlock(&s->lock);
  return m;
}

/* Drops a reference; the last one unloads the model from its runtime. */
static void model_release(struct server *s, struct model *m) {
  if (!m)
    return;
  pthread_mutex_lock(&s->lock);
  int left = --m->refs;
  pthread_mutex_unlock(&s->lock);
  if (left > 0)
    return;
  if (m->rt == RT_SKLEARN) {
    json_t *req = json_pack("{s:s,s:s}", "op", "unload", "key", m->key), *resp = NULL;
    struct ss_error err = {0};
    if (req)
      sk_call(&s->sk, req, SK_LOAD_MS, &resp, &err); /* a runtime restarting has it no more */
    json_decref(req);
    json_decref(resp);
  }
  model_free(m);
}

/* Puts m in the table in place of a model of that name (returned, still
 * holding the table's reference for the caller to release), or NULL. */
static struct model *model_swap(struct server *s, struct model *m) {
  pthread_mutex_lock(&s->lock);
  struct model **pp = &s->models, *old = NULL;
  while (*pp && strcmp((*pp)->name, m->name) != 0)
    pp = &(*pp)->next;
  if (*pp) {
    old = *pp;
    m->next = old->next;
    *pp = m;
  } else {
    *pp = m;
  }
  pthread_mutex_unlock(&s->lock);
  return old;
}

static struct model *model_remove(struct server *s, const char *name) {
  pthread_mutex_lock(&s->lock);
  struct model **pp = &s->models, *m = NULL;
  while (*pp && strcmp((*pp)->name, name) != 0)
    pp = &(*pp)->next;
  if (*pp) {
    m = *pp;
    *pp = m->next;
    m->next = NULL;
  }
  pthread_mutex_unlock(&s->lock);
  return m;
}

/* ---- loading ---- */

/* The local path of a storageUri: a path, or a file:// URL. */
static enum ss_err uri_path(const char *uri, char **path, struct ss_error *err) {
  const char *colon = strstr(uri, "://");
  if (colon && strncmp(uri, "file://", 7) != 0)
    return ss_error_set(err, SS_EUNSUPPORTED, 0, 0,
                        "storageUri: unsupported scheme \"%.*s\" (servescale loads local paths "
                        "and file:// URLs)",
                        (int)(colon - uri > 32 ? 32 : colon - uri), uri);
  const char *p = colon ? uri + 7 : uri;
  if (colon && strncmp(p, "localhost/", 10) == 0)
    p += 9; /* file://localhost/x is /x */
  if (!*p)
    return ss_error_set(err, SS_EINVALID, 0, 0, "storageUri: names no path");
  if (!(*path = strdup(p)))
    return ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
  return SS_EOK;
}

/* The model file under path: path/model.joblib for a folder, path itself
 * for a file. SS_ENOTFOUND naming what is missing. */
static enum ss_err model_file(const char *path, char **file, struct ss_error *err) {
  struct stat st;
  if (stat(path, &st) != 0)
    return ss_error_set(err, SS_ENOTFOUND, 0, 0, "storageUri: %s: %s", path, strerror(errno));
  if (S_ISDIR(st.st_mode)) {
    size_t n = strlen(path);
    if (asprintf(file, "%s%smodel.joblib", path, n && path[n - 1] == '/' ? "" : "/") < 0) {
      *file = NULL;
      return ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
    }
    if (stat(*file, &st) != 0) {
      enum ss_err rc = ss_error_set(err, SS_ENOTFOUND, 0, 0, "storageUri: %s: %s", *file,
                                    strerror(errno));
      free(*file);
      *file = NULL;
      return rc;
    }
    return SS_EOK;
  }
  if (!(*file = strdup(path)))
    return ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
  return SS_EOK;
}

static json_t *mock_meta(const char *name) {
  return json_pack("{s:s,s:[],s:s,s:[{s:s,s:s,s:[i,i]}],s:[{s:s,s:s,s:[i,i]}]}", "name", name,
                   "versions", "platform", "mock", "inputs", "name", "input", "datatype", "FP64",
                   "shape", -1, -1, "outputs", "name", "proba", "datatype", "FP64", "shape", -1,
                   1);
}

static json_t *sklearn_meta(const char *name, const json_t *info) {
  json_int_t features = json_is_integer(json_object_get(info, "features"))
                            ? json_integer_value(json_object_get(info, "features"))
                            : -1;
  const char *dt = json_string_value(json_object_get(info, "datatype"));
  json_t *outs = json_pack("[{s:s,s:s,s:[i,i]}]", "name", "predict", "datatype", dt ? dt : "FP64",
                           "shape", -1, 1);
  if (outs && json_is_true(json_object_get(info, "proba"))) {
    json_int_t classes = json_is_integer(json_object_get(info, "classes"))
                             ? json_integer_value(json_object_get(info, "classes"))
                             : -1;
    json_array_append_new(outs, json_pack("{s:s,s:s,s:[i,I]}", "name", "predict_proba",
                                          "datatype", "FP64", "shape", -1, classes));
  }
  if (!outs)
    return NULL;
  return json_pack("{s:s,s:[],s:s,s:[{s:s,s:s,s:[i,I]}],s:o}", "name", name, "versions",
                   "platform", "sklearn", "inputs", "name", "predict", "datatype", "FP64",
                   "shape", -1, features, "outputs", outs);
}

/* Reads the load request into m (name set); HTTP status and err on
 * failure. */
static unsigned load_read(struct server *s, const json_t *body, struct model *m,
                          struct ss_error *err) {
  const json_t *uri = json_object_get(body, "storageUri");
  const json_t *reqs = json_object_get(body, "requirements");
  const json_t *mem = json_object_get(body, "memory");
  const json_t *params = json_object_get(body, "parameters");
  if (uri && !json_is_null(uri) && !json_is_string(uri))
    return ss_error_set(err, SS_EINVALID, 0, 0, "storageUri: must be a string"), 400;
  if (reqs && !json_is_null(reqs) && !json_is_array(reqs))
    return ss_error_set(err, SS_EINVALID, 0, 0, "requirements: must be an array of strings"),
           400;
  if (mem && !json_is_null(mem) && (!json_is_integer(mem) || json_integer_value(mem) < 0))
    return ss_error_set(err, SS_EINVALID, 0, 0,
                        "memory: must be a non-negative integer (bytes)"), 400;
  if (params && !json_is_null(params) && !json_is_array(params))
    return ss_error_set(err, SS_EINVALID, 0, 0,
                        "parameters: must be an array of {name, value}"), 400;
  m->memory = json_is_integer(mem) ? (long long)json_integer_value(mem) : 0;
  bool want_sklearn = false, want_mock = false;
  size_t i;
  const json_t *r;
  json_array_foreach(reqs, i, r) {
    if (!json_is_string(r))
      return ss_error_set(err, SS_EINVALID, 0, 0, "requirements[%zu]: must be a string", i), 400;
    want_sklearn = want_sklearn || strcmp(json_string_value(r), "sklearn") == 0;
    want_mock = want_mock || strcmp(json_string_value(r), "mock") == 0;
  }
  const char *u = json_string_value(uri);
  if (u && !(m->uri = strdup(u)))
    return ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory"), 500;

  /* The runtime: the requirements', else the folder's. The mock needs no
   * storageUri and ignores one (Core 2's examples give mock models a gs://
   * URI they never read). */
  if (want_sklearn)
    m->rt = RT_SKLEARN;
  else if (want_mock)
    m->rt = RT_MOCK;
  else if (!u)
    return ss_error_set(err, SS_EINVALID, 0, 0,
                        "requirements: cannot tell the runtime: give requirements [\"sklearn\"] "
                        "or [\"mock\"], or a storageUri folder holding model.joblib"), 400;
  if (want_sklearn || !want_mock) {
    enum ss_err rc;
    char *path = NULL;
    if (!u)
      return ss_error_set(err, SS_EINVALID, 0, 0,
                          "storageUri: required for the sklearn runtime (a folder holding "
                          "model.joblib)"), 400;
    if ((rc = uri_path(u, &path, err)))
      return rc == SS_ENOMEM ? 500 : 400;
    rc = model_file(path, &m->path, err);
    free(path);
    if (rc)
      return rc == SS_ENOTFOUND ? 404 : 500;
    size_t n = strlen(m->path);
    if (!want_sklearn && (n < 7 || strcmp(m->path + n - 7, ".joblib") != 0))
      return ss_error_set(err, SS_EINVALID, 0, 0,
                          "requirements: cannot tell the runtime of %s: give requirements "
                          "[\"sklearn\"] or [\"mock\"]", m->path), 400;
    m->rt = RT_SKLEARN;
  }
  if (!has_word(s->capabilities, runtime_names[m->rt]))
    return ss_error_set(err, SS_EINVALID, 0, 0,
                        "requirements: runtime %s is not among this server's capabilities (%s)",
                        runtime_names[m->rt], s->capabilities), 400;

  ss_mock_params_default(&m->mock);
  json_array_foreach(params, i, r) {
    const json_t *pn = json_object_get(r, "name"), *pv = json_object_get(r, "value");
    char num[64];
    const char *text = json_string_value(pv);
    if (!json_is_string(pn))
      return ss_error_set(err, SS_EINVALID, 0, 0, "parameters[%zu].name: must be a string", i),
             400;
    if (json_is_number(pv)) {
      snprintf(num, sizeof num, "%.17g", json_number_value(pv));
      text = num;
    }
    /* the mock's parameters come from mock_params.c's table; other
     * runtimes take none of their own yet and ignore them */
    if (m->rt == RT_MOCK) {
      struct ss_error perr = {0};
      if (ss_mock_params_set(&m->mock, json_string_value(pn), text ? text : "", &perr))
        return ss_error_set(err, SS_EINVALID, 0, 0, "parameters[%zu]: %s", i, perr.msg), 400;
    }
  }
  ss__msrv_gate_limit(&m->gate, m->mock.workers);
  return 200;
}

/* Loads name as body says; the HTTP status, err on failure. A model of
 * the same name keeps serving until the new one answers. */
static unsigned do_load_model(struct server *s, const char *name, const json_t *body,
                              struct ss_error *err) {
  unsigned code = 500;
  int64_t t0 = ss__msrv_clock_ns(CLOCK_MONOTONIC);
  json_t *req = NULL, *resp = NULL;
  struct model *m = calloc(1, sizeof *m), *old = NULL;
  if (m)
    ss__msrv_gate_init(&m->gate); /* first: model_free destroys it */
  if (!m || !(m->name = strdup(name))) {
    ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
    goto out;
  }
  m->refs = 1;
  pthread_mutex_lock(&s->repo);
  if ((code = load_read(s, body, m, err)) != 200)
    goto unlock;
  code = 500;
  if (asprintf(&m->key, "%s#%lu", name, ++s->generation) < 0) {
    m->key = NULL;
    ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
    goto unlock;
  }
  if (m->rt == RT_MOCK) {
    m->meta = mock_meta(name);
  } else {
    enum ss_err rc = sk_ensure(s, err);
    if (rc) {
      code = rc == SS_EIO ? 503 : rc == SS_EUNSUPPORTED ? 422 : 500;
      goto unlock;
    }
    if (!(req = sk_load_request(m))) {
      ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
      goto unlock;
    }
    if ((rc = sk_call(&s->sk, req, SK_LOAD_MS, &resp, err))) {
      code = rc == SS_EIO ? 503 : 500;
      goto unlock;
    }
    if (!json_is_true(json_object_get(resp, "ok"))) {
      const char *why = json_string_value(json_object_get(resp, "error"));
      ss_error_set(err, SS_EINVALID, 0, 0, "%s: %s", m->path, why ? why : "cannot be loaded");
      code = 422;
      goto unlock;
    }
    m->proba = json_is_true(json_object_get(json_object_get(resp, "info"), "proba"));
    m->meta = sklearn_meta(name, json_object_get(resp, "info"));
  }
  if (!m->meta) {
    ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
    goto unlock;
  }
  old = model_swap(s, m);
  log_event("event=load model=%s runtime=%s uri=\"%s\" memory=%lld reload=%s ms=%lld", name,
            runtime_names[m->rt], m->uri ? m->uri : "", m->memory, old ? "true" : "false",
            elapsed_ms(t0));
  m = NULL;
  code = 200;
unlock:
  pthread_mutex_unlock(&s->repo);
out:
  /* a failed load left nothing in the runtime: it keeps only what loads */
  model_free(m);
  model_release(s, old);
  json_decref(req);
  json_decref(resp);
  return code;
}

/* ---- inference ---- */

/* The rows of t as a JSON array of arrays (borrowing t's values). */
static json_t *rows_json(const struct ss_v2_tensor *t) {
  size_t r, c;
  ss_v2_tensor_rows(t, &r, &c);
  json_t *rows = json_array();
  for (size_t i = 0; rows && i < r; i++) {
    json_t *row = json_array();
    if (!row || json_array_append_new(rows, row) != 0) {
      json_decref(rows);
      return NULL;
    }
    for (size_t j = 0; j < c; j++)
      if (json_array_append(row, json_array_get(t->data, i * c + j)) != 0) {
        json_decref(rows);
        return NULL;
      }
  }
  return rows;
}

/* One output of the sklearn model into *out (a V2 output tensor, new).
 * The HTTP status; err on failure. */
static unsigned sklearn_output(struct server *s, const struct model *m,
                               const struct ss_v2_tensor *in, const char *output, json_t **out,
                               struct ss_error *err) {
  unsigned code = 500;
  json_t *req = NULL, *resp = NULL;
  struct ss_v2_tensor t = {0};
  *out = NULL;
  json_t *rows = rows_json(in);
  if (!rows || !(req = json_pack("{s:s,s:s,s:s,s:o,s:b}", "op", "predict", "key", m->key,
                                 "output", output, "rows", rows, "bytes",
                                 in->dtype == SS_V2_BYTES))) {
    ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
    goto out;
  }
  enum ss_err rc = sk_call(&s->sk, req, s->sk.predict_ms, &resp, err);
  if (rc) {
    code = rc == SS_EIO || rc == SS_ELIMIT ? 503 : 500;
    goto out;
  }
  if (!json_is_true(json_object_get(resp, "ok"))) {
    const char *kind = json_string_value(json_object_get(resp, "kind"));
    const char *why = json_string_value(json_object_get(resp, "error"));
    code = kind && strcmp(kind, "input") == 0 ? 400
           : kind && strcmp(kind, "notfound") == 0 ? 503
                                                   : 500;
    ss_error_set(err, SS_EINVALID, 0, 0, "%s%s", code == 400 ? "inputs[0]: " : "",
                 why ? why : "the model failed");
    goto out;
  }
  /* the runtime's answer is checked as an input would be */
  if (ss_v2_tensor_parse(json_object_get(resp, "output"), "the sklearn runtime's output", &t,
                         err))
    goto out;
  if (!(*out = ss_v2_output_json(output, t.dtype, t.shape, t.ndim, json_incref(t.data)))) {
    ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
    goto out;
  }
  code = 200;
out:
  ss_v2_tensor_free(&t);
  json_decref(req);
  json_decref(resp);
  return code;
}

static void mock_sleep(struct server *s, long ms) {
  int64_t deadline = ss__msrv_clock_ns(CLOCK_MONOTONIC) + (int64_t)ms * 1000000;
  while (!atomic_load(&s->abandon)) {
    int64_t left = deadline - ss__msrv_clock_ns(CLOCK_MONOTONIC);
    if (left <= 0)
      return;
    struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)(left > 20000000 ? 20000000 : left)};
    nanosleep(&ts, NULL);
  }
}

/* The mock classifier's answer (mock_predict.c's, through a Seldon tensor
 * message so that it is the same function) as output proba [N, 1]. */
static unsigned mock_output(struct server *s, struct model *m,
                            const struct ss_v2_tensor *in, json_t **out, struct ss_error *err) {
  unsigned code = 500;
  json_t *msg = NULL, *resp = NULL;
  size_t r, c;
  *out = NULL;
  ss_v2_tensor_rows(in, &r, &c);
  if (!ss_v2_dtype_numeric(in->dtype) && in->dtype != SS_V2_BOOL) {
    ss_error_set(err, SS_EINVALID, 0, 0,
                 "inputs[0].datatype: the mock runtime needs numbers, not %s",
                 ss_v2_dtype_name(in->dtype));
    return 400;
  }
  if (r == 0 || c == 0) {
    ss_error_set(err, SS_EINVALID, 0, 0,
                 "inputs[0].shape: the mock runtime needs at least one row and one column");
    return 400;
  }
  json_t *values = json_array();
  for (size_t i = 0; values && i < in->n; i++)
    if (json_array_append_new(values, json_real(ss_v2_tensor_double(in, i))) != 0) {
      json_decref(values);
      values = NULL;
    }
  if (!values || !(msg = json_pack("{s:{s:{s:[I,I],s:o}}}", "data", "tensor", "shape",
                                   (json_int_t)r, (json_int_t)c, "values", values))) {
    ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
    goto out;
  }
  ss__msrv_gate_enter(&m->gate, &s->abandon);
  mock_sleep(s, m->mock.delay_ms);
  ss__msrv_gate_leave(&m->gate);
  enum ss_err rc = ss_mock_predict(msg, m->mock.threshold, &resp, err);
  if (rc) {
    code = rc == SS_EINVALID ? 400 : 500;
    goto out;
  }
  json_t *p = json_object_get(json_object_get(json_object_get(resp, "data"), "tensor"), "values");
  int64_t shape[2] = {(int64_t)r, 1};
  if (!(*out = ss_v2_output_json("proba", SS_V2_FP64, shape, 2, json_incref(p)))) {
    ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
    goto out;
  }
  code = 200;
out:
  json_decref(msg);
  json_decref(resp);
  return code;
}

/* The outputs a model answers by default and may be asked for. */
static bool output_known(const struct model *m, const char *name) {
  if (m->rt == RT_MOCK)
    return strcmp(name, "proba") == 0;
  return strcmp(name, "predict") == 0 || (m->proba && strcmp(name, "predict_proba") == 0);
}

static enum MHD_Result do_infer(struct server *s, struct MHD_Connection *c, struct model *m,
                                const char *body, size_t len) {
  struct ss_v2_request r = {0};
  struct ss_error err = {0};
  json_t *outputs = NULL, *resp = NULL;
  enum MHD_Result ret;
  unsigned code = 500;

  enum ss_err rc = ss_v2_request_parse(body, len, &r, &err);
  if (rc) {
    ret = reply_error(s, c, rc == SS_ENOMEM ? 500 : 400, "%s", err.msg);
    goto out;
  }
  for (size_t i = 0; i < r.n_outputs; i++)
    if (!output_known(m, r.outputs[i])) {
      ret = reply_error(s, c, 400, "outputs[%zu].name: model %s has no output \"%.64s\" (%s)", i,
                        m->name, r.outputs[i],
                        m->rt == RT_MOCK ? "proba" : m->proba ? "predict, predict_proba"
                                                              : "predict");
      goto out;
    }
  if (!(outputs = json_array())) {
    ret = MHD_NO;
    goto out;
  }
  size_t n_out = r.n_outputs ? r.n_outputs : 1;
  for (size_t i = 0; i < n_out; i++) {
    const char *want = r.n_outputs ? r.outputs[i] : m->rt == RT_MOCK ? "proba" : "predict";
    json_t *o = NULL;
    code = m->rt == RT_MOCK ? mock_output(s, m, &r.inputs[0], &o, &err)
                            : sklearn_output(s, m, &r.inputs[0], want, &o, &err);
    if (code != 200) {
      ret = reply_error(s, c, code, "%s", err.msg);
      goto out;
    }
    json_array_append_new(outputs, o);
  }
  char id[37];
  if (!r.id)
    uuid4(id);
  resp = ss_v2_response_json(m->name, r.id ? r.id : id, outputs);
  outputs = NULL;
  ret = resp ? reply_json(s, c, 200, resp) : MHD_NO;
out:
  ss_v2_request_free(&r);
  json_decref(outputs);
  json_decref(resp);
  return ret;
}

/* ---- Seldon's v1 protocol (--seldon) ---- */

static enum MHD_Result seldon_status(struct server *s, struct MHD_Connection *c, unsigned code,
                                     const char *info) {
  const char *reason = code == 400   ? "MICROSERVICE_BAD_DATA"
                       : code == 503 ? "MICROSERVICE_UNAVAILABLE"
                                     : "MICROSERVICE_INTERNAL_ERROR";
  return ss__msrv_reply_seldon_status(c, code, reason, info, atomic_load(&s->draining));
}

static enum MHD_Result do_seldon_predict(struct server *s, struct MHD_Connection *c,
                                         const char *body, size_t len) {
  struct ss_error err = {0};
  struct ss_v2_tensor in = {0};
  json_t *msg = NULL, *out = NULL, *resp = NULL;
  enum MHD_Result ret;
  bool tensor_form;
  json_error_t jerr;
  struct model *m = model_get(s, s->seldon_model);

  if (!m) {
    ret = seldon_status(s, c, 503, "the model is not loaded");
    goto out;
  }
  msg = len ? json_loadb(body, len, JSON_DECODE_ANY, &jerr) : NULL;
  if (!msg) {
    char info[SS_ERROR_MSG_MAX];
    snprintf(info, sizeof info, len ? "invalid JSON in the body at line %d column %d: %s"
                                    : "no message: send a Seldon message as a JSON body",
             jerr.line, jerr.column, jerr.text);
    ret = seldon_status(s, c, 400, info);
    goto out;
  }
  if (ss_v2_from_seldon(msg, &in, &tensor_form, &err)) {
    ret = seldon_status(s, c, err.code == SS_ENOMEM ? 500 : 400, err.msg);
    goto out;
  }
  unsigned code = sklearn_output(s, m, &in, s->method, &out, &err);
  if (code != 200) {
    ret = seldon_status(s, c, code, err.msg);
    goto out;
  }
  /* [N] or [N, C] back into Seldon's forms, with its default names t:i */
  json_t *shape = json_object_get(out, "shape"), *data = json_object_get(out, "data");
  size_t rows = (size_t)json_integer_value(json_array_get(shape, 0));
  size_t cols = json_array_size(shape) > 1 ? (size_t)json_integer_value(json_array_get(shape, 1))
                                           : 1;
  json_t *names = json_array(), *dj = NULL;
  for (size_t j = 0; names && j < cols; j++)
    json_array_append_new(names, json_sprintf("t:%zu", j));
  if (tensor_form) {
    dj = json_pack("{s:o,s:{s:[I,I],s:O}}", "names", names, "tensor", "shape", (json_int_t)rows,
                   (json_int_t)cols, "values", data);
  } else {
    json_t *nd = json_array();
    for (size_t i = 0; nd && i < rows; i++) {
      json_t *row = json_array();
      for (size_t j = 0; row && j < cols; j++)
        json_array_append(row, json_array_get(data, i * cols + j));
      json_array_append_new(nd, row);
    }
    dj = json_pack("{s:o,s:o}", "names", names, "ndarray", nd);
  }
  resp = dj ? json_pack("{s:o,s:{}}", "data", dj, "meta") : NULL;
  ret = resp ? reply_json(s, c, 200, resp) : MHD_NO;
out:
  model_release(s, m);
  ss_v2_tensor_free(&in);
  json_decref(msg);
  json_decref(out);
  json_decref(resp);
  return ret;
}

/* ---- routes ---- */

struct request {
  bool answered; /* a response is queued already (early 413) */
  struct ss__msrv_body b;
};

/* Splits url into at most SEGMENTS_MAX segments in buf; the count, or -1
 * when there are more or it is too long. */
static int split(const char *url, char *buf, size_t size, char **seg) {
  if (strlen(url) >= size)
    return -1;
  strcpy(buf, url);
  int n = 0;
  for (char *save = NULL, *p = strtok_r(buf, "/", &save); p; p = strtok_r(NULL, "/", &save)) {
    if (n == SEGMENTS_MAX)
      return -1;
    seg[n++] = p;
  }
  return n;
}

static bool name_ok(const char *name) {
  size_t n = strlen(name);
  if (n == 0 || n > NAME_MAX_LEN)
    return false;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)name[i] < 0x21 || name[i] == '#' || name[i] == '"' || name[i] == '\\')
      return false;
  return true;
}

static enum MHD_Result method_not_allowed(struct server *s, struct MHD_Connection *c,
                                          const char *method, const char *allow) {
  char body[160];
  snprintf(body, sizeof body, "{\"error\":\"method %.20s is not allowed here (%s)\"}", method,
           allow);
  /* the method is printable ASCII: MHD refuses any other */
  return ss__msrv_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "application/json", body, strlen(body),
                        MHD_RESPMEM_MUST_COPY, atomic_load(&s->draining), allow);
}

static enum MHD_Result do_index(struct server *s, struct MHD_Connection *c) {
  json_t *list = json_array();
  bool up = atomic_load(&s->sk.state) == SK_UP;
  pthread_mutex_lock(&s->lock);
  for (struct model *m = s->models; m && list; m = m->next)
    json_array_append_new(list, json_pack("{s:s,s:s}", "name", m->name, "state",
                                          m->rt == RT_SKLEARN && !up ? "UNAVAILABLE" : "READY"));
  pthread_mutex_unlock(&s->lock);
  enum MHD_Result ret = list ? reply_json(s, c, 200, list) : MHD_NO;
  json_decref(list);
  return ret;
}

static enum MHD_Result do_repository(struct server *s, struct MHD_Connection *c,
                                     struct request *rq, const char *name, const char *op) {
  struct ss_error err = {0};
  if (!name_ok(name))
    return reply_error(s, c, 400, "model name: must be 1 to %d printable bytes without '#'",
                       NAME_MAX_LEN);
  if (strcmp(op, "unload") == 0) {
    pthread_mutex_lock(&s->repo);
    struct model *m = model_remove(s, name);
    pthread_mutex_unlock(&s->repo);
    if (!m)
      return reply_error(s, c, 404, "Model %s not found", name);
    log_event("event=unload model=%s runtime=%s", name, runtime_names[m->rt]);
    model_release(s, m);
    return reply_empty(s, c);
  }
  json_t *body = json_object();
  if (rq->b.len) {
    json_error_t jerr;
    json_decref(body);
    body = json_loadb(rq->b.buf, rq->b.len, 0, &jerr);
    if (!body)
      return reply_error(s, c, 400, "invalid JSON at line %d column %d: %s", jerr.line,
                         jerr.column, jerr.text);
    if (!json_is_object(body)) {
      json_decref(body);
      return reply_error(s, c, 400, "the load request must be a JSON object {storageUri, "
                                    "requirements, memory, parameters}");
    }
  }
  if (!body)
    return MHD_NO;
  unsigned code = do_load_model(s, name, body, &err);
  json_decref(body);
  if (code != 200) {
    char q[SS_ERROR_MSG_MAX];
    log_event("event=load model=%s ok=false code=%u error=\"%s\"", name, code,
              quotable(err.msg, q, sizeof q));
    return reply_error(s, c, code, "%s", err.msg);
  }
  return reply_empty(s, c);
}

static enum MHD_Result do_models(struct server *s, struct MHD_Connection *c, struct request *rq,
                                 const char *method, char **seg, int n) {
  /* seg: v2 models NAME [versions V] [ready|infer] */
  const char *name = seg[2], *tail = NULL;
  int k = 3;
  if (n >= 5 && strcmp(seg[3], "versions") == 0)
    k = 5;
  else if (n == 4 && strcmp(seg[3], "versions") == 0)
    return reply_error(s, c, 404, "no such endpoint");
  if (n > k + 1)
    return reply_error(s, c, 404, "no such endpoint");
  if (n == k + 1)
    tail = seg[k];
  if (tail && strcmp(tail, "ready") != 0 && strcmp(tail, "infer") != 0)
    return reply_error(s, c, 404, "no such endpoint");
  bool infer = tail && strcmp(tail, "infer") == 0;
  if (infer ? strcmp(method, "POST") != 0 : strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
    return method_not_allowed(s, c, method, infer ? "POST" : "GET, HEAD");
  struct model *m = model_get(s, name);
  if (!m)
    return reply_error(s, c, 404, "Model %.*s not found", NAME_MAX_LEN, name);
  enum MHD_Result ret;
  if (infer)
    ret = do_infer(s, c, m, rq->b.buf, rq->b.len);
  else if (tail)
    ret = reply_empty(s, c);
  else
    ret = reply_json(s, c, 200, m->meta);
  model_release(s, m);
  return ret;
}

static enum MHD_Result dispatch(struct server *s, struct MHD_Connection *c, struct request *rq,
                                const char *url, const char *method) {
  char buf[1024], *seg[SEGMENTS_MAX];
  bool post = strcmp(method, "POST") == 0;
  bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
  if (rq->b.too_large)
    return reply_error(s, c, MHD_HTTP_CONTENT_TOO_LARGE,
                       "request body is over the limit of %zu bytes", BODY_MAX);
  int n = split(url, buf, sizeof buf, seg);
  if (n < 0)
    return reply_error(s, c, 404, "no such endpoint");
  if (n == 2 && strcmp(seg[0], "health") == 0 && strcmp(seg[1], "ping") == 0)
    return get ? ss__msrv_reply(c, 200, "text/plain", (void *)"pong", 4, MHD_RESPMEM_PERSISTENT,
                                atomic_load(&s->draining), NULL)
               : method_not_allowed(s, c, method, "GET, HEAD");
  if (s->seldon && n == 1 && (strcmp(seg[0], "predict") == 0))
    return post ? do_seldon_predict(s, c, rq->b.buf, rq->b.len)
                : method_not_allowed(s, c, method, "POST");
  if (s->seldon && n == 3 && strcmp(seg[0], "api") == 0 && strcmp(seg[1], "v1.0") == 0 &&
      strcmp(seg[2], "predictions") == 0)
    return post ? do_seldon_predict(s, c, rq->b.buf, rq->b.len)
                : method_not_allowed(s, c, method, "POST");
  /* SKLEARN_SERVER takes feedback and has no use for it: an empty answer */
  if (s->seldon && ((n == 1 && strcmp(seg[0], "send-feedback") == 0) ||
                    (n == 3 && strcmp(seg[0], "api") == 0 && strcmp(seg[1], "v1.0") == 0 &&
                     strcmp(seg[2], "feedback") == 0)))
    return post ? ss__msrv_reply(c, 200, "application/json", (void *)"{\"meta\":{}}", 11,
                                 MHD_RESPMEM_PERSISTENT, atomic_load(&s->draining), NULL)
                : method_not_allowed(s, c, method, "POST");
  if (s->seldon && n == 1 && (strcmp(seg[0], "ready") == 0 || strcmp(seg[0], "live") == 0))
    return ss__msrv_reply(c, 200, "text/plain", (void *)"ok", 2, MHD_RESPMEM_PERSISTENT,
                          atomic_load(&s->draining), NULL);
  if (n == 0 || strcmp(seg[0], "v2") != 0)
    return reply_error(s, c, 404, "no such endpoint: %.200s", url);
  if (n == 1) {
    if (!get)
      return method_not_allowed(s, c, method, "GET, HEAD");
    json_t *v = json_pack("{s:s,s:s,s:[]}", "name", "servescale-model-server", "version",
                          "0.1.0", "extensions");
    enum MHD_Result ret = v ? reply_json(s, c, 200, v) : MHD_NO;
    json_decref(v);
    return ret;
  }
  if (n == 3 && strcmp(seg[1], "health") == 0 &&
      (strcmp(seg[2], "live") == 0 || strcmp(seg[2], "ready") == 0))
    return get ? reply_empty(s, c) : method_not_allowed(s, c, method, "GET, HEAD");
  if (n == 3 && strcmp(seg[1], "repository") == 0 && strcmp(seg[2], "index") == 0)
    return post || get ? do_index(s, c) : method_not_allowed(s, c, method, "POST");
  if (n == 5 && strcmp(seg[1], "repository") == 0 && strcmp(seg[2], "models") == 0 &&
      (strcmp(seg[4], "load") == 0 || strcmp(seg[4], "unload") == 0))
    return post ? do_repository(s, c, rq, seg[3], seg[4])
                : method_not_allowed(s, c, method, "POST");
  if (n >= 3 && strcmp(seg[1], "models") == 0)
    return do_models(s, c, rq, method, seg, n);
  return reply_error(s, c, 404, "no such endpoint: %.200s", url);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls) {
  struct server *s = cls;
  struct request *rq = *con_cls;
  if (!rq) {
    if (!(rq = calloc(1, sizeof *rq)))
      return MHD_NO;
    *con_cls = rq;
    atomic_fetch_add(&s->in_flight, 1);
    if (ss__msrv_refuse_early(c, BODY_MAX, DISCARD_MAX)) {
      rq->b.too_large = rq->answered = true;
      return dispatch(s, c, rq, url, method);
    }
    return MHD_YES;
  }
  if (*upload_size > 0) {
    size_t n = *upload_size;
    *upload_size = 0;
    if (!ss__msrv_body_take(&rq->b, !rq->answered, upload, n, BODY_MAX, DISCARD_MAX))
      return MHD_NO; /* out of memory, or we will not read forever */
    return MHD_YES;
  }
  if (rq->answered)
    return MHD_YES;
  rq->answered = true;
  return dispatch(s, c, rq, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  struct server *s = cls;
  struct request *rq = *con_cls;
  if (!rq)
    return;
  free(rq->b.buf);
  free(rq);
  *con_cls = NULL;
  atomic_fetch_sub(&s->in_flight, 1);
}

/* ---- start and stop ---- */

static void help(FILE *f) {
  fprintf(f,
          "The built-in multi-model server of Seldon Core 2 Servers (MLServer's part): models\n"
          "loaded and unloaded at /v2/repository/models/NAME/load|unload, predictions at\n"
          "/v2/models/NAME/infer (the Open Inference protocol). Runtimes: sklearn (a\n"
          "model.joblib, predicted by a python3 co-process) and mock (Seldon's mock\n"
          "classifier's answer, parameters threshold and delay_ms).\n\n"
          "Usage: servescale model-server [options]\n"
          "       servescale model-server --seldon --model-uri URI [--method M]\n\n"
          "Options:\n"
          "  --port N              port (default: $PORT, then %d)\n"
          "  --host HOST           address to listen on (default %s)\n"
          "  --server NAME         the Server this replica belongs to (in logs)\n"
          "  --replica N           this replica's index (in logs)\n"
          "  --memory BYTES        memory for models (default %lld)\n"
          "  --capabilities LIST   runtimes offered (default %s)\n"
          "  --seldon              serve one sklearn model over Seldon's v1 protocol\n"
          "                        (/api/v1.0/predictions, /predict), as SKLEARN_SERVER\n"
          "  --model-uri URI       --seldon: the model's folder or file:// URL (default:\n"
          "                        model_uri in $PREDICTIVE_UNIT_PARAMETERS)\n"
          "  --method M            --seldon: predict_proba (default) or predict\n"
          "  -h, --help            this text\n\n"
          "The sklearn runtime runs $SERVESCALE_PYTHON, else %s, else python3 from PATH;\n"
          "a prediction it has not answered in $%s ms (default %d) restarts it.\n"
          "SIGTERM lets requests in flight finish (at most %d ms) and exits 0.\n",
          DEFAULT_PORT, SS__MSRV_HOST, DEFAULT_MEMORY, DEFAULT_CAPABILITIES, SYSTEM_PYTHON,
          SK_PREDICT_ENV, SK_PREDICT_MS, DRAIN_MS);
}

/* Seldon's PREDICTIVE_UNIT_PARAMETERS value of name (a new string), or
 * NULL. */
static char *seldon_param(const char *name) {
  const char *env = getenv("PREDICTIVE_UNIT_PARAMETERS");
  json_t *v = env && *env ? json_loads(env, 0, NULL) : NULL;
  char *out = NULL;
  size_t i;
  json_t *p;
  json_array_foreach(v, i, p) {
    const char *n = json_string_value(json_object_get(p, "name"));
    const char *val = json_string_value(json_object_get(p, "value"));
    if (n && val && strcmp(n, name) == 0) {
      free(out);
      out = strdup(val);
    }
  }
  json_decref(v);
  return out;
}

enum { OPT_PORT = 1000, OPT_HOST, OPT_SERVER, OPT_REPLICA, OPT_MEMORY, OPT_CAPS, OPT_SELDON,
       OPT_URI, OPT_METHOD };

int ss_model_server_main(int argc, char **argv) {
  int rc = SS__MSRV_FAIL;
  struct server s = {.name = "", .memory = DEFAULT_MEMORY, .method = "predict_proba"};
  struct MHD_Daemon *d = NULL;
  int wake[2] = {-1, -1};
  const char *host = SS__MSRV_HOST, *port_text = NULL, *caps = DEFAULT_CAPABILITIES;
  char *uri = NULL, *method = NULL;
  bool locks = false;
  static const struct option opts[] = {
      {"port", required_argument, NULL, OPT_PORT},
      {"host", required_argument, NULL, OPT_HOST},
      {"server", required_argument, NULL, OPT_SERVER},
      {"replica", required_argument, NULL, OPT_REPLICA},
      {"memory", required_argument, NULL, OPT_MEMORY},
      {"capabilities", required_argument, NULL, OPT_CAPS},
      {"seldon", no_argument, NULL, OPT_SELDON},
      {"model-uri", required_argument, NULL, OPT_URI},
      {"method", required_argument, NULL, OPT_METHOD},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  s.sk.to_fd = s.sk.from_fd = -1;
  s.sk.pid = -1;
  s.sk.predict_ms = SK_PREDICT_MS;
  const char *tmo = getenv(SK_PREDICT_ENV);
  if (tmo && *tmo) {
    char *e;
    errno = 0;
    long v = strtol(tmo, &e, 10);
    if (*e || errno || v < 1 || v > 3600000) {
      fprintf(stderr, "%s: %s: \"%.32s\" is not a number of milliseconds (1-3600000)\n", PROG,
              SK_PREDICT_ENV, tmo);
      return SS__MSRV_USAGE;
    }
    s.sk.predict_ms = (int)v;
  }

  int ch;
  char *end;
  optind = 1;
  while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (ch) {
    case OPT_PORT: port_text = optarg; break;
    case OPT_HOST: host = optarg; break;
    case OPT_SERVER: s.name = optarg; break;
    case OPT_REPLICA:
      errno = 0;
      s.replica = strtol(optarg, &end, 10);
      if (!*optarg || *end || errno || s.replica < 0) {
        fprintf(stderr, "%s: --replica: \"%.32s\" is not a replica index (0, 1, ...)\n", PROG,
                optarg);
        return SS__MSRV_USAGE;
      }
      break;
    case OPT_MEMORY:
      errno = 0;
      s.memory = strtoll(optarg, &end, 10);
      if (!*optarg || *end || errno || s.memory <= 0) {
        fprintf(stderr, "%s: --memory: \"%.32s\" is not a number of bytes\n", PROG, optarg);
        return SS__MSRV_USAGE;
      }
      break;
    case OPT_CAPS: caps = optarg; break;
    case OPT_SELDON: s.seldon = true; break;
    case OPT_URI:
      free(uri);
      uri = strdup(optarg);
      break;
    case OPT_METHOD:
      free(method);
      method = strdup(optarg);
      break;
    case 'h':
      help(stdout);
      rc = SS__MSRV_OK;
      goto out;
    default:
      help(stderr);
      rc = SS__MSRV_USAGE;
      goto out;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "%s: unexpected argument \"%s\"\n", PROG, argv[optind]);
    rc = SS__MSRV_USAGE;
    goto out;
  }
  if (strlen(caps) >= sizeof s.capabilities) {
    fprintf(stderr, "%s: --capabilities: too long\n", PROG);
    rc = SS__MSRV_USAGE;
    goto out;
  }
  snprintf(s.capabilities, sizeof s.capabilities, "%s", caps);
  if (s.seldon) {
    if (!uri)
      uri = seldon_param("model_uri");
    if (!method)
      method = seldon_param("method");
    if (!uri) {
      fprintf(stderr, "%s: --seldon needs --model-uri (or model_uri in "
                      "PREDICTIVE_UNIT_PARAMETERS)\n", PROG);
      rc = SS__MSRV_USAGE;
      goto out;
    }
    if (method && strcmp(method, "predict") != 0 && strcmp(method, "predict_proba") != 0 &&
        strcmp(method, "decision_function") != 0) {
      fprintf(stderr, "%s: --method: \"%.32s\" is not predict, predict_proba or "
                      "decision_function\n", PROG, method);
      rc = SS__MSRV_USAGE;
      goto out;
    }
    if (method)
      s.method = method;
    s.seldon_model = getenv("PREDICTIVE_UNIT_ID");
    if (!s.seldon_model || !name_ok(s.seldon_model))
      s.seldon_model = "model";
    if (!has_word(s.capabilities, "sklearn"))
      snprintf(s.capabilities, sizeof s.capabilities, "sklearn");
  } else if (uri || method) {
    fprintf(stderr, "%s: --model-uri and --method go with --seldon\n", PROG);
    rc = SS__MSRV_USAGE;
    goto out;
  }

  const char *port_from = "--port";
  if (!port_text && s.seldon && (port_text = getenv("PREDICTIVE_UNIT_HTTP_SERVICE_PORT")))
    port_from = "PREDICTIVE_UNIT_HTTP_SERVICE_PORT";
  if (!port_text && (port_text = getenv("PORT")))
    port_from = "PORT";
  int port = port_text ? ss__msrv_parse_port(PROG, port_text, port_from) : DEFAULT_PORT;
  struct sockaddr_storage addr;
  socklen_t addr_len;
  if (port < 0 || !ss__msrv_resolve(PROG, host, port, &addr, &addr_len)) {
    rc = SS__MSRV_USAGE;
    goto out;
  }

  pthread_mutex_init(&s.lock, NULL);
  pthread_mutex_init(&s.repo, NULL);
  pthread_mutex_init(&s.sk.io, NULL);
  locks = true;
  if (!ss__msrv_signals(PROG, &wake[0], &wake[1]))
    goto out;

  if (s.seldon) {
    /* loaded before listening: a replica answers its probes only when its
     * model does */
    struct ss_error err = {0};
    json_t *body = json_pack("{s:s,s:[s]}", "storageUri", uri, "requirements", "sklearn");
    unsigned code = body ? do_load_model(&s, s.seldon_model, body, &err) : 500;
    json_decref(body);
    if (code != 200) {
      fprintf(stderr, "%s: --model-uri %s: %s\n", PROG, uri, err.msg);
      goto out;
    }
  }

  d = ss__msrv_start(PROG, host, port, &addr, on_request, on_completed, &s, CONN_MAX,
                     CONN_IDLE_TIMEOUT_S);
  if (!d)
    goto out;
  log_event("event=start server=%s replica=%ld host=%s port=%d pid=%ld capabilities=%s "
            "memory=%lld mode=%s",
            s.name, s.replica, host, ss__msrv_bound_port(d, port), (long)getpid(),
            s.capabilities, s.memory, s.seldon ? "seldon" : "v2");

  char what = 0;
  while (ss__msrv_signal() == 0) {
    ssize_t r = read(wake[0], &what, 1);
    if (r < 0 && errno != EINTR) {
      log_event("event=stop reason=error error=\"%s\"", strerror(errno));
      goto out;
    }
  }
  int sig = ss__msrv_signal();
  atomic_store(&s.draining, true);
  bool clean = ss__msrv_quiesce_wait(d, &s.in_flight, DRAIN_MS);
  atomic_store(&s.abandon, true);
  rc = SS__MSRV_OK;
  log_event("event=stop reason=%s drained=%s exit=%d", sig == SIGTERM ? "SIGTERM" : "SIGINT",
            clean ? "true" : "false", rc);

out:
  if (d) {
    atomic_store(&s.abandon, true);
    MHD_stop_daemon(d);
  }
  if (locks) {
    sk_stop(&s.sk);
    while (s.models) {
      struct model *m = s.models;
      s.models = m->next;
      model_free(m);
    }
    pthread_mutex_destroy(&s.lock);
    pthread_mutex_destroy(&s.repo);
    pthread_mutex_destroy(&s.sk.io);
  }
  ss__msrv_signals_done();
  for (int i = 0; i < 2; i++)
    if (wake[i] >= 0)
      close(wake[i]);
  free(uri);
  free(method);
  return rc;
}
