/* test_strmap.c: unit tests for src/common/strmap.c: lookups, replacement,
 * removal (and probing past removed slots), growth, and many keys against
 * a plain array as the oracle. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/strmap.h"

static void test_empty_and_basic(void **state) {
  (void)state;
  struct ss_strmap m = {0};
  assert_null(ss_strmap_get(&m, "a"));
  ss_strmap_del(&m, "a"); /* absent: nothing happens */
  int a = 1, b = 2, c = 3;
  assert_true(ss_strmap_put(&m, "a", &a));
  assert_true(ss_strmap_put(&m, "b", &b));
  assert_ptr_equal(ss_strmap_get(&m, "a"), &a);
  assert_ptr_equal(ss_strmap_get(&m, "b"), &b);
  assert_null(ss_strmap_get(&m, "c"));
  assert_true(ss_strmap_put(&m, "a", &c)); /* replaces */
  assert_ptr_equal(ss_strmap_get(&m, "a"), &c);
  assert_int_equal(m.n, 2);
  assert_false(ss_strmap_put(&m, "x", NULL)); /* NULL is "absent" */
  ss_strmap_del(&m, "a");
  assert_null(ss_strmap_get(&m, "a"));
  assert_ptr_equal(ss_strmap_get(&m, "b"), &b);
  assert_int_equal(m.n, 1);
  ss_strmap_fini(&m);
  assert_null(ss_strmap_get(&m, "b"));
  ss_strmap_fini(&m); /* twice is fine */
}

#define N 5000

static void test_many_against_an_array(void **state) {
  (void)state;
  static char keys[N][32];
  static int present[N];
  struct ss_strmap m = {0};
  for (int i = 0; i < N; i++) {
    snprintf(keys[i], sizeof keys[i], "ns-%d.model-%d", i % 7, i);
    assert_true(ss_strmap_put(&m, keys[i], &present[i]));
    present[i] = 1;
  }
  /* remove every third, then put some back: probes go past removed slots */
  for (int i = 0; i < N; i += 3) {
    ss_strmap_del(&m, keys[i]);
    present[i] = 0;
  }
  for (int i = 0; i < N; i += 9) {
    assert_true(ss_strmap_put(&m, keys[i], &present[i]));
    present[i] = 1;
  }
  size_t n = 0;
  for (int i = 0; i < N; i++) {
    n += (size_t)present[i];
    if (present[i])
      assert_ptr_equal(ss_strmap_get(&m, keys[i]), &present[i]);
    else
      assert_null(ss_strmap_get(&m, keys[i]));
  }
  assert_int_equal(m.n, n);
  /* churn: removed slots are reused, the table does not grow without end */
  size_t cap = m.cap;
  for (int round = 0; round < 20; round++)
    for (int i = 1; i < N; i += 3) {
      ss_strmap_del(&m, keys[i]);
      assert_true(ss_strmap_put(&m, keys[i], &present[i]));
    }
  assert_true(m.cap <= cap * 2);
  for (int i = 0; i < N; i++)
    if (present[i])
      assert_ptr_equal(ss_strmap_get(&m, keys[i]), &present[i]);
  ss_strmap_fini(&m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_empty_and_basic),
      cmocka_unit_test(test_many_against_an_array),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
