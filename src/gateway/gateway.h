/* gateway.h: the data plane. One front door on port 8000 that serves
 * Seldon's paths (/seldon/{namespace}/{name}/api/v1.0/predictions and
 * /feedback, the health paths, /prometheus, /oauth/token), walks each
 * deployment's graph (graph.h) and spreads calls over the READY replicas of
 * each replica set with keep-alive connection pools and least-outstanding-
 * requests balancing.
 *
 * Worker threads (one per core by default), each with its own epoll loop,
 * listening socket (SO_REUSEPORT) and upstream pools; they share nothing on
 * the request path but the routing snapshot (read through an atomic
 * pointer) and the per-replica in-flight counters (atomics). The request
 * path never touches the database.
 *
 * Until control/ publishes a first table, predictions are answered 503 with
 * Retry-After (the daemon has just started), never 404.
 *
 * control/ publishes what to route to with ss_gateway_publish; the gateway
 * says when a leaving replica has no request in flight (ss_gateway_idle),
 * so that the runtime stops it only then. */
#ifndef SS_GATEWAY_GATEWAY_H
#define SS_GATEWAY_GATEWAY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "metrics/metrics.h"
#include "model/resource.h"

#define SS_GW_DEFAULT_PORT 8000               /* Seldon's executor port */
#define SS_GW_MAX_BODY ((size_t)10 << 20)     /* request body limit: 413 beyond */
#define SS_GW_MAX_HEADER ((size_t)16 << 10)   /* request head limit: 431 beyond */
#define SS_GW_HEADER_TIMEOUT_MS 10000
#define SS_GW_IDLE_TIMEOUT_MS 60000
#define SS_GW_CALL_TIMEOUT_MS 60000
#define SS_GW_QUEUE_TIMEOUT_MS 60000          /* wait for a first replica */
#define SS_GW_QUEUE_MAX 10000                 /* queued calls per worker: 503 beyond */
#define SS_GW_MAX_CONNECTIONS 10000           /* client connections; idle ones shed beyond */
#define SS_GW_ID_MAX 160                      /* a replica's or replica set's id, with NUL */

struct ss_gateway_config {
  const char *bind_addr;  /* "127.0.0.1" */
  int port;               /* 0: any free port */
  int workers;            /* 0: one per core */
  struct ss_metrics *metrics; /* borrowed */
  int queue_timeout_ms;   /* 0: SS_GW_QUEUE_TIMEOUT_MS */
  int call_timeout_ms;    /* 0: SS_GW_CALL_TIMEOUT_MS */
  /* Client connections at once, over all workers (0: SS_GW_MAX_CONNECTIONS;
   * at most half the descriptor limit). Past it, or when descriptors run
   * out, the oldest idle connections are closed to make room, with a log
   * line (event=gateway_connection_limit) at most every 10 s. */
  int max_connections;
  /* Called (from a worker) when a request arrives for a replica set that
   * has no ready replica: the autoscaler's "activate now" hook. May be NULL. */
  void (*on_queued)(void *ctx, const char *ns, const char *deployment, const char *rs);
  void *ctx;
  struct ss_gw_ui *ui; /* borrowed; the dashboard at /ui/ (gateway/ui.h); NULL: none */
};

struct ss_gateway;

enum ss_err ss_gateway_start(const struct ss_gateway_config *cfg, struct ss_gateway **out,
                             struct ss_error *err);
int ss_gateway_port(const struct ss_gateway *gw);
/* The connection limit in force (see max_connections). */
int ss_gateway_max_connections(const struct ss_gateway *gw);
/* Stops accepting, finishes requests in flight (bounded), joins workers. */
void ss_gateway_stop(struct ss_gateway *gw);

/* ---- what to route to (built by control/, published whole) ---- */

struct ss_gw_replica {
  char id[SS_GW_ID_MAX];  /* the runtime's replica id */
  int port;
  bool ready;             /* false: leaving or not yet ready; never chosen */
  uint32_t addr;          /* IPv4, network order; 0: 127.0.0.1 (a local replica) */
};

struct ss_gw_table;

/* A decoded SeldonDeployment shared by the tables that route it and by
 * whoever keeps it between tables (control/ keeps one per stored version of
 * a resource, so that an unchanged one is not decoded again each pass).
 * Read-only once decoded; freed with its last reference, in whichever
 * thread drops it (a gateway worker letting go of an old snapshot). */
struct ss_gw_res {
  _Atomic int refs;
  struct ss_resource res;
};

/* One reference, res zeroed (for ss_resource_decode); NULL on ENOMEM. */
struct ss_gw_res *ss_gw_res_new(void);
/* Drops a reference; accepts NULL. */
void ss_gw_res_unref(struct ss_gw_res *r);

struct ss_gw_table *ss_gw_table_new(void);
void ss_gw_table_free(struct ss_gw_table *t);
/* Adds a deployment: takes ownership of res (a decoded SeldonDeployment). */
enum ss_err ss_gw_table_add(struct ss_gw_table *t, struct ss_resource *res);
/* Adds a deployment sharing r (a decoded SeldonDeployment): the table takes
 * a reference of its own, the caller keeps its. */
enum ss_err ss_gw_table_add_shared(struct ss_gw_table *t, struct ss_gw_res *r);
/* The replicas of replica set rs (the runtime's key) of deployment ns/name,
 * for the node running container (predictor index, component index,
 * container index). */
enum ss_err ss_gw_table_replicas(struct ss_gw_table *t, const char *ns, const char *name,
                                 size_t predictor, size_t component, size_t container,
                                 const char *rs, const struct ss_gw_replica *replicas,
                                 size_t n);
/* A Seldon Core 2 Model served at /v2/models/{name} (the Open Inference
 * protocol): loaded on replicas[0..n) of Server server (replica set rs),
 * ordinals[i] being replicas[i]'s server_replica. A name is served once:
 * the first namespace's model of that name (add them in namespace order).
 * SS_EEXISTS for a name already added. */
enum ss_err ss_gw_table_model(struct ss_gw_table *t, const char *ns, const char *name,
                              const char *server, const char *rs,
                              const struct ss_gw_replica *replicas, const int *ordinals,
                              size_t n);
/* Swaps the routing snapshot; takes ownership of t. Requests in flight keep
 * the snapshot they started with. */
void ss_gateway_publish(struct ss_gateway *gw, struct ss_gw_table *t);

/* Whether replica id has no request in flight (so it may be stopped). */
bool ss_gateway_idle(struct ss_gateway *gw, const char *replica_id);
/* Calls in flight on replica id. */
int ss_gateway_inflight(struct ss_gateway *gw, const char *replica_id);
/* A Core 2 model's requests in flight (over every replica and worker) and
 * when one last arrived (monotonic ms, 0: never, or not served yet). */
void ss_gateway_model_load(struct ss_gateway *gw, const char *ns, const char *name,
                           int *inflight, int64_t *last_used_ms);
/* Calls waiting for a first replica of rs, summed over workers. */
int ss_gateway_queued(struct ss_gateway *gw, const char *rs);

#endif
