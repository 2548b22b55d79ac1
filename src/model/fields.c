/* fields.c: typed field reads with diagnostics. */
#include "model/fields.h"

#include "common/jsonkind.h"
#include "model/replicas.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void vdiag(struct ss__dec *d, enum ss_severity sev, const char *key,
                  const char *fmt, va_list ap) {
  char msg[512];
  vsnprintf(msg, sizeof msg, fmt, ap);
  size_t saved = d->path.len;
  if (key)
    ss_path_key(&d->path, key);
  ss_diag_add(d->diags, sev, d->path.buf, "%s", msg);
  ss_path_pop(&d->path, saved);
}

void ss__err(struct ss__dec *d, const char *key, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vdiag(d, SS_SEV_ERROR, key, fmt, ap);
  va_end(ap);
}

void ss__warn(struct ss__dec *d, const char *key, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vdiag(d, SS_SEV_WARNING, key, fmt, ap);
  va_end(ap);
}

static const json_t *field(struct ss__dec *d, const json_t *obj, const char *key,
                           bool required) {
  const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
  if (v && json_is_null(v))
    v = NULL;
  if (!v && required)
    ss__err(d, key, "required value");
  return v;
}

bool ss__str(struct ss__dec *d, const json_t *obj, const char *key, bool required,
             const char **out) {
  const json_t *v = field(d, obj, key, required);
  if (!v)
    return false;
  if (!json_is_string(v)) {
    ss__err(d, key, "must be a string, not %s", ss_json_kind(v));
    return false;
  }
  *out = json_string_value(v);
  return true;
}

bool ss__int(struct ss__dec *d, const json_t *obj, const char *key, bool required,
             int64_t *out) {
  const json_t *v = field(d, obj, key, required);
  if (!v)
    return false;
  if (json_is_integer(v)) {
    *out = json_integer_value(v);
    return true;
  }
  if (json_is_real(v)) {
    double x = json_real_value(v);
    if (x == floor(x) && fabs(x) < 9e15) {
      *out = (int64_t)x;
      return true;
    }
  }
  ss__err(d, key, "must be an integer, not %s", ss_json_kind(v));
  return false;
}

bool ss__int32(struct ss__dec *d, const json_t *obj, const char *key, bool required,
               int32_t *out) {
  int64_t v;
  if (!ss__int(d, obj, key, required, &v))
    return false;
  if (v < INT32_MIN || v > INT32_MAX) {
    ss__err(d, key, "must fit in 32 bits (got %lld)", (long long)v);
    return false;
  }
  *out = (int32_t)v;
  return true;
}

bool ss__bool(struct ss__dec *d, const json_t *obj, const char *key, bool *out) {
  const json_t *v = field(d, obj, key, false);
  if (!v)
    return false;
  if (!json_is_boolean(v)) {
    ss__err(d, key, "must be a boolean, not %s", ss_json_kind(v));
    return false;
  }
  *out = json_is_true(v);
  return true;
}

bool ss__num(struct ss__dec *d, const json_t *obj, const char *key, double *out) {
  const json_t *v = field(d, obj, key, false);
  if (!v)
    return false;
  if (!json_is_number(v)) {
    ss__err(d, key, "must be a number, not %s", ss_json_kind(v));
    return false;
  }
  *out = json_number_value(v);
  return true;
}

bool ss__qty(struct ss__dec *d, const json_t *obj, const char *key, bool required,
             struct ss_quantity *out) {
  const json_t *v = field(d, obj, key, required);
  const char *why;
  if (!v)
    return false;
  if (!ss_quantity_from_json(v, out, &why)) {
    if (json_is_string(v))
      ss__err(d, key, "quantity '%.100s' %s", json_string_value(v), why);
    else
      ss__err(d, key, "quantity %s", why);
    return false;
  }
  return true;
}

json_t *ss__obj(struct ss__dec *d, const json_t *obj, const char *key, bool required) {
  const json_t *v = field(d, obj, key, required);
  if (!v)
    return NULL;
  if (!json_is_object(v)) {
    ss__err(d, key, "must be an object, not %s", ss_json_kind(v));
    return NULL;
  }
  return (json_t *)v;
}

json_t *ss__arr(struct ss__dec *d, const json_t *obj, const char *key, bool required) {
  const json_t *v = field(d, obj, key, required);
  if (!v)
    return NULL;
  if (!json_is_array(v)) {
    ss__err(d, key, "must be an array, not %s", ss_json_kind(v));
    return NULL;
  }
  return (json_t *)v;
}

json_t *ss__strmap(struct ss__dec *d, const json_t *obj, const char *key) {
  json_t *m = ss__obj(d, obj, key, false);
  if (!m)
    return NULL;
  size_t saved = ss_path_key(&d->path, key);
  const char *k;
  json_t *v;
  bool ok = true;
  json_object_foreach(m, k, v) {
    if (!json_is_string(v)) {
      ss__err(d, k, "must be a string, not %s (quote it)", ss_json_kind(v));
      ok = false;
    }
  }
  ss_path_pop(&d->path, saved);
  return ok ? m : NULL;
}

bool ss__replicas_within_limit(struct ss__dec *d, const char *key, int64_t v) {
  if (v <= SS_MAX_REPLICAS)
    return true;
  ss__err(d, key, "must be at most %d, the most replicas servescale runs in one replica set "
                  "(got %lld)", SS_MAX_REPLICAS, (long long)v);
  return false;
}

void ss__known_fields(struct ss__dec *d, const json_t *obj, const char *const *known) {
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)obj, k, v) {
    bool found = false;
    for (const char *const *p = known; *p; p++)
      if (strcmp(*p, k) == 0) {
        found = true;
        break;
      }
    if (!found)
      ss__warn(d, k, "unknown field \"%s\" (kept as written, not acted on)", k);
  }
}

bool ss__parse_double(const char *s, double *out) {
  if (!s || !*s)
    return false;
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || *end || !isfinite(v) || strpbrk(s, "xXnN") || *s == ' ')
    return false;
  *out = v;
  return true;
}
