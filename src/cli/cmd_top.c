/* cmd_top.c: `servescale top`: each autoscaled target (the daemon's
 * read-only HorizontalPodAutoscalers and ScaledObjects) with its replicas,
 * metric vs target and conditions; -w refreshes it every 2 s. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/common.h"

#define TOP_REFRESH_S 2

static const json_t *at(const json_t *v, const char *a, const char *b) {
  v = json_object_get(v, a);
  return b ? json_object_get(v, b) : v;
}

static void num(const json_t *v, char *buf, size_t size) {
  if (json_is_integer(v))
    snprintf(buf, size, "%lld", (long long)json_integer_value(v));
  else if (json_is_real(v))
    snprintf(buf, size, "%.4g", json_real_value(v));
  else if (json_is_string(v))
    snprintf(buf, size, "%s", json_string_value(v));
  else
    snprintf(buf, size, "<unknown>");
}

static void append(char *buf, size_t size, const char *s) {
  size_t n = strlen(buf);
  if (n < size)
    snprintf(buf + n, size - n, "%s%s", n ? ", " : "", s);
}

/* "s0-prometheus: 12.5/10" per trigger. */
static void so_metrics(const json_t *o, char *buf, size_t size) {
  const json_t *spec_t = at(o, "spec", "triggers"), *st = at(o, "status", "triggers");
  buf[0] = '\0';
  for (size_t i = 0; i < json_array_size(spec_t); i++) {
    const json_t *t = json_array_get(spec_t, i), *s = json_array_get(st, i);
    const char *type = json_string_value(json_object_get(t, "type"));
    const json_t *md = json_object_get(t, "metadata");
    char cur[64], target[64], one[200];
    bool res = type && (strcmp(type, "cpu") == 0 || strcmp(type, "memory") == 0);
    num(json_object_get(s, res ? "averageUtilization" : "value"), cur, sizeof cur);
    num(json_object_get(md, res ? "value" : "threshold"), target, sizeof target);
    const char *name = json_string_value(json_object_get(s, "metricName"));
    snprintf(one, sizeof one, "%s: %s%s/%s%s%s", name ? name : type ? type : "?", cur,
             res ? "%" : "", target, res ? "%" : "",
             json_is_true(json_object_get(s, "fallback")) ? " (fallback)"
             : json_is_true(json_object_get(s, "failed")) ? " (failed)"
                                                           : "");
    append(buf, size, one);
  }
}

/* "cpu: 45%/80%" per metric. */
static void hpa_metrics(const json_t *o, char *buf, size_t size) {
  const json_t *spec_m = at(o, "spec", "metrics"), *cur_m = at(o, "status", "currentMetrics");
  buf[0] = '\0';
  for (size_t i = 0; i < json_array_size(spec_m); i++) {
    const json_t *m = json_array_get(spec_m, i);
    const char *type = json_string_value(json_object_get(m, "type"));
    const char *field = type && strcmp(type, "Resource") == 0            ? "resource"
                        : type && strcmp(type, "ContainerResource") == 0 ? "containerResource"
                        : type && strcmp(type, "Pods") == 0              ? "pods"
                        : type && strcmp(type, "Object") == 0            ? "object"
                                                                         : "external";
    const json_t *inner = json_object_get(m, field);
    const json_t *target = json_object_get(inner, "target");
    const char *name = json_string_value(json_object_get(inner, "name"));
    if (!name)
      name = json_string_value(at(inner, "metric", "name"));
    const json_t *cur = NULL;
    for (size_t j = 0; j < json_array_size(cur_m); j++) {
      const json_t *c = json_object_get(json_array_get(cur_m, j), field);
      const char *cn = json_string_value(json_object_get(c, "name"));
      if (!cn)
        cn = json_string_value(at(c, "metric", "name"));
      if (cn && name && strcmp(cn, name) == 0)
        cur = json_object_get(c, "current");
    }
    char c[64], t[64], one[200];
    bool util = json_object_get(target, "averageUtilization") != NULL;
    const char *key = util ? "averageUtilization"
                      : json_object_get(target, "averageValue") ? "averageValue"
                                                                : "value";
    if (cur)
      num(json_object_get(cur, key), c, sizeof c);
    else
      snprintf(c, sizeof c, "<unknown>");
    num(json_object_get(target, key), t, sizeof t);
    snprintf(one, sizeof one, "%s: %s%s/%s%s", name ? name : "?", c, util && cur ? "%" : "", t,
             util ? "%" : "");
    append(buf, size, one);
  }
}

/* The conditions that are True, then the reasons of those that are not. */
static void conds(const json_t *o, char *buf, size_t size) {
  size_t i;
  const json_t *c;
  buf[0] = '\0';
  json_array_foreach(at(o, "status", "conditions"), i, c) {
    const char *type = json_string_value(json_object_get(c, "type"));
    const char *st = json_string_value(json_object_get(c, "status"));
    if (type && st && strcmp(st, "True") == 0)
      append(buf, size, type);
  }
  if (!buf[0])
    snprintf(buf, size, "<none>");
}

static int show(struct ss_client *c, const char *ns, bool all_ns) {
  static const char *const words[] = {"scaledobjects", "horizontalpodautoscalers"};
  struct ss_cli_table *t = ss_cli_table_new(all_ns ? 6 : 5);
  int rc = SS_EXIT_OK;
  size_t rows = 0;
  if (!t)
    return SS_EXIT_FAIL;
  const char *head[] = {"NAMESPACE", "NAME", "REPLICAS", "MIN/MAX", "METRIC/TARGET", "CONDITIONS"};
  ss_cli_table_add(t, all_ns ? head : head + 1);
  for (size_t w = 0; w < 2; w++) {
    const struct ss_client_kind *k = ss_client_kind_find(words[w]);
    struct ss_client_error err = {0};
    json_t *list = NULL;
    if (!k || ss_client_list(c, k, ns, NULL, NULL, &list, &err)) {
      ss_cli_error(&err, NULL);
      rc = SS_EXIT_FAIL;
      continue;
    }
    size_t i;
    const json_t *o;
    json_array_foreach(json_object_get(list, "items"), i, o) {
      bool so = w == 0;
      char name[300], reps[64], cur[32], want[32], lo[32], hi[32], metric[1024], cond[256],
          kl[128];
      snprintf(name, sizeof name, "%s/%s", ss_client_kind_label(k, kl, sizeof kl),
               json_string_value(at(o, "metadata", "name")) ? json_string_value(at(o, "metadata", "name")) : "");
      num(at(o, "status", "currentReplicas"), cur, sizeof cur);
      num(at(o, "status", "desiredReplicas"), want, sizeof want);
      snprintf(reps, sizeof reps, "%s/%s", cur, want);
      num(at(o, "spec", so ? "minReplicaCount" : "minReplicas"), lo, sizeof lo);
      num(at(o, "spec", so ? "maxReplicaCount" : "maxReplicas"), hi, sizeof hi);
      char mm[70];
      snprintf(mm, sizeof mm, "%s/%s", lo, hi);
      if (so)
        so_metrics(o, metric, sizeof metric);
      else
        hpa_metrics(o, metric, sizeof metric);
      conds(o, cond, sizeof cond);
      const char *cells[] = {json_string_value(at(o, "metadata", "namespace")), name, reps, mm,
                             metric, cond};
      if (!cells[0])
        cells[0] = "";
      ss_cli_table_add(t, all_ns ? cells : cells + 1);
      rows++;
    }
    json_decref(list);
  }
  if (rows)
    ss_cli_table_print(t, stdout);
  else if (rc == SS_EXIT_OK)
    fprintf(stderr, "No autoscaled targets found%s%s%s.\n", ns ? " in " : "", ns ? ns : "",
            ns ? " namespace" : "");
  ss_cli_table_free(t);
  fflush(stdout);
  return rc;
}

int ss_cmd_top(int argc, char **argv) {
  struct ss_cli_opts o;
  int rc = ss_cli_parse(argc, argv, "nAw", "servescale top [-n NS | -A] [-w]",
                        "Show each autoscaled target (ScaledObjects and HorizontalPodAutoscalers):\n"
                        "replicas current/desired, min/max, metric vs target, conditions that hold.\n"
                        "-w refreshes every 2 s.",
                        &o);
  if (rc >= 0)
    return rc;
  struct ss_client *c = NULL;
  if (!ss_cli_connect(&o, &c))
    return SS_EXIT_FAIL;
  const char *ns = o.all_ns ? NULL : ss_cli_ns(&o, c);
  for (;;) {
    rc = show(c, ns, o.all_ns);
    if (!o.watch)
      break;
    sleep(TOP_REFRESH_S);
    printf("\n");
  }
  ss_client_free(c);
  return rc;
}
