/* owners.h: ownerReferences, as a controller writes them on what it
 * creates and as garbage collection and the controllers read them back.
 * Pure. */
#ifndef SS_MODEL_OWNERS_H
#define SS_MODEL_OWNERS_H

#include <jansson.h>

/* The ownerReference a controller puts on what it creates for obj:
 * apiVersion, kind, name, uid, controller and blockOwnerDeletion true. New
 * reference, NULL on out of memory. */
json_t *ss_controller_ref(const json_t *obj);

/* The uid of the controller among obj's ownerReferences (NULL: none); kind
 * (may be NULL) gets its kind. Borrowed from obj. */
const char *ss_controller_uid(const json_t *obj, const char **kind);

#endif
