/* test_oauth.c: unit tests for src/gateway/oauth.c (client-credentials
 * tokens). The clock is a parameter, so expiry is tested here; the
 * end-to-end test (tests/e2e/test_gateway.py) cannot wait 12 hours. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/internal.h"

#define NOW 1700000000

/* A deployment ns/name with a fixed uid, key and secret. */
static struct ss__gw_oauth_client client(const char *ns, const char *name) {
  return (struct ss__gw_oauth_client){
      .ns = ns, .name = name, .uid = "0b8e-uid", .key = "key", .secret = "secret"};
}

static bool check(struct ss__gw_oauth *o, const struct ss__gw_oauth_client *cl, const char *tok,
                  int64_t now_s) {
  return ss__gw_oauth_check(o, cl, tok, tok ? strlen(tok) : 0, now_s);
}

static void test_token_expires(void **state) {
  (void)state;
  struct ss__gw_oauth *o = ss__gw_oauth_new();
  assert_non_null(o);
  struct ss__gw_oauth_client cl = client("ns", "dep");
  char tok[SS_GW_TOKEN_LEN + 1];
  assert_true(ss__gw_oauth_issue(o, &cl, NOW, tok));
  assert_int_equal(strlen(tok), SS_GW_TOKEN_LEN);
  assert_true(check(o, &cl, tok, NOW));
  assert_true(check(o, &cl, tok, NOW + SS_GW_TOKEN_TTL_S - 1));
  /* expired at issue + TTL, and after */
  assert_false(check(o, &cl, tok, NOW + SS_GW_TOKEN_TTL_S));
  assert_false(check(o, &cl, tok, NOW + SS_GW_TOKEN_TTL_S + 3600));
  /* the check that found it expired reclaimed it: invalid even with an old
   * clock */
  assert_false(check(o, &cl, tok, NOW));
  assert_int_equal(ss__gw_oauth_count(o), 0);
  /* an issue reclaims expired tokens nobody checks */
  char a[SS_GW_TOKEN_LEN + 1], b[SS_GW_TOKEN_LEN + 1];
  assert_true(ss__gw_oauth_issue(o, &cl, NOW, a));
  assert_true(ss__gw_oauth_issue(o, &cl, NOW + SS_GW_TOKEN_TTL_S + 1, b));
  assert_int_equal(ss__gw_oauth_count(o), 1);
  assert_false(check(o, &cl, a, NOW));
  assert_true(check(o, &cl, b, NOW + SS_GW_TOKEN_TTL_S + 2));
  ss__gw_oauth_free(o);
}

static void test_token_scope(void **state) {
  (void)state;
  struct ss__gw_oauth *o = ss__gw_oauth_new();
  assert_non_null(o);
  /* same uid, key and secret: only the deployment differs */
  struct ss__gw_oauth_client ca = client("ns", "a"), cb = client("ns", "b"),
                             cother = client("other", "a");
  char a[SS_GW_TOKEN_LEN + 1], b[SS_GW_TOKEN_LEN + 1];
  assert_true(ss__gw_oauth_issue(o, &ca, NOW, a));
  assert_true(ss__gw_oauth_issue(o, &cb, NOW, b));
  assert_string_not_equal(a, b);
  /* a token is good for its deployment only */
  assert_true(check(o, &ca, a, NOW));
  assert_false(check(o, &cb, a, NOW));
  assert_false(check(o, &cother, a, NOW));
  assert_true(check(o, &cb, b, NOW));
  assert_false(check(o, &ca, b, NOW));
  /* one character off, a prefix, empty, NULL */
  char c[SS_GW_TOKEN_LEN + 1];
  memcpy(c, a, sizeof c);
  c[63] = c[63] == '0' ? '1' : '0';
  assert_false(check(o, &ca, c, NOW));
  c[63] = '\0';
  assert_false(check(o, &ca, c, NOW));
  assert_false(check(o, &ca, "", NOW));
  assert_false(ss__gw_oauth_check(o, &ca, NULL, SS_GW_TOKEN_LEN, NOW));
  /* refusals under another deployment did not revoke it */
  assert_true(check(o, &ca, a, NOW));
  ss__gw_oauth_free(o);
}

/* A changed key or secret, or the deployment deleted and recreated (a new
 * uid), revokes every token issued before; the new binding's tokens work. */
static void test_rebinding_revokes(void **state) {
  (void)state;
  struct ss__gw_oauth *o = ss__gw_oauth_new();
  assert_non_null(o);
  struct ss__gw_oauth_client cl = client("ns", "dep");
  char tok[SS_GW_TOKEN_LEN + 1];
  assert_true(ss__gw_oauth_issue(o, &cl, NOW, tok));

  struct ss__gw_oauth_client secret = cl, key = cl, uid = cl, no_uid = cl;
  secret.secret = "secret2";
  key.key = "key2";
  uid.uid = "7f3c-uid";
  no_uid.uid = "";
  assert_false(check(o, &secret, tok, NOW));
  assert_false(check(o, &key, tok, NOW));
  assert_false(check(o, &uid, tok, NOW));
  assert_false(check(o, &no_uid, tok, NOW));

  /* A worker still on the old secret refuses a token issued under the new
   * one without destroying it. */
  char fresh[SS_GW_TOKEN_LEN + 1];
  assert_true(ss__gw_oauth_issue(o, &secret, NOW, fresh));
  assert_false(check(o, &cl, fresh, NOW));
  assert_true(check(o, &secret, fresh, NOW));
  ss__gw_oauth_free(o);
}

/* Fields are length-prefixed: moving a boundary between two of them is a
 * different binding, though the concatenation is the same. */
static void test_field_boundaries(void **state) {
  (void)state;
  struct ss__gw_oauth *o = ss__gw_oauth_new();
  assert_non_null(o);
  struct ss__gw_oauth_client a = client("ns", "ab"), b = client("nsa", "b");
  char tok[SS_GW_TOKEN_LEN + 1];
  assert_true(ss__gw_oauth_issue(o, &a, NOW, tok));
  assert_true(check(o, &a, tok, NOW));
  assert_false(check(o, &b, tok, NOW));

  struct ss__gw_oauth_client k1 = client("ns", "d"), k2 = client("ns", "d");
  k1.key = "k";
  k1.secret = "ey:s";
  k2.key = "key:";
  k2.secret = "s";
  assert_true(ss__gw_oauth_issue(o, &k1, NOW, tok));
  assert_true(check(o, &k1, tok, NOW));
  assert_false(check(o, &k2, tok, NOW));
  ss__gw_oauth_free(o);
}

/* Past SS_GW_TOKENS_PER_CLIENT the client's oldest token goes, no other
 * client's, and issuing never fails. */
static void test_client_cap_evicts_oldest(void **state) {
  (void)state;
  struct ss__gw_oauth *o = ss__gw_oauth_new();
  assert_non_null(o);
  struct ss__gw_oauth_client cl = client("ns", "dep"), other = client("ns", "other");
  char first[SS_GW_TOKEN_LEN + 1], second[SS_GW_TOKEN_LEN + 1], last[SS_GW_TOKEN_LEN + 1],
      keep[SS_GW_TOKEN_LEN + 1];
  assert_true(ss__gw_oauth_issue(o, &other, NOW, keep));
  assert_true(ss__gw_oauth_issue(o, &cl, NOW, first));
  assert_true(ss__gw_oauth_issue(o, &cl, NOW, second));
  for (int i = 2; i < SS_GW_TOKENS_PER_CLIENT; i++)
    assert_true(ss__gw_oauth_issue(o, &cl, NOW, last));
  /* at the cap: all still valid */
  assert_true(check(o, &cl, first, NOW));
  assert_int_equal(ss__gw_oauth_count(o), SS_GW_TOKENS_PER_CLIENT + 1);
  assert_true(ss__gw_oauth_issue(o, &cl, NOW, last));
  assert_false(check(o, &cl, first, NOW));
  assert_true(check(o, &cl, second, NOW));
  assert_true(check(o, &cl, last, NOW));
  assert_true(check(o, &other, keep, NOW));
  assert_int_equal(ss__gw_oauth_count(o), SS_GW_TOKENS_PER_CLIENT + 1);
  for (int i = 0; i < 3 * SS_GW_TOKENS_PER_CLIENT; i++)
    assert_true(ss__gw_oauth_issue(o, &cl, NOW, last));
  assert_true(check(o, &cl, last, NOW));
  assert_false(check(o, &cl, second, NOW));
  assert_true(check(o, &other, keep, NOW));
  assert_int_equal(ss__gw_oauth_count(o), SS_GW_TOKENS_PER_CLIENT + 1);
  ss__gw_oauth_free(o);
}

/* Past SS_GW_MAX_TOKENS the table's oldest tokens go: issuing never fails
 * and the table stays bounded. Clients hold 500 each, below their own cap,
 * so only the global cap evicts. */
#define N_CLIENTS 200
static void test_global_cap_evicts_oldest(void **state) {
  (void)state;
  struct ss__gw_oauth *o = ss__gw_oauth_new();
  assert_non_null(o);
  static char names[N_CLIENTS][16];
  struct ss__gw_oauth_client cls[N_CLIENTS];
  for (int i = 0; i < N_CLIENTS; i++) {
    snprintf(names[i], sizeof names[i], "dep-%d", i);
    cls[i] = client("ns", names[i]);
  }
  const int total = SS_GW_MAX_TOKENS + 10;
  char early[11][SS_GW_TOKEN_LEN + 1], late[10][SS_GW_TOKEN_LEN + 1], tok[SS_GW_TOKEN_LEN + 1];
  for (int i = 0; i < total; i++) {
    char *out = i < 11 ? early[i] : i >= total - 10 ? late[i - (total - 10)] : tok;
    assert_true(ss__gw_oauth_issue(o, &cls[i % N_CLIENTS], NOW, out));
    assert_true(ss__gw_oauth_count(o) <= SS_GW_MAX_TOKENS);
  }
  assert_int_equal(ss__gw_oauth_count(o), SS_GW_MAX_TOKENS);
  /* exactly the ten oldest went */
  for (int i = 0; i < 10; i++)
    assert_false(check(o, &cls[i % N_CLIENTS], early[i], NOW));
  assert_true(check(o, &cls[10 % N_CLIENTS], early[10], NOW));
  for (int i = 0; i < 10; i++)
    assert_true(check(o, &cls[(total - 10 + i) % N_CLIENTS], late[i], NOW));
  ss__gw_oauth_free(o);
}

/* The token comes with its length, inside a longer buffer or in one that
 * ends right after it (ASan catches a read past it). */
static void test_token_with_length(void **state) {
  (void)state;
  struct ss__gw_oauth *o = ss__gw_oauth_new();
  assert_non_null(o);
  struct ss__gw_oauth_client cl = client("ns", "dep");
  char tok[SS_GW_TOKEN_LEN + 1];
  assert_true(ss__gw_oauth_issue(o, &cl, NOW, tok));
  char buf[96];
  memset(buf, 'f', sizeof buf);
  memcpy(buf, tok, SS_GW_TOKEN_LEN);
  assert_true(ss__gw_oauth_check(o, &cl, buf, SS_GW_TOKEN_LEN, NOW));
  assert_false(ss__gw_oauth_check(o, &cl, buf, sizeof buf, NOW));
  assert_false(ss__gw_oauth_check(o, &cl, buf, SS_GW_TOKEN_LEN - 1, NOW));
  assert_false(ss__gw_oauth_check(o, &cl, buf + 1, SS_GW_TOKEN_LEN, NOW));
  char *exact = malloc(SS_GW_TOKEN_LEN);
  assert_non_null(exact);
  memcpy(exact, tok, SS_GW_TOKEN_LEN);
  assert_true(ss__gw_oauth_check(o, &cl, exact, SS_GW_TOKEN_LEN, NOW));
  free(exact);
  ss__gw_oauth_free(o);
}

/* The probe's load: 100,000 tokens issued, then every one checked (the
 * old table compared each check against all of them). */
static void test_many_tokens(void **state) {
  (void)state;
  enum { N = SS_GW_MAX_TOKENS, PER = 1000 };
  struct ss__gw_oauth *o = ss__gw_oauth_new();
  assert_non_null(o);
  char (*toks)[SS_GW_TOKEN_LEN + 1] = malloc((size_t)N * sizeof *toks);
  assert_non_null(toks);
  static char names[N / PER][16];
  struct ss__gw_oauth_client cls[N / PER];
  for (int i = 0; i < N / PER; i++) {
    snprintf(names[i], sizeof names[i], "dep-%d", i);
    cls[i] = client("ns", names[i]);
  }
  for (int i = 0; i < N; i++)
    assert_true(ss__gw_oauth_issue(o, &cls[i / PER], NOW + i / 1000, toks[i]));
  assert_int_equal(ss__gw_oauth_count(o), N);
  int valid = 0;
  for (int i = 0; i < N; i++)
    valid += ss__gw_oauth_check(o, &cls[i / PER], toks[i], SS_GW_TOKEN_LEN, NOW + 100);
  assert_int_equal(valid, N);
  /* and under a neighbouring client, none */
  int wrong = 0;
  for (int i = 0; i < N; i += 97)
    wrong += ss__gw_oauth_check(o, &cls[(i / PER + 1) % (N / PER)], toks[i], SS_GW_TOKEN_LEN,
                                NOW + 100);
  assert_int_equal(wrong, 0);
  free(toks);
  ss__gw_oauth_free(o);
}

/* Issues and checks from several threads at once; ASan/UBSan builds catch
 * a corrupted table, the counts a lost update. */
#define N_THREADS 4
#define PER_THREAD 3000
struct worker {
  struct ss__gw_oauth *o;
  char name[16];
  int valid;
};

static void *work(void *arg) {
  struct worker *w = arg;
  struct ss__gw_oauth_client cl = client("ns", w->name);
  char tok[SS_GW_TOKEN_LEN + 1];
  for (int i = 0; i < PER_THREAD; i++)
    if (ss__gw_oauth_issue(w->o, &cl, NOW, tok) && check(w->o, &cl, tok, NOW))
      w->valid++;
  return NULL;
}

static void test_threads(void **state) {
  (void)state;
  struct ss__gw_oauth *o = ss__gw_oauth_new();
  assert_non_null(o);
  struct worker ws[N_THREADS];
  pthread_t th[N_THREADS];
  for (int i = 0; i < N_THREADS; i++) {
    ws[i] = (struct worker){.o = o};
    snprintf(ws[i].name, sizeof ws[i].name, "dep-%d", i);
    assert_int_equal(pthread_create(&th[i], NULL, work, &ws[i]), 0);
  }
  for (int i = 0; i < N_THREADS; i++) {
    pthread_join(th[i], NULL);
    assert_int_equal(ws[i].valid, PER_THREAD);
  }
  assert_int_equal(ss__gw_oauth_count(o), N_THREADS * SS_GW_TOKENS_PER_CLIENT);
  ss__gw_oauth_free(o);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_token_expires),
      cmocka_unit_test(test_token_scope),
      cmocka_unit_test(test_rebinding_revokes),
      cmocka_unit_test(test_field_boundaries),
      cmocka_unit_test(test_client_cap_evicts_oldest),
      cmocka_unit_test(test_global_cap_evicts_oldest),
      cmocka_unit_test(test_token_with_length),
      cmocka_unit_test(test_many_tokens),
      cmocka_unit_test(test_threads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
