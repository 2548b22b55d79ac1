/* test_prom_http.c: src/promql/http.c without sockets: how a Prometheus
 * /api/v1/query answer becomes one number by KEDA's rules (one element, an
 * empty vector, several, a scalar, an error status, malformed JSON, NaN and
 * infinite values, other result types), and the arguments a query refuses
 * before it opens a connection. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "promql/http.h"

#define N_ELEMS(a) (sizeof(a) / sizeof *(a))
#define UNSET (-12345.0) /* *out before a call: a failure leaves it */
#define MULTI "prometheus query q returned multiple elements"
#define NO_SUCCESS "prometheus answered without a success status"
#define EMPTY "prometheus metrics 'prometheus' target may be lost, the result is empty"

#define VECTOR(result)                                                                    \
  "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":" result "}}"
#define SAMPLE(v) "{\"metric\":{\"job\":\"gw\"},\"value\":[1700000000.123,\"" v "\"]}"
#define SCALAR(v)                                                                         \
  "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[1700000000,\"" v \
  "\"]}}"

struct parse_case {
  const char *name;
  const char *body;  /* NULL: no body at all */
  bool ignore_null;  /* ignoreNullValues */
  enum ss_err rc;
  double want;       /* when rc is SS_EOK */
  const char *msg;   /* the whole message, when rc is not SS_EOK */
};

static const struct parse_case cases[] = {
    {"vector, one sample", VECTOR("[" SAMPLE("42.5") "]"), true, SS_EOK, 42.5, NULL},
    {"vector, one sample, strict", VECTOR("[" SAMPLE("3") "]"), false, SS_EOK, 3, NULL},
    {"vector, one sample of 0", VECTOR("[" SAMPLE("0") "]"), false, SS_EOK, 0, NULL},
    {"vector, negative sample", VECTOR("[" SAMPLE("-1.5e2") "]"), true, SS_EOK, -150, NULL},
    {"empty vector, ignoreNullValues", VECTOR("[]"), true, SS_EOK, 0, NULL},
    {"empty vector, strict", VECTOR("[]"), false, SS_ENOTFOUND, 0, EMPTY},
    {"several samples", VECTOR("[" SAMPLE("1") "," SAMPLE("2") "]"), true, SS_EINVALID, 0, MULTI},
    {"several samples, strict", VECTOR("[" SAMPLE("1") "," SAMPLE("2") "," SAMPLE("3") "]"), false,
     SS_EINVALID, 0, MULTI},
    {"scalar", SCALAR("7.25"), true, SS_EOK, 7.25, NULL},
    {"scalar, strict", SCALAR("1e3"), false, SS_EOK, 1000, NULL},
    {"NaN sample, ignoreNullValues", VECTOR("[" SAMPLE("NaN") "]"), true, SS_EOK, 0, NULL},
    {"NaN sample, strict", VECTOR("[" SAMPLE("NaN") "]"), false, SS_ENOTFOUND, 0, EMPTY},
    {"+Inf sample, ignoreNullValues", VECTOR("[" SAMPLE("+Inf") "]"), true, SS_EOK, 0, NULL},
    {"+Inf sample, strict", VECTOR("[" SAMPLE("+Inf") "]"), false, SS_ENOTFOUND, 0, EMPTY},
    {"-Inf scalar, strict", SCALAR("-Inf"), false, SS_ENOTFOUND, 0, EMPTY},
    {"NaN scalar, ignoreNullValues", SCALAR("NaN"), true, SS_EOK, 0, NULL},
    {"sample without a value, strict", VECTOR("[{\"metric\":{}}]"), false, SS_ENOTFOUND, 0, EMPTY},
    {"value not a string", VECTOR("[{\"metric\":{},\"value\":[1,2]}]"), true, SS_EOK, 0, NULL},
    {"error status",
     "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"1:5: parse error\"}", true,
     SS_EIO, 0, NO_SUCCESS},
    {"success without resultType", "{\"status\":\"success\",\"data\":{\"result\":[]}}", true,
     SS_EIO, 0, NO_SUCCESS},
    {"no status", "{\"data\":{\"resultType\":\"vector\",\"result\":[]}}", true, SS_EIO, 0,
     NO_SUCCESS},
    {"malformed JSON", "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",", true,
     SS_ESYNTAX, 0, NO_SUCCESS},
    {"not JSON at all", "<html>502 Bad Gateway</html>", true, SS_ESYNTAX, 0, NO_SUCCESS},
    {"empty answer", "", true, SS_ESYNTAX, 0, NO_SUCCESS},
    {"no answer", NULL, true, SS_ESYNTAX, 0, NO_SUCCESS},
    {"JSON but no object", "[1,2]", true, SS_EIO, 0, NO_SUCCESS},
    {"matrix", "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[]}}", true,
     SS_EUNSUPPORTED, 0, "prometheus query returned a matrix, not a vector or scalar"},
    {"string", "{\"status\":\"success\",\"data\":{\"resultType\":\"string\",\"result\":[1,\"x\"]}}",
     true, SS_EUNSUPPORTED, 0, "prometheus query returned a string, not a vector or scalar"},
};

static void check(const struct parse_case *c, const char *body, size_t len) {
  double v = UNSET;
  struct ss_error err = {0};
  enum ss_err rc = ss_prom_http_parse(body, len, "q", c->ignore_null, &v, &err);
  if (rc != c->rc || (rc == SS_EOK && v != c->want) || (rc && strcmp(err.msg, c->msg) != 0))
    print_error("%s: got %s %g \"%s\", want %s %g \"%s\"\n", c->name, ss_err_name(rc), v, err.msg,
                ss_err_name(c->rc), c->want, c->msg ? c->msg : "");
  assert_int_equal(rc, c->rc);
  if (rc == SS_EOK) {
    assert_true(v == c->want);
    assert_string_equal(err.msg, ""); /* left alone */
  } else {
    assert_true(v == UNSET);
    assert_int_equal(err.code, c->rc);
    assert_string_equal(err.msg, c->msg);
  }
}

static void parse_cases(void **state) {
  (void)state;
  for (size_t i = 0; i < N_ELEMS(cases); i++)
    check(&cases[i], cases[i].body, cases[i].body ? strlen(cases[i].body) : 0);
}

/* The length bounds the answer: nothing past it is read, so an answer
 * need not be NUL-terminated; and a NUL byte inside ends it. */
static void parse_reads_len_bytes(void **state) {
  (void)state;
  static const char two[] = VECTOR("[" SAMPLE("5") "]") VECTOR("[" SAMPLE("6") "]");
  size_t one = strlen(VECTOR("[" SAMPLE("5") "]"));
  const struct parse_case five = {"first of two", NULL, true, SS_EOK, 5, NULL};
  check(&five, two, one);
  const struct parse_case cut = {"cut short", NULL, true, SS_ESYNTAX, 0, NO_SUCCESS};
  check(&cut, two, one - 1);
  char nul[256];
  snprintf(nul, sizeof nul, "%s", VECTOR("[" SAMPLE("8") "]"));
  size_t n = strlen(nul);
  memcpy(nul + n + 1, "garbage", 8); /* after the NUL */
  const struct parse_case eight = {"up to a NUL", NULL, true, SS_EOK, 8, NULL};
  check(&eight, nul, n + 8);
}

/* A NULL error detail is allowed; a NULL result place is refused. */
static void parse_arguments(void **state) {
  (void)state;
  double v = UNSET;
  static const char body[] = SCALAR("2");
  assert_int_equal(ss_prom_http_parse(body, strlen(body), NULL, true, &v, NULL), SS_EOK);
  assert_true(v == 2);
  static const char many[] = VECTOR("[" SAMPLE("1") "," SAMPLE("2") "]");
  struct ss_error err = {0};
  assert_int_equal(ss_prom_http_parse(many, strlen(many), NULL, true, &v, &err), SS_EINVALID);
  assert_string_equal(err.msg, "prometheus query  returned multiple elements");
  assert_int_equal(ss_prom_http_parse(body, strlen(body), "q", true, NULL, &err), SS_EINVALID);
}

/* A query without what it needs fails before any connection is tried. */
static void query_refuses_bad_requests(void **state) {
  (void)state;
  assert_int_equal(ss_prom_http_global_init(), SS_EOK);
  assert_int_equal(ss_prom_http_global_init(), SS_EOK); /* idempotent */
  const struct ss_prom_http_request ok = {
      .server = "http://127.0.0.1:9", .query = "up", .timeout_ms = 1000};
  struct ss_prom_http_request r;
  double v = UNSET;
  struct ss_error err = {0};
  assert_int_equal(ss_prom_http_query(NULL, &v, &err), SS_EINVALID);
  assert_int_equal(ss_prom_http_query(&ok, NULL, &err), SS_EINVALID);
  r = ok;
  r.server = NULL;
  assert_int_equal(ss_prom_http_query(&r, &v, &err), SS_EINVALID);
  r = ok;
  r.query = NULL;
  assert_int_equal(ss_prom_http_query(&r, &v, &err), SS_EINVALID);
  r = ok;
  r.timeout_ms = 0;
  assert_int_equal(ss_prom_http_query(&r, &v, &err), SS_EINVALID);
  assert_int_equal(err.code, SS_EINVALID);
  assert_true(v == UNSET);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(parse_cases),
      cmocka_unit_test(parse_reads_len_bytes),
      cmocka_unit_test(parse_arguments),
      cmocka_unit_test(query_refuses_bad_requests),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
