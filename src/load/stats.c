/* stats.c: the load generator's counting: a log histogram of latencies
 * (lock-free), quantiles from it, and parsing what a loadtest aims at. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "load/load.h"

size_t ss_load_bucket(uint64_t us) {
  if (us <= 1)
    return 0;
  double i = ceil(log((double)us) / log(SS_LOAD_GROWTH));
  return i >= SS_LOAD_BUCKETS - 1 ? SS_LOAD_BUCKETS - 1 : (size_t)i;
}

double ss_load_bucket_upper_us(size_t i) {
  return pow(SS_LOAD_GROWTH, (double)i);
}

void ss_load_record(struct ss_load_stats *st, uint64_t us, int code) {
  atomic_fetch_add_explicit(&st->buckets[ss_load_bucket(us)], 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&st->codes[code > 0 && code < SS_LOAD_CODES ? code : 0], 1,
                            memory_order_relaxed);
  atomic_fetch_add_explicit(&st->sum_us, us, memory_order_relaxed);
  uint64_t max = atomic_load_explicit(&st->max_us, memory_order_relaxed);
  while (us > max && !atomic_compare_exchange_weak(&st->max_us, &max, us))
    ;
  if (code < 200 || code > 299)
    atomic_fetch_add_explicit(&st->failures, 1, memory_order_relaxed);
  /* last, so that a snapshot never sees more requests than bucket counts */
  atomic_fetch_add_explicit(&st->requests, 1, memory_order_release);
}

void ss_load_snapshot_take(struct ss_load_stats *st, struct ss_load_snapshot *out) {
  out->requests = atomic_load_explicit(&st->requests, memory_order_acquire);
  out->failures = atomic_load(&st->failures);
  out->sum_us = atomic_load(&st->sum_us);
  out->max_us = atomic_load(&st->max_us);
  out->users = atomic_load(&st->users);
  for (size_t i = 0; i < SS_LOAD_BUCKETS; i++)
    out->buckets[i] = atomic_load_explicit(&st->buckets[i], memory_order_relaxed);
  for (size_t i = 0; i < SS_LOAD_CODES; i++)
    out->codes[i] = atomic_load_explicit(&st->codes[i], memory_order_relaxed);
}

double ss_load_quantile_ms(const uint64_t *buckets, double q) {
  uint64_t total = 0;
  for (size_t i = 0; i < SS_LOAD_BUCKETS; i++)
    total += buckets[i];
  if (total == 0)
    return 0;
  /* the rank of the q quantile, 1-based, as "nearest rank" defines it */
  uint64_t rank = (uint64_t)ceil(q * (double)total);
  if (rank < 1)
    rank = 1;
  uint64_t seen = 0;
  for (size_t i = 0; i < SS_LOAD_BUCKETS; i++) {
    seen += buckets[i];
    if (seen >= rank)
      return ss_load_bucket_upper_us(i) / 1000.0;
  }
  return ss_load_bucket_upper_us(SS_LOAD_BUCKETS - 1) / 1000.0;
}

static enum ss_err parse_url(const char *s, struct ss_load_target *out, struct ss_error *err) {
  const char *host = strncmp(s, "http://", 7) == 0    ? s + 7
                     : strncmp(s, "https://", 8) == 0 ? s + 8
                                                      : NULL;
  if (!host)
    return ss_error_set(err, SS_EINVALID, 0, 0,
                        "target: \"%.80s\" is neither a URL (http:// or https://) nor sdep/NAME",
                        s);
  if (!*host || *host == '/' || *host == ':')
    return ss_error_set(err, SS_EINVALID, 0, 0, "target: URL \"%.80s\" has no host", s);
  if (strlen(s) >= sizeof out->url)
    return ss_error_set(err, SS_EINVALID, 0, 0, "target: URL longer than %zu bytes",
                        sizeof out->url - 1);
  for (const char *p = s; *p; p++)
    if ((unsigned char)*p <= ' ' || *p == 0x7f)
      return ss_error_set(err, SS_EINVALID, 0, 0,
                          "target: URL has a space or control character at byte %zu",
                          (size_t)(p - s));
  out->kind = SS_LOAD_TARGET_URL;
  snprintf(out->url, sizeof out->url, "%s", s);
  return SS_EOK;
}

enum ss_err ss_load_target_parse(const char *s, struct ss_load_target *out,
                                 struct ss_error *err) {
  static const char *const kinds[] = {"sdep", "seldondeployment", "seldondeployments",
                                      "seldondeployments.machinelearning.seldon.io",
                                      "SeldonDeployment"};
  memset(out, 0, sizeof *out);
  if (!s || !*s)
    return ss_error_set(err, SS_EINVALID, 0, 0, "target: required (a URL or sdep/NAME)");
  const char *slash = strchr(s, '/');
  if (strstr(s, "://") || !slash)
    return parse_url(s, out, err);
  size_t kl = (size_t)(slash - s);
  bool known = false;
  for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
    known |= strlen(kinds[i]) == kl && strncmp(kinds[i], s, kl) == 0;
  if (!known)
    return ss_error_set(err, SS_EINVALID, 0, 0,
                        "target: kind \"%.*s\" cannot take load: give sdep/NAME or a URL",
                        (int)(kl > 60 ? 60 : kl), s);
  if (ss_dns1123_subdomain(slash + 1))
    return ss_error_set(err, SS_EINVALID, 0, 0,
                        "target: name \"%.80s\" is not a valid object name (lower-case "
                        "letters, digits, '-' and '.')", slash + 1);
  out->kind = SS_LOAD_TARGET_SDEP;
  snprintf(out->name, sizeof out->name, "%s", slash + 1);
  return SS_EOK;
}
