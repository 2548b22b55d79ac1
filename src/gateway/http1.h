/* http1.h: the gateway's HTTP/1.x request reader, without sockets. Bytes go
 * in (in any pieces); out come the method, the URL, the headers the gateway
 * acts on (Authorization, Content-Type, Expect, Seldon-Model) and the body, or the status
 * of the error to answer: 400 for bad syntax, 431 for a head over
 * SS_GW_MAX_HEADER, 413 for a body over SS_GW_MAX_BODY, 505 for an HTTP
 * version other than 1.0 and 1.1, 417 for an Expect other than
 * 100-continue. The connection code (front.c) owns the sockets; this file
 * also holds the pure pieces of request handling that read client input:
 * HTTP Basic credentials, the Seldon path and the V2 model path. Fuzzed by
 * tests/fuzz/fuzz_gateway.c. */
#ifndef SS_GATEWAY_HTTP1_H
#define SS_GATEWAY_HTTP1_H

#include <http_parser.h>
#include <stdbool.h>
#include <stddef.h>

#define SS_GW_MAX_AUTH 600        /* Authorization value kept; longer is cut and fails */
#define SS_GW_MAX_CTYPE 128
#define SS_GW_MAX_MODEL 128      /* Seldon-Model value kept; longer is cut and fails */

/* A growable byte buffer, NUL-terminated after its n bytes. */
struct ss__gw_buf {
  char *p;
  size_t n, cap;
};

bool ss__gw_buf_add(struct ss__gw_buf *b, const char *s, size_t n);
void ss__gw_buf_free(struct ss__gw_buf *b);

enum ss__gw_req_state {
  SS__GW_REQ_MORE,     /* needs more bytes */
  SS__GW_REQ_CONTINUE, /* head read, the client waits for "100 Continue" before the body */
  SS__GW_REQ_DONE,     /* a whole request; the rest of the input is the next one's */
  SS__GW_REQ_ERROR,    /* answer error_status and close */
};

struct ss__gw_req {
  http_parser parser;
  struct ss__gw_buf url, body, hname, hval;
  char auth[SS_GW_MAX_AUTH];
  char ctype[SS_GW_MAX_CTYPE];
  char model[SS_GW_MAX_MODEL]; /* Seldon-Model: the Core 2 model asked for */
  bool header_was_value;
  bool head_done, complete;
  bool too_large, head_too_large, bad_version, bad_expect;
  bool expect_continue, continue_sent;
  size_t head_bytes, discarded;
  int error_status;           /* with SS__GW_REQ_ERROR */
  const char *error_reason;   /* static text */
};

/* A fresh reader (once per connection). */
void ss__gw_req_init(struct ss__gw_req *q);
/* Ready for the next request on the same connection (buffers kept). */
void ss__gw_req_reset(struct ss__gw_req *q);
void ss__gw_req_free(struct ss__gw_req *q);
/* Reads up to n bytes of in; *used says how many were consumed (the rest
 * belongs to a pipelined request). After SS__GW_REQ_CONTINUE the caller
 * sends the interim answer, sets continue_sent, and feeds the body. */
enum ss__gw_req_state ss__gw_req_feed(struct ss__gw_req *q, const char *in, size_t n,
                                      size_t *used);
/* Whether the connection may serve another request after this one. */
bool ss__gw_req_keep_alive(const struct ss__gw_req *q);

/* HTTP Basic credentials ("Basic base64(key:secret)") into key and secret;
 * false unless the value is valid base64 (padding only at the end, at most
 * two characters of it) holding a colon. */
bool ss__gw_basic_auth(const char *auth, char *key, size_t ks, char *secret, size_t ss);

/* A Seldon path: /seldon/{namespace}/{name}/api/{v1.0|v0.1}/{rest}. */
struct ss__gw_route {
  char ns[128], name[128];
  char rest[64];              /* "predictions", "feedback", "health/ping", ... */
};
bool ss__gw_route_parse(const char *path, struct ss__gw_route *out);

/* An Open Inference model path after "/v2/models/": {name}[/versions/{v}]
 * [/infer|/ready] into name (a NUL-terminated copy; false when empty or
 * not shorter than size) and *action ("", "infer" or "ready", pointing into
 * rest). False for anything else. */
bool ss__gw_v2_path_parse(const char *rest, char *name, size_t size, const char **action);

#endif
