/* table.c: rows of text printed as aligned columns, three spaces apart,
 * as kubectl's tabwriter prints them. Cells are copied; a table grows as
 * rows come. */
#include <stdlib.h>
#include <string.h>

#include "cli/common.h"

struct ss_cli_table {
  size_t n_cols, n_rows, cap;
  char **cells; /* n_rows * n_cols */
  bool nomem;
};

struct ss_cli_table *ss_cli_table_new(size_t n_cols) {
  struct ss_cli_table *t = calloc(1, sizeof *t);
  if (t)
    t->n_cols = n_cols;
  return t;
}

void ss_cli_table_add(struct ss_cli_table *t, const char *const *cells) {
  if (!t || t->nomem)
    return;
  if (t->n_rows == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 16;
    char **v = realloc(t->cells, cap * t->n_cols * sizeof *v);
    if (!v) {
      t->nomem = true;
      return;
    }
    t->cells = v;
    t->cap = cap;
  }
  for (size_t i = 0; i < t->n_cols; i++) {
    char *d = strdup(cells[i] ? cells[i] : "");
    if (!d)
      t->nomem = true;
    t->cells[t->n_rows * t->n_cols + i] = d;
  }
  t->n_rows++;
}

size_t ss_cli_table_rows(const struct ss_cli_table *t) { return t ? t->n_rows : 0; }

void ss_cli_table_print(const struct ss_cli_table *t, FILE *f) {
  if (!t || t->nomem) {
    if (t)
      fprintf(stderr, "error: out of memory\n");
    return;
  }
  size_t *w = calloc(t->n_cols, sizeof *w);
  if (!w)
    return;
  for (size_t r = 0; r < t->n_rows; r++)
    for (size_t c = 0; c < t->n_cols; c++) {
      size_t l = strlen(t->cells[r * t->n_cols + c]);
      if (l > w[c])
        w[c] = l;
    }
  for (size_t r = 0; r < t->n_rows; r++) {
    for (size_t c = 0; c < t->n_cols; c++) {
      const char *cell = t->cells[r * t->n_cols + c];
      if (c + 1 == t->n_cols)
        fprintf(f, "%s\n", cell); /* no trailing blanks */
      else
        fprintf(f, "%-*s   ", (int)w[c], cell);
    }
  }
  free(w);
}

void ss_cli_table_free(struct ss_cli_table *t) {
  if (!t)
    return;
  for (size_t i = 0; i < t->n_rows * t->n_cols; i++)
    free(t->cells[i]);
  free(t->cells);
  free(t);
}
