/* core2.c: the Seldon Core 2 controller's pass (core2.h): the Servers'
 * replicas and their ordinals, the Models' placement and copies, the
 * routes. Loads are core2_load.c's, status core2_status.c's, native
 * autoscaling core2_scale.c's. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/core2_internal.h"
#include "control/template.h"
#include "model/core2.h"
#include "model/quantity.h"

/* What a serverConfig's replicas can run, when the Server does not say. */
static const char *const mlserver_caps[] = {"mlserver", "sklearn", "mock"};

/* ---- small readers ---- */

const char *ss__c2_str_at(const json_t *o, const char *a, const char *b) {
  const json_t *v = json_object_get(json_object_get(o, a), b);
  return json_string_value(v);
}

int ss__c2_int_at(const json_t *spec, const char *key, int dflt) {
  const json_t *v = json_object_get(spec, key);
  return json_is_integer(v) ? (int)json_integer_value(v) : dflt;
}

/* A memory quantity in whole bytes (a fraction rounds up). */
static int64_t bytes(struct ss_quantity q) { return (q.milli + 999) / 1000; }

static int64_t bytes_of(const json_t *v) {
  struct ss_quantity q;
  const char *why;
  return v && ss_quantity_from_json(v, &q, &why) ? bytes(q) : 0;
}

static uint64_t hash_str(uint64_t h, const char *s) {
  for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++)
    h = (h ^ *p) * 1099511628211ull;
  return (h ^ 0xff) * 1099511628211ull;
}

/* What a load depends on: the URI, the requirements, the parameters. A
 * change of any reloads the model; a change of replicas does not. */
static uint64_t load_sig(const json_t *spec) {
  uint64_t h = 1469598103934665603ull;
  h = hash_str(h, json_string_value(json_object_get(spec, "storageUri")));
  static const char *const keys[] = {"requirements", "parameters", "modelType"};
  for (size_t i = 0; i < 3; i++) {
    char *s =
        json_dumps(json_object_get(spec, keys[i]), JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    h = hash_str(h, s);
    free(s);
  }
  return h;
}

/* ---- lifecycle ---- */

/* A setting from the environment: seconds (or a count) within [lo, hi], else
 * dflt. */
static int64_t env_num(const char *name, int64_t dflt, int64_t lo, int64_t hi) {
  const char *v = getenv(name);
  char *end;
  if (!v || !*v)
    return dflt;
  long long n = strtoll(v, &end, 10);
  if (*end || n < lo || n > hi) {
    fprintf(
        stderr,
        "event=setting_ignored name=%s value=\"%.40s\" reason=\"not a number in [%lld, %lld]\"\n",
        name, v, (long long)lo, (long long)hi);
    return dflt;
  }
  return n;
}

/* Core 2's native scaling settings, under the names its scheduler and
 * agent read them (docs/core2.md), and the cooling period. */
static struct ss_c2_scaling_settings scaling_settings(void) {
  struct ss_c2_scaling_settings s = SS_C2_SCALING_DEFAULT;
  s.period_ms = env_num("SELDON_SCALING_STATS_PERIOD_SECONDS", s.period_ms / 1000, 1, 3600) * 1000;
  s.lag_threshold =
      (uint32_t)env_num("SELDON_MODEL_INFERENCE_LAG_THRESHOLD", s.lag_threshold, 1, 1000000);
  s.inactive_ms =
      env_num("SELDON_MODEL_INACTIVE_SECONDS_THRESHOLD", s.inactive_ms / 1000, 1, 86400) * 1000;
  s.cooling_ms = env_num("SERVESCALE_CORE2_COOLING_SECONDS", s.cooling_ms / 1000, 0, 86400) * 1000;
  return s;
}

struct ss_core2 *ss_core2_new(const struct ss_core2_config *cfg) {
  struct ss_core2 *c = calloc(1, sizeof *c);
  if (!c)
    return NULL;
  c->cfg = *cfg;
  c->scaling = scaling_settings();
  ss__c2_metric_families(cfg->metrics);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  c->multi = curl_multi_init();
  c->rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)c;
  if (!c->multi) {
    free(c);
    return NULL;
  }
  return c;
}

void ss__c2_xfer_free(struct ss_core2 *c, struct xfer *x) {
  if (!x)
    return;
  curl_multi_remove_handle(c->multi, x->h);
  curl_easy_cleanup(x->h);
  curl_slist_free_all(x->hdr);
  free(x->body);
  free(x->resp);
  free(x);
}

static void server_free(struct server *s) {
  json_decref(s->obj);
  json_decref(s->caps);
  json_decref(s->labels);
  if (s->have_t)
    ss__template_free(&s->t);
  free(s);
}

static void model_free(struct ss_core2 *c, struct model *m) {
  for (size_t i = 0; i < m->n; i++)
    ss__c2_xfer_free(c, m->copies[i].x);
  json_decref(m->obj);
  free(m);
}

void ss_core2_free(struct ss_core2 *c) {
  if (!c)
    return;
  for (size_t i = 0; i < c->n_servers; i++)
    server_free(c->servers[i]);
  for (size_t i = 0; i < c->n_models; i++)
    model_free(c, c->models[i]);
  free(c->servers);
  free(c->models);
  while (c->orphans) {
    struct xfer *x = c->orphans;
    c->orphans = x->next;
    ss__c2_xfer_free(c, x);
  }
  free(c->gauges);
  free(c->gauges_next);
  curl_multi_cleanup(c->multi);
  free(c);
}

/* ---- Servers ---- */

struct server *ss__c2_server_find(struct ss_core2 *c, const char *ns, const char *name) {
  for (size_t i = 0; i < c->n_servers; i++)
    if (strcmp(c->servers[i]->ns, ns) == 0 && strcmp(c->servers[i]->name, name) == 0)
      return c->servers[i];
  return NULL;
}

/* The capabilities the Server offers: spec.capabilities, else its
 * serverConfig's, then spec.extraCapabilities. */
static json_t *server_caps(const json_t *spec) {
  json_t *caps = json_array();
  const json_t *given = json_object_get(spec, "capabilities");
  if (json_is_array(given) && json_array_size(given)) {
    json_array_extend(caps, (json_t *)given);
  } else {
    for (size_t i = 0; i < sizeof mlserver_caps / sizeof mlserver_caps[0]; i++)
      json_array_append_new(caps, json_string(mlserver_caps[i]));
  }
  const json_t *extra = json_object_get(spec, "extraCapabilities");
  if (json_is_array(extra))
    json_array_extend(caps, (json_t *)extra);
  return caps;
}

/* The first container of the podSpec named like the server container
 * (Core 2 calls it "mlserver"), else the first. */
static const json_t *server_container(const json_t *spec) {
  const json_t *cs = json_object_get(json_object_get(spec, "podSpec"), "containers");
  size_t i;
  const json_t *k;
  json_array_foreach(cs, i, k) {
    const char *n = json_string_value(json_object_get(k, "name"));
    if (n && strcmp(n, "mlserver") == 0)
      return k;
  }
  return json_array_get(cs, 0);
}

/* Builds s's replica template from its spec (again when its generation
 * changed). */
static void server_template(struct ss_core2 *c, struct server *s) {
  const json_t *spec = json_object_get(s->obj, "spec");
  const char *cfgname = json_string_value(json_object_get(spec, "serverConfig"));
  json_decref(s->caps);
  s->caps = server_caps(spec);
  const json_t *given = server_container(spec);
  struct ss_quantity q;
  s->capacity = given && ss_container_request(given, "memory", &q) ? bytes(q) : DEFAULT_CAPACITY;
  if (s->have_t)
    ss__template_free(&s->t);
  s->have_t = false;
  s->ok = false;
  if (!cfgname || strcmp(cfgname, "mlserver") != 0) {
    snprintf(s->why, sizeof s->why,
             "serverConfig \"%s\" is not served here: servescale runs \"mlserver\" "
             "(capabilities sklearn and mock)",
             cfgname ? cfgname : "");
    return;
  }
  char caps[512] = "", mem[32];
  size_t i;
  json_t *v;
  json_array_foreach(s->caps, i, v) {
    size_t l = strlen(caps);
    snprintf(caps + l, sizeof caps - l, "%s%s", l ? "," : "", json_string_value(v));
  }
  snprintf(mem, sizeof mem, "%" PRId64, s->capacity);
  json_t *k =
      /* no probe written: the default one (/health/ping, which the model
       * server answers) looks every 10 ms until the replica is first ready */
      json_pack("{s:s, s:s, s:[s,s,s,s,s,s]}", "name", "mlserver", "image", MLSERVER_TAG, "args",
                "--server", s->name, "--memory", mem, "--capabilities", caps);
  if (given && json_object_get(given, "resources"))
    json_object_set(k, "resources", json_object_get(given, "resources"));
  if (given && json_object_get(given, "env"))
    json_object_set(k, "env", json_object_get(given, "env"));
  if (k && ss__template_build(c->cfg.images, k, NULL, 30, &s->t, s->why, sizeof s->why)) {
    s->have_t = true;
    s->ok = true;
  }
  json_decref(k);
}

static void server_put(struct ss_core2 *c, json_t *obj) {
  const char *ns = ss__c2_str_at(obj, "metadata", "namespace"),
             *name = ss__c2_str_at(obj, "metadata", "name");
  if (!ns || !name || strlen(ns) >= SS_NAME_LEN || strlen(name) >= SS_NAME_LEN)
    return;
  struct server *s = ss__c2_server_find(c, ns, name);
  if (!s) {
    if (c->n_servers == c->cap_servers) {
      size_t cap = c->cap_servers ? 2 * c->cap_servers : 8;
      void *v = realloc(c->servers, cap * sizeof *c->servers);
      if (!v)
        return;
      c->servers = v;
      c->cap_servers = cap;
    }
    if (!(s = calloc(1, sizeof *s)))
      return;
    snprintf(s->ns, sizeof s->ns, "%s", ns);
    snprintf(s->name, sizeof s->name, "%s", name);
    snprintf(s->rs, sizeof s->rs, "%s.%s", ns, name);
    s->labels = json_pack("{s:s, s:s}", SS_CORE2_LABEL_SERVER, name, "app.kubernetes.io/name",
                          "seldon-server");
    s->gen = -1;
    c->servers[c->n_servers++] = s;
  }
  s->seen = true;
  json_decref(s->obj);
  s->obj = json_incref(obj);
  const json_t *spec = json_object_get(obj, "spec");
  int64_t gen = json_integer_value(json_object_get(json_object_get(obj, "metadata"), "generation"));
  if (gen != s->gen) {
    server_template(c, s);
    s->gen = gen;
  }
  s->spec = ss__c2_int_at(spec, "replicas", SS_CORE2_DEFAULT_REPLICAS);
  s->min = ss__c2_int_at(spec, "minReplicas", -1);
  s->max = ss__c2_int_at(spec, "maxReplicas", -1);
  if (s->spec > SS_C2_MAX_REPLICAS)
    s->spec = SS_C2_MAX_REPLICAS;
}

/* The slots from what the runtime runs: a replica keeps its ordinal; a new
 * one takes the lowest free. */
static void server_slots(struct ss_core2 *c, struct server *s) {
  struct ss_replica_info ri[SS_C2_MAX_REPLICAS];
  size_t n = ss_runtime_replicas(c->cfg.runtime, s->rs, ri, SS_C2_MAX_REPLICAS);
  if (n > SS_C2_MAX_REPLICAS)
    n = SS_C2_MAX_REPLICAS;
  bool seen[SS_C2_MAX_REPLICAS] = {false};
  for (size_t i = 0; i < n; i++) {
    int at = -1;
    for (int o = 0; o < SS_C2_MAX_REPLICAS && at < 0; o++)
      if (s->slots[o].used && strcmp(s->slots[o].id, ri[i].id) == 0)
        at = o;
    for (int o = 0; o < SS_C2_MAX_REPLICAS && at < 0; o++)
      if (!s->slots[o].used && !seen[o])
        at = o;
    if (at < 0)
      continue;
    struct slot *sl = &s->slots[at];
    seen[at] = true;
    sl->used = true;
    snprintf(sl->id, sizeof sl->id, "%s", ri[i].id);
    sl->port = ri[i].port;
    sl->pid = ri[i].pid;
    sl->ready = ri[i].phase == SS_REPLICA_READY && ri[i].pid != 0;
  }
  for (int o = 0; o < SS_C2_MAX_REPLICAS; o++)
    if (!seen[o])
      memset(&s->slots[o], 0, sizeof s->slots[o]);
}

const struct slot *ss__c2_slot_of(const struct server *s, const char *replica, int *ordinal) {
  for (int o = 0; s && o < SS_C2_MAX_REPLICAS; o++)
    if (s->slots[o].used && strcmp(s->slots[o].id, replica) == 0) {
      if (ordinal)
        *ordinal = o;
      return &s->slots[o];
    }
  return NULL;
}

/* Copies of any model on replica (for the memory they take and "empty"). */
int ss__c2_copies_on(const struct ss_core2 *c, const char *replica, const struct model *except,
                     int64_t *mem) {
  int n = 0;
  for (size_t i = 0; i < c->n_models; i++) {
    const struct model *m = c->models[i];
    for (size_t j = 0; j < m->n; j++)
      if (m->copies[j].st != C_FAILED && strcmp(m->copies[j].replica, replica) == 0) {
        n++;
        if (mem && m != except)
          *mem += m->memory;
      }
  }
  return n;
}

/* Replicas above spec leave once empty, highest ordinal first; until then
 * they run, drained of models (the scheduler passes them over). */
static void server_run(struct ss_core2 *c, struct server *s, ss_core2_run_fn run, void *ctx) {
  int top = 0;
  for (int o = 0; o < SS_C2_MAX_REPLICAS; o++)
    if (s->slots[o].used)
      top = o + 1;
  int keep = s->spec;
  for (int o = top - 1; o >= s->spec; o--) {
    if (ss__c2_copies_on(c, s->slots[o].id, NULL, NULL) > 0) {
      keep = o + 1;
      break;
    }
  }
  for (int o = keep; o < SS_C2_MAX_REPLICAS; o++)
    if (s->slots[o].used)
      ss_runtime_delete_replica(c->cfg.runtime, s->rs, s->slots[o].id);
  s->keep = keep;
  struct ss_core2_run r = {.rs = s->rs,
                           .ns = s->ns,
                           .name = s->name,
                           .obj = s->obj,
                           .pod_labels = s->labels,
                           .t = s->have_t ? &s->t : NULL,
                           .message = s->why,
                           .replicas = keep};
  run(ctx, &r);
}

/* ---- Models: placement ---- */

static struct model *model_find(struct ss_core2 *c, const char *ns, const char *name) {
  for (size_t i = 0; i < c->n_models; i++)
    if (strcmp(c->models[i]->ns, ns) == 0 && strcmp(c->models[i]->name, name) == 0)
      return c->models[i];
  return NULL;
}

static void model_put(struct ss_core2 *c, json_t *obj) {
  const char *ns = ss__c2_str_at(obj, "metadata", "namespace"),
             *name = ss__c2_str_at(obj, "metadata", "name"),
             *uid = ss__c2_str_at(obj, "metadata", "uid");
  if (!ns || !name || !uid || strlen(ns) >= SS_NAME_LEN || strlen(name) >= SS_NAME_LEN)
    return;
  struct model *m = model_find(c, ns, name);
  if (m && strcmp(m->uid, uid) != 0) { /* deleted and created again */
    for (size_t i = 0; i < m->n; i++)
      if (m->copies[i].st == C_LOADED)
        m->copies[i].sig = 0; /* reload what the new one says */
    snprintf(m->uid, sizeof m->uid, "%s", uid);
  }
  if (!m) {
    if (c->n_models == c->cap_models) {
      size_t cap = c->cap_models ? 2 * c->cap_models : 8;
      void *v = realloc(c->models, cap * sizeof *c->models);
      if (!v)
        return;
      c->models = v;
      c->cap_models = cap;
    }
    if (!(m = calloc(1, sizeof *m)))
      return;
    snprintf(m->ns, sizeof m->ns, "%s", ns);
    snprintf(m->name, sizeof m->name, "%s", name);
    snprintf(m->uid, sizeof m->uid, "%s", uid);
    m->stable_since_ms = c->now_ms;
    m->last_available = -1;
    c->models[c->n_models++] = m;
  }
  m->seen = true;
  json_decref(m->obj);
  m->obj = json_incref(obj);
  const json_t *spec = json_object_get(obj, "spec");
  m->memory = bytes_of(json_object_get(spec, "memory"));
  uint64_t sig = load_sig(spec);
  if (sig != m->sig) {
    m->sig = sig;
    m->fail[0] = '\0';
    m->retry_at_ms = 0;
  }
}

static bool strs_of(const json_t *arr, const char **out, size_t cap, size_t *n) {
  *n = 0;
  size_t i;
  const json_t *v;
  json_array_foreach(arr, i, v) {
    if (*n == cap)
      return false;
    if (json_is_string(v))
      out[(*n)++] = json_string_value(v);
  }
  return true;
}

/* Core 2's scheduler over the Servers of m's namespace. */
static bool model_schedule(struct ss_core2 *c, struct model *m, struct ss_c2_placement *pl,
                           struct server **servers_out) {
  const json_t *spec = json_object_get(m->obj, "spec");
  struct ss_c2_server sv[64];
  struct server *srv[64];
  struct ss_c2_replica reps[64][SS_C2_MAX_REPLICAS];
  const char *caps[64][32];
  size_t n = 0;
  for (size_t i = 0; i < c->n_servers && n < 64; i++) {
    struct server *s = c->servers[i];
    if (strcmp(s->ns, m->ns) != 0 || !s->ok)
      continue;
    size_t nc;
    strs_of(s->caps, caps[n], 32, &nc);
    size_t nr = 0;
    for (int o = 0; o < SS_C2_MAX_REPLICAS; o++) {
      const struct slot *sl = &s->slots[o];
      if (!sl->used)
        continue;
      struct ss_c2_replica *r = &reps[n][nr++];
      int64_t used = 0;
      ss__c2_copies_on(c, sl->id, m, &used);
      bool has = false;
      for (size_t j = 0; j < m->n; j++)
        has = has || (strcmp(m->copies[j].replica, sl->id) == 0 &&
                      (m->copies[j].st == C_LOADED || m->copies[j].st == C_LOADING));
      *r = (struct ss_c2_replica){.index = o,
                                  .capacity_bytes = s->capacity,
                                  .used_bytes = used,
                                  .draining = o >= s->spec || !sl->ready,
                                  .has_model = has};
    }
    /* a dedicated server takes only models that name it (Core 2's "shared") */
    bool dedicated = false;
    for (size_t k = 0; k < c->n_models; k++) {
      const json_t *ms = json_object_get(c->models[k]->obj, "spec");
      const char *want = json_string_value(json_object_get(ms, "server"));
      if (json_is_true(json_object_get(ms, "dedicated")) && want && strcmp(want, s->name) == 0 &&
          strcmp(c->models[k]->ns, s->ns) == 0)
        dedicated = true;
    }
    sv[n] = (struct ss_c2_server){.name = s->name,
                                  .shared = !dedicated,
                                  .capabilities = caps[n],
                                  .n_capabilities = nc,
                                  .replicas = reps[n],
                                  .n_replicas = nr};
    srv[n++] = s;
  }
  const char *req[32];
  size_t nreq;
  strs_of(json_object_get(spec, "requirements"), req, 31, &nreq);
  const char *mt = json_string_value(json_object_get(spec, "modelType"));
  if (mt)
    req[nreq++] = mt;
  int min = ss__c2_int_at(spec, "minReplicas", 0);
  struct ss_c2_model cm = {.name = m->name,
                           .server = json_string_value(json_object_get(spec, "server")),
                           .requirements = req,
                           .n_requirements = nreq,
                           .memory_bytes = m->memory,
                           .desired = ss__c2_int_at(spec, "replicas", SS_CORE2_DEFAULT_REPLICAS),
                           .min_replicas = min > 0 ? min : 0};
  if (cm.desired < 1)
    cm.desired = 1;
  bool ok = ss_c2_schedule(&cm, sv, n, pl);
  *servers_out = ok ? srv[pl->server] : NULL;
  return ok;
}

static struct copy *copy_on(struct model *m, const char *replica) {
  for (size_t j = 0; j < m->n; j++)
    if (strcmp(m->copies[j].replica, replica) == 0)
      return &m->copies[j];
  return NULL;
}

/* Copies whose replica is gone, or restarted (a new process holds no
 * model), are forgotten. */
static void copies_check(struct ss_core2 *c, struct model *m) {
  for (size_t j = 0; j < m->n;) {
    struct copy *cp = &m->copies[j];
    struct server *s = ss__c2_server_find(c, m->ns, cp->server);
    const struct slot *sl = ss__c2_slot_of(s, cp->replica, NULL);
    if (!sl || (cp->pid && sl->pid && sl->pid != cp->pid) || (!sl->pid && cp->st == C_LOADED)) {
      ss__c2_copy_drop(c, m, j);
      continue;
    }
    j++;
  }
}

static void copy_load(struct ss_core2 *c, struct model *m, struct copy *cp, const struct slot *sl) {
  cp->x = ss__c2_xfer_start(c, m, sl, true);
  cp->pid = sl->pid;
  cp->sig = m->sig;
  cp->since_ms = c->now_ms;
}

/* Brings m's copies to the placement: loads where it is wanted, retires
 * (out of the routes, then unloaded) what is not, once every wanted copy
 * serves; unplaced, what is loaded keeps serving. */
static void model_apply(struct ss_core2 *c, struct model *m, const struct ss_c2_placement *pl,
                        struct server *s) {
  bool wanted[MAX_COPIES] = {false};
  bool all_loaded = s != NULL;
  for (size_t i = 0; s && i < pl->n; i++) {
    const struct slot *sl = &s->slots[pl->replicas[i]];
    struct copy *cp = copy_on(m, sl->id);
    if (!cp && m->n < MAX_COPIES) {
      if (m->fail[0] && c->now_ms < m->retry_at_ms) {
        all_loaded = false;
        continue;
      }
      cp = &m->copies[m->n++];
      memset(cp, 0, sizeof *cp);
      snprintf(cp->server, sizeof cp->server, "%s", s->name);
      snprintf(cp->replica, sizeof cp->replica, "%s", sl->id);
      cp->st = C_LOADING;
      copy_load(c, m, cp, sl);
    }
    if (!cp)
      continue;
    wanted[cp - m->copies] = true;
    if (cp->st == C_RETIRING)
      cp->st = C_LOADED;
    if (cp->st == C_FAILED && !cp->x && c->now_ms >= m->retry_at_ms) {
      cp->st = C_LOADING;
      copy_load(c, m, cp, sl);
    } else if (cp->st == C_LOADED && cp->sig != m->sig && !cp->x && c->now_ms >= m->retry_at_ms) {
      copy_load(c, m, cp, sl); /* a new version: the old serves until it is in */
    }
    all_loaded = all_loaded && cp->st == C_LOADED;
  }
  for (size_t j = 0; j < m->n; j++) {
    struct copy *cp = &m->copies[j];
    if (wanted[j] || cp->x)
      continue;
    if (cp->st == C_FAILED) {
      cp->st = C_UNLOADING; /* nothing to unload: dropped below */
      cp->since_ms = 0;
    } else if (cp->st == C_LOADED && all_loaded) {
      cp->st = C_RETIRING;
      cp->since_ms = c->now_ms;
    } else if (cp->st == C_RETIRING && (c->now_ms - cp->since_ms >= UNROUTE_GRACE_MS ||
                                        (c->cfg.gateway && c->now_ms - cp->since_ms > 0 &&
                                         ss_gateway_inflight(c->cfg.gateway, cp->replica) == 0))) {
      struct server *cs = ss__c2_server_find(c, m->ns, cp->server);
      const struct slot *sl = ss__c2_slot_of(cs, cp->replica, NULL);
      cp->st = C_UNLOADING;
      cp->x = sl ? ss__c2_xfer_start(c, m, sl, false) : NULL;
      ss_store_eventf(c->cfg.store, m->obj, "Normal", "Unloaded", NULL,
                      "Unloading from server %s replica %s", cp->server, cp->replica);
    }
  }
  for (size_t j = 0; j < m->n;) /* an unload that could not start, or nothing to unload */
    if (m->copies[j].st == C_UNLOADING && !m->copies[j].x)
      ss__c2_copy_drop(c, m, j);
    else
      j++;
}

/* ---- the pass ---- */

static json_t *list(struct ss_core2 *c, const char *plural) {
  json_t *items = NULL;
  uint64_t rv;
  struct ss_error err = {0};
  if (ss_store_list(c->cfg.store, (struct ss_kind_ref){SS_CORE2_GROUP, plural}, NULL, &items, &rv,
                    &err))
    return NULL;
  return items;
}

static void sweep_servers(struct ss_core2 *c) {
  for (size_t i = 0; i < c->n_servers;) {
    if (!c->servers[i]->seen) {
      server_free(c->servers[i]);
      c->servers[i] = c->servers[--c->n_servers];
    } else {
      i++;
    }
  }
}

static void sweep_models(struct ss_core2 *c) {
  for (size_t i = 0; i < c->n_models;) {
    struct model *m = c->models[i];
    if (m->seen) {
      i++;
      continue;
    }
    /* deleted: unloaded where it is (best effort), then forgotten */
    for (size_t j = 0; j < m->n; j++) {
      struct copy *cp = &m->copies[j];
      const struct slot *sl =
          ss__c2_slot_of(ss__c2_server_find(c, m->ns, cp->server), cp->replica, NULL);
      if (sl && !cp->x && cp->st != C_FAILED) {
        struct xfer *x = ss__c2_xfer_start(c, m, sl, false);
        if (x) { /* finished by ss__c2_progress(), which finds no model: freed there */
          x->uid[0] = '\0';
          x->next = c->orphans;
          c->orphans = x;
        }
      }
    }
    model_free(c, m);
    c->models[i] = c->models[--c->n_models];
  }
}

static int by_name(const void *a, const void *b) {
  const struct model *x = *(struct model *const *)a, *y = *(struct model *const *)b;
  int r = strcmp(x->ns, y->ns);
  return r ? r : strcmp(x->name, y->name);
}

void ss_core2_tick(struct ss_core2 *c, int64_t now_ms, ss_core2_run_fn run, void *ctx) {
  c->now_ms = now_ms;
  json_t *servers = list(c, "servers"), *models = list(c, "models");
  if (!servers || !models) {
    json_decref(servers);
    json_decref(models);
    /* the store failed: run what ran */
    for (size_t i = 0; i < c->n_servers; i++)
      server_run(c, c->servers[i], run, ctx);
    return;
  }
  for (size_t i = 0; i < c->n_servers; i++)
    c->servers[i]->seen = false;
  for (size_t i = 0; i < c->n_models; i++)
    c->models[i]->seen = false;
  size_t i;
  json_t *o;
  json_array_foreach(servers, i, o) server_put(c, o);
  json_array_foreach(models, i, o) model_put(c, o);
  sweep_servers(c);
  ss__c2_progress(c);
  for (size_t k = 0; k < c->n_servers; k++)
    server_slots(c, c->servers[k]);
  sweep_models(c);
  if (c->n_models > 1)
    qsort(c->models, c->n_models, sizeof *c->models, by_name);
  for (size_t k = 0; k < c->n_models; k++) {
    struct model *m = c->models[k];
    copies_check(c, m);
    struct ss_c2_placement pl;
    struct server *s = NULL;
    bool placed = model_schedule(c, m, &pl, &s);
    if (!placed) {
      snprintf(m->sched_msg, sizeof m->sched_msg, "%s", pl.message);
      pl.n = 0;
    }
    if (placed && !m->announced) {
      char where[128] = "";
      for (size_t r = 0; r < pl.n; r++) {
        size_t l = strlen(where);
        snprintf(where + l, sizeof where - l, "%s%d", r ? "," : "", pl.replicas[r]);
      }
      ss_store_eventf(c->cfg.store, m->obj, "Normal", "Scheduled", NULL,
                      "Scheduled on server %s, replica(s) %s", s->name, where);
    }
    m->announced = placed;
    m->placed = placed;
    model_apply(c, m, &pl, s);
    ss__c2_model_status(c, m, &pl);
    ss__c2_model_autoscale(c, m);
  }
  for (size_t k = 0; k < c->n_servers; k++) {
    struct server *s = c->servers[k];
    ss__c2_server_autoscale(c, s);
    server_run(c, s, run, ctx);
    ss__c2_server_status(c, s);
  }
  ss__c2_progress(c);
  /* what the gateway routes by */
  uint64_t h = 1469598103934665603ull;
  for (size_t k = 0; k < c->n_models; k++) {
    const struct model *m = c->models[k];
    h = hash_str(h, m->ns);
    h = hash_str(h, m->name);
    for (size_t j = 0; j < m->n; j++) {
      if (m->copies[j].st != C_LOADED)
        continue;
      const struct slot *sl = ss__c2_slot_of(ss__c2_server_find(c, m->ns, m->copies[j].server),
                                             m->copies[j].replica, NULL);
      h = hash_str(h, m->copies[j].replica);
      h = (h ^ (uint64_t)(sl ? sl->port * 2 + sl->ready : 0)) * 1099511628211ull;
    }
  }
  c->route_sig = h;
  ss__c2_gauges(c);
  json_decref(servers);
  json_decref(models);
}

uint64_t ss_core2_route_sig(const struct ss_core2 *c) { return c ? c->route_sig : 0; }

enum ss_err ss_core2_routes(struct ss_core2 *c, struct ss_gw_table *t) {
  enum ss_err first = SS_EOK;
  for (size_t k = 0; c && k < c->n_models; k++) {
    const struct model *m = c->models[k];
    struct ss_gw_replica reps[MAX_COPIES];
    int ords[MAX_COPIES];
    size_t n = 0;
    const char *server = "";
    char rs[SS_RS_NAME_LEN] = "";
    for (size_t j = 0; j < m->n; j++) {
      const struct copy *cp = &m->copies[j];
      if (cp->st != C_LOADED)
        continue;
      struct server *s = ss__c2_server_find(c, m->ns, cp->server);
      int ord;
      const struct slot *sl = ss__c2_slot_of(s, cp->replica, &ord);
      if (!sl)
        continue;
      server = s->name;
      snprintf(rs, sizeof rs, "%s", s->rs);
      memset(&reps[n], 0, sizeof reps[n]);
      snprintf(reps[n].id, sizeof reps[n].id, "%s", sl->id);
      reps[n].port = sl->port;
      reps[n].ready = sl->ready;
      ords[n++] = ord;
    }
    if (!server[0] && m->placed) { /* being loaded: requests wait for it */
      struct server *s = NULL;
      for (size_t j = 0; j < m->n && !s; j++)
        s = ss__c2_server_find(c, m->ns, m->copies[j].server);
      if (s) {
        server = s->name;
        snprintf(rs, sizeof rs, "%s", s->rs);
      }
    }
    /* else rs stays "": placed nowhere, answered 503 at once */
    enum ss_err rc = ss_gw_table_model(t, m->ns, m->name, server, rs, reps, ords, n);
    if (rc && rc != SS_EEXISTS && !first)
      first = rc;
  }
  return first;
}
