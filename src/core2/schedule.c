/* schedule.c: Core 2's placement of a Model's replicas (schedule.h). */
#include "core2/schedule.h"

#include <stdio.h>
#include <string.h>

#define MAX_SERVERS 256 /* servers weighed for one model */

static bool has_capability(const struct ss_c2_server *s, const char *req) {
  for (size_t i = 0; i < s->n_capabilities; i++)
    if (strcmp(s->capabilities[i], req) == 0)
      return true;
  return false;
}

/* Core 2's server filters: replicas, sharing, deletion, requirements. */
static bool server_ok(const struct ss_c2_model *m, const struct ss_c2_server *s) {
  if (s->n_replicas == 0 || s->deleted)
    return false;
  if (m->server ? strcmp(m->server, s->name) != 0 : !s->shared)
    return false;
  for (size_t i = 0; i < m->n_requirements; i++)
    if (!has_capability(s, m->requirements[i]))
      return false;
  return true;
}

static bool server_has_model(const struct ss_c2_server *s) {
  for (size_t i = 0; i < s->n_replicas; i++)
    if (s->replicas[i].has_model)
      return true;
  return false;
}

/* Core 2's replica filters: memory (a replica holding the model already
 * fits it) and draining. */
static bool replica_ok(const struct ss_c2_model *m, const struct ss_c2_replica *r) {
  if (r->draining)
    return false;
  return r->has_model || m->memory_bytes <= r->capacity_bytes - r->used_bytes;
}

/* Stable insertion sort of idx by less(a, b). */
static void stable_sort(const struct ss_c2_replica **v, size_t n,
                        bool (*less)(const struct ss_c2_replica *, const struct ss_c2_replica *)) {
  for (size_t i = 1; i < n; i++) {
    const struct ss_c2_replica *x = v[i];
    size_t j = i;
    while (j > 0 && less(x, v[j - 1])) {
      v[j] = v[j - 1];
      j--;
    }
    v[j] = x;
  }
}

static bool by_index(const struct ss_c2_replica *a, const struct ss_c2_replica *b) {
  return a->index < b->index;
}

static bool by_free_memory(const struct ss_c2_replica *a, const struct ss_c2_replica *b) {
  return a->capacity_bytes - a->used_bytes > b->capacity_bytes - b->used_bytes;
}

static bool by_loaded(const struct ss_c2_replica *a, const struct ss_c2_replica *b) {
  return a->has_model && !b->has_model;
}

/* The replicas of s that can take m, in Core 2's order; how many. */
static size_t candidates(const struct ss_c2_model *m, const struct ss_c2_server *s,
                         const struct ss_c2_replica **v) {
  size_t n = 0;
  for (size_t i = 0; i < s->n_replicas && n < SS_C2_MAX_REPLICAS; i++)
    if (replica_ok(m, &s->replicas[i]))
      v[n++] = &s->replicas[i];
  stable_sort(v, n, by_index);
  stable_sort(v, n, by_free_memory);
  stable_sort(v, n, by_loaded);
  return n;
}

/* The first server (in order) with at least need candidate replicas takes
 * the model on up to take of them. */
static bool place_on(const struct ss_c2_model *m, const struct ss_c2_server *servers,
                     const size_t *order, size_t n_order, int need, int take,
                     struct ss_c2_placement *out) {
  for (size_t k = 0; k < n_order; k++) {
    const struct ss_c2_replica *v[SS_C2_MAX_REPLICAS];
    size_t c = candidates(m, &servers[order[k]], v);
    if ((int)c < need)
      continue;
    out->server = (int)order[k];
    out->n = (size_t)take < c ? (size_t)take : c;
    for (size_t i = 0; i < out->n; i++)
      out->replicas[i] = v[i]->index;
    return true;
  }
  return false;
}

bool ss_c2_schedule(const struct ss_c2_model *m, const struct ss_c2_server *servers, size_t n,
                    struct ss_c2_placement *out) {
  memset(out, 0, sizeof *out);
  out->server = -1;
  size_t order[MAX_SERVERS], k = 0;
  /* servers where the model is loaded first, the rest in the order given */
  for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < n && k < MAX_SERVERS; i++)
      if (server_ok(m, &servers[i]) && server_has_model(&servers[i]) == (pass == 0))
        order[k++] = i;
  if (k == 0) {
    snprintf(out->message, sizeof out->message,
             "Failed to schedule model as no matching servers are available");
    return false;
  }
  int desired = m->desired > 0 ? m->desired : 1;
  if (desired > SS_C2_MAX_REPLICAS)
    desired = SS_C2_MAX_REPLICAS;
  if (place_on(m, servers, order, k, desired, desired, out))
    return true;
  if (m->min_replicas > 0 && m->min_replicas < desired &&
      place_on(m, servers, order, k, m->min_replicas, desired, out))
    return true;
  snprintf(out->message, sizeof out->message,
           "Failed to schedule model as no matching server had enough suitable replicas");
  return false;
}
