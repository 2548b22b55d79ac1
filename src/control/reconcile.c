/* reconcile.c: SeldonDeployments -> replica sets -> status. See control.h. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control/control.h"
#include "control/deployments.h"
#include "control/ownership.h"
#include "control/gauges.h"
#include "model/resource.h"

#define SS_DEFAULT_PROBE_PATH "/health/ping"
#define SS_DEFAULT_READINESS_PERIOD_MS 10
#define SS_MAX_OWNED 4096
#define SS_CONTROL_MAX_ROUTED 1024 /* replicas of one replica set the gateway sees */
/* The same failed status write is logged again at most this often. */
#define SS_CONTROL_RELOG_MS 10000

/* A replica set and the resource that owns it. */
struct owned {
  char rs[SS_RS_NAME_LEN];       /* the runtime's key: "<namespace>.<replica set>" */
  char ns[256], name[256];
  json_t *owner;   /* {apiVersion, kind, metadata{name, namespace, uid}} for events */
  char container[64], image[256];
  char deploy_uid[64], tmpl_hash[16]; /* its Deployment's: what its pods carry */
  int desired;     /* -1 before the first pass that set it */
  bool seen;       /* wanted by the current pass */
  bool failed;
  char message[256];
};

struct ss_control {
  struct ss_control_config cfg;
  struct ss__gauges *gauges;
  uint64_t route_sig, last_route_sig; /* what the gateway was last given */
  bool published;
  struct ss_deployments *deployments; /* the apps/v1 Deployments it stores */
  pthread_mutex_t mu;
  struct owned *owned;
  size_t n_owned;
  /* the last failed store call logged (tick's thread only) */
  char store_failure[768];
  int64_t store_failure_ms;
  unsigned store_failure_repeats;
  /* deployments whose failure this process has logged (tick's thread only) */
  struct failing *failing;
  size_t n_failing;
};

/* A failed deployment, logged once per reason while it stays failed. */
struct failing {
  char uid[64];
  uint64_t why;  /* hash of the reason logged */
  bool seen;     /* failed in the current pass */
};

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* s as the value of a key=value log field: quoted, with quotes,
 * backslashes and line breaks escaped, so that one event is one line. */
static const char *log_quote(const char *s, char *buf, size_t size) {
  size_t o = 0;
  if (size < 3)
    return "\"\"";
  buf[o++] = '"';
  for (; s && *s && o + 3 < size; s++) {
    char c = *s;
    if (c == '"' || c == '\\') {
      buf[o++] = '\\';
      buf[o++] = c;
    } else {
      buf[o++] = (c == '\n' || c == '\r') ? ' ' : c;
    }
  }
  buf[o++] = '"';
  buf[o] = '\0';
  return buf;
}

static void now_rfc3339(char *buf, size_t size) {
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

struct ss_control *ss_control_new(const struct ss_control_config *cfg) {
  struct ss_control *c = calloc(1, sizeof *c);
  if (!c)
    return NULL;
  c->cfg = *cfg;
  if ((cfg->metrics && !(c->gauges = ss__gauges_new(cfg->metrics))) ||
      !(c->deployments = ss_deployments_new(cfg->store))) {
    ss__gauges_free(c->gauges);
    free(c);
    return NULL;
  }
  pthread_mutex_init(&c->mu, NULL);
  return c;
}

void ss_control_free(struct ss_control *c) {
  if (!c)
    return;
  for (size_t i = 0; i < c->n_owned; i++)
    json_decref(c->owned[i].owner);
  free(c->owned);
  ss__gauges_free(c->gauges);
  ss_deployments_free(c->deployments);
  free(c->failing);
  pthread_mutex_destroy(&c->mu);
  free(c);
}

static struct owned *find_owned(struct ss_control *c, const char *rs) {
  for (size_t i = 0; i < c->n_owned; i++)
    if (strcmp(c->owned[i].rs, rs) == 0)
      return &c->owned[i];
  return NULL;
}

static struct owned *add_owned(struct ss_control *c, const char *rs) {
  if (c->n_owned >= SS_MAX_OWNED)
    return NULL;
  struct owned *v = realloc(c->owned, (c->n_owned + 1) * sizeof *v);
  if (!v)
    return NULL;
  c->owned = v;
  struct owned *o = &c->owned[c->n_owned++];
  memset(o, 0, sizeof *o);
  snprintf(o->rs, sizeof o->rs, "%s", rs);
  o->desired = -1;
  return o;
}

static bool same_uid(const json_t *a, const json_t *b) {
  const char *ua = json_string_value(json_object_get(json_object_get(a, "metadata"), "uid"));
  const char *ub = json_string_value(json_object_get(json_object_get(b, "metadata"), "uid"));
  return ua && ub && strcmp(ua, ub) == 0;
}

static json_t *owner_ref(const json_t *obj) {
  json_t *md = json_object_get(obj, "metadata");
  return json_pack("{s:O?, s:O?, s:{s:O?, s:O?, s:O?}}", "apiVersion",
                   json_object_get(obj, "apiVersion"), "kind", json_object_get(obj, "kind"),
                   "metadata", "name", json_object_get(md, "name"), "namespace",
                   json_object_get(md, "namespace"), "uid", json_object_get(md, "uid"));
}

static void event(struct ss_control *c, const json_t *about, const char *type,
                  const char *reason, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void event(struct ss_control *c, const json_t *about, const char *type,
                  const char *reason, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  struct ss_error err = {0};
  if (ss_store_event(c->cfg.store, about, type, reason, msg, &err)) {
    json_t *md = json_object_get(about, "metadata");
    const char *ns = json_string_value(json_object_get(md, "namespace"));
    const char *name = json_string_value(json_object_get(md, "name"));
    char q1[600], q2[600];
    fprintf(stderr, "event=event_write_failed sdep=%s/%s reason=%s message=%s error=%s\n",
            ns ? ns : "", name ? name : "", reason, log_quote(msg, q1, sizeof q1),
            log_quote(err.msg[0] ? err.msg : ss_err_msg(err.code), q2, sizeof q2));
  }
}

void ss_control_runtime_event(void *ctx, const char *rs, const char *type, const char *reason,
                              const char *message) {
  struct ss_control *c = ctx;
  json_t *owner = NULL;
  char msg[1024], prefix[300];
  size_t o_len = 0;
  pthread_mutex_lock(&c->mu);
  struct owned *o = find_owned(c, rs);
  if (o) {
    owner = json_incref(o->owner);
    snprintf(prefix, sizeof prefix, "%s.", o->ns);
    o_len = strlen(prefix);
  }
  pthread_mutex_unlock(&c->mu);
  if (!owner)
    return;
  /* users know replica sets and pods by their names, without the
   * "<namespace>." the runtime keys them by */
  size_t n = 0;
  for (const char *p = message; *p && n + 1 < sizeof msg;) {
    if (strncmp(p, prefix, o_len) == 0 && (p == message || p[-1] == ' ')) {
      p += o_len;
      continue;
    }
    msg[n++] = *p++;
  }
  msg[n] = '\0';
  ss_store_event(c->cfg.store, owner, type, reason, msg, NULL);
  json_decref(owner);
}

/* ---- templates ---- */

static char **str_vec(json_t *arr) {
  size_t n = json_array_size(arr);
  char **v = calloc(n + 1, sizeof *v);
  for (size_t i = 0; v && i < n; i++)
    v[i] = strdup(json_string_value(json_array_get(arr, i)) ? json_string_value(json_array_get(arr, i)) : "");
  return v;
}

static void free_vec(char **v) {
  for (size_t i = 0; v && v[i]; i++)
    free(v[i]);
  free(v);
}

/* A container port number named or numbered in a probe maps to the
 * replica's own port (0), since every replica listens on its own port. */
static int probe_port(const json_t *port) {
  (void)port;
  return 0;
}

static void read_probe(const json_t *p, struct ss_probe *out, bool liveness) {
  memset(out, 0, sizeof *out);
  if (!json_is_object(p)) {
    /* Seldon's health endpoint, checked often: local processes start fast */
    out->type = SS_PROBE_HTTP;
    snprintf(out->path, sizeof out->path, "%s", SS_DEFAULT_PROBE_PATH);
    out->period_s = liveness ? 5 : 1;
    /* a local process is ready in milliseconds: look often until it is */
    out->period_ms = liveness ? 0 : SS_DEFAULT_READINESS_PERIOD_MS;
    out->failure_threshold = liveness ? 3 : 1;
    out->timeout_s = 1;
    out->initial_delay_s = liveness ? 5 : 0;
    return;
  }
  json_t *http = json_object_get(p, "httpGet"), *tcp = json_object_get(p, "tcpSocket"),
         *ex = json_object_get(p, "exec");
  if (json_is_object(http)) {
    out->type = SS_PROBE_HTTP;
    const char *path = json_string_value(json_object_get(http, "path"));
    snprintf(out->path, sizeof out->path, "%s", path ? path : "/");
    out->port = probe_port(json_object_get(http, "port"));
  } else if (json_is_object(tcp)) {
    out->type = SS_PROBE_TCP;
    out->port = probe_port(json_object_get(tcp, "port"));
  } else if (json_is_object(ex) && json_is_array(json_object_get(ex, "command"))) {
    out->type = SS_PROBE_EXEC;
    out->exec_argv = str_vec(json_object_get(ex, "command"));
  }
  out->initial_delay_s = (int)json_integer_value(json_object_get(p, "initialDelaySeconds"));
  out->period_s = (int)json_integer_value(json_object_get(p, "periodSeconds"));
  out->timeout_s = (int)json_integer_value(json_object_get(p, "timeoutSeconds"));
  out->success_threshold = (int)json_integer_value(json_object_get(p, "successThreshold"));
  out->failure_threshold = (int)json_integer_value(json_object_get(p, "failureThreshold"));
}

static char **build_env(const struct ss_sdep *s, const struct ss_predictor *p,
                        const struct ss_container *k, const json_t *container_json) {
  json_t *env = json_array();
  char buf[4096];
  const struct ss_graph_node *node = ss_graph_find(&p->graph, k->name);
  char *params = node && node->parameters ? json_dumps(node->parameters, JSON_COMPACT) : NULL;
  snprintf(buf, sizeof buf, "PREDICTIVE_UNIT_ID=%s", k->name);
  json_array_append_new(env, json_string(buf));
  snprintf(buf, sizeof buf, "PREDICTIVE_UNIT_IMAGE=%s", k->image ? k->image : "");
  json_array_append_new(env, json_string(buf));
  snprintf(buf, sizeof buf, "PREDICTOR_ID=%s", p->name);
  json_array_append_new(env, json_string(buf));
  snprintf(buf, sizeof buf, "SELDON_DEPLOYMENT_ID=%s", s->name);
  json_array_append_new(env, json_string(buf));
  snprintf(buf, sizeof buf, "PREDICTIVE_UNIT_PARAMETERS=%s", params ? params : "[]");
  json_array_append_new(env, json_string(buf));
  free(params);
  size_t i;
  json_t *e;
  json_array_foreach(json_object_get(container_json, "env"), i, e) {
    const char *name = json_string_value(json_object_get(e, "name"));
    const char *value = json_string_value(json_object_get(e, "value"));
    if (name && value) {
      snprintf(buf, sizeof buf, "%s=%s", name, value);
      json_array_append_new(env, json_string(buf));
    }
  }
  char **v = str_vec(env);
  json_decref(env);
  return v;
}

struct rs_plan {
  char name[SS_RS_NAME_LEN];     /* the runtime's key: "<namespace>.<display>" */
  char display[SS_RS_NAME_LEN];  /* the replica set's name, as Seldon names Deployments */
  int replicas;
  bool failed;
  bool refused;                  /* failed because the runtime refused it: what ran, runs */
  bool autoscaled;               /* an autoscaler writes its Deployment's spec.replicas */
  char expect_rv[32];            /* the stored Deployment's resourceVersion that was read */
  char message[256];
};

/* Why ss_runtime_set refused a replica set, in a user's words. */
static void refusal(struct rs_plan *plan, int rc) {
  plan->failed = plan->refused = true;
  switch (rc) {
  case SS_ELIMIT:
    snprintf(plan->message, sizeof plan->message,
             "replica set %s: %d replicas is more than the limit of %d per replica set",
             plan->display, plan->replicas, SS_RUNTIME_MAX_REPLICAS);
    break;
  case SS_EINVALID:
    snprintf(plan->message, sizeof plan->message,
             "replica set %s: the runtime refused it (a name it cannot use, or no command)",
             plan->display);
    break;
  default:
    snprintf(plan->message, sizeof plan->message, "replica set %s: %s", plan->display,
             ss_err_msg((enum ss_err)rc));
    break;
  }
}

/* Sets up one container's replica set; fills plan. */
/* Replicas a componentSpec container runs: the rule of ownership.h. An
 * autoscaled one runs its stored Deployment's spec.replicas (the
 * autoscaler's to write), remembering the resourceVersion read so that
 * storing the Deployment again never overwrites a newer scale. */
static int desired_replicas(struct ss_control *c, const char *ns, const struct ss_sdep *s,
                            const struct ss_predictor *p, const struct ss_component_spec *cs,
                            struct rs_plan *plan) {
  struct ss_replicas_in in = {ss_component_replicas(s, p, cs), cs->keda || cs->hpa, -1};
  plan->autoscaled = in.autoscaled;
  plan->expect_rv[0] = '\0';
  json_t *d = NULL;
  if (in.autoscaled &&
      ss_store_get(c->cfg.store, SS_DEPLOYMENTS_KIND, ns, plan->display, &d, NULL) == SS_EOK) {
    const json_t *md = json_object_get(d, "metadata");
    json_t *r = json_object_get(json_object_get(d, "spec"), "replicas");
    if (json_is_integer(r))
      in.stored = (int32_t)json_integer_value(r);
    snprintf(plan->expect_rv, sizeof plan->expect_rv, "%s",
             json_string_value(json_object_get(md, "resourceVersion"))
                 ? json_string_value(json_object_get(md, "resourceVersion"))
                 : "");
  }
  json_decref(d);
  return ss_replicas_for_deployment(&in);
}

static void plan_container(struct ss_control *c, const json_t *obj, const struct ss_sdep *s,
                           const struct ss_predictor *p, const struct ss_component_spec *cs,
                           size_t ci, const json_t *cont_json, struct rs_plan *plan) {
  const struct ss_container *k = &cs->containers[ci];
  const char *ns = json_string_value(json_object_get(json_object_get(obj, "metadata"), "namespace"));
  if (cs->n_containers == 1)
    snprintf(plan->display, sizeof plan->display, "%s", cs->rs_name);
  else
    snprintf(plan->display, sizeof plan->display, "%s-%s", cs->rs_name, k->name ? k->name : "");
  /* Names are unique per namespace, as in Kubernetes; namespaces and names
   * are DNS labels, so the dot cannot be part of either. */
  snprintf(plan->name, sizeof plan->name, "%s.%s", ns ? ns : "default", plan->display);
  plan->replicas = desired_replicas(c, ns ? ns : "default", s, p, cs, plan);
  json_t *argv = ss_image_map_resolve(c->cfg.images, k->image);
  if (!argv) {
    plan->failed = true;
    snprintf(plan->message, sizeof plan->message,
             "image \"%s\" of container \"%s\" has no command: add it to the image map "
             "(serve --image-map FILE)",
             k->image ? k->image : "", k->name ? k->name : "");
    return;
  }
  /* container command/args after the mapped command, as a Dockerfile's CMD would be */
  size_t i;
  json_t *a;
  json_array_foreach(json_object_get(cont_json, "args"), i, a) if (json_is_string(a))
      json_array_append(argv, a);
  struct ss_rs_template t = {0};
  t.argv = str_vec(argv);
  json_decref(argv);
  t.env = build_env(s, p, k, cont_json);
  read_probe(json_object_get(cont_json, "readinessProbe"), &t.readiness, false);
  read_probe(json_object_get(cont_json, "livenessProbe"), &t.liveness, true);
  t.grace_seconds = (int)cs->termination_grace_seconds;
  t.cpu_request_milli = k->has_cpu_request ? k->cpu_request.milli : 0;
  t.memory_request_bytes = k->has_memory_request ? k->memory_request.milli / 1000 : 0;
  int rc = t.argv && t.env ? ss_runtime_set(c->cfg.runtime, plan->name, &t, plan->replicas)
                           : SS_ENOMEM;
  if (rc != SS_EOK)
    refusal(plan, rc);
  free_vec(t.argv);
  free_vec(t.env);
  free_vec(t.readiness.exec_argv);
  free_vec(t.liveness.exec_argv);
}

/* ---- status ---- */

static json_t *condition(const json_t *old_status, const char *type, bool ok,
                         const char *reason, const char *message) {
  const char *st = ok ? "True" : "False";
  char ts[32];
  now_rfc3339(ts, sizeof ts);
  const char *since = ts;
  size_t i;
  json_t *oc;
  json_array_foreach(json_object_get(old_status, "conditions"), i, oc) {
    const char *t = json_string_value(json_object_get(oc, "type"));
    const char *s = json_string_value(json_object_get(oc, "status"));
    const char *lt = json_string_value(json_object_get(oc, "lastTransitionTime"));
    if (t && s && lt && strcmp(t, type) == 0 && strcmp(s, st) == 0)
      since = lt; /* unchanged: keep when it last changed */
  }
  return json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", type, "status", st, "reason", reason,
                   "message", message, "lastTransitionTime", since);
}

/* Logs a failed store call: one line, again only when it differs from
 * the last one logged or SS_CONTROL_RELOG_MS later (a pass retries it as
 * often as every few milliseconds). */
static void store_failed(struct ss_control *c, const char *event, const char *ns,
                         const char *name, enum ss_err rc, const struct ss_error *err) {
  char what[768], q[600];
  snprintf(what, sizeof what, "event=%s sdep=%s/%s error=%s", event, ns ? ns : "",
           name ? name : "", log_quote(err->msg[0] ? err->msg : ss_err_msg(rc), q, sizeof q));
  int64_t now = mono_ms();
  if (strcmp(what, c->store_failure) == 0 && now - c->store_failure_ms < SS_CONTROL_RELOG_MS) {
    c->store_failure_repeats++;
    return;
  }
  fprintf(stderr, "%s repeated=%u\n", what, c->store_failure_repeats);
  snprintf(c->store_failure, sizeof c->store_failure, "%s", what);
  c->store_failure_ms = now;
  c->store_failure_repeats = 0;
}

static uint64_t sig_add(uint64_t h, const char *s, uint64_t v);

/* Logs that a deployment failed, and why: once per reason while it stays
 * failed in this process (a restarted daemon says it again). */
static void log_failed(struct ss_control *c, const json_t *obj, const char *why) {
  json_t *md = json_object_get(obj, "metadata");
  const char *ns = json_string_value(json_object_get(md, "namespace"));
  const char *name = json_string_value(json_object_get(md, "name"));
  const char *uid = json_string_value(json_object_get(md, "uid"));
  uint64_t h = sig_add(0, why, 0);
  struct failing *f = NULL;
  for (size_t i = 0; uid && i < c->n_failing && !f; i++)
    if (strcmp(c->failing[i].uid, uid) == 0)
      f = &c->failing[i];
  if (!f && uid) {
    struct failing *v = realloc(c->failing, (c->n_failing + 1) * sizeof *v);
    if (v) {
      c->failing = v;
      f = &c->failing[c->n_failing++];
      memset(f, 0, sizeof *f);
      snprintf(f->uid, sizeof f->uid, "%s", uid);
      f->why = h + 1; /* differs: logged below */
    }
  }
  if (f)
    f->seen = true;
  if (f && f->why == h)
    return;
  if (f)
    f->why = h;
  char q[600];
  fprintf(stderr, "event=deployment_failed sdep=%s/%s reason=%s\n", ns ? ns : "",
          name ? name : "", log_quote(why, q, sizeof q));
}

/* Forgets the failures of deployments not failed in the pass that ended. */
static void failing_sweep(struct ss_control *c) {
  for (size_t i = 0; i < c->n_failing;) {
    if (!c->failing[i].seen) {
      c->failing[i] = c->failing[--c->n_failing];
    } else {
      c->failing[i].seen = false;
      i++;
    }
  }
}

static void write_status(struct ss_control *c, const json_t *obj, const struct rs_plan *plans,
                         size_t n_plans, const char *decode_error) {
  json_t *md = json_object_get(obj, "metadata");
  const char *ns = json_string_value(json_object_get(md, "namespace"));
  const char *name = json_string_value(json_object_get(md, "name"));
  json_t *old = json_object_get(obj, "status");
  json_t *deps = json_object();
  int total = 0, want = 0;
  bool all_ready = true, failed = decode_error != NULL;
  char why[512] = "";
  if (decode_error)
    snprintf(why, sizeof why, "%s", decode_error);
  for (size_t i = 0; i < n_plans; i++) {
    struct ss_rs_status st = {0};
    bool known = ss_runtime_status(c->cfg.runtime, plans[i].name, &st);
    if (plans[i].failed || (known && st.failed)) {
      failed = true;
      if (!why[0])
        snprintf(why, sizeof why, "%s", plans[i].failed ? plans[i].message : st.message);
    }
    int ready = known ? st.ready : 0;
    total += known ? st.running : 0;
    want += plans[i].replicas;
    if (ready < plans[i].replicas || (known && st.updated < plans[i].replicas))
      all_ready = false;
    json_object_set_new(deps, plans[i].display,
                        json_pack("{s:i, s:i, s:i}", "replicas", known ? st.running : 0,
                                  "availableReplicas", ready, "desiredReplicas",
                                  plans[i].replicas));
  }
  const char *state = failed ? "Failed" : all_ready ? "Available" : "Creating";
  if (failed) /* the status and an event say it; the log too, once */
    log_failed(c, obj, why);
  if (!failed && !all_ready)
    snprintf(why, sizeof why, "waiting for replicas to be ready (%d of %d running)", total, want);
  char url[512] = "";
  if (c->cfg.gateway_base && ns && name)
    snprintf(url, sizeof url, "%s/seldon/%s/%s/api/v1.0/predictions", c->cfg.gateway_base, ns,
             name);
  else if (n_plans) {
    struct ss_replica_info ri[8];
    size_t n = ss_runtime_replicas(c->cfg.runtime, plans[0].name, ri, 8);
    for (size_t i = 0; i < n && i < 8 && !url[0]; i++)
      if (ri[i].phase == SS_REPLICA_READY)
        snprintf(url, sizeof url, "http://127.0.0.1:%d/api/v1.0/predictions", ri[i].port);
  }
  json_t *status = json_pack("{s:s, s:o, s:i, s:O?}", "state", state, "deploymentStatus", deps,
                             "replicas", total, "observedGeneration",
                             json_object_get(md, "generation"));
  if (why[0] && strcmp(state, "Available") != 0)
    json_object_set_new(status, "description", json_string(why));
  if (url[0])
    json_object_set_new(status, "address", json_pack("{s:s}", "url", url));
  json_t *conds = json_array();
  json_array_append_new(conds, condition(old, "DeploymentsReady", all_ready && !failed,
                                         failed ? "DeploymentsFailed"
                                                : all_ready ? "DeploymentsAvailable"
                                                            : "DeploymentsNotReady",
                                         failed ? why : all_ready ? "All replica sets are ready"
                                                                  : why));
  json_array_append_new(conds, condition(old, "Ready", all_ready && !failed,
                                         failed ? "Failed" : all_ready ? "Available" : "Creating",
                                         failed ? why : all_ready ? "Deployment is ready" : why));
  json_object_set_new(status, "conditions", conds);
  if (!json_equal(status, old)) {
    struct ss_kind_ref k = {SS_SDEP_GROUP, "seldondeployments"};
    struct ss_error err = {0};
    enum ss_err rc = ss_store_update_status(c->cfg.store, k, ns, name, status, NULL, NULL, &err);
    if (rc && rc != SS_ENOTFOUND) /* not found: deleted since this pass listed it */
      store_failed(c, "status_write_failed", ns, name, rc, &err);
    const char *old_state = json_string_value(json_object_get(old, "state"));
    if (!old_state || strcmp(old_state, state) != 0) {
      if (failed)
        event(c, obj, "Warning", "Failed", "%s", why);
      else if (all_ready)
        event(c, obj, "Normal", "Available", "All %d replica set(s) are ready", (int)n_plans);
    }
  }
  json_decref(status);
}

/* ---- the pass ---- */

/* FNV-1a over what routing depends on, so that an unchanged pass does not
 * publish (and wake every gateway worker) again. */
static uint64_t sig_add(uint64_t h, const char *s, uint64_t v) {
  if (!h)
    h = 1469598103934665603ull;
  for (; s && *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  for (int i = 0; i < 8; i++, v >>= 8)
    h = (h ^ (v & 0xff)) * 1099511628211ull;
  return h;
}

/* The gateway's view of a replica set: its replicas and which are ready. */
static void route_replicas(struct ss_control *c, struct ss_gw_table *table, const char *ns,
                           const char *name, size_t pi, size_t ci, size_t k,
                           const struct rs_plan *plan) {
  struct ss_replica_info ri[SS_CONTROL_MAX_ROUTED];
  struct ss_gw_replica gr[SS_CONTROL_MAX_ROUTED];
  size_t n = ss_runtime_replicas(c->cfg.runtime, plan->name, ri, SS_CONTROL_MAX_ROUTED);
  if (n > SS_CONTROL_MAX_ROUTED)
    n = SS_CONTROL_MAX_ROUTED;
  for (size_t i = 0; i < n; i++) {
    snprintf(gr[i].id, sizeof gr[i].id, "%s", ri[i].id);
    gr[i].port = ri[i].port;
    gr[i].ready = ri[i].phase == SS_REPLICA_READY;
    c->route_sig = sig_add(c->route_sig, gr[i].id, (uint64_t)gr[i].port * 2 + gr[i].ready);
  }
  if (table)
    ss_gw_table_replicas(table, ns, name, pi, ci, k, plan->name, gr, n);
  int running = 0, ready = 0, inflight = 0;
  struct timespec mts, wts;
  clock_gettime(CLOCK_MONOTONIC, &mts);
  clock_gettime(CLOCK_REALTIME, &wts);
  int64_t mono = (int64_t)mts.tv_sec * 1000 + mts.tv_nsec / 1000000;
  double wall_s = (double)wts.tv_sec + (double)wts.tv_nsec / 1e9;
  for (size_t i = 0; i < n; i++) {
    running += ri[i].pid != 0;
    ready += gr[i].ready;
    if (c->cfg.gateway)
      inflight += ss_gateway_inflight(c->cfg.gateway, ri[i].id);
    const char *pod = strlen(ri[i].id) > strlen(ns) + 1 ? ri[i].id + strlen(ns) + 1 : ri[i].id;
    /* times as wall-clock seconds, the window's clock */
    double started = wall_s - (double)(mono - ri[i].started_ms) / 1000.0;
    double ready_at = ri[i].ready_ms ? wall_s - (double)(mono - ri[i].ready_ms) / 1000.0 : 0;
    ss__gauges_replica(c->gauges, ns, name, plan->display, pod, ri[i].cpu_seconds,
                       (double)ri[i].rss_bytes, gr[i].ready, ri[i].started_ms ? started : 0,
                       ready_at);
  }
  ss__gauges_rs(c->gauges, ns, name, plan->display, plan->replicas, running, ready, inflight,
                c->cfg.gateway ? ss_gateway_queued(c->cfg.gateway, plan->name) : 0);
}

/* Stores the Deployments of the replica sets planned for obj (none when it
 * has errors: then what it owned is collected). */
static void sync_deployments(struct ss_control *c, const json_t *obj,
                             const struct ss_resource *res, const struct rs_plan *plans,
                             size_t n_plans) {
  struct ss_deploy_run *runs = calloc(n_plans ? n_plans : 1, sizeof *runs);
  struct ss_rs_status *st = calloc(n_plans ? n_plans : 1, sizeof *st);
  size_t n = 0;
  for (size_t i = 0; runs && st && i < n_plans; i++) {
    if (plans[i].failed && !plans[i].refused)
      continue;
    bool known = ss_runtime_status(c->cfg.runtime, plans[i].name, &st[n]);
    runs[n] = (struct ss_deploy_run){plans[i].display, plans[i].replicas, known ? &st[n] : NULL,
                                     plans[i].expect_rv};
    n++;
  }
  struct ss_error err = {0};
  if (runs && st && ss_deployments_sync(c->deployments, obj, res, runs, n, &err)) {
    const json_t *md = json_object_get(obj, "metadata");
    fprintf(stderr, "event=deployment_write_failed sdep=%s/%s error=\"%s\"\n",
            json_string_value(json_object_get(md, "namespace")),
            json_string_value(json_object_get(md, "name")), err.msg);
  }
  free(runs);
  free(st);
  /* what the pods of each Deployment carry (ss_control_pods) */
  const char *ns = json_string_value(json_object_get(json_object_get(obj, "metadata"), "namespace"));
  for (size_t i = 0; ns && i < n_plans; i++) {
    char uid[64], hash[16];
    if (!ss_deployments_identity(c->deployments, ns, plans[i].display, uid, hash))
      continue;
    pthread_mutex_lock(&c->mu);
    struct owned *o = find_owned(c, plans[i].name);
    if (o) {
      snprintf(o->deploy_uid, sizeof o->deploy_uid, "%s", uid);
      snprintf(o->tmpl_hash, sizeof o->tmpl_hash, "%s", hash);
    }
    pthread_mutex_unlock(&c->mu);
  }
}

static void reconcile_sdep(struct ss_control *c, json_t *obj, struct ss_gw_table *table) {
  struct ss_resource *res = calloc(1, sizeof *res);
  struct rs_plan *plans = NULL;
  size_t n_plans = 0;
  const char *decode_error = NULL;
  char errbuf[512];
  if (!res)
    return;
  if (ss_resource_decode(obj, NULL, "", NULL, res)) {
    /* not even decoded (out of memory): what it owns stays as it is */
    ss_deployments_keep_owner(c->deployments,
                              json_string_value(json_object_get(json_object_get(obj, "metadata"), "uid")));
    ss_resource_free(res);
    free(res);
    return;
  }
  if (res->diags.errors) {
    snprintf(errbuf, sizeof errbuf, "invalid: %s: %s", res->diags.v[0].path, res->diags.v[0].msg);
    decode_error = errbuf;
  }
  const struct ss_sdep *s = &res->u.sdep;
  const char *ns = ss_resource_namespace(res);
  const char *name = s->name;
  /* the table owns the decoded resource from here on (its graph is routed) */
  bool routed = !decode_error && table && ss_gw_table_add(table, res) == SS_EOK;
  if (routed) {
    const char *rv = json_string_value(
        json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
    c->route_sig = sig_add(c->route_sig, ns, 0);
    c->route_sig = sig_add(c->route_sig, rv, 1);
  }
  size_t cap = 0;
  for (size_t pi = 0; !decode_error && pi < s->n_predictors; pi++)
    for (size_t ci = 0; ci < s->predictors[pi].n_components; ci++)
      cap += s->predictors[pi].components[ci].n_containers;
  plans = calloc(cap ? cap : 1, sizeof *plans);
  if (!plans)
    goto out;
  json_t *owner = owner_ref(obj);
  for (size_t pi = 0; !decode_error && pi < s->n_predictors; pi++) {
    const struct ss_predictor *p = &s->predictors[pi];
    json_t *pj = json_array_get(json_object_get(json_object_get(obj, "spec"), "predictors"), pi);
    for (size_t ci = 0; ci < p->n_components; ci++) {
      const struct ss_component_spec *cs = &p->components[ci];
      json_t *conts = json_object_get(
          json_object_get(json_array_get(json_object_get(pj, "componentSpecs"), ci), "spec"),
          "containers");
      for (size_t k = 0; k < cs->n_containers; k++) {
        struct rs_plan *plan = &plans[n_plans++];
        plan_container(c, obj, s, p, cs, k, json_array_get(conts, k), plan);
        pthread_mutex_lock(&c->mu);
        struct owned *o = find_owned(c, plan->name);
        if (!o)
          o = add_owned(c, plan->name);
        /* desired is what the runtime accepted: -1 until it first did, and
         * for an owner that is not the one it was (deleted and created
         * again under the same name: another uid) */
        int before = o && same_uid(o->owner, owner) ? o->desired : -1;
        if (o) {
          o->seen = true;
          snprintf(o->ns, sizeof o->ns, "%s", ns ? ns : "");
          snprintf(o->name, sizeof o->name, "%s", s->name ? s->name : "");
          snprintf(o->container, sizeof o->container, "%s", cs->containers[k].name);
          snprintf(o->image, sizeof o->image, "%s",
                   cs->containers[k].image ? cs->containers[k].image : "");
          json_decref(o->owner);
          o->owner = json_incref(owner);
          if (!plan->failed)
            o->desired = plan->replicas;
          o->failed = plan->failed;
          snprintf(o->message, sizeof o->message, "%s", plan->failed ? plan->message : "");
        }
        pthread_mutex_unlock(&c->mu);
        /* a refused change leaves running what ran: still routed */
        if (!plan->failed || plan->refused)
          route_replicas(c, routed ? table : NULL, ns ? ns : "default", name, pi, ci, k, plan);
        /* no Created or Scaled event for what did not happen */
        if (!plan->failed && before < 0)
          event(c, obj, "Normal", "Created", "Created replica set %s with %d replica(s)",
                plan->display, plan->replicas);
        else if (!plan->failed && before != plan->replicas)
          event(c, obj, "Normal", "ScalingReplicaSet", "Scaled %s replica set %s to %d",
                plan->replicas > before ? "up" : "down", plan->display, plan->replicas);
      }
    }
  }
  json_decref(owner);
  write_status(c, obj, plans, n_plans, decode_error);
  sync_deployments(c, obj, res, plans, n_plans);
out:
  free(plans);
  if (!routed) {
    ss_resource_free(res);
    free(res);
  }
}

struct sweep {
  struct ss_control *c;
  char (*gone)[SS_RS_NAME_LEN];
  size_t n, cap;
};

static void collect(void *ctx, const char *rs) {
  struct sweep *sw = ctx;
  struct owned *o = find_owned(sw->c, rs);
  if (o && o->seen)
    return;
  if (sw->n == sw->cap) {
    size_t cap = sw->cap ? sw->cap * 2 : 16;
    void *g = realloc(sw->gone, cap * sizeof *sw->gone);
    if (!g)
      return;
    sw->gone = g;
    sw->cap = cap;
  }
  snprintf(sw->gone[sw->n++], sizeof sw->gone[0], "%s", rs);
}

void ss_control_tick(struct ss_control *c, int64_t now_ms) {
  (void)now_ms;
  json_t *items = NULL;
  uint64_t rv;
  struct ss_kind_ref k = {SS_SDEP_GROUP, "seldondeployments"};
  struct ss_error err = {0};
  enum ss_err rc = ss_store_list(c->cfg.store, k, NULL, &items, &rv, &err);
  if (rc) {
    store_failed(c, "list_failed", "", "", rc, &err);
    return;
  }
  pthread_mutex_lock(&c->mu);
  for (size_t i = 0; i < c->n_owned; i++)
    c->owned[i].seen = false;
  pthread_mutex_unlock(&c->mu);
  struct ss_gw_table *table = c->cfg.gateway ? ss_gw_table_new() : NULL;
  size_t i;
  json_t *obj;
  ss__gauges_begin(c->gauges);
  c->route_sig = 0;
  json_array_foreach(items, i, obj) reconcile_sdep(c, obj, table);
  ss__gauges_end(c->gauges);
  failing_sweep(c);
  ss_deployments_collect(c->deployments);
  json_decref(items);
  if (table && c->published && c->route_sig == c->last_route_sig) {
    ss_gw_table_free(table); /* nothing the gateway routes by changed */
  } else if (table) {
    ss_gateway_publish(c->cfg.gateway, table);
    c->last_route_sig = c->route_sig;
    c->published = true;
  }
  /* what no resource wants any more goes */
  struct sweep sw = {.c = c};
  pthread_mutex_lock(&c->mu);
  ss_runtime_each(c->cfg.runtime, collect, &sw);
  pthread_mutex_unlock(&c->mu);
  for (size_t g = 0; g < sw.n; g++)
    ss_runtime_remove(c->cfg.runtime, sw.gone[g]);
  free(sw.gone);
  pthread_mutex_lock(&c->mu);
  for (size_t j = 0; j < c->n_owned;) {
    struct ss_rs_status st;
    if (!c->owned[j].seen && !ss_runtime_status(c->cfg.runtime, c->owned[j].rs, &st)) {
      json_decref(c->owned[j].owner);
      c->owned[j] = c->owned[--c->n_owned];
    } else {
      j++;
    }
  }
  pthread_mutex_unlock(&c->mu);
}

/* ---- pods ---- */

static const char *phase_name(enum ss_replica_phase p) {
  switch (p) {
  case SS_REPLICA_STARTING: return "Pending";
  case SS_REPLICA_READY:
  case SS_REPLICA_UNREADY:
  case SS_REPLICA_DRAINING:
  case SS_REPLICA_STOPPING: return "Running";
  case SS_REPLICA_BACKOFF: return "Running";
  case SS_REPLICA_FAILED: return "Failed";
  }
  return "Unknown";
}

json_t *ss_control_pods(struct ss_control *c, const char *ns) {
  json_t *pods = json_array();
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  int64_t now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
  pthread_mutex_lock(&c->mu);
  for (size_t i = 0; i < c->n_owned; i++) {
    struct owned *o = &c->owned[i];
    if (ns && strcmp(ns, o->ns) != 0)
      continue;
    struct ss_replica_info ri[64];
    size_t n = ss_runtime_replicas(c->cfg.runtime, o->rs, ri, 64);
    for (size_t j = 0; j < n && j < 64; j++) {
      bool ready = ri[j].phase == SS_REPLICA_READY;
      size_t skip = strlen(o->ns) + 1; /* the pod's name has no namespace prefix */
      const char *pod_name = strlen(ri[j].id) > skip ? ri[j].id + skip : ri[j].id;
      const char *state = ri[j].phase == SS_REPLICA_BACKOFF ? "waiting" : "running";
      char port[16], created[32];
      snprintf(port, sizeof port, "%d", ri[j].port);
      time_t born = time(NULL) - (time_t)((now_ms - ri[j].started_ms) / 1000);
      struct tm tm;
      gmtime_r(&born, &tm);
      strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
      json_t *pod = json_pack(
          "{s:s, s:s, s:{s:s, s:s, s:s, s:{s:s, s:s, s:s}, s:{s:s}}, s:{s:[{s:s, s:s}]},"
          " s:{s:s, s:s, s:[{s:s, s:s, s:s, s:b, s:i, s:b, s:{s:{}}}]}}",
          "apiVersion", "v1", "kind", "Pod", "metadata", "name", pod_name, "namespace", o->ns,
          "creationTimestamp", created, "labels", "seldon-deployment-id", o->name, "app",
          o->rs + strlen(o->ns) + 1,
          "seldon.io/model", "true", "annotations", "servescale.io/port", port, "spec",
          "containers", "name",
          o->container, "image", o->image, "status", "phase", phase_name(ri[j].phase), "podIP",
          "127.0.0.1", "containerStatuses", "name", o->container, "image", o->image, "imageID", "", "ready", ready,
          "restartCount", ri[j].restarts, "started", ri[j].pid != 0, "state", state);
      if (o->deploy_uid[0]) { /* owned by its Deployment, as through a ReplicaSet */
        json_t *md = json_object_get(pod, "metadata");
        json_object_set_new(json_object_get(md, "labels"), "pod-template-hash",
                            json_string(o->tmpl_hash));
        json_object_set_new(md, "ownerReferences",
                            json_pack("[{s:s, s:s, s:s, s:s, s:b, s:b}]", "apiVersion", "apps/v1",
                                      "kind", "Deployment", "name", o->rs + strlen(o->ns) + 1,
                                      "uid", o->deploy_uid, "controller", 1,
                                      "blockOwnerDeletion", 1));
      }
      json_array_append_new(pods, pod);
    }
  }
  pthread_mutex_unlock(&c->mu);
  return pods;
}

int ss_control_pod_log(struct ss_control *c, const char *ns, const char *pod, char *buf,
                       size_t size) {
  int rc = -1;
  pthread_mutex_lock(&c->mu);
  char id[SS_REPLICA_ID_LEN + 256];
  snprintf(id, sizeof id, "%s.%s", ns ? ns : "default", pod);
  for (size_t i = 0; i < c->n_owned && rc; i++) {
    struct owned *o = &c->owned[i];
    size_t l = strlen(o->rs);
    if ((ns && strcmp(ns, o->ns) != 0) || strncmp(id, o->rs, l) != 0 || id[l] != '-')
      continue;
    if (ss_runtime_log_path(c->cfg.runtime, id, buf, size))
      rc = 0;
  }
  pthread_mutex_unlock(&c->mu);
  return rc;
}

int ss_control_delete_pod(struct ss_control *c, const char *ns, const char *pod) {
  char id[SS_REPLICA_ID_LEN + 256], rs[SS_RS_NAME_LEN] = "";
  snprintf(id, sizeof id, "%s.%s", ns ? ns : "default", pod);
  pthread_mutex_lock(&c->mu);
  for (size_t i = 0; i < c->n_owned && !rs[0]; i++) {
    const struct owned *o = &c->owned[i];
    size_t l = strlen(o->rs);
    if ((!ns || strcmp(ns, o->ns) == 0) && strncmp(id, o->rs, l) == 0 && id[l] == '-')
      snprintf(rs, sizeof rs, "%s", o->rs);
  }
  pthread_mutex_unlock(&c->mu);
  /* the runtime's events come back through ss_control_runtime_event,
   * which takes c->mu: not held here */
  return rs[0] && ss_runtime_delete_replica(c->cfg.runtime, rs, id) ? 0 : -1;
}
