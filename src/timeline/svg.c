/* svg.c: a timeline as a standalone SVG chart (what `servescale timeline
 * -o svg` writes for a report): one panel per quantity over the same time
 * axis, scaling events as marked lines with their reasons; and the check
 * that a timeline read from outside has the shape the drawing needs. Pure:
 * JSON in, text out. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timeline/timeline.h"

#define W 960
#define PANEL_H 150
#define GAP 36
#define LEFT 64
#define RIGHT 24
#define TOP 96
#define SVG_MAX ((size_t)8 << 20) /* a chart larger than this is a bug */

/* ---- checking ---- */

static enum ss_err numbers(const json_t *a, const char *field, bool ints, bool nulls,
                           size_t want, struct ss_error *err) {
  if (!json_is_array(a))
    return ss_error_set(err, SS_EINVALID, 0, 0, "%s: not an array", field);
  if (want != (size_t)-1 && json_array_size(a) != want)
    return ss_error_set(err, SS_EINVALID, 0, 0, "%s: %zu values, but t has %zu", field,
                        json_array_size(a), want);
  size_t i;
  const json_t *v;
  json_array_foreach(a, i, v) {
    bool ok = ints ? json_is_integer(v) : json_is_number(v) || (nulls && json_is_null(v));
    if (!ok)
      return ss_error_set(err, SS_EINVALID, 0, 0, "%s[%zu]: not %s", field, i,
                          ints ? "an integer (ms since the epoch)" : "a number or null");
  }
  return SS_EOK;
}

static const char *const series_names[] = {"requestRate", "latencyP50", "latencyP99",
                                           "desiredReplicas", "readyReplicas"};

static enum ss_err check_series(const json_t *s, struct ss_error *err) {
  if (!json_is_object(s))
    return ss_error_set(err, SS_EINVALID, 0, 0, "series: not an object");
  enum ss_err rc = numbers(json_object_get(s, "t"), "series.t", true, false, (size_t)-1, err);
  size_t n = json_array_size(json_object_get(s, "t"));
  for (size_t i = 0; !rc && i < sizeof series_names / sizeof *series_names; i++) {
    char field[64];
    snprintf(field, sizeof field, "series.%s", series_names[i]);
    rc = numbers(json_object_get(s, series_names[i]), field, false, true, n, err);
  }
  return rc;
}

static enum ss_err check_metrics(const json_t *ms, struct ss_error *err) {
  if (!json_is_array(ms))
    return ss_error_set(err, SS_EINVALID, 0, 0, "metrics: not an array");
  size_t i;
  const json_t *m;
  json_array_foreach(ms, i, m) {
    char field[64];
    const json_t *target = json_object_get(m, "target");
    if (!json_is_string(json_object_get(m, "autoscaler")) ||
        !json_is_string(json_object_get(m, "metric")))
      return ss_error_set(err, SS_EINVALID, 0, 0, "metrics[%zu]: autoscaler and metric must be "
                          "strings", i);
    if (target && !json_is_number(target) && !json_is_null(target))
      return ss_error_set(err, SS_EINVALID, 0, 0, "metrics[%zu].target: not a number or null", i);
    snprintf(field, sizeof field, "metrics[%zu].t", i);
    if (numbers(json_object_get(m, "t"), field, true, false, (size_t)-1, err))
      return SS_EINVALID;
    snprintf(field, sizeof field, "metrics[%zu].value", i);
    if (numbers(json_object_get(m, "value"), field, false, true,
                json_array_size(json_object_get(m, "t")), err))
      return SS_EINVALID;
  }
  return SS_EOK;
}

static enum ss_err check_events(const json_t *es, struct ss_error *err) {
  if (!json_is_array(es))
    return ss_error_set(err, SS_EINVALID, 0, 0, "events: not an array");
  size_t i;
  const json_t *e;
  json_array_foreach(es, i, e) {
    if (!json_is_integer(json_object_get(e, "t")))
      return ss_error_set(err, SS_EINVALID, 0, 0, "events[%zu].t: not an integer", i);
    const json_t *r = json_object_get(e, "reason"), *msg = json_object_get(e, "message");
    if ((r && !json_is_string(r)) || (msg && !json_is_string(msg)))
      return ss_error_set(err, SS_EINVALID, 0, 0, "events[%zu]: reason and message must be "
                          "strings", i);
  }
  return SS_EOK;
}

enum ss_err ss_timeline_check(const json_t *tl, struct ss_error *err) {
  if (!json_is_object(tl))
    return ss_error_set(err, SS_EINVALID, 0, 0, "(document): not a JSON object");
  const json_t *md = json_object_get(tl, "metadata");
  if (!json_is_string(json_object_get(md, "name")) ||
      !json_is_string(json_object_get(md, "namespace")))
    return ss_error_set(err, SS_EINVALID, 0, 0, "metadata: name and namespace must be strings");
  const json_t *since = json_object_get(tl, "since"), *now = json_object_get(tl, "now");
  if (!json_is_integer(since))
    return ss_error_set(err, SS_EINVALID, 0, 0, "since: not an integer");
  if (!json_is_integer(now) || json_integer_value(now) <= json_integer_value(since))
    return ss_error_set(err, SS_EINVALID, 0, 0, "now: not an integer after since");
  enum ss_err rc = check_series(json_object_get(tl, "series"), err);
  if (!rc)
    rc = check_metrics(json_object_get(tl, "metrics"), err);
  if (!rc)
    rc = check_events(json_object_get(tl, "events"), err);
  return rc;
}

/* ---- drawing ---- */

struct buf {
  char *p;
  size_t len, cap;
  bool failed;
};

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct buf *b, const char *fmt, ...) {
  va_list ap;
  for (int tries = 0; !b->failed && tries < 2; tries++) {
    va_start(ap, fmt);
    int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
      b->failed = true;
    } else if (b->p && b->len + (size_t)n < b->cap) {
      b->len += (size_t)n;
      return;
    } else {
      size_t cap = (b->cap ? b->cap : 4096) * 2 + (size_t)n;
      char *p = cap <= SVG_MAX ? realloc(b->p, cap) : NULL;
      if (!p)
        b->failed = true;
      else
        b->p = p, b->cap = cap;
    }
  }
}

/* XML text: &, <, > and quotes escaped; bytes below space dropped. */
static void put_text(struct buf *b, const char *s) {
  for (; s && *s; s++) {
    switch (*s) {
    case '&': put(b, "&amp;"); break;
    case '<': put(b, "&lt;"); break;
    case '>': put(b, "&gt;"); break;
    case '"': put(b, "&quot;"); break;
    default:
      if ((unsigned char)*s >= ' ')
        put(b, "%c", *s);
    }
  }
}

struct panel {
  const char *title, *unit;
  int y;        /* top */
  double max;   /* of the y axis */
  double t0, t1;
};

static double px(const struct panel *p, double t) {
  return LEFT + (t - p->t0) / (p->t1 - p->t0) * (W - LEFT - RIGHT);
}
static double py(const struct panel *p, double v) {
  return p->y + PANEL_H - (v / p->max) * PANEL_H;
}

static double max_of(const json_t *a, double floor) {
  size_t i;
  const json_t *v;
  double m = floor;
  json_array_foreach(a, i, v) if (json_is_number(v) && json_number_value(v) > m) m =
      json_number_value(v);
  return m;
}

static void frame(struct buf *b, const struct panel *p) {
  put(b, "<g class=\"panel\"><text x=\"%d\" y=\"%d\" class=\"title\">", LEFT, p->y - 8);
  put_text(b, p->title);
  put(b, "</text><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" class=\"frame\"/>", LEFT, p->y,
      W - LEFT - RIGHT, PANEL_H);
  for (int k = 0; k <= 2; k++) {
    double v = p->max * k / 2;
    put(b, "<text x=\"%d\" y=\"%.1f\" class=\"axis\" text-anchor=\"end\">%.4g%s</text>", LEFT - 6,
        py(p, v) + 4, v, k == 2 ? p->unit : "");
  }
  put(b, "</g>\n");
}

/* One series as a path, broken where a value is null. */
static void line(struct buf *b, const struct panel *p, const json_t *t, const json_t *v,
                 const char *name, const char *color, bool dashed) {
  put(b, "<path class=\"series\" data-series=\"%s\" stroke=\"%s\"%s d=\"", name, color,
      dashed ? " stroke-dasharray=\"6 4\"" : "");
  bool pen = false;
  for (size_t i = 0; i < json_array_size(t); i++) {
    const json_t *y = json_array_get(v, i);
    if (!json_is_number(y)) {
      pen = false;
      continue;
    }
    put(b, "%c%.1f %.1f ", pen ? 'L' : 'M', px(p, (double)json_integer_value(json_array_get(t, i))),
        py(p, json_number_value(y) > p->max ? p->max : json_number_value(y)));
    pen = true;
  }
  put(b, "\"/>\n");
}

static void legend(struct buf *b, int x, int y, const char *color, const char *label) {
  put(b, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"4\" fill=\"%s\"/>"
         "<text x=\"%d\" y=\"%d\" class=\"legend\">", x, y - 4, color, x + 16, y);
  put_text(b, label);
  put(b, "</text>\n");
}

static void time_axis(struct buf *b, const struct panel *p, int y) {
  for (int k = 0; k <= 4; k++) {
    double t = p->t0 + (p->t1 - p->t0) * k / 4;
    time_t s = (time_t)(t / 1000);
    struct tm tm;
    char when[16];
    gmtime_r(&s, &tm);
    strftime(when, sizeof when, "%H:%M:%S", &tm);
    put(b, "<text x=\"%.1f\" y=\"%d\" class=\"axis\" text-anchor=\"middle\">%s</text>", px(p, t),
        y, when);
  }
  put(b, "<text x=\"%d\" y=\"%d\" class=\"axis\" text-anchor=\"end\">UTC</text>\n", W - RIGHT,
      y + 14);
}

static void event_marks(struct buf *b, const struct panel *p, const json_t *events, int bottom) {
  size_t i;
  const json_t *e;
  double last_x = -1e9;
  int row = 0;
  json_array_foreach(events, i, e) {
    double t = (double)json_integer_value(json_object_get(e, "t"));
    if (t < p->t0 || t > p->t1)
      continue;
    const char *type = json_string_value(json_object_get(e, "type"));
    bool warn = type && strcmp(type, "Warning") == 0;
    double x = px(p, t);
    /* labels of events close together go on rows of their own */
    row = x - last_x < 90 ? (row + 1) % 4 : 0;
    last_x = x;
    int ly = TOP - 40 + 10 * row;
    put(b, "<g class=\"event\" data-reason=\"");
    put_text(b, json_string_value(json_object_get(e, "reason")));
    put(b, "\"><title>");
    put_text(b, json_string_value(json_object_get(e, "reason")));
    put(b, ": ");
    put_text(b, json_string_value(json_object_get(e, "message")));
    put(b, "</title><line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"%s\" "
           "stroke-dasharray=\"3 3\"/><text x=\"%.1f\" y=\"%d\" class=\"reason\" "
           "text-anchor=\"%s\">", x, ly + 2, x, bottom, warn ? "#c0392b" : "#7f8c8d",
        x > W / 2 ? x - 2 : x + 2, ly, x > W / 2 ? "end" : "start");
    put_text(b, json_string_value(json_object_get(e, "reason")));
    put(b, "</text></g>\n");
  }
}

static void metric_panel(struct buf *b, struct panel *p, const json_t *m) {
  const json_t *target = json_object_get(m, "target");
  double tv = json_is_number(target) ? json_number_value(target) : 0;
  char title[512];
  snprintf(title, sizeof title, "%s %s against its target (%g)",
           json_string_value(json_object_get(m, "autoscaler")),
           json_string_value(json_object_get(m, "metric")), tv);
  p->title = title;
  p->unit = "";
  p->max = max_of(json_object_get(m, "value"), tv > 0 ? tv : 1) * 1.15;
  frame(b, p);
  line(b, p, json_object_get(m, "t"), json_object_get(m, "value"), "metric", "#8e44ad", false);
  if (json_is_number(target))
    put(b, "<line class=\"series\" data-series=\"target\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" "
           "y2=\"%.1f\" stroke=\"#e67e22\" stroke-dasharray=\"6 4\"/>\n", LEFT, py(p, tv),
        W - RIGHT, py(p, tv));
  legend(b, W - 260, p->y - 8, "#8e44ad", "value");
  legend(b, W - 180, p->y - 8, "#e67e22", "target");
}

/* The earliest time anything was recorded: the axis starts there, not at
 * an empty stretch before the daemon started. */
static double first_time(const json_t *tl) {
  double first = (double)json_integer_value(json_object_get(tl, "now"));
  const json_t *t0 = json_array_get(json_object_get(json_object_get(tl, "series"), "t"), 0);
  if (t0 && (double)json_integer_value(t0) < first)
    first = (double)json_integer_value(t0);
  size_t i;
  const json_t *m;
  json_array_foreach(json_object_get(tl, "metrics"), i, m) {
    const json_t *t = json_array_get(json_object_get(m, "t"), 0);
    if (t && (double)json_integer_value(t) < first)
      first = (double)json_integer_value(t);
  }
  json_array_foreach(json_object_get(tl, "events"), i, m) {
    double t = (double)json_integer_value(json_object_get(m, "t"));
    if (t < first)
      first = t;
  }
  return first;
}

char *ss_timeline_svg(const json_t *tl) {
  const json_t *s = json_object_get(tl, "series"), *t = json_object_get(s, "t");
  const json_t *ms = json_object_get(tl, "metrics");
  size_t n_panels = 3 + json_array_size(ms);
  int h = TOP + (int)n_panels * (PANEL_H + GAP) + 30;
  double first = first_time(tl);
  struct buf b = {0};
  struct panel p = {.t0 = first - 5000 > (double)json_integer_value(json_object_get(tl, "since"))
                              ? first - 5000
                              : (double)json_integer_value(json_object_get(tl, "since")),
                    .t1 = (double)json_integer_value(json_object_get(tl, "now")), .y = TOP};
  const json_t *md = json_object_get(tl, "metadata");
  put(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
          "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" class=\"timeline\">\n<style>"
          "text{font:11px sans-serif;fill:#333}.title{font-weight:bold}.frame{fill:#fafafa;"
          "stroke:#ccc}.series{fill:none;stroke-width:2}.reason{fill:#555;font-size:10px}"
          "</style>\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
          "<text x=\"%d\" y=\"18\" class=\"title\" style=\"font-size:14px\">sdep ", W, h, W, h,
      LEFT);
  put_text(&b, json_string_value(json_object_get(md, "namespace")));
  put(&b, "/");
  put_text(&b, json_string_value(json_object_get(md, "name")));
  put(&b, "</text>\n");
  p.title = "requests per second";
  p.unit = "/s";
  p.max = max_of(json_object_get(s, "requestRate"), 1) * 1.15;
  frame(&b, &p);
  line(&b, &p, t, json_object_get(s, "requestRate"), "requestRate", "#2980b9", false);
  p.y += PANEL_H + GAP;
  p.title = "latency p50 and p99";
  p.unit = " ms";
  p.max = max_of(json_object_get(s, "latencyP99"), 1) * 1.15;
  frame(&b, &p);
  line(&b, &p, t, json_object_get(s, "latencyP50"), "latencyP50", "#27ae60", false);
  line(&b, &p, t, json_object_get(s, "latencyP99"), "latencyP99", "#c0392b", false);
  legend(&b, W - 260, p.y - 8, "#27ae60", "p50");
  legend(&b, W - 180, p.y - 8, "#c0392b", "p99");
  p.y += PANEL_H + GAP;
  p.title = "replicas desired and ready";
  p.unit = "";
  p.max = max_of(json_object_get(s, "desiredReplicas"), 1) * 1.25;
  frame(&b, &p);
  line(&b, &p, t, json_object_get(s, "desiredReplicas"), "desiredReplicas", "#e67e22", true);
  line(&b, &p, t, json_object_get(s, "readyReplicas"), "readyReplicas", "#16a085", false);
  legend(&b, W - 260, p.y - 8, "#e67e22", "desired");
  legend(&b, W - 180, p.y - 8, "#16a085", "ready");
  for (size_t i = 0; i < json_array_size(ms); i++) {
    p.y += PANEL_H + GAP;
    metric_panel(&b, &p, json_array_get(ms, i));
  }
  time_axis(&b, &p, p.y + PANEL_H + 16);
  event_marks(&b, &p, json_object_get(tl, "events"), p.y + PANEL_H);
  put(&b, "</svg>\n");
  if (b.failed) {
    free(b.p);
    return NULL;
  }
  return b.p;
}
