/* graph.c: the inference graph walk (graph.h) as a state machine of frames,
 * one per node entered. A frame runs until it must wait for a call or for
 * its children; answers and finished children put frames back on a run
 * queue that one pump drains, so an answer given from inside call_fn (or
 * any order of answers later) resumes the walk without recursion. Message
 * details (shapes, meta, averaging, serializing) are in message.c. */
#include "gateway/graph.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "gateway/message.h"

#define INFO_MAX 512       /* the info of an error object we make */
#define ECHO_MAX 300       /* how much of a component's non-JSON body we quote */

/* Where a frame stands; each *_WAIT stage has a call out. */
enum stage {
  ST_BEGIN,        /* transform input */
  ST_INPUT_WAIT,
  ST_ROUTE,        /* pick children */
  ST_ROUTE_WAIT,
  ST_ROUTED,       /* start the chosen children */
  ST_CHILDREN,     /* all children done: aggregate */
  ST_AGG_WAIT,
  ST_OUTPUT,       /* transform output */
  ST_OUTPUT_WAIT,
  FB_BEGIN,        /* feedback: children first */
  FB_SELF,         /* then the node itself */
  FB_WAIT
};

struct frame {
  const struct ss_graph_node *node;
  struct frame *parent;
  size_t slot;           /* index in parent's outs */
  enum stage stage;
  long long route;
  json_t *in;            /* the message given to this node */
  json_t *msg;           /* after step 1 */
  json_t *agg;           /* after step 3 */
  json_t *ans;           /* the answer to the call out, until consumed */
  json_t **outs;         /* children's outputs, in child order */
  size_t n_outs, pending;
  struct frame *run_next, *all_next;
};

struct call_slot {
  struct frame *f;
  const char *path;      /* a literal */
  bool open;
};

struct ss_gw_exec {
  const struct ss_graph_node *graph;
  enum ss_gw_kind kind;
  ss_gw_call_fn call;
  ss_gw_image_fn image_of;
  void *ctx;
  uint64_t rng;
  struct ss_arena *arena; /* frames and their arrays */
  char made_puid[SS_GW_PUID_LEN + 1];
  const char *puid;       /* made_puid, or the request's own (in the arena) */
  json_t *fb;             /* feedback: the parsed body */
  json_t *routing, *request_path, *metrics, *tags;
  struct frame *all, *run_head, *run_tail;
  struct call_slot calls[SS_GW_MAX_CALLS];
  int n_calls;
  bool pumping, done;
  int status;
  char *body;
  size_t len;
};

/* ---- finishing ---- */

static void finish_raw(struct ss_gw_exec *ex, int status, char *body) {
  ex->done = true;
  ex->status = status;
  ex->body = body;
  ex->len = body ? strlen(body) : 0;
}

static void fail(struct ss_gw_exec *ex, int status, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void fail(struct ss_gw_exec *ex, int status, const char *reason, const char *fmt, ...) {
  if (ex->done)
    return;
  char info[INFO_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(info, sizeof info, fmt, ap);
  va_end(ap);
  finish_raw(ex, status, ss_gw_error_body(status, reason, info));
}

static void fail_oom(struct ss_gw_exec *ex) {
  fail(ex, 500, "INTERNAL", "out of memory");
}

static const char *node_name(const struct ss_graph_node *n) { return n->name ? n->name : ""; }

/* The answer: msg with meta {puid, tags, routing, requestPath, metrics}
 * first, as Seldon's engine printed it. Takes ownership of msg. */
static void finish_ok(struct ss_gw_exec *ex, json_t *msg) {
  json_t *out = json_object();
  json_t *meta = json_object();
  const json_t *old = json_object_get(msg, "meta");
  json_t *tags = json_object_get(old, "tags");
  int rc = out && meta ? 0 : -1;
  rc = rc ? rc : json_object_set_new(meta, "puid", json_string(ex->puid));
  if (ex->kind == SS_GW_FEEDBACK)
    rc = rc ? rc : json_object_set(meta, "tags", ex->tags);
  else
    rc = rc ? rc : json_object_set_new(meta, "tags", json_is_object(tags) ? json_copy(tags)
                                                                          : json_object());
  rc = rc ? rc : json_object_set(meta, "routing", ex->routing);
  rc = rc ? rc : json_object_set(meta, "requestPath", ex->request_path);
  rc = rc ? rc : json_object_set(meta, "metrics", ex->metrics);
  /* other meta keys a component set, kept after ours */
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)old, k, v) {
    if (!json_object_get(meta, k))
      rc = rc ? rc : json_object_set(meta, k, v);
  }
  rc = rc ? rc : json_object_set(out, "meta", meta);
  json_object_foreach(msg, k, v) {
    if (strcmp(k, "meta") != 0)
      rc = rc ? rc : json_object_set(out, k, v);
  }
  char *body = rc ? NULL : ss__gw_dump(out, NULL);
  json_decref(meta);
  json_decref(out);
  json_decref(msg);
  if (!body)
    fail_oom(ex);
  else
    finish_raw(ex, 200, body);
}

/* ---- frames and calls ---- */

static void run(struct ss_gw_exec *ex, struct frame *f) {
  f->run_next = NULL;
  if (ex->run_tail)
    ex->run_tail->run_next = f;
  else
    ex->run_head = f;
  ex->run_tail = f;
}

static struct frame *frame_new(struct ss_gw_exec *ex, const struct ss_graph_node *node,
                               struct frame *parent, size_t slot, json_t *in) {
  struct frame *f = ss_arena_alloc(ex->arena, sizeof *f);
  if (!f)
    return NULL;
  f->node = node;
  f->parent = parent;
  f->slot = slot;
  f->stage = ex->kind == SS_GW_FEEDBACK ? FB_BEGIN : ST_BEGIN;
  f->in = json_incref(in);
  f->all_next = ex->all;
  ex->all = f;
  return f;
}

/* POSTs msg to path on f's node; f waits in stage next. */
static void issue(struct ss_gw_exec *ex, struct frame *f, const char *path, const json_t *msg,
                  enum stage next) {
  if (ex->n_calls >= SS_GW_MAX_CALLS) {
    fail(ex, 500, "ENGINE_TOO_MANY_CALLS",
         "the graph needs more than %d calls for one request (at node %s, %s)", SS_GW_MAX_CALLS,
         node_name(f->node), path);
    return;
  }
  size_t len;
  char *body = ss__gw_dump(msg, &len);
  if (!body) {
    fail_oom(ex);
    return;
  }
  int id = ex->n_calls++;
  ex->calls[id] = (struct call_slot){.f = f, .path = path, .open = true};
  f->stage = next;
  ex->call(ex->ctx, ex, id, f->node, path, body, len);
  free(body);
}

static bool impl_is(const struct ss_graph_node *n, const char *impl) {
  return n->implementation && strcmp(n->implementation, impl) == 0;
}

/* Implementations that run inside the gateway: never called out to. */
static bool built_in(const struct ss_graph_node *n) {
  return impl_is(n, "RANDOM_ABTEST") || impl_is(n, "SIMPLE_ROUTER") ||
         impl_is(n, "AVERAGE_COMBINER") || impl_is(n, "SIMPLE_MODEL");
}

static int record_path(struct ss_gw_exec *ex, const struct ss_graph_node *n) {
  const char *img = ex->image_of ? ex->image_of(ex->ctx, n) : NULL;
  return json_object_set_new(ex->request_path, node_name(n), json_string(img ? img : ""));
}

/* Hands a finished node's output (owned) to its parent, or ends the walk. */
static void deliver(struct ss_gw_exec *ex, struct frame *f, json_t *out) {
  if (!f->parent) {
    finish_ok(ex, out);
    return;
  }
  struct frame *p = f->parent;
  p->outs[f->slot] = out;
  if (--p->pending == 0)
    run(ex, p);
}

/* Starts children [from, from + n) of f's node with input in; they fill
 * f->outs[0..n). */
static bool spawn(struct ss_gw_exec *ex, struct frame *f, size_t from, size_t n, json_t *in) {
  f->outs = n ? ss_arena_calloc(ex->arena, n, sizeof *f->outs) : NULL;
  if (n && !f->outs)
    return false;
  f->n_outs = n;
  f->pending = n;
  for (size_t i = 0; i < n; i++) {
    struct frame *c = frame_new(ex, &f->node->children[from + i], f, i, in);
    if (!c)
      return false;
    run(ex, c);
  }
  return true;
}

/* A component's answer taken into the walk: writable, puid set, metrics
 * gathered. NULL when out of memory (the walk has failed then). */
static json_t *take_answer(struct ss_gw_exec *ex, struct frame *f) {
  json_t *m = ss__gw_msg_writable(f->ans);
  f->ans = NULL;
  if (!m || ss__gw_msg_set_puid(m, ex->puid) != 0 ||
      ss__gw_msg_take_metrics(m, ex->metrics) != 0) {
    json_decref(m);
    fail_oom(ex);
    return NULL;
  }
  return m;
}

/* SIMPLE_MODEL: Seldon engine's fixed answer (SimpleModelUnit). */
static json_t *simple_model(void) {
  return json_pack("{s:{s:[sss],s:{s:[ii],s:[fff]}}}", "data", "names", "class0", "class1",
                   "class2", "tensor", "shape", 1, 3, "values", 0.1, 0.9, 0.5);
}

static bool ab_ratio(const struct ss_graph_node *n, double *ratio) {
  *ratio = 0.5; /* Seldon's default ratioA */
  size_t i;
  const json_t *p;
  json_array_foreach(n->parameters, i, p) {
    const char *name = json_string_value(json_object_get(p, "name"));
    if (!name || strcmp(name, "ratioA") != 0)
      continue;
    const json_t *v = json_object_get(p, "value");
    if (json_is_number(v)) {
      *ratio = json_number_value(v);
      return true;
    }
    const char *s = json_string_value(v);
    char *end;
    if (!s || !*s)
      return false;
    *ratio = strtod(s, &end);
    return *end == '\0';
  }
  return true;
}

/* Step 2 for routers run inside: sets f->route or fails. */
static bool route_built_in(struct ss_gw_exec *ex, struct frame *f) {
  const struct ss_graph_node *n = f->node;
  if (impl_is(n, "SIMPLE_ROUTER")) {
    f->route = 0;
    return true;
  }
  double ratio;
  if (n->n_children != 2) {
    fail(ex, 500, "ENGINE_INVALID_ROUTING", "RANDOM_ABTEST router %s needs 2 children, has %zu",
         node_name(n), n->n_children);
    return false;
  }
  if (!ab_ratio(n, &ratio)) {
    fail(ex, 500, "ENGINE_INVALID_ROUTING", "RANDOM_ABTEST router %s: ratioA is not a number",
         node_name(n));
    return false;
  }
  f->route = ss__gw_rng_unit(&ex->rng) < ratio ? 0 : 1;
  return true;
}

static bool check_route(struct ss_gw_exec *ex, struct frame *f) {
  if (f->route >= -2 && f->route < (long long)f->node->n_children)
    return true;
  fail(ex, 500, "ENGINE_INVALID_ROUTING",
       "invalid branch index %lld from router %s (it has %zu children)", f->route,
       node_name(f->node), f->node->n_children);
  return false;
}

/* {"seldonMessages": [children's outputs]} */
static json_t *aggregate_request(const struct frame *f) {
  json_t *list = json_array();
  for (size_t i = 0; list && i < f->n_outs; i++)
    if (json_array_append(list, f->outs[i]) != 0) {
      json_decref(list);
      list = NULL;
    }
  return list ? json_pack("{s:o}", "seldonMessages", list) : NULL;
}

/* Runs f as far as it goes without waiting. */
static void step(struct ss_gw_exec *ex, struct frame *f) {
  const struct ss_graph_node *n = f->node;
  char why[INFO_MAX];
  for (;;) {
    if (ex->done)
      return;
    switch (f->stage) {
    case ST_BEGIN:
      if (record_path(ex, n) != 0)
        goto oom;
      if (impl_is(n, "SIMPLE_MODEL")) {
        f->msg = simple_model();
        if (!f->msg || ss__gw_msg_set_puid(f->msg, ex->puid) != 0 ||
            ss__gw_msg_merge_tags(f->msg, f->in) != 0)
          goto oom;
        f->stage = ST_ROUTE;
      } else if (!built_in(n) && n->type == SS_NODE_MODEL) {
        issue(ex, f, "/predict", f->in, ST_INPUT_WAIT);
        return;
      } else if (!built_in(n) && n->type == SS_NODE_TRANSFORMER) {
        issue(ex, f, "/transform-input", f->in, ST_INPUT_WAIT);
        return;
      } else {
        f->msg = json_incref(f->in);
        f->stage = ST_ROUTE;
      }
      break;
    case ST_INPUT_WAIT:
      if (!(f->msg = take_answer(ex, f)))
        return;
      if (ss__gw_msg_merge_tags(f->msg, f->in) != 0) /* the input's tags win */
        goto oom;
      f->stage = ST_ROUTE;
      break;
    case ST_ROUTE:
      if (n->n_children == 0) {
        f->agg = json_incref(f->msg);
        f->stage = ST_OUTPUT;
      } else if (impl_is(n, "RANDOM_ABTEST") || impl_is(n, "SIMPLE_ROUTER")) {
        if (!route_built_in(ex, f))
          return;
        f->stage = ST_ROUTED;
      } else if (!built_in(n) && n->type == SS_NODE_ROUTER) {
        issue(ex, f, "/route", f->msg, ST_ROUTE_WAIT);
        return;
      } else {
        f->route = -1;
        f->stage = ST_ROUTED;
      }
      break;
    case ST_ROUTE_WAIT: {
      json_t *a = take_answer(ex, f);
      if (!a)
        return;
      bool ok = ss__gw_msg_branch(a, &f->route);
      json_decref(a);
      if (!ok) {
        fail(ex, 500, "ENGINE_INVALID_ROUTING",
             "router %s answered /route without a branch index in data", node_name(n));
        return;
      }
      if (!check_route(ex, f))
        return;
      f->stage = ST_ROUTED;
      break;
    }
    case ST_ROUTED:
      if (json_object_set_new(ex->routing, node_name(n), json_integer(f->route)) != 0)
        goto oom;
      if (f->route == -2) { /* return the message as it is now */
        f->agg = json_incref(f->msg);
        f->stage = ST_OUTPUT;
        break;
      }
      f->stage = ST_CHILDREN;
      if (!spawn(ex, f, f->route < 0 ? 0 : (size_t)f->route,
                 f->route < 0 ? n->n_children : 1, f->msg))
        goto oom;
      return; /* the last child to finish runs f again */
    case ST_CHILDREN:
      if (impl_is(n, "AVERAGE_COMBINER")) {
        f->agg = ss__gw_msg_average(f->outs, f->n_outs, why, sizeof why);
        if (!f->agg) {
          fail(ex, 500, "ENGINE_INVALID_COMBINER_RESPONSE", "AVERAGE_COMBINER %s: %s",
               node_name(n), why);
          return;
        }
      } else if (!built_in(n) && n->type == SS_NODE_COMBINER) {
        json_t *req = aggregate_request(f);
        if (!req)
          goto oom;
        issue(ex, f, "/aggregate", req, ST_AGG_WAIT);
        json_decref(req);
        return;
      } else {
        f->agg = ss__gw_msg_writable(json_incref(f->outs[0]));
        if (!f->agg)
          goto oom;
      }
      goto merged;
    case ST_AGG_WAIT:
      if (!(f->agg = take_answer(ex, f)))
        return;
    merged:
      for (size_t i = 0; i < f->n_outs; i++)
        if (ss__gw_msg_merge_tags(f->agg, f->outs[i]) != 0)
          goto oom;
      f->stage = ST_OUTPUT;
      break;
    case ST_OUTPUT:
      if (!built_in(n) && n->type == SS_NODE_OUTPUT_TRANSFORMER) {
        issue(ex, f, "/transform-output", f->agg, ST_OUTPUT_WAIT);
        return;
      }
      deliver(ex, f, json_incref(f->agg));
      return;
    case ST_OUTPUT_WAIT: {
      json_t *out = take_answer(ex, f);
      if (!out)
        return;
      if (ss__gw_msg_merge_tags(out, f->agg) != 0) {
        json_decref(out);
        goto oom;
      }
      deliver(ex, f, out);
      return;
    }
    case FB_BEGIN: {
      if (record_path(ex, n) != 0)
        goto oom;
      f->stage = FB_SELF;
      if (n->n_children == 0)
        break;
      const json_t *recorded = json_object_get(
          json_object_get(json_object_get(json_object_get(ex->fb, "response"), "meta"),
                          "routing"),
          node_name(n));
      f->route = recorded ? json_integer_value(recorded) : -1;
      if (f->route < -2 || f->route >= (long long)n->n_children) {
        fail(ex, 400, "MICROSERVICE_BAD_DATA",
             "body.response.meta.routing.%s: branch %lld, but router %s has %zu children",
             node_name(n), f->route, node_name(n), n->n_children);
        return;
      }
      if (json_object_set_new(ex->routing, node_name(n), json_integer(f->route)) != 0)
        goto oom;
      if (f->route == -2)
        break;
      if (!spawn(ex, f, f->route < 0 ? 0 : (size_t)f->route,
                 f->route < 0 ? n->n_children : 1, f->in))
        goto oom;
      return;
    }
    case FB_SELF:
      if (!built_in(n) && (n->type == SS_NODE_MODEL || n->type == SS_NODE_ROUTER)) {
        issue(ex, f, "/send-feedback", ex->fb, FB_WAIT);
        return;
      }
      deliver(ex, f, NULL);
      return;
    case FB_WAIT:
      if (f->ans) { /* what a component answers to feedback is optional */
        json_t *a = take_answer(ex, f);
        if (!a)
          return;
        int rc = ss__gw_msg_take_metrics(a, ex->metrics);
        const json_t *tags = json_object_get(json_object_get(a, "meta"), "tags");
        if (rc == 0 && json_is_object(tags))
          rc = json_object_update(ex->tags, (json_t *)tags);
        json_decref(a);
        if (rc != 0)
          goto oom;
      }
      deliver(ex, f, NULL);
      return;
    }
  }
oom:
  fail_oom(ex);
}

/* Drains the run queue; re-entered calls (answers given inside call_fn)
 * only queue. */
static void pump(struct ss_gw_exec *ex) {
  if (ex->pumping)
    return;
  ex->pumping = true;
  while (ex->run_head && !ex->done) {
    struct frame *f = ex->run_head;
    ex->run_head = f->run_next;
    if (!ex->run_head)
      ex->run_tail = NULL;
    step(ex, f);
  }
  ex->pumping = false;
}

/* ---- the API ---- */

/* Parses the request; false when the exec has finished (400). */
static bool parse_request(struct ss_gw_exec *ex, const char *body, size_t len, json_t **out) {
  json_error_t je;
  char why[INFO_MAX];
  json_t *root = json_loadb(body ? body : "", body ? len : 0, 0, &je);
  if (!root) {
    fail(ex, 400, "BAD_REQUEST", "malformed JSON at line %d column %d: %s", je.line, je.column,
         je.text);
    return false;
  }
  bool ok = ex->kind == SS_GW_FEEDBACK ? ss__gw_feedback_check(root, why, sizeof why)
                                       : ss__gw_msg_check(root, NULL, why, sizeof why);
  if (!ok) {
    json_decref(root);
    fail(ex, 400, "MICROSERVICE_BAD_DATA", "%s", why);
    return false;
  }
  *out = root;
  return true;
}

struct ss_gw_exec *ss_gw_exec_start_with(const struct ss_graph_node *graph,
                                         enum ss_gw_kind kind, const char *body, size_t len,
                                         const struct ss_gw_exec_config *cfg) {
  struct ss_gw_exec *ex = calloc(1, sizeof *ex);
  if (!ex)
    return NULL;
  ex->graph = graph;
  ex->kind = kind;
  ex->call = cfg->call;
  ex->image_of = cfg->image_of;
  ex->ctx = cfg->ctx;
  ex->rng = ss__gw_rng_seed(cfg->rng_seed);
  ex->arena = ss_arena_new();
  ex->routing = json_object();
  ex->request_path = json_object();
  ex->metrics = json_array();
  ex->tags = json_object();
  if (!ex->arena || !ex->routing || !ex->request_path || !ex->metrics || !ex->tags) {
    ss_gw_exec_free(ex);
    return NULL;
  }
  /* drawn always, so that the rng stream does not depend on the request */
  ss__gw_puid(&ex->rng, ex->made_puid);
  ex->puid = ex->made_puid;
  json_t *req = NULL;
  if (!parse_request(ex, body, len, &req))
    return ex;
  const char *given;
  if (kind == SS_GW_FEEDBACK) {
    ex->fb = req;
    given = ss__gw_msg_puid(json_object_get(req, "response"));
    if (!given)
      given = ss__gw_msg_puid(json_object_get(req, "request"));
  } else {
    given = ss__gw_msg_puid(req);
  }
  if (given && !(ex->puid = ss_arena_strdup(ex->arena, given))) {
    if (kind != SS_GW_FEEDBACK) /* else ex->fb owns it */
      json_decref(req);
    fail_oom(ex);
    return ex;
  }
  struct frame *root;
  if (kind == SS_GW_FEEDBACK) {
    root = frame_new(ex, graph, NULL, 0, NULL);
  } else {
    if (ss__gw_msg_set_puid(req, ex->puid) != 0) {
      json_decref(req);
      fail_oom(ex);
      return ex;
    }
    root = frame_new(ex, graph, NULL, 0, req);
    json_decref(req);
  }
  if (!root) {
    fail_oom(ex);
    return ex;
  }
  run(ex, root);
  pump(ex);
  return ex;
}

struct ss_gw_exec *ss_gw_exec_start(const struct ss_graph_node *graph, enum ss_gw_kind kind,
                                    const char *body, size_t len, uint64_t rng_seed,
                                    ss_gw_call_fn call, void *ctx) {
  struct ss_gw_exec_config cfg = {.call = call, .ctx = ctx, .rng_seed = rng_seed};
  return ss_gw_exec_start_with(graph, kind, body, len, &cfg);
}

/* A non-2xx answer: its status, and its body when it is Seldon's status
 * object, else a status object naming the node. */
static void fail_passthrough(struct ss_gw_exec *ex, const struct call_slot *c, int status,
                             const char *body, size_t len) {
  json_t *j = body ? json_loadb(body, len, 0, NULL) : NULL;
  if (ss__gw_is_status(j)) {
    char *copy = malloc(len + 1);
    json_decref(j);
    if (!copy) {
      fail_oom(ex);
      return;
    }
    memcpy(copy, body, len);
    copy[len] = '\0';
    finish_raw(ex, status, copy);
    return;
  }
  json_decref(j);
  size_t shown = len > ECHO_MAX ? ECHO_MAX : len;
  fail(ex, status, "ENGINE_MICROSERVICE_ERROR", "node %s answered %s with %d: %.*s%s",
       node_name(c->f->node), c->path, status, (int)shown, body ? body : "",
       shown < len ? "..." : "");
}

void ss_gw_exec_complete(struct ss_gw_exec *ex, int call_id, int status, const char *body,
                         size_t len) {
  if (!ex || call_id < 0 || call_id >= ex->n_calls || !ex->calls[call_id].open)
    return;
  struct call_slot *c = &ex->calls[call_id];
  c->open = false;
  if (ex->done)
    return;
  if (status == 0) {
    size_t shown = len > ECHO_MAX ? ECHO_MAX : len;
    fail(ex, 503, "MICROSERVICE_UNAVAILABLE", "node %s: POST %s failed: %.*s",
         node_name(c->f->node), c->path, (int)shown, body ? body : "");
  } else if (status < 100 || status > 599) {
    fail(ex, 502, "ENGINE_MICROSERVICE_ERROR", "node %s answered %s with status %d",
         node_name(c->f->node), c->path, status);
  } else if (status < 200 || status > 299) {
    fail_passthrough(ex, c, status, body, len);
  } else {
    json_error_t je;
    json_t *a = body ? json_loadb(body, len, 0, &je) : NULL;
    bool feedback = strcmp(c->path, "/send-feedback") == 0;
    if (!json_is_object(a) && !feedback) {
      if (a)
        fail(ex, 500, "ENGINE_MICROSERVICE_ERROR",
             "node %s answered %s with JSON that is not a Seldon message", node_name(c->f->node),
             c->path);
      else
        fail(ex, 500, "ENGINE_MICROSERVICE_ERROR",
             "node %s answered %s with malformed JSON at line %d column %d: %s",
             node_name(c->f->node), c->path, body ? je.line : 0, body ? je.column : 0,
             body ? je.text : "no body");
      json_decref(a);
    } else {
      if (!json_is_object(a)) {
        json_decref(a);
        a = NULL;
      }
      c->f->ans = a;
      run(ex, c->f);
    }
  }
  pump(ex);
}

bool ss_gw_exec_done(struct ss_gw_exec *ex, int *status, char **body, size_t *len) {
  if (!ex || !ex->done)
    return false;
  *status = ex->status;
  *body = ex->body ? malloc(ex->len + 1) : NULL;
  *len = *body ? ex->len : 0;
  if (*body)
    memcpy(*body, ex->body, ex->len + 1);
  else if (ex->body)
    *status = 500; /* no memory for the copy */
  return true;
}

void ss_gw_exec_free(struct ss_gw_exec *ex) {
  if (!ex)
    return;
  for (struct frame *f = ex->all; f; f = f->all_next) {
    json_decref(f->in);
    json_decref(f->msg);
    json_decref(f->agg);
    json_decref(f->ans);
    for (size_t i = 0; i < f->n_outs; i++)
      json_decref(f->outs[i]);
  }
  ss_arena_free(ex->arena);
  json_decref(ex->fb);
  json_decref(ex->routing);
  json_decref(ex->request_path);
  json_decref(ex->metrics);
  json_decref(ex->tags);
  free(ex->body);
  free(ex);
}
