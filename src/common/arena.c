/* arena.c: chunked bump allocation; large requests get a chunk of their own. */
#include "common/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK 8192
#define ARENA_ALIGN 16

struct chunk {
  struct chunk *next;
  size_t used, cap;
  _Alignas(ARENA_ALIGN) unsigned char data[];
};

struct ss_arena {
  struct chunk *head;
};

struct ss_arena *ss_arena_new(void) { return calloc(1, sizeof(struct ss_arena)); }

void ss_arena_free(struct ss_arena *a) {
  if (!a)
    return;
  struct chunk *c = a->head;
  while (c) {
    struct chunk *next = c->next;
    free(c);
    c = next;
  }
  free(a);
}

void *ss_arena_alloc(struct ss_arena *a, size_t size) {
  if (size > SIZE_MAX / 2)
    return NULL;
  size = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
  if (size == 0)
    size = ARENA_ALIGN;
  struct chunk *c = a->head;
  if (!c || c->cap - c->used < size) {
    size_t cap = size > ARENA_CHUNK ? size : ARENA_CHUNK;
    struct chunk *n = malloc(sizeof *n + cap);
    if (!n)
      return NULL;
    n->used = 0;
    n->cap = cap;
    if (c && size > ARENA_CHUNK) {
      /* keep the partly used chunk at the head for small allocations */
      n->next = c->next;
      c->next = n;
    } else {
      n->next = c;
      a->head = n;
    }
    c = n;
  }
  void *p = c->data + c->used;
  c->used += size;
  memset(p, 0, size);
  return p;
}

void *ss_arena_calloc(struct ss_arena *a, size_t n, size_t size) {
  if (size && n > SIZE_MAX / 2 / size)
    return NULL;
  return ss_arena_alloc(a, n * size);
}

char *ss_arena_strdup(struct ss_arena *a, const char *s) {
  if (!s)
    return NULL;
  size_t n = strlen(s);
  char *p = ss_arena_alloc(a, n + 1);
  if (p)
    memcpy(p, s, n + 1);
  return p;
}

char *ss_arena_printf(struct ss_arena *a, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0)
    return NULL;
  char *p = ss_arena_alloc(a, (size_t)n + 1);
  if (!p)
    return NULL;
  va_start(ap, fmt);
  vsnprintf(p, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return p;
}
