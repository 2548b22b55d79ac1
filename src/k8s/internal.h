/* internal.h: helpers shared by the files of src/k8s (not a public API). */
#ifndef SS_K8S_INTERNAL_H
#define SS_K8S_INTERNAL_H

#include <jansson.h>
#include <stddef.h>

#include "common/err.h"
#include "model/sdep.h"

/* {"name": name, "namespace": ns (left out when ns is NULL or ""), "labels":
 * labels} with labels stolen (may be NULL: no labels). New reference. */
json_t *ss__k8s_meta(const char *name, const char *ns, json_t *labels);

/* The labels every object servescale renders for a SeldonDeployment
 * carries: who manages it and which SeldonDeployment it belongs to (the
 * label Seldon's operator uses, so `kubectl get -l` works the same). */
json_t *ss__k8s_sdep_labels(const char *sdep);

#define SS_K8S_NAME_MAX 63 /* Service and label values are DNS labels */

/* full when it fits a DNS label, else "seldon-<md5 hex of full>", as
 * Seldon's operator shortens its names. */
void ss__k8s_dns_name(const char *full, char out[SS_K8S_NAME_MAX + 1]);

/* A deep copy of v, or an empty object when v is NULL. */
json_t *ss__k8s_copy_object(const json_t *v);

/* ---- workload.c ---- */
/* "<sdep>-<predictor>", shortened as Seldon's operator does. */
void ss__k8s_predictor_service_name(const char *sdep, const char *predictor,
                                    char out[SS_K8S_NAME_MAX + 1]);
/* Container ci of componentSpec c (cs_json as written) as a Deployment. */
json_t *ss__k8s_deployment(const struct ss_sdep *s, const struct ss_predictor *p,
                           const struct ss_component_spec *c, size_t ci, const json_t *cs_json,
                           const char *name, const char *ns);
json_t *ss__k8s_predictor_service(const struct ss_sdep *s, const struct ss_predictor *p,
                                  const char *ns);
/* Appends the gateway's Secret (holding sdeps, the SeldonDeployments it
 * serves), Deployment and Service for namespace ns to out. */
enum ss_err ss__k8s_gateway(const char *ns, const char *image, const json_t *sdeps, json_t *out);
json_t *ss__k8s_podmonitor(const char *ns);

/* ---- core2.c ---- */
struct ss_resource;
/* A Model or Server as the mlops.seldon.io object a Core 2 install reads. */
json_t *ss__k8s_core2(const struct ss_resource *r);

#endif
