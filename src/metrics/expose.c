/* expose.c: the Prometheus text exposition (format 0.0.4) of a registry:
 * HELP and TYPE once per family, families and series in sorted order,
 * label values escaped, histograms as cumulative _bucket lines with
 * le="+Inf", then _sum and _count. The values are read with atomic loads
 * while observations go on; the registry's read lock only keeps the set of
 * series still. */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "metrics/internal.h"

/* A growable text buffer; a failed allocation sticks (nomem). */
struct buf {
  char *p;
  size_t len, cap;
  bool nomem;
};

static void buf_add(struct buf *b, const char *s, size_t n) {
  if (b->nomem)
    return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (b->len + n + 1 > cap)
      cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
      b->nomem = true;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static void buf_str(struct buf *b, const char *s) { buf_add(b, s, strlen(s)); }

/* Escapes backslash and newline (HELP), and double quotes too (label values). */
static void buf_escaped(struct buf *b, const char *s, bool quote) {
  const char *run = s;
  for (; *s; s++) {
    const char *rep = *s == '\\'          ? "\\\\"
                      : *s == '\n'        ? "\\n"
                      : quote && *s == '"' ? "\\\""
                                           : NULL;
    if (!rep)
      continue;
    buf_add(b, run, (size_t)(s - run));
    buf_str(b, rep);
    run = s + 1;
  }
  buf_add(b, run, (size_t)(s - run));
}

size_t ss__fmt_float(double v, char *buf) {
  int n;
  if (isnan(v))
    n = snprintf(buf, SS__FLOAT_MAX, "NaN");
  else if (isinf(v))
    n = snprintf(buf, SS__FLOAT_MAX, v > 0 ? "+Inf" : "-Inf");
  else if (v == trunc(v) && fabs(v) < 9007199254740992.0) /* 2^53: exact integers */
    n = snprintf(buf, SS__FLOAT_MAX, "%.0f", v);
  else {
    /* the shortest of 15..17 significant digits that reads back the same
     * (17 always does) */
    for (int prec = 15;; prec++) {
      n = snprintf(buf, SS__FLOAT_MAX, "%.*g", prec, v);
      if (prec == 17 || strtod(buf, NULL) == v)
        break;
    }
  }
  return (size_t)n;
}

static void buf_float(struct buf *b, double v) {
  char tmp[SS__FLOAT_MAX];
  buf_add(b, tmp, ss__fmt_float(v, tmp));
}

static void buf_u64(struct buf *b, uint64_t v) {
  char tmp[24];
  int n = snprintf(tmp, sizeof tmp, "%" PRIu64, v);
  buf_add(b, tmp, (size_t)n);
}

/* name{l1="v1",...[,le="x"]} with suffix after name */
static void buf_series_name(struct buf *b, const struct ss_series *s, const char *suffix,
                            const char *le) {
  const struct ss__family *f = s->fam;
  buf_str(b, f->name);
  buf_str(b, suffix);
  if (!f->n_labels && !le)
    return;
  buf_add(b, "{", 1);
  for (size_t i = 0; i < f->n_labels; i++) {
    if (i)
      buf_add(b, ",", 1);
    buf_str(b, f->label_names[i]);
    buf_add(b, "=\"", 2);
    buf_escaped(b, s->values[i], true);
    buf_add(b, "\"", 1);
  }
  if (le) {
    buf_str(b, f->n_labels ? ",le=\"" : "le=\"");
    buf_str(b, le);
    buf_add(b, "\"", 1);
  }
  buf_add(b, "}", 1);
}

static const char *type_name(enum ss_metric_type t) {
  return t == SS_METRIC_COUNTER ? "counter" : t == SS_METRIC_GAUGE ? "gauge" : "histogram";
}

static void expose_series(struct buf *b, struct ss_series *s) {
  const struct ss__family *f = s->fam;
  if (f->type != SS_METRIC_HISTOGRAM) {
    buf_series_name(b, s, "", NULL);
    buf_add(b, " ", 1);
    buf_float(b, ss__atomic_load_double(&s->value));
    buf_add(b, "\n", 1);
    return;
  }
  uint64_t cum = 0;
  for (size_t i = 0; i <= f->n_bounds; i++) {
    char le[SS__FLOAT_MAX];
    ss__fmt_float(i < f->n_bounds ? f->bounds[i] : INFINITY, le);
    cum += atomic_load_explicit(&s->buckets[i], memory_order_relaxed);
    buf_series_name(b, s, "_bucket", le);
    buf_add(b, " ", 1);
    buf_u64(b, cum);
    buf_add(b, "\n", 1);
  }
  buf_series_name(b, s, "_sum", NULL);
  buf_add(b, " ", 1);
  buf_float(b, ss__atomic_load_double(&s->sum));
  buf_add(b, "\n", 1);
  /* the +Inf bucket's count: both read the same loads, so they agree */
  buf_series_name(b, s, "_count", NULL);
  buf_add(b, " ", 1);
  buf_u64(b, cum);
  buf_add(b, "\n", 1);
}

char *ss_metrics_expose(struct ss_metrics *m) {
  if (!m)
    return NULL;
  ss__process_refresh(m);
  struct buf b = {0};
  buf_add(&b, "", 0); /* "" for an empty registry, not NULL */
  pthread_rwlock_rdlock(&m->lock);
  for (size_t i = 0; i < m->n_fams; i++) {
    const struct ss__family *f = m->fams[i];
    if (!f->n_series)
      continue;
    if (*f->help) {
      buf_str(&b, "# HELP ");
      buf_str(&b, f->name);
      buf_add(&b, " ", 1);
      buf_escaped(&b, f->help, false);
      buf_add(&b, "\n", 1);
    }
    buf_str(&b, "# TYPE ");
    buf_str(&b, f->name);
    buf_add(&b, " ", 1);
    buf_str(&b, type_name(f->type));
    buf_add(&b, "\n", 1);
    for (size_t j = 0; j < f->n_series; j++)
      expose_series(&b, f->series[j]);
  }
  pthread_rwlock_unlock(&m->lock);
  if (b.nomem) {
    free(b.p);
    return NULL;
  }
  return b.p;
}
