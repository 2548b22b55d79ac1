/* kinds.h: the kinds the control API serves, one table: names, versions,
 * scope, subresources, where the objects come from, and how to check them.
 * Discovery, OpenAPI, routing and handlers all read this table. */
#ifndef SS_API_KINDS_H
#define SS_API_KINDS_H

#include <stdbool.h>
#include <stddef.h>

#define SS_API_MAX_VERSIONS 3

enum ss_api_source {
  SS_SRC_STORE, /* objects in the store; read and write */
  SS_SRC_PODS   /* replicas as core/v1 Pods, from the runtime; read only */
};

struct ss_api_kind {
  const char *group;                           /* "" for core */
  const char *versions[SS_API_MAX_VERSIONS + 1]; /* first is preferred and stored */
  const char *plural, *singular, *kind, *list_kind;
  const char *short_names[3];
  bool namespaced;
  bool has_status, has_scale;
  bool writable;     /* create, update, patch, delete through the API */
  bool validated;    /* decoded and validated by src/model/ */
  bool in_all;       /* in the "all" category (`kubectl get all`), as on a cluster */
  enum ss_api_source source;
};

extern const struct ss_api_kind ss_api_kinds[];
extern const size_t ss_api_n_kinds;

/* The kind with this group and plural, or NULL. */
const struct ss_api_kind *ss_api_kind_find(const char *group, const char *plural);
/* Whether kind k is served at version v. */
bool ss_api_kind_has_version(const struct ss_api_kind *k, const char *v);

#endif
