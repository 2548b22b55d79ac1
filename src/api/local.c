/* local.c: one API request made in process (api.h, ss_api_local): the
 * dashboard's writes, relayed by the gateway with the user's token, go
 * through the same authorization, admission and handlers as a request on
 * the API's port. */
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"

int ss_api_local(struct ss_api *api, const char *method, const char *path,
                 const char *content_type, const char *body, size_t len,
                 const char *authorization, char **out) {
  struct ss_api_resp resp = {0};
  *out = NULL;
  if (ss__api_authorize(method, path, authorization, api->cfg.token) == SS__API_AUTH_DENIED) {
    ss__api_status(&resp, 401, "Unauthorized", "a valid bearer token is required");
  } else if (strchr(path, '?')) {
    ss__api_status(&resp, 400, "BadRequest", "query parameters are not relayed");
  } else {
    struct ss_api_req req = {.method = method,
                             .path = path,
                             .body = body,
                             .body_len = len,
                             .content_type = content_type,
                             .user_agent = "servescale-dashboard"};
    ss__api_handle(api, &req, &resp);
  }
  int code = resp.code ? resp.code : 500;
  if (resp.body)
    *out = json_dumps(resp.body, JSON_COMPACT);
  ss__api_resp_free(&resp);
  return code;
}
