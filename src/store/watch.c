/* watch.c: the change history and the watches that read it. Every write
 * publishes one change into a ring of the last SS_STORE_WATCH_HISTORY; a
 * watch is only a cursor into that ring, so watches cost the writer nothing
 * and a slow one cannot hold writes back: it falls off the end and is told
 * to go away, and its client relists (as from an API server's watch cache).
 *
 * The ring lives in memory only: after a restart, watching from a
 * resourceVersion older than the store's at open is SS_EGONE. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/internal.h"
#include "common/clock.h"

#define RING_N ((uint64_t)SS_STORE_WATCH_HISTORY)

struct ss_watch {
  struct ss__history *h;
  char *group, *plural;
  char *ns;          /* NULL: every namespace */
  uint64_t after_rv; /* changes at or below this are not delivered */
  uint64_t next_seq; /* the next ring entry to look at */
};

enum ss_err ss__history_init(struct ss__history *h, uint64_t rv, struct ss_error *err) {
  enum ss_err e = SS_EOK;
  pthread_condattr_t attr;
  bool attr_ok = false, mu_ok = false;
  memset(h, 0, sizeof *h);
  h->floor_rv = rv;
  h->ring = calloc(RING_N, sizeof *h->ring);
  if (!h->ring) {
    e = ss_error_set(err, SS_ENOMEM, 0, 0, "allocating the watch history");
    goto out;
  }
  if (pthread_mutex_init(&h->mu, NULL)) {
    e = ss_error_set(err, SS_EINTERNAL, 0, 0, "pthread_mutex_init failed");
    goto out;
  }
  mu_ok = true;
  /* Timeouts on the monotonic clock, so that setting the wall clock
   * neither ends a wait early nor stretches it. */
  if (pthread_condattr_init(&attr)) {
    e = ss_error_set(err, SS_EINTERNAL, 0, 0, "pthread_condattr_init failed");
    goto out;
  }
  attr_ok = true;
  if (pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) || pthread_cond_init(&h->cond, &attr)) {
    e = ss_error_set(err, SS_EINTERNAL, 0, 0, "pthread_cond_init failed");
    goto out;
  }
out:
  if (attr_ok)
    pthread_condattr_destroy(&attr);
  if (e) {
    if (mu_ok)
      pthread_mutex_destroy(&h->mu);
    free(h->ring);
    h->ring = NULL;
  }
  return e;
}

void ss__history_fini(struct ss__history *h) {
  if (!h || !h->ring)
    return;
  for (uint64_t i = 0; i < RING_N; i++)
    ss__change_free(h->ring[i]);
  free(h->ring);
  h->ring = NULL;
  pthread_cond_destroy(&h->cond);
  pthread_mutex_destroy(&h->mu);
}

struct ss__change *ss__change_new(struct ss_kind_ref k, const char *ns,
                                  enum ss_watch_type type, uint64_t rv, const json_t *obj) {
  struct ss__change *c = calloc(1, sizeof *c);
  if (!c)
    return NULL;
  c->rv = rv;
  c->type = type;
  c->at_ms = ss_mono_ms();
  c->group = strdup(k.group);
  c->plural = strdup(k.plural);
  c->ns = strdup(ns);
  /* A copy of its own: the caller goes on to change and return obj. */
  c->obj = json_deep_copy(obj);
  if (!c->group || !c->plural || !c->ns || !c->obj) {
    ss__change_free(c);
    return NULL;
  }
  return c;
}

void ss__change_free(struct ss__change *c) {
  if (!c)
    return;
  free(c->group);
  free(c->plural);
  free(c->ns);
  json_decref(c->obj);
  free(c);
}

/* Drops the oldest retained change; under the mutex. Changes are
 * published in rv order, so everything after the one dropped is still
 * here. */
static void drop_oldest(struct ss__history *h) {
  struct ss__change **slot = &h->ring[h->first % RING_N];
  if (*slot) {
    h->floor_rv = (*slot)->rv;
    ss__change_free(*slot);
    *slot = NULL;
  }
  h->first++;
}

void ss__history_publish(struct ss__history *h, struct ss__change *c) {
  pthread_mutex_lock(&h->mu);
  /* compacted: what is older than the history's time, and room */
  while (h->first < h->total &&
         c->at_ms - h->ring[h->first % RING_N]->at_ms > SS_STORE_WATCH_HISTORY_MS)
    drop_oldest(h);
  if (h->total - h->first == RING_N)
    drop_oldest(h);
  h->ring[h->total % RING_N] = c;
  h->total++;
  pthread_cond_broadcast(&h->cond);
  pthread_mutex_unlock(&h->mu);
}

enum ss_err ss_store_watch(struct ss_store *st, struct ss_kind_ref k, const char *ns,
                           uint64_t from_rv, struct ss_watch **out, struct ss_error *err) {
  enum ss_err e = SS_EOK;
  struct ss_watch *w = NULL;
  *out = NULL;
  if (!st || !k.group || !k.plural) {
    e = ss_error_set(err, SS_EUSAGE, 0, 0, "ss_store_watch: no store or kind");
    goto out;
  }
  w = calloc(1, sizeof *w);
  if (!w || !(w->group = strdup(k.group)) || !(w->plural = strdup(k.plural)) ||
      (ns && !(w->ns = strdup(ns)))) {
    e = ss_error_set(err, SS_ENOMEM, 0, 0, "allocating a watch");
    goto out;
  }
  w->h = &st->hist;
  w->after_rv = from_rv;
  struct ss__history *h = &st->hist;
  pthread_mutex_lock(&h->mu);
  if (from_rv != 0 && from_rv < h->floor_rv) {
    /* The API server's wording, which clients recognise as "relist". */
    e = ss_error_set(err, SS_EGONE, 0, 0, "too old resource version: %llu (%llu)",
                     (unsigned long long)from_rv, (unsigned long long)h->floor_rv + 1);
  } else if (from_rv == 0) {
    w->next_seq = h->total; /* from now */
  } else {
    w->next_seq = h->first; /* whatever is retained */
  }
  pthread_mutex_unlock(&h->mu);
  if (e)
    goto out;
  *out = w;
  w = NULL;
out:
  ss_watch_close(w);
  return e;
}

static bool watch_matches(const struct ss_watch *w, const struct ss__change *c) {
  return c->rv > w->after_rv && !strcmp(c->plural, w->plural) && !strcmp(c->group, w->group) &&
         (!w->ns || !strcmp(c->ns, w->ns));
}

/* The deadline timeout_ms from now on the clock the condvar waits on. */
static struct timespec deadline_after(int timeout_ms) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  ts.tv_sec += timeout_ms / 1000;
  ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  return ts;
}

int ss_watch_next(struct ss_watch *w, int timeout_ms, enum ss_watch_type *type, json_t **obj) {
  int r = 0;
  bool expired = false;
  struct timespec deadline = {0};
  *obj = NULL;
  if (!w)
    return -1;
  struct ss__history *h = w->h;
  if (timeout_ms > 0)
    deadline = deadline_after(timeout_ms);
  pthread_mutex_lock(&h->mu);
  for (;;) {
    if (h->closing) {
      r = -1;
      break;
    }
    if (w->next_seq < h->first) {
      r = -1; /* fell behind: what it missed is gone */
      break;
    }
    const struct ss__change *found = NULL;
    while (!found && w->next_seq < h->total) {
      const struct ss__change *c = h->ring[w->next_seq % RING_N];
      w->next_seq++;
      if (watch_matches(w, c))
        found = c;
    }
    if (found) {
      /* A copy per watch: the receiver may change it, others must not see. */
      *obj = json_deep_copy(found->obj);
      *type = found->type;
      r = *obj ? 1 : -1;
      break;
    }
    if (timeout_ms == 0 || expired)
      break;
    if (timeout_ms < 0)
      pthread_cond_wait(&h->cond, &h->mu);
    else if (pthread_cond_timedwait(&h->cond, &h->mu, &deadline) == ETIMEDOUT)
      expired = true; /* one more look, then report the timeout */
  }
  pthread_mutex_unlock(&h->mu);
  return r;
}

void ss_watch_close(struct ss_watch *w) {
  if (!w)
    return;
  free(w->group);
  free(w->plural);
  free(w->ns);
  free(w);
}

void ss_store_shutdown_watches(struct ss_store *st) {
  if (!st)
    return;
  pthread_mutex_lock(&st->hist.mu);
  st->hist.closing = true;
  pthread_cond_broadcast(&st->hist.cond);
  pthread_mutex_unlock(&st->hist.mu);
}
