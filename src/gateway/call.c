/* call.c: a request's life in the gateway: the graph walk (graph.h) or the
 * fast path (fastpath.h), each call sent to the replica with the fewest
 * requests in flight, calls queued while a replica set has no ready
 * replica, the executor's metrics, and the answer to the client. Sockets
 * to replicas are upstream.c's; what a path means is route.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gateway/fastpath.h"
#include "gateway/graph.h"
#include "gateway/message.h"
#include "gateway/worker.h"

static void request_finish(struct ss__gw_request *r);

static struct ss__gw_ep *choose(struct ss__gw_worker *w, const struct ss__gw_target *t) {
  if (!t || t->n == 0)
    return NULL;
  /* least outstanding requests; ties broken from a random start so that an
   * idle set is spread evenly; a replica that refused a connection in the
   * last SS__GW_EP_DOWN_MS only when every other one did too */
  size_t start = (size_t)(ss__gw_rnd(w) % t->n);
  struct ss__gw_ep *best = NULL;
  long best_n = 0;
  for (size_t i = 0; i < t->n; i++) {
    struct ss__gw_ep *e = t->eps[(start + i) % t->n];
    long n = atomic_load_explicit(&e->inflight, memory_order_relaxed);
    int64_t down = atomic_load_explicit(&e->down_since_ms, memory_order_relaxed);
    if (down && w->now_ms - down < SS__GW_EP_DOWN_MS)
      n += 1L << 30;
    if (!best || n < best_n) {
      best = e;
      best_n = n;
    }
  }
  return best;
}

/* Counts calls waiting for rs (delta +1 or -1), for metrics and scalers. */
static void count_queued(struct ss_gateway *gw, const char *rs, int delta) {
  pthread_mutex_lock(&gw->mu);
  size_t i;
  for (i = 0; i < gw->n_queued; i++)
    if (strcmp(gw->queued[i].rs, rs) == 0)
      break;
  if (i == gw->n_queued && delta > 0) {
    struct ss__gw_queued_rs *v = realloc(gw->queued, (gw->n_queued + 1) * sizeof *v);
    if (v) {
      gw->queued = v;
      snprintf(v[i].rs, sizeof v[i].rs, "%s", rs);
      v[i].n = 0;
      gw->n_queued++;
    }
  }
  if (i < gw->n_queued)
    gw->queued[i].n += delta;
  pthread_mutex_unlock(&gw->mu);
}

static void enqueue(struct ss__gw_worker *w, struct ss__gw_call *call) {
  if (w->queued >= SS_GW_QUEUE_MAX) {
    ss__gw_call_answer(w, call, 503, "queue full", 10);
    return;
  }
  if (!call->queued) {
    call->queued = true;
    count_queued(w->gw, call->target ? call->target->rs : "", 1);
    call->deadline_ms = w->now_ms + w->gw->queue_timeout_ms;
    if (w->gw->cfg.on_queued && call->req->dep)
      w->gw->cfg.on_queued(w->gw->cfg.ctx, call->req->dep->ns, call->req->dep->name,
                           call->target ? call->target->rs : "");
  }
  call->qnext = NULL;
  if (w->queue_tail)
    w->queue_tail->qnext = call;
  else
    w->queue_head = call;
  w->queue_tail = call;
  w->queued++;
}

/* The current worker snapshot's target for the call (snapshots change while
 * calls wait; the request keeps its own, but a waiting call looks in the
 * newest for replicas). */
static const struct ss__gw_target *fresh_target(struct ss__gw_worker *w, const struct ss__gw_call *call) {
  const struct ss__gw_request *r = call->req;
  if (w->table && r->model) {
    const struct ss__gw_model *m = ss__gw_model_find(w->table, r->model->name);
    return m && strcmp(m->ns, r->model->ns) == 0 ? &m->target : call->target;
  }
  if (!w->table || !r->dep || !call->node)
    return call->target;
  const struct ss__gw_dep *d = ss__gw_table_find(w->table, r->dep->ns, r->dep->name);
  if (!d)
    return call->target;
  size_t pi = (size_t)(r->pred - r->dep->preds);
  if (pi >= d->n_preds)
    return call->target;
  return ss__gw_target_of(&d->preds[pi], call->node->component, call->node->container);
}

void ss__gw_dispatch(struct ss__gw_worker *w, struct ss__gw_call *call) {
  if (!call->target) {
    ss__gw_call_answer(w, call, 500, "no component for this graph node", 32);
    return;
  }
  const struct ss__gw_target *t = fresh_target(w, call);
  if (!t || !t->rs[0]) {
    /* control gave it no replica set: it cannot run (see the status) */
    static const char why[] = "the component's replica set is not running: see the "
                              "deployment's status";
    ss__gw_call_answer(w, call, 503, why, sizeof why - 1);
    return;
  }
  struct ss__gw_ep *ep = choose(w, t);
  if (!ep) {
    enqueue(w, call);
    return;
  }
  if (call->queued) {
    call->queued = false;
    count_queued(w->gw, call->target ? call->target->rs : "", -1);
  }
  call->ep = ep;
  ss__gw_up_start(w, call, ep);
}

static void on_call(void *ctx, struct ss_gw_exec *ex, int call_id,
                    const struct ss_graph_node *node, const char *path, const char *body,
                    size_t len) {
  struct ss__gw_request *r = ctx;
  struct ss__gw_worker *w = r->w;
  struct ss__gw_call *call = calloc(1, sizeof *call);
  if (call)
    call->body = malloc(len + 1);
  if (!call || !call->body) {
    if (call)
      free(call->body);
    free(call);
    ss_gw_exec_complete(ex, call_id, 0, "out of memory", 13);
    return;
  }
  memcpy(call->body, body, len);
  call->body[len] = '\0';
  call->len = len;
  call->req = r;
  call->ex = ex;
  call->id = call_id;
  call->node = node;
  snprintf(call->path, sizeof call->path, "%s", path);
  call->target = ss__gw_target_of(r->pred, node->component, node->container);
  call->started_ns = ss__gw_mono_ns();
  r->pending++;
  ss__gw_dispatch(w, call);
}

/* meta.requestPath: the image each node's component runs. */
static const char *image_of(void *ctx, const struct ss_graph_node *node) {
  const struct ss__gw_request *r = ctx;
  const struct ss__gw_target *t = ss__gw_target_of(r->pred, node->component, node->container);
  return t ? t->image : NULL;
}

static void observe_client(struct ss__gw_worker *w, struct ss__gw_call *call, int status, double secs) {
  struct ss_metrics *m = w->gw->cfg.metrics;
  if (!m || !call->target || !call->node)
    return;
  if (status == 200 && strcmp(call->path, "/predict") == 0 && call->target->client_ok) {
    ss_series_observe(call->target->client_ok, secs);
    return;
  }
  const struct ss__gw_request *r = call->req;
  char code[8], repo[256], tag[128];
  snprintf(code, sizeof code, "%d", status);
  const char *img = call->target->image;
  const char *colon = strrchr(img, ':');
  if (colon && !strchr(colon, '/')) {
    snprintf(repo, sizeof repo, "%.*s", (int)(colon - img), img);
    snprintf(tag, sizeof tag, "%s", colon + 1);
  } else {
    snprintf(repo, sizeof repo, "%s", img);
    snprintf(tag, sizeof tag, "latest");
  }
  const char *v[] = {r->dep->name, r->pred->p->name ? r->pred->p->name : "", "", call->path,
                     "post", code, call->node->name ? call->node->name : "", repo, tag,
                     r->dep->ns};
  struct ss_series *s = ss_metrics_series(m, "seldon_api_executor_client_requests_seconds", v);
  if (s)
    ss_series_observe(s, secs);
}

/* ---- the fast path ---- */

struct capture {
  const struct ss__gw_request *r;
  int id;
};

static const char *capture_image(void *ctx, const struct ss_graph_node *node) {
  const struct capture *cap = ctx;
  const struct ss__gw_target *t =
      ss__gw_target_of(cap->r->pred, node->component, node->container);
  return t ? t->image : NULL;
}

static void capture_call(void *ctx, struct ss_gw_exec *ex, int call_id,
                         const struct ss_graph_node *node, const char *path, const char *body,
                         size_t len) {
  (void)ex;
  (void)node;
  (void)path;
  (void)body;
  (void)len;
  ((struct capture *)ctx)->id = call_id;
}

/* The model answered the fast path's call: splice the executor's meta in, or,
 * for anything unusual, replay the answer through the general walk so that
 * the result is exactly what it would have been. */
static void fast_complete(struct ss__gw_request *r, int status, const char *body, size_t len) {
  const struct ss_graph_node *node = r->pred->fast_node;
  const struct ss__gw_target *t = ss__gw_target_of(r->pred, node->component, node->container);
  size_t meta_at, meta_len;
  if (status >= 200 && status <= 299 && t && ss__gw_scan(body, len, &meta_at, &meta_len) == 0 &&
      (!meta_len || ss__gw_meta_trivial(body + meta_at, meta_len))) {
    r->fast_body = ss__gw_fast_response(body, len, meta_at, meta_len, r->puid,
                                        node->name ? node->name : "", t->image, &r->fast_len);
    if (r->fast_body) {
      r->fast_status = 200;
      return;
    }
  }
  struct capture cap = {r, -1};
  struct ss_gw_exec_config xc = {.call = capture_call, .image_of = capture_image, .ctx = &cap};
  struct ss_gw_exec *ex = ss_gw_exec_start_with(&r->pred->p->graph, SS_GW_PREDICT, r->fast_req,
                                                r->fast_req_len, &xc);
  if (ex && cap.id >= 0)
    ss_gw_exec_complete(ex, cap.id, status, body, len);
  int st = 500;
  char *out = NULL;
  size_t n = 0;
  if (ex && ss_gw_exec_done(ex, &st, &out, &n)) {
    r->fast_status = st;
    r->fast_body = out;
    r->fast_len = n;
  } else {
    r->fast_status = 500;
    r->fast_body = ss_gw_error_body(500, "INTERNAL", "out of memory");
    r->fast_len = r->fast_body ? strlen(r->fast_body) : 0;
  }
  ss_gw_exec_free(ex);
}

/* A V2 call's answer is the replica's, as it came; what the gateway says
 * itself (no answer, no replica in time) is a JSON error as MLServer's. */
static void v2_complete(struct ss__gw_request *r, int status, const char *body, size_t len) {
  if (status >= 200 && (len == 0 || body[0] == '{' || body[0] == '[')) {
    r->fast_status = status;
    r->fast_body = malloc(len + 1);
    if (r->fast_body) {
      memcpy(r->fast_body, body, len);
      r->fast_body[len] = '\0';
      r->fast_len = len;
      return;
    }
  }
  json_t *e = json_pack("{s:s%}", "error", body ? body : "", body ? len : 0);
  r->fast_status = status >= 400 ? status : 502;
  r->fast_body = e ? json_dumps(e, JSON_COMPACT) : NULL;
  r->fast_len = r->fast_body ? strlen(r->fast_body) : 0;
  json_decref(e);
}

void ss__gw_call_answer(struct ss__gw_worker *w, struct ss__gw_call *call, int status, const char *body,
                        size_t len) {
  struct ss__gw_request *r = call->req;
  if (call->queued)
    count_queued(w->gw, call->target ? call->target->rs : "", -1);
  double secs = (double)(ss__gw_mono_ns() - call->started_ns) / 1e9;
  if (status)
    observe_client(w, call, status, secs);
  free(call->body);
  int id = call->id;
  struct ss_gw_exec *ex = call->ex;
  struct ss__gw_ep *ep = call->ep;
  free(call);
  r->pending--;
  if (r->model) {
    r->model_ep = ep;
    v2_complete(r, status, body, len);
  } else if (r->fast)
    fast_complete(r, status, body, len);
  else
    ss_gw_exec_complete(ex, id, status, body, len);
  request_finish(r);
}

/* Answers the client when the walk is done (and frees the request when
 * nothing refers to it any more). */
static void request_finish(struct ss__gw_request *r) {
  int status;
  char *body = NULL;
  size_t len = 0;
  if (r->pending > 0)
    return;
  if (r->fast || r->model) {
    status = r->fast_status;
    body = r->fast_body;
    len = r->fast_len;
    r->fast_body = NULL;
    free(r->fast_req);
  } else if (!ss_gw_exec_done(r->ex, &status, &body, &len)) {
    return;
  }
  struct ss__gw_conn *c = r->conn;
  double secs = (double)(ss__gw_mono_ns() - r->start_ns) / 1e9;
  struct ss_metrics *m = r->table->gw ? r->table->gw->cfg.metrics : NULL;
  if (m && r->pred) {
    int k = r->kind == SS_GW_FEEDBACK;
    if (status == 200 && r->pred->server_ok[k]) {
      ss_series_observe(r->pred->server_ok[k], secs);
    } else {
      char code[8];
      snprintf(code, sizeof code, "%d", status);
      const char *v[] = {r->dep->name, r->pred->p->name ? r->pred->p->name : "", "",
                         k ? "feedback" : "predictions", "post", code, r->dep->ns};
      struct ss_series *s = ss_metrics_series(m, "seldon_api_executor_server_requests_seconds", v);
      if (s)
        ss_series_observe(s, secs);
    }
  }
  if (r->model)
    ss__gw_v2_finish(r, status, secs);
  struct ss_gateway *gw = r->table->gw;
  ss_gw_exec_free(r->ex);
  ss__gw_table_unref(r->table, gw ? &gw->reg : NULL);
  free(r);
  if (c) {
    c->req = NULL;
    ss__gw_respond(c, status, "application/json", body ? body : "", len, NULL);
  }
  free(body);
}

/* A request for c's, holding the worker's snapshot; NULL when out of
 * memory. */
static struct ss__gw_request *request_begin(struct ss__gw_conn *c) {
  struct ss__gw_request *r = calloc(1, sizeof *r);
  if (!r)
    return NULL;
  r->w = c->w;
  r->conn = c;
  r->table = c->w->table;
  atomic_fetch_add(&r->table->refs, 1);
  r->start_ns = ss__gw_mono_ns();
  c->req = r;
  return r;
}

/* Starts answering c's request with predictor p of d: the fast path for a
 * one-model graph and a plain message, else the general walk. */
void ss__gw_predict(struct ss__gw_conn *c, const struct ss__gw_dep *d,
                    const struct ss__gw_pred *p, enum ss_gw_kind kind) {
  struct ss__gw_worker *w = c->w;
  struct ss__gw_request *r = p ? request_begin(c) : NULL;
  if (!r) {
    ss__gw_respond_error(c, 500, "INTERNAL", "out of memory");
    return;
  }
  r->dep = d;
  r->pred = p;
  r->kind = kind;
  size_t meta_at, meta_len;
  const char *in = c->q.body.p ? c->q.body.p : "";
  int scan = p->fast_node && kind == SS_GW_PREDICT ? ss__gw_scan(in, c->q.body.n, &meta_at, &meta_len)
                                                   : 1;
  if (scan == 0 && meta_len == 0) {
    /* one model, a plain request: no JSON tree (fastpath.h) */
    r->fast = true;
    uint64_t seed = ss__gw_rnd(w);
    ss__gw_puid(&seed, r->puid);
    r->fast_req = ss__gw_fast_request(in, c->q.body.n, r->puid, &r->fast_req_len);
    struct ss__gw_call *call = r->fast_req ? calloc(1, sizeof *call) : NULL;
    if (call && !(call->body = malloc(r->fast_req_len + 1))) {
      free(call);
      call = NULL;
    }
    if (!call) {
      free(r->fast_req);
      c->req = NULL;
      ss__gw_table_unref(r->table, &w->gw->reg);
      free(r);
      ss__gw_respond_error(c, 500, "INTERNAL", "out of memory");
      return;
    }
    memcpy(call->body, r->fast_req, r->fast_req_len + 1);
    call->len = r->fast_req_len;
    call->req = r;
    call->node = p->fast_node;
    snprintf(call->path, sizeof call->path, "/predict");
    call->target = ss__gw_target_of(p, p->fast_node->component, p->fast_node->container);
    call->started_ns = ss__gw_mono_ns();
    r->pending = 2; /* the call, and this function until the end */
    ss__gw_dispatch(w, call);
    r->pending--;
    request_finish(r);
    return;
  }
  r->pending = 1; /* held while starting, so a synchronous answer waits */
  struct ss_gw_exec_config xc = {.call = on_call, .image_of = image_of, .ctx = r,
                                 .rng_seed = ss__gw_rnd(w)};
  r->ex = ss_gw_exec_start_with(&p->p->graph, kind, c->q.body.p ? c->q.body.p : "", c->q.body.n, &xc);
  r->pending--;
  if (!r->ex) {
    c->req = NULL;
    ss__gw_table_unref(r->table, &w->gw->reg);
    free(r);
    ss__gw_respond_error(c, 500, "INTERNAL", "out of memory");
    return;
  }
  request_finish(r);
}

void ss__gw_v2_call(struct ss__gw_conn *c, const struct ss__gw_model *m, const char *path,
                    bool get) {
  struct ss__gw_worker *w = c->w;
  size_t len = get ? 0 : c->q.body.n;
  struct ss__gw_call *call = calloc(1, sizeof *call);
  if (call && !(call->body = malloc(len + 1))) {
    free(call);
    call = NULL;
  }
  struct ss__gw_request *r = call ? request_begin(c) : NULL;
  if (!r) {
    if (call)
      free(call->body);
    free(call);
    ss__gw_respond_error(c, 500, "INTERNAL", "out of memory");
    return;
  }
  r->model = m;
  r->v2_infer = !get;
  if (m->stat && !get) {
    atomic_fetch_add(&m->stat->inflight, 1);
    atomic_store(&m->stat->last_used_ms, w->now_ms > 0 ? w->now_ms : 1);
    r->v2_counted = true;
  }
  if (len)
    memcpy(call->body, c->q.body.p, len);
  call->body[len] = '\0';
  call->len = len;
  call->get = get;
  call->req = r;
  snprintf(call->path, sizeof call->path, "%s", path);
  call->target = (struct ss__gw_target *)&m->target;
  call->started_ns = r->start_ns;
  r->pending = 2; /* the call, and this function until the end */
  ss__gw_dispatch(w, call);
  r->pending--;
  request_finish(r);
}

void ss__gw_retry_queue(struct ss__gw_worker *w) {
  struct ss__gw_call *q = w->queue_head;
  w->queue_head = w->queue_tail = NULL;
  w->queued = 0;
  while (q) {
    struct ss__gw_call *next = q->qnext;
    if (w->now_ms >= q->deadline_ms || w->stopping)
      ss__gw_call_answer(w, q, 503, "no ready replica in time", 24);
    else
      ss__gw_dispatch(w, q);
    q = next;
  }
}
