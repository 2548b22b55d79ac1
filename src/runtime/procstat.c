/* procstat.c: a process's start time, CPU time and resident memory, read
 * from /proc/<pid>/stat and /proc/<pid>/statm (proc(5)). Keeps no state;
 * what the numbers mean for scaling is autoscale/'s business. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/internal.h"

/* /proc/<pid>/stat is about 300 bytes; comm is at most 16 of them. */
#define PROC_STAT_MAX 1024
/* proc(5) field numbers, 1-based, of /proc/<pid>/stat. */
#define FIELD_UTIME 14
#define FIELD_STIME 15
#define FIELD_STARTTIME 22
#define FIELD_RSS 24

/* Reads a small /proc file NUL-terminated into buf; length or -1. */
static ssize_t read_small(const char *path, char *buf, size_t size) {
  ssize_t len = -1;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    goto out;
  size_t got = 0;
  while (got + 1 < size) {
    ssize_t n = read(fd, buf + got, size - 1 - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      goto out;
    if (n == 0)
      break;
    got += (size_t)n;
  }
  buf[got] = '\0';
  len = (ssize_t)got;
out:
  if (fd >= 0)
    close(fd);
  return len;
}

bool ss__proc_stat(pid_t pid, struct ss__proc_sample *out) {
  char path[64], buf[PROC_STAT_MAX];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  if (read_small(path, buf, sizeof buf) <= 0)
    return false;
  /* comm (field 2) is in parentheses and may hold spaces and ')': the
   * fields that follow start after the last ')'. */
  char *p = strrchr(buf, ')');
  if (!p)
    return false;
  p++;
  while (*p == ' ')
    p++;
  out->state = *p;
  unsigned long long utime = 0, stime = 0, start = 0, rss = 0;
  int field = 2, found = 0;
  while (*p && found < 4) {
    while (*p == ' ')
      p++;
    if (!*p)
      break;
    field++;
    char *end = p;
    while (*end && *end != ' ')
      end++;
    if (field == FIELD_UTIME || field == FIELD_STIME || field == FIELD_STARTTIME ||
        field == FIELD_RSS) {
      unsigned long long v = strtoull(p, NULL, 10);
      if (field == FIELD_UTIME)
        utime = v;
      else if (field == FIELD_STIME)
        stime = v;
      else if (field == FIELD_STARTTIME)
        start = v;
      else
        rss = v;
      found++;
    }
    p = end;
  }
  if (found < 4)
    return false;
  long hz = sysconf(_SC_CLK_TCK);
  if (hz <= 0)
    hz = 100; /* the USER_HZ of every Linux ABI */
  long page = sysconf(_SC_PAGESIZE);
  out->start_ticks = start;
  out->cpu_seconds = (double)(utime + stime) / (double)hz;
  out->rss_bytes = (int64_t)rss * (page > 0 ? page : 4096);
  return true;
}

bool ss__proc_rss(pid_t pid, int64_t *bytes) {
  char path[64], buf[256];
  snprintf(path, sizeof path, "/proc/%d/statm", (int)pid);
  if (read_small(path, buf, sizeof buf) <= 0)
    return false;
  unsigned long long size = 0, resident = 0;
  if (sscanf(buf, "%llu %llu", &size, &resident) != 2)
    return false;
  long page = sysconf(_SC_PAGESIZE);
  *bytes = (int64_t)resident * (page > 0 ? page : 4096);
  return true;
}
