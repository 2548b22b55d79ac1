/* graph.h: the inference graph walk, as Seldon's executor does it, as a pure
 * state machine. It never does I/O, reads no clock and keeps no global
 * state: when a node's component must be called it asks its caller
 * (call_fn) to send the request, and the caller feeds the answer back with
 * ss_gw_exec_complete. Built-in implementations (RANDOM_ABTEST,
 * SIMPLE_ROUTER, AVERAGE_COMBINER, SIMPLE_MODEL) run inside and are never
 * called out to.
 *
 * For each node, in order (Seldon's executor, predictor_process.go):
 *   1. transform the input: MODEL -> POST /predict, TRANSFORMER ->
 *      POST /transform-input; other types pass the message through;
 *   2. when the node has children: ROUTER -> POST /route (or the built-in)
 *      gives a child index, read from the first number of the answer's
 *      data ({"data":{"ndarray":[[1]]}}); -1 means every child (in
 *      parallel), -2 means keep the message as it is now (skip the
 *      children and step 3); an index below -2 or past the last child is
 *      a 500 naming the router. Other nodes send to every child. The
 *      children get the transformed message. RANDOM_ABTEST (exactly two
 *      children) picks child 0 with probability of the FLOAT parameter
 *      "ratioA" (default 0.5) drawn from the exec's seeded rng, else 1;
 *   3. COMBINER -> POST /aggregate with {"seldonMessages": [...]} of the
 *      children's outputs in child order (AVERAGE_COMBINER: the element-
 *      wise mean of their data.ndarray or data.tensor, in the first
 *      output's form and with its names); otherwise the first child's
 *      output is kept;
 *   4. OUTPUT_TRANSFORMER -> POST /transform-output (leaves too, as the Go
 *      executor does).
 * Meta as Seldon's engine kept it: meta.tags of a node's output gets the
 * tags of its input (after step 1), of every child output (after step 3)
 * and of the aggregate (after step 4), the later winning; meta.metrics of
 * every component's answer is gathered into the final answer only.
 * The final answer's meta holds puid, tags, routing, requestPath, metrics:
 * meta.routing records the branch of every node with children (node name
 * -> index; -1 for non-routers), meta.requestPath every node the walk
 * entered (node name -> image from image_of, "" for built-ins or without
 * image_of), meta.puid is kept from the request or made (26 of [a-z0-9]
 * from the rng) and set in every message sent to a component that lacks
 * one.
 *
 * Feedback ({"request", "response", "reward", "truth"}) follows the routing
 * recorded in response.meta.routing: at each node with children, the
 * recorded branch (-1, or no record: every child; -2: none; past the last
 * child: 400), children first (in parallel), then POST /send-feedback with
 * the feedback as received to the node itself when it is a MODEL or a
 * ROUTER that is not built in. The answer is {"meta": {puid, tags,
 * routing, requestPath, metrics}}: puid from response.meta.puid (else
 * request.meta.puid, else made), tags and metrics gathered from the
 * components' answers, routing as followed, requestPath the nodes reached.
 * (Seldon's Go executor answers the root component's own answer, or the
 * feedback itself when the root takes none; a fixed shape is easier on
 * clients and does not depend on the graph.)
 *
 * Errors end the walk with Seldon's status object ({"status": {"code",
 * "info", "reason", "status": "FAILURE"}}, code = the HTTP status):
 *   400 BAD_REQUEST            the body is not JSON;
 *   400 MICROSERVICE_BAD_DATA  JSON, but not a SeldonMessage (Feedback);
 *   4xx/5xx from a component   that status; its body as is when it is a
 *                              status object, else wrapped with reason
 *                              ENGINE_MICROSERVICE_ERROR and the node;
 *   503 MICROSERVICE_UNAVAILABLE  a call failed without a status (0);
 *   500 ENGINE_INVALID_ROUTING    a router's answer or index is bad;
 *   500 ENGINE_INVALID_COMBINER_RESPONSE  AVERAGE_COMBINER cannot average;
 *   500 ENGINE_MICROSERVICE_ERROR a 2xx answer that is not a JSON object;
 *   500 ENGINE_TOO_MANY_CALLS     more than SS_GW_MAX_CALLS calls.
 * The info names the node and the path. The first error wins; calls still
 * out are not waited for (their completions are ignored).
 */
#ifndef SS_GATEWAY_GRAPH_H
#define SS_GATEWAY_GRAPH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/sdep.h"

#define SS_GW_MAX_CALLS 256  /* calls one request may make (a bound on odd graphs) */

enum ss_gw_kind { SS_GW_PREDICT, SS_GW_FEEDBACK };

struct ss_gw_exec;

/* Asks the caller to POST body (a NUL-terminated JSON text, borrowed until
 * the call returns; copy it) to path ("/predict", "/transform-input",
 * "/route", "/aggregate", "/transform-output", "/send-feedback") on a
 * replica of node's component. call_id identifies the call in
 * ss_gw_exec_complete. The caller may complete the call from inside this
 * function (synchronously) or later. */
typedef void (*ss_gw_call_fn)(void *ctx, struct ss_gw_exec *ex, int call_id,
                              const struct ss_graph_node *node, const char *path,
                              const char *body, size_t len);

/* The image of a node's component for meta.requestPath (borrowed until the
 * exec is done), or NULL for none (built-ins). */
typedef const char *(*ss_gw_image_fn)(void *ctx, const struct ss_graph_node *node);

struct ss_gw_exec_config {
  ss_gw_call_fn call;       /* required */
  ss_gw_image_fn image_of;  /* may be NULL: requestPath values are "" */
  void *ctx;                /* passed to call and image_of */
  uint64_t rng_seed;        /* feeds RANDOM_ABTEST and puids */
};

/* Starts the walk of graph (borrowed; must outlive the exec) for a request
 * body (borrowed; copied as needed). Returns NULL only when out of memory.
 * A malformed body finishes the exec at once with 400; calls completed
 * synchronously may finish it before this returns. */
struct ss_gw_exec *ss_gw_exec_start_with(const struct ss_graph_node *graph,
                                         enum ss_gw_kind kind, const char *body, size_t len,
                                         const struct ss_gw_exec_config *cfg);

/* ss_gw_exec_start_with without image_of. */
struct ss_gw_exec *ss_gw_exec_start(const struct ss_graph_node *graph, enum ss_gw_kind kind,
                                    const char *body, size_t len, uint64_t rng_seed,
                                    ss_gw_call_fn call, void *ctx);

/* Gives the answer to call call_id: an HTTP status (0 when the call failed
 * without one: connection refused, timeout; then body is an error text).
 * body is borrowed for the call. Each call is completed once; an unknown
 * or already completed call_id, or any call after the walk is done, is
 * ignored. Must not be called after ss_gw_exec_free. */
void ss_gw_exec_complete(struct ss_gw_exec *ex, int call_id, int status, const char *body,
                         size_t len);

/* True once the walk finished; then *status and *body (a malloc'd JSON text
 * the caller frees, a fresh copy on each call; NULL only when out of
 * memory) are the answer to send. Calls may still be out after an error. */
bool ss_gw_exec_done(struct ss_gw_exec *ex, int *status, char **body, size_t *len);

/* Frees the exec; accepts NULL. Calls still out must not be completed
 * afterwards. */
void ss_gw_exec_free(struct ss_gw_exec *ex);

/* Seldon's status object for an error: {"status": {"code", "info", "reason",
 * "status": "FAILURE"}}; a malloc'd JSON text. */
char *ss_gw_error_body(int code, const char *reason, const char *info);

#endif
