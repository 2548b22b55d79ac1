/* test_graph.c: unit tests for src/gateway/graph.c (the inference graph
 * walk) and src/gateway/message.c (Seldon message helpers). The walk is
 * driven by a scripted fake component: each case is a graph, a request, the
 * answers each (node, path) gives, and what must happen: the exact calls in
 * order, the bodies sent, the final status and answer. Every case runs
 * three ways: answers given inside call_fn (synchronously), queued and
 * given later in order, and queued and given later in reverse order.
 *
 * JSON in the tables is written with ' for " (none of it holds a ' of its
 * own) so that it reads as JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/graph.h"
#include "gateway/message.h"

#define N_ELEMS(a) (sizeof(a) / sizeof *(a))
#define MAX_NODES 512
#define MAX_SCRIPT 8

/* ---- JSON with ' for " ---- */

static char *dq(const char *s) {
  char *c = strdup(s);
  assert_non_null(c);
  for (char *p = c; *p; p++)
    if (*p == '\'')
      *p = '"';
  return c;
}

static json_t *j(const char *s) {
  char *c = dq(s);
  json_error_t e;
  json_t *v = json_loads(c, 0, &e);
  if (!v)
    print_error("bad test JSON %s: %s\n", c, e.text);
  free(c);
  assert_non_null(v);
  return v;
}

/* ---- graphs from JSON: {name, type, implementation, parameters,
 * children, image} (image: for requestPath; built-ins have none) ---- */

struct tgraph {
  json_t *doc;
  struct ss_graph_node nodes[MAX_NODES];
  const char *images[MAX_NODES];
  char image_buf[MAX_NODES][64];
  size_t n;
};

static enum ss_node_type type_of(const char *t) {
  static const char *const names[] = {"",       "MODEL",   "TRANSFORMER", "OUTPUT_TRANSFORMER",
                                      "ROUTER", "COMBINER"};
  for (int i = 1; t && i < 6; i++)
    if (strcmp(t, names[i]) == 0)
      return (enum ss_node_type)i;
  return SS_NODE_MODEL;
}

static void build(struct tgraph *g, const json_t *d, struct ss_graph_node *out) {
  size_t self = (size_t)(out - g->nodes);
  out->name = json_string_value(json_object_get(d, "name"));
  out->implementation = json_string_value(json_object_get(d, "implementation"));
  out->type = type_of(json_string_value(json_object_get(d, "type")));
  if (out->implementation && (strcmp(out->implementation, "RANDOM_ABTEST") == 0 ||
                              strcmp(out->implementation, "SIMPLE_ROUTER") == 0))
    out->type = SS_NODE_ROUTER; /* as model/sdep.c decodes them */
  if (out->implementation && strcmp(out->implementation, "AVERAGE_COMBINER") == 0)
    out->type = SS_NODE_COMBINER;
  out->parameters = json_object_get(d, "parameters");
  bool builtin = out->implementation && strcmp(out->implementation, "SKLEARN_SERVER") != 0;
  out->component = out->container = builtin ? -1 : 0;
  if (!builtin) {
    snprintf(g->image_buf[self], sizeof g->image_buf[self], "img/%s", out->name);
    g->images[self] = g->image_buf[self];
  }
  const json_t *kids = json_object_get(d, "children");
  out->n_children = json_array_size(kids);
  out->children = &g->nodes[g->n];
  g->n += out->n_children;
  assert_true(g->n <= MAX_NODES);
  for (size_t i = 0; i < out->n_children; i++)
    build(g, json_array_get(kids, i), &out->children[i]);
}

static struct tgraph *graph_new(const char *text) {
  struct tgraph *g = calloc(1, sizeof *g);
  assert_non_null(g);
  g->doc = j(text);
  g->n = 1;
  build(g, g->doc, &g->nodes[0]);
  return g;
}

static void graph_free(struct tgraph *g) {
  json_decref(g->doc);
  free(g);
}

/* ---- the scripted component ---- */

struct answer {
  const char *node, *path;
  int status;         /* 0: transport failure */
  const char *body;   /* the answer's body; ' for " unless raw */
  const char *expect; /* the body that must be sent, or NULL */
  bool raw;           /* body is sent as written (not JSON) */
};

enum mode { SYNC, FIFO, LIFO };
static const char *const mode_names[] = {"sync", "fifo", "lifo"};

struct queued {
  int id, status;
  char *body;
};

struct fake {
  struct tgraph *g;
  const struct answer *script;
  bool used[MAX_SCRIPT];
  enum mode mode;
  char calls[4096];
  int n_calls;
  char err[1024];     /* the first wrong body sent */
  char sent[4][1024]; /* the first bodies sent */
  struct queued q[SS_GW_MAX_CALLS + 8];
  size_t nq;
};

static const char *image_of(void *ctx, const struct ss_graph_node *node) {
  struct fake *f = ctx;
  return f->g->images[node - f->g->nodes];
}

static void on_call(void *ctx, struct ss_gw_exec *ex, int id, const struct ss_graph_node *node,
                    const char *path, const char *body, size_t len) {
  struct fake *f = ctx;
  assert_int_equal(strlen(body), len);
  size_t used = strlen(f->calls);
  snprintf(f->calls + used, sizeof f->calls - used, "%s%s %s", used ? "; " : "", node->name, path);
  if (f->n_calls < 4)
    snprintf(f->sent[f->n_calls], sizeof f->sent[0], "%s", body);
  f->n_calls++;
  const struct answer *a = NULL;
  for (size_t i = 0; f->script && i < MAX_SCRIPT && f->script[i].node; i++) {
    if (!f->used[i] && strcmp(f->script[i].node, node->name) == 0 &&
        strcmp(f->script[i].path, path) == 0) {
      a = &f->script[i];
      f->used[i] = true;
      break;
    }
  }
  char *text = NULL;
  int status = 404;
  if (a) {
    status = a->status;
    text = a->raw ? strdup(a->body) : dq(a->body);
    if (a->expect && !f->err[0]) {
      json_t *want = j(a->expect), *got = json_loads(body, 0, NULL);
      if (!got || !json_equal(want, got))
        snprintf(f->err, sizeof f->err, "%s %s was sent %s", node->name, path, body);
      json_decref(want);
      json_decref(got);
    }
  } else {
    text = strdup("{'status':{'code':404,'info':'not in the script'}}");
  }
  assert_non_null(text);
  if (f->mode == SYNC) {
    ss_gw_exec_complete(ex, id, status, text, strlen(text));
    free(text);
    return;
  }
  assert_true(f->nq < N_ELEMS(f->q));
  f->q[f->nq++] = (struct queued){id, status, text};
}

/* Runs graph on body; answers queued calls until none is left. */
static struct ss_gw_exec *drive(struct fake *f, enum ss_gw_kind kind, const char *body,
                                uint64_t seed) {
  struct ss_gw_exec_config cfg = {
      .call = on_call, .image_of = image_of, .ctx = f, .rng_seed = seed};
  struct ss_gw_exec *ex = ss_gw_exec_start_with(&f->g->nodes[0], kind, body, strlen(body), &cfg);
  assert_non_null(ex);
  while (f->nq) {
    struct queued q;
    if (f->mode == FIFO) {
      q = f->q[0];
      memmove(f->q, f->q + 1, --f->nq * sizeof *f->q);
    } else {
      q = f->q[--f->nq];
    }
    ss_gw_exec_complete(ex, q.id, q.status, q.body, strlen(q.body));
    free(q.body);
  }
  return ex;
}

/* ---- the cases ---- */

struct exec_case {
  const char *name;
  const char *graph;
  enum ss_gw_kind kind;
  const char *request; /* ' for " */
  struct answer script[MAX_SCRIPT];
  const char *calls;      /* "node path; ..." in order, sync and fifo */
  const char *calls_fifo; /* when fifo differs */
  int status;
  const char *answer;     /* the whole answer, compared as JSON */
  const char *answer_has; /* or a piece of its text */
};

#define REQ "{'meta':{'puid':'p1'},'data':{'ndarray':[[1,2]]}}"
#define REQ_SENT "{'meta':{'puid':'p1'},'data':{'ndarray':[[1,2]]}}"
#define G_ROUTER "{'name':'r','type':'ROUTER','children':[{'name':'a'},{'name':'b'}]}"
#define ANS_A "{'data':{'ndarray':[['a']]}}"
#define ANS_B "{'data':{'ndarray':[['b']]}}"

static const struct exec_case exec_cases[] = {
    {.name = "single MODEL: /predict, meta filled",
     .graph = "{'name':'m','type':'MODEL'}",
     .request = REQ,
     .script = {{.node = "m",
                 .path = "/predict",
                 .status = 200,
                 .body = "{'data':{'names':['c'],'ndarray':[[0.1]]},'meta':{'tags':{'x':1}}}",
                 .expect = REQ_SENT}},
     .calls = "m /predict",
     .status = 200,
     .answer = "{'meta':{'puid':'p1','tags':{'x':1},'routing':{},'requestPath':{'m':'img/m'},"
               "'metrics':[]},'data':{'names':['c'],'ndarray':[[0.1]]}}"},
    {.name = "TRANSFORMER -> MODEL: tags of the input win, metrics gathered, not passed on",
     .graph = "{'name':'t','type':'TRANSFORMER','children':[{'name':'m'}]}",
     .request = "{'meta':{'puid':'p1','tags':{'shared':'req'}},'strData':'hello'}",
     .script = {{.node = "t",
                 .path = "/transform-input",
                 .status = 200,
                 .body = "{'strData':'HELLO','meta':{'tags':{'t':'yes','shared':'t'},"
                         "'metrics':[{'key':'k','type':'COUNTER','value':1}]}}",
                 .expect = "{'meta':{'puid':'p1','tags':{'shared':'req'}},'strData':'hello'}"},
                {.node = "m",
                 .path = "/predict",
                 .status = 200,
                 .body = "{'strData':'out'}",
                 .expect =
                     "{'meta':{'puid':'p1','tags':{'t':'yes','shared':'req'}},'strData':'HELLO'}"}},
     .calls = "t /transform-input; m /predict",
     .status = 200,
     .answer = "{'meta':{'puid':'p1','tags':{'t':'yes','shared':'req'},'routing':{'t':-1},"
               "'requestPath':{'t':'img/t','m':'img/m'},"
               "'metrics':[{'key':'k','type':'COUNTER','value':1}]},'strData':'out'}"},
    {.name = "OUTPUT_TRANSFORMER parent: /transform-output gets the child's output",
     .graph = "{'name':'o','type':'OUTPUT_TRANSFORMER','children':[{'name':'m'}]}",
     .request = REQ,
     .script = {{.node = "m",
                 .path = "/predict",
                 .status = 200,
                 .body = "{'data':{'ndarray':[[5]]}}",
                 .expect = REQ_SENT},
                {.node = "o",
                 .path = "/transform-output",
                 .status = 200,
                 .body = "{'data':{'ndarray':[[6]]},'meta':{'tags':{'o':1}}}",
                 .expect = "{'meta':{'puid':'p1'},'data':{'ndarray':[[5]]}}"}},
     .calls = "m /predict; o /transform-output",
     .status = 200,
     .answer = "{'meta':{'puid':'p1','tags':{'o':1},'routing':{'o':-1},"
               "'requestPath':{'o':'img/o','m':'img/m'},'metrics':[]},"
               "'data':{'ndarray':[[6]]}}"},
    {.name = "ROUTER answers 0",
     .graph = G_ROUTER,
     .request = REQ,
     .script =
         {{.node = "r",
           .path = "/route",
           .status = 200,
           .body = "{'data':{'ndarray':[[0]]}}",
           .expect = REQ_SENT},
          {.node = "a", .path = "/predict", .status = 200, .body = ANS_A, .expect = REQ_SENT}},
     .calls = "r /route; a /predict",
     .status = 200,
     .answer = "{'meta':{'puid':'p1','tags':{},'routing':{'r':0},"
               "'requestPath':{'r':'img/r','a':'img/a'},'metrics':[]},"
               "'data':{'ndarray':[['a']]}}"},
    {.name = "ROUTER answers 1 (as a tensor)",
     .graph = G_ROUTER,
     .request = REQ,
     .script =
         {{.node = "r",
           .path = "/route",
           .status = 200,
           .body = "{'data':{'tensor':{'shape':[1,1],'values':[1]}}}"},
          {.node = "b", .path = "/predict", .status = 200, .body = ANS_B, .expect = REQ_SENT}},
     .calls = "r /route; b /predict",
     .status = 200,
     .answer = "{'meta':{'puid':'p1','tags':{},'routing':{'r':1},"
               "'requestPath':{'r':'img/r','b':'img/b'},'metrics':[]},"
               "'data':{'ndarray':[['b']]}}"},
    {.name = "ROUTER answers -1: every child, the first one's output, tags of all",
     .graph = G_ROUTER,
     .request = REQ,
     .script =
         {{.node = "r", .path = "/route", .status = 200, .body = "{'data':{'ndarray':[[-1]]}}"},
          {.node = "a",
           .path = "/predict",
           .status = 200,
           .body = "{'data':{'ndarray':[['a']]},'meta':{'tags':{'a':1}}}",
           .expect = REQ_SENT},
          {.node = "b",
           .path = "/predict",
           .status = 200,
           .body = "{'data':{'ndarray':[['b']]},'meta':{'tags':{'b':2}}}",
           .expect = REQ_SENT}},
     .calls = "r /route; a /predict; b /predict",
     .status = 200,
     .answer = "{'meta':{'puid':'p1','tags':{'a':1,'b':2},'routing':{'r':-1},"
               "'requestPath':{'r':'img/r','a':'img/a','b':'img/b'},'metrics':[]},"
               "'data':{'ndarray':[['a']]}}"},
    {.name = "ROUTER answers -2: the message as it is, no child called",
     .graph = G_ROUTER,
     .request = REQ,
     .script =
         {{.node = "r", .path = "/route", .status = 200, .body = "{'data':{'ndarray':[[-2]]}}"}},
     .calls = "r /route",
     .status = 200,
     .answer = "{'meta':{'puid':'p1','tags':{},'routing':{'r':-2},"
               "'requestPath':{'r':'img/r'},'metrics':[]},'data':{'ndarray':[[1,2]]}}"},
    {.name = "ROUTER answers past its children: 500 naming it",
     .graph = G_ROUTER,
     .request = REQ,
     .script =
         {{.node = "r", .path = "/route", .status = 200, .body = "{'data':{'ndarray':[[2]]}}"}},
     .calls = "r /route",
     .status = 500,
     .answer = "{'status':{'code':500,'info':'invalid branch index 2 from router r (it has 2 "
               "children)','reason':'ENGINE_INVALID_ROUTING','status':'FAILURE'}}"},
    {.name = "ROUTER answers -3: 500",
     .graph = G_ROUTER,
     .request = REQ,
     .script =
         {{.node = "r", .path = "/route", .status = 200, .body = "{'data':{'ndarray':[[-3]]}}"}},
     .calls = "r /route",
     .status = 500,
     .answer_has = "invalid branch index -3 from router r"},
    {.name = "ROUTER answers no number: 500",
     .graph = G_ROUTER,
     .request = REQ,
     .script =
         {{.node = "r", .path = "/route", .status = 200, .body = "{'data':{'ndarray':[['x']]}}"}},
     .calls = "r /route",
     .status = 500,
     .answer_has = "router r answered /route without a branch index"},
    {.name = "RANDOM_ABTEST ratioA 1.0: always child 0, no call, no image",
     .graph = "{'name':'ab','implementation':'RANDOM_ABTEST','parameters':[{'name':'ratioA',"
              "'value':'1.0','type':'FLOAT'}],'children':[{'name':'a'},{'name':'b'}]}",
     .request = REQ,
     .script =
         {{.node = "a", .path = "/predict", .status = 200, .body = ANS_A, .expect = REQ_SENT}},
     .calls = "a /predict",
     .status = 200,
     .answer = "{'meta':{'puid':'p1','tags':{},'routing':{'ab':0},"
               "'requestPath':{'ab':'','a':'img/a'},'metrics':[]},'data':{'ndarray':[['a']]}}"},
    {.name = "RANDOM_ABTEST ratioA 0.0: always child 1",
     .graph = "{'name':'ab','implementation':'RANDOM_ABTEST','parameters':[{'name':'ratioA',"
              "'value':'0.0','type':'FLOAT'}],'children':[{'name':'a'},{'name':'b'}]}",
     .request = REQ,
     .script =
         {{.node = "b", .path = "/predict", .status = 200, .body = ANS_B, .expect = REQ_SENT}},
     .calls = "b /predict",
     .status = 200,
     .answer = "{'meta':{'puid':'p1','tags':{},'routing':{'ab':1},"
               "'requestPath':{'ab':'','b':'img/b'},'metrics':[]},'data':{'ndarray':[['b']]}}"},
    {.name = "RANDOM_ABTEST with 3 children: 500",
     .graph = "{'name':'ab','implementation':'RANDOM_ABTEST','children':[{'name':'a'},"
              "{'name':'b'},{'name':'c'}]}",
     .request = REQ,
     .calls = "",
     .status = 500,
     .answer_has = "RANDOM_ABTEST router ab needs 2 children, has 3"},
    {.name = "SIMPLE_ROUTER: child 0",
     .graph = "{'name':'sr','implementation':'SIMPLE_ROUTER','children':[{'name':'a'},"
              "{'name':'b'}]}",
     .request = REQ,
     .script = {{.node = "a", .path = "/predict", .status = 200, .body = ANS_A}},
     .calls = "a /predict",
     .status = 200,
     .answer_has = "'routing':{'sr':0}"},
    {.name = "COMBINER: /aggregate gets the children's outputs in child order",
     .graph = "{'name':'c','type':'COMBINER','children':[{'name':'a'},{'name':'b'}]}",
     .request = REQ,
     .script = {{.node = "a",
                 .path = "/predict",
                 .status = 200,
                 .body = "{'data':{'ndarray':[[1]]}}",
                 .expect = REQ_SENT},
                {.node = "b",
                 .path = "/predict",
                 .status = 200,
                 .body = "{'data':{'ndarray':[[3]]}}",
                 .expect = REQ_SENT},
                {.node = "c",
                 .path = "/aggregate",
                 .status = 200,
                 .body = "{'data':{'ndarray':[[2]]}}",
                 .expect = "{'seldonMessages':[{'data':{'ndarray':[[1]]},'meta':{'puid':'p1'}},"
                           "{'data':{'ndarray':[[3]]},'meta':{'puid':'p1'}}]}"}},
     .calls = "a /predict; b /predict; c /aggregate",
     .status = 200,
     .answer = "{'meta':{'puid':'p1','tags':{},'routing':{'c':-1},"
               "'requestPath':{'c':'img/c','a':'img/a','b':'img/b'},'metrics':[]},"
               "'data':{'ndarray':[[2]]}}"},
    {.name = "AVERAGE_COMBINER: element-wise mean, names of the first",
     .graph = "{'name':'avg','implementation':'AVERAGE_COMBINER','children':[{'name':'a'},"
              "{'name':'b'}]}",
     .request = REQ,
     .script = {{.node = "a",
                 .path = "/predict",
                 .status = 200,
                 .body = "{'data':{'names':['x','y'],'ndarray':[[1,2],[0,0]]}}"},
                {.node = "b",
                 .path = "/predict",
                 .status = 200,
                 .body = "{'data':{'names':['p','q'],'ndarray':[[4,3],[1,0.5]]}}"}},
     .calls = "a /predict; b /predict",
     .status = 200,
     .answer = "{'meta':{'puid':'p1','tags':{},'routing':{'avg':-1},"
               "'requestPath':{'avg':'','a':'img/a','b':'img/b'},'metrics':[]},"
               "'data':{'names':['x','y'],'ndarray':[[2.5,2.5],[0.5,0.25]]}}"},
    {.name = "AVERAGE_COMBINER: tensor and ndarray mix, the first's form",
     .graph = "{'name':'avg','implementation':'AVERAGE_COMBINER','children':[{'name':'a'},"
              "{'name':'b'},{'name':'c'}]}",
     .request = REQ,
     .script = {{.node = "a",
                 .path = "/predict",
                 .status = 200,
                 .body = "{'data':{'tensor':{'shape':[1,2],'values':[1,2]}}}"},
                {.node = "b",
                 .path = "/predict",
                 .status = 200,
                 .body = "{'data':{'ndarray':[[2,4]]}}"},
                {.node = "c",
                 .path = "/predict",
                 .status = 200,
                 .body = "{'data':{'tensor':{'shape':[1,2],'values':[3,6]}}}"}},
     .calls = "a /predict; b /predict; c /predict",
     .status = 200,
     .answer = "{'meta':{'puid':'p1','tags':{},'routing':{'avg':-1},"
               "'requestPath':{'avg':'','a':'img/a','b':'img/b','c':'img/c'},'metrics':[]},"
               "'data':{'tensor':{'shape':[1,2],'values':[2.0,4.0]}}}"},
    {.name = "AVERAGE_COMBINER: shapes differ: 500",
     .graph = "{'name':'avg','implementation':'AVERAGE_COMBINER','children':[{'name':'a'},"
              "{'name':'b'}]}",
     .request = REQ,
     .script =
         {{.node = "a", .path = "/predict", .status = 200, .body = "{'data':{'ndarray':[[1,2]]}}"},
          {.node = "b",
           .path = "/predict",
           .status = 200,
           .body = "{'data':{'ndarray':[[1,2,3]]}}"}},
     .calls = "a /predict; b /predict",
     .status = 500,
     .answer =
         "{'status':{'code':500,'info':'AVERAGE_COMBINER avg: child 1: shape differs "
         "from that of child 0','reason':'ENGINE_INVALID_COMBINER_RESPONSE','status':'FAILURE'}}"},
    {.name = "nested: output transformer, transformer, router, combiner",
     .graph = "{'name':'o','type':'OUTPUT_TRANSFORMER','children':[{'name':'t','type':"
              "'TRANSFORMER','children':[{'name':'r','type':'ROUTER','children':[{'name':'a'},"
              "{'name':'c','type':'COMBINER','children':[{'name':'b'},{'name':'d'}]}]}]}]}",
     .request = REQ,
     .script = {{.node = "t",
                 .path = "/transform-input",
                 .status = 200,
                 .body = "{'data':{'ndarray':[[10]]}}",
                 .expect = REQ_SENT},
                {.node = "r",
                 .path = "/route",
                 .status = 200,
                 .body = "{'data':{'ndarray':[[1]]}}",
                 .expect = "{'meta':{'puid':'p1'},'data':{'ndarray':[[10]]}}"},
                {.node = "b",
                 .path = "/predict",
                 .status = 200,
                 .body = "{'data':{'ndarray':[[11]]},'meta':{'tags':{'b':1}}}",
                 .expect = "{'meta':{'puid':'p1'},'data':{'ndarray':[[10]]}}"},
                {.node = "d",
                 .path = "/predict",
                 .status = 200,
                 .body = "{'data':{'ndarray':[[12]]}}",
                 .expect = "{'meta':{'puid':'p1'},'data':{'ndarray':[[10]]}}"},
                {.node = "c",
                 .path = "/aggregate",
                 .status = 200,
                 .body = "{'data':{'ndarray':[[13]]}}",
                 .expect =
                     "{'seldonMessages':[{'data':{'ndarray':[[11]]},'meta':{'puid':'p1','tags':"
                     "{'b':1}}},{'data':{'ndarray':[[12]]},'meta':{'puid':'p1'}}]}"},
                {.node = "o",
                 .path = "/transform-output",
                 .status = 200,
                 .body = "{'data':{'ndarray':[[14]]}}",
                 .expect = "{'data':{'ndarray':[[13]]},'meta':{'puid':'p1','tags':{'b':1}}}"}},
     .calls = "t /transform-input; r /route; b /predict; d /predict; c /aggregate; "
              "o /transform-output",
     .status = 200,
     .answer = "{'meta':{'puid':'p1','tags':{'b':1},'routing':{'o':-1,'t':-1,'r':1,'c':-1},"
               "'requestPath':{'o':'img/o','t':'img/t','r':'img/r','c':'img/c','b':'img/b',"
               "'d':'img/d'},'metrics':[]},'data':{'ndarray':[[14]]}}"},
    {.name = "nested parallel transformers: the walk interleaves",
     .graph = "{'name':'c','type':'COMBINER','children':[{'name':'t1','type':'TRANSFORMER',"
              "'children':[{'name':'m1'}]},{'name':'t2','type':'TRANSFORMER','children':"
              "[{'name':'m2'}]}]}",
     .request = REQ,
     .script =
         {{.node = "t1",
           .path = "/transform-input",
           .status =
               200,
           .body = "{'data':{'ndarray':[[1]]}}"},
          {.node = "t2",
           .path = "/transform-input",
           .status =
               200,
           .body = "{'data':{'ndarray':[[2]]}}"},
          {.node = "m1", .path = "/predict", .status = 200, .body = "{'data':{'ndarray':[[3]]}}"},
          {.node = "m2", .path = "/predict", .status = 200, .body = "{'data':{'ndarray':[[4]]}}"},
          {.node = "c",
           .path = "/aggregate",
           .status = 200,
           .body = "{'data':{'ndarray':[[5]]}}",
           .expect = "{'seldonMessages':[{'data':{'ndarray':[[3]]},'meta':{'puid':'p1'}},"
                     "{'data':{'ndarray':[[4]]},'meta':{'puid':'p1'}}]}"}},
     .calls = "t1 /transform-input; t2 /transform-input; m1 /predict; m2 /predict; "
              "c /aggregate",
     .status = 200,
     .answer_has = "'data':{'ndarray':[[5]]}"},
    {.name = "failing component: its Seldon status object and code passed through",
     .graph = "{'name':'t','type':'TRANSFORMER','children':[{'name':'m'}]}",
     .request = REQ,
     .script = {{.node = "t",
                 .path = "/transform-input",
                 .status = 400,
                 .body = "{'status':{'code':-1,'info':'bad input','reason':'MICROSERVICE_BAD_DATA',"
                         "'status':1}}"}},
     .calls = "t /transform-input",
     .status = 400,
     .answer = "{'status':{'code':-1,'info':'bad input','reason':'MICROSERVICE_BAD_DATA',"
               "'status':1}}"},
    {.name = "failing component 500 with text: wrapped, naming the node",
     .graph = "{'name':'m'}",
     .request = REQ,
     .script = {{.node = "m",
                 .path = "/predict",
                 .status = 500,
                 .body = "Internal Server Error",
                 .expect = NULL,
                 .raw = true}},
     .calls = "m /predict",
     .status = 500,
     .answer = "{'status':{'code':500,'info':'node m answered /predict with 500: Internal "
               "Server Error','reason':'ENGINE_MICROSERVICE_ERROR','status':'FAILURE'}}"},
    {.name = "failing child of a combiner: the sibling's answer is ignored",
     .graph = "{'name':'c','type':'COMBINER','children':[{'name':'a'},{'name':'b'}]}",
     .request = REQ,
     .script = {{.node = "a",
                 .path = "/predict",
                 .status = 500,
                 .body = "{'status':{'code':500,'info':'a broke','reason':'X',"
                         "'status':'FAILURE'}}"},
                {.node = "b", .path = "/predict", .status = 200, .body = ANS_B}},
     .calls = "a /predict",
     .calls_fifo = "a /predict; b /predict",
     .status = 500,
     .answer = "{'status':{'code':500,'info':'a broke','reason':'X','status':'FAILURE'}}"},
    {.name = "transport failure: 503 naming the node",
     .graph = "{'name':'t','type':'TRANSFORMER','children':[{'name':'m'}]}",
     .request = REQ,
     .script = {{.node = "t",
                 .path = "/transform-input",
                 .status = 200,
                 .body = "{'data':{'ndarray':[[1]]}}"},
                {.node = "m",
                 .path = "/predict",
                 .status = 0,
                 .body = "connection refused",
                 .expect = NULL,
                 .raw = true}},
     .calls = "t /transform-input; m /predict",
     .status = 503,
     .answer = "{'status':{'code':503,'info':'node m: POST /predict failed: connection "
               "refused','reason':'MICROSERVICE_UNAVAILABLE','status':'FAILURE'}}"},
    {.name = "component answers 200 with a body that is not JSON: 500",
     .graph = "{'name':'m'}",
     .request = REQ,
     .script = {{.node = "m",
                 .path = "/predict",
                 .status = 200,
                 .body = "<html>",
                 .expect = NULL,
                 .raw = true}},
     .calls = "m /predict",
     .status = 500,
     .answer_has = "node m answered /predict with malformed JSON"},
    {.name = "malformed JSON: 400, no call",
     .graph = "{'name':'m'}",
     .request = "{'data':",
     .calls = "",
     .status = 400,
     .answer_has = "'code':400,'info':'malformed JSON at line 1"},
    {.name = "JSON that is not a message: 400 MICROSERVICE_BAD_DATA",
     .graph = "{'name':'m'}",
     .request = "[1,2]",
     .calls = "",
     .status = 400,
     .answer = "{'status':{'code':400,'info':'body: a Seldon message must be a JSON object',"
               "'reason':'MICROSERVICE_BAD_DATA','status':'FAILURE'}}"},
    {.name = "two payloads: 400",
     .graph = "{'name':'m'}",
     .request = "{'data':{'ndarray':[1]},'strData':'x'}",
     .calls = "",
     .status = 400,
     .answer_has = "has both data and strData"},
    {.name = "tensor values do not fill its shape: 400",
     .graph = "{'name':'m'}",
     .request = "{'data':{'tensor':{'shape':[2,2],'values':[1,2,3]}}}",
     .calls = "",
     .status = 400,
     .answer_has = "body.data.tensor: shape holds 4 values but values has 3"},
    {.name = "binData and jsonData pass through as they are",
     .graph = "{'name':'t','type':'TRANSFORMER','children':[{'name':'m'}]}",
     .request = "{'meta':{'puid':'p1'},'binData':'AAEC'}",
     .script = {{.node = "t",
                 .path = "/transform-input",
                 .status = 200,
                 .body = "{'jsonData':{'k':[1,0.1,'s']}}",
                 .expect = "{'meta':{'puid':'p1'},'binData':'AAEC'}"},
                {.node = "m",
                 .path = "/predict",
                 .status = 200,
                 .body = "{'jsonData':{'ok':true}}",
                 .expect = "{'meta':{'puid':'p1'},'jsonData':{'k':[1,0.1,'s']}}"}},
     .calls = "t /transform-input; m /predict",
     .status = 200,
     .answer_has = "'jsonData':{'ok':true}"},
    {.name = "feedback follows response.meta.routing: child then router",
     .graph = G_ROUTER,
     .kind = SS_GW_FEEDBACK,
     .request = "{'request':{'data':{'ndarray':[[1]]}},'response':{'meta':{'puid':'p9',"
                "'routing':{'r':1}},'data':{'ndarray':[[0.5]]}},'reward':1}",
     .script = {{.node = "b",
                 .path = "/send-feedback",
                 .status = 200,
                 .body = "{'meta':{'tags':{'learned':true}}}",
                 .expect = "{'request':{'data':{'ndarray':[[1]]}},'response':{'meta':{'puid':'p9',"
                           "'routing':{'r':1}},'data':{'ndarray':[[0.5]]}},'reward':1}"},
                {.node = "r", .path = "/send-feedback", .status = 200, .body = "{}"}},
     .calls = "b /send-feedback; r /send-feedback",
     .status = 200,
     .answer = "{'meta':{'puid':'p9','tags':{'learned':true},'routing':{'r':1},"
               "'requestPath':{'r':'img/r','b':'img/b'},'metrics':[]}}"},
    {.name = "feedback without a recorded route: every child",
     .graph = G_ROUTER,
     .kind = SS_GW_FEEDBACK,
     .request = "{'request':{'meta':{'puid':'q'},'data':{'ndarray':[[1]]}},'reward':0}",
     .script = {{.node = "a", .path = "/send-feedback", .status = 200, .body = "{}"},
                {.node = "b",
                 .path = "/send-feedback",
                 .status = 200,
                 .body = "",
                 .expect = NULL,
                 .raw = true},
                {.node = "r", .path = "/send-feedback", .status = 200, .body = "{}"}},
     .calls = "a /send-feedback; b /send-feedback; r /send-feedback",
     .status = 200,
     .answer = "{'meta':{'puid':'q','tags':{},'routing':{'r':-1},"
               "'requestPath':{'r':'img/r','a':'img/a','b':'img/b'},'metrics':[]}}"},
    {.name = "feedback through a built-in router and a transformer: models only",
     .graph = "{'name':'ab','implementation':'RANDOM_ABTEST','children':[{'name':'a'},"
              "{'name':'t','type':'TRANSFORMER','children':[{'name':'m'}]}]}",
     .kind = SS_GW_FEEDBACK,
     .request = "{'response':{'meta':{'puid':'p','routing':{'ab':1,'t':-1}}},'reward':1}",
     .script = {{.node = "m", .path = "/send-feedback", .status = 200, .body = "{}"}},
     .calls = "m /send-feedback",
     .status = 200,
     .answer = "{'meta':{'puid':'p','tags':{},'routing':{'ab':1,'t':-1},"
               "'requestPath':{'ab':'','t':'img/t','m':'img/m'},'metrics':[]}}"},
    {.name = "feedback with a route past the children: 400",
     .graph = G_ROUTER,
     .kind = SS_GW_FEEDBACK,
     .request = "{'response':{'meta':{'routing':{'r':7}}},'reward':1}",
     .calls = "",
     .status = 400,
     .answer_has = "branch 7, but router r has 2 children"},
    {.name = "feedback failing at the model: its status",
     .graph = "{'name':'m'}",
     .kind = SS_GW_FEEDBACK,
     .request = "{'reward':1}",
     .script = {{.node = "m",
                 .path = "/send-feedback",
                 .status = 0,
                 .body = "timeout",
                 .expect = NULL,
                 .raw = true}},
     .calls = "m /send-feedback",
     .status = 503,
     .answer_has = "node m: POST /send-feedback failed: timeout"},
    {.name = "feedback that is not one: 400",
     .graph = "{'name':'m'}",
     .kind = SS_GW_FEEDBACK,
     .request = "{'reward':'lots'}",
     .calls = "",
     .status = 400,
     .answer_has = "body.reward: must be a number"},
};

static void run_case(const struct exec_case *c, enum mode mode) {
  struct fake f = {.g = graph_new(c->graph), .script = c->script, .mode = mode};
  char *req = dq(c->request);
  struct ss_gw_exec *ex = drive(&f, c->kind, req, 42);
  int status = 0;
  char *body = NULL;
  size_t len = 0;
  bool done = ss_gw_exec_done(ex, &status, &body, &len);
  if (!done)
    fail_msg("%s (%s): the walk did not finish; calls: %s", c->name, mode_names[mode], f.calls);
  const char *want_calls = mode == FIFO && c->calls_fifo ? c->calls_fifo : c->calls;
  if (mode != LIFO && strcmp(f.calls, want_calls) != 0)
    fail_msg("%s (%s): calls\n  got:  %s\n  want: %s", c->name, mode_names[mode], f.calls,
             want_calls);
  if (f.err[0])
    fail_msg("%s (%s): %s", c->name, mode_names[mode], f.err);
  if (status != c->status)
    fail_msg("%s (%s): status %d, want %d: %s", c->name, mode_names[mode], status, c->status, body);
  assert_non_null(body);
  assert_int_equal(strlen(body), len);
  if (c->answer) {
    json_t *want = j(c->answer), *got = json_loads(body, 0, NULL);
    if (!got || !json_equal(want, got)) {
      char *w = json_dumps(want, JSON_COMPACT);
      fail_msg("%s (%s): answer\n  got:  %s\n  want: %s", c->name, mode_names[mode], body, w);
    }
    json_decref(want);
    json_decref(got);
  }
  if (c->answer_has) {
    char *has = dq(c->answer_has);
    if (!strstr(body, has))
      fail_msg("%s (%s): answer %s lacks %s", c->name, mode_names[mode], body, has);
    free(has);
  }
  free(body);
  free(req);
  ss_gw_exec_free(ex);
  graph_free(f.g);
}

static void test_exec_cases_sync(void **state) {
  (void)state;
  for (size_t i = 0; i < N_ELEMS(exec_cases); i++)
    run_case(&exec_cases[i], SYNC);
}

static void test_exec_cases_queued_in_order(void **state) {
  (void)state;
  for (size_t i = 0; i < N_ELEMS(exec_cases); i++)
    run_case(&exec_cases[i], FIFO);
}

static void test_exec_cases_queued_reversed(void **state) {
  (void)state;
  for (size_t i = 0; i < N_ELEMS(exec_cases); i++)
    run_case(&exec_cases[i], LIFO);
}

/* ---- RANDOM_ABTEST proportions ---- */

static int ab_share(const char *ratio, int runs) {
  char g[512];
  snprintf(g, sizeof g,
           "{'name':'ab','implementation':'RANDOM_ABTEST',%s'children':[{'name':'a'},"
           "{'name':'b'}]}",
           ratio);
  const struct answer script[] = {{.node = "a", .path = "/predict", .status = 200, .body = ANS_A},
                                  {.node = "b", .path = "/predict", .status = 200, .body = ANS_B},
                                  {0}};
  struct tgraph *tg = graph_new(g);
  int to_a = 0;
  for (int seed = 0; seed < runs; seed++) {
    struct fake f = {.g = tg, .script = script, .mode = SYNC};
    struct ss_gw_exec *ex = drive(&f, SS_GW_PREDICT, "{}", (uint64_t)seed);
    int status;
    char *body;
    size_t len;
    assert_true(ss_gw_exec_done(ex, &status, &body, &len));
    assert_int_equal(status, 200);
    to_a += strcmp(f.calls, "a /predict") == 0;
    assert_true(strcmp(f.calls, "a /predict") == 0 || strcmp(f.calls, "b /predict") == 0);
    free(body);
    ss_gw_exec_free(ex);
  }
  graph_free(tg);
  return to_a;
}

static void test_random_abtest_split(void **state) {
  (void)state;
  /* 10000 Bernoulli(p) draws: sd <= 50, so +-250 is five sd */
  int a = ab_share("", 10000);
  if (a < 4750 || a > 5250)
    fail_msg("default ratioA 0.5 sent %d of 10000 to child 0", a);
  a = ab_share("'parameters':[{'name':'ratioA','value':'0.25','type':'FLOAT'}],", 10000);
  if (a < 2250 || a > 2750)
    fail_msg("ratioA 0.25 sent %d of 10000 to child 0", a);
  assert_int_equal(ab_share("'parameters':[{'name':'ratioA','value':'1.0','type':'FLOAT'}],", 500),
                   500);
  assert_int_equal(ab_share("'parameters':[{'name':'ratioA','value':'0.0','type':'FLOAT'}],", 500),
                   0);
  /* the same seed, the same choice */
  assert_int_equal(ab_share("", 1), ab_share("", 1));
}

/* ---- puids ---- */

/* The puid of the answer to request; *sent gets the body m was sent. */
static char *puid_of(uint64_t seed, const char *request, char sent[1024]) {
  struct tgraph *tg = graph_new("{'name':'m'}");
  const struct answer script[] = {
      {.node = "m", .path = "/predict", .status = 200, .body = "{'data':{'ndarray':[1]}}"}, {0}};
  struct fake f = {.g = tg, .script = script, .mode = FIFO};
  struct ss_gw_exec_config cfg = {.call = on_call, .ctx = &f, .rng_seed = seed};
  struct ss_gw_exec *ex =
      ss_gw_exec_start_with(&tg->nodes[0], SS_GW_PREDICT, request, strlen(request), &cfg);
  assert_non_null(ex);
  assert_int_equal(f.nq, 1);
  ss_gw_exec_complete(ex, f.q[0].id, f.q[0].status, f.q[0].body, strlen(f.q[0].body));
  free(f.q[0].body);
  int status;
  char *body;
  size_t len;
  assert_true(ss_gw_exec_done(ex, &status, &body, &len));
  assert_int_equal(status, 200);
  json_t *ans = json_loads(body, 0, NULL);
  char *puid = strdup(json_string_value(json_object_get(json_object_get(ans, "meta"), "puid")));
  /* no image_of: requestPath values are "" */
  assert_string_equal(json_string_value(json_object_get(
                          json_object_get(json_object_get(ans, "meta"), "requestPath"), "m")),
                      "");
  assert_string_equal(f.calls, "m /predict");
  snprintf(sent, 1024, "%s", f.sent[0]);
  json_decref(ans);
  free(body);
  ss_gw_exec_free(ex);
  graph_free(tg);
  return puid;
}

static void test_puid_generated_or_kept(void **state) {
  (void)state;
  char sent[1024], want[1024];
  char *p1 = puid_of(1, "{\"data\":{\"ndarray\":[1]}}", sent);
  snprintf(want, sizeof want, "{\"data\":{\"ndarray\":[1]},\"meta\":{\"puid\":\"%s\"}}", p1);
  assert_string_equal(sent, want); /* the made puid goes to the component */
  assert_int_equal(strlen(p1), SS_GW_PUID_LEN);
  assert_int_equal(strspn(p1, "abcdefghijklmnopqrstuvwxyz0123456789"), SS_GW_PUID_LEN);
  char *p1b = puid_of(1, "{}", sent);
  char *p2 = puid_of(2, "{}", sent);
  assert_string_equal(p1, p1b);
  assert_string_not_equal(p1, p2);
  char *kept = puid_of(1, "{\"meta\":{\"puid\":\"a-longer-puid-than-twenty-six-chars\"}}", sent);
  assert_string_equal(kept, "a-longer-puid-than-twenty-six-chars");
  free(p1);
  free(p1b);
  free(p2);
  free(kept);
}

static void test_puid_set_in_answers_passed_on(void **state) {
  (void)state;
  /* t answers without meta: m still gets the request's puid */
  struct tgraph *tg = graph_new("{'name':'t','type':'TRANSFORMER','children':[{'name':'m'}]}");
  const struct answer script[] = {
      {.node = "t", .path = "/transform-input", .status = 200, .body = "{'data':{'ndarray':[2]}}"},
      {.node = "m", .path = "/predict", .status = 200, .body = "{}"},
      {0}};
  struct fake f = {.g = tg, .script = script, .mode = FIFO};
  struct ss_gw_exec *ex = drive(&f, SS_GW_PREDICT, "{\"data\":{\"ndarray\":[1]}}", 7);
  int status;
  char *body;
  size_t len;
  assert_true(ss_gw_exec_done(ex, &status, &body, &len));
  assert_int_equal(status, 200);
  json_t *ans = json_loads(body, 0, NULL), *to_m = json_loads(f.sent[1], 0, NULL);
  const char *puid = ss__gw_msg_puid(ans);
  assert_non_null(puid);
  assert_string_equal(ss__gw_msg_puid(to_m), puid);
  json_decref(ans);
  json_decref(to_m);
  free(body);
  ss_gw_exec_free(ex);
  graph_free(tg);
}

/* ---- the bound on calls ---- */

/* The fake for test_call_bound_chain: every call answers {} at once. */
static void always_ok(void *ctx, struct ss_gw_exec *ex, int id, const struct ss_graph_node *node,
                      const char *path, const char *body, size_t len) {
  (void)node;
  (void)path;
  (void)body;
  (void)len;
  (*(int *)ctx)++;
  ss_gw_exec_complete(ex, id, 200, "{}", 2);
}

static void test_call_bound_chain(void **state) {
  (void)state;
  enum { CHAIN = 300 };
  struct ss_graph_node *nodes = calloc(CHAIN, sizeof *nodes);
  assert_non_null(nodes);
  static char names[CHAIN][8];
  for (size_t i = 0; i < CHAIN; i++) {
    snprintf(names[i], sizeof names[i], "m%zu", i);
    nodes[i].name = names[i];
    nodes[i].type = SS_NODE_MODEL;
    nodes[i].children = i + 1 < CHAIN ? &nodes[i + 1] : NULL;
    nodes[i].n_children = i + 1 < CHAIN ? 1 : 0;
  }
  int calls = 0;
  struct ss_gw_exec *ex = ss_gw_exec_start(nodes, SS_GW_PREDICT, "{}", 2, 1, always_ok, &calls);
  int status;
  char *body;
  size_t len;
  assert_true(ss_gw_exec_done(ex, &status, &body, &len));
  assert_int_equal(calls, SS_GW_MAX_CALLS);
  assert_int_equal(status, 500);
  assert_non_null(strstr(body, "ENGINE_TOO_MANY_CALLS"));
  free(body);
  ss_gw_exec_free(ex);
  /* within the bound the chain finishes */
  nodes[SS_GW_MAX_CALLS - 1].n_children = 0;
  calls = 0;
  ex = ss_gw_exec_start(nodes, SS_GW_PREDICT, "{}", 2, 1, always_ok, &calls);
  assert_true(ss_gw_exec_done(ex, &status, &body, &len));
  assert_int_equal(calls, SS_GW_MAX_CALLS);
  assert_int_equal(status, 200);
  free(body);
  ss_gw_exec_free(ex);
  free(nodes);
}

/* ---- completions the exec must ignore ---- */

static void keep_ids(void *ctx, struct ss_gw_exec *ex, int id, const struct ss_graph_node *node,
                     const char *path, const char *body, size_t len) {
  (void)ex;
  (void)node;
  (void)path;
  (void)body;
  (void)len;
  int *ids = ctx;
  ids[ids[0] + 1] = id;
  ids[0]++;
}

static void test_stray_completions_ignored(void **state) {
  (void)state;
  struct tgraph *tg = graph_new("{'name':'c','type':'COMBINER','children':[{'name':'a'},"
                                "{'name':'b'}]}");
  int ids[8] = {0};
  struct ss_gw_exec *ex = ss_gw_exec_start(&tg->nodes[0], SS_GW_PREDICT, "{}", 2, 3, keep_ids, ids);
  assert_int_equal(ids[0], 2);
  int status;
  char *body;
  size_t len;
  assert_false(ss_gw_exec_done(ex, &status, &body, &len));
  ss_gw_exec_complete(ex, 99, 200, "{}", 2); /* unknown */
  ss_gw_exec_complete(ex, -1, 200, "{}", 2); /* unknown */
  ss_gw_exec_complete(ex, ids[1], 200, "{\"data\":{\"ndarray\":[1]}}", 24);
  ss_gw_exec_complete(ex, ids[1], 500, "again", 5); /* twice */
  assert_false(ss_gw_exec_done(ex, &status, &body, &len));
  ss_gw_exec_complete(ex, ids[2], 503, "x", 1);
  assert_true(ss_gw_exec_done(ex, &status, &body, &len));
  assert_int_equal(status, 503);
  free(body);
  ss_gw_exec_complete(ex, ids[2], 200, "{}", 2); /* after the end */
  assert_true(ss_gw_exec_done(ex, &status, &body, &len));
  assert_int_equal(status, 503); /* unchanged; a fresh copy each time */
  free(body);
  ss_gw_exec_free(ex);
  ss_gw_exec_free(NULL);
  graph_free(tg);
}

/* ---- message helpers ---- */

static void test_error_body(void **state) {
  (void)state;
  char *b = ss_gw_error_body(400, "BAD_REQUEST", "say \"why\"\n");
  assert_string_equal(b, "{\"status\":{\"code\":400,\"info\":\"say \\\"why\\\"\\n\","
                         "\"reason\":\"BAD_REQUEST\",\"status\":\"FAILURE\"}}");
  free(b);
}

static void test_dump_shortest_reals(void **state) {
  (void)state;
  json_t *v =
      json_loads("[0.1,1.5,0.30000000000000004,1e300,2.0,-0.0,1,\"\\u0001\\u00e9\"]", 0, NULL);
  size_t len;
  char *s = ss__gw_dump(v, &len);
  assert_string_equal(s, "[0.1,1.5,0.30000000000000004,1e+300,2.0,-0.0,1,\"\\u0001\xc3\xa9\"]");
  assert_int_equal(len, strlen(s));
  json_t *back = json_loads(s, 0, NULL);
  assert_true(json_equal(v, back));
  json_decref(back);
  json_decref(v);
  free(s);
}

struct form_case {
  const char *msg;
  bool ok;
  enum ss__gw_form form;
};

static const struct form_case form_cases[] = {
    {"{'data':{'ndarray':[[1,2]]}}", true, SS_GW_FORM_NDARRAY},
    {"{'data':{'names':['a','b'],'ndarray':[[1,2]]}}", true, SS_GW_FORM_NDARRAY},
    {"{'data':{'tensor':{'shape':[1,2],'values':[1,2]}}}", true, SS_GW_FORM_TENSOR},
    {"{'data':{'names':['a']}}", true, SS_GW_FORM_NAMES},
    {"{'strData':'x'}", true, SS_GW_FORM_STRDATA},
    {"{'jsonData':[1,{'a':null}]}", true, SS_GW_FORM_JSONDATA},
    {"{'binData':'AAEC'}", true, SS_GW_FORM_BINDATA},
    {"{'meta':{'puid':'p','tags':{'a':1},'routing':{'r':0}}}", true, SS_GW_FORM_NONE},
    {"{}", true, SS_GW_FORM_NONE},
    {"{'data':{'ndarray':1}}", false, 0},
    {"{'data':{'ndarray':[1],'tensor':{'shape':[1],'values':[1]}}}", false, 0},
    {"{'data':{'names':[1]}}", false, 0},
    {"{'data':{'tensor':{'shape':[-1],'values':[]}}}", false, 0},
    {"{'data':{'tensor':{'shape':[1],'values':['x']}}}", false, 0},
    {"{'data':[1]}", false, 0},
    {"{'strData':1}", false, 0},
    {"{'binData':{}}", false, 0},
    {"{'strData':'a','binData':'b'}", false, 0},
    {"{'meta':[]}", false, 0},
    {"{'meta':{'puid':1}}", false, 0},
    {"{'meta':{'routing':{'r':'x'}}}", false, 0},
    {"[1]", false, 0},
};

static void test_message_forms(void **state) {
  (void)state;
  for (size_t i = 0; i < N_ELEMS(form_cases); i++) {
    json_t *m = j(form_cases[i].msg);
    enum ss__gw_form form = (enum ss__gw_form) - 1;
    char why[256] = "";
    bool ok = ss__gw_msg_check(m, &form, why, sizeof why);
    if (ok != form_cases[i].ok)
      fail_msg("%s: check gave %d (%s)", form_cases[i].msg, ok, why);
    if (ok && form != form_cases[i].form)
      fail_msg("%s: form %d, want %d", form_cases[i].msg, form, form_cases[i].form);
    if (!ok && !why[0])
      fail_msg("%s: rejected without a reason", form_cases[i].msg);
    json_decref(m);
  }
}

static void test_branch_and_average(void **state) {
  (void)state;
  long long b = 99;
  json_t *m = j("{'data':{'ndarray':[[3]]}}");
  assert_true(ss__gw_msg_branch(m, &b));
  assert_int_equal(b, 3);
  json_decref(m);
  m = j("{'data':{'ndarray':[1.5]}}");
  assert_false(ss__gw_msg_branch(m, &b));
  json_decref(m);
  m = j("{'data':{'ndarray':[]}}");
  assert_false(ss__gw_msg_branch(m, &b));
  json_decref(m);

  json_t *msgs[2] = {j("{'data':{'ndarray':[[1,2],[3]]}}"), j("{'data':{'ndarray':[[1,2]]}}")};
  char why[256];
  json_t *avg = ss__gw_msg_average(msgs, 1, why, sizeof why);
  assert_null(avg); /* ragged */
  assert_non_null(strstr(why, "not rectangular"));
  json_decref(msgs[0]);
  msgs[0] = j("{'data':{'ndarray':[['a','b']]}}");
  avg = ss__gw_msg_average(msgs, 2, why, sizeof why);
  assert_null(avg);
  assert_non_null(strstr(why, "child 0: ndarray holds a value that is not a number"));
  json_decref(msgs[0]);
  json_decref(msgs[1]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_exec_cases_sync),
      cmocka_unit_test(test_exec_cases_queued_in_order),
      cmocka_unit_test(test_exec_cases_queued_reversed),
      cmocka_unit_test(test_random_abtest_split),
      cmocka_unit_test(test_puid_generated_or_kept),
      cmocka_unit_test(test_puid_set_in_answers_passed_on),
      cmocka_unit_test(test_call_bound_chain),
      cmocka_unit_test(test_stray_completions_ignored),
      cmocka_unit_test(test_error_body),
      cmocka_unit_test(test_dump_shortest_reals),
      cmocka_unit_test(test_message_forms),
      cmocka_unit_test(test_branch_and_average),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
