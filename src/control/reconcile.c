/* reconcile.c: SeldonDeployments -> replica sets -> status. See control.h.
 *
 * Every pass goes over every stored SeldonDeployment, as a list would give
 * them; the list is read once and then kept current from a watch on the
 * store, and what is worked out from one version of a resource (decoding,
 * validation, its templates) is kept with it until the next version, so
 * that a pass over hundreds of unchanged resources costs microseconds
 * each, not a parse and a decode. The decoded resource is shared with the
 * routing tables (ss_gw_res); a table is built only when what it routes by
 * changed. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control/control.h"
#include "common/clock.h"
#include "control/core2.h"
#include "control/deployments.h"
#include "control/scalers.h"
#include "control/template.h"
#include "control/workloads.h"
#include "control/ownership.h"
#include "control/gauges.h"
#include "common/strmap.h"
#include "model/names.h"
#include "model/resource.h"

#define SS_MAX_OWNED 4096
#define SS_CONTROL_MAX_ROUTED 1024 /* replicas of one replica set the gateway sees */
/* The same failed status write is logged again at most this often. */
#define SS_CONTROL_RELOG_MS 10000

/* A replica set and the resource that owns it. */
struct owned {
  char rs[SS_RS_NAME_LEN];       /* the runtime's key: "<namespace>.<replica set>" */
  char ns[SS_NAME_LEN], name[SS_NAME_LEN];
  json_t *owner;   /* {apiVersion, kind, metadata{name, namespace, uid}} for events */
  char container[SS_NAME_LEN], image[SS_IMAGE_LEN];
  char deploy_uid[64], tmpl_hash[16]; /* its Deployment's: what its pods carry */
  json_t *pod_labels; /* a user's Deployment's template labels; NULL: Seldon's */
  int desired;     /* -1 before the first pass that set it */
  bool seen;       /* wanted by the current pass */
  bool failed;
  char message[256];
};

struct sdep;
static void sdep_free(struct sdep *e);

struct ss_control {
  struct ss_control_config cfg;
  struct ss__gauges *gauges;
  uint64_t route_sig, last_route_sig; /* what the gateway was last given */
  bool published;
  struct ss_deployments *deployments; /* the apps/v1 Deployments it stores */
  struct ss_scalers *scalers;         /* its HPAs and ScaledObjects; who aims at what */
  struct ss_workloads *workloads;     /* the Deployments no SeldonDeployment controls */
  struct ss_core2 *core2;             /* Seldon Core 2's Models and Servers */
  pthread_mutex_t mu;
  struct owned **owned;      /* each allocated on its own: owned_by points at them */
  size_t n_owned;
  struct ss_strmap owned_by; /* rs -> its struct owned */
  /* the stored SeldonDeployments (tick's thread only): listed once, then
   * kept current from a watch on the store, in the list's order
   * (namespace, then name) */
  struct sdep **sdeps;
  size_t n_sdeps, cap_sdeps;
  struct ss_watch *watch;    /* NULL: list again at the next pass */
  bool table_failed;         /* the last table could not be built whole */
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

struct ss_control *ss_control_new(const struct ss_control_config *cfg) {
  struct ss_control *c = calloc(1, sizeof *c);
  if (!c)
    return NULL;
  c->cfg = *cfg;
  if ((cfg->metrics && !(c->gauges = ss__gauges_new(cfg->metrics))) ||
      !(c->deployments = ss_deployments_new(cfg->store)) ||
      !(c->scalers = ss_scalers_new(cfg->store)) ||
      !(c->workloads = ss_workloads_new(cfg->store, cfg->images)) ||
      !(c->core2 = ss_core2_new(&(struct ss_core2_config){.store = cfg->store,
                                                          .runtime = cfg->runtime,
                                                          .gateway = cfg->gateway,
                                                          .images = cfg->images,
                                                          .metrics = cfg->metrics,
                                                          .scalers = c->scalers}))) {
    ss_core2_free(c->core2);
    ss__gauges_free(c->gauges);
    ss_deployments_free(c->deployments);
    ss_scalers_free(c->scalers);
    ss_workloads_free(c->workloads);
    free(c);
    return NULL;
  }
  pthread_mutex_init(&c->mu, NULL);
  return c;
}

void ss_control_free(struct ss_control *c) {
  if (!c)
    return;
  for (size_t i = 0; i < c->n_owned; i++) {
    json_decref(c->owned[i]->owner);
    json_decref(c->owned[i]->pod_labels);
    free(c->owned[i]);
  }
  free(c->owned);
  ss_strmap_fini(&c->owned_by);
  for (size_t i = 0; i < c->n_sdeps; i++)
    sdep_free(c->sdeps[i]);
  free(c->sdeps);
  ss_watch_close(c->watch);
  ss__gauges_free(c->gauges);
  ss_deployments_free(c->deployments);
  ss_scalers_free(c->scalers);
  ss_workloads_free(c->workloads);
  ss_core2_free(c->core2);
  free(c->failing);
  pthread_mutex_destroy(&c->mu);
  free(c);
}

static struct owned *find_owned(struct ss_control *c, const char *rs) {
  return ss_strmap_get(&c->owned_by, rs);
}

static struct owned *add_owned(struct ss_control *c, const char *rs) {
  if (c->n_owned >= SS_MAX_OWNED)
    return NULL;
  struct owned **v = realloc(c->owned, (c->n_owned + 1) * sizeof *v);
  if (!v)
    return NULL;
  c->owned = v;
  struct owned *o = calloc(1, sizeof *o);
  if (!o)
    return NULL;
  snprintf(o->rs, sizeof o->rs, "%s", rs);
  o->desired = -1;
  if (!ss_strmap_put(&c->owned_by, o->rs, o)) {
    free(o);
    return NULL;
  }
  c->owned[c->n_owned++] = o;
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

/* The environment Seldon's operator gives a model container: its unit,
 * image, predictor, deployment and the graph node's parameters. */
static json_t *seldon_env(const struct ss_sdep *s, const struct ss_predictor *p,
                          const struct ss_container *k) {
  const struct ss_graph_node *node = ss_graph_find(&p->graph, k->name);
  char *params = node && node->parameters ? json_dumps(node->parameters, JSON_COMPACT) : NULL;
  json_t *env = json_pack("[s+, s+, s+, s+, s+]", "PREDICTIVE_UNIT_ID=", k->name,
                          "PREDICTIVE_UNIT_IMAGE=", k->image ? k->image : "",
                          "PREDICTOR_ID=", p->name, "SELDON_DEPLOYMENT_ID=", s->name,
                          "PREDICTIVE_UNIT_PARAMETERS=", params ? params : "[]");
  free(params);
  return env;
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

/* ---- the stored SeldonDeployments, cached ---- */

/* One componentSpec container of a cached SeldonDeployment: what is worked
 * out once per stored version (names, the template), and this pass's plan. */
struct container {
  size_t pi, ci, k;              /* predictor, componentSpec, container */
  char name[SS_RS_NAME_LEN];     /* the runtime's key: "<namespace>.<display>" */
  char display[SS_RS_NAME_LEN];  /* the replica set's name, as Seldon names Deployments */
  bool no_command;               /* its image has no command: message says why */
  char message[256];
  struct ss_rs_template t;       /* what it runs; its vectors are owned */
  bool t_nomem;                  /* the template could not be built */
  struct rs_plan plan;           /* this pass's */
  bool routed;                   /* this pass: gr is what the gateway routes to */
  struct ss_gw_replica *gr;
  size_t n_gr, cap_gr;
};

/* A stored SeldonDeployment (its latest version) and, while that version
 * stays the same, what was worked out from it: decoding, validation and
 * the templates are done once per version, not once per pass. */
struct sdep {
  char *ns, *name;          /* metadata.namespace ("" when missing) and name: the order */
  json_t *obj;              /* decoding fills in defaults, as on every pass before */
  bool derived;             /* what follows is obj's */
  struct ss_gw_res *res;    /* decoded; shared with the routing tables */
  char *decode_error;       /* "invalid: <path>: <message>", or NULL */
  json_t *owner;            /* {apiVersion, kind, metadata{name, namespace, uid}} for events */
  struct container *cont;   /* none when it has errors */
  size_t n_cont;
  bool routed;              /* this pass: routed by the gateway */
  const char *route_ns, *route_name; /* as the table knows it (inside res) */
  /* The status last found already stored, and a signature of what it is
   * made of besides obj (plans, the runtime's view): while both stay the
   * same it would be built the same and not written, so it is not built. */
  bool status_memo;
  uint64_t status_sig;
  char *status_failed_why;  /* when that status says Failed: why (logged once) */
  bool seen;                /* in the list being applied */
};


static void status_forget(struct sdep *e) {
  e->status_memo = false;
  free(e->status_failed_why);
  e->status_failed_why = NULL;
}

/* Forgets what was worked out from obj (a new version came). */
static void sdep_underive(struct sdep *e) {
  for (size_t i = 0; i < e->n_cont; i++) {
    ss__template_free(&e->cont[i].t);
    free(e->cont[i].gr);
  }
  free(e->cont);
  e->cont = NULL;
  e->n_cont = 0;
  ss_gw_res_unref(e->res);
  e->res = NULL;
  free(e->decode_error);
  e->decode_error = NULL;
  json_decref(e->owner);
  e->owner = NULL;
  e->routed = false;
  status_forget(e);
  e->derived = false;
}

static void sdep_free(struct sdep *e) {
  if (!e)
    return;
  sdep_underive(e);
  json_decref(e->obj);
  free(e->ns);
  free(e->name);
  free(e);
}

/* The names and the template of one container (what does not change while
 * its resource does not). */
static void derive_container(struct ss_control *c, const struct sdep *e,
                             const struct ss_predictor *p, const struct ss_component_spec *cs,
                             const json_t *cont_json, struct container *k) {
  const struct ss_sdep *s = &e->res->res.u.sdep;
  const struct ss_container *kc = &cs->containers[k->k];
  const char *ns = json_string_value(json_object_get(json_object_get(e->obj, "metadata"), "namespace"));
  if (cs->n_containers == 1)
    snprintf(k->display, sizeof k->display, "%s", cs->rs_name);
  else
    snprintf(k->display, sizeof k->display, "%s-%s", cs->rs_name, kc->name ? kc->name : "");
  /* Names are unique per namespace, as in Kubernetes; namespaces and names
   * are DNS labels, so the dot cannot be part of either. */
  snprintf(k->name, sizeof k->name, "%s.%s", ns ? ns : "default", k->display);
  json_t *env = seldon_env(s, p, kc);
  if (!env || !ss__template_build(c->cfg.images, cont_json, env,
                                  (int)cs->termination_grace_seconds, &k->t, k->message,
                                  sizeof k->message)) {
    /* out of memory is tried again; an image without a command is a status */
    k->t_nomem = !env || strcmp(k->message, "out of memory") == 0;
    k->no_command = !k->t_nomem;
  }
  json_decref(env);
}

/* Decodes e->obj and works out its containers; false when out of memory
 * (then nothing is kept, and the next pass tries again). */
static bool sdep_derive(struct ss_control *c, struct sdep *e) {
  const json_t *obj = e->obj;
  if (!(e->owner = owner_ref(obj)) || !(e->res = ss_gw_res_new()) ||
      ss_resource_decode(e->obj, NULL, "", NULL, &e->res->res))
    goto nomem;
  const struct ss_resource *res = &e->res->res;
  if (res->diags.errors) {
    char errbuf[512];
    snprintf(errbuf, sizeof errbuf, "invalid: %s: %s", res->diags.v[0].path,
             res->diags.v[0].msg);
    if (!(e->decode_error = strdup(errbuf)))
      goto nomem;
    e->derived = true;
    return true;
  }
  const struct ss_sdep *s = &res->u.sdep;
  size_t cap = 0;
  for (size_t pi = 0; pi < s->n_predictors; pi++)
    for (size_t ci = 0; ci < s->predictors[pi].n_components; ci++)
      cap += s->predictors[pi].components[ci].n_containers;
  if (!(e->cont = calloc(cap ? cap : 1, sizeof *e->cont)))
    goto nomem;
  for (size_t pi = 0; pi < s->n_predictors; pi++) {
    const struct ss_predictor *p = &s->predictors[pi];
    json_t *pj = json_array_get(json_object_get(json_object_get(obj, "spec"), "predictors"), pi);
    for (size_t ci = 0; ci < p->n_components; ci++) {
      const struct ss_component_spec *cs = &p->components[ci];
      json_t *conts = json_object_get(
          json_object_get(json_array_get(json_object_get(pj, "componentSpecs"), ci), "spec"),
          "containers");
      for (size_t k = 0; k < cs->n_containers; k++) {
        struct container *kk = &e->cont[e->n_cont++];
        kk->pi = pi;
        kk->ci = ci;
        kk->k = k;
        derive_container(c, e, p, cs, json_array_get(conts, k), kk);
      }
    }
  }
  e->derived = true;
  return true;
nomem:
  sdep_underive(e);
  return false;
}

/* Where an entry goes in the list's order (namespace, then name): its index,
 * *found when it is there. */
static size_t sdep_seek(const struct ss_control *c, const char *ns, const char *name,
                        bool *found) {
  size_t lo = 0, hi = c->n_sdeps;
  *found = false;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const struct sdep *e = c->sdeps[mid];
    int cmp = strcmp(e->ns, ns);
    if (cmp == 0)
      cmp = strcmp(e->name, name);
    if (cmp == 0) {
      *found = true;
      return mid;
    }
    if (cmp < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

static const char *meta_str(const json_t *obj, const char *key) {
  return json_string_value(json_object_get(json_object_get(obj, "metadata"), key));
}

/* Whether a and b are the same version of the same object. */
static bool same_version(const json_t *a, const json_t *b) {
  const char *ra = meta_str(a, "resourceVersion"), *rb = meta_str(b, "resourceVersion");
  const char *ua = meta_str(a, "uid"), *ub = meta_str(b, "uid");
  return ra && rb && strcmp(ra, rb) == 0 && ((!ua && !ub) || (ua && ub && strcmp(ua, ub) == 0));
}

/* Takes in a stored version of a SeldonDeployment (borrowed); false when
 * out of memory. */
static bool sdep_put(struct ss_control *c, json_t *obj) {
  const char *ns = meta_str(obj, "namespace"), *name = meta_str(obj, "name");
  bool found;
  size_t at = sdep_seek(c, ns ? ns : "", name ? name : "", &found);
  if (found) {
    struct sdep *e = c->sdeps[at];
    e->seen = true;
    if (same_version(e->obj, obj))
      return true; /* what was worked out from it still holds */
    sdep_underive(e);
    json_decref(e->obj);
    e->obj = json_incref(obj);
    return true;
  }
  if (c->n_sdeps == c->cap_sdeps) {
    size_t cap = c->cap_sdeps ? c->cap_sdeps * 2 : 64;
    struct sdep **v = realloc(c->sdeps, cap * sizeof *v);
    if (!v)
      return false;
    c->sdeps = v;
    c->cap_sdeps = cap;
  }
  struct sdep *e = calloc(1, sizeof *e);
  if (!e || !(e->ns = strdup(ns ? ns : "")) || !(e->name = strdup(name ? name : ""))) {
    sdep_free(e);
    return false;
  }
  e->obj = json_incref(obj);
  e->seen = true;
  memmove(&c->sdeps[at + 1], &c->sdeps[at], (c->n_sdeps - at) * sizeof *c->sdeps);
  c->sdeps[at] = e;
  c->n_sdeps++;
  return true;
}

static void sdep_drop(struct ss_control *c, const json_t *obj) {
  const char *ns = meta_str(obj, "namespace"), *name = meta_str(obj, "name");
  bool found;
  size_t at = sdep_seek(c, ns ? ns : "", name ? name : "", &found);
  if (!found)
    return;
  sdep_free(c->sdeps[at]);
  memmove(&c->sdeps[at], &c->sdeps[at + 1], (c->n_sdeps - at - 1) * sizeof *c->sdeps);
  c->n_sdeps--;
}

/* Brings the cache up to date with the store: the changes the watch saw
 * since the last pass, or, the first time and whenever the watch fails (it
 * fell behind, the store is closing, out of memory), a whole list, from
 * whose resourceVersion a new watch goes on. Either way the pass sees every
 * stored SeldonDeployment as it is now, as a list each pass would. */
static enum ss_err sdeps_sync(struct ss_control *c, struct ss_error *err) {
  struct ss_kind_ref k = {SS_SDEP_GROUP, "seldondeployments"};
  while (c->watch) {
    enum ss_watch_type type;
    json_t *obj = NULL;
    int r = ss_watch_next(c->watch, 0, &type, &obj);
    if (r == 0)
      return SS_EOK;
    if (r < 0 || (type != SS_WATCH_DELETED && !sdep_put(c, obj))) {
      ss_watch_close(c->watch);
      c->watch = NULL;
    } else if (type == SS_WATCH_DELETED) {
      sdep_drop(c, obj);
    }
    json_decref(obj);
  }
  json_t *items = NULL;
  uint64_t rv = 0;
  enum ss_err rc = ss_store_list(c->cfg.store, k, NULL, &items, &rv, err);
  if (rc)
    return rc;
  for (size_t i = 0; i < c->n_sdeps; i++)
    c->sdeps[i]->seen = false;
  size_t i;
  json_t *obj;
  bool ok = true;
  json_array_foreach(items, i, obj) ok = ok && sdep_put(c, obj);
  json_decref(items);
  if (!ok) /* a partial cache would collect what the rest own */
    return ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
  size_t keep = 0;
  for (size_t j = 0; j < c->n_sdeps; j++) {
    if (c->sdeps[j]->seen)
      c->sdeps[keep++] = c->sdeps[j];
    else
      sdep_free(c->sdeps[j]);
  }
  c->n_sdeps = keep;
  if (ss_store_watch(c->cfg.store, k, NULL, rv, &c->watch, NULL))
    c->watch = NULL; /* listed again next pass */
  return SS_EOK;
}

/* Replicas a componentSpec container runs: the rule of ownership.h. An
 * autoscaled one runs its stored Deployment's spec.replicas (the
 * autoscaler's to write), remembering the resourceVersion read so that
 * storing the Deployment again never overwrites a newer scale. */
static int desired_replicas(struct ss_control *c, const char *ns, const struct ss_sdep *s,
                            const struct ss_predictor *p, const struct ss_component_spec *cs,
                            struct rs_plan *plan) {
  struct ss_replicas_in in = {ss_component_replicas(s, p, cs),
                              cs->keda || cs->hpa ||
                                  ss_scalers_aim_at(c->scalers, ns, "Deployment", plan->display),
                              -1};
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

/* This pass's plan for one container: its replicas, and the runtime told. */
static void plan_container(struct ss_control *c, const struct sdep *e, struct container *k) {
  struct rs_plan *plan = &k->plan;
  const struct ss_sdep *s = &e->res->res.u.sdep;
  const struct ss_predictor *p = &s->predictors[k->pi];
  const struct ss_component_spec *cs = &p->components[k->ci];
  const char *ns = json_string_value(json_object_get(json_object_get(e->obj, "metadata"), "namespace"));
  memset(plan, 0, sizeof *plan);
  memcpy(plan->name, k->name, sizeof plan->name);
  memcpy(plan->display, k->display, sizeof plan->display);
  plan->replicas = desired_replicas(c, ns ? ns : "default", s, p, cs, plan);
  if (k->no_command) {
    plan->failed = true;
    memcpy(plan->message, k->message, sizeof plan->message);
    return;
  }
  int rc = !k->t_nomem ? ss_runtime_set(c->cfg.runtime, plan->name, &k->t, plan->replicas)
                       : SS_ENOMEM;
  if (rc != SS_EOK)
    refusal(plan, rc);
}

/* ---- status ---- */

static json_t *condition(const json_t *old_status, const char *type, bool ok,
                         const char *reason, const char *message) {
  const char *st = ok ? "True" : "False";
  char ts[32];
  ss_rfc3339_now(ts, sizeof ts);
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
  int64_t now = ss_mono_ms();
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

/* FNV-1a over what routing depends on, so that an unchanged pass does not
 * publish (and wake every gateway worker) again; also over what a status
 * is made of. */
static uint64_t sig_add(uint64_t h, const char *s, uint64_t v) {
  if (!h)
    h = 1469598103934665603ull;
  for (; s && *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  for (int i = 0; i < 8; i++, v >>= 8)
    h = (h ^ (v & 0xff)) * 1099511628211ull;
  return h;
}

static void write_status(struct ss_control *c, struct sdep *e) {
  const json_t *obj = e->obj;
  json_t *md = json_object_get(obj, "metadata");
  const char *ns = json_string_value(json_object_get(md, "namespace"));
  const char *name = json_string_value(json_object_get(md, "name"));
  const char *decode_error = e->decode_error;
  size_t n_plans = e->n_cont;
  struct ss_rs_status *sts = calloc(n_plans ? n_plans : 1, sizeof *sts);
  bool *known = calloc(n_plans ? n_plans : 1, sizeof *known);
  json_t *status = NULL;
  if (!sts || !known)
    goto out; /* out of memory: the next pass writes it */
  /* what the status is made of besides obj */
  uint64_t sig = sig_add(0, decode_error, 0);
  for (size_t i = 0; i < n_plans; i++) {
    const struct rs_plan *pl = &e->cont[i].plan;
    known[i] = ss_runtime_status(c->cfg.runtime, pl->name, &sts[i]);
    const struct ss_rs_status *st = &sts[i];
    sig = sig_add(sig, pl->failed ? pl->message : "",
                  (uint64_t)pl->failed << 32 | (uint32_t)pl->replicas);
    sig = sig_add(sig, known[i] && st->failed ? st->message : "",
                  (uint64_t)known[i] | (uint64_t)st->failed << 1 | (uint64_t)(uint16_t)st->running << 16 |
                      (uint64_t)(uint16_t)st->ready << 32 | (uint64_t)(uint16_t)st->updated << 48);
  }
  char url[512] = "";
  if (c->cfg.gateway_base && ns && name)
    snprintf(url, sizeof url, "%s/seldon/%s/%s/api/v1.0/predictions", c->cfg.gateway_base, ns,
             name);
  else if (n_plans) {
    struct ss_replica_info ri[8];
    size_t n = ss_runtime_replicas(c->cfg.runtime, e->cont[0].plan.name, ri, 8);
    for (size_t i = 0; i < n && i < 8 && !url[0]; i++)
      if (ri[i].phase == SS_REPLICA_READY)
        snprintf(url, sizeof url, "http://127.0.0.1:%d/api/v1.0/predictions", ri[i].port);
  }
  sig = sig_add(sig, url, 0);
  if (e->status_memo && e->status_sig == sig) {
    /* built again, it would be what is stored: nothing to write */
    if (e->status_failed_why)
      log_failed(c, obj, e->status_failed_why);
    goto out;
  }
  json_t *old = json_object_get(obj, "status");
  json_t *deps = json_object();
  int total = 0, want = 0;
  bool all_ready = true, failed = decode_error != NULL;
  char why[512] = "";
  if (decode_error)
    snprintf(why, sizeof why, "%s", decode_error);
  for (size_t i = 0; i < n_plans; i++) {
    const struct rs_plan *pl = &e->cont[i].plan;
    const struct ss_rs_status *st = &sts[i];
    if (pl->failed || (known[i] && st->failed)) {
      failed = true;
      if (!why[0])
        snprintf(why, sizeof why, "%s", pl->failed ? pl->message : st->message);
    }
    int ready = known[i] ? st->ready : 0;
    total += known[i] ? st->running : 0;
    want += pl->replicas;
    if (ready < pl->replicas || (known[i] && st->updated < pl->replicas))
      all_ready = false;
    json_object_set_new(deps, pl->display,
                        json_pack("{s:i, s:i, s:i}", "replicas", known[i] ? st->running : 0,
                                  "availableReplicas", ready, "desiredReplicas", pl->replicas));
  }
  const char *state = failed ? "Failed" : all_ready ? "Available" : "Creating";
  if (failed) /* the status and an event say it; the log too, once */
    log_failed(c, obj, why);
  if (!failed && !all_ready)
    snprintf(why, sizeof why, "waiting for replicas to be ready (%d of %d running)", total, want);
  status = json_pack("{s:s, s:o, s:i, s:O?}", "state", state, "deploymentStatus", deps,
                     "replicas", total, "observedGeneration", json_object_get(md, "generation"));
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
    status_forget(e);
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
  } else if (status && (!failed || (e->status_failed_why = strdup(why)))) {
    e->status_memo = true;
    e->status_sig = sig;
  }
out:
  json_decref(status);
  free(sts);
  free(known);
}

/* ---- the pass ---- */

/* The gateway's view of a replica set: its replicas and which are ready
 * (kept in k for the table, when this pass builds one). */
static void route_replicas(struct ss_control *c, struct sdep *e, struct container *k,
                           const char *ns, const char *name) {
  const struct rs_plan *plan = &k->plan;
  struct ss_replica_info ri[SS_CONTROL_MAX_ROUTED];
  size_t n = ss_runtime_replicas(c->cfg.runtime, plan->name, ri, SS_CONTROL_MAX_ROUTED);
  if (n > SS_CONTROL_MAX_ROUTED)
    n = SS_CONTROL_MAX_ROUTED;
  if (n > k->cap_gr) {
    struct ss_gw_replica *v = realloc(k->gr, n * sizeof *v);
    if (v) {
      k->gr = v;
      k->cap_gr = n;
    }
  }
  if (n > k->cap_gr)
    n = k->cap_gr; /* out of memory: routes to what fits, the next pass again */
  struct ss_gw_replica *gr = k->gr;
  for (size_t i = 0; i < n; i++) {
    memset(&gr[i], 0, sizeof gr[i]);
    snprintf(gr[i].id, sizeof gr[i].id, "%s", ri[i].id);
    gr[i].port = ri[i].port;
    gr[i].ready = ri[i].phase == SS_REPLICA_READY;
    c->route_sig = sig_add(c->route_sig, gr[i].id, (uint64_t)gr[i].port * 2 + gr[i].ready);
  }
  k->n_gr = n;
  k->routed = e->routed;
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

/* Stores the Deployments of the replica sets planned for e (none when it
 * has errors: then what it owned is collected). */
static void sync_deployments(struct ss_control *c, const struct sdep *e) {
  const json_t *obj = e->obj;
  size_t n_plans = e->n_cont;
  struct ss_deploy_run *runs = calloc(n_plans ? n_plans : 1, sizeof *runs);
  struct ss_rs_status *st = calloc(n_plans ? n_plans : 1, sizeof *st);
  size_t n = 0;
  for (size_t i = 0; runs && st && i < n_plans; i++) {
    const struct rs_plan *plan = &e->cont[i].plan;
    if (plan->failed && !plan->refused)
      continue;
    bool known = ss_runtime_status(c->cfg.runtime, plan->name, &st[n]);
    runs[n] = (struct ss_deploy_run){plan->display, plan->replicas, known ? &st[n] : NULL,
                                     plan->expect_rv};
    n++;
  }
  struct ss_error err = {0};
  if (runs && st && ss_deployments_sync(c->deployments, obj, &e->res->res, runs, n, &err)) {
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
    const struct rs_plan *plan = &e->cont[i].plan;
    char uid[64], hash[16];
    if (!ss_deployments_identity(c->deployments, ns, plan->display, uid, hash))
      continue;
    pthread_mutex_lock(&c->mu);
    struct owned *o = find_owned(c, plan->name);
    if (o) {
      snprintf(o->deploy_uid, sizeof o->deploy_uid, "%s", uid);
      snprintf(o->tmpl_hash, sizeof o->tmpl_hash, "%s", hash);
    }
    pthread_mutex_unlock(&c->mu);
  }
}

static void reconcile_sdep(struct ss_control *c, struct sdep *e) {
  e->routed = false;
  if (!e->derived && !sdep_derive(c, e)) {
    /* not even decoded (out of memory): what it owns stays as it is */
    ss_deployments_keep_owner(c->deployments, meta_str(e->obj, "uid"));
    ss_scalers_keep_owner(c->scalers, meta_str(e->obj, "uid"));
    return;
  }
  struct ss_error serr = {0};
  if (ss_scalers_sync(c->scalers, e->obj, &e->res->res, &serr))
    fprintf(stderr, "event=autoscaler_write_failed sdep=%s/%s error=\"%s\"\n",
            meta_str(e->obj, "namespace"), meta_str(e->obj, "name"), serr.msg);
  const struct ss_sdep *s = &e->res->res.u.sdep;
  const char *ns = ss_resource_namespace(&e->res->res);
  const char *name = s->name;
  /* routed: the table built at the end of the pass shares the decoded
   * resource (its graph is routed) */
  e->routed = !e->decode_error && c->cfg.gateway;
  if (e->routed) {
    e->route_ns = ns ? ns : "default";
    e->route_name = s->name ? s->name : "";
    c->route_sig = sig_add(c->route_sig, ns, 0);
    c->route_sig = sig_add(c->route_sig, meta_str(e->obj, "resourceVersion"), 1);
  }
  for (size_t i = 0; i < e->n_cont; i++) {
    struct container *k = &e->cont[i];
    const struct ss_container *kc =
        &s->predictors[k->pi].components[k->ci].containers[k->k];
    struct rs_plan *plan = &k->plan;
    k->routed = false;
    plan_container(c, e, k);
    pthread_mutex_lock(&c->mu);
    struct owned *o = find_owned(c, plan->name);
    if (!o)
      o = add_owned(c, plan->name);
    /* desired is what the runtime accepted: -1 until it first did, and
     * for an owner that is not the one it was (deleted and created
     * again under the same name: another uid) */
    int before = o && same_uid(o->owner, e->owner) ? o->desired : -1;
    if (o) {
      o->seen = true;
      snprintf(o->ns, sizeof o->ns, "%s", ns ? ns : "");
      snprintf(o->name, sizeof o->name, "%s", s->name ? s->name : "");
      snprintf(o->container, sizeof o->container, "%s", kc->name);
      snprintf(o->image, sizeof o->image, "%s", kc->image ? kc->image : "");
      if (o->owner != e->owner) {
        json_decref(o->owner);
        o->owner = json_incref(e->owner);
      }
      if (!plan->failed)
        o->desired = plan->replicas;
      o->failed = plan->failed;
      snprintf(o->message, sizeof o->message, "%s", plan->failed ? plan->message : "");
    }
    pthread_mutex_unlock(&c->mu);
    /* a refused change leaves running what ran: still routed */
    if (!plan->failed || plan->refused)
      route_replicas(c, e, k, ns ? ns : "default", name);
    /* no Created or Scaled event for what did not happen */
    if (!plan->failed && before < 0)
      event(c, e->obj, "Normal", "Created", "Created replica set %s with %d replica(s)",
            plan->display, plan->replicas);
    else if (!plan->failed && before != plan->replicas)
      event(c, e->obj, "Normal", "ScalingReplicaSet", "Scaled %s replica set %s to %d",
            plan->replicas > before ? "up" : "down", plan->display, plan->replicas);
  }
  write_status(c, e);
  sync_deployments(c, e);
}

/* The Deployment controller's part of a pass, for one Deployment no
 * SeldonDeployment controls: the runtime runs its template, its pods are
 * known (with the template's labels), its status written. */
static void run_workload(void *ctx, const struct ss_workload *wl) {
  struct ss_control *c = ctx;
  int rc = wl->t ? ss_runtime_set(c->cfg.runtime, wl->rs, wl->t, wl->replicas) : SS_EINVALID;
  int before = -1;
  pthread_mutex_lock(&c->mu);
  struct owned *o = find_owned(c, wl->rs);
  if (!o && rc == SS_EOK)
    o = add_owned(c, wl->rs);
  if (o && rc == SS_EOK) {
    const char *uid = json_string_value(json_object_get(json_object_get(o->owner, "metadata"), "uid"));
    before = uid && strcmp(uid, wl->uid) == 0 ? o->desired : -1;
    o->seen = true;
    snprintf(o->ns, sizeof o->ns, "%s", wl->ns);
    snprintf(o->name, sizeof o->name, "%s", wl->name);
    snprintf(o->container, sizeof o->container, "%s", wl->container ? wl->container : "");
    snprintf(o->image, sizeof o->image, "%s", wl->image ? wl->image : "");
    snprintf(o->deploy_uid, sizeof o->deploy_uid, "%s", wl->uid);
    snprintf(o->tmpl_hash, sizeof o->tmpl_hash, "%s", wl->hash);
    json_decref(o->owner);
    o->owner = owner_ref(wl->obj);
    json_decref(o->pod_labels);
    o->pod_labels = wl->pod_labels ? json_deep_copy(wl->pod_labels) : json_object();
    o->desired = wl->replicas;
    o->failed = false;
  }
  pthread_mutex_unlock(&c->mu);
  if (rc == SS_EOK && before != wl->replicas)
    event(c, wl->obj, "Normal", "ScalingReplicaSet", "Scaled %s replica set %s to %d",
          before < 0 || wl->replicas > before ? "up" : "down", wl->name, wl->replicas);
  struct ss_rs_status st;
  bool known = ss_runtime_status(c->cfg.runtime, wl->rs, &st);
  ss_workloads_status(c->workloads, wl, known ? &st : NULL);
}

/* The Core 2 controller's Server: the runtime runs its replicas, shown as
 * pods with the Server's labels. */
static void run_server(void *ctx, const struct ss_core2_run *run) {
  struct ss_control *c = ctx;
  int rc = run->t ? ss_runtime_set(c->cfg.runtime, run->rs, run->t, run->replicas) : SS_EINVALID;
  pthread_mutex_lock(&c->mu);
  struct owned *o = find_owned(c, run->rs);
  if (!o && rc == SS_EOK)
    o = add_owned(c, run->rs);
  if (o && rc == SS_EOK) {
    o->seen = true;
    snprintf(o->ns, sizeof o->ns, "%s", run->ns);
    snprintf(o->name, sizeof o->name, "%s", run->name);
    snprintf(o->container, sizeof o->container, "mlserver");
    snprintf(o->image, sizeof o->image, "%s", SS_MLSERVER_IMAGE);
    json_decref(o->owner);
    o->owner = owner_ref(run->obj);
    json_decref(o->pod_labels);
    o->pod_labels = json_deep_copy(run->pod_labels);
    o->desired = run->replicas;
    o->failed = false;
  }
  pthread_mutex_unlock(&c->mu);
}

/* The routing table of this pass, from what it routed; *whole false when
 * part of it could not be added (out of memory: built again next pass). */
static struct ss_gw_table *build_table(struct ss_control *c, bool *whole) {
  struct ss_gw_table *t = ss_gw_table_new();
  *whole = t != NULL;
  if (t && ss_core2_routes(c->core2, t) != SS_EOK)
    *whole = false;
  for (size_t i = 0; t && i < c->n_sdeps; i++) {
    const struct sdep *e = c->sdeps[i];
    if (!e->routed)
      continue;
    if (ss_gw_table_add_shared(t, e->res) != SS_EOK) {
      *whole = false;
      continue;
    }
    for (size_t j = 0; j < e->n_cont; j++) {
      const struct container *k = &e->cont[j];
      if (k->routed && ss_gw_table_replicas(t, e->route_ns, e->route_name, k->pi, k->ci, k->k,
                                            k->plan.name, k->gr, k->n_gr) != SS_EOK)
        *whole = false;
    }
  }
  return t;
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
  struct ss_error err = {0};
  enum ss_err rc = sdeps_sync(c, &err);
  if (rc) {
    store_failed(c, "list_failed", "", "", rc, &err);
    return;
  }
  pthread_mutex_lock(&c->mu);
  for (size_t i = 0; i < c->n_owned; i++)
    c->owned[i]->seen = false;
  pthread_mutex_unlock(&c->mu);
  ss__gauges_begin(c->gauges);
  c->route_sig = 0;
  ss_scalers_begin(c->scalers);
  for (size_t i = 0; i < c->n_sdeps; i++)
    reconcile_sdep(c, c->sdeps[i]);
  ss_workloads_each(c->workloads, run_workload, c);
  ss_core2_tick(c->core2, now_ms, run_server, c);
  c->route_sig = sig_add(c->route_sig, "core2", ss_core2_route_sig(c->core2));
  ss__gauges_end(c->gauges);
  failing_sweep(c);
  ss_deployments_collect(c->deployments);
  ss_scalers_collect(c->scalers);
  /* a table only when something the gateway routes by changed (publishing
   * wakes every gateway worker) */
  if (c->cfg.gateway &&
      (!c->published || c->route_sig != c->last_route_sig || c->table_failed)) {
    bool whole;
    struct ss_gw_table *table = build_table(c, &whole);
    if (table) {
      ss_gateway_publish(c->cfg.gateway, table);
      c->last_route_sig = c->route_sig;
      c->published = true;
      c->table_failed = !whole;
    }
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
    if (!c->owned[j]->seen && !ss_runtime_status(c->cfg.runtime, c->owned[j]->rs, &st)) {
      ss_strmap_del(&c->owned_by, c->owned[j]->rs);
      json_decref(c->owned[j]->owner);
      json_decref(c->owned[j]->pod_labels);
      free(c->owned[j]);
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
    struct owned *o = c->owned[i];
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
          "creationTimestamp", created, "labels", SS_LABEL_SDEP_ID, o->name, "app",
          o->rs + strlen(o->ns) + 1,
          SS_LABEL_MODEL, "true", "annotations", "servescale.io/port", port, "spec",
          "containers", "name",
          o->container, "image", o->image, "status", "phase", phase_name(ri[j].phase), "podIP",
          "127.0.0.1", "containerStatuses", "name", o->container, "image", o->image, "imageID", "", "ready", ready,
          "restartCount", ri[j].restarts, "started", ri[j].pid != 0, "state", state);
      if (o->pod_labels) /* a user's Deployment: its template's labels */
        json_object_set_new(json_object_get(pod, "metadata"), "labels",
                            json_deep_copy(o->pod_labels));
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
    struct owned *o = c->owned[i];
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
    const struct owned *o = c->owned[i];
    size_t l = strlen(o->rs);
    if ((!ns || strcmp(ns, o->ns) == 0) && strncmp(id, o->rs, l) == 0 && id[l] == '-')
      snprintf(rs, sizeof rs, "%s", o->rs);
  }
  pthread_mutex_unlock(&c->mu);
  /* the runtime's events come back through ss_control_runtime_event,
   * which takes c->mu: not held here */
  return rs[0] && ss_runtime_delete_replica(c->cfg.runtime, rs, id) ? 0 : -1;
}
