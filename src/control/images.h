/* images.h: what command runs a container image. seldonio/mock_classifier
 * and seldonio/mlserver (any tag: Core 2's multi-model server, which a
 * Server's replicas run) are built in; other images come from an image map file:
 *
 *   images:
 *     "myorg/iris:*": ["python3", "/srv/iris/serve.py"]
 *     "myorg/ranker:1.2": ["/opt/ranker/bin/serve", "--threads", "2"]
 *
 * A pattern may end in '*' to match any suffix (a tag). The replica's port is
 * in $PORT (and Seldon's PREDICTIVE_UNIT_HTTP_SERVICE_PORT). */
#ifndef SS_CONTROL_IMAGES_H
#define SS_CONTROL_IMAGES_H

#include <jansson.h>

#include "common/err.h"

#define SS_MLSERVER_IMAGE "seldonio/mlserver"

struct ss_image_map;

/* path may be NULL (built-ins only). self_exe: the servescale binary. */
enum ss_err ss_image_map_load(const char *path, const char *self_exe,
                              struct ss_image_map **out, struct ss_error *err);
void ss_image_map_free(struct ss_image_map *m);
/* The argv (a new JSON array of strings) that runs image, or NULL. */
json_t *ss_image_map_resolve(const struct ss_image_map *m, const char *image);

#endif
