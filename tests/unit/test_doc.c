/* test_doc.c: unit tests for src/model/doc.c, json_parse.c, yaml_parse.c and
 * emit.c: what each reader accepts and rejects, where it says values stand,
 * the input limits of doc.h, and that what the writers print reads back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "model/doc.h"
#include "model/emit.h"

#define N_ELEMS(a) (sizeof(a) / sizeof *(a))

enum reader { R_DOCS, R_JSON, R_YAML };

static enum ss_err run_reader(enum reader r, const char *buf, size_t len, struct ss_docs *out,
                              struct ss_error *err) {
  switch (r) {
  case R_JSON:
    return ss_json_parse(buf, len, out, err);
  case R_YAML:
    return ss_yaml_parse(buf, len, out, err);
  case R_DOCS:
    break;
  }
  return ss_docs_parse(buf, len, out, err);
}

/* Parses text that must succeed; prints the reason when it does not. */
static void parse_ok(enum reader r, const char *text, struct ss_docs *out) {
  struct ss_error err = {0};
  *out = (struct ss_docs){0};
  enum ss_err rc = run_reader(r, text, strlen(text), out, &err);
  if (rc)
    print_error("parse of <<%s>> failed: %s at %u:%u: %s\n", text, ss_err_name(rc), err.line,
                err.col, err.msg);
  assert_int_equal(rc, SS_EOK);
}

/* Parses text that must fail with code; returns the detail. The output must
 * stay empty. */
static struct ss_error parse_fails(enum reader r, const char *buf, size_t len,
                                   enum ss_err code) {
  struct ss_error err = {0};
  struct ss_docs docs = {0};
  enum ss_err rc = run_reader(r, buf, len, &docs, &err);
  if (rc != code)
    print_error("parse of <<%.200s>> gave %s (%s), expected %s\n", buf, ss_err_name(rc),
                err.msg, ss_err_name(code));
  assert_string_equal(ss_err_name(rc), ss_err_name(code));
  assert_int_equal(err.code, code);
  assert_true(strlen(err.msg) > 0);
  assert_int_equal(docs.n, 0);
  assert_null(docs.v);
  ss_docs_free(&docs);
  return err;
}

static struct ss_error parse_fails_str(enum reader r, const char *text, enum ss_err code) {
  return parse_fails(r, text, strlen(text), code);
}

/* Asserts the one document in text equals the JSON text want. */
static void assert_parses_to(enum reader r, const char *text, const char *want) {
  struct ss_docs docs;
  json_error_t jerr;
  json_t *w = json_loads(want, JSON_DECODE_ANY, &jerr);
  if (!w)
    print_error("bad expected JSON <<%s>>: %s\n", want, jerr.text);
  assert_non_null(w);
  parse_ok(r, text, &docs);
  assert_int_equal(docs.n, 1);
  if (!json_equal(docs.v[0]->root, w)) {
    char *got = json_dumps(docs.v[0]->root, JSON_ENCODE_ANY | JSON_COMPACT);
    print_error("<<%s>> read as %s, expected %s\n", text, got ? got : "?", want);
    free(got);
  }
  assert_true(json_equal(docs.v[0]->root, w));
  json_decref(w);
  ss_docs_free(&docs);
}

static void assert_pos(const struct ss_doc *doc, const char *path, unsigned line,
                       unsigned col) {
  struct ss_pos pos = {0, 0};
  bool found = ss_doc_pos(doc, path, &pos);
  if (!found || pos.line != line || pos.col != col)
    print_error("position of \"%s\": %s %u:%u, expected %u:%u\n", path,
                found ? "found" : "not found", pos.line, pos.col, line, col);
  assert_true(found);
  assert_int_equal(pos.line, line);
  assert_int_equal(pos.col, col);
}

/* A NUL-terminated string of n copies of s. */
static char *repeat(const char *s, size_t n) {
  size_t k = strlen(s);
  char *b = malloc(k * n + 1);
  assert_non_null(b);
  for (size_t i = 0; i < n; i++)
    memcpy(b + i * k, s, k);
  b[k * n] = '\0';
  return b;
}

/* ------------------------------------------------------------------ JSON */

static void test_json_reads_objects_arrays_and_literals(void **state) {
  (void)state;
  static const struct {
    const char *in, *want;
  } cases[] = {
      {"{}", "{}"},
      {"[]", "[]"},
      {" {\"a\" : 1 , \"b\":[true,false,null, \"x\"]}\n", "{\"a\":1,\"b\":[true,false,null,\"x\"]}"},
      {"[[[]],{}]", "[[[]],{}]"},
      {"{\"a\":{\"b\":{\"c\":\"d\"}}}", "{\"a\":{\"b\":{\"c\":\"d\"}}}"},
      {"\r\n\t[1]\r\n", "[1]"},
      {"[\"\"]", "[\"\"]"},
  };
  for (size_t i = 0; i < N_ELEMS(cases); i++)
    assert_parses_to(R_JSON, cases[i].in, cases[i].want);
}

static void test_json_numbers_keep_int_or_real(void **state) {
  (void)state;
  static const struct {
    const char *in;
    bool is_int;
    json_int_t i;
    double d;
  } cases[] = {
      {"[0]", true, 0, 0},
      {"[-0]", true, 0, 0},
      {"[42]", true, 42, 0},
      {"[-7]", true, -7, 0},
      {"[9223372036854775807]", true, INT64_MAX, 0},
      {"[-9223372036854775808]", true, INT64_MIN, 0},
      {"[9223372036854775808]", false, 0, 9223372036854775808.0}, /* big: real */
      {"[12345678901234567890]", false, 0, 12345678901234567890.0},
      {"[0.5]", false, 0, 0.5},
      {"[1.0]", false, 0, 1.0},
      {"[1e3]", false, 0, 1000.0},
      {"[1E-2]", false, 0, 0.01},
      {"[-2.5e+1]", false, 0, -25.0},
  };
  for (size_t i = 0; i < N_ELEMS(cases); i++) {
    struct ss_docs docs;
    parse_ok(R_JSON, cases[i].in, &docs);
    json_t *v = json_array_get(docs.v[0]->root, 0);
    assert_non_null(v);
    assert_int_equal(json_is_integer(v), cases[i].is_int);
    assert_int_equal(json_is_real(v), !cases[i].is_int);
    if (cases[i].is_int)
      assert_int_equal(json_integer_value(v), cases[i].i);
    else
      assert_true(json_real_value(v) == cases[i].d);
    ss_docs_free(&docs);
  }
}

static void test_json_rejects_bad_numbers_and_literals(void **state) {
  (void)state;
  static const char *const cases[] = {
      "[01]", "[-01]", "[1.]", "[.5]", "[1e]", "[1e+]", "[+1]", "[-]",
      "[NaN]", "[Infinity]", "[1e999]", "[tru]", "[truex]", "[nul]", "['a']",
      "{a:1}", "{\"a\" 1}", "{\"a\":1,}", "[1,]", "[1 2]", "{\"a\":}", "[",
      "{", "{\"a\"", "{\"a\":1", "[1,",
  };
  for (size_t i = 0; i < N_ELEMS(cases); i++) {
    struct ss_error err = parse_fails_str(R_JSON, cases[i], SS_ESYNTAX);
    assert_int_equal(err.line, 1);
    assert_true(err.col >= 1);
  }
}

static void test_json_decodes_escapes_and_surrogate_pairs(void **state) {
  (void)state;
  static const struct {
    const char *in, *want;
    size_t want_len;
  } cases[] = {
      {"[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]", "\"\\/\b\f\n\r\t", 8},
      {"[\"\\u0041\\u00e9\"]", "A\xc3\xa9", 3},
      {"[\"\\u20AC\"]", "\xe2\x82\xac", 3},
      {"[\"\\ud83d\\ude00\"]", "\xf0\x9f\x98\x80", 4}, /* U+1F600 */
      {"[\"\\uD834\\uDD1E\"]", "\xf0\x9d\x84\x9e", 4}, /* U+1D11E */
      {"[\"caf\xc3\xa9 \xf0\x9f\x98\x80\"]", "caf\xc3\xa9 \xf0\x9f\x98\x80", 10},
  };
  for (size_t i = 0; i < N_ELEMS(cases); i++) {
    struct ss_docs docs;
    parse_ok(R_JSON, cases[i].in, &docs);
    json_t *s = json_array_get(docs.v[0]->root, 0);
    assert_true(json_is_string(s));
    assert_int_equal(json_string_length(s), cases[i].want_len);
    assert_memory_equal(json_string_value(s), cases[i].want, cases[i].want_len);
    ss_docs_free(&docs);
  }
}

static void test_json_rejects_bad_strings(void **state) {
  (void)state;
  static const struct {
    const char *in;
    const char *msg_has;
  } cases[] = {
      {"[\"abc", "unterminated"},
      {"{\"a\": \"abc\\", "unterminated"},
      {"[\"a\nb\"]", "control character"},
      {"[\"a\tb\"]", "control character"},
      {"[\"\x01\"]", "control character"},
      {"[\"\xff\"]", "UTF-8"},
      {"[\"\xc3\"]", "UTF-8"},               /* truncated sequence */
      {"[\"\xc0\xaf\"]", "UTF-8"},           /* overlong '/' */
      {"[\"\xe0\x80\xaf\"]", "UTF-8"},       /* overlong, 3 bytes */
      {"[\"\xed\xa0\x80\"]", "UTF-8"},       /* encoded surrogate */
      {"[\"\xf4\x90\x80\x80\"]", "UTF-8"},   /* above U+10FFFF */
      {"[\"\\x\"]", "escape"},
      {"[\"\\u12\"]", "escape"},
      {"[\"\\u12g4\"]", "escape"},
      {"[\"\\ud83d\"]", "surrogate"},
      {"[\"\\ud83dx\"]", "surrogate"},
      {"[\"\\ud83d\\u0041\"]", "surrogate"},
      {"[\"\\ude00\"]", "surrogate"},
      {"[\"\\u0000\"]", "NUL"},
  };
  for (size_t i = 0; i < N_ELEMS(cases); i++) {
    struct ss_error err = parse_fails_str(R_JSON, cases[i].in, SS_ESYNTAX);
    if (!strstr(err.msg, cases[i].msg_has))
      print_error("case %zu: \"%s\" lacks \"%s\"\n", i, err.msg, cases[i].msg_has);
    assert_non_null(strstr(err.msg, cases[i].msg_has));
  }
}

static void test_json_duplicate_key_reports_its_position(void **state) {
  (void)state;
  const char *in = "{\n  \"a\": 1,\n  \"b\": {\"c\": 1, \"c\": 2}\n}";
  struct ss_error err = parse_fails_str(R_JSON, in, SS_ESYNTAX);
  assert_non_null(strstr(err.msg, "duplicate key \"c\""));
  assert_int_equal(err.line, 3);
  assert_int_equal(err.col, 17);
  /* Same through format detection. */
  err = parse_fails_str(R_DOCS, in, SS_ESYNTAX);
  assert_int_equal(err.line, 3);
  assert_int_equal(err.col, 17);
}

static void test_json_trailing_garbage_is_an_error_at_its_position(void **state) {
  (void)state;
  struct ss_error err = parse_fails_str(R_JSON, "{\"a\": 1}\n  x", SS_ESYNTAX);
  assert_int_equal(err.line, 2);
  assert_int_equal(err.col, 3);
  err = parse_fails_str(R_JSON, "{\"a\": 1}]", SS_ESYNTAX);
  assert_int_equal(err.line, 1);
  assert_int_equal(err.col, 9);
  err = parse_fails_str(R_DOCS, "[1] ,", SS_ESYNTAX);
  assert_int_equal(err.col, 5);
}

static void test_json_concatenated_texts_are_several_documents(void **state) {
  (void)state;
  struct ss_docs docs;
  parse_ok(R_DOCS, "{\"a\": 1}{\"b\": 2}\n[3]\n\n{\"c\":\n 4}", &docs);
  assert_int_equal(docs.n, 4);
  assert_int_equal(json_integer_value(json_object_get(docs.v[0]->root, "a")), 1);
  assert_int_equal(json_integer_value(json_object_get(docs.v[1]->root, "b")), 2);
  assert_int_equal(json_integer_value(json_array_get(docs.v[2]->root, 0)), 3);
  assert_int_equal(json_integer_value(json_object_get(docs.v[3]->root, "c")), 4);
  /* Each document has its own start and position table. */
  assert_int_equal(docs.v[1]->start.line, 1);
  assert_int_equal(docs.v[1]->start.col, 9);
  assert_int_equal(docs.v[3]->start.line, 4);
  assert_pos(docs.v[3], "c", 5, 2);
  assert_pos(docs.v[2], "[0]", 2, 2);
  ss_docs_free(&docs);
}

static void test_json_empty_input_is_an_error(void **state) {
  (void)state;
  parse_fails_str(R_JSON, "", SS_ESYNTAX);
  parse_fails_str(R_JSON, " \n\t ", SS_ESYNTAX);
}

static void test_json_and_docs_skip_a_byte_order_mark(void **state) {
  (void)state;
  const char *in = "\xEF\xBB\xBF{\"a\": [1]}";
  assert_parses_to(R_JSON, in, "{\"a\":[1]}");
  assert_parses_to(R_DOCS, in, "{\"a\":[1]}");
  assert_parses_to(R_DOCS, "\xEF\xBB\xBF  \n[true]", "[true]");
  assert_parses_to(R_DOCS, "\xEF\xBB\xBF" "a: 1\n", "{\"a\":1}");
  struct ss_docs docs;
  parse_ok(R_JSON, in, &docs);
  assert_pos(docs.v[0], "", 1, 1); /* the mark takes no column */
  assert_pos(docs.v[0], "a", 1, 7);
  ss_docs_free(&docs);
}

static const char sdep_json[] = "{\n"
                                "  \"kind\": \"SeldonDeployment\",\n"
                                "  \"spec\": {\n"
                                "    \"predictors\": [\n"
                                "      {\"name\": \"p1\", \"graph\": {\"name\": \"clf\"}},\n"
                                "      {\n"
                                "        \"name\": \"p2\"\n"
                                "      }\n"
                                "    ],\n"
                                "    \"annotations\": {\"seldon.io/svc\": \"x\"}\n"
                                "  }\n"
                                "}\n";

static void test_json_positions_of_nested_values(void **state) {
  (void)state;
  struct ss_docs docs;
  parse_ok(R_JSON, sdep_json, &docs);
  const struct ss_doc *d = docs.v[0];
  static const struct {
    const char *path;
    unsigned line, col;
  } cases[] = {
      {"", 1, 1},
      {"kind", 2, 11},
      {"spec", 3, 11},
      {"spec.predictors", 4, 19},
      {"spec.predictors[0]", 5, 7},
      {"spec.predictors[0].name", 5, 16},
      {"spec.predictors[0].graph", 5, 31},
      {"spec.predictors[0].graph.name", 5, 40},
      {"spec.predictors[1]", 6, 7},
      {"spec.predictors[1].name", 7, 17},
      {"spec.annotations[seldon.io/svc]", 10, 38},
      /* absent: the nearest recorded ancestor */
      {"spec.predictors[0].replicas", 5, 7},
      {"spec.predictors[0].graph.children[0].name", 5, 31},
      {"spec.predictors[7].name", 4, 19},
      {"spec.annotations[other.io/x]", 10, 20},
      {"metadata.name", 1, 1},
  };
  for (size_t i = 0; i < N_ELEMS(cases); i++)
    assert_pos(d, cases[i].path, cases[i].line, cases[i].col);
  ss_docs_free(&docs);
}

static void test_json_positions_survive_table_growth(void **state) {
  (void)state;
  /* 300 values: more than the table's first size, so it must rehash. */
  char *body = repeat("7,\n", 299);
  size_t n = strlen(body);
  char *in = malloc(n + 8);
  assert_non_null(in);
  snprintf(in, n + 8, "[\n%s7]", body);
  struct ss_docs docs;
  parse_ok(R_JSON, in, &docs);
  assert_int_equal(json_array_size(docs.v[0]->root), 300);
  assert_pos(docs.v[0], "[0]", 2, 1);
  assert_pos(docs.v[0], "[150]", 152, 1);
  assert_pos(docs.v[0], "[299]", 301, 1);
  assert_pos(docs.v[0], "[300]", 1, 1);
  ss_docs_free(&docs);
  free(in);
  free(body);
}

static void test_doc_pos_without_positions(void **state) {
  (void)state;
  struct ss_pos pos = {0, 0};
  assert_false(ss_doc_pos(NULL, "a", &pos));
  struct ss_doc *d = ss_doc_new(json_object());
  assert_non_null(d);
  assert_false(ss_doc_pos(d, "a", &pos));
  d->start = (struct ss_pos){3, 1};
  assert_pos(d, "a.b", 3, 1); /* only the start is known */
  assert_int_equal(ss_doc_pos_put(d, "a[x.y]", 5, 2), SS_EOK);
  assert_int_equal(ss_doc_pos_put(d, "a", 4, 1), SS_EOK);
  assert_pos(d, "a[x.y].b[3]", 5, 2);
  assert_pos(d, "a[x.z]", 4, 1);
  assert_int_equal(ss_doc_pos_put(d, "a", 9, 9), SS_EOK); /* a second put moves it */
  assert_pos(d, "a.c", 9, 9);
  ss_doc_free(d);
  ss_doc_free(NULL);
  ss_docs_free(NULL);
}

/* ------------------------------------------------------------------ YAML */

static void test_yaml_streams_skip_empty_documents(void **state) {
  (void)state;
  struct ss_docs docs;
  parse_ok(R_YAML,
           "a: 1\n"
           "---\n"
           "---\n"
           "# only a comment\n"
           "---\n"
           "~\n"
           "--- []\n"
           "---\n"
           "b: 2\n"
           "...\n",
           &docs);
  assert_int_equal(docs.n, 3);
  assert_int_equal(json_integer_value(json_object_get(docs.v[0]->root, "a")), 1);
  assert_true(json_is_array(docs.v[1]->root));
  assert_int_equal(json_integer_value(json_object_get(docs.v[2]->root, "b")), 2);
  assert_pos(docs.v[2], "b", 9, 4);
  assert_int_equal(docs.v[2]->start.line, 8);
  ss_docs_free(&docs);

  parse_ok(R_YAML, "", &docs);
  assert_int_equal(docs.n, 0);
  ss_docs_free(&docs);
  parse_ok(R_DOCS, "# nothing\n---\n", &docs);
  assert_int_equal(docs.n, 0);
  ss_docs_free(&docs);
}

static void test_yaml_block_and_flow_styles_read_alike(void **state) {
  (void)state;
  const char *want = "{\"a\":{\"b\":[1,\"x\",{\"c\":null}]},\"d\":[]}";
  static const char *const in[] = {
      "a:\n  b:\n  - 1\n  - x\n  - c:\nd: []\n",
      "a:\n    b:\n        -   1\n        -   x\n        -   c: ~\nd: [ ]\n",
      "{a: {b: [1, x, {c: null}]}, d: []}\n",
      "a: {b: [1, \"x\", c: ]}\nd: []\n",
      "a:\n  b: [1,\n    'x',\n    {c: }]\nd:\n  []\n",
      "? a\n: b:\n    - 1\n    - x\n    - {c}\nd: []\n",
  };
  for (size_t i = 0; i < N_ELEMS(in); i++)
    assert_parses_to(R_YAML, in[i], want);
}

static void test_yaml_plain_scalars_typed_by_core_schema(void **state) {
  (void)state;
  static const struct {
    const char *scalar, *want;
  } cases[] = {
      {"", "null"},
      {"~", "null"},
      {"null", "null"},
      {"Null", "null"},
      {"NULL", "null"},
      {"true", "true"},
      {"True", "true"},
      {"FALSE", "false"},
      {"yes", "\"yes\""},       /* YAML 1.1 booleans are strings in 1.2 */
      {"on", "\"on\""},
      {"0", "0"},
      {"10", "10"},
      {"-5", "-5"},
      {"+5", "5"},
      {"007", "7"},
      {"0x1f", "31"},
      {"0xFF", "255"},
      {"0o17", "15"},
      {"0x", "\"0x\""},
      {"0o8", "\"0o8\""},
      {"-0x1", "\"-0x1\""},
      {"0.5", "0.5"},
      {".5", "0.5"},
      {"-1.5", "-1.5"},
      {"1.", "1.0"},
      {"1e3", "1000.0"},
      {"1E-2", "0.01"},
      {"9223372036854775807", "9223372036854775807"},
      {"99999999999999999999", "1e20"}, /* too big for an int: a real */
      {"1_000", "\"1_000\""},
      {"12abc", "\"12abc\""},
      {"1.2.3", "\"1.2.3\""},
      {"\"10\"", "\"10\""},
      {"'0.5'", "\"0.5\""},
      {"\"true\"", "\"true\""},
      {"''", "\"\""},
      {"!!str 10", "\"10\""},
      {"!!str true", "\"true\""},
      {"!!int 10", "10"},
      {"|\n  10", "\"10\\n\""},
      {">-\n  0.5", "\"0.5\""},
      {"hello world", "\"hello world\""},
  };
  for (size_t i = 0; i < N_ELEMS(cases); i++) {
    char in[128], want[128];
    snprintf(in, sizeof in, "v: %s\n", cases[i].scalar);
    snprintf(want, sizeof want, "{\"v\": %s}", cases[i].want);
    assert_parses_to(R_YAML, in, want);
  }
}

static void test_yaml_non_finite_numbers_are_errors(void **state) {
  (void)state;
  static const char *const cases[] = {"v: .inf\n", "v: -.inf\n", "v: +.Inf\n",
                                      "v: .nan\n", "v: .NaN\n",  "- 1e999\n"};
  for (size_t i = 0; i < N_ELEMS(cases); i++) {
    struct ss_error err = parse_fails_str(R_YAML, cases[i], SS_ESYNTAX);
    assert_int_equal(err.line, 1);
    assert_int_equal(err.col, 4 - (cases[i][0] == '-') * 1);
  }
  /* Quoted, they are strings. */
  assert_parses_to(R_YAML, "v: '.inf'\n", "{\"v\":\".inf\"}");
}

static void test_yaml_anchors_aliases_and_merge_keys(void **state) {
  (void)state;
  static const struct {
    const char *in, *want;
  } cases[] = {
      {"a: &x {k: 1}\nb: *x\n", "{\"a\":{\"k\":1},\"b\":{\"k\":1}}"},
      {"a: &s hello\nb: [*s, *s]\n", "{\"a\":\"hello\",\"b\":[\"hello\",\"hello\"]}"},
      {"a: &x [1, 2]\nb: *x\n", "{\"a\":[1,2],\"b\":[1,2]}"},
      {"a: &x 1\na2: &x 2\nb: *x\n", "{\"a\":1,\"a2\":2,\"b\":2}"}, /* latest wins */
      {"base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3\n",
       "{\"base\":{\"x\":1,\"y\":2},\"d\":{\"x\":1,\"y\":3}}"},
      {"p: &p {x: 1}\nq: &q {x: 2, z: 2}\nd: {<<: [*p, *q], w: 0}\n",
       "{\"p\":{\"x\":1},\"q\":{\"x\":2,\"z\":2},\"d\":{\"x\":1,\"z\":2,\"w\":0}}"},
      {"d: {<<: {a: 1}, b: 2}\n", "{\"d\":{\"a\":1,\"b\":2}}"},
      {"k: &k key\n*k : v\n", "{\"k\":\"key\",\"key\":\"v\"}"},
      /* Only a plain << merges; a quoted one is an ordinary key. */
      {"d: {'<<': {a: 1}}\n", "{\"d\":{\"<<\":{\"a\":1}}}"},
      {"d: {\"<<\": {a: 1}, b: 2}\n", "{\"d\":{\"<<\":{\"a\":1},\"b\":2}}"},
  };
  for (size_t i = 0; i < N_ELEMS(cases); i++)
    assert_parses_to(R_YAML, cases[i].in, cases[i].want);
}

static void test_yaml_unknown_alias_is_an_error(void **state) {
  (void)state;
  struct ss_error err = parse_fails_str(R_YAML, "a: 1\nb: *nope\n", SS_ESYNTAX);
  assert_non_null(strstr(err.msg, "nope"));
  assert_int_equal(err.line, 2);
  assert_int_equal(err.col, 4);
  /* Anchors do not carry over to the next document. */
  parse_fails_str(R_YAML, "a: &x 1\n---\nb: *x\n", SS_ESYNTAX);
}

static void test_yaml_collection_keys_are_unsupported(void **state) {
  (void)state;
  parse_fails_str(R_YAML, "[a]: 1\n", SS_EUNSUPPORTED);
  parse_fails_str(R_YAML, "? {a: 1}\n: 2\n", SS_EUNSUPPORTED);
  parse_fails_str(R_YAML, "x: &l [1]\n*l : 2\n", SS_EUNSUPPORTED);
}

static void test_yaml_duplicate_key_reports_its_position(void **state) {
  (void)state;
  struct ss_error err =
      parse_fails_str(R_YAML, "a: 1\nb:\n  c: 1\n  d: 2\n  c: 3\n", SS_ESYNTAX);
  assert_non_null(strstr(err.msg, "duplicate key \"c\""));
  assert_int_equal(err.line, 5);
  assert_int_equal(err.col, 3);
  err = parse_fails_str(R_YAML, "{a: 1, a: [2]}\n", SS_ESYNTAX);
  assert_int_equal(err.line, 1);
  assert_int_equal(err.col, 8);
}

static void test_yaml_tabs_inside_flow_collections(void **state) {
  (void)state;
  assert_parses_to(R_YAML, "{\n\t\"a\": 1,\n\t\"b\": [\n\t\t2,\n\t\t\"x\"\n\t]\n}\n",
                   "{\"a\":1,\"b\":[2,\"x\"]}");
  assert_parses_to(R_YAML, "spec: {\n\t\t  \"name\":\t\"x\"\n\t}\n", "{\"spec\":{\"name\":\"x\"}}");
}

/* The seed file mixes tabs and spaces inside braces: the YAML reader must
 * read it as the JSON reader does. */
static void test_yaml_reads_seed_json_with_tabs_like_json(void **state) {
  (void)state;
  char *buf = NULL;
  size_t len = 0;
  struct ss_error err = {0};
  enum ss_err rc =
      ss_read_file(SS_SOURCE_DIR "/examples/seldon-hpaspecs.json", &buf, &len, &err);
  if (rc)
    print_error("%s\n", err.msg);
  assert_int_equal(rc, SS_EOK);
  assert_non_null(memchr(buf, '\t', len));
  struct ss_docs j = {0}, y = {0};
  assert_int_equal(ss_json_parse(buf, len, &j, &err), SS_EOK);
  rc = ss_yaml_parse(buf, len, &y, &err);
  if (rc)
    print_error("%u:%u: %s\n", err.line, err.col, err.msg);
  assert_int_equal(rc, SS_EOK);
  assert_int_equal(j.n, 1);
  assert_int_equal(y.n, 1);
  assert_true(json_equal(j.v[0]->root, y.v[0]->root));
  ss_docs_free(&j);
  ss_docs_free(&y);
  free(buf);
}

static void test_yaml_syntax_error_reports_line_and_column(void **state) {
  (void)state;
  struct ss_error err = parse_fails_str(R_YAML, "a: b: c\n", SS_ESYNTAX);
  assert_int_equal(err.line, 1);
  assert_int_equal(err.col, 5);
  err = parse_fails_str(R_YAML, "a: 1\nb: [1, 2\nc: 3\n", SS_ESYNTAX);
  assert_true(err.line >= 2);
  assert_true(err.col >= 1);
  err = parse_fails_str(R_YAML, "a: 1\n\tb: 2\n", SS_ESYNTAX); /* tab as indentation */
  assert_int_equal(err.line, 2);
  err = parse_fails_str(R_YAML, "a: 'open\n", SS_ESYNTAX);
  assert_true(err.line >= 1);
  /* Through format detection, YAML errors keep their position too. */
  err = parse_fails_str(R_DOCS, "x: 1\ny: b: c\n", SS_ESYNTAX);
  assert_int_equal(err.line, 2);
  assert_int_equal(err.col, 5);
}

static const char sdep_yaml[] = "apiVersion: machinelearning.seldon.io/v1\n"
                                "kind: SeldonDeployment\n"
                                "spec:\n"
                                "  predictors:\n"
                                "  - name: p1\n"
                                "    graph:\n"
                                "      name: clf\n"
                                "      type: MODEL\n"
                                "    replicas: 2\n"
                                "  - {name: p2, graph: {name: g2}}\n";

static void test_yaml_positions_of_nested_values(void **state) {
  (void)state;
  struct ss_docs docs;
  parse_ok(R_DOCS, sdep_yaml, &docs);
  assert_int_equal(docs.n, 1);
  const struct ss_doc *d = docs.v[0];
  static const struct {
    const char *path;
    unsigned line, col;
  } cases[] = {
      {"", 1, 1},
      {"kind", 2, 7},
      {"spec.predictors[0].name", 5, 11},
      {"spec.predictors[0].graph.name", 7, 13},
      {"spec.predictors[0].graph.type", 8, 13},
      {"spec.predictors[0].replicas", 9, 15},
      {"spec.predictors[1]", 10, 5},
      {"spec.predictors[1].name", 10, 12},
      {"spec.predictors[1].graph.name", 10, 30},
      /* absent: the nearest recorded ancestor */
      {"spec.predictors[1].graph.children", 10, 23},
      {"spec.predictors[0].graph.name.x", 7, 13},
  };
  for (size_t i = 0; i < N_ELEMS(cases); i++)
    assert_pos(d, cases[i].path, cases[i].line, cases[i].col);
  ss_docs_free(&docs);
}

/* ---------------------------------------------------------------- limits */

static void test_input_over_max_bytes_is_a_limit_error(void **state) {
  (void)state;
  size_t n = SS_DOC_MAX_BYTES + 1;
  char *big = malloc(n + 1);
  assert_non_null(big);
  memset(big, ' ', n);
  big[0] = '[';
  big[n - 1] = ']';
  big[n] = '\0';
  for (enum reader r = R_DOCS; r <= R_YAML; r++)
    parse_fails(r, big, n, SS_ELIMIT);
  /* At the limit it is read. */
  big[n - 2] = ']';
  struct ss_docs docs = {0};
  struct ss_error err = {0};
  assert_int_equal(ss_docs_parse(big, n - 1, &docs, &err), SS_EOK);
  assert_int_equal(docs.n, 1);
  ss_docs_free(&docs);
  free(big);
}

/* n nested sequences, in JSON/flow form or in YAML block form. */
static char *nested(size_t n, bool block) {
  if (block) {
    char *dashes = repeat("- ", n);
    size_t k = strlen(dashes);
    char *b = realloc(dashes, k + 3);
    assert_non_null(b);
    memcpy(b + k, "1\n", 3);
    return b;
  }
  char *b = malloc(2 * n + 1);
  assert_non_null(b);
  memset(b, '[', n);
  memset(b + n, ']', n);
  b[2 * n] = '\0';
  return b;
}

static void test_nesting_over_max_depth_is_a_limit_error(void **state) {
  (void)state;
  static const struct {
    enum reader r;
    bool block;
  } cases[] = {{R_JSON, false}, {R_YAML, false}, {R_YAML, true}, {R_DOCS, false}};
  for (size_t i = 0; i < N_ELEMS(cases); i++) {
    /* At the limit: read. */
    char *in = nested(SS_DOC_MAX_DEPTH, cases[i].block);
    struct ss_docs docs;
    parse_ok(cases[i].r, in, &docs);
    assert_int_equal(docs.n, 1);
    ss_docs_free(&docs);
    free(in);
    /* One more, and far more: a limit error, without exhausting the stack. */
    size_t over[] = {SS_DOC_MAX_DEPTH + 1, 100000};
    for (size_t k = 0; k < N_ELEMS(over); k++) {
      in = nested(over[k], cases[i].block);
      struct ss_error err = parse_fails_str(cases[i].r, in, SS_ELIMIT);
      assert_non_null(strstr(err.msg, "nesting"));
      free(in);
    }
  }
}

static void test_string_over_max_is_a_limit_error(void **state) {
  (void)state;
  size_t n = SS_DOC_MAX_STRING;
  char *s = malloc(n + 16);
  assert_non_null(s);
  /* JSON: a value of the limit's length is read, one byte more is not. */
  for (size_t extra = 0; extra <= 1; extra++) {
    s[0] = '[';
    s[1] = '"';
    memset(s + 2, 'a', n + extra);
    memcpy(s + 2 + n + extra, "\"]", 3);
    if (extra) {
      parse_fails_str(R_JSON, s, SS_ELIMIT);
    } else {
      struct ss_docs docs;
      parse_ok(R_JSON, s, &docs);
      assert_int_equal(json_string_length(json_array_get(docs.v[0]->root, 0)), n);
      ss_docs_free(&docs);
    }
  }
  /* JSON key. */
  s[0] = '{';
  s[1] = '"';
  memset(s + 2, 'k', n + 1);
  memcpy(s + 3 + n, "\":1}", 5);
  parse_fails_str(R_JSON, s, SS_ELIMIT);
  /* YAML: a plain value, a quoted value, a key. */
  memcpy(s, "v: ", 3);
  memset(s + 3, 'a', n + 1);
  s[4 + n] = '\0';
  parse_fails_str(R_YAML, s, SS_ELIMIT);
  memcpy(s, "v: '", 4);
  memset(s + 4, 'a', n + 1);
  memcpy(s + 5 + n, "'", 2);
  parse_fails_str(R_YAML, s, SS_ELIMIT);
  /* An implicit key may not pass 1024 characters, so use an explicit one. */
  memcpy(s, "? ", 2);
  memset(s + 2, 'k', n + 1);
  memcpy(s + n + 3, "\n: 1\n", 6);
  parse_fails_str(R_YAML, s, SS_ELIMIT);
  free(s);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_yaml_alias_bomb_is_a_limit_error_quickly(void **state) {
  (void)state;
  const char *bomb = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
                     "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                     "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
                     "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                     "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
                     "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
                     "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
                     "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
                     "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
  double t0 = now_s();
  struct ss_error err = parse_fails_str(R_YAML, bomb, SS_ELIMIT);
  double dt = now_s() - t0;
  assert_non_null(strstr(err.msg, "limit"));
  print_message("alias bomb rejected in %.3f s\n", dt);
  assert_true(dt < 5.0);
  /* A bomb of mappings is counted too. */
  const char *merge = "a: &a {k1: 1, k2: 2, k3: 3, k4: 4, k5: 5, k6: 6, k7: 7, k8: 8}\n"
                      "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                      "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
                      "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                      "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
                      "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
                      "g: [*f,*f,*f]\n";
  t0 = now_s();
  parse_fails_str(R_YAML, merge, SS_ELIMIT);
  assert_true(now_s() - t0 < 5.0);
}

static void test_too_many_values_is_a_limit_error(void **state) {
  (void)state;
  char *items = repeat("1,", SS_DOC_MAX_NODES);
  size_t n = strlen(items);
  char *in = malloc(n + 4);
  assert_non_null(in);
  snprintf(in, n + 4, "[%s1]", items);
  parse_fails_str(R_JSON, in, SS_ELIMIT);
  parse_fails_str(R_YAML, in, SS_ELIMIT);
  free(in);
  free(items);
}

/* ------------------------------------------------------------------ emit */

static void test_emit_yaml_reads_back_as_the_same_tree(void **state) {
  (void)state;
  static const char *const trees[] = {
      "{\"a\":\"true\",\"b\":\"10\",\"c\":\"0.5\",\"d\":\"\",\"e\":\"null\",\"f\":\"~\","
      "\"g\":\"0x1f\",\"h\":\".inf\",\"i\":\"yes\",\"j\":\"1e3\",\"k\":\"-5\","
      "\"l\":\"a: b\",\"m\":\"- x\",\"n\":\"#c\",\"o\":\"two\\nlines\",\"p\":\" pad \","
      "\"q\":\"caf\\u00e9\",\"r\":\"*x\",\"s\":\"&y\",\"t\":\"!t\",\"u\":\"{x}\","
      "\"v\":\"'\",\"w\":\"\\\"\",\"x\":\"False\",\"y\":\"NULL\",\"z\":\"+1\"}",
      "{\"int\":10,\"neg\":-3,\"big\":9223372036854775807,\"real\":2.0,\"half\":0.5,"
      "\"tiny\":1e-300,\"huge\":1e300,\"third\":0.3333333333333333,\"t\":true,\"f\":false,"
      "\"n\":null}",
      "{\"10\":1,\"true\":2,\"\":3,\"0.5\":4,\"null\":5,\"<<\":{\"m\":1},\"a b\":6}",
      "{\"list\":[[],{},[1,[2,[3]]],{\"a\":{\"b\":[]}}],\"empty\":{}}",
      "[\"true\",\"10\",\"0.5\",\"\",1,1.5,null]",
      "\"10\"",
      "\"\"",
      "0.5",
      "[]",
  };
  for (size_t i = 0; i < N_ELEMS(trees); i++) {
    json_error_t jerr;
    json_t *t = json_loads(trees[i], JSON_DECODE_ANY, &jerr);
    if (!t)
      print_error("case %zu: %s\n", i, jerr.text);
    assert_non_null(t);
    char *y = ss_emit(t, SS_FMT_YAML);
    assert_non_null(y);
    struct ss_docs docs = {0};
    struct ss_error err = {0};
    enum ss_err rc = ss_yaml_parse(y, strlen(y), &docs, &err);
    if (rc)
      print_error("case %zu: emitted YAML does not parse (%u:%u %s):\n%s\n", i, err.line,
                  err.col, err.msg, y);
    assert_int_equal(rc, SS_EOK);
    assert_int_equal(docs.n, 1);
    if (!json_equal(docs.v[0]->root, t))
      print_error("case %zu: emitted as\n%s", i, y);
    assert_true(json_equal(docs.v[0]->root, t));
    ss_docs_free(&docs);
    free(y);
    json_decref(t);
  }
}

static void test_emit_yaml_quotes_ambiguous_strings_and_keeps_reals(void **state) {
  (void)state;
  json_t *t = json_pack("{s:s, s:s, s:f, s:i}", "s", "true", "n", "10", "r", 2.0, "i", 2);
  assert_non_null(t);
  char *y = ss_emit(t, SS_FMT_YAML);
  assert_non_null(y);
  assert_non_null(strstr(y, "s: 'true'\n"));
  assert_non_null(strstr(y, "n: '10'\n"));
  assert_non_null(strstr(y, "r: 2.0\n"));
  assert_non_null(strstr(y, "i: 2\n"));
  assert_null(strstr(y, "---"));
  free(y);
  json_decref(t);
}

static void test_emit_json_ends_with_newline_and_reads_back(void **state) {
  (void)state;
  json_t *t = json_pack("{s:[i,f,s,b,n], s:{}}", "a", 1, 0.1, "x\ny", 1, "e");
  assert_non_null(t);
  char *s = ss_emit(t, SS_FMT_JSON);
  assert_non_null(s);
  size_t n = strlen(s);
  assert_true(n > 0);
  assert_int_equal(s[n - 1], '\n');
  assert_true(n < 2 || s[n - 2] != '\n');
  assert_non_null(strstr(s, "\n  \"a\": [")); /* indented by 2 */
  struct ss_docs docs;
  parse_ok(R_DOCS, s, &docs);
  assert_int_equal(docs.n, 1);
  assert_true(json_equal(docs.v[0]->root, t));
  ss_docs_free(&docs);
  free(s);
  json_decref(t);
  /* A scalar too. */
  json_t *r = json_real(3.0);
  s = ss_emit(r, SS_FMT_JSON);
  assert_non_null(s);
  assert_string_equal(s, "3.0\n");
  free(s);
  json_decref(r);
}

static void test_format_real_is_shortest_and_stays_real(void **state) {
  (void)state;
  static const struct {
    double d;
    const char *want;
  } cases[] = {
      {2.0, "2.0"},   {0.5, "0.5"},     {-0.0, "-0.0"},     {0.1, "0.1"},
      {1e300, "1e+300"}, {1e20, "1e+20"}, {123456.0, "123456.0"}, {-2.5, "-2.5"},
  };
  for (size_t i = 0; i < N_ELEMS(cases); i++) {
    char buf[64];
    ss_format_real(cases[i].d, buf, sizeof buf);
    assert_string_equal(buf, cases[i].want);
  }
  /* Values that need 17 digits still read back exactly. */
  static const double exact[] = {1.0 / 3.0, 0.1 + 0.2, 5e-324, 1.7976931348623157e308};
  for (size_t i = 0; i < N_ELEMS(exact); i++) {
    char buf[64];
    ss_format_real(exact[i], buf, sizeof buf);
    assert_true(strtod(buf, NULL) == exact[i]);
    assert_non_null(strpbrk(buf, ".e"));
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_json_reads_objects_arrays_and_literals),
      cmocka_unit_test(test_json_numbers_keep_int_or_real),
      cmocka_unit_test(test_json_rejects_bad_numbers_and_literals),
      cmocka_unit_test(test_json_decodes_escapes_and_surrogate_pairs),
      cmocka_unit_test(test_json_rejects_bad_strings),
      cmocka_unit_test(test_json_duplicate_key_reports_its_position),
      cmocka_unit_test(test_json_trailing_garbage_is_an_error_at_its_position),
      cmocka_unit_test(test_json_concatenated_texts_are_several_documents),
      cmocka_unit_test(test_json_empty_input_is_an_error),
      cmocka_unit_test(test_json_and_docs_skip_a_byte_order_mark),
      cmocka_unit_test(test_json_positions_of_nested_values),
      cmocka_unit_test(test_json_positions_survive_table_growth),
      cmocka_unit_test(test_doc_pos_without_positions),
      cmocka_unit_test(test_yaml_streams_skip_empty_documents),
      cmocka_unit_test(test_yaml_block_and_flow_styles_read_alike),
      cmocka_unit_test(test_yaml_plain_scalars_typed_by_core_schema),
      cmocka_unit_test(test_yaml_non_finite_numbers_are_errors),
      cmocka_unit_test(test_yaml_anchors_aliases_and_merge_keys),
      cmocka_unit_test(test_yaml_unknown_alias_is_an_error),
      cmocka_unit_test(test_yaml_collection_keys_are_unsupported),
      cmocka_unit_test(test_yaml_duplicate_key_reports_its_position),
      cmocka_unit_test(test_yaml_tabs_inside_flow_collections),
      cmocka_unit_test(test_yaml_reads_seed_json_with_tabs_like_json),
      cmocka_unit_test(test_yaml_syntax_error_reports_line_and_column),
      cmocka_unit_test(test_yaml_positions_of_nested_values),
      cmocka_unit_test(test_input_over_max_bytes_is_a_limit_error),
      cmocka_unit_test(test_nesting_over_max_depth_is_a_limit_error),
      cmocka_unit_test(test_string_over_max_is_a_limit_error),
      cmocka_unit_test(test_yaml_alias_bomb_is_a_limit_error_quickly),
      cmocka_unit_test(test_too_many_values_is_a_limit_error),
      cmocka_unit_test(test_emit_yaml_reads_back_as_the_same_tree),
      cmocka_unit_test(test_emit_yaml_quotes_ambiguous_strings_and_keeps_reals),
      cmocka_unit_test(test_emit_json_ends_with_newline_and_reads_back),
      cmocka_unit_test(test_format_real_is_shortest_and_stays_real),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
