/* clock.h: the two clocks the daemon reads: a monotonic one for periods
 * and deadlines, and wall-clock time as Kubernetes writes it in objects
 * (RFC 3339, UTC, seconds). Header only; no state. */
#ifndef SS_COMMON_CLOCK_H
#define SS_COMMON_CLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Milliseconds on CLOCK_MONOTONIC. */
static inline int64_t ss_mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Now as "2006-01-02T15:04:05Z" into buf (at least 21 bytes). */
static inline void ss_rfc3339_now(char *buf, size_t size) {
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

#endif
