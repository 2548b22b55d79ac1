/* registry.c: the metrics registry: families, their series found by a hash
 * of the label values, and the lock-free observations. Exposition is in
 * expose.c, the window in window.c, the process_* metrics in process.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "metrics/internal.h"

/* Load factor 1: the table doubles when it holds as many series as chains. */
#define TABLE_INITIAL 64

static const double seldon_bounds[] = SS_METRICS_SELDON_BUCKETS;
_Static_assert(sizeof seldon_bounds / sizeof *seldon_bounds == SS_METRICS_N_SELDON_BUCKETS,
               "SS_METRICS_N_SELDON_BUCKETS counts SS_METRICS_SELDON_BUCKETS");

/* ---- names ---- */

/* Prometheus' metric names: [a-zA-Z_:][a-zA-Z0-9_:]*; label names the
 * same without ':'. */
static bool valid_name(const char *s, bool colon) {
  if (!s || !*s)
    return false;
  for (const char *p = s; *p; p++) {
    char c = *p;
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (colon && c == ':') || (p != s && c >= '0' && c <= '9');
    if (!ok)
      return false;
  }
  return true;
}

/* ---- families ---- */

static void family_free(struct ss__family *f) {
  if (!f)
    return;
  free(f->name);
  free(f->help);
  for (size_t i = 0; i < f->n_labels; i++)
    free(f->label_names[i]);
  free(f->bounds);
  free(f->series);
  free(f);
}

/* Index of name in m->fams, or where it would go (*found false). */
static size_t family_index(const struct ss_metrics *m, const char *name, bool *found) {
  size_t lo = 0, hi = m->n_fams;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(m->fams[mid]->name, name);
    if (c == 0) {
      *found = true;
      return mid;
    }
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  *found = false;
  return lo;
}

static struct ss__family *family_find(const struct ss_metrics *m, const char *name) {
  bool found;
  size_t i = family_index(m, name, &found);
  return found ? m->fams[i] : NULL;
}

/* Same declaration as f? */
static bool family_same(const struct ss__family *f, enum ss_metric_type type,
                        const char *const *label_names, size_t n_labels, const double *bounds,
                        size_t n_bounds) {
  if (f->type != type || f->n_labels != n_labels)
    return false;
  for (size_t i = 0; i < n_labels; i++)
    if (strcmp(f->label_names[i], label_names[i]) != 0)
      return false;
  if (type != SS_METRIC_HISTOGRAM)
    return true;
  if (f->n_bounds != n_bounds)
    return false;
  for (size_t i = 0; i < n_bounds; i++)
    if (f->bounds[i] != bounds[i])
      return false;
  return true;
}

static struct ss_series *series_get(struct ss_metrics *m, struct ss__family *f,
                                    const char *const *values);

int ss_metrics_family(struct ss_metrics *m, const char *name, enum ss_metric_type type,
                      const char *help, const char *const *label_names, size_t n_labels,
                      const double *bounds, size_t n_bounds) {
  if (!m || !valid_name(name, true) || (n_labels && !label_names))
    return SS_EINVALID;
  if (type != SS_METRIC_COUNTER && type != SS_METRIC_GAUGE && type != SS_METRIC_HISTOGRAM)
    return SS_EINVALID;
  if (strlen(name) > SS_METRICS_NAME_MAX || n_labels > SS_METRICS_MAX_LABELS)
    return SS_ELIMIT;
  for (size_t i = 0; i < n_labels; i++) {
    const char *l = label_names[i];
    if (!valid_name(l, false) || strncmp(l, "__", 2) == 0)
      return SS_EINVALID;
    if (type == SS_METRIC_HISTOGRAM && strcmp(l, "le") == 0)
      return SS_EINVALID;
    if (strlen(l) > SS_METRICS_LABEL_NAME_MAX)
      return SS_ELIMIT;
    for (size_t j = 0; j < i; j++)
      if (strcmp(label_names[j], l) == 0)
        return SS_EINVALID;
  }
  if (type == SS_METRIC_HISTOGRAM) {
    if (!bounds) {
      bounds = seldon_bounds;
      n_bounds = SS_METRICS_N_SELDON_BUCKETS;
    }
    if (n_bounds && isinf(bounds[n_bounds - 1]) && bounds[n_bounds - 1] > 0)
      n_bounds--; /* +Inf is implied */
    if (n_bounds > SS_METRICS_MAX_BOUNDS)
      return SS_ELIMIT;
    for (size_t i = 0; i < n_bounds; i++)
      if (!isfinite(bounds[i]) || (i && !(bounds[i] > bounds[i - 1])))
        return SS_EINVALID;
  } else {
    n_bounds = 0;
  }

  int rc = SS_EOK;
  struct ss__family *f = NULL;
  pthread_rwlock_wrlock(&m->lock);
  bool found;
  size_t at = family_index(m, name, &found);
  if (found) {
    if (!family_same(m->fams[at], type, label_names, n_labels, bounds, n_bounds))
      rc = SS_ECONFLICT;
    goto out;
  }
  if (m->n_fams == m->cap_fams) {
    size_t cap = m->cap_fams ? 2 * m->cap_fams : 16;
    struct ss__family **v = realloc(m->fams, cap * sizeof *v);
    if (!v) {
      rc = SS_ENOMEM;
      goto out;
    }
    m->fams = v;
    m->cap_fams = cap;
  }
  if (!(f = calloc(1, sizeof *f))) {
    rc = SS_ENOMEM;
    goto out;
  }
  f->type = type;
  f->name = strdup(name);
  f->help = strdup(help ? help : "");
  if (!f->name || !f->help)
    rc = SS_ENOMEM;
  for (size_t i = 0; i < n_labels && rc == SS_EOK; i++) {
    if ((f->label_names[i] = strdup(label_names[i])))
      f->n_labels++;
    else
      rc = SS_ENOMEM;
  }
  if (rc == SS_EOK && n_bounds) {
    if ((f->bounds = malloc(n_bounds * sizeof *f->bounds))) {
      memcpy(f->bounds, bounds, n_bounds * sizeof *f->bounds);
      f->n_bounds = n_bounds;
    } else {
      rc = SS_ENOMEM;
    }
  }
  if (rc != SS_EOK)
    goto out;
  memmove(m->fams + at + 1, m->fams + at, (m->n_fams - at) * sizeof *m->fams);
  m->fams[at] = f;
  m->n_fams++;
  /* a family without labels has exactly one series: expose it from the start */
  if (n_labels == 0 && !series_get(m, f, NULL)) {
    memmove(m->fams + at, m->fams + at + 1, (m->n_fams - at - 1) * sizeof *m->fams);
    m->n_fams--;
    rc = SS_ENOMEM;
    goto out;
  }
  f = NULL;
out:
  pthread_rwlock_unlock(&m->lock);
  family_free(f);
  return rc;
}

/* ---- series: hashing and lookup ---- */

/* FNV-1a, 64 bits, over the family name and each value with its length
 * (so that {"ab",""} and {"a","b"} differ). */
static uint64_t fnv(uint64_t h, const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++) {
    h ^= b[i];
    h *= UINT64_C(0x100000001b3);
  }
  return h;
}

static uint64_t series_hash(const struct ss__family *f, const char *const *values) {
  uint64_t h = fnv(UINT64_C(0xcbf29ce484222325), f->name, strlen(f->name) + 1);
  for (size_t i = 0; i < f->n_labels; i++) {
    const char *v = values && values[i] ? values[i] : "";
    uint64_t n = strlen(v);
    h = fnv(h, &n, sizeof n);
    h = fnv(h, v, n);
  }
  return h;
}

static bool series_matches(const struct ss_series *s, const struct ss__family *f,
                           uint64_t hash, const char *const *values) {
  if (s->fam != f || s->hash != hash)
    return false;
  for (size_t i = 0; i < f->n_labels; i++)
    if (strcmp(s->values[i], values && values[i] ? values[i] : "") != 0)
      return false;
  return true;
}

static struct ss_series *table_find(const struct ss_metrics *m, const struct ss__family *f,
                                    uint64_t hash, const char *const *values) {
  if (!m->table_size)
    return NULL;
  for (struct ss_series *s = m->table[hash & (m->table_size - 1)]; s; s = s->hnext)
    if (series_matches(s, f, hash, values))
      return s;
  return NULL;
}

static bool table_grow(struct ss_metrics *m) {
  size_t size = m->table_size ? 2 * m->table_size : TABLE_INITIAL;
  struct ss_series **t = calloc(size, sizeof *t);
  if (!t)
    return false;
  for (size_t i = 0; i < m->table_size; i++) {
    struct ss_series *s = m->table[i];
    while (s) {
      struct ss_series *next = s->hnext;
      size_t b = s->hash & (size - 1);
      s->hnext = t[b];
      t[b] = s;
      s = next;
    }
  }
  free(m->table);
  m->table = t;
  m->table_size = size;
  return true;
}

static void table_remove(struct ss_metrics *m, struct ss_series *s) {
  struct ss_series **p = &m->table[s->hash & (m->table_size - 1)];
  while (*p && *p != s)
    p = &(*p)->hnext;
  if (*p)
    *p = s->hnext;
  s->hnext = NULL;
  m->n_series--;
}

/* Label values compared in the family's label order: the exposition order. */
static int series_cmp(const struct ss_series *a, const struct ss_series *b) {
  for (size_t i = 0; i < a->fam->n_labels; i++) {
    int c = strcmp(a->values[i], b->values[i]);
    if (c)
      return c;
  }
  return 0;
}

/* Where s goes in f's sorted list. */
static size_t family_series_index(const struct ss__family *f, const struct ss_series *s) {
  size_t lo = 0, hi = f->n_series;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (series_cmp(f->series[mid], s) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* Makes the series (write lock held). */
static struct ss_series *series_new(struct ss_metrics *m, struct ss__family *f, uint64_t hash,
                                    const char *const *values) {
  size_t nb = f->type == SS_METRIC_HISTOGRAM ? f->n_bounds + 1 : 0;
  size_t strings = 0;
  for (size_t i = 0; i < f->n_labels; i++)
    strings += strlen(values && values[i] ? values[i] : "") + 1;
  if (f->n_series == f->cap_series) {
    size_t cap = f->cap_series ? 2 * f->cap_series : 8;
    struct ss_series **v = realloc(f->series, cap * sizeof *v);
    if (!v)
      return NULL;
    f->series = v;
    f->cap_series = cap;
  }
  if (m->n_series + 1 > m->table_size && !table_grow(m))
    return NULL;
  struct ss_series *s = calloc(1, sizeof *s + nb * sizeof s->buckets[0] + strings);
  if (!s)
    return NULL;
  s->fam = f;
  s->hash = hash;
  atomic_init(&s->released, false);
  atomic_init(&s->value, ss__double_to_bits(0));
  atomic_init(&s->sum, ss__double_to_bits(0));
  for (size_t i = 0; i < nb; i++)
    atomic_init(&s->buckets[i], 0);
  char *p = (char *)(s->buckets + nb);
  for (size_t i = 0; i < f->n_labels; i++) {
    const char *v = values && values[i] ? values[i] : "";
    size_t n = strlen(v) + 1;
    memcpy(p, v, n);
    s->values[i] = p;
    p += n;
  }
  size_t b = hash & (m->table_size - 1);
  s->hnext = m->table[b];
  m->table[b] = s;
  m->n_series++;
  size_t at = family_series_index(f, s);
  memmove(f->series + at + 1, f->series + at, (f->n_series - at) * sizeof *f->series);
  f->series[at] = s;
  f->n_series++;
  return s;
}

/* Finds or makes (write lock held). */
static struct ss_series *series_get(struct ss_metrics *m, struct ss__family *f,
                                    const char *const *values) {
  uint64_t hash = series_hash(f, values);
  struct ss_series *s = table_find(m, f, hash, values);
  return s ? s : series_new(m, f, hash, values);
}

struct ss_series *ss_metrics_series(struct ss_metrics *m, const char *name,
                                    const char *const *label_values) {
  if (!m || !name)
    return NULL;
  pthread_rwlock_rdlock(&m->lock);
  struct ss__family *f = family_find(m, name);
  struct ss_series *s = NULL;
  uint64_t hash = 0;
  if (f) {
    for (size_t i = 0; i < f->n_labels; i++)
      if (label_values && label_values[i] &&
          strlen(label_values[i]) > SS_METRICS_LABEL_VALUE_MAX) {
        pthread_rwlock_unlock(&m->lock);
        return NULL;
      }
    hash = series_hash(f, label_values);
    s = table_find(m, f, hash, label_values);
  }
  pthread_rwlock_unlock(&m->lock);
  if (s || !f)
    return s;
  /* Families are never freed before the registry, so f stays valid; the
   * series may have been made meanwhile: look again under the write lock. */
  pthread_rwlock_wrlock(&m->lock);
  if (!(s = table_find(m, f, hash, label_values)))
    s = series_new(m, f, hash, label_values);
  pthread_rwlock_unlock(&m->lock);
  return s;
}

void ss_series_release(struct ss_metrics *m, struct ss_series *s) {
  if (!m || !s)
    return;
  pthread_rwlock_wrlock(&m->lock);
  if (!atomic_load(&s->released)) {
    atomic_store(&s->released, true);
    struct ss__family *f = s->fam;
    for (size_t i = 0; i < f->n_series; i++)
      if (f->series[i] == s) {
        memmove(f->series + i, f->series + i + 1, (f->n_series - i - 1) * sizeof *f->series);
        f->n_series--;
        break;
      }
    table_remove(m, s);
    ss__ring_free(&s->ring);
    s->hnext = m->released;
    m->released = s;
    if (s == m->proc_cpu)
      m->proc_cpu = NULL;
    if (s == m->proc_rss)
      m->proc_rss = NULL;
    if (s == m->proc_fds)
      m->proc_fds = NULL;
    if (s == m->proc_start)
      m->proc_start = NULL;
  }
  pthread_rwlock_unlock(&m->lock);
}

/* ---- the registry ---- */

struct ss_metrics *ss_metrics_new(void) {
  struct ss_metrics *m = calloc(1, sizeof *m);
  if (!m)
    return NULL;
  if (pthread_rwlock_init(&m->lock, NULL) != 0) {
    free(m);
    return NULL;
  }
  if (ss__process_init(m) != SS_EOK) {
    ss_metrics_free(m);
    return NULL;
  }
  return m;
}

void ss_metrics_free(struct ss_metrics *m) {
  if (!m)
    return;
  for (size_t i = 0; i < m->table_size; i++) {
    struct ss_series *s = m->table[i];
    while (s) {
      struct ss_series *next = s->hnext;
      ss__ring_free(&s->ring);
      free(s);
      s = next;
    }
  }
  while (m->released) {
    struct ss_series *next = m->released->hnext;
    free(m->released);
    m->released = next;
  }
  for (size_t i = 0; i < m->n_fams; i++)
    family_free(m->fams[i]);
  free(m->fams);
  free(m->table);
  pthread_rwlock_destroy(&m->lock);
  free(m);
}

/* ---- observations: lock-free ---- */

static void atomic_add_double(_Atomic uint64_t *a, double v) {
  uint64_t old = atomic_load_explicit(a, memory_order_relaxed);
  uint64_t new;
  do
    new = ss__double_to_bits(ss__bits_to_double(old) + v);
  while (!atomic_compare_exchange_weak_explicit(a, &old, new, memory_order_relaxed,
                                                memory_order_relaxed));
}

static bool live(const struct ss_series *s, enum ss_metric_type type) {
  return s && s->fam->type == type &&
         !atomic_load_explicit(&s->released, memory_order_relaxed);
}

void ss_series_inc(struct ss_series *s, double v) {
  if (s && s->fam->type == SS_METRIC_GAUGE) {
    ss_series_add(s, v);
    return;
  }
  if (!live(s, SS_METRIC_COUNTER) || !(v >= 0)) /* counters never go down; NaN too */
    return;
  atomic_add_double(&s->value, v);
}

void ss_series_add(struct ss_series *s, double v) {
  if (live(s, SS_METRIC_GAUGE))
    atomic_add_double(&s->value, v);
}

void ss_series_set(struct ss_series *s, double v) {
  if (live(s, SS_METRIC_GAUGE))
    atomic_store_explicit(&s->value, ss__double_to_bits(v), memory_order_relaxed);
}

void ss__series_store(struct ss_series *s, double v) {
  if (s)
    atomic_store_explicit(&s->value, ss__double_to_bits(v), memory_order_relaxed);
}

void ss_series_observe(struct ss_series *s, double v) {
  if (!live(s, SS_METRIC_HISTOGRAM))
    return;
  const struct ss__family *f = s->fam;
  /* the first bound >= v (le is inclusive); NaN and values above every
   * bound land in +Inf, as client_golang does */
  size_t lo = 0, hi = f->n_bounds;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (v <= f->bounds[mid])
      hi = mid;
    else
      lo = mid + 1;
  }
  if (isnan(v))
    lo = f->n_bounds;
  atomic_fetch_add_explicit(&s->buckets[lo], 1, memory_order_relaxed);
  atomic_add_double(&s->sum, v);
}

void ss__series_values(struct ss_series *s, double *out) {
  const struct ss__family *f = s->fam;
  if (f->type != SS_METRIC_HISTOGRAM) {
    out[0] = ss__atomic_load_double(&s->value);
    return;
  }
  uint64_t cum = 0;
  for (size_t i = 0; i <= f->n_bounds; i++) {
    cum += atomic_load_explicit(&s->buckets[i], memory_order_relaxed);
    out[i] = (double)cum;
  }
  out[f->n_bounds + 1] = ss__atomic_load_double(&s->sum);
}
