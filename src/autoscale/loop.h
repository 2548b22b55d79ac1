/* loop.h: the autoscaling loop, the thin shell around hpa.h and keda.h.
 *
 * One target per componentSpec container that has an hpaSpec (or a
 * predictor hpaSpecs entry) or a kedaSpec (kedaSpec wins). Each tick reads
 * the stored SeldonDeployments; for each target whose poll is due it builds
 * the inputs (replicas, readiness and CPU/memory from the metrics window;
 * prometheus triggers from a Prometheus server over HTTP (promql/http.h),
 * or from the embedded source when the trigger names no serverAddress), evaluates from
 * the target Deployment's spec.replicas (its scale: whatever wrote it last,
 * a manual scale included), and writes a new size there and nowhere else,
 * as the HPA controller writes a target's /scale (with the resourceVersion
 * it read: a write in between wins, and the next sync works from it). The
 * status goes into a read-only HorizontalPodAutoscaler (autoscaling/v2) or
 * ScaledObject (keda.sh/v1alpha1) named after the Deployment. Scaling
 * events are recorded against the SeldonDeployment.
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
/* Per resource override of the sync period / pollingInterval, in ms. */
#define SS_AUTOSCALE_ANN_SYNC "servescale.io/sync-period-ms"
/* A target whose Deployment is not stored yet is looked at again this soon. */
#define SS_AUTOSCALE_RETRY_MS 200

#define SS_AUTOSCALE_HPA_GROUP "autoscaling"
#define SS_AUTOSCALE_HPA_PLURAL "horizontalpodautoscalers"
#define SS_AUTOSCALE_SO_GROUP "keda.sh"
#define SS_AUTOSCALE_SO_PLURAL "scaledobjects"

struct ss_autoscaler_config {
  struct ss_store *store;     /* borrowed */
  struct ss_metrics *metrics; /* borrowed: the window (cpu, memory, embedded source) */
  int sync_ms;                /* > 0: every target polls this often (--autoscale-sync-ms) */
};

struct ss_autoscaler;

struct ss_autoscaler *ss_autoscaler_new(const struct ss_autoscaler_config *cfg);
void ss_autoscaler_free(struct ss_autoscaler *a); /* accepts NULL */

/* One pass at now_ms. Returns true when some decision changed (the
 * reconciler should run now). *next_ms (may be NULL): when the next poll
 * is due. Not thread-safe against itself: one caller. */
bool ss_autoscaler_tick(struct ss_autoscaler *a, int64_t now_ms, int64_t *next_ms);

/* A request waits at zero replicas for replica set rs ("<namespace>.<name>",
 * the runtime's key): the next tick wakes that target at once. Thread-safe;
 * the caller wakes whoever calls tick. */
void ss_autoscaler_activate(struct ss_autoscaler *a, const char *rs);

#endif
