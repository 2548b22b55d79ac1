/* protobuf.h: request bodies in Kubernetes' protobuf encoding
 * (application/vnd.kubernetes.protobuf, what kubectl's typed clients send
 * for built-in kinds: `kubectl create namespace|deployment`, `kubectl
 * autoscale`) decoded into the JSON object the same client would have sent
 * as JSON, so that the handlers carry on as for any JSON body.
 *
 * The wire format: the 4-byte magic "k8s\0", then a runtime.Unknown
 * message {1 typeMeta {1 apiVersion, 2 kind}, 2 raw, 3 contentEncoding,
 * 4 contentType} whose raw bytes are the object's own message as in
 * k8s.io/api's generated.proto. The object is read through a schema table
 * per kind (field number -> JSON name, type, nested table): v1 Namespace,
 * apps/v1 Deployment (metadata, selector, replicas, strategy, the PodSpec's
 * usual fields), autoscaling/v2 and autoscaling/v1 HorizontalPodAutoscaler.
 * Fields a table does not name are skipped by their wire type. Zero values
 * are left out as Go's encoding/json leaves them out (omitempty), except
 * for fields that are pointers in Go or have no omitempty (replicas,
 * maxReplicas, containerPort, ...): those are kept when present on the wire.
 * Quantities and IntOrStrings become their JSON forms; a zero Time is left
 * out (Go writes null), another is RFC 3339 UTC.
 *
 * What is left to others: validation (the handlers' admit), the
 * autoscaling/v1 -> v2 conversion (src/api/convert.c), and every other
 * kind: those answer 415 with a message saying to send JSON. */
#ifndef SS_API_PROTOBUF_H
#define SS_API_PROTOBUF_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "model/doc.h"

#define SS_API_PB_MEDIA_TYPE "application/vnd.kubernetes.protobuf"
#define SS_API_PB_MAX_BYTES SS_DOC_MAX_BYTES   /* a body, as for JSON and YAML */
#define SS_API_PB_MAX_STRING SS_DOC_MAX_STRING /* one string */
#define SS_API_PB_MAX_VALUES SS_DOC_MAX_NODES  /* JSON values made from one body */
/* messages inside messages; the tables nest at most 10 deep, so only a
 * caller's lower limit (tests) is ever reached */
#define SS_API_PB_MAX_DEPTH 32

/* Limits of one decode; 0 in a member means its default above. */
struct ss_api_pb_limits {
  unsigned max_depth;
  size_t max_values;
};

/* Whether a Content-Type header (NULL when absent) names the protobuf
 * media type (parameters after ';' ignored, case-insensitive). */
bool ss_api_pb_is_protobuf(const char *content_type);

/* Decodes a whole body (magic included) of len bytes into *out, a new
 * JSON object with apiVersion and kind first, which the caller owns.
 * lim may be NULL (the defaults). On failure *out is NULL and err says
 * where (the object's field path and the byte offset) and why:
 * SS_ESYNTAX bad protobuf (no magic, a truncated varint or field, a
 * length past the end of its message, a wire type that does not fit the
 * field, a string that is not UTF-8 or holds a NUL, an impossible value);
 * SS_ELIMIT a limit above crossed; SS_EUNSUPPORTED a kind without a table
 * or an encoded raw (contentEncoding); SS_ENOMEM. Never reads past
 * body + len. */
enum ss_err ss_api_pb_decode(const void *body, size_t len, const struct ss_api_pb_limits *lim,
                             json_t **out, struct ss_error *err);

/* The handlers' entry: body decoded with the default limits, or NULL with
 * the answer set in resp (400 BadRequest, 413 RequestEntityTooLarge over
 * SS_API_PB_MAX_BYTES, 415 UnsupportedMediaType naming the kind and
 * saying to send JSON, 500 out of memory). Borrows body. */
struct ss_api_resp;
json_t *ss__api_pb_body(const char *body, size_t len, struct ss_api_resp *resp);

#endif
