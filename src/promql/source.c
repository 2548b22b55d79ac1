/* source.c: the metrics registry's window as a source for the evaluator,
 * and KEDA's reading of a result as one number. */
#include <math.h>

#include "promql/internal.h"

static void each_metrics_series(void *ctx, const char *name, ss_promql_series_fn *fn,
                                void *fn_ctx) {
  ss_metrics_each_series(ctx, name, fn, fn_ctx);
}

struct ss_promql_source ss_promql_metrics_source(struct ss_metrics *m) {
  return (struct ss_promql_source){each_metrics_series, m};
}

/* KEDA's prometheus scaler (pkg/scalers/prometheus_scaler.go): an empty
 * result and an infinite value are 0 with ignoreNullValues and an error
 * without; more than one element is an error. NaN is treated as Inf. */
int ss_promql_single_value(const struct ss_promql_result *r, bool ignore_null_values,
                           double *out, struct ss_error *err) {
  double v;
  if (r->type == SS_PROMQL_SCALAR) {
    v = r->scalar;
  } else if (r->n > 1) {
    return ss_error_set(err, SS_EINVALID, 0, 0, "query returned %zu elements, want one",
                        r->n);
  } else if (r->n == 0) {
    if (!ignore_null_values)
      return ss_error_set(err, SS_ENOTFOUND, 0, 0,
                          "query returned an empty result (ignoreNullValues is false)");
    *out = 0;
    return SS_EOK;
  } else {
    v = r->elems[0].v;
  }
  if (!isfinite(v)) {
    if (!ignore_null_values)
      return ss_error_set(err, SS_ENOTFOUND, 0, 0,
                          "query returned %s (ignoreNullValues is false)",
                          isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf");
    v = 0;
  }
  *out = v;
  return SS_EOK;
}
