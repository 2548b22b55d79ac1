/* report.c: `servescale simulate`'s outputs: a table, the per-second
 * timeline as CSV, the totals as JSON, and a self-contained SVG timeline
 * (load on top, then each policy's replicas with its SLO-violating seconds
 * marked in red). Borrows everything; writes to the caller's FILE. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"

#define SVG_W 960
#define SVG_LEFT 150
#define SVG_RIGHT 20
#define SVG_LOAD_H 110
#define SVG_POLICY_H 70
#define SVG_GAP 18
#define SVG_TOP 40

static const char *const formats[] = {"text", "csv", "json", "svg"};

int ss_sim_format_parse(const char *name) {
  for (int i = 0; i < (int)(sizeof formats / sizeof *formats); i++)
    if (strcmp(name, formats[i]) == 0)
      return i;
  return -1;
}

static void text(FILE *f, const struct ss_sim_target *t, const struct ss_sim_params *p,
                 const struct ss_sim_trace *tr, const struct ss_sim_result *res, size_t n) {
  fprintf(f, "%s (%s as written, replicas %d..%d): %.0f s of trace, %.0f requests\n",
          t->name, t->written, t->min, t->max, tr->end_s, ss_sim_trace_requests(tr));
  const char *recorded = " (as recorded)";
  fprintf(f, "model: service %lld ms%s, concurrency %d, start-up %lld ms%s, SLO p99 %lld ms, "
             "metric delay %lld ms%s\n\n",
          (long long)p->model.service_ms, tr->service_ms == p->model.service_ms ? recorded : "",
          p->model.concurrency, (long long)p->model.startup_ms,
          tr->startup_ms == p->model.startup_ms ? recorded : "", (long long)p->model.slo_p99_ms,
          (long long)p->metric_delay_ms, p->model.poisson ? "" : ", paced arrivals");
  fprintf(f, "%-12s %16s %12s %10s %10s %8s %6s\n", "POLICY", "REPLICA-SECONDS",
          "SLO-VIOL-S", "FAILED", "OVER-SLO", "EVENTS", "PEAK");
  for (size_t i = 0; i < n; i++)
    fprintf(f, "%-12s %16.1f %12u %10llu %10llu %8u %6d\n", ss_sim_policy_name(res[i].policy),
            res[i].replica_seconds, res[i].slo_violation_seconds,
            (unsigned long long)res[i].failed, (unsigned long long)res[i].over_slo,
            res[i].scale_events, res[i].peak_replicas);
}

static void csv(FILE *f, const struct ss_sim_result *res, size_t n) {
  fprintf(f, "policy,time_s,rps,replicas,ready,alive,p99_ms,failed,over_slo,slo_violation,"
             "metric_replicas\n");
  for (size_t i = 0; i < n; i++)
    for (size_t s = 0; s < res[i].n_seconds; s++) {
      const struct ss_sim_second *x = &res[i].seconds[s];
      char p99[32];
      if (isinf(x->p99_ms))
        snprintf(p99, sizeof p99, "inf");
      else
        snprintf(p99, sizeof p99, "%.1f", x->p99_ms);
      fprintf(f, "%s,%zu,%.0f,%d,%d,%d,%s,%u,%u,%d,%.0f\n", ss_sim_policy_name(res[i].policy),
              s, x->arrivals, x->replicas, x->ready, x->alive, p99, x->failed, x->over_slo,
              x->violation ? 1 : 0, x->metric_replicas);
    }
}

static void json(FILE *f, const struct ss_sim_result *res, size_t n) {
  fprintf(f, "{\"results\": [");
  for (size_t i = 0; i < n; i++)
    fprintf(f, "%s{\"policy\": \"%s\", \"replicaSeconds\": %.1f, \"sloViolationSeconds\": %u, "
               "\"failedRequests\": %llu, \"scaleEvents\": %u}",
            i ? ", " : "", ss_sim_policy_name(res[i].policy), res[i].replica_seconds,
            res[i].slo_violation_seconds, (unsigned long long)res[i].failed,
            res[i].scale_events);
  fprintf(f, "]}\n");
}

/* ---- svg ---- */

static double x_of(size_t s, size_t n_seconds) {
  double w = SVG_W - SVG_LEFT - SVG_RIGHT;
  return SVG_LEFT + w * (double)s / (double)(n_seconds ? n_seconds : 1);
}

/* A step line of v over the seconds, scaled so vmax is h pixels high;
 * dashed when dash is not NULL (its stroke-dasharray). */
static void step_line(FILE *f, const double *v, size_t n, double vmax, double y0, double h,
                      const char *color, const char *dash) {
  fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\"%s%s%s points=\"",
          color, dash ? " stroke-dasharray=\"" : "", dash ? dash : "", dash ? "\"" : "");
  for (size_t s = 0; s < n; s++) {
    double y = y0 + h - (vmax > 0 ? v[s] / vmax * h : 0);
    fprintf(f, "%.1f,%.1f %.1f,%.1f ", x_of(s, n), y, x_of(s + 1, n), y);
  }
  fprintf(f, "\"/>\n");
}

static void axis(FILE *f, size_t n, double y) {
  size_t ticks[] = {10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 43200};
  size_t every = ticks[sizeof ticks / sizeof *ticks - 1];
  for (size_t i = 0; i < sizeof ticks / sizeof *ticks; i++)
    if (n / ticks[i] <= 12) {
      every = ticks[i];
      break;
    }
  for (size_t s = 0; s <= n; s += every)
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\"/>"
               "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"middle\">%zus</text>\n",
            x_of(s, n), y, x_of(s, n), y + 4, x_of(s, n), y + 15, s);
}

static void svg_load(FILE *f, const struct ss_sim_result *r, double *buf) {
  double vmax = 0;
  for (size_t s = 0; s < r->n_seconds; s++)
    vmax = fmax(vmax, buf[s] = r->seconds[s].arrivals);
  fprintf(f, "<text x=\"10\" y=\"%d\" font-size=\"12\" font-weight=\"bold\">load</text>"
             "<text x=\"10\" y=\"%d\" font-size=\"10\">peak %.0f req/s</text>\n",
          SVG_TOP + 20, SVG_TOP + 34, vmax);
  fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#f4f6fa\"/>\n", SVG_LEFT,
          SVG_TOP, SVG_W - SVG_LEFT - SVG_RIGHT, SVG_LOAD_H);
  step_line(f, buf, r->n_seconds, vmax, SVG_TOP, SVG_LOAD_H, "#555", NULL);
}

static void svg_policy(FILE *f, const struct ss_sim_result *r, double rmax, double y,
                       double *buf) {
  fprintf(f, "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%d\" fill=\"#f4f6fa\"/>\n", SVG_LEFT,
          y, SVG_W - SVG_LEFT - SVG_RIGHT, SVG_POLICY_H);
  for (size_t s = 0; s < r->n_seconds; s++)
    if (r->seconds[s].violation)
      fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.2f\" height=\"%d\" fill=\"#e33\" "
                 "opacity=\"0.35\"/>\n",
              x_of(s, r->n_seconds), y, fmax(x_of(s + 1, r->n_seconds) - x_of(s, r->n_seconds), 0.6),
              SVG_POLICY_H);
  for (size_t s = 0; s < r->n_seconds; s++)
    buf[s] = fmin(r->seconds[s].metric_replicas, rmax);
  step_line(f, buf, r->n_seconds, rmax, y, SVG_POLICY_H, "#e08a00", "4 3");
  for (size_t s = 0; s < r->n_seconds; s++)
    buf[s] = r->seconds[s].replicas;
  step_line(f, buf, r->n_seconds, rmax, y, SVG_POLICY_H, "#1f5fbf", NULL);
  fprintf(f, "<text x=\"10\" y=\"%.1f\" font-size=\"12\" font-weight=\"bold\">%s</text>"
             "<text x=\"10\" y=\"%.1f\" font-size=\"10\">%.0f replica-s, peak %d</text>"
             "<text x=\"10\" y=\"%.1f\" font-size=\"10\" fill=\"#c00\">%u s over SLO, %llu failed</text>\n",
          y + 16, ss_sim_policy_name(r->policy), y + 30, r->replica_seconds, r->peak_replicas,
          y + 43, r->slo_violation_seconds, (unsigned long long)r->failed);
}

static int svg(FILE *f, const struct ss_sim_target *t, const struct ss_sim_params *p,
               const struct ss_sim_result *res, size_t n) {
  size_t n_seconds = n ? res[0].n_seconds : 0;
  double *buf = calloc(n_seconds + 1, sizeof *buf);
  if (!buf)
    return -1;
  double rmax = fmax(1, t->max); /* the bounds as written; a metric asking more is clipped */
  for (size_t i = 0; i < n; i++)
    rmax = fmax(rmax, res[i].peak_replicas);
  int h = SVG_TOP + SVG_LOAD_H + (int)n * (SVG_POLICY_H + SVG_GAP) + 40;
  fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
             "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">\n"
             "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
          SVG_W, h, SVG_W, h);
  fprintf(f, "<text x=\"10\" y=\"17\" font-size=\"14\" font-weight=\"bold\">servescale simulate: "
             "%s</text><text x=\"10\" y=\"33\" font-size=\"11\">replicas asked for (blue, "
             "0..%.0f); the metric against its target, as the replicas it asks for (orange, "
             "dashed, clipped at the top); seconds over the SLO of p99 %lld ms (red)</text>\n",
          t->name, rmax, (long long)p->model.slo_p99_ms);
  if (n)
    svg_load(f, &res[0], buf);
  double y = SVG_TOP + SVG_LOAD_H + SVG_GAP;
  for (size_t i = 0; i < n; i++, y += SVG_POLICY_H + SVG_GAP)
    svg_policy(f, &res[i], rmax, y, buf);
  axis(f, n_seconds, y - SVG_GAP);
  fprintf(f, "</svg>\n");
  free(buf);
  return 0;
}

int ss_sim_report(FILE *f, enum ss_sim_format fmt, const struct ss_sim_target *t,
                  const struct ss_sim_params *p, const struct ss_sim_trace *tr,
                  const struct ss_sim_result *res, size_t n) {
  switch (fmt) {
  case SS_SIM_TEXT: text(f, t, p, tr, res, n); break;
  case SS_SIM_CSV: csv(f, res, n); break;
  case SS_SIM_JSON: json(f, res, n); break;
  case SS_SIM_SVG:
    if (svg(f, t, p, res, n))
      return -1;
    break;
  }
  return ferror(f) ? -1 : 0;
}
