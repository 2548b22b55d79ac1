/* fuzz_v2.c: libFuzzer target for the Open Inference request reader of
 * `servescale model-server` (src/models/v2.c): any bytes end in a request
 * whose tensors hold exactly their shape's count of values of their
 * datatype, or in an error that names a field, never a crash, a leak or UB.
 * The same bytes are read as a Seldon message too. The invariants below
 * abort when broken. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "models/v2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_tensor(const struct ss_v2_tensor *t) {
  if (!t->name || !*t->name || t->ndim > SS_V2_DIMS_MAX || !json_is_array(t->data) ||
      json_array_size(t->data) != t->n || t->n > (size_t)SS_V2_ELEMENTS_MAX)
    abort();
  int64_t n = 1;
  for (size_t i = 0; i < t->ndim; i++) {
    if (t->shape[i] < 0)
      abort();
    n *= t->shape[i];
  }
  if ((size_t)n != t->n)
    abort();
  for (size_t i = 0; i < t->n; i++) {
    const json_t *v = json_array_get(t->data, i);
    bool ok = t->dtype == SS_V2_BYTES  ? json_is_string(v)
              : t->dtype == SS_V2_BOOL ? json_is_boolean(v)
              : t->dtype >= SS_V2_FP16 ? json_is_number(v)
                                       : json_is_integer(v);
    if (!ok)
      abort();
  }
  size_t rows, cols;
  ss_v2_tensor_rows(t, &rows, &cols);
  if (t->ndim >= 1 && rows * cols != t->n && t->n != 0)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* a copy exactly as long as the input: the reader must not look past it */
  char *buf = malloc(size ? size : 1);
  if (!buf)
    return 0;
  memcpy(buf, data, size);
  struct ss_v2_request r;
  struct ss_error err = {0};
  if (ss_v2_request_parse(buf, size, &r, &err) == SS_EOK) {
    if (r.n_inputs == 0 || r.n_inputs > SS_V2_TENSORS_MAX || r.n_outputs > SS_V2_TENSORS_MAX)
      abort();
    for (size_t i = 0; i < r.n_inputs; i++)
      check_tensor(&r.inputs[i]);
    for (size_t i = 0; i < r.n_outputs; i++)
      if (!r.outputs[i] || !*r.outputs[i])
        abort();
    ss_v2_request_free(&r);
  } else if (!err.msg[0] || r.inputs || r.n_inputs || r.id) {
    abort(); /* an error says what is wrong, and leaves nothing behind */
  }

  json_t *msg = json_loadb(buf, size, JSON_DECODE_ANY, NULL);
  if (msg) {
    struct ss_v2_tensor t;
    bool tensor;
    struct ss_error serr = {0};
    if (ss_v2_from_seldon(msg, &t, &tensor, &serr) == SS_EOK) {
      check_tensor(&t);
      if (t.ndim != 2 || (t.dtype != SS_V2_FP64 && t.dtype != SS_V2_BYTES))
        abort();
      ss_v2_tensor_free(&t);
    } else if (!serr.msg[0] || t.data) {
      abort();
    }
    json_decref(msg);
  }
  free(buf);
  return 0;
}
