/* timeline.c: GET /apis/servescale.io/v1/namespaces/NS/timelines/NAME
 * [?since=10m]: a SeldonDeployment's timeline (request rate, latency,
 * replicas, autoscaler metrics, events; src/timeline builds it), answered
 * by the timeline hook. servescale's own path: no cluster serves it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"

#define PREFIX "/apis/servescale.io/v1/namespaces/"
#define SINCE_MAX_MS (24LL * 3600 * 1000)
#define SINCE_DEFAULT_MS (10LL * 60 * 1000)

/* "10m", "90s", "1h", "500ms": milliseconds; -1 when not one of those. */
static long long duration_ms(const char *s) {
  char *end;
  double v = strtod(s, &end);
  double mul = strcmp(end, "ms") == 0 ? 1 : strcmp(end, "s") == 0 ? 1000
               : strcmp(end, "m") == 0 ? 60000 : strcmp(end, "h") == 0 ? 3600000 : -1;
  if (end == s || mul < 0 || !(v > 0) || v * mul > (double)SINCE_MAX_MS)
    return -1;
  return (long long)(v * mul);
}

/* NS and NAME from the path; false when it is not a timeline's. */
static bool parse_path(const char *path, char *ns, char *name, size_t size) {
  if (strncmp(path, PREFIX, strlen(PREFIX)) != 0)
    return false;
  const char *p = path + strlen(PREFIX), *slash = strchr(p, '/');
  if (!slash || (size_t)(slash - p) >= size || slash == p ||
      strncmp(slash, "/timelines/", 11) != 0)
    return false;
  const char *n = slash + 11;
  if (!*n || strchr(n, '/') || strlen(n) >= size)
    return false;
  snprintf(ns, size, "%.*s", (int)(slash - p), p);
  snprintf(name, size, "%s", n);
  return true;
}

bool ss__api_timeline(struct ss_api *api, const struct ss_api_req *req, struct ss_api_resp *resp) {
  char ns[256], name[256], why[512] = "";
  if (!parse_path(req->path, ns, name, sizeof ns))
    return false;
  if (strcmp(req->method, "GET") != 0) {
    ss__api_status(resp, 405, "MethodNotAllowed", "the server does not allow this method on "
                                                  "timelines: only GET");
    return true;
  }
  long long since = req->q_since ? duration_ms(req->q_since) : SINCE_DEFAULT_MS;
  if (since < 0) {
    ss__api_status(resp, 400, "BadRequest", "since: \"%.32s\" is not a duration from 1ms to 24h "
                   "(e.g. 10m, 90s)", req->q_since);
    return true;
  }
  if (!api->cfg.hooks.timeline) {
    ss__api_status(resp, 404, "NotFound", "timelines are not served here");
    return true;
  }
  int code = 500;
  json_t *tl = api->cfg.hooks.timeline(api->cfg.hooks.ctx, ns, name, since, &code, why,
                                       sizeof why);
  if (!tl) {
    ss__api_status(resp, code, code == 404 ? "NotFound" : "InternalError", "%s", why);
    return true;
  }
  resp->code = 200;
  resp->body = tl;
  return true;
}
