/* upstream.c: the gateway's connections to replicas: a keep-alive pool per
 * replica per worker, connecting, sending a call, reading the answer
 * (http_parser), retrying a call where that is safe, and the call deadline.
 * Which replica a call goes to is call.c's. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gateway/worker.h"

#define CALL_ATTEMPTS 3

static struct ss__gw_pool *pool_of(struct ss__gw_worker *w, struct ss__gw_ep *ep, bool create) {
  size_t b = ((uintptr_t)ep >> 4) % SS__GW_POOL_BUCKETS;
  for (struct ss__gw_pool *p = w->pools[b]; p; p = p->next)
    if (p->ep == ep)
      return p;
  if (!create)
    return NULL;
  struct ss__gw_pool *p = calloc(1, sizeof *p);
  if (p) {
    p->ep = ep;
    p->next = w->pools[b];
    w->pools[b] = p;
  }
  return p;
}

static void up_close(struct ss__gw_upconn *u) {
  struct ss__gw_worker *w = u->w;
  epoll_ctl(w->ep, EPOLL_CTL_DEL, u->fd, NULL);
  close(u->fd);
  if (u->state == SS__GW_UP_IDLE) {
    struct ss__gw_pool *p = pool_of(w, u->ep, false);
    if (p) {
      struct ss__gw_upconn **pp = &p->idle;
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
  ss__gw_buf_free(&u->out);
  ss__gw_buf_free(&u->body);
  ss__gw_ep_unref(&w->gw->reg, u->ep);
  free(u);
}

static int up_on_status(http_parser *p, const char *at, size_t n) {
  (void)at;
  (void)n;
  struct ss__gw_upconn *u = p->data;
  u->status = (int)p->status_code;
  return 0;
}

static int up_on_body(http_parser *p, const char *at, size_t n) {
  struct ss__gw_upconn *u = p->data;
  if (u->body.n + n > SS_GW_MAX_BODY * 4)
    return -1;
  return ss__gw_buf_add(&u->body, at, n) ? 0 : -1;
}

static int up_on_complete(http_parser *p) {
  struct ss__gw_upconn *u = p->data;
  u->complete = true;
  u->keep_alive = http_should_keep_alive(p);
  return 0;
}

static const http_parser_settings up_settings = {
    .on_status = up_on_status,
    .on_body = up_on_body,
    .on_message_complete = up_on_complete,
};


static bool up_send(struct ss__gw_upconn *u) {
  while (u->out_off < u->out.n) {
    ssize_t n = write(u->fd, u->out.p + u->out_off, u->out.n - u->out_off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      ss__gw_ep_set(u->w, u->fd, u, &u->events, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
      return true;
    }
    if (n <= 0)
      return false;
    u->out_off += (size_t)n;
  }
  ss__gw_ep_set(u->w, u->fd, u, &u->events, EPOLLIN | EPOLLRDHUP);
  return true;
}

/* The call on u failed before an answer: retry it when that is safe (the
 * replica cannot have acted on it), else answer it with status 0. */
static void up_failed(struct ss__gw_upconn *u, const char *why) {
  struct ss__gw_worker *w = u->w;
  struct ss__gw_call *call = u->call;
  /* Safe: the replica never had it (refused), or it went to an idle
   * connection that turned out closed and nothing came back. The latter
   * may repeat a prediction a dying replica had read, which inference
   * tolerates; feedback (rewards) is never sent twice. */
  bool safe = u->state == SS__GW_UP_CONNECTING ||
              (u->reused && u->got == 0 && call && strcmp(call->path, "/send-feedback") != 0);
  if (u->state == SS__GW_UP_CONNECTING) /* nothing listens there: pass it over for a while */
    atomic_store(&u->ep->down_since_ms, w->now_ms > 0 ? w->now_ms : 1);
  u->call = NULL;
  atomic_fetch_sub(&u->ep->inflight, 1);
  up_close(u);
  if (!call)
    return;
  if (safe && call->attempts < CALL_ATTEMPTS && !w->stopping) {
    ss__gw_dispatch(w, call);
    return;
  }
  ss__gw_call_answer(w, call, 0, why, strlen(why));
}

void ss__gw_up_start(struct ss__gw_worker *w, struct ss__gw_call *call, struct ss__gw_ep *ep) {
  struct ss__gw_pool *p = pool_of(w, ep, true);
  struct ss__gw_upconn *u = p ? p->idle : NULL;
  call->attempts++;
  atomic_fetch_add(&ep->inflight, 1);
  if (u) {
    p->idle = u->next;
    u->next = NULL;
    u->state = SS__GW_UP_BUSY;
  } else {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    u = fd >= 0 ? calloc(1, sizeof *u) : NULL;
    if (!u) {
      if (fd >= 0)
        close(fd);
      atomic_fetch_sub(&ep->inflight, 1);
      ss__gw_call_answer(w, call, 0, "cannot open a connection", 24);
      return;
    }
    u->kind = SS__GW_K_UP;
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
    u->state = (rc == 0) ? SS__GW_UP_BUSY : SS__GW_UP_CONNECTING;
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
  char head[SS__GW_CALL_PATH + 160];
  int n = call->get ? snprintf(head, sizeof head, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n",
                               call->path, ep->port)
                    : snprintf(head, sizeof head,
                               "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                               "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                               call->path, ep->port, call->len);
  ss__gw_buf_add(&u->out, head, (size_t)n < sizeof head ? (size_t)n : sizeof head - 1);
  ss__gw_buf_add(&u->out, call->body, call->len);
  if (u->state == SS__GW_UP_CONNECTING) {
    ss__gw_ep_set(w, u->fd, u, &u->events, EPOLLOUT | EPOLLRDHUP);
    return;
  }
  if (!up_send(u))
    up_failed(u, "connection lost while sending");
}

void ss__gw_up_event(struct ss__gw_upconn *u, uint32_t events) {
  if (u->state == SS__GW_UP_CONNECTING) {
    int err = 0;
    socklen_t l = sizeof err;
    getsockopt(u->fd, SOL_SOCKET, SO_ERROR, &err, &l);
    if (err) {
      up_failed(u, "connection refused");
      return;
    }
    u->state = SS__GW_UP_BUSY;
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
  char tmp[SS__GW_RBUF];
  for (;;) {
    ssize_t n = read(u->fd, tmp, sizeof tmp);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return;
    if (u->state == SS__GW_UP_IDLE) { /* the replica closed an idle connection */
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
      struct ss__gw_worker *w = u->w;
      struct ss__gw_call *call = u->call;
      u->call = NULL;
      atomic_fetch_sub(&u->ep->inflight, 1);
      int status = u->status;
      struct ss__gw_buf body = u->body;
      u->body = (struct ss__gw_buf){0};
      if (u->keep_alive && n > 0 && !w->stopping) {
        struct ss__gw_pool *p = pool_of(w, u->ep, true);
        u->state = SS__GW_UP_IDLE;
        u->reused = true;
        u->next = p->idle;
        p->idle = u;
        ss__gw_ep_set(w, u->fd, u, &u->events, EPOLLIN | EPOLLRDHUP);
      } else {
        up_close(u);
      }
      if (call)
        ss__gw_call_answer(w, call, status, body.p ? body.p : "", body.n);
      ss__gw_buf_free(&body);
      return;
    }
    if (n == 0)
      return;
  }
}

void ss__gw_up_sweep(struct ss__gw_worker *w) {
  /* a call past its deadline: the replica is stuck; the call fails (it may
   * have been acted on, so it is not retried) */
  for (struct ss__gw_upconn *u = w->ups, *n; u; u = n) {
    n = u->all_next;
    if (u->state != SS__GW_UP_IDLE && u->call && w->now_ms >= u->deadline_ms) {
      u->reused = false;
      u->state = SS__GW_UP_BUSY;
      up_failed(u, "the replica did not answer in time");
    }
  }
}

void ss__gw_pools_free(struct ss__gw_worker *w) {
  for (size_t b = 0; b < SS__GW_POOL_BUCKETS; b++) {
    while (w->pools[b]) {
      struct ss__gw_pool *p = w->pools[b];
      while (p->idle)
        up_close(p->idle);
      w->pools[b] = p->next;
      free(p);
    }
  }
}
