/* cmd_delete.c: `servescale delete KIND/NAME` or `-f FILE`: deletes the
 * objects (their replicas stop as the reconciler sees them go). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/common.h"

static int delete_one(struct ss_client *c, const struct ss_cli_opts *o,
                      const struct ss_client_kind *k, const char *ns, const char *name) {
  struct ss_client_error err = {0};
  char label[600];
  if (ss_client_delete(c, k, ns, name, &err)) {
    if (err.code == SS_ENOTFOUND && o->ignore_not_found)
      return SS_EXIT_OK;
    ss_cli_error(&err, NULL);
    return SS_EXIT_FAIL;
  }
  ss_cli_object_label(k, name, label, sizeof label);
  printf("%s deleted\n", label);
  return SS_EXIT_OK;
}

int ss_cmd_delete(int argc, char **argv) {
  struct ss_cli_opts o;
  int rc = ss_cli_parse(argc, argv, "nfvi", "servescale delete KIND/NAME... | KIND NAME... | -f FILE [-n NS]",
                        "Delete objects, named or as found in files.", &o);
  if (rc >= 0)
    return rc;
  if (!o.n_files == !o.n_args) {
    fprintf(stderr, "error: give either objects (sdep/NAME) or -f FILE\n");
    return SS_EXIT_FAIL;
  }
  struct ss_cli_ref refs[SS_CLI_MAX_REFS];
  size_t n = 0;
  if (o.n_args && !ss_cli_refs(&o, true, refs, &n))
    return SS_EXIT_FAIL;
  struct ss_client *c = NULL;
  json_t *items = NULL;
  rc = SS_EXIT_FAIL;
  if (!ss_cli_connect(&o, &c))
    goto out;
  const char *ns = ss_cli_ns(&o, c);
  rc = SS_EXIT_OK;
  if (o.n_files) {
    /* only names are needed: no validation beyond parsing */
    o.validate = false;
    if (!ss_cli_load_files(&o, ns, &items)) {
      rc = SS_EXIT_FAIL;
      goto out;
    }
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it) {
      const json_t *obj = json_object_get(it, "object");
      const struct ss_client_kind *k = ss_client_kind_of(obj);
      const json_t *md = json_object_get(obj, "metadata");
      const char *name = json_string_value(json_object_get(md, "name"));
      const char *ons = json_string_value(json_object_get(md, "namespace"));
      if (!k || !name) {
        fprintf(stderr, "error: %s: object %zu has no known kind or no name\n",
                json_string_value(json_object_get(it, "file")), i + 1);
        rc = SS_EXIT_FAIL;
        continue;
      }
      if (delete_one(c, &o, k, ons ? ons : ns, name))
        rc = SS_EXIT_FAIL;
    }
  }
  for (size_t i = 0; i < n; i++)
    if (delete_one(c, &o, refs[i].k, ns, refs[i].name))
      rc = SS_EXIT_FAIL;
out:
  json_decref(items);
  ss_client_free(c);
  return rc;
}
