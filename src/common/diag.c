/* diag.c: the diagnostics list. */
#include "common/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ss_diags_init(struct ss_diags *d) { memset(d, 0, sizeof *d); }

void ss_diags_free(struct ss_diags *d) {
  if (!d)
    return;
  for (size_t i = 0; i < d->n; i++) {
    free(d->v[i].path);
    free(d->v[i].msg);
  }
  free(d->v);
  memset(d, 0, sizeof *d);
}

static void vadd(struct ss_diags *d, enum ss_severity sev, const char *path,
                 unsigned line, unsigned col, const char *fmt, va_list ap) {
  if (d->n == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 8;
    struct ss_diag *v = realloc(d->v, cap * sizeof *v);
    if (!v) {
      d->nomem = true;
      return;
    }
    d->v = v;
    d->cap = cap;
  }
  char *msg = NULL;
  va_list ap2;
  va_copy(ap2, ap);
  int len = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (len >= 0 && (msg = malloc((size_t)len + 1)))
    vsnprintf(msg, (size_t)len + 1, fmt, ap);
  char *p = strdup(path ? path : "");
  if (!msg || !p) {
    free(msg);
    free(p);
    d->nomem = true;
    return;
  }
  d->v[d->n++] = (struct ss_diag){sev, p, msg, line, col};
  if (sev == SS_SEV_ERROR)
    d->errors++;
  else
    d->warnings++;
}

void ss_diag_add(struct ss_diags *d, enum ss_severity sev, const char *path,
                 const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vadd(d, sev, path, 0, 0, fmt, ap);
  va_end(ap);
}

void ss_diag_addpos(struct ss_diags *d, enum ss_severity sev, const char *path,
                    unsigned line, unsigned col, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vadd(d, sev, path, line, col, fmt, ap);
  va_end(ap);
}
