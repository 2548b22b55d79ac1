/* serve.h: the HTTP plumbing the built-in model servers share
 * (mock_classifier.c, model_server.c): log lines, bounded body buffers,
 * responses, Seldon's error shape, the listening address and port, the
 * signal self-pipe and libmicrohttpd's start, and the drain wait. What each
 * server answers stays in its own file. Internal to models/ (ss__msrv_). */
#ifndef SS_MODELS_SERVE_H
#define SS_MODELS_SERVE_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include <jansson.h>

/* Exit codes, as cli.h's (models/ sits below cli/ and does not include it). */
enum { SS__MSRV_OK = 0, SS__MSRV_FAIL = 1, SS__MSRV_USAGE = 2 };

#define SS__MSRV_HOST "127.0.0.1" /* replicas are reached over loopback */
#define SS__MSRV_INFO_MAX 480     /* Seldon status "info" text we send */

/* One key=value line to stderr: "ts=... component=<component> <fmt...>". */
void ss__msrv_log(const char *component, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Nanoseconds on clock. */
int64_t ss__msrv_clock_ns(clockid_t clock);

/* Appends n bytes to *buf (length *len, capacity *cap), growing it to at
 * most max; false when that would pass max or memory runs out. */
bool ss__msrv_buf_append(char **buf, size_t *len, size_t *cap, const char *data, size_t n,
                         size_t max);

/* A request body read in pieces: kept up to a limit, then dropped. */
struct ss__msrv_body {
  char *buf;      /* what was kept; NULL once too_large */
  size_t len, cap;
  size_t dropped; /* bytes read and not kept */
  bool too_large; /* passed the limit: what was kept is dropped too (413) */
};

/* Takes n more bytes of a body: kept when keep, up to max bytes; past max
 * all of it is dropped and too_large set. false means hang up: out of
 * memory, or more than discard_max bytes dropped (a client that sends its
 * whole body before it reads can read our 413 up to there). */
bool ss__msrv_body_take(struct ss__msrv_body *b, bool keep, const char *data, size_t n,
                        size_t max, size_t discard_max);

/* Queues body with code and Content-Type type; mode says who frees body, as
 * MHD's. close adds "Connection: close" (draining); allow, when not NULL, is
 * the Allow header. */
enum MHD_Result ss__msrv_reply(struct MHD_Connection *c, unsigned code, const char *type,
                               void *body, size_t len, enum MHD_ResponseMemoryMode mode,
                               bool close, const char *allow);
/* Borrows v. */
enum MHD_Result ss__msrv_reply_json(struct MHD_Connection *c, unsigned code, const json_t *v,
                                    bool close);
/* Seldon's error shape: {"status": {"code", "info", "reason", "status":
 * "FAILURE"}}; info is made printable ASCII. */
enum MHD_Result ss__msrv_reply_seldon_status(struct MHD_Connection *c, unsigned code,
                                             const char *reason, const char *info, bool close);

/* Whether Content-Length says the body is over body_max and the client
 * waits for 100 Continue, or it is past discard_max (what we would read and
 * drop): refuse it at once. */
bool ss__msrv_refuse_early(struct MHD_Connection *c, size_t body_max, size_t discard_max);

/* The port from text (0-65535); -1 after a message naming from. */
int ss__msrv_parse_port(const char *prog, const char *text, const char *from);
/* The listening address for host:port; false after a message. */
bool ss__msrv_resolve(const char *prog, const char *host, int port,
                      struct sockaddr_storage *addr, socklen_t *len);

/* SIGTERM and SIGINT set the flag ss__msrv_signal() reads and write 'S' to
 * a self-pipe; SIGPIPE is ignored. *rd gets the pipe's read end, *wr its
 * non-blocking write end (a server may write its own wake-ups to it). false
 * after a message. */
bool ss__msrv_signals(const char *prog, int *rd, int *wr);
/* The signal seen, 0 for none. */
int ss__msrv_signal(void);
/* A gate that lets at most `workers` predictions work at once, the others
 * waiting in the order they came (a ticket each): a replica that serves one
 * request at a time, as a single-threaded model server does. 0: no limit. */
struct ss__msrv_gate {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  unsigned long next;     /* the next ticket handed out */
  unsigned long admitted; /* tickets below this may work */
  long workers;
};

/* Prepares g with no limit; ss__msrv_gate_limit sets one before the gate
 * is shared with the threads that enter it, and not after. */
void ss__msrv_gate_init(struct ss__msrv_gate *g);
void ss__msrv_gate_limit(struct ss__msrv_gate *g, long workers);
void ss__msrv_gate_destroy(struct ss__msrv_gate *g);
/* Waits for a turn (a caller stopping for good, *abandon, waits no more). */
void ss__msrv_gate_enter(struct ss__msrv_gate *g, const atomic_bool *abandon);
void ss__msrv_gate_leave(struct ss__msrv_gate *g);

/* Uninstalls the self-pipe (before the caller closes it). */
void ss__msrv_signals_done(void);

/* Starts libmicrohttpd on addr with a thread per connection, SIGTERM and
 * SIGINT blocked in its threads; NULL after a message. */
struct MHD_Daemon *ss__msrv_start(const char *prog, const char *host, int port,
                                  const struct sockaddr_storage *addr,
                                  MHD_AccessHandlerCallback on_request,
                                  MHD_RequestCompletedCallback on_completed, void *cls,
                                  unsigned conn_max, unsigned idle_timeout_s);
/* The port MHD bound (for --port 0), or port. */
int ss__msrv_bound_port(struct MHD_Daemon *d, int port);

/* Stops accepting (the listening socket closed) and waits up to ms for
 * *in_flight to reach 0; whether it did. */
bool ss__msrv_quiesce_wait(struct MHD_Daemon *d, atomic_int *in_flight, int ms);
/* Waits up to ms more for *in_flight to reach 0; whether it did. */
bool ss__msrv_wait_idle(atomic_int *in_flight, int ms);

#endif
