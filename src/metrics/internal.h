/* internal.h: what the metrics files share: the registry's layout (families,
 * series, the hash table), the atomic double, the window's ring buffers and
 * the process metrics' hooks. Not for use outside src/metrics/. */
#ifndef SS_METRICS_INTERNAL_H
#define SS_METRICS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "metrics/metrics.h"

/* The window of one series: one time column shared by its sample series
 * (a histogram's buckets, _sum and _count are sampled together) and one
 * value row per sample series, rows * cap doubles. Grows by doubling from
 * SS__RING_INITIAL to SS_METRICS_WINDOW_SAMPLES, then overwrites the oldest. */
#define SS__RING_INITIAL 8
struct ss__ring {
  int64_t *t;    /* cap times, ring order */
  double *v;     /* rows * cap values: row r, slot i at v[r * cap + i] */
  uint32_t cap;  /* 0 until the first sample */
  uint32_t head; /* slot of the oldest sample */
  uint32_t len;
};

struct ss__family {
  char *name, *help; /* help may be "" */
  enum ss_metric_type type;
  size_t n_labels;
  char *label_names[SS_METRICS_MAX_LABELS];
  size_t n_bounds; /* histogram: finite upper bounds, ascending; +Inf is implied */
  double *bounds;
  struct ss_series **series; /* live ones, sorted by label values */
  size_t n_series, cap_series;
};

struct ss_series {
  struct ss__family *fam;
  struct ss_series *hnext; /* hash chain, or the list of released series */
  uint64_t hash;
  atomic_bool released;
  _Atomic uint64_t value; /* counter, gauge: the bits of a double */
  _Atomic uint64_t sum;   /* histogram: the bits of a double */
  struct ss__ring ring;   /* under the registry's lock */
  const char *values[SS_METRICS_MAX_LABELS]; /* point into this allocation */
  /* histogram: n_bounds + 1 per-bucket (not cumulative) counts, the last one
   * for values above every bound; _count is their sum, so _count always
   * equals the +Inf bucket even when a scrape races an observation. */
  _Atomic uint64_t buckets[];
};

struct ss_metrics {
  pthread_rwlock_t lock; /* structure (families, series, rings); never the values */
  struct ss__family **fams; /* sorted by name */
  size_t n_fams, cap_fams;
  struct ss_series **table; /* hash chains by (family, label values) */
  size_t table_size;        /* a power of two */
  size_t n_series;
  /* Released series stay allocated until ss_metrics_free because callers
   * may still hold their pointers; their rings are freed at release. */
  struct ss_series *released;
  struct ss_series *proc_cpu, *proc_rss, *proc_fds, *proc_start;
};

/* The atomic double: bits in an _Atomic uint64_t. */
static inline double ss__bits_to_double(uint64_t b) {
  double d;
  memcpy(&d, &b, sizeof d);
  return d;
}
static inline uint64_t ss__double_to_bits(double d) {
  uint64_t b;
  memcpy(&b, &d, sizeof b);
  return b;
}
static inline double ss__atomic_load_double(_Atomic uint64_t *a) {
  return ss__bits_to_double(atomic_load_explicit(a, memory_order_relaxed));
}

/* Number of value rows a series of f keeps in its window: 1 for counters
 * and gauges; a histogram's cumulative buckets (+Inf included, which is
 * also _count) and _sum. */
static inline size_t ss__rows(const struct ss__family *f) {
  return f->type == SS_METRIC_HISTOGRAM ? f->n_bounds + 2 : 1;
}

/* The current values of s in row order (see ss__rows): cumulative buckets
 * then _sum for a histogram. out has ss__rows(s->fam) slots. */
void ss__series_values(struct ss_series *s, double *out);

/* Stores v whatever the type (the process counters are read, not counted). */
void ss__series_store(struct ss_series *s, double v);

/* A float as Prometheus writes it: "0.005", "1", "2.5", "+Inf", "NaN",
 * integers without exponent; the shortest text that reads back the same.
 * Returns the length; buf of at least SS__FLOAT_MAX bytes. */
#define SS__FLOAT_MAX 32
size_t ss__fmt_float(double v, char *buf);

/* process.c: declares the process_* families in a new registry, and
 * refreshes their values from /proc/self (before exposition or sampling;
 * called without the registry's lock). */
int ss__process_init(struct ss_metrics *m);
void ss__process_refresh(struct ss_metrics *m);

/* window.c: frees a series' ring. */
void ss__ring_free(struct ss__ring *r);

#endif
