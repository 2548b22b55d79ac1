/* deployments.h: the apps/v1 Deployments of the SeldonDeployment controller.
 * For each componentSpec container the controller stores the Deployment a
 * cluster would run (src/k8s renders it: the same object `servescale render`
 * prints), owned by the SeldonDeployment (ownerReferences), with spec.replicas
 * what runs and the status kubectl reads and `kubectl rollout status` waits
 * on. Deleting the SeldonDeployment deletes its Deployments (garbage
 * collection by owner uid). Called from the reconciler's thread only; the
 * store does the locking. */
#ifndef SS_CONTROL_DEPLOYMENTS_H
#define SS_CONTROL_DEPLOYMENTS_H

#include <jansson.h>
#include <stdbool.h>

#include "model/resource.h"
#include "runtime/runtime.h"
#include "store/store.h"

#define SS_DEPLOYMENTS_KIND ((struct ss_kind_ref){"apps", "deployments"})

/* What one Deployment runs, as the reconciler knows it. */
struct ss_deploy_run {
  const char *name;          /* the Deployment's name (the replica set's display name) */
  int spec_replicas;         /* what it should run */
  const struct ss_rs_status *rs; /* the runtime's view; NULL: not running */
  /* the resourceVersion spec_replicas was read at, for a Deployment whose
   * count an autoscaler writes: a write made since wins (NULL or "": none) */
  const char *expect_rv;
};

struct ss_deployments;

/* The controller's memory of what it last wrote, so that a pass in which
 * nothing changed reads and writes nothing. Borrows st. */
struct ss_deployments *ss_deployments_new(struct ss_store *st);
void ss_deployments_free(struct ss_deployments *d);

/* Stores (creates or updates, only what changed) the Deployments of the
 * SeldonDeployment obj (res: it decoded, without errors), one per runs[]
 * entry, and marks them wanted for this pass. Returns the first store
 * error (the caller logs it); what could not be written is tried again on
 * the next pass. */
enum ss_err ss_deployments_sync(struct ss_deployments *d, const json_t *obj,
                                const struct ss_resource *res, const struct ss_deploy_run *runs,
                                size_t n, struct ss_error *err);

/* Marks a stored SeldonDeployment that this pass did not sync (it failed
 * to decode): its Deployments are kept as they are. */
void ss_deployments_keep_owner(struct ss_deployments *d, const char *uid);

/* Ends a pass: deletes every stored Deployment whose owner is no stored
 * SeldonDeployment (deleted), or whose owner was synced and no longer wants
 * it (its componentSpec gone). Returns how many were deleted. */
int ss_deployments_collect(struct ss_deployments *d);

/* What a pod of Deployment ns/name carries, as last written: the
 * Deployment's uid (its pods' ownerReference) and its pod-template-hash
 * label. false until it was written. */
bool ss_deployments_identity(struct ss_deployments *d, const char *ns, const char *name,
                             char uid[64], char hash[16]);

/* Kubernetes' pod-template-hash of a Deployment's spec.template: the label
 * its pods carry. */
void ss_deployment_template_hash(const json_t *tmpl, char out[16]);

/* The Deployment status for a run (pure; exposed for tests): replicas,
 * updatedReplicas, readyReplicas, availableReplicas, unavailableReplicas,
 * observedGeneration and the Available and Progressing conditions, their
 * lastTransitionTime kept from old (may be NULL) while unchanged. */
json_t *ss_deployment_status(const struct ss_deploy_run *run, int64_t generation,
                             const json_t *old, const char *now);

#endif
