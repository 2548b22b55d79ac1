/* core2.h: Seldon Core 2 resources (mlops.seldon.io/v1alpha1): a Model that
 * runs on a Server, each with replicas and min/max bounds that scale them
 * together. Strings point into the document. */
#ifndef SS_MODEL_CORE2_H
#define SS_MODEL_CORE2_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "model/quantity.h"

#define SS_CORE2_GROUP "mlops.seldon.io"
/* The label a Server's pods carry (Core 2's operator names them so). */
#define SS_CORE2_LABEL_SERVER "seldon-server-name"
/* A Model's /scale selector: a label no pod carries. A Model is no
 * workload of its own (its replicas are loaded into Server pods, shared
 * with other models), so an HPA on a Model must not read a Server's pods'
 * metrics as the Model's: it scales on Object metrics of the Model, as
 * Core 2 documents. */
#define SS_CORE2_LABEL_MODEL "seldon-model-name"
#define SS_CORE2_DEFAULT_REPLICAS 1 /* Core 2: a Model or Server without replicas runs 1 */

struct ss_model {
  const char *name, *namespace_;
  const char *storage_uri;
  const char *server;           /* the Server to run on; NULL: any that fits */
  const json_t *requirements;   /* array of strings, borrowed */
  bool has_memory;
  struct ss_quantity memory;
  int32_t replicas;             /* defaulted */
  int32_t min_replicas;         /* -1 when unset */
  int32_t max_replicas;         /* -1 when unset */
};

struct ss_server {
  const char *name, *namespace_;
  const char *server_config;    /* mlserver, triton, ... */
  int32_t replicas;             /* defaulted */
  int32_t min_replicas, max_replicas; /* -1 when unset */
  const json_t *pod_spec;       /* borrowed, may be NULL */
};

struct ss__dec;
void ss__model_decode(struct ss__dec *d, json_t *root, struct ss_model *out);
void ss__server_decode(struct ss__dec *d, json_t *root, struct ss_server *out);

#endif
