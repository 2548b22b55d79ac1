/* sim.c: one replay of a trace under one policy (see sim.h): the step loop,
 * what each policy observes of the simulated replicas, and the totals. The
 * HPA and KEDA are the daemon's cores; this file only feeds them. */
#include "sim/sim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "autoscale/keda.h"
#include "autoscale/own.h"
#include "sim/peers.h"

#define MS_PER_S 1000
#define STEPS_PER_S (MS_PER_S / SS_SIM_STEP_MS)

static const char *const names[SS_SIM__N] = {"hpa", "keda", "kpa", "ray", "servescale"};

const char *ss_sim_policy_name(enum ss_sim_policy p) {
  return (unsigned)p < SS_SIM__N ? names[p] : "?";
}

int ss_sim_policy_parse(const char *name) {
  for (int i = 0; i < SS_SIM__N; i++)
    if (strcmp(name, names[i]) == 0)
      return i;
  return -1;
}

/* One replay in progress. */
struct run {
  const struct ss_sim_target *t;
  const struct ss_sim_params *p;
  struct ss_sim_cluster c;
  uint32_t *arrivals; /* per step */
  int32_t *inflight;  /* per step, at its start */
  size_t step, n_steps;
  int64_t next_ms;    /* the policy's next decision */
  double metric_replicas; /* what the last decision's metric asked for */
  struct ss_hpa_history hpa;
  struct ss_keda_state keda;
  struct ss_sim_kpa_config kpa_cfg;
  struct ss_sim_kpa_state kpa;
  struct ss_sim_ray_config ray_cfg;
  struct ss_sim_ray_state ray;
  struct ss_own_config own_cfg;
  struct ss_own_state own;
  /* per decision scratch for the cores */
  struct ss_hpa_pod pods[SS_SIM_MAX_REPLICAS];
  size_t pod_replica[SS_SIM_MAX_REPLICAS];
  size_t n_pods;
  struct ss_hpa_sample samples[SS_HPA_MAX_METRICS][SS_SIM_MAX_REPLICAS];
  struct ss_hpa_container container;
  int64_t values[SS_HPA_MAX_METRICS];
};

/* ---- observations ---- */

/* Requests a second that arrived in [end - window, end), steps of the run. */
static double rate(const struct run *r, int64_t end_ms, int64_t window_ms) {
  int64_t to = end_ms / SS_SIM_STEP_MS, from = (end_ms - window_ms) / SS_SIM_STEP_MS;
  if (to > (int64_t)r->step)
    to = (int64_t)r->step;
  if (from < 0)
    from = 0;
  double sum = 0;
  for (int64_t s = from; s < to; s++)
    sum += r->arrivals[s];
  return sum * MS_PER_S / (double)window_ms;
}

/* In-flight requests averaged over the steps of [now - window, now). */
static double mean_inflight(const struct run *r, int64_t end_ms, int64_t window_ms) {
  int64_t to = end_ms / SS_SIM_STEP_MS, from = (end_ms - window_ms) / SS_SIM_STEP_MS;
  if (to > (int64_t)r->step)
    to = (int64_t)r->step;
  if (from < 0)
    from = 0;
  if (to <= from)
    return 0;
  double sum = 0;
  for (int64_t s = from; s < to; s++)
    sum += r->inflight[s];
  return sum / (double)(to - from);
}

/* The target's replicas as the HPA controller lists its pods. */
static void list_pods(struct run *r) {
  const struct ss_sim_cluster *c = &r->c;
  r->n_pods = 0;
  for (size_t i = 0; i < c->n && r->n_pods < SS_SIM_MAX_REPLICAS; i++) {
    const struct ss_sim_replica *rep = &c->r[i];
    if (rep->draining)
      continue;
    bool ready = rep->ready_ms <= c->now_ms;
    r->pods[r->n_pods] = (struct ss_hpa_pod){
        .ready = ready, .start_ms = rep->created_ms,
        .ready_change_ms = ready ? rep->ready_ms : rep->created_ms};
    r->pod_replica[r->n_pods++] = i;
  }
}

/* Per-replica samples of metric m, metric_delay old. */
static enum ss_err sample(struct run *r, const struct ss_metric_spec *m, size_t k) {
  int64_t at = r->c.now_ms - r->p->metric_delay_ms;
  int32_t ready = ss_sim_cluster_ready(&r->c);
  double per_pod = ready ? rate(r, at, SS_SIM_RATE_WINDOW_MS) / ready : 0;
  for (size_t j = 0; j < r->n_pods; j++) {
    size_t i = r->pod_replica[j];
    struct ss_hpa_sample *s = &r->samples[k][j];
    memset(s, 0, sizeof *s);
    s->present = r->pods[j].ready && r->c.r[i].ready_ms <= at;
    s->at_ms = at;
    s->containers = &r->container;
    s->n_containers = 1;
    if (m->source == SS_METRIC_PODS) {
      s->window_ms = SS_SIM_RATE_WINDOW_MS;
      s->value = (int64_t)(per_pod * 1000);
      continue;
    }
    if (strcmp(m->name, "cpu") != 0)
      return SS_EUNSUPPORTED;
    /* busy time: service time x completions, against one core */
    int64_t to_s = at / MS_PER_S, from_s = (at - SS_SIM_CPU_WINDOW_MS) / MS_PER_S;
    double busy_ms = (double)ss_sim_cluster_done(&r->c, i, from_s, to_s) *
                     (double)r->p->model.service_ms;
    s->window_ms = SS_SIM_CPU_WINDOW_MS;
    s->value = (int64_t)(busy_ms / SS_SIM_CPU_WINDOW_MS * SS_SIM_CPU_REQUEST_MILLI);
  }
  return SS_EOK;
}

/* The HPA's inputs for spec h, filled in *in and metrics. */
static enum ss_err hpa_inputs(struct run *r, const struct ss_hpa_spec *h,
                              struct ss_hpa_metric_input *metrics, struct ss_hpa_input *in) {
  enum ss_err rc;
  int64_t at = r->c.now_ms - r->p->metric_delay_ms;
  list_pods(r);
  for (size_t k = 0; k < h->n_metrics; k++) {
    const struct ss_metric_spec *m = &h->metrics[k];
    memset(&metrics[k], 0, sizeof metrics[k]);
    if (m->source == SS_METRIC_OBJECT || m->source == SS_METRIC_EXTERNAL) {
      r->values[k] = (int64_t)(rate(r, at, SS_SIM_RATE_WINDOW_MS) * 1000);
      metrics[k].values = &r->values[k];
      metrics[k].n_values = 1;
      continue;
    }
    if ((rc = sample(r, m, k)))
      return rc;
    metrics[k].samples = r->samples[k];
  }
  *in = (struct ss_hpa_input){.spec_replicas = r->c.spec, .status_replicas = r->c.spec,
                              .pods = r->pods, .n_pods = r->n_pods, .metrics = metrics,
                              .now_ms = r->c.now_ms};
  return SS_EOK;
}

/* ---- the policies: each decides at r->next_ms and sets the next, and
 * what its metric over its target asked for (r->metric_replicas) ---- */

/* The HPA's largest proposal of a metric that gave one. */
static double proposal(const struct ss_hpa_result *res) {
  double p = 0;
  for (size_t i = 0; i < res->n_metrics; i++)
    if (res->metrics[i].valid && res->metrics[i].proposal > p)
      p = res->metrics[i].proposal;
  return p;
}

static enum ss_err decide_hpa(struct run *r, int32_t *want, struct ss_error *err) {
  struct ss_hpa_metric_input metrics[SS_HPA_MAX_METRICS];
  struct ss_hpa_input in;
  struct ss_hpa_settings set = SS_HPA_SETTINGS_DEFAULT;
  struct ss_hpa_result *res = malloc(sizeof *res);
  enum ss_err rc = res ? hpa_inputs(r, &r->t->hpa, metrics, &in) : SS_ENOMEM;
  if (rc || (rc = ss_hpa_evaluate(&r->t->hpa, &set, &in, &r->hpa, res)))
    goto out;
  *want = res->scale ? res->desired : r->c.spec;
  r->metric_replicas = proposal(res);
  rc = ss_hpa_commit(&r->hpa, res, res->scale);
  if (rc == SS_ELIMIT)
    rc = SS_EOK; /* the oldest recommendation made room */
  r->next_ms += SS_SIM_HPA_SYNC_MS;
out:
  if (rc)
    ss_error_set(err, rc, 0, 0, "hpa: %s", rc == SS_EUNSUPPORTED
                 ? "a metric the simulation cannot produce (CPU and request rates only)"
                 : ss_err_msg(rc));
  free(res);
  return rc;
}

static enum ss_err decide_keda(struct run *r, int32_t *want, struct ss_error *err) {
  const struct ss_keda_spec *k = &r->t->keda;
  struct ss_hpa_metric_input metrics[SS_HPA_MAX_METRICS];
  struct ss_keda_trigger_input trig[SS_HPA_MAX_METRICS];
  struct ss_hpa_input hin;
  struct ss_keda_result *res = malloc(sizeof *res);
  enum ss_err rc = res ? hpa_inputs(r, &r->t->hpa, metrics, &hin) : SS_ENOMEM;
  if (rc)
    goto out;
  int64_t at = r->c.now_ms - r->p->metric_delay_ms;
  for (size_t i = 0; i < k->n_triggers; i++)
    trig[i] = (struct ss_keda_trigger_input){
        .value = rate(r, at, SS_SIM_RATE_WINDOW_MS), .samples = metrics[i].samples};
  struct ss_keda_input in = {.spec_replicas = r->c.spec, .status_replicas = r->c.spec,
                             .fallback_behavior = k->fallback_behavior, .triggers = trig,
                             .pods = r->pods, .n_pods = r->n_pods, .now_ms = r->c.now_ms};
  if ((rc = ss_keda_evaluate(k, NULL, &r->keda, &in, res)))
    goto out;
  *want = res->scale ? res->desired : r->c.spec;
  r->metric_replicas = res->hpa_ran ? proposal(&res->hpa) : 0;
  rc = ss_keda_commit(&r->keda, res, res->scale);
  if (rc == SS_ELIMIT)
    rc = SS_EOK;
  r->next_ms = ss_keda_next_poll_ms(k, &r->keda);
out:
  if (rc)
    ss_error_set(err, rc, 0, 0, "keda: %s", ss_err_msg(rc));
  free(res);
  return rc;
}

static enum ss_err decide_kpa(struct run *r, int32_t *want, struct ss_error *err) {
  int64_t now = r->c.now_ms;
  int64_t panic_ms = (int64_t)(SS_SIM_KPA_STABLE_WINDOW_MS * SS_SIM_KPA_PANIC_WINDOW_PERCENT / 100);
  double stable = mean_inflight(r, now, SS_SIM_KPA_STABLE_WINDOW_MS);
  double panic = mean_inflight(r, now, panic_ms);
  /* the activator holds a request at zero and pokes the autoscaler at once */
  if (r->c.spec == 0 && ss_sim_cluster_waiting(&r->c) > 0 && panic <= 0)
    panic = stable = (double)ss_sim_cluster_waiting(&r->c);
  *want = ss_sim_kpa_decide(&r->kpa_cfg, &r->kpa, now, stable, panic,
                            ss_sim_cluster_ready(&r->c));
  r->metric_replicas = ceil(stable / r->kpa_cfg.target);
  r->next_ms += SS_SIM_KPA_TICK_MS;
  (void)err;
  return SS_EOK;
}

static enum ss_err decide_ray(struct run *r, int32_t *want, struct ss_error *err) {
  int64_t now = r->c.now_ms;
  /* replicas push every metrics interval the mean over the look-back period */
  int64_t pushed = now / SS_SIM_RAY_METRICS_INTERVAL_MS * SS_SIM_RAY_METRICS_INTERVAL_MS;
  double ongoing = mean_inflight(r, pushed, SS_SIM_RAY_LOOK_BACK_MS);
  if (r->c.spec == 0)
    ongoing = (double)ss_sim_cluster_waiting(&r->c); /* handles report their queue */
  *want = ss_sim_ray_decide(&r->ray_cfg, &r->ray, ongoing, r->c.spec);
  r->metric_replicas = ceil(ongoing / r->ray_cfg.target);
  r->next_ms += SS_SIM_RAY_CONTROL_LOOP_MS;
  (void)err;
  return SS_EOK;
}

static enum ss_err decide_own(struct run *r, int32_t *want, struct ss_error *err) {
  int64_t now = r->c.now_ms;
  struct ss_own_input in = {.now_ms = now, .rate_1s = rate(r, now, MS_PER_S),
                                .inflight = (double)r->c.inflight,
                                .waiting = ss_sim_cluster_waiting(&r->c),
                                .ready = ss_sim_cluster_ready(&r->c), .spec = r->c.spec};
  *want = ss_own_decide(&r->own_cfg, &r->own, &in);
  r->metric_replicas = ss_own_replicas_for(&r->own_cfg, in.rate_1s);
  r->next_ms += SS_OWN_PERIOD_MS;
  (void)err;
  return SS_EOK;
}

typedef enum ss_err (*decide_fn)(struct run *r, int32_t *want, struct ss_error *err);

static const struct {
  decide_fn decide;
  bool buffer_at_zero; /* a request at zero replicas waits (else it is refused) */
} policies[SS_SIM__N] = {
    [SS_SIM_HPA] = {decide_hpa, false},
    [SS_SIM_KEDA] = {decide_keda, false},
    [SS_SIM_KPA] = {decide_kpa, true},
    [SS_SIM_RAY] = {decide_ray, true},
    [SS_SIM_OWN] = {decide_own, true},
};

/* ---- the replay ---- */

static int32_t initial_replicas(const struct ss_sim_target *t, enum ss_sim_policy p) {
  if (p == SS_SIM_HPA)
    return t->hpa.min_replicas;
  return t->min > 0 ? t->min : 0;
}

static enum ss_err run_init(struct run *r, const struct ss_sim_target *t,
                            const struct ss_sim_params *p, const struct ss_sim_trace *tr,
                            enum ss_sim_policy policy, struct ss_error *err) {
  r->t = t;
  r->p = p;
  r->n_steps = (size_t)ceil(tr->end_s * STEPS_PER_S);
  r->arrivals = calloc(r->n_steps + 1, sizeof *r->arrivals);
  r->inflight = calloc(r->n_steps + 1, sizeof *r->inflight);
  if (!r->arrivals || !r->inflight)
    return ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
  r->container = (struct ss_hpa_container){"model", true, SS_SIM_CPU_REQUEST_MILLI};
  int32_t lo = t->min, hi = t->max;
  r->kpa_cfg = (struct ss_sim_kpa_config){
      p->model.concurrency * SS_SIM_KPA_TARGET_PERCENT / 100.0, lo, hi};
  r->ray_cfg = (struct ss_sim_ray_config){SS_SIM_RAY_TARGET_ONGOING, SS_SIM_RAY_UPSCALE_DELAY_MS,
                                          SS_SIM_RAY_DOWNSCALE_DELAY_MS, lo, hi};
  r->own_cfg = (struct ss_own_config){p->model.service_ms, p->model.concurrency,
                                          p->model.startup_ms, p->model.slo_p99_ms, lo, hi};
  ss_own_init(&r->own_cfg, &r->own);
  enum ss_err rc;
  if (policy == SS_SIM_KEDA && (rc = ss_keda_state_init(&r->keda, &t->keda, 0)))
    return ss_error_set(err, rc, 0, 0, "keda: %s", ss_err_msg(rc));
  if ((rc = ss_sim_cluster_init(&r->c, &p->model, policies[policy].buffer_at_zero,
                                initial_replicas(t, policy), r->n_steps)))
    return ss_error_set(err, rc, 0, 0, "the model's parameters: %s", ss_err_msg(rc));
  return SS_EOK;
}

static void run_free(struct run *r) {
  ss_sim_cluster_free(&r->c);
  ss_hpa_history_free(&r->hpa);
  ss_keda_state_free(&r->keda);
  free(r->arrivals);
  free(r->inflight);
}

static enum ss_err check(const struct ss_sim_params *p, const struct ss_sim_trace *tr,
                         struct ss_error *err) {
  if (p->metric_delay_ms < 0 || p->metric_delay_ms > SS_SIM_MAX_METRIC_DELAY_MS)
    return ss_error_set(err, SS_EINVALID, 0, 0, "the metric delay must be within [0, %d] ms",
                        SS_SIM_MAX_METRIC_DELAY_MS);
  if (ss_sim_trace_requests(tr) > SS_SIM_MAX_REQUESTS)
    return ss_error_set(err, SS_ELIMIT, 0, 0,
                        "the trace asks for %.0f requests; at most %.0f are simulated",
                        ss_sim_trace_requests(tr), SS_SIM_MAX_REQUESTS);
  return SS_EOK;
}

/* One step: the policy decides when due, then the cluster runs at rps. */
static enum ss_err step(struct run *r, enum ss_sim_policy policy, double rps,
                        struct ss_sim_result *out, struct ss_error *err) {
  enum ss_err rc;
  r->inflight[r->step] = (int32_t)r->c.inflight;
  /* servescale's gateway, the activator and Ray's handles wake a target
   * at zero as soon as a request waits; plain KEDA waits for its poll */
  bool woken = policies[policy].buffer_at_zero && r->c.spec == 0 &&
               ss_sim_cluster_waiting(&r->c) > 0;
  if (r->c.now_ms >= r->next_ms || woken) {
    int32_t want = r->c.spec;
    if ((rc = policies[policy].decide(r, &want, err)))
      return rc;
    if (want != r->c.spec) {
      out->scale_events++;
      if ((rc = ss_sim_cluster_scale(&r->c, want)))
        return ss_error_set(err, rc, 0, 0, "out of memory");
    }
  }
  double before = r->c.cur.arrivals;
  if ((rc = ss_sim_cluster_step(&r->c, rps)))
    return ss_error_set(err, rc, 0, 0, "out of memory");
  r->arrivals[r->step] = (uint32_t)(r->c.cur.arrivals - before);
  r->step++;
  return SS_EOK;
}

static void add_second(struct ss_sim_result *out, const struct ss_sim_second *s) {
  out->seconds[out->n_seconds++] = *s;
  out->slo_violation_seconds += s->violation;
  out->failed += s->failed;
  out->over_slo += s->over_slo;
  out->requests += (uint64_t)s->arrivals;
  if (s->replicas > out->peak_replicas)
    out->peak_replicas = s->replicas;
}

enum ss_err ss_sim_run(const struct ss_sim_target *t, const struct ss_sim_params *p,
                       const struct ss_sim_trace *tr, enum ss_sim_policy policy,
                       struct ss_sim_result *out, struct ss_error *err) {
  memset(out, 0, sizeof *out);
  out->policy = policy;
  if ((unsigned)policy >= SS_SIM__N || !tr->n)
    return ss_error_set(err, SS_EINVALID, 0, 0, "no such policy, or an empty trace");
  enum ss_err rc = check(p, tr, err);
  if (rc)
    return rc;
  struct run *r = calloc(1, sizeof *r);
  if (!r)
    return ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
  size_t n_seconds = (size_t)ceil(tr->end_s);
  out->seconds = calloc(n_seconds, sizeof *out->seconds);
  if (!out->seconds) {
    rc = ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
    goto out;
  }
  if ((rc = run_init(r, t, p, tr, policy, err)))
    goto out;
  while (r->step < r->n_steps) {
    double at_s = (double)r->c.now_ms / MS_PER_S;
    if ((rc = step(r, policy, ss_sim_trace_rate(tr, at_s), out, err)))
      goto out;
    if (r->step % STEPS_PER_S == 0 || r->step == r->n_steps) {
      struct ss_sim_second sec;
      ss_sim_cluster_close_second(&r->c, &sec);
      sec.metric_replicas = r->metric_replicas;
      if (out->n_seconds < n_seconds)
        add_second(out, &sec);
    }
  }
  out->replica_seconds = r->c.replica_ms / MS_PER_S;
out:
  run_free(r);
  free(r);
  if (rc)
    ss_sim_result_free(out);
  return rc;
}

void ss_sim_result_free(struct ss_sim_result *res) {
  if (!res)
    return;
  free(res->seconds);
  res->seconds = NULL;
  res->n_seconds = 0;
}
