/* run.c: the load generator's users: one thread and one keep-alive
 * libcurl handle each, started at the spawn rate, sharing one pacer when a
 * total request rate is asked for. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "common/clock.h"
#include "load/load.h"

/* the longest a user sleeps at once, so that a stop is seen soon */
#define SLEEP_SLICE_MS 100

struct run {
  const struct ss_load_config *cfg;
  struct ss_load_stats *st;
  int64_t start_ms, end_ms; /* monotonic */
  pthread_mutex_t pace_mu;
  double next_due_ms;       /* the pacer's next free slot */
};

struct user {
  struct run *r;
  int index;
  pthread_t thread;
  bool started;
};

static bool stopping(const struct run *r) {
  return ss_mono_ms() >= r->end_ms || (r->cfg->stop && atomic_load(r->cfg->stop));
}

/* Sleeps until the monotonic time t_ms; false when the run stops first. */
static bool sleep_until(const struct run *r, double t_ms) {
  for (;;) {
    if (r->cfg->stop && atomic_load(r->cfg->stop))
      return false;
    double left = t_ms - (double)ss_mono_ms();
    if (left <= 0)
      return true;
    if (left > SLEEP_SLICE_MS)
      left = SLEEP_SLICE_MS;
    struct timespec ts = {(time_t)(left / 1000), (long)((left - (time_t)(left / 1000) * 1000) * 1e6)};
    nanosleep(&ts, NULL);
  }
}

/* With a total rate, waits for this request's slot; false when the run
 * ends before it. */
static bool pace(struct run *r) {
  if (r->cfg->rps <= 0)
    return !stopping(r);
  pthread_mutex_lock(&r->pace_mu);
  double now = (double)ss_mono_ms();
  double due = r->next_due_ms > now ? r->next_due_ms : now;
  r->next_due_ms = due + 1000.0 / r->cfg->rps;
  pthread_mutex_unlock(&r->pace_mu);
  return due < (double)r->end_ms && sleep_until(r, due) && !stopping(r);
}

static size_t discard(char *p, size_t size, size_t n, void *ctx) {
  (void)p;
  (void)ctx;
  return size * n;
}

static CURL *user_handle(const struct ss_load_config *cfg, struct curl_slist **headers) {
  CURL *h = curl_easy_init();
  if (!h)
    return NULL;
  *headers = curl_slist_append(NULL, "Content-Type: application/json");
  /* no "Expect: 100-continue" round trip for bodies over 1 KiB */
  *headers = curl_slist_append(*headers, "Expect:");
  if (cfg->token) {
    char auth[600];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", cfg->token);
    *headers = curl_slist_append(*headers, auth);
  }
  curl_easy_setopt(h, CURLOPT_URL, cfg->url);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, cfg->body);
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)cfg->body_len);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, *headers);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)SS_LOAD_REQUEST_TIMEOUT_MS);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
  return h;
}

static void *user_main(void *arg) {
  struct user *u = arg;
  struct run *r = u->r;
  double spawn = r->cfg->spawn_rate;
  double at = (double)r->start_ms + (spawn > 0 ? 1000.0 * u->index / spawn : 0);
  if (at >= (double)r->end_ms || !sleep_until(r, at))
    return NULL;
  struct curl_slist *headers = NULL;
  CURL *h = user_handle(r->cfg, &headers);
  atomic_fetch_add(&r->st->users, 1);
  while (h && pace(r)) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CURLcode rc = curl_easy_perform(h);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long code = 0;
    if (rc == CURLE_OK)
      curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    int64_t us = (int64_t)(t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000;
    ss_load_record(r->st, us > 0 ? (uint64_t)us : 0, (int)code);
  }
  atomic_fetch_sub(&r->st->users, 1);
  curl_slist_free_all(headers);
  curl_easy_cleanup(h);
  return NULL;
}

enum ss_err ss_load_run(const struct ss_load_config *cfg, struct ss_load_stats *st,
                        struct ss_error *err) {
  if (cfg->users < 1 || cfg->users > SS_LOAD_MAX_USERS)
    return ss_error_set(err, SS_EINVALID, 0, 0, "users: must be 1 to %d, not %d",
                        SS_LOAD_MAX_USERS, cfg->users);
  if (cfg->duration_ms <= 0)
    return ss_error_set(err, SS_EINVALID, 0, 0, "duration: must be more than 0");
  if (cfg->rps > SS_LOAD_MAX_RPS)
    return ss_error_set(err, SS_EINVALID, 0, 0, "rps: at most %g", SS_LOAD_MAX_RPS);
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    return ss_error_set(err, SS_EINTERNAL, 0, 0, "cannot initialise libcurl");
  struct user *users = calloc((size_t)cfg->users, sizeof *users);
  if (!users)
    return ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
  struct run r = {.cfg = cfg, .st = st, .start_ms = ss_mono_ms()};
  r.end_ms = r.start_ms + cfg->duration_ms;
  r.next_due_ms = (double)r.start_ms;
  pthread_mutex_init(&r.pace_mu, NULL);
  int started = 0;
  for (int i = 0; i < cfg->users; i++) {
    users[i] = (struct user){.r = &r, .index = i};
    users[i].started = pthread_create(&users[i].thread, NULL, user_main, &users[i]) == 0;
    started += users[i].started;
  }
  for (int i = 0; i < cfg->users; i++)
    if (users[i].started)
      pthread_join(users[i].thread, NULL);
  pthread_mutex_destroy(&r.pace_mu);
  free(users);
  curl_global_cleanup();
  if (!started)
    return ss_error_set(err, SS_EINTERNAL, 0, 0, "cannot start any user thread");
  return SS_EOK;
}
