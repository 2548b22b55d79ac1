/* json_parse.c: a strict JSON (RFC 8259) reader that records where each value
 * starts. jansson builds and owns the values; it reports the position of a
 * syntax error but not of each value, which validation needs, hence this
 * small reader. A stream of several JSON texts is read as several documents.
 * Every limit in doc.h is enforced before memory is committed to it. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/doc.h"
#include "model/path.h"

struct jp {
  const char *s;
  size_t len, i;
  unsigned line, col;
  size_t nodes;
  struct ss_doc *doc;
  struct ss_path path;
  struct ss_error *err;
};

static void adv(struct jp *p) {
  unsigned char c = (unsigned char)p->s[p->i++];
  if (c == '\n') {
    p->line++;
    p->col = 1;
  } else if ((c & 0xC0) != 0x80) {
    p->col++;
  }
}

static void skip_ws(struct jp *p) {
  while (p->i < p->len) {
    char c = p->s[p->i];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
      break;
    adv(p);
  }
}

static enum ss_err fail(struct jp *p, enum ss_err code, const char *what) {
  return ss_error_set(p->err, code, p->line, p->col, "%s", what);
}

static enum ss_err fail_at(struct jp *p, const char *what) {
  if (p->i >= p->len)
    return ss_error_set(p->err, SS_ESYNTAX, p->line, p->col,
                        "unexpected end of input, expected %s", what);
  unsigned char c = (unsigned char)p->s[p->i];
  if (c >= 0x20 && c < 0x7f)
    return ss_error_set(p->err, SS_ESYNTAX, p->line, p->col,
                        "unexpected '%c', expected %s", c, what);
  return ss_error_set(p->err, SS_ESYNTAX, p->line, p->col,
                      "unexpected byte 0x%02x, expected %s", c, what);
}

static enum ss_err parse_value(struct jp *p, unsigned depth, json_t **out);

/* Length of the valid UTF-8 sequence at s[0..n), or 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n) {
  unsigned char c = s[0];
  size_t k;
  uint32_t cp;
  if (c < 0x80)
    return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    k = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    k = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    k = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (n < k)
    return 0;
  for (size_t j = 1; j < k; j++) {
    if ((s[j] & 0xC0) != 0x80)
      return 0;
    cp = (cp << 6) | (s[j] & 0x3F);
  }
  if ((k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
      (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return k;
}

static size_t put_utf8(char *o, uint32_t cp) {
  if (cp < 0x80) {
    o[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (char)(0xC0 | (cp >> 6));
    o[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (char)(0xE0 | (cp >> 12));
    o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (char)(0xF0 | (cp >> 18));
  o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  o[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

static int hex4(const char *s, uint32_t *out) {
  uint32_t v = 0;
  for (int k = 0; k < 4; k++) {
    char c = s[k];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= (uint32_t)(c - '0');
    else if (c >= 'a' && c <= 'f')
      v |= (uint32_t)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      v |= (uint32_t)(c - 'A' + 10);
    else
      return -1;
  }
  *out = v;
  return 0;
}

/* Reads a string at p->i (which is '"'); *out is malloc'd, NUL-terminated. */
static enum ss_err parse_string(struct jp *p, char **out, size_t *outlen) {
  enum ss_err rc = SS_EOK;
  adv(p); /* opening quote */
  size_t start = p->i, end = start;
  /* A string never decodes longer than its source, so size by the source. */
  while (end < p->len && p->s[end] != '"') {
    if (p->s[end] == '\\' && end + 1 < p->len)
      end++;
    end++;
  }
  if (end - start > SS_DOC_MAX_STRING)
    return ss_error_set(p->err, SS_ELIMIT, p->line, p->col,
                        "string longer than the limit of %zu bytes", SS_DOC_MAX_STRING);
  char *buf = malloc(end - start + 1);
  size_t n = 0;
  if (!buf)
    return fail(p, SS_ENOMEM, "out of memory");
  for (;;) {
    if (p->i >= p->len) {
      rc = fail(p, SS_ESYNTAX, "unterminated string");
      goto out;
    }
    unsigned char c = (unsigned char)p->s[p->i];
    if (c == '"') {
      adv(p);
      break;
    }
    if (c < 0x20) {
      rc = fail(p, SS_ESYNTAX, "control character in string (escape it)");
      goto out;
    }
    if (c == '\\') {
      if (p->i + 1 >= p->len) {
        rc = fail(p, SS_ESYNTAX, "unterminated string");
        goto out;
      }
      char e = p->s[p->i + 1];
      const char *simple = strchr("\"\\/bfnrt", e);
      if (e && simple) {
        static const char map[] = "\"\\/\b\f\n\r\t";
        buf[n++] = map[simple - "\"\\/bfnrt"];
        adv(p);
        adv(p);
        continue;
      }
      if (e != 'u') {
        rc = fail(p, SS_ESYNTAX, "invalid escape in string");
        goto out;
      }
      uint32_t cp;
      if (p->i + 6 > p->len || hex4(p->s + p->i + 2, &cp) != 0) {
        rc = fail(p, SS_ESYNTAX, "invalid \\u escape in string");
        goto out;
      }
      size_t used = 6;
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        uint32_t lo;
        if (p->i + 12 > p->len || p->s[p->i + 6] != '\\' || p->s[p->i + 7] != 'u' ||
            hex4(p->s + p->i + 8, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF) {
          rc = fail(p, SS_ESYNTAX, "unpaired UTF-16 surrogate in \\u escape");
          goto out;
        }
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        used = 12;
      } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        rc = fail(p, SS_ESYNTAX, "unpaired UTF-16 surrogate in \\u escape");
        goto out;
      }
      if (cp == 0) {
        rc = fail(p, SS_ESYNTAX, "NUL character (\\u0000) in string is not supported");
        goto out;
      }
      n += put_utf8(buf + n, cp);
      for (size_t k = 0; k < used; k++)
        adv(p);
      continue;
    }
    size_t k = utf8_len((const unsigned char *)p->s + p->i, p->len - p->i);
    if (!k) {
      rc = fail(p, SS_ESYNTAX, "invalid UTF-8 in string");
      goto out;
    }
    memcpy(buf + n, p->s + p->i, k);
    n += k;
    for (size_t j = 0; j < k; j++)
      adv(p);
  }
  buf[n] = '\0';
  *out = buf;
  *outlen = n;
  buf = NULL;
out:
  free(buf);
  return rc;
}

static enum ss_err parse_number(struct jp *p, json_t **out) {
  size_t s = p->i;
  bool is_int = true;
  const char *b = p->s;
  size_t i = p->i;
  if (i < p->len && b[i] == '-')
    i++;
  if (i < p->len && b[i] == '0') {
    i++;
  } else if (i < p->len && b[i] >= '1' && b[i] <= '9') {
    while (i < p->len && b[i] >= '0' && b[i] <= '9')
      i++;
  } else {
    return fail_at(p, "a value");
  }
  if (i < p->len && b[i] == '.') {
    is_int = false;
    i++;
    if (i >= p->len || b[i] < '0' || b[i] > '9')
      goto bad;
    while (i < p->len && b[i] >= '0' && b[i] <= '9')
      i++;
  }
  if (i < p->len && (b[i] == 'e' || b[i] == 'E')) {
    is_int = false;
    i++;
    if (i < p->len && (b[i] == '+' || b[i] == '-'))
      i++;
    if (i >= p->len || b[i] < '0' || b[i] > '9')
      goto bad;
    while (i < p->len && b[i] >= '0' && b[i] <= '9')
      i++;
  }
  char tmp[400];
  if (i - s >= sizeof tmp)
    return fail(p, SS_ELIMIT, "number literal too long");
  memcpy(tmp, b + s, i - s);
  tmp[i - s] = '\0';
  errno = 0;
  if (is_int) {
    long long v = strtoll(tmp, NULL, 10);
    if (errno != ERANGE) {
      *out = json_integer(v);
      goto done;
    }
  }
  errno = 0;
  double d = strtod(tmp, NULL);
  if (!isfinite(d))
    return fail(p, SS_ESYNTAX, "number out of range");
  *out = json_real(d);
done:
  while (p->i < i)
    adv(p);
  return *out ? SS_EOK : fail(p, SS_ENOMEM, "out of memory");
bad:
  while (p->i < i)
    adv(p);
  return fail_at(p, "a digit");
}

static bool literal(struct jp *p, const char *word) {
  size_t n = strlen(word);
  if (p->len - p->i < n || memcmp(p->s + p->i, word, n) != 0)
    return false;
  for (size_t k = 0; k < n; k++)
    adv(p);
  return true;
}

static enum ss_err parse_object(struct jp *p, unsigned depth, json_t **out) {
  enum ss_err rc = SS_EOK;
  json_t *obj = json_object();
  char *key = NULL;
  if (!obj)
    return fail(p, SS_ENOMEM, "out of memory");
  adv(p); /* { */
  skip_ws(p);
  if (p->i < p->len && p->s[p->i] == '}') {
    adv(p);
    goto done;
  }
  for (;;) {
    skip_ws(p);
    if (p->i >= p->len || p->s[p->i] != '"') {
      rc = fail_at(p, "a string key");
      goto out;
    }
    unsigned kline = p->line, kcol = p->col;
    size_t klen;
    if ((rc = parse_string(p, &key, &klen)))
      goto out;
    if (strlen(key) != klen) {
      rc = ss_error_set(p->err, SS_ESYNTAX, kline, kcol, "NUL character in key");
      goto out;
    }
    if (json_object_get(obj, key)) {
      rc = ss_error_set(p->err, SS_ESYNTAX, kline, kcol, "duplicate key \"%s\"", key);
      goto out;
    }
    skip_ws(p);
    if (p->i >= p->len || p->s[p->i] != ':') {
      rc = fail_at(p, "':'");
      goto out;
    }
    adv(p);
    skip_ws(p);
    size_t saved = ss_path_key(&p->path, key);
    json_t *v = NULL;
    rc = parse_value(p, depth + 1, &v);
    ss_path_pop(&p->path, saved);
    if (rc)
      goto out;
    if (json_object_set_new(obj, key, v) != 0) {
      rc = fail(p, SS_ENOMEM, "out of memory");
      goto out;
    }
    free(key);
    key = NULL;
    skip_ws(p);
    if (p->i < p->len && p->s[p->i] == ',') {
      adv(p);
      continue;
    }
    if (p->i < p->len && p->s[p->i] == '}') {
      adv(p);
      break;
    }
    rc = fail_at(p, "',' or '}'");
    goto out;
  }
done:
  *out = obj;
  obj = NULL;
out:
  free(key);
  json_decref(obj);
  return rc;
}

static enum ss_err parse_array(struct jp *p, unsigned depth, json_t **out) {
  enum ss_err rc = SS_EOK;
  json_t *arr = json_array();
  if (!arr)
    return fail(p, SS_ENOMEM, "out of memory");
  adv(p); /* [ */
  skip_ws(p);
  if (p->i < p->len && p->s[p->i] == ']') {
    adv(p);
    goto done;
  }
  for (size_t idx = 0;; idx++) {
    skip_ws(p);
    size_t saved = ss_path_index(&p->path, idx);
    json_t *v = NULL;
    rc = parse_value(p, depth + 1, &v);
    ss_path_pop(&p->path, saved);
    if (rc)
      goto out;
    if (json_array_append_new(arr, v) != 0) {
      rc = fail(p, SS_ENOMEM, "out of memory");
      goto out;
    }
    skip_ws(p);
    if (p->i < p->len && p->s[p->i] == ',') {
      adv(p);
      continue;
    }
    if (p->i < p->len && p->s[p->i] == ']') {
      adv(p);
      break;
    }
    rc = fail_at(p, "',' or ']'");
    goto out;
  }
done:
  *out = arr;
  arr = NULL;
out:
  json_decref(arr);
  return rc;
}

/* depth: how many collections enclose the value (0 for the root). */
static enum ss_err parse_value(struct jp *p, unsigned depth, json_t **out) {
  char c0 = p->i < p->len ? p->s[p->i] : '\0';
  if ((c0 == '{' || c0 == '[') && depth >= SS_DOC_MAX_DEPTH)
    return ss_error_set(p->err, SS_ELIMIT, p->line, p->col,
                        "nesting deeper than the limit of %d", SS_DOC_MAX_DEPTH);
  if (++p->nodes > SS_DOC_MAX_NODES)
    return ss_error_set(p->err, SS_ELIMIT, p->line, p->col,
                        "more than the limit of %d values", SS_DOC_MAX_NODES);
  if (ss_doc_pos_put(p->doc, p->path.buf, p->line, p->col))
    return fail(p, SS_ENOMEM, "out of memory");
  if (p->i >= p->len)
    return fail_at(p, "a value");
  char c = p->s[p->i];
  if (c == '{')
    return parse_object(p, depth, out);
  if (c == '[')
    return parse_array(p, depth, out);
  if (c == '"') {
    char *s;
    size_t n;
    enum ss_err rc = parse_string(p, &s, &n);
    if (rc)
      return rc;
    *out = json_stringn_nocheck(s, n);
    free(s);
    return *out ? SS_EOK : fail(p, SS_ENOMEM, "out of memory");
  }
  if (literal(p, "true"))
    *out = json_true();
  else if (literal(p, "false"))
    *out = json_false();
  else if (literal(p, "null"))
    *out = json_null();
  else
    return parse_number(p, out);
  return SS_EOK;
}

enum ss_err ss_json_parse(const char *buf, size_t len, struct ss_docs *out,
                          struct ss_error *err) {
  enum ss_err rc = SS_EOK;
  struct ss_docs docs = {0};
  struct jp p = {.s = buf, .len = len, .line = 1, .col = 1, .err = err};
  if (len > SS_DOC_MAX_BYTES)
    return ss_error_set(err, SS_ELIMIT, 0, 0,
                        "input is %zu bytes, more than the limit of %zu bytes", len,
                        SS_DOC_MAX_BYTES);
  if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
    p.i = 3;
  for (;;) {
    skip_ws(&p);
    if (p.i >= p.len)
      break;
    if (docs.n >= SS_DOC_MAX_DOCS) {
      rc = fail(&p, SS_ELIMIT, "too many documents in one stream");
      goto out;
    }
    struct ss_doc *doc = ss_doc_new(NULL);
    if (!doc || ss_docs_push(&docs, doc)) {
      rc = fail(&p, SS_ENOMEM, "out of memory");
      goto out;
    }
    doc->start = (struct ss_pos){p.line, p.col};
    p.doc = doc;
    ss_path_reset(&p.path);
    if ((rc = parse_value(&p, 0, &doc->root)))
      goto out;
  }
  if (docs.n == 0) {
    rc = fail(&p, SS_ESYNTAX, "no JSON value in input");
    goto out;
  }
  *out = docs;
  docs = (struct ss_docs){0};
out:
  ss_docs_free(&docs);
  return rc;
}
