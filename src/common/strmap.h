/* strmap.h: an index from strings to pointers, for the tables a loop looks
 * things up in by name many times a pass (replica sets, owned replica sets,
 * cached SeldonDeployments): open addressing, linear probing, FNV-1a.
 * Keys are borrowed: each must stay alive and unchanged while indexed,
 * typically a name inside the value it indexes. Not thread-safe: the
 * table's owner locks. */
#ifndef SS_COMMON_STRMAP_H
#define SS_COMMON_STRMAP_H

#include <stdbool.h>
#include <stddef.h>

struct ss__strmap_slot;

struct ss_strmap {
  struct ss__strmap_slot *v;
  size_t cap;   /* slots, 0 or a power of two */
  size_t n;     /* keys */
  size_t dead;  /* slots of removed keys */
};

/* A zeroed struct ss_strmap is an empty map; ss_strmap_fini frees it (the
 * values are the caller's) and leaves it empty. */
void ss_strmap_fini(struct ss_strmap *m);
/* The value of key, or NULL. */
void *ss_strmap_get(const struct ss_strmap *m, const char *key);
/* Adds key (borrowed) or replaces its value and key; false on ENOMEM (the
 * map is unchanged). value must not be NULL. */
bool ss_strmap_put(struct ss_strmap *m, const char *key, void *value);
/* Removes key, if present. */
void ss_strmap_del(struct ss_strmap *m, const char *key);

#endif
