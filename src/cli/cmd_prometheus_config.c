/* cmd_prometheus_config.c: `servescale prometheus-config`: prints a
 * Prometheus configuration that scrapes the daemon's gateway (job
 * "servescale", /prometheus: Seldon's executor metrics) and, through HTTP
 * service discovery on the gateway's /sd/targets, each replica (job
 * "servescale-replicas"): the one-machine equivalent of Seldon's PodMonitor.
 * It only writes text; it does not talk to the daemon. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/common.h"

#define DEFAULT_GATEWAY "http://127.0.0.1:8000"
#define DEFAULT_INTERVAL "5s"
/* Prometheus' default scrape_timeout; it must not exceed the interval. */
#define PROMETHEUS_DEFAULT_TIMEOUT_MS 10000
#define URL_MAX 1024

static void help(FILE *f) {
  fprintf(f,
          "Print a Prometheus configuration (prometheus.yml) that scrapes servescale: job\n"
          "\"servescale\" reads the gateway's /prometheus (Seldon's executor metrics,\n"
          "seldon_api_executor_{server,client}_requests_seconds, and the daemon's own);\n"
          "job \"servescale-replicas\" scrapes each replica's /prometheus, found through\n"
          "HTTP service discovery at the gateway's /sd/targets, so that it keeps up as\n"
          "replicas come and go. Check it with `promtool check config FILE`.\n\n"
          "Usage: servescale prometheus-config [--gateway URL] [--interval DURATION]\n\n"
          "Options:\n"
          "      --gateway URL        the daemon's gateway (default %s)\n"
          "      --interval DURATION  scrape and discovery interval: 5s, 500ms, 1m (default %s)\n"
          "  -h, --help               this text\n",
          DEFAULT_GATEWAY, DEFAULT_INTERVAL);
}

/* The gateway URL split as Prometheus wants it: scheme, host[:port], and a
 * path prefix ("" or "/x", no trailing slash). Rejects what could not sit
 * in a quoted YAML scalar. */
static bool parse_url(const char *url, char *scheme, char *host, char *prefix) {
  const char *p;
  if (strncmp(url, "http://", 7) == 0) {
    strcpy(scheme, "http");
    p = url + 7;
  } else if (strncmp(url, "https://", 8) == 0) {
    strcpy(scheme, "https");
    p = url + 8;
  } else {
    return false;
  }
  if (strlen(p) >= URL_MAX)
    return false;
  for (const char *c = p; *c; c++)
    if ((unsigned char)*c <= ' ' || *c == '"' || *c == '\\' || *c == '#' || *c == '?' ||
        *c == 0x7f)
      return false;
  size_t hl = strcspn(p, "/");
  if (hl == 0 || memchr(p, '@', hl)) /* no host, or credentials in the URL */
    return false;
  memcpy(host, p, hl);
  host[hl] = '\0';
  strcpy(prefix, p + hl);
  size_t n = strlen(prefix);
  while (n && prefix[n - 1] == '/')
    prefix[--n] = '\0';
  return true;
}

/* ms as a Prometheus duration, in the largest unit that is exact. */
static void prom_duration(int ms, char *buf, size_t size) {
  if (ms % 3600000 == 0)
    snprintf(buf, size, "%dh", ms / 3600000);
  else if (ms % 60000 == 0)
    snprintf(buf, size, "%dm", ms / 60000);
  else if (ms % 1000 == 0)
    snprintf(buf, size, "%ds", ms / 1000);
  else
    snprintf(buf, size, "%dms", ms);
}

int ss_cmd_prometheus_config(int argc, char **argv) {
  enum { OPT_GATEWAY = 1000, OPT_INTERVAL };
  static const struct option longopts[] = {
      {"gateway", required_argument, NULL, OPT_GATEWAY},
      {"interval", required_argument, NULL, OPT_INTERVAL},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  const char *gateway = DEFAULT_GATEWAY, *interval = DEFAULT_INTERVAL;
  int c;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (c) {
    case 'h': help(stdout); return SS_EXIT_OK;
    case OPT_GATEWAY: gateway = optarg; break;
    case OPT_INTERVAL: interval = optarg; break;
    default:
      fprintf(stderr, "error: unknown or incomplete flag \"%s\" for \"servescale %s\"\n"
                      "See 'servescale %s --help' for usage.\n",
              optind > 1 && optind <= argc ? argv[optind - 1] : "?", argv[0], argv[0]);
      return SS_EXIT_FAIL;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "error: unexpected argument \"%s\"\n", argv[optind]);
    return SS_EXIT_FAIL;
  }
  char scheme[8], host[URL_MAX], prefix[URL_MAX];
  if (!parse_url(gateway, scheme, host, prefix)) {
    fprintf(stderr, "error: invalid --gateway \"%s\": give a URL like %s\n", gateway,
            DEFAULT_GATEWAY);
    return SS_EXIT_FAIL;
  }
  int ms = ss_cli_duration_ms(interval);
  if (ms <= 0) {
    fprintf(stderr, "error: invalid --interval \"%s\": give a duration like 5s, 500ms or 1m\n",
            interval);
    return SS_EXIT_FAIL;
  }
  char every[32], timeout[32];
  prom_duration(ms, every, sizeof every);
  prom_duration(ms < PROMETHEUS_DEFAULT_TIMEOUT_MS ? ms : PROMETHEUS_DEFAULT_TIMEOUT_MS, timeout,
                sizeof timeout);

  printf("# Prometheus configuration for servescale, from `servescale prometheus-config\n"
         "# --gateway %s --interval %s`. Use it as prometheus.yml, or copy its\n"
         "# scrape_configs into yours.\n"
         "#\n"
         "# Job \"servescale\" scrapes the gateway's /prometheus: Seldon's executor metrics\n"
         "# (seldon_api_executor_server_requests_seconds and\n"
         "# seldon_api_executor_client_requests_seconds, with model_name, deployment_name,\n"
         "# predictor_name, ...), the replica and queue gauges, and the daemon's process_*.\n"
         "#\n"
         "# Job \"servescale-replicas\" scrapes each replica's own /prometheus, as Seldon's\n"
         "# PodMonitor does on a cluster. The gateway's /sd/targets (HTTP service\n"
         "# discovery) lists the replicas as they come and go:\n"
         "#   [{\"targets\":[\"127.0.0.1:PORT\"],\"labels\":{\"namespace\":...,\n"
         "#     \"seldon_deployment_id\":...,\"replica_set\":...,\"replica\":...}}]\n"
         "# Replicas listen on loopback, so run Prometheus on the daemon's machine.\n"
         "global:\n"
         "  scrape_interval: %s\n"
         "  scrape_timeout: %s\n"
         "scrape_configs:\n"
         "  - job_name: servescale\n"
         "    scheme: %s\n"
         "    metrics_path: \"%s/prometheus\"\n"
         "    scrape_interval: %s\n"
         "    scrape_timeout: %s\n"
         "    static_configs:\n"
         "      - targets: [\"%s\"]\n"
         "  - job_name: servescale-replicas\n"
         "    scheme: http\n"
         "    metrics_path: /prometheus\n"
         "    scrape_interval: %s\n"
         "    scrape_timeout: %s\n"
         "    http_sd_configs:\n"
         "      - url: \"%s://%s%s/sd/targets\"\n"
         "        refresh_interval: %s\n",
         gateway, every, every, timeout, scheme, prefix, every, timeout, host, every, timeout,
         scheme, host, prefix, every);
  return SS_EXIT_OK;
}
