/* fastpath.c: a validating JSON scanner and the two splices. */
#include "gateway/fastpath.h"

#include <stdlib.h>
#include <string.h>

struct scan {
  const char *p, *end;
};

static void ws(struct scan *s) {
  while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
    s->p++;
}

static bool lit(struct scan *s, const char *w, size_t n) {
  if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
    return false;
  s->p += n;
  return true;
}

static bool string(struct scan *s) {
  if (s->p >= s->end || *s->p != '"')
    return false;
  s->p++;
  while (s->p < s->end) {
    unsigned char c = (unsigned char)*s->p++;
    if (c == '"')
      return true;
    if (c < 0x20)
      return false;
    if (c == '\\') {
      if (s->p >= s->end)
        return false;
      char e = *s->p++;
      if (e == 'u') {
        for (int i = 0; i < 4; i++, s->p++)
          if (s->p >= s->end || !strchr("0123456789abcdefABCDEF", *s->p) || !*s->p)
            return false;
      } else if (!strchr("\"\\/bfnrt", e) || !e) {
        return false;
      }
    }
  }
  return false;
}

static bool digits(struct scan *s) {
  const char *start = s->p;
  while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
    s->p++;
  return s->p > start;
}

static bool number(struct scan *s) {
  if (s->p < s->end && *s->p == '-')
    s->p++;
  if (s->p < s->end && *s->p == '0')
    s->p++;
  else if (!digits(s))
    return false;
  if (s->p < s->end && *s->p == '.') {
    s->p++;
    if (!digits(s))
      return false;
  }
  if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
    s->p++;
    if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
      s->p++;
    if (!digits(s))
      return false;
  }
  return true;
}

static bool value(struct scan *s, int depth);

static bool container(struct scan *s, int depth, bool object) {
  if (depth >= SS__GW_SCAN_MAX_DEPTH)
    return false;
  s->p++; /* { or [ */
  ws(s);
  char close = object ? '}' : ']';
  if (s->p < s->end && *s->p == close) {
    s->p++;
    return true;
  }
  for (;;) {
    ws(s);
    if (object) {
      if (!string(s))
        return false;
      ws(s);
      if (s->p >= s->end || *s->p++ != ':')
        return false;
      ws(s);
    }
    if (!value(s, depth + 1))
      return false;
    ws(s);
    if (s->p >= s->end)
      return false;
    char c = *s->p++;
    if (c == close)
      return true;
    if (c != ',')
      return false;
  }
}

static bool value(struct scan *s, int depth) {
  if (s->p >= s->end)
    return false;
  switch (*s->p) {
  case '{': return container(s, depth, true);
  case '[': return container(s, depth, false);
  case '"': return string(s);
  case 't': return lit(s, "true", 4);
  case 'f': return lit(s, "false", 5);
  case 'n': return lit(s, "null", 4);
  default: return number(s);
  }
}

int ss__gw_scan(const char *text, size_t n, size_t *meta_at, size_t *meta_len) {
  struct scan s = {text, text + n};
  *meta_at = *meta_len = 0;
  ws(&s);
  if (s.p >= s.end)
    return -1;
  if (*s.p != '{') {
    if (!value(&s, 0))
      return -1;
    ws(&s);
    return s.p == s.end ? 1 : -1;
  }
  /* the top-level object, keeping where "meta" is */
  s.p++;
  ws(&s);
  if (s.p < s.end && *s.p == '}') {
    s.p++;
  } else {
    for (;;) {
      ws(&s);
      const char *k = s.p;
      if (!string(&s))
        return -1;
      bool is_meta = s.p - k == 6 && memcmp(k, "\"meta\"", 6) == 0;
      ws(&s);
      if (s.p >= s.end || *s.p++ != ':')
        return -1;
      ws(&s);
      const char *v = s.p;
      if (!value(&s, 1))
        return -1;
      if (is_meta) {
        if (*meta_len) /* a duplicate key: leave it to the general way */
          return 1;
        *meta_at = (size_t)(v - text);
        *meta_len = (size_t)(s.p - v);
      }
      ws(&s);
      if (s.p >= s.end)
        return -1;
      char c = *s.p++;
      if (c == '}')
        break;
      if (c != ',')
        return -1;
    }
  }
  ws(&s);
  return s.p == s.end ? 0 : -1;
}

bool ss__gw_meta_trivial(const char *text, size_t n) {
  struct scan s = {text, text + n};
  ws(&s);
  if (s.p >= s.end || *s.p != '{')
    return false;
  s.p++;
  ws(&s);
  if (s.p < s.end && *s.p == '}')
    return true;
  for (;;) {
    ws(&s);
    const char *k = s.p;
    if (!string(&s) || s.p - k != 6 || memcmp(k, "\"puid\"", 6) != 0)
      return false;
    ws(&s);
    if (s.p >= s.end || *s.p++ != ':')
      return false;
    ws(&s);
    if (!value(&s, 1))
      return false;
    ws(&s);
    if (s.p >= s.end)
      return false;
    char c = *s.p++;
    if (c == '}')
      return true;
    if (c != ',')
      return false;
  }
}

struct out {
  char *p;
  size_t n, cap;
  bool oom;
};

/* Room for need more bytes and a NUL; kept out of line so that the
 * compiler does not reason about an empty buffer at every call site. */
static __attribute__((noinline)) bool grow(struct out *o, size_t need) {
  if (o->oom)
    return false;
  if (o->cap - o->n >= need + 1)
    return true;
  size_t cap = o->cap ? o->cap * 2 : 256;
  while (cap - o->n < need + 1)
    cap *= 2;
  char *p = realloc(o->p, cap);
  if (!p) {
    o->oom = true;
    return false;
  }
  o->p = p;
  o->cap = cap;
  return true;
}

static void put(struct out *o, const char *s, size_t n) {
  if (!grow(o, n))
    return;
  memcpy(o->p + o->n, s, n);
  o->n += n;
  o->p[o->n] = '\0';
}

/* A JSON string of s: names and images need no escapes, but are checked. */
static void put_str(struct out *o, const char *s) {
  put(o, "\"", 1);
  for (const char *p = s; *p; p++) {
    unsigned char c = (unsigned char)*p;
    if (c == '"' || c == '\\') {
      put(o, "\\", 1);
      put(o, p, 1);
    } else if (c < 0x20) {
      put(o, " ", 1);
    } else {
      put(o, p, 1);
    }
  }
  put(o, "\"", 1);
}

static char *done(struct out *o, size_t *out_len) {
  if (o->oom) {
    free(o->p);
    return NULL;
  }
  *out_len = o->n;
  return o->p;
}

/* Where the first key of an object text starts (after '{' and blanks), and
 * whether it has one. */
static size_t after_brace(const char *body, size_t n, bool *empty) {
  size_t i = 0;
  while (i < n && body[i] != '{')
    i++;
  if (i < n)
    i++;
  size_t j = i;
  while (j < n && (body[j] == ' ' || body[j] == '\t' || body[j] == '\n' || body[j] == '\r'))
    j++;
  *empty = j < n && body[j] == '}';
  return i;
}

char *ss__gw_fast_request(const char *body, size_t n, const char *puid, size_t *out_len) {
  struct out o = {0};
  bool empty;
  size_t i = after_brace(body, n, &empty);
  put(&o, "{\"meta\":{\"puid\":", 16);
  put_str(&o, puid);
  put(&o, empty ? "}" : "},", empty ? 1 : 2);
  put(&o, body + i, n - i);
  return done(&o, out_len);
}

char *ss__gw_fast_response(const char *body, size_t n, size_t meta_at, size_t meta_len,
                           const char *puid, const char *node, const char *image,
                           size_t *out_len) {
  struct out o = {0}, meta = {0};
  put(&meta, "{\"puid\":", 8);
  put_str(&meta, puid);
  put(&meta, ",\"tags\":{},\"routing\":{},\"requestPath\":{", 39);
  put_str(&meta, node);
  put(&meta, ":", 1);
  put_str(&meta, image);
  put(&meta, "},\"metrics\":[]}", 15);
  if (meta.oom) {
    free(meta.p);
    return NULL;
  }
  if (meta_at > n || meta_len > n - meta_at)
    meta_len = 0; /* not a span of body: treat as absent */
  if (meta_len) {
    put(&o, body, meta_at);
    put(&o, meta.p, meta.n);
    put(&o, body + meta_at + meta_len, n - meta_at - meta_len);
  } else {
    bool empty;
    size_t i = after_brace(body, n, &empty);
    put(&o, "{\"meta\":", 8);
    put(&o, meta.p, meta.n);
    if (!empty)
      put(&o, ",", 1);
    put(&o, body + i, n - i);
  }
  free(meta.p);
  return done(&o, out_len);
}
