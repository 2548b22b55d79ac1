/* sdep_flow.c: the life of one SeldonDeployment through servescale's (or a
 * cluster's) control API, with only the public client header: create it,
 * wait until it runs the replicas its spec asks for, scale it to one more,
 * wait again, and delete it, waiting until it is gone; meanwhile print the
 * deployment's events as they happen. Every wait is a watch, never a poll.
 *
 * Usage: sdep_flow [--kubeconfig FILE] -n NAMESPACE -f FILE [--timeout SECONDS] */
#include <getopt.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <servescale/client.h>

#define DEFAULT_TIMEOUT_S 180
/* After the deletion, events still on their way get this long to arrive. */
#define EVENTS_GRACE_MS 1500

static pthread_mutex_t print_mu = PTHREAD_MUTEX_INITIALIZER;

/* One line at a time: the events thread prints too. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
  va_list ap;
  pthread_mutex_lock(&print_mu);
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  putchar('\n');
  fflush(stdout);
  pthread_mutex_unlock(&print_mu);
}

static void fail(const char *what, const struct ss_client_error *err) {
  pthread_mutex_lock(&print_mu);
  if (err->reason[0])
    fprintf(stderr, "sdep_flow: %s: Error from server (%s): %s\n", what, err->reason, err->msg);
  else
    fprintf(stderr, "sdep_flow: %s: %s\n", what, err->msg);
  for (size_t i = 0; i < err->n_causes; i++)
    fprintf(stderr, "  %s: %s\n", err->causes[i].field, err->causes[i].message);
  pthread_mutex_unlock(&print_mu);
}

struct events {
  struct ss_client *client;
  const char *ns, *name;
  int timeout_ms;
  atomic_bool cancel;
  enum ss_err rc;
  struct ss_client_error err;
};

static bool on_event(void *ctx, const json_t *ev) {
  (void)ctx;
  const char *type = json_string_value(json_object_get(ev, "type"));
  const char *reason = json_string_value(json_object_get(ev, "reason"));
  const char *msg = json_string_value(json_object_get(ev, "message"));
  say("event: %s %s: %s", type ? type : "Normal", reason ? reason : "", msg ? msg : "");
  return true;
}

static void *events_main(void *arg) {
  struct events *e = arg;
  struct ss_client_watch_opts o = {.timeout_ms = e->timeout_ms, .cancel = &e->cancel};
  e->rc = ss_client_watch_events(e->client, e->ns, e->name, &o, on_event, NULL, &e->err);
  return NULL;
}

static long status_replicas(const json_t *obj) {
  json_t *r = json_object_get(json_object_get(obj, "status"), "replicas");
  return json_is_integer(r) ? (long)json_integer_value(r) : 0;
}

/* Waits until the deployment runs what its spec asks; *runs gets the count. */
static bool wait_settled(struct ss_client *c, const struct ss_client_kind *k, const char *ns,
                         const char *name, int timeout_ms, long *runs) {
  struct ss_client_wait w = {.what = SS_CLIENT_WAIT_REPLICAS, .replicas = -1,
                             .timeout_ms = timeout_ms};
  struct ss_client_error err = {0};
  json_t *last = NULL;
  enum ss_err rc = ss_client_wait(c, k, ns, name, &w, &last, &err);
  if (rc) {
    fail("wait", &err);
    if (last)
      say("last seen: state=%s replicas=%ld desired=%ld",
          json_string_value(json_object_get(json_object_get(last, "status"), "state")),
          status_replicas(last), ss_client_desired_replicas(last));
    json_decref(last);
    return false;
  }
  *runs = status_replicas(last);
  say("ready: %s runs %ld of %ld replicas", name, *runs, ss_client_desired_replicas(last));
  json_decref(last);
  return true;
}

static void usage(FILE *f) {
  fprintf(f, "Usage: sdep_flow [--kubeconfig FILE] -n NAMESPACE -f FILE [--timeout SECONDS]\n\n"
             "Creates the SeldonDeployment in FILE, waits until it runs the replicas its spec\n"
             "asks for, scales it to one more, waits, and deletes it, printing its events.\n"
             "The kubeconfig is --kubeconfig, else $KUBECONFIG, else servescale's default.\n");
}

int main(int argc, char **argv) {
  static const struct option opts[] = {{"kubeconfig", required_argument, NULL, 'k'},
                                       {"namespace", required_argument, NULL, 'n'},
                                       {"filename", required_argument, NULL, 'f'},
                                       {"timeout", required_argument, NULL, 't'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  const char *kubeconfig = NULL, *ns = NULL, *file = NULL;
  int timeout_s = DEFAULT_TIMEOUT_S, c;
  while ((c = getopt_long(argc, argv, "n:f:h", opts, NULL)) != -1) {
    switch (c) {
    case 'k': kubeconfig = optarg; break;
    case 'n': ns = optarg; break;
    case 'f': file = optarg; break;
    case 't': timeout_s = atoi(optarg); break;
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
  }
  if (!ns || !file || timeout_s <= 0 || optind != argc) {
    usage(stderr);
    return 2;
  }
  int timeout_ms = timeout_s * 1000;

  int rc = 1;
  struct ss_client_config cfg = {0};
  struct ss_client *client = NULL;
  struct ss_client_error err = {0};
  json_t *objs = NULL;
  struct events ev = {0};
  bool events_started = false, created = false;
  const struct ss_client_kind *k = ss_client_kind_find("sdep");
  const json_t *sdep = NULL;
  const char *name = NULL;
  long before = 0, after = 0, scale = 0;

  if (ss_client_config_load(kubeconfig, NULL, &cfg, &err)) {
    fail("kubeconfig", &err);
    goto out;
  }
  if (ss_client_new(&cfg, NULL, &client, &err)) {
    fail("client", &err);
    goto out;
  }
  if (ss_client_read_objects(file, &objs, &err)) {
    fprintf(stderr, "sdep_flow: %s:%u:%u: %s\n", file, err.line, err.col, err.msg);
    goto out;
  }
  size_t i;
  json_t *o;
  json_array_foreach(objs, i, o) {
    if (ss_client_kind_of(o) == k) {
      sdep = o;
      break;
    }
  }
  name = sdep ? json_string_value(json_object_get(json_object_get(sdep, "metadata"), "name"))
              : NULL;
  if (!name) {
    fprintf(stderr, "sdep_flow: %s holds no SeldonDeployment with a metadata.name\n", file);
    goto out;
  }
  const char *file_ns =
      json_string_value(json_object_get(json_object_get(sdep, "metadata"), "namespace"));
  if (file_ns && strcmp(file_ns, ns) != 0) {
    fprintf(stderr, "sdep_flow: %s is in namespace %s, not %s\n", name, file_ns, ns);
    goto out;
  }

  /* 1. create */
  if (ss_client_create(client, sdep, ns, NULL, &err)) {
    fail("create", &err);
    goto out;
  }
  created = true;
  say("created: seldondeployment.machinelearning.seldon.io/%s in namespace %s", name, ns);

  /* its events, as they happen, on their own thread */
  ev.client = client;
  ev.ns = ns;
  ev.name = name;
  ev.timeout_ms = 4 * timeout_ms;
  atomic_init(&ev.cancel, false);
  pthread_t tid;
  if (pthread_create(&tid, NULL, events_main, &ev) == 0)
    events_started = true;

  /* 2. wait until it runs what its spec asks (1 or more, whatever it says) */
  if (!wait_settled(client, k, ns, name, timeout_ms, &before))
    goto out;

  /* 3. one more */
  if (ss_client_get_scale(client, k, ns, name, &scale, &err)) {
    fail("get scale", &err);
    goto out;
  }
  say("scaling: %s from %ld to %ld replicas", name, scale, scale + 1);
  if (ss_client_scale(client, k, ns, name, scale + 1, &err)) {
    fail("scale", &err);
    goto out;
  }
  /* 4. wait again: the status must describe the new spec, settled */
  if (!wait_settled(client, k, ns, name, timeout_ms, &after))
    goto out;
  if (after <= before) {
    fprintf(stderr, "sdep_flow: %s still runs %ld replicas: its predictors set their own "
                    "replicas, which spec.replicas does not override\n", name, after);
    goto out;
  }
  say("scaled: %s from %ld to %ld replicas", name, before, after);

  /* 5. delete, and wait until it is gone */
  if (ss_client_delete(client, k, ns, name, &err)) {
    fail("delete", &err);
    goto out;
  }
  created = false;
  say("deleted: seldondeployment.machinelearning.seldon.io/%s", name);
  struct ss_client_wait gone = {.what = SS_CLIENT_WAIT_DELETE, .timeout_ms = timeout_ms};
  if (ss_client_wait(client, k, ns, name, &gone, NULL, &err)) {
    fail("wait for deletion", &err);
    goto out;
  }
  say("gone: %s", name);
  rc = 0;
out:
  if (created && client) {
    /* leave nothing behind when a step failed */
    struct ss_client_error derr = {0};
    if (ss_client_delete(client, k, ns, name, &derr) == SS_EOK)
      say("deleted: seldondeployment.machinelearning.seldon.io/%s (cleanup)", name);
  }
  if (events_started) {
    struct timespec grace = {EVENTS_GRACE_MS / 1000, (EVENTS_GRACE_MS % 1000) * 1000000L};
    nanosleep(&grace, NULL);
    atomic_store(&ev.cancel, true);
    pthread_join(tid, NULL);
    if (ev.rc) {
      fail("events", &ev.err);
      rc = 1;
    }
  }
  json_decref(objs);
  ss_client_free(client);
  ss_client_config_free(&cfg);
  return rc;
}
