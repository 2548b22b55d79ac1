/* trace.h: a load trace for `servescale simulate`: CSV rows of time (seconds)
 * and requests per second, read from a buffer that is not trusted to be
 * terminated or well formed. Each row's rate holds until the next row's time;
 * the last row's rate holds for one second (so a per-second recording replays
 * whole). Lines may be blank or start with '#'; the first non-comment line
 * may be a header ("time,rps"). Two comments are read, as `servescale
 * record` writes them: "# service-time-ms: N" and "# startup-ms: N", what
 * was measured for the model (whole ms, in the flags' ranges). Errors name
 * the line and the reason. */
#ifndef SS_SIM_TRACE_H
#define SS_SIM_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define SS_SIM_TRACE_MAX_ROWS 200000
#define SS_SIM_TRACE_MAX_SECONDS 86400.0 /* one day: the replay's memory is per step */
#define SS_SIM_TRACE_MAX_RPS 100000.0
#define SS_SIM_TRACE_MAX_LINE 256

struct ss_sim_point {
  double t_s; /* when this rate starts */
  double rps; /* requests per second from t_s to the next point */
};

struct ss_sim_trace {
  struct ss_sim_point *v; /* owned; ss_sim_trace_free */
  size_t n;
  double end_s; /* the last point's time + 1 */
  int64_t service_ms, startup_ms; /* from the comments above; -1: not given */
};

/* Parses len bytes of buf. On success *out owns its points; on failure
 * *out is empty and err says the line and why (SS_ESYNTAX, SS_ELIMIT,
 * SS_ENOMEM). */
enum ss_err ss_sim_trace_parse(const char *buf, size_t len, struct ss_sim_trace *out,
                               struct ss_error *err);

/* The rate at t_s (0 before the first point and from end_s on). */
double ss_sim_trace_rate(const struct ss_sim_trace *tr, double t_s);

/* The mean rate over the whole trace times its length: expected requests. */
double ss_sim_trace_requests(const struct ss_sim_trace *tr);

/* Frees the points and empties *tr; accepts NULL. */
void ss_sim_trace_free(struct ss_sim_trace *tr);

#endif
