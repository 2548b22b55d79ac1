/* jsonpath.c: the part of kubectl's JSONPath that waits and scripts use:
 * dotted fields, ['quoted keys'], [index], and a [?(@.field=="value")]
 * filter that picks the first match. Pure: a function of the object and
 * the expression. Ranges, wildcards and unions are not supported. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/internal.h"

#define SS_JSONPATH_MAX_SEGMENTS 64
#define SS_JSONPATH_KEY_MAX 256

static enum ss_err bad(struct ss_client_error *err, const char *expr, const char *why) {
  return ss__client_fail(err, SS_ESYNTAX, "jsonpath \"%s\": %s", expr, why);
}

char *ss_client_json_text(const json_t *v) {
  char buf[64];
  switch (json_typeof(v)) {
  case JSON_STRING:
    return strdup(json_string_value(v));
  case JSON_INTEGER:
    snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
    return strdup(buf);
  case JSON_REAL:
    /* kubectl prints 0.5 as 0.5 and 2.0 as 2 */
    snprintf(buf, sizeof buf, "%.17g", json_real_value(v));
    {
      double back = strtod(buf, NULL);
      for (int prec = 1; prec < 17; prec++) {
        char t[64];
        snprintf(t, sizeof t, "%.*g", prec, json_real_value(v));
        if (strtod(t, NULL) == back) {
          snprintf(buf, sizeof buf, "%s", t);
          break;
        }
      }
    }
    return strdup(buf);
  case JSON_TRUE:
    return strdup("true");
  case JSON_FALSE:
    return strdup("false");
  case JSON_NULL:
    return strdup("null");
  default:
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
  }
}

/* Reads a key up to one of stop (or the end); false when too long or empty. */
static bool read_key(const char **p, const char *end, const char *stop, char *key) {
  size_t n = 0;
  while (*p < end && !strchr(stop, **p)) {
    if (n + 1 >= SS_JSONPATH_KEY_MAX)
      return false;
    key[n++] = *(*p)++;
  }
  key[n] = '\0';
  return n > 0;
}

/* A quoted string starting at *p ('...' or "..."), into out. */
static bool read_quoted(const char **p, const char *end, char *out) {
  char q = **p;
  size_t n = 0;
  if (q != '\'' && q != '"')
    return false;
  (*p)++;
  while (*p < end && **p != q) {
    if (n + 1 >= SS_JSONPATH_KEY_MAX)
      return false;
    out[n++] = *(*p)++;
  }
  if (*p >= end)
    return false;
  (*p)++;
  out[n] = '\0';
  return true;
}

static enum ss_err walk(const json_t *v, const char *p, const char *end, const char *expr,
                        int depth, const json_t **out, struct ss_client_error *err);

/* [?(@.a.b=="x")]: the first element of arr whose @-path has text x. */
static enum ss_err filter(const json_t *arr, const char **pp, const char *end, const char *expr,
                          int depth, const json_t **out, struct ss_client_error *err) {
  const char *p = *pp; /* after "[?(" */
  const char *close = NULL;
  /* the filter ends at ")]" outside quotes */
  char q = 0;
  for (const char *s = p; s + 1 < end; s++) {
    if (q) {
      if (*s == q)
        q = 0;
    } else if (*s == '\'' || *s == '"') {
      q = *s;
    } else if (s[0] == ')' && s[1] == ']') {
      close = s;
      break;
    }
  }
  if (!close || *p != '@')
    return bad(err, expr, "a filter is [?(@.field==\"value\")]");
  const char *eq = NULL;
  for (const char *s = p; s + 1 < close; s++)
    if (s[0] == '=' && s[1] == '=') {
      eq = s;
      break;
    }
  if (!eq)
    return bad(err, expr, "a filter compares with ==");
  char want[SS_JSONPATH_KEY_MAX];
  const char *lit = eq + 2;
  while (lit < close && *lit == ' ')
    lit++;
  if (*lit == '\'' || *lit == '"') {
    if (!read_quoted(&lit, close, want))
      return bad(err, expr, "unterminated string in a filter");
  } else {
    size_t n = 0;
    while (lit < close && *lit != ' ' && n + 1 < sizeof want)
      want[n++] = *lit++;
    want[n] = '\0';
  }
  const char *lhs_end = eq;
  while (lhs_end > p + 1 && lhs_end[-1] == ' ')
    lhs_end--;
  *pp = close + 2;
  *out = NULL;
  if (!json_is_array(arr))
    return SS_EOK;
  size_t i;
  json_t *it;
  json_array_foreach(arr, i, it) {
    const json_t *got = NULL;
    enum ss_err rc = walk(it, p + 1, lhs_end, expr, depth + 1, &got, err);
    if (rc)
      return rc;
    if (!got)
      continue;
    char *text = ss_client_json_text(got);
    bool match = text && strcmp(text, want) == 0;
    free(text);
    if (match) {
      *out = it;
      return SS_EOK;
    }
  }
  return SS_EOK;
}

static enum ss_err walk(const json_t *v, const char *p, const char *end, const char *expr,
                        int depth, const json_t **out, struct ss_client_error *err) {
  char key[SS_JSONPATH_KEY_MAX];
  if (depth > 4)
    return bad(err, expr, "filters nest too deep");
  for (int seg = 0; p < end; seg++) {
    if (seg >= SS_JSONPATH_MAX_SEGMENTS)
      return bad(err, expr, "too many segments");
    if (*p == '.') {
      p++;
      if (p == end) /* "{.}" is the whole object */
        break;
      if (!read_key(&p, end, ".[]", key))
        return bad(err, expr, "empty or too long a field name");
      v = json_object_get(v, key);
    } else if (*p == '[') {
      p++;
      if (p < end && (*p == '\'' || *p == '"')) {
        if (!read_quoted(&p, end, key) || p >= end || *p != ']')
          return bad(err, expr, "a quoted key is ['key']");
        p++;
        v = json_object_get(v, key);
      } else if (p + 1 < end && p[0] == '?' && p[1] == '(') {
        p += 2;
        const json_t *got = NULL;
        enum ss_err rc = filter(v, &p, end, expr, depth, &got, err);
        if (rc)
          return rc;
        v = got;
      } else {
        char *num_end;
        long i = strtol(p, &num_end, 10);
        if (num_end == p || num_end >= end || *num_end != ']' || i < 0)
          return bad(err, expr, "an index is [N] with N >= 0 (ranges and wildcards are not supported)");
        p = num_end + 1;
        v = json_array_get(v, (size_t)i);
      }
    } else if (seg == 0) {
      /* "status.replicas" without the leading dot, as people type it */
      if (!read_key(&p, end, ".[]", key))
        return bad(err, expr, "empty or too long a field name");
      v = json_object_get(v, key);
    } else {
      return bad(err, expr, "expected '.' or '['");
    }
    /* a missing value goes on as NULL, so that the rest is still checked */
  }
  *out = v;
  return SS_EOK;
}

enum ss_err ss_client_jsonpath(const json_t *obj, const char *expr, const json_t **out,
                               struct ss_client_error *err) {
  const char *p = expr, *end = expr + strlen(expr);
  *out = NULL;
  while (p < end && *p == ' ')
    p++;
  while (end > p && end[-1] == ' ')
    end--;
  if (p < end && *p == '{') {
    if (end[-1] != '}')
      return bad(err, expr, "missing '}'");
    p++;
    end--;
  }
  if (p < end && *p == '$')
    p++;
  if (p == end)
    return bad(err, expr, "empty");
  return walk(obj, p, end, expr, 0, out, err);
}
