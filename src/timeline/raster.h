/* raster.h: a small RGB canvas and what the timeline chart needs drawn on
 * it: filled rectangles, lines with a thickness (solid or dashed),
 * polylines, and text in an embedded 5x7 bitmap font (ASCII 32..126; any
 * other byte is drawn as '?'). No anti-aliasing: every pixel is exactly
 * one of the colours drawn, which keeps a PNG small and lets a test find a
 * series by its colour. Coordinates are pixels, (0, 0) the top left; what
 * falls outside the canvas is clipped. Pure; no I/O. */
#ifndef SS_TIMELINE_RASTER_H
#define SS_TIMELINE_RASTER_H

#include <stddef.h>
#include <stdint.h>

/* a canvas larger than this (per side) is refused */
#define SS_RASTER_MAX_SIDE 8192

/* The font: each glyph 5 pixels wide and 7 tall above the baseline (g, j,
 * p, q and y hang 2 below it), advancing 6; scaled by an integer. */
#define SS_RASTER_GLYPH_W 5
#define SS_RASTER_GLYPH_H 7
#define SS_RASTER_ADVANCE 6

struct ss_raster {
  int w, h;
  uint8_t *rgb; /* w * h * 3 bytes, row by row, top first */
};

/* A canvas filled with rgb (0xRRGGBB); NULL when w or h is not within
 * 1..SS_RASTER_MAX_SIDE or out of memory. Free with ss_raster_free. */
struct ss_raster *ss_raster_new(int w, int h, uint32_t rgb);
void ss_raster_free(struct ss_raster *r);

/* 0xRRGGBB of the pixel at (x, y); 0 outside the canvas. */
uint32_t ss_raster_get(const struct ss_raster *r, int x, int y);
void ss_raster_set(struct ss_raster *r, int x, int y, uint32_t rgb);

/* The pixels x <= px < x + w, y <= py < y + h. */
void ss_raster_fill_rect(struct ss_raster *r, int x, int y, int w, int h, uint32_t rgb);
/* A rectangle's outline, 1 pixel wide, on its edge pixels. */
void ss_raster_stroke_rect(struct ss_raster *r, int x, int y, int w, int h, uint32_t rgb);

/* A dash pattern: on pixels drawn, off skipped, measured along the line;
 * {0, 0} is solid. */
struct ss_raster_dash {
  double on, off;
};

/* A line from (x0, y0) to (x1, y1) of the given width: the pixels whose
 * centres lie within width / 2 of the segment (a width below 1 counts as
 * 1). */
void ss_raster_line(struct ss_raster *r, double x0, double y0, double x1, double y1,
                    double width, uint32_t rgb, struct ss_raster_dash dash);
/* Segments through n points, the dash pattern carried on from one segment
 * to the next. */
void ss_raster_polyline(struct ss_raster *r, const double *xs, const double *ys, size_t n,
                        double width, uint32_t rgb, struct ss_raster_dash dash);

/* Text from x with its baseline at y, glyphs scaled by scale (>= 1);
 * bold draws each glyph twice, one pixel apart. Returns the width drawn. */
int ss_raster_text(struct ss_raster *r, int x, int y, const char *s, int scale, int bold,
                   uint32_t rgb);
/* The width ss_raster_text would draw s at. */
int ss_raster_text_width(const char *s, int scale, int bold);

#endif
