/* auth.c: what the control API decides on a request's head alone, before
 * it reads any body: which requests are public, whether the bearer token
 * matches, and whether the announced body is over the limit. Pure; the
 * transport (server.c) acts on the answers. */
#include <string.h>
#include <strings.h>

#include "api/internal.h"

static bool public_path(const char *path) {
  return strcmp(path, "/healthz") == 0 || strcmp(path, "/readyz") == 0 ||
         strcmp(path, "/livez") == 0 || strcmp(path, "/version") == 0;
}

static bool token_ok(const char *have, const char *want) {
  /* constant time in the length of want: no early exit on a mismatch */
  size_t hl = strlen(have), wl = strlen(want);
  unsigned char diff = hl != wl;
  for (size_t i = 0; i < wl; i++)
    diff |= (unsigned char)(want[i] ^ (i < hl ? have[i] : 0));
  return diff == 0;
}

enum ss__api_auth ss__api_authorize(const char *method, const char *path,
                                    const char *authorization, const char *token) {
  bool read_only = method && (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0);
  if (read_only && path && public_path(path))
    return SS__API_AUTH_PUBLIC;
  if (!token || !*token)
    return SS__API_AUTH_OK;
  /* RFC 7235: the scheme is case-insensitive */
  if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
    return SS__API_AUTH_DENIED;
  return token_ok(authorization + 7, token) ? SS__API_AUTH_OK : SS__API_AUTH_DENIED;
}

bool ss__api_body_over(const char *content_length, size_t max) {
  if (!content_length)
    return false;
  const char *p = content_length;
  while (*p == ' ' || *p == '\t')
    p++;
  if (*p < '0' || *p > '9')
    return false;
  size_t n = 0;
  for (; *p >= '0' && *p <= '9'; p++) {
    size_t d = (size_t)(*p - '0');
    if (n > max / 10 || (n == max / 10 && d > max % 10))
      return true; /* more than max, however many digits follow */
    n = n * 10 + d;
  }
  return n > max;
}
