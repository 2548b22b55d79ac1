/* picture.c: a timeline chart as pixels and as a PNG (what `servescale
 * timeline -o png` writes): the layout of layout.c, the one svg.c draws,
 * painted on a raster.c canvas and encoded by png.c. The SVG's fonts
 * become the bitmap font (11 px text at scale 1, the 14 px heading at
 * scale 2); its strokes and dashes keep their widths and lengths. */
#include <stdbool.h>
#include <stdlib.h>

#include "timeline/layout.h"
#include "timeline/png.h"
#include "timeline/raster.h"
#include "timeline/timeline.h"

static void text(struct ss_raster *r, const struct ss__tl_label *l) {
  int scale = l->font == SS__TL_FONT_HEADING ? 2 : 1;
  int bold = l->font == SS__TL_FONT_BOLD || l->font == SS__TL_FONT_HEADING;
  int w = ss_raster_text_width(l->text, scale, bold);
  double x = l->anchor == SS__TL_END ? l->x - w : l->anchor == SS__TL_MIDDLE ? l->x - w / 2.0 : l->x;
  ss_raster_text(r, (int)(x + 0.5), (int)(l->y + 0.5), l->text, scale, bold, l->rgb);
}

/* Each run (between nulls) its own polyline, its dash starting afresh. */
static bool series(struct ss_raster *r, const struct ss__tl_series *se) {
  struct ss_raster_dash dash = {0, 0};
  if (se->dashed)
    dash = (struct ss_raster_dash){SS__TL_SERIES_DASH_ON, SS__TL_SERIES_DASH_OFF};
  double *xs = malloc((se->n + 1) * sizeof *xs), *ys = malloc((se->n + 1) * sizeof *ys);
  bool ok = xs && ys;
  for (size_t i = 0, n = 0; ok && i <= se->n; i++) {
    if ((i == se->n || se->pts[i].move) && n > 0) {
      ss_raster_polyline(r, xs, ys, n, SS__TL_SERIES_WIDTH, se->rgb, dash);
      n = 0;
    }
    if (i < se->n) {
      xs[n] = se->pts[i].x;
      ys[n] = se->pts[i].y;
      n++;
    }
  }
  free(xs);
  free(ys);
  return ok;
}

struct ss_raster *ss_timeline_raster(const json_t *tl) {
  struct ss__tl_layout l;
  if (!ss__tl_layout(tl, &l))
    return NULL;
  struct ss_raster *r = ss_raster_new(l.w, l.h, SS__TL_BACKGROUND);
  bool ok = r != NULL;
  if (!ok)
    goto out;
  text(r, &l.heading);
  for (size_t i = 0; i < l.n_panels; i++) {
    const struct ss__tl_panel *p = &l.panels[i];
    text(r, &p->title);
    ss_raster_fill_rect(r, p->x, p->y, p->w, p->h, SS__TL_FRAME_FILL);
    ss_raster_stroke_rect(r, p->x, p->y, p->w + 1, p->h + 1, SS__TL_FRAME_STROKE);
    for (int k = 0; k <= 2; k++)
      text(r, &p->ticks[k]);
    for (size_t k = 0; ok && k < p->n_series; k++)
      ok = series(r, &p->series[k]);
    for (size_t k = 0; k < p->n_legends; k++) {
      const struct ss__tl_legend *lg = &p->legends[k];
      ss_raster_fill_rect(r, lg->x, lg->y - 4, 12, 4, lg->rgb);
      struct ss__tl_label lb = {.x = lg->x + 16, .y = lg->y, .rgb = SS__TL_TEXT, .text = lg->label};
      text(r, &lb);
    }
  }
  for (int k = 0; k < 6; k++)
    text(r, &l.times[k]);
  for (size_t i = 0; i < l.n_events; i++) {
    const struct ss__tl_event *ev = &l.events[i];
    ss_raster_line(r, ev->x, ev->top, ev->x, ev->bottom, 1, ev->rgb,
                   (struct ss_raster_dash){SS__TL_EVENT_DASH, SS__TL_EVENT_DASH});
    text(r, &ev->label);
  }
out:
  ss__tl_layout_free(&l);
  if (!ok) {
    ss_raster_free(r);
    r = NULL;
  }
  return r;
}

enum ss_err ss_timeline_png(const json_t *tl, uint8_t **out, size_t *len) {
  *out = NULL;
  *len = 0;
  struct ss_raster *r = ss_timeline_raster(tl);
  if (!r)
    return json_array_size(json_object_get(tl, "metrics")) + 3 > SS__TL_MAX_PANELS ? SS_ELIMIT
                                                                                   : SS_ENOMEM;
  enum ss_err rc = ss_png_encode(r->rgb, r->w, r->h, out, len) ? SS_ENOMEM : SS_EOK;
  ss_raster_free(r);
  return rc;
}
