/* replicas.h: the most replicas one replica set may have, and bringing a
 * computed count within bounds. Admission
 * (every replicas and maxReplicas field the model decodes) and the runtime
 * (ss_runtime_set) share this one number, so that nothing the API stores is
 * refused when it runs. Header only, no dependencies: the runtime includes
 * it without depending on the rest of the model. */
#ifndef SS_MODEL_REPLICAS_H
#define SS_MODEL_REPLICAS_H

/* One machine supervises every replica as a process with its own port and
 * probes: past a thousand per set, it is a mistake, not a deployment. */
#define SS_MAX_REPLICAS 1000

#include <stdint.h>

/* A replica count a policy computed (v, rounded down; NaN is lo) brought
 * within [lo, hi]. */
static inline int32_t ss_replicas_clamp(double v, int32_t lo, int32_t hi) {
  if (!(v > lo))
    return lo;
  if (v > hi)
    return hi;
  return (int32_t)v;
}

#endif
