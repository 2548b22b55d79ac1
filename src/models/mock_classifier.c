/* mock_classifier.c: `servescale mock-classifier`, the model server behind
 * the image seldonio/mock_classifier: the REST endpoints of Seldon's Python
 * wrapper over libmicrohttpd, a thread per connection, graceful stop on
 * SIGTERM. The answer is mock_predict.c's and the parameters mock_params.c's;
 * restarts, probes and ports are the runtime's. */
#include "models/models.h"
#include "models/serve.h"

#include <errno.h>
#include <getopt.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

enum { RC_OK = SS__MSRV_OK, RC_FAIL = SS__MSRV_FAIL, RC_USAGE = SS__MSRV_USAGE };

#define DEFAULT_PORT 9000                 /* Seldon's Python wrapper's REST port */
#define DEFAULT_HOST SS__MSRV_HOST
#define DEFAULT_NAME "mock-classifier"
#define PROG "servescale mock-classifier" /* in messages */
#define BODY_MAX ((size_t)1 << 20)        /* request body limit: 1 MiB, then 413 */
/* A body over BODY_MAX is still read (and dropped) up to this much, so that
 * a client that sends it all before reading, as most do, can read our 413;
 * beyond it, or when Content-Length says so, the connection is cut. */
#define DISCARD_MAX (16 * BODY_MAX)
#define CONN_MAX 256u                     /* concurrent connections (one thread each) */
#define CONN_IDLE_TIMEOUT_S 60u           /* idle keep-alive connections are closed */
#define DRAIN_MS 5000                     /* SIGTERM: in-flight requests get this long */
#define ABANDON_GRACE_MS 500              /* then cut-short requests get this to answer */
#define SLICE_MS 20                       /* delays sleep in slices to notice abandon */
#define FORM_BUFFER 4096                  /* MHD's post processor's working buffer */
#define OPTS_MAX 16
#define INFO_MAX SS__MSRV_INFO_MAX

/* The fixed input /health/status predicts on: one row for the four
 * features /metadata declares. */
static const char STATUS_INPUT[] = "{\"data\":{\"names\":[\"a\",\"b\",\"c\",\"d\"],"
                                   "\"ndarray\":[[1.0,2.0,3.0,4.0]]}}";

struct server {
  struct ss_mock_params params;
  char *metadata;          /* the /metadata answer, built once */
  json_t *status_input;    /* STATUS_INPUT, parsed once */
  atomic_int in_flight;    /* requests begun and not yet completed */
  atomic_long requests;    /* completed, all endpoints */
  atomic_long predictions; /* completed predictions, for fail_after */
  atomic_bool draining;    /* SIGTERM seen: answer with Connection: close */
  atomic_bool abandon;     /* stopping for good: cut delays and CPU burns short */
  int wake_wr;             /* self-pipe: 'S' signal, 'F' fail_after reached */
  struct ss__msrv_gate gate; /* params.workers predictions at once */
};

static void wake(int fd, char what) {
  ssize_t n = write(fd, &what, 1);
  (void)n;
}

#define log_event(...) ss__msrv_log("mock-classifier", __VA_ARGS__)

/* ---- routes ---- */

enum route_id { R_PREDICT, R_FEEDBACK, R_PING, R_STATUS, R_METADATA, R_LIVE, R_READY, R_METRICS };

struct route {
  const char *path;
  enum route_id id;
  bool message; /* takes a Seldon message: POST (or GET with ?json=), as the wrapper */
};

static const struct route routes[] = {
    {"/predict", R_PREDICT, true},
    {"/api/v1.0/predictions", R_PREDICT, true},
    {"/send-feedback", R_FEEDBACK, true},
    {"/api/v1.0/feedback", R_FEEDBACK, true},
    {"/health/ping", R_PING, false},
    {"/health/status", R_STATUS, false},
    {"/metadata", R_METADATA, false},
    {"/api/v1.0/metadata", R_METADATA, false},
    {"/live", R_LIVE, false},
    {"/ready", R_READY, false},
    {"/prometheus", R_METRICS, false},
};

static const struct route *find_route(const char *url) {
  for (size_t i = 0; i < sizeof routes / sizeof *routes; i++)
    if (strcmp(routes[i].path, url) == 0)
      return &routes[i];
  return NULL;
}

static bool method_ok(const struct route *r, const char *method) {
  if (strcmp(method, "GET") == 0)
    return true;
  if (r->message)
    return strcmp(method, "POST") == 0;
  return strcmp(method, "HEAD") == 0;
}

/* ---- one request ---- */

struct request {
  const struct route *route; /* NULL: no such path */
  bool answered;             /* a response is queued already (early 413) */
  bool prediction;           /* counts for fail_after */
  struct ss__msrv_body b;    /* kept only for routes that take a message */
  char *form;                /* the form field "json", when the body is a form */
  size_t form_len, form_cap;
  int form_fields;           /* "json" fields seen; the first one counts */
};

static void request_free(struct request *rq) {
  if (!rq)
    return;
  free(rq->b.buf);
  free(rq->form);
  free(rq);
}

#define buf_append ss__msrv_buf_append

/* ---- responses ---- */

/* Queues body (code, type); mode says who frees it, as MHD's. */
static enum MHD_Result reply(struct server *s, struct MHD_Connection *c, unsigned code,
                             const char *type, void *body, size_t len,
                             enum MHD_ResponseMemoryMode mode) {
  return ss__msrv_reply(c, code, type, body, len, mode, atomic_load(&s->draining),
                        code == MHD_HTTP_METHOD_NOT_ALLOWED ? "GET, POST, HEAD" : NULL);
}

static enum MHD_Result reply_text(struct server *s, struct MHD_Connection *c, const char *text) {
  return reply(s, c, MHD_HTTP_OK, "text/plain", (void *)text, strlen(text),
               MHD_RESPMEM_PERSISTENT);
}

/* Borrows v. */
static enum MHD_Result reply_json(struct server *s, struct MHD_Connection *c, unsigned code,
                                  const json_t *v) {
  return ss__msrv_reply_json(c, code, v, atomic_load(&s->draining));
}

/* Seldon's error shape: {"status": {"code", "info", "reason", "status"}}. */
static enum MHD_Result reply_status(struct server *s, struct MHD_Connection *c, unsigned code,
                                    const char *reason, const char *info) {
  return ss__msrv_reply_seldon_status(c, code, reason, info, atomic_load(&s->draining));
}

/* ---- the message: a form field, a query argument or the body ---- */

static enum MHD_Result on_form_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *filename, const char *content_type,
                                     const char *transfer_encoding, const char *data,
                                     uint64_t off, size_t size) {
  struct request *rq = cls;
  if (!key || strcmp(key, "json") != 0)
    return MHD_YES;
  if (off == 0)
    rq->form_fields++;
  if (rq->form_fields != 1 || size == 0)
    return MHD_YES; /* like the wrapper's form.get, the first field counts */
  return buf_append(&rq->form, &rq->form_len, &rq->form_cap, data, size, BODY_MAX) ? MHD_YES
                                                                                   : MHD_NO;
}

static bool is_form(struct MHD_Connection *c) {
  const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
  return ct && (strncasecmp(ct, MHD_HTTP_POST_ENCODING_FORM_URLENCODED,
                            strlen(MHD_HTTP_POST_ENCODING_FORM_URLENCODED)) == 0 ||
                strncasecmp(ct, MHD_HTTP_POST_ENCODING_MULTIPART_FORMDATA,
                            strlen(MHD_HTTP_POST_ENCODING_MULTIPART_FORMDATA)) == 0);
}

/* A body that opens like JSON is JSON, whatever its Content-Type: `curl -d`
 * labels what it sends a form, and a form's first key never starts with
 * '{' or '['. */
static bool looks_like_json(const char *p, size_t n) {
  size_t i = 0;
  while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
    i++;
  return i < n && (p[i] == '{' || p[i] == '[');
}

/* The Seldon message of a request, where the Python wrapper looks for it:
 * the form field json, else the query argument json, else the body. On
 * success *msg is a new reference. */
static enum ss_err read_message(struct MHD_Connection *c, struct request *rq, json_t **msg,
                                struct ss_error *err) {
  enum ss_err rc = SS_EOK;
  struct MHD_PostProcessor *pp = NULL;
  json_error_t jerr;
  const char *text = NULL, *from = "body";
  size_t len = 0;

  *msg = NULL;
  if (rq->b.len > 0 && is_form(c) && !looks_like_json(rq->b.buf, rq->b.len)) {
    pp = MHD_create_post_processor(c, FORM_BUFFER, on_form_field, rq);
    if (!pp || MHD_post_process(pp, rq->b.buf, rq->b.len) != MHD_YES) {
      rc = ss_error_set(err, SS_ESYNTAX, 0, 0, "the form could not be read");
      goto out;
    }
    if (rq->form_len > 0) {
      text = rq->form;
      len = rq->form_len;
      from = "form field json";
    }
  }
  if (!text) {
    const char *arg = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "json");
    if (arg && *arg) {
      text = arg;
      len = strlen(arg);
      from = "query argument json";
    }
  }
  if (!text) {
    text = rq->b.buf;
    len = rq->b.len;
  }
  if (!text || len == 0) {
    rc = ss_error_set(err, SS_EINVALID, 0, 0,
                      "no message: send a Seldon message as a JSON body, a form field json "
                      "or a query argument json");
    goto out;
  }
  /* Any JSON value parses, so that a non-object gets ss_mock_predict's
   * clearer "must be a JSON object". */
  *msg = json_loadb(text, len, JSON_DECODE_ANY, &jerr);
  if (!*msg)
    rc = ss_error_set(err, SS_ESYNTAX, (unsigned)jerr.line, (unsigned)jerr.column,
                      "invalid JSON in the %s at line %d column %d: %s", from, jerr.line,
                      jerr.column, jerr.text);
out:
  if (pp)
    MHD_destroy_post_processor(pp); /* its verdict on trailing bytes does not matter */
  return rc;
}

/* ---- the knobs for tests: delay and CPU ---- */

#define clock_ns ss__msrv_clock_ns

static void sleep_ms(struct server *s, long ms) {
  int64_t deadline = clock_ns(CLOCK_MONOTONIC) + (int64_t)ms * 1000000;
  for (;;) {
    int64_t left = deadline - clock_ns(CLOCK_MONOTONIC);
    if (left <= 0 || atomic_load(&s->abandon))
      return;
    if (left > (int64_t)SLICE_MS * 1000000)
      left = (int64_t)SLICE_MS * 1000000;
    struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)left};
    nanosleep(&ts, NULL); /* EINTR just loops */
  }
}

/* Busy work measured by this thread's own CPU clock, so that a busy machine
 * lengthens the request but not the CPU it costs. */
static void burn_cpu(struct server *s, long ms) {
  int64_t until = clock_ns(CLOCK_THREAD_CPUTIME_ID) + (int64_t)ms * 1000000;
  volatile double sink = 1.0;
  while (clock_ns(CLOCK_THREAD_CPUTIME_ID) < until && !atomic_load(&s->abandon))
    for (int i = 0; i < 10000; i++)
      sink = sink * 1.0000001 + 1e-9;
}

/* ---- endpoints ---- */

static enum MHD_Result do_predict(struct server *s, struct MHD_Connection *c,
                                  struct request *rq) {
  struct ss_error err = {0};
  json_t *msg = NULL, *resp = NULL;
  enum MHD_Result ret;

  rq->prediction = true;
  if (read_message(c, rq, &msg, &err)) {
    ret = reply_status(s, c, MHD_HTTP_BAD_REQUEST, "MICROSERVICE_BAD_DATA", err.msg);
    goto out;
  }
  ss__msrv_gate_enter(&s->gate, &s->abandon);
  sleep_ms(s, s->params.delay_ms);
  burn_cpu(s, s->params.cpu_ms);
  ss__msrv_gate_leave(&s->gate);
  switch (ss_mock_predict(msg, s->params.threshold, &resp, &err)) {
  case SS_EOK:
    ret = reply_json(s, c, MHD_HTTP_OK, resp);
    break;
  case SS_EINVALID:
    ret = reply_status(s, c, MHD_HTTP_BAD_REQUEST, "MICROSERVICE_BAD_DATA", err.msg);
    break;
  default:
    ret = reply_status(s, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "MICROSERVICE_INTERNAL_ERROR",
                       err.msg);
    break;
  }
out:
  json_decref(msg);
  json_decref(resp);
  return ret;
}

/* The mock has no use for feedback; like the wrapper for a model without
 * send_feedback, it accepts any message object and answers an empty one. */
static enum MHD_Result do_feedback(struct server *s, struct MHD_Connection *c,
                                   struct request *rq) {
  struct ss_error err = {0};
  json_t *msg = NULL, *resp = NULL;
  enum MHD_Result ret = MHD_NO;

  if (read_message(c, rq, &msg, &err)) {
    ret = reply_status(s, c, MHD_HTTP_BAD_REQUEST, "MICROSERVICE_BAD_DATA", err.msg);
    goto out;
  }
  if (!json_is_object(msg)) {
    ret = reply_status(s, c, MHD_HTTP_BAD_REQUEST, "MICROSERVICE_BAD_DATA",
                       "feedback must be a JSON object {request, response, reward, truth}");
    goto out;
  }
  const json_t *puid =
      json_object_get(json_object_get(json_object_get(msg, "response"), "meta"), "puid");
  resp = json_is_string(puid) ? json_pack("{s:{s:O}}", "meta", "puid", puid)
                              : json_pack("{s:{}}", "meta");
  if (resp)
    ret = reply_json(s, c, MHD_HTTP_OK, resp);
out:
  json_decref(msg);
  json_decref(resp);
  return ret;
}

/* A prediction on a fixed input, without the test delays: probes must not
 * fail because a latency test asked for slow predictions. */
static enum MHD_Result do_status(struct server *s, struct MHD_Connection *c) {
  struct ss_error err = {0};
  json_t *resp = NULL;
  if (ss_mock_predict(s->status_input, s->params.threshold, &resp, &err))
    return reply_status(s, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "MICROSERVICE_INTERNAL_ERROR",
                        err.msg);
  enum MHD_Result ret = reply_json(s, c, MHD_HTTP_OK, resp);
  json_decref(resp);
  return ret;
}

static enum MHD_Result dispatch(struct server *s, struct MHD_Connection *c, struct request *rq,
                                const char *url, const char *method) {
  char info[INFO_MAX];
  if (rq->b.too_large) {
    snprintf(info, sizeof info, "request body is over the limit of %zu bytes", BODY_MAX);
    return reply_status(s, c, MHD_HTTP_CONTENT_TOO_LARGE, "MICROSERVICE_BAD_DATA", info);
  }
  if (!rq->route) {
    snprintf(info, sizeof info, "no such endpoint: %.200s", url);
    return reply_status(s, c, MHD_HTTP_NOT_FOUND, "NOT_FOUND", info);
  }
  if (!method_ok(rq->route, method)) {
    snprintf(info, sizeof info, "method %.20s is not allowed on %s", method, rq->route->path);
    return reply_status(s, c, MHD_HTTP_METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED", info);
  }
  switch (rq->route->id) {
  case R_PREDICT: return do_predict(s, c, rq);
  case R_FEEDBACK: return do_feedback(s, c, rq);
  case R_PING: return reply_text(s, c, "pong");
  case R_STATUS: return do_status(s, c);
  case R_METADATA:
    return reply(s, c, MHD_HTTP_OK, "application/json", s->metadata, strlen(s->metadata),
                 MHD_RESPMEM_PERSISTENT);
  case R_LIVE:
  case R_READY: return reply_text(s, c, "ok");
  case R_METRICS: {
    /* what the Seldon wrapper serves on its metrics port: the model's own
     * counters (the executor's metrics are the gateway's) */
    char text[512];
    snprintf(text, sizeof text,
             "# HELP mock_classifier_requests_total Requests answered by this replica.\n"
             "# TYPE mock_classifier_requests_total counter\n"
             "mock_classifier_requests_total %ld\n"
             "# HELP mock_classifier_predictions_total Predictions answered by this replica.\n"
             "# TYPE mock_classifier_predictions_total counter\n"
             "mock_classifier_predictions_total %ld\n"
             "# HELP mock_classifier_in_flight Requests being answered now.\n"
             "# TYPE mock_classifier_in_flight gauge\n"
             "mock_classifier_in_flight %d\n",
             atomic_load(&s->requests), atomic_load(&s->predictions),
             atomic_load(&s->in_flight));
    return reply(s, c, MHD_HTTP_OK, "text/plain; version=0.0.4", text, strlen(text),
                 MHD_RESPMEM_MUST_COPY);
  }
  }
  return MHD_NO;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls) {
  struct server *s = cls;
  struct request *rq = *con_cls;

  if (!rq) {
    rq = calloc(1, sizeof *rq);
    if (!rq)
      return MHD_NO;
    *con_cls = rq;
    atomic_fetch_add(&s->in_flight, 1);
    rq->route = find_route(url);
    if (ss__msrv_refuse_early(c, BODY_MAX, DISCARD_MAX)) {
      rq->b.too_large = true;
      rq->answered = true;
      return dispatch(s, c, rq, url, method);
    }
    return MHD_YES;
  }
  if (*upload_size > 0) {
    size_t n = *upload_size;
    *upload_size = 0;
    bool keep = rq->route && rq->route->message && !rq->answered;
    if (!ss__msrv_body_take(&rq->b, keep, upload, n, BODY_MAX, DISCARD_MAX))
      return MHD_NO; /* out of memory, or we will not read forever */
    return MHD_YES;
  }
  if (rq->answered)
    return MHD_YES;
  rq->answered = true;
  return dispatch(s, c, rq, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  struct server *s = cls;
  struct request *rq = *con_cls;
  if (!rq)
    return;
  atomic_fetch_add(&s->requests, 1);
  if (rq->prediction) {
    long n = atomic_fetch_add(&s->predictions, 1) + 1;
    if (s->params.fail_after > 0 && n == s->params.fail_after)
      wake(s->wake_wr, 'F');
  }
  request_free(rq);
  *con_cls = NULL;
  atomic_fetch_sub(&s->in_flight, 1);
}

/* ---- start and stop ---- */

static char *build_metadata(const char *name) {
  json_t *v = json_pack("{s:s,s:[s],s:s,s:[{s:s,s:{s:[s,s,s,s],s:[i]}}],s:[{s:s,s:{s:[i]}}]}",
                        "name", name, "versions", "servescale-mock-classifier/1", "platform",
                        "seldon", "inputs", "messagetype", "tensor", "schema", "names", "a", "b",
                        "c", "d", "shape", 4, "outputs", "messagetype", "tensor", "schema",
                        "shape", 1);
  char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
  json_decref(v);
  return text;
}

/* SIGTERM: stop accepting, give in-flight requests DRAIN_MS, then cut what
 * is left short. Returns whether all of them finished. */
static bool drain(struct server *s, struct MHD_Daemon *d) {
  atomic_store(&s->draining, true);
  bool clean = ss__msrv_quiesce_wait(d, &s->in_flight, DRAIN_MS);
  /* Requests still sleeping or burning for a test are cut short; a moment
   * more lets them send their answer before connections are closed. */
  atomic_store(&s->abandon, true);
  ss__msrv_wait_idle(&s->in_flight, ABANDON_GRACE_MS);
  return clean;
}

static void help(FILE *f) {
  size_t n;
  const struct ss_mock_param_row *rows = ss_mock_param_table(&n);
  fprintf(f,
          "The built-in model server behind seldonio/mock_classifier: Seldon's REST protocol\n"
          "(/predict, /api/v1.0/predictions, /send-feedback, /health/ping, /health/status,\n"
          "/metadata), answering sigmoid(mean(row) - threshold) for each row of a 2-D input.\n\n"
          "Usage: servescale mock-classifier [options]\n\n"
          "Options:\n"
          "  --port N          port (default: $PREDICTIVE_UNIT_HTTP_SERVICE_PORT, $PORT, %d)\n"
          "  --host HOST       address to listen on (default %s)\n"
          "  --name NAME       model name in /metadata (default: $PREDICTIVE_UNIT_ID, %s)\n",
          DEFAULT_PORT, DEFAULT_HOST, DEFAULT_NAME);
  for (size_t i = 0; i < n; i++) {
    char flag[32];
    snprintf(flag, sizeof flag, "%s %s", rows[i].flag,
             rows[i].kind == SS_MOCK_PARAM_INT ? "N" : "X");
    fprintf(f, "  --%-15s %s\n", flag, rows[i].help);
  }
  fprintf(f, "  -h, --help        this text\n\n"
             "The same parameters come from $PREDICTIVE_UNIT_PARAMETERS, Seldon's JSON list of\n"
             "{\"name\", \"value\", \"type\"}; flags win. SIGTERM lets requests in flight finish\n"
             "(at most %d ms) and exits 0.\n",
          DRAIN_MS);
}

enum { OPT_PORT = 1000, OPT_HOST, OPT_NAME, OPT_PARAM = 1100 };

int ss_mock_classifier_main(int argc, char **argv) {
  int rc = RC_FAIL;
  struct server s = {.wake_wr = -1};
  struct MHD_Daemon *d = NULL;
  int pipefd[2] = {-1, -1};
  struct ss_error err = {0};
  size_t n_rows;
  const struct ss_mock_param_row *rows = ss_mock_param_table(&n_rows);
  const char *flag_value[OPTS_MAX] = {0};
  const char *host = DEFAULT_HOST, *port_text = NULL, *name = NULL;
  struct option opts[OPTS_MAX + 5] = {
      {"port", required_argument, NULL, OPT_PORT},
      {"host", required_argument, NULL, OPT_HOST},
      {"name", required_argument, NULL, OPT_NAME},
      {"help", no_argument, NULL, 'h'},
  };
  size_t n_opts = 4;

  if (n_rows > OPTS_MAX)
    return RC_FAIL; /* a table grown past OPTS_MAX: raise it */
  for (size_t i = 0; i < n_rows; i++)
    opts[n_opts++] = (struct option){rows[i].flag, required_argument, NULL, OPT_PARAM + (int)i};
  opts[n_opts] = (struct option){NULL, 0, NULL, 0};

  int ch;
  optind = 1;
  while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (ch == OPT_PORT)
      port_text = optarg;
    else if (ch == OPT_HOST)
      host = optarg;
    else if (ch == OPT_NAME)
      name = optarg;
    else if (ch >= OPT_PARAM && ch < OPT_PARAM + (int)n_rows)
      flag_value[ch - OPT_PARAM] = optarg;
    else if (ch == 'h') {
      help(stdout);
      return RC_OK;
    } else {
      help(stderr);
      return RC_USAGE;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "servescale mock-classifier: unexpected argument \"%s\"\n", argv[optind]);
    return RC_USAGE;
  }

  /* Parameters: Seldon's environment, then the flags over it. */
  ss_mock_params_default(&s.params);
  if (ss_mock_params_from_seldon(&s.params, getenv("PREDICTIVE_UNIT_PARAMETERS"), &err)) {
    fprintf(stderr, "servescale mock-classifier: %s\n", err.msg);
    return RC_USAGE;
  }
  for (size_t i = 0; i < n_rows; i++) {
    if (flag_value[i] && ss_mock_params_set(&s.params, rows[i].name, flag_value[i], &err)) {
      fprintf(stderr, "servescale mock-classifier: --%s: %s\n", rows[i].flag, err.msg);
      return RC_USAGE;
    }
  }

  /* The port: flag, then Seldon's variable, then the generic one. */
  const char *port_from = "--port";
  if (!port_text && (port_text = getenv("PREDICTIVE_UNIT_HTTP_SERVICE_PORT")))
    port_from = "PREDICTIVE_UNIT_HTTP_SERVICE_PORT";
  if (!port_text && (port_text = getenv("PORT")))
    port_from = "PORT";
  int port = port_text ? ss__msrv_parse_port(PROG, port_text, port_from) : DEFAULT_PORT;
  if (port < 0)
    return RC_USAGE;
  if (!name)
    name = getenv("PREDICTIVE_UNIT_ID");
  if (!name || !*name)
    name = DEFAULT_NAME;

  struct sockaddr_storage addr;
  socklen_t addr_len;
  if (!ss__msrv_resolve(PROG, host, port, &addr, &addr_len))
    return RC_USAGE;

  ss__msrv_gate_init(&s.gate);
  ss__msrv_gate_limit(&s.gate, s.params.workers);
  s.metadata = build_metadata(name);
  s.status_input = json_loads(STATUS_INPUT, 0, NULL);
  if (!s.metadata || !s.status_input) {
    fprintf(stderr, "servescale mock-classifier: out of memory\n");
    goto out;
  }
  if (!ss__msrv_signals(PROG, &pipefd[0], &pipefd[1]))
    goto out;
  s.wake_wr = pipefd[1];
  d = ss__msrv_start(PROG, host, port, &addr, on_request, on_completed,
                     &s, CONN_MAX, CONN_IDLE_TIMEOUT_S);
  if (!d)
    goto out;
  log_event("event=start name=%s host=%s port=%d pid=%ld threshold=%g delay_ms=%ld cpu_ms=%ld "
            "fail_after=%ld workers=%ld",
            name, host, ss__msrv_bound_port(d, port), (long)getpid(), s.params.threshold,
            s.params.delay_ms, s.params.cpu_ms, s.params.fail_after, s.params.workers);

  char what = 0;
  while (ss__msrv_signal() == 0 && what != 'F') {
    ssize_t r = read(pipefd[0], &what, 1);
    if (r < 0 && errno != EINTR) {
      log_event("event=stop reason=error error=\"%s\"", strerror(errno));
      goto out;
    }
  }
  int got_signal = ss__msrv_signal();
  if (got_signal) {
    bool clean = drain(&s, d);
    rc = RC_OK;
    log_event("event=stop reason=%s drained=%s requests=%ld predictions=%ld exit=%d",
              got_signal == SIGTERM ? "SIGTERM" : "SIGINT", clean ? "true" : "false",
              atomic_load(&s.requests), atomic_load(&s.predictions), rc);
  } else {
    atomic_store(&s.abandon, true);
    rc = RC_FAIL;
    log_event("event=stop reason=fail_after requests=%ld predictions=%ld exit=%d",
              atomic_load(&s.requests), atomic_load(&s.predictions), rc);
  }

out:
  if (d) {
    atomic_store(&s.abandon, true);
    MHD_stop_daemon(d);
  }
  ss__msrv_signals_done();
  for (int i = 0; i < 2; i++)
    if (pipefd[i] >= 0)
      close(pipefd[i]);
  free(s.metadata);
  json_decref(s.status_input);
  ss__msrv_gate_destroy(&s.gate);
  return rc;
}
