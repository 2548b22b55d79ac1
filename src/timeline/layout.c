/* layout.c: where everything of a timeline chart goes (layout.h): the
 * panels' scales, the axes' labels, the series as points in pixels, the
 * targets, legends and event marks. Pure: a checked timeline in, numbers
 * out; svg.c and picture.c draw them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timeline/layout.h"

#define W SS__TL_W
#define PANEL_H SS__TL_PANEL_H
#define GAP SS__TL_GAP
#define LEFT SS__TL_LEFT
#define RIGHT SS__TL_RIGHT
#define TOP SS__TL_TOP

struct scale {
  int y;      /* the panel's top */
  double max; /* of the y axis */
  double t0, t1;
};

static double px(const struct scale *s, double t) {
  return LEFT + (t - s->t0) / (s->t1 - s->t0) * (W - LEFT - RIGHT);
}
static double py(const struct scale *s, double v) {
  return s->y + PANEL_H - (v / s->max) * PANEL_H;
}

static double max_of(const json_t *a, double floor) {
  size_t i;
  const json_t *v;
  double m = floor;
  json_array_foreach(a, i, v) {
    if (json_is_number(v) && json_number_value(v) > m)
      m = json_number_value(v);
  }
  return m;
}

static void label(struct ss__tl_label *l, double x, double y, enum ss__tl_anchor anchor,
                  enum ss__tl_font font, uint32_t rgb, const char *text) {
  l->x = x;
  l->y = y;
  l->anchor = anchor;
  l->font = font;
  l->rgb = rgb;
  l->text = text ? text : "";
}

static void frame(struct ss__tl_panel *p, const struct scale *s, const char *unit) {
  p->x = LEFT;
  p->y = s->y;
  p->w = W - LEFT - RIGHT;
  p->h = PANEL_H;
  label(&p->title, LEFT, s->y - 8, SS__TL_START, SS__TL_FONT_BOLD, SS__TL_TEXT, p->title_text);
  for (int k = 0; k <= 2; k++) {
    double v = s->max * k / 2;
    struct ss__tl_label *t = &p->ticks[k];
    snprintf(t->own, sizeof t->own, "%.4g%s", v, k == 2 ? unit : "");
    label(t, LEFT - 6, py(s, v) + 4, SS__TL_END, SS__TL_FONT_NORMAL, SS__TL_TEXT, t->own);
  }
}

/* One series as points, a run broken where a value is null; values above
 * the axis are drawn at its top. */
static bool series(struct ss__tl_panel *p, const struct scale *s, const json_t *t,
                   const json_t *v, const char *name, uint32_t rgb, bool dashed) {
  struct ss__tl_series *se = &p->series[p->n_series++];
  se->name = name;
  se->rgb = rgb;
  se->dashed = dashed;
  size_t n = json_array_size(t);
  se->pts = calloc(n ? n : 1, sizeof *se->pts);
  if (!se->pts)
    return false;
  bool pen = false;
  for (size_t i = 0; i < n; i++) {
    const json_t *y = json_array_get(v, i);
    if (!json_is_number(y)) {
      pen = false;
      continue;
    }
    double val = json_number_value(y) > s->max ? s->max : json_number_value(y);
    se->pts[se->n++] = (struct ss__tl_point){
        px(s, (double)json_integer_value(json_array_get(t, i))), py(s, val), !pen};
    pen = true;
  }
  return true;
}

static void legend(struct ss__tl_panel *p, int x, uint32_t rgb, const char *text) {
  p->legends[p->n_legends++] = (struct ss__tl_legend){x, p->y - 8, rgb, text};
}

static bool metric_panel(struct ss__tl_panel *p, const struct scale *s0, const json_t *m) {
  const json_t *target = json_object_get(m, "target");
  double tv = json_is_number(target) ? json_number_value(target) : 0;
  struct scale s = *s0;
  snprintf(p->title_text, sizeof p->title_text, "%s %s against its target (%g)",
           json_string_value(json_object_get(m, "autoscaler")),
           json_string_value(json_object_get(m, "metric")), tv);
  s.max = max_of(json_object_get(m, "value"), tv > 0 ? tv : 1) * 1.15;
  frame(p, &s, "");
  if (!series(p, &s, json_object_get(m, "t"), json_object_get(m, "value"), "metric",
              SS__TL_METRIC, false))
    return false;
  if (json_is_number(target)) {
    struct ss__tl_series *se = &p->series[p->n_series++];
    struct ss__tl_point *pts = calloc(2, sizeof *pts);
    if (!pts)
      return false;
    *se = (struct ss__tl_series){"target", SS__TL_TARGET, true, true, 2, pts};
    se->pts[0] = (struct ss__tl_point){LEFT, py(&s, tv), true};
    se->pts[1] = (struct ss__tl_point){W - RIGHT, py(&s, tv), false};
  }
  legend(p, W - 260, SS__TL_METRIC, "value");
  legend(p, W - 180, SS__TL_TARGET, "target");
  return true;
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

static void time_axis(struct ss__tl_layout *l, const struct scale *s, int y) {
  for (int k = 0; k <= 4; k++) {
    double t = s->t0 + (s->t1 - s->t0) * k / 4;
    time_t sec = (time_t)(t / 1000);
    struct tm tm;
    struct ss__tl_label *lb = &l->times[k];
    gmtime_r(&sec, &tm);
    strftime(lb->own, sizeof lb->own, "%H:%M:%S", &tm);
    label(lb, px(s, t), y, SS__TL_MIDDLE, SS__TL_FONT_NORMAL, SS__TL_TEXT, lb->own);
  }
  label(&l->times[5], W - RIGHT, y + 14, SS__TL_END, SS__TL_FONT_NORMAL, SS__TL_TEXT, "UTC");
}

static bool event_marks(struct ss__tl_layout *l, const struct scale *s, const json_t *events,
                        int bottom) {
  size_t i;
  const json_t *e;
  double last_x = -1e9;
  int row = 0;
  l->events = calloc(json_array_size(events) + 1, sizeof *l->events);
  if (!l->events)
    return false;
  json_array_foreach(events, i, e) {
    double t = (double)json_integer_value(json_object_get(e, "t"));
    if (t < s->t0 || t > s->t1)
      continue;
    const char *type = json_string_value(json_object_get(e, "type"));
    struct ss__tl_event *ev = &l->events[l->n_events++];
    double x = px(s, t);
    /* labels of events close together go on rows of their own */
    row = x - last_x < 90 ? (row + 1) % 4 : 0;
    last_x = x;
    int ly = TOP - 40 + 10 * row;
    ev->x = x;
    ev->top = ly + 2;
    ev->bottom = bottom;
    ev->rgb = type && strcmp(type, "Warning") == 0 ? SS__TL_WARNING : SS__TL_EVENT;
    ev->reason = json_string_value(json_object_get(e, "reason"));
    ev->message = json_string_value(json_object_get(e, "message"));
    label(&ev->label, x > W / 2 ? x - 2 : x + 2, ly, x > W / 2 ? SS__TL_END : SS__TL_START,
          SS__TL_FONT_SMALL, SS__TL_REASON, ev->reason);
  }
  return true;
}

void ss__tl_layout_free(struct ss__tl_layout *l) {
  if (!l)
    return;
  for (size_t i = 0; l->panels && i < l->n_panels; i++)
    for (size_t k = 0; k < l->panels[i].n_series; k++)
      free(l->panels[i].series[k].pts);
  free(l->panels);
  free(l->events);
  memset(l, 0, sizeof *l);
}

bool ss__tl_layout(const json_t *tl, struct ss__tl_layout *l) {
  memset(l, 0, sizeof *l);
  const json_t *s = json_object_get(tl, "series"), *t = json_object_get(s, "t");
  const json_t *ms = json_object_get(tl, "metrics"), *md = json_object_get(tl, "metadata");
  size_t n_panels = 3 + json_array_size(ms);
  if (n_panels > SS__TL_MAX_PANELS)
    return false;
  l->w = W;
  l->h = TOP + (int)n_panels * (PANEL_H + GAP) + 30;
  snprintf(l->heading_text, sizeof l->heading_text, "sdep %s/%s",
           json_string_value(json_object_get(md, "namespace")),
           json_string_value(json_object_get(md, "name")));
  label(&l->heading, LEFT, 18, SS__TL_START, SS__TL_FONT_HEADING, SS__TL_TEXT, l->heading_text);
  l->panels = calloc(n_panels, sizeof *l->panels);
  if (!l->panels)
    return false;
  l->n_panels = n_panels;

  double first = first_time(tl), since = (double)json_integer_value(json_object_get(tl, "since"));
  struct scale sc = {.y = TOP, .t0 = first - 5000 > since ? first - 5000 : since,
                     .t1 = (double)json_integer_value(json_object_get(tl, "now"))};
  struct ss__tl_panel *p = &l->panels[0];
  bool ok = true;
  snprintf(p->title_text, sizeof p->title_text, "requests per second");
  sc.max = max_of(json_object_get(s, "requestRate"), 1) * 1.15;
  frame(p, &sc, "/s");
  ok = ok && series(p, &sc, t, json_object_get(s, "requestRate"), "requestRate", SS__TL_RATE,
                    false);

  p++;
  sc.y += PANEL_H + GAP;
  snprintf(p->title_text, sizeof p->title_text, "latency p50 and p99");
  sc.max = max_of(json_object_get(s, "latencyP99"), 1) * 1.15;
  frame(p, &sc, " ms");
  ok = ok && series(p, &sc, t, json_object_get(s, "latencyP50"), "latencyP50", SS__TL_P50, false);
  ok = ok && series(p, &sc, t, json_object_get(s, "latencyP99"), "latencyP99", SS__TL_P99, false);
  legend(p, W - 260, SS__TL_P50, "p50");
  legend(p, W - 180, SS__TL_P99, "p99");

  p++;
  sc.y += PANEL_H + GAP;
  snprintf(p->title_text, sizeof p->title_text, "replicas desired and ready");
  sc.max = max_of(json_object_get(s, "desiredReplicas"), 1) * 1.25;
  frame(p, &sc, "");
  ok = ok && series(p, &sc, t, json_object_get(s, "desiredReplicas"), "desiredReplicas",
                    SS__TL_DESIRED, true);
  ok = ok && series(p, &sc, t, json_object_get(s, "readyReplicas"), "readyReplicas",
                    SS__TL_READY, false);
  legend(p, W - 260, SS__TL_DESIRED, "desired");
  legend(p, W - 180, SS__TL_READY, "ready");

  for (size_t i = 0; ok && i < json_array_size(ms); i++) {
    p++;
    sc.y += PANEL_H + GAP;
    ok = metric_panel(p, &sc, json_array_get(ms, i));
  }
  time_axis(l, &sc, sc.y + PANEL_H + 16);
  ok = ok && event_marks(l, &sc, json_object_get(tl, "events"), sc.y + PANEL_H);
  if (!ok)
    ss__tl_layout_free(l);
  return ok;
}
