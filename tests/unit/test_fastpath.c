/* test_fastpath.c: the gateway's fast path (src/gateway/fastpath.c): the
 * scanner, the splices, and that a spliced answer equals what the general
 * graph walk gives for the same exchange. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/fastpath.h"
#include "gateway/graph.h"

static const struct {
  const char *text;
  int rc;
  const char *meta; /* expected "meta" value text, or NULL */
} scan_cases[] = {
    {"{}", 0, NULL},
    {" {\"data\":{\"ndarray\":[[1,2.5e3,-0.1]]}} ", 0, NULL},
    {"{\"meta\":{},\"data\":1}", 0, "{}"},
    {"{\"data\":[1],\"meta\" : {\"puid\":\"x\"}}", 0, "{\"puid\":\"x\"}"},
    {"{\"a\":\"\\u00e9\\n\\\"\"}", 0, NULL},
    {"{\"meta\":1,\"meta\":2}", 1, NULL}, /* duplicate: the general way decides */
    {"[1,2]", 1, NULL},
    {"\"s\"", 1, NULL},
    {"", -1, NULL},
    {"{", -1, NULL},
    {"{\"a\":}", -1, NULL},
    {"{\"a\":1,}", -1, NULL},
    {"{\"a\":01}", -1, NULL},
    {"{\"a\":1} x", -1, NULL},
    {"{\"a\":\"\\x\"}", -1, NULL},
    {"{\"a\":tru}", -1, NULL},
    {"{\"a\":\"ctl\x01\"}", -1, NULL},
};

static void test_scan_table(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof scan_cases / sizeof *scan_cases; i++) {
    size_t at = 99, len = 99;
    const char *t = scan_cases[i].text;
    int rc = ss__gw_scan(t, strlen(t), &at, &len);
    if (rc != scan_cases[i].rc)
      fail_msg("case %zu %s: rc %d, want %d", i, t, rc, scan_cases[i].rc);
    if (rc == 0) {
      const char *m = scan_cases[i].meta;
      if (!m)
        assert_int_equal(len, 0);
      else if (len != strlen(m) || strncmp(t + at, m, len) != 0)
        fail_msg("case %zu: meta span \"%.*s\", want \"%s\"", i, (int)len, t + at, m);
    }
  }
}

static void test_scan_depth_is_bounded(void **state) {
  (void)state;
  char deep[400];
  size_t n = 0;
  deep[n++] = '{';
  deep[n++] = '"';
  deep[n++] = 'a';
  deep[n++] = '"';
  deep[n++] = ':';
  for (int i = 0; i < 150; i++)
    deep[n++] = '[';
  for (int i = 0; i < 150; i++)
    deep[n++] = ']';
  deep[n++] = '}';
  size_t at, len;
  assert_int_equal(ss__gw_scan(deep, n, &at, &len), -1);
}

static void test_meta_trivial(void **state) {
  (void)state;
  assert_true(ss__gw_meta_trivial("{}", 2));
  assert_true(ss__gw_meta_trivial(" { \"puid\" : \"abc\" } ", 21));
  assert_false(ss__gw_meta_trivial("{\"tags\":{\"a\":1}}", 16));
  assert_false(ss__gw_meta_trivial("{\"puid\":\"a\",\"metrics\":[]}", 25));
  assert_false(ss__gw_meta_trivial("[]", 2));
}

static void expect_json(const char *got, size_t n, const char *want) {
  json_error_t e;
  json_t *a = json_loadb(got, n, 0, &e), *b = json_loads(want, 0, &e);
  if (!a || !b || !json_equal(a, b))
    fail_msg("got %.*s\nwant %s", (int)n, got, want);
  json_decref(a);
  json_decref(b);
}

static void test_fast_request_puts_puid_first(void **state) {
  (void)state;
  size_t n;
  char *r = ss__gw_fast_request("{\"data\":{\"ndarray\":[[1]]}}", 26, "p1", &n);
  expect_json(r, n, "{\"meta\":{\"puid\":\"p1\"},\"data\":{\"ndarray\":[[1]]}}");
  free(r);
  r = ss__gw_fast_request(" { } ", 5, "p2", &n);
  expect_json(r, n, "{\"meta\":{\"puid\":\"p2\"}}");
  free(r);
}

static void test_fast_response_replaces_or_adds_meta(void **state) {
  (void)state;
  const char *want_meta = "{\"puid\":\"P\",\"tags\":{},\"routing\":{},"
                          "\"requestPath\":{\"clf\":\"img:1\"},\"metrics\":[]}";
  char want[512];
  const char *with = "{\"data\":{\"names\":[\"proba\"],\"ndarray\":[[0.5]]},\"meta\":{}}";
  size_t at, len, n;
  assert_int_equal(ss__gw_scan(with, strlen(with), &at, &len), 0);
  char *r = ss__gw_fast_response(with, strlen(with), at, len, "P", "clf", "img:1", &n);
  snprintf(want, sizeof want, "{\"data\":{\"names\":[\"proba\"],\"ndarray\":[[0.5]]},\"meta\":%s}",
           want_meta);
  expect_json(r, n, want);
  free(r);
  const char *without = "{\"data\":{\"ndarray\":[[0.5]]}}";
  r = ss__gw_fast_response(without, strlen(without), 0, 0, "P", "clf", "img:1", &n);
  snprintf(want, sizeof want, "{\"meta\":%s,\"data\":{\"ndarray\":[[0.5]]}}", want_meta);
  expect_json(r, n, want);
  free(r);
}

/* The general walk, driven to one call answered with `answer`. */
struct one {
  int id;
};
static void capture(void *ctx, struct ss_gw_exec *ex, int id, const struct ss_graph_node *node,
                    const char *path, const char *body, size_t len) {
  (void)ex;
  (void)node;
  (void)path;
  (void)body;
  (void)len;
  ((struct one *)ctx)->id = id;
}
static const char *image(void *ctx, const struct ss_graph_node *node) {
  (void)ctx;
  (void)node;
  return "img:1";
}

static void test_fast_answer_equals_general_walk(void **state) {
  (void)state;
  struct ss_graph_node node = {.name = "clf", .type = SS_NODE_MODEL, .component = 0,
                               .container = 0};
  const char *req = "{\"data\":{\"ndarray\":[[1,2,3,4]]}}";
  size_t rn;
  char *fast_req = ss__gw_fast_request(req, strlen(req), "abcdefghijklmnopqrstuvwxyz", &rn);
  const char *answers[] = {
      "{\"data\":{\"names\":[\"proba\"],\"ndarray\":[[0.8807970779778823]]},\"meta\":{}}",
      "{\"meta\":{\"puid\":\"abcdefghijklmnopqrstuvwxyz\"},\"data\":{\"ndarray\":[[1]]}}",
      "{\"data\":{\"tensor\":{\"shape\":[1,1],\"values\":[0.25]}}}",
  };
  for (size_t i = 0; i < sizeof answers / sizeof *answers; i++) {
    struct one cap = {-1};
    struct ss_gw_exec_config cfg = {.call = capture, .image_of = image, .ctx = &cap};
    struct ss_gw_exec *ex = ss_gw_exec_start_with(&node, SS_GW_PREDICT, fast_req, rn, &cfg);
    assert_non_null(ex);
    assert_int_not_equal(cap.id, -1);
    ss_gw_exec_complete(ex, cap.id, 200, answers[i], strlen(answers[i]));
    int status;
    char *general;
    size_t gn;
    assert_true(ss_gw_exec_done(ex, &status, &general, &gn));
    assert_int_equal(status, 200);
    size_t at, len, fn;
    assert_int_equal(ss__gw_scan(answers[i], strlen(answers[i]), &at, &len), 0);
    assert_true(!len || ss__gw_meta_trivial(answers[i] + at, len));
    char *fast = ss__gw_fast_response(answers[i], strlen(answers[i]), at, len,
                                      "abcdefghijklmnopqrstuvwxyz", "clf", "img:1", &fn);
    general[gn] = '\0';
    expect_json(fast, fn, general);
    free(fast);
    free(general);
    ss_gw_exec_free(ex);
  }
  free(fast_req);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_scan_table),
      cmocka_unit_test(test_scan_depth_is_bounded),
      cmocka_unit_test(test_meta_trivial),
      cmocka_unit_test(test_fast_request_puts_puid_first),
      cmocka_unit_test(test_fast_response_replaces_or_adds_meta),
      cmocka_unit_test(test_fast_answer_equals_general_walk),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
