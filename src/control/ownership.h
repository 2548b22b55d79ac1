/* ownership.h: who writes a Deployment's spec.replicas, the one number the
 * runtime obeys, decided in one place as Kubernetes and Seldon's operator
 * decide it:
 *   - no autoscaler aims at the Deployment: the SeldonDeployment controller
 *     writes the SeldonDeployment's count (componentSpec > predictor >
 *     spec.replicas > 1), so `kubectl scale sdep` (spec.replicas) moves
 *     every predictor that sets none of its own, as in Seldon;
 *   - an HPA or a ScaledObject aims at it (from hpaSpec/hpaSpecs/kedaSpec,
 *     or one a user applied): the SeldonDeployment controller leaves the
 *     count to the autoscaler, which writes it through /scale; a Deployment
 *     it creates starts at 1 (Kubernetes' default for an unset
 *     spec.replicas), and the autoscaler's first sync brings it into
 *     [min, max] ("Current number of replicas below Spec.MinReplicas");
 *   - a manual `kubectl scale deployment` of an autoscaled Deployment holds
 *     until the autoscaler's next sync, which works from it and brings it
 *     back into range, as on a cluster.
 * Pure; tests/unit/test_ownership.c has the table. */
#ifndef SS_CONTROL_OWNERSHIP_H
#define SS_CONTROL_OWNERSHIP_H

#include <stdbool.h>
#include <stdint.h>

/* Kubernetes' default for a Deployment created without spec.replicas. */
#define SS_DEPLOYMENT_DEFAULT_REPLICAS 1

struct ss_replicas_in {
  int32_t sdep_count;  /* ss_component_replicas(): componentSpec > predictor > spec > 1 */
  bool autoscaled;     /* an HPA or ScaledObject aims at the Deployment */
  int32_t stored;      /* the stored Deployment's spec.replicas; -1: none stored yet */
};

/* The spec.replicas the SeldonDeployment controller writes to the
 * Deployment. */
int32_t ss_replicas_for_deployment(const struct ss_replicas_in *in);

#endif
