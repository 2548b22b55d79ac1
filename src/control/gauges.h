/* gauges.h: the per-replica-set and per-replica gauges the reconciler
 * publishes each pass (replicas, ready, desired, in flight, queued; CPU and
 * memory, readiness, start and readiness-change times (wall clock) of each
 * replica, which the autoscaler reads from the window), released when what they describe is gone. */
#ifndef SS_CONTROL_GAUGES_H
#define SS_CONTROL_GAUGES_H

#include <stdbool.h>

#include "metrics/metrics.h"

struct ss__gauges;

struct ss__gauges *ss__gauges_new(struct ss_metrics *m);
void ss__gauges_free(struct ss__gauges *g);
/* A pass: begin, then one call per replica set and replica, then end. */
void ss__gauges_begin(struct ss__gauges *g);
void ss__gauges_rs(struct ss__gauges *g, const char *ns, const char *dep, const char *rs,
                   int desired, int running, int ready, int inflight, int queued);
void ss__gauges_replica(struct ss__gauges *g, const char *ns, const char *dep, const char *rs,
                        const char *replica, double cpu_seconds, double rss_bytes, bool ready,
                        double start_time, double ready_time);
void ss__gauges_end(struct ss__gauges *g);

#endif
