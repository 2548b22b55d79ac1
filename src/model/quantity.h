/* quantity.h: Kubernetes resource quantities ("500m", "0.5", "1Gi", "1e3"),
 * held as an integer count of thousandths, rounded up as Kubernetes'
 * MilliValue() does. */
#ifndef SS_MODEL_QUANTITY_H
#define SS_MODEL_QUANTITY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct ss_quantity {
  int64_t milli; /* value x 1000 */
};

/* Parses s; on failure returns false and points *why at a static reason. */
bool ss_quantity_parse(const char *s, struct ss_quantity *q, const char **why);
/* Accepts a JSON string or number (YAML "cpu: 0.5" is a number). */
bool ss_quantity_from_json(const json_t *v, struct ss_quantity *q, const char **why);
/* A core/v1 Container's (JSON) resources.requests[res] ("cpu", "memory")
 * into *out; false when it sets none (or not a quantity). */
bool ss_container_request(const json_t *container, const char *res, struct ss_quantity *out);
/* Canonical text: "500m", "2", "1536Mi" style is not attempted; milli-units
 * are printed with an "m" suffix unless whole. buf of at least 32 bytes. */
void ss_quantity_format(struct ss_quantity q, char *buf, size_t size);

#endif
