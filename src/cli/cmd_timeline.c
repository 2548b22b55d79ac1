/* cmd_timeline.c: `servescale timeline sdep/NAME [--since 10m] -o
 * svg|png|json`: a deployment's request rate, latency p50/p99, replicas and
 * autoscaler metrics against their targets over time, with the scaling
 * events, from the control API's /apis/servescale.io/v1/.../timelines/NAME,
 * drawn as an SVG (src/timeline/svg.c) or a PNG (src/timeline/picture.c,
 * the same layout) for a report. `servescale top` stays the terminal
 * view. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "timeline/timeline.h"

static const char about[] =
    "Write a SeldonDeployment's timeline: requests per second, latency p50/p99,\n"
    "replicas desired and ready, each autoscaler's metric against its target, and\n"
    "the scaling events with their reasons, over the last --since (default 10m;\n"
    "the daemon keeps 10 minutes). -o svg (default) draws the chart, -o png the same\n"
    "chart as pixels; -o json is the data. Redirect it to a file:\n"
    "  servescale timeline sdep/NAME > timeline.svg\n"
    "  servescale timeline sdep/NAME -o png > timeline.png";

static bool check_usage(const struct ss_cli_opts *o, const struct ss_cli_ref *refs, size_t n) {
  if (n != 1 || strcmp(refs[0].k->plural, "seldondeployments") != 0) {
    fprintf(stderr, "error: give one SeldonDeployment: sdep/NAME\n");
    return false;
  }
  if (o->output && strcmp(o->output, "svg") != 0 && strcmp(o->output, "png") != 0 &&
      strcmp(o->output, "json") != 0) {
    fprintf(stderr, "error: output: -o takes svg, png or json, not \"%s\"\n", o->output);
    return false;
  }
  /* binary on a terminal is noise; checked before asking the daemon */
  if (o->output && strcmp(o->output, "png") == 0 && isatty(STDOUT_FILENO)) {
    fprintf(stderr, "error: output: png is binary; redirect it to a file "
                    "(servescale timeline sdep/NAME -o png > timeline.png)\n");
    return false;
  }
  return true;
}

static json_t *fetch(struct ss_client *c, const char *ns, const char *name, int since_ms) {
  char path[800];
  snprintf(path, sizeof path, "/apis/servescale.io/v1/namespaces/%s/timelines/%s?since=%dms",
           ns, name, since_ms);
  struct ss_client_response r = {0};
  struct ss_client_error err = {0};
  json_t *out = NULL;
  if (ss_client_request(c, "GET", path, NULL, NULL, 0, &r, &err)) {
    ss_cli_error(&err, NULL);
  } else if (r.code != 200) {
    ss_client_error_from_response(&r, &err);
    ss_cli_error(&err, NULL);
  } else if (!r.body) {
    fprintf(stderr, "error: the timeline is not JSON: %.100s\n", r.text ? r.text : "");
  } else {
    out = json_incref(r.body);
  }
  ss_client_response_free(&r);
  return out;
}

static bool write_png(const json_t *tl) {
  uint8_t *png = NULL;
  size_t len = 0;
  enum ss_err e = ss_timeline_png(tl, &png, &len);
  bool ok = !e && fwrite(png, 1, len, stdout) == len && fflush(stdout) == 0;
  if (e)
    fprintf(stderr, "error: cannot draw the timeline: %s\n", ss_err_msg(e));
  else if (!ok)
    fprintf(stderr, "error: cannot write the PNG to standard output\n");
  free(png);
  return ok;
}

int ss_cmd_timeline(int argc, char **argv) {
  struct ss_cli_opts o;
  int rc = ss_cli_parse(argc, argv, "nso", "servescale timeline sdep/NAME [-n NS] [--since 10m] "
                        "[-o svg|png|json]", about, &o);
  if (rc >= 0)
    return rc;
  struct ss_cli_ref refs[SS_CLI_MAX_REFS];
  size_t n = 0;
  if (!ss_cli_refs(&o, true, refs, &n) || !check_usage(&o, refs, n))
    return SS_EXIT_FAIL;
  struct ss_client *c = NULL;
  if (!ss_cli_connect(&o, &c))
    return SS_EXIT_FAIL;
  json_t *tl = fetch(c, ss_cli_ns(&o, c), refs[0].name,
                     o.since_ms > 0 ? o.since_ms : SS_TIMELINE_DEFAULT_SINCE_MS);
  struct ss_error err = {0};
  rc = SS_EXIT_FAIL;
  if (!tl) {
  } else if (ss_timeline_check(tl, &err)) {
    fprintf(stderr, "error: the daemon's timeline: %s\n", err.msg);
  } else if (o.output && strcmp(o.output, "json") == 0) {
    json_dumpf(tl, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    printf("\n");
    rc = SS_EXIT_OK;
  } else if (o.output && strcmp(o.output, "png") == 0) {
    rc = write_png(tl) ? SS_EXIT_OK : SS_EXIT_FAIL;
  } else {
    char *svg = ss_timeline_svg(tl);
    if (svg && fputs(svg, stdout) >= 0)
      rc = SS_EXIT_OK;
    else
      fprintf(stderr, "error: cannot draw the timeline\n");
    free(svg);
  }
  json_decref(tl);
  ss_client_free(c);
  return rc;
}
