/* mock_predict.c: the mock classifier's answer to one Seldon message, a pure
 * function of the message and the threshold. Reading the message off the
 * wire, the status envelope and HTTP codes are mock_classifier.c's. */
#include "models/models.h"

#include "common/jsonkind.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

/* Seldon's mock classifier names its only output column so. */
#define PROBA_NAME "proba"

/* Where the rows are: a list of row arrays (ndarray), or one flat values
 * array read c at a time (tensor). */
struct rows {
  bool tensor;
  const json_t *arr; /* ndarray: the outer array; tensor: values */
  size_t r, c;
};

static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

/* What v is, with integers and reals alike "a number" (as Seldon's mock
 * classifier says it). */
static const char *json_kind(const json_t *v) {
  return json_is_number(v) ? "a number" : ss_json_kind(v);
}

static bool number_of(const json_t *v, double *out) {
  if (json_is_integer(v)) {
    *out = (double)json_integer_value(v);
    return true;
  }
  if (json_is_real(v)) {
    *out = json_real_value(v);
    return true;
  }
  return false;
}

/* The value at row i, column j, with its field path for errors. */
static const json_t *cell(const struct rows *rw, size_t i, size_t j) {
  if (rw->tensor)
    return json_array_get(rw->arr, i * rw->c + j);
  return json_array_get(json_array_get(rw->arr, i), j);
}

static enum ss_err cell_error(const struct rows *rw, size_t i, size_t j, const json_t *v,
                              struct ss_error *err) {
  if (rw->tensor)
    return ss_error_set(err, SS_EINVALID, 0, 0,
                        "data.tensor.values[%zu]: must be a number, not %s", i * rw->c + j,
                        json_kind(v));
  if (json_is_array(v))
    return ss_error_set(err, SS_EINVALID, 0, 0,
                        "data.ndarray[%zu][%zu]: the input has more than 2 dimensions; the "
                        "mock classifier needs rows of numbers such as [[1, 2, 3, 4]]",
                        i, j);
  return ss_error_set(err, SS_EINVALID, 0, 0, "data.ndarray[%zu][%zu]: must be a number, not %s",
                      i, j, json_kind(v));
}

/* mean(row i) into *mean. The plain sum is exact for the small inputs tests
 * use; only when it overflows do we sum x/n, which cannot. */
static enum ss_err row_mean(const struct rows *rw, size_t i, double *mean,
                            struct ss_error *err) {
  double sum = 0.0, x;
  for (size_t j = 0; j < rw->c; j++) {
    const json_t *v = cell(rw, i, j);
    if (!number_of(v, &x))
      return cell_error(rw, i, j, v, err);
    sum += x;
  }
  if (isfinite(sum)) {
    *mean = sum / (double)rw->c;
    return SS_EOK;
  }
  sum = 0.0;
  for (size_t j = 0; j < rw->c; j++) {
    number_of(cell(rw, i, j), &x);
    sum += x / (double)rw->c;
  }
  *mean = sum;
  if (!isfinite(sum))
    return ss_error_set(err, SS_EINVALID, 0, 0, "row %zu: the mean is not a finite number", i);
  return SS_EOK;
}

static enum ss_err read_ndarray(const json_t *nd, struct rows *rw, struct ss_error *err) {
  if (!json_is_array(nd))
    return ss_error_set(err, SS_EINVALID, 0, 0, "data.ndarray: must be an array, not %s",
                        json_kind(nd));
  size_t r = json_array_size(nd);
  if (r == 0)
    return ss_error_set(err, SS_EINVALID, 0, 0,
                        "data.ndarray: is empty; the mock classifier needs at least one row");
  if (!json_is_array(json_array_get(nd, 0)))
    return ss_error_set(err, SS_EINVALID, 0, 0,
                        "data.ndarray: the input is 1-D; the mock classifier needs a 2-D "
                        "input, rows of numbers such as [[1, 2, 3, 4]]");
  size_t c = json_array_size(json_array_get(nd, 0));
  for (size_t i = 0; i < r; i++) {
    const json_t *row = json_array_get(nd, i);
    if (!json_is_array(row))
      return ss_error_set(err, SS_EINVALID, 0, 0,
                          "data.ndarray[%zu]: must be a row (an array) like data.ndarray[0], "
                          "not %s",
                          i, json_kind(row));
    if (json_array_size(row) == 0)
      return ss_error_set(err, SS_EINVALID, 0, 0, "data.ndarray[%zu]: is an empty row", i);
    if (json_array_size(row) != c)
      return ss_error_set(err, SS_EINVALID, 0, 0,
                          "data.ndarray[%zu]: has %zu values but data.ndarray[0] has %zu; "
                          "rows must be of equal length",
                          i, json_array_size(row), c);
  }
  *rw = (struct rows){.tensor = false, .arr = nd, .r = r, .c = c};
  return SS_EOK;
}

static enum ss_err read_tensor(const json_t *t, struct rows *rw, struct ss_error *err) {
  if (!json_is_object(t))
    return ss_error_set(err, SS_EINVALID, 0, 0, "data.tensor: must be an object, not %s",
                        json_kind(t));
  const json_t *shape = json_object_get(t, "shape");
  const json_t *values = json_object_get(t, "values");
  if (!json_is_array(shape))
    return ss_error_set(err, SS_EINVALID, 0, 0, "data.tensor.shape: must be an array");
  if (!json_is_array(values))
    return ss_error_set(err, SS_EINVALID, 0, 0, "data.tensor.values: must be an array");
  if (json_array_size(shape) != 2)
    return ss_error_set(err, SS_EINVALID, 0, 0,
                        "data.tensor.shape: has %zu dimensions; the mock classifier needs a "
                        "2-D input [rows, columns]",
                        json_array_size(shape));
  json_int_t dim[2];
  for (size_t k = 0; k < 2; k++) {
    const json_t *d = json_array_get(shape, k);
    if (!json_is_integer(d) || json_integer_value(d) < 1)
      return ss_error_set(err, SS_EINVALID, 0, 0,
                          "data.tensor.shape[%zu]: must be a positive integer (%s)", k,
                          k == 0 ? "there must be at least one row" : "rows must not be empty");
    dim[k] = json_integer_value(d);
  }
  /* Compared by division so that a huge shape cannot overflow r * c. */
  size_t n = json_array_size(values);
  if ((json_int_t)(n / (size_t)dim[0]) != dim[1] || n % (size_t)dim[0] != 0)
    return ss_error_set(err, SS_EINVALID, 0, 0,
                        "data.tensor.values: has %zu values but shape [%lld, %lld] needs "
                        "their product",
                        n, (long long)dim[0], (long long)dim[1]);
  *rw = (struct rows){.tensor = true, .arr = values, .r = (size_t)dim[0], .c = (size_t)dim[1]};
  return SS_EOK;
}

/* Sets key to v in obj; v is stolen even when NULL or on failure. */
static bool put(json_t *obj, const char *key, json_t *v) {
  return v && json_object_set_new(obj, key, v) == 0;
}

static bool append(json_t *arr, json_t *v) { return v && json_array_append_new(arr, v) == 0; }

enum ss_err ss_mock_predict(const json_t *request, double threshold, json_t **response,
                            struct ss_error *err) {
  enum ss_err rc = SS_EOK;
  json_t *resp = NULL, *answers = NULL;
  struct rows rw;
  bool ok;

  *response = NULL;
  if (!json_is_object(request)) {
    rc = ss_error_set(err, SS_EINVALID, 0, 0, "the message must be a JSON object, not %s",
                      request ? json_kind(request) : "nothing");
    goto out;
  }
  const json_t *in = json_object_get(request, "data");
  if (!json_is_object(in)) {
    rc = ss_error_set(err, SS_EINVALID, 0, 0,
                      in ? "data: must be an object with ndarray or tensor"
                         : "data: missing; the mock classifier needs data.ndarray or "
                           "data.tensor");
    goto out;
  }
  const json_t *names = json_object_get(in, "names");
  if (names) {
    size_t k;
    const json_t *nm;
    if (!json_is_array(names)) {
      rc = ss_error_set(err, SS_EINVALID, 0, 0, "data.names: must be an array of strings");
      goto out;
    }
    json_array_foreach(names, k, nm) {
      if (!json_is_string(nm)) {
        rc = ss_error_set(err, SS_EINVALID, 0, 0, "data.names[%zu]: must be a string, not %s",
                          k, json_kind(nm));
        goto out;
      }
    }
  }
  const json_t *nd = json_object_get(in, "ndarray");
  const json_t *tensor = json_object_get(in, "tensor");
  if (nd && tensor) {
    rc = ss_error_set(err, SS_EINVALID, 0, 0, "data: has both ndarray and tensor; give one");
    goto out;
  }
  if (!nd && !tensor) {
    rc = ss_error_set(err, SS_EINVALID, 0, 0,
                      "data: the mock classifier needs data.ndarray or data.tensor");
    goto out;
  }
  rc = nd ? read_ndarray(nd, &rw, err) : read_tensor(tensor, &rw, err);
  if (rc)
    goto out;

  /* Every row is checked before anything is built, so that bad data costs
   * no allocation; the second pass cannot fail but for memory. */
  double mean;
  for (size_t i = 0; i < rw.r; i++) {
    rc = row_mean(&rw, i, &mean, err);
    if (rc)
      goto out;
  }

  rc = SS_ENOMEM;
  answers = json_array();
  if (!answers)
    goto out;
  for (size_t i = 0; i < rw.r; i++) {
    row_mean(&rw, i, &mean, NULL);
    double p = sigmoid(mean - threshold);
    if (rw.tensor) {
      if (!append(answers, json_real(p)))
        goto out;
    } else {
      json_t *row = json_array();
      if (!append(answers, row) || !append(row, json_real(p)))
        goto out;
    }
  }

  /* Each piece goes into its parent as soon as it exists, so resp (and
   * answers, until it is handed over) is all that out: has to free. */
  resp = json_object();
  if (!resp)
    goto out;
  json_t *data = json_object();
  if (!put(resp, "data", data))
    goto out;
  json_t *meta = json_object();
  if (!put(resp, "meta", meta))
    goto out;
  json_t *out_names = json_array();
  if (!put(data, "names", out_names) || !append(out_names, json_string(PROBA_NAME)))
    goto out;
  if (rw.tensor) {
    json_t *t = json_object();
    if (!put(data, "tensor", t))
      goto out;
    json_t *shape = json_array();
    if (!put(t, "shape", shape) || !append(shape, json_integer((json_int_t)rw.r)) ||
        !append(shape, json_integer(1)))
      goto out;
    ok = put(t, "values", answers);
  } else {
    ok = put(data, "ndarray", answers);
  }
  answers = NULL; /* put() took it, whatever it returned */
  if (!ok)
    goto out;

  /* The gateway fills meta (requestPath, metrics); the model only keeps the
   * request's puid so that a caller can correlate. */
  const json_t *puid = json_object_get(json_object_get(request, "meta"), "puid");
  if (json_is_string(puid) && !put(meta, "puid", json_string(json_string_value(puid))))
    goto out;
  *response = resp;
  resp = NULL;
  rc = SS_EOK;

out:
  if (rc == SS_ENOMEM)
    ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory building the answer");
  json_decref(answers);
  json_decref(resp);
  return rc;
}
