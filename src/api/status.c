/* status.c: meta/v1 Status answers, Warning headers, and the release of
 * an answer. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "api/selector.h"

void ss__api_resp_free(struct ss_api_resp *r) {
  json_decref(r->body);
  free(r->text);
  free(r->file);
  for (int i = 0; i < r->n_warnings; i++)
    free(r->warnings[i]);
  ss_watch_close(r->watch);
  ss_selector_free(r->watch_label);
  ss_selector_free(r->watch_field);
  json_decref(r->watch_initial);
  json_decref(r->watch_seen);
  memset(r, 0, sizeof *r);
}

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

bool ss__api_query_bool(const char *name, const char *v, bool *out, struct ss_api_resp *resp) {
  static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True", NULL};
  static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False", NULL};
  *out = false;
  if (!v)
    return true;
  for (int i = 0; yes[i]; i++)
    if (strcmp(v, yes[i]) == 0)
      return (*out = true);
  for (int i = 0; no[i]; i++)
    if (strcmp(v, no[i]) == 0)
      return true;
  ss__api_status(resp, 400, "BadRequest", "%s: strconv.ParseBool: parsing \"%.64s\": invalid syntax",
                 name, v);
  return false;
}
