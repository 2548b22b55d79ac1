/* cmd_wait.c: `servescale wait KIND/NAME --for=...`: waits by watch (never
 * polling) for a condition, a field's value, a replica count or deletion,
 * as kubectl wait; shows progress only on a terminal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/common.h"

struct progress {
  const char *name;
  char last[512];
  bool shown;
};

/* One status line, rewritten in place, when it changes. */
static void on_progress(void *ctx, const json_t *obj) {
  struct progress *p = ctx;
  char line[512];
  if (!obj) {
    snprintf(line, sizeof line, "%s: deleted", p->name);
  } else {
    const json_t *st = json_object_get(obj, "status");
    const char *state = json_string_value(json_object_get(st, "state"));
    long desired = ss_client_desired_replicas(obj);
    snprintf(line, sizeof line, "%s: state=%s replicas=%lld/%ld", p->name, state ? state : "-",
             (long long)json_integer_value(json_object_get(st, "replicas")), desired < 0 ? 0 : desired);
  }
  if (strcmp(line, p->last) == 0)
    return;
  snprintf(p->last, sizeof p->last, "%s", line);
  fprintf(stderr, "\r\033[K%s", line);
  fflush(stderr);
  p->shown = true;
}

/* --for=condition=Ready[=True] | delete | jsonpath={.a.b}[=V] | replicas[=N] */
static bool parse_for(char *spec, struct ss_client_wait *w) {
  if (strcmp(spec, "delete") == 0) {
    w->what = SS_CLIENT_WAIT_DELETE;
    return true;
  }
  if (strncmp(spec, "condition=", 10) == 0) {
    w->what = SS_CLIENT_WAIT_CONDITION;
    w->condition = spec + 10;
    char *eq = strchr(spec + 10, '=');
    if (eq) {
      *eq = '\0';
      w->value = eq + 1;
    }
    return *w->condition != '\0';
  }
  if (strncmp(spec, "jsonpath=", 9) == 0) {
    char *e = spec + 9, *eq = NULL;
    w->what = SS_CLIENT_WAIT_JSONPATH;
    w->jsonpath = e;
    if (*e == '{') {
      char *close = strchr(e, '}');
      if (!close)
        return false;
      if (close[1] == '=')
        eq = close + 1;
      else if (close[1])
        return false;
    } else {
      eq = strchr(e, '=');
    }
    if (eq) {
      *eq = '\0';
      w->value = eq + 1;
    }
    return *w->jsonpath != '\0';
  }
  if (strcmp(spec, "replicas") == 0 || strncmp(spec, "replicas=", 9) == 0) {
    w->what = SS_CLIENT_WAIT_REPLICAS;
    w->replicas = -1;
    if (spec[8] == '=') {
      char *end;
      w->replicas = strtol(spec + 9, &end, 10);
      return *end == '\0' && end != spec + 9 && w->replicas >= 0;
    }
    return true;
  }
  return false;
}

int ss_cmd_wait(int argc, char **argv) {
  struct ss_cli_opts o;
  int rc = ss_cli_parse(argc, argv, "nFt",
                        "servescale wait KIND/NAME --for=condition=Ready|delete|jsonpath='{.status.replicas}'=2|replicas[=N] [--timeout=30s]",
                        "Wait until objects reach a state, by watching them.", &o);
  if (rc >= 0)
    return rc;
  struct ss_client_wait w = {.timeout_ms = o.timeout_ms >= 0 ? o.timeout_ms : SS_CLI_WAIT_DEFAULT_MS};
  char spec[1024];
  if (!o.for_) {
    fprintf(stderr, "error: --for is required\n");
    return SS_EXIT_FAIL;
  }
  snprintf(spec, sizeof spec, "%s", o.for_);
  if (!parse_for(spec, &w)) {
    fprintf(stderr, "error: unrecognized condition: \"%s\"\n", o.for_);
    return SS_EXIT_FAIL;
  }
  if (w.timeout_ms == 0)
    w.timeout_ms = 1; /* kubectl: --timeout=0 checks once */
  struct ss_cli_ref refs[SS_CLI_MAX_REFS];
  size_t n = 0;
  if (!ss_cli_refs(&o, true, refs, &n))
    return SS_EXIT_FAIL;
  struct ss_client *c = NULL;
  if (!ss_cli_connect(&o, &c))
    return SS_EXIT_FAIL;
  const char *ns = ss_cli_ns(&o, c);
  bool tty = isatty(STDERR_FILENO);
  rc = SS_EXIT_OK;
  for (size_t i = 0; i < n; i++) {
    struct ss_client_error err = {0};
    struct progress p = {.name = refs[i].name};
    char label[600];
    if (tty) {
      w.progress = on_progress;
      w.ctx = &p;
    }
    if (w.what != SS_CLIENT_WAIT_DELETE) {
      /* as kubectl: waiting on what does not exist is an error at once */
      json_t *obj = NULL;
      if (ss_client_get(c, refs[i].k, ns, refs[i].name, &obj, &err)) {
        ss_cli_error(&err, NULL);
        rc = SS_EXIT_FAIL;
        continue;
      }
      json_decref(obj);
    }
    enum ss_err e = ss_client_wait(c, refs[i].k, ns, refs[i].name, &w, NULL, &err);
    if (p.shown)
      fprintf(stderr, "\r\033[K");
    if (e) {
      ss_cli_error(&err, NULL);
      rc = SS_EXIT_FAIL;
      continue;
    }
    ss_cli_object_label(refs[i].k, refs[i].name, label, sizeof label);
    printf("%s condition met\n", label);
    fflush(stdout);
  }
  ss_client_free(c);
  return rc;
}
