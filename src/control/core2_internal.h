/* core2_internal.h: what the Core 2 controller's files share (core2.c:
 * the pass, Servers and placement; core2_load.c: loads and unloads;
 * core2_status.c: status; core2_scale.c: native autoscaling). Everything
 * here is touched from the reconciler's thread only. */
#ifndef SS_CONTROL_CORE2_INTERNAL_H
#define SS_CONTROL_CORE2_INTERNAL_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>

#include "control/core2.h"
#include "core2/scaling.h"
#include "core2/schedule.h"
#include "model/names.h"

#define MAX_COPIES (2 * SS_C2_MAX_REPLICAS) /* where a model is, moving included */
#define LOAD_TIMEOUT_MS 120000              /* a load (a Python runtime's first import) */
#define RETRY_MS 30000        /* a failed load is tried again after this, or on a change */
#define UNROUTE_GRACE_MS 2000 /* out of the routes this long (or idle) before unloading */
#define DEFAULT_CAPACITY ((int64_t)1 << 30) /* a Server replica's memory for models */
#define MLSERVER_TAG SS_MLSERVER_IMAGE ":1.6.1"

struct slot { /* one replica of a Server, by ordinal */
  bool used, ready;
  char id[SS_REPLICA_ID_LEN];
  int port;
  pid_t pid;
};

struct server {
  char ns[SS_NAME_LEN], name[SS_NAME_LEN], rs[SS_RS_NAME_LEN];
  json_t *obj;    /* as stored (a reference) */
  json_t *caps;   /* capabilities */
  json_t *labels; /* its pods' */
  int64_t capacity, gen;
  bool ok, have_t, seen;
  char why[256];
  int spec, min, max; /* min, max: -1 when unset */
  int keep;           /* replicas run: spec, more while some drain */
  struct ss_rs_template t;
  struct slot slots[SS_C2_MAX_REPLICAS];
  int64_t next_scale_ms;
};

enum cstate { C_LOADING, C_LOADED, C_RETIRING, C_UNLOADING, C_FAILED };

struct xfer;

struct copy { /* a model on one server replica */
  char server[SS_NAME_LEN], replica[SS_REPLICA_ID_LEN];
  pid_t pid;
  enum cstate st;
  int64_t since_ms;
  uint64_t sig;   /* what was loaded (load_sig) */
  struct xfer *x; /* the call in flight; NULL: none */
};

struct model {
  char ns[SS_NAME_LEN], name[SS_NAME_LEN], uid[64];
  json_t *obj;
  int64_t memory;
  uint64_t sig; /* load_sig of the stored spec */
  struct copy copies[MAX_COPIES];
  size_t n;
  bool placed, seen, announced;
  char sched_msg[256], fail[256], last_reason[32];
  int64_t retry_at_ms, stable_since_ms, next_scale_ms;
  struct ss_c2_lag lag; /* its agents' inference lag (core2/scaling.h) */
  int last_available;
};

struct xfer {
  CURL *h;
  struct curl_slist *hdr;
  char *body, *resp;
  size_t resp_len;
  char uid[64], replica[SS_REPLICA_ID_LEN];
  bool load;
  struct xfer *next; /* in the orphans: a deleted model's unload */
};

struct ss_core2 {
  struct ss_core2_config cfg;
  struct ss_c2_scaling_settings scaling;
  CURLM *multi;
  struct server **servers;
  size_t n_servers, cap_servers;
  struct model **models;
  size_t n_models, cap_models;
  struct xfer *orphans; /* unloads of deleted models, in flight */
  /* the gauges set by the last pass (released when a pass sets them no
   * more: a model unloaded, a replica gone) */
  struct ss_series **gauges, **gauges_next;
  size_t n_gauges, n_gauges_cap, n_next, cap_next;
  uint64_t route_sig;
  int64_t now_ms;
  uint64_t rng;
};

/* core2.c */
const char *ss__c2_str_at(const json_t *o, const char *a, const char *b);
int ss__c2_int_at(const json_t *spec, const char *key, int dflt);
struct server *ss__c2_server_find(struct ss_core2 *c, const char *ns, const char *name);
/* The slot holding replica (its ordinal into *ordinal when not NULL). */
const struct slot *ss__c2_slot_of(const struct server *s, const char *replica, int *ordinal);
/* Copies of any model on replica; *mem (when not NULL) gets the memory of
 * those of other models than except added. */
int ss__c2_copies_on(const struct ss_core2 *c, const char *replica, const struct model *except,
                     int64_t *mem);

/* core2_load.c: calls to the replicas' repository API. */
struct xfer *ss__c2_xfer_start(struct ss_core2 *c, const struct model *m, const struct slot *sl,
                               bool load);
void ss__c2_xfer_free(struct ss_core2 *c, struct xfer *x); /* accepts NULL */
/* Moves the calls on and applies those that finished. */
void ss__c2_progress(struct ss_core2 *c);
void ss__c2_copy_drop(struct ss_core2 *c, struct model *m, size_t i);

/* core2_status.c */
/* Copies loaded and routed (a retiring one is loaded but routed no more). */
int ss__c2_available(const struct model *m);
void ss__c2_model_status(struct ss_core2 *c, struct model *m, const struct ss_c2_placement *pl);
void ss__c2_server_status(struct ss_core2 *c, const struct server *s);

/* Core 2's metric families (at start) and this pass's gauges (at its end). */
void ss__c2_metric_families(struct ss_metrics *m);
void ss__c2_gauges(struct ss_core2 *c);
/* Counts a load or an unload on replica (seldon_load_model_counter,
 * seldon_unload_model_counter). */
void ss__c2_count(struct ss_core2 *c, const struct model *m, const char *server,
                  const char *replica, bool load);

/* core2_scale.c: Core 2's native autoscaling. */
void ss__c2_model_autoscale(struct ss_core2 *c, struct model *m);
void ss__c2_server_autoscale(struct ss_core2 *c, struct server *s);

#endif
