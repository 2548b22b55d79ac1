/* layout.h: the timeline chart's geometry, computed once from a checked
 * timeline (ss_timeline_check) and drawn twice: as SVG text by svg.c and as
 * pixels by picture.c. Every scale, axis label, series point, target line,
 * legend and event mark is placed here, so the two pictures cannot drift
 * apart; the drawers only choose how a line or a letter looks.
 *
 * Ownership: the layout borrows the timeline's strings (event reasons and
 * messages, metadata), so the timeline must outlive it; everything else it
 * owns, freed by ss__tl_layout_free. */
#ifndef SS_TIMELINE_LAYOUT_H
#define SS_TIMELINE_LAYOUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The page: panels one below the other over one time axis. */
#define SS__TL_W 960
#define SS__TL_PANEL_H 150
#define SS__TL_GAP 36
#define SS__TL_LEFT 64
#define SS__TL_RIGHT 24
#define SS__TL_TOP 96
/* the largest page either drawer accepts (panels for SS_TIMELINE_MAX_METRICS
 * and then some); a bigger one is refused, not drawn */
#define SS__TL_MAX_PANELS 40

/* Colours as 0xRRGGBB (the SVG prints them "#rrggbb"). */
#define SS__TL_RATE 0x2980b9
#define SS__TL_P50 0x27ae60
#define SS__TL_P99 0xc0392b
#define SS__TL_DESIRED 0xe67e22
#define SS__TL_READY 0x16a085
#define SS__TL_METRIC 0x8e44ad
#define SS__TL_TARGET 0xe67e22
#define SS__TL_EVENT 0x7f8c8d
#define SS__TL_WARNING 0xc0392b
#define SS__TL_TEXT 0x333333
#define SS__TL_REASON 0x555555
#define SS__TL_FRAME_FILL 0xfafafa
#define SS__TL_FRAME_STROKE 0xcccccc
#define SS__TL_BACKGROUND 0xffffff
/* stroke widths and dash patterns (on, off), in pixels */
#define SS__TL_SERIES_WIDTH 2
#define SS__TL_SERIES_DASH_ON 6
#define SS__TL_SERIES_DASH_OFF 4
#define SS__TL_EVENT_DASH 3

enum ss__tl_anchor { SS__TL_START, SS__TL_MIDDLE, SS__TL_END };
enum ss__tl_font { SS__TL_FONT_NORMAL, SS__TL_FONT_BOLD, SS__TL_FONT_SMALL, SS__TL_FONT_HEADING };

/* A text at (x, y), y its baseline as in SVG. */
struct ss__tl_label {
  double x, y;
  enum ss__tl_anchor anchor;
  enum ss__tl_font font;
  uint32_t rgb;
  const char *text; /* own or borrowed from the timeline */
  char own[64];
};

struct ss__tl_point {
  double x, y;
  bool move; /* starts a new run: the value before was null */
};

struct ss__tl_series {
  const char *name; /* what the SVG's data-series says */
  uint32_t rgb;
  bool dashed;
  bool straight; /* one horizontal line across the panel (a target) */
  size_t n;
  struct ss__tl_point *pts; /* malloc'd */
};

struct ss__tl_legend {
  int x, y; /* the label's baseline; the swatch sits to its left */
  uint32_t rgb;
  const char *label;
};

struct ss__tl_panel {
  int x, y, w, h;
  struct ss__tl_label title;
  char title_text[512];
  struct ss__tl_label ticks[3]; /* the y axis: 0, half, max (with unit) */
  struct ss__tl_series series[2];
  size_t n_series;
  struct ss__tl_legend legends[2];
  size_t n_legends;
};

struct ss__tl_event {
  double x;
  int top, bottom; /* of the mark */
  uint32_t rgb;
  const char *reason, *message; /* borrowed; may be NULL */
  struct ss__tl_label label;    /* the reason, on one of four rows */
};

struct ss__tl_layout {
  int w, h;
  struct ss__tl_label heading;
  char heading_text[600];
  struct ss__tl_panel *panels; /* malloc'd */
  size_t n_panels;
  struct ss__tl_label times[6]; /* the time axis: 5 times and "UTC" */
  struct ss__tl_event *events;  /* malloc'd */
  size_t n_events;
};

/* Lays out a checked timeline; false when out of memory or too many
 * panels (then *l is freed and zeroed). */
bool ss__tl_layout(const json_t *tl, struct ss__tl_layout *l);
void ss__tl_layout_free(struct ss__tl_layout *l);

#endif
