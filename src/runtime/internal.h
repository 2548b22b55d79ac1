/* internal.h: what the runtime's files share (ss__ names): starting a child
 * process (spawn.c), loopback ports and pid records (spawn.c), probes as
 * non-blocking state machines (probe.c), and /proc readings (procstat.c).
 * The supervisor that decides when to use them is runtime.c. */
#ifndef SS_RUNTIME_INTERNAL_H
#define SS_RUNTIME_INTERNAL_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"
#include "runtime/runtime.h"

/* ---- spawn.c: child processes ---- */

#define SS__MSG_MAX 256

struct ss__spawn_req {
  char *const *argv;     /* NULL-terminated; argv[0] looked up in PATH */
  char *const *envp;     /* the child's whole environment */
  const char *workdir;   /* NULL: the daemon's */
  const char *log_path;  /* stdout and stderr appended here; NULL: /dev/null */
};

/* Forks and execs req in its own process group, dying with the daemon's
 * forking thread (PR_SET_PDEATHSIG). SS_EOK: *pid runs the command.
 * SS_EINVALID: the child could not chdir or exec (msg says why; it will never
 * work, so retrying is useless). SS_EIO: a parent-side failure (fork, open of
 * the log) that may pass. Blocks only until the child has exec'd. */
enum ss_err ss__spawn(const struct ss__spawn_req *req, pid_t *pid, char *msg, size_t msg_size);

/* A copy of the daemon's environ with extra "KEY=VALUE" entries (a, then b;
 * a later key wins over an earlier one and over environ). NULL on ENOMEM.
 * Free with ss__env_free. */
char **ss__env_build(char *const *a, char *const *b);
void ss__env_free(char **env);

/* kill(-pgid, sig), refusing the process groups that must never be
 * signalled (<= 1, or the daemon's own). */
void ss__kill_group(pid_t pgid, int sig);

/* A loopback TCP port free to bind now: the kernel's choice when min is 0,
 * else the first free one in min..max from *cursor. Ports in avoid are
 * skipped. 0 when none. */
int ss__port_pick(int min, int max, int *cursor, const int *avoid, size_t n_avoid);
/* Whether 127.0.0.1:port can be bound now. */
bool ss__port_free(int port);

/* state_dir/pids/<id>: "<pid> <pgid> <start time>\n" (see runtime.h). */
enum ss_err ss__pidrec_write(const char *state_dir, const char *id, pid_t pid, pid_t pgid,
                             uint64_t start_ticks);
void ss__pidrec_remove(const char *state_dir, const char *id);

/* mkdir -p for a directory path; SS_EIO on failure. */
enum ss_err ss__mkdirs(const char *path);

/* ---- procstat.c: /proc readings ---- */

struct ss__proc_sample {
  uint64_t start_ticks; /* field 22 of /proc/<pid>/stat, clock ticks since boot */
  double cpu_seconds;   /* utime + stime */
  int64_t rss_bytes;    /* field 24 (pages), as /proc/<pid>/statm's resident */
  char state;           /* field 3: 'R', 'S', ..., 'Z' for a zombie */
};
bool ss__proc_stat(pid_t pid, struct ss__proc_sample *out);
/* Resident set size in bytes; false when the process is gone. */
bool ss__proc_rss(pid_t pid, int64_t *bytes);

/* ---- probe.c: one probe attempt at a time per probe ---- */

enum ss__probe_result { SS__PROBE_PENDING, SS__PROBE_OK, SS__PROBE_FAIL };

#define SS__PROBE_RESP_MAX 512 /* enough for a status line */
#define SS__PROBE_REQ_MAX 512

/* The running state of one probe of one replica. */
struct ss__probe_run {
  int64_t next_ms;       /* when to start the next attempt */
  int successes, failures; /* consecutive */
  bool busy;             /* an attempt is in flight */
  int stage;             /* connecting, sending, reading */
  int fd;                /* socket of an HTTP or TCP attempt, -1 */
  pid_t pid;             /* child of an exec attempt, 0 */
  int64_t deadline_ms;
  size_t req_len, req_off, resp_len;
  char req[SS__PROBE_REQ_MAX];
  char resp[SS__PROBE_RESP_MAX];
  char why[SS__MSG_MAX]; /* why the last attempt failed */
};

/* Kubernetes' defaults for 0 fields. */
int ss__probe_period_ms(const struct ss_probe *p);
int ss__probe_timeout_ms(const struct ss_probe *p);
int ss__probe_success_threshold(const struct ss_probe *p);
int ss__probe_failure_threshold(const struct ss_probe *p);

void ss__probe_init(struct ss__probe_run *r);
/* Starts an attempt; the result may already be known (connection refused,
 * exec failure): then returns it and the attempt is over. */
enum ss__probe_result ss__probe_begin(struct ss__probe_run *r, const struct ss_probe *p,
                                      int port, char *const *envp, int64_t now_ms);
/* Advances an attempt without blocking. */
enum ss__probe_result ss__probe_step(struct ss__probe_run *r, int64_t now_ms, pid_t *zombie);
/* Abandons an attempt; returns an exec child still to reap, or 0. */
pid_t ss__probe_cancel(struct ss__probe_run *r);
/* The pollfd of an attempt waiting on a socket; false otherwise. */
bool ss__probe_pollfd(const struct ss__probe_run *r, struct pollfd *pfd);

#endif
