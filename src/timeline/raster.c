/* raster.c: the RGB canvas of raster.h: rectangles, thick and dashed lines
 * (every pixel whose centre is within half the width of the segment, so
 * joints and ends are round), polylines, and text in the bitmap font
 * below. Pure. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "timeline/raster.h"

/* The font, our own 5x7 design: a glyph per printable ASCII byte (32..126),
 * seven rows top to bottom, '#' a pixel. g, p, q and y are drawn two rows
 * lower (their first five rows sit on the x-height, the last two hang
 * below the baseline). */
static const char glyphs[95][SS_RASTER_GLYPH_H][SS_RASTER_GLYPH_W + 1] = {
    {".....", ".....", ".....", ".....", ".....", ".....", "....."}, /* ' ' */
    {"..#..", "..#..", "..#..", "..#..", "..#..", ".....", "..#.."}, /* '!' */
    {".#.#.", ".#.#.", ".....", ".....", ".....", ".....", "....."}, /* '"' */
    {".#.#.", ".#.#.", "#####", ".#.#.", "#####", ".#.#.", ".#.#."}, /* '#' */
    {"..#..", ".####", "#.#..", ".###.", "..#.#", "####.", "..#.."}, /* '$' */
    {"##...", "##..#", "...#.", "..#..", ".#...", "#..##", "...##"}, /* '%' */
    {".##..", "#..#.", "#.#..", ".#...", "#.#.#", "#..#.", ".##.#"}, /* '&' */
    {"..#..", "..#..", ".....", ".....", ".....", ".....", "....."}, /* '\'' */
    {"...#.", "..#..", ".#...", ".#...", ".#...", "..#..", "...#."}, /* '(' */
    {".#...", "..#..", "...#.", "...#.", "...#.", "..#..", ".#..."}, /* ')' */
    {".....", "..#..", "#.#.#", ".###.", "#.#.#", "..#..", "....."}, /* '*' */
    {".....", "..#..", "..#..", "#####", "..#..", "..#..", "....."}, /* '+' */
    {".....", ".....", ".....", ".....", ".##..", "..#..", ".#..."}, /* ',' */
    {".....", ".....", ".....", "#####", ".....", ".....", "....."}, /* '-' */
    {".....", ".....", ".....", ".....", ".....", ".##..", ".##.."}, /* '.' */
    {".....", "....#", "...#.", "..#..", ".#...", "#....", "....."}, /* '/' */
    {".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."}, /* '0' */
    {"..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."}, /* '1' */
    {".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"}, /* '2' */
    {"#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."}, /* '3' */
    {"...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."}, /* '4' */
    {"#####", "#....", "####.", "....#", "....#", "#...#", ".###."}, /* '5' */
    {"..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."}, /* '6' */
    {"#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."}, /* '7' */
    {".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."}, /* '8' */
    {".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."}, /* '9' */
    {".....", ".##..", ".##..", ".....", ".##..", ".##..", "....."}, /* ':' */
    {".....", ".##..", ".##..", ".....", ".##..", "..#..", ".#..."}, /* ';' */
    {"...#.", "..#..", ".#...", "#....", ".#...", "..#..", "...#."}, /* '<' */
    {".....", ".....", "#####", ".....", "#####", ".....", "....."}, /* '=' */
    {".#...", "..#..", "...#.", "....#", "...#.", "..#..", ".#..."}, /* '>' */
    {".###.", "#...#", "....#", "...#.", "..#..", ".....", "..#.."}, /* '?' */
    {".###.", "#...#", "....#", ".##.#", "#.#.#", "#.#.#", ".###."}, /* '@' */
    {".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"}, /* 'A' */
    {"####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."}, /* 'B' */
    {".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."}, /* 'C' */
    {"###..", "#..#.", "#...#", "#...#", "#...#", "#..#.", "###.."}, /* 'D' */
    {"#####", "#....", "#....", "####.", "#....", "#....", "#####"}, /* 'E' */
    {"#####", "#....", "#....", "####.", "#....", "#....", "#...."}, /* 'F' */
    {".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".####"}, /* 'G' */
    {"#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"}, /* 'H' */
    {".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."}, /* 'I' */
    {"..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.."}, /* 'J' */
    {"#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"}, /* 'K' */
    {"#....", "#....", "#....", "#....", "#....", "#....", "#####"}, /* 'L' */
    {"#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"}, /* 'M' */
    {"#...#", "#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#"}, /* 'N' */
    {".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."}, /* 'O' */
    {"####.", "#...#", "#...#", "####.", "#....", "#....", "#...."}, /* 'P' */
    {".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#"}, /* 'Q' */
    {"####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"}, /* 'R' */
    {".####", "#....", "#....", ".###.", "....#", "....#", "####."}, /* 'S' */
    {"#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."}, /* 'T' */
    {"#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."}, /* 'U' */
    {"#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.."}, /* 'V' */
    {"#...#", "#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#."}, /* 'W' */
    {"#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#"}, /* 'X' */
    {"#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.."}, /* 'Y' */
    {"#####", "....#", "...#.", "..#..", ".#...", "#....", "#####"}, /* 'Z' */
    {".###.", ".#...", ".#...", ".#...", ".#...", ".#...", ".###."}, /* '[' */
    {".....", "#....", ".#...", "..#..", "...#.", "....#", "....."}, /* '\\' */
    {".###.", "...#.", "...#.", "...#.", "...#.", "...#.", ".###."}, /* ']' */
    {"..#..", ".#.#.", "#...#", ".....", ".....", ".....", "....."}, /* '^' */
    {".....", ".....", ".....", ".....", ".....", ".....", "#####"}, /* '_' */
    {".#...", "..#..", ".....", ".....", ".....", ".....", "....."}, /* '`' */
    {".....", ".....", ".###.", "....#", ".####", "#...#", ".####"}, /* 'a' */
    {"#....", "#....", "#.##.", "##..#", "#...#", "#...#", "####."}, /* 'b' */
    {".....", ".....", ".###.", "#....", "#....", "#...#", ".###."}, /* 'c' */
    {"....#", "....#", ".##.#", "#..##", "#...#", "#...#", ".####"}, /* 'd' */
    {".....", ".....", ".###.", "#...#", "#####", "#....", ".###."}, /* 'e' */
    {"..##.", ".#..#", ".#...", "###..", ".#...", ".#...", ".#..."}, /* 'f' */
    {".####", "#...#", "#...#", "#...#", ".####", "....#", ".###."}, /* 'g' */
    {"#....", "#....", "#.##.", "##..#", "#...#", "#...#", "#...#"}, /* 'h' */
    {"..#..", ".....", ".##..", "..#..", "..#..", "..#..", ".###."}, /* 'i' */
    {"...#.", ".....", "..##.", "...#.", "...#.", "#..#.", ".##.."}, /* 'j' */
    {"#....", "#....", "#..#.", "#.#..", "##...", "#.#..", "#..#."}, /* 'k' */
    {".##..", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."}, /* 'l' */
    {".....", ".....", "##.#.", "#.#.#", "#.#.#", "#.#.#", "#.#.#"}, /* 'm' */
    {".....", ".....", "#.##.", "##..#", "#...#", "#...#", "#...#"}, /* 'n' */
    {".....", ".....", ".###.", "#...#", "#...#", "#...#", ".###."}, /* 'o' */
    {"####.", "#...#", "#...#", "#...#", "####.", "#....", "#...."}, /* 'p' */
    {".####", "#...#", "#...#", "#...#", ".####", "....#", "....#"}, /* 'q' */
    {".....", ".....", "#.##.", "##..#", "#....", "#....", "#...."}, /* 'r' */
    {".....", ".....", ".####", "#....", ".###.", "....#", "####."}, /* 's' */
    {".#...", ".#...", "###..", ".#...", ".#...", ".#..#", "..##."}, /* 't' */
    {".....", ".....", "#...#", "#...#", "#...#", "#..##", ".##.#"}, /* 'u' */
    {".....", ".....", "#...#", "#...#", "#...#", ".#.#.", "..#.."}, /* 'v' */
    {".....", ".....", "#...#", "#...#", "#.#.#", "#.#.#", ".#.#."}, /* 'w' */
    {".....", ".....", "#...#", ".#.#.", "..#..", ".#.#.", "#...#"}, /* 'x' */
    {"#...#", "#...#", "#...#", "#...#", ".####", "....#", ".###."}, /* 'y' */
    {".....", ".....", "#####", "...#.", "..#..", ".#...", "#####"}, /* 'z' */
    {"...#.", "..#..", "..#..", ".#...", "..#..", "..#..", "...#."}, /* '{' */
    {"..#..", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."}, /* '|' */
    {".#...", "..#..", "..#..", "...#.", "..#..", "..#..", ".#..."}, /* '}' */
    {".....", ".....", ".#...", "#.#.#", "...#.", ".....", "....."}, /* '~' */
};

static int descends(unsigned char c) {
  return c == 'g' || c == 'p' || c == 'q' || c == 'y';
}

struct ss_raster *ss_raster_new(int w, int h, uint32_t rgb) {
  if (w < 1 || h < 1 || w > SS_RASTER_MAX_SIDE || h > SS_RASTER_MAX_SIDE)
    return NULL;
  struct ss_raster *r = calloc(1, sizeof *r);
  if (!r)
    return NULL;
  r->w = w;
  r->h = h;
  r->rgb = malloc((size_t)w * (size_t)h * 3);
  if (!r->rgb) {
    free(r);
    return NULL;
  }
  ss_raster_fill_rect(r, 0, 0, w, h, rgb);
  return r;
}

void ss_raster_free(struct ss_raster *r) {
  if (!r)
    return;
  free(r->rgb);
  free(r);
}

uint32_t ss_raster_get(const struct ss_raster *r, int x, int y) {
  if (x < 0 || y < 0 || x >= r->w || y >= r->h)
    return 0;
  const uint8_t *p = r->rgb + ((size_t)y * (size_t)r->w + (size_t)x) * 3;
  return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

void ss_raster_set(struct ss_raster *r, int x, int y, uint32_t rgb) {
  if (x < 0 || y < 0 || x >= r->w || y >= r->h)
    return;
  uint8_t *p = r->rgb + ((size_t)y * (size_t)r->w + (size_t)x) * 3;
  p[0] = (uint8_t)(rgb >> 16);
  p[1] = (uint8_t)(rgb >> 8);
  p[2] = (uint8_t)rgb;
}

void ss_raster_fill_rect(struct ss_raster *r, int x, int y, int w, int h, uint32_t rgb) {
  int x0 = x < 0 ? 0 : x, y0 = y < 0 ? 0 : y;
  /* in long long: x + w may not fit an int */
  long long x1 = (long long)x + w, y1 = (long long)y + h;
  if (x1 > r->w)
    x1 = r->w;
  if (y1 > r->h)
    y1 = r->h;
  for (int py = y0; py < y1; py++)
    for (int px = x0; px < x1; px++)
      ss_raster_set(r, px, py, rgb);
}

void ss_raster_stroke_rect(struct ss_raster *r, int x, int y, int w, int h, uint32_t rgb) {
  if (w < 1 || h < 1)
    return;
  ss_raster_fill_rect(r, x, y, w, 1, rgb);
  ss_raster_fill_rect(r, x, y + h - 1, w, 1, rgb);
  ss_raster_fill_rect(r, x, y, 1, h, rgb);
  ss_raster_fill_rect(r, x + w - 1, y, 1, h, rgb);
}

/* A solid segment: the pixels whose centres are within half of it. */
static void segment(struct ss_raster *r, double x0, double y0, double x1, double y1, double half,
                    uint32_t rgb) {
  double lo_x = fmin(x0, x1) - half, hi_x = fmax(x0, x1) + half;
  double lo_y = fmin(y0, y1) - half, hi_y = fmax(y0, y1) + half;
  /* clipped before any conversion to int */
  if (hi_x < 0 || hi_y < 0 || lo_x >= r->w || lo_y >= r->h || !isfinite(lo_x + hi_x + lo_y + hi_y))
    return;
  int ax = (int)floor(fmax(lo_x, 0)), bx = (int)ceil(fmin(hi_x, r->w - 1));
  int ay = (int)floor(fmax(lo_y, 0)), by = (int)ceil(fmin(hi_y, r->h - 1));
  double dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy;
  for (int py = ay; py <= by; py++) {
    for (int px = ax; px <= bx; px++) {
      double cx = px + 0.5, cy = py + 0.5;
      double t = len2 > 0 ? ((cx - x0) * dx + (cy - y0) * dy) / len2 : 0;
      t = t < 0 ? 0 : t > 1 ? 1 : t;
      double ex = x0 + t * dx - cx, ey = y0 + t * dy - cy;
      if (ex * ex + ey * ey <= half * half)
        ss_raster_set(r, px, py, rgb);
    }
  }
}

/* A segment under a dash pattern starting *phase into it (0 <= *phase <
 * on + off); *phase advanced by the segment's length. */
static void dashed(struct ss_raster *r, double x0, double y0, double x1, double y1, double half,
                   uint32_t rgb, struct ss_raster_dash d, double *phase) {
  double len = hypot(x1 - x0, y1 - y0), period = d.on + d.off;
  if (d.on <= 0 || d.off <= 0 || !isfinite(len)) {
    segment(r, x0, y0, x1, y1, half, rgb);
    return;
  }
  if (len <= 0)
    return;
  double at = 0;
  while (at < len) {
    double in = fmod(*phase + at, period), step;
    if (in < d.on) {
      step = fmin(d.on - in, len - at);
      double a = at / len, b = (at + step) / len;
      segment(r, x0 + a * (x1 - x0), y0 + a * (y1 - y0), x0 + b * (x1 - x0), y0 + b * (y1 - y0),
              half, rgb);
    } else {
      step = fmin(period - in, len - at);
    }
    at += step;
  }
  *phase = fmod(*phase + len, period);
}

static double half_of(double width) {
  return width < 1 ? 0.5 : width / 2;
}

void ss_raster_line(struct ss_raster *r, double x0, double y0, double x1, double y1,
                    double width, uint32_t rgb, struct ss_raster_dash dash) {
  double phase = 0;
  dashed(r, x0, y0, x1, y1, half_of(width), rgb, dash, &phase);
}

void ss_raster_polyline(struct ss_raster *r, const double *xs, const double *ys, size_t n,
                        double width, uint32_t rgb, struct ss_raster_dash dash) {
  double phase = 0;
  if (n == 1)
    segment(r, xs[0], ys[0], xs[0], ys[0], half_of(width), rgb);
  for (size_t i = 1; i < n; i++)
    dashed(r, xs[i - 1], ys[i - 1], xs[i], ys[i], half_of(width), rgb, dash, &phase);
}

int ss_raster_text_width(const char *s, int scale, int bold) {
  size_t n = s ? strlen(s) : 0;
  if (scale < 1)
    scale = 1;
  if (n == 0)
    return 0;
  /* the last glyph's gap column is not part of the text */
  return (int)n * SS_RASTER_ADVANCE * scale - scale + (bold ? 1 : 0);
}

int ss_raster_text(struct ss_raster *r, int x, int y, const char *s, int scale, int bold,
                   uint32_t rgb) {
  if (scale < 1)
    scale = 1;
  int left = x;
  for (; s && *s; s++, x += SS_RASTER_ADVANCE * scale) {
    unsigned char c = (unsigned char)*s;
    if (c < ' ' || c > '~')
      c = '?';
    int top = y - SS_RASTER_GLYPH_H * scale + (descends(c) ? 2 * scale : 0);
    for (int row = 0; row < SS_RASTER_GLYPH_H; row++)
      for (int col = 0; col < SS_RASTER_GLYPH_W; col++)
        if (glyphs[c - ' '][row][col] == '#')
          for (int b = 0; b <= (bold ? 1 : 0); b++)
            ss_raster_fill_rect(r, x + col * scale + b, top + row * scale, scale, scale, rgb);
  }
  return x > left ? x - left - scale + (bold ? 1 : 0) : 0;
}
