/* scalers.h: the SeldonDeployment controller's HorizontalPodAutoscalers
 * and ScaledObjects, and the index of what every stored autoscaler aims at.
 *
 * For a componentSpec with an hpaSpec (or a predictor hpaSpecs entry) or a
 * kedaSpec the controller stores the autoscaling/v2 HorizontalPodAutoscaler
 * or keda.sh/v1alpha1 ScaledObject src/k8s renders (the object `servescale
 * render` prints), owned by the SeldonDeployment, aimed at the componentSpec's
 * Deployment, as Seldon's operator creates them (a prometheus trigger without
 * serverAddress keeps none: the embedded metrics answer it; render fills in
 * a cluster's Prometheus). It writes their metadata and
 * spec, never their status (the HPA and KEDA controllers', src/autoscale);
 * an edit someone else makes is put back at the next pass, as the operator
 * would; a removed spec deletes the object; deleting the SeldonDeployment
 * deletes them (garbage collection by owner uid).
 *
 * The index answers "does any stored HPA or ScaledObject aim at this
 * object?", the `autoscaled` input of ownership.h, for the controller's and
 * the users' autoscalers alike. It follows the store through watches.
 *
 * Called from the reconciler's thread only; the store does the locking. */
#ifndef SS_CONTROL_SCALERS_H
#define SS_CONTROL_SCALERS_H

#include <jansson.h>
#include <stdbool.h>

#include "common/err.h"
#include "model/resource.h"
#include "store/store.h"

#define SS_HPA_KIND ((struct ss_kind_ref){"autoscaling", "horizontalpodautoscalers"})
#define SS_SCALEDOBJECT_KIND ((struct ss_kind_ref){"keda.sh", "scaledobjects"})

/* Annotations of a SeldonDeployment its autoscalers carry too: the sync
 * period override, and KEDA's pause annotations, which KEDA reads from the
 * ScaledObject. */
extern const char *const ss_scalers_inherited_annotations[];

struct ss_scalers;

/* Borrows st. NULL on out of memory. */
struct ss_scalers *ss_scalers_new(struct ss_store *st);
void ss_scalers_free(struct ss_scalers *sc); /* accepts NULL */

/* Starts a pass: brings the index up to date with the store. */
void ss_scalers_begin(struct ss_scalers *sc);

/* Whether a stored HPA or ScaledObject in ns aims at kind/name (kind as in a
 * scaleTargetRef: "Deployment", "SeldonDeployment"). As of the last
 * ss_scalers_begin or write of this pass. */
bool ss_scalers_aim_at(const struct ss_scalers *sc, const char *ns, const char *kind,
                       const char *name);

/* Stores the autoscalers of the SeldonDeployment obj (res: decoded without
 * errors), only what changed, and marks them wanted for this pass. The
 * first store error is returned (the caller logs it; the rest is tried
 * again next pass). */
enum ss_err ss_scalers_sync(struct ss_scalers *sc, const json_t *obj,
                            const struct ss_resource *res, struct ss_error *err);

/* A stored SeldonDeployment this pass did not sync (it failed to decode):
 * its autoscalers are kept as they are. */
void ss_scalers_keep_owner(struct ss_scalers *sc, const char *uid);

/* Ends a pass: deletes the stored autoscalers whose controller is a
 * SeldonDeployment that is gone or no longer wants them. Returns how many. */
int ss_scalers_collect(struct ss_scalers *sc);

/* The autoscaler of a rendered object as the controller stores it: owned
 * by obj (the SeldonDeployment), with its inherited annotations. Pure;
 * exposed for tests. New reference, NULL on out of memory. */
json_t *ss_scalers_desired(const json_t *rendered, const json_t *obj);

#endif
