/* common.c: the API commands' shared parts: one option table, connecting,
 * resource arguments, reading and validating files, kubectl's error shape. */
#include "cli/common.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "common/paths.h"
#include "model/resource.h"

enum arg { NONE, REQUIRED, OPTIONAL };

/* letter (what commands name), long name, short option (0: none), argument, help */
static const struct opt_row {
  char letter;
  const char *name;
  char short_opt;
  enum arg arg;
  const char *help;
} rows[] = {
    {'n', "namespace", 'n', REQUIRED, "namespace (default: the kubeconfig context's)"},
    {'A', "all-namespaces", 'A', NONE, "every namespace"},
    {'f', "filename", 'f', REQUIRED, "file of resources, JSON or YAML, several documents; '-' is stdin (repeatable)"},
    {'o', "output", 'o', REQUIRED, "json, yaml, wide or name (record: the trace's file)"},
    {'l', "selector", 'l', REQUIRED, "label selector (app=x,tier!=y)"},
    {'F', "for", 0, REQUIRED, "condition=NAME[=VALUE], delete, jsonpath={.path}=VALUE, replicas[=N]"},
    {'t', "timeout", 0, REQUIRED, "how long to wait (30s, 2m, 1h)"},
    {'r', "replicas", 0, REQUIRED, "the new number of replicas"},
    {'w', "watch", 'w', NONE, "after listing, print changes as they happen"},
    {'v', "validate", 0, OPTIONAL, "true (default) checks files before sending; false sends them as they are"},
    {'i', "ignore-not-found", 0, NONE, "a missing object is not an error"},
    {'k', "kubeconfig", 0, REQUIRED, "kubeconfig file (default: $KUBECONFIG, servescale's state dir, ~/.kube/config)"},
    {'g', "gateway", 0, REQUIRED, "the daemon's gateway URL (default: $SERVESCALE_GATEWAY, the daemon's state dir, " SS_DEFAULT_GATEWAY_URL ")"},
    {'I', "interval", 0, REQUIRED, "scrape and discovery interval: 5s, 500ms, 1m (default 5s; record: a row's, default 1s)"},
    {'u', "users", 'u', REQUIRED, "concurrent users (loadtest; default 1)"},
    {'R', "spawn-rate", 0, REQUIRED, "users started per second (loadtest; default: all at once)"},
    {'d', "duration", 0, REQUIRED, "how long to run: 60s, 2m (loadtest; default 60s; record: 10m)"},
    {'q', "rps", 0, REQUIRED, "total requests per second (loadtest; default: as fast as answered)"},
    {'2', "v2", 0, NONE, "send the V2 inference protocol's body instead of a Seldon message"},
    {'s', "since", 0, REQUIRED, "how far back: 10m, 90s (default 10m)"},
    {'T', "trace", 0, REQUIRED, "load trace: CSV of TIME,RPS (seconds, requests per second)"},
    {'P', "policy", 0, REQUIRED, "hpa, keda, kpa, ray, servescale or all (default all)"},
    {'S', "slo-p99-ms", 0, REQUIRED, "the SLO: p99 latency in ms (simulate; default 100)"},
    {'V', "service-time-ms", 0, REQUIRED, "a request's service time in ms (simulate; default 20)"},
    {'U', "startup-ms", 0, REQUIRED, "a replica's start-up time in ms (simulate; default 2000)"},
    {'C', "concurrency", 0, REQUIRED, "requests a replica serves at once (simulate; default 1)"},
    {'D', "metric-delay-ms", 0, REQUIRED, "age of the HPA's and KEDA's metrics in ms (simulate; default 15000)"},
    {'a', "arrivals", 0, REQUIRED, "poisson (default) or paced: how the trace's requests arrive (simulate)"},
};
#define N_ROWS (sizeof rows / sizeof *rows)

static void help(FILE *f, const char *accepted, const char *synopsis, const char *about) {
  fprintf(f, "%s\n\nUsage: %s\n\nOptions:\n", about, synopsis);
  for (size_t i = 0; i < N_ROWS; i++) {
    if (!strchr(accepted, rows[i].letter) && rows[i].letter != 'k')
      continue;
    char left[64];
    if (rows[i].short_opt)
      snprintf(left, sizeof left, "-%c, --%s%s", rows[i].short_opt, rows[i].name,
               rows[i].arg == REQUIRED ? "=..." : "");
    else
      snprintf(left, sizeof left, "    --%s%s", rows[i].name,
               rows[i].arg == REQUIRED ? "=..." : rows[i].arg == OPTIONAL ? "[=...]" : "");
    fprintf(f, "  %-26s %s\n", left, rows[i].help);
  }
  fprintf(f, "  %-26s %s\n", "-h, --help", "this text");
}

static bool truthy(const char *s, bool *out) {
  if (!s || strcmp(s, "true") == 0 || strcmp(s, "strict") == 0 || strcmp(s, "warn") == 0) {
    *out = true;
    return true;
  }
  if (strcmp(s, "false") == 0 || strcmp(s, "ignore") == 0) {
    *out = false;
    return true;
  }
  return false;
}

/* The numeric rows (--users, --spawn-rate, --rps, --duration, --since),
 * each checked against its bounds; false after saying which is wrong. */
static bool number_opt(const struct opt_row *row, const char *arg, struct ss_cli_opts *o) {
  char *end;
  if (row->letter == 'd' || row->letter == 's') {
    int ms = ss_cli_duration_ms(arg);
    if (ms <= 0) {
      fprintf(stderr, "error: invalid --%s \"%s\": give a duration like 30s, 2m or 1h\n",
              row->name, arg);
      return false;
    }
    *(row->letter == 'd' ? &o->duration_ms : &o->since_ms) = ms;
    return true;
  }
  double v = strtod(arg, &end);
  bool whole = row->letter == 'u';
  if (end == arg || *end || !(v > 0) || v > 1e6 || (whole && v != (double)(int)v)) {
    fprintf(stderr, "error: --%s must be a%s number above 0, not \"%s\"\n", row->name,
            whole ? " whole" : "", arg);
    return false;
  }
  if (row->letter == 'u')
    o->users = (int)v;
  else if (row->letter == 'R')
    o->spawn_rate = v;
  else
    o->rps = v;
  return true;
}

int ss_cli_parse(int argc, char **argv, const char *accepted, const char *synopsis,
                 const char *about, struct ss_cli_opts *o) {
  struct option longopts[N_ROWS + 2];
  char shorts[64];
  size_t nl = 0, ns = 0;
  memset(o, 0, sizeof *o);
  o->cmd = argv[0];
  o->timeout_ms = -1;
  o->replicas = -1;
  o->validate = true;
  o->duration_ms = -1;
  o->since_ms = -1;
  for (size_t i = 0; i < N_ROWS; i++) {
    /* --kubeconfig is every API command's */
    if (!strchr(accepted, rows[i].letter) && rows[i].letter != 'k')
      continue;
    int has = rows[i].arg == NONE ? no_argument
              : rows[i].arg == REQUIRED ? required_argument : optional_argument;
    longopts[nl++] = (struct option){rows[i].name, has, NULL, 1000 + (int)i};
    if (rows[i].short_opt) {
      shorts[ns++] = rows[i].short_opt;
      if (rows[i].arg == REQUIRED)
        shorts[ns++] = ':';
    }
  }
  longopts[nl++] = (struct option){"help", no_argument, NULL, 'h'};
  longopts[nl] = (struct option){NULL, 0, NULL, 0};
  shorts[ns++] = 'h';
  shorts[ns] = '\0';
  int c;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, shorts, longopts, NULL)) != -1) {
    if (c == 'h') {
      help(stdout, accepted, synopsis, about);
      return SS_EXIT_OK;
    }
    const struct opt_row *row = NULL;
    if (c >= 1000 && c < 1000 + (int)N_ROWS) {
      row = &rows[c - 1000];
    } else {
      for (size_t i = 0; i < N_ROWS; i++)
        if (rows[i].short_opt && rows[i].short_opt == c)
          row = &rows[i];
    }
    if (!row) {
      const char *bad = optind > 1 && optind <= argc ? argv[optind - 1] : "?";
      fprintf(stderr, "error: unknown or incomplete flag \"%s\" for \"servescale %s\"\n"
                      "See 'servescale %s --help' for usage.\n", bad, o->cmd, o->cmd);
      return SS_EXIT_FAIL;
    }
    switch (row->letter) {
    case 'n': o->ns = optarg; break;
    case 'A': o->all_ns = true; break;
    case 'k': o->kubeconfig = optarg; break;
    case 'g': o->gateway = optarg; break;
    case 'I': o->interval = optarg; break;
    case 'T': o->trace = optarg; break;
    case 'P': o->policy = optarg; break;
    case 'S': o->slo_p99_ms = optarg; break;
    case 'V': o->service_time_ms = optarg; break;
    case 'U': o->startup_ms = optarg; break;
    case 'C': o->concurrency = optarg; break;
    case 'D': o->metric_delay_ms = optarg; break;
    case 'a': o->arrivals = optarg; break;
    case 'o': o->output = optarg; break;
    case 'l': o->selector = optarg; break;
    case 'F': o->for_ = optarg; break;
    case 'w': o->watch = true; break;
    case 'i': o->ignore_not_found = true; break;
    case 'f':
      if (o->n_files == SS_CLI_MAX_FILES) {
        fprintf(stderr, "error: at most %d files\n", SS_CLI_MAX_FILES);
        return SS_EXIT_FAIL;
      }
      o->files[o->n_files++] = optarg;
      break;
    case 't':
      if ((o->timeout_ms = ss_cli_duration_ms(optarg)) < 0) {
        fprintf(stderr, "error: invalid --timeout \"%s\": give a duration like 30s, 2m or 1h\n",
                optarg);
        return SS_EXIT_FAIL;
      }
      break;
    case 'r': {
      char *end;
      o->replicas = strtol(optarg, &end, 10);
      if (*end || end == optarg || o->replicas < 0 || o->replicas > 1000000) {
        fprintf(stderr, "error: --replicas must be a whole number >= 0, not \"%s\"\n", optarg);
        return SS_EXIT_FAIL;
      }
      break;
    }
    case 'u': case 'R': case 'q': case 'd': case 's':
      if (!number_opt(row, optarg, o))
        return SS_EXIT_FAIL;
      break;
    case '2': o->v2 = true; break;
    case 'v':
      if (!truthy(optarg, &o->validate)) {
        fprintf(stderr, "error: --validate must be true or false, not \"%s\"\n", optarg);
        return SS_EXIT_FAIL;
      }
      break;
    default:
      break;
    }
  }
  for (; optind < argc; optind++) {
    if (o->n_args == SS_CLI_MAX_ARGS) {
      fprintf(stderr, "error: at most %d arguments\n", SS_CLI_MAX_ARGS);
      return SS_EXIT_FAIL;
    }
    o->args[o->n_args++] = argv[optind];
  }
  return -1;
}

static void print_warning(void *ctx, const char *text) {
  (void)ctx;
  fprintf(stderr, "Warning: %s\n", text);
}

bool ss_cli_connect(const struct ss_cli_opts *o, struct ss_client **c) {
  struct ss_client_config cfg = {0};
  struct ss_client_error err = {0};
  struct ss_client_options opts = {.on_warning = print_warning};
  bool ok = false;
  if (ss_client_config_load(o->kubeconfig, NULL, &cfg, &err)) {
    fprintf(stderr, "error: %s\n", err.msg);
    if (err.code == SS_EIO)
      fprintf(stderr, "Is the daemon running? Start it with: servescale serve\n");
    goto out;
  }
  if (ss_client_new(&cfg, &opts, c, &err)) {
    fprintf(stderr, "error: %s\n", err.msg);
    goto out;
  }
  ok = true;
out:
  ss_client_config_free(&cfg);
  return ok;
}

const char *ss_cli_ns(const struct ss_cli_opts *o, const struct ss_client *c) {
  return o->ns && *o->ns ? o->ns : ss_client_namespace(c);
}

static bool add_ref(struct ss_cli_ref *refs, size_t *n, const struct ss_client_kind *k,
                    const char *name) {
  if (*n == SS_CLI_MAX_REFS) {
    fprintf(stderr, "error: at most %d resources at once\n", SS_CLI_MAX_REFS);
    return false;
  }
  if (strlen(name) >= SS_CLI_NAME_MAX) {
    fprintf(stderr, "error: name too long: \"%.40s...\"\n", name);
    return false;
  }
  refs[*n].k = k;
  snprintf(refs[*n].name, sizeof refs[*n].name, "%s", name);
  (*n)++;
  return true;
}

static const struct ss_client_kind *kind_or_complain(const char *word) {
  const struct ss_client_kind *k = ss_client_kind_find(word);
  if (!k)
    fprintf(stderr, "error: the server doesn't have a resource type \"%s\"\n", word);
  return k;
}

bool ss_cli_refs(const struct ss_cli_opts *o, bool need_name, struct ss_cli_ref *refs,
                 size_t *n) {
  *n = 0;
  if (o->n_args == 0) {
    fprintf(stderr, "error: you must specify the type of resource%s\n",
            need_name ? " and its name (e.g. sdep/seldon-model)" : " (e.g. sdep)");
    return false;
  }
  if (strchr(o->args[0], '/')) {
    /* every argument is KIND/NAME */
    for (int i = 0; i < o->n_args; i++) {
      char kind[128];
      const char *slash = strchr(o->args[i], '/');
      if (!slash || slash == o->args[i] || !slash[1] || (size_t)(slash - o->args[i]) >= sizeof kind) {
        fprintf(stderr, "error: there is no need to specify a resource type as a separate "
                        "argument when passing arguments in resource/name form (got \"%s\")\n",
                o->args[i]);
        return false;
      }
      snprintf(kind, sizeof kind, "%.*s", (int)(slash - o->args[i]), o->args[i]);
      const struct ss_client_kind *k = kind_or_complain(kind);
      if (!k || !add_ref(refs, n, k, slash + 1))
        return false;
    }
    return true;
  }
  /* KIND[,KIND...] [NAME...] */
  const struct ss_client_kind *kinds[8];
  size_t nk = 0;
  char list[256];
  snprintf(list, sizeof list, "%s", o->args[0]);
  for (char *save = NULL, *w = strtok_r(list, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
    if (nk == sizeof kinds / sizeof *kinds) {
      fprintf(stderr, "error: too many resource types\n");
      return false;
    }
    if (!(kinds[nk++] = kind_or_complain(w)))
      return false;
  }
  if (nk == 0)
    return kind_or_complain(o->args[0]) != NULL;
  if (o->n_args > 1 && nk > 1) {
    fprintf(stderr, "error: names can be given with one resource type only\n");
    return false;
  }
  if (o->n_args == 1) {
    if (need_name) {
      fprintf(stderr, "error: a name is required: %s NAME or %s/NAME\n", o->args[0], o->args[0]);
      return false;
    }
    for (size_t i = 0; i < nk; i++)
      if (!add_ref(refs, n, kinds[i], ""))
        return false;
    return true;
  }
  for (int i = 1; i < o->n_args; i++)
    if (!add_ref(refs, n, kinds[0], o->args[i]))
      return false;
  return true;
}

static void print_diags(const char *file, const struct ss_resource *r, bool errors_as_warnings) {
  for (size_t i = 0; i < r->diags.n; i++) {
    const struct ss_diag *d = &r->diags.v[i];
    const char *sev = d->sev == SS_SEV_WARNING || errors_as_warnings ? "warning: " : "";
    const char *path = d->path[0] ? d->path : "(document)";
    if (d->line)
      fprintf(stderr, "%s:%u:%u: %s%s: %s\n", file, d->line, d->col, sev, path, d->msg);
    else
      fprintf(stderr, "%s: %s%s: %s\n", file, sev, path, d->msg);
  }
}

bool ss_cli_load_files(const struct ss_cli_opts *o, const char *ns, json_t **out) {
  json_t *all = json_array();
  bool ok = all != NULL;
  for (size_t f = 0; ok && f < o->n_files; f++) {
    const char *name = strcmp(o->files[f], "-") == 0 ? "<stdin>" : o->files[f];
    char *buf = NULL;
    size_t len = 0;
    struct ss_error err = {0};
    struct ss_resource_set set = {0};
    if (ss_read_file(o->files[f], &buf, &len, &err) ||
        ss_resources_load(buf, len, ns, &set, &err)) {
      if (err.line)
        fprintf(stderr, "%s:%u:%u: %s\n", name, err.line, err.col, err.msg);
      else
        fprintf(stderr, "error: %s: %s\n", name, err.msg);
      ok = false;
    } else if (set.n == 0) {
      fprintf(stderr, "error: no objects passed to %s (%s holds none)\n", o->cmd, name);
      ok = false;
    }
    for (size_t i = 0; i < set.n; i++) {
      const struct ss_resource *r = &set.v[i];
      print_diags(name, r, !o->validate);
      if (r->diags.errors && o->validate) {
        ok = false;
        continue;
      }
      const char *ons = json_string_value(json_object_get(json_object_get(r->obj, "metadata"), "namespace"));
      const struct ss_client_kind *k = ss_client_kind_of(r->obj);
      if (k && k->namespaced && o->ns && ons && strcmp(ons, o->ns) != 0) {
        fprintf(stderr, "error: the namespace from the provided object \"%s\" does not match the "
                        "namespace \"%s\". You must pass '--namespace=%s' to perform this "
                        "operation.\n", ons, o->ns, ons);
        ok = false;
        continue;
      }
      json_array_append_new(all, json_pack("{s:s, s:O}", "file", name, "object", r->obj));
    }
    ss_resources_free(&set);
    free(buf);
  }
  if (!ok) {
    json_decref(all);
    return false;
  }
  *out = all;
  return true;
}

void ss_cli_error(const struct ss_client_error *err, const char *when) {
  if (err->reason[0] || err->http)
    fprintf(stderr, "Error from server (%s): %s%s%s%s\n",
            err->reason[0] ? err->reason : "Unknown", when ? "error when " : "", when ? when : "",
            when ? ": " : "", err->msg);
  else
    fprintf(stderr, "error: %s%s%s\n", when ? when : "", when ? ": " : "", err->msg);
  /* The message names the causes' fields; a cause it leaves out is added. */
  for (size_t i = 0; i < err->n_causes; i++)
    if (!err->causes[i].field[0] || !strstr(err->msg, err->causes[i].field))
      fprintf(stderr, "  %s: %s\n", err->causes[i].field[0] ? err->causes[i].field : "(object)",
              err->causes[i].message);
}

void ss_cli_object_label(const struct ss_client_kind *k, const char *name, char *buf,
                         size_t size) {
  char kl[128];
  snprintf(buf, size, "%s/%s", ss_client_kind_label(k, kl, sizeof kl), name);
}

void ss_cli_age(const char *ts, char *buf, size_t size) {
  struct tm tm = {0};
  const char *end = ts ? strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
  if (!end) {
    snprintf(buf, size, "<unknown>");
    return;
  }
  long d = (long)difftime(time(NULL), timegm(&tm));
  if (d < 0)
    d = 0;
  /* kubectl's HumanDuration */
  long m = d / 60, h = d / 3600, days = d / 86400;
  if (d < 120)
    snprintf(buf, size, "%lds", d);
  else if (m < 10)
    d % 60 ? snprintf(buf, size, "%ldm%lds", m, d % 60) : snprintf(buf, size, "%ldm", m);
  else if (m < 180)
    snprintf(buf, size, "%ldm", m);
  else if (h < 8)
    m % 60 ? snprintf(buf, size, "%ldh%ldm", h, m % 60) : snprintf(buf, size, "%ldh", h);
  else if (h < 48)
    snprintf(buf, size, "%ldh", h);
  else if (h < 24 * 8)
    h % 24 ? snprintf(buf, size, "%ldd%ldh", days, h % 24) : snprintf(buf, size, "%ldd", days);
  else
    snprintf(buf, size, "%ldd", days);
}

int ss_cli_duration_ms(const char *s) {
  char *end;
  double v = strtod(s, &end);
  double mul;
  if (end == s || v < 0)
    return -1;
  if (!*end || strcmp(end, "s") == 0)
    mul = 1000;
  else if (strcmp(end, "ms") == 0)
    mul = 1;
  else if (strcmp(end, "m") == 0)
    mul = 60000;
  else if (strcmp(end, "h") == 0)
    mul = 3600000;
  else
    return -1;
  double ms = v * mul;
  /* a week is longer than anyone waits at a terminal; it keeps ints safe */
  return ms > 7 * 86400000.0 ? -1 : (int)ms;
}
