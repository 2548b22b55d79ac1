/* api.h: the control API: the Kubernetes REST conventions for custom
 * resources (discovery, OpenAPI, create/get/list/update/patch/delete/watch,
 * the status and scale subresources, Status errors, bearer token auth) over
 * the store, so that kubectl and Kubernetes client libraries work against
 * the daemon as against a cluster.
 *
 * The API validates (through src/model/) and stores; it does not run
 * anything: after each write it calls hooks.changed so that control/ can
 * reconcile. Read-only views of what runs (pods, logs) come from hooks. */
#ifndef SS_API_API_H
#define SS_API_API_H

#include <jansson.h>
#include <stddef.h>

#include "common/err.h"
#include "store/store.h"

#define SS_API_MAX_BODY ((size_t)3 << 20) /* the Kubernetes API server's limit */
/* Connections served at once (512 before handshakes timed out: idle
 * connections filled it). A connection is a thread with a 1 MiB stack
 * reserved, of which it touches a few pages, plus the process's static TLS
 * (every thread's copy is written). The limit is capped at a quarter of
 * the open-file limit (RLIMIT_NOFILE) in force when the API starts: the
 * gateway may hold half, and the runtime, SQLite and log files need the
 * rest. */
#define SS_API_MAX_CONNECTIONS 2048
/* Seconds a connection has to authenticate a request: its TLS handshake
 * and a request head with the token must both arrive within this after it
 * opened, however it trickles bytes, so that idle, half-open or slow
 * connections that hold no token free their slot quickly. */
#define SS_API_HANDSHAKE_TIMEOUT_S 10
/* Seconds an authenticated connection may stay idle between requests (a
 * watch stream restarts it with every event it sends). */
#define SS_API_IDLE_TIMEOUT_S 600

/* A request of the custom.metrics.k8s.io or external.metrics.k8s.io API. */
struct ss_api_metrics_query {
  bool external;               /* external.metrics.k8s.io */
  bool discovery;              /* the APIResourceList, nothing below */
  const char *group, *resource; /* custom: "" and "pods", or the group of "x.group" */
  const char *ns;              /* NULL: a root-scoped object (custom), or none */
  const char *const *names;    /* the objects (custom); NULL with 0: every one */
  size_t n_names;
  const char *metric;
  const char *selector;        /* metricLabelSelector (custom) or labelSelector (external) */
};

struct ss_api_hooks {
  void *ctx;
  /* A stored object changed (create, update, patch, delete, scale). */
  void (*changed)(void *ctx);
  /* core/v1 Pods in ns (NULL: all): a new array of Pod objects. */
  json_t *(*pods)(void *ctx, const char *ns);
  /* Path of a pod's log file into buf; 0 when found. */
  int (*pod_log)(void *ctx, const char *ns, const char *pod, char *buf, size_t size);
  /* Deletes a pod (its Deployment replaces it); 0 when it was there. */
  int (*delete_pod)(void *ctx, const char *ns, const char *pod);
  /* The custom and external metrics APIs (the metrics adapter): the
   * answer to q (src/api/metrics_api.c parses the paths), or NULL with
   * *code (404, 400, 503) and why. NULL hook: those APIs are not served. */
  json_t *(*metrics)(void *ctx, const struct ss_api_metrics_query *q, int *code, char *why,
                     size_t why_size);
  /* A SeldonDeployment's timeline over the last since_ms (src/timeline),
   * or NULL with *code (404) and why. NULL hook: timelines not served. */
  json_t *(*timeline)(void *ctx, const char *ns, const char *name, long long since_ms, int *code,
                      char *why, size_t why_size);
  /* A SeldonDeployment's requests now (`servescale record` samples it):
   * those its gateway answered so far (a counter) and those outstanding,
   * or NULL with *code (404) and why. NULL hook: not served. */
  json_t *(*requests)(void *ctx, const char *ns, const char *name, int *code, char *why,
                      size_t why_size);
};

struct ss_api_config {
  const char *bind_addr;   /* "127.0.0.1" by default */
  int port;                /* 0: any free port */
  const char *token;       /* bearer token every request needs but a GET of
                            * /healthz, /readyz, /livez or /version */
  const char *tls_cert;    /* PEM; NULL serves plain HTTP (tests of the transport only) */
  const char *tls_key;
  struct ss_store *store;
  struct ss_api_hooks hooks;
  /* Limits; 0 (or less) takes the named default. */
  int max_connections;     /* SS_API_MAX_CONNECTIONS */
  int handshake_timeout_s; /* SS_API_HANDSHAKE_TIMEOUT_S */
  int idle_timeout_s;      /* SS_API_IDLE_TIMEOUT_S */
};

struct ss_api;

/* Requests are authenticated on their head, before any body is read: one
 * without the token gets 401 and its connection is closed, at once when
 * its body is chunked or announced over 64 KiB (a smaller one is read and
 * dropped first, so that a client that writes before it reads gets the
 * answer). No body is kept without the token, nor one announced over
 * SS_API_MAX_BODY (413). */
enum ss_err ss_api_start(const struct ss_api_config *cfg, struct ss_api **out,
                         struct ss_error *err);
/* The port it listens on. */
int ss_api_port(const struct ss_api *api);
/* One request made in process, authorized with authorization (the
 * Authorization header, may be NULL) as on the API's port: the dashboard's
 * scale and delete, relayed by the gateway. path has no query. Returns the
 * HTTP status; *out (malloc'd, may be NULL) the JSON answer. Thread-safe as
 * the API's own requests are. */
int ss_api_local(struct ss_api *api, const char *method, const char *path,
                 const char *content_type, const char *body, size_t len,
                 const char *authorization, char **out);

/* Creates or updates (by name) each resource in buf (JSON or YAML, several
 * documents) exactly as a client's create or update through the API would,
 * with the same validation. ns fills a missing namespace. One line per
 * resource goes to report ("seldondeployment/x created", or the error);
 * returns the number of resources that failed. */
int ss_api_apply(struct ss_api *api, const char *buf, size_t len, const char *ns,
                 char *report, size_t report_size);
/* Stops accepting, ends watches, waits for requests in flight; accepts NULL. */
void ss_api_stop(struct ss_api *api);

#endif
