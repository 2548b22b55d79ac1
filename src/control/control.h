/* control.h: the reconciler. Level-triggered: each pass reads every stored
 * SeldonDeployment, works out the replica sets it needs (name, command,
 * environment, probes, replicas), tells the runtime, removes what no
 * resource needs any more, and writes status and events back. A pass is
 * safe to run at any time, again and again, and after a crash.
 *
 * control/ decides nothing about how many replicas a scaler wants: it reads
 * the replicas from the stored resource. */
#ifndef SS_CONTROL_CONTROL_H
#define SS_CONTROL_CONTROL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "control/images.h"
#include "gateway/gateway.h"
#include "runtime/runtime.h"
#include "store/store.h"

struct ss_control_config {
  struct ss_store *store;
  struct ss_runtime *runtime;
  const struct ss_image_map *images;
  const char *gateway_base;  /* "http://127.0.0.1:8000", or NULL: replicas' own address */
  struct ss_gateway *gateway; /* routes are published to it each pass; may be NULL */
  struct ss_metrics *metrics; /* replica set and replica gauges; may be NULL */
};

struct ss_control;

struct ss_control *ss_control_new(const struct ss_control_config *cfg);
void ss_control_free(struct ss_control *c);

/* One reconcile pass. */
void ss_control_tick(struct ss_control *c, int64_t now_ms);

/* The runtime's event callback (cfg.on_event of the runtime): records the
 * event against the SeldonDeployment that owns the replica set. */
void ss_control_runtime_event(void *ctx, const char *rs, const char *type, const char *reason,
                              const char *message);

/* Replicas of the deployments in ns (NULL: all) as core/v1 Pod objects. */
json_t *ss_control_pods(struct ss_control *c, const char *ns);
/* The log file of pod (a replica id) in ns; 0 when found. */
int ss_control_pod_log(struct ss_control *c, const char *ns, const char *pod, char *buf,
                       size_t size);
/* Deletes pod (a replica) in ns: it stops, drained first, and its
 * Deployment starts a replacement under a new name; 0 when it was there. */
int ss_control_delete_pod(struct ss_control *c, const char *ns, const char *pod);

#endif
