/* hpa.h: the HorizontalPodAutoscaler's decision (autoscaling/v2, as the
 * Kubernetes controller makes it), as a pure function of its inputs.
 *
 * ss_hpa_evaluate() reads no clock, does no I/O and keeps no state: the
 * caller supplies everything and keeps what must outlive one sync.
 *
 * The caller supplies, on every sync:
 *   - the typed spec (borrowed) and the controller settings;
 *   - the scale's spec.replicas (the size the HPA works from) and
 *     status.replicas (running replicas: Object/External AverageValue);
 *   - the replicas of the target as the controller sees them (ss_hpa_pod:
 *     readiness, start, last readiness change), one array for all metrics;
 *   - per metric, in spec order: for Resource, ContainerResource and Pods one
 *     sample per replica, parallel to the pods (missing ones marked); for
 *     Object and External the series' values; or that fetching failed;
 *   - now_ms, on the same clock as every timestamp above.
 * The caller keeps, between syncs, one struct ss_hpa_history per HPA (its
 * two rings' storage is the caller's) and calls ss_hpa_commit() after each
 * sync, saying whether the new size was applied to the scale.
 * The caller does the rest: applying the size, the SuccessfulRescale event
 * ("New size: %d; reason: %s" with result.reason), FailedComputeMetricsReplicas
 * (result.failed, result.error), AbleToScale SucceededRescale/FailedUpdateScale
 * after the update, lastScaleTime. */
#ifndef SS_AUTOSCALE_HPA_H
#define SS_AUTOSCALE_HPA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "model/autoscaling.h"

/* kube-controller-manager defaults (--horizontal-pod-autoscaler-*). */
#define SS_HPA_DEFAULT_TOLERANCE 0.1
#define SS_HPA_DEFAULT_CPU_INIT_PERIOD_MS (300 * 1000)
#define SS_HPA_DEFAULT_READINESS_DELAY_MS (30 * 1000)
#define SS_HPA_DEFAULT_DOWNSCALE_STABILIZATION_MS (300 * 1000)

#define SS_HPA_MAX_METRICS 16 /* metrics per HPA that one result can report */
#define SS_HPA_MSG_MAX 256

struct ss_hpa_settings {
  double tolerance;                   /* used where a direction sets none */
  int64_t cpu_init_period_ms;         /* --...-cpu-initialization-period */
  int64_t initial_readiness_delay_ms; /* --...-initial-readiness-delay */
  int64_t downscale_stabilization_ms; /* used when down.stabilization_seconds < 0 */
};

#define SS_HPA_SETTINGS_DEFAULT                                                   \
  ((struct ss_hpa_settings){SS_HPA_DEFAULT_TOLERANCE, SS_HPA_DEFAULT_CPU_INIT_PERIOD_MS, \
                            SS_HPA_DEFAULT_READINESS_DELAY_MS,                    \
                            SS_HPA_DEFAULT_DOWNSCALE_STABILIZATION_MS})

/* One replica of the target. */
struct ss_hpa_pod {
  bool ready;              /* its Ready condition is True */
  bool pending;            /* not running yet: counted as unready */
  bool gone;               /* failed or being deleted: left out entirely */
  int64_t start_ms;        /* when it started */
  int64_t ready_change_ms; /* last transition of its Ready condition */
};

/* One replica's sample of a per-replica metric. */
struct ss_hpa_sample {
  bool present;      /* false: no sample for this replica (missing) */
  int64_t value;     /* milli-units (cpu: millicores) */
  int64_t request;   /* its request of the resource, milli (Utilization), set even
                        when the sample is missing; <= 0: no request */
  int64_t at_ms;     /* when the sample was taken */
  int64_t window_ms; /* the window it averages over */
};

struct ss_hpa_metric_input {
  bool failed;                         /* fetching the metric failed */
  const char *error;                   /* why, may be NULL; borrowed */
  const struct ss_hpa_sample *samples; /* Resource/ContainerResource/Pods: n_pods */
  const int64_t *values;               /* Object/External: the series, milli */
  size_t n_values;
};

struct ss_hpa_input {
  int32_t spec_replicas;   /* scale spec.replicas */
  int32_t status_replicas; /* scale status.replicas */
  const struct ss_hpa_pod *pods;
  size_t n_pods;
  const struct ss_hpa_metric_input *metrics; /* spec->n_metrics entries */
  int64_t now_ms;
};

/* A timestamped count: a recommendation, or a scale event's signed change. */
struct ss_hpa_stamp {
  int64_t at_ms;
  int32_t replicas;
};

/* A ring over caller-owned storage; when full the oldest entry is replaced.
 * Size it with ss_hpa_ring_cap() so nothing inside a window is lost. */
struct ss_hpa_ring {
  struct ss_hpa_stamp *items; /* cap entries, owned by the caller */
  uint32_t cap, len, head;    /* head: the oldest entry */
};

struct ss_hpa_history {
  struct ss_hpa_ring recs;   /* unstabilized recommendations, one per sync */
  struct ss_hpa_ring events; /* scale events: +n up, -n down */
};

enum ss_hpa_cond_status { SS_HPA_COND_UNCHANGED, SS_HPA_COND_TRUE, SS_HPA_COND_FALSE };

struct ss_hpa_condition {
  enum ss_hpa_cond_status status; /* UNCHANGED: keep what the last sync said */
  const char *reason;             /* static; NULL when UNCHANGED */
  char message[SS_HPA_MSG_MAX];
};

struct ss_hpa_metric_status {
  bool valid;                  /* the metric gave a replica count */
  int32_t proposal;            /* the count it asked for */
  bool has_utilization;
  int32_t average_utilization; /* percent of request */
  int64_t average_value;       /* milli, per replica (AverageValue, Utilization) */
  int64_t value;               /* milli, total (Value) */
};

struct ss_hpa_result {
  int32_t current;  /* spec_replicas it started from */
  int32_t desired;  /* the size to set (0 when scaling is disabled) */
  bool scale;       /* desired differs and must be applied */
  bool failed;      /* no count: FailedComputeMetricsReplicas, error says why */
  bool partial;     /* some metric failed but the others decided */
  char reason[SS_HPA_MSG_MAX]; /* why it scales, in Kubernetes' words */
  char error[SS_HPA_MSG_MAX];  /* the first metric error, when failed/partial */
  struct ss_hpa_condition able_to_scale, scaling_active, scaling_limited;
  size_t n_metrics;
  struct ss_hpa_metric_status metrics[SS_HPA_MAX_METRICS];
  bool record; /* ss_hpa_commit stores recommendation */
  struct ss_hpa_stamp recommendation;
  int64_t now_ms;
};

/* Decides one sync. Borrows everything; fills *out. Returns SS_EOK, or
 * SS_EINVALID (NULL argument, pods missing while samples expected) or
 * SS_ELIMIT (more than SS_HPA_MAX_METRICS metrics) with *out zeroed. */
enum ss_err ss_hpa_evaluate(const struct ss_hpa_spec *spec, const struct ss_hpa_settings *set,
                            const struct ss_hpa_input *in, const struct ss_hpa_history *hist,
                            struct ss_hpa_result *out);

/* Stores what the sync decided: its recommendation, and when applied is true
 * (the scale now has res->desired) the scale event. */
void ss_hpa_commit(struct ss_hpa_history *hist, const struct ss_hpa_result *res, bool applied);

/* Appends to r, replacing the oldest when full; nothing when cap is 0. */
void ss_hpa_ring_push(struct ss_hpa_ring *r, struct ss_hpa_stamp s);

/* Entries a ring needs so that syncs every sync_ms lose nothing inside the
 * longest window or policy period of spec. */
uint32_t ss_hpa_ring_cap(const struct ss_hpa_spec *spec, const struct ss_hpa_settings *set,
                         int64_t sync_ms);

#endif
