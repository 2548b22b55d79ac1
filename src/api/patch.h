/* patch.h: the two patch formats the Kubernetes API takes for custom
 * resources: JSON merge patch (RFC 7386) and JSON patch (RFC 6902). Pure
 * functions on jansson values. */
#ifndef SS_API_PATCH_H
#define SS_API_PATCH_H

#include <jansson.h>

#include "common/err.h"
#include "model/doc.h"

/* Returns a new value: target with patch merged in (target is not changed). */
json_t *ss_merge_patch(const json_t *target, const json_t *patch);

/* Applies the operations in patch (an array) to a copy of target; on
 * success *out is the new value. On failure err says which operation and
 * why (SS_EINVALID for a malformed patch, SS_ECONFLICT for a failed "test",
 * SS_ELIMIT when the value would pass a document's limits: nested deeper
 * than SS_DOC_MAX_DEPTH or more than SS_DOC_MAX_NODES values, which a few
 * "add" at ever deeper paths or "copy" of a growing value would reach). */
enum ss_err ss_json_patch(const json_t *target, const json_t *patch, json_t **out,
                          struct ss_error *err);

#endif
