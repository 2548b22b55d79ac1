/* cmd_create.c: `servescale create -f FILE`: creates each object; one that
 * exists already is an error (AlreadyExists), as kubectl create. */
#include <stdio.h>

#include "cli/cli.h"
#include "cli/common.h"

int ss_cmd_create(int argc, char **argv) {
  struct ss_cli_opts o;
  int rc = ss_cli_parse(argc, argv, "nfv", "servescale create -f FILE [-f FILE...] [-n NAMESPACE]",
                        "Create the resources in the files (JSON or YAML).", &o);
  if (rc >= 0)
    return rc;
  if (o.n_files == 0 || o.n_args) {
    fprintf(stderr, "error: must specify -f FILE (and no other arguments)\n");
    return SS_EXIT_FAIL;
  }
  struct ss_client *c = NULL;
  json_t *items = NULL;
  rc = SS_EXIT_FAIL;
  if (!ss_cli_connect(&o, &c) || !ss_cli_load_files(&o, ss_cli_ns(&o, c), &items))
    goto out;
  rc = SS_EXIT_OK;
  size_t i;
  json_t *it;
  json_array_foreach(items, i, it) {
    const json_t *obj = json_object_get(it, "object");
    const char *file = json_string_value(json_object_get(it, "file"));
    const char *name = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
    struct ss_client_error err = {0};
    char when[1100], label[600];
    if (ss_client_create(c, obj, ss_cli_ns(&o, c), NULL, &err)) {
      snprintf(when, sizeof when, "creating \"%s\"", file);
      ss_cli_error(&err, when);
      rc = SS_EXIT_FAIL;
      continue;
    }
    ss_cli_object_label(ss_client_kind_of(obj), name ? name : "", label, sizeof label);
    printf("%s created\n", label);
  }
out:
  json_decref(items);
  ss_client_free(c);
  return rc;
}
