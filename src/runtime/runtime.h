/* runtime.h: replica sets of local processes, supervised as a kubelet and a
 * ReplicaSet controller would: each replica a child process in its own
 * process group, with its own loopback port, log file, readiness and
 * liveness probes, restart with exponential back-off, graceful stop
 * (SIGTERM, then SIGKILL after the grace period), and CPU and memory
 * sampled from /proc.
 *
 * The runtime knows nothing of Seldon or HTTP resources: control/ turns a
 * componentSpec into a template (argv, env, probes) and a replica count, and
 * reads back status. It never decides how many replicas to run.
 *
 * Threads: every function may be called from any thread (one mutex inside);
 * ss_runtime_tick does the work and is called by one loop. Replicas are
 * started by the runtime's own spawner thread, with PR_SET_PDEATHSIG (which
 * fires when the forking *thread* exits), so that they die with a daemon
 * killed by SIGKILL; that thread lives until ss_runtime_free has stopped
 * them. Exec probes are started by the loop's thread, which must therefore
 * live as long as the runtime. ss_runtime_free must not race with other
 * calls.
 *
 * Processes: the library installs no signal handler. Exits are reaped in
 * ss_runtime_tick with waitpid(pid, WNOHANG) per known child, so SIGCHLD
 * may stay at its default; it must not be SIG_IGN (the kernel would reap
 * for us and exit statuses would be lost). Probes run inside the tick as
 * non-blocking sockets and exec children, waiting on sockets at most a few
 * milliseconds per tick; an exec probe's start is the one short block.
 * A replica's process is started off the tick (by the spawner thread, in the
 * order asked): the tick that asks queues it, a later tick takes the result,
 * so a replica is STARTING without a pid for a tick or so, and a template
 * that cannot exec fails on its first replica as before.
 *
 * Ports: a replica's port is found free by binding 127.0.0.1 and closing
 * again; another program may take it before the replica binds it (the
 * replica then exits and is restarted on a fresh port). A replica keeps its
 * port across restarts while the port stays free, as a pod keeps its IP.
 *
 * Pid records: state_dir/pids/<replica-id> holds one line
 * "<pid> <pgid> <starttime>\n", starttime being field 22 of
 * /proc/<pid>/stat; written when a process starts, removed when it is
 * reaped. */
#ifndef SS_RUNTIME_RUNTIME_H
#define SS_RUNTIME_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "model/replicas.h"

#define SS_RS_NAME_LEN 128    /* "<namespace>.<name>": two DNS labels and a dot */
#define SS_REPLICA_ID_LEN 160 /* "<rs>-<5 chars>" */
#define SS_RUNTIME_MAX_REPLICAS SS_MAX_REPLICAS /* per replica set; more is SS_ELIMIT */

enum ss_probe_type { SS_PROBE_NONE, SS_PROBE_HTTP, SS_PROBE_TCP, SS_PROBE_EXEC };

/* Kubernetes' probe fields; 0 in a number means Kubernetes' default
 * (initialDelay 0, period 10, timeout 1, success 1, failure 3). */
struct ss_probe {
  enum ss_probe_type type;
  char path[256];            /* HTTP GET path, e.g. "/health/ping" */
  int port;                  /* 0: the replica's own port */
  char **exec_argv;          /* SS_PROBE_EXEC, NULL-terminated; copied */
  int initial_delay_s, period_s, timeout_s, success_threshold, failure_threshold;
  int period_ms;             /* > 0: the period until the replica is first ready
                              * (sub-second: a local process starts in ms); then
                              * period_s */
};

struct ss_rs_template {
  char **argv;               /* NULL-terminated; argv[0] a path or a name looked up in PATH */
  char **env;                /* extra "KEY=VALUE", NULL-terminated; may be NULL */
  const char *workdir;       /* NULL: the daemon's */
  struct ss_probe readiness, liveness;
  int grace_seconds;         /* terminationGracePeriodSeconds; 0 kills at once (SIGKILL) */
  int64_t cpu_request_milli; /* for utilization; 0 when none */
  int64_t memory_request_bytes;
};
/* Each replica's environment also gets PORT, PREDICTIVE_UNIT_SERVICE_PORT
 * and PREDICTIVE_UNIT_HTTP_SERVICE_PORT = its port, and
 * SERVESCALE_REPLICA = its id. */

enum ss_replica_phase {
  SS_REPLICA_STARTING,   /* running, not yet ready */
  SS_REPLICA_READY,      /* readiness probe passing */
  SS_REPLICA_UNREADY,    /* was ready, readiness now failing */
  SS_REPLICA_BACKOFF,    /* exited; waiting to restart */
  SS_REPLICA_DRAINING,   /* leaving: no new requests; stopped once may_stop says so */
  SS_REPLICA_STOPPING,   /* SIGTERM sent */
  SS_REPLICA_FAILED      /* cannot start (exec failed) */
};

struct ss_replica_info {
  char id[SS_REPLICA_ID_LEN];
  enum ss_replica_phase phase;
  pid_t pid;                 /* 0 when not running */
  int port;
  int restarts;
  int64_t started_ms;        /* monotonic ms of the current process start */
  int64_t ready_ms;          /* when it last became ready, 0 if never */
  double cpu_seconds;        /* user+system so far, current process */
  int64_t rss_bytes;
  int last_exit;             /* wait status of the last exit, -1 if none */
};

struct ss_rs_status {
  int replicas;              /* processes wanted */
  int running;               /* with a live process */
  int ready;                 /* READY */
  int updated;               /* running the current template */
  bool failed;               /* the template cannot start at all (exec failed) */
  char message[256];         /* why, when failed */
};

/* Something a user should see happened (Kubernetes event wording:
 * reason Started, Killing, BackOff, Unhealthy, Failed, Created; type Normal
 * or Warning). Called from ss_runtime_tick's thread after the runtime's
 * mutex is released, so it may call back into the runtime. */
typedef void (*ss_runtime_event_fn)(void *ctx, const char *rs, const char *type,
                                    const char *reason, const char *message);

struct ss_runtime_config {
  const char *state_dir;     /* logs/<rs>/<replica>.log and pids/ go here; must exist */
  int port_min, port_max;    /* 0, 0: any free loopback port */
  int backoff_base_ms;       /* 0: Kubernetes' 10 s */
  int backoff_max_ms;        /* 0: Kubernetes' 300 s */
  ss_runtime_event_fn on_event;
  void *event_ctx;
  /* Asked, each tick, whether a leaving replica may be stopped now: true
   * once no request is in flight on it (the gateway knows). Called with the
   * runtime's mutex held: it must not call into the runtime. NULL: stop at
   * once. A replica waits at most drain_timeout_ms (0: 30 s). */
  bool (*may_stop)(void *ctx, const char *replica_id);
  void *may_stop_ctx;
  int drain_timeout_ms;
};

struct ss_runtime;

struct ss_runtime *ss_runtime_new(const struct ss_runtime_config *cfg);
/* Stops every replica (gracefully, waiting at most their grace periods)
 * and frees; accepts NULL. */
void ss_runtime_free(struct ss_runtime *rt);

/* Kills process groups left by an earlier daemon that died without
 * stopping them (found through state_dir/pids, checked against the
 * process start time so that a reused pid is never killed). Returns how
 * many were killed. */
int ss_runtime_reap_orphans(const char *state_dir);

/* Desired state of replica set rs: template t (copied) and replicas. A
 * changed template replaces the replicas one by one, a new one ready before
 * an old one stops. Returns SS_EOK or SS_ENOMEM; SS_EINVALID for a name
 * that is empty, too long or holds '/', or a template without argv;
 * SS_ELIMIT above SS_RUNTIME_MAX_REPLICAS. A template whose command cannot
 * be exec'd marks the set failed (status.failed) until a new template. */
int ss_runtime_set(struct ss_runtime *rt, const char *rs, const struct ss_rs_template *t,
                   int replicas);
/* Scales rs to zero and forgets it once its replicas are gone. */
void ss_runtime_remove(struct ss_runtime *rt, const char *rs);
/* Stops replica id of rs (drained first, as a scale-down stops one); its
 * set no longer counts it, so the next tick starts a replacement under a
 * new id, as a ReplicaSet replaces a deleted pod. false when rs has no
 * replica id, or it is already leaving. */
bool ss_runtime_delete_replica(struct ss_runtime *rt, const char *rs, const char *id);
/* Does the work: reaps exits, starts, stops, probes, restarts, samples
 * /proc. now_ms is a monotonic clock. Returns true when a replica became
 * ready or stopped being ready (what routes to it should change now). */
bool ss_runtime_tick(struct ss_runtime *rt, int64_t now_ms);

/* Whether a replica is starting or leaving: the caller ticks more often
 * then, so that readiness and draining are noticed in milliseconds. */
bool ss_runtime_settling(struct ss_runtime *rt);

/* false when rs is unknown. */
bool ss_runtime_status(struct ss_runtime *rt, const char *rs, struct ss_rs_status *out);
/* Up to max replicas of rs (all phases); returns how many there are. */
size_t ss_runtime_replicas(struct ss_runtime *rt, const char *rs, struct ss_replica_info *out,
                           size_t max);
/* Names of the replica sets the runtime holds; calls fn for each. */
void ss_runtime_each(struct ss_runtime *rt, void (*fn)(void *ctx, const char *rs), void *ctx);
/* Path of a replica's log file into buf; false if unknown. */
bool ss_runtime_log_path(struct ss_runtime *rt, const char *replica_id, char *buf, size_t size);

#endif
