/* arena.h: a bump allocator freed all at once. Typed resources and
 * per-request data live in one; nothing inside is freed on its own. */
#ifndef SS_COMMON_ARENA_H
#define SS_COMMON_ARENA_H

#include <stddef.h>

struct ss_arena;

struct ss_arena *ss_arena_new(void);
/* Frees every allocation made from the arena; accepts NULL. */
void ss_arena_free(struct ss_arena *a);
/* Zeroed memory, aligned for any type; NULL when out of memory. */
void *ss_arena_alloc(struct ss_arena *a, size_t size);
/* Zeroed array of n elements of size each; NULL on overflow or no memory. */
void *ss_arena_calloc(struct ss_arena *a, size_t n, size_t size);
char *ss_arena_strdup(struct ss_arena *a, const char *s);
char *ss_arena_printf(struct ss_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
