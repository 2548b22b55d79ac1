/* test_oauth.c: unit tests for src/gateway/oauth.c (client-credentials
 * tokens). The clock is a parameter, so expiry is tested here; the
 * end-to-end test (tests/e2e/test_gateway.py) cannot wait 12 hours. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/internal.h"

#define NOW 1700000000

static void test_token_expires(void **state) {
  (void)state;
  struct ss__gw_oauth *o = ss__gw_oauth_new();
  assert_non_null(o);
  char tok[65];
  assert_true(ss__gw_oauth_issue(o, "ns", "dep", NOW, tok));
  assert_int_equal(strlen(tok), 64);
  assert_true(ss__gw_oauth_check(o, "ns", "dep", tok, NOW));
  assert_true(ss__gw_oauth_check(o, "ns", "dep", tok, NOW + SS_GW_TOKEN_TTL_S - 1));
  /* expired at issue + TTL, and after */
  assert_false(ss__gw_oauth_check(o, "ns", "dep", tok, NOW + SS_GW_TOKEN_TTL_S));
  assert_false(ss__gw_oauth_check(o, "ns", "dep", tok, NOW + SS_GW_TOKEN_TTL_S + 3600));
  /* an issue after expiry sweeps it: it stays invalid even with an old clock */
  char tok2[65];
  assert_true(ss__gw_oauth_issue(o, "ns", "dep", NOW + SS_GW_TOKEN_TTL_S + 1, tok2));
  assert_false(ss__gw_oauth_check(o, "ns", "dep", tok, NOW));
  assert_true(ss__gw_oauth_check(o, "ns", "dep", tok2, NOW + SS_GW_TOKEN_TTL_S + 2));
  ss__gw_oauth_free(o);
}

static void test_token_scope(void **state) {
  (void)state;
  struct ss__gw_oauth *o = ss__gw_oauth_new();
  assert_non_null(o);
  char a[65], b[65];
  assert_true(ss__gw_oauth_issue(o, "ns", "a", NOW, a));
  assert_true(ss__gw_oauth_issue(o, "ns", "b", NOW, b));
  assert_string_not_equal(a, b);
  /* a token is good for its deployment only */
  assert_true(ss__gw_oauth_check(o, "ns", "a", a, NOW));
  assert_false(ss__gw_oauth_check(o, "ns", "b", a, NOW));
  assert_false(ss__gw_oauth_check(o, "other", "a", a, NOW));
  /* one character off, a prefix, empty, NULL */
  char c[65];
  memcpy(c, a, sizeof c);
  c[63] = c[63] == '0' ? '1' : '0';
  assert_false(ss__gw_oauth_check(o, "ns", "a", c, NOW));
  c[63] = '\0';
  assert_false(ss__gw_oauth_check(o, "ns", "a", c, NOW));
  assert_false(ss__gw_oauth_check(o, "ns", "a", "", NOW));
  assert_false(ss__gw_oauth_check(o, "ns", "a", NULL, NOW));
  ss__gw_oauth_free(o);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_token_expires),
      cmocka_unit_test(test_token_scope),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
