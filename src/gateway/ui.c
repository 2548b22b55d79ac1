/* ui.c: serving the dashboard (ui.h): the page, and the published state
 * whole or from a time on. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/ui.h"

#include "common/clock.h"
#include "gateway/worker.h"

struct ss_gw_ui {
  pthread_mutex_t mu;
  json_t *state;            /* under mu */
  pthread_mutex_t relay_mu; /* the relay's own: held across a relayed call */
  ss_gw_ui_relay_fn *relay; /* under relay_mu: set once the API is up */
  void *relay_ctx;
  _Atomic int64_t polled_ms; /* monotonic time of the last state request */
};

struct ss_gw_ui *ss_gw_ui_new(void) {
  struct ss_gw_ui *ui = calloc(1, sizeof *ui);
  if (ui) {
    pthread_mutex_init(&ui->mu, NULL);
    pthread_mutex_init(&ui->relay_mu, NULL);
    atomic_store(&ui->polled_ms, INT64_MIN / 2);
  }
  return ui;
}

void ss_gw_ui_free(struct ss_gw_ui *ui) {
  if (!ui)
    return;
  json_decref(ui->state);
  pthread_mutex_destroy(&ui->mu);
  pthread_mutex_destroy(&ui->relay_mu);
  free(ui);
}

void ss_gw_ui_publish(struct ss_gw_ui *ui, json_t *state) {
  pthread_mutex_lock(&ui->mu);
  json_t *old = ui->state;
  ui->state = state;
  pthread_mutex_unlock(&ui->mu);
  json_decref(old);
}

bool ss_gw_ui_wanted(struct ss_gw_ui *ui, int64_t mono_ms) {
  return ui && mono_ms - atomic_load(&ui->polled_ms) < SS_GW_UI_WANTED_MS;
}

/* The elements of each array in obj's keys at the indexes where t > since. */
static json_t *after(const json_t *obj, const json_t *t, int64_t since) {
  json_t *out = json_object();
  const char *k;
  const json_t *v;
  json_object_foreach((json_t *)obj, k, v) {
    if (!json_is_array(v)) {
      json_object_set(out, k, (json_t *)v);
      continue;
    }
    json_t *a = json_array();
    for (size_t i = 0; i < json_array_size(v); i++)
      if (json_integer_value(json_array_get(t, i)) > since)
        json_array_append(a, json_array_get(v, i));
    json_object_set_new(out, k, a);
  }
  return out;
}

/* A timeline with only what came after since. */
static json_t *timeline_after(const json_t *tl, int64_t since) {
  json_t *out = json_deep_copy(tl);
  const json_t *s = json_object_get(tl, "series");
  json_object_set_new(out, "series", after(s, json_object_get(s, "t"), since));
  json_t *ms = json_array(), *es = json_array();
  size_t i;
  const json_t *m;
  json_array_foreach(json_object_get(tl, "metrics"), i, m)
    json_array_append_new(ms, after(m, json_object_get(m, "t"), since));
  json_array_foreach(json_object_get(tl, "events"), i, m)
    if (json_integer_value(json_object_get(m, "t")) > since)
      json_array_append(es, (json_t *)m);
  json_object_set_new(out, "metrics", ms);
  json_object_set_new(out, "events", es);
  return out;
}

/* since=MS from the query; -1 when absent or not a number. */
static int64_t since_of(const char *query) {
  const char *p = query ? strstr(query, "since=") : NULL;
  if (!p || (p != query && p[-1] != '&'))
    return -1;
  char *end;
  long long v = strtoll(p + 6, &end, 10);
  return end == p + 6 || (*end && *end != '&') || v < 0 ? -1 : (int64_t)v;
}

static void state(struct ss__gw_conn *c, struct ss_gw_ui *ui, const char *query) {
  atomic_store(&ui->polled_ms, ss_mono_ms());
  pthread_mutex_lock(&ui->mu);
  json_t *st = json_incref(ui->state);
  pthread_mutex_unlock(&ui->mu);
  if (!st) {
    /* the daemon builds it once someone asks: the page retries */
    ss__gw_respond(c, 503, "application/json", "{\"pending\":true}", 16,
                   "Retry-After: 1\r\nCache-Control: no-store\r\n");
    return;
  }
  int64_t since = since_of(query);
  json_t *out = st;
  if (since >= 0) {
    out = json_deep_copy(st);
    json_t *tls = json_array();
    size_t i;
    const json_t *tl;
    json_array_foreach(json_object_get(st, "timelines"), i, tl)
      json_array_append_new(tls, timeline_after(tl, since));
    json_object_set_new(out, "timelines", tls);
    json_object_set_new(out, "incremental", json_true());
    json_decref(st);
  }
  char *body = json_dumps(out, JSON_COMPACT | JSON_REAL_PRECISION(8));
  json_decref(out);
  ss__gw_respond(c, 200, "application/json", body ? body : "{}", body ? strlen(body) : 2,
                 "Cache-Control: no-store\r\n");
  free(body);
}

void ss__gw_ui_handle(struct ss__gw_conn *c, const char *path, const char *query) {
  struct ss_gw_ui *ui = c->w->gw->cfg.ui;
  if (!ui) {
    ss__gw_respond_error(c, 404, "NOT_FOUND", "no dashboard on this gateway");
  } else if (strcmp(path, "/ui") == 0) {
    ss__gw_respond(c, 301, "text/plain", "", 0, "Location: /ui/\r\n");
  } else if (strcmp(path, "/ui/") == 0 || strcmp(path, "/ui/index.html") == 0) {
    ss__gw_respond(c, 200, "text/html; charset=utf-8", ss__gw_ui_page, strlen(ss__gw_ui_page),
                   "Cache-Control: no-cache\r\n");
  } else if (strcmp(path, "/ui/state.json") == 0) {
    state(c, ui, query);
  } else {
    ss__gw_respond_error(c, 404, "NOT_FOUND", "no such path");
  }
}

void ss_gw_ui_set_relay(struct ss_gw_ui *ui, ss_gw_ui_relay_fn *fn, void *ctx) {
  pthread_mutex_lock(&ui->relay_mu);
  ui->relay = fn;
  ui->relay_ctx = ctx;
  pthread_mutex_unlock(&ui->relay_mu);
}

void ss__gw_ui_write(struct ss__gw_conn *c, const char *method, const char *path) {
  struct ss_gw_ui *ui = c->w->gw->cfg.ui;
  const char *api_path = path + strlen("/ui/api");
  char *out = NULL;
  int code = 404;
  if (ui) {
    /* under relay_mu: clearing the relay (before the API stops) waits for a call */
    pthread_mutex_lock(&ui->relay_mu);
    if (ui->relay && strncmp(path, "/ui/api/", 8) == 0)
      code = ui->relay(ui->relay_ctx, method, api_path, c->q.ctype[0] ? c->q.ctype : NULL,
                       c->q.body.p ? c->q.body.p : "", c->q.body.n,
                       c->q.auth[0] ? c->q.auth : NULL, &out);
    pthread_mutex_unlock(&ui->relay_mu);
  }
  if (code == 404 && !out) {
    ss__gw_respond_error(c, 404, "NOT_FOUND", "no such path");
    return;
  }
  ss__gw_respond(c, code, "application/json", out ? out : "{}", out ? strlen(out) : 2, NULL);
  free(out);
}
