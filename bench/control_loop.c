/* control_loop.c: bench/control-loop. 10,000 synthetic autoscaled targets,
 * each with its own spec, histories and inputs, all decided by
 * ss_hpa_evaluate + ss_hpa_commit on every tick of a simulated 1 s sync.
 * Prints the CPU time of a tick (p50, p99, max; microseconds per target),
 * the memory per target (bytes allocated; RSS growth), and the p99 tick
 * against the 50 ms-per-core budget of issue 5.
 *
 * What it leaves out: fetching metrics and applying the size. The simulated
 * world (load, replicas starting, samples) runs between ticks, untimed; the
 * timed part is exactly what the daemon's autoscaler does per sync with the
 * inputs in hand.
 *
 *   bench_control_loop [TARGETS] [TICKS]
 */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "autoscale/hpa.h"
#include "model/autoscaling.h"

#define DEFAULT_TARGETS 10000
#define DEFAULT_TICKS 200
#define SYNC_MS 1000 /* the simulated sync period: one tick */
/* Untimed ticks first, so the measured ones run with the longest window
 * (the 300 s scale-down stabilization) full, as a long-running daemon does. */
#define WARMUP_TICKS (SS_HPA_DEFAULT_DOWNSCALE_STABILIZATION_MS / 1000 + 10)
/* Issue 5's target for bench/control-loop: a tick of 10,000 targets in under
 * 50 ms of one core. It stands in for the Kubernetes HPA controller as the
 * peer (a controller built to sync every 15 s). */
#define TICK_BUDGET_MS 50.0
/* kube-controller-manager --horizontal-pod-autoscaler-sync-period default. */
#define KUBE_SYNC_PERIOD_MS 15000.0

#define CPU_MAX_REPLICAS 10
#define EXT_MAX_REPLICAS 20
#define POD_STARTUP_MS 2000    /* a new replica is pending this long, then ready */
#define SAMPLE_WINDOW_MS 15000 /* what a metrics-server sample averages over */
#define SAMPLE_AGE_MS 1000     /* how old a sample is when the sync reads it */
#define MISSING_PER_MILLE 10   /* chance a replica's sample is missing */
#define FAILED_PER_10K 20      /* chance fetching one metric fails */

/* ---- the per-target state the autoscaler keeps (counted) ---- */

enum kind { KIND_CPU, KIND_CPU_BEHAVIOR, KIND_EXTERNAL, KIND_EXTERNAL_BEHAVIOR, KIND_MIXED };
static const char *const kind_names[] = {"cpu", "cpu+behavior", "external", "external+behavior",
                                         "cpu+external+behavior"};
#define N_KINDS 5

struct target {
  struct ss_hpa_spec spec;
  struct ss_hpa_history hist;
  struct ss_hpa_input in;
  struct ss_hpa_pod *pods;              /* max_replicas */
  struct ss_hpa_metric_input *metrics;  /* spec.n_metrics */
  struct ss_hpa_sample *samples;        /* max_replicas, for the cpu metric */
  int64_t *values;                      /* one series, for the external metric */
  int32_t replicas;                     /* the scale's spec.replicas */
};

/* ---- the simulated world (not counted: it is not the autoscaler's) ---- */

struct world {
  enum kind kind;
  double base, amp, period_s, phase; /* load in replicas' worth */
  double spike_at_s, spike;          /* a step every 180 s */
  int64_t request;                   /* cpu request per replica, milli */
  int32_t util_target;
  int64_t threshold;                 /* external AverageValue target, milli */
  int cpu_metric, ext_metric;        /* index in spec.metrics, or -1 */
  bool scaled;                       /* in the measured ticks */
};

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng(void) { /* splitmix64: deterministic across runs */
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

static double rng_unit(void) { return (double)(rng() >> 11) / 9007199254740992.0; }
static double rng_range(double lo, double hi) { return lo + (hi - lo) * rng_unit(); }

static size_t allocated;

static void *alloc_counted(size_t n, size_t size) {
  void *p = malloc(n * size > 0 ? n * size : 1);
  if (!p) {
    fprintf(stderr, "bench/control-loop: out of memory\n");
    exit(1);
  }
  memset(p, 0, n * size); /* touched, so RSS shows it now */
  allocated += n * size;
  return p;
}

static long rss_bytes(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long size = 0, resident = 0;
  if (!f)
    return -1;
  if (fscanf(f, "%ld %ld", &size, &resident) != 2)
    resident = -1;
  fclose(f);
  return resident < 0 ? -1 : resident * sysconf(_SC_PAGESIZE);
}

static double thread_cpu_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- specs ---- */

static void set_policies(struct ss_scaling_rules *r, int32_t stab, enum ss_select_policy sel,
                         const struct ss_scaling_policy *p, size_t n) {
  r->stabilization_seconds = stab;
  r->select = sel;
  r->tolerance = -1;
  r->n_policies = n;
  r->policies = alloc_counted(n, sizeof *r->policies);
  memcpy(r->policies, p, n * sizeof *p);
}

/* Kubernetes' default behavior, as the decoder fills it in. */
static void default_behavior(struct ss_hpa_spec *s) {
  const struct ss_scaling_policy up[] = {
      {SS_POLICY_PODS, SS_HPA_DEFAULT_UP_PODS, SS_HPA_DEFAULT_POLICY_PERIOD},
      {SS_POLICY_PERCENT, SS_HPA_DEFAULT_UP_PERCENT, SS_HPA_DEFAULT_POLICY_PERIOD}};
  const struct ss_scaling_policy down[] = {
      {SS_POLICY_PERCENT, SS_HPA_DEFAULT_DOWN_PERCENT, SS_HPA_DEFAULT_POLICY_PERIOD}};
  set_policies(&s->up, SS_HPA_DEFAULT_UP_STABILIZATION, SS_SELECT_MAX, up, 2);
  set_policies(&s->down, SS_HPA_STABILIZATION_UNSET, SS_SELECT_MAX, down, 1);
}

/* A hand-written behavior: cautious up with a short window, slow down. */
static void custom_behavior(struct ss_hpa_spec *s, int variant) {
  if (variant == 0) {
    const struct ss_scaling_policy up[] = {{SS_POLICY_PODS, 2, 10}, {SS_POLICY_PERCENT, 50, 10}};
    const struct ss_scaling_policy down[] = {{SS_POLICY_PODS, 1, 20}};
    set_policies(&s->up, 5, SS_SELECT_MIN, up, 2);
    set_policies(&s->down, 60, SS_SELECT_MAX, down, 1);
  } else { /* KEDA-like advanced.horizontalPodAutoscalerConfig */
    const struct ss_scaling_policy up[] = {{SS_POLICY_PODS, 4, 5}};
    const struct ss_scaling_policy down[] = {{SS_POLICY_PERCENT, 50, 30},
                                             {SS_POLICY_PODS, 2, 15}};
    set_policies(&s->up, 0, SS_SELECT_MAX, up, 1);
    set_policies(&s->down, 120, SS_SELECT_MIN, down, 2);
  }
}

static void setup(struct target *t, struct world *w, size_t i,
                  const struct ss_hpa_settings *set, int64_t now) {
  memset(w, 0, sizeof *w);
  w->kind = (enum kind)(i % 10 < 3 ? KIND_CPU : i % 10 < 5 ? KIND_CPU_BEHAVIOR
                        : i % 10 < 7 ? KIND_EXTERNAL : i % 10 < 8 ? KIND_EXTERNAL_BEHAVIOR
                        : KIND_MIXED);
  bool cpu = w->kind == KIND_CPU || w->kind == KIND_CPU_BEHAVIOR || w->kind == KIND_MIXED;
  bool ext = w->kind == KIND_EXTERNAL || w->kind == KIND_EXTERNAL_BEHAVIOR || w->kind == KIND_MIXED;
  int32_t max = w->kind == KIND_CPU || w->kind == KIND_CPU_BEHAVIOR ? CPU_MAX_REPLICAS
                                                                     : EXT_MAX_REPLICAS;
  w->base = rng_range(1.0, max * 0.5);
  w->amp = rng_range(0.2, 0.9);
  w->period_s = rng_range(40.0, 240.0);
  w->phase = rng_range(0.0, 6.283185307179586);
  w->spike_at_s = rng_range(0.0, 150.0);
  w->spike = rng_unit() < 0.3 ? rng_range(1.0, max * 0.5) : 0.0;
  w->request = 100 * (int64_t)(1 + rng() % 10); /* 100m..1000m */
  w->util_target = 50 + (int32_t)(rng() % 31);  /* 50..80 % */
  w->threshold = 1000 * (int64_t)(5 + rng() % 46); /* 5..50 per replica */
  w->cpu_metric = w->ext_metric = -1;

  struct ss_hpa_spec *s = &t->spec;
  s->min_replicas = 1;
  s->max_replicas = max;
  s->n_metrics = (size_t)cpu + (size_t)ext;
  s->metrics = alloc_counted(s->n_metrics, sizeof *s->metrics);
  s->component = -1;
  size_t k = 0;
  if (cpu) {
    w->cpu_metric = (int)k;
    s->metrics[k++] = (struct ss_metric_spec){
        .source = SS_METRIC_RESOURCE, .name = "cpu",
        .target = {.type = SS_TARGET_UTILIZATION, .utilization = w->util_target}};
  }
  if (ext) {
    w->ext_metric = (int)k;
    s->metrics[k++] = (struct ss_metric_spec){
        .source = SS_METRIC_EXTERNAL, .name = "s0-prometheus",
        .target = {.type = SS_TARGET_AVERAGE_VALUE, .value = {w->threshold}}};
  }
  if (w->kind == KIND_CPU_BEHAVIOR || w->kind == KIND_MIXED)
    custom_behavior(s, 0);
  else if (w->kind == KIND_EXTERNAL_BEHAVIOR)
    custom_behavior(s, 1);
  else
    default_behavior(s);

  t->pods = alloc_counted((size_t)max, sizeof *t->pods);
  t->metrics = alloc_counted(s->n_metrics, sizeof *t->metrics);
  if (cpu) {
    t->samples = alloc_counted((size_t)max, sizeof *t->samples);
    t->metrics[w->cpu_metric].samples = t->samples;
  }
  if (ext) {
    t->values = alloc_counted(1, sizeof *t->values);
    t->metrics[w->ext_metric].values = t->values;
    t->metrics[w->ext_metric].n_values = 1;
  }
  t->replicas = 1 + (int32_t)(rng() % (uint64_t)(max < 10 ? max : 10)); /* 1..10 */
  for (int32_t p = 0; p < t->replicas; p++) /* long running and ready */
    t->pods[p] = (struct ss_hpa_pod){.ready = true, .start_ms = now - 3600 * 1000,
                                     .ready_change_ms = now - 3600 * 1000 + POD_STARTUP_MS};
  s->has_behavior = w->kind == KIND_CPU_BEHAVIOR || w->kind == KIND_EXTERNAL_BEHAVIOR ||
                    w->kind == KIND_MIXED;
  t->in = (struct ss_hpa_input){.pods = t->pods, .metrics = t->metrics};
}

/* ---- the world between ticks: replicas start, load moves, samples arrive ---- */

static double load_at(const struct world *w, double t_s) {
  double l = w->base * (1.0 + w->amp * sin(6.283185307179586 * t_s / w->period_s + w->phase));
  double in_cycle = fmod(t_s, 180.0);
  if (in_cycle >= w->spike_at_s && in_cycle < w->spike_at_s + 30.0)
    l += w->spike;
  return l < 0.1 ? 0.1 : l;
}

static void world_step(struct target *t, struct world *w, int64_t now, double t_s) {
  /* The size the last tick applied: add pending replicas or drop the newest. */
  for (int32_t p = (int32_t)t->in.n_pods; p < t->replicas; p++)
    t->pods[p] = (struct ss_hpa_pod){.pending = true, .start_ms = now, .ready_change_ms = now};
  t->in.n_pods = (size_t)t->replicas;
  int32_t running = 0;
  for (size_t p = 0; p < t->in.n_pods; p++) {
    struct ss_hpa_pod *pod = &t->pods[p];
    if (pod->pending && now >= pod->start_ms + POD_STARTUP_MS)
      *pod = (struct ss_hpa_pod){.ready = true, .start_ms = pod->start_ms, .ready_change_ms = now};
    running += !pod->pending;
  }
  t->in.spec_replicas = t->replicas;
  t->in.status_replicas = running;
  t->in.now_ms = now;

  double load = load_at(w, t_s);
  for (size_t m = 0; m < t->spec.n_metrics; m++) {
    bool failed = rng() % 10000 < FAILED_PER_10K;
    t->metrics[m].failed = failed;
    t->metrics[m].error = failed ? "the server is currently unable to handle the request" : NULL;
  }
  if (w->cpu_metric >= 0) {
    /* The load spreads over the running replicas; each uses its share. */
    double total = load * (double)w->request * w->util_target / 100.0;
    for (size_t p = 0; p < t->in.n_pods; p++) {
      struct ss_hpa_sample *s = &t->samples[p];
      s->request = w->request;
      s->present = !t->pods[p].pending && rng() % 1000 >= MISSING_PER_MILLE;
      s->value = running ? (int64_t)(total / running * rng_range(0.95, 1.05)) : 0;
      s->at_ms = now - SAMPLE_AGE_MS;
      s->window_ms = SAMPLE_WINDOW_MS;
    }
  }
  if (w->ext_metric >= 0) /* a queue, out of phase with the cpu load */
    t->values[0] = (int64_t)(load_at(w, t_s + w->period_s / 4.0) * (double)w->threshold *
                             rng_range(0.97, 1.03));
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  size_t n = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : DEFAULT_TARGETS;
  int ticks = argc > 2 ? atoi(argv[2]) : DEFAULT_TICKS;
  if (n == 0 || ticks <= 0) {
    fprintf(stderr, "usage: bench_control_loop [TARGETS] [TICKS]\n");
    return 2;
  }
  const struct ss_hpa_settings set = SS_HPA_SETTINGS_DEFAULT;
  int64_t now = 24 * 3600 * 1000; /* any monotonic origin well after the pods started */

  struct world *worlds = calloc(n, sizeof *worlds);
  double *tick_ms = calloc((size_t)ticks, sizeof *tick_ms);
  if (!worlds || !tick_ms) {
    fprintf(stderr, "bench/control-loop: out of memory\n");
    return 1;
  }
  long rss0 = rss_bytes();
  struct target *targets = alloc_counted(n, sizeof *targets);
  for (size_t i = 0; i < n; i++)
    setup(&targets[i], &worlds[i], i, &set, now);
  long rss1 = rss_bytes();

  size_t per_kind[N_KINDS] = {0}, scaled_kind[N_KINDS] = {0};
  uint64_t ups = 0, downs = 0, failed = 0, partial = 0, limited = 0, stabilized = 0;
  struct ss_hpa_result res;
  for (int tick = -WARMUP_TICKS; tick < ticks; tick++) {
    now += SYNC_MS;
    double t_s = (double)(tick + WARMUP_TICKS);
    for (size_t i = 0; i < n; i++)
      world_step(&targets[i], &worlds[i], now, t_s);

    bool measured = tick >= 0;
    double t0 = thread_cpu_ms();
    for (size_t i = 0; i < n; i++) {
      struct target *t = &targets[i];
      enum ss_err e = ss_hpa_evaluate(&t->spec, &set, &t->in, &t->hist, &res);
      if (e != SS_EOK) {
        fprintf(stderr, "bench/control-loop: target %zu: %s\n", i, ss_err_msg(e));
        return 1;
      }
      ss_hpa_commit(&t->hist, &res, res.scale);
      if (res.scale)
        t->replicas = res.desired;
      if (!measured)
        continue;
      if (res.scale) {
        ups += res.desired > res.current;
        downs += res.desired < res.current;
        worlds[i].scaled = true;
      }
      failed += res.failed;
      partial += res.partial;
      limited += res.scaling_limited.status == SS_HPA_COND_TRUE;
      stabilized += res.able_to_scale.reason && strcmp(res.able_to_scale.reason,
                                                       "ReadyForNewScale") != 0 &&
                    strcmp(res.able_to_scale.reason, "SucceededGetScale") != 0;
    }
    double t1 = thread_cpu_ms();
    if (measured)
      tick_ms[tick] = t1 - t0;
  }

  size_t scaled = 0;
  for (size_t i = 0; i < n; i++) {
    per_kind[worlds[i].kind]++;
    if (worlds[i].scaled) {
      scaled++;
      scaled_kind[worlds[i].kind]++;
    }
  }
  qsort(tick_ms, (size_t)ticks, sizeof *tick_ms, cmp_double);
  double p50 = tick_ms[(size_t)ticks / 2];
  size_t i99 = (size_t)ceil(0.99 * ticks);
  double p99 = tick_ms[i99 > 0 ? i99 - 1 : 0];
  double max = tick_ms[ticks - 1];
  double sum = 0;
  for (int i = 0; i < ticks; i++)
    sum += tick_ms[i];

  /* the histories grow inside hpa.c: count what they hold now */
  for (size_t i = 0; i < n; i++)
    allocated += targets[i].hist.recs.cap * sizeof *targets[i].hist.recs.v +
                 (targets[i].hist.up.cap + targets[i].hist.down.cap) * sizeof *targets[i].hist.up.v;
  printf("bench/control-loop: %zu targets, %d ticks (%d ms each, after %d warm-up ticks)\n", n,
         ticks, SYNC_MS, WARMUP_TICKS);
  printf("targets:");
  for (int k = 0; k < N_KINDS; k++)
    printf(" %zu %s (%zu scaled)%s", per_kind[k], kind_names[k], scaled_kind[k],
           k + 1 < N_KINDS ? "," : "\n");
  printf("decisions: %zu targets scaled at least once; %" PRIu64 " up, %" PRIu64
         " down, %" PRIu64 " rate-limited, %" PRIu64 " stabilized, %" PRIu64
         " failed, %" PRIu64 " on partial metrics\n",
         scaled, ups, downs, limited, stabilized, failed, partial);
  printf("tick cpu time: p50 %.2f ms, p99 %.2f ms, max %.2f ms (%.2f us per target, mean)\n", p50,
         p99, max, sum / ticks * 1000.0 / (double)n);
  printf("memory per target: %zu bytes (allocated), %ld bytes (RSS growth)\n", allocated / n,
         rss0 >= 0 && rss1 >= 0 ? (rss1 - rss0) / (long)n : -1L);
  printf("ratio p99 tick / %.0f ms budget: %.2f  (target < 1.00)\n", TICK_BUDGET_MS,
         p99 / TICK_BUDGET_MS);
  printf("kubernetes %.0f s sync / p99 tick: %.0fx (one core could resync every %.0f ms)\n",
         KUBE_SYNC_PERIOD_MS / 1000.0, KUBE_SYNC_PERIOD_MS / p99, ceil(p99));

  free(tick_ms);
  free(worlds);
  /* targets and their state live until exit, as in the daemon */
  if (scaled == 0) {
    fprintf(stderr, "bench/control-loop: no target scaled; the decisions are not real\n");
    return 1;
  }
  return 0;
}
