/* test_v2.c: unit tests of src/models/v2.c, the Open Inference (V2) JSON
 * tensors: every datatype read, shapes and nesting, each error naming its
 * field, the outputs and responses written, Seldon messages read; as tables
 * of cases. The server is tests/e2e/test_model_server.py's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "models/v2.h"

#define N_ELEMS(a) (sizeof(a) / sizeof *(a))

/* ---- requests that parse ---- */

struct ok_case {
  const char *body;
  enum ss_v2_dtype dtype; /* of inputs[0] */
  size_t ndim;
  int64_t shape[3];
  size_t n;
  const char *first; /* inputs[0].data[0] as JSON */
  size_t rows, cols; /* ss_v2_tensor_rows */
};

#define T(dt, shape, data)                                                                    \
  "{\"inputs\":[{\"name\":\"x\",\"shape\":" shape ",\"datatype\":\"" dt "\",\"data\":" data "}]}"

static const struct ok_case ok_cases[] = {
    {T("BOOL", "[2]", "[true,false]"), SS_V2_BOOL, 1, {2}, 2, "true", 2, 1},
    {T("UINT8", "[2]", "[0,255]"), SS_V2_UINT8, 1, {2}, 2, "0", 2, 1},
    {T("UINT16", "[1]", "[65535]"), SS_V2_UINT16, 1, {1}, 1, "65535", 1, 1},
    {T("UINT32", "[1]", "[4294967295]"), SS_V2_UINT32, 1, {1}, 1, "4294967295", 1, 1},
    {T("UINT64", "[1]", "[9223372036854775807]"), SS_V2_UINT64, 1, {1}, 1,
     "9223372036854775807", 1, 1},
    {T("INT8", "[2]", "[-128,127]"), SS_V2_INT8, 1, {2}, 2, "-128", 2, 1},
    {T("INT16", "[1]", "[-32768]"), SS_V2_INT16, 1, {1}, 1, "-32768", 1, 1},
    {T("INT32", "[1]", "[2147483647]"), SS_V2_INT32, 1, {1}, 1, "2147483647", 1, 1},
    {T("INT64", "[1]", "[-9223372036854775808]"), SS_V2_INT64, 1, {1}, 1,
     "-9223372036854775808", 1, 1},
    {T("FP16", "[1]", "[65504]"), SS_V2_FP16, 1, {1}, 1, "65504", 1, 1},
    {T("FP32", "[1,4]", "[[1,2,3,4]]"), SS_V2_FP32, 2, {1, 4}, 4, "1", 1, 4},
    {T("FP32", "[1,4]", "[1.5,2,3,4]"), SS_V2_FP32, 2, {1, 4}, 4, "1.5", 1, 4}, /* flat */
    {T("FP64", "[2,2]", "[[2.5,2],[3,4]]"), SS_V2_FP64, 2, {2, 2}, 4, "2.5", 2, 2},
    {T("FP64", "[2,1,2]", "[[[1,2]],[[3,4]]]"), SS_V2_FP64, 3, {2, 1, 2}, 4, "1", 2, 2},
    {T("FP64", "[2,2]", "[[1,2],3,[4]]"), SS_V2_FP64, 2, {2, 2}, 4, "1", 2, 2}, /* any nesting */
    {T("BYTES", "[2]", "[\"a\",\"\\u00e9\"]"), SS_V2_BYTES, 1, {2}, 2, "\"a\"", 2, 1},
    {T("BYTES", "[1]", "\"one\""), SS_V2_BYTES, 1, {1}, 1, "\"one\"", 1, 1}, /* a scalar */
    {T("FP32", "[0,4]", "[]"), SS_V2_FP32, 2, {0, 4}, 0, NULL, 0, 0},
    {"{\"id\":\"r1\",\"parameters\":{\"a\":1},\"inputs\":[{\"name\":\"x\",\"shape\":[1],"
     "\"datatype\":\"INT64\",\"data\":[7],\"parameters\":{\"content_type\":\"np\"}}],"
     "\"outputs\":[{\"name\":\"predict_proba\"}]}",
     SS_V2_INT64, 1, {1}, 1, "7", 1, 1},
};

static void test_parse_ok(void **state) {
  (void)state;
  for (size_t i = 0; i < N_ELEMS(ok_cases); i++) {
    const struct ok_case *c = &ok_cases[i];
    struct ss_v2_request r;
    struct ss_error err = {0};
    enum ss_err rc = ss_v2_request_parse(c->body, strlen(c->body), &r, &err);
    if (rc)
      fail_msg("case %zu: %s: %s", i, c->body, err.msg);
    assert_int_equal(r.n_inputs, 1);
    const struct ss_v2_tensor *t = &r.inputs[0];
    assert_string_equal(t->name, "x");
    assert_int_equal(t->dtype, c->dtype);
    assert_int_equal(t->ndim, c->ndim);
    for (size_t k = 0; k < c->ndim; k++)
      assert_int_equal(t->shape[k], c->shape[k]);
    assert_int_equal(t->n, c->n);
    assert_int_equal(json_array_size(t->data), c->n);
    if (c->first) {
      char *got = json_dumps(json_array_get(t->data, 0), JSON_ENCODE_ANY);
      if (strcmp(got, c->first) != 0)
        fail_msg("case %zu: data[0] is %s, want %s", i, got, c->first);
      free(got);
    }
    size_t rows, cols;
    ss_v2_tensor_rows(t, &rows, &cols);
    assert_int_equal(rows, c->rows);
    assert_int_equal(cols, c->cols);
    ss_v2_request_free(&r);
  }
}

static void test_parse_fields(void **state) {
  (void)state;
  const char *body = ok_cases[N_ELEMS(ok_cases) - 1].body;
  struct ss_v2_request r;
  struct ss_error err = {0};
  assert_int_equal(ss_v2_request_parse(body, strlen(body), &r, &err), SS_EOK);
  assert_string_equal(r.id, "r1");
  assert_true(json_is_object(r.parameters));
  assert_int_equal(r.n_outputs, 1);
  assert_string_equal(r.outputs[0], "predict_proba");
  assert_string_equal(json_string_value(json_object_get(r.inputs[0].parameters, "content_type")),
                      "np");
  assert_true(ss_v2_tensor_double(&r.inputs[0], 0) == 7.0);
  ss_v2_request_free(&r);

  const char *nid = T("BOOL", "[1]", "[true]");
  assert_int_equal(ss_v2_request_parse(nid, strlen(nid), &r, &err), SS_EOK);
  assert_null(r.id);
  assert_int_equal(r.n_outputs, 0);
  assert_true(ss_v2_tensor_double(&r.inputs[0], 0) == 1.0);
  ss_v2_request_free(&r);
  ss_v2_request_free(NULL);
  ss_v2_tensor_free(NULL);
}

/* ---- requests refused, each naming the field ---- */

struct bad_case {
  const char *body;
  enum ss_err code;
  const char *msg; /* the whole message */
};

static const struct bad_case bad_cases[] = {
    {"", SS_ESYNTAX, NULL},
    {"{\"inputs\":[", SS_ESYNTAX, NULL},
    {"[1]", SS_EINVALID, "the request must be a JSON object {inputs: [...]}, not an array"},
    {"{}", SS_EINVALID, "inputs: required, a non-empty array of tensors"},
    {"{\"inputs\":[]}", SS_EINVALID, "inputs: required, a non-empty array of tensors"},
    {"{\"inputs\":{}}", SS_EINVALID, "inputs: required, a non-empty array of tensors"},
    {"{\"id\":1,\"inputs\":[]}", SS_EINVALID, "id: must be a string, not an integer"},
    {"{\"parameters\":[],\"inputs\":[]}", SS_EINVALID, "parameters: must be an object, not an array"},
    {"{\"inputs\":[1]}", SS_EINVALID,
     "inputs[0]: must be an object {name, shape, datatype, data}, not an integer"},
    {"{\"inputs\":[{\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}", SS_EINVALID,
     "inputs[0].name: required, a non-empty string"},
    {"{\"inputs\":[{\"name\":\"\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}",
     SS_EINVALID, "inputs[0].name: required, a non-empty string"},
    {"{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"data\":[1]}]}", SS_EINVALID,
     "inputs[0].datatype: required, one of BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, "
     "INT32, INT64, FP16, FP32, FP64, BYTES"},
    {T("FP128", "[1]", "[1]"), SS_EINVALID,
     "inputs[0].datatype: unknown datatype \"FP128\" (one of BOOL, UINT8, UINT16, UINT32, "
     "UINT64, INT8, INT16, INT32, INT64, FP16, FP32, FP64, BYTES)"},
    {T("fp32", "[1]", "[1]"), SS_EINVALID, NULL},
    {"{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"data\":[1]}]}", SS_EINVALID,
     "inputs[0].shape: required, an array of integers"},
    {T("FP32", "4", "[1]"), SS_EINVALID,
     "inputs[0].shape: must be an array of integers, not an integer"},
    {T("FP32", "[1,-4]", "[1]"), SS_EINVALID,
     "inputs[0].shape[1]: must be a non-negative integer, got -4"},
    {T("FP32", "[1,\"4\"]", "[1]"), SS_EINVALID,
     "inputs[0].shape[1]: must be a non-negative integer, got a string"},
    {T("FP32", "[1,1,1,1,1,1,1,1,1]", "[1]"), SS_ELIMIT,
     "inputs[0].shape: has 9 dimensions, at most 8"},
    {T("FP32", "[100000,100000]", "[1]"), SS_ELIMIT,
     "inputs[0].shape: has more than 16777216 elements (the limit)"},
    {"{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\"}]}", SS_EINVALID,
     "inputs[0].data: required"},
    {T("FP32", "[1,4]", "[1,2,3]"), SS_EINVALID,
     "inputs[0].data: expected 4 values for shape [1,4], got 3"},
    {T("FP32", "[1,4]", "[[1,2,3,4,5]]"), SS_EINVALID,
     "inputs[0].data: expected 4 values for shape [1,4], got 5"},
    {T("FP32", "[2]", "[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]],2]"), SS_ELIMIT,
     "inputs[0].data: is nested deeper than 16 arrays"},
    {T("FP32", "[1,4]", "[[1,2,\"3\",4]]"), SS_EINVALID,
     "inputs[0].data[0][2]: expected a number for FP32, got a string"},
    {T("FP64", "[2]", "[1,null]"), SS_EINVALID,
     "inputs[0].data[1]: expected a number for FP64, got null"},
    {T("FP32", "[1]", "[1e39]"), SS_EINVALID, "inputs[0].data[0]: 1e+39 is out of range for FP32"},
    {T("FP16", "[1]", "[70000]"), SS_EINVALID, "inputs[0].data[0]: 70000 is out of range for FP16"},
    {T("INT64", "[2]", "[1,1.5]"), SS_EINVALID,
     "inputs[0].data[1]: expected an integer for INT64, got 1.5"},
    {T("INT32", "[1]", "[true]"), SS_EINVALID,
     "inputs[0].data[0]: expected an integer for INT32, got a boolean"},
    {T("INT8", "[1]", "[128]"), SS_EINVALID,
     "inputs[0].data[0]: 128 is out of range for INT8 [-128, 127]"},
    {T("INT16", "[1]", "[-32769]"), SS_EINVALID,
     "inputs[0].data[0]: -32769 is out of range for INT16 [-32768, 32767]"},
    {T("INT32", "[1]", "[2147483648]"), SS_EINVALID,
     "inputs[0].data[0]: 2147483648 is out of range for INT32 [-2147483648, 2147483647]"},
    {T("UINT8", "[1]", "[-1]"), SS_EINVALID,
     "inputs[0].data[0]: -1 is out of range for UINT8 [0, 255]"},
    {T("UINT16", "[1]", "[65536]"), SS_EINVALID,
     "inputs[0].data[0]: 65536 is out of range for UINT16 [0, 65535]"},
    {T("UINT32", "[1]", "[4294967296]"), SS_EINVALID,
     "inputs[0].data[0]: 4294967296 is out of range for UINT32 [0, 4294967295]"},
    {T("UINT64", "[1]", "[-5]"), SS_EINVALID,
     "inputs[0].data[0]: -5 is out of range for UINT64 [0, 9223372036854775807]"},
    {T("UINT64", "[1]", "[18446744073709551615]"), SS_ESYNTAX, NULL}, /* past the reader */
    {T("BOOL", "[1]", "[1]"), SS_EINVALID,
     "inputs[0].data[0]: expected true or false for BOOL, got 1"},
    {T("BYTES", "[2]", "[\"a\",1]"), SS_EINVALID,
     "inputs[0].data[1]: expected a string for BYTES, got 1"},
    {T("BYTES", "[2]", "\"a\""), SS_EINVALID,
     "inputs[0].data: expected 2 values for shape [2], got 1"},
    {"{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1],"
     "\"parameters\":3}]}",
     SS_EINVALID, "inputs[0].parameters: must be an object, not an integer"},
    {"{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]},"
     "{\"name\":\"y\",\"shape\":[1],\"datatype\":\"INT8\",\"data\":[1000]}]}",
     SS_EINVALID, "inputs[1].data[0]: 1000 is out of range for INT8 [-128, 127]"},
    {"{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}],"
     "\"outputs\":{}}",
     SS_EINVALID, "outputs: must be an array of {name}, not an object"},
    {"{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}],"
     "\"outputs\":[\"a\"]}",
     SS_EINVALID, "outputs[0]: must be an object {name}, not a string"},
    {"{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}],"
     "\"outputs\":[{\"name\":\"a\"},{}]}",
     SS_EINVALID, "outputs[1].name: required, a non-empty string"},
};

static void test_parse_errors(void **state) {
  (void)state;
  for (size_t i = 0; i < N_ELEMS(bad_cases); i++) {
    const struct bad_case *c = &bad_cases[i];
    struct ss_v2_request r;
    struct ss_error err = {0};
    enum ss_err rc = ss_v2_request_parse(c->body, strlen(c->body), &r, &err);
    if (rc != c->code)
      fail_msg("case %zu: %s: code %s, want %s (%s)", i, c->body, ss_err_name(rc),
               ss_err_name(c->code), err.msg);
    if (c->msg && strcmp(err.msg, c->msg) != 0)
      fail_msg("case %zu: message\n  got  %s\n  want %s", i, err.msg, c->msg);
    assert_true(err.msg[0] != '\0');
    assert_int_equal(r.n_inputs, 0);
    assert_null(r.inputs);
  }
}

/* The body is read within its length: no terminating NUL is needed. */
static void test_parse_unterminated(void **state) {
  (void)state;
  const char *src = T("FP32", "[1]", "[1]");
  size_t n = strlen(src);
  char *copy = malloc(n);
  memcpy(copy, src, n);
  struct ss_v2_request r;
  struct ss_error err = {0};
  assert_int_equal(ss_v2_request_parse(copy, n, &r, &err), SS_EOK);
  ss_v2_request_free(&r);
  assert_int_equal(ss_v2_request_parse(copy, n - 1, &r, &err), SS_ESYNTAX);
  free(copy);
}

/* ---- datatypes ---- */

static void test_dtypes(void **state) {
  (void)state;
  static const char *const names[] = {"BOOL",  "UINT8", "UINT16", "UINT32", "UINT64",
                                      "INT8",  "INT16", "INT32",  "INT64",  "FP16",
                                      "FP32",  "FP64",  "BYTES"};
  assert_int_equal(N_ELEMS(names), SS_V2__DTYPE_COUNT);
  for (size_t i = 0; i < N_ELEMS(names); i++) {
    enum ss_v2_dtype t;
    assert_true(ss_v2_dtype_parse(names[i], &t));
    assert_string_equal(ss_v2_dtype_name(t), names[i]);
    assert_int_equal(ss_v2_dtype_numeric(t), strcmp(names[i], "BOOL") != 0 &&
                                                 strcmp(names[i], "BYTES") != 0);
  }
  enum ss_v2_dtype t;
  assert_false(ss_v2_dtype_parse("STRING", &t));
  assert_false(ss_v2_dtype_parse(NULL, &t));
  assert_string_equal(ss_v2_dtype_name((enum ss_v2_dtype)99), "?");
}

/* ---- writing ---- */

static void test_write(void **state) {
  (void)state;
  int64_t shape[2] = {2, 1};
  json_t *o = ss_v2_output_json("predict", SS_V2_INT64, shape, 2, json_pack("[i,i]", 0, 2));
  assert_non_null(o);
  char *text = json_dumps(o, JSON_COMPACT);
  assert_string_equal(text, "{\"name\":\"predict\",\"shape\":[2,1],\"datatype\":\"INT64\","
                            "\"parameters\":{\"content_type\":\"np\"},\"data\":[0,2]}");
  free(text);
  json_t *resp = ss_v2_response_json("iris", "r1", json_pack("[o]", o));
  text = json_dumps(resp, JSON_COMPACT);
  assert_string_equal(text, "{\"model_name\":\"iris\",\"id\":\"r1\",\"parameters\":{},"
                            "\"outputs\":[{\"name\":\"predict\",\"shape\":[2,1],\"datatype\":"
                            "\"INT64\",\"parameters\":{\"content_type\":\"np\"},\"data\":[0,2]}]}");
  free(text);
  json_decref(resp);
  assert_null(ss_v2_output_json("x", SS_V2_FP64, shape, 2, NULL));
  assert_null(ss_v2_response_json("x", "y", NULL));

  /* what a runtime answers is read back as a request's tensor would be */
  json_t *back = json_pack("{s:s,s:[i,i],s:s,s:[f,f]}", "name", "proba", "shape", 2, 1,
                           "datatype", "FP64", "data", 0.25, 0.75);
  struct ss_v2_tensor t;
  struct ss_error err = {0};
  assert_int_equal(ss_v2_tensor_parse(back, "out", &t, &err), SS_EOK);
  assert_true(ss_v2_tensor_double(&t, 1) == 0.75);
  ss_v2_tensor_free(&t);
  json_object_set_new(back, "datatype", json_string("INT64"));
  assert_int_equal(ss_v2_tensor_parse(back, "out", &t, &err), SS_EINVALID);
  assert_string_equal(err.msg, "out.data[0]: expected an integer for INT64, got 0.25");
  json_decref(back);
}

/* ---- Seldon messages ---- */

struct seldon_case {
  const char *msg;
  enum ss_err code;
  const char *err;   /* when code != OK */
  bool tensor;
  enum ss_v2_dtype dtype;
  int64_t r, c;
};

static const struct seldon_case seldon_cases[] = {
    {"{\"data\":{\"ndarray\":[[1,2,3,4]]}}", SS_EOK, NULL, false, SS_V2_FP64, 1, 4},
    {"{\"data\":{\"names\":[\"a\",\"b\"],\"ndarray\":[[1,2],[3.5,4]]}}", SS_EOK, NULL, false,
     SS_V2_FP64, 2, 2},
    {"{\"data\":{\"ndarray\":[[\"a b\"],[\"c\"]]}}", SS_EOK, NULL, false, SS_V2_BYTES, 2, 1},
    {"{\"data\":{\"tensor\":{\"shape\":[2,2],\"values\":[1,2,3,4]}}}", SS_EOK, NULL, true,
     SS_V2_FP64, 2, 2},
    {"[]", SS_EINVALID, "the message must be a JSON object, not an array", false, 0, 0, 0},
    {"{}", SS_EINVALID, "data: missing; give data.ndarray or data.tensor", false, 0, 0, 0},
    {"{\"data\":{}}", SS_EINVALID, "data: give data.ndarray or data.tensor", false, 0, 0, 0},
    {"{\"data\":{\"ndarray\":[],\"tensor\":{}}}", SS_EINVALID,
     "data: has both ndarray and tensor; give one", false, 0, 0, 0},
    {"{\"data\":{\"ndarray\":[]}}", SS_EINVALID,
     "data.ndarray: must be a non-empty array of rows such as [[1, 2, 3, 4]]", false, 0, 0, 0},
    {"{\"data\":{\"ndarray\":[1,2]}}", SS_EINVALID,
     "data.ndarray[0]: must be a row (an array), not an integer; the input must be 2-D such as "
     "[[1, 2, 3, 4]]",
     false, 0, 0, 0},
    {"{\"data\":{\"ndarray\":[[1,2],[3]]}}", SS_EINVALID,
     "data.ndarray[1]: has 1 values but data.ndarray[0] has 2; rows must be non-empty and of "
     "equal length",
     false, 0, 0, 0},
    {"{\"data\":{\"ndarray\":[[1,{}]]}}", SS_EINVALID,
     "data.ndarray[0][1]: must be a number or a string, not an object", false, 0, 0, 0},
    {"{\"data\":{\"ndarray\":[[1,\"a\"]]}}", SS_EINVALID,
     "data.ndarray[0][1]: is a string but the values before it are numbers; give all numbers or "
     "all strings",
     false, 0, 0, 0},
    {"{\"data\":{\"tensor\":{\"shape\":[4],\"values\":[1,2,3,4]}}}", SS_EINVALID,
     "data.tensor.shape: must be [rows, columns] (the input must be 2-D)", false, 0, 0, 0},
    {"{\"data\":{\"tensor\":{\"shape\":[0,4],\"values\":[]}}}", SS_EINVALID,
     "data.tensor.shape[0]: must be a positive integer", false, 0, 0, 0},
    {"{\"data\":{\"tensor\":{\"shape\":[2,2],\"values\":[1,2,3]}}}", SS_EINVALID,
     "data.tensor.values: has 3 values but shape [2, 2] needs their product", false, 0, 0, 0},
    {"{\"data\":{\"tensor\":{\"shape\":[1,2],\"values\":[1,null]}}}", SS_EINVALID,
     "data.tensor.values[1]: must be a number or a string, not null", false, 0, 0, 0},
};

static void test_seldon(void **state) {
  (void)state;
  for (size_t i = 0; i < N_ELEMS(seldon_cases); i++) {
    const struct seldon_case *c = &seldon_cases[i];
    json_t *msg = json_loads(c->msg, JSON_DECODE_ANY, NULL);
    assert_non_null(msg);
    struct ss_v2_tensor t;
    struct ss_error err = {0};
    bool tensor = !c->tensor;
    enum ss_err rc = ss_v2_from_seldon(msg, &t, &tensor, &err);
    if (rc != c->code)
      fail_msg("case %zu: %s: code %s, want %s (%s)", i, c->msg, ss_err_name(rc),
               ss_err_name(c->code), err.msg);
    if (rc) {
      if (strcmp(err.msg, c->err) != 0)
        fail_msg("case %zu: message\n  got  %s\n  want %s", i, err.msg, c->err);
      assert_null(t.data);
    } else {
      assert_int_equal(tensor, c->tensor);
      assert_int_equal(t.dtype, c->dtype);
      assert_int_equal(t.ndim, 2);
      assert_int_equal(t.shape[0], c->r);
      assert_int_equal(t.shape[1], c->c);
      assert_int_equal(json_array_size(t.data), (size_t)(c->r * c->c));
      ss_v2_tensor_free(&t);
    }
    json_decref(msg);
  }
  struct ss_v2_tensor t;
  struct ss_error err = {0};
  bool tensor;
  assert_int_equal(ss_v2_from_seldon(NULL, &t, &tensor, &err), SS_EINVALID);
  assert_string_equal(err.msg, "the message must be a JSON object, not nothing");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_ok),       cmocka_unit_test(test_parse_fields),
      cmocka_unit_test(test_parse_errors),   cmocka_unit_test(test_parse_unterminated),
      cmocka_unit_test(test_dtypes),         cmocka_unit_test(test_write),
      cmocka_unit_test(test_seldon),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
