/* http1.c: the gateway's HTTP/1.x request reader (http_parser underneath)
 * and the pure parts of reading client input: Basic credentials and
 * Seldon paths. No sockets here: front.c feeds it what it reads. */
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gateway/gateway.h"
#include "gateway/http1.h"

/* A body over the limit is read and dropped up to this much, then the
 * connection is closed under it. */
#define SS__GW_DISCARD_MAX (SS_GW_MAX_BODY * 4)

bool ss__gw_buf_add(struct ss__gw_buf *b, const char *s, size_t n) {
  if (b->n + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + n + 1)
      cap *= 2;
    char *np = realloc(b->p, cap);
    if (!np)
      return false;
    b->p = np;
    b->cap = cap;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = '\0';
  return true;
}

void ss__gw_buf_free(struct ss__gw_buf *b) {
  free(b->p);
  memset(b, 0, sizeof *b);
}

/* ---- http_parser callbacks ---- */

/* Counts head bytes; false once the head is over the limit. */
static bool head_room(struct ss__gw_req *q, size_t n) {
  q->head_bytes += n;
  if (q->head_bytes > SS_GW_MAX_HEADER)
    q->head_too_large = true;
  return !q->head_too_large;
}

static int on_url(http_parser *p, const char *at, size_t n) {
  struct ss__gw_req *q = p->data;
  if (!head_room(q, n))
    return -1;
  return ss__gw_buf_add(&q->url, at, n) ? 0 : -1;
}

static void header_done(struct ss__gw_req *q) {
  if (!q->hname.n)
    return;
  const char *v = q->hval.p ? q->hval.p : "";
  if (strcasecmp(q->hname.p, "Authorization") == 0) {
    snprintf(q->auth, sizeof q->auth, "%s", v);
  } else if (strcasecmp(q->hname.p, "Content-Type") == 0) {
    snprintf(q->ctype, sizeof q->ctype, "%s", v);
  } else if (strcasecmp(q->hname.p, "Seldon-Model") == 0) {
    snprintf(q->model, sizeof q->model, "%s", v);
  } else if (strcasecmp(q->hname.p, "Expect") == 0) {
    if (strcasecmp(v, "100-continue") == 0)
      q->expect_continue = true;
    else
      q->bad_expect = true;
  }
  q->hname.n = q->hval.n = 0;
  if (q->hname.p)
    q->hname.p[0] = '\0';
  if (q->hval.p)
    q->hval.p[0] = '\0';
}

static int on_hfield(http_parser *p, const char *at, size_t n) {
  struct ss__gw_req *q = p->data;
  if (!head_room(q, n))
    return -1;
  if (q->header_was_value) {
    header_done(q);
    q->header_was_value = false;
  }
  return ss__gw_buf_add(&q->hname, at, n) ? 0 : -1;
}

static int on_hvalue(http_parser *p, const char *at, size_t n) {
  struct ss__gw_req *q = p->data;
  if (!head_room(q, n))
    return -1;
  q->header_was_value = true;
  return ss__gw_buf_add(&q->hval, at, n) ? 0 : -1;
}

static int on_headers_complete(http_parser *p) {
  struct ss__gw_req *q = p->data;
  header_done(q);
  q->head_done = true;
  if (p->http_major != 1 || p->http_minor > 1) {
    q->bad_version = true;
    return -1;
  }
  if (p->http_minor == 0) /* HTTP/1.0: Expect is to be ignored (RFC 9110, 10.1.1) */
    q->expect_continue = q->bad_expect = false;
  if (q->bad_expect)
    return -1;
  if (p->content_length != ULLONG_MAX && p->content_length > SS_GW_MAX_BODY) {
    /* read and dropped, so that the client reads the 413 rather than a
     * reset; past SS__GW_DISCARD_MAX it is not worth reading at all */
    q->too_large = true;
    if (p->content_length > SS__GW_DISCARD_MAX)
      return -1;
    return 0;
  }
  /* pause so that the caller can send "100 Continue" before the body */
  if (q->expect_continue && !q->continue_sent)
    http_parser_pause(p, 1);
  return 0;
}

static int on_body(http_parser *p, const char *at, size_t n) {
  struct ss__gw_req *q = p->data;
  if (q->too_large || q->body.n + n > SS_GW_MAX_BODY) {
    q->too_large = true;
    q->discarded += n;
    return q->discarded > SS__GW_DISCARD_MAX ? -1 : 0;
  }
  return ss__gw_buf_add(&q->body, at, n) ? 0 : -1;
}

static int on_complete(http_parser *p) {
  struct ss__gw_req *q = p->data;
  q->complete = true;
  http_parser_pause(p, 1); /* one request at a time; the rest waits */
  return 0;
}

static const http_parser_settings settings = {
    .on_url = on_url,
    .on_header_field = on_hfield,
    .on_header_value = on_hvalue,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_complete,
};

void ss__gw_req_init(struct ss__gw_req *q) {
  memset(q, 0, sizeof *q);
  http_parser_init(&q->parser, HTTP_REQUEST);
  q->parser.data = q;
}

void ss__gw_req_reset(struct ss__gw_req *q) {
  q->url.n = q->body.n = q->hname.n = q->hval.n = 0;
  if (q->url.p)
    q->url.p[0] = '\0';
  q->auth[0] = q->ctype[0] = q->model[0] = '\0';
  q->header_was_value = q->head_done = q->complete = false;
  q->too_large = q->head_too_large = q->bad_version = q->bad_expect = false;
  q->expect_continue = q->continue_sent = false;
  q->head_bytes = q->discarded = 0;
  q->error_status = 0;
  q->error_reason = NULL;
  http_parser_pause(&q->parser, 0);
}

void ss__gw_req_free(struct ss__gw_req *q) {
  ss__gw_buf_free(&q->url);
  ss__gw_buf_free(&q->body);
  ss__gw_buf_free(&q->hname);
  ss__gw_buf_free(&q->hval);
}

static enum ss__gw_req_state fail(struct ss__gw_req *q, int status, const char *reason) {
  q->error_status = status;
  q->error_reason = reason;
  return SS__GW_REQ_ERROR;
}

enum ss__gw_req_state ss__gw_req_feed(struct ss__gw_req *q, const char *in, size_t n,
                                      size_t *used) {
  *used = 0;
  if (q->complete)
    return SS__GW_REQ_DONE;
  if (HTTP_PARSER_ERRNO(&q->parser) == HPE_PAUSED)
    http_parser_pause(&q->parser, 0); /* after "100 Continue" */
  if (n == 0)
    return SS__GW_REQ_MORE;
  *used = http_parser_execute(&q->parser, &settings, in, n);
  enum http_errno e = HTTP_PARSER_ERRNO(&q->parser);
  /* the limits first: a callback that refused sets one and fails the parse */
  if (q->head_too_large || e == HPE_HEADER_OVERFLOW)
    return fail(q, 431, "request head larger than the limit (16 KiB)");
  if (q->bad_version)
    return fail(q, 505, "only HTTP/1.0 and HTTP/1.1 are served");
  if (q->bad_expect)
    return fail(q, 417, "only Expect: 100-continue is understood");
  if (q->too_large && (q->complete || e != HPE_OK))
    return fail(q, 413, "request body larger than the limit (10 MiB)");
  if (e != HPE_OK && e != HPE_PAUSED)
    return fail(q, 400, http_errno_description(e));
  if (q->complete)
    return SS__GW_REQ_DONE;
  if (e == HPE_PAUSED && q->expect_continue && !q->continue_sent)
    return SS__GW_REQ_CONTINUE;
  return SS__GW_REQ_MORE;
}

bool ss__gw_req_keep_alive(const struct ss__gw_req *q) {
  return http_should_keep_alive(&q->parser);
}

/* ---- client input ---- */

static bool b64_char(unsigned char ch) {
  return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
         ch == '+' || ch == '/';
}

bool ss__gw_basic_auth(const char *auth, char *key, size_t ks, char *secret, size_t ss) {
  if (strncasecmp(auth, "Basic ", 6) != 0)
    return false;
  const char *b64 = auth + 6;
  size_t n = strlen(b64);
  unsigned char dec[SS_GW_MAX_AUTH];
  if (n == 0 || n % 4 || n / 4 * 3 >= sizeof dec)
    return false;
  /* the alphabet throughout, padding only as the last one or two */
  size_t pad = 0;
  if (b64[n - 1] == '=')
    pad = b64[n - 2] == '=' ? 2 : 1;
  for (size_t i = 0; i < n - pad; i++)
    if (!b64_char((unsigned char)b64[i]))
      return false;
  int len = EVP_DecodeBlock(dec, (const unsigned char *)b64, (int)n);
  if (len < 3)
    return false;
  len -= (int)pad; /* EVP_DecodeBlock counts padding as zeros; n >= 4, so len >= 1 */
  if (memchr(dec, '\0', (size_t)len))
    return false;
  dec[len] = '\0';
  char *colon = strchr((char *)dec, ':');
  if (!colon)
    return false;
  *colon = '\0';
  snprintf(key, ks, "%s", (char *)dec);
  snprintf(secret, ss, "%s", colon + 1);
  return true;
}

bool ss__gw_route_parse(const char *path, struct ss__gw_route *out) {
  char ver[16];
  if (sscanf(path, "/seldon/%127[^/]/%127[^/]/api/%15[^/]/%63s", out->ns, out->name, ver,
             out->rest) != 4)
    return false;
  return strcmp(ver, "v1.0") == 0 || strcmp(ver, "v0.1") == 0;
}

bool ss__gw_v2_path_parse(const char *rest, char *name, size_t ns, const char **action) {
  size_t l = strcspn(rest, "/");
  if (l == 0 || l >= ns)
    return false;
  memcpy(name, rest, l);
  name[l] = '\0';
  rest += l;
  if (strncmp(rest, "/versions/", 10) == 0) {
    size_t v = strcspn(rest + 10, "/");
    if (v == 0)
      return false;
    rest += 10 + v;
  }
  if (*rest == '\0') {
    *action = "";
    return true;
  }
  if (strcmp(rest, "/infer") == 0 || strcmp(rest, "/ready") == 0) {
    *action = rest + 1;
    return true;
  }
  return false;
}
