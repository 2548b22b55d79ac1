/* sim.h: `servescale simulate`'s engine: replays a load trace through one
 * autoscaling policy over the queueing model of cluster.h and sums what a
 * user pays (replica-seconds) and suffers (seconds over the SLO, failed
 * requests, scale events).
 *
 * The policies: "hpa" and "keda" are the daemon's own cores
 * (src/autoscale/hpa.h, keda.h) fed from the simulated replicas; "kpa" and
 * "ray" are the peers of peers.h; "servescale" is own.h. A target (the
 * autoscaling of one resource as written) gives each its bounds and, for
 * the HPA and KEDA, their specs: the written one, or the one the other
 * implies (a kedaSpec's HPA as KEDA creates it; an HPA's metrics as KEDA
 * triggers). Pure: no clock, no I/O; output is report.c's. */
#ifndef SS_SIM_SIM_H
#define SS_SIM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "autoscale/hpa.h"
#include "autoscale/own.h"
#include "common/err.h"
#include "model/resource.h"
#include "sim/cluster.h"
#include "sim/trace.h"

/* Defaults of `servescale simulate`'s flags. */
#define SS_SIM_DEFAULT_SERVICE_MS SS_OWN_DEFAULT_SERVICE_MS
#define SS_SIM_DEFAULT_STARTUP_MS SS_OWN_DEFAULT_STARTUP_MS
#define SS_SIM_DEFAULT_SLO_P99_MS SS_OWN_DEFAULT_SLO_P99_MS
#define SS_SIM_DEFAULT_CONCURRENCY SS_OWN_DEFAULT_CONCURRENCY
#define SS_SIM_DEFAULT_METRIC_DELAY_MS 15000 /* a Prometheus or metrics-server scrape */
#define SS_SIM_DEFAULT_TIMEOUT_MS 30000
#define SS_SIM_SEED 20240601u
/* The sync period of the HPA controller (--horizontal-pod-autoscaler-sync-period). */
#define SS_SIM_HPA_SYNC_MS 15000
/* The window a CPU sample averages over (metrics-server's --metric-resolution). */
#define SS_SIM_CPU_WINDOW_MS 15000
/* The window of a rate metric or a KEDA prometheus query: Seldon's adapter
 * rules and the seed's trigger ask rate(...[1m]). */
#define SS_SIM_RATE_WINDOW_MS 60000
/* The CPU request a replica's utilization is measured against: one core. */
#define SS_SIM_CPU_REQUEST_MILLI 1000
/* Requests one replay may simulate (memory and time stay bounded). */
#define SS_SIM_MAX_REQUESTS 50000000.0

enum ss_sim_policy { SS_SIM_HPA, SS_SIM_KEDA, SS_SIM_KPA, SS_SIM_RAY, SS_SIM_OWN, SS_SIM__N };

struct ss_sim_params {
  struct ss_sim_model model;
  int64_t metric_delay_ms; /* how old the HPA's and KEDA's metrics are */
};

#define SS_SIM_PARAMS_DEFAULT                                                             \
  ((struct ss_sim_params){{SS_SIM_DEFAULT_SERVICE_MS, SS_SIM_DEFAULT_CONCURRENCY,          \
                           SS_SIM_DEFAULT_STARTUP_MS, SS_SIM_DEFAULT_TIMEOUT_MS,           \
                           SS_SIM_DEFAULT_SLO_P99_MS, true, SS_SIM_SEED},                  \
                          SS_SIM_DEFAULT_METRIC_DELAY_MS})

/* The autoscaling of one resource, as each policy reads it. The HPA and
 * KEDA specs point into the resource (borrowed) or into this struct. */
struct ss_sim_target {
  char name[128];               /* what it scales, for reports */
  const char *written;          /* "hpa" or "keda": what the resource says */
  int32_t min, max;             /* as written: every policy's bounds */
  struct ss_hpa_spec hpa;
  struct ss_keda_spec keda;
  struct ss_metric_spec metrics[SS_HPA_MAX_METRICS]; /* of a derived hpa */
  char metric_names[SS_HPA_MAX_METRICS][32];
  struct ss_trigger triggers[SS_HPA_MAX_METRICS];    /* of a derived keda */
};

/* Reads the autoscaling of r (a SeldonDeployment's first hpaSpec or
 * kedaSpec, an HPA, a ScaledObject). Borrows r, which must outlive *t.
 * Returns SS_EOK; SS_EINVALID (r has errors, or nothing autoscaled);
 * SS_EUNSUPPORTED (a metric the model cannot produce: memory) with err. */
enum ss_err ss_sim_target_from(const struct ss_resource *r, struct ss_sim_target *t,
                               struct ss_error *err);

struct ss_sim_result {
  enum ss_sim_policy policy;
  double replica_seconds;
  uint32_t slo_violation_seconds;
  uint64_t failed;        /* requests that failed (refused, or waited past the timeout) */
  uint64_t over_slo;      /* requests answered slower than the SLO */
  uint64_t requests;
  uint32_t scale_events;  /* changes of the replicas asked for */
  int32_t peak_replicas;
  struct ss_sim_second *seconds; /* owned; one per second of the trace */
  size_t n_seconds;
};

/* Replays tr under policy. *out owns its timeline (ss_sim_result_free).
 * Returns SS_EOK; SS_EINVALID / SS_ELIMIT (parameters, or a trace asking
 * for more than SS_SIM_MAX_REQUESTS) or SS_ENOMEM with err. */
enum ss_err ss_sim_run(const struct ss_sim_target *t, const struct ss_sim_params *p,
                       const struct ss_sim_trace *tr, enum ss_sim_policy policy,
                       struct ss_sim_result *out, struct ss_error *err);
void ss_sim_result_free(struct ss_sim_result *r);

const char *ss_sim_policy_name(enum ss_sim_policy p);
/* By name; -1 when unknown. */
int ss_sim_policy_parse(const char *name);

/* ---- reports (report.c); they borrow everything ---- */
enum ss_sim_format { SS_SIM_TEXT, SS_SIM_CSV, SS_SIM_JSON, SS_SIM_SVG };
/* By name ("text", "csv", "json", "svg"); -1 when unknown. */
int ss_sim_format_parse(const char *name);
/* Writes results in fmt; returns 0, or -1 when writing failed. */
int ss_sim_report(FILE *f, enum ss_sim_format fmt, const struct ss_sim_target *t,
                  const struct ss_sim_params *p, const struct ss_sim_trace *tr,
                  const struct ss_sim_result *res, size_t n);

#endif
