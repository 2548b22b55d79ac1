/* test_quantity.c: unit tests for src/model/quantity.c (Kubernetes resource
 * quantities) and src/model/names.c (RFC 1123 names), as tables of cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "model/names.h"
#include "model/quantity.h"

#define N_ELEMS(a) (sizeof(a) / sizeof *(a))

/* ---- ss_quantity_parse: accepted forms ---- */

struct qty_ok_case {
  const char *in;
  int64_t milli;
};

static const struct qty_ok_case qty_ok_cases[] = {
    {"0", 0},
    {"0.5", 500},
    {"500m", 500},
    {"1", 1000},
    {"1.5", 1500},
    {"2k", 2000000},
    {"1M", 1000000000},
    {"1Ki", 1024000},
    {"1Mi", INT64_C(1048576000)},
    {"1Gi", INT64_C(1073741824000)},
    {"1.5Gi", INT64_C(1610612736000)},
    {"1e3", 1000000},
    {"1E3", 1000000},
    {"1e-3", 1},
    {"1e+2", 100000},
    {".5", 500},
    {"0.05", 50},
    {"+1", 1000},
    {"-1", -1000}, /* negative parses; validation rejects it elsewhere */
    {"0.0001", 1}, /* below a thousandth: rounds up to 1m, like MilliValue() */
    {"1n", 1},
    {"1u", 1},
    {"1500u", 2},
    {"1m", 1},
    {"1e-30", 1},
    {"123456789012345678m", INT64_C(123456789012345678)}, /* 18 digits fit */
};

static void test_quantity_parse_accepts_kubernetes_forms(void **state) {
  (void)state;
  for (size_t i = 0; i < N_ELEMS(qty_ok_cases); i++) {
    const struct qty_ok_case *c = &qty_ok_cases[i];
    struct ss_quantity q = {.milli = -424242};
    const char *why = NULL;
    bool ok = ss_quantity_parse(c->in, &q, &why);
    if (!ok)
      print_error("\"%s\" rejected: %s\n", c->in, why ? why : "(null)");
    else if (q.milli != c->milli)
      print_error("\"%s\" read as %lld milli\n", c->in, (long long)q.milli);
    assert_true(ok);
    assert_int_equal(q.milli, c->milli);
  }
}

/* ---- ss_quantity_parse: rejected forms ---- */

struct qty_bad_case {
  const char *in;
  const char *why_has; /* a word the reason must contain */
};

static const struct qty_bad_case qty_bad_cases[] = {
    {"", "empty"},
    {"abc", "number"},
    {"1x", "suffix"},
    {"1.2.3", "suffix"},
    {"1e", "suffix"},
    {"1ee3", "exponent"},
    {"1e3x", "exponent"},
    {"1e+", "exponent"},
    {"Ki", "number"},
    {"m", "number"},
    {".", "number"},
    {"+", "number"},
    {"-", "number"},
    {" 1", "number"},
    {"1 ", "suffix"},
    {"1KI", "suffix"},
    {"1ki", "suffix"},
    {"99999999999999999999", "digits"},
    {"9999999Ei", "too large"},
    {"1Ei", "too large"}, /* 1024^6 units do not fit in milli-units */
    {"10E", "too large"},
    {"1e99999", "exponent"},
    {"9223372036854775807", "digits"},
    {"9223372036854775k", "too large"},
};

static void test_quantity_parse_rejects_malformed_and_huge(void **state) {
  (void)state;
  for (size_t i = 0; i < N_ELEMS(qty_bad_cases); i++) {
    const struct qty_bad_case *c = &qty_bad_cases[i];
    struct ss_quantity q = {.milli = 0};
    const char *why = NULL;
    bool ok = ss_quantity_parse(c->in, &q, &why);
    if (ok)
      print_error("\"%s\" accepted as %lld milli\n", c->in, (long long)q.milli);
    assert_false(ok);
    assert_non_null(why);
    assert_true(strlen(why) > 0);
    if (!strstr(why, c->why_has))
      print_error("\"%s\": reason \"%s\" lacks \"%s\"\n", c->in, why, c->why_has);
    assert_non_null(strstr(why, c->why_has));
  }
}

static void test_quantity_parse_rejects_null(void **state) {
  (void)state;
  struct ss_quantity q;
  const char *why = NULL;
  assert_false(ss_quantity_parse(NULL, &q, &why));
  assert_non_null(why);
}

/* ---- ss_quantity_from_json ---- */

static void test_quantity_from_json_takes_numbers_and_strings(void **state) {
  (void)state;
  struct {
    json_t *v;
    bool ok;
    int64_t milli;
  } cases[] = {
      {json_real(0.5), true, 500},  /* YAML "cpu: 0.5" */
      {json_integer(2), true, 2000},
      {json_integer(-3), true, -3000},
      {json_real(1e-5), true, 1},
      {json_real(2.0), true, 2000},
      {json_string("250m"), true, 250},
      {json_string("1Gi"), true, INT64_C(1073741824000)},
      {json_string("x"), false, 0},
      {json_real(1e300), false, 0},
      {json_true(), false, 0},
      {json_null(), false, 0},
      {json_object(), false, 0},
  };
  for (size_t i = 0; i < N_ELEMS(cases); i++) {
    struct ss_quantity q = {.milli = -424242};
    const char *why = NULL;
    assert_non_null(cases[i].v);
    bool ok = ss_quantity_from_json(cases[i].v, &q, &why);
    if (ok != cases[i].ok || (ok && q.milli != cases[i].milli))
      print_error("case %zu: ok=%d milli=%lld why=%s\n", i, ok, (long long)q.milli,
                  why ? why : "-");
    assert_int_equal(ok, cases[i].ok);
    if (ok) {
      assert_int_equal(q.milli, cases[i].milli);
    } else {
      assert_non_null(why);
      assert_true(strlen(why) > 0);
    }
  }
  for (size_t i = 0; i < N_ELEMS(cases); i++)
    json_decref(cases[i].v);
}

/* ---- ss_quantity_format ---- */

static void test_quantity_format_whole_units_plain_fractions_in_milli(void **state) {
  (void)state;
  struct {
    int64_t milli;
    const char *out;
  } cases[] = {
      {0, "0"},           {500, "500m"},       {1000, "1"},
      {1500, "1500m"},    {1024000, "1024"},   {-1000, "-1"},
      {-250, "-250m"},    {1, "1m"},           {INT64_C(1073741824000), "1073741824"},
  };
  for (size_t i = 0; i < N_ELEMS(cases); i++) {
    char buf[32];
    memset(buf, 'X', sizeof buf);
    ss_quantity_format((struct ss_quantity){cases[i].milli}, buf, sizeof buf);
    assert_string_equal(buf, cases[i].out);
  }
}

static void test_quantity_format_reads_back(void **state) {
  (void)state;
  const char *in[] = {"0.5", "1Gi", "2k", "1e3", "0.0001", "-1", "1536Mi", "123m"};
  for (size_t i = 0; i < N_ELEMS(in); i++) {
    struct ss_quantity a, b;
    const char *why = NULL;
    char buf[32];
    assert_true(ss_quantity_parse(in[i], &a, &why));
    ss_quantity_format(a, buf, sizeof buf);
    if (!ss_quantity_parse(buf, &b, &why))
      print_error("\"%s\" formatted as \"%s\" does not parse: %s\n", in[i], buf, why);
    assert_true(ss_quantity_parse(buf, &b, &why));
    assert_int_equal(a.milli, b.milli);
  }
}

/* ---- names ---- */

struct name_case {
  const char *in;
  bool label_ok;
  bool subdomain_ok;
};

static void test_dns1123_label_and_subdomain_rules(void **state) {
  (void)state;
  static const struct name_case cases[] = {
      {"a", true, true},
      {"my-name", true, true},
      {"123-abc", true, true},
      {"0", true, true},
      {"a-b-c", true, true},
      {"a.b", false, true},
      {"example.com", false, true},
      {"seldon.io", false, true},
      {"a-1.b-2.c", false, true},
      {"", false, false},
      {"My-name", false, false},
      {"UPPER", false, false},
      {"-a", false, false},
      {"a-", false, false},
      {"a_b", false, false},
      {"a b", false, false},
      {"a/b", false, false},
      {"\xc3\xa4", false, false},
      {".a", false, false},
      {"a.", false, false},
      {"a..b", false, false},
      {"a.-b", false, false},
      {"a-.b", false, false},
      {".", false, false},
  };
  for (size_t i = 0; i < N_ELEMS(cases); i++) {
    const struct name_case *c = &cases[i];
    const char *l = ss_dns1123_label(c->in);
    const char *s = ss_dns1123_subdomain(c->in);
    if ((l == NULL) != c->label_ok || (s == NULL) != c->subdomain_ok)
      print_error("\"%s\": label=%s subdomain=%s\n", c->in, l ? l : "ok", s ? s : "ok");
    assert_int_equal(l == NULL, c->label_ok);
    assert_int_equal(s == NULL, c->subdomain_ok);
    if (l)
      assert_true(strlen(l) > 0);
    if (s)
      assert_true(strlen(s) > 0);
  }
}

static void test_dns1123_label_length_limit_is_63(void **state) {
  (void)state;
  char buf[SS_DNS1123_LABEL_MAX + 2];
  memset(buf, 'a', sizeof buf);
  buf[63] = '\0';
  assert_null(ss_dns1123_label(buf));
  assert_null(ss_dns1123_subdomain(buf));
  buf[63] = 'a';
  buf[64] = '\0';
  const char *why = ss_dns1123_label(buf);
  assert_non_null(why);
  assert_non_null(strstr(why, "63"));
  /* A subdomain only limits the whole name. */
  assert_null(ss_dns1123_subdomain(buf));
}

static void test_dns1123_subdomain_length_limit_is_253(void **state) {
  (void)state;
  char buf[SS_DNS1123_SUBDOMAIN_MAX + 2];
  /* "aaa...a.aaa...a" pattern: labels of 9 'a' then a '.' */
  for (size_t i = 0; i < sizeof buf - 1; i++)
    buf[i] = (i % 10 == 9) ? '.' : 'a';
  buf[252] = 'a'; /* must end alphanumeric */
  buf[253] = '\0';
  assert_null(ss_dns1123_subdomain(buf));
  buf[253] = 'a';
  buf[254] = '\0';
  const char *why = ss_dns1123_subdomain(buf);
  assert_non_null(why);
  assert_non_null(strstr(why, "253"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_quantity_parse_accepts_kubernetes_forms),
      cmocka_unit_test(test_quantity_parse_rejects_malformed_and_huge),
      cmocka_unit_test(test_quantity_parse_rejects_null),
      cmocka_unit_test(test_quantity_from_json_takes_numbers_and_strings),
      cmocka_unit_test(test_quantity_format_whole_units_plain_fractions_in_milli),
      cmocka_unit_test(test_quantity_format_reads_back),
      cmocka_unit_test(test_dns1123_label_and_subdomain_rules),
      cmocka_unit_test(test_dns1123_label_length_limit_is_63),
      cmocka_unit_test(test_dns1123_subdomain_length_limit_is_253),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
