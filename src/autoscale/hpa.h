/* hpa.h: the HorizontalPodAutoscaler's decision (autoscaling/v2, as the
 * Kubernetes controller makes it), as a pure function of its inputs.
 *
 * ss_hpa_evaluate() reads no clock, does no I/O and keeps no state: the
 * caller supplies everything and keeps what must outlive one sync.
 *
 * The caller supplies, on every sync:
 *   - the typed spec (borrowed; spec->has_behavior picks the controller's
 *     path, see below), and the controller settings;
 *   - the scale's spec.replicas (the size the HPA works from) and
 *     status.replicas (running replicas: Object/External AverageValue);
 *   - the replicas of the target as the controller sees them (ss_hpa_pod:
 *     readiness, start, last readiness change), one array for all metrics;
 *   - per metric, in spec order: for Resource, ContainerResource and Pods one
 *     sample per replica, parallel to the pods (missing ones marked), with
 *     the replica's containers' requests for Utilization; for Object and
 *     External the series' values; or that fetching failed;
 *   - now_ms, on the same clock as every timestamp above.
 * The caller keeps, between syncs, one struct ss_hpa_history per HPA (zeroed
 * to start; ss_hpa_history_free when the HPA goes) and calls ss_hpa_commit()
 * after each sync, saying whether the new size was applied to the scale.
 * The history owns its storage and grows it as Kubernetes grows its slices:
 * an entry aged out of every window is reused before the list grows, so its
 * length is bounded by the syncs inside the longest window (at most
 * SS_HPA_HISTORY_MAX per list).
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

/* Kubernetes' rate limit for an HPA without behavior (horizontal.go,
 * scaleUpLimitFactor and scaleUpLimitMinimum): up to max(2 x current, 4). */
#define SS_HPA_SCALE_UP_LIMIT_FACTOR 2
#define SS_HPA_SCALE_UP_LIMIT_MINIMUM 4

#define SS_HPA_MAX_METRICS 16 /* metrics per HPA that one result can report */
#define SS_HPA_MSG_MAX 256
/* Entries per history list. Kubernetes' lists hold one entry per sync inside
 * the longest window (3600 s at most); past this the caller syncs faster
 * than any window needs, and the oldest entry is replaced. */
#define SS_HPA_HISTORY_MAX 65536

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
  const char *name;        /* for messages; NULL: "replica <index>"; borrowed */
};

/* One container of a replica and its request of the metric's resource:
 * Kubernetes' calculatePodRequests sums them (the regular containers and the
 * restartable init containers, which the caller lists; others it leaves out). */
struct ss_hpa_container {
  const char *name;  /* borrowed; NULL reads as "" */
  bool has_request;  /* it sets a request of the resource */
  int64_t request;   /* milli */
};

/* One replica's sample of a per-replica metric. */
struct ss_hpa_sample {
  bool present;      /* false: no sample for this replica (missing) */
  int64_t value;     /* milli-units (cpu: millicores) */
  int64_t request;   /* the replica's request, milli, when n_containers is 0 (one
                        unnamed container); <= 0: no request */
  int64_t at_ms;     /* when the sample was taken */
  int64_t window_ms; /* the window it averages over */
  /* Utilization: the replica's containers, set even when the sample is
   * missing. Resource sums them all; ContainerResource takes the named one.
   * A container without a request fails the metric, naming it. */
  const struct ss_hpa_container *containers; /* borrowed */
  size_t n_containers;
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

/* Without spec->has_behavior (spec.behavior not written: the API server does
 * not default it) the controller takes another path
 * (normalizeDesiredReplicas): the controller's tolerance, scale-down
 * stabilized over settings.downscale_stabilization_ms, scale-up limited to
 * max(2 x current, 4) per sync, no scale events kept; spec->up and
 * spec->down are then not read. With it, a scaleDown window left unset
 * (SS_HPA_STABILIZATION_UNSET) is settings.downscale_stabilization_ms too. */

/* An unstabilized recommendation, as the controller records one per sync. */
struct ss_hpa_rec {
  int64_t at_ms;
  int32_t replicas;
};

/* A scale event: replicas added (scale-up list) or removed (scale-down
 * list). Outdated: older than the direction's longest policy period when
 * last looked at, so free for reuse. */
struct ss_hpa_event {
  int64_t at_ms;
  int32_t change;
  bool outdated;
};

struct ss_hpa_recs {
  struct ss_hpa_rec *v; /* owned by the history */
  uint32_t len, cap;
};

struct ss_hpa_events {
  struct ss_hpa_event *v; /* owned by the history */
  uint32_t len, cap;
};

/* What the controller keeps per HPA between syncs. Zeroed: a new HPA. */
struct ss_hpa_history {
  bool started;             /* a sync ran (the first records the current size) */
  struct ss_hpa_recs recs;  /* recommendations */
  struct ss_hpa_events up;  /* scale-up events (behavior only) */
  struct ss_hpa_events down; /* scale-down events (behavior only) */
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
  /* for ss_hpa_commit */
  int64_t now_ms;
  bool seed;      /* first sync: record the current size first, at now */
  bool record;    /* store recommendation */
  struct ss_hpa_rec recommendation;
  bool reuse_rec; /* ...over recs.v[rec_slot], aged out of every window */
  uint32_t rec_slot;
  bool behavior;  /* keep scale events (only with behavior) */
  int64_t up_period_ms, down_period_ms; /* longest policy period per direction */
};

/* Decides one sync. Borrows everything; fills *out. Returns SS_EOK, or
 * SS_EINVALID (NULL argument, pods missing while samples expected) or
 * SS_ELIMIT (more than SS_HPA_MAX_METRICS metrics) with *out zeroed. */
enum ss_err ss_hpa_evaluate(const struct ss_hpa_spec *spec, const struct ss_hpa_settings *set,
                            const struct ss_hpa_input *in, const struct ss_hpa_history *hist,
                            struct ss_hpa_result *out);

/* Stores what the sync decided: the first sync's current size, its
 * recommendation (over an aged-out entry when there is one), and when
 * applied is true (the scale now has res->desired) and the spec has a
 * behavior, the scale event (over an outdated one when there is one).
 * Returns SS_EOK; SS_ENOMEM (an entry could not be stored: the history is
 * as before for it); SS_ELIMIT (a list at SS_HPA_HISTORY_MAX: its oldest
 * entry was replaced); SS_EINVALID (NULL). */
enum ss_err ss_hpa_commit(struct ss_hpa_history *hist, const struct ss_hpa_result *res,
                          bool applied);

/* Appends to a history list, growing it; the same limits as ss_hpa_commit.
 * For restoring a history (and tests); ss_hpa_commit reuses entries first. */
enum ss_err ss_hpa_history_add_rec(struct ss_hpa_history *hist, struct ss_hpa_rec rec);
enum ss_err ss_hpa_history_add_event(struct ss_hpa_history *hist, bool up,
                                     struct ss_hpa_event ev);

/* Frees the lists and zeroes *hist (a new HPA again); accepts NULL. */
void ss_hpa_history_free(struct ss_hpa_history *hist);

#endif
