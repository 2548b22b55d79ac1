/* svg.c: a timeline as a standalone SVG chart (what `servescale timeline
 * -o svg` writes for a report): one panel per quantity over the same time
 * axis, scaling events as marked lines with their reasons, placed by
 * layout.c (which picture.c draws as pixels too); and the check that a
 * timeline read from outside has the shape the drawing needs. Pure: JSON
 * in, text out. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timeline/layout.h"
#include "timeline/timeline.h"

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

static const char *anchor_name(enum ss__tl_anchor a) {
  return a == SS__TL_END ? "end" : a == SS__TL_MIDDLE ? "middle" : "start";
}

static void text(struct buf *b, const struct ss__tl_label *l, const char *cls) {
  put(b, "<text x=\"%.1f\" y=\"%.1f\" class=\"%s\"", l->x, l->y, cls);
  if (l->anchor != SS__TL_START)
    put(b, " text-anchor=\"%s\"", anchor_name(l->anchor));
  put(b, ">");
  put_text(b, l->text);
  put(b, "</text>");
}

static void frame(struct buf *b, const struct ss__tl_panel *p) {
  put(b, "<g class=\"panel\">");
  text(b, &p->title, "title");
  put(b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" class=\"frame\"/>", p->x, p->y, p->w,
      p->h);
  for (int k = 0; k <= 2; k++)
    text(b, &p->ticks[k], "axis");
  put(b, "</g>\n");
}

/* One series as a path (broken where a value was null), a target as a
 * line across the panel. */
static void line(struct buf *b, const struct ss__tl_series *se) {
  char dash[64] = "";
  if (se->dashed)
    snprintf(dash, sizeof dash, " stroke-dasharray=\"%d %d\"", SS__TL_SERIES_DASH_ON,
             SS__TL_SERIES_DASH_OFF);
  if (se->straight) {
    put(b, "<line class=\"series\" data-series=\"%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
           "y2=\"%.1f\" stroke=\"#%06x\"%s/>\n", se->name, se->pts[0].x, se->pts[0].y,
        se->pts[1].x, se->pts[1].y, (unsigned)se->rgb, dash);
    return;
  }
  put(b, "<path class=\"series\" data-series=\"%s\" stroke=\"#%06x\"%s d=\"", se->name,
      (unsigned)se->rgb, dash);
  for (size_t i = 0; i < se->n; i++)
    put(b, "%c%.1f %.1f ", se->pts[i].move ? 'M' : 'L', se->pts[i].x, se->pts[i].y);
  put(b, "\"/>\n");
}

static void legend(struct buf *b, const struct ss__tl_legend *lg) {
  put(b, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"4\" fill=\"#%06x\"/>"
         "<text x=\"%d\" y=\"%d\" class=\"legend\">", lg->x, lg->y - 4, (unsigned)lg->rgb,
      lg->x + 16, lg->y);
  put_text(b, lg->label);
  put(b, "</text>\n");
}

static void event_mark(struct buf *b, const struct ss__tl_event *ev) {
  put(b, "<g class=\"event\" data-reason=\"");
  put_text(b, ev->reason);
  put(b, "\"><title>");
  put_text(b, ev->reason);
  put(b, ": ");
  put_text(b, ev->message);
  put(b, "</title><line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#%06x\" "
         "stroke-dasharray=\"%d %d\"/>", ev->x, ev->top, ev->x, ev->bottom, (unsigned)ev->rgb,
      SS__TL_EVENT_DASH, SS__TL_EVENT_DASH);
  text(b, &ev->label, "reason");
  put(b, "</g>\n");
}

char *ss_timeline_svg(const json_t *tl) {
  struct ss__tl_layout l;
  if (!ss__tl_layout(tl, &l))
    return NULL;
  struct buf b = {0};
  put(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
          "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" class=\"timeline\">\n<style>"
          "text{font:11px sans-serif;fill:#333}.title{font-weight:bold}.frame{fill:#fafafa;"
          "stroke:#ccc}.series{fill:none;stroke-width:%d}.reason{fill:#555;font-size:10px}"
          "</style>\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", l.w, l.h, l.w,
      l.h, SS__TL_SERIES_WIDTH);
  put(&b, "<text x=\"%.0f\" y=\"%.0f\" class=\"title\" style=\"font-size:14px\">", l.heading.x,
      l.heading.y);
  put_text(&b, l.heading.text);
  put(&b, "</text>\n");
  for (size_t i = 0; i < l.n_panels; i++) {
    const struct ss__tl_panel *p = &l.panels[i];
    frame(&b, p);
    for (size_t k = 0; k < p->n_series; k++)
      line(&b, &p->series[k]);
    for (size_t k = 0; k < p->n_legends; k++)
      legend(&b, &p->legends[k]);
  }
  for (int k = 0; k < 6; k++)
    text(&b, &l.times[k], "axis");
  put(&b, "\n");
  for (size_t i = 0; i < l.n_events; i++)
    event_mark(&b, &l.events[i]);
  put(&b, "</svg>\n");
  ss__tl_layout_free(&l);
  if (b.failed) {
    free(b.p);
    return NULL;
  }
  return b.p;
}
