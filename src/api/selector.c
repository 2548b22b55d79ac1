/* selector.c: label and field selector parsing and matching. */
#include "api/selector.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define SEL_MAX_REQS 32
#define SEL_MAX_VALUES 32
#define SEL_MAX_TEXT 256

enum op { OP_EQ, OP_NE, OP_IN, OP_NOTIN, OP_EXISTS, OP_NOTEXISTS };

struct req {
  char key[SEL_MAX_TEXT];
  enum op op;
  char values[SEL_MAX_VALUES][SEL_MAX_TEXT];
  int n_values;
};

struct ss_selector {
  bool labels;
  struct req reqs[SEL_MAX_REQS];
  int n;
};

static const char *skip_ws(const char *p) {
  while (*p == ' ')
    p++;
  return p;
}

/* Copies a token of characters allowed in keys and values. */
static const char *token(const char *p, char *out) {
  size_t n = 0;
  while (*p && (isalnum((unsigned char)*p) || strchr("-_./", *p))) {
    if (n + 1 >= SEL_MAX_TEXT)
      return NULL;
    out[n++] = *p++;
  }
  out[n] = '\0';
  return p;
}

enum ss_err ss_selector_parse(const char *text, bool labels, struct ss_selector **out,
                              struct ss_error *err) {
  struct ss_selector *s = calloc(1, sizeof *s);
  if (!s)
    return ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
  s->labels = labels;
  const char *p = text ? text : "";
  p = skip_ws(p);
  while (*p) {
    if (s->n == SEL_MAX_REQS)
      goto bad;
    struct req *r = &s->reqs[s->n++];
    bool negate = false;
    if (*p == '!') {
      if (!labels)
        goto bad;
      negate = true;
      p = skip_ws(p + 1);
    }
    if (!(p = token(p, r->key)) || !r->key[0])
      goto bad;
    p = skip_ws(p);
    if (negate) {
      r->op = OP_NOTEXISTS;
    } else if (*p == ',' || !*p) {
      if (!labels)
        goto bad;
      r->op = OP_EXISTS;
    } else if (p[0] == '!' && p[1] == '=') {
      r->op = OP_NE;
      p += 2;
    } else if (p[0] == '=' && p[1] == '=') {
      r->op = OP_EQ;
      p += 2;
    } else if (p[0] == '=') {
      r->op = OP_EQ;
      p += 1;
    } else if (labels && (strncmp(p, "in", 2) == 0 || strncmp(p, "notin", 5) == 0)) {
      r->op = p[0] == 'i' ? OP_IN : OP_NOTIN;
      p = skip_ws(p + (r->op == OP_IN ? 2 : 5));
      if (*p != '(')
        goto bad;
      p = skip_ws(p + 1);
      for (;;) {
        if (r->n_values == SEL_MAX_VALUES)
          goto bad;
        if (!(p = token(p, r->values[r->n_values++])))
          goto bad;
        p = skip_ws(p);
        if (*p == ',') {
          p = skip_ws(p + 1);
          continue;
        }
        if (*p == ')') {
          p++;
          break;
        }
        goto bad;
      }
    } else {
      goto bad;
    }
    if (r->op == OP_EQ || r->op == OP_NE) {
      p = skip_ws(p);
      if (!(p = token(p, r->values[0])))
        goto bad;
      r->n_values = 1;
    }
    p = skip_ws(p);
    if (*p == ',')
      p = skip_ws(p + 1);
    else if (*p)
      goto bad;
  }
  *out = s;
  return SS_EOK;
bad:
  free(s);
  return ss_error_set(err, SS_EINVALID, 0, 0, "unable to parse %s selector \"%.200s\"",
                      labels ? "label" : "field", text);
}

/* The string at a dotted path of obj (fields), or obj.metadata.labels[key]. */
static const char *lookup(const struct ss_selector *s, const json_t *obj, const char *key,
                          bool *present) {
  const json_t *v;
  if (s->labels) {
    v = json_object_get(json_object_get(json_object_get(obj, "metadata"), "labels"), key);
  } else {
    char part[SEL_MAX_TEXT];
    const char *p = key;
    v = obj;
    while (v && *p) {
      const char *dot = strchr(p, '.');
      size_t n = dot ? (size_t)(dot - p) : strlen(p);
      memcpy(part, p, n);
      part[n] = '\0';
      v = json_object_get(v, part);
      p = dot ? dot + 1 : p + n;
    }
  }
  *present = v != NULL && !json_is_null(v);
  if (json_is_string(v))
    return json_string_value(v);
  return *present ? "" : "";
}

bool ss_selector_matches(const struct ss_selector *s, const json_t *obj) {
  if (!s)
    return true;
  for (int i = 0; i < s->n; i++) {
    const struct req *r = &s->reqs[i];
    bool present;
    const char *v = lookup(s, obj, r->key, &present);
    bool ok = false;
    switch (r->op) {
    case OP_EQ:
      ok = (present || !s->labels) && strcmp(v, r->values[0]) == 0;
      break;
    case OP_NE:
      ok = !present || strcmp(v, r->values[0]) != 0;
      break;
    case OP_IN:
    case OP_NOTIN: {
      bool in = false;
      for (int j = 0; present && j < r->n_values; j++)
        in = in || strcmp(v, r->values[j]) == 0;
      ok = r->op == OP_IN ? in : !in;
      break;
    }
    case OP_EXISTS:
      ok = present;
      break;
    case OP_NOTEXISTS:
      ok = !present;
      break;
    }
    if (!ok)
      return false;
  }
  return true;
}

void ss_selector_free(struct ss_selector *s) { free(s); }
