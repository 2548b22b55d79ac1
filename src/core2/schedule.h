/* schedule.h: where a Seldon Core 2 Model's replicas go, decided as Core
 * 2's scheduler decides it (scheduler/pkg/scheduler: its default filters
 * and sorters). Pure: no store, no processes; table tests in
 * tests/unit/test_schedule.c.
 *
 * Servers are kept that can take the model at all: they have replicas, are
 * not being deleted, are the model's `server` when it names one (else are
 * shared, not dedicated to another), and offer every capability the model
 * `requirements` name. Servers where the model is already loaded come
 * first, then the order given. On each server in turn the replicas are
 * kept that are not draining and have the model's `memory` free (or hold
 * the model already); they are ordered by index, then by free memory (most
 * first), then those already holding the model first (each sort stable
 * over the one before). The first server with the desired count of such
 * replicas takes the model on its first that many; failing that, the first
 * with at least minReplicas takes as many as it has, up to the desired
 * count. Otherwise the model is not placed: ScheduleFailed with Core 2's
 * words, and whatever of it is loaded keeps serving (the caller's part).
 *
 * Ownership: every input is borrowed for the call; the result is plain
 * data. */
#ifndef SS_CORE2_SCHEDULE_H
#define SS_CORE2_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SS_C2_MAX_REPLICAS 64 /* replicas of one server the scheduler weighs */

struct ss_c2_replica {
  int index;                /* its ordinal in the server (0, 1, ...) */
  int64_t capacity_bytes;   /* the memory it offers models */
  int64_t used_bytes;       /* what the models loaded on it take */
  bool draining;            /* leaving: takes nothing new */
  bool has_model;           /* the model being placed is loaded on it */
};

struct ss_c2_server {
  const char *name;
  bool shared;              /* false: dedicated (only models that name it) */
  bool deleted;             /* being deleted: takes nothing */
  const char *const *capabilities;
  size_t n_capabilities;
  const struct ss_c2_replica *replicas;
  size_t n_replicas;
};

struct ss_c2_model {
  const char *name;
  const char *server;       /* the Server it must run on; NULL: any that fits */
  const char *const *requirements;
  size_t n_requirements;
  int64_t memory_bytes;     /* 0: unstated (fits anywhere) */
  int desired;              /* replicas wanted (>= 1) */
  int min_replicas;         /* 0: unset */
};

struct ss_c2_placement {
  int server;               /* index into the servers given; -1: not placed */
  int replicas[SS_C2_MAX_REPLICAS]; /* replica indexes chosen, in the order chosen */
  size_t n;
  char message[256];        /* why not placed (Core 2's message) */
};

/* Places m over servers[0..n). True when placed (out->server >= 0). */
bool ss_c2_schedule(const struct ss_c2_model *m, const struct ss_c2_server *servers, size_t n,
                    struct ss_c2_placement *out);

#endif
