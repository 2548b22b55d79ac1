/* cmd_record.c: `servescale record sdep/NAME --duration 10m -o trace.csv`:
 * a deployment's real arrival rate as a load trace that `servescale
 * simulate --trace` replays (src/sim/trace.h: TIME,RPS rows, each rate
 * holding until the next row). Every --interval (1 s) it reads the
 * control API's /apis/servescale.io/v1/.../requestcounts/NAME: the
 * requests the gateway answered so far plus those outstanding are the
 * requests that arrived so far, so their difference over the interval,
 * over the daemon's own clock, is the arrival rate. It also measures what
 * simulate's model takes (the service time and the replicas' start-up)
 * and writes them after the rows as comments simulate reads
 * ("# service-time-ms: N", "# startup-ms: N"; src/sim/trace.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/common.h"

#define DEFAULT_DURATION_MS (10 * 60 * 1000)
#define DEFAULT_INTERVAL_MS 1000
#define MIN_INTERVAL_MS 100
/* simulate reads at most a day (SS_SIM_TRACE_MAX_SECONDS) */
#define MAX_DURATION_MS (24 * 3600 * 1000)

static const char about[] =
    "Record a SeldonDeployment's arrival rate as a load trace for `servescale simulate`:\n"
    "one TIME,RPS row per --interval (default 1s) for --duration (default 10m), time in\n"
    "seconds from the start. -o FILE writes it there (default: standard output):\n"
    "  servescale record sdep/NAME --duration 10m -o trace.csv\n"
    "  servescale simulate -f model.yaml --trace trace.csv";

/* One reading: arrivals so far (answered + outstanding) at the daemon's ms,
 * and the seconds and number of the replicas' answers so far. */
struct reading {
  double arrived, answered;
  double service_s, service_n;
  long long t_ms;
};

#define MAX_STARTUPS 4096 /* distinct replica starts kept for the median */

/* What the recording measured for simulate's model. */
struct measured {
  double *interval_ms; /* each interval's mean service time, ms */
  size_t n_intervals, cap;
  struct start {
    char replica[SS_CLI_NAME_MAX];
    double start_time, seconds;
  } starts[MAX_STARTUPS];
  size_t n_starts;
};

/* The same start of a replica, read again: its start time is worked out
 * anew at each reading, within a fraction of a second. */
#define SAME_START_S 0.5

/* Keeps each replica start once (a replica name with its process's start). */
static void take_startups(struct measured *m, const json_t *list) {
  size_t i;
  const json_t *r;
  json_array_foreach(list, i, r) {
    const char *rep = json_string_value(json_object_get(r, "replica"));
    double t = json_number_value(json_object_get(r, "startTime"));
    double s = json_number_value(json_object_get(r, "startupSeconds"));
    bool seen = !rep;
    for (size_t k = 0; !seen && k < m->n_starts; k++)
      seen = strcmp(m->starts[k].replica, rep) == 0 &&
             fabs(m->starts[k].start_time - t) < SAME_START_S;
    if (!seen && m->n_starts < MAX_STARTUPS) {
      struct start *st = &m->starts[m->n_starts++];
      snprintf(st->replica, sizeof st->replica, "%s", rep);
      st->start_time = t;
      st->seconds = s;
    }
  }
}

static bool read_counts(struct ss_client *c, const char *ns, const char *name,
                        struct reading *out, struct measured *m) {
  char path[800];
  snprintf(path, sizeof path, "/apis/servescale.io/v1/namespaces/%s/requestcounts/%s", ns, name);
  struct ss_client_response r = {0};
  struct ss_client_error err = {0};
  bool ok = false;
  if (ss_client_request(c, "GET", path, NULL, NULL, 0, &r, &err)) {
    ss_cli_error(&err, NULL);
  } else if (r.code != 200) {
    ss_client_error_from_response(&r, &err);
    ss_cli_error(&err, NULL);
  } else {
    const json_t *ans = json_object_get(r.body, "answered");
    const json_t *out_ = json_object_get(r.body, "outstanding");
    const json_t *t = json_object_get(r.body, "timeMs");
    if (!json_is_number(ans) || !json_is_number(out_) || !json_is_integer(t)) {
      fprintf(stderr, "error: the daemon's request count lacks answered, outstanding or "
                      "timeMs: %.100s\n", r.text ? r.text : "");
    } else {
      out->answered = json_number_value(ans);
      out->arrived = out->answered + json_number_value(out_);
      out->t_ms = (long long)json_integer_value(t);
      out->service_s = json_number_value(json_object_get(r.body, "serviceSeconds"));
      out->service_n = json_number_value(json_object_get(r.body, "serviceCalls"));
      take_startups(m, json_object_get(r.body, "replicaStartups"));
      ok = true;
    }
  }
  ss_client_response_free(&r);
  return ok;
}

/* Keeps an interval's mean service time, when it had answers. */
static void take_interval(struct measured *m, const struct reading *prev,
                          const struct reading *cur) {
  double n = cur->service_n - prev->service_n, s = cur->service_s - prev->service_s;
  if (n <= 0 || s < 0) /* none, or a counter made anew */
    return;
  if (m->n_intervals == m->cap) {
    size_t nc = m->cap ? m->cap * 2 : 256;
    double *v = realloc(m->interval_ms, nc * sizeof *v);
    if (!v)
      return; /* a median of what was kept */
    m->interval_ms = v;
    m->cap = nc;
  }
  m->interval_ms[m->n_intervals++] = s / n * 1000.0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, size_t n) {
  qsort(v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The model's figures as the comments simulate reads, after the rows. */
static void write_measured(FILE *f, struct measured *m) {
  fprintf(f, "# measured while recording; servescale simulate takes these unless given flags\n");
  if (m->n_intervals)
    fprintf(f, "# service-time-ms: %.0f\n# (the median of %zu intervals' mean answer time at the "
               "replicas)\n",
            fmax(1, round(median(m->interval_ms, m->n_intervals))), m->n_intervals);
  double s[MAX_STARTUPS];
  for (size_t i = 0; i < m->n_starts; i++)
    s[i] = m->starts[i].seconds * 1000.0;
  if (m->n_starts)
    fprintf(f, "# startup-ms: %.0f\n# (the median of %zu replicas' start to ready)\n",
            round(median(s, m->n_starts)), m->n_starts);
}

static long long mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_until(long long at_ms) {
  long long d;
  while ((d = at_ms - mono_ms()) > 0) {
    struct timespec ts = {(time_t)(d / 1000), (long)(d % 1000) * 1000000};
    if (nanosleep(&ts, NULL) && errno != EINTR)
      return;
  }
}

int ss_cmd_record(int argc, char **argv) {
  struct ss_cli_opts o;
  int rc = ss_cli_parse(argc, argv, "ndIo",
                        "servescale record sdep/NAME [-n NS] [--duration 10m] [--interval 1s] "
                        "[-o FILE]", about, &o);
  if (rc >= 0)
    return rc;
  struct ss_cli_ref refs[SS_CLI_MAX_REFS];
  size_t n = 0;
  if (!ss_cli_refs(&o, true, refs, &n))
    return SS_EXIT_FAIL;
  if (n != 1 || strcmp(refs[0].k->plural, "seldondeployments") != 0) {
    fprintf(stderr, "error: give one SeldonDeployment: sdep/NAME\n");
    return SS_EXIT_FAIL;
  }
  int duration = o.duration_ms > 0 ? o.duration_ms : DEFAULT_DURATION_MS;
  int interval = o.interval ? ss_cli_duration_ms(o.interval) : DEFAULT_INTERVAL_MS;
  if (interval < MIN_INTERVAL_MS || interval > duration) {
    fprintf(stderr, "error: invalid --interval \"%s\": from 100ms to the duration\n",
            o.interval);
    return SS_EXIT_FAIL;
  }
  if (duration > MAX_DURATION_MS) {
    fprintf(stderr, "error: invalid --duration: at most 24h (what simulate replays)\n");
    return SS_EXIT_FAIL;
  }
  struct ss_client *c = NULL;
  if (!ss_cli_connect(&o, &c))
    return SS_EXIT_FAIL;
  const char *ns = ss_cli_ns(&o, c), *name = refs[0].name;
  FILE *f = stdout;
  bool to_file = o.output && strcmp(o.output, "-") != 0;
  struct reading prev, cur;
  struct measured *m = calloc(1, sizeof *m);
  rc = SS_EXIT_FAIL;
  /* the first reading before the file: a missing deployment leaves none */
  if (!m || !read_counts(c, ns, name, &prev, m))
    goto out;
  if (to_file && !(f = fopen(o.output, "w"))) {
    fprintf(stderr, "error: cannot write %s: %s\n", o.output, strerror(errno));
    goto out;
  }
  fprintf(f, "# servescale record sdep/%s -n %s: arrivals a second, every %d ms\ntime,rps\n", name,
          ns, interval);
  long long start = mono_ms(), t0 = prev.t_ms;
  double total = 0;
  int rows = 0;
  for (int k = 1; (long long)k * interval <= duration; k++) {
    sleep_until(start + (long long)k * interval);
    if (!read_counts(c, ns, name, &cur, m))
      goto out;
    take_interval(m, &prev, &cur);
    double dt = (double)(cur.t_ms - prev.t_ms) / 1000.0;
    /* a counter that went back was made anew (the deployment re-created) */
    double d = cur.answered < prev.answered ? cur.arrived : cur.arrived - prev.arrived;
    double rps = dt > 0 && d > 0 ? d / dt : 0;
    fprintf(f, "%g,%.3f\n", (double)(prev.t_ms - t0) / 1000.0, rps);
    fflush(f);
    total += rps * dt;
    rows++;
    prev = cur;
  }
  write_measured(f, m);
  fprintf(stderr, "recorded sdep/%s: %d rows over %.1f s, %.2f requests/s on average%s%s\n", name,
          rows, (double)(prev.t_ms - t0) / 1000.0,
          prev.t_ms > t0 ? total * 1000.0 / (double)(prev.t_ms - t0) : 0.0,
          to_file ? ", to " : "", to_file ? o.output : "");
  rc = SS_EXIT_OK;
out:
  if (to_file && f && f != stdout && fclose(f) && rc == SS_EXIT_OK) {
    fprintf(stderr, "error: cannot write %s: %s\n", o.output, strerror(errno));
    rc = SS_EXIT_FAIL;
  }
  ss_client_free(c);
  if (m)
    free(m->interval_ms);
  free(m);
  return rc;
}
