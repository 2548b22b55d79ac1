/* doc.c: documents, their position tables and stream-format detection. */
#include "model/doc.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ss_doc *ss_doc_new(json_t *root) {
  struct ss_doc *d = calloc(1, sizeof *d);
  if (!d)
    return NULL;
  d->root = root;
  return d;
}

void ss_doc_free(struct ss_doc *doc) {
  if (!doc)
    return;
  json_decref(doc->root);
  for (size_t i = 0; i < doc->tab_cap; i++)
    free(doc->tab[i].path);
  free(doc->tab);
  free(doc);
}

void ss_docs_free(struct ss_docs *docs) {
  if (!docs)
    return;
  for (size_t i = 0; i < docs->n; i++)
    ss_doc_free(docs->v[i]);
  free(docs->v);
  docs->v = NULL;
  docs->n = 0;
}

enum ss_err ss_docs_push(struct ss_docs *docs, struct ss_doc *doc) {
  struct ss_doc **v = realloc(docs->v, (docs->n + 1) * sizeof *v);
  if (!v) {
    ss_doc_free(doc);
    return SS_ENOMEM;
  }
  docs->v = v;
  docs->v[docs->n++] = doc;
  return SS_EOK;
}

static uint64_t hash(const char *s, size_t n) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)s[i];
    h *= 1099511628211ull;
  }
  return h;
}

static struct ss__posent *slot(const struct ss_doc *doc, const char *path, size_t n) {
  size_t mask = doc->tab_cap - 1;
  for (size_t i = hash(path, n) & mask;; i = (i + 1) & mask) {
    struct ss__posent *e = &doc->tab[i];
    if (!e->path || (strncmp(e->path, path, n) == 0 && e->path[n] == '\0'))
      return e;
  }
}

enum ss_err ss_doc_pos_put(struct ss_doc *doc, const char *path, unsigned line,
                           unsigned col) {
  if (doc->tab_n * 2 >= doc->tab_cap) {
    size_t cap = doc->tab_cap ? doc->tab_cap * 2 : 64;
    struct ss__posent *old = doc->tab;
    size_t oldcap = doc->tab_cap;
    doc->tab = calloc(cap, sizeof *doc->tab);
    if (!doc->tab) {
      doc->tab = old;
      return SS_ENOMEM;
    }
    doc->tab_cap = cap;
    for (size_t i = 0; i < oldcap; i++)
      if (old[i].path)
        *slot(doc, old[i].path, strlen(old[i].path)) = old[i];
    free(old);
  }
  size_t n = strlen(path);
  struct ss__posent *e = slot(doc, path, n);
  if (!e->path) {
    if (!(e->path = strdup(path)))
      return SS_ENOMEM;
    doc->tab_n++;
  }
  e->pos = (struct ss_pos){line, col};
  return SS_EOK;
}

/* Length of the parent of path[0..n): "a.b[2]" -> "a.b", "a[x.y]" -> "a". */
static size_t parent_len(const char *path, size_t n) {
  if (n == 0)
    return 0;
  if (path[n - 1] == ']') {
    while (n > 0 && path[n - 1] != '[')
      n--;
    return n ? n - 1 : 0;
  }
  while (n > 0 && path[n - 1] != '.' && path[n - 1] != '[')
    n--;
  /* also drop a '[' left by a key that itself holds brackets ("a[b[0]]"):
   * returning it would leave n unchanged and the caller looping forever */
  if (n > 0 && (path[n - 1] == '.' || path[n - 1] == '['))
    n--;
  return n;
}

bool ss_doc_pos(const struct ss_doc *doc, const char *path, struct ss_pos *out) {
  if (!doc)
    return false;
  size_t n = path ? strlen(path) : 0;
  if (doc->tab_cap) {
    for (;;) {
      struct ss__posent *e = slot(doc, path, n);
      if (e->path) {
        *out = e->pos;
        return true;
      }
      if (n == 0)
        break;
      n = parent_len(path, n);
    }
  }
  if (doc->start.line) {
    *out = doc->start;
    return true;
  }
  return false;
}

enum ss_err ss_docs_parse(const char *buf, size_t len, struct ss_docs *out,
                          struct ss_error *err) {
  if (len > SS_DOC_MAX_BYTES)
    return ss_error_set(err, SS_ELIMIT, 0, 0,
                        "input is %zu bytes, more than the limit of %zu bytes", len,
                        SS_DOC_MAX_BYTES);
  size_t i = 0;
  if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
    i = 3; /* UTF-8 byte order mark */
  for (; i < len; i++) {
    char c = buf[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
      continue;
    if (c == '{' || c == '[')
      return ss_json_parse(buf, len, out, err);
    break;
  }
  return ss_yaml_parse(buf, len, out, err);
}

enum ss_err ss_read_file(const char *name, char **bufp, size_t *lenp,
                         struct ss_error *err) {
  enum ss_err rc = SS_EOK;
  FILE *f = strcmp(name, "-") == 0 ? stdin : fopen(name, "rb");
  char *buf = NULL;
  size_t len = 0, cap = 0;
  if (!f)
    return ss_error_set(err, SS_EIO, 0, 0, "cannot open %s: %s", name, strerror(errno));
  for (;;) {
    if (cap - len < 4096) {
      cap = cap ? cap * 2 : 65536;
      if (cap > SS_DOC_MAX_BYTES + 4097)
        cap = SS_DOC_MAX_BYTES + 4097;
      char *nb = realloc(buf, cap);
      if (!nb) {
        rc = ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory reading %s", name);
        goto out;
      }
      buf = nb;
    }
    size_t got = fread(buf + len, 1, cap - len - 1, f);
    len += got;
    if (len > SS_DOC_MAX_BYTES) {
      rc = ss_error_set(err, SS_ELIMIT, 0, 0, "%s is larger than the limit of %zu bytes",
                        name, SS_DOC_MAX_BYTES);
      goto out;
    }
    if (got == 0) {
      if (ferror(f)) {
        rc = ss_error_set(err, SS_EIO, 0, 0, "cannot read %s: %s", name, strerror(errno));
        goto out;
      }
      break;
    }
  }
  if (!buf && !(buf = malloc(1))) {
    rc = ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory reading %s", name);
    goto out;
  }
  buf[len] = '\0';
  *bufp = buf;
  *lenp = len;
  buf = NULL;
out:
  free(buf);
  if (f != stdin)
    fclose(f);
  return rc;
}
