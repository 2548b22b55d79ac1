/* process.c: the process_* metrics of this process, as Prometheus' client
 * libraries name them, read from /proc/self (Linux): CPU seconds, resident
 * memory, open file descriptors and start time. They are ordinary families
 * of the registry, so exposition and the window treat them like any other;
 * this file only declares them and refreshes their values. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/err.h"
#include "metrics/internal.h"

/* Help texts as client_golang's process collector writes them. */
static const struct {
  const char *name;
  enum ss_metric_type type;
  const char *help;
} proc_families[] = {
    {"process_cpu_seconds_total", SS_METRIC_COUNTER, "Total user and system CPU time spent in seconds."},
    {"process_open_fds", SS_METRIC_GAUGE, "Number of open file descriptors."},
    {"process_resident_memory_bytes", SS_METRIC_GAUGE, "Resident memory size in bytes."},
    {"process_start_time_seconds", SS_METRIC_GAUGE, "Start time of the process since unix epoch in seconds."},
};

/* Reads a small /proc file whole into buf (NUL-terminated); false on error. */
static bool read_small(const char *path, char *buf, size_t size) {
  FILE *f = fopen(path, "re");
  if (!f)
    return false;
  size_t n = fread(buf, 1, size - 1, f);
  fclose(f);
  buf[n] = '\0';
  return n > 0;
}

struct proc_stat {
  unsigned long long utime, stime, starttime; /* clock ticks */
  long long rss;                              /* pages */
};

/* /proc/self/stat, fields 14 (utime), 15 (stime), 22 (starttime) and 24
 * (rss) in proc(5)'s numbering. The command (field 2) may hold spaces and
 * parentheses, so fields are counted from its last ')'. */
static bool read_stat(struct proc_stat *st) {
  char buf[1024];
  if (!read_small("/proc/self/stat", buf, sizeof buf))
    return false;
  char *p = strrchr(buf, ')');
  if (!p)
    return false;
  p++;
  int field = 2;
  char *save = NULL;
  for (char *tok = strtok_r(p, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
    field++;
    switch (field) {
    case 14: st->utime = strtoull(tok, NULL, 10); break;
    case 15: st->stime = strtoull(tok, NULL, 10); break;
    case 22: st->starttime = strtoull(tok, NULL, 10); break;
    case 24: st->rss = strtoll(tok, NULL, 10); return true;
    default: break;
    }
  }
  return false;
}

/* Boot time in seconds since the epoch: /proc/stat's "btime". */
static bool boot_time(double *out) {
  char buf[16384];
  if (!read_small("/proc/stat", buf, sizeof buf))
    return false;
  const char *p = strstr(buf, "\nbtime ");
  if (!p)
    return false;
  *out = strtod(p + 7, NULL);
  return true;
}

/* Entries of /proc/self/fd, not counting the one opendir holds. */
static long open_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  if (!d)
    return -1;
  long n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (e->d_name[0] != '.')
      n++;
  closedir(d);
  return n - 1;
}

int ss__process_init(struct ss_metrics *m) {
  struct ss_series **slots[] = {&m->proc_cpu, &m->proc_fds, &m->proc_rss, &m->proc_start};
  for (size_t i = 0; i < sizeof proc_families / sizeof *proc_families; i++) {
    int rc = ss_metrics_family(m, proc_families[i].name, proc_families[i].type,
                               proc_families[i].help, NULL, 0, NULL, 0);
    if (rc != SS_EOK)
      return rc;
    if (!(*slots[i] = ss_metrics_series(m, proc_families[i].name, NULL)))
      return SS_ENOMEM;
  }
  /* The start time does not change: once. */
  struct proc_stat st = {0};
  double btime;
  long ticks = sysconf(_SC_CLK_TCK);
  if (ticks > 0 && read_stat(&st) && boot_time(&btime))
    ss__series_store(m->proc_start, btime + (double)st.starttime / (double)ticks);
  ss__process_refresh(m);
  return SS_EOK;
}

void ss__process_refresh(struct ss_metrics *m) {
  struct proc_stat st = {0};
  long ticks = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
  bool have_stat = ticks > 0 && page > 0 && read_stat(&st);
  long fds = open_fds();
  /* the read lock: ss_series_release may clear these pointers */
  pthread_rwlock_rdlock(&m->lock);
  if (have_stat) {
    ss__series_store(m->proc_cpu, (double)(st.utime + st.stime) / (double)ticks);
    ss__series_store(m->proc_rss, (double)st.rss * (double)page);
  }
  if (fds >= 0)
    ss__series_store(m->proc_fds, (double)fds);
  pthread_rwlock_unlock(&m->lock);
}
