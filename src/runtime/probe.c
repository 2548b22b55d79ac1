/* probe.c: one attempt of a Kubernetes probe (HTTP GET, TCP connect, exec)
 * as a non-blocking state machine, so that the tick can have many in
 * flight and never wait on one. What a result means (ready, restart) is
 * runtime.c's business; the thresholds are counted there. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/internal.h"

/* Kubernetes' defaults (core/v1 Probe). */
#define K8S_PERIOD_S 10
#define K8S_TIMEOUT_S 1
#define K8S_SUCCESS_THRESHOLD 1
#define K8S_FAILURE_THRESHOLD 3
/* The kubelet's HTTP probe counts 200..399 as success. */
#define HTTP_OK_MIN 200
#define HTTP_OK_MAX 399

enum { STAGE_CONNECT, STAGE_SEND, STAGE_READ, STAGE_EXEC };

int ss__probe_period_ms(const struct ss_probe *p) {
  if (p->period_ms > 0)
    return p->period_ms;
  return (p->period_s > 0 ? p->period_s : K8S_PERIOD_S) * 1000;
}
int ss__probe_timeout_ms(const struct ss_probe *p) {
  return (p->timeout_s > 0 ? p->timeout_s : K8S_TIMEOUT_S) * 1000;
}
int ss__probe_success_threshold(const struct ss_probe *p) {
  return p->success_threshold > 0 ? p->success_threshold : K8S_SUCCESS_THRESHOLD;
}
int ss__probe_failure_threshold(const struct ss_probe *p) {
  return p->failure_threshold > 0 ? p->failure_threshold : K8S_FAILURE_THRESHOLD;
}

void ss__probe_init(struct ss__probe_run *r) {
  memset(r, 0, sizeof *r);
  r->fd = -1;
}

/* Ends an attempt with a result. */
static enum ss__probe_result finish(struct ss__probe_run *r, enum ss__probe_result res) {
  if (r->fd >= 0)
    close(r->fd);
  r->fd = -1;
  r->pid = 0;
  r->busy = false;
  if (res == SS__PROBE_OK)
    r->why[0] = '\0';
  return res;
}

static enum ss__probe_result fail_errno(struct ss__probe_run *r, const char *what, int err) {
  snprintf(r->why, sizeof r->why, "%s: %s", what, strerror(err));
  return finish(r, SS__PROBE_FAIL);
}

enum ss__probe_result ss__probe_begin(struct ss__probe_run *r, const struct ss_probe *p,
                                      int port, char *const *envp, int64_t now_ms) {
  r->busy = true;
  r->fd = -1;
  r->pid = 0;
  r->req_len = r->req_off = r->resp_len = 0;
  r->deadline_ms = now_ms + ss__probe_timeout_ms(p);
  int probe_port = p->port > 0 ? p->port : port;

  if (p->type == SS_PROBE_EXEC) {
    if (!p->exec_argv || !p->exec_argv[0]) {
      snprintf(r->why, sizeof r->why, "exec probe without a command");
      return finish(r, SS__PROBE_FAIL);
    }
    struct ss__spawn_req req = {.argv = p->exec_argv, .envp = envp};
    char msg[SS__MSG_MAX];
    pid_t pid;
    if (ss__spawn(&req, &pid, msg, sizeof msg)) {
      snprintf(r->why, sizeof r->why, "%s", msg);
      return finish(r, SS__PROBE_FAIL);
    }
    r->pid = pid;
    r->stage = STAGE_EXEC;
    return SS__PROBE_PENDING;
  }

  if (p->type == SS_PROBE_HTTP) {
    const char *path = p->path[0] ? p->path : "/";
    int n = snprintf(r->req, sizeof r->req,
                     "GET %s%s HTTP/1.0\r\nHost: 127.0.0.1:%d\r\n"
                     "User-Agent: kube-probe/servescale\r\nAccept: */*\r\n\r\n",
                     path[0] == '/' ? "" : "/", path, probe_port);
    if (n < 0 || (size_t)n >= sizeof r->req) {
      snprintf(r->why, sizeof r->why, "probe path too long");
      return finish(r, SS__PROBE_FAIL);
    }
    r->req_len = (size_t)n;
  }
  r->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (r->fd < 0)
    return fail_errno(r, "socket", errno);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)probe_port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  r->stage = STAGE_CONNECT;
  if (connect(r->fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS)
    return fail_errno(r, "connect", errno);
  return ss__probe_step(r, now_ms, NULL);
}

/* Reads "HTTP/1.x NNN" from what the server sent. */
static enum ss__probe_result http_status(struct ss__probe_run *r) {
  r->resp[r->resp_len < sizeof r->resp ? r->resp_len : sizeof r->resp - 1] = '\0';
  int code = 0;
  if (strncmp(r->resp, "HTTP/", 5) != 0 || sscanf(r->resp, "HTTP/%*s %3d", &code) != 1) {
    snprintf(r->why, sizeof r->why, "malformed HTTP response");
    return finish(r, SS__PROBE_FAIL);
  }
  if (code < HTTP_OK_MIN || code > HTTP_OK_MAX) {
    snprintf(r->why, sizeof r->why, "HTTP probe failed with statuscode: %d", code);
    return finish(r, SS__PROBE_FAIL);
  }
  return finish(r, SS__PROBE_OK);
}

static enum ss__probe_result step_socket(struct ss__probe_run *r) {
  if (r->stage == STAGE_CONNECT) {
    struct pollfd pfd = {.fd = r->fd, .events = POLLOUT};
    if (poll(&pfd, 1, 0) <= 0)
      return SS__PROBE_PENDING;
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
      err = errno;
    if (err)
      return fail_errno(r, "connect", err);
    if (r->req_len == 0) /* TCP: connected is all we wanted */
      return finish(r, SS__PROBE_OK);
    r->stage = STAGE_SEND;
  }
  while (r->stage == STAGE_SEND) {
    ssize_t n = send(r->fd, r->req + r->req_off, r->req_len - r->req_off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return SS__PROBE_PENDING;
    if (n < 0)
      return fail_errno(r, "send", errno);
    r->req_off += (size_t)n;
    if (r->req_off == r->req_len)
      r->stage = STAGE_READ;
  }
  for (;;) {
    if (memchr(r->resp, '\n', r->resp_len))
      return http_status(r);
    if (r->resp_len >= sizeof r->resp - 1) {
      snprintf(r->why, sizeof r->why, "HTTP status line too long");
      return finish(r, SS__PROBE_FAIL);
    }
    ssize_t n = recv(r->fd, r->resp + r->resp_len, sizeof r->resp - 1 - r->resp_len, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return SS__PROBE_PENDING;
    if (n < 0)
      return fail_errno(r, "read", errno);
    if (n == 0)
      return http_status(r);
    r->resp_len += (size_t)n;
  }
}

static enum ss__probe_result step_exec(struct ss__probe_run *r) {
  int st;
  pid_t w;
  do
    w = waitpid(r->pid, &st, WNOHANG);
  while (w < 0 && errno == EINTR);
  if (w == 0)
    return SS__PROBE_PENDING;
  if (w < 0)
    return fail_errno(r, "wait", errno);
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
    return finish(r, SS__PROBE_OK);
  if (WIFEXITED(st))
    snprintf(r->why, sizeof r->why, "command exited with status %d", WEXITSTATUS(st));
  else
    snprintf(r->why, sizeof r->why, "command killed by signal %d", WTERMSIG(st));
  return finish(r, SS__PROBE_FAIL);
}

enum ss__probe_result ss__probe_step(struct ss__probe_run *r, int64_t now_ms, pid_t *zombie) {
  if (!r->busy)
    return SS__PROBE_PENDING;
  enum ss__probe_result res = r->stage == STAGE_EXEC ? step_exec(r) : step_socket(r);
  if (res != SS__PROBE_PENDING || now_ms < r->deadline_ms)
    return res;
  pid_t left = ss__probe_cancel(r);
  if (zombie)
    *zombie = left;
  snprintf(r->why, sizeof r->why, "timeout");
  return SS__PROBE_FAIL;
}

pid_t ss__probe_cancel(struct ss__probe_run *r) {
  pid_t left = 0;
  if (r->busy && r->pid > 0) {
    ss__kill_group(r->pid, SIGKILL);
    int st;
    pid_t w;
    do
      w = waitpid(r->pid, &st, WNOHANG);
    while (w < 0 && errno == EINTR);
    if (w == 0)
      left = r->pid; /* not dead yet: the caller reaps it later */
  }
  finish(r, SS__PROBE_FAIL);
  return left;
}

bool ss__probe_pollfd(const struct ss__probe_run *r, struct pollfd *pfd) {
  if (!r->busy || r->fd < 0)
    return false;
  pfd->fd = r->fd;
  pfd->events = r->stage == STAGE_READ ? POLLIN : POLLOUT;
  pfd->revents = 0;
  return true;
}
