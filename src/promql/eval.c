/* eval.c: evaluates a parsed query at one instant against a source of
 * series, with Prometheus' semantics (2.42, the version our end-to-end tests
 * run): selectors, rate/irate/increase, aggregations, scalar arithmetic and
 * histogram_quantile. A function of (query, series, t): no clock, no I/O;
 * where series come from is the source's business (source.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promql/internal.h"

/* One element of an instant vector, or one series of a range vector. */
struct elem {
  size_t n_labels;
  struct ss_promql_label *labels; /* sorted by name */
  double v;
  struct ss_sample *samples; /* range vector only, oldest first */
  size_t n_samples;
};

struct value {
  enum ss__pq_type type;
  double scalar;
  size_t n, cap;
  struct elem *e;
};

struct ev {
  struct ss_arena *a;
  const struct ss_promql_source *src;
  int64_t t_ms;
  struct ss_error *err;
  int rc; /* first error */
};

static int ev_fail(struct ev *ev, enum ss_err code, const char *msg) {
  if (!ev->rc)
    ev->rc = ss_error_set(ev->err, code, 0, 0, "%s", msg);
  return ev->rc;
}

/* Appends a zeroed element; NULL when out of memory. */
static struct elem *push(struct ev *ev, struct value *v) {
  if (v->n == v->cap) {
    size_t cap = v->cap ? v->cap * 2 : 8;
    struct elem *e = ss_arena_calloc(ev->a, cap, sizeof *e);
    if (!e) {
      ev_fail(ev, SS_ENOMEM, "out of memory");
      return NULL;
    }
    if (v->n)
      memcpy(e, v->e, v->n * sizeof *e);
    v->e = e;
    v->cap = cap;
  }
  struct elem *e = &v->e[v->n++];
  memset(e, 0, sizeof *e);
  return e;
}

static int cmp_label(const void *a, const void *b) {
  return strcmp(((const struct ss_promql_label *)a)->name,
                ((const struct ss_promql_label *)b)->name);
}

static const char *label_value(const struct elem *e, const char *name) {
  for (size_t i = 0; i < e->n_labels; i++)
    if (strcmp(e->labels[i].name, name) == 0)
      return e->labels[i].value;
  return NULL;
}

/* The labels of e without __name__ (Prometheus drops the metric name from
 * the output of functions and arithmetic: the value is no longer that metric). */
static void drop_name(struct elem *e) {
  size_t o = 0;
  for (size_t i = 0; i < e->n_labels; i++)
    if (strcmp(e->labels[i].name, "__name__") != 0)
      e->labels[o++] = e->labels[i];
  e->n_labels = o;
}

/* A string that is equal for equal label sets (labels are sorted). */
static char *label_key(struct ev *ev, const struct ss_promql_label *l, size_t n) {
  size_t len = 1;
  for (size_t i = 0; i < n; i++)
    len += strlen(l[i].name) + strlen(l[i].value) + 2;
  char *k = ss_arena_alloc(ev->a, len);
  if (!k) {
    ev_fail(ev, SS_ENOMEM, "out of memory");
    return NULL;
  }
  char *p = k;
  for (size_t i = 0; i < n; i++) {
    /* \xff cannot occur in UTF-8, so it separates unambiguously */
    p += sprintf(p, "%s\xff%s\xff", l[i].name, l[i].value);
  }
  *p = '\0';
  return k;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Prometheus refuses a vector where two elements have the same labels
 * (after a function dropped the names that told them apart). */
static int check_duplicates(struct ev *ev, const struct value *v) {
  if (v->n < 2)
    return 0;
  char **keys = ss_arena_calloc(ev->a, v->n, sizeof *keys);
  if (!keys)
    return ev_fail(ev, SS_ENOMEM, "out of memory");
  for (size_t i = 0; i < v->n; i++)
    if (!(keys[i] = label_key(ev, v->e[i].labels, v->e[i].n_labels)))
      return ev->rc;
  qsort(keys, v->n, sizeof *keys, cmp_str);
  for (size_t i = 1; i < v->n; i++)
    if (strcmp(keys[i - 1], keys[i]) == 0)
      return ev_fail(ev, SS_EINVALID, "vector cannot contain metrics with the same labelset");
  return 0;
}

/* ---- selectors ---- */

struct select_ctx {
  struct ev *ev;
  const struct ss__pq_node *sel;
  int64_t range_ms; /* 0: an instant selector */
  struct value *out;
};

static bool matches(const struct ss__pq_node *sel, const struct ss_timeseries *ts) {
  for (size_t i = 0; i < sel->u.sel.n_matchers; i++) {
    const struct ss__pq_matcher *m = &sel->u.sel.matchers[i];
    const char *v = "";
    if (strcmp(m->name, "__name__") == 0) {
      v = ts->name;
    } else {
      for (size_t j = 0; j < ts->n_labels; j++)
        if (strcmp(ts->label_names[j], m->name) == 0) {
          v = ts->label_values[j];
          break;
        }
    }
    bool ok;
    switch (m->op) {
    case SS__PQ_EQ: ok = strcmp(v, m->value) == 0; break;
    case SS__PQ_NE: ok = strcmp(v, m->value) != 0; break;
    case SS__PQ_RE: ok = regexec(m->re, v, 0, NULL, 0) == 0; break;
    default: ok = regexec(m->re, v, 0, NULL, 0) != 0; break;
    }
    if (!ok)
      return false;
  }
  return true;
}

static void select_one(void *ctx, const struct ss_timeseries *ts) {
  struct select_ctx *c = ctx;
  struct ev *ev = c->ev;
  if (ev->rc || !matches(c->sel, ts))
    return;
  /* Both ends included, as in Prometheus 2.x: [t - range, t]. */
  int64_t from = ev->t_ms - (c->range_ms ? c->range_ms : SS_PROMQL_LOOKBACK_MS);
  size_t lo = ts->n_samples, hi = ts->n_samples; /* [lo, hi) in range */
  while (hi > 0 && ts->samples[hi - 1].t_ms > ev->t_ms)
    hi--;
  lo = hi;
  while (lo > 0 && ts->samples[lo - 1].t_ms >= from)
    lo--;
  if (lo == hi)
    return;
  struct elem *e = push(ev, c->out);
  if (!e)
    return;
  e->labels = ss_arena_calloc(ev->a, ts->n_labels + 1, sizeof *e->labels);
  if (!e->labels) {
    ev_fail(ev, SS_ENOMEM, "out of memory");
    return;
  }
  e->labels[e->n_labels++] = (struct ss_promql_label){"__name__", ss_arena_strdup(ev->a, ts->name)};
  for (size_t i = 0; i < ts->n_labels; i++) {
    if (ts->label_values[i][0] == '\0') /* an empty label is no label */
      continue;
    e->labels[e->n_labels++] = (struct ss_promql_label){
        ss_arena_strdup(ev->a, ts->label_names[i]), ss_arena_strdup(ev->a, ts->label_values[i])};
  }
  for (size_t i = 0; i < e->n_labels; i++)
    if (!e->labels[i].name || !e->labels[i].value) {
      ev_fail(ev, SS_ENOMEM, "out of memory");
      return;
    }
  qsort(e->labels, e->n_labels, sizeof *e->labels, cmp_label);
  if (c->range_ms) {
    e->n_samples = hi - lo;
    e->samples = ss_arena_calloc(ev->a, e->n_samples, sizeof *e->samples);
    if (!e->samples) {
      ev_fail(ev, SS_ENOMEM, "out of memory");
      return;
    }
    memcpy(e->samples, ts->samples + lo, e->n_samples * sizeof *e->samples);
  } else {
    e->v = ts->samples[hi - 1].v; /* the newest sample within the lookback */
  }
}

static const char *selector_name(const struct ss__pq_node *sel) {
  for (size_t i = 0; i < sel->u.sel.n_matchers; i++)
    if (sel->u.sel.matchers[i].op == SS__PQ_EQ &&
        strcmp(sel->u.sel.matchers[i].name, "__name__") == 0)
      return sel->u.sel.matchers[i].value;
  return NULL; /* the source walks every series; the matchers filter */
}

static void eval_selector(struct ev *ev, const struct ss__pq_node *sel, int64_t range_ms,
                          struct value *out) {
  out->type = range_ms ? SS__PQ_MATRIX : SS__PQ_VECTOR;
  struct select_ctx c = {ev, sel, range_ms, out};
  ev->src->each_series(ev->src->ctx, selector_name(sel), select_one, &c);
}

/* ---- rate, irate, increase ---- */

/* Prometheus' extrapolatedRate for counters (2.42): the increase between the
 * first and last sample in the range, a drop read as a counter reset (the
 * value before it is added back), then extrapolated toward the range's ends:
 * to an end when the sample nearest it is within 1.1 average sample
 * intervals of it, else only half an interval (the series likely starts or
 * stops inside the range); and never back past the point where the counter
 * would have been zero. Rate divides by the range. NAN: fewer than 2 samples
 * (the element is dropped). */
static double extrapolated(const struct elem *e, int64_t t_ms, int64_t range_ms, bool is_rate) {
  size_t n = e->n_samples;
  if (n < 2)
    return NAN;
  const struct ss_sample *s = e->samples;
  double result = s[n - 1].v - s[0].v;
  for (size_t i = 1; i < n; i++)
    if (s[i].v < s[i - 1].v)
      result += s[i - 1].v;
  double to_start = (double)(s[0].t_ms - (t_ms - range_ms)) / 1000;
  double to_end = (double)(t_ms - s[n - 1].t_ms) / 1000;
  double sampled = (double)(s[n - 1].t_ms - s[0].t_ms) / 1000;
  double avg_step = sampled / (double)(n - 1);
  if (result > 0 && s[0].v >= 0) {
    double to_zero = sampled * (s[0].v / result);
    if (to_zero < to_start)
      to_start = to_zero;
  }
  double threshold = avg_step * 1.1;
  double interval = sampled;
  interval += to_start < threshold ? to_start : avg_step / 2;
  interval += to_end < threshold ? to_end : avg_step / 2;
  double factor = interval / sampled;
  if (is_rate)
    factor /= (double)range_ms / 1000;
  return result * factor;
}

/* irate: the per-second change between the last two samples (a drop is a
 * reset: the last value is the change). NAN drops the element. */
static double instant_rate(const struct elem *e) {
  size_t n = e->n_samples;
  if (n < 2)
    return NAN;
  const struct ss_sample *prev = &e->samples[n - 2], *last = &e->samples[n - 1];
  double dt = (double)(last->t_ms - prev->t_ms) / 1000;
  if (dt <= 0)
    return NAN;
  double d = last->v < prev->v ? last->v : last->v - prev->v;
  return d / dt;
}

static int eval(struct ev *ev, const struct ss__pq_node *n, struct value *out);

static int eval_counter_fn(struct ev *ev, const struct ss__pq_node *n, struct value *out) {
  const struct ss__pq_node *m = n->u.call.args[0];
  struct value in = {0};
  eval_selector(ev, m->u.matrix.sel, m->u.matrix.range_ms, &in);
  if (ev->rc)
    return ev->rc;
  out->type = SS__PQ_VECTOR;
  for (size_t i = 0; i < in.n; i++) {
    double v;
    bool keep = in.e[i].n_samples >= 2;
    switch (n->u.call.func) {
    case SS__PQ_RATE: v = extrapolated(&in.e[i], ev->t_ms, m->u.matrix.range_ms, true); break;
    case SS__PQ_INCREASE:
      v = extrapolated(&in.e[i], ev->t_ms, m->u.matrix.range_ms, false);
      break;
    default:
      v = instant_rate(&in.e[i]);
      keep = keep && in.e[i].samples[in.e[i].n_samples - 1].t_ms >
                         in.e[i].samples[in.e[i].n_samples - 2].t_ms;
      break;
    }
    if (!keep)
      continue;
    struct elem *e = push(ev, out);
    if (!e)
      return ev->rc;
    *e = in.e[i];
    e->samples = NULL;
    e->n_samples = 0;
    e->v = v;
    drop_name(e);
  }
  return check_duplicates(ev, out);
}

/* ---- histogram_quantile ---- */

struct bucket {
  double upper, count;
};

static int cmp_bucket(const void *a, const void *b) {
  double x = ((const struct bucket *)a)->upper, y = ((const struct bucket *)b)->upper;
  return x < y ? -1 : x > y ? 1 : 0;
}

/* Prometheus' bucketQuantile (2.42): linear interpolation inside the bucket
 * where the rank falls, the lowest bucket starting at 0 (or at its bound when
 * that is <= 0), the +Inf bucket answered by the highest finite bound. */
static double bucket_quantile(double q, struct bucket *b, size_t n) {
  if (isnan(q))
    return NAN;
  if (q < 0)
    return -INFINITY;
  if (q > 1)
    return INFINITY;
  qsort(b, n, sizeof *b, cmp_bucket);
  if (n == 0 || !isinf(b[n - 1].upper) || b[n - 1].upper < 0)
    return NAN;
  /* coalesce equal bounds (from series that differ only in a dropped label) */
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    if (m > 0 && b[m - 1].upper == b[i].upper)
      b[m - 1].count += b[i].count;
    else
      b[m++] = b[i];
  }
  n = m;
  /* counts must not fall as bounds rise; rates of separately scraped
   * buckets can make them, so each takes the maximum so far */
  for (size_t i = 1; i < n; i++)
    if (b[i].count < b[i - 1].count)
      b[i].count = b[i - 1].count;
  if (n < 2)
    return NAN;
  double observations = b[n - 1].count;
  if (observations == 0)
    return NAN;
  double rank = q * observations;
  size_t i = 0;
  while (i < n - 1 && !(b[i].count >= rank))
    i++;
  if (i == n - 1)
    return b[n - 2].upper;
  if (i == 0 && b[0].upper <= 0)
    return b[0].upper;
  double start = 0, end = b[i].upper, count = b[i].count;
  if (i > 0) {
    start = b[i - 1].upper;
    count -= b[i - 1].count;
    rank -= b[i - 1].count;
  }
  return start + (end - start) * (rank / count);
}

static int eval_histogram_quantile(struct ev *ev, const struct ss__pq_node *n,
                                   struct value *out) {
  struct value q = {0}, in = {0};
  if (eval(ev, n->u.call.args[0], &q) || eval(ev, n->u.call.args[1], &in))
    return ev->rc;
  out->type = SS__PQ_VECTOR;
  /* group by every label but le and __name__; the groups' output elements
   * are built in out, their buckets in a parallel array */
  char **keys = ss_arena_calloc(ev->a, in.n + 1, sizeof *keys);
  struct bucket **buckets = ss_arena_calloc(ev->a, in.n + 1, sizeof *buckets);
  size_t *n_buckets = ss_arena_calloc(ev->a, in.n + 1, sizeof *n_buckets);
  if (!keys || !buckets || !n_buckets)
    return ev_fail(ev, SS_ENOMEM, "out of memory");
  for (size_t i = 0; i < in.n; i++) {
    struct elem *e = &in.e[i];
    const char *le = label_value(e, "le");
    if (!le)
      continue;
    char *end;
    double upper = strtod(le, &end);
    if (end == le || *end)
      continue; /* not a bound: Prometheus ignores such series too */
    size_t k = 0;
    for (size_t j = 0; j < e->n_labels; j++)
      if (strcmp(e->labels[j].name, "le") != 0 && strcmp(e->labels[j].name, "__name__") != 0)
        e->labels[k++] = e->labels[j];
    e->n_labels = k;
    char *key = label_key(ev, e->labels, e->n_labels);
    if (!key)
      return ev->rc;
    size_t g = 0;
    while (g < out->n && strcmp(keys[g], key) != 0)
      g++;
    if (g == out->n) {
      struct elem *o = push(ev, out);
      if (!o)
        return ev->rc;
      *o = *e;
      keys[g] = key;
      if (!(buckets[g] = ss_arena_calloc(ev->a, in.n, sizeof **buckets)))
        return ev_fail(ev, SS_ENOMEM, "out of memory");
    }
    buckets[g][n_buckets[g]++] = (struct bucket){upper, e->v};
  }
  for (size_t g = 0; g < out->n; g++)
    out->e[g].v = bucket_quantile(q.scalar, buckets[g], n_buckets[g]);
  return 0;
}

/* ---- aggregations ---- */

static bool in_list(const char *const *l, size_t n, const char *s) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(l[i], s) == 0)
      return true;
  return false;
}

static int eval_agg(struct ev *ev, const struct ss__pq_node *n, struct value *out) {
  struct value in = {0};
  if (eval(ev, n->u.agg.arg, &in))
    return ev->rc;
  out->type = SS__PQ_VECTOR;
  char **keys = ss_arena_calloc(ev->a, in.n + 1, sizeof *keys);
  size_t *counts = ss_arena_calloc(ev->a, in.n + 1, sizeof *counts);
  if (!keys || !counts)
    return ev_fail(ev, SS_ENOMEM, "out of memory");
  for (size_t i = 0; i < in.n; i++) {
    struct elem *e = &in.e[i];
    size_t k = 0;
    for (size_t j = 0; j < e->n_labels; j++) {
      const char *name = e->labels[j].name;
      bool listed = in_list(n->u.agg.labels, n->u.agg.n_labels, name);
      bool keep = n->u.agg.without ? !listed && strcmp(name, "__name__") != 0 : listed;
      if (keep)
        e->labels[k++] = e->labels[j];
    }
    e->n_labels = k;
    char *key = label_key(ev, e->labels, e->n_labels);
    if (!key)
      return ev->rc;
    size_t g = 0;
    while (g < out->n && strcmp(keys[g], key) != 0)
      g++;
    double v = e->v;
    if (g == out->n) {
      struct elem *o = push(ev, out);
      if (!o)
        return ev->rc;
      *o = *e;
      keys[g] = key;
      counts[g] = 1;
      continue;
    }
    struct elem *o = &out->e[g];
    counts[g]++;
    switch (n->u.agg.op) {
    case SS__PQ_SUM: case SS__PQ_AVG: o->v += v; break;
    /* NaN only when every value is NaN, as in Prometheus */
    case SS__PQ_MIN: if (o->v > v || isnan(o->v)) o->v = v; break;
    case SS__PQ_MAX: if (o->v < v || isnan(o->v)) o->v = v; break;
    case SS__PQ_COUNT: break;
    }
  }
  for (size_t g = 0; g < out->n; g++) {
    if (n->u.agg.op == SS__PQ_AVG)
      out->e[g].v /= (double)counts[g];
    else if (n->u.agg.op == SS__PQ_COUNT)
      out->e[g].v = (double)counts[g];
  }
  return 0;
}

/* ---- arithmetic ---- */

static double arith(char op, double a, double b) {
  switch (op) {
  case '+': return a + b;
  case '-': return a - b;
  case '*': return a * b;
  case '/': return a / b;
  case '%': return fmod(a, b);
  default: return pow(a, b);
  }
}

static int eval_binary(struct ev *ev, const struct ss__pq_node *n, struct value *out) {
  struct value l = {0}, r = {0};
  if (eval(ev, n->u.bin.lhs, &l) || eval(ev, n->u.bin.rhs, &r))
    return ev->rc;
  if (l.type == SS__PQ_SCALAR && r.type == SS__PQ_SCALAR) {
    out->type = SS__PQ_SCALAR;
    out->scalar = arith(n->u.bin.op, l.scalar, r.scalar);
    return 0;
  }
  /* the parser let through only vector-scalar and scalar-vector */
  bool vec_left = l.type == SS__PQ_VECTOR;
  *out = vec_left ? l : r;
  for (size_t i = 0; i < out->n; i++) {
    struct elem *e = &out->e[i];
    e->v = vec_left ? arith(n->u.bin.op, e->v, r.scalar) : arith(n->u.bin.op, l.scalar, e->v);
    drop_name(e);
  }
  return check_duplicates(ev, out);
}

static int eval(struct ev *ev, const struct ss__pq_node *n, struct value *out) {
  memset(out, 0, sizeof *out);
  switch (n->kind) {
  case SS__PQ_NUMBER:
    out->type = SS__PQ_SCALAR;
    out->scalar = n->u.number;
    return 0;
  case SS__PQ_SELECTOR:
    eval_selector(ev, n, 0, out);
    return ev->rc;
  case SS__PQ_MATRIX_SEL: /* only as a function argument, handled there */
    return ev_fail(ev, SS_EINTERNAL, "range vector outside a function");
  case SS__PQ_CALL:
    if (n->u.call.func == SS__PQ_HISTOGRAM_QUANTILE)
      return eval_histogram_quantile(ev, n, out);
    return eval_counter_fn(ev, n, out);
  case SS__PQ_AGG:
    return eval_agg(ev, n, out);
  case SS__PQ_BINARY:
    return eval_binary(ev, n, out);
  case SS__PQ_NEG:
    if (eval(ev, n->u.neg, out))
      return ev->rc;
    if (out->type == SS__PQ_SCALAR) {
      out->scalar = -out->scalar;
      return 0;
    }
    for (size_t i = 0; i < out->n; i++) {
      out->e[i].v = -out->e[i].v;
      drop_name(&out->e[i]);
    }
    return check_duplicates(ev, out);
  }
  return ev_fail(ev, SS_EINTERNAL, "unknown node");
}

int ss_promql_eval(const struct ss_promql *p, const struct ss_promql_source *src,
                   int64_t t_ms, struct ss_promql_result **out, struct ss_error *err) {
  *out = NULL;
  struct ss_promql_result *r = calloc(1, sizeof *r);
  struct ev ev = {.src = src, .t_ms = t_ms, .err = err};
  if (!r || !(ev.a = ss_arena_new())) {
    free(r);
    return ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
  }
  r->arena = ev.a;
  struct value v;
  int rc = eval(&ev, p->root, &v);
  if (rc)
    goto out;
  if (v.type == SS__PQ_SCALAR) {
    r->type = SS_PROMQL_SCALAR;
    r->scalar = v.scalar;
    goto out;
  }
  r->type = SS_PROMQL_VECTOR;
  r->n = v.n;
  if (v.n && !(r->elems = ss_arena_calloc(ev.a, v.n, sizeof *r->elems))) {
    rc = ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < v.n; i++)
    r->elems[i] = (struct ss_promql_element){v.e[i].n_labels, v.e[i].labels, v.e[i].v};
out:
  if (rc) {
    ss_promql_result_free(r);
    return rc;
  }
  *out = r;
  return SS_EOK;
}

void ss_promql_result_free(struct ss_promql_result *r) {
  if (!r)
    return;
  ss_arena_free(r->arena);
  free(r);
}
