/* parse.c: PromQL text -> AST, for the subset promql.h lists. A
 * recursive-descent parser over a one-token lexer; types are checked here,
 * so a query that parses also evaluates, and everything outside the subset
 * is named with its column at apply time rather than found at the first poll.
 * Evaluation is eval.c's. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "promql/internal.h"

const char *const ss__pq_func_names[] = {"rate", "irate", "increase", "histogram_quantile"};
const char *const ss__pq_agg_names[] = {"sum", "avg", "min", "max", "count"};

/* PromQL's other aggregations and functions: named "unsupported" rather than
 * "unknown", so a user knows the query is valid PromQL outside our subset. */
static const char *const other_aggs[] = {"stddev", "stdvar", "topk", "bottomk", "quantile",
                                         "count_values", "group", "limitk", "limit_ratio"};
static const char *const other_funcs[] = {
    "abs", "absent", "absent_over_time", "acos", "acosh", "asin", "asinh", "atan", "atanh",
    "avg_over_time", "ceil", "changes", "clamp", "clamp_max", "clamp_min", "cos", "cosh",
    "count_over_time", "day_of_month", "day_of_week", "day_of_year", "days_in_month", "deg",
    "delta", "deriv", "double_exponential_smoothing", "exp", "floor", "histogram_avg",
    "histogram_count", "histogram_fraction", "histogram_stddev", "histogram_stdvar",
    "histogram_sum", "holt_winters", "hour", "idelta", "info", "label_join", "label_replace",
    "last_over_time", "ln", "log10", "log2", "mad_over_time", "max_over_time", "min_over_time",
    "minute", "month", "pi", "predict_linear", "present_over_time", "quantile_over_time", "rad",
    "resets", "round", "scalar", "sgn", "sin", "sinh", "sort", "sort_by_label",
    "sort_by_label_desc", "sort_desc", "sqrt", "stddev_over_time", "stdvar_over_time",
    "sum_over_time", "tan", "tanh", "time", "timestamp", "vector", "year"};

#define N_ELEMS(a) (sizeof(a) / sizeof *(a))

/* ---- lexer ---- */

enum tok_kind {
  T_EOF, T_BAD, T_IDENT, T_NUMBER, T_STRING,
  T_LPAREN, T_RPAREN, T_LBRACE, T_RBRACE, T_LBRACKET, T_RBRACKET, T_COMMA, T_COLON, T_AT,
  T_ADD, T_SUB, T_MUL, T_DIV, T_MOD, T_POW,
  T_ASSIGN, T_EQLC, T_NEQ, T_EQ_RE, T_NEQ_RE, T_GTR, T_LSS, T_GTE, T_LTE,
};

struct tok {
  enum tok_kind k;
  size_t pos, len;
  const char *bad; /* T_BAD: why */
};

struct parser {
  const char *q;
  size_t len;
  struct tok cur;
  struct ss_promql *p;
  struct ss_error *err;
  unsigned depth;
  int rc; /* first error */
};

static bool is_ident_start(char c) { return isalpha((unsigned char)c) || c == '_' || c == ':'; }
static bool is_ident_char(char c) { return isalnum((unsigned char)c) || c == '_' || c == ':'; }

static struct tok lex_at(const char *q, size_t len, size_t pos) {
  while (pos < len && isspace((unsigned char)q[pos]))
    pos++;
  /* # starts a comment to the end of the line, as in PromQL */
  while (pos < len && q[pos] == '#') {
    while (pos < len && q[pos] != '\n')
      pos++;
    while (pos < len && isspace((unsigned char)q[pos]))
      pos++;
  }
  struct tok t = {T_EOF, pos, 0, NULL};
  if (pos >= len)
    return t;
  char c = q[pos], n = pos + 1 < len ? q[pos + 1] : '\0';
  t.len = 1;
  switch (c) {
  case '(': t.k = T_LPAREN; return t;
  case ')': t.k = T_RPAREN; return t;
  case '{': t.k = T_LBRACE; return t;
  case '}': t.k = T_RBRACE; return t;
  case '[': t.k = T_LBRACKET; return t;
  case ']': t.k = T_RBRACKET; return t;
  case ',': t.k = T_COMMA; return t;
  case '@': t.k = T_AT; return t;
  case '+': t.k = T_ADD; return t;
  case '-': t.k = T_SUB; return t;
  case '*': t.k = T_MUL; return t;
  case '/': t.k = T_DIV; return t;
  case '%': t.k = T_MOD; return t;
  case '^': t.k = T_POW; return t;
  case '=':
    t.k = n == '=' ? T_EQLC : n == '~' ? T_EQ_RE : T_ASSIGN;
    t.len = t.k == T_ASSIGN ? 1 : 2;
    return t;
  case '!':
    if (n == '=' || n == '~') {
      t.k = n == '=' ? T_NEQ : T_NEQ_RE;
      t.len = 2;
      return t;
    }
    break;
  case '>': t.k = n == '=' ? T_GTE : T_GTR; t.len = n == '=' ? 2 : 1; return t;
  case '<': t.k = n == '=' ? T_LTE : T_LSS; t.len = n == '=' ? 2 : 1; return t;
  case '"': case '\'': case '`': {
    size_t i = pos + 1;
    while (i < len && q[i] != c) {
      if (q[i] == '\\' && c != '`')
        i++;
      else if (q[i] == '\n' && c != '`')
        break;
      i++;
    }
    if (i >= len || q[i] != c) {
      t.k = T_BAD;
      t.bad = "unterminated string";
      return t;
    }
    t.k = T_STRING;
    t.len = i + 1 - pos;
    return t;
  }
  case ':':
    /* a metric name may contain ':', and start with it */
    if (!is_ident_char(n)) {
      t.k = T_COLON;
      return t;
    }
    break;
  default:
    break;
  }
  if (isdigit((unsigned char)c) || (c == '.' && isdigit((unsigned char)n))) {
    size_t i = pos;
    if (c == '0' && (n == 'x' || n == 'X')) {
      i += 2;
      while (i < len && isxdigit((unsigned char)q[i]))
        i++;
    } else {
      while (i < len && isdigit((unsigned char)q[i]))
        i++;
      if (i < len && q[i] == '.')
        for (i++; i < len && isdigit((unsigned char)q[i]); i++) {
        }
      if (i < len && (q[i] == 'e' || q[i] == 'E')) {
        size_t j = i + 1;
        if (j < len && (q[j] == '+' || q[j] == '-'))
          j++;
        if (j < len && isdigit((unsigned char)q[j])) {
          while (j < len && isdigit((unsigned char)q[j]))
            j++;
          i = j;
        }
      }
    }
    t.k = T_NUMBER;
    t.len = i - pos;
    return t;
  }
  if (is_ident_start(c)) {
    size_t i = pos;
    while (i < len && is_ident_char(q[i]))
      i++;
    t.k = T_IDENT;
    t.len = i - pos;
    return t;
  }
  t.k = T_BAD;
  t.bad = "unexpected character";
  return t;
}

static void next(struct parser *ps) { ps->cur = lex_at(ps->q, ps->len, ps->cur.pos + ps->cur.len); }
static struct tok peek(const struct parser *ps) {
  return lex_at(ps->q, ps->len, ps->cur.pos + ps->cur.len);
}
static unsigned col_of(size_t pos) { return (unsigned)pos + 1; }
static bool tok_is(const struct parser *ps, struct tok t, const char *word) {
  return t.k == T_IDENT && t.len == strlen(word) && memcmp(ps->q + t.pos, word, t.len) == 0;
}

static void *fail(struct parser *ps, enum ss_err code, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void *fail(struct parser *ps, enum ss_err code, size_t pos, const char *fmt, ...) {
  if (ps->rc)
    return NULL;
  char msg[SS_ERROR_MSG_MAX - 32];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  ps->rc = ss_error_set(ps->err, code, 0, col_of(pos), "%s at column %u", msg, col_of(pos));
  return NULL;
}

/* "unexpected X at column N" for the current token */
static void *unexpected(struct parser *ps, const char *expected) {
  struct tok t = ps->cur;
  if (t.k == T_BAD && strcmp(t.bad, "unexpected character") != 0)
    return fail(ps, SS_ESYNTAX, t.pos, "%s", t.bad);
  if (t.k == T_BAD)
    return fail(ps, SS_ESYNTAX, t.pos, "%s \"%c\"", t.bad, ps->q[t.pos]);
  char what[64];
  if (t.k == T_EOF)
    snprintf(what, sizeof what, "end of input");
  else
    snprintf(what, sizeof what, "%s\"%.*s\"",
             t.k == T_IDENT ? "identifier " : t.k == T_NUMBER ? "number " : "",
             (int)(t.len > 32 ? 32 : t.len), ps->q + t.pos);
  if (expected)
    return fail(ps, SS_ESYNTAX, t.pos, "unexpected %s, expected %s", what, expected);
  return fail(ps, SS_ESYNTAX, t.pos, "unexpected %s", what);
}

static bool expect(struct parser *ps, enum tok_kind k, const char *what) {
  if (ps->cur.k != k) {
    unexpected(ps, what);
    return false;
  }
  next(ps);
  return true;
}

static struct ss__pq_node *new_node(struct parser *ps, enum ss__pq_kind kind,
                                    enum ss__pq_type type, size_t pos) {
  struct ss__pq_node *n = ss_arena_alloc(ps->p->arena, sizeof *n);
  if (!n)
    return fail(ps, SS_ENOMEM, pos, "out of memory");
  n->kind = kind;
  n->type = type;
  n->col = col_of(pos);
  return n;
}

static char *tok_str(struct parser *ps, struct tok t) {
  char *s = ss_arena_alloc(ps->p->arena, t.len + 1);
  if (!s)
    return fail(ps, SS_ENOMEM, t.pos, "out of memory");
  memcpy(s, ps->q + t.pos, t.len);
  return s;
}

static const char *type_name(enum ss__pq_type t) {
  return t == SS__PQ_SCALAR ? "scalar" : t == SS__PQ_VECTOR ? "instant vector" : "range vector";
}

/* ---- literals ---- */

static bool parse_number_tok(struct parser *ps, struct tok t, double *out) {
  char buf[64];
  if (t.len >= sizeof buf) {
    fail(ps, SS_ESYNTAX, t.pos, "number too long");
    return false;
  }
  memcpy(buf, ps->q + t.pos, t.len);
  buf[t.len] = '\0';
  char *end;
  errno = 0;
  double v = (buf[0] == '0' && (buf[1] == 'x' || buf[1] == 'X'))
                 ? (double)strtoull(buf + 2, &end, 16)
                 : strtod(buf, &end);
  if (*end || (buf[1] == 'x' && t.len == 2)) {
    fail(ps, SS_ESYNTAX, t.pos, "bad number \"%s\"", buf);
    return false;
  }
  *out = v;
  return true;
}

/* Decodes a quoted string token (Go's escapes, as PromQL takes them). */
static char *parse_string_tok(struct parser *ps, struct tok t) {
  const char *s = ps->q + t.pos;
  char quote = s[0];
  size_t n = t.len - 2;
  char *out = ss_arena_alloc(ps->p->arena, n + 1);
  if (!out)
    return fail(ps, SS_ENOMEM, t.pos, "out of memory");
  size_t o = 0;
  for (size_t i = 1; i < t.len - 1; i++) {
    char c = s[i];
    if (c != '\\' || quote == '`') {
      out[o++] = c;
      continue;
    }
    char e = s[++i];
    switch (e) {
    case 'a': out[o++] = '\a'; break;
    case 'b': out[o++] = '\b'; break;
    case 'f': out[o++] = '\f'; break;
    case 'n': out[o++] = '\n'; break;
    case 'r': out[o++] = '\r'; break;
    case 't': out[o++] = '\t'; break;
    case 'v': out[o++] = '\v'; break;
    case '\\': case '"': case '\'': out[o++] = e; break;
    default:
      return fail(ps, SS_ESYNTAX, t.pos + i - 1, "unknown escape sequence \"\\%c\"", e);
    }
  }
  out[o] = '\0';
  return out;
}

/* A range: digits and a unit, repeated ("1m30s"); ps->cur is '['. Returns
 * the position after the duration, or 0 on error. */
#define RANGE_MAX_MS (100LL * 365 * 24 * 3600 * 1000) /* keeps sums far from overflow */
static size_t parse_range(struct parser *ps, size_t pos, int64_t *out_ms) {
  const char *q = ps->q;
  while (pos < ps->len && isspace((unsigned char)q[pos]))
    pos++;
  size_t start = pos;
  int64_t total = 0;
  while (pos < ps->len && isdigit((unsigned char)q[pos])) {
    int64_t n = 0;
    while (pos < ps->len && isdigit((unsigned char)q[pos])) {
      n = n * 10 + (q[pos] - '0');
      if (n > RANGE_MAX_MS) {
        fail(ps, SS_ELIMIT, start, "range too long");
        return 0;
      }
      pos++;
    }
    int64_t unit;
    char u = pos < ps->len ? q[pos] : '\0', u2 = pos + 1 < ps->len ? q[pos + 1] : '\0';
    if (u == 'm' && u2 == 's') {
      unit = 1;
      pos++;
    } else if (u == 's') {
      unit = 1000;
    } else if (u == 'm') {
      unit = 60 * 1000;
    } else if (u == 'h') {
      unit = 3600 * 1000;
    } else if (u == 'd') {
      unit = 24LL * 3600 * 1000;
    } else if (u == 'w') {
      unit = 7LL * 24 * 3600 * 1000;
    } else if (u == 'y') {
      unit = 365LL * 24 * 3600 * 1000;
    } else {
      fail(ps, SS_ESYNTAX, pos, "bad duration: missing unit (ms, s, m, h, d, w, y)");
      return 0;
    }
    pos++;
    total += n * unit;
    if (total > RANGE_MAX_MS) {
      fail(ps, SS_ELIMIT, start, "range too long");
      return 0;
    }
  }
  if (pos == start) {
    fail(ps, SS_ESYNTAX, start, "bad duration: expected a number and a unit such as 1m");
    return 0;
  }
  if (total == 0) {
    fail(ps, SS_ESYNTAX, start, "zero range");
    return 0;
  }
  *out_ms = total;
  return pos;
}

/* ---- expressions ---- */

static struct ss__pq_node *parse_expr(struct parser *ps, int min_prec);

static bool add_regex(struct parser *ps, struct ss__pq_matcher *m, size_t pos) {
  if (ps->p->n_regexes == ps->p->cap_regexes) {
    size_t cap = ps->p->cap_regexes ? ps->p->cap_regexes * 2 : 4;
    regex_t **r = realloc(ps->p->regexes, cap * sizeof *r);
    if (!r) {
      fail(ps, SS_ENOMEM, pos, "out of memory");
      return false;
    }
    ps->p->regexes = r;
    ps->p->cap_regexes = cap;
  }
  regex_t *re = malloc(sizeof *re);
  /* Prometheus anchors a matcher's regex at both ends: ^(?:re)$ */
  char *anchored = ss_arena_printf(ps->p->arena, "^(%s)$", m->value);
  if (!re || !anchored) {
    free(re);
    fail(ps, SS_ENOMEM, pos, "out of memory");
    return false;
  }
  int rc = regcomp(re, anchored, REG_EXTENDED | REG_NOSUB);
  if (rc != 0) {
    char why[128];
    regerror(rc, re, why, sizeof why);
    free(re);
    fail(ps, SS_ESYNTAX, pos, "bad regular expression \"%s\": %s", m->value, why);
    return false;
  }
  ps->p->regexes[ps->p->n_regexes++] = re;
  m->re = re;
  return true;
}

static bool matcher_matches_empty(const struct ss__pq_matcher *m) {
  switch (m->op) {
  case SS__PQ_EQ: return m->value[0] == '\0';
  case SS__PQ_NE: return m->value[0] != '\0';
  case SS__PQ_RE: return regexec(m->re, "", 0, NULL, 0) == 0;
  case SS__PQ_NRE: return regexec(m->re, "", 0, NULL, 0) != 0;
  }
  return true;
}

/* name? {matchers}?  with ps->cur at the name or at '{' */
static struct ss__pq_node *parse_selector(struct parser *ps) {
  size_t start = ps->cur.pos;
  struct ss__pq_node *n = new_node(ps, SS__PQ_SELECTOR, SS__PQ_VECTOR, start);
  if (!n)
    return NULL;
  size_t cap = 4, count = 0;
  struct ss__pq_matcher *ms = NULL;
  if (ps->cur.k == T_IDENT) {
    if (!(n->u.sel.metric = tok_str(ps, ps->cur)))
      return NULL;
    next(ps);
  }
  if (ps->cur.k == T_LBRACE) {
    next(ps);
    while (ps->cur.k != T_RBRACE) {
      struct tok name = ps->cur;
      if (name.k != T_IDENT || memchr(ps->q + name.pos, ':', name.len))
        return unexpected(ps, "a label name");
      next(ps);
      enum ss__pq_match op;
      switch (ps->cur.k) {
      case T_ASSIGN: op = SS__PQ_EQ; break;
      case T_NEQ: op = SS__PQ_NE; break;
      case T_EQ_RE: op = SS__PQ_RE; break;
      case T_NEQ_RE: op = SS__PQ_NRE; break;
      default: return unexpected(ps, "a label matcher (=, !=, =~, !~)");
      }
      next(ps);
      if (ps->cur.k != T_STRING)
        return unexpected(ps, "a quoted label value");
      if (count + 2 > cap || !ms) {
        cap *= 2;
        struct ss__pq_matcher *nm = ss_arena_calloc(ps->p->arena, cap, sizeof *nm);
        if (!nm)
          return fail(ps, SS_ENOMEM, name.pos, "out of memory");
        if (count)
          memcpy(nm, ms, count * sizeof *nm);
        ms = nm;
      }
      struct ss__pq_matcher *m = &ms[count];
      m->op = op;
      if (!(m->name = tok_str(ps, name)) || !(m->value = parse_string_tok(ps, ps->cur)))
        return NULL;
      if ((op == SS__PQ_RE || op == SS__PQ_NRE) && !add_regex(ps, m, ps->cur.pos))
        return NULL;
      if (n->u.sel.metric && strcmp(m->name, "__name__") == 0)
        return fail(ps, SS_ESYNTAX, name.pos, "metric name must not be set twice");
      count++;
      next(ps);
      if (ps->cur.k == T_COMMA)
        next(ps);
      else if (ps->cur.k != T_RBRACE)
        return unexpected(ps, "\",\" or \"}\"");
    }
    next(ps);
  }
  if (n->u.sel.metric) { /* the name is a matcher like any other */
    if (!ms) {
      if (!(ms = ss_arena_calloc(ps->p->arena, 1, sizeof *ms)))
        return fail(ps, SS_ENOMEM, start, "out of memory");
    }
    memmove(ms + 1, ms, count * sizeof *ms);
    ms[0] = (struct ss__pq_matcher){"__name__", n->u.sel.metric, SS__PQ_EQ, NULL};
    count++;
  }
  bool non_empty = false;
  for (size_t i = 0; i < count; i++)
    non_empty |= !matcher_matches_empty(&ms[i]);
  if (!non_empty)
    return fail(ps, SS_ESYNTAX, start,
                "vector selector must contain at least one non-empty matcher");
  n->u.sel.matchers = ms;
  n->u.sel.n_matchers = count;
  return n;
}

static int index_of(const char *const *names, size_t n, const char *s, size_t len) {
  for (size_t i = 0; i < n; i++)
    if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0)
      return (int)i;
  return -1;
}

static bool parse_grouping(struct parser *ps, struct ss__pq_node *n) {
  n->u.agg.without = tok_is(ps, ps->cur, "without");
  next(ps);
  if (!expect(ps, T_LPAREN, "\"(\""))
    return false;
  size_t cap = 0;
  while (ps->cur.k != T_RPAREN) {
    if (ps->cur.k != T_IDENT || memchr(ps->q + ps->cur.pos, ':', ps->cur.len)) {
      unexpected(ps, "a label name");
      return false;
    }
    if (n->u.agg.n_labels == cap) {
      cap = cap ? cap * 2 : 4;
      const char **l = ss_arena_calloc(ps->p->arena, cap, sizeof *l);
      if (!l) {
        fail(ps, SS_ENOMEM, ps->cur.pos, "out of memory");
        return false;
      }
      if (n->u.agg.n_labels)
        memcpy(l, n->u.agg.labels, n->u.agg.n_labels * sizeof *l);
      n->u.agg.labels = l;
    }
    if (!(n->u.agg.labels[n->u.agg.n_labels++] = tok_str(ps, ps->cur)))
      return false;
    next(ps);
    if (ps->cur.k == T_COMMA)
      next(ps);
    else if (ps->cur.k != T_RPAREN) {
      unexpected(ps, "\",\" or \")\"");
      return false;
    }
  }
  next(ps);
  return true;
}

static bool is_grouping(const struct parser *ps, struct tok t) {
  return tok_is(ps, t, "by") || tok_is(ps, t, "without");
}

/* sum [by|without (...)] (expr) [by|without (...)] */
static struct ss__pq_node *parse_aggregation(struct parser *ps, int op) {
  struct ss__pq_node *n = new_node(ps, SS__PQ_AGG, SS__PQ_VECTOR, ps->cur.pos);
  if (!n)
    return NULL;
  n->u.agg.op = (enum ss__pq_agg)op;
  const char *name = ss__pq_agg_names[op];
  next(ps);
  bool grouped = false;
  if (is_grouping(ps, ps->cur)) {
    if (!parse_grouping(ps, n))
      return NULL;
    grouped = true;
  }
  size_t open = ps->cur.pos;
  if (!expect(ps, T_LPAREN, "\"(\""))
    return NULL;
  if (ps->cur.k == T_RPAREN)
    return fail(ps, SS_ESYNTAX, ps->cur.pos, "no argument for aggregation \"%s\"", name);
  struct ss__pq_node *arg = parse_expr(ps, 0);
  if (!arg)
    return NULL;
  if (ps->cur.k == T_COMMA)
    return fail(ps, SS_ESYNTAX, ps->cur.pos,
                "aggregation \"%s\" takes one argument", name);
  if (!expect(ps, T_RPAREN, "\")\""))
    return NULL;
  if (arg->type != SS__PQ_VECTOR)
    return fail(ps, SS_ESYNTAX, open + 1,
                "expected type instant vector in aggregation \"%s\", got %s", name,
                type_name(arg->type));
  if (is_grouping(ps, ps->cur)) {
    if (grouped)
      return unexpected(ps, NULL);
    if (!parse_grouping(ps, n))
      return NULL;
  }
  n->u.agg.arg = arg;
  return n;
}

static struct ss__pq_node *parse_call(struct parser *ps, int f) {
  static const enum ss__pq_type want[][2] = {
      [SS__PQ_RATE] = {SS__PQ_MATRIX},
      [SS__PQ_IRATE] = {SS__PQ_MATRIX},
      [SS__PQ_INCREASE] = {SS__PQ_MATRIX},
      [SS__PQ_HISTOGRAM_QUANTILE] = {SS__PQ_SCALAR, SS__PQ_VECTOR},
  };
  size_t n_want = f == SS__PQ_HISTOGRAM_QUANTILE ? 2 : 1;
  const char *name = ss__pq_func_names[f];
  struct ss__pq_node *n = new_node(ps, SS__PQ_CALL, SS__PQ_VECTOR, ps->cur.pos);
  if (!n)
    return NULL;
  n->u.call.func = (enum ss__pq_func)f;
  if (!(n->u.call.args = ss_arena_calloc(ps->p->arena, 2, sizeof *n->u.call.args)))
    return fail(ps, SS_ENOMEM, ps->cur.pos, "out of memory");
  next(ps);
  next(ps); /* ( */
  size_t got = 0;
  while (ps->cur.k != T_RPAREN) {
    size_t pos = ps->cur.pos;
    if (got == n_want)
      return fail(ps, SS_ESYNTAX, pos, "too many arguments to function \"%s\": want %zu",
                  name, n_want);
    struct ss__pq_node *a = parse_expr(ps, 0);
    if (!a)
      return NULL;
    if (a->type != want[f][got])
      return fail(ps, SS_ESYNTAX, pos,
                  "expected type %s as argument %zu of function \"%s\", got %s",
                  type_name(want[f][got]), got + 1, name, type_name(a->type));
    n->u.call.args[got++] = a;
    if (ps->cur.k == T_COMMA)
      next(ps);
    else if (ps->cur.k != T_RPAREN)
      return unexpected(ps, "\",\" or \")\"");
  }
  if (got != n_want)
    return fail(ps, SS_ESYNTAX, ps->cur.pos,
                "too few arguments to function \"%s\": got %zu, want %zu", name, got, n_want);
  n->u.call.n_args = got;
  next(ps);
  return n;
}

static struct ss__pq_node *parse_primary(struct parser *ps, bool *parenthesized) {
  struct tok t = ps->cur;
  *parenthesized = false;
  switch (t.k) {
  case T_NUMBER: {
    struct ss__pq_node *n = new_node(ps, SS__PQ_NUMBER, SS__PQ_SCALAR, t.pos);
    if (!n || !parse_number_tok(ps, t, &n->u.number))
      return NULL;
    next(ps);
    return n;
  }
  case T_STRING:
    return fail(ps, SS_EUNSUPPORTED, t.pos, "unsupported string literal");
  case T_LBRACE:
    return parse_selector(ps);
  case T_LPAREN: {
    next(ps);
    struct ss__pq_node *n = parse_expr(ps, 0);
    if (!n || !expect(ps, T_RPAREN, "\")\""))
      return NULL;
    *parenthesized = true;
    return n;
  }
  case T_IDENT: {
    const char *s = ps->q + t.pos;
    if ((t.len == 3 && strncasecmp(s, "inf", 3) == 0) ||
        (t.len == 3 && strncasecmp(s, "nan", 3) == 0)) {
      struct ss__pq_node *n = new_node(ps, SS__PQ_NUMBER, SS__PQ_SCALAR, t.pos);
      if (!n)
        return NULL;
      n->u.number = tolower((unsigned char)s[0]) == 'i' ? INFINITY : NAN;
      next(ps);
      return n;
    }
    struct tok after = peek(ps);
    bool call = after.k == T_LPAREN;
    int i;
    if ((i = index_of(ss__pq_agg_names, N_ELEMS(ss__pq_agg_names), s, t.len)) >= 0 &&
        (call || is_grouping(ps, after)))
      return parse_aggregation(ps, i);
    if (index_of(other_aggs, N_ELEMS(other_aggs), s, t.len) >= 0 &&
        (call || is_grouping(ps, after)))
      return fail(ps, SS_EUNSUPPORTED, t.pos, "unsupported aggregation \"%.*s\"", (int)t.len,
                  s);
    if (call) {
      if ((i = index_of(ss__pq_func_names, N_ELEMS(ss__pq_func_names), s, t.len)) >= 0)
        return parse_call(ps, i);
      if (index_of(other_funcs, N_ELEMS(other_funcs), s, t.len) >= 0)
        return fail(ps, SS_EUNSUPPORTED, t.pos, "unsupported function \"%.*s\"", (int)t.len,
                    s);
      return fail(ps, SS_ESYNTAX, t.pos, "unknown function \"%.*s\"", (int)(t.len > 64 ? 64 : t.len), s);
    }
    static const char *const keywords[] = {"by", "without", "offset", "bool", "on", "ignoring",
                                           "group_left", "group_right", "and", "or", "unless",
                                           "atan2"};
    if (index_of(keywords, N_ELEMS(keywords), s, t.len) >= 0)
      return unexpected(ps, NULL);
    return parse_selector(ps);
  }
  default:
    return unexpected(ps, NULL);
  }
}

/* primary, then [range], then the modifiers we name as unsupported */
static struct ss__pq_node *parse_postfix(struct parser *ps) {
  bool parenthesized;
  struct ss__pq_node *n = parse_primary(ps, &parenthesized);
  if (!n)
    return NULL;
  if (ps->cur.k == T_LBRACKET) {
    size_t open = ps->cur.pos;
    int64_t range;
    size_t pos = parse_range(ps, open + 1, &range);
    if (!pos)
      return NULL;
    while (pos < ps->len && isspace((unsigned char)ps->q[pos]))
      pos++;
    /* checked on the text: ":1m" would lex as a name */
    if (pos < ps->len && ps->q[pos] == ':')
      return fail(ps, SS_EUNSUPPORTED, open, "unsupported subquery");
    if (n->kind != SS__PQ_SELECTOR || parenthesized)
      return fail(ps, SS_ESYNTAX, open, "ranges only allowed for vector selectors");
    ps->cur = lex_at(ps->q, ps->len, pos);
    if (!expect(ps, T_RBRACKET, "\"]\""))
      return NULL;
    struct ss__pq_node *m = new_node(ps, SS__PQ_MATRIX_SEL, SS__PQ_MATRIX, open);
    if (!m)
      return NULL;
    m->col = n->col;
    m->u.matrix.sel = n;
    m->u.matrix.range_ms = range;
    n = m;
  }
  if (tok_is(ps, ps->cur, "offset"))
    return fail(ps, SS_EUNSUPPORTED, ps->cur.pos, "unsupported modifier \"offset\"");
  if (ps->cur.k == T_AT)
    return fail(ps, SS_EUNSUPPORTED, ps->cur.pos, "unsupported modifier \"@\"");
  if (ps->cur.k == T_LBRACKET)
    return unexpected(ps, NULL);
  return n;
}

enum { PREC_OR = 1, PREC_AND, PREC_CMP, PREC_ADD, PREC_MUL, PREC_POW };

static struct ss__pq_node *parse_unary(struct parser *ps) {
  if (ps->cur.k != T_SUB && ps->cur.k != T_ADD)
    return parse_postfix(ps);
  struct tok op = ps->cur;
  next(ps);
  if (++ps->depth > SS_PROMQL_DEPTH_MAX)
    return fail(ps, SS_ELIMIT, op.pos, "expression nested too deeply");
  /* -a^b is -(a^b), as in Prometheus */
  struct ss__pq_node *arg = parse_expr(ps, PREC_POW);
  ps->depth--;
  if (!arg)
    return NULL;
  if (arg->type == SS__PQ_MATRIX)
    return fail(ps, SS_ESYNTAX, op.pos,
                "unary expression only allowed on expressions of type scalar or instant vector");
  if (op.k == T_ADD)
    return arg;
  if (arg->kind == SS__PQ_NUMBER) {
    arg->u.number = -arg->u.number;
    arg->col = col_of(op.pos);
    return arg;
  }
  struct ss__pq_node *n = new_node(ps, SS__PQ_NEG, arg->type, op.pos);
  if (n)
    n->u.neg = arg;
  return n;
}

/* The precedence of a binary operator at t; 0 when t is none. Sets
 * *supported to false for PromQL operators outside the subset. */
static int binary_prec(const struct parser *ps, struct tok t, bool *supported) {
  *supported = true;
  switch (t.k) {
  case T_ADD: case T_SUB: return PREC_ADD;
  case T_MUL: case T_DIV: case T_MOD: return PREC_MUL;
  case T_POW: return PREC_POW;
  case T_EQLC: case T_NEQ: case T_GTR: case T_LSS: case T_GTE: case T_LTE:
    *supported = false;
    return PREC_CMP;
  default: break;
  }
  *supported = false;
  if (tok_is(ps, t, "or"))
    return PREC_OR;
  if (tok_is(ps, t, "and") || tok_is(ps, t, "unless"))
    return PREC_AND;
  if (tok_is(ps, t, "atan2"))
    return PREC_MUL;
  return 0;
}

static struct ss__pq_node *parse_expr(struct parser *ps, int min_prec) {
  if (++ps->depth > SS_PROMQL_DEPTH_MAX)
    return fail(ps, SS_ELIMIT, ps->cur.pos, "expression nested too deeply");
  struct ss__pq_node *lhs = parse_unary(ps);
  for (;;) {
    if (!lhs)
      break;
    bool supported;
    struct tok op = ps->cur;
    int prec = binary_prec(ps, op, &supported);
    if (prec == 0 || prec < min_prec)
      break;
    if (!supported) {
      lhs = fail(ps, SS_EUNSUPPORTED, op.pos, "unsupported binary operator \"%.*s\"",
                 (int)op.len, ps->q + op.pos);
      break;
    }
    next(ps);
    static const char *const modifiers[] = {"bool", "on", "ignoring", "group_left",
                                            "group_right"};
    if (ps->cur.k == T_IDENT &&
        index_of(modifiers, N_ELEMS(modifiers), ps->q + ps->cur.pos, ps->cur.len) >= 0 &&
        peek(ps).k != T_LBRACE) {
      lhs = fail(ps, SS_EUNSUPPORTED, ps->cur.pos, "unsupported modifier \"%.*s\"",
                 (int)ps->cur.len, ps->q + ps->cur.pos);
      break;
    }
    /* ^ is right-associative, the others left */
    struct ss__pq_node *rhs = parse_expr(ps, op.k == T_POW ? prec : prec + 1);
    if (!rhs) {
      lhs = NULL;
      break;
    }
    if (lhs->type == SS__PQ_MATRIX || rhs->type == SS__PQ_MATRIX) {
      lhs = fail(ps, SS_ESYNTAX, op.pos,
                 "binary expression must contain only scalar and instant vector types");
      break;
    }
    if (lhs->type == SS__PQ_VECTOR && rhs->type == SS__PQ_VECTOR) {
      lhs = fail(ps, SS_EUNSUPPORTED, op.pos,
                 "unsupported vector-vector operation \"%.*s\" (one side must be a scalar)",
                 (int)op.len, ps->q + op.pos);
      break;
    }
    struct ss__pq_node *n =
        new_node(ps, SS__PQ_BINARY,
                 lhs->type == SS__PQ_VECTOR || rhs->type == SS__PQ_VECTOR ? SS__PQ_VECTOR
                                                                          : SS__PQ_SCALAR,
                 op.pos);
    if (!n) {
      lhs = NULL;
      break;
    }
    n->u.bin.op = ps->q[op.pos];
    n->u.bin.lhs = lhs;
    n->u.bin.rhs = rhs;
    lhs = n;
  }
  ps->depth--;
  return lhs;
}

int ss_promql_parse(const char *q, struct ss_promql **out, struct ss_error *err) {
  *out = NULL;
  struct parser ps = {.q = q, .err = err};
  ps.len = q ? strnlen(q, SS_PROMQL_QUERY_MAX + 1) : 0;
  if (ps.len > SS_PROMQL_QUERY_MAX)
    return ss_error_set(err, SS_ELIMIT, 0, 0, "query longer than %d bytes",
                        SS_PROMQL_QUERY_MAX);
  struct ss_promql *p = calloc(1, sizeof *p);
  if (!p || !(p->arena = ss_arena_new())) {
    free(p);
    return ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
  }
  ps.p = p;
  ps.cur = lex_at(q, ps.len, 0);
  if (ps.cur.k == T_EOF) {
    fail(&ps, SS_ESYNTAX, 0, "empty query");
    goto out;
  }
  p->root = parse_expr(&ps, 0);
  if (!p->root)
    goto out;
  if (ps.cur.k != T_EOF) {
    unexpected(&ps, NULL);
    goto out;
  }
  if (p->root->type == SS__PQ_MATRIX)
    fail(&ps, SS_EUNSUPPORTED, 0,
         "unsupported range vector result: wrap the range in rate(), irate() or increase()");
out:
  if (ps.rc) {
    ss_promql_free(p);
    return ps.rc;
  }
  *out = p;
  return SS_EOK;
}

void ss_promql_free(struct ss_promql *p) {
  if (!p)
    return;
  for (size_t i = 0; i < p->n_regexes; i++) {
    regfree(p->regexes[i]);
    free(p->regexes[i]);
  }
  free(p->regexes);
  ss_arena_free(p->arena);
  free(p);
}

enum ss_promql_type ss_promql_result_type(const struct ss_promql *p) {
  return p->root->type == SS__PQ_SCALAR ? SS_PROMQL_SCALAR : SS_PROMQL_VECTOR;
}
