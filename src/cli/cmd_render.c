/* cmd_render.c: `servescale render`: reads resources and prints the
 * Kubernetes objects that run them on a cluster (src/k8s does the work;
 * this file reads the files and writes the text). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "k8s/k8s.h"
#include "model/emit.h"
#include "model/resource.h"

#ifndef SS_VERSION
#define SS_VERSION "0.1.0" /* as main.c says it */
#endif
#define MAX_FILES 256
#define DEFAULT_GATEWAY_IMAGE "servescale/gateway:" SS_VERSION

static void help(FILE *f) {
  fprintf(f,
          "Print the Kubernetes objects that run SeldonDeployments, Models and Servers on a\n"
          "cluster without Seldon's operator: a Deployment per componentSpec container, a\n"
          "Service per predictor, HorizontalPodAutoscalers (autoscaling/v2) for hpaSpec and\n"
          "hpaSpecs, KEDA ScaledObjects for kedaSpec, the servescale gateway and a\n"
          "PodMonitor. Core 2 Models and Servers are printed as themselves. The output is\n"
          "sorted and stable, ready for `kubectl apply -f -`. See docs/kubernetes.md.\n\n"
          "Usage: servescale render -f FILE [-f FILE...] [-o yaml|json] [-n NAMESPACE]\n\n"
          "Options:\n"
          "  -f, --filename FILE        file to read; '-' reads standard input\n"
          "  -o, --output FORMAT        yaml (default, multi-document) or json (a v1 List)\n"
          "  -n, --namespace NS         namespace for resources that name none (default:\n"
          "                             none, so kubectl's current namespace)\n"
          "      --gateway-image IMAGE  image of the gateway (default %s)\n"
          "      --prometheus-url URL   Prometheus for KEDA prometheus triggers without a\n"
          "                             serverAddress (default %s)\n"
          "  -h, --help                 this text\n",
          DEFAULT_GATEWAY_IMAGE, SS_K8S_DEFAULT_PROMETHEUS_URL);
}

enum { OPT_GATEWAY_IMAGE = 1000, OPT_PROMETHEUS_URL };

static int write_objects(const json_t *objs, enum ss_format fmt) {
  size_t n = json_array_size(objs);
  if (fmt == SS_FMT_JSON) {
    json_t *list = json_pack("{s:s, s:s, s:O}", "apiVersion", "v1", "kind", "List", "items", objs);
    char *s = list ? ss_emit(list, fmt) : NULL;
    json_decref(list);
    if (!s)
      return SS_EXIT_FAIL;
    fputs(s, stdout);
    free(s);
    return SS_EXIT_OK;
  }
  for (size_t i = 0; i < n; i++) {
    char *s = ss_emit(json_array_get(objs, i), fmt);
    if (!s)
      return SS_EXIT_FAIL;
    fputs("---\n", stdout);
    fputs(s, stdout);
    free(s);
  }
  return SS_EXIT_OK;
}

int ss_cmd_render(int argc, char **argv) {
  static const struct option opts[] = {{"filename", required_argument, NULL, 'f'},
                                       {"output", required_argument, NULL, 'o'},
                                       {"namespace", required_argument, NULL, 'n'},
                                       {"gateway-image", required_argument, NULL, OPT_GATEWAY_IMAGE},
                                       {"prometheus-url", required_argument, NULL, OPT_PROMETHEUS_URL},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  const char *files[MAX_FILES];
  size_t n_files = 0;
  const char *ns = NULL;
  struct ss_render_opts ro = {DEFAULT_GATEWAY_IMAGE, SS_K8S_DEFAULT_PROMETHEUS_URL};
  enum ss_format fmt = SS_FMT_YAML;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "f:o:n:h", opts, NULL)) != -1) {
    switch (c) {
    case 'f':
      if (n_files == MAX_FILES) {
        fprintf(stderr, "servescale render: at most %d files\n", MAX_FILES);
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
        fprintf(stderr, "servescale render: --output must be yaml or json, not \"%s\"\n", optarg);
        return SS_EXIT_USAGE;
      }
      break;
    case 'n':
      ns = optarg;
      break;
    case OPT_GATEWAY_IMAGE:
      ro.gateway_image = optarg;
      break;
    case OPT_PROMETHEUS_URL:
      ro.prometheus_url = optarg;
      break;
    case 'h':
      help(stdout);
      return SS_EXIT_OK;
    default:
      help(stderr);
      return SS_EXIT_USAGE;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "servescale render: unexpected argument \"%s\" (files go after -f)\n",
            argv[optind]);
    return SS_EXIT_USAGE;
  }
  if (n_files == 0) {
    fprintf(stderr, "servescale render: no input: give -f FILE (or -f - for stdin)\n");
    return SS_EXIT_USAGE;
  }
  if (!ro.gateway_image[0] || !ro.prometheus_url[0]) {
    fprintf(stderr, "servescale render: --gateway-image and --prometheus-url must not be empty\n");
    return SS_EXIT_USAGE;
  }

  int rc = SS_EXIT_FAIL;
  struct ss_resource_set *sets = calloc(n_files, sizeof *sets);
  struct ss_resource_set all = {0};
  json_t *objs = json_array();
  if (!sets || !objs)
    goto out;
  size_t total = 0;
  for (size_t f = 0; f < n_files; f++) {
    const char *name = strcmp(files[f], "-") == 0 ? "<stdin>" : files[f];
    char *buf = NULL;
    size_t len = 0;
    struct ss_error err = {0};
    if (ss_read_file(files[f], &buf, &len, &err) ||
        ss_resources_load(buf, len, ns, &sets[f], &err)) {
      if (err.line)
        fprintf(stderr, "%s:%u:%u: %s\n", name, err.line, err.col, err.msg);
      else
        fprintf(stderr, "%s: %s\n", name, err.msg);
      free(buf);
      goto out;
    }
    free(buf);
    total += sets[f].n;
  }
  /* Rendered together, so that one gateway per namespace serves every
   * file's SeldonDeployments and clashing names across files are caught. */
  all.v = total ? calloc(total, sizeof *all.v) : NULL;
  if (total && !all.v)
    goto out;
  for (size_t f = 0; f < n_files; f++)
    for (size_t i = 0; i < sets[f].n; i++)
      all.v[all.n++] = sets[f].v[i]; /* borrowed: freed with sets[f] */
  struct ss_error err = {0};
  if (ss_k8s_render(&all, &ro, objs, &err)) {
    fprintf(stderr, "servescale render: %s\n", err.msg);
    goto out;
  }
  if (json_array_size(objs) == 0)
    fprintf(stderr, "servescale render: warning: no SeldonDeployment, Model or Server in the input\n");
  rc = write_objects(objs, fmt);
out:
  free(all.v);
  for (size_t f = 0; sets && f < n_files; f++)
    ss_resources_free(&sets[f]);
  free(sets);
  json_decref(objs);
  return rc;
}
