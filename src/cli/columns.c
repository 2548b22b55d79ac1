/* columns.c: what `get` prints for each kind, as one table of columns
 * (kubectl's printer columns; Seldon's state, replicas and address for
 * deployments), and the event ordering `events` and `describe` share. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/common.h"

typedef void (*cell_fn)(const json_t *obj, char *buf, size_t size);

static const json_t *at(const json_t *v, const char *a, const char *b, const char *c) {
  v = json_object_get(v, a);
  if (b)
    v = json_object_get(v, b);
  if (c)
    v = json_object_get(v, c);
  return v;
}

static void text(const json_t *v, char *buf, size_t size) {
  if (json_is_string(v))
    snprintf(buf, size, "%s", json_string_value(v));
  else if (json_is_integer(v))
    snprintf(buf, size, "%lld", (long long)json_integer_value(v));
  else
    snprintf(buf, size, "%s", "");
}

static void c_name(const json_t *o, char *b, size_t s) { text(at(o, "metadata", "name", NULL), b, s); }
static void c_state(const json_t *o, char *b, size_t s) { text(at(o, "status", "state", NULL), b, s); }
static void c_replicas(const json_t *o, char *b, size_t s) { text(at(o, "status", "replicas", NULL), b, s); }
static void c_address(const json_t *o, char *b, size_t s) { text(at(o, "status", "address", "url"), b, s); }
static void c_age(const json_t *o, char *b, size_t s) {
  ss_cli_age(json_string_value(at(o, "metadata", "creationTimestamp", NULL)), b, s);
}
static void c_phase(const json_t *o, char *b, size_t s) { text(at(o, "status", "phase", NULL), b, s); }

static void c_predictors(const json_t *o, char *b, size_t s) {
  size_t i, used = 0;
  json_t *p;
  b[0] = '\0';
  json_array_foreach(at(o, "spec", "predictors", NULL), i, p) {
    const char *n = json_string_value(json_object_get(p, "name"));
    if (used < s)
      used += (size_t)snprintf(b + used, s - used, "%s%s", i ? "," : "", n ? n : "?");
  }
}

static void c_generation(const json_t *o, char *b, size_t s) {
  const json_t *g = at(o, "metadata", "generation", NULL);
  const json_t *og = at(o, "status", "observedGeneration", NULL);
  snprintf(b, s, "%lld/%lld", (long long)json_integer_value(og), (long long)json_integer_value(g));
}

static void c_pod_ready(const json_t *o, char *b, size_t s) {
  size_t i, ready = 0, n = 0;
  json_t *cs;
  json_array_foreach(at(o, "status", "containerStatuses", NULL), i, cs) {
    n++;
    if (json_is_true(json_object_get(cs, "ready")))
      ready++;
  }
  snprintf(b, s, "%zu/%zu", ready, n);
}

static void c_restarts(const json_t *o, char *b, size_t s) {
  size_t i;
  long long sum = 0;
  json_t *cs;
  json_array_foreach(at(o, "status", "containerStatuses", NULL), i, cs)
    sum += json_integer_value(json_object_get(cs, "restartCount"));
  snprintf(b, s, "%lld", sum);
}

static void c_pod_ip(const json_t *o, char *b, size_t s) { text(at(o, "status", "podIP", NULL), b, s); }
static void c_pod_port(const json_t *o, char *b, size_t s) {
  text(at(o, "metadata", "annotations", "servescale.io/port"), b, s);
}

static void c_last_seen(const json_t *o, char *b, size_t s) {
  const char *ts = json_string_value(json_object_get(o, "lastTimestamp"));
  if (!ts)
    ts = json_string_value(json_object_get(o, "eventTime"));
  if (!ts)
    ts = json_string_value(at(o, "metadata", "creationTimestamp", NULL));
  ss_cli_age(ts, b, s);
}
static void c_type(const json_t *o, char *b, size_t s) { text(json_object_get(o, "type"), b, s); }
static void c_reason(const json_t *o, char *b, size_t s) { text(json_object_get(o, "reason"), b, s); }
static void c_message(const json_t *o, char *b, size_t s) { text(json_object_get(o, "message"), b, s); }
static void c_object(const json_t *o, char *b, size_t s) {
  const char *kind = json_string_value(at(o, "involvedObject", "kind", NULL));
  const char *name = json_string_value(at(o, "involvedObject", "name", NULL));
  char lower[64];
  size_t i = 0;
  for (; kind && kind[i] && i + 1 < sizeof lower; i++)
    lower[i] = (char)(kind[i] >= 'A' && kind[i] <= 'Z' ? kind[i] - 'A' + 'a' : kind[i]);
  lower[i] = '\0';
  snprintf(b, s, "%s/%s", lower, name ? name : "");
}

static void c_int(const json_t *v, char *b, size_t s) {
  if (json_is_integer(v))
    snprintf(b, s, "%lld", (long long)json_integer_value(v));
  else
    snprintf(b, s, "<unset>");
}
static void c_target(const json_t *o, char *b, size_t s) { text(at(o, "spec", "scaleTargetRef", "name"), b, s); }
static void c_hpa_min(const json_t *o, char *b, size_t s) { c_int(at(o, "spec", "minReplicas", NULL), b, s); }
static void c_hpa_max(const json_t *o, char *b, size_t s) { c_int(at(o, "spec", "maxReplicas", NULL), b, s); }
static void c_so_min(const json_t *o, char *b, size_t s) { c_int(at(o, "spec", "minReplicaCount", NULL), b, s); }
static void c_so_max(const json_t *o, char *b, size_t s) { c_int(at(o, "spec", "maxReplicaCount", NULL), b, s); }
static void c_cur(const json_t *o, char *b, size_t s) { c_int(at(o, "status", "currentReplicas", NULL), b, s); }
static void c_desired(const json_t *o, char *b, size_t s) { c_int(at(o, "status", "desiredReplicas", NULL), b, s); }
static void cond(const json_t *o, const char *type, char *b, size_t s) {
  size_t i;
  json_t *c;
  snprintf(b, s, "Unknown");
  json_array_foreach(at(o, "status", "conditions", NULL), i, c) {
    const char *t = json_string_value(json_object_get(c, "type"));
    if (t && strcmp(t, type) == 0)
      text(json_object_get(c, "status"), b, s);
  }
}
static void c_so_ready(const json_t *o, char *b, size_t s) { cond(o, "Ready", b, s); }
static void c_so_active(const json_t *o, char *b, size_t s) { cond(o, "Active", b, s); }
static void c_so_fallback(const json_t *o, char *b, size_t s) { cond(o, "Fallback", b, s); }

static void c_deploy_ready(const json_t *o, char *b, size_t s) {
  snprintf(b, s, "%lld/%lld",
           (long long)json_integer_value(at(o, "status", "readyReplicas", NULL)),
           (long long)json_integer_value(at(o, "spec", "replicas", NULL)));
}
static void c_deploy_updated(const json_t *o, char *b, size_t s) {
  snprintf(b, s, "%lld", (long long)json_integer_value(at(o, "status", "updatedReplicas", NULL)));
}
static void c_deploy_available(const json_t *o, char *b, size_t s) {
  snprintf(b, s, "%lld",
           (long long)json_integer_value(at(o, "status", "availableReplicas", NULL)));
}

static const struct column {
  const char *plural; /* the kind it belongs to */
  const char *header;
  bool wide;          /* only with -o wide */
  cell_fn fn;
} columns[] = {
    {"seldondeployments", "NAME", false, c_name},
    {"seldondeployments", "STATE", false, c_state},
    {"seldondeployments", "REPLICAS", false, c_replicas},
    {"seldondeployments", "ADDRESS", false, c_address},
    {"seldondeployments", "AGE", false, c_age},
    {"seldondeployments", "PREDICTORS", true, c_predictors},
    {"seldondeployments", "OBSERVED/GENERATION", true, c_generation},
    {"models", "NAME", false, c_name},
    {"models", "READY", false, c_state},
    {"models", "REPLICAS", false, c_replicas},
    {"models", "AGE", false, c_age},
    {"servers", "NAME", false, c_name},
    {"servers", "READY", false, c_state},
    {"servers", "REPLICAS", false, c_replicas},
    {"servers", "AGE", false, c_age},
    {"namespaces", "NAME", false, c_name},
    {"namespaces", "STATUS", false, c_phase},
    {"namespaces", "AGE", false, c_age},
    {"pods", "NAME", false, c_name},
    {"pods", "READY", false, c_pod_ready},
    {"pods", "STATUS", false, c_phase},
    {"pods", "RESTARTS", false, c_restarts},
    {"pods", "AGE", false, c_age},
    {"pods", "IP", true, c_pod_ip},
    {"pods", "PORT", true, c_pod_port},
    {"horizontalpodautoscalers", "NAME", false, c_name},
    {"horizontalpodautoscalers", "REFERENCE", false, c_target},
    {"horizontalpodautoscalers", "MINPODS", false, c_hpa_min},
    {"horizontalpodautoscalers", "MAXPODS", false, c_hpa_max},
    {"horizontalpodautoscalers", "REPLICAS", false, c_cur},
    {"horizontalpodautoscalers", "DESIRED", false, c_desired},
    {"horizontalpodautoscalers", "AGE", false, c_age},
    {"scaledobjects", "NAME", false, c_name},
    {"scaledobjects", "SCALETARGETNAME", false, c_target},
    {"scaledobjects", "MIN", false, c_so_min},
    {"scaledobjects", "MAX", false, c_so_max},
    {"scaledobjects", "REPLICAS", false, c_cur},
    {"scaledobjects", "DESIRED", false, c_desired},
    {"scaledobjects", "READY", false, c_so_ready},
    {"scaledobjects", "ACTIVE", false, c_so_active},
    {"scaledobjects", "FALLBACK", false, c_so_fallback},
    {"scaledobjects", "AGE", false, c_age},
    {"events", "LAST SEEN", false, c_last_seen},
    {"events", "TYPE", false, c_type},
    {"events", "REASON", false, c_reason},
    {"events", "OBJECT", false, c_object},
    {"events", "MESSAGE", false, c_message},
    {"deployments", "NAME", false, c_name},
    {"deployments", "READY", false, c_deploy_ready},
    {"deployments", "UP-TO-DATE", false, c_deploy_updated},
    {"deployments", "AVAILABLE", false, c_deploy_available},
    {"deployments", "AGE", false, c_age},
    /* any other kind: NAME and AGE, as kubectl prints one without columns */
    {"*", "NAME", false, c_name},
    {"*", "AGE", false, c_age},
};
#define N_COLUMNS (sizeof columns / sizeof *columns)
#define MAX_ROW 16

struct ss_cli_table *ss_cli_list_table(const struct ss_client_kind *k, const json_t *items,
                                       bool wide, bool all_ns, bool prefix) {
  const struct column *cols[MAX_ROW];
  size_t n = 0;
  for (size_t i = 0; i < N_COLUMNS && n < MAX_ROW; i++)
    if (strcmp(columns[i].plural, k->plural) == 0 && (wide || !columns[i].wide))
      cols[n++] = &columns[i];
  if (n == 0) /* a kind without columns of its own */
    for (size_t i = 0; i < N_COLUMNS && n < MAX_ROW; i++)
      if (strcmp(columns[i].plural, "*") == 0)
        cols[n++] = &columns[i];
  size_t extra = all_ns && k->namespaced ? 1 : 0;
  struct ss_cli_table *t = ss_cli_table_new(n + extra);
  if (!t)
    return NULL;
  const char *cells[MAX_ROW + 1];
  char bufs[MAX_ROW + 1][1024];
  if (extra)
    cells[0] = "NAMESPACE";
  for (size_t c = 0; c < n; c++)
    cells[c + extra] = cols[c]->header;
  ss_cli_table_add(t, cells);
  size_t i;
  const json_t *it;
  json_array_foreach(items, i, it) {
    if (extra) {
      text(at(it, "metadata", "namespace", NULL), bufs[0], sizeof bufs[0]);
      cells[0] = bufs[0];
    }
    for (size_t c = 0; c < n; c++) {
      char *b = bufs[c + extra];
      cols[c]->fn(it, b, sizeof bufs[0]);
      if (prefix && cols[c]->fn == c_name) {
        char kl[128], tmp[1024];
        snprintf(tmp, sizeof tmp, "%s/%s", ss_client_kind_label(k, kl, sizeof kl), b);
        snprintf(b, sizeof bufs[0], "%s", tmp);
      }
      cells[c + extra] = b;
    }
    ss_cli_table_add(t, cells);
  }
  return t;
}

static const char *event_time(const json_t *e) {
  const char *ts = json_string_value(json_object_get(e, "lastTimestamp"));
  if (!ts)
    ts = json_string_value(json_object_get(e, "eventTime"));
  if (!ts)
    ts = json_string_value(at(e, "metadata", "creationTimestamp", NULL));
  return ts ? ts : "";
}

static unsigned long long rv_of(const json_t *e) {
  const char *rv = json_string_value(at(e, "metadata", "resourceVersion", NULL));
  return rv ? strtoull(rv, NULL, 10) : 0;
}

static int by_time(const void *a, const void *b) {
  const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
  int c = strcmp(event_time(x), event_time(y)); /* RFC 3339 UTC sorts as text */
  if (c)
    return c;
  unsigned long long rx = rv_of(x), ry = rv_of(y);
  return rx < ry ? -1 : rx > ry;
}

json_t *ss_cli_sort_events(const json_t *items) {
  size_t n = json_array_size(items);
  json_t **v = calloc(n ? n : 1, sizeof *v);
  json_t *out = json_array();
  if (!v || !out) {
    free(v);
    json_decref(out);
    return NULL;
  }
  for (size_t i = 0; i < n; i++)
    v[i] = json_array_get(items, i);
  qsort(v, n, sizeof *v, by_time);
  for (size_t i = 0; i < n; i++)
    json_array_append(out, v[i]);
  free(v);
  return out;
}
