/* serve.c: the HTTP plumbing of the built-in model servers (serve.h): what
 * mock-classifier and model-server both need around libmicrohttpd, in one
 * place. Routes, bodies' meaning and answers are each server's own. */
#include "models/serve.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define BODY_INITIAL 4096 /* first body buffer when no Content-Length */
#define POLL_MS 10        /* the drain waits poll in-flight this often */

void ss__msrv_log(const char *component, const char *fmt, ...) {
  char line[1024], ts[32];
  struct timespec now;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &now);
  gmtime_r(&now.tv_sec, &tm);
  strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
  int n = snprintf(line, sizeof line, "ts=%s component=%s ", ts, component);
  va_list ap;
  va_start(ap, fmt);
  if (n > 0 && (size_t)n < sizeof line)
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
  va_end(ap);
  /* The whole line in one call, so that lines from two processes sharing a
   * log file do not interleave. */
  fprintf(stderr, "%s\n", line);
}

int64_t ss__msrv_clock_ns(clockid_t clock) {
  struct timespec t;
  clock_gettime(clock, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

bool ss__msrv_buf_append(char **buf, size_t *len, size_t *cap, const char *data, size_t n,
                         size_t max) {
  if (n > max - *len)
    return false;
  if (*len + n > *cap) {
    size_t c = *cap ? *cap : BODY_INITIAL;
    while (c < *len + n)
      c = c > max / 2 ? max : c * 2;
    char *p = realloc(*buf, c);
    if (!p)
      return false;
    *buf = p;
    *cap = c;
  }
  memcpy(*buf + *len, data, n);
  *len += n;
  return true;
}

bool ss__msrv_body_take(struct ss__msrv_body *b, bool keep, const char *data, size_t n,
                        size_t max, size_t discard_max) {
  keep = keep && !b->too_large;
  if (keep && !ss__msrv_buf_append(&b->buf, &b->len, &b->cap, data, n, max)) {
    if (b->len + n <= max)
      return false; /* out of memory */
    b->too_large = true;
    b->dropped = b->len;
    free(b->buf);
    b->buf = NULL;
    b->len = b->cap = 0;
    keep = false;
  }
  if (!keep)
    b->dropped += n;
  return b->dropped <= discard_max;
}

enum MHD_Result ss__msrv_reply(struct MHD_Connection *c, unsigned code, const char *type,
                               void *body, size_t len, enum MHD_ResponseMemoryMode mode,
                               bool close, const char *allow) {
  struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
  if (!r) {
    if (mode == MHD_RESPMEM_MUST_FREE)
      free(body);
    return MHD_NO;
  }
  enum MHD_Result ret = MHD_NO;
  if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type) != MHD_YES)
    goto out;
  /* While draining, each keep-alive client is told to go elsewhere after
   * this answer, so that draining ends. */
  if (close && MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close") != MHD_YES)
    goto out;
  if (allow && MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow) != MHD_YES)
    goto out;
  ret = MHD_queue_response(c, code, r);
out:
  MHD_destroy_response(r);
  return ret;
}

enum MHD_Result ss__msrv_reply_json(struct MHD_Connection *c, unsigned code, const json_t *v,
                                    bool close) {
  char *text = json_dumps(v, JSON_COMPACT);
  if (!text)
    return MHD_NO;
  return ss__msrv_reply(c, code, "application/json", text, strlen(text), MHD_RESPMEM_MUST_FREE,
                        close, NULL);
}

enum MHD_Result ss__msrv_reply_seldon_status(struct MHD_Connection *c, unsigned code,
                                             const char *reason, const char *info, bool close) {
  /* info may quote the client's bytes (a JSON parse error does); keep it
   * printable ASCII so that it is always a valid JSON string. */
  char clean[SS__MSRV_INFO_MAX];
  size_t i = 0;
  for (; info[i] && i < sizeof clean - 1; i++) {
    unsigned char ch = (unsigned char)info[i];
    clean[i] = ch < 0x20 || ch > 0x7e ? '?' : (char)ch;
  }
  clean[i] = '\0';
  json_t *v = json_pack("{s:{s:i,s:s,s:s,s:s}}", "status", "code", (int)code, "info", clean,
                        "reason", reason, "status", "FAILURE");
  if (!v)
    return MHD_NO;
  enum MHD_Result ret = ss__msrv_reply_json(c, code, v, close);
  json_decref(v);
  return ret;
}

bool ss__msrv_refuse_early(struct MHD_Connection *c, size_t body_max, size_t discard_max) {
  const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
  if (!cl)
    return false;
  char *end;
  errno = 0;
  unsigned long long n = strtoull(cl, &end, 10);
  if (*end || errno || n <= body_max)
    return n > body_max; /* unparsable is MHD's to refuse; overflow is too large */
  const char *expect = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
  return n > discard_max || (expect && strcasecmp(expect, "100-continue") == 0);
}

int ss__msrv_parse_port(const char *prog, const char *text, const char *from) {
  char *end;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (!*text || *end || errno || v < 0 || v > 65535) {
    fprintf(stderr, "%s: %s: \"%.32s\" is not a port (0-65535)\n", prog, from, text);
    return -1;
  }
  return (int)v;
}

bool ss__msrv_resolve(const char *prog, const char *host, int port,
                      struct sockaddr_storage *addr, socklen_t *len) {
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                           .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
  struct addrinfo *res = NULL;
  char service[16];
  snprintf(service, sizeof service, "%d", port);
  int e = getaddrinfo(host, service, &hints, &res);
  if (e) {
    fprintf(stderr, "%s: --host %s: %s\n", prog, host, gai_strerror(e));
    return false;
  }
  memcpy(addr, res->ai_addr, res->ai_addrlen);
  *len = res->ai_addrlen;
  freeaddrinfo(res);
  return true;
}

/* ---- signals: the handler records and wakes the main thread ---- */

static volatile sig_atomic_t got_signal;
static int signal_wake_fd = -1;

static void on_signal(int sig) {
  int saved = errno;
  got_signal = sig;
  if (signal_wake_fd >= 0) {
    ssize_t n = write(signal_wake_fd, "S", 1);
    (void)n; /* a full pipe already holds a wake-up */
  }
  errno = saved;
}

bool ss__msrv_signals(const char *prog, int *rd, int *wr) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    fprintf(stderr, "%s: pipe: %s\n", prog, strerror(errno));
    return false;
  }
  /* A full pipe must never block a signal handler or a request thread. */
  fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK);
  *rd = fds[0];
  *wr = fds[1];
  got_signal = 0;
  signal_wake_fd = fds[1];
  struct sigaction sa = {.sa_handler = on_signal};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  return true;
}

int ss__msrv_signal(void) { return got_signal; }

void ss__msrv_signals_done(void) { signal_wake_fd = -1; }

struct MHD_Daemon *ss__msrv_start(const char *prog, const char *host, int port,
                                  const struct sockaddr_storage *addr,
                                  MHD_AccessHandlerCallback on_request,
                                  MHD_RequestCompletedCallback on_completed, void *cls,
                                  unsigned conn_max, unsigned idle_timeout_s) {
  /* MHD's threads start with SIGTERM and SIGINT blocked, so that the
   * handler runs on the main thread, interrupting nothing that holds a
   * lock. */
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGINT);
  pthread_sigmask(SIG_BLOCK, &block, &old);
  unsigned flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD |
                   MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ITC;
  if (addr->ss_family == AF_INET6)
    flags |= MHD_USE_IPv6;
  errno = 0;
  struct MHD_Daemon *d =
      MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, cls, MHD_OPTION_SOCK_ADDR,
                       (const struct sockaddr *)addr, MHD_OPTION_CONNECTION_LIMIT, conn_max,
                       MHD_OPTION_CONNECTION_TIMEOUT, idle_timeout_s,
                       MHD_OPTION_NOTIFY_COMPLETED, on_completed, cls, MHD_OPTION_END);
  int start_errno = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (!d)
    fprintf(stderr, "%s: cannot listen on %s port %d: %s\n", prog, host, port,
            start_errno ? strerror(start_errno) : "libmicrohttpd refused to start");
  return d;
}

int ss__msrv_bound_port(struct MHD_Daemon *d, int port) {
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
  return info ? (int)info->port : port;
}

bool ss__msrv_wait_idle(atomic_int *in_flight, int ms) {
  int64_t deadline = ss__msrv_clock_ns(CLOCK_MONOTONIC) + (int64_t)ms * 1000000;
  while (atomic_load(in_flight) > 0 && ss__msrv_clock_ns(CLOCK_MONOTONIC) < deadline) {
    struct timespec ts = {.tv_sec = 0, .tv_nsec = POLL_MS * 1000000};
    nanosleep(&ts, NULL);
  }
  return atomic_load(in_flight) == 0;
}

bool ss__msrv_quiesce_wait(struct MHD_Daemon *d, atomic_int *in_flight, int ms) {
  MHD_socket ls = MHD_quiesce_daemon(d);
  if (ls != MHD_INVALID_SOCKET)
    close(ls); /* ours to close after quiescing; new clients are refused from here */
  return ss__msrv_wait_idle(in_flight, ms);
}

/* ---- the workers' gate ---- */

#define GATE_SLICE_NS 20000000L /* a waiter looks at abandon this often */

void ss__msrv_gate_init(struct ss__msrv_gate *g) {
  pthread_condattr_t a;
  pthread_condattr_init(&a);
  pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
  pthread_cond_init(&g->cv, &a);
  pthread_condattr_destroy(&a);
  pthread_mutex_init(&g->mu, NULL);
  g->next = g->admitted = 0;
  g->workers = 0;
}

void ss__msrv_gate_limit(struct ss__msrv_gate *g, long workers) {
  pthread_mutex_lock(&g->mu);
  g->workers = workers > 0 ? workers : 0;
  g->admitted = g->next + (unsigned long)g->workers;
  pthread_mutex_unlock(&g->mu);
}

void ss__msrv_gate_destroy(struct ss__msrv_gate *g) {
  pthread_cond_destroy(&g->cv);
  pthread_mutex_destroy(&g->mu);
}

/* workers is set before the gate is shared (before the server starts, or
 * before the model is in its table) and never after: without a limit a
 * prediction takes no lock. */
void ss__msrv_gate_enter(struct ss__msrv_gate *g, const atomic_bool *abandon) {
  if (g->workers == 0)
    return;
  pthread_mutex_lock(&g->mu);
  unsigned long ticket = g->next++;
  while ((long)(ticket - g->admitted) >= 0 && !atomic_load(abandon)) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += GATE_SLICE_NS;
    if (ts.tv_nsec >= 1000000000L) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&g->cv, &g->mu, &ts);
  }
  pthread_mutex_unlock(&g->mu);
}

void ss__msrv_gate_leave(struct ss__msrv_gate *g) {
  if (g->workers == 0)
    return;
  pthread_mutex_lock(&g->mu);
  g->admitted++;
  pthread_cond_broadcast(&g->cv);
  pthread_mutex_unlock(&g->mu);
}
