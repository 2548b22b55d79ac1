/* template.c: a container as the runtime runs it (template.h). */
#include "control/template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/quantity.h"

/* Seldon's health endpoint, checked often: local processes start fast. */
#define DEFAULT_PROBE_PATH "/health/ping"
#define DEFAULT_READINESS_PERIOD_MS 10

char **ss__str_vec(const json_t *arr) {
  size_t n = json_array_size(arr);
  char **v = calloc(n + 1, sizeof *v);
  for (size_t i = 0; v && i < n; i++) {
    const char *s = json_string_value(json_array_get(arr, i));
    if (!(v[i] = strdup(s ? s : ""))) {
      for (size_t j = 0; j < i; j++)
        free(v[j]);
      free(v);
      return NULL;
    }
  }
  return v;
}

static void free_vec(char **v) {
  for (size_t i = 0; v && v[i]; i++)
    free(v[i]);
  free(v);
}

void ss__template_free(struct ss_rs_template *t) {
  free_vec(t->argv);
  free_vec(t->env);
  free_vec(t->readiness.exec_argv);
  free_vec(t->liveness.exec_argv);
  memset(t, 0, sizeof *t);
}

/* A container port named or numbered in a probe is the replica's own port
 * (0): every replica listens on a port of its own. */
static void read_probe(const json_t *p, struct ss_probe *out, bool liveness) {
  memset(out, 0, sizeof *out);
  if (!json_is_object(p)) {
    out->type = SS_PROBE_HTTP;
    snprintf(out->path, sizeof out->path, "%s", DEFAULT_PROBE_PATH);
    out->period_s = liveness ? 5 : 1;
    /* a local process is ready in milliseconds: look often until it is */
    out->period_ms = liveness ? 0 : DEFAULT_READINESS_PERIOD_MS;
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
  } else if (json_is_object(tcp)) {
    out->type = SS_PROBE_TCP;
  } else if (json_is_object(ex) && json_is_array(json_object_get(ex, "command"))) {
    out->type = SS_PROBE_EXEC;
    out->exec_argv = ss__str_vec(json_object_get(ex, "command"));
  }
  out->initial_delay_s = (int)json_integer_value(json_object_get(p, "initialDelaySeconds"));
  out->period_s = (int)json_integer_value(json_object_get(p, "periodSeconds"));
  out->timeout_s = (int)json_integer_value(json_object_get(p, "timeoutSeconds"));
  out->success_threshold = (int)json_integer_value(json_object_get(p, "successThreshold"));
  out->failure_threshold = (int)json_integer_value(json_object_get(p, "failureThreshold"));
}

static int64_t request_milli(const json_t *container, const char *res) {
  struct ss_quantity q;
  return ss_container_request(container, res, &q) ? q.milli : 0;
}

/* env, then the container's own name/value pairs. */
static char **env_vec(const json_t *env, const json_t *container) {
  json_t *all = env ? json_copy((json_t *)env) : json_array();
  size_t i;
  const json_t *e;
  json_array_foreach(json_object_get(container, "env"), i, e) {
    const char *name = json_string_value(json_object_get(e, "name"));
    const char *value = json_string_value(json_object_get(e, "value"));
    if (all && name && value)
      json_array_append_new(all, json_sprintf("%s=%s", name, value));
  }
  char **v = all ? ss__str_vec(all) : NULL;
  json_decref(all);
  return v;
}

bool ss__template_build(const struct ss_image_map *images, const json_t *container,
                        const json_t *env, int grace_seconds, struct ss_rs_template *t,
                        char *why, size_t why_size) {
  memset(t, 0, sizeof *t);
  const char *image = json_string_value(json_object_get(container, "image"));
  const char *name = json_string_value(json_object_get(container, "name"));
  json_t *argv = ss_image_map_resolve(images, image);
  if (!argv) {
    snprintf(why, why_size,
             "image \"%s\" of container \"%s\" has no command: add it to the image map "
             "(serve --image-map FILE)",
             image ? image : "", name ? name : "");
    return false;
  }
  /* the container's args after the mapped command, as a Dockerfile's CMD would be */
  size_t i;
  json_t *a;
  json_array_foreach(json_object_get(container, "args"), i, a) if (json_is_string(a))
      json_array_append(argv, a);
  t->argv = ss__str_vec(argv);
  json_decref(argv);
  t->env = env_vec(env, container);
  read_probe(json_object_get(container, "readinessProbe"), &t->readiness, false);
  read_probe(json_object_get(container, "livenessProbe"), &t->liveness, true);
  t->grace_seconds = grace_seconds;
  t->cpu_request_milli = request_milli(container, "cpu");
  t->memory_request_bytes = request_milli(container, "memory") / 1000;
  if (!t->argv || !t->env) {
    ss__template_free(t);
    snprintf(why, why_size, "out of memory");
    return false;
  }
  return true;
}
