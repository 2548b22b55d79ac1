/* apply.h: server-side apply as Kubernetes' structured-merge-diff does it,
 * on jansson values: an applied configuration merged into the live object,
 * the fields its manager applied before and no longer applies pruned,
 * ownership per manager in metadata.managedFields (FieldsV1), conflicts,
 * and the Update entries ordinary writes record. The engine is pure (no
 * store, no clock: the caller gives the time); the request-level helpers
 * at the end (options, the conflict Status) are the handlers' (handlers.c
 * does the reading and storing).
 *
 * servescale has no per-field OpenAPI schema, so which lists merge by key
 * (containers, env, ports, volumeMounts, volumes by their Kubernetes keys;
 * a SeldonDeployment's predictors by name; ownerReferences by uid;
 * conditions by type) and which lists are sets (finalizers) is one table in
 * apply.c; every other list is atomic (replaced whole), as lists without
 * x-kubernetes-list-type are in a CRD. */
#ifndef SS_API_APPLY_H
#define SS_API_APPLY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

#define SS_APPLY_MAX_MANAGER 128 /* Kubernetes' FieldManagerMaxLength */

/* One write, as the managed fields record it. All strings borrowed. */
struct ss_apply_op {
  const char *manager;     /* the field manager */
  const char *api_version; /* "group/version" the request used */
  const char *subresource; /* NULL or "" for the object itself, "scale" */
  const char *now;         /* RFC 3339 time of the write */
  bool force;              /* Apply: take the fields other managers own */
  bool reset_status;       /* status is its subresource's: never owned here */
  /* Apply: what admission adds to an object (defaults), run on the merged
   * object before it is compared with the live one, so that a default the
   * live object holds is no change (and no conflict). May be NULL. */
  void (*defaults)(json_t *obj, void *ctx);
  void *ctx;
};

/* Applies config (borrowed) to live (borrowed; NULL: the object does not
 * exist, config becomes it). On success *out is the new object (a new
 * reference) with metadata.managedFields updated. A config that changes a
 * field another manager owns, without op->force: SS_ECONFLICT and
 * *conflicts a new array of {"manager": "\"kubectl\" using v1" (as Kubernetes
 * prints a manager), "field": ".spec.replicas"}, sorted. A config that sets
 * metadata.managedFields: SS_EUSAGE; one with a keyed list item without its
 * key, or two items with one key: SS_EINVALID, err naming the field. */
enum ss_err ss_apply(const json_t *live, const json_t *config, const struct ss_apply_op *op,
                     json_t **out, json_t **conflicts, struct ss_error *err);

/* Records an ordinary write (create: live NULL; update; patch; scale) in
 * next's metadata.managedFields, changed in place (next borrowed): the
 * fields it changed become op->manager's (operation Update), taken from
 * other managers, and fields it removed leave every manager. As in
 * Kubernetes: managedFields the write itself carries are kept when not
 * empty ([] resets them); an existing object no apply or tracked write has
 * touched stays untracked. */
void ss_apply_record_update(const json_t *live, json_t *next, const struct ss_apply_op *op);

/* The manager of a write without fieldManager, as Kubernetes derives it:
 * the User-Agent (NULL: none) up to its first '/', printable characters,
 * at most SS_APPLY_MAX_MANAGER bytes; "unknown" when that is empty. */
void ss_apply_default_manager(const char *user_agent, char *buf, size_t size);

/* Why a fieldManager is refused (Kubernetes' ValidateFieldManager: "Too
 * long: ...", "Invalid value: ... invalid character"), or NULL when it is
 * fine. The message is in buf. */
const char *ss_apply_check_manager(const char *manager, char *buf, size_t size);

/* The 409 Status body for conflicts from ss_apply (borrowed): message
 * "Apply failed with 1 conflict: conflict with ...: .spec.replicas",
 * details.causes [{reason FieldManagerConflict, message, field}]. A new
 * reference. */
json_t *ss_apply_conflict_status(const json_t *conflicts);

#endif
