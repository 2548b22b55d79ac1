/* server.c: the control API's HTTP transport on libmicrohttpd: one thread
 * per connection (watches block in their stream callback), connection
 * limits and timeouts, the token checked on the request head before any
 * body is read, body limits, and the mapping of handler answers to
 * responses. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/internal.h"
#include "api/selector.h"

#define SS_API_WATCH_POLL_MS 1000
#define SS_API_BOOKMARK_EVERY_S 10
/* A connection's thread runs one request at a time; its deepest use is a
 * document of SS_DOC_MAX_DEPTH levels walked recursively (jansson, the
 * model, SQLite), far below this even under AddressSanitizer. The system
 * default (8 MiB) would reserve that much address space per connection. */
#define SS_API_THREAD_STACK ((size_t)1 << 20)
/* The fewest connections the open-file cap leaves. */
#define SS_API_MIN_CONNECTIONS 16
/* A request without the token whose body announces at most this much has
 * it read and dropped before its 401, so that a client that writes its
 * whole request before it reads (Python's http.client) gets the answer and
 * not a reset; a larger or chunked body is never read. */
#define SS_API_DENIED_BODY_DROP ((size_t)64 << 10)

struct conn_ctx {
  char *body;
  size_t len, cap;
  bool denied;     /* no token: the body is dropped, the answer is 401 */
  bool too_large;  /* over SS_API_MAX_BODY: the body is dropped, the answer is 413 */
};

struct watch_stream {
  struct ss_api *api;
  struct ss_api_resp resp;     /* owns watch, selectors, initial items */
  struct MHD_Connection *conn;
  size_t next_initial;
  char *pending;
  size_t pending_len, pending_off;
  time_t deadline;             /* 0: none */
  json_t *polled;              /* a polled kind: this look's objects not yet compared */
  bool polled_once;
  time_t last_bookmark;
};

/* Restarts a connection's inactivity timer with timeout_s: libmicrohttpd
 * restarts it when a timeout is set on a connection that has none. */
static void restart_timer(struct MHD_Connection *c, unsigned timeout_s) {
  MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
  MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, timeout_s);
}

static char *event_line(const struct watch_stream *ws, const char *type, json_t *obj) {
  json_t *table = NULL;
  if (ws->resp.watch_table && strcmp(type, "BOOKMARK") != 0) {
    /* kubectl get -w asks for Tables: each event carries a one-row Table */
    table = ss__api_table(ws->resp.watch_kind, json_pack("[O]", obj), "");
    obj = table;
  }
  json_t *ev = json_pack("{s:s, s:O}", "type", type, "object", obj);
  json_decref(table);
  char *s = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
  json_decref(ev);
  if (!s)
    return NULL;
  size_t n = strlen(s);
  char *r = realloc(s, n + 2);
  if (!r) {
    free(s);
    return NULL;
  }
  r[n] = '\n';
  r[n + 1] = '\0';
  return r;
}

static bool client_gone(struct MHD_Connection *c) {
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
  if (!ci)
    return false;
  struct pollfd p = {.fd = ci->connect_fd, .events = POLLRDHUP};
  return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

/* The next change of a polled kind (pods): the current objects compared
 * with those already reported, by name and content; 0 after a poll period
 * without one, as ss_watch_next. */
static int poll_next(struct watch_stream *ws, enum ss_watch_type *type, json_t **obj) {
  struct ss_api_resp *r = &ws->resp;
  const struct ss_api_hooks *hk = &ws->api->cfg.hooks;
  if (!ws->polled || !json_object_size(ws->polled)) {
    if (ws->polled_once) /* nothing new since the last look: wait a period */
      poll(NULL, 0, SS_API_WATCH_POLL_MS);
    json_decref(ws->polled);
    json_t *items = hk->pods ? hk->pods(hk->ctx, r->watch_ns[0] ? r->watch_ns : NULL) : NULL;
    ws->polled = json_object();
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it) json_object_set(
        ws->polled, json_string_value(json_object_get(json_object_get(it, "metadata"), "name")),
        it);
    json_decref(items);
    ws->polled_once = true;
    /* what went away */
    const char *name;
    json_t *old, *tmp;
    json_object_foreach_safe(r->watch_seen, tmp, name, old) {
      if (!json_object_get(ws->polled, name)) {
        *type = SS_WATCH_DELETED;
        *obj = json_incref(old);
        json_object_del(r->watch_seen, name);
        return 1;
      }
    }
  }
  /* what is new or changed, one at a time */
  const char *name;
  json_t *cur, *tmp;
  json_object_foreach_safe(ws->polled, tmp, name, cur) {
    json_t *old = json_object_get(r->watch_seen, name);
    /* status and labels: what changes in a pod (its creationTimestamp is
     * derived again at each look and may move by a second) */
    bool same = old && json_equal(json_object_get(old, "status"), json_object_get(cur, "status")) &&
                json_equal(json_object_get(json_object_get(old, "metadata"), "labels"),
                           json_object_get(json_object_get(cur, "metadata"), "labels"));
    if (!same) {
      *type = old ? SS_WATCH_MODIFIED : SS_WATCH_ADDED;
      *obj = json_incref(cur);
      json_object_set(r->watch_seen, name, cur);
    }
    json_object_del(ws->polled, name);
    if (!same)
      return 1;
  }
  return 0;
}

/* Produces the next line of the stream into ws->pending; false at the end. */
static bool next_line(struct watch_stream *ws) {
  struct ss_api_resp *r = &ws->resp;
  while (r->watch_initial && ws->next_initial < json_array_size(r->watch_initial)) {
    json_t *obj = json_array_get(r->watch_initial, ws->next_initial++);
    if (!ss_selector_matches(r->watch_label, obj) || !ss_selector_matches(r->watch_field, obj))
      continue;
    ss__api_set_version(obj, r->watch_kind, r->watch_version);
    ws->pending = event_line(ws, "ADDED", obj);
    return ws->pending != NULL;
  }
  for (;;) {
    time_t now = time(NULL);
    if (ws->deadline && now >= ws->deadline)
      return false;
    if (r->watch_bookmarks && now - ws->last_bookmark >= SS_API_BOOKMARK_EVERY_S) {
      ws->last_bookmark = now;
      char rv[32], av[128];
      snprintf(rv, sizeof rv, "%llu", (unsigned long long)ss_store_rv(ws->api->cfg.store));
      snprintf(av, sizeof av, "%s%s%s", r->watch_kind->group, *r->watch_kind->group ? "/" : "",
               r->watch_version);
      json_t *bm = json_pack("{s:s, s:s, s:{s:s}}", "kind", r->watch_kind->kind, "apiVersion",
                             av, "metadata", "resourceVersion", rv);
      ws->pending = event_line(ws, "BOOKMARK", bm);
      json_decref(bm);
      return ws->pending != NULL;
    }
    enum ss_watch_type type;
    json_t *obj = NULL;
    int got = r->watch_poll ? poll_next(ws, &type, &obj)
                            : ss_watch_next(r->watch, SS_API_WATCH_POLL_MS, &type, &obj);
    if (got < 0)
      return false;
    if (got == 0) {
      if (client_gone(ws->conn))
        return false;
      continue;
    }
    if (!ss_selector_matches(r->watch_label, obj) || !ss_selector_matches(r->watch_field, obj)) {
      json_decref(obj);
      continue;
    }
    ss__api_set_version(obj, r->watch_kind, r->watch_version);
    static const char *const names[] = {"ADDED", "MODIFIED", "DELETED"};
    ws->pending = event_line(ws, names[type], obj);
    json_decref(obj);
    return ws->pending != NULL;
  }
}

static ssize_t watch_reader(void *cls, uint64_t pos, char *buf, size_t max) {
  (void)pos;
  struct watch_stream *ws = cls;
  if (!ws->pending) {
    if (!next_line(ws))
      return MHD_CONTENT_READER_END_OF_STREAM;
    ws->pending_len = strlen(ws->pending);
    ws->pending_off = 0;
    /* A quiet watch blocks in next_line for as long as nothing changes:
     * that wait is not the client's idleness, so the idle timeout counts
     * from now, the line about to be sent. */
    restart_timer(ws->conn, ws->api->idle_timeout_s);
  }
  size_t n = ws->pending_len - ws->pending_off;
  if (n > max)
    n = max;
  memcpy(buf, ws->pending + ws->pending_off, n);
  ws->pending_off += n;
  if (ws->pending_off == ws->pending_len) {
    free(ws->pending);
    ws->pending = NULL;
  }
  return (ssize_t)n;
}

static void watch_free(void *cls) {
  struct watch_stream *ws = cls;
  ss__api_resp_free(&ws->resp);
  json_decref(ws->polled);
  free(ws->pending);
  free(ws);
}

/* A pod's log from its last tail lines (-1: all), and with follow what is
 * appended after, as `kubectl logs --tail N -f` reads it. */
struct log_stream {
  int fd;
  off_t pos;
  bool follow;
  struct MHD_Connection *conn;
};

#define SS_API_LOG_POLL_MS 200

/* Where the last n (> 0) lines of fd begin: 0 when it has fewer. */
static off_t tail_start(int fd, long n) {
  off_t end = lseek(fd, 0, SEEK_END), pos = end;
  char buf[4096];
  long lines = 0;
  if (end <= 0)
    return 0;
  while (pos > 0) {
    size_t chunk = pos < (off_t)sizeof buf ? (size_t)pos : sizeof buf;
    pos -= (off_t)chunk;
    ssize_t got = pread(fd, buf, chunk, pos);
    if (got <= 0)
      return 0;
    for (ssize_t i = got - 1; i >= 0; i--) {
      /* the newline ending the last line starts no line */
      if (buf[i] == '\n' && pos + i != end - 1 && ++lines == n)
        return pos + i + 1;
    }
  }
  return 0;
}

static ssize_t log_reader(void *cls, uint64_t at, char *buf, size_t max) {
  (void)at;
  struct log_stream *ls = cls;
  for (;;) {
    ssize_t n = pread(ls->fd, buf, max, ls->pos);
    if (n > 0) {
      ls->pos += n;
      return n;
    }
    if (n < 0 || !ls->follow || client_gone(ls->conn))
      return MHD_CONTENT_READER_END_OF_STREAM;
    poll(NULL, 0, SS_API_LOG_POLL_MS); /* nothing new yet */
  }
}

static void log_free(void *cls) {
  struct log_stream *ls = cls;
  close(ls->fd);
  free(ls);
}

/* Takes fd. */
static struct MHD_Response *log_response(struct MHD_Connection *c, int fd, long tail,
                                         bool follow) {
  struct log_stream *ls = calloc(1, sizeof *ls);
  if (!ls) {
    close(fd);
    return NULL;
  }
  *ls = (struct log_stream){fd, tail >= 0 ? tail_start(fd, tail) : 0, follow, c};
  if (tail == 0)
    ls->pos = lseek(fd, 0, SEEK_END);
  struct MHD_Response *mr =
      MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, log_reader, ls, log_free);
  if (!mr)
    log_free(ls);
  return mr;
}

static void add_warnings(struct MHD_Response *mr, const struct ss_api_resp *r) {
  for (int i = 0; i < r->n_warnings; i++) {
    char h[1200];
    size_t o = (size_t)snprintf(h, sizeof h, "299 - \"");
    for (const char *p = r->warnings[i]; *p && o + 4 < sizeof h; p++) {
      if (*p == '"' || *p == '\\')
        h[o++] = '\\';
      h[o++] = (*p == '\n' || *p == '\r') ? ' ' : *p;
    }
    h[o++] = '"';
    h[o] = '\0';
    MHD_add_response_header(mr, "Warning", h);
  }
}

/* Queues r; close_after ends the connection after it (an answer given before
 * the body was read: the body is never read). */
static enum MHD_Result queue(struct MHD_Connection *c, struct ss_api *api,
                             struct ss_api_resp *r, bool close_after) {
  struct MHD_Response *mr = NULL;
  enum MHD_Result ret;
  if (r->watch || r->watch_poll) {
    struct watch_stream *ws = calloc(1, sizeof *ws);
    if (!ws)
      return MHD_NO;
    ws->api = api;
    ws->resp = *r;
    ws->conn = c;
    ws->last_bookmark = time(NULL);
    /* the initial list may have taken a while; and see watch_reader */
    restart_timer(c, api->idle_timeout_s);
    if (r->watch_timeout_s > 0)
      ws->deadline = time(NULL) + r->watch_timeout_s;
    memset(r, 0, sizeof *r);
    mr = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, watch_reader, ws, watch_free);
    if (!mr) {
      watch_free(ws);
      return MHD_NO;
    }
    MHD_add_response_header(mr, "Content-Type", "application/json");
    MHD_add_response_header(mr, "Cache-Control", "no-cache, private");
    ret = MHD_queue_response(c, MHD_HTTP_OK, mr);
    MHD_destroy_response(mr);
    return ret;
  }
  if (r->file) {
    int fd = open(r->file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      ss__api_status(r, 404, "NotFound", "log file not found");
    } else if (r->file_follow || r->file_tail >= 0) {
      mr = log_response(c, fd, r->file_tail, r->file_follow);
    } else {
      off_t size = lseek(fd, 0, SEEK_END);
      mr = MHD_create_response_from_fd_at_offset64(size > 0 ? (uint64_t)size : 0, fd, 0);
      if (!mr)
        close(fd);
    }
  }
  if (!mr && r->body) {
    char *s = json_dumps(r->body, JSON_COMPACT);
    if (!s)
      return MHD_NO;
    mr = MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE);
    if (!mr) {
      free(s);
      return MHD_NO;
    }
    MHD_add_response_header(mr, "Content-Type", "application/json");
  } else if (!mr) {
    const char *t = r->text ? r->text : "";
    size_t tl = r->text_len ? r->text_len : strlen(t);
    mr = MHD_create_response_from_buffer(tl, (void *)t, MHD_RESPMEM_MUST_COPY);
    if (!mr)
      return MHD_NO;
    MHD_add_response_header(mr, "Content-Type", r->content_type ? r->content_type : "text/plain");
  } else if (r->content_type) {
    MHD_add_response_header(mr, "Content-Type", r->content_type);
  }
  add_warnings(mr, r);
  MHD_add_response_header(mr, "Cache-Control", "no-cache, private");
  if (close_after)
    MHD_add_response_header(mr, "Connection", "close");
  ret = MHD_queue_response(c, (unsigned)(r->code ? r->code : 500), mr);
  MHD_destroy_response(mr);
  return ret;
}

static const char *arg(struct MHD_Connection *c, const char *key) {
  return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);
}

/* The first call for a request: its head is in, nothing of its body has
 * been read. Answers at once what must not read a body (401 for one that
 * is large or chunked); otherwise sets up the request's context, which
 * says whether the body is to be kept or dropped. */
static enum MHD_Result on_head(struct ss_api *api, struct MHD_Connection *c, const char *url,
                               const char *method, void **con_cls) {
  enum ss__api_auth auth = ss__api_authorize(
      method, url, MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"),
      api->cfg.token);
  const char *length = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
  bool chunked = !length && MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Transfer-Encoding");
  if (auth == SS__API_AUTH_DENIED &&
      (chunked || ss__api_body_over(length, SS_API_DENIED_BODY_DROP))) {
    struct ss_api_resp resp = {0};
    ss__api_status(&resp, 401, "Unauthorized", "Unauthorized");
    enum MHD_Result ret = queue(c, api, &resp, true);
    ss__api_resp_free(&resp);
    return ret;
  }
  struct conn_ctx *cc = calloc(1, sizeof *cc);
  if (!cc)
    return MHD_NO;
  cc->denied = auth == SS__API_AUTH_DENIED;
  /* Too large as announced: dropped as it comes, answered 413 after it, as
   * a client that writes before it reads expects; the connection, which
   * holds the token, has the idle timeout. */
  cc->too_large = ss__api_body_over(length, SS_API_MAX_BODY);
  *con_cls = cc;
  /* a client that holds the token keeps its connection between requests */
  if (auth == SS__API_AUTH_OK) {
    MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, api->idle_timeout_s);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (ci)
      ss__api_conn_authenticated(api->conns, ci->socket_context);
  }
  return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls) {
  (void)version;
  struct ss_api *api = cls;
  struct conn_ctx *cc = *con_cls;
  if (!cc)
    return on_head(api, c, url, method, con_cls);
  if (*upload_size) {
    /* a chunked body has no Content-Length: its size is known only here */
    if (!cc->too_large && !cc->denied) {
      if (cc->len + *upload_size > SS_API_MAX_BODY) {
        cc->too_large = true;
      } else {
        if (cc->len + *upload_size + 1 > cc->cap) {
          size_t cap = cc->cap ? cc->cap : 16384;
          while (cap < cc->len + *upload_size + 1)
            cap *= 2;
          char *nb = realloc(cc->body, cap);
          if (!nb)
            return MHD_NO;
          cc->body = nb;
          cc->cap = cap;
        }
        memcpy(cc->body + cc->len, upload, *upload_size);
        cc->len += *upload_size;
        cc->body[cc->len] = '\0';
      }
    }
    *upload_size = 0;
    return MHD_YES;
  }
  struct ss_api_resp resp = {0};
  if (cc->denied) {
    ss__api_status(&resp, 401, "Unauthorized", "Unauthorized");
  } else if (cc->too_large) {
    ss__api_status(&resp, 413, "RequestEntityTooLarge",
                   "the request body is larger than the limit of %zu bytes", SS_API_MAX_BODY);
  } else {
    struct ss_api_req req = {
        .method = method,
        .path = url,
        .body = cc->body,
        .body_len = cc->len,
        .content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type"),
        .accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept"),
        .q_watch = arg(c, "watch"),
        .q_rv = arg(c, "resourceVersion"),
        .q_label = arg(c, "labelSelector"),
        .q_metric_label = arg(c, "metricLabelSelector"),
        .q_since = arg(c, "since"),
        .q_field = arg(c, "fieldSelector"),
        .q_timeout = arg(c, "timeoutSeconds"),
        .q_bookmarks = arg(c, "allowWatchBookmarks"),
        .q_dryrun = arg(c, "dryRun"),
        .q_field_validation = arg(c, "fieldValidation"),
        .q_container = arg(c, "container"),
        .q_tail = arg(c, "tailLines"),
        .q_follow = arg(c, "follow"),
        .q_field_manager = arg(c, "fieldManager"),
        .q_force = arg(c, "force"),
        .user_agent = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "User-Agent"),
    };
    ss__api_handle(api, &req, &resp);
  }
  enum MHD_Result ret = queue(c, api, &resp, cc->denied);
  ss__api_resp_free(&resp);
  return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  (void)cls;
  (void)c;
  (void)toe;
  struct conn_ctx *cc = *con_cls;
  if (cc) {
    free(cc->body);
    free(cc);
  }
  *con_cls = NULL;
}

/* Connections open and close: conns.c keeps their deadline to authenticate
 * (the descriptor is closed only after MHD_CONNECTION_NOTIFY_CLOSED). */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe) {
  struct ss_api *api = cls;
  if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    *socket_context = ci ? ss__api_conn_open(api->conns, ci->connect_fd, ss__api_now_ms()) : NULL;
  } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
    ss__api_conn_close(api->conns, *socket_context);
    *socket_context = NULL;
  }
}

/* The connection limit in effect: the configured one, capped at a quarter
 * of the open-file limit so that connections to the API cannot take the
 * descriptors the gateway and the runtime need (see api.h). */
static unsigned connection_limit(int configured) {
  rlim_t want = configured > 0 ? (rlim_t)configured : SS_API_MAX_CONNECTIONS;
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
      want > rl.rlim_cur / 4)
    want = rl.rlim_cur / 4 > SS_API_MIN_CONNECTIONS ? rl.rlim_cur / 4 : SS_API_MIN_CONNECTIONS;
  return (unsigned)want;
}

enum ss_err ss_api_start(const struct ss_api_config *cfg, struct ss_api **out,
                         struct ss_error *err) {
  struct ss_api *api = calloc(1, sizeof *api);
  if (!api)
    return ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
  api->cfg = *cfg;
  api->max_connections = connection_limit(cfg->max_connections);
  api->handshake_timeout_s = cfg->handshake_timeout_s > 0 ? (unsigned)cfg->handshake_timeout_s
                                                          : SS_API_HANDSHAKE_TIMEOUT_S;
  api->idle_timeout_s =
      cfg->idle_timeout_s > 0 ? (unsigned)cfg->idle_timeout_s : SS_API_IDLE_TIMEOUT_S;
  if (!(api->conns = ss__api_conns_new(api->handshake_timeout_s, true))) {
    free(api);
    return ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
  }
  const char *addr = cfg->bind_addr ? cfg->bind_addr : "127.0.0.1";
  struct sockaddr_storage ss = {0};
  /* poll, not select: select cannot watch a descriptor above 1023, and a
   * high connection limit reaches that */
  unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
  if (strchr(addr, ':')) {
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons((uint16_t)cfg->port);
    if (inet_pton(AF_INET6, addr, &s6->sin6_addr) != 1)
      goto bad_addr;
    flags |= MHD_USE_IPv6;
  } else {
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    s4->sin_family = AF_INET;
    s4->sin_port = htons((uint16_t)cfg->port);
    if (inet_pton(AF_INET, addr, &s4->sin_addr) != 1)
      goto bad_addr;
  }
  if (cfg->tls_cert && cfg->tls_key)
    flags |= MHD_USE_TLS;
  /* The global timeout is the short one: a connection gets the idle
   * timeout once a request on it has authenticated (on_head); conns.c
   * ends one that trickles bytes without authenticating. */
  api->mhd = MHD_start_daemon(flags, (uint16_t)cfg->port, NULL, NULL, on_request, api,
                              MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                              MHD_OPTION_HTTPS_MEM_CERT, cfg->tls_cert,
                              MHD_OPTION_HTTPS_MEM_KEY, cfg->tls_key,
                              MHD_OPTION_NOTIFY_COMPLETED, on_completed, api,
                              MHD_OPTION_NOTIFY_CONNECTION, on_connection, api,
                              MHD_OPTION_CONNECTION_LIMIT, api->max_connections,
                              MHD_OPTION_CONNECTION_TIMEOUT, api->handshake_timeout_s,
                              MHD_OPTION_THREAD_STACK_SIZE, SS_API_THREAD_STACK,
                              MHD_OPTION_END);
  if (!api->mhd) {
    ss__api_conns_free(api->conns);
    free(api);
    return ss_error_set(err, SS_EIO, 0, 0, "cannot listen on %s port %d (in use?)", addr,
                        cfg->port);
  }
  const union MHD_DaemonInfo *di = MHD_get_daemon_info(api->mhd, MHD_DAEMON_INFO_BIND_PORT);
  api->port = di ? di->port : cfg->port;
  *out = api;
  return SS_EOK;
bad_addr:
  ss__api_conns_free(api->conns);
  free(api);
  return ss_error_set(err, SS_EUSAGE, 0, 0, "invalid bind address \"%s\"", addr);
}

int ss_api_port(const struct ss_api *api) { return api->port; }

void ss_api_stop(struct ss_api *api) {
  if (!api)
    return;
  if (api->mhd)
    MHD_stop_daemon(api->mhd); /* every connection closed: conns holds none */
  ss__api_conns_free(api->conns);
  free(api);
}
