/* metrics.h: the metrics registry: counters, gauges and histograms with
 * labels, observed from many threads without locks on the hot path, exposed
 * in the Prometheus text format, and sampled into an in-memory window of
 * time series that the embedded metrics source (autoscaling) queries.
 *
 * The names and labels the gateway registers are Seldon's executor's:
 *   seldon_api_executor_server_requests_seconds{deployment_name,
 *     predictor_name, predictor_version, service, method, code, namespace}
 *   seldon_api_executor_client_requests_seconds{... , model_name,
 *     model_image, model_version, namespace}
 * with the executor's buckets (SS_METRICS_SELDON_BUCKETS).
 *
 * metrics/ records and answers; it decides nothing. */
#ifndef SS_METRICS_METRICS_H
#define SS_METRICS_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Seldon's client histogram has 9 labels (model_name, model_image, ...). */
#define SS_METRICS_MAX_LABELS 12
#define SS_METRICS_SELDON_BUCKETS \
  {0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}
#define SS_METRICS_N_SELDON_BUCKETS 14
/* Limits, checked when a family or series is made. A family name leaves
 * room for "_bucket" in struct ss_timeseries' name. */
#define SS_METRICS_NAME_MAX 120        /* bytes of a family name */
#define SS_METRICS_LABEL_NAME_MAX 63   /* bytes of a label name */
#define SS_METRICS_LABEL_VALUE_MAX 127 /* bytes of a label value */
#define SS_METRICS_MAX_BOUNDS 32       /* finite bucket bounds of a histogram */

enum ss_metric_type { SS_METRIC_COUNTER, SS_METRIC_GAUGE, SS_METRIC_HISTOGRAM };

struct ss_metrics;  /* the registry */
struct ss_series;   /* one labelled series of one metric */

struct ss_metrics *ss_metrics_new(void);
void ss_metrics_free(struct ss_metrics *m);

/* Declares a metric family (idempotent). Histograms use bounds (ascending,
 * n_bounds of them; NULL: Seldon's buckets; a last +Inf is implied and may be
 * given). Returns 0 (SS_EOK), or an enum ss_err: SS_EINVALID for a bad name,
 * label name (reserved "__" prefix, "le" on a histogram, a duplicate) or
 * bounds, SS_ELIMIT past a limit above, SS_ECONFLICT when name exists with
 * another type, labels or bounds, SS_ENOMEM. A family without labels gets
 * its one series at once, so it is exposed (at 0) from the start. */
int ss_metrics_family(struct ss_metrics *m, const char *name, enum ss_metric_type type,
                      const char *help, const char *const *label_names, size_t n_labels,
                      const double *bounds, size_t n_bounds);

/* The series of family name with these label values (same order and count
 * as the family's label names; a NULL value is ""; label_values may be NULL
 * for a family without labels), created on first use. The pointer stays
 * valid until ss_metrics_free, also after ss_series_release; hot paths keep
 * it rather than looking it up per observation. NULL when name is unknown,
 * a value is longer than SS_METRICS_LABEL_VALUE_MAX, or out of memory. */
struct ss_series *ss_metrics_series(struct ss_metrics *m, const char *name,
                                    const char *const *label_values);
/* Drops a series from exposition and from the window (a replica or
 * deployment that is gone). Observations through a kept pointer remain safe
 * and are ignored. Its memory, without its window, is kept until
 * ss_metrics_free; asking for the same labels again makes a new series
 * (from 0: a counter reset, as after a restart). Accepts NULL. */
void ss_series_release(struct ss_metrics *m, struct ss_series *s);

/* Thread-safe, lock-free; accept NULL. A call that does not fit the series'
 * type is ignored, as is a negative or NaN increment of a counter. */
void ss_series_inc(struct ss_series *s, double v);     /* counter (or gauge: adds) */
void ss_series_set(struct ss_series *s, double v);     /* gauge */
void ss_series_add(struct ss_series *s, double v);     /* gauge: adds v, which may be < 0 */
void ss_series_observe(struct ss_series *s, double v); /* histogram */

/* The Prometheus text exposition (version 0.0.4) of every series, sorted by
 * family then labels; a malloc'd string (NULL when out of memory). process_*
 * metrics of this process (cpu seconds, resident memory, open fds, start
 * time) are included: they are families of the registry, declared by
 * ss_metrics_new and read from /proc/self when exposed or sampled.
 * Families with no live series are left out. */
char *ss_metrics_expose(struct ss_metrics *m);

/* ---- the in-memory window (for the embedded metrics source) ---- */

#define SS_METRICS_WINDOW_MS (10 * 60 * 1000) /* what a rate()[5m] needs, with room */
/* Samples taken closer than this to the previous kept one replace the
 * newest sample instead of adding one (the daemon samples every second), so
 * the newest value is always fresh and kept samples are at least this far
 * apart. 5 s: `servescale prometheus-config`'s default scrape interval. */
#define SS_METRICS_SAMPLE_SPACING_MS 5000
/* The bound of each series' ring: the window at that spacing is 121 samples
 * plus the fresh newest one, so time, not the bound, drops samples. Memory
 * per series at most 8 bytes * SS_METRICS_WINDOW_SAMPLES * (1 + rows): a
 * counter or gauge (1 row) 2 KiB, a histogram with Seldon's 14 bounds
 * (16 rows: 15 cumulative buckets, the +Inf one also serving as _count, and
 * _sum) 17 KiB; rings start at 8 samples and double, so a young series uses
 * less. */
#define SS_METRICS_WINDOW_SAMPLES 128

/* Records the current value of every counter, gauge and histogram
 * (as _count, _sum and _bucket{le=...}) at time now_ms (wall clock, ms). Call
 * it periodically (every scrape interval). Samples older than the window
 * (now_ms - t > SS_METRICS_WINDOW_MS) are dropped. A now_ms not after the
 * newest sample (the clock stepped back) updates the newest sample's values
 * and keeps its time. */
void ss_metrics_sample(struct ss_metrics *m, int64_t now_ms);

/* One sample series as Prometheus would store it: a metric name
 * (family name with _count/_sum/_bucket for histograms) and its labels. */
struct ss_sample {
  int64_t t_ms;
  double v;
};
struct ss_timeseries {
  char name[128];
  size_t n_labels;
  char label_names[SS_METRICS_MAX_LABELS + 1][64];   /* +1: "le" */
  char label_values[SS_METRICS_MAX_LABELS + 1][128];
  const struct ss_sample *samples; /* oldest first; valid during the callback */
  size_t n_samples;
};
/* The value of ts's label name; "" when it has none. */
const char *ss_timeseries_label(const struct ss_timeseries *ts, const char *name);

/* Calls fn for every stored time series whose name is name (NULL: all),
 * under the registry's read lock; fn must not call back into the registry.
 * Order: families by name, series by label values; a histogram's
 * _bucket series (le ascending, "+Inf" last), then _count, then _sum. Series
 * with no sample yet are skipped. */
void ss_metrics_each_series(struct ss_metrics *m, const char *name,
                            void (*fn)(void *ctx, const struct ss_timeseries *ts), void *ctx);

/* As ss_metrics_each_series, but each series' current value (not the
 * window's samples) as its one sample at now_ms, live series with no
 * sample yet included: for a reader that needs finer than the sampling
 * period (the servescale autoscaling policy's arrivals, every 100 ms). */
void ss_metrics_each_current(struct ss_metrics *m, const char *name, int64_t now_ms,
                             void (*fn)(void *ctx, const struct ss_timeseries *ts), void *ctx);
/* The sum of the current values of the series named name (as above) whose
 * labels match: label_names[i] = label_values[i] for each of the n given
 * (a series without such a label has it as ""); 0 when none matches. */
double ss_metrics_current_sum(struct ss_metrics *m, const char *name,
                              const char *const *label_names, const char *const *label_values,
                              size_t n);

#endif
