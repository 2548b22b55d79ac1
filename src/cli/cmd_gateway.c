/* cmd_gateway.c: `servescale gateway`: the data plane alone, as it runs in a
 * Kubernetes cluster next to rendered Deployments (docs/kubernetes.md). It
 * serves the SeldonDeployments in the files it is given and reaches each
 * predictor's components through a Service address made from a template
 * ({deployment}-{predictor}.{namespace}.svc.cluster.local:8000 by default,
 * the Service `servescale render` writes), resolved again every few seconds.
 * No store, no replicas: a cluster runs those. */
#include <arpa/inet.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/fdlimit.h"
#include "gateway/gateway.h"
#include "metrics/metrics.h"
#include "model/resource.h"

#define GW_MAX_FILES 64
#define GW_DEFAULT_TEMPLATE "{deployment}-{predictor}.{namespace}.svc.cluster.local:8000"
#define GW_RESOLVE_EVERY_S 10

static volatile sig_atomic_t gw_stop;

static void on_signal(int sig) {
  (void)sig;
  gw_stop = 1;
}

static void help(FILE *f) {
  fprintf(f,
          "Run the prediction gateway alone (the data plane of a cluster deployment): it\n"
          "serves /seldon/NAMESPACE/NAME/api/v1.0/predictions for the SeldonDeployments in\n"
          "FILE and calls each predictor's components at a Service address.\n\n"
          "Usage: servescale gateway -f FILE [-f FILE...] [options]\n\n"
          "Options:\n"
          "  -f, --filename FILE        SeldonDeployments to serve (JSON or YAML)\n"
          "      --port N               port (default 8000)\n"
          "      --addr ADDR            address (default 0.0.0.0: other pods call it)\n"
          "      --service-address T    where a predictor's components answer, with\n"
          "                             {deployment} {predictor} {namespace} replaced\n"
          "                             (default " GW_DEFAULT_TEMPLATE ")\n"
          "      --workers N            worker threads (default: one per core)\n"
          "  -h, --help                 this text\n");
}

/* Expands the template for one predictor into host and port. */
static bool expand(const char *tmpl, const char *dep, const char *pred, const char *ns,
                   char *host, size_t hs, int *port) {
  char out[512];
  size_t o = 0;
  for (const char *p = tmpl; *p && o + 1 < sizeof out;) {
    const char *val = NULL;
    size_t skip = 0;
    if (strncmp(p, "{deployment}", 12) == 0)
      val = dep, skip = 12;
    else if (strncmp(p, "{predictor}", 11) == 0)
      val = pred, skip = 11;
    else if (strncmp(p, "{namespace}", 11) == 0)
      val = ns, skip = 11;
    if (val) {
      o += (size_t)snprintf(out + o, sizeof out - o, "%s", val);
      if (o >= sizeof out)
        return false;
      p += skip;
    } else {
      out[o++] = *p++;
    }
  }
  out[o] = '\0';
  char *colon = strrchr(out, ':');
  if (!colon || !colon[1])
    return false;
  *colon = '\0';
  char *end;
  long v = strtol(colon + 1, &end, 10);
  if (*end || v < 1 || v > 65535)
    return false;
  *port = (int)v;
  snprintf(host, hs, "%s", out);
  return true;
}

static uint32_t resolve4(const char *host) {
  struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res = NULL;
  uint32_t a = 0;
  if (getaddrinfo(host, NULL, &hints, &res) == 0 && res)
    a = ((struct sockaddr_in *)res->ai_addr)->sin_addr.s_addr;
  freeaddrinfo(res);
  return a;
}

/* A routing table for the resources of every set; logs what cannot be
 * resolved (it is tried again at the next round). */
static struct ss_gw_table *build(const struct ss_resource_set *sets, size_t n_sets,
                                 const char *tmpl) {
  struct ss_gw_table *t = ss_gw_table_new();
  for (size_t f = 0; t && f < n_sets; f++)
  for (size_t i = 0; i < sets[f].n; i++) {
    const struct ss_resource *src = &sets[f].v[i];
    if (src->kind != SS_KIND_SDEP || src->diags.errors)
      continue;
    struct ss_resource *r = calloc(1, sizeof *r);
    if (!r || ss_resource_decode(src->obj, NULL, "", "default", r)) {
      ss_resource_free(r);
      free(r);
      continue;
    }
    const char *ns = ss_resource_namespace(r);
    const struct ss_sdep *s = &r->u.sdep;
    if (ss_gw_table_add(t, r)) {
      ss_resource_free(r);
      free(r);
      continue;
    }
    for (size_t pi = 0; pi < s->n_predictors; pi++) {
      const struct ss_predictor *p = &s->predictors[pi];
      char host[256];
      int port;
      if (!expand(tmpl, s->name, p->name, ns ? ns : "default", host, sizeof host, &port))
        continue;
      uint32_t addr = resolve4(host);
      if (!addr) {
        fprintf(stderr, "event=unresolved host=%s deployment=%s predictor=%s\n", host, s->name,
                p->name);
        continue;
      }
      struct ss_gw_replica rep = {.port = port, .ready = true, .addr = addr};
      snprintf(rep.id, sizeof rep.id, "svc:%s:%d", host, port);
      for (size_t ci = 0; ci < p->n_components; ci++)
        for (size_t k = 0; k < p->components[ci].n_containers; k++)
          ss_gw_table_replicas(t, ns ? ns : "default", s->name, pi, ci, k, host, &rep, 1);
    }
  }
  return t;
}

int ss_cmd_gateway(int argc, char **argv) {
  static const struct option opts[] = {{"filename", required_argument, NULL, 'f'},
                                       {"port", required_argument, NULL, 'p'},
                                       {"addr", required_argument, NULL, 'a'},
                                       {"service-address", required_argument, NULL, 's'},
                                       {"workers", required_argument, NULL, 'w'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  const char *files[GW_MAX_FILES];
  size_t n_files = 0;
  const char *addr = "0.0.0.0", *tmpl = GW_DEFAULT_TEMPLATE;
  int port = SS_GW_DEFAULT_PORT, workers = 0, c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
    char *end;
    switch (c) {
    case 'f':
      if (n_files == GW_MAX_FILES) {
        fprintf(stderr, "servescale gateway: at most %d files\n", GW_MAX_FILES);
        return SS_EXIT_USAGE;
      }
      files[n_files++] = optarg;
      break;
    case 'p':
    case 'w': {
      long v = strtol(optarg, &end, 10);
      if (*end || v < 0 || v > (c == 'p' ? 65535 : 256)) {
        fprintf(stderr, "servescale gateway: --%s must be a number from 0 to %d\n",
                c == 'p' ? "port" : "workers", c == 'p' ? 65535 : 256);
        return SS_EXIT_USAGE;
      }
      *(c == 'p' ? &port : &workers) = (int)v;
      break;
    }
    case 'a':
      addr = optarg;
      break;
    case 's':
      tmpl = optarg;
      break;
    case 'h':
      help(stdout);
      return SS_EXIT_OK;
    default:
      help(stderr);
      return SS_EXIT_USAGE;
    }
  }
  if (!n_files) {
    fprintf(stderr, "servescale gateway: give the deployments to serve with -f FILE\n");
    return SS_EXIT_USAGE;
  }
  char host[256];
  int p;
  if (!expand(tmpl, "d", "p", "n", host, sizeof host, &p)) {
    fprintf(stderr, "servescale gateway: --service-address must end in :PORT, not \"%s\"\n",
            tmpl);
    return SS_EXIT_USAGE;
  }
  int rc = SS_EXIT_FAIL;
  struct ss_metrics *metrics = ss_metrics_new();
  struct ss_gateway *gw = NULL;
  /* every file is read and checked before anything is served */
  struct ss_resource_set sets[GW_MAX_FILES] = {{0}};
  for (size_t i = 0; i < n_files; i++) {
    char *buf = NULL;
    size_t len = 0;
    struct ss_error err = {0};
    if (ss_read_file(files[i], &buf, &len, &err) ||
        ss_resources_load(buf, len, "default", &sets[i], &err)) {
      fprintf(stderr, "%s:%u:%u: %s\n", files[i], err.line, err.col, err.msg);
      free(buf);
      goto out;
    }
    free(buf);
    for (size_t j = 0; j < sets[i].n; j++)
      for (size_t d = 0; d < sets[i].v[j].diags.n; d++)
        if (sets[i].v[j].diags.v[d].sev == SS_SEV_ERROR) {
          const struct ss_diag *dg = &sets[i].v[j].diags.v[d];
          fprintf(stderr, "%s:%u:%u: %s: %s\n", files[i], dg->line, dg->col, dg->path, dg->msg);
          rc = SS_EXIT_FAIL;
          goto out;
        }
  }
  struct ss_error err = {0};
  struct ss_gateway_config gc = {.bind_addr = addr, .port = port, .workers = workers,
                                 .metrics = metrics};
  ss_fd_limit_raise();
  if (!metrics || ss_gateway_start(&gc, &gw, &err)) {
    fprintf(stderr, "servescale gateway: %s\n", metrics ? err.msg : "out of memory");
    goto out;
  }
  struct sigaction sa = {0};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  printf("servescale: gateway on http://%s:%d\n", addr, ss_gateway_port(gw));
  fflush(stdout);
  time_t next_resolve = 0;
  while (!gw_stop) {
    time_t now = time(NULL);
    if (now >= next_resolve) {
      struct ss_gw_table *t = build(sets, n_files, tmpl);
      if (t)
        ss_gateway_publish(gw, t);
      next_resolve = now + GW_RESOLVE_EVERY_S;
    }
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    ss_metrics_sample(metrics, (int64_t)wall.tv_sec * 1000 + wall.tv_nsec / 1000000);
    sleep(1);
  }
  rc = SS_EXIT_OK;
out:
  ss_gateway_stop(gw);
  ss_metrics_free(metrics);
  for (size_t i = 0; i < n_files; i++)
    ss_resources_free(&sets[i]);
  return rc;
}
