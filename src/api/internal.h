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
};

struct ss_api_resp {
  int code;
  json_t *body;                  /* JSON answer (owned), or NULL */
  char *text;                    /* or a plain text answer (owned) */
  size_t text_len;               /* its length when it may hold NULs; 0: strlen */
  const char *content_type;      /* static */
  char *file;                    /* or a file to stream (owned path) */
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
};

struct ss_api {
  struct ss_api_config cfg;
  struct MHD_Daemon *mhd;
  int port;
};

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

#endif
