/* http.c: the client object and its two ways to talk to the API over
 * libcurl: a request read whole, and a stream read line by line (watches).
 * TLS trusts the kubeconfig's certificate authority, in memory. What the
 * requests mean is left to ops.c and watch.c. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/internal.h"

int64_t ss__client_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

enum ss_err ss__client_fail(struct ss_client_error *err, enum ss_err code, const char *fmt, ...) {
  if (!err)
    return code;
  memset(err, 0, sizeof *err);
  err->code = code;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  va_end(ap);
  return code;
}

const char *ss__client_rv(const json_t *obj) {
  const char *s = json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
  return s ? s : "";
}
const char *ss__client_name(const json_t *obj) {
  return json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
}
const char *ss__client_ns(const json_t *obj) {
  return json_string_value(json_object_get(json_object_get(obj, "metadata"), "namespace"));
}

void ss__client_escape(const char *in, char *buf, size_t size) {
  static const char hex[] = "0123456789ABCDEF";
  size_t o = 0;
  for (const unsigned char *p = (const unsigned char *)in; *p && o + 4 < size; p++) {
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
        strchr("-_.~", *p)) {
      buf[o++] = (char)*p;
    } else {
      buf[o++] = '%';
      buf[o++] = hex[*p >> 4];
      buf[o++] = hex[*p & 15];
    }
  }
  if (size)
    buf[o < size ? o : size - 1] = '\0';
}

static char *dup_opt(const char *s, bool *ok) {
  if (!s)
    return NULL;
  char *d = strdup(s);
  if (!d)
    *ok = false;
  return d;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

enum ss_err ss_client_new(const struct ss_client_config *cfg, const struct ss_client_options *opts,
                          struct ss_client **out, struct ss_client_error *err) {
  *out = NULL;
  if (!cfg || !cfg->server)
    return ss__client_fail(err, SS_EUSAGE, "no server to talk to (the kubeconfig names none)");
  if (strncmp(cfg->server, "https://", 8) != 0 && strncmp(cfg->server, "http://", 7) != 0)
    return ss__client_fail(err, SS_EUSAGE, "server \"%s\" is not an http(s) URL", cfg->server);
  pthread_once(&curl_once, curl_init);
  struct ss_client *c = calloc(1, sizeof *c);
  bool ok = c != NULL;
  if (c) {
    c->cfg.path = dup_opt(cfg->path, &ok);
    c->cfg.context = dup_opt(cfg->context, &ok);
    c->cfg.server = dup_opt(cfg->server, &ok);
    c->cfg.namespace_ = dup_opt(cfg->namespace_, &ok);
    c->cfg.token = dup_opt(cfg->token, &ok);
    c->cfg.ca_file = dup_opt(cfg->ca_file, &ok);
    c->cfg.insecure = cfg->insecure;
    if (cfg->ca && cfg->ca_len) {
      if ((c->cfg.ca = malloc(cfg->ca_len))) {
        memcpy(c->cfg.ca, cfg->ca, cfg->ca_len);
        c->cfg.ca_len = cfg->ca_len;
      } else {
        ok = false;
      }
    }
    if (opts)
      c->opts = *opts;
    if (c->opts.timeout_ms <= 0)
      c->opts.timeout_ms = SS_CLIENT_DEFAULT_TIMEOUT_MS;
  }
  if (!ok) {
    ss_client_free(c);
    return ss__client_fail(err, SS_ENOMEM, "out of memory");
  }
  *out = c;
  return SS_EOK;
}

void ss_client_free(struct ss_client *c) {
  if (!c)
    return;
  ss_client_config_free(&c->cfg);
  free(c);
}

const char *ss_client_namespace(const struct ss_client *c) {
  return c->cfg.namespace_ && *c->cfg.namespace_ ? c->cfg.namespace_ : "default";
}

const char *ss_client_server(const struct ss_client *c) { return c->cfg.server; }

void ss_client_response_free(struct ss_client_response *r) {
  if (!r)
    return;
  json_decref(r->body);
  free(r->text);
  for (size_t i = 0; i < r->n_warnings; i++)
    free(r->warnings[i]);
  memset(r, 0, sizeof *r);
}

/* ---- one transfer ---- */

struct xfer {
  struct ss_client *c;
  struct ss_client_response *resp;
  /* the body, read whole */
  char *buf;
  size_t len, cap;
  bool too_big;
  /* streaming */
  ss__line_fn line_fn;
  void *line_ctx;
  bool streaming; /* the answer is 2xx: lines go to line_fn */
  long status;    /* from the last status line seen */
  bool stopped;
  atomic_bool *cancel;
  bool cancelled;
  int64_t deadline_ms;
  bool expired;
};

static bool grow(struct xfer *x, size_t more, size_t max) {
  if (x->len + more + 1 > max) {
    x->too_big = true;
    return false;
  }
  if (x->len + more + 1 <= x->cap)
    return true;
  size_t cap = x->cap ? x->cap : 4096;
  while (cap < x->len + more + 1)
    cap *= 2;
  if (cap > max)
    cap = max;
  char *b = realloc(x->buf, cap);
  if (!b)
    return false;
  x->buf = b;
  x->cap = cap;
  return true;
}

/* Hands every complete line in the buffer to the line callback. */
static bool drain_lines(struct xfer *x) {
  size_t start = 0;
  for (size_t i = 0; i < x->len; i++) {
    if (x->buf[i] != '\n')
      continue;
    x->buf[i] = '\0';
    size_t l = i - start;
    if (l && !x->line_fn(x->line_ctx, x->buf + start, l)) {
      x->stopped = true;
      return false;
    }
    start = i + 1;
  }
  memmove(x->buf, x->buf + start, x->len - start);
  x->len -= start;
  return true;
}

static size_t on_body(char *data, size_t size, size_t n, void *ud) {
  struct xfer *x = ud;
  size_t bytes = size * n;
  if (x->streaming) {
    if (!grow(x, bytes, SS_CLIENT_MAX_LINE))
      return 0;
    memcpy(x->buf + x->len, data, bytes);
    x->len += bytes;
    return drain_lines(x) ? bytes : 0;
  }
  if (!grow(x, bytes, SS_CLIENT_MAX_BODY))
    return 0;
  memcpy(x->buf + x->len, data, bytes);
  x->len += bytes;
  return bytes;
}

/* Keeps the text of `Warning: 299 - "text"` headers (RFC 7234 form, as the
 * Kubernetes API server writes them). */
static void add_warning(struct xfer *x, const char *v, size_t n) {
  const char *q = memchr(v, '"', n);
  char text[1024];
  size_t o = 0;
  if (q) {
    const char *end = v + n;
    for (const char *p = q + 1; p < end && *p != '"' && o + 1 < sizeof text; p++) {
      if (*p == '\\' && p + 1 < end)
        p++;
      text[o++] = *p;
    }
  } else {
    for (size_t i = 0; i < n && o + 1 < sizeof text; i++)
      text[o++] = v[i];
  }
  text[o] = '\0';
  if (x->c->opts.on_warning)
    x->c->opts.on_warning(x->c->opts.warning_ctx, text);
  if (x->resp && x->resp->n_warnings < SS_CLIENT_MAX_WARNINGS) {
    char *d = strdup(text);
    if (d)
      x->resp->warnings[x->resp->n_warnings++] = d;
  }
}

static size_t on_header(char *data, size_t size, size_t n, void *ud) {
  struct xfer *x = ud;
  size_t bytes = size * n;
  /* The status line comes first: a stream's body is read line by line only
   * when it says 2xx; an error Status is read whole. */
  if (bytes > 12 && strncmp(data, "HTTP/", 5) == 0) {
    const char *sp = memchr(data, ' ', bytes);
    x->status = sp ? strtol(sp + 1, NULL, 10) : 0;
    x->streaming = x->line_fn && x->status >= 200 && x->status < 300;
  }
  if (bytes > 8 && strncasecmp(data, "Warning:", 8) == 0) {
    const char *v = data + 8;
    size_t l = bytes - 8;
    while (l && (*v == ' ' || *v == '\t')) {
      v++;
      l--;
    }
    while (l && (v[l - 1] == '\r' || v[l - 1] == '\n'))
      l--;
    add_warning(x, v, l);
  }
  return bytes;
}

static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un) {
  struct xfer *x = ud;
  if (x->cancel && atomic_load(x->cancel)) {
    x->cancelled = true;
    return 1;
  }
  if (x->deadline_ms && ss__client_now_ms() >= x->deadline_ms) {
    x->expired = true;
    return 1;
  }
  return 0;
}

static CURL *easy(struct xfer *x, const char *method, const char *path, struct curl_slist **hdrs,
                  const char *content_type, long timeout_ms) {
  struct ss_client *c = x->c;
  CURL *h = curl_easy_init();
  if (!h)
    return NULL;
  size_t ul = strlen(c->cfg.server) + strlen(path) + 1;
  char *url = malloc(ul);
  if (!url) {
    curl_easy_cleanup(h);
    return NULL;
  }
  snprintf(url, ul, "%s%s", c->cfg.server, path);
  curl_easy_setopt(h, CURLOPT_URL, url);
  free(url); /* curl copies option strings */
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for DNS time-outs */
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
  if (strcmp(method, "HEAD") == 0)
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)SS_CLIENT_CONNECT_TIMEOUT_MS);
  if (timeout_ms > 0)
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "servescale-client/0.1");
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
  if (c->cfg.ca && c->cfg.ca_len) {
    struct curl_blob blob = {.data = c->cfg.ca, .len = c->cfg.ca_len, .flags = CURL_BLOB_COPY};
    curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
  } else if (c->cfg.ca_file) {
    curl_easy_setopt(h, CURLOPT_CAINFO, c->cfg.ca_file);
  }
  if (c->cfg.insecure) {
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  struct curl_slist *l = curl_slist_append(NULL, "Accept: application/json");
  if (content_type) {
    char ct[256];
    snprintf(ct, sizeof ct, "Content-Type: %s", content_type);
    l = l ? curl_slist_append(l, ct) : NULL;
  }
  if (c->cfg.token) {
    size_t al = strlen(c->cfg.token) + 32;
    char *auth = malloc(al);
    if (auth) {
      snprintf(auth, al, "Authorization: Bearer %s", c->cfg.token);
      l = l ? curl_slist_append(l, auth) : NULL;
      free(auth);
    } else {
      curl_slist_free_all(l);
      l = NULL;
    }
  }
  if (!l) {
    curl_easy_cleanup(h);
    return NULL;
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, l);
  *hdrs = l;
  return h;
}

static enum ss_err transport_error(CURLcode cc, const struct xfer *x, const char *server,
                                   const char *errbuf, struct ss_client_error *err) {
  if (x->too_big)
    return ss__client_fail(err, SS_ELIMIT, "the answer from %s exceeds %zu bytes", server,
                           x->streaming ? SS_CLIENT_MAX_LINE : SS_CLIENT_MAX_BODY);
  if (cc == CURLE_OPERATION_TIMEDOUT || x->expired)
    return ss__client_fail(err, SS_EIO, "timed out talking to %s", server);
  return ss__client_fail(err, SS_EIO, "cannot talk to %s: %s", server,
                         errbuf[0] ? errbuf : curl_easy_strerror(cc));
}

enum ss_err ss_client_request(struct ss_client *c, const char *method, const char *path,
                              const char *content_type, const char *body, size_t len,
                              struct ss_client_response *out, struct ss_client_error *err) {
  struct xfer x = {.c = c, .resp = out};
  struct curl_slist *hdrs = NULL;
  char errbuf[CURL_ERROR_SIZE] = "";
  enum ss_err rc = SS_EOK;
  memset(out, 0, sizeof *out);
  CURL *h = easy(&x, method, path, &hdrs, body ? content_type : NULL, c->opts.timeout_ms);
  if (!h) {
    rc = ss__client_fail(err, SS_ENOMEM, "out of memory");
    goto out;
  }
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  if (body) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
  }
  CURLcode cc = curl_easy_perform(h);
  if (cc != CURLE_OK) {
    rc = transport_error(cc, &x, c->cfg.server, errbuf, err);
    ss_client_response_free(out);
    goto out;
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->code);
  if (!grow(&x, 0, SS_CLIENT_MAX_BODY + 1)) {
    rc = ss__client_fail(err, SS_ENOMEM, "out of memory");
    ss_client_response_free(out);
    goto out;
  }
  x.buf[x.len] = '\0';
  out->text = x.buf;
  out->len = x.len;
  x.buf = NULL;
  if (out->len)
    out->body = json_loadb(out->text, out->len, 0, NULL);
out:
  free(x.buf);
  curl_slist_free_all(hdrs);
  curl_easy_cleanup(h);
  return rc;
}

static enum ss_err code_of(long http, const char *reason) {
  switch (http) {
  case 400:
  case 422:
    return SS_EINVALID;
  case 401:
  case 403:
    return SS_EUSAGE;
  case 404:
    return SS_ENOTFOUND;
  case 409:
    return reason && strcmp(reason, "AlreadyExists") == 0 ? SS_EEXISTS : SS_ECONFLICT;
  case 410:
    return SS_EGONE;
  case 413:
    return SS_ELIMIT;
  default:
    return http >= 500 ? SS_EINTERNAL : SS_EIO;
  }
}

/* Fills err from a Status object (or anything else the server said). */
static enum ss_err status_error(long http, const json_t *body, const char *text,
                                struct ss_client_error *err) {
  const char *reason = json_string_value(json_object_get(body, "reason"));
  const char *message = json_string_value(json_object_get(body, "message"));
  json_int_t scode = json_integer_value(json_object_get(body, "code"));
  if (http < 300 && scode >= 300)
    http = (long)scode; /* an ERROR event inside a watch stream */
  enum ss_err code = code_of(http, reason);
  if (message)
    ss__client_fail(err, code, "%s", message);
  else if (text && *text)
    ss__client_fail(err, code, "%.*s", 500, text);
  else
    ss__client_fail(err, code, "the server answered HTTP %ld", http);
  if (!err)
    return code;
  err->http = http;
  snprintf(err->reason, sizeof err->reason, "%s", reason ? reason : "");
  size_t i;
  json_t *cause;
  json_array_foreach(json_object_get(json_object_get(body, "details"), "causes"), i, cause) {
    if (err->n_causes == SS_CLIENT_MAX_CAUSES)
      break;
    struct ss_client_cause *cz = &err->causes[err->n_causes++];
    const char *f = json_string_value(json_object_get(cause, "field"));
    const char *m = json_string_value(json_object_get(cause, "message"));
    snprintf(cz->field, sizeof cz->field, "%s", f ? f : "");
    snprintf(cz->message, sizeof cz->message, "%s", m ? m : "");
  }
  return code;
}

enum ss_err ss_client_error_from_response(const struct ss_client_response *r,
                                          struct ss_client_error *err) {
  return status_error(r->code, r->body, r->text, err);
}

enum ss_err ss__client_stream(struct ss_client *c, const char *path, int64_t deadline_ms,
                              atomic_bool *cancel, ss__line_fn fn, void *ctx,
                              enum ss__stream_end *end, struct ss_client_error *err) {
  struct xfer x = {.c = c, .line_fn = fn, .line_ctx = ctx, .cancel = cancel,
                   .deadline_ms = deadline_ms};
  struct curl_slist *hdrs = NULL;
  char errbuf[CURL_ERROR_SIZE] = "";
  enum ss_err rc = SS_EOK;
  long code = 0;
  *end = SS__STREAM_EOF;
  long timeout = 0;
  if (deadline_ms) {
    timeout = (long)(deadline_ms - ss__client_now_ms());
    if (timeout <= 0) {
      *end = SS__STREAM_DEADLINE;
      return SS_EOK;
    }
  }
  CURL *h = easy(&x, "GET", path, &hdrs, NULL, timeout);
  if (!h) {
    rc = ss__client_fail(err, SS_ENOMEM, "out of memory");
    goto out;
  }
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  CURLcode cc = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  if (code >= 300) {
    /* an error Status, read whole */
    if (x.buf && grow(&x, 0, SS_CLIENT_MAX_BODY + 1)) {
      x.buf[x.len] = '\0';
      json_t *body = json_loadb(x.buf, x.len, 0, NULL);
      rc = status_error(code, body, x.buf, err);
      json_decref(body);
    } else {
      rc = status_error(code, NULL, NULL, err);
    }
    goto out;
  }
  if (x.cancelled) {
    *end = SS__STREAM_CANCELLED;
  } else if (x.expired || cc == CURLE_OPERATION_TIMEDOUT) {
    *end = SS__STREAM_DEADLINE;
  } else if (x.stopped) {
    *end = SS__STREAM_STOPPED;
  } else if (cc != CURLE_OK) {
    rc = transport_error(cc, &x, c->cfg.server, errbuf, err);
  } else if (x.len) {
    /* a last line without its newline */
    if (!fn(ctx, x.buf, x.len))
      *end = SS__STREAM_STOPPED;
  }
out:
  free(x.buf);
  curl_slist_free_all(hdrs);
  curl_easy_cleanup(h);
  return rc;
}
