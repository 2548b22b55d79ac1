/* quantity.c: the Kubernetes quantity grammar, in exact integer arithmetic:
 *   [+-] digits[.digits] | [+-] .digits   then one suffix of
 *   Ki Mi Gi Ti Pi Ei (powers of 1024), n u m k M G T P E (powers of 1000),
 *   or e/E followed by a signed integer exponent. */
#include "model/quantity.h"

#include <stdio.h>
#include <string.h>

#define QTY_MAX_DIGITS 18 /* significant digits that fit an int64 */

static bool mul_ok(int64_t a, int64_t b, int64_t *out) {
  if (a != 0 && b > INT64_MAX / a)
    return false;
  *out = a * b;
  return true;
}

bool ss_quantity_parse(const char *s, struct ss_quantity *q, const char **why) {
  const char *p = s;
  bool neg = false;
  int64_t mant = 0;
  int frac = 0, sig = 0, digits = 0;
  int e10 = 3;     /* milli-units */
  int64_t m2 = 1;  /* binary multiplier */
  if (!s || !*s) {
    *why = "must not be empty";
    return false;
  }
  if (*p == '+' || *p == '-')
    neg = *p++ == '-';
  bool dot = false;
  for (; (*p >= '0' && *p <= '9') || (*p == '.' && !dot); p++) {
    if (*p == '.') {
      dot = true;
      continue;
    }
    digits++;
    if (sig == 0 && *p == '0') {
      if (dot)
        frac++;
      continue;
    }
    if (sig >= QTY_MAX_DIGITS) {
      *why = "has too many digits";
      return false;
    }
    mant = mant * 10 + (*p - '0');
    sig++;
    if (dot)
      frac++;
  }
  if (digits == 0) {
    *why = "must start with a number (e.g. '500m', '0.5', '1Gi')";
    return false;
  }
  e10 -= frac;
  static const struct {
    const char *suffix;
    int e10;
    int p1024;
  } suffixes[] = {{"Ki", 0, 1}, {"Mi", 0, 2}, {"Gi", 0, 3}, {"Ti", 0, 4}, {"Pi", 0, 5},
                  {"Ei", 0, 6}, {"n", -9, 0}, {"u", -6, 0}, {"m", -3, 0}, {"k", 3, 0},
                  {"M", 6, 0},  {"G", 9, 0},  {"T", 12, 0}, {"P", 15, 0}, {"E", 18, 0},
                  {"", 0, 0}};
  if ((*p == 'e' || *p == 'E') && p[1] != 'i' && p[1] != '\0') {
    const char *x = p + 1;
    bool xneg = false;
    int xv = 0;
    if (*x == '+' || *x == '-')
      xneg = *x++ == '-';
    if (!(*x >= '0' && *x <= '9')) {
      *why = "has a malformed exponent";
      return false;
    }
    for (; *x >= '0' && *x <= '9'; x++) {
      if (xv > 1000) {
        *why = "has an exponent out of range";
        return false;
      }
      xv = xv * 10 + (*x - '0');
    }
    if (*x) {
      *why = "has text after the exponent";
      return false;
    }
    e10 += xneg ? -xv : xv;
  } else {
    size_t i;
    for (i = 0; i < sizeof suffixes / sizeof *suffixes; i++)
      if (strcmp(p, suffixes[i].suffix) == 0)
        break;
    if (i == sizeof suffixes / sizeof *suffixes) {
      *why = "has an unknown suffix (use one of n u m k M G T P E Ki Mi Gi Ti Pi Ei)";
      return false;
    }
    e10 += suffixes[i].e10;
    for (int k = 0; k < suffixes[i].p1024; k++)
      m2 *= 1024;
  }
  int64_t v;
  if (!mul_ok(mant, m2, &v))
    goto too_large;
  if (v == 0) {
    q->milli = 0;
    return true;
  }
  if (e10 >= 0) {
    for (int k = 0; k < e10; k++)
      if (!mul_ok(v, 10, &v))
        goto too_large;
  } else if (-e10 > 18) {
    v = 1; /* smaller than a thousandth: rounds up to 1m */
  } else {
    int64_t div = 1;
    for (int k = 0; k < -e10; k++)
      div *= 10;
    v = v / div + (v % div != 0);
  }
  q->milli = neg ? -v : v;
  return true;
too_large:
  *why = "is too large";
  return false;
}

bool ss_quantity_from_json(const json_t *v, struct ss_quantity *q, const char **why) {
  char buf[64];
  if (json_is_string(v))
    return ss_quantity_parse(json_string_value(v), q, why);
  if (json_is_integer(v)) {
    snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    return ss_quantity_parse(buf, q, why);
  }
  if (json_is_real(v)) {
    snprintf(buf, sizeof buf, "%.15g", json_real_value(v));
    return ss_quantity_parse(buf, q, why);
  }
  *why = "must be a string or a number";
  return false;
}

void ss_quantity_format(struct ss_quantity q, char *buf, size_t size) {
  if (q.milli % 1000 == 0)
    snprintf(buf, size, "%lld", (long long)(q.milli / 1000));
  else
    snprintf(buf, size, "%lldm", (long long)q.milli);
}

bool ss_container_request(const json_t *container, const char *res, struct ss_quantity *out) {
  const json_t *v = json_object_get(
      json_object_get(json_object_get(container, "resources"), "requests"), res);
  return v && ss_quantity_from_json(v, out, NULL);
}
