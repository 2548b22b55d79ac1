/* route.c: what a complete request asks for: Seldon's prediction and
 * feedback paths (after the deployment's OAuth check), the token endpoint,
 * health, metrics and Prometheus service discovery. The walk itself is
 * call.c's. */
#include <ctype.h>
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "gateway/graph.h"
#include "gateway/message.h"
#include "gateway/ui.h"
#include "gateway/worker.h"

/* The OAuth client a deployment's credentials make (oauth.c binds tokens
 * to it); false when the deployment asks for none. */
static bool oauth_client_of(const struct ss__gw_dep *d, struct ss__gw_oauth_client *cl) {
  const struct ss_sdep *s = &d->res->u.sdep;
  if (!s->oauth_key || !s->oauth_secret)
    return false;
  const char *uid = json_string_value(json_object_get(json_object_get(d->res->obj, "metadata"), "uid"));
  *cl = (struct ss__gw_oauth_client){d->ns, d->name, uid ? uid : "", s->oauth_key, s->oauth_secret};
  return true;
}

static bool same_secret(const char *a, const char *b) {
  size_t n = strlen(a);
  return n == strlen(b) && CRYPTO_memcmp(a, b, n) == 0;
}

static void token_refused(struct ss__gw_conn *c, const char *description) {
  json_t *o = json_pack("{s:s, s:s}", "error", "invalid_client", "error_description", description);
  char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;
  json_decref(o);
  ss__gw_respond(c, 401, "application/json", body ? body : "{}", body ? strlen(body) : 2,
                 "WWW-Authenticate: Basic realm=\"servescale\"\r\n");
  free(body);
}

/* POST /oauth/token: client credentials (HTTP Basic) for a bearer token. */
static void handle_token(struct ss__gw_conn *c) {
  struct ss__gw_worker *w = c->w;
  char key[256], secret[256];
  if (!ss__gw_basic_auth(c->q.auth, key, sizeof key, secret, sizeof secret)) {
    token_refused(c, "HTTP Basic key:secret required");
    return;
  }
  const struct ss__gw_dep *found = NULL;
  struct ss__gw_oauth_client cl = {0};
  for (size_t i = 0; w->table && i < w->table->n; i++) {
    const struct ss__gw_dep *d = &w->table->deps[i];
    struct ss__gw_oauth_client dc;
    if (oauth_client_of(d, &dc) && same_secret(dc.key, key) && same_secret(dc.secret, secret)) {
      found = d;
      cl = dc;
    }
  }
  OPENSSL_cleanse(secret, sizeof secret);
  char token[SS_GW_TOKEN_LEN + 1];
  if (!found || !ss__gw_oauth_issue(w->gw->oauth, &cl, time(NULL), token)) {
    token_refused(c, "Bad client credentials");
    return;
  }
  char body[256];
  int n = snprintf(body, sizeof body,
                   "{\"access_token\":\"%s\",\"token_type\":\"bearer\",\"expires_in\":%d,"
                   "\"scope\":\"read write\"}",
                   token, SS_GW_TOKEN_TTL_S);
  OPENSSL_cleanse(token, sizeof token);
  ss__gw_respond(c, 200, "application/json", body, (size_t)n, NULL);
  OPENSSL_cleanse(body, sizeof body);
}

/* The rest of a name after "<namespace>.", as the pod's name or its
 * replica set's has it. */
static const char *unqualified(const char *id, const char *ns) {
  size_t l = strlen(ns);
  return strncmp(id, ns, l) == 0 && id[l] == '.' ? id + l + 1 : id;
}

/* The meta labels of a replica for relabelling (dropped after it, as
 * Prometheus drops every __meta_ label): its namespace, pod name and the
 * pod's labels, named as Kubernetes service discovery names them
 * (__meta_servescale_pod_label_<label, non-alphanumerics as _>), so that a
 * PodMonitor's selector becomes keep rules (servescale prometheus-config). */
static void sd_meta(json_t *labels, const struct ss__gw_dep *d, const struct ss__gw_target *tg,
                    const struct ss__gw_ep *ep) {
  static const char *const pod_labels[][2] = {{SS_LABEL_SDEP_ID, NULL},
                                              {SS_LABEL_MODEL, "true"},
                                              {"app", NULL}};
  json_object_set_new(labels, "__meta_servescale_namespace", json_string(d->ns));
  json_object_set_new(labels, "__meta_servescale_pod_name",
                      json_string(unqualified(ep->id, d->ns)));
  for (size_t i = 0; i < sizeof pod_labels / sizeof *pod_labels; i++) {
    char name[96] = "__meta_servescale_pod_label_";
    size_t n = strlen(name);
    for (const char *p = pod_labels[i][0]; *p && n + 1 < sizeof name; p++)
      name[n++] = isalnum((unsigned char)*p) ? *p : '_';
    name[n] = '\0';
    const char *v = pod_labels[i][1] ? pod_labels[i][1]
                    : i == 0       ? d->name
                                   : unqualified(tg->rs, d->ns);
    json_object_set_new(labels, name, json_string(v));
  }
}

static void handle_sd(struct ss__gw_conn *c) {
  json_t *groups = json_array();
  const struct ss_gw_table *t = c->w->table;
  for (size_t i = 0; t && i < t->n; i++) {
    const struct ss__gw_dep *d = &t->deps[i];
    for (size_t j = 0; j < d->n_preds; j++)
      for (size_t k = 0; k < d->preds[j].n_targets; k++) {
        const struct ss__gw_target *tg = &d->preds[j].targets[k];
        for (size_t e = 0; e < tg->n; e++) {
          char addr[32];
          char ip[INET_ADDRSTRLEN] = "127.0.0.1";
          if (tg->eps[e]->addr) {
            struct in_addr ia = {.s_addr = tg->eps[e]->addr};
            inet_ntop(AF_INET, &ia, ip, sizeof ip);
          }
          snprintf(addr, sizeof addr, "%s:%d", ip, tg->eps[e]->port);
          json_t *g = json_pack("{s:[s], s:{s:s, s:s, s:s, s:s, s:s}}", "targets", addr,
                                "labels", "namespace", d->ns, "seldon_deployment_id", d->name,
                                "replica_set", tg->rs, "replica", tg->eps[e]->id, "pod",
                                unqualified(tg->eps[e]->id, d->ns));
          if (g)
            sd_meta(json_object_get(g, "labels"), d, tg, tg->eps[e]);
          json_array_append_new(groups, g);
        }
      }
  }
  char *s = json_dumps(groups, JSON_COMPACT);
  json_decref(groups);
  ss__gw_respond(c, 200, "application/json", s ? s : "[]", s ? strlen(s) : 2, NULL);
  free(s);
}

static void handle_metrics(struct ss__gw_conn *c) {
  char *text = c->w->gw->cfg.metrics ? ss_metrics_expose(c->w->gw->cfg.metrics) : NULL;
  ss__gw_respond(c, 200, "text/plain; version=0.0.4; charset=utf-8", text ? text : "",
          text ? strlen(text) : 0, NULL);
  free(text);
}

static bool bearer_ok(struct ss__gw_conn *c, const struct ss__gw_dep *d) {
  struct ss__gw_oauth_client cl;
  if (!oauth_client_of(d, &cl))
    return true;
  if (strncasecmp(c->q.auth, "Bearer ", 7) != 0)
    return false;
  const char *tok = c->q.auth + 7;
  return ss__gw_oauth_check(c->w->gw->oauth, &cl, tok, strlen(tok), time(NULL));
}

static const struct ss__gw_pred *pick_predictor(struct ss__gw_worker *w, const struct ss__gw_dep *d) {
  if (d->n_preds == 0)
    return NULL;
  if (d->traffic_total <= 0)
    return &d->preds[0];
  int x = (int)(ss__gw_rnd(w) % (uint64_t)d->traffic_total);
  for (size_t i = 0; i < d->n_preds; i++) {
    x -= d->preds[i].p->traffic;
    if (x < 0)
      return &d->preds[i];
  }
  return &d->preds[d->n_preds - 1];
}

static void handle_predict(struct ss__gw_conn *c, const char *ns, const char *name,
                           enum ss_gw_kind kind) {
  struct ss__gw_worker *w = c->w;
  if (!w->table) {
    /* just started: this worker has no routing table yet (control/ has not
     * published one, or this worker has not taken it); clients retry on 503 */
    char *body = ss_gw_error_body(503, "SERVICE_UNAVAILABLE", "the gateway is starting");
    ss__gw_respond(c, 503, "application/json", body ? body : "", body ? strlen(body) : 0,
                   "Retry-After: 1\r\n");
    free(body);
    return;
  }
  const struct ss__gw_dep *d = ss__gw_table_find(w->table, ns, name);
  if (!d) {
    char info[300];
    snprintf(info, sizeof info, "no deployment %s in namespace %s", name, ns);
    ss__gw_respond_error(c, 404, "NOT_FOUND", info);
    return;
  }
  if (!bearer_ok(c, d)) {
    char *body = ss_gw_error_body(401, "UNAUTHORIZED",
                                  "a valid bearer token from /oauth/token is required");
    ss__gw_respond(c, 401, "application/json", body ? body : "", body ? strlen(body) : 0,
                   "WWW-Authenticate: Bearer realm=\"servescale\"\r\n");
    free(body);
    return;
  }
  ss__gw_predict(c, d, pick_predictor(w, d), kind);
}

void ss__gw_handle(struct ss__gw_conn *c) {
  const char *url = c->q.url.p ? c->q.url.p : "";
  char path[1024];
  size_t pl = strcspn(url, "?");
  snprintf(path, sizeof path, "%.*s", (int)(pl < sizeof path ? pl : sizeof path - 1), url);
  int method = c->q.parser.method;
  struct ss__gw_route rt;
  if (ss__gw_route_parse(path, &rt)) {
    if (strcmp(rt.rest, "predictions") == 0 || strcmp(rt.rest, "feedback") == 0) {
      if (method != HTTP_POST) {
        ss__gw_respond_error(c, 405, "BAD_REQUEST", "use POST");
        return;
      }
      handle_predict(c, rt.ns, rt.name, rt.rest[0] == 'p' ? SS_GW_PREDICT : SS_GW_FEEDBACK);
      return;
    }
    if (strcmp(rt.rest, "health/ping") == 0) {
      ss__gw_respond(c, 200, "text/plain", "pong", 4, NULL);
      return;
    }
  }
  if (ss__gw_v2_handle(c, path, method))
    return;
  if (strcmp(path, "/prometheus") == 0 || strcmp(path, "/metrics") == 0) {
    handle_metrics(c);
  } else if (strcmp(path, "/ready") == 0 || strcmp(path, "/live") == 0 ||
             strcmp(path, "/healthz") == 0) {
    ss__gw_respond(c, 200, "text/plain", "ok", 2, NULL);
  } else if (strcmp(path, "/oauth/token") == 0 && method == HTTP_POST) {
    handle_token(c);
  } else if (strcmp(path, "/sd/targets") == 0) {
    handle_sd(c);
  } else if (strncmp(path, "/ui/api/", 8) == 0 &&
             (method == HTTP_POST || method == HTTP_PATCH || method == HTTP_DELETE)) {
    ss__gw_ui_write(c, method == HTTP_POST ? "POST" : method == HTTP_PATCH ? "PATCH" : "DELETE",
                    path);
  } else if (strncmp(path, "/ui", 3) == 0 && (!path[3] || path[3] == '/') && method == HTTP_GET) {
    ss__gw_ui_handle(c, path, url[pl] == '?' ? url + pl + 1 : NULL);
  } else {
    ss__gw_respond_error(c, 404, "NOT_FOUND", "no such path");
  }
}
