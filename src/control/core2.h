/* core2.h: the Seldon Core 2 controller: Servers run as replicas of the
 * built-in multi-model server (`servescale model-server`, image
 * seldonio/mlserver), Models are placed on them by Core 2's scheduling rules
 * (core2/schedule.h) and loaded into the chosen replicas over the server's
 * repository API (POST /v2/repository/models/{name}/load and /unload), the
 * gateway routes /v2/models/{name} to the replicas holding a model, and the
 * status of both kinds is written as Core 2's operator writes it: a Model's
 * replicas, availableReplicas and ModelReady / Ready conditions (reason
 * ScheduleFailed, ModelFailed, ...), a Server's replicas, loadedModels,
 * selector and StatefulSetReady / Ready conditions.
 *
 * Native autoscaling (core2/scaling.h) runs here too: a Model with
 * minReplicas or maxReplicas moves spec.replicas by one on its inference
 * lag (the gateway's requests in flight per loaded replica) or after it
 * has been unused, and Servers follow their models (up to the most
 * replicated model's count within maxReplicas, down by replicas left empty)
 * unless an HPA scales that Server. A Server's replica leaves only once the
 * models on it are loaded elsewhere (its highest ordinals go first, as a
 * StatefulSet's). Each decision is an event with its reason.
 *
 * Loads and unloads are HTTP calls made without blocking the pass (libcurl's
 * multi interface, progressed each pass). State is the store plus what the
 * replicas hold; after a daemon restart every replica starts empty and
 * models are loaded again. Deleting a Server with models on it is allowed,
 * as on a cluster: its models are placed elsewhere if they fit, else they
 * go unready with ScheduleFailed and the reason.
 *
 * Called from the reconciler's thread only. */
#ifndef SS_CONTROL_CORE2_H
#define SS_CONTROL_CORE2_H

#include <jansson.h>
#include <stdint.h>

#include "control/images.h"
#include "control/scalers.h"
#include "gateway/gateway.h"
#include "metrics/metrics.h"
#include "runtime/runtime.h"
#include "store/store.h"

/* A Server's replicas, for the reconciler to run (and to show as pods). */
struct ss_core2_run {
  const char *rs;            /* the runtime's key: "<namespace>.<server>" */
  const char *ns, *name;
  const json_t *obj;         /* the stored Server */
  const json_t *pod_labels;  /* seldon-server-name: <name>, ... */
  const struct ss_rs_template *t; /* NULL: it cannot run (message says why) */
  const char *message;
  int replicas;
};

typedef void (*ss_core2_run_fn)(void *ctx, const struct ss_core2_run *run);

struct ss_core2_config {
  struct ss_store *store;
  struct ss_runtime *runtime;
  struct ss_gateway *gateway; /* may be NULL (no lag: no native scale-up) */
  const struct ss_image_map *images;
  struct ss_metrics *metrics; /* Core 2's gauges and counters; may be NULL */
  /* who aims at what (the reconciler's index, brought up to date before
   * each pass): a Server an HPA or ScaledObject scales is left to it */
  const struct ss_scalers *scalers;
};

struct ss_core2;

struct ss_core2 *ss_core2_new(const struct ss_core2_config *cfg);
void ss_core2_free(struct ss_core2 *c); /* accepts NULL */

/* One pass: Servers run (through run), loads and unloads progressed,
 * placements, status, native scaling. */
void ss_core2_tick(struct ss_core2 *c, int64_t now_ms, ss_core2_run_fn run, void *ctx);

/* A hash of what the gateway routes by (models and their replicas): when it
 * changes, the routing table is built again. */
uint64_t ss_core2_route_sig(const struct ss_core2 *c);

/* Adds every routed model to t. SS_EOK or the first error. */
enum ss_err ss_core2_routes(struct ss_core2 *c, struct ss_gw_table *t);

#endif
