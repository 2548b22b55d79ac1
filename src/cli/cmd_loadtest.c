/* cmd_loadtest.c: `servescale loadtest URL|sdep/NAME`: load like the seed's
 * locust chart (src/load/ sends and counts), with a progress line on stderr
 * every second (elapsed, requests/s, p50/p99, failures, the deployment's
 * replicas read from the API) and a summary at the end, or -o json. For a
 * SeldonDeployment it finds the gateway by the CLI's one rule (paths.h) and
 * gets an OAuth token itself when the deployment sets oauth_key and
 * oauth_secret. */
#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "common/clock.h"
#include "common/paths.h"
#include "load/load.h"

#define DEFAULT_DURATION_MS 60000
#define PROGRESS_MS 1000
/* the seed's request (README): a Seldon message, or V2's inference request */
#define SELDON_BODY "{\"data\":{\"ndarray\":[[1,2,3,4]]}}"
#define V2_BODY                                                                     \
  "{\"inputs\":[{\"name\":\"predict\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":" \
  "[1,2,3,4]}]}"
#define TOKEN_MAX 512

static const char about[] =
    "Send predictions to a URL or a SeldonDeployment from N users, started at\n"
    "--spawn-rate per second, for --duration (at most --rps in all), as the seed's\n"
    "locust chart does. A progress line on stderr each second: elapsed, requests/s,\n"
    "p50/p99 latency, failures, the deployment's ready/desired replicas; then a\n"
    "summary (-o json: the same numbers as JSON). For sdep/NAME the gateway is\n"
    "--gateway, $SERVESCALE_GATEWAY, the daemon's state dir, or the default, and an\n"
    "OAuth token is fetched when the deployment sets oauth_key/oauth_secret.";

static atomic_bool interrupted;

static void on_sigint(int sig) {
  (void)sig;
  atomic_store(&interrupted, true);
}

/* The deployment's replicas, read by a thread of its own every second so
 * that a slow API never holds up the progress line. */
struct replicas {
  struct ss_client *c;
  const char *ns, *name;
  atomic_int ready, desired, max_ready; /* -1: unknown */
  atomic_bool stop;
  pthread_t thread;
  bool started;
};

static void read_replicas(struct replicas *r) {
  json_t *obj = NULL;
  struct ss_client_error err = {0};
  const struct ss_client_kind *k = ss_client_kind_find("sdep");
  if (ss_client_get(r->c, k, r->ns, r->name, &obj, &err))
    return;
  const char *key;
  json_t *v;
  int ready = 0, desired = 0;
  json_object_foreach(json_object_get(json_object_get(obj, "status"), "deploymentStatus"), key, v) {
    ready += (int)json_integer_value(json_object_get(v, "availableReplicas"));
    desired += (int)json_integer_value(json_object_get(v, "desiredReplicas"));
  }
  atomic_store(&r->ready, ready);
  atomic_store(&r->desired, desired);
  if (ready > atomic_load(&r->max_ready))
    atomic_store(&r->max_ready, ready);
  json_decref(obj);
}

static void *replicas_main(void *arg) {
  struct replicas *r = arg;
  while (!atomic_load(&r->stop)) {
    read_replicas(r);
    for (int i = 0; i < 10 && !atomic_load(&r->stop); i++)
      usleep(PROGRESS_MS * 100);
  }
  return NULL;
}

/* ---- finding the URL and the token ---- */

static size_t collect(char *p, size_t size, size_t n, void *ctx) {
  char *buf = ctx;
  size_t have = strlen(buf), add = size * n;
  if (have + add < 4096) {
    memcpy(buf + have, p, add);
    buf[have + add] = '\0';
  }
  return size * n;
}

/* POST /oauth/token with HTTP Basic key:secret (docs/gateway.md). */
static bool fetch_token(const char *gateway, const char *key, const char *secret, char *token) {
  char url[SS_LOAD_URL_MAX], answer[4096] = "";
  snprintf(url, sizeof url, "%s/oauth/token", gateway);
  CURL *h = curl_easy_init();
  if (!h)
    return false;
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
  curl_easy_setopt(h, CURLOPT_USERNAME, key);
  curl_easy_setopt(h, CURLOPT_PASSWORD, secret);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, "grant_type=client_credentials");
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, (void *)answer);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
  CURLcode rc = curl_easy_perform(h);
  long code = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_cleanup(h);
  json_t *j = rc == CURLE_OK && code == 200 ? json_loads(answer, 0, NULL) : NULL;
  const char *t = json_string_value(json_object_get(j, "access_token"));
  bool ok = t && strlen(t) < TOKEN_MAX;
  if (ok)
    snprintf(token, TOKEN_MAX, "%s", t);
  else
    fprintf(stderr, "error: %s answered %ld: %.200s\n", url, code,
            rc == CURLE_OK ? answer : curl_easy_strerror(rc));
  json_decref(j);
  return ok;
}

/* For sdep/NAME: the prediction URL on the gateway and, when the
 * deployment asks for OAuth, a token. */
static bool sdep_target(const struct ss_cli_opts *o, struct ss_client *c, const char *ns,
                        const char *name, char *url, char *token) {
  const struct ss_client_kind *k = ss_client_kind_find("sdep");
  struct ss_client_error err = {0};
  json_t *obj = NULL;
  if (ss_client_get(c, k, ns, name, &obj, &err)) {
    ss_cli_error(&err, NULL);
    return false;
  }
  char kc[1024], gw[SS_LOAD_URL_MAX - 256], from[1100];
  ss_client_config_path(o->kubeconfig, kc, sizeof kc);
  ss_gateway_url(o->gateway, kc, gw, sizeof gw, from, sizeof from);
  size_t l = strlen(gw);
  while (l && gw[l - 1] == '/')
    gw[--l] = '\0';
  snprintf(url, SS_LOAD_URL_MAX, "%s/seldon/%s/%s/api/v1.0/predictions", gw, ns, name);
  const json_t *spec = json_object_get(obj, "spec");
  const char *key = json_string_value(json_object_get(spec, "oauth_key"));
  const char *secret = json_string_value(json_object_get(spec, "oauth_secret"));
  bool ok = !(key && secret) || fetch_token(gw, key, secret, token);
  json_decref(obj);
  return ok;
}

/* ---- printing ---- */

struct progress {
  int64_t start_ms;
  uint64_t last_requests;
  int64_t last_ms;
  json_t *seconds; /* one entry per progress tick, for -o json */
};

static void replicas_text(const struct replicas *r, char *buf, size_t size) {
  int ready = r ? atomic_load(&r->ready) : -1, desired = r ? atomic_load(&r->desired) : -1;
  if (ready < 0)
    snprintf(buf, size, "-");
  else
    snprintf(buf, size, "%d/%d", ready, desired);
}

static void tick(struct progress *p, struct ss_load_stats *st, const struct replicas *r,
                 bool tty) {
  static struct ss_load_snapshot s;
  ss_load_snapshot_take(st, &s);
  int64_t now = ss_mono_ms();
  double dt = (double)(now - p->last_ms) / 1000.0;
  double rps = dt > 0 ? (double)(s.requests - p->last_requests) / dt : 0;
  double p50 = ss_load_quantile_ms(s.buckets, 0.5), p99 = ss_load_quantile_ms(s.buckets, 0.99);
  char reps[32];
  replicas_text(r, reps, sizeof reps);
  double el = (double)(now - p->start_ms) / 1000.0;
  fprintf(stderr, "%s%5.1fs  users %d  %7.1f req/s  p50 %7.2f ms  p99 %7.2f ms  failures %llu  "
                  "replicas %s%s", tty ? "\r" : "", el, s.users, rps, p50, p99,
          (unsigned long long)s.failures, reps, tty ? "\033[K" : "\n");
  json_array_append_new(p->seconds,
                        json_pack("{s:f, s:i, s:f, s:f, s:f, s:I, s:I, s:i}", "elapsed_s", el,
                                  "users", s.users, "requests_per_second", rps, "p50_ms", p50,
                                  "p99_ms", p99, "requests", (json_int_t)s.requests, "failures",
                                  (json_int_t)s.failures, "ready_replicas",
                                  r ? atomic_load(&r->ready) : -1));
  p->last_ms = now;
  p->last_requests = s.requests;
}

static json_t *summary(const struct ss_load_snapshot *s, double secs, const char *target,
                       const char *url, const struct ss_load_config *cfg,
                       const struct replicas *r) {
  json_t *codes = json_object();
  for (int i = 0; i < SS_LOAD_CODES; i++)
    if (s->codes[i]) {
      char k[8];
      snprintf(k, sizeof k, "%d", i);
      json_object_set_new(codes, i ? k : "transport", json_integer((json_int_t)s->codes[i]));
    }
  json_t *lat = json_pack(
      "{s:f, s:f, s:f, s:f, s:f}", "p50", ss_load_quantile_ms(s->buckets, 0.5), "p90",
      ss_load_quantile_ms(s->buckets, 0.9), "p99", ss_load_quantile_ms(s->buckets, 0.99), "mean",
      s->requests ? (double)s->sum_us / 1000.0 / (double)s->requests : 0.0, "max",
      (double)s->max_us / 1000.0);
  return json_pack("{s:s, s:s, s:i, s:f, s:f, s:f, s:I, s:I, s:f, s:o, s:o, s:{s:i, s:i, s:i}}",
                   "target", target, "url", url, "users", cfg->users, "spawn_rate",
                   cfg->spawn_rate, "rps_limit", cfg->rps, "duration_s", secs, "requests",
                   (json_int_t)s->requests, "failures", (json_int_t)s->failures,
                   "requests_per_second", secs > 0 ? (double)s->requests / secs : 0.0,
                   "latency_ms", lat, "codes", codes, "replicas", "ready",
                   r ? atomic_load(&r->ready) : -1, "desired", r ? atomic_load(&r->desired) : -1,
                   "max_ready", r ? atomic_load(&r->max_ready) : -1);
}

static void print_summary(const json_t *j) {
  const json_t *lat = json_object_get(j, "latency_ms");
  printf("target:    %s\nurl:       %s\n", json_string_value(json_object_get(j, "target")),
         json_string_value(json_object_get(j, "url")));
  printf("requests:  %lld in %.1f s (%.1f/s), %lld failed\n",
         (long long)json_integer_value(json_object_get(j, "requests")),
         json_real_value(json_object_get(j, "duration_s")),
         json_real_value(json_object_get(j, "requests_per_second")),
         (long long)json_integer_value(json_object_get(j, "failures")));
  printf("latency:   p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, mean %.2f ms, max %.2f ms\n",
         json_real_value(json_object_get(lat, "p50")), json_real_value(json_object_get(lat, "p90")),
         json_real_value(json_object_get(lat, "p99")), json_real_value(json_object_get(lat, "mean")),
         json_real_value(json_object_get(lat, "max")));
  printf("codes:    ");
  const char *k;
  const json_t *v;
  json_object_foreach((json_t *)json_object_get(j, "codes"), k, v)
    printf(" %s: %lld", k, (long long)json_integer_value(v));
  const json_t *r = json_object_get(j, "replicas");
  printf("\n");
  if (json_integer_value(json_object_get(r, "ready")) >= 0)
    printf("replicas:  %lld ready of %lld desired at the end (at most %lld ready)\n",
           (long long)json_integer_value(json_object_get(r, "ready")),
           (long long)json_integer_value(json_object_get(r, "desired")),
           (long long)json_integer_value(json_object_get(r, "max_ready")));
}

/* ---- the command ---- */

struct job {
  struct ss_load_config cfg;
  struct ss_load_stats *st;
  struct ss_error err;
  enum ss_err rc;
  atomic_bool done;
};

static void *job_main(void *arg) {
  struct job *j = arg;
  j->rc = ss_load_run(&j->cfg, j->st, &j->err);
  atomic_store(&j->done, true);
  return NULL;
}

/* Runs the load on a thread and prints progress until it ends. */
static int run_load(struct job *j, struct replicas *r, const char *target, bool json) {
  struct progress p = {.start_ms = ss_mono_ms(), .seconds = json_array()};
  p.last_ms = p.start_ms;
  pthread_t t;
  if (pthread_create(&t, NULL, job_main, j)) {
    fprintf(stderr, "error: cannot start the load\n");
    json_decref(p.seconds);
    return SS_EXIT_FAIL;
  }
  bool tty = isatty(STDERR_FILENO);
  int64_t next = p.start_ms + PROGRESS_MS;
  while (!atomic_load(&j->done)) {
    usleep(20000);
    if (ss_mono_ms() >= next) {
      tick(&p, j->st, r, tty);
      next += PROGRESS_MS;
    }
  }
  pthread_join(t, NULL);
  double secs = (double)(ss_mono_ms() - p.start_ms) / 1000.0;
  if (tty)
    fprintf(stderr, "\n");
  if (j->rc) {
    fprintf(stderr, "error: %s\n", j->err.msg);
    json_decref(p.seconds);
    return SS_EXIT_FAIL;
  }
  if (r)
    read_replicas(r);
  static struct ss_load_snapshot s;
  ss_load_snapshot_take(j->st, &s);
  json_t *sum = summary(&s, secs, target, j->cfg.url, &j->cfg, r);
  json_object_set_new(sum, "progress", p.seconds);
  if (json) {
    json_dumpf(sum, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
    printf("\n");
  } else {
    print_summary(sum);
  }
  json_decref(sum);
  return s.requests > 0 && s.failures == s.requests ? SS_EXIT_FAIL : SS_EXIT_OK;
}

static bool check_usage(const struct ss_cli_opts *o, struct ss_load_target *t) {
  struct ss_error err = {0};
  if (o->n_args != 1) {
    fprintf(stderr, "error: give one target: a URL or sdep/NAME\n"
                    "See 'servescale loadtest --help' for usage.\n");
    return false;
  }
  if (ss_load_target_parse(o->args[0], t, &err)) {
    fprintf(stderr, "error: %s\n", err.msg);
    return false;
  }
  if (o->output && strcmp(o->output, "json") != 0) {
    fprintf(stderr, "error: output: -o takes json, not \"%s\"\n", o->output);
    return false;
  }
  if (o->v2 && t->kind == SS_LOAD_TARGET_SDEP) {
    fprintf(stderr, "error: v2: the gateway serves Seldon's v1.0 protocol; give the V2 "
                    "server's URL (.../v2/models/NAME/infer) to send V2 bodies\n");
    return false;
  }
  return true;
}

int ss_cmd_loadtest(int argc, char **argv) {
  struct ss_cli_opts o;
  int rc = ss_cli_parse(argc, argv, "nguRdq2o",
                        "servescale loadtest URL|sdep/NAME [-n NS] [--users N] [--spawn-rate R] "
                        "[--duration 60s] [--rps X] [--v2] [-o json]", about, &o);
  if (rc >= 0)
    return rc;
  struct ss_load_target t;
  if (!check_usage(&o, &t))
    return SS_EXIT_FAIL;
  static struct ss_load_stats st;
  struct job j = {.st = &st,
                  .cfg = {.users = o.users ? o.users : 1,
                          .spawn_rate = o.spawn_rate,
                          .duration_ms = o.duration_ms > 0 ? o.duration_ms : DEFAULT_DURATION_MS,
                          .rps = o.rps,
                          .body = o.v2 ? V2_BODY : SELDON_BODY,
                          .stop = &interrupted}};
  j.cfg.body_len = strlen(j.cfg.body);
  char url[SS_LOAD_URL_MAX], token[TOKEN_MAX] = "";
  struct replicas r = {.ready = -1, .desired = -1, .max_ready = -1};
  bool sdep = t.kind == SS_LOAD_TARGET_SDEP;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  if (sdep) {
    if (!ss_cli_connect(&o, &r.c))
      return SS_EXIT_FAIL;
    r.ns = ss_cli_ns(&o, r.c);
    r.name = t.name;
    if (!sdep_target(&o, r.c, r.ns, t.name, url, token)) {
      ss_client_free(r.c);
      return SS_EXIT_FAIL;
    }
    r.started = pthread_create(&r.thread, NULL, replicas_main, &r) == 0;
  } else {
    snprintf(url, sizeof url, "%s", t.url);
  }
  j.cfg.url = url;
  j.cfg.token = token[0] ? token : NULL;
  struct sigaction sa = {.sa_handler = on_sigint};
  sigaction(SIGINT, &sa, NULL);
  rc = run_load(&j, sdep ? &r : NULL, o.args[0], o.output != NULL);
  atomic_store(&r.stop, true);
  if (r.started)
    pthread_join(r.thread, NULL);
  ss_client_free(r.c);
  curl_global_cleanup();
  return rc;
}
