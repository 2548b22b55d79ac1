/* resource.h: the entry point of the model. Turns a stream of JSON or YAML
 * into typed, defaulted and validated resources, each with its diagnostics
 * placed at their source lines. Pure: no storage, no network. */
#ifndef SS_MODEL_RESOURCE_H
#define SS_MODEL_RESOURCE_H

#include <jansson.h>
#include <stddef.h>

#include "common/arena.h"
#include "common/diag.h"
#include "common/err.h"
#include "model/autoscaling.h"
#include "model/core2.h"
#include "model/doc.h"
#include "model/sdep.h"

enum ss_kind {
  SS_KIND_OTHER,
  SS_KIND_SDEP,
  SS_KIND_MODEL,
  SS_KIND_SERVER,
  SS_KIND_HPA,         /* autoscaling/v2 HorizontalPodAutoscaler */
  SS_KIND_SCALEDOBJECT, /* keda.sh/v1alpha1 ScaledObject */
  SS_KIND_DEPLOYMENT    /* apps/v1 Deployment: checked, not typed */
};

struct ss_resource {
  enum ss_kind kind;
  const char *kind_name;  /* as written, "" when missing */
  json_t *obj;            /* the resource, defaults filled in; owned reference */
  const struct ss_doc *doc; /* where it was read from; borrowed from the set */
  char base[32];          /* "items[3]" inside a List, else "" */
  struct ss_arena *arena; /* owns the typed values */
  struct ss_diags diags;  /* positions resolved */
  union {
    struct ss_sdep sdep;
    struct ss_model model;
    struct ss_server server;
    struct ss_hpa_spec hpa;   /* with its scaleTargetRef */
    struct ss_keda_spec keda; /* with its scaleTargetRef */
  } u;
};

struct ss_resource_set {
  struct ss_resource *v;
  size_t n;
  struct ss_docs docs;
};

/* Parses buf and decodes every resource in it. A syntax error or a limit
 * fails the whole stream (err says where); validation problems do not:
 * they are in each resource's diags. default_ns (may be NULL) fills
 * metadata.namespace where it is missing. */
enum ss_err ss_resources_load(const char *buf, size_t len, const char *default_ns,
                              struct ss_resource_set *out, struct ss_error *err);
/* Decodes one already parsed object (the control API's path): takes a
 * reference to obj; doc may be NULL (no positions). */
enum ss_err ss_resource_decode(json_t *obj, const struct ss_doc *doc, const char *base,
                               const char *default_ns, struct ss_resource *out);
void ss_resource_free(struct ss_resource *r);
void ss_resources_free(struct ss_resource_set *set);

/* Name and namespace of a decoded resource (either may be NULL). */
const char *ss_resource_name(const struct ss_resource *r);
const char *ss_resource_namespace(const struct ss_resource *r);

#endif
