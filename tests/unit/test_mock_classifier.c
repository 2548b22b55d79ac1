/* test_mock_classifier.c: unit tests for the pure parts of the mock
 * classifier, src/models/mock_predict.c (the answer) and
 * src/models/mock_params.c (the parameters), as tables of cases. The
 * server itself is tests/e2e/test_mock_classifier.py's. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "models/models.h"

#define N_ELEMS(a) (sizeof(a) / sizeof *(a))
#define MAX_ROWS 4

static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

/* ---- ss_mock_predict: answers ---- */

struct ok_case {
  const char *request;
  double threshold;
  bool tensor;           /* the answer's form */
  size_t n;              /* rows */
  double want[MAX_ROWS]; /* proba of each row */
  const char *puid;      /* expected meta.puid, NULL for none */
};

static const struct ok_case ok_cases[] = {
    /* Seldon's documented example: mean 2.5, default threshold. */
    {"{\"data\":{\"ndarray\":[[1,2,3,4]]}}", 0.5, false, 1, {0.8807970779778823}, NULL},
    {"{\"data\":{\"ndarray\":[[1,2,3,4],[0,0,0,0]]}}", 0.5, false, 2, {0.8807970779778823, 0.3775406687981454}, NULL},
    {"{\"data\":{\"names\":[\"a\",\"b\"],\"ndarray\":[[1.0,2.0]]}}", 0.5, false, 1, {0.7310585786300049}, NULL},
    {"{\"data\":{\"ndarray\":[[-1.5,0.5]]}}", 0.5, false, 1, {0.2689414213699951}, NULL},
    {"{\"data\":{\"ndarray\":[[7]]}}", 0.5, false, 1, {0.998498817743263}, NULL},
    /* The threshold moves the midpoint. */
    {"{\"data\":{\"ndarray\":[[1,2,3,4]]}}", 2.5, false, 1, {0.5}, NULL},
    {"{\"data\":{\"ndarray\":[[1,2,3,4]]}}", -0.5, false, 1, {0.9525741268224334}, NULL},
    /* Tensor in, tensor out; values read row by row. */
    {"{\"data\":{\"tensor\":{\"shape\":[2,2],\"values\":[1,1,3,3]}}}", 0.5, true, 2, {0.6224593312018546, 0.9241418199787566}, NULL},
    {"{\"data\":{\"tensor\":{\"shape\":[1,4],\"values\":[1,2,3,4]}}}", 0.5, true, 1, {0.8807970779778823}, NULL},
    /* A sum that overflows still has a mean. */
    {"{\"data\":{\"ndarray\":[[1e308,1e308]]}}", 0.5, false, 1, {1.0}, NULL},
    {"{\"data\":{\"ndarray\":[[-1e308,-1e308]]}}", 0.5, false, 1, {0.0}, NULL},
    /* The request's puid is kept; other meta is the gateway's. */
    {"{\"meta\":{\"puid\":\"p-1\",\"tags\":{\"x\":1}},\"data\":{\"ndarray\":[[0.5]]}}", 0.5, false, 1, {0.5}, "p-1"},
    {"{\"meta\":{\"puid\":7},\"data\":{\"ndarray\":[[0.5]]}}", 0.5, false, 1, {0.5}, NULL},
};

static void check_answer(const struct ok_case *c, const json_t *resp) {
  const json_t *data = json_object_get(resp, "data");
  assert_true(json_is_object(data));
  const json_t *names = json_object_get(data, "names");
  assert_int_equal(json_array_size(names), 1);
  assert_string_equal(json_string_value(json_array_get(names, 0)), "proba");
  const json_t *values;
  if (c->tensor) {
    assert_null(json_object_get(data, "ndarray"));
    const json_t *t = json_object_get(data, "tensor");
    const json_t *shape = json_object_get(t, "shape");
    assert_int_equal(json_array_size(shape), 2);
    assert_int_equal(json_integer_value(json_array_get(shape, 0)), c->n);
    assert_int_equal(json_integer_value(json_array_get(shape, 1)), 1);
    values = json_object_get(t, "values");
  } else {
    assert_null(json_object_get(data, "tensor"));
    values = json_object_get(data, "ndarray");
  }
  assert_int_equal(json_array_size(values), c->n);
  for (size_t i = 0; i < c->n; i++) {
    const json_t *v = json_array_get(values, i);
    if (!c->tensor) {
      assert_int_equal(json_array_size(v), 1);
      v = json_array_get(v, 0);
    }
    assert_true(json_is_real(v));
    if (fabs(json_real_value(v) - c->want[i]) > 1e-12)
      print_error("%s: row %zu: got %.17g, want %.17g\n", c->request, i, json_real_value(v),
                  c->want[i]);
    assert_true(fabs(json_real_value(v) - c->want[i]) <= 1e-12);
  }
  const json_t *meta = json_object_get(resp, "meta");
  assert_true(json_is_object(meta));
  if (c->puid)
    assert_string_equal(json_string_value(json_object_get(meta, "puid")), c->puid);
  else
    assert_int_equal(json_object_size(meta), 0);
}

static void test_predict_answers_sigmoid_of_row_mean(void **state) {
  (void)state;
  for (size_t i = 0; i < N_ELEMS(ok_cases); i++) {
    const struct ok_case *c = &ok_cases[i];
    json_error_t jerr;
    json_t *req = json_loads(c->request, 0, &jerr);
    assert_non_null(req);
    json_t *resp = NULL;
    struct ss_error err = {0};
    enum ss_err rc = ss_mock_predict(req, c->threshold, &resp, &err);
    if (rc)
      print_error("%s: rejected: %s\n", c->request, err.msg);
    assert_int_equal(rc, SS_EOK);
    assert_non_null(resp);
    check_answer(c, resp);
    json_decref(resp);
    json_decref(req);
  }
}

/* The table's numbers, computed here from their definition, so that a typo
 * in a literal cannot hide a wrong answer. */
static void test_predict_table_matches_definition(void **state) {
  (void)state;
  assert_true(fabs(ok_cases[0].want[0] - sigmoid(2.5 - 0.5)) < 1e-15);
  assert_true(fabs(ok_cases[1].want[1] - sigmoid(0.0 - 0.5)) < 1e-15);
  assert_true(fabs(ok_cases[7].want[0] - sigmoid(1.0 - 0.5)) < 1e-15);
  assert_true(fabs(ok_cases[7].want[1] - sigmoid(3.0 - 0.5)) < 1e-15);
  assert_true(fabs(ok_cases[6].want[0] - sigmoid(2.5 + 0.5)) < 1e-15);
}

/* ---- ss_mock_predict: bad data ---- */

struct bad_case {
  const char *request; /* JSON text */
  const char *why_has; /* words the reason must contain */
};

static const struct bad_case bad_cases[] = {
    {"{\"data\":{\"ndarray\":[1,2,3,4]}}", "1-D"},
    {"{\"data\":{\"ndarray\":[[[1,2]]]}}", "more than 2 dimensions"},
    {"{\"data\":{\"ndarray\":[[1],[[2]]]}}", "data.ndarray[1][0]"},
    {"{\"data\":{\"ndarray\":[]}}", "empty"},
    {"{\"data\":{\"ndarray\":[[]]}}", "empty row"},
    {"{\"data\":{\"ndarray\":[[1,2],[]]}}", "data.ndarray[1]: is an empty row"},
    {"{\"data\":{\"ndarray\":[[1,2],[3]]}}", "equal length"},
    {"{\"data\":{\"ndarray\":[[1,2],3]}}", "data.ndarray[1]: must be a row"},
    {"{\"data\":{\"ndarray\":[[1,\"a\"]]}}", "data.ndarray[0][1]: must be a number, not a string"},
    {"{\"data\":{\"ndarray\":[[true]]}}", "not a boolean"},
    {"{\"data\":{\"ndarray\":[[null]]}}", "not null"},
    {"{\"data\":{\"ndarray\":{}}}", "must be an array"},
    {"{\"data\":{\"tensor\":{\"shape\":[4],\"values\":[1,2,3,4]}}}", "1 dimensions"},
    {"{\"data\":{\"tensor\":{\"shape\":[1,2,2],\"values\":[1,2,3,4]}}}", "3 dimensions"},
    {"{\"data\":{\"tensor\":{\"shape\":[2,0],\"values\":[]}}}", "rows must not be empty"},
    {"{\"data\":{\"tensor\":{\"shape\":[0,4],\"values\":[]}}}", "at least one row"},
    {"{\"data\":{\"tensor\":{\"shape\":[2,2],\"values\":[1,2,3]}}}", "product"},
    {"{\"data\":{\"tensor\":{\"shape\":[4611686018427387904,4],\"values\":[1,2,3,4]}}}", "product"},
    {"{\"data\":{\"tensor\":{\"shape\":[2,2],\"values\":[1,2,3,\"x\"]}}}", "data.tensor.values[3]"},
    {"{\"data\":{\"tensor\":{\"shape\":[2.0,2],\"values\":[1,2,3,4]}}}", "positive integer"},
    {"{\"data\":{\"tensor\":{\"values\":[1]}}}", "shape"},
    {"{\"data\":{\"tensor\":[1,2]}}", "must be an object"},
    {"{\"data\":{\"ndarray\":[[1]],\"tensor\":{\"shape\":[1,1],\"values\":[1]}}}", "both"},
    {"{\"data\":{\"names\":\"a\",\"ndarray\":[[1]]}}", "data.names"},
    {"{\"data\":{\"names\":[1],\"ndarray\":[[1]]}}", "data.names[0]"},
    {"{\"strData\":\"hello\"}", "data: missing"},
    {"{\"data\":{\"strData\":\"x\"}}", "data.ndarray or data.tensor"},
    {"{\"data\":[[1,2]]}", "data: must be an object"},
    {"[[1,2,3,4]]", "must be a JSON object"},
    {"3", "must be a JSON object, not a number"},
};

static void test_predict_rejects_bad_data_with_reason(void **state) {
  (void)state;
  for (size_t i = 0; i < N_ELEMS(bad_cases); i++) {
    const struct bad_case *c = &bad_cases[i];
    json_error_t jerr;
    json_t *req = json_loads(c->request, JSON_DECODE_ANY, &jerr);
    if (!req)
      print_error("%s: test input does not parse: %s\n", c->request, jerr.text);
    assert_non_null(req);
    json_t *resp = (json_t *)&resp; /* must be set to NULL */
    struct ss_error err = {0};
    enum ss_err rc = ss_mock_predict(req, 0.5, &resp, &err);
    if (rc != SS_EINVALID || !strstr(err.msg, c->why_has))
      print_error("%s: rc %s, reason \"%s\", want \"%s\"\n", c->request, ss_err_name(rc),
                  err.msg, c->why_has);
    assert_int_equal(rc, SS_EINVALID);
    assert_int_equal(err.code, SS_EINVALID);
    assert_null(resp);
    assert_non_null(strstr(err.msg, c->why_has));
    json_decref(req);
  }
}

static void test_predict_null_request_is_bad_data(void **state) {
  (void)state;
  json_t *resp = NULL;
  struct ss_error err = {0};
  assert_int_equal(ss_mock_predict(NULL, 0.5, &resp, &err), SS_EINVALID);
  assert_null(resp);
  /* A caller may not want the detail. */
  assert_int_equal(ss_mock_predict(NULL, 0.5, &resp, NULL), SS_EINVALID);
}

/* ---- parameters: Seldon's list and flags ---- */

struct param_case {
  const char *json;       /* PREDICTIVE_UNIT_PARAMETERS */
  enum ss_err rc;
  const char *why_has;    /* for failures */
  struct ss_mock_params want; /* from the defaults; a failure leaves them */
};

#define DEFAULTS {0.5, 0, 0, 0, 0}

static const struct param_case param_cases[] = {
    {NULL, SS_EOK, NULL, {0.5, 0, 0, 0, 0}},
    {"", SS_EOK, NULL, {0.5, 0, 0, 0, 0}},
    {"[]", SS_EOK, NULL, {0.5, 0, 0, 0, 0}},
    {"[{\"name\":\"delay_ms\",\"value\":\"250\",\"type\":\"INT\"}]", SS_EOK, NULL, {0.5, 250, 0, 0, 0}},
    {"[{\"name\":\"cpu_ms\",\"value\":\"40\",\"type\":\"INT\"},"
     "{\"name\":\"threshold\",\"value\":\"1.25\",\"type\":\"FLOAT\"}]",
     SS_EOK, NULL, {1.25, 0, 40, 0, 0}},
    {"[{\"name\":\"threshold\",\"value\":\"-2\",\"type\":\"DOUBLE\"},"
     "{\"name\":\"fail_after\",\"value\":3}]",
     SS_EOK, NULL, {-2.0, 0, 0, 3, 0}},
    {"[{\"name\":\"threshold\",\"value\":0.75}]", SS_EOK, NULL, {0.75, 0, 0, 0, 0}},
    {"[{\"name\":\"workers\",\"value\":\"1\",\"type\":\"INT\"}]", SS_EOK, NULL, {0.5, 0, 0, 0, 1}},
    {"[{\"name\":\"workers\",\"value\":\"257\",\"type\":\"INT\"}]", SS_EINVALID, "out of range", DEFAULTS},
    {"[{\"name\":\"treshold\",\"value\":\"1\",\"type\":\"FLOAT\"}]", SS_ENOTFOUND, "unknown parameter \"treshold\"", DEFAULTS},
    {"[{\"name\":\"delay_ms\",\"value\":\"soon\",\"type\":\"INT\"}]", SS_EINVALID, "not an integer", DEFAULTS},
    {"[{\"name\":\"delay_ms\",\"value\":\"1.5\",\"type\":\"INT\"}]", SS_EINVALID, "not an integer", DEFAULTS},
    {"[{\"name\":\"delay_ms\",\"value\":\"-1\",\"type\":\"INT\"}]", SS_EINVALID, "out of range", DEFAULTS},
    {"[{\"name\":\"cpu_ms\",\"value\":\"99999999\",\"type\":\"INT\"}]", SS_EINVALID, "out of range", DEFAULTS},
    {"[{\"name\":\"delay_ms\",\"value\":\"5\",\"type\":\"STRING\"}]", SS_EINVALID, "type must be INT", DEFAULTS},
    {"[{\"name\":\"threshold\",\"value\":\"x\",\"type\":\"FLOAT\"}]", SS_EINVALID, "not a finite number", DEFAULTS},
    {"[{\"name\":\"threshold\",\"value\":\"nan\",\"type\":\"FLOAT\"}]", SS_EINVALID, "not a finite number", DEFAULTS},
    {"[{\"name\":\"threshold\",\"value\":true}]", SS_EINVALID, "value must be", DEFAULTS},
    {"[{\"name\":\"threshold\"}]", SS_EINVALID, "value must be", DEFAULTS},
    {"[{\"value\":\"1\"}]", SS_EINVALID, "string name", DEFAULTS},
    {"[3]", SS_EINVALID, "string name", DEFAULTS},
    {"{\"delay_ms\":5}", SS_EINVALID, "JSON array", DEFAULTS},
    {"[{\"name\":", SS_ESYNTAX, "PREDICTIVE_UNIT_PARAMETERS", DEFAULTS},
    /* All or nothing: the good first entry is not kept. */
    {"[{\"name\":\"delay_ms\",\"value\":\"5\"},{\"name\":\"cpu_ms\",\"value\":\"-5\"}]", SS_EINVALID, "cpu_ms", DEFAULTS},
};

static void test_params_from_seldon(void **state) {
  (void)state;
  for (size_t i = 0; i < N_ELEMS(param_cases); i++) {
    const struct param_case *c = &param_cases[i];
    struct ss_mock_params p;
    struct ss_error err = {0};
    ss_mock_params_default(&p);
    enum ss_err rc = ss_mock_params_from_seldon(&p, c->json, &err);
    if (rc != c->rc || (c->why_has && !strstr(err.msg, c->why_has)))
      print_error("%s: rc %s, reason \"%s\"\n", c->json ? c->json : "(null)", ss_err_name(rc),
                  err.msg);
    assert_int_equal(rc, c->rc);
    const struct ss_mock_params *want = &c->want;
    if (c->why_has)
      assert_non_null(strstr(err.msg, c->why_has));
    assert_true(p.threshold == want->threshold);
    assert_int_equal(p.delay_ms, want->delay_ms);
    assert_int_equal(p.cpu_ms, want->cpu_ms);
    assert_int_equal(p.fail_after, want->fail_after);
    assert_int_equal(p.workers, want->workers);
  }
}

static void test_params_set_by_name_and_table(void **state) {
  (void)state;
  struct ss_mock_params p;
  struct ss_error err = {0};
  ss_mock_params_default(&p);
  assert_int_equal(ss_mock_params_set(&p, "delay_ms", "10", &err), SS_EOK);
  assert_int_equal(ss_mock_params_set(&p, "threshold", "1e-3", &err), SS_EOK);
  assert_int_equal(p.delay_ms, 10);
  assert_true(p.threshold == 1e-3);
  assert_int_equal(ss_mock_params_set(&p, "delay_ms", "", &err), SS_EINVALID);
  assert_int_equal(ss_mock_params_set(&p, "delay_ms", "10ms", &err), SS_EINVALID);
  assert_int_equal(p.delay_ms, 10); /* unchanged on failure */
  assert_int_equal(ss_mock_params_set(&p, "nope", "1", &err), SS_ENOTFOUND);
  assert_non_null(strstr(err.msg, "known: threshold, delay_ms, cpu_ms, fail_after"));

  /* Every row has a flag and help, and its flag is its name with dashes. */
  size_t n;
  const struct ss_mock_param_row *rows = ss_mock_param_table(&n);
  assert_true(n >= 4);
  for (size_t i = 0; i < n; i++) {
    char want[64];
    snprintf(want, sizeof want, "%s", rows[i].name);
    for (char *q = want; *q; q++)
      if (*q == '_')
        *q = '-';
    assert_string_equal(rows[i].flag, want);
    assert_non_null(rows[i].help);
    assert_true(rows[i].min <= rows[i].max);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_predict_answers_sigmoid_of_row_mean),
      cmocka_unit_test(test_predict_table_matches_definition),
      cmocka_unit_test(test_predict_rejects_bad_data_with_reason),
      cmocka_unit_test(test_predict_null_request_is_bad_data),
      cmocka_unit_test(test_params_from_seldon),
      cmocka_unit_test(test_params_set_by_name_and_table),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
