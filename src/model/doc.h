/* doc.h: parsed documents. A document is a jansson tree plus a table that
 * says where each value stood in the source (by field path), so that every
 * diagnostic about a field can name its line and column. The JSON and YAML
 * readers both produce them; nothing here knows about Seldon. */
#ifndef SS_MODEL_DOC_H
#define SS_MODEL_DOC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

/* Input limits. A request to the Kubernetes API server may be 3 MiB. */
#define SS_DOC_MAX_BYTES ((size_t)3 << 20)
#define SS_DOC_MAX_DEPTH 100                 /* nested collections */
#define SS_DOC_MAX_STRING ((size_t)1 << 20)  /* one string or key, bytes */
#define SS_DOC_MAX_NODES 200000              /* values in one stream, aliases expanded */
#define SS_DOC_MAX_DOCS 1000                 /* documents in one stream */

struct ss_pos {
  unsigned line, col; /* 1-based */
};

struct ss__posent {
  char *path;
  struct ss_pos pos;
};

struct ss_doc {
  json_t *root;            /* owned */
  struct ss_pos start;     /* where the document begins */
  struct ss__posent *tab;  /* open addressing, power-of-two size */
  size_t tab_n, tab_cap;
};

struct ss_docs {
  struct ss_doc **v;
  size_t n;
};

/* Parses a stream of JSON or YAML documents. JSON is recognised by its first
 * significant character ('{' or '['); anything else is read as YAML. Empty
 * YAML documents are skipped. On failure err holds the reason and the
 * position, and out is left empty. */
enum ss_err ss_docs_parse(const char *buf, size_t len, struct ss_docs *out,
                          struct ss_error *err);
enum ss_err ss_json_parse(const char *buf, size_t len, struct ss_docs *out,
                          struct ss_error *err);
enum ss_err ss_yaml_parse(const char *buf, size_t len, struct ss_docs *out,
                          struct ss_error *err);
void ss_docs_free(struct ss_docs *docs);

/* New empty document that takes ownership of root (may be NULL). */
struct ss_doc *ss_doc_new(json_t *root);
void ss_doc_free(struct ss_doc *doc);
/* Appends doc to docs (takes ownership); SS_ENOMEM on failure (doc freed). */
enum ss_err ss_docs_push(struct ss_docs *docs, struct ss_doc *doc);

/* Records where the value at path starts. */
enum ss_err ss_doc_pos_put(struct ss_doc *doc, const char *path, unsigned line,
                           unsigned col);
/* Position of the value at path, or of its nearest recorded ancestor, or of
 * the document's start. False when nothing is known. */
bool ss_doc_pos(const struct ss_doc *doc, const char *path, struct ss_pos *out);

/* Reads a whole file ("-" is standard input) into a NUL-terminated buffer
 * of at most SS_DOC_MAX_BYTES. The caller frees *buf. */
enum ss_err ss_read_file(const char *name, char **buf, size_t *len,
                         struct ss_error *err);

#endif
