/* server.c: the gateway's workers. Each worker runs one epoll loop over its
 * own listening socket (SO_REUSEPORT), the client connections it accepted,
 * and its upstream connections to replicas, pooled per replica and reused
 * (keep-alive). A request is parsed (http_parser), routed to a deployment,
 * walked through its graph (graph.h), and each call goes to the replica
 * with the fewest requests in flight. Calls for a replica set with no ready
 * replica wait in the worker's queue until one is published or the queue
 * timeout passes. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <http_parser.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gateway/fastpath.h"
#include "gateway/graph.h"
#include "gateway/message.h"
#include "gateway/internal.h"

#define RBUF 65536
#define MAX_EVENTS 256
#define TICK_MS 100
#define CALL_ATTEMPTS 3
#define STOP_GRACE_MS 5000

enum kind { K_LISTEN, K_EVENT, K_CONN, K_UP };

struct worker;
struct request;

struct buf {
  char *p;
  size_t n, cap;
};

static bool buf_add(struct buf *b, const char *s, size_t n) {
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

static void buf_free(struct buf *b) {
  free(b->p);
  memset(b, 0, sizeof *b);
}

/* A client connection. */
struct conn {
  enum kind kind;
  int fd;
  uint32_t events;            /* what epoll watches for now (0: not added) */
  struct worker *w;
  http_parser parser;
  struct buf url, body, hname, hval;
  char auth[600];
  char ctype[128];
  bool header_was_value;
  bool complete, too_large, head_too_large;
  size_t head_bytes;
  char rbuf[RBUF];
  size_t rlen, roff;          /* bytes read and not yet parsed */
  struct buf out;
  size_t out_off;
  bool keep_alive, closing;
  struct request *req;        /* the request being answered */
  int64_t last_ms, head_deadline_ms;
  struct conn *prev, *next;
};

struct call {
  struct request *req;
  struct ss_gw_exec *ex;      /* may be answered before ss_gw_exec_start returns */
  int id;
  struct ss__gw_target *target;
  const struct ss_graph_node *node;
  char path[32];
  char *body;
  size_t len;
  int attempts;
  int64_t started_ns, deadline_ms;
  struct call *qnext;         /* in the worker's queue */
  bool queued;
};

/* An upstream connection to one replica. */
struct upconn {
  enum kind kind;
  int fd;
  uint32_t events;            /* what epoll watches for now (0: not added) */
  struct worker *w;
  struct ss__gw_ep *ep;
  enum { UP_CONNECTING, UP_BUSY, UP_IDLE } state;
  bool reused;                /* has served a request before */
  http_parser parser;
  struct buf out, body;
  size_t out_off;
  size_t got;                 /* response bytes read for this call */
  int status;
  bool complete, keep_alive;
  struct call *call;
  int64_t deadline_ms;
  struct upconn *next;        /* idle list of its pool */
  struct upconn *all_prev, *all_next; /* every upconn of the worker */
};

struct request {
  struct worker *w;
  struct conn *conn;          /* NULL when the client left */
  struct ss_gw_table *table;  /* a reference */
  const struct ss__gw_dep *dep;
  const struct ss__gw_pred *pred;
  enum ss_gw_kind kind;
  struct ss_gw_exec *ex;       /* the general walk; NULL on the fast path */
  int pending;                /* calls not answered yet */
  /* the fast path (fastpath.h): the spliced request, and the answer */
  bool fast;
  char puid[SS_GW_PUID_LEN + 1];
  char *fast_req;
  size_t fast_req_len;
  int fast_status;
  char *fast_body;
  size_t fast_len;
  int64_t start_ns;
};

struct pool {
  struct ss__gw_ep *ep;       /* key (not a reference: each upconn holds one) */
  struct upconn *idle;
  struct pool *next;
};

struct worker {
  enum kind kind_event;       /* epoll tag for the eventfd */
  enum kind kind_listen;      /* epoll tag for the listening socket */
  struct ss_gateway *gw;
  pthread_t th;
  int ep, lfd, evfd;
  struct ss_gw_table *table;  /* this worker's reference to the latest */
  uint64_t epoch;
  struct conn *conns;
  struct upconn *ups;         /* every upstream connection, for timeouts */
  struct pool *pools[256];
  struct call *queue_head, *queue_tail;
  int queued;
  uint64_t rng;
  int64_t now_ms;
  bool stopping;
};

struct queued_rs {
  char rs[160];
  int n;
};

struct ss_gateway {
  struct ss_gateway_config cfg;
  struct queued_rs *queued;   /* under mu: calls waiting per replica set */
  size_t n_queued;
  int port;
  int n_workers;
  struct worker *workers;
  _Atomic bool stopping;
  pthread_mutex_t mu;         /* latest, epoch */
  struct ss_gw_table *latest;
  uint64_t epoch;
  struct ss__gw_registry reg;
  struct ss__gw_oauth *oauth;
  int queue_timeout_ms, call_timeout_ms;
};

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t rnd(struct worker *w) {
  /* xorshift64*: load spreading and traffic splits, not secrets */
  w->rng ^= w->rng >> 12;
  w->rng ^= w->rng << 25;
  w->rng ^= w->rng >> 27;
  return w->rng * 2685821657736338717ull;
}

/* epoll_ctl only when the watched events change: a syscall saved on most
 * requests (a connection goes back to EPOLLIN after each exchange). */
static void ep_set(struct worker *w, int fd, void *tag, uint32_t *cur, uint32_t events) {
  if (*cur == events)
    return;
  struct epoll_event ev = {.events = events, .data.ptr = tag};
  if (epoll_ctl(w->ep, *cur ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) == 0)
    *cur = events;
}

static void ep_mod(struct worker *w, int fd, void *tag, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.ptr = tag};
  if (epoll_ctl(w->ep, EPOLL_CTL_MOD, fd, &ev) != 0)
    epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev);
}

/* ---- responses ---- */

static const char *reason_of(int code) {
  switch (code) {
  case 200: return "OK";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 408: return "Request Timeout";
  case 413: return "Payload Too Large";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 502: return "Bad Gateway";
  case 503: return "Service Unavailable";
  case 504: return "Gateway Timeout";
  }
  return code < 300 ? "OK" : "Error";
}

static void conn_write(struct conn *c);

static void respond(struct conn *c, int code, const char *ctype, const char *body, size_t len,
                    const char *extra_headers) {
  char head[512];
  int n = snprintf(head, sizeof head,
                   "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s%s\r\n", code,
                   reason_of(code), ctype, len, extra_headers ? extra_headers : "",
                   c->keep_alive ? "" : "Connection: close\r\n");
  buf_add(&c->out, head, (size_t)n);
  buf_add(&c->out, body, len);
  conn_write(c);
}

static void respond_error(struct conn *c, int code, const char *reason, const char *info) {
  char *body = ss_gw_error_body(code, reason, info);
  respond(c, code, "application/json", body ? body : "", body ? strlen(body) : 0, NULL);
  free(body);
}

/* ---- connections ---- */

static void request_finish(struct request *r);

static void conn_close(struct conn *c) {
  struct worker *w = c->w;
  epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  if (c->req)
    c->req->conn = NULL; /* its calls finish; the answer goes nowhere */
  if (c->prev)
    c->prev->next = c->next;
  else
    w->conns = c->next;
  if (c->next)
    c->next->prev = c->prev;
  buf_free(&c->url);
  buf_free(&c->body);
  buf_free(&c->hname);
  buf_free(&c->hval);
  buf_free(&c->out);
  free(c);
}

static void conn_parse(struct conn *c);

static void conn_reset_request(struct conn *c) {
  c->url.n = c->body.n = c->hname.n = c->hval.n = 0;
  if (c->url.p)
    c->url.p[0] = '\0';
  c->auth[0] = c->ctype[0] = '\0';
  c->complete = c->too_large = c->head_too_large = false;
  c->head_bytes = 0;
  c->header_was_value = false;
  c->head_deadline_ms = c->w->now_ms + SS_GW_HEADER_TIMEOUT_MS;
}

static void conn_write(struct conn *c) {
  while (c->out_off < c->out.n) {
    ssize_t n = write(c->fd, c->out.p + c->out_off, c->out.n - c->out_off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      ep_set(c->w, c->fd, c, &c->events, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
      return;
    }
    if (n <= 0) {
      conn_close(c);
      return;
    }
    c->out_off += (size_t)n;
  }
  c->out.n = c->out_off = 0;
  if (!c->keep_alive || c->closing) {
    conn_close(c);
    return;
  }
  ep_set(c->w, c->fd, c, &c->events, EPOLLIN | EPOLLRDHUP);
  conn_reset_request(c);
  http_parser_pause(&c->parser, 0);
  c->last_ms = c->w->now_ms;
  if (c->roff < c->rlen)
    conn_parse(c); /* a pipelined request already read */
}

/* ---- http_parser callbacks (requests) ---- */

static int on_url(http_parser *p, const char *at, size_t n) {
  struct conn *c = p->data;
  c->head_bytes += n;
  if (c->head_bytes > SS_GW_MAX_HEADER) {
    c->head_too_large = true;
    return 0;
  }
  return buf_add(&c->url, at, n) ? 0 : -1;
}

static void header_done(struct conn *c) {
  if (!c->hname.n)
    return;
  if (strcasecmp(c->hname.p, "Authorization") == 0)
    snprintf(c->auth, sizeof c->auth, "%s", c->hval.p ? c->hval.p : "");
  else if (strcasecmp(c->hname.p, "Content-Type") == 0)
    snprintf(c->ctype, sizeof c->ctype, "%s", c->hval.p ? c->hval.p : "");
  c->hname.n = c->hval.n = 0;
  if (c->hname.p)
    c->hname.p[0] = '\0';
  if (c->hval.p)
    c->hval.p[0] = '\0';
}

static int on_hfield(http_parser *p, const char *at, size_t n) {
  struct conn *c = p->data;
  c->head_bytes += n;
  if (c->head_bytes > SS_GW_MAX_HEADER) {
    c->head_too_large = true;
    return 0;
  }
  if (c->header_was_value) {
    header_done(c);
    c->header_was_value = false;
  }
  return buf_add(&c->hname, at, n) ? 0 : -1;
}

static int on_hvalue(http_parser *p, const char *at, size_t n) {
  struct conn *c = p->data;
  c->head_bytes += n;
  if (c->head_bytes > SS_GW_MAX_HEADER) {
    c->head_too_large = true;
    return 0;
  }
  c->header_was_value = true;
  return buf_add(&c->hval, at, n) ? 0 : -1;
}

static int on_headers_complete(http_parser *p) {
  struct conn *c = p->data;
  header_done(c);
  if (p->content_length != ULLONG_MAX && p->content_length > SS_GW_MAX_BODY)
    c->too_large = true;
  return 0;
}

static int on_body(http_parser *p, const char *at, size_t n) {
  struct conn *c = p->data;
  if (c->too_large || c->body.n + n > SS_GW_MAX_BODY) {
    c->too_large = true;
    return 0;
  }
  return buf_add(&c->body, at, n) ? 0 : -1;
}

static int on_complete(http_parser *p) {
  struct conn *c = p->data;
  c->complete = true;
  http_parser_pause(p, 1); /* one request at a time; the rest waits in rbuf */
  return 0;
}

static const http_parser_settings req_settings = {
    .on_url = on_url,
    .on_header_field = on_hfield,
    .on_header_value = on_hvalue,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_complete,
};

static void handle(struct conn *c);

static void conn_parse(struct conn *c) {
  while (c->roff < c->rlen && !c->complete) {
    size_t n = http_parser_execute(&c->parser, &req_settings, c->rbuf + c->roff,
                                   c->rlen - c->roff);
    c->roff += n;
    enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
    if (e == HPE_PAUSED)
      break;
    if (e != HPE_OK) {
      c->keep_alive = false;
      respond_error(c, 400, "BAD_REQUEST", http_errno_description(e));
      return;
    }
    if (c->head_too_large) {
      c->keep_alive = false;
      respond_error(c, 431, "BAD_REQUEST", "request head too large");
      return;
    }
  }
  if (c->roff == c->rlen)
    c->roff = c->rlen = 0;
  if (c->complete) {
    c->keep_alive = http_should_keep_alive(&c->parser);
    handle(c);
  }
}

static void conn_read(struct conn *c) {
  for (;;) {
    if (c->rlen == sizeof c->rbuf) {
      if (c->roff == 0) {
        /* full of a pipelined request while one is answered: stop reading
         * until the answer is out (conn_write asks for EPOLLIN again) */
        ep_set(c->w, c->fd, c, &c->events, EPOLLRDHUP);
        break;
      }
      memmove(c->rbuf, c->rbuf + c->roff, c->rlen - c->roff);
      c->rlen -= c->roff;
      c->roff = 0;
    }
    ssize_t n = read(c->fd, c->rbuf + c->rlen, sizeof c->rbuf - c->rlen);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      break;
    if (n <= 0) {
      if (c->req) { /* the client left while we work: answer nobody */
        conn_close(c);
        return;
      }
      conn_close(c);
      return;
    }
    c->rlen += (size_t)n;
    c->last_ms = c->w->now_ms;
    if (c->req)
      return; /* keep it buffered until the answer is out */
    conn_parse(c);
    return;
  }
}

/* ---- upstream ---- */

static struct pool *pool_of(struct worker *w, struct ss__gw_ep *ep, bool create) {
  size_t b = ((uintptr_t)ep >> 4) % 256;
  for (struct pool *p = w->pools[b]; p; p = p->next)
    if (p->ep == ep)
      return p;
  if (!create)
    return NULL;
  struct pool *p = calloc(1, sizeof *p);
  if (p) {
    p->ep = ep;
    p->next = w->pools[b];
    w->pools[b] = p;
  }
  return p;
}

static void up_close(struct upconn *u) {
  struct worker *w = u->w;
  epoll_ctl(w->ep, EPOLL_CTL_DEL, u->fd, NULL);
  close(u->fd);
  if (u->state == UP_IDLE) {
    struct pool *p = pool_of(w, u->ep, false);
    if (p) {
      struct upconn **pp = &p->idle;
      while (*pp && *pp != u)
        pp = &(*pp)->next;
      if (*pp)
        *pp = u->next;
    }
  }
  if (u->all_prev)
    u->all_prev->all_next = u->all_next;
  else
    w->ups = u->all_next;
  if (u->all_next)
    u->all_next->all_prev = u->all_prev;
  buf_free(&u->out);
  buf_free(&u->body);
  ss__gw_ep_unref(&w->gw->reg, u->ep);
  free(u);
}

static int up_on_status(http_parser *p, const char *at, size_t n) {
  (void)at;
  (void)n;
  struct upconn *u = p->data;
  u->status = (int)p->status_code;
  return 0;
}

static int up_on_body(http_parser *p, const char *at, size_t n) {
  struct upconn *u = p->data;
  if (u->body.n + n > SS_GW_MAX_BODY * 4)
    return -1;
  return buf_add(&u->body, at, n) ? 0 : -1;
}

static int up_on_complete(http_parser *p) {
  struct upconn *u = p->data;
  u->complete = true;
  u->keep_alive = http_should_keep_alive(p);
  return 0;
}

static const http_parser_settings up_settings = {
    .on_status = up_on_status,
    .on_body = up_on_body,
    .on_message_complete = up_on_complete,
};

static void dispatch(struct worker *w, struct call *call);
static void call_answer(struct worker *w, struct call *call, int status, const char *body,
                        size_t len);

static bool up_send(struct upconn *u) {
  while (u->out_off < u->out.n) {
    ssize_t n = write(u->fd, u->out.p + u->out_off, u->out.n - u->out_off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      ep_set(u->w, u->fd, u, &u->events, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
      return true;
    }
    if (n <= 0)
      return false;
    u->out_off += (size_t)n;
  }
  ep_set(u->w, u->fd, u, &u->events, EPOLLIN | EPOLLRDHUP);
  return true;
}

/* The call on u failed before an answer: retry it when that is safe (the
 * replica cannot have acted on it), else answer it with status 0. */
static void up_failed(struct upconn *u, const char *why) {
  struct worker *w = u->w;
  struct call *call = u->call;
  /* Safe: the replica never had it (refused), or it went to an idle
   * connection that turned out closed and nothing came back. The latter
   * may repeat a prediction a dying replica had read, which inference
   * tolerates; feedback (rewards) is never sent twice. */
  bool safe = u->state == UP_CONNECTING ||
              (u->reused && u->got == 0 && call && strcmp(call->path, "/send-feedback") != 0);
  if (u->state == UP_CONNECTING) /* nothing listens there: pass it over for a while */
    atomic_store(&u->ep->down_since_ms, w->now_ms > 0 ? w->now_ms : 1);
  u->call = NULL;
  atomic_fetch_sub(&u->ep->inflight, 1);
  up_close(u);
  if (!call)
    return;
  if (safe && call->attempts < CALL_ATTEMPTS && !w->stopping) {
    dispatch(w, call);
    return;
  }
  call_answer(w, call, 0, why, strlen(why));
}

static void up_start(struct worker *w, struct call *call, struct ss__gw_ep *ep) {
  struct pool *p = pool_of(w, ep, true);
  struct upconn *u = p ? p->idle : NULL;
  call->attempts++;
  atomic_fetch_add(&ep->inflight, 1);
  if (u) {
    p->idle = u->next;
    u->next = NULL;
    u->state = UP_BUSY;
  } else {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    u = fd >= 0 ? calloc(1, sizeof *u) : NULL;
    if (!u) {
      if (fd >= 0)
        close(fd);
      atomic_fetch_sub(&ep->inflight, 1);
      call_answer(w, call, 0, "cannot open a connection", 24);
      return;
    }
    u->kind = K_UP;
    u->fd = fd;
    u->w = w;
    u->all_next = w->ups;
    if (w->ups)
      w->ups->all_prev = u;
    w->ups = u;
    u->ep = ep;
    ss__gw_ep_ref(&w->gw->reg, ep);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)ep->port)};
    a.sin_addr.s_addr = ep->addr ? ep->addr : htonl(INADDR_LOOPBACK);
    int rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    u->state = (rc == 0) ? UP_BUSY : UP_CONNECTING;
    if (rc != 0 && errno != EINPROGRESS) {
      u->call = call;
      up_failed(u, "connection refused");
      return;
    }
  }
  u->call = call;
  u->got = 0;
  u->status = 0;
  u->complete = false;
  u->body.n = 0;
  u->out.n = u->out_off = 0;
  u->deadline_ms = w->now_ms + w->gw->call_timeout_ms;
  http_parser_init(&u->parser, HTTP_RESPONSE);
  u->parser.data = u;
  char head[256];
  int n = snprintf(head, sizeof head,
                   "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
                   "Content-Length: %zu\r\n\r\n",
                   call->path, ep->port, call->len);
  buf_add(&u->out, head, (size_t)n);
  buf_add(&u->out, call->body, call->len);
  if (u->state == UP_CONNECTING) {
    ep_set(w, u->fd, u, &u->events, EPOLLOUT | EPOLLRDHUP);
    return;
  }
  if (!up_send(u))
    up_failed(u, "connection lost while sending");
}

static void up_event(struct upconn *u, uint32_t events) {
  if (u->state == UP_CONNECTING) {
    int err = 0;
    socklen_t l = sizeof err;
    getsockopt(u->fd, SOL_SOCKET, SO_ERROR, &err, &l);
    if (err) {
      up_failed(u, "connection refused");
      return;
    }
    u->state = UP_BUSY;
    if (!up_send(u))
      up_failed(u, "connection lost while sending");
    return;
  }
  if (events & EPOLLOUT && u->out_off < u->out.n) {
    if (!up_send(u)) {
      up_failed(u, "connection lost while sending");
      return;
    }
  }
  if (!(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
    return;
  char tmp[RBUF];
  for (;;) {
    ssize_t n = read(u->fd, tmp, sizeof tmp);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return;
    if (u->state == UP_IDLE) { /* the replica closed an idle connection */
      up_close(u);
      return;
    }
    if (n <= 0) {
      /* EOF may end a response without a length */
      if (n == 0 && u->got)
        http_parser_execute(&u->parser, &up_settings, NULL, 0);
      if (!u->complete) {
        up_failed(u, n == 0 ? "replica closed the connection" : "connection lost");
        return;
      }
    } else {
      u->got += (size_t)n;
      size_t used = http_parser_execute(&u->parser, &up_settings, tmp, (size_t)n);
      if (HTTP_PARSER_ERRNO(&u->parser) != HPE_OK || used != (size_t)n) {
        if (!u->complete) {
          u->reused = false; /* it answered something: not safe to retry */
          up_failed(u, "malformed answer from the replica");
          return;
        }
      }
    }
    if (u->complete) {
      struct worker *w = u->w;
      struct call *call = u->call;
      u->call = NULL;
      atomic_fetch_sub(&u->ep->inflight, 1);
      int status = u->status;
      struct buf body = u->body;
      u->body = (struct buf){0};
      if (u->keep_alive && n > 0 && !w->stopping) {
        struct pool *p = pool_of(w, u->ep, true);
        u->state = UP_IDLE;
        u->reused = true;
        u->next = p->idle;
        p->idle = u;
        ep_set(w, u->fd, u, &u->events, EPOLLIN | EPOLLRDHUP);
      } else {
        up_close(u);
      }
      if (call)
        call_answer(w, call, status, body.p ? body.p : "", body.n);
      buf_free(&body);
      return;
    }
    if (n == 0)
      return;
  }
}

/* ---- calls and requests ---- */

static struct ss__gw_ep *choose(struct worker *w, const struct ss__gw_target *t) {
  if (!t || t->n == 0)
    return NULL;
  /* least outstanding requests; ties broken from a random start so that an
   * idle set is spread evenly; a replica that refused a connection in the
   * last SS__GW_EP_DOWN_MS only when every other one did too */
  size_t start = (size_t)(rnd(w) % t->n);
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
    struct queued_rs *v = realloc(gw->queued, (gw->n_queued + 1) * sizeof *v);
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

static void enqueue(struct worker *w, struct call *call) {
  if (w->queued >= SS_GW_QUEUE_MAX) {
    call_answer(w, call, 503, "queue full", 10);
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
static const struct ss__gw_target *fresh_target(struct worker *w, const struct call *call) {
  const struct request *r = call->req;
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

static void dispatch(struct worker *w, struct call *call) {
  if (!call->target) {
    call_answer(w, call, 500, "no component for this graph node", 32);
    return;
  }
  const struct ss__gw_target *t = fresh_target(w, call);
  if (!t || !t->rs[0]) {
    /* control gave it no replica set: it cannot run (see the status) */
    static const char why[] = "the component's replica set is not running: see the "
                              "deployment's status";
    call_answer(w, call, 503, why, sizeof why - 1);
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
  up_start(w, call, ep);
}

static void on_call(void *ctx, struct ss_gw_exec *ex, int call_id,
                    const struct ss_graph_node *node, const char *path, const char *body,
                    size_t len) {
  struct request *r = ctx;
  struct worker *w = r->w;
  struct call *call = calloc(1, sizeof *call);
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
  call->started_ns = mono_ns();
  r->pending++;
  dispatch(w, call);
}

/* meta.requestPath: the image each node's component runs. */
static const char *image_of(void *ctx, const struct ss_graph_node *node) {
  const struct request *r = ctx;
  const struct ss__gw_target *t = ss__gw_target_of(r->pred, node->component, node->container);
  return t ? t->image : NULL;
}

static void observe_client(struct worker *w, struct call *call, int status, double secs) {
  struct ss_metrics *m = w->gw->cfg.metrics;
  if (!m || !call->target)
    return;
  if (status == 200 && strcmp(call->path, "/predict") == 0 && call->target->client_ok) {
    ss_series_observe(call->target->client_ok, secs);
    return;
  }
  const struct request *r = call->req;
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
                     "post", code, call->node->name ? call->node->name : "", repo, tag};
  struct ss_series *s = ss_metrics_series(m, "seldon_api_executor_client_requests_seconds", v);
  if (s)
    ss_series_observe(s, secs);
}

/* ---- the fast path ---- */

struct capture {
  const struct request *r;
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
static void fast_complete(struct request *r, int status, const char *body, size_t len) {
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

static void call_answer(struct worker *w, struct call *call, int status, const char *body,
                        size_t len) {
  struct request *r = call->req;
  if (call->queued)
    count_queued(w->gw, call->target ? call->target->rs : "", -1);
  double secs = (double)(mono_ns() - call->started_ns) / 1e9;
  if (status)
    observe_client(w, call, status, secs);
  free(call->body);
  int id = call->id;
  struct ss_gw_exec *ex = call->ex;
  free(call);
  r->pending--;
  if (r->fast)
    fast_complete(r, status, body, len);
  else
    ss_gw_exec_complete(ex, id, status, body, len);
  request_finish(r);
}

/* Answers the client when the walk is done (and frees the request when
 * nothing refers to it any more). */
static void request_finish(struct request *r) {
  int status;
  char *body = NULL;
  size_t len = 0;
  if (r->pending > 0)
    return;
  if (r->fast) {
    status = r->fast_status;
    body = r->fast_body;
    len = r->fast_len;
    r->fast_body = NULL;
    free(r->fast_req);
  } else if (!ss_gw_exec_done(r->ex, &status, &body, &len)) {
    return;
  }
  struct conn *c = r->conn;
  double secs = (double)(mono_ns() - r->start_ns) / 1e9;
  struct ss_metrics *m = r->table->gw ? r->table->gw->cfg.metrics : NULL;
  if (m && r->pred) {
    int k = r->kind == SS_GW_FEEDBACK;
    if (status == 200 && r->pred->server_ok[k]) {
      ss_series_observe(r->pred->server_ok[k], secs);
    } else {
      char code[8];
      snprintf(code, sizeof code, "%d", status);
      const char *v[] = {r->dep->name, r->pred->p->name ? r->pred->p->name : "", "",
                         k ? "feedback" : "predictions", "post", code};
      struct ss_series *s = ss_metrics_series(m, "seldon_api_executor_server_requests_seconds", v);
      if (s)
        ss_series_observe(s, secs);
    }
  }
  struct ss_gateway *gw = r->table->gw;
  ss_gw_exec_free(r->ex);
  ss__gw_table_unref(r->table, gw ? &gw->reg : NULL);
  free(r);
  if (c) {
    c->req = NULL;
    respond(c, status, "application/json", body ? body : "", len, NULL);
  }
  free(body);
}

/* ---- routing ---- */

static bool basic_auth(const char *auth, char *key, size_t ks, char *secret, size_t ss) {
  if (strncasecmp(auth, "Basic ", 6) != 0)
    return false;
  unsigned char dec[512];
  const char *b64 = auth + 6;
  size_t n = strlen(b64);
  if (n == 0 || n > 600 || n % 4)
    return false;
  int len = EVP_DecodeBlock(dec, (const unsigned char *)b64, (int)n);
  if (len <= 0)
    return false;
  while (n && b64[n - 1] == '=') { /* EVP_DecodeBlock counts padding as zeros */
    len--;
    n--;
  }
  dec[len] = '\0';
  char *colon = strchr((char *)dec, ':');
  if (!colon)
    return false;
  *colon = '\0';
  snprintf(key, ks, "%s", (char *)dec);
  snprintf(secret, ss, "%s", colon + 1);
  return true;
}

static void handle_token(struct conn *c) {
  struct worker *w = c->w;
  char key[256], secret[256];
  if (!basic_auth(c->auth, key, sizeof key, secret, sizeof secret)) {
    respond(c, 401, "application/json",
            "{\"error\":\"invalid_client\",\"error_description\":\"HTTP Basic key:secret "
            "required\"}",
            76, "WWW-Authenticate: Basic realm=\"servescale\"\r\n");
    return;
  }
  const struct ss__gw_dep *found = NULL;
  for (size_t i = 0; w->table && i < w->table->n; i++) {
    const struct ss__gw_dep *d = &w->table->deps[i];
    const char *k = d->res->u.sdep.oauth_key, *s = d->res->u.sdep.oauth_secret;
    if (k && s && strlen(k) == strlen(key) && strlen(s) == strlen(secret) &&
        CRYPTO_memcmp(k, key, strlen(k)) == 0 && CRYPTO_memcmp(s, secret, strlen(s)) == 0)
      found = d;
  }
  char token[65];
  if (!found || !ss__gw_oauth_issue(w->gw->oauth, found->ns, found->name, time(NULL), token)) {
    respond(c, 401, "application/json",
            "{\"error\":\"invalid_client\",\"error_description\":\"Bad client credentials\"}",
            72, "WWW-Authenticate: Basic realm=\"servescale\"\r\n");
    return;
  }
  char body[256];
  int n = snprintf(body, sizeof body,
                   "{\"access_token\":\"%s\",\"token_type\":\"bearer\",\"expires_in\":%d,"
                   "\"scope\":\"read write\"}",
                   token, SS_GW_TOKEN_TTL_S);
  respond(c, 200, "application/json", body, (size_t)n, NULL);
}

static void handle_sd(struct conn *c) {
  json_t *groups = json_array();
  const struct ss_gw_table *t = c->w->table;
  for (size_t i = 0; t && i < t->n; i++) {
    const struct ss__gw_dep *d = &t->deps[i];
    for (size_t j = 0; j < d->n_preds; j++)
      for (size_t k = 0; k < d->preds[j].n_targets; k++) {
        const struct ss__gw_target *tg = &d->preds[j].targets[k];
        for (size_t e = 0; e < tg->n; e++) {
          char addr[32];
          char ip[INET_ADDRSTRLEN] = "127.0.0.1";
          if (tg->eps[e]->addr) {
            struct in_addr ia = {.s_addr = tg->eps[e]->addr};
            inet_ntop(AF_INET, &ia, ip, sizeof ip);
          }
          snprintf(addr, sizeof addr, "%s:%d", ip, tg->eps[e]->port);
          json_array_append_new(
              groups, json_pack("{s:[s], s:{s:s, s:s, s:s, s:s}}", "targets", addr, "labels",
                                "namespace", d->ns, "seldon_deployment_id", d->name,
                                "replica_set", tg->rs, "replica", tg->eps[e]->id));
        }
      }
  }
  char *s = json_dumps(groups, JSON_COMPACT);
  json_decref(groups);
  respond(c, 200, "application/json", s ? s : "[]", s ? strlen(s) : 2, NULL);
  free(s);
}

static void handle_metrics(struct conn *c) {
  char *text = c->w->gw->cfg.metrics ? ss_metrics_expose(c->w->gw->cfg.metrics) : NULL;
  respond(c, 200, "text/plain; version=0.0.4; charset=utf-8", text ? text : "",
          text ? strlen(text) : 0, NULL);
  free(text);
}

static bool bearer_ok(struct conn *c, const struct ss__gw_dep *d) {
  const struct ss_sdep *s = &d->res->u.sdep;
  if (!s->oauth_key)
    return true;
  if (strncasecmp(c->auth, "Bearer ", 7) != 0)
    return false;
  return ss__gw_oauth_check(c->w->gw->oauth, d->ns, d->name, c->auth + 7, time(NULL));
}

static const struct ss__gw_pred *pick_predictor(struct worker *w, const struct ss__gw_dep *d) {
  if (d->n_preds == 0)
    return NULL;
  if (d->traffic_total <= 0)
    return &d->preds[0];
  int x = (int)(rnd(w) % (uint64_t)d->traffic_total);
  for (size_t i = 0; i < d->n_preds; i++) {
    x -= d->preds[i].p->traffic;
    if (x < 0)
      return &d->preds[i];
  }
  return &d->preds[d->n_preds - 1];
}

static void handle_predict(struct conn *c, const char *ns, const char *name,
                           enum ss_gw_kind kind) {
  struct worker *w = c->w;
  const struct ss__gw_dep *d = ss__gw_table_find(w->table, ns, name);
  if (!d) {
    char info[300];
    snprintf(info, sizeof info, "no deployment %s in namespace %s", name, ns);
    respond_error(c, 404, "NOT_FOUND", info);
    return;
  }
  if (!bearer_ok(c, d)) {
    char *body = ss_gw_error_body(401, "UNAUTHORIZED",
                                  "a valid bearer token from /oauth/token is required");
    respond(c, 401, "application/json", body ? body : "", body ? strlen(body) : 0,
            "WWW-Authenticate: Bearer realm=\"servescale\"\r\n");
    free(body);
    return;
  }
  const struct ss__gw_pred *p = pick_predictor(w, d);
  struct request *r = calloc(1, sizeof *r);
  if (!r || !p) {
    free(r);
    respond_error(c, 500, "INTERNAL", "out of memory");
    return;
  }
  r->w = w;
  r->conn = c;
  r->table = w->table;
  atomic_fetch_add(&r->table->refs, 1);
  r->dep = d;
  r->pred = p;
  r->kind = kind;
  r->start_ns = mono_ns();
  c->req = r;
  size_t meta_at, meta_len;
  const char *in = c->body.p ? c->body.p : "";
  int scan = p->fast_node && kind == SS_GW_PREDICT ? ss__gw_scan(in, c->body.n, &meta_at, &meta_len)
                                                   : 1;
  if (scan == 0 && meta_len == 0) {
    /* one model, a plain request: no JSON tree (fastpath.h) */
    r->fast = true;
    uint64_t seed = rnd(w);
    ss__gw_puid(&seed, r->puid);
    r->fast_req = ss__gw_fast_request(in, c->body.n, r->puid, &r->fast_req_len);
    struct call *call = r->fast_req ? calloc(1, sizeof *call) : NULL;
    if (call && !(call->body = malloc(r->fast_req_len + 1))) {
      free(call);
      call = NULL;
    }
    if (!call) {
      free(r->fast_req);
      c->req = NULL;
      ss__gw_table_unref(r->table, &w->gw->reg);
      free(r);
      respond_error(c, 500, "INTERNAL", "out of memory");
      return;
    }
    memcpy(call->body, r->fast_req, r->fast_req_len + 1);
    call->len = r->fast_req_len;
    call->req = r;
    call->node = p->fast_node;
    snprintf(call->path, sizeof call->path, "/predict");
    call->target = ss__gw_target_of(p, p->fast_node->component, p->fast_node->container);
    call->started_ns = mono_ns();
    r->pending = 2; /* the call, and this function until the end */
    dispatch(w, call);
    r->pending--;
    request_finish(r);
    return;
  }
  r->pending = 1; /* held while starting, so a synchronous answer waits */
  struct ss_gw_exec_config xc = {.call = on_call, .image_of = image_of, .ctx = r,
                                 .rng_seed = rnd(w)};
  r->ex = ss_gw_exec_start_with(&p->p->graph, kind, c->body.p ? c->body.p : "", c->body.n, &xc);
  r->pending--;
  if (!r->ex) {
    c->req = NULL;
    ss__gw_table_unref(r->table, &w->gw->reg);
    free(r);
    respond_error(c, 500, "INTERNAL", "out of memory");
    return;
  }
  request_finish(r);
}

static void handle(struct conn *c) {
  c->complete = false;
  const char *url = c->url.p ? c->url.p : "";
  char path[1024];
  size_t pl = strcspn(url, "?");
  snprintf(path, sizeof path, "%.*s", (int)(pl < sizeof path ? pl : sizeof path - 1), url);
  int method = c->parser.method;
  if (c->too_large) {
    c->keep_alive = false;
    respond_error(c, 413, "BAD_REQUEST", "request body larger than the limit (10 MiB)");
    return;
  }
  char ns[128], name[128], ver[16], rest[64];
  if (sscanf(path, "/seldon/%127[^/]/%127[^/]/api/%15[^/]/%63s", ns, name, ver, rest) == 4 &&
      (strcmp(ver, "v1.0") == 0 || strcmp(ver, "v0.1") == 0)) {
    if (strcmp(rest, "predictions") == 0 || strcmp(rest, "feedback") == 0) {
      if (method != HTTP_POST) {
        respond_error(c, 405, "BAD_REQUEST", "use POST");
        return;
      }
      handle_predict(c, ns, name, rest[0] == 'p' ? SS_GW_PREDICT : SS_GW_FEEDBACK);
      return;
    }
    if (strcmp(rest, "health/ping") == 0) {
      respond(c, 200, "text/plain", "pong", 4, NULL);
      return;
    }
  }
  if (strcmp(path, "/prometheus") == 0 || strcmp(path, "/metrics") == 0) {
    handle_metrics(c);
  } else if (strcmp(path, "/ready") == 0 || strcmp(path, "/live") == 0 ||
             strcmp(path, "/healthz") == 0) {
    respond(c, 200, "text/plain", "ok", 2, NULL);
  } else if (strcmp(path, "/oauth/token") == 0 && method == HTTP_POST) {
    handle_token(c);
  } else if (strcmp(path, "/sd/targets") == 0) {
    handle_sd(c);
  } else {
    respond_error(c, 404, "NOT_FOUND", "no such path");
  }
}

/* ---- the loop ---- */

static void accept_all(struct worker *w) {
  for (;;) {
    int fd = accept4(w->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR)
        continue;
      return;
    }
    struct conn *c = calloc(1, sizeof *c);
    if (!c) {
      close(fd);
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->kind = K_CONN;
    c->fd = fd;
    c->w = w;
    c->keep_alive = true;
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    c->last_ms = w->now_ms;
    conn_reset_request(c);
    c->next = w->conns;
    if (w->conns)
      w->conns->prev = c;
    w->conns = c;
    ep_set(w, fd, c, &c->events, EPOLLIN | EPOLLRDHUP);
  }
}

static void take_latest(struct worker *w) {
  struct ss_gateway *gw = w->gw;
  pthread_mutex_lock(&gw->mu);
  if (gw->latest && gw->epoch != w->epoch) {
    struct ss_gw_table *old = w->table;
    w->table = gw->latest;
    atomic_fetch_add(&w->table->refs, 1);
    w->epoch = gw->epoch;
    pthread_mutex_unlock(&gw->mu);
    ss__gw_table_unref(old, &gw->reg);
  } else {
    pthread_mutex_unlock(&gw->mu);
  }
}

static void retry_queue(struct worker *w) {
  struct call *q = w->queue_head;
  w->queue_head = w->queue_tail = NULL;
  w->queued = 0;
  while (q) {
    struct call *next = q->qnext;
    if (w->now_ms >= q->deadline_ms || w->stopping)
      call_answer(w, q, 503, "no ready replica in time", 24);
    else
      dispatch(w, q);
    q = next;
  }
}

static void sweep_timeouts(struct worker *w) {
  for (struct conn *c = w->conns, *n; c; c = n) {
    n = c->next;
    if (c->req || c->out.n)
      continue;
    bool idle = c->rlen == 0 && c->url.n == 0;
    if ((idle && w->now_ms - c->last_ms > SS_GW_IDLE_TIMEOUT_MS) ||
        (!idle && w->now_ms > c->head_deadline_ms))
      conn_close(c);
  }
  /* a call past its deadline: the replica is stuck; the call fails (it may
   * have been acted on, so it is not retried) */
  for (struct upconn *u = w->ups, *n; u; u = n) {
    n = u->all_next;
    if (u->state != UP_IDLE && u->call && w->now_ms >= u->deadline_ms) {
      u->reused = false;
      u->state = UP_BUSY;
      up_failed(u, "the replica did not answer in time");
    }
  }
}

static void *worker_main(void *arg) {
  struct worker *w = arg;
  struct epoll_event evs[MAX_EVENTS];
  int64_t next_sweep = 0, stop_by = 0;
  for (;;) {
    int n = epoll_wait(w->ep, evs, MAX_EVENTS, TICK_MS);
    w->now_ms = mono_ms();
    for (int i = 0; i < n; i++) {
      enum kind *k = evs[i].data.ptr;
      if (*k == K_LISTEN) {
        accept_all(w);
      } else if (*k == K_EVENT) {
        uint64_t v;
        while (read(w->evfd, &v, sizeof v) > 0)
          ;
        take_latest(w);
        retry_queue(w);
      } else if (*k == K_CONN) {
        struct conn *c = (struct conn *)k;
        if (evs[i].events & EPOLLOUT && c->out.n) {
          conn_write(c);
          continue;
        }
        if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
          conn_read(c);
      } else {
        up_event((struct upconn *)k, evs[i].events);
      }
    }
    if (w->now_ms >= next_sweep) {
      next_sweep = w->now_ms + 250;
      sweep_timeouts(w);
      if (w->queue_head)
        retry_queue(w);
    }
    if (atomic_load(&w->gw->stopping) && !w->stopping) {
      w->stopping = true;
      stop_by = w->now_ms + STOP_GRACE_MS;
      epoll_ctl(w->ep, EPOLL_CTL_DEL, w->lfd, NULL);
      close(w->lfd);
      w->lfd = -1;
    }
    if (w->stopping) {
      bool busy = false;
      for (struct conn *c = w->conns; c; c = c->next)
        busy = busy || c->req || c->out.n;
      if (!busy || w->now_ms >= stop_by)
        break;
    }
  }
  while (w->conns)
    conn_close(w->conns);
  while (w->queue_head) {
    struct call *q = w->queue_head;
    w->queue_head = q->qnext;
    call_answer(w, q, 503, "shutting down", 13);
  }
  for (size_t b = 0; b < 256; b++) {
    while (w->pools[b]) {
      struct pool *p = w->pools[b];
      while (p->idle)
        up_close(p->idle);
      w->pools[b] = p->next;
      free(p);
    }
  }
  return NULL;
}

static int listen_on(const char *addr, int port) {
  int fd = socket(strchr(addr, ':') ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  int rc;
  if (strchr(addr, ':')) {
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
    inet_pton(AF_INET6, addr, &a.sin6_addr);
    rc = bind(fd, (struct sockaddr *)&a, sizeof a);
  } else {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, addr, &a.sin_addr) != 1) {
      close(fd);
      return -1;
    }
    rc = bind(fd, (struct sockaddr *)&a, sizeof a);
  }
  if (rc != 0 || listen(fd, 1024) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static int bound_port(int fd) {
  struct sockaddr_storage ss;
  socklen_t l = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &l) != 0)
    return 0;
  if (ss.ss_family == AF_INET6)
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
  return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

enum ss_err ss_gateway_start(const struct ss_gateway_config *cfg, struct ss_gateway **out,
                             struct ss_error *err) {
  struct ss_gateway *gw = calloc(1, sizeof *gw);
  if (!gw)
    return ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
  gw->cfg = *cfg;
  const char *addr = cfg->bind_addr ? cfg->bind_addr : "127.0.0.1";
  gw->queue_timeout_ms = cfg->queue_timeout_ms > 0 ? cfg->queue_timeout_ms : SS_GW_QUEUE_TIMEOUT_MS;
  gw->call_timeout_ms = cfg->call_timeout_ms > 0 ? cfg->call_timeout_ms : SS_GW_CALL_TIMEOUT_MS;
  pthread_mutex_init(&gw->mu, NULL);
  ss__gw_registry_init(&gw->reg);
  gw->oauth = ss__gw_oauth_new();
  gw->n_workers = cfg->workers > 0 ? cfg->workers : (int)sysconf(_SC_NPROCESSORS_ONLN);
  if (gw->n_workers < 1)
    gw->n_workers = 1;
  gw->workers = calloc((size_t)gw->n_workers, sizeof *gw->workers);
  if (!gw->workers || !gw->oauth) {
    ss_gateway_stop(gw);
    return ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
  }
  if (cfg->metrics) {
    static const char *const server_labels[] = {"deployment_name", "predictor_name",
                                                "predictor_version", "service", "method", "code"};
    static const char *const client_labels[] = {
        "deployment_name", "predictor_name", "predictor_version", "service", "method",
        "code",            "model_name",     "model_image",       "model_version"};
    ss_metrics_family(cfg->metrics, "seldon_api_executor_server_requests_seconds",
                      SS_METRIC_HISTOGRAM, "Requests served by the gateway, in seconds",
                      server_labels, 6, NULL, 0);
    ss_metrics_family(cfg->metrics, "seldon_api_executor_client_requests_seconds",
                      SS_METRIC_HISTOGRAM, "Calls from the gateway to graph nodes, in seconds",
                      client_labels, 9, NULL, 0);
  }
  int port = cfg->port;
  for (int i = 0; i < gw->n_workers; i++) {
    struct worker *w = &gw->workers[i];
    w->kind_event = K_EVENT;
    w->kind_listen = K_LISTEN;
    w->gw = gw;
    w->lfd = w->evfd = w->ep = -1;
    w->rng = 0x9E3779B97F4A7C15ull ^ ((uint64_t)i << 32) ^ (uint64_t)mono_ns();
    w->lfd = listen_on(addr, port);
    if (w->lfd < 0) {
      int e = errno;
      gw->n_workers = i;
      ss_gateway_stop(gw);
      return ss_error_set(err, SS_EIO, 0, 0, "gateway cannot listen on %s port %d: %s", addr,
                          port, strerror(e));
    }
    if (i == 0)
      port = gw->port = bound_port(w->lfd); /* the others share it */
    w->ep = epoll_create1(EPOLL_CLOEXEC);
    w->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ep_mod(w, w->lfd, &w->kind_listen, EPOLLIN);
    ep_mod(w, w->evfd, &w->kind_event, EPOLLIN);
  }
  for (int i = 0; i < gw->n_workers; i++)
    pthread_create(&gw->workers[i].th, NULL, worker_main, &gw->workers[i]);
  *out = gw;
  return SS_EOK;
}

int ss_gateway_port(const struct ss_gateway *gw) { return gw->port; }

static void wake_all(struct ss_gateway *gw) {
  uint64_t one = 1;
  for (int i = 0; i < gw->n_workers; i++)
    if (gw->workers[i].evfd >= 0 && write(gw->workers[i].evfd, &one, sizeof one) < 0) {
      /* a full eventfd counter still wakes the worker */
    }
}

void ss_gateway_publish(struct ss_gateway *gw, struct ss_gw_table *t) {
  t->gw = gw;
  ss__gw_table_resolve(t, &gw->reg, gw->cfg.metrics);
  pthread_mutex_lock(&gw->mu);
  struct ss_gw_table *old = gw->latest;
  gw->latest = t;
  gw->epoch++;
  pthread_mutex_unlock(&gw->mu);
  ss__gw_table_unref(old, &gw->reg);
  wake_all(gw);
}

bool ss_gateway_idle(struct ss_gateway *gw, const char *replica_id) {
  bool idle = true;
  /* absent: nothing routes to it or holds a connection to it */
  struct ss__gw_ep *e = ss__gw_ep_find(&gw->reg, replica_id);
  if (e)
    idle = !atomic_load(&e->routable) && atomic_load(&e->inflight) == 0;
  return idle;
}

int ss_gateway_inflight(struct ss_gateway *gw, const char *replica_id) {
  struct ss__gw_ep *e = ss__gw_ep_find(&gw->reg, replica_id);
  return e ? atomic_load(&e->inflight) : 0;
}

int ss_gateway_queued(struct ss_gateway *gw, const char *rs) {
  int n = 0;
  pthread_mutex_lock(&gw->mu);
  for (size_t i = 0; i < gw->n_queued; i++)
    if (strcmp(gw->queued[i].rs, rs) == 0)
      n = gw->queued[i].n;
  pthread_mutex_unlock(&gw->mu);
  return n;
}

void ss_gateway_stop(struct ss_gateway *gw) {
  if (!gw)
    return;
  atomic_store(&gw->stopping, true);
  wake_all(gw);
  for (int i = 0; i < gw->n_workers; i++) {
    struct worker *w = &gw->workers[i];
    if (w->th)
      pthread_join(w->th, NULL);
    if (w->lfd >= 0)
      close(w->lfd);
    if (w->evfd >= 0)
      close(w->evfd);
    if (w->ep >= 0)
      close(w->ep);
    ss__gw_table_unref(w->table, &gw->reg);
  }
  ss__gw_table_unref(gw->latest, &gw->reg);
  free(gw->workers);
  free(gw->queued);
  ss__gw_oauth_free(gw->oauth);
  ss__gw_registry_destroy(&gw->reg);
  pthread_mutex_destroy(&gw->mu);
  free(gw);
}
