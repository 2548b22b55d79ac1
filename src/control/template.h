/* template.h: what the runtime runs for a container of a pod template (a
 * SeldonDeployment's componentSpec, or a Deployment's): the command its
 * image maps to (images.h) and its args, the environment, the probes
 * (Seldon's /health/ping when none is written), the grace period and the
 * requests. Shared by the SeldonDeployment and Deployment controllers, so
 * that a container runs the same whoever owns it. Pure but for allocation. */
#ifndef SS_CONTROL_TEMPLATE_H
#define SS_CONTROL_TEMPLATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "control/images.h"
#include "runtime/runtime.h"

/* The template of container (a core/v1 Container as JSON) into *t (zeroed
 * first; its vectors are then owned by t: free with ss__template_free).
 * env: "KEY=VALUE" strings that come before the container's own env
 * (borrowed; may be NULL). False with why when the image maps to no command
 * or memory ran out; t is then empty. */
bool ss__template_build(const struct ss_image_map *images, const json_t *container,
                        const json_t *env, int grace_seconds, struct ss_rs_template *t,
                        char *why, size_t why_size);
void ss__template_free(struct ss_rs_template *t);

/* A NULL-terminated copy of a JSON array of strings (non-strings read as
 * ""); NULL on out of memory. */
char **ss__str_vec(const json_t *arr);

#endif
