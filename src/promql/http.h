/* http.h: a Prometheus server as a metrics source, the way KEDA's prometheus
 * scaler reads one: an instant query over the HTTP API
 * (GET <server>/api/v1/query?query=<PromQL>) and its answer turned into one
 * number by KEDA's rules (kedacore/keda pkg/scalers/prometheus_scaler.go,
 * ExecutePromQuery): a vector of one element or a scalar gives its value;
 * an empty vector, NaN or an infinite value gives 0 with ignoreNullValues
 * and an error without; several elements, another result type, or a status
 * other than success are errors.
 *
 * The embedded source (promql.h, ss_promql_metrics_source) answers the same
 * queries from the daemon's own window when a trigger names no server;
 * which one to ask is the caller's choice (src/autoscale/loop.c).
 *
 * Ownership: every argument is borrowed for the call; nothing is kept
 * between calls, and the result is a plain double.
 * Threads: ss_prom_http_query may run on several threads at once (each call
 * has its own curl handle). ss_prom_http_global_init must have returned
 * before the first query, on one thread, while no other thread uses curl
 * (curl_global_init is not thread-safe); the autoscaler does it when it is
 * created. No signals are used (CURLOPT_NOSIGNAL), so no SIGALRM reaches
 * the process.
 * Timeouts: req->timeout_ms bounds the whole request (resolving,
 * connecting, sending and reading the answer); the call blocks at most
 * that long and then fails. The caller picks the value (a trigger's
 * metadata.timeout, or KEDA's default).
 * Limits: an answer longer than SS_PROM_HTTP_BODY_MAX is an error, never a
 * larger allocation.
 *
 * ss_prom_http_parse is the pure half (bytes in, number out), for tests and
 * fuzzing without sockets. */
#ifndef SS_PROMQL_HTTP_H
#define SS_PROMQL_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/err.h"

#define SS_PROM_HTTP_BODY_MAX ((size_t)1 << 20) /* bytes of one answer */
#define SS_PROM_HTTP_HEADER_MAX 1024            /* bytes of one custom header line */
#define SS_PROM_HTTP_AUTH_MAX 2048              /* bytes of the Authorization line */

/* One query. Every string is borrowed and NUL-terminated. */
struct ss_prom_http_request {
  const char *server;       /* "http(s)://host[:port][/prefix]"; trailing '/'s dropped */
  const char *query;        /* PromQL, URL-encoded here */
  int32_t timeout_ms;       /* > 0: for the whole request */
  const char *headers;      /* "Name=value,Name2=value2" (KEDA's customHeaders); may be NULL */
  const char *bearer_token; /* "Authorization: Bearer <token>" when set */
  const char *username;     /* basic auth when set and bearer_token is not */
  const char *password;     /* with username; NULL reads as "" */
  bool ignore_null_values;  /* KEDA's ignoreNullValues (its default is true) */
};

/* Initializes curl for the process (see Threads above); idempotent once it
 * succeeded. Returns SS_EOK or SS_EINTERNAL. */
enum ss_err ss_prom_http_global_init(void);

/* Runs req and stores the value in *out. On failure *out is left alone and
 * err->msg says why, in the words the ScaledObject's status shows:
 *   SS_EINVALID  a NULL argument, no server or query, timeout_ms <= 0
 *   SS_ENOMEM    "out of memory"
 *   SS_EIO       "prometheus query failed: <curl's reason>" (unreachable,
 *                timed out) or "prometheus query api returned error.
 *                status: <code> response: <first 120 bytes>" (not 2xx)
 *   SS_ELIMIT    "prometheus query failed: answer too large"
 *   and what ss_prom_http_parse returns for a 2xx answer. */
enum ss_err ss_prom_http_query(const struct ss_prom_http_request *req, double *out,
                               struct ss_error *err);

/* Another endpoint of the HTTP API: GET <server>/api/v1/<endpoint> with
 * req->query as query= (endpoint "query") or match[]= (endpoint "series"),
 * and extra ("&start=..."; may be NULL) appended as it is. *data gets a new
 * reference to the answer's "data" when its status is success; the errors
 * are those above, and SS_ESYNTAX or SS_EIO for an answer that is not a
 * success. The caller reads data (prometheus-adapter's way: a vector's
 * elements with their labels, or the series' label sets). */
enum ss_err ss_prom_http_api(const struct ss_prom_http_request *req, const char *endpoint,
                             const char *extra, json_t **data, struct ss_error *err);

/* Reads an /api/v1/query answer of len bytes at body (NULL with 0: an empty
 * answer; a NUL byte ends it) into *out by the rules above; query only
 * names the query in a message. On failure *out is left alone:
 *   SS_ESYNTAX       not JSON                 } "prometheus answered without
 *   SS_EIO           status not "success"     }  a success status"
 *   SS_EINVALID      "prometheus query <query> returned multiple elements"
 *   SS_EUNSUPPORTED  "prometheus query returned a <type>, not a vector or scalar"
 *   SS_ENOTFOUND     without ignore_null_values: empty, NaN or infinite
 *                    ("prometheus metrics 'prometheus' target may be lost,
 *                    the result is empty", KEDA's words) */
enum ss_err ss_prom_http_parse(const char *body, size_t len, const char *query,
                               bool ignore_null_values, double *out, struct ss_error *err);

#endif
