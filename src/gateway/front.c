/* front.c: the gateway's client side: accepting connections (within the
 * connection limit, and without spinning when descriptors run out),
 * reading requests through http1.c, writing answers, keep-alive and
 * pipelining, and the head and idle timeouts. What a request asks for is
 * route.c's. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>

#include "gateway/message.h"
#include "gateway/worker.h"

#define ACCEPT_PAUSE_MS 100     /* out of descriptors and nothing to shed */
#define LIMIT_LOG_EVERY_MS 10000

static const char *reason_of(int code) {
  switch (code) {
  case 100: return "Continue";
  case 200: return "OK";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 408: return "Request Timeout";
  case 413: return "Payload Too Large";
  case 417: return "Expectation Failed";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 502: return "Bad Gateway";
  case 503: return "Service Unavailable";
  case 504: return "Gateway Timeout";
  case 505: return "HTTP Version Not Supported";
  }
  return code < 300 ? "OK" : "Error";
}

void ss__gw_respond(struct ss__gw_conn *c, int code, const char *ctype, const char *body,
                    size_t len, const char *extra_headers) {
  char head[512];
  int n = snprintf(head, sizeof head,
                   "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s%s\r\n", code,
                   reason_of(code), ctype, len, extra_headers ? extra_headers : "",
                   c->keep_alive ? "" : "Connection: close\r\n");
  ss__gw_buf_add(&c->out, head, (size_t)n);
  ss__gw_buf_add(&c->out, body, len);
  ss__gw_conn_write(c);
}

void ss__gw_respond_error(struct ss__gw_conn *c, int code, const char *reason,
                          const char *info) {
  char *body = ss_gw_error_body(code, reason, info);
  ss__gw_respond(c, code, "application/json", body ? body : "", body ? strlen(body) : 0, NULL);
  free(body);
}

/* ---- the connection list ---- */

static void list_remove(struct ss__gw_worker *w, struct ss__gw_conn *c) {
  if (c->prev)
    c->prev->next = c->next;
  else
    w->conns = c->next;
  if (c->next)
    c->next->prev = c->prev;
  else
    w->oldest = c->prev;
  w->n_conns--;
}

static void list_push(struct ss__gw_worker *w, struct ss__gw_conn *c) {
  c->prev = NULL;
  c->next = w->conns;
  if (w->conns)
    w->conns->prev = c;
  else
    w->oldest = c;
  w->conns = c;
  w->n_conns++;
}

void ss__gw_conn_close(struct ss__gw_conn *c) {
  struct ss__gw_worker *w = c->w;
  epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  if (c->req)
    c->req->conn = NULL; /* its calls finish; the answer goes nowhere */
  list_remove(w, c);
  ss__gw_req_free(&c->q);
  ss__gw_buf_free(&c->out);
  free(c);
}

/* Nothing in flight, nothing to write, no request begun: closing it loses
 * nothing (a keep-alive client reconnects). */
static bool conn_idle(const struct ss__gw_conn *c) {
  return !c->req && !c->out.n && c->rlen == 0 && c->q.url.n == 0;
}

/* Closes the oldest idle connection; false when none is. */
static bool shed_idle(struct ss__gw_worker *w) {
  for (struct ss__gw_conn *c = w->oldest; c; c = c->prev)
    if (conn_idle(c)) {
      ss__gw_conn_close(c);
      return true;
    }
  return false;
}

static void log_limit(struct ss__gw_worker *w, const char *why) {
  int64_t last = atomic_load(&w->gw->limit_logged_ms);
  if (last && w->now_ms - last < LIMIT_LOG_EVERY_MS)
    return;
  if (!atomic_compare_exchange_strong(&w->gw->limit_logged_ms, &last, w->now_ms))
    return;
  fprintf(stderr,
          "event=gateway_connection_limit reason=%s max_connections=%d action=\"closing the "
          "oldest idle connections\"\n",
          why, w->gw->max_conns_per_worker * w->gw->n_workers);
}

/* ---- requests ---- */

static void conn_reset_request(struct ss__gw_conn *c) {
  ss__gw_req_reset(&c->q);
  c->head_deadline_ms = c->w->now_ms + SS_GW_HEADER_TIMEOUT_MS;
}

static void conn_parse(struct ss__gw_conn *c) {
  for (;;) {
    size_t used;
    enum ss__gw_req_state st =
        ss__gw_req_feed(&c->q, c->rbuf + c->roff, c->rlen - c->roff, &used);
    c->roff += used;
    if (c->roff == c->rlen)
      c->roff = c->rlen = 0;
    switch (st) {
    case SS__GW_REQ_MORE:
      return;
    case SS__GW_REQ_CONTINUE: {
      static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
      c->q.continue_sent = true;
      ss__gw_buf_add(&c->out, cont, sizeof cont - 1);
      /* written as the body arrives: a client that waits for it reads it
       * before it sends anything more */
      while (c->out_off < c->out.n) {
        ssize_t n = write(c->fd, c->out.p + c->out_off, c->out.n - c->out_off);
        if (n <= 0)
          break;
        c->out_off += (size_t)n;
      }
      if (c->out_off == c->out.n)
        c->out.n = c->out_off = 0;
      continue;
    }
    case SS__GW_REQ_ERROR:
      c->keep_alive = false;
      ss__gw_respond_error(c, c->q.error_status, "BAD_REQUEST", c->q.error_reason);
      return;
    case SS__GW_REQ_DONE:
      c->keep_alive = ss__gw_req_keep_alive(&c->q);
      ss__gw_handle(c);
      return;
    }
  }
}

void ss__gw_conn_write(struct ss__gw_conn *c) {
  while (c->out_off < c->out.n) {
    ssize_t n = write(c->fd, c->out.p + c->out_off, c->out.n - c->out_off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      ss__gw_ep_set(c->w, c->fd, c, &c->events, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
      return;
    }
    if (n <= 0) {
      ss__gw_conn_close(c);
      return;
    }
    c->out_off += (size_t)n;
  }
  c->out.n = c->out_off = 0;
  if (!c->keep_alive || c->closing) {
    ss__gw_conn_close(c);
    return;
  }
  ss__gw_ep_set(c->w, c->fd, c, &c->events, EPOLLIN | EPOLLRDHUP);
  conn_reset_request(c);
  c->last_ms = c->w->now_ms;
  if (c->roff < c->rlen)
    conn_parse(c); /* a pipelined request already read */
}

void ss__gw_conn_read(struct ss__gw_conn *c) {
  for (;;) {
    if (c->rlen == sizeof c->rbuf) {
      if (c->roff == 0) {
        /* full of a pipelined request while one is answered: stop reading
         * until the answer is out (conn_write asks for EPOLLIN again) */
        ss__gw_ep_set(c->w, c->fd, c, &c->events, EPOLLRDHUP);
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
    if (n <= 0) { /* gone; a request in flight finishes and answers nobody */
      ss__gw_conn_close(c);
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

void ss__gw_conn_sweep(struct ss__gw_worker *w) {
  for (struct ss__gw_conn *c = w->conns, *n; c; c = n) {
    n = c->next;
    if (c->req || c->out.n)
      continue;
    bool idle = c->rlen == 0 && c->q.url.n == 0;
    if ((idle && w->now_ms - c->last_ms > SS_GW_IDLE_TIMEOUT_MS) ||
        (!idle && w->now_ms > c->head_deadline_ms))
      ss__gw_conn_close(c);
  }
}

/* ---- accepting ---- */

/* Out of descriptors: close the spare to take one connection off the
 * backlog and drop it, so that the listening socket stops being readable
 * (else epoll reports it again at once, and the worker spins). */
static void shed_backlog(struct ss__gw_worker *w) {
  if (w->spare_fd >= 0) {
    close(w->spare_fd);
    w->spare_fd = -1;
    int fd = accept4(w->lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd >= 0)
      close(fd);
    w->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  }
  if (w->spare_fd < 0) { /* not even that: stop listening for a while */
    epoll_ctl(w->ep, EPOLL_CTL_DEL, w->lfd, NULL);
    w->accept_paused_until_ms = w->now_ms + ACCEPT_PAUSE_MS;
  }
}

static void conn_new(struct ss__gw_worker *w, int fd) {
  struct ss__gw_conn *c = calloc(1, sizeof *c);
  if (!c) {
    close(fd);
    return;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  c->kind = SS__GW_K_CONN;
  c->fd = fd;
  c->w = w;
  c->keep_alive = true;
  ss__gw_req_init(&c->q);
  c->last_ms = w->now_ms;
  conn_reset_request(c);
  list_push(w, c);
  ss__gw_ep_set(w, fd, c, &c->events, EPOLLIN | EPOLLRDHUP);
}

void ss__gw_accept(struct ss__gw_worker *w) {
  for (;;) {
    int fd = accept4(w->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED)
        continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        log_limit(w, "out_of_descriptors");
        if (shed_idle(w))
          continue;
        shed_backlog(w);
      }
      return;
    }
    if (w->n_conns >= w->gw->max_conns_per_worker) {
      log_limit(w, "max_connections");
      if (!shed_idle(w)) { /* every connection is busy: the newcomer waits its turn */
        close(fd);
        continue;
      }
    }
    conn_new(w, fd);
  }
}
