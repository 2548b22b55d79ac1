/* test_schedule.c: Core 2's placement of a Model's replicas
 * (src/core2/schedule.c), as a table: requirements, a named or dedicated
 * server, memory, draining, deleted servers, the replica order (index,
 * free memory, already loaded), servers already holding the model first,
 * minReplicas as the fallback, and Core 2's messages when nothing fits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core2/schedule.h"

#define MB ((int64_t)1024 * 1024)

static const char *const SKLEARN[] = {"sklearn", "mlserver"};
static const char *const MOCK[] = {"mock"};

struct row {
  const char *what;
  struct ss_c2_model model;
  int server;       /* expected; -1 not placed */
  int replicas[4];  /* expected replica indexes, in order; -1 ends */
  const char *message;
};

static void check(const struct row *r, const struct ss_c2_server *servers, size_t n) {
  struct ss_c2_placement p;
  bool ok = ss_c2_schedule(&r->model, servers, n, &p);
  if (ok != (r->server >= 0) || p.server != r->server)
    fail_msg("%s: server %d, want %d (%s)", r->what, p.server, r->server, p.message);
  size_t want = 0;
  while (want < 4 && r->replicas[want] >= 0)
    want++;
  if (ok && p.n != want)
    fail_msg("%s: %zu replicas, want %zu", r->what, p.n, want);
  for (size_t i = 0; ok && i < want; i++)
    if (p.replicas[i] != r->replicas[i])
      fail_msg("%s: replica %zu is %d, want %d", r->what, i, p.replicas[i], r->replicas[i]);
  if (!ok && r->message && strcmp(p.message, r->message) != 0)
    fail_msg("%s: message \"%s\"", r->what, p.message);
}

static void test_filters_and_order(void **state) {
  (void)state;
  /* mlserver: 3 replicas, 1 GiB each; replica 1 half full, replica 2 draining */
  const struct ss_c2_replica mls[] = {{0, 1024 * MB, 0, false, false},
                                      {1, 1024 * MB, 512 * MB, false, false},
                                      {2, 1024 * MB, 0, true, false}};
  /* mock server: 2 replicas of 256 MiB */
  const struct ss_c2_replica mock[] = {{0, 256 * MB, 0, false, false},
                                       {1, 256 * MB, 200 * MB, false, false}};
  const struct ss_c2_replica none[] = {{0, 0, 0, false, false}};
  const struct ss_c2_server servers[] = {
      {"mlserver", true, false, SKLEARN, 2, mls, 3},
      {"mock", true, false, MOCK, 1, mock, 2},
      {"private", false, false, SKLEARN, 2, mls, 3},
      {"empty", true, false, SKLEARN, 2, none, 0},
  };
  static const char *const req_sklearn[] = {"sklearn"};
  static const char *const req_mock[] = {"mock"};
  static const char *const req_gpu[] = {"sklearn", "gpu"};
  const struct row rows[] = {
      {"one replica: the most free memory first (replica 0)",
       {"iris", NULL, req_sklearn, 1, 100 * MB, 1, 0}, 0, {0, -1}, NULL},
      {"two replicas: by free memory, the draining one never",
       {"iris", NULL, req_sklearn, 1, 100 * MB, 2, 0}, 0, {0, 1, -1}, NULL},
      {"three wanted, two fit, no minReplicas: not placed",
       {"iris", NULL, req_sklearn, 1, 100 * MB, 3, 0}, -1, {-1},
       "Failed to schedule model as no matching server had enough suitable replicas"},
      {"three wanted, minReplicas 2: placed on the two",
       {"iris", NULL, req_sklearn, 1, 100 * MB, 3, 2}, 0, {0, 1, -1}, NULL},
      {"600 MiB fits only replica 0", {"big", NULL, req_sklearn, 1, 600 * MB, 1, 0}, 0, {0, -1},
       NULL},
      {"2 GiB fits nowhere", {"huge", NULL, req_sklearn, 1, 2048 * MB, 1, 0}, -1, {-1},
       "Failed to schedule model as no matching server had enough suitable replicas"},
      {"requirements pick the server (mock)", {"m", NULL, req_mock, 1, 10 * MB, 2, 0}, 1,
       {0, 1, -1}, NULL},
      {"a capability no server offers", {"g", NULL, req_gpu, 2, 10 * MB, 1, 0}, -1, {-1},
       "Failed to schedule model as no matching servers are available"},
      {"a named server, even when dedicated", {"p", "private", req_sklearn, 1, 10 * MB, 1, 0},
       2, {0, -1}, NULL},
      {"a named server without replicas", {"e", "empty", NULL, 0, 0, 1, 0}, -1, {-1},
       "Failed to schedule model as no matching servers are available"},
  };
  for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
    check(&rows[i], servers, sizeof servers / sizeof *servers);
}

static void test_loaded_first_and_deleted(void **state) {
  (void)state;
  /* the model is on replica 2 of server b already: b first, replica 2 first */
  const struct ss_c2_replica a[] = {{0, 1024 * MB, 0, false, false},
                                    {1, 1024 * MB, 0, false, false}};
  const struct ss_c2_replica b[] = {{0, 1024 * MB, 0, false, false},
                                    {1, 1024 * MB, 900 * MB, false, false},
                                    {2, 1024 * MB, 1000 * MB, false, true}};
  struct ss_c2_server servers[] = {{"a", true, false, SKLEARN, 2, a, 2},
                                   {"b", true, false, SKLEARN, 2, b, 3}};
  const struct row loaded = {"where it is loaded first, then by free memory",
                             {"iris", NULL, NULL, 0, 100 * MB, 2, 0}, 1, {2, 0, -1}, NULL};
  check(&loaded, servers, 2);
  servers[1].deleted = true; /* b is going: a takes it */
  const struct row moved = {"a deleted server takes nothing",
                            {"iris", NULL, NULL, 0, 100 * MB, 2, 0}, 0, {0, 1, -1}, NULL};
  check(&moved, servers, 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_filters_and_order),
      cmocka_unit_test(test_loaded_first_and_deleted),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
