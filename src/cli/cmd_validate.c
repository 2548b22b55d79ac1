/* cmd_validate.c: `servescale validate`: reads resources, prints each with
 * its defaults, or its errors as file:line:col: path: reason. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "model/emit.h"
#include "model/resource.h"

#define MAX_FILES 256

static void help(FILE *f) {
  fprintf(f,
          "Check SeldonDeployments, Models and Servers (JSON or YAML, several documents per\n"
          "file) and print each with the defaults servescale applies. Errors are printed as\n"
          "FILE:LINE:COL: FIELD: REASON, every one of them, and the exit code is 1.\n\n"
          "Usage: servescale validate -f FILE [-f FILE...] [-o yaml|json] [-n NAMESPACE]\n\n"
          "Options:\n"
          "  -f, --filename FILE   file to read; '-' reads standard input\n"
          "  -o, --output FORMAT   yaml (default) or json\n"
          "  -n, --namespace NS    namespace for resources that name none\n"
          "  -q, --quiet           print only errors and warnings\n"
          "  -h, --help            this text\n");
}

static void print_diags(const char *file, const struct ss_resource *r) {
  for (size_t i = 0; i < r->diags.n; i++) {
    const struct ss_diag *d = &r->diags.v[i];
    const char *sev = d->sev == SS_SEV_WARNING ? "warning: " : "";
    if (d->line)
      fprintf(stderr, "%s:%u:%u: %s%s: %s\n", file, d->line, d->col, sev,
              d->path[0] ? d->path : "(document)", d->msg);
    else
      fprintf(stderr, "%s: %s%s: %s\n", file, sev, d->path[0] ? d->path : "(document)", d->msg);
  }
}

int ss_cmd_validate(int argc, char **argv) {
  static const struct option opts[] = {{"filename", required_argument, NULL, 'f'},
                                       {"output", required_argument, NULL, 'o'},
                                       {"namespace", required_argument, NULL, 'n'},
                                       {"quiet", no_argument, NULL, 'q'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  const char *files[MAX_FILES];
  size_t n_files = 0;
  const char *ns = NULL;
  enum ss_format fmt = SS_FMT_YAML;
  bool quiet = false;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "f:o:n:qh", opts, NULL)) != -1) {
    switch (c) {
    case 'f':
      if (n_files == MAX_FILES) {
        fprintf(stderr, "servescale validate: at most %d files\n", MAX_FILES);
        return SS_EXIT_USAGE;
      }
      files[n_files++] = optarg;
      break;
    case 'o':
      if (strcmp(optarg, "yaml") == 0) {
        fmt = SS_FMT_YAML;
      } else if (strcmp(optarg, "json") == 0) {
        fmt = SS_FMT_JSON;
      } else {
        fprintf(stderr, "servescale validate: --output must be yaml or json, not \"%s\"\n",
                optarg);
        return SS_EXIT_USAGE;
      }
      break;
    case 'n':
      ns = optarg;
      break;
    case 'q':
      quiet = true;
      break;
    case 'h':
      help(stdout);
      return SS_EXIT_OK;
    default:
      help(stderr);
      return SS_EXIT_USAGE;
    }
  }
  for (; optind < argc && n_files < MAX_FILES; optind++)
    files[n_files++] = argv[optind]; /* bare file names are accepted too */
  if (n_files == 0) {
    fprintf(stderr, "servescale validate: no input: give -f FILE (or -f - for stdin)\n");
    return SS_EXIT_USAGE;
  }

  int rc = SS_EXIT_OK;
  json_t *all = json_array();
  if (!all)
    return SS_EXIT_FAIL;
  for (size_t f = 0; f < n_files; f++) {
    const char *name = strcmp(files[f], "-") == 0 ? "<stdin>" : files[f];
    char *buf = NULL;
    size_t len = 0;
    struct ss_error err = {0};
    struct ss_resource_set set = {0};
    if (ss_read_file(files[f], &buf, &len, &err) ||
        ss_resources_load(buf, len, ns, &set, &err)) {
      if (err.line)
        fprintf(stderr, "%s:%u:%u: %s\n", name, err.line, err.col, err.msg);
      else
        fprintf(stderr, "%s: %s\n", name, err.msg);
      rc = SS_EXIT_FAIL;
    } else {
      if (set.n == 0)
        fprintf(stderr, "%s: warning: no resources in file\n", name);
      for (size_t i = 0; i < set.n; i++) {
        print_diags(name, &set.v[i]);
        if (set.v[i].diags.errors)
          rc = SS_EXIT_FAIL;
        else
          json_array_append(all, set.v[i].obj);
      }
    }
    ss_resources_free(&set);
    free(buf);
  }
  if (!quiet && json_array_size(all)) {
    size_t n = json_array_size(all);
    if (fmt == SS_FMT_JSON) {
      json_t *out = n == 1 ? json_incref(json_array_get(all, 0))
                           : json_pack("{s:s, s:s, s:O}", "apiVersion", "v1", "kind", "List",
                                       "items", all);
      char *s = out ? ss_emit(out, fmt) : NULL;
      if (s)
        fputs(s, stdout);
      else
        rc = SS_EXIT_FAIL;
      free(s);
      json_decref(out);
    } else {
      for (size_t i = 0; i < n; i++) {
        char *s = ss_emit(json_array_get(all, i), fmt);
        if (!s) {
          rc = SS_EXIT_FAIL;
          break;
        }
        if (i)
          fputs("---\n", stdout);
        fputs(s, stdout);
        free(s);
      }
    }
  }
  json_decref(all);
  return rc;
}
