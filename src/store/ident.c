/* ident.c: the identifiers and times the store mints for objects: uids
 * (random UUID v4), generateName suffixes and creation timestamps. Random
 * bytes come from OpenSSL's CSPRNG, since uids must not collide across
 * restarts. */
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store/internal.h"

/* Kubernetes' alphabet for generated names (apimachinery util/rand): no
 * vowels, so that no word is spelled by chance. */
static const char suffix_alphabet[] = "bcdfghjklmnpqrstvwxz2456789";

static enum ss_err random_bytes(unsigned char *buf, size_t n, struct ss_error *err) {
  if (RAND_bytes(buf, (int)n) != 1)
    return ss_error_set(err, SS_EINTERNAL, 0, 0, "no random bytes from OpenSSL");
  return SS_EOK;
}

enum ss_err ss__uuid4(char out[SS__UUID_LEN + 1], struct ss_error *err) {
  unsigned char b[16];
  enum ss_err e = random_bytes(b, sizeof b, err);
  if (e)
    goto out;
  /* RFC 4122 section 4.4: version 4, variant 10xx. */
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
  snprintf(out, SS__UUID_LEN + 1,
           "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
           b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
           b[15]);
out:
  return e;
}

enum ss_err ss__name_suffix(char out[SS__NAME_SUFFIX_LEN + 1], struct ss_error *err) {
  enum ss_err e = SS_EOK;
  const unsigned n = sizeof suffix_alphabet - 1;
  /* Bytes at or above the largest multiple of n are redrawn, so that every
   * character is equally likely. */
  const unsigned limit = 256 / n * n;
  size_t len = 0;
  while (len < SS__NAME_SUFFIX_LEN) {
    unsigned char b[16];
    e = random_bytes(b, sizeof b, err);
    if (e)
      goto out;
    for (size_t i = 0; i < sizeof b && len < SS__NAME_SUFFIX_LEN; i++)
      if (b[i] < limit)
        out[len++] = suffix_alphabet[b[i] % n];
  }
  out[len] = '\0';
out:
  return e;
}

void ss__now_rfc3339(char out[SS__TIME_MAX]) {
  time_t now = time(NULL);
  struct tm tm;
  if (!gmtime_r(&now, &tm) || !strftime(out, SS__TIME_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm))
    snprintf(out, SS__TIME_MAX, "1970-01-01T00:00:00Z"); /* unreachable in practice */
}
