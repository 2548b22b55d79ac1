/* internal.h: what the control API's files share: a request as the
 * handlers see it (no libmicrohttpd types) and the response they build. */
#ifndef SS_API_INTERNAL_H
#define SS_API_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/api.h"
#include "api/kinds.h"

#define SS_API_MAX_WARNINGS 32

struct ss_api_req {
  const char *method;
  const char *path;              /* without the query */
  const char *body;
  size_t body_len;
  const char *content_type;      /* may be NULL */
  const char *accept;            /* may be NULL */
  /* query parameters (NULL when absent) */
  const char *q_watch, *q_rv, *q_label, *q_field, *q_timeout, *q_bookmarks;
  const char *q_dryrun, *q_field_validation, *q_container, *q_tail, *q_follow;
  const char *q_metric_label;    /* metricLabelSelector (custom metrics) */
  const char *q_since;           /* since (timelines) */
  const char *q_field_manager, *q_force; /* server-side apply (apply.h) */
  const char *user_agent;                /* may be NULL: the default field manager */
};

/* A boolean query parameter as the Kubernetes API server reads it (Go's
 * strconv.ParseBool: 1 t T TRUE true True, 0 f F FALSE false False): *out
 * is false when v is NULL (absent); false is returned for anything else,
 * with a 400 naming the parameter set in resp. */
struct ss_api_resp;
bool ss__api_query_bool(const char *name, const char *v, bool *out, struct ss_api_resp *resp);

struct ss_api_resp {
  int code;
  json_t *body;                  /* JSON answer (owned), or NULL */
  char *text;                    /* or a plain text answer (owned) */
  size_t text_len;               /* its length when it may hold NULs; 0: strlen */
  const char *content_type;      /* static */
  char *file;                    /* or a file to stream (owned path) */
  long file_tail;                /* its last this many lines only; -1: all */
  bool file_follow;              /* then what is appended, until the client leaves */
  char *warnings[SS_API_MAX_WARNINGS];
  int n_warnings;
  /* a watch stream: set instead of body */
  struct ss_watch *watch;
  const struct ss_api_kind *watch_kind;
  char watch_version[32];
  struct ss_selector *watch_label, *watch_field;
  bool watch_bookmarks;
  bool watch_table;              /* each event's object is a one-row Table */
  int watch_timeout_s;
  json_t *watch_initial;         /* ADDED events to send first (array of objects) */
  /* a watch of a kind the store does not hold (pods): polled from
   * hooks.pods in watch_ns ("" : all) and diffed; set instead of watch */
  bool watch_poll;
  char watch_ns[64];
  json_t *watch_seen;            /* the objects already reported, by name (owned) */
};

struct ss_api {
  struct ss_api_config cfg;
  struct MHD_Daemon *mhd;
  int port;
  /* the limits in effect (cfg's, defaults filled in) */
  unsigned max_connections, handshake_timeout_s, idle_timeout_s;
  struct ss__api_conns *conns;   /* connections not yet authenticated */
};

/* ---- the request head (auth.c): decided before any body is read ---- */

enum ss__api_auth {
  SS__API_AUTH_PUBLIC,   /* health and version: no token needed */
  SS__API_AUTH_OK,       /* the token matched (or none is configured) */
  SS__API_AUTH_DENIED    /* 401 */
};
/* Whether a request may proceed: method and path (without the query),
 * authorization the Authorization header (NULL when absent), token the
 * configured one (NULL or "": none). Only GET and HEAD of the health and
 * version paths are public, so that no body is ever read without the token. */
enum ss__api_auth ss__api_authorize(const char *method, const char *path,
                                    const char *authorization, const char *token);
/* Whether a Content-Length header value (NULL when absent) announces more
 * than max bytes; a value that is not a number is left to the transport. */
bool ss__api_body_over(const char *content_length, size_t max);

/* ---- the deadline to authenticate (conns.c) ---- */

/* Connections by their socket, each with a deadline (deadline_s after it
 * opened) by which a request on it must have authenticated; past it, its
 * socket is shut down (both ways), so that the connection's thread ends
 * it. With thread, a thread does that every quarter second; without, only
 * ss__api_conns_expire does (tests). NULL when out of memory. */
struct ss__api_conns;
struct ss__api_conn;
struct ss__api_conns *ss__api_conns_new(unsigned deadline_s, bool thread);
/* Stops the thread and frees; accepts NULL. */
void ss__api_conns_free(struct ss__api_conns *cs);
/* A connection opened on fd at now_ms (a monotonic clock); NULL when out
 * of memory (it then has no deadline). fd must stay open until
 * ss__api_conn_close. */
struct ss__api_conn *ss__api_conn_open(struct ss__api_conns *cs, int fd, int64_t now_ms);
/* A request on c authenticated: its deadline no longer applies. c may be NULL. */
void ss__api_conn_authenticated(struct ss__api_conns *cs, struct ss__api_conn *c);
/* c is closing (before its descriptor is closed); frees it. c may be NULL. */
void ss__api_conn_close(struct ss__api_conns *cs, struct ss__api_conn *c);
/* Shuts down the sockets of unauthenticated connections past their
 * deadline at now_ms; returns how many (each is shut down once). */
int ss__api_conns_expire(struct ss__api_conns *cs, int64_t now_ms);
/* A monotonic clock in milliseconds. */
int64_t ss__api_now_ms(void);

/* Frees what a response owns and zeroes it. */
void ss__api_resp_free(struct ss_api_resp *r);

/* Routes and answers one request (everything but the byte transport). */
void ss__api_handle(struct ss_api *api, const struct ss_api_req *req,
                    struct ss_api_resp *resp);

/* Status objects (meta/v1 Status). Sets resp->code and resp->body. */
void ss__api_status(struct ss_api_resp *resp, int code, const char *reason,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void ss__api_add_warning(struct ss_api_resp *resp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Discovery and OpenAPI; each returns true when it answered the path. */
bool ss__api_discovery(struct ss_api *api, const struct ss_api_req *req,
                       struct ss_api_resp *resp);
bool ss__api_openapi(struct ss_api *api, const struct ss_api_req *req,
                     struct ss_api_resp *resp);

/* A meta/v1 Table of items (objects of kind k), for kubectl get. */
json_t *ss__api_table(const struct ss_api_kind *k, json_t *items, const char *rv);
/* Whether the request asks for a Table. */
bool ss__api_wants_table(const struct ss_api_req *req);

/* Sets apiVersion to group/version (objects are stored in the preferred
 * version; every served version has the same schema). */
void ss__api_set_version(json_t *obj, const struct ss_api_kind *k, const char *version);

/* A path's segments (runs of '/' are one separator) into segs: how many,
 * or -1 when there are more than max or one has SS_API_SEG_MAX bytes or
 * more. */
#define SS_API_SEG_MAX 256
int ss__api_split(const char *path, char segs[][SS_API_SEG_MAX], int max);

/* The custom and external metrics APIs (metrics_api.c): true when the
 * request was theirs and resp is set. */
bool ss__api_metrics(struct ss_api *api, const struct ss_api_req *req, struct ss_api_resp *resp);
/* timeline.c: GET /apis/servescale.io/v1/namespaces/NS/timelines/NAME
 * through hooks.timeline; false when the path is not a timeline's. */
bool ss__api_timeline(struct ss_api *api, const struct ss_api_req *req, struct ss_api_resp *resp);
/* requests.c: GET /apis/servescale.io/v1/namespaces/NS/requestcounts/NAME
 * through hooks.requests; false when the path is not a request count's. */
bool ss__api_requests(struct ss_api *api, const struct ss_api_req *req, struct ss_api_resp *resp);

#endif
