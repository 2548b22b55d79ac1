/* core2.c: the Seldon Core 2 controller (core2.h). */
#include "control/core2.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/template.h"
#include "core2/scaling.h"
#include "core2/schedule.h"
#include "model/core2.h"
#include "model/quantity.h"

#define NAME_LEN 64                 /* a DNS label and its NUL */
#define MAX_COPIES (2 * SS_C2_MAX_REPLICAS) /* where a model is, moving included */
#define LOAD_TIMEOUT_MS 120000      /* a load (a Python runtime's first import) */
#define RETRY_MS 30000              /* a failed load is tried again after this, or on a change */
#define UNROUTE_GRACE_MS 2000       /* out of the routes this long (or idle) before unloading */
#define DEFAULT_CAPACITY ((int64_t)1 << 30) /* a Server replica's memory for models */
#define MLSERVER_TAG SS_MLSERVER_IMAGE ":1.6.1"
/* What a serverConfig's replicas can run, when the Server does not say. */
static const char *const mlserver_caps[] = {"mlserver", "sklearn", "mock"};

/* ---- state ---- */

struct slot {                       /* one replica of a Server, by ordinal */
  bool used, ready;
  char id[SS_REPLICA_ID_LEN];
  int port;
  pid_t pid;
};

struct server {
  char ns[NAME_LEN], name[NAME_LEN], rs[SS_RS_NAME_LEN];
  json_t *obj;                      /* as stored (a reference) */
  json_t *caps;                     /* capabilities */
  json_t *labels;                   /* its pods' */
  int64_t capacity, gen;
  bool ok, have_t, seen, hpa;
  char why[256];
  int spec, min, max;               /* min, max: -1 when unset */
  int keep;                         /* replicas run: spec, more while some drain */
  struct ss_rs_template t;
  struct slot slots[SS_C2_MAX_REPLICAS];
  int64_t next_scale_ms;
};

enum cstate { C_LOADING, C_LOADED, C_RETIRING, C_UNLOADING, C_FAILED };

struct xfer;

struct copy {                       /* a model on one server replica */
  char server[NAME_LEN], replica[SS_REPLICA_ID_LEN];
  pid_t pid;
  enum cstate st;
  int64_t since_ms;
  uint64_t sig;                     /* what was loaded (load_sig) */
  struct xfer *x;                   /* the call in flight; NULL: none */
  char err[256];
};

struct model {
  char ns[NAME_LEN], name[NAME_LEN], uid[64];
  json_t *obj;
  int64_t memory;
  uint64_t sig;                     /* load_sig of the stored spec */
  struct copy copies[MAX_COPIES];
  size_t n;
  bool placed, seen, announced;
  char sched_msg[256], fail[256], last_reason[32];
  int64_t retry_at_ms, stable_since_ms, next_scale_ms;
  int last_spec, last_available;
};

struct xfer {
  CURL *h;
  struct curl_slist *hdr;
  char *body, *resp;
  size_t resp_len;
  char uid[64], replica[SS_REPLICA_ID_LEN];
  bool load;
  struct xfer *next;                /* in the orphans: a deleted model's unload */
};

struct ss_core2 {
  struct ss_core2_config cfg;
  struct ss_c2_scaling_settings scaling;
  CURLM *multi;
  struct server **servers;
  size_t n_servers, cap_servers;
  struct model **models;
  size_t n_models, cap_models;
  struct xfer *orphans;             /* unloads of deleted models, in flight */
  uint64_t route_sig;
  int64_t now_ms;
  uint64_t rng;
};

/* ---- small readers ---- */

static const char *str_at(const json_t *o, const char *a, const char *b) {
  const json_t *v = json_object_get(json_object_get(o, a), b);
  return json_string_value(v);
}

static int int_at(const json_t *spec, const char *key, int dflt) {
  const json_t *v = json_object_get(spec, key);
  return json_is_integer(v) ? (int)json_integer_value(v) : dflt;
}

static int64_t bytes_of(const json_t *v) {
  struct ss_quantity q;
  const char *why;
  return v && ss_quantity_from_json(v, &q, &why) ? (q.milli + 999) / 1000 : 0;
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
    char *s = json_dumps(json_object_get(spec, keys[i]), JSON_COMPACT | JSON_SORT_KEYS |
                                                            JSON_ENCODE_ANY);
    h = hash_str(h, s);
    free(s);
  }
  return h;
}

static void event(struct ss_core2 *c, const json_t *about, const char *type, const char *reason,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void event(struct ss_core2 *c, const json_t *about, const char *type, const char *reason,
                  const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  struct ss_error err = {0};
  if (ss_store_event(c->cfg.store, about, type, reason, msg, &err))
    fprintf(stderr, "event=event_write_failed reason=%s error=\"%s\"\n", reason, err.msg);
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
    fprintf(stderr, "event=setting_ignored name=%s value=\"%.40s\" reason=\"not a number in [%lld, %lld]\"\n",
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
  s.cooling_ms =
      env_num("SERVESCALE_CORE2_COOLING_SECONDS", s.cooling_ms / 1000, 0, 86400) * 1000;
  return s;
}

struct ss_core2 *ss_core2_new(const struct ss_core2_config *cfg) {
  struct ss_core2 *c = calloc(1, sizeof *c);
  if (!c)
    return NULL;
  c->cfg = *cfg;
  c->scaling = scaling_settings();
  curl_global_init(CURL_GLOBAL_DEFAULT);
  c->multi = curl_multi_init();
  c->rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)c;
  if (!c->multi) {
    free(c);
    return NULL;
  }
  return c;
}

static void xfer_free(struct ss_core2 *c, struct xfer *x) {
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
    xfer_free(c, m->copies[i].x);
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
    xfer_free(c, x);
  }
  curl_multi_cleanup(c->multi);
  free(c);
}

/* ---- loads and unloads ---- */

static size_t on_data(char *p, size_t sz, size_t n, void *ud) {
  struct xfer *x = ud;
  size_t add = sz * n;
  if (x->resp_len + add > 65536)
    return add; /* the rest of a long answer is not needed */
  char *v = realloc(x->resp, x->resp_len + add + 1);
  if (!v)
    return 0;
  memcpy(v + x->resp_len, p, add);
  x->resp = v;
  x->resp_len += add;
  v[x->resp_len] = '\0';
  return add;
}

/* The body of a load: what the model server needs of the Model's spec. */
static char *load_body(const struct model *m) {
  const json_t *spec = json_object_get(m->obj, "spec");
  json_t *b = json_object();
  const char *uri = json_string_value(json_object_get(spec, "storageUri"));
  json_t *req = json_deep_copy(json_object_get(spec, "requirements"));
  if (!json_is_array(req)) {
    json_decref(req);
    req = json_array();
  }
  const char *mt = json_string_value(json_object_get(spec, "modelType"));
  if (mt)
    json_array_append_new(req, json_string(mt)); /* Core 2 adds modelType to the requirements */
  json_object_set_new(b, "storageUri", json_string(uri ? uri : ""));
  json_object_set_new(b, "requirements", req);
  json_object_set_new(b, "memory", json_integer(m->memory));
  json_t *params = json_object_get(spec, "parameters");
  if (json_is_array(params))
    json_object_set(b, "parameters", params);
  char *s = json_dumps(b, JSON_COMPACT);
  json_decref(b);
  return s;
}

static struct xfer *xfer_start(struct ss_core2 *c, const struct model *m, const struct slot *sl,
                               bool load) {
  struct xfer *x = calloc(1, sizeof *x);
  if (!x || !(x->h = curl_easy_init())) {
    free(x);
    return NULL;
  }
  x->load = load;
  snprintf(x->uid, sizeof x->uid, "%s", m->uid);
  snprintf(x->replica, sizeof x->replica, "%s", sl->id);
  x->body = load ? load_body(m) : strdup("{}");
  char url[256];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/v2/repository/models/%s/%s", sl->port, m->name,
           load ? "load" : "unload");
  x->hdr = curl_slist_append(NULL, "Content-Type: application/json");
  curl_easy_setopt(x->h, CURLOPT_URL, url);
  curl_easy_setopt(x->h, CURLOPT_POSTFIELDS, x->body ? x->body : "{}");
  curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, x->hdr);
  curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(x->h, CURLOPT_WRITEDATA, x);
  curl_easy_setopt(x->h, CURLOPT_PRIVATE, x);
  curl_easy_setopt(x->h, CURLOPT_TIMEOUT_MS, (long)LOAD_TIMEOUT_MS);
  curl_easy_setopt(x->h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(x->h, CURLOPT_PROXY, "");
  if (!x->body || curl_multi_add_handle(c->multi, x->h) != CURLM_OK) {
    curl_easy_cleanup(x->h);
    curl_slist_free_all(x->hdr);
    free(x->body);
    free(x);
    return NULL;
  }
  return x;
}

static struct model *model_by_uid(struct ss_core2 *c, const char *uid) {
  for (size_t i = 0; i < c->n_models; i++)
    if (strcmp(c->models[i]->uid, uid) == 0)
      return c->models[i];
  return NULL;
}

static void copy_drop(struct ss_core2 *c, struct model *m, size_t i) {
  xfer_free(c, m->copies[i].x);
  m->copies[i] = m->copies[--m->n];
}

/* The model server's reason ({"error": "..."}), or the transfer's. */
static void reason_of(const struct xfer *x, CURLcode rc, long code, char *buf, size_t size) {
  json_t *j = x->resp ? json_loads(x->resp, 0, NULL) : NULL;
  const char *e = json_string_value(json_object_get(j, "error"));
  if (rc != CURLE_OK)
    snprintf(buf, size, "%s", curl_easy_strerror(rc));
  else if (e)
    snprintf(buf, size, "%s", e);
  else
    snprintf(buf, size, "the model server answered %ld", code);
  json_decref(j);
}

static void xfer_done(struct ss_core2 *c, struct xfer *x, CURLcode rc) {
  long code = 0;
  curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &code);
  struct model *m = model_by_uid(c, x->uid);
  size_t i = 0;
  while (m && i < m->n && m->copies[i].x != x)
    i++;
  if (!m || i == m->n) {
    for (struct xfer **pp = &c->orphans; *pp; pp = &(*pp)->next)
      if (*pp == x) {
        *pp = x->next;
        break;
      }
    xfer_free(c, x);
    return;
  }
  struct copy *cp = &m->copies[i];
  cp->x = NULL;
  bool ok = rc == CURLE_OK && code >= 200 && code < 300;
  if (x->load && ok) {
    if (cp->st != C_LOADED)
      event(c, m->obj, "Normal", "Loaded", "Loaded on server %s replica %s", cp->server,
            cp->replica);
    cp->st = C_LOADED;
    cp->err[0] = '\0';
  } else if (x->load) {
    reason_of(x, rc, code, cp->err, sizeof cp->err);
    snprintf(m->fail, sizeof m->fail, "%s", cp->err);
    m->retry_at_ms = c->now_ms + RETRY_MS;
    event(c, m->obj, "Warning", "LoadFailed", "Failed to load on server %s: %s", cp->server,
          cp->err);
    /* a failed reload leaves the old version serving (the server swaps
     * only a model that loaded) */
    if (cp->st != C_LOADED)
      cp->st = C_FAILED;
  } else {
    if (!ok) {
      char why[256];
      reason_of(x, rc, code, why, sizeof why);
      fprintf(stderr, "event=model_unload_failed model=%s/%s replica=%s error=\"%s\"\n", m->ns,
              m->name, cp->replica, why);
    }
    xfer_free(c, x);
    copy_drop(c, m, i);
    return;
  }
  xfer_free(c, x);
}

static void progress(struct ss_core2 *c) {
  int running = 0;
  curl_multi_perform(c->multi, &running);
  CURLMsg *msg;
  int left;
  while ((msg = curl_multi_info_read(c->multi, &left))) {
    if (msg->msg != CURLMSG_DONE)
      continue;
    struct xfer *x = NULL;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
    if (x)
      xfer_done(c, x, msg->data.result);
  }
}

/* ---- Servers ---- */

static struct server *server_find(struct ss_core2 *c, const char *ns, const char *name) {
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
  s->capacity = given && ss_container_request(given, "memory", &q) ? (q.milli + 999) / 1000
                                                                   : DEFAULT_CAPACITY;
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
  json_t *k = json_pack("{s:s, s:s, s:[s,s,s,s,s,s], s:{s:{s:s, s:i}}}", "name", "mlserver",
                        "image", MLSERVER_TAG, "args", "--server", s->name, "--memory", mem,
                        "--capabilities", caps, "readinessProbe", "httpGet", "path",
                        "/v2/health/ready", "port", 9000);
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
  const char *ns = str_at(obj, "metadata", "namespace"), *name = str_at(obj, "metadata", "name");
  if (!ns || !name || strlen(ns) >= NAME_LEN || strlen(name) >= NAME_LEN)
    return;
  struct server *s = server_find(c, ns, name);
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
  s->spec = int_at(spec, "replicas", SS_CORE2_DEFAULT_REPLICAS);
  s->min = int_at(spec, "minReplicas", -1);
  s->max = int_at(spec, "maxReplicas", -1);
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

static const struct slot *slot_of(const struct server *s, const char *replica, int *ordinal) {
  for (int o = 0; s && o < SS_C2_MAX_REPLICAS; o++)
    if (s->slots[o].used && strcmp(s->slots[o].id, replica) == 0) {
      if (ordinal)
        *ordinal = o;
      return &s->slots[o];
    }
  return NULL;
}

/* Copies of any model on replica (for the memory they take and "empty"). */
static int copies_on(const struct ss_core2 *c, const char *replica, const struct model *except,
                     int64_t *mem) {
  int n = 0;
  for (size_t i = 0; i < c->n_models; i++) {
    const struct model *m = c->models[i];
    for (size_t j = 0; j < m->n; j++)
      if (m->copies[j].st != C_FAILED && strcmp(m->copies[j].replica, replica) == 0) {
        if (m != except) {
          n++;
          if (mem)
            *mem += m->memory;
        } else {
          n++;
        }
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
    if (copies_on(c, s->slots[o].id, NULL, NULL) > 0) {
      keep = o + 1;
      break;
    }
  }
  for (int o = keep; o < SS_C2_MAX_REPLICAS; o++)
    if (s->slots[o].used)
      ss_runtime_delete_replica(c->cfg.runtime, s->rs, s->slots[o].id);
  s->keep = keep;
  struct ss_core2_run r = {.rs = s->rs, .ns = s->ns, .name = s->name, .obj = s->obj,
                           .pod_labels = s->labels, .t = s->have_t ? &s->t : NULL,
                           .message = s->why, .replicas = keep};
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
  const char *ns = str_at(obj, "metadata", "namespace"), *name = str_at(obj, "metadata", "name"),
             *uid = str_at(obj, "metadata", "uid");
  if (!ns || !name || !uid || strlen(ns) >= NAME_LEN || strlen(name) >= NAME_LEN)
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
    m->last_spec = -1;
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
      copies_on(c, sl->id, m, &used);
      bool has = false;
      for (size_t j = 0; j < m->n; j++)
        has = has || (strcmp(m->copies[j].replica, sl->id) == 0 &&
                      (m->copies[j].st == C_LOADED || m->copies[j].st == C_LOADING));
      *r = (struct ss_c2_replica){.index = o, .capacity_bytes = s->capacity, .used_bytes = used,
                                  .draining = o >= s->spec || !sl->ready, .has_model = has};
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
    sv[n] = (struct ss_c2_server){.name = s->name, .shared = !dedicated, .capabilities = caps[n],
                                  .n_capabilities = nc, .replicas = reps[n], .n_replicas = nr};
    srv[n++] = s;
  }
  const char *req[32];
  size_t nreq;
  strs_of(json_object_get(spec, "requirements"), req, 31, &nreq);
  const char *mt = json_string_value(json_object_get(spec, "modelType"));
  if (mt)
    req[nreq++] = mt;
  int min = int_at(spec, "minReplicas", 0);
  struct ss_c2_model cm = {.name = m->name,
                           .server = json_string_value(json_object_get(spec, "server")),
                           .requirements = req, .n_requirements = nreq,
                           .memory_bytes = m->memory,
                           .desired = int_at(spec, "replicas", SS_CORE2_DEFAULT_REPLICAS),
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
    struct server *s = server_find(c, m->ns, cp->server);
    const struct slot *sl = slot_of(s, cp->replica, NULL);
    if (!sl || (cp->pid && sl->pid && sl->pid != cp->pid) || (!sl->pid && cp->st == C_LOADED)) {
      copy_drop(c, m, j);
      continue;
    }
    j++;
  }
}

static void copy_load(struct ss_core2 *c, struct model *m, struct copy *cp, const struct slot *sl) {
  cp->x = xfer_start(c, m, sl, true);
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
    } else if (cp->st == C_LOADED && cp->sig != m->sig && !cp->x &&
               c->now_ms >= m->retry_at_ms) {
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
    } else if (cp->st == C_RETIRING &&
               (c->now_ms - cp->since_ms >= UNROUTE_GRACE_MS ||
                (c->cfg.gateway && c->now_ms - cp->since_ms > 0 &&
                 ss_gateway_inflight(c->cfg.gateway, cp->replica) == 0))) {
      struct server *cs = server_find(c, m->ns, cp->server);
      const struct slot *sl = slot_of(cs, cp->replica, NULL);
      cp->st = C_UNLOADING;
      cp->x = sl ? xfer_start(c, m, sl, false) : NULL;
      event(c, m->obj, "Normal", "Unloaded", "Unloading from server %s replica %s", cp->server,
            cp->replica);
    }
  }
  for (size_t j = 0; j < m->n;) /* an unload that could not start, or nothing to unload */
    if (m->copies[j].st == C_UNLOADING && !m->copies[j].x)
      copy_drop(c, m, j);
    else
      j++;
}

/* ---- status ---- */

static json_t *cond(const json_t *old, const char *type, bool ok, const char *reason,
                    const char *msg) {
  const char *st = ok ? "True" : "False";
  const char *ts = NULL;
  size_t i;
  const json_t *o;
  json_array_foreach(json_object_get(old, "conditions"), i, o) {
    const char *t = json_string_value(json_object_get(o, "type"));
    const char *s = json_string_value(json_object_get(o, "status"));
    if (t && strcmp(t, type) == 0 && s && strcmp(s, st) == 0)
      ts = json_string_value(json_object_get(o, "lastTransitionTime"));
  }
  char now[32];
  if (!ts) {
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
    ts = now;
  }
  json_t *c = json_pack("{s:s, s:s, s:s}", "type", type, "status", st, "lastTransitionTime", ts);
  if (reason && *reason)
    json_object_set_new(c, "reason", json_string(reason));
  if (msg && *msg)
    json_object_set_new(c, "message", json_string(msg));
  return c;
}

static void write_status(struct ss_core2 *c, const char *plural, const json_t *obj,
                         json_t *status) {
  const json_t *old = json_object_get(obj, "status");
  if (old && json_equal(old, status)) {
    json_decref(status);
    return;
  }
  struct ss_error err = {0};
  const char *ns = str_at(obj, "metadata", "namespace"), *name = str_at(obj, "metadata", "name");
  if (ss_store_update_status(c->cfg.store, (struct ss_kind_ref){SS_CORE2_GROUP, plural}, ns, name,
                             status, NULL, NULL, &err) &&
      err.code != SS_ENOTFOUND)
    fprintf(stderr, "event=status_write_failed %s=%s/%s error=\"%s\"\n", plural, ns, name,
            err.msg);
  json_decref(status);
}

static int available(const struct model *m) {
  int n = 0;
  for (size_t j = 0; j < m->n; j++)
    n += m->copies[j].st == C_LOADED || (m->copies[j].st == C_RETIRING);
  return n;
}

static void model_status(struct ss_core2 *c, struct model *m, const struct ss_c2_placement *pl) {
  const json_t *spec = json_object_get(m->obj, "spec");
  int want = int_at(spec, "replicas", SS_CORE2_DEFAULT_REPLICAS);
  int avail = 0;
  for (size_t j = 0; j < m->n; j++)
    avail += m->copies[j].st == C_LOADED;
  const char *reason, *msg = "";
  char buf[320];
  bool failed_copy = false;
  for (size_t j = 0; j < m->n; j++)
    failed_copy = failed_copy || m->copies[j].st == C_FAILED;
  if (!m->placed) {
    reason = "ScheduleFailed";
    msg = m->sched_msg;
  } else if (failed_copy || (m->fail[0] && avail < (int)pl->n)) {
    reason = "ModelFailed";
    msg = m->fail;
  } else if (avail < (int)pl->n || avail == 0) {
    reason = "ModelProgressing";
    snprintf(buf, sizeof buf, "%d of %zu replicas loaded", avail, pl->n);
    msg = buf;
  } else {
    reason = "ModelAvailable";
  }
  bool ready = strcmp(reason, "ModelAvailable") == 0;
  if (strcmp(reason, m->last_reason) != 0) {
    if (strcmp(reason, "ScheduleFailed") == 0)
      event(c, m->obj, "Warning", "ScheduleFailed", "%s", msg);
    else if (ready)
      event(c, m->obj, "Normal", "ModelAvailable", "%d replica(s) available", avail);
    snprintf(m->last_reason, sizeof m->last_reason, "%s", reason);
  }
  if (avail != m->last_available) {
    m->stable_since_ms = c->now_ms;
    m->last_available = avail;
  }
  const json_t *old = json_object_get(m->obj, "status");
  json_t *conds = json_array();
  json_array_append_new(conds, cond(old, "ModelReady", ready, reason, msg));
  json_array_append_new(conds, cond(old, "Ready", ready, reason, msg));
  json_t *st = json_pack("{s:i, s:i, s:o}", "replicas", want, "availableReplicas", avail,
                         "conditions", conds);
  write_status(c, "models", m->obj, st);
}

static void server_status(struct ss_core2 *c, const struct server *s) {
  int live = 0, ready = 0, loaded = 0;
  for (int o = 0; o < SS_C2_MAX_REPLICAS; o++) {
    if (!s->slots[o].used)
      continue;
    live++;
    ready += s->slots[o].ready;
  }
  for (size_t i = 0; i < c->n_models; i++)
    for (size_t j = 0; j < c->models[i]->n; j++) {
      const struct copy *cp = &c->models[i]->copies[j];
      loaded += cp->st == C_LOADED && strcmp(c->models[i]->ns, s->ns) == 0 &&
                strcmp(cp->server, s->name) == 0;
    }
  bool ok = s->ok && ready >= s->keep;
  char msg[320] = "";
  const char *reason = s->ok ? (ok ? "" : "ReplicasNotReady") : "ServerConfigUnsupported";
  if (!s->ok)
    snprintf(msg, sizeof msg, "%s", s->why);
  else if (!ok)
    snprintf(msg, sizeof msg, "%d of %d replicas ready", ready, s->keep);
  const json_t *old = json_object_get(s->obj, "status");
  json_t *conds = json_array();
  json_array_append_new(conds, cond(old, "Ready", ok, reason, msg));
  json_array_append_new(conds, cond(old, "StatefulSetReady", ok, reason, msg));
  char sel[NAME_LEN + 32];
  snprintf(sel, sizeof sel, "%s=%s", SS_CORE2_LABEL_SERVER, s->name);
  json_t *st = json_pack("{s:i, s:i, s:s, s:o}", "replicas", live, "loadedModels", loaded,
                         "selector", sel, "conditions", conds);
  write_status(c, "servers", s->obj, st);
}

/* ---- native autoscaling ---- */

static void write_replicas(struct ss_core2 *c, const char *plural, json_t *obj, int replicas) {
  json_t *o = json_deep_copy(obj);
  json_object_set_new(json_object_get(o, "spec"), "replicas", json_integer(replicas));
  struct ss_error err = {0};
  json_t *stored = NULL;
  if (ss_store_update(c->cfg.store, (struct ss_kind_ref){SS_CORE2_GROUP, plural}, o, &stored,
                      &err) == SS_EOK) {
    /* the rest of the pass sees what was written */
    json_object_set(json_object_get(obj, "spec"), "replicas", json_integer(replicas));
  }
  json_decref(stored);
  json_decref(o);
}

static void model_autoscale(struct ss_core2 *c, struct model *m) {
  const json_t *spec = json_object_get(m->obj, "spec");
  int min = int_at(spec, "minReplicas", 0), max = int_at(spec, "maxReplicas", 0);
  if ((min <= 0 && max <= 0) || !c->cfg.gateway || c->now_ms < m->next_scale_ms)
    return;
  const struct ss_c2_scaling_settings set = c->scaling;
  m->next_scale_ms = c->now_ms + set.period_ms;
  int inflight;
  int64_t last;
  ss_gateway_model_load(c->cfg.gateway, m->ns, m->name, &inflight, &last);
  int loaded = available(m);
  if (loaded < 1)
    return;
  /* the agent's lag is per replica; the gateway spreads evenly */
  uint32_t lag = (uint32_t)((inflight + loaded - 1) / loaded);
  enum ss_c2_trigger t = SS_C2_NONE;
  int64_t used = last > m->stable_since_ms ? last : m->stable_since_ms;
  if (lag >= set.lag_threshold)
    t = SS_C2_UP;
  else if (c->now_ms - used >= set.inactive_ms)
    t = SS_C2_DOWN;
  if (t == SS_C2_NONE)
    return;
  int cur = int_at(spec, "replicas", SS_CORE2_DEFAULT_REPLICAS);
  const char *why = NULL;
  int next = ss_c2_model_replicas(cur, min, max, t, m->stable_since_ms, c->now_ms, &set, &why);
  if (next == cur)
    return;
  write_replicas(c, "models", m->obj, next);
  m->stable_since_ms = c->now_ms;
  if (t == SS_C2_UP)
    event(c, m->obj, "Normal", "ScaledUp",
          "Scaled model to %d replicas: inference lag %u per replica reached %u", next, lag,
          set.lag_threshold);
  else
    event(c, m->obj, "Normal", "ScaledDown", "Scaled model to %d replicas: unused for %" PRId64 " s",
          next, (c->now_ms - used) / 1000);
}

/* Whether a stored HPA or ScaledObject scales Server s (then Core 2's
 * server autoscaling leaves it alone). */
static bool server_has_hpa(struct ss_core2 *c, const struct server *s) {
  static const struct {
    const char *group, *plural;
  } kinds[] = {{"autoscaling", "horizontalpodautoscalers"}, {"keda.sh", "scaledobjects"}};
  for (size_t k = 0; k < 2; k++) {
    json_t *items = NULL;
    uint64_t rv;
    if (ss_store_list(c->cfg.store, (struct ss_kind_ref){kinds[k].group, kinds[k].plural}, s->ns,
                      &items, &rv, NULL))
      continue;
    size_t i;
    json_t *o;
    bool hit = false;
    json_array_foreach(items, i, o) {
      const json_t *ref = json_object_get(json_object_get(o, "spec"), "scaleTargetRef");
      const char *kind = json_string_value(json_object_get(ref, "kind"));
      const char *name = json_string_value(json_object_get(ref, "name"));
      hit = hit || (kind && name && strcmp(kind, "Server") == 0 && strcmp(name, s->name) == 0);
    }
    json_decref(items);
    if (hit)
      return true;
  }
  return false;
}

static void server_autoscale(struct ss_core2 *c, struct server *s) {
  if (s->max < 1 || c->now_ms < s->next_scale_ms)
    return;
  s->next_scale_ms = c->now_ms + c->scaling.period_ms;
  if ((s->hpa = server_has_hpa(c, s)))
    return;
  int most = 0;
  for (size_t i = 0; i < c->n_models; i++) {
    const struct model *m = c->models[i];
    bool here = false;
    for (size_t j = 0; j < m->n; j++)
      here = here || strcmp(m->copies[j].server, s->name) == 0;
    const char *want = json_string_value(json_object_get(json_object_get(m->obj, "spec"), "server"));
    here = strcmp(m->ns, s->ns) == 0 && (here || (want && strcmp(want, s->name) == 0));
    int r = int_at(json_object_get(m->obj, "spec"), "replicas", SS_CORE2_DEFAULT_REPLICAS);
    if (here && r > most)
      most = r;
  }
  int target;
  if (ss_c2_server_scale_up(s->spec, s->max, most, &target)) {
    write_replicas(c, "servers", s->obj, target);
    event(c, s->obj, "Normal", "ScaledUp",
          "Scaled server to %d replicas: a model on it wants %d replicas", target, most);
    s->spec = target;
    return;
  }
  int empty = 0;
  for (int o = 0; o < SS_C2_MAX_REPLICAS; o++)
    if (s->slots[o].used && s->slots[o].ready && copies_on(c, s->slots[o].id, NULL, NULL) == 0)
      empty++;
  c->rng ^= c->rng << 13;
  c->rng ^= c->rng >> 7;
  c->rng ^= c->rng << 17;
  bool pack = (double)(c->rng >> 11) / 9007199254740992.0 < SS_C2_PACK_CHANCE;
  if (ss_c2_server_scale_down(s->spec, s->min > 0 ? s->min : 0, most, empty, pack, &target)) {
    write_replicas(c, "servers", s->obj, target);
    event(c, s->obj, "Normal", "ScaledDown",
          "Scaled server to %d replicas: %d replica(s) empty, its models want at most %d", target,
          empty, most);
    s->spec = target;
  }
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
      const struct slot *sl = slot_of(server_find(c, m->ns, cp->server), cp->replica, NULL);
      if (sl && !cp->x && cp->st != C_FAILED) {
        struct xfer *x = xfer_start(c, m, sl, false);
        if (x) { /* finished by progress(), which finds no model: freed there */
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
  progress(c);
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
      event(c, m->obj, "Normal", "Scheduled", "Scheduled on server %s, replica(s) %s", s->name,
            where);
    }
    m->announced = placed;
    m->placed = placed;
    model_apply(c, m, &pl, s);
    model_status(c, m, &pl);
    model_autoscale(c, m);
  }
  for (size_t k = 0; k < c->n_servers; k++) {
    struct server *s = c->servers[k];
    server_autoscale(c, s);
    server_run(c, s, run, ctx);
    server_status(c, s);
  }
  progress(c);
  /* what the gateway routes by */
  uint64_t h = 1469598103934665603ull;
  for (size_t k = 0; k < c->n_models; k++) {
    const struct model *m = c->models[k];
    h = hash_str(h, m->ns);
    h = hash_str(h, m->name);
    for (size_t j = 0; j < m->n; j++) {
      if (m->copies[j].st != C_LOADED)
        continue;
      const struct slot *sl = slot_of(server_find(c, m->ns, m->copies[j].server),
                                      m->copies[j].replica, NULL);
      h = hash_str(h, m->copies[j].replica);
      h = (h ^ (uint64_t)(sl ? sl->port * 2 + sl->ready : 0)) * 1099511628211ull;
    }
  }
  c->route_sig = h;
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
      struct server *s = server_find(c, m->ns, cp->server);
      int ord;
      const struct slot *sl = slot_of(s, cp->replica, &ord);
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
        s = server_find(c, m->ns, m->copies[j].server);
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
