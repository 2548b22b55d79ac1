/* internal.h: what the gateway's files share: the endpoint registry, the
 * routing snapshot and the OAuth token table. */
#ifndef SS_GATEWAY_INTERNAL_H
#define SS_GATEWAY_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "common/strmap.h"
#include "gateway/gateway.h"
#include "model/names.h"

/* One replica as the gateway sees it: shared by every snapshot that routes
 * to it and by the upstream connections open to it. */
struct ss__gw_ep {
  char id[SS_GW_ID_MAX];
  int port;
  uint32_t addr;          /* IPv4, network order; 0: loopback */
  _Atomic int inflight;   /* calls sent and not answered */
  _Atomic bool routable;  /* in the latest snapshot, ready */
  /* A connection to it was refused (or never opened) at this monotonic ms:
   * passed over until SS__GW_EP_DOWN_MS later while another replica of its
   * set is up, so that a replica that died is not chosen (least outstanding
   * would favour it: nothing is in flight on it) before the runtime notices. */
  _Atomic int64_t down_since_ms;
  /* A Core 2 model's counters are kept in an endpoint of their own (id
   * "model:<ns>/<name>", never routed), so that they outlive snapshots:
   * inflight then counts the model's requests, last_used_ms (monotonic)
   * when one last arrived. */
  _Atomic int64_t last_used_ms;
  int refs;               /* under the registry mutex */
  struct ss__gw_ep *next; /* registry chain */
};

/* The replicas of one node's component in one snapshot. */
struct ss__gw_target {
  char rs[SS_GW_ID_MAX];  /* the runtime's key */
  char image[SS_IMAGE_LEN];
  struct ss__gw_ep **eps;
  size_t n;
  struct ss_series *client_ok; /* client histogram, code 200 */
  /* pending replica list until publish resolves it */
  struct ss_gw_replica *pending;
  size_t n_pending;
};

struct ss__gw_pred {
  const struct ss_predictor *p;
  /* its graph is one MODEL node: the fast path (fastpath.h) may serve it */
  const struct ss_graph_node *fast_node;
  struct ss__gw_target *targets; /* one per (component, container) */
  size_t *base;                  /* first target of each component */
  size_t n_targets;
  struct ss_series *server_ok[2]; /* predictions, feedback with code 200 */
};

struct ss__gw_dep {
  char ns[SS_NAME_LEN], name[SS_NAME_LEN];
  char key[2 * SS_NAME_LEN];     /* "<ns>/<name>": its key in by_name */
  struct ss_resource *res;       /* the typed graph: owned, or shared's */
  struct ss_gw_res *shared;      /* a reference, when added shared */
  struct ss__gw_pred *preds;
  size_t n_preds;
  int traffic_total;
};

/* seldon_model_infer_total and _seconds_total (code 200), and the
 * replica's aggregates (v2.c). */
struct ss__gw_model_series {
  struct ss_series *count, *secs, *agg, *agg_secs;
};

/* A Seldon Core 2 Model served at /v2/models/{name} (v2.c): the Server
 * replicas it is loaded on. */
struct ss__gw_model {
  char ns[SS_NAME_LEN], name[SS_NAME_LEN], server[SS_NAME_LEN];
  struct ss__gw_target target;   /* rs: the Server's replica set */
  int *ordinals;                 /* server_replica of each pending, then resolved, replica */
  char (*pods)[SS_GW_ID_MAX];    /* pod name of each */
  struct ss__gw_ep *stat;        /* the model's counters (see ss__gw_ep) */
  /* the series a request answered 200 by each resolved replica adds to,
   * looked up once per snapshot */
  struct ss__gw_model_series *ok;
};

struct ss_gw_table {
  _Atomic int refs;
  struct ss__gw_model *models;
  size_t n_models, cap_models;
  struct ss_strmap models_by_name; /* name -> index + 1 (the first namespace's) */
  struct ss__gw_dep *deps;
  size_t n, cap;
  /* key -> index + 1 into deps (which moves as it grows): deployments are
   * looked up by name for each replica set added and each request */
  struct ss_strmap by_name;
  struct ss_gateway *gw;         /* set at publish */
  uint64_t epoch;
};

#define SS__GW_EP_DOWN_MS 1000

struct ss__gw_registry {
  pthread_mutex_t mu;
  struct ss__gw_ep *buckets[1024];
};

/* OAuth client-credentials tokens (oauth.c). A token is bound to its client:
 * the deployment (namespace, name, uid) and its oauth_key and oauth_secret.
 * A check under any other binding fails, so a changed secret or a deployment
 * deleted and recreated under the same name revokes every token issued
 * before. Tokens are looked up in constant time by their SHA-256 digest;
 * each client keeps at most SS_GW_TOKENS_PER_CLIENT live tokens and the
 * table at most SS_GW_MAX_TOKENS: past either, the oldest is evicted, so
 * an issue never fails for lack of room. Thread-safe. */
#define SS_GW_TOKEN_TTL_S 43200      /* 12 h, as Seldon's OAuth gateway issued */
#define SS_GW_TOKENS_PER_CLIENT 1024
#define SS_GW_MAX_TOKENS 100000
#define SS_GW_TOKEN_LEN 64           /* hex characters */
struct ss__gw_oauth_client {
  const char *ns, *name, *uid;       /* uid may be "" */
  const char *key, *secret;
};
struct ss__gw_oauth;
struct ss__gw_oauth *ss__gw_oauth_new(void);
void ss__gw_oauth_free(struct ss__gw_oauth *o);          /* accepts NULL */
/* A new token for cl into out (64 hex + NUL); false only when out of memory
 * or randomness. */
bool ss__gw_oauth_issue(struct ss__gw_oauth *o, const struct ss__gw_oauth_client *cl,
                        int64_t now_s, char out[SS_GW_TOKEN_LEN + 1]);
/* Whether token (len bytes, need not be NUL-terminated) is valid for cl at
 * now_s. */
bool ss__gw_oauth_check(struct ss__gw_oauth *o, const struct ss__gw_oauth_client *cl,
                        const char *token, size_t len, int64_t now_s);
/* Tokens held, expired ones not yet reclaimed included (for tests). */
size_t ss__gw_oauth_count(struct ss__gw_oauth *o);

/* Registry and snapshots (table.c). */
void ss__gw_registry_init(struct ss__gw_registry *r);
void ss__gw_registry_destroy(struct ss__gw_registry *r);
void ss__gw_ep_ref(struct ss__gw_registry *r, struct ss__gw_ep *ep);
void ss__gw_ep_unref(struct ss__gw_registry *r, struct ss__gw_ep *ep);
struct ss__gw_ep *ss__gw_ep_find(struct ss__gw_registry *r, const char *id);
/* Resolves pending replica lists into endpoints; marks routability. */
void ss__gw_table_resolve(struct ss_gw_table *t, struct ss__gw_registry *r,
                          struct ss_metrics *m);
void ss__gw_table_unref(struct ss_gw_table *t, struct ss__gw_registry *r);
const struct ss__gw_dep *ss__gw_table_find(const struct ss_gw_table *t, const char *ns,
                                           const char *name);
/* The Core 2 model called name; NULL when none. */
const struct ss__gw_model *ss__gw_model_find(const struct ss_gw_table *t, const char *name);
/* v2.c: frees a model's entry (r: the registry its endpoints came from, or
 * NULL for an unpublished table); resolves its replicas and series. */
void ss__gw_model_free(struct ss__gw_model *m, struct ss__gw_registry *r);
void ss__gw_models_resolve(struct ss_gw_table *t, struct ss__gw_registry *r,
                           struct ss_metrics *m);
/* Finds or makes the registry's endpoint id, with a reference (under the
 * registry mutex). */
struct ss__gw_ep *ss__gw_ep_take_locked(struct ss__gw_registry *r, const char *id);
/* The ready replicas of tg's pending list become its endpoints, in order
 * (under the registry mutex); from (NULL, or room for n_pending) gets the
 * pending index of each. */
void ss__gw_target_resolve_locked(struct ss__gw_target *tg, struct ss__gw_registry *r,
                                  size_t *from);
/* The registry's endpoint id or NULL, under the registry mutex. */
struct ss__gw_ep *ss__gw_ep_find_locked(struct ss__gw_registry *r, const char *id);

/* The target of the node running container ci of component cc. */
struct ss__gw_target *ss__gw_target_of(const struct ss__gw_pred *p, int component,
                                       int container);

#endif
