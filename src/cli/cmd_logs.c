/* cmd_logs.c: `servescale logs POD` or `logs sdep/NAME` (its first replica
 * by name): the replica's log through the API's pods/{name}/log. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/common.h"

/* The first pod (by name) of a deployment, found by the label every
 * replica of a SeldonDeployment carries. */
static bool first_pod(struct ss_client *c, const char *ns, const char *sdep, char *pod,
                      size_t size) {
  struct ss_client_error err = {0};
  json_t *list = NULL;
  char sel[400];
  snprintf(sel, sizeof sel, "seldon-deployment-id=%s", sdep);
  if (ss_client_list(c, ss_client_kind_find("pods"), ns, sel, NULL, &list, &err)) {
    ss_cli_error(&err, NULL);
    return false;
  }
  const char *best = NULL;
  size_t i;
  json_t *it;
  json_array_foreach(json_object_get(list, "items"), i, it) {
    const char *n = json_string_value(json_object_get(json_object_get(it, "metadata"), "name"));
    if (n && (!best || strcmp(n, best) < 0))
      best = n;
  }
  if (best)
    snprintf(pod, size, "%s", best);
  else
    fprintf(stderr, "error: seldondeployment/%s has no replicas running in namespace %s\n", sdep, ns);
  json_decref(list);
  return best != NULL;
}

int ss_cmd_logs(int argc, char **argv) {
  struct ss_cli_opts o;
  int rc = ss_cli_parse(argc, argv, "n", "servescale logs POD | pod/POD | sdep/NAME [-n NS]",
                        "Print a replica's log (of a deployment: its first replica).", &o);
  if (rc >= 0)
    return rc;
  if (o.n_args != 1) {
    fprintf(stderr, "error: expected one POD or sdep/NAME\n");
    return SS_EXIT_FAIL;
  }
  char pod[256];
  const char *arg = o.args[0], *slash = strchr(arg, '/');
  const struct ss_client_kind *k = ss_client_kind_find("pods");
  if (slash) {
    char kind[128];
    snprintf(kind, sizeof kind, "%.*s", (int)(slash - arg), arg);
    if (!(k = ss_client_kind_find(kind)) ||
        (strcmp(k->plural, "pods") != 0 && strcmp(k->plural, "seldondeployments") != 0)) {
      fprintf(stderr, "error: logs are for pods and seldondeployments, not \"%s\"\n", kind);
      return SS_EXIT_FAIL;
    }
    arg = slash + 1;
  }
  struct ss_client *c = NULL;
  char *text = NULL;
  size_t len = 0;
  struct ss_client_error err = {0};
  rc = SS_EXIT_FAIL;
  if (!ss_cli_connect(&o, &c))
    goto out;
  const char *ns = ss_cli_ns(&o, c);
  if (strcmp(k->plural, "pods") == 0)
    snprintf(pod, sizeof pod, "%s", arg);
  else if (!first_pod(c, ns, arg, pod, sizeof pod))
    goto out;
  if (ss_client_pod_log(c, ns, pod, &text, &len, &err)) {
    ss_cli_error(&err, NULL);
    goto out;
  }
  fwrite(text, 1, len, stdout);
  rc = SS_EXIT_OK;
out:
  free(text);
  ss_client_free(c);
  return rc;
}
