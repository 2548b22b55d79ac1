/* replicas.h: the most replicas one replica set may have. Admission
 * (every replicas and maxReplicas field the model decodes) and the runtime
 * (ss_runtime_set) share this one number, so that nothing the API stores is
 * refused when it runs. Header only, no dependencies: the runtime includes
 * it without depending on the rest of the model. */
#ifndef SS_MODEL_REPLICAS_H
#define SS_MODEL_REPLICAS_H

/* One machine supervises every replica as a process with its own port and
 * probes: past a thousand per set, it is a mistake, not a deployment. */
#define SS_MAX_REPLICAS 1000

#endif
