/* core2_load.c: loads and unloads of models into Server replicas, over
 * their repository API (POST /v2/repository/models/{name}/load|unload),
 * with libcurl's multi interface so that the pass never waits for one
 * (core2_internal.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control/core2_internal.h"
#include "model/core2.h"

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

struct xfer *ss__c2_xfer_start(struct ss_core2 *c, const struct model *m, const struct slot *sl,
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

void ss__c2_copy_drop(struct ss_core2 *c, struct model *m, size_t i) {
  ss__c2_xfer_free(c, m->copies[i].x);
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
    ss__c2_xfer_free(c, x);
    return;
  }
  struct copy *cp = &m->copies[i];
  cp->x = NULL;
  bool ok = rc == CURLE_OK && code >= 200 && code < 300;
  if (x->load && ok) {
    if (cp->st != C_LOADED)
      ss_store_eventf(c->cfg.store, m->obj, "Normal", "Loaded", NULL,
                      "Loaded on server %s replica %s", cp->server, cp->replica);
    cp->st = C_LOADED;
    ss__c2_count(c, m, cp->server, cp->replica, true);
  } else if (x->load) {
    reason_of(x, rc, code, m->fail, sizeof m->fail);
    m->retry_at_ms = c->now_ms + RETRY_MS;
    ss_store_eventf(c->cfg.store, m->obj, "Warning", "LoadFailed", NULL,
                    "Failed to load on server %s: %s", cp->server, m->fail);
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
    if (ok)
      ss__c2_count(c, m, cp->server, cp->replica, false);
    ss__c2_xfer_free(c, x);
    ss__c2_copy_drop(c, m, i);
    return;
  }
  ss__c2_xfer_free(c, x);
}

void ss__c2_progress(struct ss_core2 *c) {
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
