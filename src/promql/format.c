/* format.c: the canonical text of a parsed query (ss_promql_format): fully
 * parenthesized operators, so tests can pin down what the parser built. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promql/internal.h"

struct out {
  char *buf;
  size_t cap, len; /* len counts what did not fit too */
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  size_t room = o->len < o->cap ? o->cap - o->len : 0;
  int n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
  va_end(ap);
  if (n > 0)
    o->len += (size_t)n;
}

static void put_number(struct out *o, double v) {
  if (isnan(v)) {
    put(o, "NaN");
    return;
  }
  if (isinf(v)) {
    put(o, "%sInf", v < 0 ? "-" : "+");
    return;
  }
  if (v == floor(v) && fabs(v) < 1e15) { /* integers as integers, not 1e+01 */
    put(o, "%.0f", v);
    return;
  }
  /* the shortest text that reads back as v */
  char buf[32];
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (strtod(buf, NULL) == v)
      break;
  }
  put(o, "%s", buf);
}

static void put_quoted(struct out *o, const char *s) {
  put(o, "\"");
  for (; *s; s++) {
    if (*s == '"' || *s == '\\')
      put(o, "\\%c", *s);
    else if (*s == '\n')
      put(o, "\\n");
    else
      put(o, "%c", *s);
  }
  put(o, "\"");
}

static void put_range(struct out *o, int64_t ms) {
  static const struct {
    int64_t ms;
    const char *unit;
  } units[] = {{3600 * 1000, "h"}, {60 * 1000, "m"}, {1000, "s"}, {1, "ms"}};
  for (size_t i = 0; i < sizeof units / sizeof *units; i++)
    if (ms % units[i].ms == 0) {
      put(o, "%lld%s", (long long)(ms / units[i].ms), units[i].unit);
      return;
    }
}

static void put_node(struct out *o, const struct ss__pq_node *n) {
  static const char *const ops[] = {"=", "!=", "=~", "!~"};
  switch (n->kind) {
  case SS__PQ_NUMBER:
    put_number(o, n->u.number);
    break;
  case SS__PQ_SELECTOR: {
    size_t first = 0;
    if (n->u.sel.metric) {
      put(o, "%s", n->u.sel.metric);
      first = 1;
    }
    if (n->u.sel.n_matchers > first) {
      put(o, "{");
      for (size_t i = first; i < n->u.sel.n_matchers; i++) {
        const struct ss__pq_matcher *m = &n->u.sel.matchers[i];
        put(o, "%s%s%s", i > first ? ", " : "", m->name, ops[m->op]);
        put_quoted(o, m->value);
      }
      put(o, "}");
    }
    break;
  }
  case SS__PQ_MATRIX_SEL:
    put_node(o, n->u.matrix.sel);
    put(o, "[");
    put_range(o, n->u.matrix.range_ms);
    put(o, "]");
    break;
  case SS__PQ_CALL:
    put(o, "%s(", ss__pq_func_names[n->u.call.func]);
    for (size_t i = 0; i < n->u.call.n_args; i++) {
      put(o, "%s", i ? ", " : "");
      put_node(o, n->u.call.args[i]);
    }
    put(o, ")");
    break;
  case SS__PQ_AGG:
    put(o, "%s", ss__pq_agg_names[n->u.agg.op]);
    if (n->u.agg.without || n->u.agg.n_labels) {
      put(o, " %s (", n->u.agg.without ? "without" : "by");
      for (size_t i = 0; i < n->u.agg.n_labels; i++)
        put(o, "%s%s", i ? ", " : "", n->u.agg.labels[i]);
      put(o, ") ");
    }
    put(o, "(");
    put_node(o, n->u.agg.arg);
    put(o, ")");
    break;
  case SS__PQ_BINARY:
    put(o, "(");
    put_node(o, n->u.bin.lhs);
    put(o, " %c ", n->u.bin.op);
    put_node(o, n->u.bin.rhs);
    put(o, ")");
    break;
  case SS__PQ_NEG:
    put(o, "-");
    put_node(o, n->u.neg);
    break;
  }
}

size_t ss_promql_format(const struct ss_promql *p, char *buf, size_t cap) {
  struct out o = {buf, cap, 0};
  if (buf && cap)
    buf[0] = '\0';
  put_node(&o, p->root);
  return o.len;
}
