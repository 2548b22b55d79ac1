/* v2.h: the Open Inference (V2) protocol's JSON tensors, pure: an inference
 * request read and checked (datatypes, shapes, data, with the field path of
 * whatever is wrong), a tensor and a response written, and a Seldon v1
 * message read as one tensor. No sockets, no models: model_server.c calls
 * these around its runtimes. */
#ifndef SS_MODELS_V2_H
#define SS_MODELS_V2_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* Limits on what one request may hold; each crossing is an SS_ELIMIT error
 * naming the field. */
#define SS_V2_DIMS_MAX 8                   /* dimensions of a tensor */
#define SS_V2_TENSORS_MAX 64               /* inputs (or outputs) of a request */
#define SS_V2_ELEMENTS_MAX ((int64_t)1 << 24) /* elements of one tensor */
#define SS_V2_NAME_MAX 255                 /* a tensor's or a model's name */

/* The protocol's datatypes, name first. */
#define SS_V2_DTYPE_LIST(X)                                                    \
  X(BOOL) X(UINT8) X(UINT16) X(UINT32) X(UINT64) X(INT8) X(INT16) X(INT32)     \
  X(INT64) X(FP16) X(FP32) X(FP64) X(BYTES)

enum ss_v2_dtype {
#define SS__V2_DT_ENUM(n) SS_V2_##n,
  SS_V2_DTYPE_LIST(SS__V2_DT_ENUM)
#undef SS__V2_DT_ENUM
  SS_V2__DTYPE_COUNT
};

/* "FP32" for SS_V2_FP32. */
const char *ss_v2_dtype_name(enum ss_v2_dtype t);
/* false for a name the protocol does not have (names are case-sensitive,
 * as in MLServer). */
bool ss_v2_dtype_parse(const char *name, enum ss_v2_dtype *out);
/* Numbers of any kind (not BYTES, not BOOL). */
bool ss_v2_dtype_numeric(enum ss_v2_dtype t);

/* One tensor of a request: its data flattened in row-major order and
 * checked against the datatype and the shape. */
struct ss_v2_tensor {
  char *name;             /* owned */
  enum ss_v2_dtype dtype;
  size_t ndim;
  int64_t shape[SS_V2_DIMS_MAX];
  size_t n;               /* the product of shape */
  json_t *data;           /* owned: a flat array of n values */
  json_t *parameters;     /* owned: an object, or NULL */
};

/* An inference request. */
struct ss_v2_request {
  char *id;                        /* owned; NULL when the request has none */
  json_t *parameters;              /* owned; NULL when none */
  size_t n_inputs;
  struct ss_v2_tensor *inputs;     /* owned, n_inputs */
  size_t n_outputs;
  char **outputs;                  /* owned: the output names asked for */
};

/* Reads and checks one tensor object (an input, or an output a runtime
 * answered), path being its field path ("inputs[0]") for errors. On success
 * *out holds what it owns; on failure it is left empty. */
enum ss_err ss_v2_tensor_parse(const json_t *v, const char *path, struct ss_v2_tensor *out,
                               struct ss_error *err);
void ss_v2_tensor_free(struct ss_v2_tensor *t);

/* Reads and checks an inference request from len bytes of body (not
 * NUL-terminated). Errors: SS_ESYNTAX (not JSON), SS_EINVALID (a field is
 * wrong; err says which, e.g. "inputs[0].data: expected 4 values for shape
 * [1,4], got 3"), SS_ELIMIT, SS_ENOMEM. On failure *out is empty. */
enum ss_err ss_v2_request_parse(const char *body, size_t len, struct ss_v2_request *out,
                                struct ss_error *err);
void ss_v2_request_free(struct ss_v2_request *r);

/* A tensor's value i as a double (numbers and BOOL); 0 for BYTES. */
double ss_v2_tensor_double(const struct ss_v2_tensor *t, size_t i);

/* The tensor's rows: shape[0] rows of the product of the other dimensions
 * (a 1-D tensor is one column). */
void ss_v2_tensor_rows(const struct ss_v2_tensor *t, size_t *rows, size_t *cols);

/* A V2 output tensor {"name", "shape", "datatype", "parameters":
 * {"content_type": "np"}, "data"}, as MLServer writes it. Steals data
 * (even on failure); NULL when out of memory. */
json_t *ss_v2_output_json(const char *name, enum ss_v2_dtype dtype, const int64_t *shape,
                          size_t ndim, json_t *data);

/* The answer {"model_name", "id", "parameters": {}, "outputs"}. Steals
 * outputs (even on failure); NULL when out of memory. */
json_t *ss_v2_response_json(const char *model_name, const char *id, json_t *outputs);

/* Reads a Seldon v1 message, {"data": {"ndarray": [[...], ...]}} or
 * {"data": {"tensor": {"shape": [r, c], "values": [...]}}}, as one 2-D
 * tensor named "input" (FP64 when all numbers, BYTES when all strings);
 * *tensor_form says which form it came in. Errors name the Seldon field
 * ("data.ndarray[1][2]: must be a number or a string, not an object"). */
enum ss_err ss_v2_from_seldon(const json_t *msg, struct ss_v2_tensor *out, bool *tensor_form,
                              struct ss_error *err);

#endif
