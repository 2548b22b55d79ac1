/* cmd_apply.c: `servescale apply -f FILE` creates each object, or updates it
 * when it exists (ss_client_apply); `servescale create -f FILE` only creates,
 * and an object that exists is an error (AlreadyExists). Both print what
 * happened as kubectl does. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/common.h"

static int write_files(int argc, char **argv, bool create_only) {
  struct ss_cli_opts o;
  int rc = create_only
               ? ss_cli_parse(argc, argv, "nfv",
                              "servescale create -f FILE [-f FILE...] [-n NAMESPACE]",
                              "Create the resources in the files (JSON or YAML).", &o)
               : ss_cli_parse(argc, argv, "nfv",
                              "servescale apply -f FILE [-f FILE...] [-n NAMESPACE]",
                              "Create or update the resources in the files (JSON or YAML).", &o);
  if (rc >= 0)
    return rc;
  if (o.n_files == 0 || o.n_args) {
    fprintf(stderr, create_only ? "error: must specify -f FILE (and no other arguments)\n"
                                : "error: must specify one of -f and -k (files to apply), and "
                                  "no other arguments\n");
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
    enum ss_client_applied what = SS_CLIENT_CREATED;
    char when[1100], label[600];
    enum ss_err e = create_only ? ss_client_create(c, obj, ss_cli_ns(&o, c), NULL, &err)
                                : ss_client_apply(c, obj, ss_cli_ns(&o, c), &what, NULL, &err);
    if (e) {
      snprintf(when, sizeof when, "%s \"%s\"",
               what == SS_CLIENT_CREATED ? "creating" : "replacing", file);
      ss_cli_error(&err, when);
      rc = SS_EXIT_FAIL;
      continue;
    }
    ss_cli_object_label(ss_client_kind_of(obj), name ? name : "", label, sizeof label);
    printf("%s %s\n", label,
           what == SS_CLIENT_CREATED      ? "created"
           : what == SS_CLIENT_CONFIGURED ? "configured"
                                          : "unchanged");
  }
out:
  json_decref(items);
  ss_client_free(c);
  return rc;
}

int ss_cmd_apply(int argc, char **argv) { return write_files(argc, argv, false); }

int ss_cmd_create(int argc, char **argv) { return write_files(argc, argv, true); }
