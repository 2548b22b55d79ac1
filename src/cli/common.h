/* common.h: what the API commands (apply, get, wait, ...) share: their
 * options as one table, the connection to the API, resource arguments
 * ("sdep/NAME", "sdep NAME"), reading files, kubectl-shaped errors, and
 * tables. The commands themselves are cmd_<name>.c. */
#ifndef SS_CLI_COMMON_H
#define SS_CLI_COMMON_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "servescale/client.h"

#define SS_CLI_MAX_FILES 64
#define SS_CLI_MAX_ARGS 64
#define SS_CLI_MAX_REFS 64
#define SS_CLI_NAME_MAX 256
/* kubectl wait's default time-out */
#define SS_CLI_WAIT_DEFAULT_MS 30000

/* The options; each command accepts a subset, named by the letters of
 * the rows in common.c's table. */
struct ss_cli_opts {
  const char *cmd;
  const char *ns;           /* -n, NULL when not given */
  bool all_ns;              /* -A */
  const char *kubeconfig;   /* --kubeconfig */
  const char *gateway;      /* --gateway, NULL when not given (see ss_gateway_url) */
  const char *interval;     /* --interval, NULL when not given */
  const char *files[SS_CLI_MAX_FILES];
  size_t n_files;           /* -f */
  const char *output;       /* -o */
  const char *selector;     /* -l */
  const char *for_;         /* --for */
  int timeout_ms;           /* --timeout; -1 when not given */
  long replicas;            /* --replicas; -1 when not given */
  bool watch;               /* -w */
  bool validate;            /* --validate (default true) */
  bool ignore_not_found;    /* --ignore-not-found */
  /* simulate's, as given (NULL when not): --trace, --policy, --slo-p99-ms,
   * --service-time-ms, --startup-ms, --concurrency, --metric-delay-ms,
   * --arrivals */
  const char *trace, *policy, *slo_p99_ms, *service_time_ms, *startup_ms, *concurrency,
      *metric_delay_ms, *arrivals;
  int users;                /* --users; 0 when not given */
  double spawn_rate;        /* --spawn-rate; 0 when not given */
  int duration_ms;          /* --duration; -1 when not given */
  double rps;               /* --rps; 0 when not given (as fast as answered) */
  bool v2;                  /* --v2: the V2 inference protocol's body */
  int since_ms;             /* --since; -1 when not given */
  char *args[SS_CLI_MAX_ARGS];
  int n_args;               /* positional arguments */
};

/* Parses argv (argv[0] is the command) accepting the options whose letters
 * are in accepted. Returns -1 to go on, else the exit code to return
 * (after --help, or a usage error, already printed). */
int ss_cli_parse(int argc, char **argv, const char *accepted, const char *synopsis,
                 const char *about, struct ss_cli_opts *o);

/* The client for o's kubeconfig; prints the error and returns false. */
bool ss_cli_connect(const struct ss_cli_opts *o, struct ss_client **c);
/* -n, else the kubeconfig context's namespace, else "default". */
const char *ss_cli_ns(const struct ss_cli_opts *o, const struct ss_client *c);

/* A parsed resource argument. name "" for the whole kind. */
struct ss_cli_ref {
  const struct ss_client_kind *k;
  char name[SS_CLI_NAME_MAX];
};
/* Reads o's positionals ("sdep/a", "sdep a b", "sdep", "sdep,pods").
 * need_name: each must name an object. Prints the error; false then. */
bool ss_cli_refs(const struct ss_cli_opts *o, bool need_name, struct ss_cli_ref *refs,
                 size_t *n);

/* The objects in o's files (-f), each validated as `servescale validate`
 * does (FILE:LINE:COL errors printed; none sent when any fails), unless
 * --validate=false. *out: array of {"file": name, "object": obj}. ns fills
 * metadata.namespace where missing; an object in another namespace than
 * -n is an error (as kubectl). Returns false after printing. */
bool ss_cli_load_files(const struct ss_cli_opts *o, const char *ns, json_t **out);

/* Prints err as kubectl does: "Error from server (Reason): [error when
 * WHEN: ]message" with the causes' field paths, or "error: message". */
void ss_cli_error(const struct ss_client_error *err, const char *when);

/* "seldondeployment.machinelearning.seldon.io/NAME" */
void ss_cli_object_label(const struct ss_client_kind *k, const char *name, char *buf,
                         size_t size);

/* A duration as kubectl prints ages ("45s", "3m12s", "5h", "2d"). */
void ss_cli_age(const char *timestamp, char *buf, size_t size);
/* "120s", "2m", "1h", "500ms", "30" (seconds) -> ms; -1 when invalid. */
int ss_cli_duration_ms(const char *s);

/* ---- tables (table.c) ---- */

struct ss_cli_table;
struct ss_cli_table *ss_cli_table_new(size_t n_cols);
/* Cells are copied. */
void ss_cli_table_add(struct ss_cli_table *t, const char *const *cells);
/* Aligned columns, three spaces apart, as kubectl's tabwriter. */
void ss_cli_table_print(const struct ss_cli_table *t, FILE *f);
size_t ss_cli_table_rows(const struct ss_cli_table *t);
void ss_cli_table_free(struct ss_cli_table *t);

/* ---- listings (columns.c) ---- */

/* Adds the header and a row per item of kind k to a new table: the kind's
 * columns (NAME STATE REPLICAS ADDRESS AGE for deployments), NAMESPACE
 * first when all_ns, more with wide; "kind/" before names when prefix. */
struct ss_cli_table *ss_cli_list_table(const struct ss_client_kind *k, const json_t *items,
                                       bool wide, bool all_ns, bool prefix);
/* Sorts events by their last time, oldest first (a new array). */
json_t *ss_cli_sort_events(const json_t *items);

#endif
