/* yaml_parse.c: YAML streams to documents, on libyaml's event parser, which
 * gives the line and column of every node. Plain scalars are typed by the
 * YAML 1.2 core schema (what Kubernetes' YAML reader does in practice for
 * the values resources hold); quoted scalars are strings. Anchors and
 * aliases work, with aliases counted against the value limit so that an
 * "alias bomb" is an error and not an allocation; merge keys (<<) work. */
#include <ctype.h>
#include <math.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "model/doc.h"
#include "model/path.h"
#include "model/yaml_resolve.h"

struct frame {
  json_t *node;         /* the collection being filled */
  bool is_map;
  bool have_key;        /* a map whose key was read, value next */
  char *key;
  bool key_merge;       /* the key is a plain "<<": its value is merged */
  unsigned key_line, key_col;
  size_t index;         /* next sequence index */
  size_t path_saved;    /* path length to restore when this frame ends */
  char *anchor;
  json_t *merges;       /* array of maps merged by "<<", applied at the end */
};

struct anchor {
  char *name;
  json_t *value;
};

struct yp {
  struct frame stack[SS_DOC_MAX_DEPTH + 2];
  size_t depth;
  struct anchor *anchors;
  size_t n_anchors;
  size_t nodes;
  struct ss_path path;
  struct ss_doc *doc;
  struct ss_error *err;
};

static bool eq(const char *s, size_t n, const char *w) {
  return strlen(w) == n && memcmp(s, w, n) == 0;
}

static bool all_digits(const char *s, size_t n, int base) {
  if (n == 0)
    return false;
  for (size_t i = 0; i < n; i++) {
    int c = (unsigned char)s[i];
    if (base == 10 && !isdigit(c))
      return false;
    if (base == 16 && !isxdigit(c))
      return false;
    if (base == 8 && (c < '0' || c > '7'))
      return false;
  }
  return true;
}

static bool is_float(const char *s, size_t n) {
  size_t i = 0, digits = 0;
  if (i < n && (s[i] == '+' || s[i] == '-'))
    i++;
  while (i < n && isdigit((unsigned char)s[i]))
    i++, digits++;
  if (i < n && s[i] == '.') {
    i++;
    while (i < n && isdigit((unsigned char)s[i]))
      i++, digits++;
  }
  if (!digits)
    return false;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    if (i < n && (s[i] == '+' || s[i] == '-'))
      i++;
    if (!all_digits(s + i, n - i, 10))
      return false;
    return true;
  }
  return i == n;
}

enum ss_yaml_kind ss__yaml_resolve(const char *s, size_t n, json_t **out) {
  if (n == 0 || eq(s, n, "~") || eq(s, n, "null") || eq(s, n, "Null") || eq(s, n, "NULL")) {
    if (out)
      *out = json_null();
    return SS_YAML_NULL;
  }
  if (eq(s, n, "true") || eq(s, n, "True") || eq(s, n, "TRUE")) {
    if (out)
      *out = json_true();
    return SS_YAML_BOOL;
  }
  if (eq(s, n, "false") || eq(s, n, "False") || eq(s, n, "FALSE")) {
    if (out)
      *out = json_false();
    return SS_YAML_BOOL;
  }
  const char *b = s;
  size_t m = n;
  if (m && (b[0] == '+' || b[0] == '-'))
    b++, m--;
  if (eq(b, m, ".inf") || eq(b, m, ".Inf") || eq(b, m, ".INF") || eq(s, n, ".nan") ||
      eq(s, n, ".NaN") || eq(s, n, ".NAN"))
    return SS_YAML_NONFINITE;
  int base = 0;
  if (s[0] != '+' && s[0] != '-' && n > 2 && s[0] == '0' && s[1] == 'x' &&
      all_digits(s + 2, n - 2, 16))
    base = 16;
  else if (s[0] != '+' && s[0] != '-' && n > 2 && s[0] == '0' && s[1] == 'o' &&
           all_digits(s + 2, n - 2, 8))
    base = 8;
  else if (all_digits(b, m, 10))
    base = 10;
  if (base || is_float(s, n)) {
    if (!out)
      return base ? SS_YAML_INT : SS_YAML_FLOAT;
    char tmp[400];
    if (n >= sizeof tmp)
      return SS_YAML_STRING;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (base) {
      errno = 0;
      long long v = base == 10 ? strtoll(tmp, NULL, 10) : strtoll(tmp + 2, NULL, base);
      if (errno != ERANGE) {
        *out = json_integer(v);
        return SS_YAML_INT;
      }
      if (base != 10)
        return SS_YAML_NONFINITE;
    }
    double d = strtod(tmp, NULL);
    if (!isfinite(d))
      return SS_YAML_NONFINITE;
    *out = json_real(d);
    return base ? SS_YAML_INT : SS_YAML_FLOAT;
  }
  if (out)
    *out = json_stringn_nocheck(s, n);
  return SS_YAML_STRING;
}

static size_t count_nodes(json_t *v) {
  size_t n = 1;
  if (json_is_object(v)) {
    const char *k;
    json_t *c;
    json_object_foreach(v, k, c) n += count_nodes(c);
  } else if (json_is_array(v)) {
    size_t i;
    json_t *c;
    json_array_foreach(v, i, c) n += count_nodes(c);
  }
  return n;
}

static enum ss_err fail(struct yp *p, const yaml_mark_t *m, enum ss_err code,
                        const char *what) {
  return ss_error_set(p->err, code, (unsigned)m->line + 1, (unsigned)m->column + 1, "%s",
                      what);
}

static enum ss_err remember_anchor(struct yp *p, const char *name, json_t *v) {
  if (!name)
    return SS_EOK;
  for (size_t i = 0; i < p->n_anchors; i++) {
    if (strcmp(p->anchors[i].name, name) == 0) { /* redefinition: latest wins */
      json_decref(p->anchors[i].value);
      p->anchors[i].value = json_incref(v);
      return SS_EOK;
    }
  }
  struct anchor *a = realloc(p->anchors, (p->n_anchors + 1) * sizeof *a);
  if (!a)
    return SS_ENOMEM;
  p->anchors = a;
  char *copy = strdup(name);
  if (!copy)
    return SS_ENOMEM;
  p->anchors[p->n_anchors++] = (struct anchor){copy, json_incref(v)};
  return SS_EOK;
}

/* Called when a value starts: sets the path to its place, records its
 * position. Returns the path length to restore. */
static size_t enter_value(struct yp *p, const yaml_mark_t *m) {
  size_t saved = p->path.len;
  if (p->depth) {
    struct frame *f = &p->stack[p->depth - 1];
    if (f->is_map)
      saved = ss_path_key(&p->path, f->key);
    else
      saved = ss_path_index(&p->path, f->index);
  }
  ss_doc_pos_put(p->doc, p->path.buf, (unsigned)m->line + 1, (unsigned)m->column + 1);
  return saved;
}

/* Puts a finished value into its parent (or makes it the root). Takes v. */
static enum ss_err place(struct yp *p, json_t *v, const yaml_mark_t *m) {
  if (!v)
    return fail(p, m, SS_ENOMEM, "out of memory");
  if (p->depth == 0) {
    json_decref(p->doc->root);
    p->doc->root = v;
    return SS_EOK;
  }
  struct frame *f = &p->stack[p->depth - 1];
  if (!f->is_map) {
    f->index++;
    return json_array_append_new(f->node, v) ? fail(p, m, SS_ENOMEM, "out of memory")
                                               : SS_EOK;
  }
  enum ss_err rc = SS_EOK;
  if (f->key_merge && (json_is_object(v) || json_is_array(v))) {
    if (!f->merges && !(f->merges = json_array()))
      rc = fail(p, m, SS_ENOMEM, "out of memory");
    else if (json_is_object(v))
      json_array_append(f->merges, v);
    else
      json_array_extend(f->merges, v);
    json_decref(v);
  } else if (json_object_get(f->node, f->key)) {
    json_decref(v);
    char msg[200];
    snprintf(msg, sizeof msg, "duplicate key \"%.150s\"", f->key);
    yaml_mark_t km = {0, f->key_line - 1, f->key_col - 1};
    rc = fail(p, &km, SS_ESYNTAX, msg);
  } else if (json_object_set_new(f->node, f->key, v)) {
    rc = fail(p, m, SS_ENOMEM, "out of memory");
  }
  free(f->key);
  f->key = NULL;
  f->have_key = false;
  return rc;
}

static bool expecting_key(struct yp *p) {
  return p->depth && p->stack[p->depth - 1].is_map && !p->stack[p->depth - 1].have_key;
}

static enum ss_err on_scalar(struct yp *p, yaml_event_t *ev) {
  const char *s = (const char *)ev->data.scalar.value;
  size_t n = ev->data.scalar.length;
  const yaml_mark_t *m = &ev->start_mark;
  if (n > SS_DOC_MAX_STRING)
    return fail(p, m, SS_ELIMIT, "string longer than the limit of 1048576 bytes");
  if (strlen(s) != n)
    return fail(p, m, SS_ESYNTAX, "NUL character in a scalar is not supported");
  if (expecting_key(p)) {
    struct frame *f = &p->stack[p->depth - 1];
    if (!(f->key = strdup(s)))
      return fail(p, m, SS_ENOMEM, "out of memory");
    /* Only a plain << is a merge key; a quoted '<<' is an ordinary key. */
    const char *ktag = (const char *)ev->data.scalar.tag;
    f->key_merge = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
                   (!ktag || strcmp(ktag, "tag:yaml.org,2002:merge") == 0) &&
                   strcmp(s, "<<") == 0;
    f->have_key = true;
    f->key_line = (unsigned)m->line + 1;
    f->key_col = (unsigned)m->column + 1;
    return SS_EOK;
  }
  if (++p->nodes > SS_DOC_MAX_NODES)
    return fail(p, m, SS_ELIMIT, "more than the limit of 200000 values");
  size_t saved = enter_value(p, m);
  ss_path_pop(&p->path, saved);
  const char *tag = (const char *)ev->data.scalar.tag;
  json_t *v = NULL;
  bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
  if (tag && strcmp(tag, YAML_STR_TAG) == 0)
    plain = false;
  else if (tag && (strcmp(tag, YAML_INT_TAG) == 0 || strcmp(tag, YAML_FLOAT_TAG) == 0 ||
                   strcmp(tag, YAML_BOOL_TAG) == 0 || strcmp(tag, YAML_NULL_TAG) == 0))
    plain = true;
  if (plain) {
    if (ss__yaml_resolve(s, n, &v) == SS_YAML_NONFINITE)
      return fail(p, m, SS_ESYNTAX, "number out of range (JSON has no Inf or NaN)");
  } else {
    v = json_stringn_nocheck(s, n);
  }
  if (!v)
    return fail(p, m, SS_ENOMEM, "out of memory");
  if (remember_anchor(p, (const char *)ev->data.scalar.anchor, v)) {
    json_decref(v);
    return fail(p, m, SS_ENOMEM, "out of memory");
  }
  return place(p, v, m);
}

static enum ss_err on_start(struct yp *p, yaml_event_t *ev, bool is_map) {
  const yaml_mark_t *m = &ev->start_mark;
  if (expecting_key(p))
    return fail(p, m, SS_EUNSUPPORTED, "a mapping or sequence as a key is not supported");
  if (p->depth >= SS_DOC_MAX_DEPTH)
    return fail(p, m, SS_ELIMIT, "nesting deeper than the limit of 100");
  if (++p->nodes > SS_DOC_MAX_NODES)
    return fail(p, m, SS_ELIMIT, "more than the limit of 200000 values");
  size_t saved = enter_value(p, m);
  const yaml_char_t *anchor =
      is_map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
  struct frame *f = &p->stack[p->depth++];
  *f = (struct frame){.node = is_map ? json_object() : json_array(),
                      .is_map = is_map,
                      .path_saved = saved};
  if (!f->node)
    return fail(p, m, SS_ENOMEM, "out of memory");
  if (anchor && !(f->anchor = strdup((const char *)anchor)))
    return fail(p, m, SS_ENOMEM, "out of memory");
  return SS_EOK;
}

static enum ss_err on_end(struct yp *p, yaml_event_t *ev) {
  const yaml_mark_t *m = &ev->start_mark;
  struct frame f = p->stack[--p->depth];
  enum ss_err rc = SS_EOK;
  ss_path_pop(&p->path, f.path_saved);
  if (f.merges) {
    size_t i;
    json_t *src;
    json_array_foreach(f.merges, i, src) {
      const char *k;
      json_t *v;
      json_object_foreach(src, k, v) {
        if (!json_object_get(f.node, k))
          json_object_set(f.node, k, v);
      }
    }
    json_decref(f.merges);
  }
  if (f.anchor)
    rc = remember_anchor(p, f.anchor, f.node);
  free(f.anchor);
  free(f.key);
  if (rc) {
    json_decref(f.node);
    return fail(p, m, rc, "out of memory");
  }
  return place(p, f.node, m);
}

static enum ss_err on_alias(struct yp *p, yaml_event_t *ev) {
  const yaml_mark_t *m = &ev->start_mark;
  const char *name = (const char *)ev->data.alias.anchor;
  json_t *target = NULL;
  for (size_t i = 0; i < p->n_anchors; i++)
    if (strcmp(p->anchors[i].name, name) == 0)
      target = p->anchors[i].value;
  if (!target) {
    char msg[200];
    snprintf(msg, sizeof msg, "unknown anchor \"%.150s\"", name);
    return fail(p, m, SS_ESYNTAX, msg);
  }
  if (expecting_key(p)) {
    if (!json_is_string(target))
      return fail(p, m, SS_EUNSUPPORTED, "an alias to a non-string as a key is not supported");
    struct frame *f = &p->stack[p->depth - 1];
    if (!(f->key = strdup(json_string_value(target))))
      return fail(p, m, SS_ENOMEM, "out of memory");
    f->key_merge = false;
    f->have_key = true;
    f->key_line = (unsigned)m->line + 1;
    f->key_col = (unsigned)m->column + 1;
    return SS_EOK;
  }
  size_t cnt = count_nodes(target);
  if (cnt > SS_DOC_MAX_NODES - p->nodes)
    return fail(p, m, SS_ELIMIT,
                "aliases expand to more than the limit of 200000 values");
  p->nodes += cnt;
  size_t saved = enter_value(p, m);
  ss_path_pop(&p->path, saved);
  return place(p, json_deep_copy(target), m);
}

static void reset_doc_state(struct yp *p) {
  while (p->depth) {
    struct frame *f = &p->stack[--p->depth];
    json_decref(f->node);
    json_decref(f->merges);
    free(f->key);
    free(f->anchor);
  }
  for (size_t i = 0; i < p->n_anchors; i++) {
    free(p->anchors[i].name);
    json_decref(p->anchors[i].value);
  }
  free(p->anchors);
  p->anchors = NULL;
  p->n_anchors = 0;
  ss_path_reset(&p->path);
}

enum ss_err ss_yaml_parse(const char *buf, size_t len, struct ss_docs *out,
                          struct ss_error *err) {
  enum ss_err rc = SS_EOK;
  struct ss_docs docs = {0};
  struct yp *p = NULL;
  yaml_parser_t parser;
  bool parser_ok = false;
  if (len > SS_DOC_MAX_BYTES)
    return ss_error_set(err, SS_ELIMIT, 0, 0,
                        "input is %zu bytes, more than the limit of %zu bytes", len,
                        SS_DOC_MAX_BYTES);
  p = calloc(1, sizeof *p);
  if (!p || !yaml_parser_initialize(&parser)) {
    rc = ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
    goto out;
  }
  parser_ok = true;
  p->err = err;
  yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
  for (;;) {
    yaml_event_t ev;
    if (!yaml_parser_parse(&parser, &ev)) {
      const yaml_mark_t *m = &parser.problem_mark;
      if (parser.context)
        rc = ss_error_set(err, SS_ESYNTAX, (unsigned)m->line + 1, (unsigned)m->column + 1,
                          "%s %s", parser.context, parser.problem ? parser.problem : "");
      else
        rc = ss_error_set(err, SS_ESYNTAX, (unsigned)m->line + 1, (unsigned)m->column + 1,
                          "%s", parser.problem ? parser.problem : "invalid YAML");
      goto out;
    }
    yaml_event_type_t type = ev.type;
    switch (type) {
    case YAML_DOCUMENT_START_EVENT:
      if (docs.n >= SS_DOC_MAX_DOCS) {
        rc = fail(p, &ev.start_mark, SS_ELIMIT, "too many documents in one stream");
        break;
      }
      p->doc = ss_doc_new(NULL);
      if (!p->doc) {
        rc = fail(p, &ev.start_mark, SS_ENOMEM, "out of memory");
        break;
      }
      p->doc->start =
          (struct ss_pos){(unsigned)ev.start_mark.line + 1, (unsigned)ev.start_mark.column + 1};
      break;
    case YAML_DOCUMENT_END_EVENT:
      if (p->doc && p->doc->root && !json_is_null(p->doc->root)) {
        if (ss_docs_push(&docs, p->doc))
          rc = fail(p, &ev.start_mark, SS_ENOMEM, "out of memory");
      } else {
        ss_doc_free(p->doc);
      }
      p->doc = NULL;
      reset_doc_state(p);
      break;
    case YAML_SCALAR_EVENT:
      rc = on_scalar(p, &ev);
      break;
    case YAML_SEQUENCE_START_EVENT:
      rc = on_start(p, &ev, false);
      break;
    case YAML_MAPPING_START_EVENT:
      rc = on_start(p, &ev, true);
      break;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
      rc = on_end(p, &ev);
      break;
    case YAML_ALIAS_EVENT:
      rc = on_alias(p, &ev);
      break;
    default:
      break;
    }
    yaml_event_delete(&ev);
    if (rc)
      goto out;
    if (type == YAML_STREAM_END_EVENT)
      break;
  }
  *out = docs;
  docs = (struct ss_docs){0};
out:
  if (p) {
    reset_doc_state(p);
    ss_doc_free(p->doc);
    free(p);
  }
  if (parser_ok)
    yaml_parser_delete(&parser);
  ss_docs_free(&docs);
  return rc;
}
