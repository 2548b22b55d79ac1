/* loop.h: the HPA controller and the KEDA controller, the thin shell
 * around the pure cores hpa.h and keda.h.
 *
 * The targets are the stored autoscalers: every autoscaling/v2
 * HorizontalPodAutoscaler (but those a ScaledObject owns, which are KEDA's)
 * and every keda.sh/v1alpha1 ScaledObject, whoever wrote them (the
 * SeldonDeployment controller from an hpaSpec or kedaSpec, or a user).
 * Each tick lists them; for each one whose sync is due it reads the target
 * through its /scale, as the controllers on a cluster do: a Deployment
 * (spec.replicas, the pods of its replica set) or a SeldonDeployment
 * (spec.replicas as its /scale reads it, the pods of the Deployments it
 * owns); the pods' readiness and CPU/memory come from the metrics window,
 * each pod's request from its template (summed over containers, as
 * Kubernetes sums them); prometheus triggers ask a Prometheus server over
 * HTTP (promql/http.h), or the embedded source when the trigger names no
 * serverAddress. The decision is written to the target's spec.replicas and
 * nowhere else, with the resourceVersion it read (a write in between wins,
 * and the next sync works from it). The status and events go to the
 * autoscaler itself; a ScaledObject also gets the HPA KEDA makes for it
 * (keda-hpa-<name>, owned by it, deleted with it).
 *
 * Every time here is wall-clock ms (the metrics window's clock).
 *
 * loop/ decides when to poll and what to feed the pure cores; it does not
 * start or stop replicas (control/ runs what the Deployment says). */
#ifndef SS_AUTOSCALE_LOOP_H
#define SS_AUTOSCALE_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "metrics/metrics.h"
#include "store/store.h"

/* kube-controller-manager --horizontal-pod-autoscaler-sync-period */
#define SS_AUTOSCALE_DEFAULT_HPA_SYNC_MS 15000
/* Per autoscaler override of the sync period / pollingInterval, in ms (the
 * SeldonDeployment controller copies it from the SeldonDeployment). */
#define SS_AUTOSCALE_ANN_SYNC "servescale.io/sync-period-ms"
/* servescale's own policy (autoscale/own.h), opt-in per autoscaler:
 * servescale.io/autoscaler: servescale on the HPA or ScaledObject, or on
 * the SeldonDeployment that owns it. It then decides every
 * SS_OWN_PERIOD_MS from the gateway's figures instead of the HPA's or
 * KEDA's rules, within the autoscaler's min and max; the other
 * annotations give its model of a replica (docs/autoscaling.md). */
#define SS_AUTOSCALE_ANN_POLICY "servescale.io/autoscaler"
#define SS_AUTOSCALE_POLICY_OWN "servescale"
#define SS_AUTOSCALE_ANN_SLO "servescale.io/slo-p99-ms"
#define SS_AUTOSCALE_ANN_SERVICE "servescale.io/service-time-ms"
#define SS_AUTOSCALE_ANN_CONCURRENCY "servescale.io/concurrency"
#define SS_AUTOSCALE_ANN_STARTUP "servescale.io/startup-ms"
/* Without the service-time annotation the own policy measures it: the
 * mean of the calls answered since the last measure, once at least this
 * many over at least this long. */
#define SS_AUTOSCALE_MEASURE_CALLS 50
#define SS_AUTOSCALE_MEASURE_MS 10000
/* The own policy's status is stored at most this often (and at each
 * change): its decisions come ten times a second. */
#define SS_AUTOSCALE_OWN_STATUS_MS 1000
/* A target whose Deployment is not stored yet is looked at again this soon. */
#define SS_AUTOSCALE_RETRY_MS 200

#define SS_AUTOSCALE_HPA_KIND ((struct ss_kind_ref){"autoscaling", "horizontalpodautoscalers"})
#define SS_AUTOSCALE_SO_KIND ((struct ss_kind_ref){"keda.sh", "scaledobjects"})

struct ss_adapter;

struct ss_autoscaler_config {
  struct ss_store *store;     /* borrowed */
  struct ss_metrics *metrics; /* borrowed: the window (cpu, memory, embedded source) */
  struct ss_adapter *adapter; /* borrowed: Pods, Object and External metrics; may be NULL */
  int sync_ms;                /* > 0: every target polls this often (--autoscale-sync-ms) */
  /* The gateway's live figures for the own policy: calls in flight on a
   * replica (the runtime's id), calls waiting for a first replica of a
   * replica set (the runtime's key). NULL: the replica-set gauges the
   * reconciler publishes each pass are read instead. */
  int (*inflight)(void *ctx, const char *replica_id);
  int (*queued)(void *ctx, const char *rs);
  void *gateway_ctx;
};

struct ss_autoscaler;

struct ss_autoscaler *ss_autoscaler_new(const struct ss_autoscaler_config *cfg);
void ss_autoscaler_free(struct ss_autoscaler *a); /* accepts NULL */

/* One pass at now_ms. Returns true when some decision changed (the
 * reconciler should run now). *next_ms (may be NULL): when the next poll
 * is due. Not thread-safe against itself: one caller. */
bool ss_autoscaler_tick(struct ss_autoscaler *a, int64_t now_ms, int64_t *next_ms);

/* A request waits at zero replicas for replica set rs ("<namespace>.<name>",
 * the runtime's key): the next tick wakes the ScaledObject (or the own
 * policy's autoscaler) aimed at that Deployment at once. Thread-safe;
 * the caller wakes whoever calls tick. */
void ss_autoscaler_activate(struct ss_autoscaler *a, const char *rs);

#endif
