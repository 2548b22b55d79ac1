/* cmd_get.c: `servescale get`: objects by kind and name, or lists, as a
 * table (Seldon's state, replicas and address for deployments), JSON,
 * YAML or names, as kubectl get prints them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "model/emit.h"

enum out_fmt { OUT_TABLE, OUT_WIDE, OUT_JSON, OUT_YAML, OUT_NAME };

struct group {
  const struct ss_client_kind *k;
  json_t *items; /* owned */
};

static bool print_doc(const json_t *v, enum out_fmt fmt) {
  char *s = ss_emit(v, fmt == OUT_JSON ? SS_FMT_JSON : SS_FMT_YAML);
  if (!s)
    return false;
  fputs(s, stdout);
  free(s);
  return true;
}

int ss_cmd_get(int argc, char **argv) {
  struct ss_cli_opts o;
  int rc = ss_cli_parse(argc, argv, "nAol",
                        "servescale get KIND[/NAME] [NAME...] [-o json|yaml|wide|name] [-n NS | -A] [-l SELECTOR]",
                        "Show objects: sdep (seldondeployments), models, servers, pods, events,\n"
                        "namespaces. Deployments print NAME STATE REPLICAS ADDRESS AGE.", &o);
  if (rc >= 0)
    return rc;
  enum out_fmt fmt = OUT_TABLE;
  if (o.output) {
    if (strcmp(o.output, "wide") == 0)
      fmt = OUT_WIDE;
    else if (strcmp(o.output, "json") == 0)
      fmt = OUT_JSON;
    else if (strcmp(o.output, "yaml") == 0)
      fmt = OUT_YAML;
    else if (strcmp(o.output, "name") == 0)
      fmt = OUT_NAME;
    else {
      fprintf(stderr, "error: unable to match a printer suitable for the output format \"%s\", "
                      "allowed formats are: json,name,wide,yaml\n", o.output);
      return SS_EXIT_FAIL;
    }
  }
  struct ss_cli_ref refs[SS_CLI_MAX_REFS];
  struct group groups[SS_CLI_MAX_REFS];
  size_t n_refs = 0, n_groups = 0, total = 0;
  if (!ss_cli_refs(&o, false, refs, &n_refs))
    return SS_EXIT_FAIL;
  struct ss_client *c = NULL;
  if (!ss_cli_connect(&o, &c))
    return SS_EXIT_FAIL;
  const char *ns = o.all_ns ? NULL : ss_cli_ns(&o, c);
  bool single = n_refs == 1 && refs[0].name[0];
  json_t *single_obj = NULL;
  rc = SS_EXIT_OK;
  for (size_t i = 0; i < n_refs; i++) {
    struct ss_client_error err = {0};
    const struct ss_client_kind *k = refs[i].k;
    if (n_groups == 0 || groups[n_groups - 1].k != k || !refs[i].name[0])
      groups[n_groups++] = (struct group){k, json_array()};
    json_t *items = groups[n_groups - 1].items;
    if (refs[i].name[0]) {
      json_t *obj = NULL;
      if (ss_client_get(c, k, ns ? ns : ss_cli_ns(&o, c), refs[i].name, &obj, &err)) {
        ss_cli_error(&err, NULL);
        rc = SS_EXIT_FAIL;
        continue;
      }
      if (single)
        single_obj = json_incref(obj);
      json_array_append_new(items, obj);
      total++;
    } else {
      json_t *list = NULL;
      if (ss_client_list(c, k, ns, o.selector, NULL, &list, &err)) {
        ss_cli_error(&err, NULL);
        rc = SS_EXIT_FAIL;
        continue;
      }
      json_t *got = json_object_get(list, "items");
      json_t *sorted = strcmp(k->plural, "events") == 0 ? ss_cli_sort_events(got) : NULL;
      json_array_extend(items, sorted ? sorted : got);
      total += json_array_size(got);
      json_decref(sorted);
      json_decref(list);
    }
  }
  if (fmt == OUT_JSON || fmt == OUT_YAML) {
    if (single_obj) {
      if (!print_doc(single_obj, fmt))
        rc = SS_EXIT_FAIL;
    } else if (total || rc == SS_EXIT_OK) {
      json_t *all = json_array();
      for (size_t g = 0; g < n_groups; g++)
        json_array_extend(all, groups[g].items);
      json_t *list = json_pack("{s:s, s:o, s:s, s:{s:s}}", "apiVersion", "v1", "items", all,
                               "kind", "List", "metadata", "resourceVersion", "");
      if (!list || !print_doc(list, fmt))
        rc = SS_EXIT_FAIL;
      json_decref(list);
    }
  } else if (fmt == OUT_NAME) {
    for (size_t g = 0; g < n_groups; g++) {
      size_t j;
      json_t *it;
      json_array_foreach(groups[g].items, j, it) {
        char label[600];
        const char *n = json_string_value(json_object_get(json_object_get(it, "metadata"), "name"));
        ss_cli_object_label(groups[g].k, n ? n : "", label, sizeof label);
        printf("%s\n", label);
      }
    }
  } else {
    bool printed = false;
    for (size_t g = 0; g < n_groups; g++) {
      if (json_array_size(groups[g].items) == 0)
        continue;
      struct ss_cli_table *t = ss_cli_list_table(groups[g].k, groups[g].items, fmt == OUT_WIDE,
                                                 o.all_ns, n_groups > 1);
      if (printed)
        putchar('\n');
      ss_cli_table_print(t, stdout);
      ss_cli_table_free(t);
      printed = true;
    }
    if (!printed && rc == SS_EXIT_OK) {
      if (ns)
        fprintf(stderr, "No resources found in %s namespace.\n", ns);
      else
        fprintf(stderr, "No resources found\n");
    }
  }
  for (size_t g = 0; g < n_groups; g++)
    json_decref(groups[g].items);
  json_decref(single_obj);
  ss_client_free(c);
  return rc;
}
