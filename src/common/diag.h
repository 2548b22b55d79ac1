/* diag.h: a list of diagnostics (errors and warnings) about one input, each
 * with the field path it concerns and, once resolved, its source position. */
#ifndef SS_COMMON_DIAG_H
#define SS_COMMON_DIAG_H

#include <stdbool.h>
#include <stddef.h>

enum ss_severity { SS_SEV_ERROR, SS_SEV_WARNING };

struct ss_diag {
  enum ss_severity sev;
  char *path;          /* "spec.predictors[0].name"; "" for the whole document */
  char *msg;           /* "must be a DNS-1123 label" */
  unsigned line, col;  /* 1-based; 0 when unknown */
};

struct ss_diags {
  struct ss_diag *v;
  size_t n, cap;
  size_t errors, warnings;
  bool nomem; /* a diagnostic could not be recorded */
};

void ss_diags_init(struct ss_diags *d);
void ss_diags_free(struct ss_diags *d);
/* Appends a copy of path and the formatted message. */
void ss_diag_add(struct ss_diags *d, enum ss_severity sev, const char *path,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void ss_diag_addpos(struct ss_diags *d, enum ss_severity sev, const char *path,
                    unsigned line, unsigned col, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
#define ss_diag_err(d, path, ...) ss_diag_add((d), SS_SEV_ERROR, (path), __VA_ARGS__)
#define ss_diag_warn(d, path, ...) ss_diag_add((d), SS_SEV_WARNING, (path), __VA_ARGS__)

#endif
