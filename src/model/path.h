/* path.h: field paths as Kubernetes prints them ("spec.predictors[0].name"),
 * built in a fixed buffer by push and pop while walking a document. */
#ifndef SS_MODEL_PATH_H
#define SS_MODEL_PATH_H

#include <stddef.h>

#define SS_PATH_MAX 1024

struct ss_path {
  char buf[SS_PATH_MAX];
  size_t len;
};

/* Each push returns the previous length, to give back to ss_path_pop. A key
 * made of letters, digits, '_' and '-' is joined with '.', any other key is
 * written in brackets ("metadata.annotations[seldon.io/svc]"). Too long a
 * path is cut and ends in "..."; it never overflows. */
size_t ss_path_key(struct ss_path *p, const char *key);
size_t ss_path_index(struct ss_path *p, size_t i);
void ss_path_pop(struct ss_path *p, size_t len);
void ss_path_reset(struct ss_path *p);
/* Sets the path to a copy of s. */
void ss_path_set(struct ss_path *p, const char *s);

#endif
