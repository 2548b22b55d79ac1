/* cmd_kubeconfig.c: `servescale kubeconfig`: the kubeconfig path the other
 * commands would use (for KUBECONFIG=$(servescale kubeconfig) kubectl ...). */
#include <stdio.h>

#include "cli/cli.h"
#include "cli/common.h"

int ss_cmd_kubeconfig(int argc, char **argv) {
  struct ss_cli_opts o;
  int rc = ss_cli_parse(argc, argv, "", "servescale kubeconfig [--kubeconfig FILE]",
                        "Print the kubeconfig path the commands use: --kubeconfig, else $KUBECONFIG,\n"
                        "else the daemon's (STATE_DIR/kubeconfig) when it exists, else ~/.kube/config.",
                        &o);
  if (rc >= 0)
    return rc;
  if (o.n_args) {
    fprintf(stderr, "error: unexpected argument \"%s\"\n", o.args[0]);
    return SS_EXIT_FAIL;
  }
  char path[4096];
  printf("%s\n", ss_client_config_path(o.kubeconfig, path, sizeof path));
  return SS_EXIT_OK;
}
