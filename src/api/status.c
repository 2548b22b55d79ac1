/* status.c: meta/v1 Status answers and Warning headers. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"

void ss__api_status(struct ss_api_resp *resp, int code, const char *reason, const char *fmt,
                    ...) {
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  json_decref(resp->body);
  resp->code = code;
  resp->body = json_pack("{s:s, s:s, s:{}, s:s, s:s, s:s, s:i}", "kind", "Status",
                         "apiVersion", "v1", "metadata", "status",
                         code < 400 ? "Success" : "Failure", "message", msg, "reason", reason,
                         "code", code);
}

void ss__api_add_warning(struct ss_api_resp *resp, const char *fmt, ...) {
  if (resp->n_warnings >= SS_API_MAX_WARNINGS)
    return;
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  char *w = strdup(msg);
  if (w)
    resp->warnings[resp->n_warnings++] = w;
}
