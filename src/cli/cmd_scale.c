/* cmd_scale.c: `servescale scale KIND/NAME --replicas=N`: writes the scale
 * subresource (spec.replicas), the same path the autoscalers take. */
#include <stdio.h>

#include "cli/cli.h"
#include "cli/common.h"

int ss_cmd_scale(int argc, char **argv) {
  struct ss_cli_opts o;
  int rc = ss_cli_parse(argc, argv, "nr", "servescale scale KIND/NAME --replicas=N [-n NS]",
                        "Set the replicas of a SeldonDeployment (spec.replicas, which applies to the\n"
                        "predictors and componentSpecs that do not set their own), a Model or a Server.",
                        &o);
  if (rc >= 0)
    return rc;
  if (o.replicas < 0) {
    fprintf(stderr, "error: required flag(s) \"replicas\" not set\n");
    return SS_EXIT_FAIL;
  }
  struct ss_cli_ref refs[SS_CLI_MAX_REFS];
  size_t n = 0;
  if (!ss_cli_refs(&o, true, refs, &n))
    return SS_EXIT_FAIL;
  struct ss_client *c = NULL;
  if (!ss_cli_connect(&o, &c))
    return SS_EXIT_FAIL;
  rc = SS_EXIT_OK;
  for (size_t i = 0; i < n; i++) {
    struct ss_client_error err = {0};
    char label[600];
    if (ss_client_scale(c, refs[i].k, ss_cli_ns(&o, c), refs[i].name, o.replicas, &err)) {
      ss_cli_error(&err, NULL);
      rc = SS_EXIT_FAIL;
      continue;
    }
    ss_cli_object_label(refs[i].k, refs[i].name, label, sizeof label);
    printf("%s scaled\n", label);
  }
  ss_client_free(c);
  return rc;
}
