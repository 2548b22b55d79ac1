/* gauges.c: gauge series kept by label key, released once unseen. */
#include "control/gauges.h"
#include "common/strmap.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RS_GAUGES 5
#define REPLICA_GAUGES 5

static const char *const rs_names[RS_GAUGES] = {
    "servescale_replica_set_desired_replicas", "servescale_replica_set_replicas",
    "servescale_replica_set_ready_replicas", "servescale_replica_set_inflight_requests",
    "servescale_replica_set_queued_requests"};
static const char *const rs_help[RS_GAUGES] = {
    "Replicas the replica set should run", "Replicas with a live process",
    "Replicas passing their readiness probe", "Calls in flight from the gateway to its replicas",
    "Calls waiting in the gateway for a first ready replica"};
static const char *const rep_names[REPLICA_GAUGES] = {
    "servescale_replica_cpu_seconds", "servescale_replica_resident_memory_bytes",
    "servescale_replica_ready", "servescale_replica_start_time_seconds",
    "servescale_replica_ready_time_seconds"};
static const char *const rep_help[REPLICA_GAUGES] = {
    "CPU time (user and system) the replica's process has used, in seconds",
    "Resident memory of the replica's process, in bytes",
    "1 when the replica passes its readiness probe, else 0",
    "When the replica's current process started, in seconds since the epoch",
    "When the replica's readiness last changed, in seconds since the epoch (0: never ready)"};

struct entry {
  char key[512];
  struct ss_series *s[RS_GAUGES];
  size_t n;
  bool seen;
};

struct ss__gauges {
  struct ss_metrics *m;
  struct entry *v;
  size_t n, cap;
  /* key -> index + 1 into v (which moves as it grows): looked up twice per
   * replica set per pass, so not by a search through hundreds of keys */
  struct ss_strmap by_key;
};

struct ss__gauges *ss__gauges_new(struct ss_metrics *m) {
  struct ss__gauges *g = calloc(1, sizeof *g);
  if (!g)
    return NULL;
  g->m = m;
  static const char *const rs_labels[] = {"namespace", "deployment", "replica_set"};
  /* pod: the replica's name again, under the label a PodMonitor's scrape
   * gives a pod's series on a cluster (prometheus-adapter rules select by it) */
  static const char *const rep_labels[] = {"namespace", "deployment", "replica_set", "replica",
                                           "pod"};
  for (int i = 0; i < RS_GAUGES; i++)
    ss_metrics_family(m, rs_names[i], SS_METRIC_GAUGE, rs_help[i], rs_labels, 3, NULL, 0);
  for (int i = 0; i < REPLICA_GAUGES; i++)
    ss_metrics_family(m, rep_names[i], SS_METRIC_GAUGE, rep_help[i], rep_labels, 5, NULL, 0);
  return g;
}

void ss__gauges_free(struct ss__gauges *g) {
  if (!g)
    return;
  free(g->v);
  ss_strmap_fini(&g->by_key);
  free(g);
}

void ss__gauges_begin(struct ss__gauges *g) {
  for (size_t i = 0; g && i < g->n; i++)
    g->v[i].seen = false;
}

/* Points the index at v again (after v moved). */
static bool reindex(struct ss__gauges *g) {
  ss_strmap_fini(&g->by_key);
  for (size_t i = 0; i < g->n; i++)
    if (!ss_strmap_put(&g->by_key, g->v[i].key, (void *)(uintptr_t)(i + 1)))
      return false;
  return true;
}

static struct entry *get(struct ss__gauges *g, const char *key, const char *const *names,
                         size_t n, const char *const *labels) {
  char k[sizeof g->v[0].key];
  snprintf(k, sizeof k, "%s", key); /* as stored: cut to fit */
  uintptr_t at = (uintptr_t)ss_strmap_get(&g->by_key, k);
  if (at) {
    g->v[at - 1].seen = true;
    return &g->v[at - 1];
  }
  if (g->n == g->cap) {
    size_t cap = g->cap ? g->cap * 2 : 32;
    struct entry *v = realloc(g->v, cap * sizeof *v);
    if (!v)
      return NULL;
    bool moved = v != g->v;
    g->v = v;
    g->cap = cap;
    if (moved && !reindex(g))
      return NULL; /* out of memory: the next pass indexes them again */
  }
  struct entry *e = &g->v[g->n];
  memset(e, 0, sizeof *e);
  snprintf(e->key, sizeof e->key, "%s", key);
  if (!ss_strmap_put(&g->by_key, e->key, (void *)(uintptr_t)(g->n + 1)))
    return NULL;
  g->n++;
  e->n = n;
  e->seen = true;
  for (size_t i = 0; i < n; i++)
    e->s[i] = ss_metrics_series(g->m, names[i], labels);
  return e;
}

void ss__gauges_rs(struct ss__gauges *g, const char *ns, const char *dep, const char *rs,
                   int desired, int running, int ready, int inflight, int queued) {
  if (!g)
    return;
  char key[512];
  snprintf(key, sizeof key, "rs\t%s\t%s\t%s", ns, dep, rs);
  const char *labels[] = {ns, dep, rs};
  struct entry *e = get(g, key, rs_names, RS_GAUGES, labels);
  if (!e)
    return;
  double v[RS_GAUGES] = {desired, running, ready, inflight, queued};
  for (int i = 0; i < RS_GAUGES; i++)
    if (e->s[i])
      ss_series_set(e->s[i], v[i]);
}

void ss__gauges_replica(struct ss__gauges *g, const char *ns, const char *dep, const char *rs,
                        const char *replica, double cpu_seconds, double rss_bytes, bool ready,
                        double start_time, double ready_time) {
  if (!g)
    return;
  char key[512];
  snprintf(key, sizeof key, "replica\t%s\t%s\t%s\t%s", ns, dep, rs, replica);
  const char *labels[] = {ns, dep, rs, replica, replica};
  struct entry *e = get(g, key, rep_names, REPLICA_GAUGES, labels);
  if (!e)
    return;
  if (e->s[0])
    ss_series_set(e->s[0], cpu_seconds);
  if (e->s[1])
    ss_series_set(e->s[1], rss_bytes);
  if (e->s[2])
    ss_series_set(e->s[2], ready ? 1 : 0);
  if (e->s[3])
    ss_series_set(e->s[3], start_time);
  if (e->s[4])
    ss_series_set(e->s[4], ready_time);
}

void ss__gauges_end(struct ss__gauges *g) {
  if (!g)
    return;
  for (size_t i = 0; i < g->n;) {
    if (g->v[i].seen) {
      i++;
      continue;
    }
    for (size_t k = 0; k < g->v[i].n; k++)
      if (g->v[i].s[k])
        ss_series_release(g->m, g->v[i].s[k]);
    ss_strmap_del(&g->by_key, g->v[i].key);
    g->v[i] = g->v[--g->n];
    /* the last one moved into slot i: its key now lives there */
    if (i < g->n)
      ss_strmap_put(&g->by_key, g->v[i].key, (void *)(uintptr_t)(i + 1));
  }
}
