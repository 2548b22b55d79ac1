/* conns.c: the deadline by which a connection must have authenticated a
 * request. libmicrohttpd's timeout counts inactivity, so a client that
 * trickles a byte every few seconds into its TLS handshake or its request
 * head would hold its connection (a thread, a descriptor) for as long as
 * it likes; here a thread shuts down the socket of every connection that
 * is still unauthenticated when its deadline passes, however busy it
 * looks. Knows sockets and clocks only; server.c says when a connection
 * opens, authenticates and closes. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "api/internal.h"

/* How often the thread looks; a deadline is kept to within this. */
#define SS_API_CONNS_PERIOD_MS 250

struct ss__api_conn {
  int fd;
  int64_t deadline_ms;
  bool authenticated;
  bool shut;
  struct ss__api_conn *prev, *next;
};

struct ss__api_conns {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  pthread_t thread;
  bool running, stop;
  int64_t deadline_ms;            /* after opening */
  struct ss__api_conn *head;
};

int64_t ss__api_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *run(void *arg) {
  struct ss__api_conns *cs = arg;
  pthread_mutex_lock(&cs->mu);
  while (!cs->stop) {
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_nsec += SS_API_CONNS_PERIOD_MS * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
      until.tv_sec++;
      until.tv_nsec -= 1000000000L;
    }
    int rc = pthread_cond_timedwait(&cs->cv, &cs->mu, &until);
    if (rc != 0 && rc != ETIMEDOUT && rc != EINTR)
      break;
    if (cs->stop)
      break;
    pthread_mutex_unlock(&cs->mu);
    ss__api_conns_expire(cs, ss__api_now_ms());
    pthread_mutex_lock(&cs->mu);
  }
  pthread_mutex_unlock(&cs->mu);
  return NULL;
}

struct ss__api_conns *ss__api_conns_new(unsigned deadline_s, bool thread) {
  struct ss__api_conns *cs = calloc(1, sizeof *cs);
  if (!cs)
    return NULL;
  cs->deadline_ms = (int64_t)deadline_s * 1000;
  pthread_mutex_init(&cs->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&cs->cv, &ca);
  pthread_condattr_destroy(&ca);
  if (thread) {
    if (pthread_create(&cs->thread, NULL, run, cs) != 0) {
      ss__api_conns_free(cs);
      return NULL;
    }
    cs->running = true;
  }
  return cs;
}

void ss__api_conns_free(struct ss__api_conns *cs) {
  if (!cs)
    return;
  if (cs->running) {
    pthread_mutex_lock(&cs->mu);
    cs->stop = true;
    pthread_cond_signal(&cs->cv);
    pthread_mutex_unlock(&cs->mu);
    pthread_join(cs->thread, NULL);
  }
  while (cs->head) {
    struct ss__api_conn *c = cs->head;
    cs->head = c->next;
    free(c);
  }
  pthread_cond_destroy(&cs->cv);
  pthread_mutex_destroy(&cs->mu);
  free(cs);
}

struct ss__api_conn *ss__api_conn_open(struct ss__api_conns *cs, int fd, int64_t now_ms) {
  struct ss__api_conn *c = calloc(1, sizeof *c);
  if (!c)
    return NULL;
  c->fd = fd;
  c->deadline_ms = now_ms + cs->deadline_ms;
  pthread_mutex_lock(&cs->mu);
  c->next = cs->head;
  if (cs->head)
    cs->head->prev = c;
  cs->head = c;
  pthread_mutex_unlock(&cs->mu);
  return c;
}

void ss__api_conn_authenticated(struct ss__api_conns *cs, struct ss__api_conn *c) {
  if (!c)
    return;
  pthread_mutex_lock(&cs->mu);
  c->authenticated = true;
  pthread_mutex_unlock(&cs->mu);
}

void ss__api_conn_close(struct ss__api_conns *cs, struct ss__api_conn *c) {
  if (!c)
    return;
  pthread_mutex_lock(&cs->mu);
  if (c->prev)
    c->prev->next = c->next;
  else
    cs->head = c->next;
  if (c->next)
    c->next->prev = c->prev;
  pthread_mutex_unlock(&cs->mu);
  free(c);
}

int ss__api_conns_expire(struct ss__api_conns *cs, int64_t now_ms) {
  int n = 0;
  pthread_mutex_lock(&cs->mu);
  for (struct ss__api_conn *c = cs->head; c; c = c->next) {
    if (c->authenticated || c->shut || now_ms < c->deadline_ms)
      continue;
    /* the descriptor is still the connection's: it is closed only after
     * ss__api_conn_close, which waits for this lock */
    shutdown(c->fd, SHUT_RDWR);
    c->shut = true;
    n++;
  }
  pthread_mutex_unlock(&cs->mu);
  return n;
}
