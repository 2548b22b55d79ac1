/* promql.h: the embedded metrics source's query language: a parser and an
 * evaluator for the PromQL subset that KEDA prometheus triggers need when
 * they name no Prometheus server, and KEDA's rule for turning a result into
 * one number.
 *
 * The subset:
 *   - numbers (decimal, exponent, hex, Inf, NaN), parentheses;
 *   - instant vector selectors name{l="v", l!="v", l=~"re", l!~"re"} (also
 *     {__name__="x", ...}); regexes are POSIX extended, anchored at both ends
 *     as Prometheus anchors them;
 *   - range vectors sel[1m] (units ms s m h d w y, combinable: 1m30s);
 *   - rate, irate, increase (Prometheus' extrapolation, counter resets);
 *   - sum, avg, min, max, count with by (...) or without (...), before or
 *     after the argument;
 *   - + - * / % ^ between scalars, vector-scalar and scalar-vector; unary -;
 *   - histogram_quantile(q, v).
 * Everything else (offset, @, subqueries, other functions and aggregations,
 * comparisons, set operators, vector-vector arithmetic, strings) is
 * rejected by the parser with a message that names it and its column.
 *
 * Semantics follow Prometheus 2.42 (the Prometheus our end-to-end tests run):
 * ranges and the 5 m lookback include both ends, [t - range, t].
 *
 * promql/ parses and computes; where the series come from (the registry's
 * window, or a fake in tests) is the caller's choice of source. */
#ifndef SS_PROMQL_PROMQL_H
#define SS_PROMQL_PROMQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "metrics/metrics.h"

/* Limits, each with its own error (SS_ELIMIT). */
#define SS_PROMQL_QUERY_MAX 4096 /* bytes of a query */
#define SS_PROMQL_DEPTH_MAX 64   /* nesting of parentheses, calls, operators */
/* Prometheus' default --query.lookback-delta: how old the newest sample of a
 * series may be for an instant selector to still see it. */
#define SS_PROMQL_LOOKBACK_MS (5 * 60 * 1000)

/* A parsed query: immutable, so one may be evaluated from several threads. */
struct ss_promql;

/* Parses q (NUL-terminated, at most SS_PROMQL_QUERY_MAX bytes). On success
 * *out is a new query the caller owns (free with ss_promql_free) and err is
 * left alone; on failure returns SS_ESYNTAX (bad syntax), SS_EUNSUPPORTED
 * (valid PromQL outside the subset), SS_ELIMIT or SS_ENOMEM, with err->col
 * (1-based byte column) and a message such as
 *   unsupported function "absent" at column 1
 *   unexpected "}" at column 12 */
int ss_promql_parse(const char *q, struct ss_promql **out, struct ss_error *err);
void ss_promql_free(struct ss_promql *p); /* accepts NULL */

enum ss_promql_type { SS_PROMQL_SCALAR, SS_PROMQL_VECTOR };
/* What evaluating p gives (known from the parse). */
enum ss_promql_type ss_promql_result_type(const struct ss_promql *p);

/* The canonical text of p (full parentheses around operators, ranges in
 * seconds or ms), snprintf-style: returns the length it needs. For tests and
 * for showing the query a trigger runs. */
size_t ss_promql_format(const struct ss_promql *p, char *buf, size_t cap);

/* ---- where series come from ---- */

/* Calls fn for each stored series whose metric name is name (NULL: every
 * series); ts and its samples are borrowed for the call only. The series
 * shape is the registry's (struct ss_timeseries, samples oldest first), so
 * ss_metrics_each_series is a source as it is. */
typedef void ss_promql_series_fn(void *fn_ctx, const struct ss_timeseries *ts);
struct ss_promql_source {
  void (*each_series)(void *ctx, const char *name, ss_promql_series_fn *fn, void *fn_ctx);
  void *ctx;
};
/* A source reading the registry's window (borrows m). */
struct ss_promql_source ss_promql_metrics_source(struct ss_metrics *m);

/* ---- results ---- */

struct ss_promql_label {
  const char *name, *value;
};
struct ss_promql_element {
  size_t n_labels;
  const struct ss_promql_label *labels; /* sorted by name; __name__ when kept */
  double v;
};
struct ss_promql_result {
  enum ss_promql_type type;
  double scalar;                   /* SS_PROMQL_SCALAR */
  size_t n;                        /* SS_PROMQL_VECTOR: elements */
  struct ss_promql_element *elems; /* in the order series were first seen */
  struct ss_arena *arena;          /* owns everything above */
};

/* Evaluates p at t_ms (wall clock, ms) against src. On success *out is a
 * new result the caller owns (ss_promql_result_free). Errors: SS_ENOMEM,
 * SS_EINVALID (e.g. two series with the same labels after rate() dropped
 * their names, as Prometheus refuses). */
int ss_promql_eval(const struct ss_promql *p, const struct ss_promql_source *src,
                   int64_t t_ms, struct ss_promql_result **out, struct ss_error *err);
void ss_promql_result_free(struct ss_promql_result *r); /* accepts NULL */

/* The one number KEDA's prometheus scaler takes from a query's result:
 * no element (or a NaN or infinite value) is 0 when ignore_null_values
 * (KEDA's default true) and an error (SS_ENOTFOUND) otherwise; more than one
 * element is an error (SS_EINVALID). A scalar result counts as one element. */
int ss_promql_single_value(const struct ss_promql_result *r, bool ignore_null_values,
                           double *out, struct ss_error *err);

#endif
