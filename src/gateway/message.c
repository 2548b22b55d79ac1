/* message.c: Seldon message helpers for the graph walk (message.h) and
 * Seldon's status object (ss_gw_error_body, graph.h). Pure functions of
 * their arguments; the walk's state lives in graph.c. */
#include "gateway/message.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/graph.h"

/* Nesting accepted in an ndarray we average; jansson's own parser stops at
 * 2048 levels, no real payload comes near this. */
#define AVG_MAX_DEPTH 64

static bool fail(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static bool fail(char *why, size_t n, const char *fmt, ...) {
  if (why && n) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
  }
  return false;
}

/* ---- shape checks ---- */

static bool all_strings(const json_t *a) {
  size_t i;
  const json_t *v;
  json_array_foreach(a, i, v) {
    if (!json_is_string(v))
      return false;
  }
  return true;
}

static bool check_tensor(const json_t *t, const char *at, char *why, size_t n) {
  if (!json_is_object(t))
    return fail(why, n, "%s.tensor: must be an object with shape and values", at);
  const json_t *shape = json_object_get(t, "shape");
  const json_t *values = json_object_get(t, "values");
  if (!json_is_array(shape))
    return fail(why, n, "%s.tensor.shape: must be an array of integers", at);
  if (values && !json_is_array(values))
    return fail(why, n, "%s.tensor.values: must be an array of numbers", at);
  double want = 1;
  size_t i;
  const json_t *v;
  json_array_foreach(shape, i, v) {
    if (!json_is_integer(v) || json_integer_value(v) < 0)
      return fail(why, n, "%s.tensor.shape[%zu]: must be a non-negative integer", at, i);
    want *= (double)json_integer_value(v);
  }
  size_t have = values ? json_array_size(values) : 0;
  json_array_foreach(values, i, v) {
    if (!json_is_number(v))
      return fail(why, n, "%s.tensor.values[%zu]: must be a number", at, i);
  }
  if (want != (double)have)
    return fail(why, n, "%s.tensor: shape holds %.0f values but values has %zu", at, want, have);
  return true;
}

static bool check_msg_at(const json_t *msg, const char *at, enum ss__gw_form *form, char *why,
                         size_t n) {
  enum ss__gw_form f = SS_GW_FORM_NONE;
  if (!json_is_object(msg))
    return fail(why, n, "%s: a Seldon message must be a JSON object", at);
  const json_t *meta = json_object_get(msg, "meta");
  if (meta) {
    if (!json_is_object(meta))
      return fail(why, n, "%s.meta: must be an object", at);
    const json_t *puid = json_object_get(meta, "puid");
    if (puid && !json_is_string(puid))
      return fail(why, n, "%s.meta.puid: must be a string", at);
    static const char *const maps[] = {"tags", "routing", "requestPath"};
    for (size_t i = 0; i < 3; i++) {
      const json_t *m = json_object_get(meta, maps[i]);
      if (m && !json_is_object(m))
        return fail(why, n, "%s.meta.%s: must be an object", at, maps[i]);
    }
    const json_t *routing = json_object_get(meta, "routing");
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)routing, k, v) {
      if (!json_is_integer(v))
        return fail(why, n, "%s.meta.routing.%.100s: must be an integer", at, k);
    }
    const json_t *metrics = json_object_get(meta, "metrics");
    if (metrics && !json_is_array(metrics))
      return fail(why, n, "%s.meta.metrics: must be an array", at);
  }
  static const char *const payloads[] = {"data", "strData", "jsonData", "binData"};
  const char *seen = NULL;
  for (size_t i = 0; i < 4; i++) {
    if (!json_object_get(msg, payloads[i]))
      continue;
    if (seen)
      return fail(why, n, "%s: has both %s and %s; a Seldon message holds one of data, "
                          "strData, jsonData, binData",
                  at, seen, payloads[i]);
    seen = payloads[i];
  }
  const json_t *data = json_object_get(msg, "data");
  if (data) {
    if (!json_is_object(data))
      return fail(why, n, "%s.data: must be an object", at);
    const json_t *names = json_object_get(data, "names");
    if (names && (!json_is_array(names) || !all_strings(names)))
      return fail(why, n, "%s.data.names: must be an array of strings", at);
    const json_t *nd = json_object_get(data, "ndarray");
    const json_t *t = json_object_get(data, "tensor");
    if (nd && t)
      return fail(why, n, "%s.data: has both ndarray and tensor", at);
    char sub[64];
    snprintf(sub, sizeof sub, "%s.data", at);
    if (nd && !json_is_array(nd))
      return fail(why, n, "%s.data.ndarray: must be an array", at);
    if (t && !check_tensor(t, sub, why, n))
      return false;
    f = nd ? SS_GW_FORM_NDARRAY : t ? SS_GW_FORM_TENSOR : SS_GW_FORM_NAMES;
  } else if (json_object_get(msg, "strData")) {
    if (!json_is_string(json_object_get(msg, "strData")))
      return fail(why, n, "%s.strData: must be a string", at);
    f = SS_GW_FORM_STRDATA;
  } else if (json_object_get(msg, "binData")) {
    if (!json_is_string(json_object_get(msg, "binData")))
      return fail(why, n, "%s.binData: must be a base64 string", at);
    f = SS_GW_FORM_BINDATA;
  } else if (json_object_get(msg, "jsonData")) {
    f = SS_GW_FORM_JSONDATA; /* any JSON value */
  }
  if (form)
    *form = f;
  return true;
}

bool ss__gw_msg_check(const json_t *msg, enum ss__gw_form *form, char *why, size_t why_len) {
  return check_msg_at(msg, "body", form, why, why_len);
}

bool ss__gw_feedback_check(const json_t *fb, char *why, size_t why_len) {
  if (!json_is_object(fb))
    return fail(why, why_len, "body: feedback must be a JSON object");
  static const char *const msgs[] = {"request", "response", "truth"};
  for (size_t i = 0; i < 3; i++) {
    const json_t *m = json_object_get(fb, msgs[i]);
    char at[32];
    snprintf(at, sizeof at, "body.%s", msgs[i]);
    if (m && !check_msg_at(m, at, NULL, why, why_len))
      return false;
  }
  const json_t *reward = json_object_get(fb, "reward");
  if (reward && !json_is_number(reward))
    return fail(why, why_len, "body.reward: must be a number");
  return true;
}

/* ---- randomness ---- */

uint64_t ss__gw_rng_seed(uint64_t seed) {
  uint64_t z = seed + 0x9e3779b97f4a7c15u; /* splitmix64 */
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  z ^= z >> 31;
  return z ? z : 0x2545f4914f6cdd1du; /* xorshift must not start at 0 */
}

uint64_t ss__gw_rng_next(uint64_t *s) {
  uint64_t x = *s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *s = x;
  return x * 0x2545f4914f6cdd1du;
}

double ss__gw_rng_unit(uint64_t *s) { return (double)(ss__gw_rng_next(s) >> 11) * 0x1p-53; }

void ss__gw_puid(uint64_t *s, char out[SS_GW_PUID_LEN + 1]) {
  static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  for (size_t i = 0; i < SS_GW_PUID_LEN; i++)
    out[i] = alphabet[ss__gw_rng_next(s) % 36];
  out[SS_GW_PUID_LEN] = '\0';
}

/* ---- meta ---- */

const char *ss__gw_msg_puid(const json_t *msg) {
  const char *p = json_string_value(json_object_get(json_object_get(msg, "meta"), "puid"));
  return p && *p ? p : NULL;
}

json_t *ss__gw_msg_writable(json_t *msg) {
  if (!msg || msg->refcount == 1 || !json_is_object(msg))
    return msg;
  json_t *c = json_copy(msg);
  const json_t *meta = json_object_get(msg, "meta");
  json_decref(msg);
  if (c && meta && json_object_set_new(c, "meta", json_deep_copy(meta)) != 0) {
    json_decref(c);
    return NULL;
  }
  return c;
}

/* dst.meta.<key>, made an empty object when missing or of another type. */
static json_t *meta_obj(json_t *msg, const char *key) {
  json_t *meta = json_object_get(msg, "meta");
  if (!json_is_object(meta)) {
    meta = json_object();
    if (!meta || json_object_set_new(msg, "meta", meta) != 0)
      return NULL;
  }
  if (!key)
    return meta;
  json_t *o = json_object_get(meta, key);
  if (!json_is_object(o)) {
    o = json_object();
    if (!o || json_object_set_new(meta, key, o) != 0)
      return NULL;
  }
  return o;
}

int ss__gw_msg_merge_tags(json_t *dst, const json_t *src) {
  const json_t *tags = json_object_get(json_object_get(src, "meta"), "tags");
  if (dst == src || !json_is_object(tags) || json_object_size(tags) == 0)
    return 0;
  json_t *d = meta_obj(dst, "tags");
  return d && json_object_update(d, (json_t *)tags) == 0 ? 0 : -1;
}

int ss__gw_msg_take_metrics(json_t *msg, json_t *into) {
  json_t *meta = json_object_get(msg, "meta");
  json_t *m = json_object_get(meta, "metrics");
  if (!m)
    return 0;
  if (json_is_array(m) && json_array_extend(into, m) != 0)
    return -1;
  json_object_del(meta, "metrics");
  return 0;
}

int ss__gw_msg_set_puid(json_t *msg, const char *puid) {
  if (ss__gw_msg_puid(msg))
    return 0;
  json_t *meta = meta_obj(msg, NULL);
  return meta && json_object_set_new(meta, "puid", json_string(puid)) == 0 ? 0 : -1;
}

/* ---- routing ---- */

bool ss__gw_msg_branch(const json_t *msg, long long *branch) {
  const json_t *data = json_object_get(msg, "data");
  const json_t *v = json_object_get(data, "ndarray");
  if (v) {
    for (int depth = 0; json_is_array(v) && depth < AVG_MAX_DEPTH; depth++)
      v = json_array_get(v, 0);
  } else if (json_object_get(data, "tensor")) {
    v = json_array_get(json_object_get(json_object_get(data, "tensor"), "values"), 0);
  } else {
    v = json_object_get(msg, "jsonData");
  }
  if (!json_is_number(v))
    return false;
  double d = json_number_value(v);
  if (!(d == floor(d)) || fabs(d) > 1e15)
    return false;
  *branch = (long long)d;
  return true;
}

/* ---- AVERAGE_COMBINER ---- */

struct numbers {
  size_t shape[AVG_MAX_DEPTH];
  size_t rank;
  double *v;
  size_t n, cap;
};

static bool push_number(struct numbers *x, double d) {
  if (x->n == x->cap) {
    size_t cap = x->cap ? x->cap * 2 : 64;
    double *v = realloc(x->v, cap * sizeof *v);
    if (!v)
      return false;
    x->v = v;
    x->cap = cap;
  }
  x->v[x->n++] = d;
  return true;
}

/* Flattens a rectangular nested array of numbers, recording its shape. */
static bool flatten(const json_t *a, size_t depth, struct numbers *x, char *why, size_t n) {
  if (!json_is_array(a)) {
    if (!json_is_number(a))
      return fail(why, n, "ndarray holds a value that is not a number");
    if (depth != x->rank)
      return fail(why, n, "ndarray is not rectangular");
    return push_number(x, json_number_value(a)) || fail(why, n, "out of memory");
  }
  if (depth >= AVG_MAX_DEPTH)
    return fail(why, n, "ndarray nests deeper than %d", AVG_MAX_DEPTH);
  size_t len = json_array_size(a);
  if (depth == x->rank && x->n == 0 && (depth == 0 || x->shape[depth - 1] > 0)) {
    /* first path down: learn the shape */
    x->shape[x->rank++] = len;
  } else if (depth >= x->rank || x->shape[depth] != len) {
    return fail(why, n, "ndarray is not rectangular");
  }
  for (size_t i = 0; i < len; i++)
    if (!flatten(json_array_get(a, i), depth + 1, x, why, n))
      return false;
  return true;
}

static bool numbers_of(const json_t *msg, size_t k, struct numbers *x, char *why, size_t n) {
  const json_t *data = json_object_get(msg, "data");
  const json_t *nd = json_object_get(data, "ndarray");
  const json_t *t = json_object_get(data, "tensor");
  if (nd) {
    if (!json_is_array(nd))
      return fail(why, n, "child %zu: data.ndarray must be an array", k);
    if (!flatten(nd, 0, x, why, n)) {
      char inner[256];
      snprintf(inner, sizeof inner, "%s", why ? why : "");
      return fail(why, n, "child %zu: %s", k, inner);
    }
    return true;
  }
  if (t) {
    char inner[256];
    if (!check_tensor(t, "data", inner, sizeof inner))
      return fail(why, n, "child %zu: %s", k, inner);
    const json_t *shape = json_object_get(t, "shape");
    if (json_array_size(shape) > AVG_MAX_DEPTH)
      return fail(why, n, "child %zu: tensor has more than %d dimensions", k, AVG_MAX_DEPTH);
    for (size_t i = 0; i < json_array_size(shape); i++)
      x->shape[x->rank++] = (size_t)json_integer_value(json_array_get(shape, i));
    const json_t *values = json_object_get(t, "values");
    for (size_t i = 0; i < json_array_size(values); i++)
      if (!push_number(x, json_number_value(json_array_get(values, i))))
        return fail(why, n, "out of memory");
    return true;
  }
  return fail(why, n, "child %zu: has no data.ndarray or data.tensor to average", k);
}

/* Rebuilds a nested array of shape[depth..] from v, advancing *at. */
static json_t *unflatten(const struct numbers *x, size_t depth, const double *v, size_t *at) {
  if (depth == x->rank)
    return json_real(v[(*at)++]);
  json_t *a = json_array();
  for (size_t i = 0; a && i < x->shape[depth]; i++) {
    if (json_array_append_new(a, unflatten(x, depth + 1, v, at)) != 0) {
      json_decref(a);
      return NULL;
    }
  }
  return a;
}

json_t *ss__gw_msg_average(json_t *const *msgs, size_t n, char *why, size_t why_len) {
  struct numbers first = {0}, cur = {0};
  json_t *out = NULL;
  if (n == 0) {
    fail(why, why_len, "no child output to average");
    goto out;
  }
  if (!numbers_of(msgs[0], 0, &first, why, why_len))
    goto out;
  for (size_t k = 1; k < n; k++) {
    free(cur.v);
    cur = (struct numbers){0};
    if (!numbers_of(msgs[k], k, &cur, why, why_len))
      goto out;
    if (cur.rank != first.rank || cur.n != first.n ||
        memcmp(cur.shape, first.shape, first.rank * sizeof *first.shape) != 0) {
      fail(why, why_len, "child %zu: shape differs from that of child 0", k);
      goto out;
    }
    for (size_t i = 0; i < first.n; i++)
      first.v[i] += cur.v[i];
  }
  for (size_t i = 0; i < first.n; i++)
    first.v[i] /= (double)n;
  out = json_deep_copy(msgs[0]);
  json_t *data = json_object_get(out, "data");
  if (!out || !data)
    goto oom;
  if (json_object_get(data, "ndarray")) {
    size_t at = 0;
    json_t *nd = unflatten(&first, 0, first.v, &at);
    if (!nd || json_object_set_new(data, "ndarray", nd) != 0)
      goto oom;
  } else {
    json_t *values = json_array();
    for (size_t i = 0; values && i < first.n; i++)
      if (json_array_append_new(values, json_real(first.v[i])) != 0) {
        json_decref(values);
        values = NULL;
      }
    if (!values || json_object_set_new(json_object_get(data, "tensor"), "values", values) != 0)
      goto oom;
  }
  goto out;
oom:
  json_decref(out);
  out = NULL;
  fail(why, why_len, "out of memory");
out:
  free(first.v);
  free(cur.v);
  return out;
}

/* ---- status objects ---- */

bool ss__gw_is_status(const json_t *body) {
  return json_is_object(body) && json_is_object(json_object_get(body, "status")) &&
         !json_object_get(body, "data") && !json_object_get(body, "strData") &&
         !json_object_get(body, "jsonData") && !json_object_get(body, "binData");
}

char *ss_gw_error_body(int code, const char *reason, const char *info) {
  json_t *st = json_pack("{s:i,s:s,s:s,s:s}", "code", code, "info", info ? info : "", "reason",
                         reason ? reason : "", "status", "FAILURE");
  json_t *o = st ? json_pack("{s:o}", "status", st) : NULL;
  char *s = o ? ss__gw_dump(o, NULL) : NULL;
  json_decref(o);
  return s;
}

/* ---- serializer ---- */

struct out {
  char *p;
  size_t n, cap;
  bool oom;
};

static void put(struct out *o, const char *s, size_t n) {
  if (o->oom)
    return;
  if (o->cap - o->n < n + 1) {
    size_t cap = o->cap ? o->cap : 256;
    while (cap - o->n < n + 1)
      cap *= 2;
    char *p = realloc(o->p, cap);
    if (!p) {
      o->oom = true;
      return;
    }
    o->p = p;
    o->cap = cap;
  }
  memcpy(o->p + o->n, s, n);
  o->n += n;
  o->p[o->n] = '\0';
}

static void put_string(struct out *o, const char *s, size_t n) {
  put(o, "\"", 1);
  size_t run = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != '"' && c != '\\')
      continue;
    put(o, s + run, i - run);
    run = i + 1;
    char esc[8];
    switch (c) {
    case '"': put(o, "\\\"", 2); break;
    case '\\': put(o, "\\\\", 2); break;
    case '\n': put(o, "\\n", 2); break;
    case '\r': put(o, "\\r", 2); break;
    case '\t': put(o, "\\t", 2); break;
    case '\b': put(o, "\\b", 2); break;
    case '\f': put(o, "\\f", 2); break;
    default:
      snprintf(esc, sizeof esc, "\\u%04x", c);
      put(o, esc, 6);
    }
  }
  put(o, s + run, n - run);
  put(o, "\"", 1);
}

/* The shortest of %.15g, %.16g, %.17g that reads back as d, with ".0" added
 * to integral values so that they stay reals for the reader. */
static void put_real(struct out *o, double d) {
  char b[40];
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(b, sizeof b, "%.*g", prec, d);
    if (strtod(b, NULL) == d)
      break;
  }
  if (!strpbrk(b, ".eEni"))
    strcat(b, ".0");
  put(o, b, strlen(b));
}

static void dump(struct out *o, const json_t *v) {
  char b[32];
  switch (json_typeof(v)) {
  case JSON_OBJECT: {
    put(o, "{", 1);
    const char *k;
    json_t *x;
    bool first = true;
    json_object_foreach((json_t *)v, k, x) {
      if (!first)
        put(o, ",", 1);
      first = false;
      put_string(o, k, strlen(k));
      put(o, ":", 1);
      dump(o, x);
    }
    put(o, "}", 1);
    break;
  }
  case JSON_ARRAY:
    put(o, "[", 1);
    for (size_t i = 0; i < json_array_size(v); i++) {
      if (i)
        put(o, ",", 1);
      dump(o, json_array_get(v, i));
    }
    put(o, "]", 1);
    break;
  case JSON_STRING:
    put_string(o, json_string_value(v), json_string_length(v));
    break;
  case JSON_INTEGER:
    snprintf(b, sizeof b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    put(o, b, strlen(b));
    break;
  case JSON_REAL:
    put_real(o, json_real_value(v));
    break;
  case JSON_TRUE: put(o, "true", 4); break;
  case JSON_FALSE: put(o, "false", 5); break;
  case JSON_NULL: put(o, "null", 4); break;
  }
}

char *ss__gw_dump(const json_t *v, size_t *len) {
  struct out o = {0};
  if (v)
    dump(&o, v);
  else
    put(&o, "null", 4);
  if (o.oom) {
    free(o.p);
    return NULL;
  }
  if (len)
    *len = o.n;
  return o.p;
}
