/* daemon.c: `servescale serve`. Settings come from one table (flags today;
 * the same rows serve a config file later). The main loop runs the runtime
 * and the reconciler on a monotonic clock; the API answers on its own
 * threads and wakes the loop when something changed. */
#include "daemon.h"
#include "common/clock.h"
#include "common/fdlimit.h"
#include "common/paths.h"

#include <errno.h>
#include <getopt.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "api/tls.h"
#include "autoscale/loop.h"
#include "control/control.h"
#include "control/images.h"
#include "gateway/gateway.h"
#include "gateway/ui.h"
#include "metrics/metrics.h"
#include "adapter/adapter.h"
#include "model/doc.h"
#include "runtime/runtime.h"
#include "store/store.h"
#include "timeline/timeline.h"

#define SS_TOKEN_BYTES 32
#define SS_SETTLE_PERIOD_MS 10 /* loop period while replicas start or drain */
#define SS_MAX_APPLY_FILES 64
#define SS_UI_PERIOD_MS 1000 /* the dashboard's state, rebuilt while it is polled */

struct settings {
  char state_dir[1024];
  char db[1100];
  char api_addr[64];
  int api_port;
  char image_map[1024];
  int sync_period_ms;
  int backoff_base_ms;
  int backoff_max_ms;
  char gateway_addr[64];
  int gateway_port;
  int gateway_workers;
  int gateway_max_connections;
  int api_max_connections;
  int api_handshake_timeout_s;
  int api_idle_timeout_s;
  int queue_timeout_ms;
  int autoscale_sync_ms;
  char adapter_config[1024];
  char prometheus_url[1024];
};

enum opt_type { OPT_STR, OPT_INT };

/* name, type, where, size (strings), min, max, help */
static const struct option_row {
  const char *name;
  enum opt_type type;
  size_t offset, size;
  long min, max;
  const char *help;
} rows[] = {
    {"state-dir", OPT_STR, offsetof(struct settings, state_dir), 1024, 0, 0,
     "directory for the database, logs and kubeconfig"},
    {"db", OPT_STR, offsetof(struct settings, db), 1100, 0, 0,
     "SQLite database (default STATE_DIR/servescale.db)"},
    {"api-addr", OPT_STR, offsetof(struct settings, api_addr), 64, 0, 0,
     "address of the control API (default 127.0.0.1)"},
    {"api-port", OPT_INT, offsetof(struct settings, api_port), 0, 0, 65535,
     "port of the control API (default 8001; 0 picks a free one)"},
    {"api-max-connections", OPT_INT, offsetof(struct settings, api_max_connections), 0, 0,
     1000000,
     "connections the control API holds at once (default 2048, at most a quarter of the "
     "descriptor limit)"},
    {"api-handshake-timeout-s", OPT_INT, offsetof(struct settings, api_handshake_timeout_s), 0,
     0, 3600,
     "close an API connection that has not completed its TLS handshake and an authenticated "
     "request head within this many seconds (default 10)"},
    {"api-idle-timeout-s", OPT_INT, offsetof(struct settings, api_idle_timeout_s), 0, 0, 86400,
     "close an authenticated API connection idle this many seconds (default 600)"},
    {"image-map", OPT_STR, offsetof(struct settings, image_map), 1024, 0, 0,
     "YAML file mapping container images to commands"},
    {"sync-period-ms", OPT_INT, offsetof(struct settings, sync_period_ms), 0, 10, 60000,
     "reconcile and supervise every this many ms (default 200)"},
    {"backoff-base-ms", OPT_INT, offsetof(struct settings, backoff_base_ms), 0, 1, 3600000,
     "first restart back-off of a crashed replica (default 10000, as Kubernetes)"},
    {"backoff-max-ms", OPT_INT, offsetof(struct settings, backoff_max_ms), 0, 1, 3600000,
     "longest restart back-off (default 300000, as Kubernetes)"},
    {"gateway-addr", OPT_STR, offsetof(struct settings, gateway_addr), 64, 0, 0,
     "address of the prediction gateway (default 127.0.0.1)"},
    {"gateway-port", OPT_INT, offsetof(struct settings, gateway_port), 0, 0, 65535,
     "port of the prediction gateway (default 8000, as Seldon; 0 picks a free one)"},
    {"gateway-workers", OPT_INT, offsetof(struct settings, gateway_workers), 0, 0, 256,
     "gateway worker threads (default: one per core)"},
    {"gateway-max-connections", OPT_INT, offsetof(struct settings, gateway_max_connections), 0,
     0, 10000000,
     "client connections the gateway holds at once; past it the oldest idle ones are closed "
     "(default 10000, at most half the descriptor limit)"},
    {"queue-timeout-ms", OPT_INT, offsetof(struct settings, queue_timeout_ms), 0, 1, 3600000,
     "how long a request waits for a first ready replica (default 60000)"},
    {"autoscale-sync-ms", OPT_INT, offsetof(struct settings, autoscale_sync_ms), 0, 0, 3600000,
     "poll every autoscaled target this often (default 0: an HPA's 15 s sync period, a "
     "ScaledObject's pollingInterval; annotation servescale.io/sync-period-ms overrides)"},
    {"adapter-config", OPT_STR, offsetof(struct settings, adapter_config), 1024, 0, 0,
     "prometheus-adapter configuration (its config.yaml, or the ConfigMap that wraps it) for "
     "the custom and external metrics HPAs read (default: Seldon's metrics, "
     "docs/autoscaling.md)"},
    {"prometheus-url", OPT_STR, offsetof(struct settings, prometheus_url), 1024, 0, 0,
     "Prometheus server the metrics adapter asks (default: none, servescale's own metrics)"},
};

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig) {
  (void)sig;
  stop_flag = 1;
}

static int mkdirs(const char *path) {
  char tmp[1024];
  snprintf(tmp, sizeof tmp, "%s", path);
  for (char *p = tmp + 1; *p; p++) {
    if (*p == '/') {
      *p = '\0';
      if (mkdir(tmp, 0700) && errno != EEXIST)
        return -1;
      *p = '/';
    }
  }
  return mkdir(tmp, 0700) && errno != EEXIST ? -1 : 0;
}

static void usage(FILE *f) {
  fprintf(f, "Run the servescale daemon: the control API (kubectl works against it), the\n"
             "reconciler and the replicas of every stored deployment.\n\n"
             "Usage: servescale serve [options] [-f FILE...]\n\nOptions:\n");
  int w = 0;
  for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
    w = (int)strlen(rows[i].name) > w ? (int)strlen(rows[i].name) : w;
  for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
    fprintf(f, "  --%-*s %s\n", w, rows[i].name, rows[i].help);
  fprintf(f, "  -f, --filename FILE  apply the resources in FILE at start (repeatable)\n"
             "  -h, --help           this text\n");
}

/* Applies one option value; returns false with a message on stderr. */
static bool set_option(struct settings *s, const struct option_row *row, const char *value) {
  char *field = (char *)s + row->offset;
  if (row->type == OPT_STR) {
    if (strlen(value) >= row->size) {
      fprintf(stderr, "servescale serve: --%s is too long (at most %zu characters)\n", row->name,
              row->size - 1);
      return false;
    }
    snprintf(field, row->size, "%s", value);
    return true;
  }
  char *end;
  errno = 0;
  long v = strtol(value, &end, 10);
  if (errno || *end || !*value || v < row->min || v > row->max) {
    fprintf(stderr, "servescale serve: --%s must be a whole number from %ld to %ld, not \"%s\"\n",
            row->name, row->min, row->max, value);
    return false;
  }
  *(int *)(void *)field = (int)v;
  return true;
}

struct loop {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool dirty;
  struct ss_control *control;
  struct ss_gateway *gateway;
  struct ss_adapter *adapter; /* borrowed; set before the API starts, freed after it stops */
  /* the autoscaler runs on its own thread, since a prometheus query may
   * wait for its timeout; guarded by mu */
  struct ss_autoscaler *autoscaler;
  pthread_cond_t as_cv;
  bool as_wake, as_stop;
  /* the timelines' sources (hook); set before the API starts */
  struct ss_store *store;
  struct ss_metrics *metrics;
};

static int64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool may_stop(void *ctx, const char *replica_id) {
  struct loop *l = ctx;
  return !l->gateway || ss_gateway_idle(l->gateway, replica_id);
}

static void on_changed(void *ctx) {
  struct loop *l = ctx;
  pthread_mutex_lock(&l->mu);
  l->dirty = true;
  pthread_cond_signal(&l->cv);
  pthread_mutex_unlock(&l->mu);
}

/* The gateway's hook: a request waits at zero replicas of rs. */
static void on_queued(void *ctx, const char *ns, const char *deployment, const char *rs) {
  struct loop *l = ctx;
  (void)ns;
  (void)deployment;
  pthread_mutex_lock(&l->mu);
  if (l->autoscaler) {
    ss_autoscaler_activate(l->autoscaler, rs);
    l->as_wake = true;
    pthread_cond_signal(&l->as_cv);
  }
  pthread_mutex_unlock(&l->mu);
}

/* The gateway's live figures for the autoscaler's own policy (the gateway
 * outlives the autoscaler's thread: stop() joins it first). */
static int gw_inflight(void *ctx, const char *replica_id) {
  struct loop *l = ctx;
  return l->gateway ? ss_gateway_inflight(l->gateway, replica_id) : 0;
}

static int gw_queued(void *ctx, const char *rs) {
  struct loop *l = ctx;
  return l->gateway ? ss_gateway_queued(l->gateway, rs) : 0;
}

/* The longest the autoscaler sleeps: new targets are found this soon. */
#define SS_AUTOSCALE_MAX_SLEEP_MS 1000

static void *autoscale_main(void *arg) {
  struct loop *l = arg;
  pthread_mutex_lock(&l->mu);
  while (!l->as_stop) {
    struct ss_autoscaler *as = l->autoscaler;
    pthread_mutex_unlock(&l->mu);
    int64_t next = 0;
    if (ss_autoscaler_tick(as, wall_ms(), &next))
      on_changed(l); /* the reconciler applies the new size now */
    int64_t delay = next - wall_ms();
    if (delay > SS_AUTOSCALE_MAX_SLEEP_MS)
      delay = SS_AUTOSCALE_MAX_SLEEP_MS;
    if (delay < 10)
      delay = 10;
    pthread_mutex_lock(&l->mu);
    if (!l->as_wake && !l->as_stop) {
      struct timespec ts;
      clock_gettime(CLOCK_MONOTONIC, &ts);
      int64_t ns = ts.tv_nsec + delay * 1000000;
      ts.tv_sec += ns / 1000000000;
      ts.tv_nsec = ns % 1000000000;
      pthread_cond_timedwait(&l->as_cv, &l->mu, &ts);
    }
    l->as_wake = false;
  }
  pthread_mutex_unlock(&l->mu);
  return NULL;
}

static void runtime_event(void *ctx, const char *rs, const char *type, const char *reason,
                          const char *message) {
  struct loop *l = ctx;
  if (l->control)
    ss_control_runtime_event(l->control, rs, type, reason, message);
}

/* The dashboard's writes, relayed by the gateway to the API in process. */
static int ui_relay(void *ctx, const char *method, const char *path, const char *content_type,
                    const char *body, size_t len, const char *authorization, char **out) {
  return ss_api_local(ctx, method, path, content_type, body, len, authorization, out);
}

/* The API's metrics hook: the custom and external metrics APIs from the
 * adapter. */
static json_t *metrics_hook(void *ctx, const struct ss_api_metrics_query *q, int *code,
                            char *why, size_t why_size) {
  struct loop *l = ctx;
  json_t *out = NULL;
  struct ss_error err = {0};
  enum ss_err rc;
  if (q->discovery)
    return ss_adapter_discovery(l->adapter, q->external, wall_ms());
  if (q->external) {
    rc = ss_adapter_external(l->adapter, q->ns, q->metric, q->selector, wall_ms(), &out, &err);
  } else {
    struct ss_adapter_gr gr;
    ss_adapter_gr_of(q->group, q->resource, &gr);
    rc = ss_adapter_custom(l->adapter, &gr, q->ns, q->names, q->n_names, q->metric, q->selector,
                           wall_ms(), &out, &err);
  }
  if (rc) {
    *code = rc == SS_ENOTFOUND ? 404 : rc == SS_EINVALID ? 400 : 503;
    snprintf(why, why_size, "%s", err.msg);
  }
  return out;
}

/* The API's timeline hook: a SeldonDeployment's timeline (src/timeline). */
static json_t *timeline_hook(void *ctx, const char *ns, const char *name, long long since_ms,
                             int *code, char *why, size_t why_size) {
  struct loop *l = ctx;
  struct ss_error err = {0};
  json_t *tl = ss_timeline_build(l->metrics, l->store, ns, name, since_ms, wall_ms(), &err);
  if (!tl) {
    *code = err.code == SS_ENOTFOUND ? 404 : 500;
    snprintf(why, why_size, "%s", err.msg);
  }
  return tl;
}

/* A SeldonDeployment's replicas' start and readiness, from their gauges:
 * replica -> {"start", "readyAt", "ready"}. */
struct startups {
  const char *ns, *name;
  json_t *by_replica;
};

static void startup_cb(void *ctx, const struct ss_timeseries *ts) {
  struct startups *s = ctx;
  static const char *const keys[][2] = {{"servescale_replica_start_time_seconds", "start"},
                                        {"servescale_replica_ready_time_seconds", "readyAt"},
                                        {"servescale_replica_ready", "ready"}};
  if (!ts->n_samples || strcmp(ss_timeseries_label(ts, "namespace"), s->ns) != 0 ||
      strcmp(ss_timeseries_label(ts, "deployment"), s->name) != 0)
    return;
  const char *rep = ss_timeseries_label(ts, "replica");
  json_t *r = json_object_get(s->by_replica, rep);
  if (!r && json_object_set_new(s->by_replica, rep, r = json_object()) != 0)
    return;
  for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
    if (strcmp(ts->name, keys[i][0]) == 0)
      json_object_set_new(r, keys[i][1], json_real(ts->samples[ts->n_samples - 1].v));
}

/* The ready replicas of ns/name, each with when its process started and
 * how long it took from there to ready: [{replica, startTime, startupSeconds}]. */
static json_t *replica_startups(struct ss_metrics *m, const char *ns, const char *name) {
  struct startups s = {ns, name, json_object()};
  json_t *out = json_array();
  static const char *const names[] = {"servescale_replica_start_time_seconds",
                                      "servescale_replica_ready_time_seconds",
                                      "servescale_replica_ready"};
  for (size_t i = 0; s.by_replica && i < sizeof names / sizeof *names; i++)
    ss_metrics_each_current(m, names[i], wall_ms(), startup_cb, &s);
  const char *rep;
  json_t *r;
  json_object_foreach(s.by_replica, rep, r) {
    double start = json_real_value(json_object_get(r, "start"));
    double ready_at = json_real_value(json_object_get(r, "readyAt"));
    if (json_real_value(json_object_get(r, "ready")) == 1 && start > 0 && ready_at >= start)
      json_array_append_new(out, json_pack("{s:s, s:f, s:f}", "replica", rep, "startTime", start,
                                           "startupSeconds", ready_at - start));
  }
  json_decref(s.by_replica);
  return out;
}

/* The API's requests hook: what the gateway answered for SeldonDeployment
 * ns/name so far (every code) and what is outstanding (in flight at its
 * replicas, queued for a first one, as the reconciler's gauges last said),
 * read as current values, not the window's; and, for what simulate models,
 * the seconds its replicas took to answer the gateway's calls (code 200)
 * and how long its ready replicas took to start. */
static json_t *requests_hook(void *ctx, const char *ns, const char *name, int *code, char *why,
                             size_t why_size) {
  struct loop *l = ctx;
  json_t *obj = NULL;
  if (ss_store_get(l->store, (struct ss_kind_ref){SS_SDEP_GROUP, "seldondeployments"}, ns, name,
                   &obj, NULL)) {
    *code = 404;
    snprintf(why, why_size, "seldondeployments.%s \"%s\" not found", SS_SDEP_GROUP, name);
    return NULL;
  }
  json_decref(obj);
  static const char *const served[] = {"namespace", "deployment_name", "service"};
  static const char *const gauge[] = {"namespace", "deployment"};
  const char *sv[] = {ns, name, "predictions"}, *gv[] = {ns, name};
  double answered = ss_metrics_current_sum(
      l->metrics, "seldon_api_executor_server_requests_seconds_count", served, sv, 3);
  double outstanding =
      ss_metrics_current_sum(l->metrics, "servescale_replica_set_inflight_requests", gauge, gv,
                             2) +
      ss_metrics_current_sum(l->metrics, "servescale_replica_set_queued_requests", gauge, gv, 2);
  static const char *const call[] = {"namespace", "deployment_name", "code"};
  const char *cv[] = {ns, name, "200"};
  double service_s = ss_metrics_current_sum(
      l->metrics, "seldon_api_executor_client_requests_seconds_sum", call, cv, 3);
  double service_n = ss_metrics_current_sum(
      l->metrics, "seldon_api_executor_client_requests_seconds_count", call, cv, 3);
  return json_pack("{s:s, s:s, s:{s:s, s:s}, s:I, s:f, s:f, s:f, s:f, s:o}", "apiVersion",
                   "servescale.io/v1", "kind", "RequestCount", "metadata", "namespace", ns,
                   "name", name, "timeMs", (json_int_t)wall_ms(), "answered", answered,
                   "outstanding", outstanding, "serviceSeconds", service_s, "serviceCalls",
                   service_n, "replicaStartups", replica_startups(l->metrics, ns, name));
}

static json_t *pods_hook(void *ctx, const char *ns) {
  struct loop *l = ctx;
  return ss_control_pods(l->control, ns);
}

static int log_hook(void *ctx, const char *ns, const char *pod, char *buf, size_t size) {
  struct loop *l = ctx;
  return ss_control_pod_log(l->control, ns, pod, buf, size);
}

static int delete_pod_hook(void *ctx, const char *ns, const char *pod) {
  struct loop *l = ctx;
  return ss_control_delete_pod(l->control, ns, pod);
}

/* Deployments given with -f: once each is Available, say how to reach it. */
struct announcements {
  json_t *pending; /* array of [namespace, name] */
};

static void announce_init(struct announcements *a, const char *const *files, size_t n) {
  a->pending = json_array();
  for (size_t i = 0; i < n; i++) {
    char *buf = NULL;
    size_t len = 0;
    struct ss_docs docs = {0};
    if (ss_read_file(files[i], &buf, &len, NULL) == SS_EOK &&
        ss_docs_parse(buf, len, &docs, NULL) == SS_EOK) {
      for (size_t d = 0; d < docs.n; d++) {
        json_t *root = docs.v[d]->root;
        const char *kind = json_string_value(json_object_get(root, "kind"));
        json_t *md = json_object_get(root, "metadata");
        const char *name = json_string_value(json_object_get(md, "name"));
        const char *ns = json_string_value(json_object_get(md, "namespace"));
        if (kind && name && strcmp(kind, "SeldonDeployment") == 0)
          json_array_append_new(a->pending, json_pack("[ss]", ns ? ns : "default", name));
      }
    }
    ss_docs_free(&docs);
    free(buf);
  }
}

static void announce(struct announcements *a, struct ss_store *st) {
  struct ss_kind_ref k = {"machinelearning.seldon.io", "seldondeployments"};
  for (size_t i = 0; i < json_array_size(a->pending);) {
    json_t *e = json_array_get(a->pending, i);
    const char *ns = json_string_value(json_array_get(e, 0));
    const char *name = json_string_value(json_array_get(e, 1));
    json_t *obj = NULL;
    const char *state = NULL, *url = NULL;
    if (ss_store_get(st, k, ns, name, &obj, NULL) == SS_EOK) {
      json_t *status = json_object_get(obj, "status");
      state = json_string_value(json_object_get(status, "state"));
      url = json_string_value(json_object_get(json_object_get(status, "address"), "url"));
    }
    if (state && url && strcmp(state, "Available") == 0) {
      printf("%s/%s is Available. Send it a prediction:\n"
             "  curl -s -H 'Content-Type: application/json' "
             "-d '{\"data\":{\"ndarray\":[[1,2,3,4]]}}' %s\n",
             ns, name, url);
      fflush(stdout);
      json_array_remove(a->pending, i);
    } else {
      i++;
    }
    json_decref(obj);
  }
}

static enum ss_err api_token(struct ss_store *st, char **token, struct ss_error *err) {
  enum ss_err rc = ss_store_meta_get(st, "api-token", token, err);
  if (rc != SS_ENOTFOUND)
    return rc;
  unsigned char raw[SS_TOKEN_BYTES];
  if (RAND_bytes(raw, sizeof raw) != 1)
    return ss_error_set(err, SS_EINTERNAL, 0, 0, "no randomness for the API token");
  char hex[SS_TOKEN_BYTES * 2 + 1];
  for (size_t i = 0; i < sizeof raw; i++)
    snprintf(hex + 2 * i, 3, "%02x", raw[i]);
  if ((rc = ss_store_meta_set(st, "api-token", hex, err)))
    return rc;
  *token = strdup(hex);
  return *token ? SS_EOK : ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
}

static int write_kubeconfig(const char *path, const char *addr, int port, const char *token,
                            const char *cert) {
  char tmp[1200];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  size_t cl = strlen(cert);
  char *b64 = malloc(4 * ((cl + 2) / 3) + 1);
  if (!b64)
    return -1;
  EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)cert, (int)cl);
  FILE *f = fopen(tmp, "w");
  if (!f) {
    free(b64);
    return -1;
  }
  fchmod(fileno(f), 0600);
  fprintf(f,
          "apiVersion: v1\nkind: Config\nclusters:\n- name: servescale\n  cluster:\n"
          "    certificate-authority-data: %s\n"
          "    server: https://%s%s%s:%d\ncontexts:\n- name: servescale\n  context:\n"
          "    cluster: servescale\n    user: servescale\n    namespace: default\n"
          "current-context: servescale\nusers:\n- name: servescale\n  user:\n    token: %s\n",
          b64, strchr(addr, ':') ? "[" : "", addr, strchr(addr, ':') ? "]" : "", port, token);
  free(b64);
  if (fclose(f) != 0)
    return -1;
  return rename(tmp, path);
}

/* ---- serve: settings, state, the parts, the loop, stop ---- */

/* What serve holds while it runs. Zeroed: nothing open or started yet, so
 * stop() may run after a failure at any step. */
struct daemon {
  struct settings s;
  const char *files[SS_MAX_APPLY_FILES]; /* -f FILE, borrowed from argv */
  size_t n_files;
  long fd_limit;
  struct ss_image_map *images;
  struct ss_store *store;
  char *token, *cert, *key;
  struct ss_metrics *metrics;
  struct ss_gateway *gateway;
  char gateway_base[128]; /* http://ADDR:PORT of the gateway */
  struct ss_runtime *rt;
  struct ss_control *control;
  struct ss_api *api;
  struct ss_adapter *adapter; /* the metrics adapter: the API's and the autoscaler's */
  struct ss_autoscaler *autoscaler;
  struct ss_timeline_recorder *recorder; /* the autoscalers' metrics into the window */
  struct ss_gw_ui *ui;                   /* the dashboard's state, served by the gateway */
  pthread_t as_thread;
  bool as_started;
  struct announcements ann;
  struct loop loop;
};

/* parse_settings' answer when serve goes on (else it is the exit code). */
#define SERVE_RUN (-1)

/* Reads the command line into d->s (the option table's rows) and d->files.
 * Returns SERVE_RUN, or the exit code: 0 after --help, 2 for bad usage
 * (said on stderr, as a command's usage errors are). */
static int parse_settings(struct daemon *d, int argc, char **argv) {
  const size_t n = sizeof rows / sizeof *rows;
  struct option longopts[sizeof rows / sizeof *rows + 3];
  struct settings *s = &d->s;
  *s = (struct settings){.api_addr = "127.0.0.1",
                         .api_port = 8001,
                         .gateway_addr = "127.0.0.1",
                         .gateway_port = SS_GW_DEFAULT_PORT,
                         .sync_period_ms = 200,
                         .backoff_base_ms = 10000,
                         .backoff_max_ms = 300000};
  ss_default_state_dir(s->state_dir, sizeof s->state_dir);
  for (size_t i = 0; i < n; i++)
    longopts[i] = (struct option){rows[i].name, required_argument, NULL, 1000 + (int)i};
  longopts[n] = (struct option){"filename", required_argument, NULL, 'f'};
  longopts[n + 1] = (struct option){"help", no_argument, NULL, 'h'};
  longopts[n + 2] = (struct option){NULL, 0, NULL, 0};
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "f:h", longopts, NULL)) != -1) {
    if (c >= 1000) {
      if (!set_option(s, &rows[c - 1000], optarg))
        return 2;
    } else if (c == 'f') {
      if (d->n_files == SS_MAX_APPLY_FILES) {
        fprintf(stderr, "servescale serve: at most %d files\n", SS_MAX_APPLY_FILES);
        return 2;
      }
      d->files[d->n_files++] = optarg;
    } else if (c == 'h') {
      usage(stdout);
      return 0;
    } else {
      usage(stderr);
      return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "servescale serve: unexpected argument \"%s\"\n", argv[optind]);
    return 2;
  }
  if (!s->db[0])
    snprintf(s->db, sizeof s->db, "%s/servescale.db", s->state_dir);
  return SERVE_RUN;
}

/* The loop's lock, and its condition variables on the monotonic clock (the
 * waits' deadlines are monotonic). */
static void loop_init(struct loop *l) {
  pthread_condattr_t ca;
  pthread_mutex_init(&l->mu, NULL);
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&l->cv, &ca);
  pthread_cond_init(&l->as_cv, &ca);
  pthread_condattr_destroy(&ca);
}

/* SIGINT and SIGTERM only set stop_flag; a closed peer is a write error,
 * not a SIGPIPE. */
static void install_signals(void) {
  struct sigaction sa = {0};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
}

/* The state directory, the image map, the database and its API token, the
 * TLS key pair. */
static enum ss_err open_state(struct daemon *d, struct ss_error *err) {
  struct ss_error e = {0};
  enum ss_err rc;
  char self[1024];
  ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
  if (sl <= 0)
    return ss_error_set(err, SS_EIO, 0, 0, "cannot find my own executable");
  self[sl] = '\0';
  if (mkdirs(d->s.state_dir))
    return ss_error_set(err, SS_EIO, 0, 0, "cannot create --state-dir %s: %s", d->s.state_dir,
                        strerror(errno));
  const char *map = d->s.image_map[0] ? d->s.image_map : NULL;
  if ((rc = ss_image_map_load(map, self, &d->images, &e))) {
    if (e.line)
      return ss_error_set(err, rc, 0, 0, "--image-map %s:%u:%u: %s", d->s.image_map, e.line,
                          e.col, e.msg);
    return ss_error_set(err, rc, 0, 0, "--image-map: %s", e.msg);
  }
  if ((rc = ss_store_open(d->s.db, &d->store, &e)) || (rc = api_token(d->store, &d->token, &e)))
    return ss_error_set(err, rc, 0, 0, "%s: %s", d->s.db, e.msg);
  if ((rc = ss_tls_ensure(d->s.state_dir, &d->cert, &d->key, &e)))
    return ss_error_set(err, rc, 0, 0, "%s", e.msg);
  return SS_EOK;
}

/* The metrics registry and the prediction gateway on its port. */
static enum ss_err start_gateway(struct daemon *d, struct ss_error *err) {
  struct ss_error e = {0};
  enum ss_err rc;
  if (!(d->metrics = ss_metrics_new()) || !(d->recorder = ss_timeline_recorder_new(d->metrics)) ||
      !(d->ui = ss_gw_ui_new()))
    return ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
  struct ss_gateway_config gc = {.bind_addr = d->s.gateway_addr,
                                 .port = d->s.gateway_port,
                                 .workers = d->s.gateway_workers,
                                 .max_connections = d->s.gateway_max_connections,
                                 .metrics = d->metrics,
                                 .queue_timeout_ms = d->s.queue_timeout_ms,
                                 .on_queued = on_queued,
                                 .ctx = &d->loop,
                                 .ui = d->ui};
  if ((rc = ss_gateway_start(&gc, &d->gateway, &e)))
    return ss_error_set(err, rc, 0, 0, "%s", e.msg);
  d->loop.gateway = d->gateway;
  const char *addr = d->s.gateway_addr;
  bool v6 = strchr(addr, ':') != NULL;
  snprintf(d->gateway_base, sizeof d->gateway_base, "http://%s%s%s:%d", v6 ? "[" : "", addr,
           v6 ? "]" : "", ss_gateway_port(d->gateway));
  return SS_EOK;
}

/* The runtime (after killing replicas a previous daemon left) and the
 * reconciler over it. */
static enum ss_err start_runtime(struct daemon *d, struct ss_error *err) {
  int killed = ss_runtime_reap_orphans(d->s.state_dir);
  if (killed > 0)
    fprintf(stderr, "event=orphans_killed count=%d\n", killed);
  /* The runtime reports events to the reconciler through the loop, since
   * each needs the other. */
  struct ss_runtime_config rc = {.state_dir = d->s.state_dir,
                                 .backoff_base_ms = d->s.backoff_base_ms,
                                 .backoff_max_ms = d->s.backoff_max_ms,
                                 .on_event = runtime_event,
                                 .event_ctx = &d->loop,
                                 .may_stop = may_stop,
                                 .may_stop_ctx = &d->loop};
  if (!(d->rt = ss_runtime_new(&rc)))
    return ss_error_set(err, SS_EIO, 0, 0, "cannot start the runtime in %s", d->s.state_dir);
  struct ss_control_config cc = {.store = d->store,
                                 .runtime = d->rt,
                                 .images = d->images,
                                 .gateway = d->gateway,
                                 .metrics = d->metrics,
                                 .gateway_base = d->gateway_base};
  if (!(d->control = ss_control_new(&cc)))
    return ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
  pthread_mutex_lock(&d->loop.mu);
  d->loop.control = d->control;
  pthread_mutex_unlock(&d->loop.mu);
  return SS_EOK;
}

/* Where the CLI finds the gateway (paths.h): its URL in the state
 * directory. A failure only costs the CLI its default. */
static void write_gateway_file(const struct daemon *d) {
  char path[1200], tmp[1210];
  snprintf(path, sizeof path, "%s/%s", d->s.state_dir, SS_GATEWAY_FILE);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  bool ok = f && fprintf(f, "%s\n", d->gateway_base) >= 0;
  if (f && fclose(f) != 0)
    ok = false;
  if (!ok || rename(tmp, path) != 0) {
    fprintf(stderr, "servescale: warning: cannot write %s: %s\n", path, strerror(errno));
    unlink(tmp);
  }
}

/* The control API, its kubeconfig and the default namespace; then says
 * where everything answers. */
static enum ss_err start_api(struct daemon *d, struct ss_error *err) {
  static const char default_ns[] =
      "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"default\"}}";
  struct ss_error e = {0};
  enum ss_err rc;
  struct ss_api_config ac = {.bind_addr = d->s.api_addr,
                             .port = d->s.api_port,
                             .token = d->token,
                             .tls_cert = d->cert,
                             .tls_key = d->key,
                             .store = d->store,
                             .max_connections = d->s.api_max_connections,
                             .handshake_timeout_s = d->s.api_handshake_timeout_s,
                             .idle_timeout_s = d->s.api_idle_timeout_s,
                             .hooks = {.ctx = &d->loop,
                                       .changed = on_changed,
                                       .pods = pods_hook,
                                       .pod_log = log_hook,
                                       .delete_pod = delete_pod_hook,
                                       .metrics = metrics_hook,
                                       .timeline = timeline_hook,
                                       .requests = requests_hook}};
  d->loop.store = d->store;
  d->loop.metrics = d->metrics;
  if ((rc = ss_api_start(&ac, &d->api, &e)))
    return ss_error_set(err, rc, 0, 0, "control API: %s", e.msg);
  char kubeconfig[1200];
  snprintf(kubeconfig, sizeof kubeconfig, "%s/kubeconfig", d->s.state_dir);
  if (write_kubeconfig(kubeconfig, d->s.api_addr, ss_api_port(d->api), d->token, d->cert))
    return ss_error_set(err, SS_EIO, 0, 0, "cannot write %s: %s", kubeconfig, strerror(errno));
  write_gateway_file(d);
  ss_gw_ui_set_relay(d->ui, ui_relay, d->api);
  char report[8192];
  ss_api_apply(d->api, default_ns, strlen(default_ns), NULL, report, sizeof report);
  printf("servescale: control API on https://%s:%d (kubeconfig %s)\n", d->s.api_addr,
         ss_api_port(d->api), kubeconfig);
  printf("servescale: predictions on %s/seldon/<namespace>/<name>/api/v1.0/predictions, "
         "metrics on %s/prometheus\n",
         d->gateway_base, d->gateway_base);
  return SS_EOK;
}

/* Applies each -f FILE through the API, printing its report; stops at the
 * first file with a resource not applied. */
static enum ss_err apply_files(struct daemon *d, struct ss_error *err) {
  char report[8192];
  for (size_t i = 0; i < d->n_files; i++) {
    char *buf = NULL;
    size_t len = 0;
    enum ss_err rc = ss_read_file(d->files[i], &buf, &len, err);
    if (rc)
      return rc;
    int failed = ss_api_apply(d->api, buf, len, "default", report, sizeof report);
    free(buf);
    printf("%s", report);
    if (failed)
      return ss_error_set(err, SS_EINVALID, 0, 0, "%s: %d resource(s) not applied", d->files[i],
                          failed);
  }
  return SS_EOK;
}

/* The metrics adapter: --adapter-config's rules or the default ones, over
 * --prometheus-url or the embedded window. A bad rule stops the start,
 * naming it. */
static enum ss_err start_adapter(struct daemon *d, struct ss_error *err) {
  struct ss_adapter_config *cfg = NULL;
  enum ss_err rc;
  if (d->s.adapter_config[0]) {
    char *buf = NULL;
    size_t len = 0;
    if ((rc = ss_read_file(d->s.adapter_config, &buf, &len, err)))
      return rc;
    rc = ss_adapter_config_parse(buf, len, &cfg, err);
    free(buf);
    if (rc) {
      char msg[sizeof err->msg];
      snprintf(msg, sizeof msg, "%s", err->msg);
      return ss_error_set(err, rc, 0, 0, "%s: %s", d->s.adapter_config, msg);
    }
  } else if ((rc = ss_adapter_config_default(&cfg, err))) {
    return rc;
  }
  struct ss_adapter_source src = {
      .prometheus_url = d->s.prometheus_url[0] ? d->s.prometheus_url : NULL,
      .metrics = d->metrics};
  if (!(d->adapter = ss_adapter_new(cfg, &src)))
    return ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
  d->loop.adapter = d->adapter;
  return SS_EOK;
}

/* The autoscaler, on its own thread. */
static enum ss_err start_autoscaler(struct daemon *d, struct ss_error *err) {
  struct ss_autoscaler_config asc = {.store = d->store,
                                     .metrics = d->metrics,
                                     .adapter = d->adapter,
                                     .sync_ms = d->s.autoscale_sync_ms,
                                     .inflight = gw_inflight,
                                     .queued = gw_queued,
                                     .gateway_ctx = &d->loop};
  if (!(d->autoscaler = ss_autoscaler_new(&asc)))
    return ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
  pthread_mutex_lock(&d->loop.mu);
  d->loop.autoscaler = d->autoscaler;
  pthread_mutex_unlock(&d->loop.mu);
  if (pthread_create(&d->as_thread, NULL, autoscale_main, &d->loop))
    return ss_error_set(err, SS_EINTERNAL, 0, 0, "cannot start the autoscaler");
  d->as_started = true;
  return SS_EOK;
}

/* The main loop until SIGINT or SIGTERM: the metrics window's sample once a
 * second, a reconcile pass and a runtime tick every --sync-period-ms (or at
 * once when the API or the autoscaler reports a change). */
/* The dashboard's state, while someone looks at it (gateway/ui.h). */
static void publish_ui(struct daemon *d, int64_t now) {
  if (!ss_gw_ui_wanted(d->ui, now))
    return;
  char api[128];
  snprintf(api, sizeof api, "https://%s:%d", d->s.api_addr, ss_api_port(d->api));
  ss_gw_ui_publish(d->ui, ss_timeline_dashboard(d->metrics, d->store, api,
                                                SS_TIMELINE_DEFAULT_SINCE_MS, wall_ms()));
}

static void run(struct daemon *d) {
  int64_t next_sample = 0, next_ui = 0;
  while (!stop_flag) {
    int64_t now = ss_mono_ms();
    if (now >= next_ui) {
      publish_ui(d, now);
      next_ui = now + SS_UI_PERIOD_MS;
    }
    if (now >= next_sample) {
      /* the embedded metrics source's window: one sample a second */
      ss_timeline_recorder_run(d->recorder, d->store);
      ss_metrics_sample(d->metrics, wall_ms());
      next_sample = now + 1000;
    }
    ss_control_tick(d->control, now);
    if (ss_runtime_tick(d->rt, now)) /* readiness changed: route it at once */
      ss_control_tick(d->control, now);
    announce(&d->ann, d->store);
    pthread_mutex_lock(&d->loop.mu);
    if (!d->loop.dirty && !stop_flag) {
      struct timespec ts;
      clock_gettime(CLOCK_MONOTONIC, &ts);
      /* while replicas start or drain, look again soon: readiness reaches
       * the gateway's routes in milliseconds, not a whole period */
      int period = ss_runtime_settling(d->rt) && d->s.sync_period_ms > SS_SETTLE_PERIOD_MS
                       ? SS_SETTLE_PERIOD_MS
                       : d->s.sync_period_ms;
      int64_t ns = ts.tv_nsec + (int64_t)period * 1000000;
      ts.tv_sec += ns / 1000000000;
      ts.tv_nsec = ns % 1000000000;
      pthread_cond_timedwait(&d->loop.cv, &d->loop.mu, &ts);
    }
    d->loop.dirty = false;
    pthread_mutex_unlock(&d->loop.mu);
  }
}

/* Stops what started, in the order each part's users need: the autoscaler
 * thread, watches, the API, the gateway (answering what is in flight), then
 * the parts nothing calls any more. Anything not started is NULL. */
static void stop(struct daemon *d) {
  struct loop *l = &d->loop;
  pthread_mutex_lock(&l->mu);
  l->as_stop = true;
  pthread_cond_signal(&l->as_cv);
  pthread_mutex_unlock(&l->mu);
  if (d->as_started)
    pthread_join(d->as_thread, NULL);
  if (d->store)
    ss_store_shutdown_watches(d->store);
  if (d->ui)
    ss_gw_ui_set_relay(d->ui, NULL, NULL); /* no dashboard write reaches a stopped API */
  ss_api_stop(d->api);
  ss_gateway_stop(d->gateway); /* answers what is in flight first */
  l->gateway = NULL;
  pthread_mutex_lock(&l->mu);
  l->autoscaler = NULL;
  pthread_mutex_unlock(&l->mu);
  ss_autoscaler_free(d->autoscaler);
  ss_adapter_free(d->adapter); /* after the API and the autoscaler that ask it */
  ss_runtime_free(d->rt); /* may still report events to control */
  ss_control_free(d->control);
  ss_timeline_recorder_free(d->recorder);
  ss_gw_ui_free(d->ui); /* after the gateway that serves it */
  ss_metrics_free(d->metrics);
  ss_store_close(d->store);
  ss_image_map_free(d->images);
  json_decref(d->ann.pending);
  free(d->token);
  free(d->cert);
  free(d->key);
  pthread_cond_destroy(&l->as_cv);
  pthread_cond_destroy(&l->cv);
  pthread_mutex_destroy(&l->mu);
}

int ss_cmd_serve(int argc, char **argv) {
  struct daemon d = {0};
  struct ss_error err = {0};
  int rc = parse_settings(&d, argc, argv);
  if (rc != SERVE_RUN)
    return rc;
  rc = 1;
  loop_init(&d.loop);
  install_signals();
  d.fd_limit = ss_fd_limit_raise();
  if (open_state(&d, &err) || start_gateway(&d, &err) || start_runtime(&d, &err) ||
      start_adapter(&d, &err) || start_api(&d, &err) || apply_files(&d, &err) ||
      start_autoscaler(&d, &err)) {
    fprintf(stderr, "servescale serve: %s\n", err.msg);
    goto out;
  }
  announce_init(&d.ann, d.files, d.n_files);
  fflush(stdout);
  fprintf(stderr,
          "event=started api_port=%d state_dir=%s pid=%d fd_limit=%ld "
          "gateway_max_connections=%d\n",
          ss_api_port(d.api), d.s.state_dir, (int)getpid(), d.fd_limit,
          ss_gateway_max_connections(d.gateway));
  run(&d);
  fprintf(stderr, "event=stopping\n");
  rc = 0;
out:
  stop(&d);
  return rc;
}
