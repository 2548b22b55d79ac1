/* cluster.c: the replicas of a simulated target, their queues and the
 * gateway in front of them, one SS_SIM_STEP_MS step at a time (see
 * cluster.h for the model). */
#include "sim/cluster.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MS_PER_S 1000

/* xorshift64*: small, seeded, the same sequence on every machine. */
static double uniform01(uint64_t *s) {
  uint64_t x = *s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *s = x;
  uint64_t r = x * 0x2545F4914F6CDD1DULL;
  return ((double)(r >> 11) + 1.0) / 9007199254740993.0; /* (0, 1] */
}

/* Work (at unit rate) until the next arrival: Exp(1), or exactly 1. */
static double next_work(struct ss_sim_cluster *c) {
  return c->m.poisson ? -log(uniform01(&c->rng)) : 1.0;
}

static bool model_ok(const struct ss_sim_model *m) {
  return m->service_ms > 0 && m->concurrency >= 1 && m->concurrency <= SS_SIM_MAX_CONCURRENCY &&
         m->startup_ms >= 0 && m->timeout_ms > 0 && m->timeout_ms <= SS_SIM_MAX_TIMEOUT_MS &&
         m->slo_p99_ms > 0;
}

static struct ss_sim_replica *add_replica(struct ss_sim_cluster *c, int64_t ready_ms) {
  if (c->n == c->cap) {
    size_t nc = c->cap ? c->cap * 2 : 8;
    struct ss_sim_replica *v = realloc(c->r, nc * sizeof *v);
    if (!v)
      return NULL;
    c->r = v;
    c->cap = nc;
  }
  struct ss_sim_replica *r = &c->r[c->n++];
  memset(r, 0, sizeof *r);
  r->created_ms = c->now_ms;
  r->ready_ms = ready_ms;
  for (int32_t i = 0; i < c->m.concurrency; i++)
    r->free_at[i] = ready_ms;
  r->last_finish_ms = ready_ms;
  c->spec++;
  return r;
}

enum ss_err ss_sim_cluster_init(struct ss_sim_cluster *c, const struct ss_sim_model *m,
                                bool buffer_at_zero, int32_t replicas, size_t n_steps) {
  memset(c, 0, sizeof *c);
  if (!model_ok(m) || replicas < 0 || replicas > SS_SIM_MAX_REPLICAS)
    return SS_EINVALID;
  c->m = *m;
  c->buffer_at_zero = buffer_at_zero;
  c->rng = m->seed ? m->seed : 1;
  /* a request ends at most a timeout and a service after the run */
  c->n_steps = n_steps + (size_t)((m->timeout_ms + m->service_ms) / SS_SIM_STEP_MS) + 2;
  c->ends = calloc(c->n_steps, sizeof *c->ends);
  if (!c->ends)
    return SS_ENOMEM;
  c->work = next_work(c);
  for (int32_t i = 0; i < replicas; i++)
    if (!add_replica(c, 0))
      return SS_ENOMEM;
  return SS_EOK;
}

void ss_sim_cluster_free(struct ss_sim_cluster *c) {
  if (!c)
    return;
  free(c->r);
  free(c->wait);
  free(c->ends);
  free(c->lat);
  memset(c, 0, sizeof *c);
}

static void remove_at(struct ss_sim_cluster *c, size_t i) {
  memmove(&c->r[i], &c->r[i + 1], (c->n - i - 1) * sizeof *c->r);
  c->n--;
}

/* The surplus replica to let go: one not serving yet (the newest), else the
 * serving one with the least work left. */
static size_t pick_surplus(const struct ss_sim_cluster *c) {
  size_t best = c->n;
  for (size_t i = c->n; i-- > 0;)
    if (!c->r[i].draining && c->r[i].ready_ms > c->now_ms)
      return i;
  for (size_t i = 0; i < c->n; i++)
    if (!c->r[i].draining && (best == c->n || c->r[i].last_finish_ms < c->r[best].last_finish_ms))
      best = i;
  return best;
}

enum ss_err ss_sim_cluster_scale(struct ss_sim_cluster *c, int32_t desired) {
  if (desired < 0)
    desired = 0;
  if (desired > SS_SIM_MAX_REPLICAS)
    desired = SS_SIM_MAX_REPLICAS;
  while (c->spec < desired)
    if (!add_replica(c, c->now_ms + c->m.startup_ms))
      return SS_ENOMEM;
  while (c->spec > desired) {
    size_t i = pick_surplus(c);
    if (i == c->n)
      break;
    c->spec--;
    if (c->r[i].ready_ms > c->now_ms)
      remove_at(c, i); /* never served: nothing to drain */
    else
      c->r[i].draining = true;
  }
  return SS_EOK;
}

static enum ss_err record(struct ss_sim_cluster *c, double latency_ms) {
  if (c->lat_n == c->lat_cap) {
    size_t nc = c->lat_cap ? c->lat_cap * 2 : 256;
    double *v = realloc(c->lat, nc * sizeof *v);
    if (!v)
      return SS_ENOMEM;
    c->lat = v;
    c->lat_cap = nc;
  }
  c->lat[c->lat_n++] = latency_ms;
  c->cur.settled++;
  if (latency_ms > (double)c->m.slo_p99_ms)
    c->cur.over_slo++;
  return SS_EOK;
}

static enum ss_err fail(struct ss_sim_cluster *c) {
  c->cur.failed++;
  c->total_failed++;
  c->inflight--;
  return record(c, INFINITY);
}

/* The serving replica whose earliest free slot comes first, and that slot. */
static bool choose(const struct ss_sim_cluster *c, int64_t at_ms, size_t *ri, int32_t *slot) {
  bool found = false;
  int64_t best = 0;
  for (size_t i = 0; i < c->n; i++) {
    const struct ss_sim_replica *r = &c->r[i];
    if (r->draining || r->ready_ms > at_ms)
      continue;
    for (int32_t s = 0; s < c->m.concurrency; s++)
      if (!found || r->free_at[s] < best) {
        found = true;
        best = r->free_at[s];
        *ri = i;
        *slot = s;
      }
  }
  return found;
}

static size_t step_of(const struct ss_sim_cluster *c, int64_t ms) {
  size_t s = (size_t)(ms / SS_SIM_STEP_MS);
  return s < c->n_steps ? s : c->n_steps - 1;
}

/* Sends a request that arrived at arrival_ms, at at_ms, to a replica;
 * *sent false when none serves at at_ms. */
static enum ss_err dispatch(struct ss_sim_cluster *c, int64_t arrival_ms, int64_t at_ms,
                            bool *sent) {
  size_t i;
  int32_t s;
  *sent = choose(c, at_ms, &i, &s);
  if (!*sent)
    return SS_EOK;
  struct ss_sim_replica *r = &c->r[i];
  int64_t start = r->free_at[s] > at_ms ? r->free_at[s] : at_ms;
  if (start - arrival_ms > c->m.timeout_ms)
    return fail(c);
  int64_t finish = start + c->m.service_ms;
  r->free_at[s] = finish;
  if (finish > r->last_finish_ms)
    r->last_finish_ms = finish;
  r->done[(finish / MS_PER_S) % SS_SIM_BUSY_RING]++;
  /* outstanding at every step start before its end: it leaves at the
   * first step starting at or after finish */
  c->ends[step_of(c, finish + SS_SIM_STEP_MS - 1)]++;
  return record(c, (double)(finish - arrival_ms));
}

static enum ss_err wait_push(struct ss_sim_cluster *c, int64_t arrival_ms) {
  if (c->wait_n == c->wait_cap) {
    size_t nc = c->wait_cap ? c->wait_cap * 2 : 64;
    int64_t *v = malloc(nc * sizeof *v);
    if (!v)
      return SS_ENOMEM;
    for (size_t k = 0; k < c->wait_n; k++)
      v[k] = c->wait[(c->wait_head + k) % c->wait_cap];
    free(c->wait);
    c->wait = v;
    c->wait_cap = nc;
    c->wait_head = 0;
  }
  c->wait[(c->wait_head + c->wait_n++) % c->wait_cap] = arrival_ms;
  return SS_EOK;
}

/* Requests waiting at the gateway: those past the timeout fail, the rest go
 * to replicas serving at at_ms, in arrival order. */
static enum ss_err flush_waiting(struct ss_sim_cluster *c, int64_t at_ms) {
  enum ss_err rc = SS_EOK;
  while (c->wait_n && rc == SS_EOK) {
    int64_t a = c->wait[c->wait_head];
    bool sent = true;
    if (at_ms - a > c->m.timeout_ms)
      rc = fail(c);
    else if ((rc = dispatch(c, a, at_ms, &sent)) || !sent)
      break;
    c->wait_head = (c->wait_head + 1) % c->wait_cap;
    c->wait_n--;
  }
  return rc;
}

static enum ss_err arrive(struct ss_sim_cluster *c, int64_t at_ms) {
  enum ss_err rc;
  bool sent = false;
  c->cur.arrivals += 1;
  c->inflight++;
  if ((rc = flush_waiting(c, at_ms)))
    return rc;
  if (c->wait_n == 0 && (rc = dispatch(c, at_ms, at_ms, &sent)))
    return rc;
  if (sent)
    return SS_EOK;
  if (!c->buffer_at_zero)
    return fail(c); /* no endpoint: refused at once */
  return wait_push(c, at_ms);
}

/* Replicas that finished draining leave; the time they used is counted. */
static void reap(struct ss_sim_cluster *c) {
  for (size_t i = c->n; i-- > 0;)
    if (c->r[i].draining && c->r[i].last_finish_ms <= c->now_ms)
      remove_at(c, i);
}

enum ss_err ss_sim_cluster_step(struct ss_sim_cluster *c, double rps) {
  enum ss_err rc;
  reap(c);
  if ((rc = flush_waiting(c, c->now_ms)))
    return rc;
  double avail = rps * SS_SIM_STEP_MS / MS_PER_S, used = 0;
  while (rps > 0 && c->work <= avail - used) {
    used += c->work;
    int64_t at = c->now_ms + (int64_t)(used / rps * MS_PER_S);
    if ((rc = arrive(c, at)))
      return rc;
    c->work = next_work(c);
  }
  if (rps > 0)
    c->work -= avail - used;
  c->replica_ms += (double)c->n * SS_SIM_STEP_MS;
  c->now_ms += SS_SIM_STEP_MS;
  c->inflight -= c->ends[step_of(c, c->now_ms)]; /* those done by the new now */
  return SS_EOK;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int32_t ss_sim_cluster_ready(const struct ss_sim_cluster *c) {
  int32_t n = 0;
  for (size_t i = 0; i < c->n; i++)
    n += !c->r[i].draining && c->r[i].ready_ms <= c->now_ms;
  return n;
}

size_t ss_sim_cluster_waiting(const struct ss_sim_cluster *c) { return c->wait_n; }

uint64_t ss_sim_cluster_done(const struct ss_sim_cluster *c, size_t i, int64_t from_s,
                             int64_t to_s) {
  uint64_t sum = 0;
  for (int64_t s = from_s < 0 ? 0 : from_s; s < to_s; s++)
    sum += c->r[i].done[s % SS_SIM_BUSY_RING];
  return sum;
}

enum ss_err ss_sim_cluster_close_second(struct ss_sim_cluster *c, struct ss_sim_second *out) {
  *out = c->cur;
  if (c->lat_n) {
    qsort(c->lat, c->lat_n, sizeof *c->lat, cmp_double);
    size_t k = (size_t)ceil(0.99 * (double)c->lat_n);
    out->p99_ms = c->lat[k ? k - 1 : 0];
  }
  out->replicas = c->spec;
  out->ready = ss_sim_cluster_ready(c);
  out->alive = (int32_t)c->n;
  out->violation = out->failed > 0 || out->p99_ms > (double)c->m.slo_p99_ms;
  memset(&c->cur, 0, sizeof c->cur);
  c->lat_n = 0;
  /* forget the completions of half a ring ago: that slot is reused ahead */
  int64_t s = c->now_ms / MS_PER_S;
  for (size_t i = 0; i < c->n; i++)
    c->r[i].done[(s + SS_SIM_BUSY_RING / 2) % SS_SIM_BUSY_RING] = 0;
  return SS_EOK;
}
