/* spawn.c: starting one child process the way a replica (or an exec probe)
 * needs it: own process group, dies with the daemon, stdio redirected, no
 * inherited descriptors, exec failure reported back through a CLOEXEC pipe.
 * The child shares the daemon's memory until it execs (clone with CLONE_VM
 * and CLONE_VFORK, as posix_spawn does), so that starting a process does not
 * copy, and then tear down, the page tables of a big multi-threaded daemon:
 * that made a start cost milliseconds, tens of them on a busy host.
 * Also the small OS helpers around it: environments, loopback ports, the
 * pid records in state_dir/pids and the orphan sweep that reads them. When
 * to start or stop anything is runtime.c's decision. */

/* pipe2, close_range and execvpe: Linux process control has no POSIX
 * spelling for closing the descriptor race, and the runtime is Linux-only
 * (it reads /proc). */
#ifndef _GNU_SOURCE /* the build defines it for every file */
#define _GNU_SOURCE
#endif

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/internal.h"

extern char **environ;

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2) /* linux/close_range.h, Linux 5.11 */
#endif

/* Upper bound for the fallback close loop when RLIMIT_NOFILE is huge. */
#define FD_LOOP_MAX 65536
/* The child's stack until it execs: its frames and execvpe's PATH buffer
 * (PATH_MAX + NAME_MAX) fit many times over. */
#define CHILD_STACK_SIZE (256 * 1024)
/* The kernel's sigset, as rt_sigaction and rt_sigprocmask take it. */
#define KERNEL_SIGSET_SIZE 8
/* Tries at the kernel's port choice before giving up on a port we hold. */
#define PORT_TRIES 32
#define PIDREC_MAX 128

/* What the child tells the parent when it cannot exec. */
struct child_report {
  int stage; /* STAGE_* */
  int err;   /* errno */
};
enum { STAGE_CHDIR = 1, STAGE_EXEC = 2, STAGE_SETUP = 3 };

/* What the child works from: on the parent's stack, read only. */
struct child_args {
  const struct ss__spawn_req *req;
  int in_fd, out_fd, err_fd;
  pid_t parent;
  long fd_max;  /* descriptors to close when close_range cannot (Linux < 5.11) */
};

/* The child runs on memory it shares with the daemon (its stack aside),
 * while the thread that started it waits: it makes raw system calls only,
 * so that no libc or sanitizer state (locks, errno aside, which is the
 * waiting thread's) is touched, and it is not instrumented, so that no
 * sanitizer bookkeeping is left behind on its stack. */
#if defined(__has_attribute)
#if __has_attribute(no_sanitize)
#define CHILD_CODE __attribute__((no_sanitize("address", "undefined"), noinline))
#endif
#endif
#ifndef CHILD_CODE
#define CHILD_CODE __attribute__((noinline))
#endif

/* errno as a raw system call leaves it: -1 with the error in errno. */
CHILD_CODE static long sys(long n, long a, long b, long c, long d) {
  return syscall(n, a, b, c, d);
}

CHILD_CODE static void child_report(int fd, int stage, int err) {
  struct child_report rep = {stage, err};
  long n;
  do
    n = sys(SYS_write, fd, (long)&rep, (long)sizeof rep, 0);
  while (n < 0 && errno == EINTR);
}

/* Moves fd to target for the child, clearing CLOEXEC also when the two are
 * already the same descriptor (dup2 would then do nothing). */
CHILD_CODE static int move_fd(int fd, int target) {
  if (fd == target)
    return (int)sys(SYS_fcntl, fd, F_SETFD, 0, 0);
  return sys(SYS_dup3, fd, target, 0, 0) < 0 ? -1 : 0;
}

/* The kernel's struct sigaction (x86-64, arm64 and most: handler, flags,
 * restorer, mask), for rt_sigaction. */
struct kernel_sigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)(void);
  unsigned long mask;
};

/* Runs in the child between clone and exec (see CHILD_CODE). */
CHILD_CODE static int child_main(void *arg) {
  const struct child_args *a = arg;
  const struct ss__spawn_req *req = a->req;
  sys(SYS_setpgid, 0, 0, 0, 0);
  /* Replicas die when the daemon dies, even by SIGKILL. The signal comes
   * when the forking *thread* exits, hence the rule in runtime.h. */
  if (sys(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0) < 0) {
    child_report(a->err_fd, STAGE_SETUP, errno);
    sys(SYS_exit, 127, 0, 0, 0);
  }
  /* The parent may have died before prctl: then we were reparented already. */
  if (sys(SYS_getppid, 0, 0, 0, 0) != a->parent)
    sys(SYS_exit, 127, 0, 0, 0);

  /* Dispositions the daemon set (SIGPIPE ignored, say) survive exec, and a
   * handler of the daemon must never run here, on its memory: every signal
   * was blocked before clone; each goes back to its default, then none is
   * blocked, and a replica starts as a fresh process would. */
  struct kernel_sigaction dfl = {.handler = SIG_DFL};
  for (int s = 1; s < NSIG; s++) /* fails harmlessly for SIGKILL, SIGSTOP */
    sys(SYS_rt_sigaction, s, (long)&dfl, 0, KERNEL_SIGSET_SIZE);
  unsigned long none = 0;
  sys(SYS_rt_sigprocmask, SIG_SETMASK, (long)&none, 0, KERNEL_SIGSET_SIZE);

  if (move_fd(a->in_fd, STDIN_FILENO) < 0 || move_fd(a->out_fd, STDOUT_FILENO) < 0 ||
      move_fd(a->out_fd, STDERR_FILENO) < 0) {
    child_report(a->err_fd, STAGE_SETUP, errno);
    sys(SYS_exit, 127, 0, 0, 0);
  }
  /* Everything else closes at exec; err_fd already does, so it stays open
   * until exec succeeds or we report. */
  if (sys(SYS_close_range, 3, (long)~0U, CLOSE_RANGE_CLOEXEC, 0) < 0) {
    for (int fd = 3; fd < a->fd_max; fd++)
      if (fd != a->err_fd)
        sys(SYS_close, fd, 0, 0, 0);
  }
  if (req->workdir && sys(SYS_chdir, (long)req->workdir, 0, 0, 0) < 0) {
    child_report(a->err_fd, STAGE_CHDIR, errno);
    sys(SYS_exit, 127, 0, 0, 0);
  }
  /* glibc's execvpe allocates nothing (its PATH buffer is on this stack) */
  execvpe(req->argv[0], req->argv, req->envp);
  child_report(a->err_fd, STAGE_EXEC, errno);
  sys(SYS_exit, 127, 0, 0, 0);
  return 127;
}

/* Opens path (or /dev/null) above the standard descriptors so that the
 * child's dup2s cannot clobber one another. */
static int open_above_stdio(const char *path, int flags) {
  int fd = open(path, flags | O_CLOEXEC, 0644);
  if (fd >= 0 && fd <= STDERR_FILENO) {
    int hi = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
    close(fd);
    fd = hi;
  }
  return fd;
}

enum ss_err ss__spawn(const struct ss__spawn_req *req, pid_t *pid_out, char *msg,
                      size_t msg_size) {
  enum ss_err rc = SS_EIO;
  int in_fd = -1, out_fd = -1, pipefd[2] = {-1, -1};
  void *stack = NULL;
  char eb[128];
  *pid_out = 0;

  in_fd = open_above_stdio("/dev/null", O_RDONLY);
  if (in_fd < 0) {
    snprintf(msg, msg_size, "open /dev/null: %s", strerror_r(errno, eb, sizeof eb));
    goto out;
  }
  out_fd = req->log_path ? open_above_stdio(req->log_path, O_WRONLY | O_CREAT | O_APPEND)
                         : open_above_stdio("/dev/null", O_WRONLY);
  if (out_fd < 0) {
    snprintf(msg, msg_size, "open %s: %s", req->log_path ? req->log_path : "/dev/null",
             strerror_r(errno, eb, sizeof eb));
    goto out;
  }
  if (pipe2(pipefd, O_CLOEXEC) < 0) {
    snprintf(msg, msg_size, "pipe: %s", strerror_r(errno, eb, sizeof eb));
    goto out;
  }
  stack = mmap(NULL, CHILD_STACK_SIZE, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) {
    stack = NULL;
    snprintf(msg, msg_size, "mmap: %s", strerror_r(errno, eb, sizeof eb));
    goto out;
  }
  long fd_max = sysconf(_SC_OPEN_MAX);
  if (fd_max < 0 || fd_max > FD_LOOP_MAX)
    fd_max = FD_LOOP_MAX;
  struct child_args args = {req, in_fd, out_fd, pipefd[1], getpid(), fd_max};
  /* No handler of ours may run in the child (see child_main). */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  /* This thread waits until the child has exec'd or exited. */
  pid_t pid = clone(child_main, (char *)stack + CHILD_STACK_SIZE,
                    CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
  int clone_errno = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (pid < 0) {
    snprintf(msg, msg_size, "clone: %s", strerror_r(clone_errno, eb, sizeof eb));
    goto out;
  }

  /* Also from this side, so that the group exists before we signal it,
   * whoever runs first; EACCES once the child has exec'd is fine. */
  setpgid(pid, pid);
  close(pipefd[1]);
  pipefd[1] = -1;

  struct child_report rep;
  ssize_t n;
  do
    n = read(pipefd[0], &rep, sizeof rep);
  while (n < 0 && errno == EINTR);
  if (n == (ssize_t)sizeof rep) {
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
      ;
    const char *what = rep.stage == STAGE_CHDIR ? "chdir" : rep.stage == STAGE_EXEC ? "exec"
                                                                                    : "setup";
    const char *arg = rep.stage == STAGE_CHDIR ? req->workdir
                      : rep.stage == STAGE_EXEC ? req->argv[0]
                                                : "child";
    snprintf(msg, msg_size, "%s \"%s\": %s", what, arg, strerror_r(rep.err, eb, sizeof eb));
    rc = rep.stage == STAGE_SETUP ? SS_EIO : SS_EINVALID;
    goto out;
  }
  *pid_out = pid;
  rc = SS_EOK;
out:
  if (in_fd >= 0)
    close(in_fd);
  if (out_fd >= 0)
    close(out_fd);
  if (pipefd[0] >= 0)
    close(pipefd[0]);
  if (pipefd[1] >= 0)
    close(pipefd[1]);
  if (stack)
    munmap(stack, CHILD_STACK_SIZE);
  return rc;
}

/* ---- environments ---- */

static size_t key_len(const char *kv) {
  const char *eq = strchr(kv, '=');
  return eq ? (size_t)(eq - kv) : strlen(kv);
}

static bool same_key(const char *a, const char *b) {
  size_t n = key_len(a);
  return n == key_len(b) && memcmp(a, b, n) == 0;
}

/* Whether kv's key is set again later: in list from index from on, or in
 * the lists that follow. */
static bool overridden(const char *kv, char *const *const *lists, size_t nlists, size_t li,
                       size_t from) {
  for (size_t l = li; l < nlists; l++) {
    if (!lists[l])
      continue;
    for (size_t i = l == li ? from : 0; lists[l][i]; i++)
      if (same_key(kv, lists[l][i]))
        return true;
  }
  return false;
}

char **ss__env_build(char *const *a, char *const *b) {
  char *const *const lists[] = {environ, a, b};
  const size_t nlists = sizeof lists / sizeof *lists;
  size_t total = 0;
  for (size_t l = 0; l < nlists; l++)
    for (size_t i = 0; lists[l] && lists[l][i]; i++)
      total++;
  char **env = calloc(total + 1, sizeof *env);
  if (!env)
    return NULL;
  size_t n = 0;
  for (size_t l = 0; l < nlists; l++) {
    for (size_t i = 0; lists[l] && lists[l][i]; i++) {
      if (overridden(lists[l][i], lists, nlists, l, i + 1))
        continue;
      env[n] = strdup(lists[l][i]);
      if (!env[n]) {
        ss__env_free(env);
        return NULL;
      }
      n++;
    }
  }
  return env;
}

void ss__env_free(char **env) {
  if (!env)
    return;
  for (size_t i = 0; env[i]; i++)
    free(env[i]);
  free(env);
}

void ss__kill_group(pid_t pgid, int sig) {
  /* kill(-1) would signal every process we may signal; our own group
   * would be the daemon itself. */
  if (pgid <= 1 || pgid == getpgrp())
    return;
  kill(-pgid, sig);
}

/* ---- ports ---- */

static int bind_loopback(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  /* A port whose last user left connections in TIME_WAIT is free for a
   * server (which sets SO_REUSEADDR, as nearly all do). */
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static bool avoided(int port, const int *avoid, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (avoid[i] == port)
      return true;
  return false;
}

bool ss__port_free(int port) {
  int fd = bind_loopback(port);
  if (fd < 0)
    return false;
  close(fd);
  return true;
}

int ss__port_pick(int min, int max, int *cursor, const int *avoid, size_t n_avoid) {
  if (min <= 0) {
    for (int i = 0; i < PORT_TRIES; i++) {
      int fd = bind_loopback(0);
      if (fd < 0)
        return 0;
      struct sockaddr_in sa;
      socklen_t len = sizeof sa;
      int port = 0;
      if (getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
      close(fd);
      if (port > 0 && !avoided(port, avoid, n_avoid))
        return port;
    }
    return 0;
  }
  if (max < min)
    max = min;
  int span = max - min + 1;
  for (int i = 0; i < span; i++) {
    int port = min + (*cursor + i) % span;
    if (avoided(port, avoid, n_avoid) || !ss__port_free(port))
      continue;
    *cursor = (port - min + 1) % span;
    return port;
  }
  return 0;
}

/* ---- pid records ---- */

enum ss_err ss__mkdirs(const char *path) {
  char buf[PATH_MAX];
  size_t n = strlen(path);
  if (n == 0 || n >= sizeof buf)
    return SS_EIO;
  /* the parents are there nearly always (a replica's log directory is made
   * once per replica set, under logs/): one call then */
  if (mkdir(path, 0755) == 0 || errno == EEXIST)
    return SS_EOK;
  memcpy(buf, path, n + 1);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir(buf, 0755) < 0 && errno != EEXIST)
      return SS_EIO;
    *p = '/';
  }
  if (mkdir(buf, 0755) < 0 && errno != EEXIST)
    return SS_EIO;
  return SS_EOK;
}

enum ss_err ss__pidrec_write(const char *state_dir, const char *id, pid_t pid, pid_t pgid,
                             uint64_t start_ticks) {
  enum ss_err rc = SS_EIO;
  char path[PATH_MAX], tmp[PATH_MAX], line[PIDREC_MAX];
  int fd = -1;
  if (snprintf(path, sizeof path, "%s/pids/%s", state_dir, id) >= (int)sizeof path ||
      snprintf(tmp, sizeof tmp, "%s/pids/.%s.tmp", state_dir, id) >= (int)sizeof tmp)
    goto out;
  int len = snprintf(line, sizeof line, "%d %d %llu\n", (int)pid, (int)pgid,
                     (unsigned long long)start_ticks);
  fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    goto out;
  /* Written whole, then renamed: a daemon killed mid-write leaves either no
   * record or a complete one, never a half pid. */
  if (write(fd, line, (size_t)len) != len)
    goto out;
  close(fd);
  fd = -1;
  if (rename(tmp, path) < 0)
    goto out;
  rc = SS_EOK;
out:
  if (fd >= 0)
    close(fd);
  if (rc)
    unlink(tmp);
  return rc;
}

void ss__pidrec_remove(const char *state_dir, const char *id) {
  char path[PATH_MAX];
  if (snprintf(path, sizeof path, "%s/pids/%s", state_dir, id) < (int)sizeof path)
    unlink(path);
}

int ss_runtime_reap_orphans(const char *state_dir) {
  int killed = 0;
  char dir[PATH_MAX];
  DIR *d = NULL;
  if (!state_dir || snprintf(dir, sizeof dir, "%s/pids", state_dir) >= (int)sizeof dir)
    goto out;
  d = opendir(dir);
  if (!d)
    goto out;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') {
      if (strstr(e->d_name, ".tmp")) /* a write the earlier daemon never finished */
        unlinkat(dirfd(d), e->d_name, 0);
      continue;
    }
    char line[PIDREC_MAX] = "";
    int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      ssize_t n = read(fd, line, sizeof line - 1);
      line[n > 0 ? n : 0] = '\0';
      close(fd);
    }
    int pid = 0, pgid = 0;
    unsigned long long start = 0;
    struct ss__proc_sample now;
    /* Only the very process we started: a pid reused since has another
     * start time, and its group is someone else's. A zombie is dead
     * already, waiting for whichever init adopted it. */
    if (sscanf(line, "%d %d %llu", &pid, &pgid, &start) == 3 && pid > 1 && pgid > 1 &&
        ss__proc_stat(pid, &now) && now.start_ticks == start && now.state != 'Z') {
      ss__kill_group(pgid, SIGKILL);
      killed++;
    }
    unlinkat(dirfd(d), e->d_name, 0);
  }
out:
  if (d)
    closedir(d);
  return killed;
}
