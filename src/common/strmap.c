/* strmap.c: string -> pointer index (strmap.h). */
#include "common/strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A removed key leaves its slot marked, so that probes go on past it. */
static char dead_key;

struct ss__strmap_slot {
  const char *key; /* NULL: never used; &dead_key: removed */
  void *value;
  uint64_t hash;
};

#define MIN_CAP 16

static uint64_t hash_of(const char *s) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a, 64 bits */
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

void ss_strmap_fini(struct ss_strmap *m) {
  if (!m)
    return;
  free(m->v);
  memset(m, 0, sizeof *m);
}

/* The slot holding key, or NULL. */
static struct ss__strmap_slot *find(const struct ss_strmap *m, const char *key, uint64_t h) {
  if (!m->cap)
    return NULL;
  for (size_t i = (size_t)h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
    struct ss__strmap_slot *s = &m->v[i];
    if (!s->key)
      return NULL;
    if (s->key != &dead_key && s->hash == h && strcmp(s->key, key) == 0)
      return s;
  }
}

void *ss_strmap_get(const struct ss_strmap *m, const char *key) {
  struct ss__strmap_slot *s = m && key ? find(m, key, hash_of(key)) : NULL;
  return s ? s->value : NULL;
}

/* Re-inserts every live key into a table of cap slots. */
static bool rehash(struct ss_strmap *m, size_t cap) {
  struct ss__strmap_slot *v = calloc(cap, sizeof *v);
  if (!v)
    return false;
  for (size_t i = 0; i < m->cap; i++) {
    const struct ss__strmap_slot *s = &m->v[i];
    if (!s->key || s->key == &dead_key)
      continue;
    size_t j = (size_t)s->hash & (cap - 1);
    while (v[j].key)
      j = (j + 1) & (cap - 1);
    v[j] = *s;
  }
  free(m->v);
  m->v = v;
  m->cap = cap;
  m->dead = 0;
  return true;
}

bool ss_strmap_put(struct ss_strmap *m, const char *key, void *value) {
  if (!m || !key || !value)
    return false;
  uint64_t h = hash_of(key);
  struct ss__strmap_slot *s = find(m, key, h);
  if (s) {
    s->key = key;
    s->value = value;
    return true;
  }
  /* at most three quarters full, counting removed slots */
  if ((m->n + m->dead + 1) * 4 > m->cap * 3) {
    size_t cap = m->cap ? m->cap : MIN_CAP;
    while ((m->n + 1) * 2 > cap)
      cap *= 2;
    if (!rehash(m, cap))
      return false;
  }
  size_t i = (size_t)h & (m->cap - 1);
  while (m->v[i].key && m->v[i].key != &dead_key)
    i = (i + 1) & (m->cap - 1);
  if (m->v[i].key == &dead_key)
    m->dead--;
  m->v[i] = (struct ss__strmap_slot){key, value, h};
  m->n++;
  return true;
}

void ss_strmap_del(struct ss_strmap *m, const char *key) {
  struct ss__strmap_slot *s = m && key ? find(m, key, hash_of(key)) : NULL;
  if (!s)
    return;
  s->key = &dead_key;
  s->value = NULL;
  m->n--;
  m->dead++;
}
