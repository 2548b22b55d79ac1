/* test_ownership.c: unit tests for src/control/ownership.c: who writes a
 * Deployment's spec.replicas, in every combination of a manual scale, an
 * hpaSpec or kedaSpec, a user's own HPA, and a Deployment stored or not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "control/ownership.h"

static void test_table(void **state) {
  (void)state;
  static const struct {
    const char *what;
    struct ss_replicas_in in;
    int32_t want;
  } rows[] = {
      {"no autoscaler, new: the SeldonDeployment's count", {3, false, -1}, 3},
      {"no autoscaler, stored at 1: the SeldonDeployment's count wins", {3, false, 1}, 3},
      {"no autoscaler, kubectl scale sdep to 5 (count 5)", {5, false, 3}, 5},
      {"no autoscaler, kubectl scale deployment to 7: the sdep's count comes back", {2, false, 7}, 2},
      {"no autoscaler, zero replicas asked", {0, false, 4}, 0},
      {"autoscaled (hpaSpec), new: Kubernetes' default 1", {3, true, -1}, 1},
      {"autoscaled, stored at 4: the autoscaler's 4 stays", {3, true, 4}, 4},
      {"autoscaled, scaled to zero by KEDA: stays 0", {1, true, 0}, 0},
      {"autoscaled, kubectl scale sdep to 9: ignored, the autoscaler owns it", {9, true, 2}, 2},
      {"autoscaled, manual scale of the Deployment to 50: held until the next sync", {1, true, 50}, 50},
      {"a user's HPA aims at it: the same as an hpaSpec", {2, true, 6}, 6},
  };
  for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
    int32_t got = ss_replicas_for_deployment(&rows[i].in);
    if (got != rows[i].want)
      fail_msg("%s: got %d, want %d", rows[i].what, got, rows[i].want);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_table)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
