/* daemon.c: `servescale serve`. Settings come from one table (flags today;
 * the same rows serve a config file later). The main loop runs the runtime
 * and the reconciler on a monotonic clock; the API answers on its own
 * threads and wakes the loop when something changed. */
#include "daemon.h"
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
#include "metrics/metrics.h"
#include "model/doc.h"
#include "runtime/runtime.h"
#include "store/store.h"

#define SS_TOKEN_BYTES 32
#define SS_SETTLE_PERIOD_MS 10 /* loop period while replicas start or drain */
#define SS_MAX_APPLY_FILES 64

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

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct loop {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool dirty;
  struct ss_control *control;
  struct ss_gateway *gateway;
  /* the autoscaler runs on its own thread, since a prometheus query may
   * wait for its timeout; guarded by mu */
  struct ss_autoscaler *autoscaler;
  pthread_cond_t as_cv;
  bool as_wake, as_stop;
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

int ss_cmd_serve(int argc, char **argv) {
  struct settings s = {.api_addr = "127.0.0.1",
                       .api_port = 8001,
                       .gateway_addr = "127.0.0.1",
                       .gateway_port = SS_GW_DEFAULT_PORT,
                       .sync_period_ms = 200,
                       .backoff_base_ms = 10000,
                       .backoff_max_ms = 300000};
  const char *files[SS_MAX_APPLY_FILES];
  size_t n_files = 0;
  ss_default_state_dir(s.state_dir, sizeof s.state_dir);
  struct option longopts[sizeof rows / sizeof *rows + 3];
  for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
    longopts[i] = (struct option){rows[i].name, required_argument, NULL, 1000 + (int)i};
  size_t n = sizeof rows / sizeof *rows;
  longopts[n] = (struct option){"filename", required_argument, NULL, 'f'};
  longopts[n + 1] = (struct option){"help", no_argument, NULL, 'h'};
  longopts[n + 2] = (struct option){NULL, 0, NULL, 0};
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "f:h", longopts, NULL)) != -1) {
    if (c >= 1000) {
      if (!set_option(&s, &rows[c - 1000], optarg))
        return 2;
    } else if (c == 'f') {
      if (n_files == SS_MAX_APPLY_FILES) {
        fprintf(stderr, "servescale serve: at most %d files\n", SS_MAX_APPLY_FILES);
        return 2;
      }
      files[n_files++] = optarg;
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
  if (!s.db[0])
    snprintf(s.db, sizeof s.db, "%s/servescale.db", s.state_dir);

  int rc = 1;
  struct ss_error err = {0};
  struct ss_store *store = NULL;
  struct ss_runtime *rt = NULL;
  struct ss_control *control = NULL;
  struct ss_api *api = NULL;
  struct ss_gateway *gateway = NULL;
  struct ss_metrics *metrics = NULL;
  struct ss_image_map *images = NULL;
  struct ss_autoscaler *autoscaler = NULL;
  pthread_t as_thread;
  bool as_started = false;
  char *token = NULL, *cert = NULL, *key = NULL;
  struct announcements ann = {0};
  struct loop loop = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
  char self[1024];
  ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
  if (sl <= 0) {
    fprintf(stderr, "servescale serve: cannot find my own executable\n");
    return 1;
  }
  self[sl] = '\0';
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_destroy(&loop.cv);
  pthread_cond_init(&loop.cv, &ca);
  pthread_cond_init(&loop.as_cv, &ca);
  pthread_condattr_destroy(&ca);

  struct sigaction sa = {0};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  long fd_limit = ss_fd_limit_raise();

  if (mkdirs(s.state_dir)) {
    fprintf(stderr, "servescale serve: cannot create --state-dir %s: %s\n", s.state_dir,
            strerror(errno));
    goto out;
  }
  if (ss_image_map_load(s.image_map[0] ? s.image_map : NULL, self, &images, &err)) {
    if (err.line)
      fprintf(stderr, "servescale serve: --image-map %s:%u:%u: %s\n", s.image_map, err.line,
              err.col, err.msg);
    else
      fprintf(stderr, "servescale serve: --image-map: %s\n", err.msg);
    goto out;
  }
  if (ss_store_open(s.db, &store, &err) || api_token(store, &token, &err)) {
    fprintf(stderr, "servescale serve: %s: %s\n", s.db, err.msg);
    goto out;
  }
  if (ss_tls_ensure(s.state_dir, &cert, &key, &err)) {
    fprintf(stderr, "servescale serve: %s\n", err.msg);
    goto out;
  }
  if (!(metrics = ss_metrics_new())) {
    fprintf(stderr, "servescale serve: out of memory\n");
    goto out;
  }
  struct ss_gateway_config gc = {.bind_addr = s.gateway_addr,
                                 .port = s.gateway_port,
                                 .workers = s.gateway_workers,
                                 .max_connections = s.gateway_max_connections,
                                 .metrics = metrics,
                                 .queue_timeout_ms = s.queue_timeout_ms,
                                 .on_queued = on_queued,
                                 .ctx = &loop};
  if (ss_gateway_start(&gc, &gateway, &err)) {
    fprintf(stderr, "servescale serve: %s\n", err.msg);
    goto out;
  }
  loop.gateway = gateway;
  char gateway_base[128];
  snprintf(gateway_base, sizeof gateway_base, "http://%s%s%s:%d",
           strchr(s.gateway_addr, ':') ? "[" : "", s.gateway_addr,
           strchr(s.gateway_addr, ':') ? "]" : "", ss_gateway_port(gateway));
  int killed = ss_runtime_reap_orphans(s.state_dir);
  if (killed > 0)
    fprintf(stderr, "event=orphans_killed count=%d\n", killed);
  struct ss_runtime_config rc_cfg = {.state_dir = s.state_dir,
                                     .backoff_base_ms = s.backoff_base_ms,
                                     .backoff_max_ms = s.backoff_max_ms};
  /* The runtime reports events to the reconciler through the loop, since
   * each needs the other. */
  rc_cfg.on_event = runtime_event;
  rc_cfg.event_ctx = &loop;
  rc_cfg.may_stop = may_stop;
  rc_cfg.may_stop_ctx = &loop;
  if (!(rt = ss_runtime_new(&rc_cfg))) {
    fprintf(stderr, "servescale serve: cannot start the runtime in %s\n", s.state_dir);
    goto out;
  }
  struct ss_control_config cc = {.store = store,
                                 .runtime = rt,
                                 .images = images,
                                 .gateway = gateway,
                                 .metrics = metrics,
                                 .gateway_base = gateway_base};
  if (!(control = ss_control_new(&cc))) {
    fprintf(stderr, "servescale serve: out of memory\n");
    goto out;
  }
  pthread_mutex_lock(&loop.mu);
  loop.control = control;
  pthread_mutex_unlock(&loop.mu);
  struct ss_api_config ac = {.bind_addr = s.api_addr,
                             .port = s.api_port,
                             .token = token,
                             .tls_cert = cert,
                             .tls_key = key,
                             .store = store,
                             .max_connections = s.api_max_connections,
                             .handshake_timeout_s = s.api_handshake_timeout_s,
                             .idle_timeout_s = s.api_idle_timeout_s,
                             .hooks = {.ctx = &loop,
                                       .changed = on_changed,
                                       .pods = pods_hook,
                                       .pod_log = log_hook,
                                       .delete_pod = delete_pod_hook}};
  if (ss_api_start(&ac, &api, &err)) {
    fprintf(stderr, "servescale serve: control API: %s\n", err.msg);
    goto out;
  }
  char kubeconfig[1200];
  snprintf(kubeconfig, sizeof kubeconfig, "%s/kubeconfig", s.state_dir);
  if (write_kubeconfig(kubeconfig, s.api_addr, ss_api_port(api), token, cert)) {
    fprintf(stderr, "servescale serve: cannot write %s: %s\n", kubeconfig, strerror(errno));
    goto out;
  }
  char report[8192];
  ss_api_apply(api, "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"default\"}}",
               strlen("{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"default\"}}"),
               NULL, report, sizeof report);
  printf("servescale: control API on https://%s:%d (kubeconfig %s)\n", s.api_addr,
         ss_api_port(api), kubeconfig);
  printf("servescale: predictions on %s/seldon/<namespace>/<name>/api/v1.0/predictions, "
         "metrics on %s/prometheus\n",
         gateway_base, gateway_base);
  for (size_t i = 0; i < n_files; i++) {
    char *buf = NULL;
    size_t len = 0;
    if (ss_read_file(files[i], &buf, &len, &err)) {
      fprintf(stderr, "servescale serve: %s\n", err.msg);
      goto out;
    }
    int failed = ss_api_apply(api, buf, len, "default", report, sizeof report);
    free(buf);
    printf("%s", report);
    if (failed) {
      fprintf(stderr, "servescale serve: %s: %d resource(s) not applied\n", files[i], failed);
      goto out;
    }
  }
  struct ss_autoscaler_config asc = {
      .store = store, .metrics = metrics, .sync_ms = s.autoscale_sync_ms};
  if (!(autoscaler = ss_autoscaler_new(&asc))) {
    fprintf(stderr, "servescale serve: out of memory\n");
    goto out;
  }
  pthread_mutex_lock(&loop.mu);
  loop.autoscaler = autoscaler;
  pthread_mutex_unlock(&loop.mu);
  if (pthread_create(&as_thread, NULL, autoscale_main, &loop)) {
    fprintf(stderr, "servescale serve: cannot start the autoscaler\n");
    goto out;
  }
  as_started = true;
  announce_init(&ann, files, n_files);
  fflush(stdout);
  fprintf(stderr,
          "event=started api_port=%d state_dir=%s pid=%d fd_limit=%ld "
          "gateway_max_connections=%d\n",
          ss_api_port(api), s.state_dir, (int)getpid(), fd_limit,
          ss_gateway_max_connections(gateway));

  /* the loop */
  int64_t next_sample = 0;
  while (!stop_flag) {
    int64_t now = mono_ms();
    if (now >= next_sample) {
      /* the embedded metrics source's window: one sample a second */
      struct timespec wall;
      clock_gettime(CLOCK_REALTIME, &wall);
      ss_metrics_sample(metrics, (int64_t)wall.tv_sec * 1000 + wall.tv_nsec / 1000000);
      next_sample = now + 1000;
    }
    ss_control_tick(control, now);
    if (ss_runtime_tick(rt, now)) /* readiness changed: route it at once */
      ss_control_tick(control, now);
    announce(&ann, store);
    pthread_mutex_lock(&loop.mu);
    if (!loop.dirty && !stop_flag) {
      struct timespec ts;
      clock_gettime(CLOCK_MONOTONIC, &ts);
      /* while replicas start or drain, look again soon: readiness reaches
       * the gateway's routes in milliseconds, not a whole period */
      int period = ss_runtime_settling(rt) && s.sync_period_ms > SS_SETTLE_PERIOD_MS
                       ? SS_SETTLE_PERIOD_MS
                       : s.sync_period_ms;
      int64_t ns = ts.tv_nsec + (int64_t)period * 1000000;
      ts.tv_sec += ns / 1000000000;
      ts.tv_nsec = ns % 1000000000;
      pthread_cond_timedwait(&loop.cv, &loop.mu, &ts);
    }
    loop.dirty = false;
    pthread_mutex_unlock(&loop.mu);
  }
  fprintf(stderr, "event=stopping\n");
  rc = 0;
out:
  pthread_mutex_lock(&loop.mu);
  loop.as_stop = true;
  pthread_cond_signal(&loop.as_cv);
  pthread_mutex_unlock(&loop.mu);
  if (as_started)
    pthread_join(as_thread, NULL);
  if (store)
    ss_store_shutdown_watches(store);
  ss_api_stop(api);
  ss_gateway_stop(gateway); /* answers what is in flight first */
  loop.gateway = NULL;
  pthread_mutex_lock(&loop.mu);
  loop.autoscaler = NULL;
  pthread_mutex_unlock(&loop.mu);
  ss_autoscaler_free(autoscaler);
  ss_runtime_free(rt); /* may still report events to control */
  ss_control_free(control);
  ss_metrics_free(metrics);
  ss_store_close(store);
  ss_image_map_free(images);
  json_decref(ann.pending);
  free(token);
  free(cert);
  free(key);
  return rc;
}
