/* cmd_simulate.c: `servescale simulate`: reads a resource and a load trace,
 * replays the trace through the resource's autoscaling and the peers'
 * policies (src/sim does the work), and prints the totals or the timeline.
 * Offline: no daemon is asked. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "model/resource.h"
#include "sim/sim.h"

static const char about[] =
    "Replay a load trace through the autoscaling of a resource as written (a\n"
    "SeldonDeployment's hpaSpec or kedaSpec, a HorizontalPodAutoscaler or a\n"
    "ScaledObject) with the HPA and KEDA code the daemon runs, and through the\n"
    "peers' policies (Knative's KPA, Ray Serve) and servescale's own, over a\n"
    "queueing model of the replicas. Prints replica-seconds, seconds over the SLO,\n"
    "failed requests and scale events per policy (-o text, json), the per-second\n"
    "timeline (-o csv) or a picture of it (-o svg). See docs/simulate.md.";

/* A whole number of milliseconds within [lo, hi] from flag name. */
static bool ms_flag(const char *name, const char *v, long lo, long hi, int64_t *out) {
  if (!v)
    return true;
  char *end;
  long n = strtol(v, &end, 10);
  if (end == v || *end || n < lo || n > hi) {
    fprintf(stderr, "error: --%s must be a whole number in [%ld, %ld], not \"%s\"\n", name, lo,
            hi, v);
    return false;
  }
  *out = n;
  return true;
}

static bool read_params(const struct ss_cli_opts *o, struct ss_sim_params *p) {
  int64_t conc = p->model.concurrency;
  bool ok = ms_flag("slo-p99-ms", o->slo_p99_ms, 1, 3600000, &p->model.slo_p99_ms) &&
            ms_flag("service-time-ms", o->service_time_ms, 1, SS_SIM_MAX_SERVICE_MS,
                    &p->model.service_ms) &&
            ms_flag("startup-ms", o->startup_ms, 0, SS_SIM_MAX_STARTUP_MS, &p->model.startup_ms) &&
            ms_flag("concurrency", o->concurrency, 1, SS_SIM_MAX_CONCURRENCY, &conc) &&
            ms_flag("metric-delay-ms", o->metric_delay_ms, 0, SS_SIM_MAX_METRIC_DELAY_MS,
                    &p->metric_delay_ms);
  p->model.concurrency = (int32_t)conc;
  if (ok && o->arrivals) {
    p->model.poisson = strcmp(o->arrivals, "poisson") == 0;
    if (!p->model.poisson && strcmp(o->arrivals, "paced") != 0) {
      fprintf(stderr, "error: --arrivals must be poisson or paced, not \"%s\"\n", o->arrivals);
      ok = false;
    }
  }
  return ok;
}

/* The policies asked for: one, or all of them. */
static bool read_policies(const char *v, enum ss_sim_policy *out, size_t *n) {
  *n = 0;
  if (!v || strcmp(v, "all") == 0) {
    for (int i = 0; i < SS_SIM__N; i++)
      out[(*n)++] = (enum ss_sim_policy)i;
    return true;
  }
  int p = ss_sim_policy_parse(v);
  if (p < 0) {
    fprintf(stderr, "error: --policy must be hpa, keda, kpa, ray, servescale or all, not \"%s\"\n",
            v);
    return false;
  }
  out[(*n)++] = (enum ss_sim_policy)p;
  return true;
}

static bool load_trace(const char *file, struct ss_sim_trace *tr) {
  char *buf = NULL;
  size_t len = 0;
  struct ss_error err = {0};
  bool ok = ss_read_file(file, &buf, &len, &err) == SS_EOK &&
            ss_sim_trace_parse(buf, len, tr, &err) == SS_EOK;
  if (!ok && err.line)
    fprintf(stderr, "error: %s:%u: %s\n", file, err.line, err.msg);
  else if (!ok)
    fprintf(stderr, "error: %s: %s\n", file, err.msg);
  free(buf);
  return ok;
}

/* The first resource of the file, with its autoscaling read into *t. */
static bool load_target(const char *file, struct ss_resource_set *set, struct ss_sim_target *t) {
  char *buf = NULL;
  size_t len = 0;
  struct ss_error err = {0};
  bool ok = false;
  if (ss_read_file(file, &buf, &len, &err) || ss_resources_load(buf, len, NULL, set, &err)) {
    if (err.line)
      fprintf(stderr, "error: %s:%u:%u: %s\n", file, err.line, err.col, err.msg);
    else
      fprintf(stderr, "error: %s: %s\n", file, err.msg);
    goto out;
  }
  for (size_t i = 0; i < set->n && !ok; i++) {
    ss_error_clear(&err);
    ok = ss_sim_target_from(&set->v[i], t, &err) == SS_EOK;
  }
  if (!ok)
    fprintf(stderr, "error: %s: %s\n", file, set->n ? err.msg : "no resource in the file");
out:
  free(buf);
  return ok;
}

static int run(const struct ss_cli_opts *o, enum ss_sim_format fmt) {
  struct ss_sim_params p = SS_SIM_PARAMS_DEFAULT;
  enum ss_sim_policy pol[SS_SIM__N];
  struct ss_sim_result res[SS_SIM__N];
  struct ss_resource_set set = {0};
  struct ss_sim_trace tr = {0};
  struct ss_sim_target *t = calloc(1, sizeof *t);
  size_t n_pol = 0, n_res = 0;
  int rc = SS_EXIT_FAIL;
  if (!t || !read_params(o, &p) || !read_policies(o->policy, pol, &n_pol) ||
      !load_trace(o->trace, &tr) || !load_target(o->files[0], &set, t))
    goto out;
  /* what `servescale record` measured, unless a flag says otherwise */
  if (!o->service_time_ms && tr.service_ms >= 0)
    p.model.service_ms = tr.service_ms;
  if (!o->startup_ms && tr.startup_ms >= 0)
    p.model.startup_ms = tr.startup_ms;
  for (; n_res < n_pol; n_res++) {
    struct ss_error err = {0};
    if (ss_sim_run(t, &p, &tr, pol[n_res], &res[n_res], &err)) {
      fprintf(stderr, "error: %s: %s\n", ss_sim_policy_name(pol[n_res]), err.msg);
      goto out;
    }
  }
  if (ss_sim_report(stdout, fmt, t, &p, &tr, res, n_res) == 0)
    rc = SS_EXIT_OK;
out:
  for (size_t i = 0; i < n_res; i++)
    ss_sim_result_free(&res[i]);
  ss_sim_trace_free(&tr);
  ss_resources_free(&set);
  free(t);
  return rc;
}

int ss_cmd_simulate(int argc, char **argv) {
  struct ss_cli_opts o;
  int rc = ss_cli_parse(argc, argv, "foTPSVUCDa",
                        "servescale simulate -f RESOURCE.yaml --trace TRACE.csv [--policy NAME|all] "
                        "[--slo-p99-ms N] [--service-time-ms N] [--startup-ms N] "
                        "[--arrivals poisson|paced] "
                        "[-o text|csv|json|svg]",
                        about, &o);
  if (rc >= 0)
    return rc;
  if (o.n_files != 1 || !o.trace || o.n_args) {
    fprintf(stderr, "error: give one resource file (-f RESOURCE.yaml) and a trace (--trace "
                    "TRACE.csv)\nSee 'servescale simulate --help' for usage.\n");
    return SS_EXIT_USAGE;
  }
  int fmt = ss_sim_format_parse(o.output ? o.output : "text");
  if (fmt < 0) {
    fprintf(stderr, "error: --output must be text, csv, json or svg, not \"%s\"\n", o.output);
    return SS_EXIT_USAGE;
  }
  return run(&o, (enum ss_sim_format)fmt);
}
