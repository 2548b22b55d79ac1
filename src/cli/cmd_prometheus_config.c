/* cmd_prometheus_config.c: `servescale prometheus-config`: prints a
 * Prometheus configuration that scrapes the daemon's gateway (job
 * "servescale", /prometheus: Seldon's executor metrics) and the replicas,
 * found through HTTP service discovery on the gateway's /sd/targets. The
 * replicas' jobs are what the stored PodMonitors say, as the Prometheus
 * operator turns them into scrape configuration on a cluster (one job per
 * podMetricsEndpoint, its selector and namespaceSelector as keep rules, the
 * namespace, pod, endpoint and job labels set as the operator sets them);
 * with none stored, or no daemon to ask, one job ("servescale-replicas")
 * scrapes every replica's /prometheus. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "common/paths.h"

#define DEFAULT_INTERVAL "5s"
/* Prometheus' default scrape_timeout; it must not exceed the interval. */
#define PROMETHEUS_DEFAULT_TIMEOUT_MS 10000
#define URL_MAX 1024

static const char about[] =
    "Print a Prometheus configuration (prometheus.yml) that scrapes servescale: job\n"
    "\"servescale\" reads the gateway's /prometheus (Seldon's executor metrics,\n"
    "seldon_api_executor_{server,client}_requests_seconds, and the daemon's own); the\n"
    "replicas are found through HTTP service discovery at the gateway's /sd/targets\n"
    "and scraped as the stored PodMonitors say (kubectl apply -f pod-monitor.yaml),\n"
    "as the Prometheus operator does on a cluster; without PodMonitors, job\n"
    "\"servescale-replicas\" scrapes every replica's /prometheus. Check it with\n"
    "`promtool check config FILE`.";

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

/* s as a double-quoted YAML scalar. */
static void yq(FILE *f, const char *s) {
  fputc('"', f);
  for (; s && *s; s++) {
    if (*s == '"' || *s == '\\')
      fputc('\\', f);
    if ((unsigned char)*s >= ' ')
      fputc(*s, f);
  }
  fputc('"', f);
}

/* s as an RE2 literal (Prometheus' relabel regexes are anchored RE2). */
static void re_literal(const char *s, char *buf, size_t size) {
  size_t n = 0;
  for (; s && *s && n + 3 < size; s++) {
    if (strchr("\\.+*?()|[]{}^$", *s))
      buf[n++] = '\\';
    buf[n++] = *s;
  }
  buf[n] = '\0';
}

/* The meta label a pod label is found under in /sd/targets. */
static void meta_label(const char *label, char *buf, size_t size) {
  int n = snprintf(buf, size, "__meta_servescale_pod_label_");
  for (const char *p = label; *p && (size_t)n + 1 < size; p++)
    buf[n++] = (char)(((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                       (*p >= '0' && *p <= '9'))
                          ? *p
                          : '_');
  buf[n] = '\0';
}

static void keep(FILE *f, const char *source, const char *regex, bool drop) {
  fprintf(f, "      - source_labels: [%s]\n        regex: ", source);
  yq(f, regex);
  fprintf(f, "\n        action: %s\n", drop ? "drop" : "keep");
}

/* values (a JSON array of strings) as "(a|b)", each a literal. */
static void alternatives(const json_t *values, char *buf, size_t size) {
  size_t n = (size_t)snprintf(buf, size, "(");
  size_t i;
  const json_t *v;
  json_array_foreach(values, i, v) {
    char lit[512];
    re_literal(json_string_value(v), lit, sizeof lit);
    n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%s%s", i ? "|" : "", lit);
  }
  snprintf(buf + (n < size ? n : size - 1), n < size ? size - n : 1, ")");
}

/* A LabelSelector as keep/drop rules on the pods' labels. */
static void selector_rules(FILE *f, const json_t *sel) {
  const char *k;
  const json_t *v;
  char meta[256], re[2048];
  json_object_foreach((json_t *)json_object_get(sel, "matchLabels"), k, v) {
    meta_label(k, meta, sizeof meta);
    re_literal(json_string_value(v), re, sizeof re);
    keep(f, meta, re, false);
  }
  size_t i;
  json_array_foreach(json_object_get(sel, "matchExpressions"), i, v) {
    const char *key = json_string_value(json_object_get(v, "key"));
    const char *op = json_string_value(json_object_get(v, "operator"));
    if (!key || !op)
      continue;
    meta_label(key, meta, sizeof meta);
    alternatives(json_object_get(v, "values"), re, sizeof re);
    if (strcmp(op, "In") == 0 || strcmp(op, "NotIn") == 0)
      keep(f, meta, re, op[0] == 'N');
    else if (strcmp(op, "Exists") == 0 || strcmp(op, "DoesNotExist") == 0)
      keep(f, meta, ".+", op[0] == 'D');
  }
}

struct out {
  const char *scheme, *host, *prefix, *every, *timeout;
};

/* One job of a PodMonitor's endpoint: podMonitor/<ns>/<name>/<i>, its
 * label `job` "<ns>/<name>", as the operator names them. */
static void pod_monitor_job(FILE *f, const json_t *pm, size_t i, const json_t *ep,
                            const struct out *o) {
  const json_t *md = json_object_get(pm, "metadata"), *spec = json_object_get(pm, "spec");
  const char *ns = json_string_value(json_object_get(md, "namespace"));
  const char *name = json_string_value(json_object_get(md, "name"));
  const char *path = json_string_value(json_object_get(ep, "path"));
  const char *scheme = json_string_value(json_object_get(ep, "scheme"));
  const char *interval = json_string_value(json_object_get(ep, "interval"));
  const char *port = json_string_value(json_object_get(ep, "port"));
  char job[600], re[2048];
  snprintf(job, sizeof job, "podMonitor/%s/%s/%zu", ns ? ns : "", name ? name : "", i);
  fprintf(f, "  - job_name: ");
  yq(f, job);
  fprintf(f, "\n    scheme: %s\n    metrics_path: ", scheme ? scheme : "http");
  yq(f, path ? path : "/metrics");
  fprintf(f, "\n    scrape_interval: %s\n    scrape_timeout: %s\n", interval ? interval : o->every,
          o->timeout);
  fprintf(f, "    http_sd_configs:\n      - url: \"%s://%s%s/sd/targets\"\n"
             "        refresh_interval: %s\n    relabel_configs:\n",
          o->scheme, o->host, o->prefix, o->every);
  /* namespaceSelector: any, the names given, or the PodMonitor's own */
  const json_t *nsel = json_object_get(spec, "namespaceSelector");
  if (!json_is_true(json_object_get(nsel, "any"))) {
    const json_t *names = json_object_get(nsel, "matchNames");
    json_t *own = json_pack("[s]", ns ? ns : "");
    alternatives(json_array_size(names) ? names : own, re, sizeof re);
    json_decref(own);
    keep(f, "__meta_servescale_namespace", re, false);
  }
  selector_rules(f, json_object_get(spec, "selector"));
  fprintf(f, "      - source_labels: [__meta_servescale_namespace]\n        target_label: namespace\n"
             "      - source_labels: [__meta_servescale_pod_name]\n        target_label: pod\n"
             "      - target_label: endpoint\n        replacement: ");
  yq(f, port ? port : "");
  snprintf(re, sizeof re, "%s/%s", ns ? ns : "", name ? name : "");
  fprintf(f, "\n      - target_label: job\n        replacement: ");
  yq(f, re);
  fputc('\n', f);
}

/* The stored PodMonitors, or NULL (with why) when there is no daemon to
 * ask: the default job is printed then. */
static json_t *stored_monitors(const char *kubeconfig, char *why, size_t size) {
  struct ss_client_config cfg = {0};
  struct ss_client_error err = {0};
  struct ss_client *c = NULL;
  json_t *list = NULL;
  const struct ss_client_kind *k = ss_client_kind_find("podmonitors");
  if (ss_client_config_load(kubeconfig, NULL, &cfg, &err) || ss_client_new(&cfg, NULL, &c, &err) ||
      ss_client_list(c, k, NULL, NULL, NULL, &list, &err)) {
    snprintf(why, size, "%s", err.msg);
    list = NULL;
  }
  ss_client_free(c);
  ss_client_config_free(&cfg);
  return list;
}

static void default_replicas_job(FILE *f, const struct out *o) {
  fprintf(f, "  - job_name: servescale-replicas\n    scheme: http\n    metrics_path: /prometheus\n"
             "    scrape_interval: %s\n    scrape_timeout: %s\n    http_sd_configs:\n"
             "      - url: \"%s://%s%s/sd/targets\"\n        refresh_interval: %s\n",
          o->every, o->timeout, o->scheme, o->host, o->prefix, o->every);
}

/* The comment, the global section and the gateway's job. */
static void print_header(const char *gateway, const char *interval, const struct out *o) {
  printf("# Prometheus configuration for servescale, from `servescale prometheus-config\n"
         "# --gateway %s --interval %s`. Use it as prometheus.yml, or copy its\n"
         "# scrape_configs into yours.\n"
         "#\n"
         "# Job \"servescale\" scrapes the gateway's /prometheus: Seldon's executor metrics\n"
         "# (seldon_api_executor_server_requests_seconds and\n"
         "# seldon_api_executor_client_requests_seconds, with model_name, deployment_name,\n"
         "# predictor_name, ...), the replica and queue gauges, and the daemon's process_*.\n"
         "#\n"
         "# The replicas' own /prometheus are scraped as the stored PodMonitors say (one\n"
         "# job per podMetricsEndpoint, podMonitor/<namespace>/<name>/<index>), or by job\n"
         "# \"servescale-replicas\" when none is stored. The gateway's /sd/targets (HTTP\n"
         "# service discovery) lists the replicas as they come and go, with the meta\n"
         "# labels __meta_servescale_namespace, __meta_servescale_pod_name and\n"
         "# __meta_servescale_pod_label_<label> that the PodMonitors' rules select by.\n"
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
         "      - targets: [\"%s\"]\n",
         gateway, interval, o->every, o->timeout, o->scheme, o->prefix, o->every, o->timeout,
         o->host);
}

int ss_cmd_prometheus_config(int argc, char **argv) {
  struct ss_cli_opts o;
  int rc = ss_cli_parse(argc, argv, "gI", "servescale prometheus-config [--gateway URL] "
                        "[--interval DURATION] [--kubeconfig FILE]", about, &o);
  if (rc >= 0)
    return rc;
  if (o.n_args) {
    fprintf(stderr, "error: unexpected argument \"%s\"\n", o.args[0]);
    return SS_EXIT_FAIL;
  }
  char kc[1024], gateway[URL_MAX], from[1100];
  ss_client_config_path(o.kubeconfig, kc, sizeof kc);
  const char *source = ss_gateway_url(o.gateway, kc, gateway, sizeof gateway, from, sizeof from);
  const char *interval = o.interval ? o.interval : DEFAULT_INTERVAL;
  char scheme[8], host[URL_MAX], prefix[URL_MAX];
  if (!parse_url(gateway, scheme, host, prefix)) {
    fprintf(stderr, "error: invalid gateway \"%s\" (from %s): give a URL like %s\n", gateway,
            source, SS_DEFAULT_GATEWAY_URL);
    return SS_EXIT_FAIL;
  }
  int ms = ss_cli_duration_ms(interval);
  if (ms <= 0) {
    fprintf(stderr, "error: invalid --interval \"%s\": give a duration like 5s, 500ms or 1m\n",
            interval);
    return SS_EXIT_FAIL;
  }
  char every[32], timeout[32], why[512] = "";
  prom_duration(ms, every, sizeof every);
  prom_duration(ms < PROMETHEUS_DEFAULT_TIMEOUT_MS ? ms : PROMETHEUS_DEFAULT_TIMEOUT_MS, timeout,
                sizeof timeout);
  struct out out = {scheme, host, prefix, every, timeout};
  json_t *list = stored_monitors(o.kubeconfig, why, sizeof why);
  const json_t *items = json_object_get(list, "items");
  if (!list)
    fprintf(stderr, "note: no PodMonitors read (%s): every replica is scraped by job "
                    "servescale-replicas\n", why);
  print_header(gateway, interval, &out);
  size_t i, j, jobs = 0;
  const json_t *pm, *ep;
  json_array_foreach(items, i, pm) {
    json_array_foreach(json_object_get(json_object_get(pm, "spec"), "podMetricsEndpoints"), j, ep) {
      pod_monitor_job(stdout, pm, j, ep, &out);
      jobs++;
    }
  }
  if (jobs == 0)
    default_replicas_job(stdout, &out);
  json_decref(list);
  return SS_EXIT_OK;
}
