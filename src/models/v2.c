/* v2.c: Open Inference (V2) protocol tensors as JSON: requests read and
 * checked with field paths in every error, outputs and responses written as
 * MLServer writes them, Seldon v1 messages read as one tensor. Pure; what
 * the tensors mean is the runtimes' (model_server.c, sklearn_runtime.py). */
#include "models/v2.h"

#include "common/jsonkind.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Nested data deeper than this is refused before it costs stack: no tensor
 * has more dimensions than SS_V2_DIMS_MAX, so twice that is generous. */
#define NEST_MAX (2 * SS_V2_DIMS_MAX)
#define PATH_MAX_LEN 192 /* a field path in an error */
#define ECHO_MAX 40      /* the longest piece of a client's value we quote */
#define FP16_MAX 65504.0 /* IEEE 754 half precision's largest finite value */

static const char *const dtype_names[] = {
#define SS__V2_DT_NAME(n) #n,
    SS_V2_DTYPE_LIST(SS__V2_DT_NAME)
#undef SS__V2_DT_NAME
};

const char *ss_v2_dtype_name(enum ss_v2_dtype t) {
  return (unsigned)t < SS_V2__DTYPE_COUNT ? dtype_names[t] : "?";
}

bool ss_v2_dtype_parse(const char *name, enum ss_v2_dtype *out) {
  for (int i = 0; name && i < SS_V2__DTYPE_COUNT; i++)
    if (strcmp(dtype_names[i], name) == 0) {
      *out = (enum ss_v2_dtype)i;
      return true;
    }
  return false;
}

bool ss_v2_dtype_numeric(enum ss_v2_dtype t) { return t != SS_V2_BOOL && t != SS_V2_BYTES; }

static bool is_float(enum ss_v2_dtype t) {
  return t == SS_V2_FP16 || t == SS_V2_FP32 || t == SS_V2_FP64;
}

/* The bounds of an integer datatype. UINT64 past INT64_MAX cannot be
 * represented by the JSON reader, which refuses the number outright. */
static void int_bounds(enum ss_v2_dtype t, long long *lo, long long *hi) {
  switch (t) {
  case SS_V2_INT8: *lo = INT8_MIN, *hi = INT8_MAX; break;
  case SS_V2_INT16: *lo = INT16_MIN, *hi = INT16_MAX; break;
  case SS_V2_INT32: *lo = INT32_MIN, *hi = INT32_MAX; break;
  case SS_V2_UINT8: *lo = 0, *hi = UINT8_MAX; break;
  case SS_V2_UINT16: *lo = 0, *hi = UINT16_MAX; break;
  case SS_V2_UINT32: *lo = 0, *hi = UINT32_MAX; break;
  case SS_V2_UINT64: *lo = 0, *hi = INT64_MAX; break;
  default: *lo = INT64_MIN, *hi = INT64_MAX; break;
  }
}

/* "got 1.5", "got a string": the value itself when it is a short number. */
static void describe(const json_t *v, char *buf, size_t size) {
  if (json_is_integer(v))
    snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
  else if (json_is_real(v)) {
    /* the shortest of 15 or 17 digits that reads back as the same double */
    snprintf(buf, size, "%.15g", json_real_value(v));
    if (strtod(buf, NULL) != json_real_value(v))
      snprintf(buf, size, "%.17g", json_real_value(v));
  }
  else
    snprintf(buf, size, "%s", ss_json_kind(v));
}

static void shape_text(const int64_t *shape, size_t ndim, char *buf, size_t size) {
  size_t used = 0;
  int n = snprintf(buf, size, "[");
  used = n > 0 ? (size_t)n : 0;
  for (size_t i = 0; i < ndim && used < size; i++) {
    n = snprintf(buf + used, size - used, "%s%" PRId64, i ? "," : "", shape[i]);
    used += n > 0 ? (size_t)n : 0;
  }
  if (used < size)
    snprintf(buf + used, size - used, "]");
}

void ss_v2_tensor_free(struct ss_v2_tensor *t) {
  if (!t)
    return;
  free(t->name);
  json_decref(t->data);
  json_decref(t->parameters);
  memset(t, 0, sizeof *t);
}

/* ---- data: counted, then checked and flattened ---- */

/* Counts the leaves of v, stopping past limit; false when nested deeper
 * than NEST_MAX. */
static bool count_leaves(const json_t *v, int depth, size_t limit, size_t *count) {
  if (!json_is_array(v)) {
    (*count)++;
    return true;
  }
  if (depth >= NEST_MAX)
    return false;
  size_t i;
  const json_t *e;
  json_array_foreach(v, i, e) {
    if (*count > limit)
      return true;
    if (!count_leaves(e, depth + 1, limit, count))
      return false;
  }
  return true;
}

static enum ss_err check_value(const json_t *e, enum ss_v2_dtype t, const char *path,
                               struct ss_error *err) {
  char got[ECHO_MAX + 8];
  describe(e, got, sizeof got);
  if (t == SS_V2_BYTES) {
    if (!json_is_string(e))
      return ss_error_set(err, SS_EINVALID, 0, 0, "%s: expected a string for BYTES, got %s",
                          path, got);
    return SS_EOK;
  }
  if (t == SS_V2_BOOL) {
    if (!json_is_boolean(e))
      return ss_error_set(err, SS_EINVALID, 0, 0, "%s: expected true or false for BOOL, got %s",
                          path, got);
    return SS_EOK;
  }
  if (is_float(t)) {
    if (!json_is_number(e))
      return ss_error_set(err, SS_EINVALID, 0, 0, "%s: expected a number for %s, got %s", path,
                          ss_v2_dtype_name(t), got);
    double x = json_number_value(e);
    double max = t == SS_V2_FP16 ? FP16_MAX : t == SS_V2_FP32 ? (double)FLT_MAX : DBL_MAX;
    if (!isfinite(x) || fabs(x) > max)
      return ss_error_set(err, SS_EINVALID, 0, 0, "%s: %s is out of range for %s", path, got,
                          ss_v2_dtype_name(t));
    return SS_EOK;
  }
  long long lo, hi;
  int_bounds(t, &lo, &hi);
  if (!json_is_integer(e))
    return ss_error_set(err, SS_EINVALID, 0, 0, "%s: expected an integer for %s, got %s", path,
                        ss_v2_dtype_name(t), got);
  long long x = (long long)json_integer_value(e);
  if (x < lo || x > hi)
    return ss_error_set(err, SS_EINVALID, 0, 0, "%s: %lld is out of range for %s [%lld, %lld]",
                        path, x, ss_v2_dtype_name(t), lo, hi);
  return SS_EOK;
}

/* Appends the leaves of v to flat, each checked; path is v's field path
 * (a buffer of PATH_MAX_LEN, extended and restored). */
static enum ss_err flatten(const json_t *v, enum ss_v2_dtype t, char *path, json_t *flat,
                           struct ss_error *err) {
  if (!json_is_array(v)) {
    enum ss_err rc = check_value(v, t, path, err);
    if (rc)
      return rc;
    if (json_array_append(flat, (json_t *)v) != 0)
      return ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
    return SS_EOK;
  }
  size_t len = strlen(path), i;
  const json_t *e;
  json_array_foreach(v, i, e) {
    snprintf(path + len, PATH_MAX_LEN - len, "[%zu]", i);
    enum ss_err rc = flatten(e, t, path, flat, err);
    path[len] = '\0';
    if (rc)
      return rc;
  }
  return SS_EOK;
}

static enum ss_err read_shape(const json_t *shape, const char *path, struct ss_v2_tensor *t,
                              struct ss_error *err) {
  if (!shape)
    return ss_error_set(err, SS_EINVALID, 0, 0, "%s.shape: required, an array of integers",
                        path);
  if (!json_is_array(shape))
    return ss_error_set(err, SS_EINVALID, 0, 0, "%s.shape: must be an array of integers, not %s",
                        path, ss_json_kind(shape));
  size_t nd = json_array_size(shape);
  if (nd > SS_V2_DIMS_MAX)
    return ss_error_set(err, SS_ELIMIT, 0, 0, "%s.shape: has %zu dimensions, at most %d", path,
                        nd, SS_V2_DIMS_MAX);
  int64_t n = 1;
  for (size_t i = 0; i < nd; i++) {
    const json_t *d = json_array_get(shape, i);
    char got[ECHO_MAX + 8];
    describe(d, got, sizeof got);
    if (!json_is_integer(d) || json_integer_value(d) < 0)
      return ss_error_set(err, SS_EINVALID, 0, 0,
                          "%s.shape[%zu]: must be a non-negative integer, got %s", path, i, got);
    int64_t v = (int64_t)json_integer_value(d);
    if (v > SS_V2_ELEMENTS_MAX || (n && v > SS_V2_ELEMENTS_MAX / n))
      return ss_error_set(err, SS_ELIMIT, 0, 0,
                          "%s.shape: has more than %" PRId64 " elements (the limit)", path,
                          SS_V2_ELEMENTS_MAX);
    t->shape[i] = v;
    n *= v;
  }
  t->ndim = nd;
  t->n = (size_t)n;
  return SS_EOK;
}

enum ss_err ss_v2_tensor_parse(const json_t *v, const char *path, struct ss_v2_tensor *out,
                               struct ss_error *err) {
  enum ss_err rc = SS_EOK;
  struct ss_v2_tensor t = {0};
  char p[PATH_MAX_LEN];
  memset(out, 0, sizeof *out);

  if (!json_is_object(v)) {
    rc = ss_error_set(err, SS_EINVALID, 0, 0, "%s: must be an object {name, shape, datatype, "
                      "data}, not %s", path, ss_json_kind(v));
    goto out;
  }
  const json_t *name = json_object_get(v, "name");
  if (!json_is_string(name) || json_string_length(name) == 0) {
    rc = ss_error_set(err, SS_EINVALID, 0, 0, "%s.name: required, a non-empty string", path);
    goto out;
  }
  if (json_string_length(name) > SS_V2_NAME_MAX) {
    rc = ss_error_set(err, SS_ELIMIT, 0, 0, "%s.name: is longer than %d bytes", path,
                      SS_V2_NAME_MAX);
    goto out;
  }
  const json_t *dt = json_object_get(v, "datatype");
  if (!json_is_string(dt)) {
    rc = ss_error_set(err, SS_EINVALID, 0, 0,
                      "%s.datatype: required, one of BOOL, UINT8, UINT16, UINT32, UINT64, INT8, "
                      "INT16, INT32, INT64, FP16, FP32, FP64, BYTES", path);
    goto out;
  }
  if (!ss_v2_dtype_parse(json_string_value(dt), &t.dtype)) {
    rc = ss_error_set(err, SS_EINVALID, 0, 0,
                      "%s.datatype: unknown datatype \"%.*s\" (one of BOOL, UINT8, UINT16, "
                      "UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, FP32, FP64, BYTES)",
                      path, ECHO_MAX, json_string_value(dt));
    goto out;
  }
  if ((rc = read_shape(json_object_get(v, "shape"), path, &t, err)))
    goto out;
  const json_t *params = json_object_get(v, "parameters");
  if (params && !json_is_object(params) && !json_is_null(params)) {
    rc = ss_error_set(err, SS_EINVALID, 0, 0, "%s.parameters: must be an object, not %s", path,
                      ss_json_kind(params));
    goto out;
  }
  const json_t *data = json_object_get(v, "data");
  if (!data) {
    rc = ss_error_set(err, SS_EINVALID, 0, 0, "%s.data: required", path);
    goto out;
  }
  char shp[PATH_MAX_LEN];
  shape_text(t.shape, t.ndim, shp, sizeof shp);
  size_t count = 0;
  if (!count_leaves(data, 0, (size_t)SS_V2_ELEMENTS_MAX, &count)) {
    rc = ss_error_set(err, SS_ELIMIT, 0, 0, "%s.data: is nested deeper than %d arrays", path,
                      NEST_MAX);
    goto out;
  }
  if (count != t.n) {
    rc = ss_error_set(err, SS_EINVALID, 0, 0, "%s.data: expected %zu values for shape %s, got %s%zu",
                      path, t.n, shp, count > (size_t)SS_V2_ELEMENTS_MAX ? "more than " : "",
                      count > (size_t)SS_V2_ELEMENTS_MAX ? (size_t)SS_V2_ELEMENTS_MAX : count);
    goto out;
  }
  if (!(t.data = json_array()) || !(t.name = strdup(json_string_value(name)))) {
    rc = ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
    goto out;
  }
  snprintf(p, sizeof p, "%s.data", path);
  if ((rc = flatten(data, t.dtype, p, t.data, err)))
    goto out;
  if (json_is_object(params))
    t.parameters = json_incref((json_t *)params);
  *out = t;
  memset(&t, 0, sizeof t);
out:
  ss_v2_tensor_free(&t);
  return rc;
}

/* ---- requests ---- */

void ss_v2_request_free(struct ss_v2_request *r) {
  if (!r)
    return;
  free(r->id);
  json_decref(r->parameters);
  for (size_t i = 0; i < r->n_inputs; i++)
    ss_v2_tensor_free(&r->inputs[i]);
  free(r->inputs);
  for (size_t i = 0; i < r->n_outputs; i++)
    free(r->outputs[i]);
  free(r->outputs);
  memset(r, 0, sizeof *r);
}

static enum ss_err read_outputs(const json_t *outs, struct ss_v2_request *r,
                                struct ss_error *err) {
  if (!outs || json_is_null(outs))
    return SS_EOK;
  if (!json_is_array(outs))
    return ss_error_set(err, SS_EINVALID, 0, 0,
                        "outputs: must be an array of {name}, not %s", ss_json_kind(outs));
  size_t n = json_array_size(outs);
  if (n > SS_V2_TENSORS_MAX)
    return ss_error_set(err, SS_ELIMIT, 0, 0, "outputs: has %zu entries, at most %d", n,
                        SS_V2_TENSORS_MAX);
  if (n && !(r->outputs = calloc(n, sizeof *r->outputs)))
    return ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
  for (size_t i = 0; i < n; i++) {
    const json_t *o = json_array_get(outs, i);
    const json_t *name = json_object_get(o, "name");
    if (!json_is_object(o))
      return ss_error_set(err, SS_EINVALID, 0, 0, "outputs[%zu]: must be an object {name}, not %s",
                          i, ss_json_kind(o));
    if (!json_is_string(name) || json_string_length(name) == 0)
      return ss_error_set(err, SS_EINVALID, 0, 0, "outputs[%zu].name: required, a non-empty string",
                          i);
    if (json_string_length(name) > SS_V2_NAME_MAX)
      return ss_error_set(err, SS_ELIMIT, 0, 0, "outputs[%zu].name: is longer than %d bytes", i,
                          SS_V2_NAME_MAX);
    if (!(r->outputs[i] = strdup(json_string_value(name))))
      return ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
    r->n_outputs = i + 1;
  }
  return SS_EOK;
}

enum ss_err ss_v2_request_parse(const char *body, size_t len, struct ss_v2_request *out,
                                struct ss_error *err) {
  enum ss_err rc = SS_EOK;
  struct ss_v2_request r = {0};
  json_error_t jerr;
  memset(out, 0, sizeof *out);
  json_t *root = json_loadb(body ? body : "", len, JSON_DECODE_ANY, &jerr);
  if (!root) {
    rc = ss_error_set(err, SS_ESYNTAX, (unsigned)jerr.line, (unsigned)jerr.column,
                      "invalid JSON at line %d column %d: %s", jerr.line, jerr.column, jerr.text);
    goto out;
  }
  if (!json_is_object(root)) {
    rc = ss_error_set(err, SS_EINVALID, 0, 0,
                      "the request must be a JSON object {inputs: [...]}, not %s",
                      ss_json_kind(root));
    goto out;
  }
  const json_t *id = json_object_get(root, "id");
  if (id && !json_is_null(id)) {
    if (!json_is_string(id)) {
      rc = ss_error_set(err, SS_EINVALID, 0, 0, "id: must be a string, not %s", ss_json_kind(id));
      goto out;
    }
    if (!(r.id = strdup(json_string_value(id)))) {
      rc = ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
      goto out;
    }
  }
  const json_t *params = json_object_get(root, "parameters");
  if (params && !json_is_null(params)) {
    if (!json_is_object(params)) {
      rc = ss_error_set(err, SS_EINVALID, 0, 0, "parameters: must be an object, not %s",
                        ss_json_kind(params));
      goto out;
    }
    r.parameters = json_incref((json_t *)params);
  }
  const json_t *inputs = json_object_get(root, "inputs");
  if (!json_is_array(inputs) || json_array_size(inputs) == 0) {
    rc = ss_error_set(err, SS_EINVALID, 0, 0, "inputs: required, a non-empty array of tensors");
    goto out;
  }
  size_t n = json_array_size(inputs);
  if (n > SS_V2_TENSORS_MAX) {
    rc = ss_error_set(err, SS_ELIMIT, 0, 0, "inputs: has %zu tensors, at most %d", n,
                      SS_V2_TENSORS_MAX);
    goto out;
  }
  if (!(r.inputs = calloc(n, sizeof *r.inputs))) {
    rc = ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < n; i++) {
    char path[32];
    snprintf(path, sizeof path, "inputs[%zu]", i);
    if ((rc = ss_v2_tensor_parse(json_array_get(inputs, i), path, &r.inputs[i], err)))
      goto out;
    r.n_inputs = i + 1;
  }
  if ((rc = read_outputs(json_object_get(root, "outputs"), &r, err)))
    goto out;
  *out = r;
  memset(&r, 0, sizeof r);
out:
  ss_v2_request_free(&r);
  json_decref(root);
  return rc;
}

double ss_v2_tensor_double(const struct ss_v2_tensor *t, size_t i) {
  const json_t *v = json_array_get(t->data, i);
  if (json_is_boolean(v))
    return json_is_true(v) ? 1.0 : 0.0;
  return json_is_number(v) ? json_number_value(v) : 0.0;
}

void ss_v2_tensor_rows(const struct ss_v2_tensor *t, size_t *rows, size_t *cols) {
  if (t->ndim == 0) {
    *rows = 1;
    *cols = t->n;
    return;
  }
  *rows = (size_t)t->shape[0];
  *cols = *rows ? t->n / *rows : 0;
  if (t->ndim == 1)
    *cols = 1;
}

/* ---- writing ---- */

json_t *ss_v2_output_json(const char *name, enum ss_v2_dtype dtype, const int64_t *shape,
                          size_t ndim, json_t *data) {
  json_t *sh = json_array();
  for (size_t i = 0; sh && i < ndim; i++)
    if (json_array_append_new(sh, json_integer((json_int_t)shape[i])) != 0) {
      json_decref(sh);
      sh = NULL;
    }
  if (!sh || !data) {
    json_decref(sh);
    json_decref(data);
    return NULL;
  }
  /* "o" steals sh and data, also when packing fails */
  return json_pack("{s:s,s:o,s:s,s:{s:s},s:o}", "name", name, "shape", sh, "datatype",
                   ss_v2_dtype_name(dtype), "parameters", "content_type", "np", "data", data);
}

json_t *ss_v2_response_json(const char *model_name, const char *id, json_t *outputs) {
  if (!outputs)
    return NULL;
  return json_pack("{s:s,s:s,s:{},s:o}", "model_name", model_name, "id", id ? id : "",
                   "parameters", "outputs", outputs);
}

/* ---- Seldon v1 messages ---- */

/* Checks a Seldon value: number or string, all of one kind. */
static enum ss_err seldon_value(const json_t *v, const char *path, int *kind,
                                struct ss_error *err) {
  int k = json_is_number(v) ? 1 : json_is_string(v) ? 2 : 0;
  if (!k)
    return ss_error_set(err, SS_EINVALID, 0, 0, "%s: must be a number or a string, not %s", path,
                        ss_json_kind(v));
  if (*kind && k != *kind)
    return ss_error_set(err, SS_EINVALID, 0, 0,
                        "%s: is %s but the values before it are %s; give all numbers or all "
                        "strings",
                        path, ss_json_kind(v), *kind == 1 ? "numbers" : "strings");
  *kind = k;
  return SS_EOK;
}

enum ss_err ss_v2_from_seldon(const json_t *msg, struct ss_v2_tensor *out, bool *tensor_form,
                              struct ss_error *err) {
  enum ss_err rc = SS_EOK;
  struct ss_v2_tensor t = {0};
  char path[PATH_MAX_LEN];
  int kind = 0;
  memset(out, 0, sizeof *out);
  *tensor_form = false;

  if (!json_is_object(msg)) {
    rc = ss_error_set(err, SS_EINVALID, 0, 0, "the message must be a JSON object, not %s",
                      msg ? ss_json_kind(msg) : "nothing");
    goto out;
  }
  const json_t *data = json_object_get(msg, "data");
  if (!json_is_object(data)) {
    rc = ss_error_set(err, SS_EINVALID, 0, 0, "data: %s",
                      data ? "must be an object with ndarray or tensor"
                           : "missing; give data.ndarray or data.tensor");
    goto out;
  }
  const json_t *nd = json_object_get(data, "ndarray");
  const json_t *tensor = json_object_get(data, "tensor");
  if (nd && tensor) {
    rc = ss_error_set(err, SS_EINVALID, 0, 0, "data: has both ndarray and tensor; give one");
    goto out;
  }
  if (!(t.data = json_array()) || !(t.name = strdup("input"))) {
    rc = ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
    goto out;
  }
  t.ndim = 2;
  if (nd) {
    if (!json_is_array(nd) || json_array_size(nd) == 0) {
      rc = ss_error_set(err, SS_EINVALID, 0, 0,
                        "data.ndarray: must be a non-empty array of rows such as [[1, 2, 3, 4]]");
      goto out;
    }
    size_t r = json_array_size(nd), c = 0, i, j;
    const json_t *row, *v;
    if (r > (size_t)SS_V2_ELEMENTS_MAX) {
      rc = ss_error_set(err, SS_ELIMIT, 0, 0, "data.ndarray: has more than %" PRId64 " rows",
                        SS_V2_ELEMENTS_MAX);
      goto out;
    }
    json_array_foreach(nd, i, row) {
      if (!json_is_array(row)) {
        rc = ss_error_set(err, SS_EINVALID, 0, 0,
                          "data.ndarray[%zu]: must be a row (an array), not %s; the input must "
                          "be 2-D such as [[1, 2, 3, 4]]",
                          i, ss_json_kind(row));
        goto out;
      }
      if (i == 0)
        c = json_array_size(row);
      if (json_array_size(row) == 0 || json_array_size(row) != c) {
        rc = ss_error_set(err, SS_EINVALID, 0, 0,
                          "data.ndarray[%zu]: has %zu values but data.ndarray[0] has %zu; rows "
                          "must be non-empty and of equal length",
                          i, json_array_size(row), c);
        goto out;
      }
      if (json_array_size(t.data) + c > (size_t)SS_V2_ELEMENTS_MAX) {
        rc = ss_error_set(err, SS_ELIMIT, 0, 0,
                          "data.ndarray: has more than %" PRId64 " values", SS_V2_ELEMENTS_MAX);
        goto out;
      }
      json_array_foreach(row, j, v) {
        snprintf(path, sizeof path, "data.ndarray[%zu][%zu]", i, j);
        if ((rc = seldon_value(v, path, &kind, err)))
          goto out;
        if (json_array_append(t.data, (json_t *)v) != 0) {
          rc = ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
          goto out;
        }
      }
    }
    t.shape[0] = (int64_t)r;
    t.shape[1] = (int64_t)c;
  } else if (tensor) {
    *tensor_form = true;
    if (!json_is_object(tensor)) {
      rc = ss_error_set(err, SS_EINVALID, 0, 0, "data.tensor: must be an object {shape, values}");
      goto out;
    }
    const json_t *shape = json_object_get(tensor, "shape");
    const json_t *values = json_object_get(tensor, "values");
    if (!json_is_array(shape) || json_array_size(shape) != 2) {
      rc = ss_error_set(err, SS_EINVALID, 0, 0,
                        "data.tensor.shape: must be [rows, columns] (the input must be 2-D)");
      goto out;
    }
    for (size_t k = 0; k < 2; k++) {
      const json_t *d = json_array_get(shape, k);
      if (!json_is_integer(d) || json_integer_value(d) < 1 ||
          json_integer_value(d) > SS_V2_ELEMENTS_MAX) {
        rc = ss_error_set(err, SS_EINVALID, 0, 0,
                          "data.tensor.shape[%zu]: must be a positive integer", k);
        goto out;
      }
      t.shape[k] = (int64_t)json_integer_value(d);
    }
    if (!json_is_array(values)) {
      rc = ss_error_set(err, SS_EINVALID, 0, 0, "data.tensor.values: must be an array");
      goto out;
    }
    size_t n = json_array_size(values), i;
    const json_t *v;
    if (t.shape[0] > SS_V2_ELEMENTS_MAX / t.shape[1] || (int64_t)n != t.shape[0] * t.shape[1]) {
      rc = ss_error_set(err, SS_EINVALID, 0, 0,
                        "data.tensor.values: has %zu values but shape [%" PRId64 ", %" PRId64
                        "] needs their product",
                        n, t.shape[0], t.shape[1]);
      goto out;
    }
    json_array_foreach(values, i, v) {
      snprintf(path, sizeof path, "data.tensor.values[%zu]", i);
      if ((rc = seldon_value(v, path, &kind, err)))
        goto out;
      if (json_array_append(t.data, (json_t *)v) != 0) {
        rc = ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
        goto out;
      }
    }
  } else {
    rc = ss_error_set(err, SS_EINVALID, 0, 0, "data: give data.ndarray or data.tensor");
    goto out;
  }
  t.n = (size_t)(t.shape[0] * t.shape[1]);
  t.dtype = kind == 2 ? SS_V2_BYTES : SS_V2_FP64;
  *out = t;
  memset(&t, 0, sizeof t);
out:
  ss_v2_tensor_free(&t);
  return rc;
}
