/* http.c: one instant query to a Prometheus server over its HTTP API, read
 * as KEDA's prometheus scaler reads it (see http.h). Which source answers a
 * trigger, and what the number then means, is the caller's business. */
#include "promql/http.h"

#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* KEDA's messages (pkg/scalers/prometheus_scaler.go), kept word for word
 * where KEDA has one: they reach the ScaledObject's status and events. */
#define MSG_NO_SUCCESS "prometheus answered without a success status"
#define MSG_EMPTY "prometheus metrics 'prometheus' target may be lost, the result is empty"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static CURLcode init_rc = CURLE_FAILED_INIT;

static void global_init(void) { init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

enum ss_err ss_prom_http_global_init(void) {
  pthread_once(&init_once, global_init);
  return init_rc == CURLE_OK ? SS_EOK : SS_EINTERNAL;
}

/* ---- the answer ---- */

enum ss_err ss_prom_http_parse(const char *body, size_t len, const char *query,
                               bool ignore_null_values, double *out, struct ss_error *err) {
  enum ss_err rc;
  json_t *root = NULL;
  if (!out)
    return ss_error_set(err, SS_EINVALID, 0, 0, "no place for the value");
  if (body) {
    json_error_t je;
    /* the answer ends at a NUL byte, as a C string would */
    root = json_loadb(body, strnlen(body, len), 0, &je);
  }
  if (!root) {
    rc = ss_error_set(err, SS_ESYNTAX, 0, 0, MSG_NO_SUCCESS);
    goto out;
  }
  const char *status = json_string_value(json_object_get(root, "status"));
  json_t *data = json_object_get(root, "data");
  const char *type = json_string_value(json_object_get(data, "resultType"));
  json_t *result = json_object_get(data, "result");
  if (!status || strcmp(status, "success") != 0 || !type) {
    rc = ss_error_set(err, SS_EIO, 0, 0, MSG_NO_SUCCESS);
    goto out;
  }
  /* [<unix time>, "<value>"]: a scalar's result, a vector element's value */
  json_t *value = NULL;
  if (strcmp(type, "scalar") == 0) {
    value = result;
  } else if (strcmp(type, "vector") == 0) {
    if (json_array_size(result) > 1) {
      rc = ss_error_set(err, SS_EINVALID, 0, 0, "prometheus query %s returned multiple elements",
                        query ? query : "");
      goto out;
    }
    value = json_object_get(json_array_get(result, 0), "value"); /* NULL when empty */
  } else {
    rc = ss_error_set(err, SS_EUNSUPPORTED, 0, 0,
                      "prometheus query returned a %s, not a vector or scalar", type);
    goto out;
  }
  double v = NAN;
  const char *vs = json_string_value(json_array_get(value, 1));
  if (vs)
    v = strtod(vs, NULL); /* Prometheus writes NaN, +Inf and -Inf as strtod reads them */
  if (!vs || isnan(v) || isinf(v)) {
    if (!ignore_null_values) {
      rc = ss_error_set(err, SS_ENOTFOUND, 0, 0, MSG_EMPTY);
      goto out;
    }
    v = 0;
  }
  *out = v;
  rc = SS_EOK;
out:
  json_decref(root);
  return rc;
}

/* ---- the request ---- */

struct body {
  char *p;
  size_t n;
  bool over; /* past SS_PROM_HTTP_BODY_MAX: the transfer was stopped */
};

static size_t body_write(char *ptr, size_t size, size_t nmemb, void *ud) {
  struct body *b = ud;
  size_t n = size * nmemb;
  if (b->n + n > SS_PROM_HTTP_BODY_MAX) {
    b->over = true;
    return 0;
  }
  char *p = realloc(b->p, b->n + n + 1);
  if (!p)
    return 0;
  memcpy(p + b->n, ptr, n);
  b->p = p;
  b->n += n;
  b->p[b->n] = '\0';
  return n;
}

/* "<server>/api/v1/<endpoint>?<param>=<escaped query><extra>" (param
 * "query", or "match[]" for series), malloc'ed; NULL when out of memory. */
static char *query_url(CURL *h, const char *server, const char *endpoint, const char *query,
                       const char *extra) {
  char *q = curl_easy_escape(h, query, 0);
  if (!q)
    return NULL;
  size_t sl = strlen(server);
  while (sl && server[sl - 1] == '/')
    sl--;
  size_t size = strlen(server) + strlen(q) + strlen(extra) + strlen(endpoint) + 48;
  char *url = malloc(size);
  if (url)
    snprintf(url, size, "%.*s/api/v1/%s?%s=%s%s", (int)sl, server, endpoint,
             strcmp(endpoint, "series") == 0 ? "match%5B%5D" : "query", q, extra);
  curl_free(q);
  return url;
}

/* Adds the Accept line, KEDA's customHeaders ("Name=value,Name2=value2";
 * an item without '=' is skipped) and bearer auth to *hdrs. False when
 * out of memory. */
static bool add_headers(const struct ss_prom_http_request *req, struct curl_slist **hdrs) {
  char buf[SS_PROM_HTTP_AUTH_MAX];
  struct curl_slist *l = curl_slist_append(*hdrs, "Accept: application/json");
  if (!l)
    return false;
  *hdrs = l;
  for (const char *p = req->headers ? req->headers : ""; *p;) {
    const char *comma = strchr(p, ',');
    size_t n = comma ? (size_t)(comma - p) : strlen(p);
    const char *eq = memchr(p, '=', n);
    if (eq) {
      snprintf(buf, SS_PROM_HTTP_HEADER_MAX, "%.*s: %.*s", (int)(eq - p), p,
               (int)(n - (size_t)(eq - p) - 1), eq + 1);
      if (!(l = curl_slist_append(*hdrs, buf)))
        return false;
      *hdrs = l;
    }
    p += n + (comma ? 1 : 0);
  }
  if (req->bearer_token) {
    snprintf(buf, sizeof buf, "Authorization: Bearer %s", req->bearer_token);
    if (!(l = curl_slist_append(*hdrs, buf)))
      return false;
    *hdrs = l;
  }
  return true;
}

/* GETs url with req's headers, auth and timeout into *b (a 2xx answer);
 * the errors of ss_prom_http_query. */
static enum ss_err fetch(CURL *h, const struct ss_prom_http_request *req, const char *url,
                         struct body *b, struct ss_error *err) {
  struct curl_slist *hdrs = NULL;
  enum ss_err rc = SS_EOK;
  if (!add_headers(req, &hdrs)) {
    curl_slist_free_all(hdrs);
    return ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
  }
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)req->timeout_ms);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, body_write);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  if (!req->bearer_token && req->username) {
    curl_easy_setopt(h, CURLOPT_USERNAME, req->username);
    curl_easy_setopt(h, CURLOPT_PASSWORD, req->password ? req->password : "");
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
  CURLcode cc = curl_easy_perform(h);
  long code = 0;
  if (cc == CURLE_OK)
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  if (cc != CURLE_OK)
    rc = ss_error_set(err, b->over ? SS_ELIMIT : SS_EIO, 0, 0, "prometheus query failed: %s",
                      b->over ? "answer too large" : curl_easy_strerror(cc));
  else if (code < 200 || code > 299)
    rc = ss_error_set(err, SS_EIO, 0, 0,
                      "prometheus query api returned error. status: %ld response: %.120s", code,
                      b->p ? b->p : "");
  curl_slist_free_all(hdrs);
  return rc;
}

enum ss_err ss_prom_http_query(const struct ss_prom_http_request *req, double *out,
                               struct ss_error *err) {
  enum ss_err rc;
  struct body b = {0};
  char *url = NULL;
  CURL *h = NULL;
  if (!req || !out || !req->server || !req->query || req->timeout_ms <= 0)
    return ss_error_set(err, SS_EINVALID, 0, 0,
                        "a prometheus query needs a server, a query and a timeout");
  if (!(h = curl_easy_init()) || !(url = query_url(h, req->server, "query", req->query, ""))) {
    rc = ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
    goto out;
  }
  if (!(rc = fetch(h, req, url, &b, err)))
    rc = ss_prom_http_parse(b.p, b.n, req->query, req->ignore_null_values, out, err);
out:
  if (h)
    curl_easy_cleanup(h);
  free(url);
  free(b.p);
  return rc;
}

enum ss_err ss_prom_http_api(const struct ss_prom_http_request *req, const char *endpoint,
                             const char *extra, json_t **data, struct ss_error *err) {
  enum ss_err rc;
  struct body b = {0};
  char *url = NULL;
  CURL *h = NULL;
  *data = NULL;
  if (!req || !req->server || !req->query || req->timeout_ms <= 0)
    return ss_error_set(err, SS_EINVALID, 0, 0,
                        "a prometheus query needs a server, a query and a timeout");
  if (!(h = curl_easy_init()) ||
      !(url = query_url(h, req->server, endpoint, req->query, extra ? extra : ""))) {
    rc = ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
    goto out;
  }
  if ((rc = fetch(h, req, url, &b, err)))
    goto out;
  json_t *root = json_loadb(b.p ? b.p : "", b.n, 0, NULL);
  const char *status = json_string_value(json_object_get(root, "status"));
  if (!root)
    rc = ss_error_set(err, SS_ESYNTAX, 0, 0, "prometheus answered without a success status");
  else if (!status || strcmp(status, "success") != 0)
    rc = ss_error_set(err, SS_EIO, 0, 0, "prometheus answered %s: %.200s",
                      status ? status : "without a status",
                      json_string_value(json_object_get(root, "error"))
                          ? json_string_value(json_object_get(root, "error"))
                          : "");
  else
    *data = json_incref(json_object_get(root, "data"));
  json_decref(root);
out:
  if (h)
    curl_easy_cleanup(h);
  free(url);
  free(b.p);
  return rc;
}
