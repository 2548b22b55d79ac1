/* trace.c: reads a load trace (CSV of time and requests per second); see
 * trace.h for the format. Every line is checked on its own and the first
 * problem is reported with its line number. */
#include "sim/trace.h"
#include "sim/cluster.h"

#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static bool blank_or_comment(const char *s, size_t n) {
  size_t i = 0;
  while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
    i++;
  return i == n || s[i] == '#';
}

/* A decimal number filling the whole of s[0..n) after trimming spaces. */
static bool number(const char *s, size_t n, double *out) {
  char tmp[SS_SIM_TRACE_MAX_LINE + 1];
  while (n && (*s == ' ' || *s == '\t')) {
    s++;
    n--;
  }
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
    n--;
  if (n == 0 || n > SS_SIM_TRACE_MAX_LINE)
    return false;
  for (size_t i = 0; i < n; i++) /* strtod would also take hex, inf and nan */
    if (!isdigit((unsigned char)s[i]) && !strchr("+-.eE", s[i]))
      return false;
  memcpy(tmp, s, n);
  tmp[n] = '\0';
  char *end;
  *out = strtod(tmp, &end);
  return *end == '\0' && isfinite(*out);
}

/* "# NAME: N" for the model's two figures: parsed into *out, or an error
 * naming the line; any other comment is left alone. */
static enum ss_err directive(const char *s, size_t n, unsigned line, struct ss_sim_trace *tr,
                             struct ss_error *err) {
  static const struct {
    const char *name;
    int64_t lo, hi;
    size_t field;
  } known[] = {
      {"service-time-ms:", 1, SS_SIM_MAX_SERVICE_MS, offsetof(struct ss_sim_trace, service_ms)},
      {"startup-ms:", 0, SS_SIM_MAX_STARTUP_MS, offsetof(struct ss_sim_trace, startup_ms)},
  };
  size_t i = 0;
  while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '#'))
    i++;
  for (size_t k = 0; k < sizeof known / sizeof *known; k++) {
    size_t kl = strlen(known[k].name);
    if (n - i < kl || memcmp(s + i, known[k].name, kl) != 0)
      continue;
    double v;
    if (!number(s + i + kl, n - i - kl, &v) || v != floor(v) || v < (double)known[k].lo ||
        v > (double)known[k].hi)
      return ss_error_set(err, SS_ESYNTAX, line, (unsigned)(i + 1),
                          "%.*s not a whole number of ms in [%lld, %lld]", (int)kl, known[k].name,
                          (long long)known[k].lo, (long long)known[k].hi);
    *(int64_t *)((char *)tr + known[k].field) = (int64_t)v;
  }
  return SS_EOK;
}

/* A header names its columns: its first field has a letter. */
static bool is_header(const char *s, size_t n) {
  const char *comma = memchr(s, ',', n);
  if (comma)
    n = (size_t)(comma - s);
  for (size_t i = 0; i < n; i++)
    if (isalpha((unsigned char)s[i]))
      return true;
  return false;
}

static enum ss_err push(struct ss_sim_trace *tr, size_t *cap, struct ss_sim_point p,
                        unsigned line, struct ss_error *err) {
  if (tr->n == SS_SIM_TRACE_MAX_ROWS)
    return ss_error_set(err, SS_ELIMIT, line, 0, "more than %d rows", SS_SIM_TRACE_MAX_ROWS);
  if (tr->n == *cap) {
    size_t nc = *cap ? *cap * 2 : 64;
    struct ss_sim_point *v = realloc(tr->v, nc * sizeof *v);
    if (!v)
      return ss_error_set(err, SS_ENOMEM, line, 0, "out of memory");
    tr->v = v;
    *cap = nc;
  }
  tr->v[tr->n++] = p;
  return SS_EOK;
}

/* One data line: "TIME,RPS". */
static enum ss_err row(const char *s, size_t n, unsigned line, const struct ss_sim_trace *tr,
                       struct ss_sim_point *p, struct ss_error *err) {
  const char *comma = memchr(s, ',', n);
  if (!comma)
    return ss_error_set(err, SS_ESYNTAX, line, 0,
                        "expected TIME,RPS (seconds, requests per second)");
  size_t tl = (size_t)(comma - s);
  const char *r = comma + 1;
  size_t rl = n - tl - 1;
  if (memchr(r, ',', rl))
    return ss_error_set(err, SS_ESYNTAX, line, 0, "expected two columns, TIME,RPS");
  if (!number(s, tl, &p->t_s))
    return ss_error_set(err, SS_ESYNTAX, line, 1, "time: not a number");
  if (!number(r, rl, &p->rps))
    return ss_error_set(err, SS_ESYNTAX, line, (unsigned)tl + 2, "rps: not a number");
  if (p->t_s < 0 || p->t_s >= SS_SIM_TRACE_MAX_SECONDS)
    return ss_error_set(err, SS_ELIMIT, line, 1, "time: %g is outside [0, %g) seconds", p->t_s,
                        SS_SIM_TRACE_MAX_SECONDS);
  if (tr->n && p->t_s <= tr->v[tr->n - 1].t_s)
    return ss_error_set(err, SS_ESYNTAX, line, 1,
                        "time: %g is not after the previous row's %g (rows go forward in time)",
                        p->t_s, tr->v[tr->n - 1].t_s);
  if (p->rps < 0 || p->rps > SS_SIM_TRACE_MAX_RPS)
    return ss_error_set(err, SS_ELIMIT, line, (unsigned)tl + 2,
                        "rps: %g is outside [0, %g]", p->rps, SS_SIM_TRACE_MAX_RPS);
  return SS_EOK;
}

enum ss_err ss_sim_trace_parse(const char *buf, size_t len, struct ss_sim_trace *out,
                               struct ss_error *err) {
  enum ss_err rc = SS_EOK;
  size_t cap = 0, off = 0;
  unsigned line = 0;
  bool seen_data = false;
  memset(out, 0, sizeof *out);
  out->service_ms = out->startup_ms = -1;
  while (off < len) {
    const char *s = buf + off;
    const char *nl = memchr(s, '\n', len - off);
    size_t n = nl ? (size_t)(nl - s) : len - off;
    off += n + (nl ? 1 : 0);
    line++;
    if (memchr(s, '\0', n)) {
      rc = ss_error_set(err, SS_ESYNTAX, line, 0, "a NUL byte: not a text file");
      goto out;
    }
    if (blank_or_comment(s, n)) {
      if (n <= SS_SIM_TRACE_MAX_LINE && (rc = directive(s, n, line, out, err)))
        goto out;
      continue;
    }
    if (n > SS_SIM_TRACE_MAX_LINE) {
      rc = ss_error_set(err, SS_ELIMIT, line, 0, "line longer than %d bytes",
                        SS_SIM_TRACE_MAX_LINE);
      goto out;
    }
    if (!seen_data && is_header(s, n)) {
      seen_data = true; /* a header, once, before any row */
      continue;
    }
    seen_data = true;
    struct ss_sim_point p;
    if ((rc = row(s, n, line, out, &p, err)) || (rc = push(out, &cap, p, line, err)))
      goto out;
  }
  if (out->n == 0) {
    rc = ss_error_set(err, SS_ESYNTAX, line ? line : 1, 0, "no rows: expected TIME,RPS lines");
    goto out;
  }
  out->end_s = out->v[out->n - 1].t_s + 1.0;
out:
  if (rc)
    ss_sim_trace_free(out);
  return rc;
}

double ss_sim_trace_rate(const struct ss_sim_trace *tr, double t_s) {
  if (!tr->n || t_s < tr->v[0].t_s || t_s >= tr->end_s)
    return 0.0;
  size_t lo = 0, hi = tr->n; /* the last point at or before t_s */
  while (hi - lo > 1) {
    size_t mid = lo + (hi - lo) / 2;
    if (tr->v[mid].t_s <= t_s)
      lo = mid;
    else
      hi = mid;
  }
  return tr->v[lo].rps;
}

double ss_sim_trace_requests(const struct ss_sim_trace *tr) {
  double sum = 0;
  for (size_t i = 0; i < tr->n; i++) {
    double until = i + 1 < tr->n ? tr->v[i + 1].t_s : tr->end_s;
    sum += tr->v[i].rps * (until - tr->v[i].t_s);
  }
  return sum;
}

void ss_sim_trace_free(struct ss_sim_trace *tr) {
  if (!tr)
    return;
  free(tr->v);
  memset(tr, 0, sizeof *tr);
}
