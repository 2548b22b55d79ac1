/* cmd_events.c: `servescale events [KIND/NAME] [--watch]`: events, oldest
 * first, as kubectl events prints them; with --watch, new ones as they
 * happen (a watch from the list's version, never polling). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/common.h"

struct state {
  const struct ss_client_kind *k;
  bool all_ns;
  bool watch;
  bool listing;
  json_t *listed;            /* the first list, printed as one table */
  unsigned long long floor;  /* a relist skips what was printed */
  unsigned long long max_rv;
  size_t printed;
};

static unsigned long long rv_of(const json_t *obj) {
  const char *rv = json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
  return rv ? strtoull(rv, NULL, 10) : 0;
}

static void print_one(struct state *s, const json_t *ev) {
  json_t *one = json_pack("[O]", ev);
  struct ss_cli_table *t = ss_cli_list_table(s->k, one, false, s->all_ns, false);
  /* rows after the first table cannot align with it; a fixed layout keeps
   * them readable (kubectl -w does the same) */
  char *buf = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&buf, &len);
  if (m) {
    ss_cli_table_print(t, m);
    fclose(m);
    const char *second = strchr(buf, '\n');
    if (second)
      fputs(second + 1, stdout);
    free(buf);
  }
  fflush(stdout);
  ss_cli_table_free(t);
  json_decref(one);
  s->printed++;
}

static bool on_event(void *ctx, const char *type, const json_t *obj) {
  struct state *s = ctx;
  if (strcmp(type, "RELISTED") == 0) {
    s->floor = s->max_rv;
    return true;
  }
  if (strcmp(type, "SYNCED") == 0) {
    if (s->listing) {
      json_t *sorted = ss_cli_sort_events(s->listed);
      if (json_array_size(sorted)) {
        struct ss_cli_table *t = ss_cli_list_table(s->k, sorted, false, s->all_ns, false);
        ss_cli_table_print(t, stdout);
        fflush(stdout);
        ss_cli_table_free(t);
        s->printed += json_array_size(sorted);
      }
      json_decref(sorted);
      s->listing = false;
    }
    s->floor = s->max_rv;
    return s->watch;
  }
  if (strcmp(type, "DELETED") == 0 || !obj)
    return true;
  unsigned long long rv = rv_of(obj);
  if (rv && rv <= s->floor)
    return true;
  if (rv > s->max_rv)
    s->max_rv = rv;
  if (s->listing)
    json_array_append(s->listed, (json_t *)obj);
  else
    print_one(s, obj);
  return true;
}

int ss_cmd_events(int argc, char **argv) {
  struct ss_cli_opts o;
  int rc = ss_cli_parse(argc, argv, "nAwt", "servescale events [KIND/NAME] [-n NS | -A] [--watch] [--timeout=D]",
                        "Print events (oldest first), of one object when named; with --watch, keep\n"
                        "printing new ones as they happen.", &o);
  if (rc >= 0)
    return rc;
  struct ss_cli_ref refs[SS_CLI_MAX_REFS];
  size_t n = 0;
  if (o.n_args && !ss_cli_refs(&o, true, refs, &n))
    return SS_EXIT_FAIL;
  if (n > 1) {
    fprintf(stderr, "error: events of one object at a time\n");
    return SS_EXIT_FAIL;
  }
  struct ss_client *c = NULL;
  if (!ss_cli_connect(&o, &c))
    return SS_EXIT_FAIL;
  char field[600] = "";
  if (n)
    snprintf(field, sizeof field, "involvedObject.name=%s,involvedObject.kind=%s", refs[0].name,
             refs[0].k->kind);
  struct state s = {.k = ss_client_kind_find("events"), .all_ns = o.all_ns, .watch = o.watch,
                    .listing = true, .listed = json_array()};
  struct ss_client_watch_opts wo = {.field_selector = n ? field : NULL,
                                    .timeout_ms = o.timeout_ms > 0 ? o.timeout_ms : 0};
  struct ss_client_error err = {0};
  enum ss_err e = ss_client_watch(c, s.k, o.all_ns ? NULL : ss_cli_ns(&o, c), &wo, on_event, &s, &err);
  rc = SS_EXIT_OK;
  if (e && !(o.watch && o.timeout_ms > 0 && e == SS_EIO && strncmp(err.msg, "timed out", 9) == 0)) {
    ss_cli_error(&err, NULL);
    rc = SS_EXIT_FAIL;
  } else if (!s.printed && !o.watch) {
    if (o.all_ns)
      fprintf(stderr, "No events found.\n");
    else
      fprintf(stderr, "No events found in %s namespace.\n", ss_cli_ns(&o, c));
  }
  json_decref(s.listed);
  ss_client_free(c);
  return rc;
}
