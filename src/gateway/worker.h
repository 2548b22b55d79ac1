/* worker.h: what the gateway's request-path files share: a worker's epoll
 * loop (worker.c), its client connections (front.c), its upstream
 * connections and pools (upstream.c), calls and requests (call.c) and
 * routing (route.c). Everything here belongs to one worker thread and is
 * touched only by it, but for struct ss_gateway's fields marked shared. */
#ifndef SS_GATEWAY_WORKER_H
#define SS_GATEWAY_WORKER_H

#include <stdint.h>

#include "gateway/http1.h"
#include "gateway/fastpath.h"
#include "gateway/graph.h"
#include "gateway/internal.h"
#include "gateway/message.h"

#define SS__GW_RBUF 65536
#define SS__GW_POOL_BUCKETS 256
#define SS__GW_CALL_PATH 320 /* a replica's path: /v2/models/{name}/infer at most */

/* epoll tags: the first member of whatever epoll points at */
enum ss__gw_kind { SS__GW_K_LISTEN, SS__GW_K_EVENT, SS__GW_K_CONN, SS__GW_K_UP };

struct ss__gw_worker;
struct ss__gw_request;

/* A client connection (front.c). */
struct ss__gw_conn {
  enum ss__gw_kind kind;
  int fd;
  uint32_t events;            /* what epoll watches for now (0: not added) */
  struct ss__gw_worker *w;
  struct ss__gw_req q;        /* the request being read */
  char rbuf[SS__GW_RBUF];
  size_t rlen, roff;          /* bytes read and not yet parsed */
  struct ss__gw_buf out;
  size_t out_off;
  bool keep_alive, closing;
  struct ss__gw_request *req; /* the request being answered */
  int64_t last_ms, head_deadline_ms;
  struct ss__gw_conn *prev, *next; /* the worker's list, newest first */
};

/* One call of a graph walk to one node's replicas (call.c). */
struct ss__gw_call {
  struct ss__gw_request *req;
  struct ss_gw_exec *ex;      /* may be answered before ss_gw_exec_start returns */
  int id;
  struct ss__gw_target *target;
  const struct ss_graph_node *node;
  struct ss__gw_ep *ep;       /* the replica it was last sent to */
  bool get;                   /* GET (a V2 metadata call); else POST */
  char path[SS__GW_CALL_PATH];
  char *body;
  size_t len;
  int attempts;
  int64_t started_ns, deadline_ms;
  struct ss__gw_call *qnext;  /* in the worker's queue */
  bool queued;
};

/* An upstream connection to one replica (upstream.c). */
struct ss__gw_upconn {
  enum ss__gw_kind kind;
  int fd;
  uint32_t events;            /* what epoll watches for now (0: not added) */
  struct ss__gw_worker *w;
  struct ss__gw_ep *ep;
  enum { SS__GW_UP_CONNECTING, SS__GW_UP_BUSY, SS__GW_UP_IDLE } state;
  bool reused;                /* has served a request before */
  http_parser parser;
  struct ss__gw_buf out, body;
  size_t out_off;
  size_t got;                 /* response bytes read for this call */
  int status;
  bool complete, keep_alive;
  struct ss__gw_call *call;
  int64_t deadline_ms;
  struct ss__gw_upconn *next; /* idle list of its pool */
  struct ss__gw_upconn *all_prev, *all_next; /* every upconn of the worker */
};

/* A client's request being answered (call.c). */
struct ss__gw_request {
  struct ss__gw_worker *w;
  struct ss__gw_conn *conn;   /* NULL when the client left */
  struct ss_gw_table *table;  /* a reference */
  const struct ss__gw_dep *dep;
  const struct ss__gw_pred *pred;
  enum ss_gw_kind kind;
  struct ss_gw_exec *ex;      /* the general walk; NULL on the fast path */
  int pending;                /* calls not answered yet */
  /* the fast path (fastpath.h): the spliced request, and the answer */
  bool fast;
  char puid[SS_GW_PUID_LEN + 1];
  char *fast_req;
  size_t fast_req_len;
  int fast_status;
  char *fast_body;
  size_t fast_len;
  int64_t start_ns;
  /* a Core 2 model's call (v2.c): answered as the replica answered it */
  const struct ss__gw_model *model;
  struct ss__gw_ep *model_ep;  /* the replica that answered */
  bool v2_counted;             /* model->stat->inflight holds it */
  bool v2_infer;               /* an inference (metadata calls are not counted) */
};

struct ss__gw_pool {
  struct ss__gw_ep *ep;       /* key (not a reference: each upconn holds one) */
  struct ss__gw_upconn *idle;
  struct ss__gw_pool *next;
};

struct ss__gw_worker {
  enum ss__gw_kind kind_event;  /* epoll tag for the eventfd */
  enum ss__gw_kind kind_listen; /* epoll tag for the listening socket */
  struct ss_gateway *gw;
  pthread_t th;
  int ep, lfd, evfd;
  int spare_fd;               /* closed to accept and shed when out of descriptors */
  struct ss_gw_table *table;  /* this worker's reference to the latest */
  uint64_t epoch;
  struct ss__gw_conn *conns;  /* newest first */
  struct ss__gw_conn *oldest; /* tail of conns */
  int n_conns;
  struct ss__gw_upconn *ups;  /* every upstream connection, for timeouts */
  struct ss__gw_pool *pools[SS__GW_POOL_BUCKETS];
  struct ss__gw_call *queue_head, *queue_tail;
  int queued;
  uint64_t rng;
  int64_t now_ms;
  int64_t accept_paused_until_ms; /* 0: accepting */
  bool stopping;
};

struct ss__gw_queued_rs {
  char rs[SS_GW_ID_MAX];
  int n;
};

struct ss_gateway {
  struct ss_gateway_config cfg;
  struct ss__gw_queued_rs *queued; /* under mu: calls waiting per replica set */
  size_t n_queued;
  int port;
  int n_workers;
  struct ss__gw_worker *workers;
  _Atomic bool stopping;
  pthread_mutex_t mu;         /* latest, epoch, queued */
  struct ss_gw_table *latest;
  uint64_t epoch;
  struct ss__gw_registry reg;
  struct ss__gw_oauth *oauth;
  int queue_timeout_ms, call_timeout_ms;
  int max_conns_per_worker;
  _Atomic int64_t limit_logged_ms; /* last "connection limit" log line */
};

int64_t ss__gw_mono_ns(void);
/* xorshift64*: load spreading and traffic splits, not secrets. */
uint64_t ss__gw_rnd(struct ss__gw_worker *w);
/* epoll_ctl only when the watched events change. */
void ss__gw_ep_set(struct ss__gw_worker *w, int fd, void *tag, uint32_t *cur, uint32_t events);

/* front.c: client connections. */
void ss__gw_accept(struct ss__gw_worker *w);
void ss__gw_conn_read(struct ss__gw_conn *c);
void ss__gw_conn_write(struct ss__gw_conn *c);
void ss__gw_conn_close(struct ss__gw_conn *c);
/* Closes connections past their head or idle deadline. */
void ss__gw_conn_sweep(struct ss__gw_worker *w);
void ss__gw_respond(struct ss__gw_conn *c, int code, const char *ctype, const char *body,
                    size_t len, const char *extra_headers);
/* A Seldon status object as the body. */
void ss__gw_respond_error(struct ss__gw_conn *c, int code, const char *reason,
                          const char *info);

/* route.c: what a complete request asks for. */
void ss__gw_handle(struct ss__gw_conn *c);

/* call.c: graph walks, calls to replicas, the queue at zero. */
void ss__gw_predict(struct ss__gw_conn *c, const struct ss__gw_dep *d,
                    const struct ss__gw_pred *p, enum ss_gw_kind kind);
void ss__gw_dispatch(struct ss__gw_worker *w, struct ss__gw_call *call);
/* Ends a call with the replica's answer (status 0: no answer, body says why). */
void ss__gw_call_answer(struct ss__gw_worker *w, struct ss__gw_call *call, int status,
                        const char *body, size_t len);
/* Retries or times out the calls waiting for a first replica. */
void ss__gw_retry_queue(struct ss__gw_worker *w);

/* v2.c: the Open Inference (V2) protocol's paths, for Core 2 models;
 * false when path is none of them. */
bool ss__gw_v2_handle(struct ss__gw_conn *c, const char *path, int method);
/* The end of a V2 request: metrics and counters; status and body are the
 * answer about to be sent. */
void ss__gw_v2_finish(struct ss__gw_request *r, int status, double secs);
/* Declares Core 2's metric families. */
void ss__gw_v2_families(struct ss_metrics *m);
/* call.c: starts a V2 call of model m at the replica's path (GET when get,
 * else POST of the request's body), answered as the replica answers. */
void ss__gw_v2_call(struct ss__gw_conn *c, const struct ss__gw_model *m, const char *path,
                    bool get);

/* upstream.c: connections to replicas. */
void ss__gw_up_start(struct ss__gw_worker *w, struct ss__gw_call *call, struct ss__gw_ep *ep);
void ss__gw_up_event(struct ss__gw_upconn *u, uint32_t events);
/* Fails calls past their deadline (the replica is stuck). */
void ss__gw_up_sweep(struct ss__gw_worker *w);
/* Closes the worker's idle upstream connections and frees its pools. */
void ss__gw_pools_free(struct ss__gw_worker *w);

#endif
