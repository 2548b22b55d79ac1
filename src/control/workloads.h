/* workloads.h: the Deployment controller for the Deployments no
 * SeldonDeployment controls (a user's `kubectl create deployment`, an
 * applied manifest). Each runs spec.replicas replicas of its pod
 * template's container (the image map says what command an image is), its
 * pods carry the template's labels, and its status is written as for any
 * Deployment. Deleting it stops its replicas (they are wanted no more).
 * servescale runs one container per pod: a template with more is refused
 * in the status (Progressing False), its other containers named.
 *
 * The stored Deployments are followed through a store watch; a template is
 * built again only when the Deployment's generation changes. Called from
 * the reconciler's thread only. */
#ifndef SS_CONTROL_WORKLOADS_H
#define SS_CONTROL_WORKLOADS_H

#include <jansson.h>
#include <stdbool.h>

#include "control/images.h"
#include "runtime/runtime.h"
#include "store/store.h"

/* One Deployment, as the reconciler runs it. Valid until the next
 * ss_workloads_each. */
struct ss_workload {
  char rs[SS_RS_NAME_LEN];       /* the runtime's key: "<namespace>.<name>" */
  const char *ns, *name;
  const json_t *obj;             /* the stored Deployment */
  const json_t *pod_labels;      /* spec.template.metadata.labels; may be NULL */
  const char *container, *image; /* its (first) container's */
  int replicas;                  /* spec.replicas (1 when unset, Kubernetes' default) */
  const struct ss_rs_template *t; /* NULL: it cannot run; message says why */
  const char *message;
  char uid[64], hash[16];        /* what its pods carry */
};

struct ss_workloads;

struct ss_workloads *ss_workloads_new(struct ss_store *st, const struct ss_image_map *images);
void ss_workloads_free(struct ss_workloads *w); /* accepts NULL */

/* Brings the set up to date with the store and calls fn for each
 * Deployment no SeldonDeployment controls. */
void ss_workloads_each(struct ss_workloads *w,
                       void (*fn)(void *ctx, const struct ss_workload *wl), void *ctx);

/* Writes wl's status from what runs (rs: NULL when not running), only
 * when it changed. */
void ss_workloads_status(struct ss_workloads *w, const struct ss_workload *wl,
                         const struct ss_rs_status *rs);

#endif
