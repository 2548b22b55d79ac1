/* window.c: the in-memory window of time series for the embedded metrics
 * source: each live series keeps its recent samples (one time column, one
 * value row per sample series) in a ring bounded by
 * SS_METRICS_WINDOW_SAMPLES, drops those older than SS_METRICS_WINDOW_MS, and
 * merges samples closer than SS_METRICS_SAMPLE_SPACING_MS into the newest.
 * Evaluating queries over them is autoscale's (or the PromQL subset's). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "metrics/internal.h"

void ss__ring_free(struct ss__ring *r) {
  free(r->t);
  free(r->v);
  *r = (struct ss__ring){0};
}

static uint32_t slot(const struct ss__ring *r, uint32_t i) { return (r->head + i) % r->cap; }

/* Grows r to cap (oldest first from slot 0); false when out of memory. */
static bool ring_grow(struct ss__ring *r, size_t rows, uint32_t cap) {
  int64_t *t = malloc(cap * sizeof *t);
  double *v = malloc(rows * cap * sizeof *v);
  if (!t || !v) {
    free(t);
    free(v);
    return false;
  }
  for (uint32_t i = 0; i < r->len; i++) {
    uint32_t k = slot(r, i);
    t[i] = r->t[k];
    for (size_t row = 0; row < rows; row++)
      v[row * cap + i] = r->v[row * r->cap + k];
  }
  free(r->t);
  free(r->v);
  r->t = t;
  r->v = v;
  r->cap = cap;
  r->head = 0;
  return true;
}

static void ring_put(struct ss__ring *r, size_t rows, uint32_t k, int64_t t, const double *vals) {
  r->t[k] = t;
  for (size_t row = 0; row < rows; row++)
    r->v[row * r->cap + k] = vals[row];
}

/* Adds the sample (t, vals) to r (see window.c's opening comment). */
static void ring_push(struct ss__ring *r, size_t rows, int64_t now, const double *vals) {
  /* drop what left the window */
  while (r->len && now - r->t[r->head] > SS_METRICS_WINDOW_MS) {
    r->head = (r->head + 1) % r->cap;
    r->len--;
  }
  if (r->len) {
    uint32_t newest = slot(r, r->len - 1);
    if (now <= r->t[newest]) { /* the clock stepped back: refresh values, keep time */
      ring_put(r, rows, newest, r->t[newest], vals);
      return;
    }
    if (r->len >= 2 && r->t[newest] - r->t[slot(r, r->len - 2)] < SS_METRICS_SAMPLE_SPACING_MS) {
      ring_put(r, rows, newest, now, vals);
      return;
    }
  }
  if (r->len == r->cap && r->cap < SS_METRICS_WINDOW_SAMPLES) {
    uint32_t cap = r->cap ? 2 * r->cap : SS__RING_INITIAL;
    if (cap > SS_METRICS_WINDOW_SAMPLES)
      cap = SS_METRICS_WINDOW_SAMPLES;
    ring_grow(r, rows, cap); /* out of memory: stay at this size, overwrite the oldest */
  }
  if (!r->cap)
    return; /* no memory for even the first ring: no window for this series */
  if (r->len == r->cap) {
    r->head = (r->head + 1) % r->cap;
    r->len--;
  }
  ring_put(r, rows, slot(r, r->len), now, vals);
  r->len++;
}

void ss_metrics_sample(struct ss_metrics *m, int64_t now_ms) {
  if (!m)
    return;
  ss__process_refresh(m);
  double vals[SS_METRICS_MAX_BOUNDS + 2];
  /* the write lock: rings change, and ss_metrics_each_series reads them */
  pthread_rwlock_wrlock(&m->lock);
  for (size_t i = 0; i < m->n_fams; i++) {
    struct ss__family *f = m->fams[i];
    for (size_t j = 0; j < f->n_series; j++) {
      struct ss_series *s = f->series[j];
      ss__series_values(s, vals);
      ring_push(&s->ring, ss__rows(f), now_ms, vals);
    }
  }
  pthread_rwlock_unlock(&m->lock);
}

/* ---- iteration ---- */

static const char *const suffixes[] = {"_bucket", "_count", "_sum"};

/* Names ts after s's family + suffix, with its labels and le when not NULL. */
static void name_series(const struct ss_series *s, const char *suffix, const char *le,
                        struct ss_timeseries *ts) {
  const struct ss__family *f = s->fam;
  snprintf(ts->name, sizeof ts->name, "%s%s", f->name, suffix);
  ts->n_labels = f->n_labels;
  for (size_t i = 0; i < f->n_labels; i++) {
    snprintf(ts->label_names[i], sizeof ts->label_names[i], "%s", f->label_names[i]);
    snprintf(ts->label_values[i], sizeof ts->label_values[i], "%s", s->values[i]);
  }
  if (le) {
    snprintf(ts->label_names[ts->n_labels], sizeof ts->label_names[0], "le");
    snprintf(ts->label_values[ts->n_labels], sizeof ts->label_values[0], "%s", le);
    ts->n_labels++;
  }
}

/* Calls fn with row of s's ring as a sample series named f->name + suffix,
 * with le when not NULL. */
static void emit(const struct ss_series *s, size_t row, const char *suffix, const char *le,
                 struct ss_timeseries *ts, struct ss_sample *scratch,
                 void (*fn)(void *ctx, const struct ss_timeseries *ts), void *ctx) {
  const struct ss__ring *r = &s->ring;
  name_series(s, suffix, le, ts);
  for (uint32_t i = 0; i < r->len; i++) {
    uint32_t k = slot(r, i);
    scratch[i] = (struct ss_sample){r->t[k], r->v[row * r->cap + k]};
  }
  ts->samples = scratch;
  ts->n_samples = r->len;
  fn(ctx, ts);
}

/* Which of family f's sample series the name asks for (NULL: all): *plain
 * the series itself (not a histogram), want[k] the histogram's
 * suffixes[k] (_bucket, _count, _sum). False when none. */
static bool family_wanted(const struct ss__family *f, const char *name, bool *plain,
                          bool want[3]) {
  size_t flen = strlen(f->name);
  bool hist = f->type == SS_METRIC_HISTOGRAM;
  *plain = !hist && (!name || strcmp(name, f->name) == 0);
  for (size_t k = 0; k < 3; k++)
    want[k] = hist && (!name || (strncmp(name, f->name, flen) == 0 &&
                                 strcmp(name + flen, suffixes[k]) == 0));
  return *plain || want[0] || want[1] || want[2];
}

void ss_metrics_each_series(struct ss_metrics *m, const char *name,
                            void (*fn)(void *ctx, const struct ss_timeseries *ts), void *ctx) {
  if (!m || !fn)
    return;
  struct ss_timeseries ts;
  struct ss_sample scratch[SS_METRICS_WINDOW_SAMPLES];
  pthread_rwlock_rdlock(&m->lock);
  for (size_t i = 0; i < m->n_fams; i++) {
    const struct ss__family *f = m->fams[i];
    bool want_plain, want[3];
    if (!family_wanted(f, name, &want_plain, want))
      continue;
    for (size_t j = 0; j < f->n_series; j++) {
      const struct ss_series *s = f->series[j];
      if (!s->ring.len)
        continue;
      if (want_plain)
        emit(s, 0, "", NULL, &ts, scratch, fn, ctx);
      if (want[0])
        for (size_t b = 0; b <= f->n_bounds; b++) {
          char le[SS__FLOAT_MAX];
          ss__fmt_float(b < f->n_bounds ? f->bounds[b] : (double)INFINITY, le);
          emit(s, b, "_bucket", le, &ts, scratch, fn, ctx);
        }
      if (want[1]) /* _count is the +Inf bucket's row */
        emit(s, f->n_bounds, "_count", NULL, &ts, scratch, fn, ctx);
      if (want[2])
        emit(s, f->n_bounds + 1, "_sum", NULL, &ts, scratch, fn, ctx);
    }
  }
  pthread_rwlock_unlock(&m->lock);
}

const char *ss_timeseries_label(const struct ss_timeseries *ts, const char *name) {
  for (size_t i = 0; i < ts->n_labels; i++)
    if (strcmp(ts->label_names[i], name) == 0)
      return ts->label_values[i];
  return "";
}

void ss_metrics_each_current(struct ss_metrics *m, const char *name, int64_t now_ms,
                             void (*fn)(void *ctx, const struct ss_timeseries *ts), void *ctx) {
  if (!m || !fn)
    return;
  struct ss_timeseries ts;
  struct ss_sample one;
  double vals[SS_METRICS_MAX_BOUNDS + 2];
  pthread_rwlock_rdlock(&m->lock);
  for (size_t i = 0; i < m->n_fams; i++) {
    const struct ss__family *f = m->fams[i];
    bool want_plain, want[3];
    if (!family_wanted(f, name, &want_plain, want))
      continue;
    for (size_t j = 0; j < f->n_series; j++) {
      struct ss_series *s = f->series[j];
      ss__series_values(s, vals);
      ts.samples = &one;
      ts.n_samples = 1;
      if (want_plain) {
        name_series(s, "", NULL, &ts);
        one = (struct ss_sample){now_ms, vals[0]};
        fn(ctx, &ts);
      }
      if (want[0])
        for (size_t b = 0; b <= f->n_bounds; b++) {
          char le[SS__FLOAT_MAX];
          ss__fmt_float(b < f->n_bounds ? f->bounds[b] : (double)INFINITY, le);
          name_series(s, "_bucket", le, &ts);
          one = (struct ss_sample){now_ms, vals[b]};
          fn(ctx, &ts);
        }
      if (want[1]) {
        name_series(s, "_count", NULL, &ts);
        one = (struct ss_sample){now_ms, vals[f->n_bounds]};
        fn(ctx, &ts);
      }
      if (want[2]) {
        name_series(s, "_sum", NULL, &ts);
        one = (struct ss_sample){now_ms, vals[f->n_bounds + 1]};
        fn(ctx, &ts);
      }
    }
  }
  pthread_rwlock_unlock(&m->lock);
}

struct sum_ctx {
  const char *const *names, *const *values;
  size_t n;
  double sum;
};

static void sum_cb(void *ctx, const struct ss_timeseries *ts) {
  struct sum_ctx *c = ctx;
  for (size_t i = 0; i < c->n; i++) {
    const char *v = "";
    for (size_t j = 0; j < ts->n_labels; j++)
      if (strcmp(ts->label_names[j], c->names[i]) == 0)
        v = ts->label_values[j];
    if (strcmp(v, c->values[i]) != 0)
      return;
  }
  c->sum += ts->samples[0].v;
}

double ss_metrics_current_sum(struct ss_metrics *m, const char *name,
                              const char *const *label_names, const char *const *label_values,
                              size_t n) {
  struct sum_ctx c = {label_names, label_values, n, 0};
  ss_metrics_each_current(m, name, 0, sum_cb, &c);
  return c.sum;
}
