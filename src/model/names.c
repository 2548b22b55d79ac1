/* names.c: RFC 1123 label and subdomain checks, with Kubernetes' wording. */
#include "model/names.h"

#include <string.h>

static bool alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

/* Checks one label in s[0..n). */
static bool label_ok(const char *s, size_t n) {
  if (n == 0 || !alnum(s[0]) || !alnum(s[n - 1]))
    return false;
  for (size_t i = 0; i < n; i++)
    if (!alnum(s[i]) && s[i] != '-')
      return false;
  return true;
}

const char *ss_dns1123_label(const char *s) {
  size_t n = strlen(s);
  if (n == 0)
    return "must not be empty";
  if (n > SS_DNS1123_LABEL_MAX)
    return "must be no more than 63 characters";
  if (!label_ok(s, n))
    return "a lowercase RFC 1123 label must consist of lower case alphanumeric "
           "characters or '-', and must start and end with an alphanumeric character "
           "(e.g. 'my-name', or '123-abc')";
  return NULL;
}

const char *ss_dns1123_subdomain(const char *s) {
  size_t n = strlen(s);
  if (n == 0)
    return "must not be empty";
  if (n > SS_DNS1123_SUBDOMAIN_MAX)
    return "must be no more than 253 characters";
  const char *p = s;
  for (;;) {
    const char *dot = strchr(p, '.');
    size_t len = dot ? (size_t)(dot - p) : strlen(p);
    if (!label_ok(p, len))
      return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
             "characters, '-' or '.', and must start and end with an alphanumeric "
             "character (e.g. 'example.com')";
    if (!dot)
      return NULL;
    p = dot + 1;
  }
}
