/* ownership.c: who writes a Deployment's spec.replicas (ownership.h). */
#include "control/ownership.h"

int32_t ss_replicas_for_deployment(const struct ss_replicas_in *in) {
  if (!in->autoscaled)
    return in->sdep_count;
  /* the autoscaler's: Seldon's operator leaves spec.replicas out of the
   * Deployments it creates for an hpaSpec or kedaSpec, and keeps the live
   * count on every update (it ignores replica differences) */
  return in->stored >= 0 ? in->stored : SS_DEPLOYMENT_DEFAULT_REPLICAS;
}
