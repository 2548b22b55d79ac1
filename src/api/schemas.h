/* schemas.h: the OpenAPI schemas of the served kinds, with descriptions, as
 * kubectl explain reads them from /openapi/v3 (and /openapi/v2): Seldon's
 * CRDs (SeldonDeployment, Model, Server), KEDA's ScaledObject, the
 * Prometheus operator's monitors, and the Kubernetes kinds and types they
 * use (a subset of PodSpec, Container and ObjectMeta). discovery.c serves
 * them; this file only describes. */
#ifndef SS_API_SCHEMAS_H
#define SS_API_SCHEMAS_H

#include <jansson.h>
#include <stddef.h>

#include "api/kinds.h"

/* The name the Kubernetes API server gives kind k's schema at version:
 * io.k8s.api.<group>.<version>.<Kind> for built-in groups, the reversed
 * group for others (io.seldon.machinelearning.v1.SeldonDeployment). */
void ss_api_schema_name(const struct ss_api_kind *k, const char *version, char *buf,
                        size_t size);

/* The OpenAPI v3 components.schemas of a group version's document: each
 * kind served there (with x-kubernetes-group-version-kind) and every
 * schema they reference, refs as "#/components/schemas/NAME". A new
 * object the caller owns; empty when nothing is served there; NULL when
 * out of memory. Safe from any thread. */
json_t *ss_api_schemas_for(const char *group, const char *version);

/* Every schema, as Swagger 2.0 definitions (refs "#/definitions/NAME"). A
 * new object the caller owns; NULL when out of memory. */
json_t *ss_api_schemas_v2(void);

#endif
