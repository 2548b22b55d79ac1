/* fuzz_trace.c: libFuzzer target for the load trace reader of `servescale
 * simulate` (src/sim/trace.c): any bytes end in a trace whose rows go
 * forward in time within the limits, or in an error naming a line, never a
 * crash, a leak or UB; the invariants below abort when broken. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_trace(const struct ss_sim_trace *tr) {
  if (tr->n == 0 || tr->n > SS_SIM_TRACE_MAX_ROWS || !tr->v)
    abort();
  for (size_t i = 0; i < tr->n; i++) {
    const struct ss_sim_point *p = &tr->v[i];
    if (!(p->t_s >= 0 && p->t_s < SS_SIM_TRACE_MAX_SECONDS && p->rps >= 0 &&
          p->rps <= SS_SIM_TRACE_MAX_RPS))
      abort();
    if (i && !(p->t_s > tr->v[i - 1].t_s))
      abort();
    if (ss_sim_trace_rate(tr, p->t_s) != p->rps)
      abort(); /* a row's rate holds from its own time */
  }
  if (tr->end_s != tr->v[tr->n - 1].t_s + 1.0 || ss_sim_trace_rate(tr, tr->end_s) != 0)
    abort();
  if (!(ss_sim_trace_requests(tr) >= 0) || !isfinite(ss_sim_trace_requests(tr)))
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* a copy exactly as long as the input: the reader must not look past it */
  char *buf = malloc(size ? size : 1);
  if (!buf)
    return 0;
  memcpy(buf, data, size);
  struct ss_sim_trace tr;
  struct ss_error err = {0};
  enum ss_err rc = ss_sim_trace_parse(buf, size, &tr, &err);
  if (rc == SS_EOK) {
    check_trace(&tr);
  } else if (err.line == 0 || !err.msg[0] || tr.v || tr.n) {
    abort(); /* an error names its line, and leaves nothing behind */
  }
  ss_sim_trace_free(&tr);
  free(buf);
  return 0;
}
