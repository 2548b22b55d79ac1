/* requests.c: GET /apis/servescale.io/v1/namespaces/NS/requestcounts/NAME:
 * a SeldonDeployment's requests now, the ones its gateway has answered so
 * far and the ones outstanding (in flight at replicas or queued), answered
 * by the requests hook. `servescale record` samples it every second into a
 * load trace: the metrics window behind timelines keeps samples 5 s apart,
 * too coarse for a trace's bursts. servescale's own path, read-only. */
#include <stdio.h>
#include <string.h>

#include "api/internal.h"

/* apis servescale.io v1 namespaces NS requestcounts NAME, and room to see more */
#define MAX_SEGS 8

bool ss__api_requests(struct ss_api *api, const struct ss_api_req *req, struct ss_api_resp *resp) {
  char segs[MAX_SEGS][SS_API_SEG_MAX];
  int n = ss__api_split(req->path, segs, MAX_SEGS);
  if (n != 7 || strcmp(segs[0], "apis") != 0 || strcmp(segs[1], "servescale.io") != 0 ||
      strcmp(segs[2], "v1") != 0 || strcmp(segs[3], "namespaces") != 0 ||
      strcmp(segs[5], "requestcounts") != 0)
    return false;
  if (strcmp(req->method, "GET") != 0) {
    ss__api_status(resp, 405, "MethodNotAllowed",
                   "the server does not allow this method on requestcounts: only GET");
    return true;
  }
  if (!api->cfg.hooks.requests) {
    ss__api_status(resp, 404, "NotFound", "request counts are not served here");
    return true;
  }
  char why[512] = "";
  int code = 500;
  json_t *rc = api->cfg.hooks.requests(api->cfg.hooks.ctx, segs[4], segs[6], &code, why,
                                       sizeof why);
  if (!rc) {
    ss__api_status(resp, code, code == 404 ? "NotFound" : "InternalError", "%s", why);
    return true;
  }
  resp->code = 200;
  resp->body = rc;
  return true;
}
