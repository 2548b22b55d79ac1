/* worker.c: the gateway's workers and its public face. Each worker runs one
 * epoll loop over its own listening socket (SO_REUSEPORT), the client
 * connections it accepted (front.c) and its upstream connections
 * (upstream.c); a periodic sweep enforces timeouts and retries queued
 * calls (call.c). Routing snapshots are published here and taken by each
 * worker at its next wake-up. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "gateway/worker.h"

#define MAX_EVENTS 256
#define TICK_MS 100
#define SWEEP_MS 250
#define STOP_GRACE_MS 5000

int64_t ss__gw_mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

uint64_t ss__gw_rnd(struct ss__gw_worker *w) {
  w->rng ^= w->rng >> 12;
  w->rng ^= w->rng << 25;
  w->rng ^= w->rng >> 27;
  return w->rng * 2685821657736338717ull;
}

/* epoll_ctl only when the watched events change: a syscall saved on most
 * requests (a connection goes back to EPOLLIN after each exchange). */
void ss__gw_ep_set(struct ss__gw_worker *w, int fd, void *tag, uint32_t *cur, uint32_t events) {
  if (*cur == events)
    return;
  struct epoll_event ev = {.events = events, .data.ptr = tag};
  if (epoll_ctl(w->ep, *cur ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) == 0)
    *cur = events;
}

static void ep_mod(struct ss__gw_worker *w, int fd, void *tag, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.ptr = tag};
  if (epoll_ctl(w->ep, EPOLL_CTL_MOD, fd, &ev) != 0)
    epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev);
}

static void take_latest(struct ss__gw_worker *w) {
  struct ss_gateway *gw = w->gw;
  pthread_mutex_lock(&gw->mu);
  if (gw->latest && gw->epoch != w->epoch) {
    struct ss_gw_table *old = w->table;
    w->table = gw->latest;
    atomic_fetch_add(&w->table->refs, 1);
    w->epoch = gw->epoch;
    pthread_mutex_unlock(&gw->mu);
    ss__gw_table_unref(old, &gw->reg);
  } else {
    pthread_mutex_unlock(&gw->mu);
  }
}

static void wake_on_event(struct ss__gw_worker *w) {
  uint64_t v;
  while (read(w->evfd, &v, sizeof v) > 0)
    ;
  take_latest(w);
  ss__gw_retry_queue(w);
}

static void handle_event(struct ss__gw_worker *w, enum ss__gw_kind *k, uint32_t events) {
  if (*k == SS__GW_K_LISTEN) {
    ss__gw_accept(w);
  } else if (*k == SS__GW_K_EVENT) {
    wake_on_event(w);
  } else if (*k == SS__GW_K_CONN) {
    struct ss__gw_conn *c = (struct ss__gw_conn *)k;
    if (events & EPOLLOUT && c->out.n)
      ss__gw_conn_write(c);
    else if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
      ss__gw_conn_read(c);
  } else {
    ss__gw_up_event((struct ss__gw_upconn *)k, events);
  }
}

/* Stops listening (once) when the gateway stops; true when the worker may
 * leave: nothing in flight, or the grace period is over. */
static bool stop_step(struct ss__gw_worker *w, int64_t *stop_by) {
  if (atomic_load(&w->gw->stopping) && !w->stopping) {
    w->stopping = true;
    *stop_by = w->now_ms + STOP_GRACE_MS;
    epoll_ctl(w->ep, EPOLL_CTL_DEL, w->lfd, NULL);
    close(w->lfd);
    w->lfd = -1;
  }
  if (!w->stopping)
    return false;
  for (struct ss__gw_conn *c = w->conns; c; c = c->next)
    if (c->req || c->out.n)
      return w->now_ms >= *stop_by;
  return true;
}

static void *worker_main(void *arg) {
  struct ss__gw_worker *w = arg;
  struct epoll_event evs[MAX_EVENTS];
  int64_t next_sweep = 0, stop_by = 0;
  for (;;) {
    int n = epoll_wait(w->ep, evs, MAX_EVENTS, TICK_MS);
    w->now_ms = ss_mono_ms();
    for (int i = 0; i < n; i++)
      handle_event(w, evs[i].data.ptr, evs[i].events);
    if (w->accept_paused_until_ms && w->now_ms >= w->accept_paused_until_ms && w->lfd >= 0) {
      w->accept_paused_until_ms = 0; /* out of descriptors a while ago: try again */
      ep_mod(w, w->lfd, &w->kind_listen, EPOLLIN);
      if (w->spare_fd < 0)
        w->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
    if (w->now_ms >= next_sweep) {
      next_sweep = w->now_ms + SWEEP_MS;
      ss__gw_conn_sweep(w);
      ss__gw_up_sweep(w);
      if (w->queue_head)
        ss__gw_retry_queue(w);
    }
    if (stop_step(w, &stop_by))
      break;
  }
  while (w->conns)
    ss__gw_conn_close(w->conns);
  while (w->queue_head) {
    struct ss__gw_call *q = w->queue_head;
    w->queue_head = q->qnext;
    ss__gw_call_answer(w, q, 503, "shutting down", 13);
  }
  ss__gw_pools_free(w);
  return NULL;
}

static int listen_on(const char *addr, int port) {
  int fd = socket(strchr(addr, ':') ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  int rc;
  if (strchr(addr, ':')) {
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
    inet_pton(AF_INET6, addr, &a.sin6_addr);
    rc = bind(fd, (struct sockaddr *)&a, sizeof a);
  } else {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, addr, &a.sin_addr) != 1) {
      close(fd);
      return -1;
    }
    rc = bind(fd, (struct sockaddr *)&a, sizeof a);
  }
  if (rc != 0 || listen(fd, 1024) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static int bound_port(int fd) {
  struct sockaddr_storage ss;
  socklen_t l = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &l) != 0)
    return 0;
  if (ss.ss_family == AF_INET6)
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
  return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* The connection limit: as configured, else SS_GW_MAX_CONNECTIONS, and
 * never more than half the descriptors the process may open (the other
 * half is for upstream connections, replicas' pipes and the API). */
static int max_connections(const struct ss_gateway_config *cfg) {
  long n = cfg->max_connections > 0 ? cfg->max_connections : SS_GW_MAX_CONNECTIONS;
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
      (long)(rl.rlim_cur / 2) < n)
    n = (long)(rl.rlim_cur / 2);
  return (int)n;
}

int ss_gateway_max_connections(const struct ss_gateway *gw) {
  return gw->max_conns_per_worker * gw->n_workers;
}

enum ss_err ss_gateway_start(const struct ss_gateway_config *cfg, struct ss_gateway **out,
                             struct ss_error *err) {
  struct ss_gateway *gw = calloc(1, sizeof *gw);
  if (!gw)
    return ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
  gw->cfg = *cfg;
  const char *addr = cfg->bind_addr ? cfg->bind_addr : "127.0.0.1";
  gw->queue_timeout_ms = cfg->queue_timeout_ms > 0 ? cfg->queue_timeout_ms : SS_GW_QUEUE_TIMEOUT_MS;
  gw->call_timeout_ms = cfg->call_timeout_ms > 0 ? cfg->call_timeout_ms : SS_GW_CALL_TIMEOUT_MS;
  pthread_mutex_init(&gw->mu, NULL);
  ss__gw_registry_init(&gw->reg);
  gw->oauth = ss__gw_oauth_new();
  gw->n_workers = cfg->workers > 0 ? cfg->workers : (int)sysconf(_SC_NPROCESSORS_ONLN);
  if (gw->n_workers < 1)
    gw->n_workers = 1;
  gw->max_conns_per_worker = max_connections(cfg) / gw->n_workers;
  if (gw->max_conns_per_worker < 1)
    gw->max_conns_per_worker = 1;
  gw->workers = calloc((size_t)gw->n_workers, sizeof *gw->workers);
  if (!gw->workers || !gw->oauth) {
    ss_gateway_stop(gw);
    return ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
  }
  if (cfg->metrics) {
    /* Seldon's executor labels, and the namespace a PodMonitor's scrape
     * adds on a cluster (prometheus-adapter rules select by it) */
    static const char *const server_labels[] = {"deployment_name", "predictor_name",
                                                "predictor_version", "service", "method", "code",
                                                "namespace"};
    static const char *const client_labels[] = {
        "deployment_name", "predictor_name", "predictor_version", "service", "method",
        "code",            "model_name",     "model_image",       "model_version", "namespace"};
    ss_metrics_family(cfg->metrics, "seldon_api_executor_server_requests_seconds",
                      SS_METRIC_HISTOGRAM, "Requests served by the gateway, in seconds",
                      server_labels, 7, NULL, 0);
    ss_metrics_family(cfg->metrics, "seldon_api_executor_client_requests_seconds",
                      SS_METRIC_HISTOGRAM, "Calls from the gateway to graph nodes, in seconds",
                      client_labels, 10, NULL, 0);
    ss__gw_v2_families(cfg->metrics);
  }
  int port = cfg->port;
  for (int i = 0; i < gw->n_workers; i++) {
    struct ss__gw_worker *w = &gw->workers[i];
    w->kind_event = SS__GW_K_EVENT;
    w->kind_listen = SS__GW_K_LISTEN;
    w->gw = gw;
    w->lfd = w->evfd = w->ep = -1;
    w->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    w->rng = 0x9E3779B97F4A7C15ull ^ ((uint64_t)i << 32) ^ (uint64_t)ss__gw_mono_ns();
    w->lfd = listen_on(addr, port);
    if (w->lfd < 0) {
      int e = errno;
      gw->n_workers = i;
      ss_gateway_stop(gw);
      return ss_error_set(err, SS_EIO, 0, 0, "gateway cannot listen on %s port %d: %s", addr,
                          port, strerror(e));
    }
    if (i == 0)
      port = gw->port = bound_port(w->lfd); /* the others share it */
    w->ep = epoll_create1(EPOLL_CLOEXEC);
    w->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ep_mod(w, w->lfd, &w->kind_listen, EPOLLIN);
    ep_mod(w, w->evfd, &w->kind_event, EPOLLIN);
  }
  for (int i = 0; i < gw->n_workers; i++)
    pthread_create(&gw->workers[i].th, NULL, worker_main, &gw->workers[i]);
  *out = gw;
  return SS_EOK;
}

int ss_gateway_port(const struct ss_gateway *gw) { return gw->port; }

static void wake_all(struct ss_gateway *gw) {
  uint64_t one = 1;
  for (int i = 0; i < gw->n_workers; i++)
    if (gw->workers[i].evfd >= 0 && write(gw->workers[i].evfd, &one, sizeof one) < 0) {
      /* a full eventfd counter still wakes the worker */
    }
}

void ss_gateway_publish(struct ss_gateway *gw, struct ss_gw_table *t) {
  t->gw = gw;
  ss__gw_table_resolve(t, &gw->reg, gw->cfg.metrics);
  pthread_mutex_lock(&gw->mu);
  struct ss_gw_table *old = gw->latest;
  gw->latest = t;
  gw->epoch++;
  pthread_mutex_unlock(&gw->mu);
  ss__gw_table_unref(old, &gw->reg);
  wake_all(gw);
}

bool ss_gateway_idle(struct ss_gateway *gw, const char *replica_id) {
  bool idle = true;
  /* absent: nothing routes to it or holds a connection to it */
  struct ss__gw_ep *e = ss__gw_ep_find(&gw->reg, replica_id);
  if (e)
    idle = !atomic_load(&e->routable) && atomic_load(&e->inflight) == 0;
  return idle;
}

int ss_gateway_inflight(struct ss_gateway *gw, const char *replica_id) {
  struct ss__gw_ep *e = ss__gw_ep_find(&gw->reg, replica_id);
  return e ? atomic_load(&e->inflight) : 0;
}

int ss_gateway_queued(struct ss_gateway *gw, const char *rs) {
  int n = 0;
  pthread_mutex_lock(&gw->mu);
  for (size_t i = 0; i < gw->n_queued; i++)
    if (strcmp(gw->queued[i].rs, rs) == 0)
      n = gw->queued[i].n;
  pthread_mutex_unlock(&gw->mu);
  return n;
}

void ss_gateway_stop(struct ss_gateway *gw) {
  if (!gw)
    return;
  atomic_store(&gw->stopping, true);
  wake_all(gw);
  for (int i = 0; i < gw->n_workers; i++) {
    struct ss__gw_worker *w = &gw->workers[i];
    if (w->th)
      pthread_join(w->th, NULL);
    if (w->lfd >= 0)
      close(w->lfd);
    if (w->evfd >= 0)
      close(w->evfd);
    if (w->ep >= 0)
      close(w->ep);
    if (w->spare_fd >= 0)
      close(w->spare_fd);
    ss__gw_table_unref(w->table, &gw->reg);
  }
  ss__gw_table_unref(gw->latest, &gw->reg);
  free(gw->workers);
  free(gw->queued);
  ss__gw_oauth_free(gw->oauth);
  ss__gw_registry_destroy(&gw->reg);
  pthread_mutex_destroy(&gw->mu);
  free(gw);
}
