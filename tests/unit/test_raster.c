/* test_raster.c: unit tests for src/timeline/raster.c (the pixels each
 * primitive sets: rectangles, thick, dashed and clipped lines, polylines,
 * text in the bitmap font) and src/timeline/picture.c (the timeline chart
 * as pixels: the series where the SVG's layout puts them, in their
 * colours, and as a PNG). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "timeline/png.h"
#include "timeline/raster.h"
#include "timeline/timeline.h"

#define WHITE 0xffffffu
#define RED 0xff0000u
#define BLUE 0x0000ffu

static size_t count(const struct ss_raster *r, uint32_t rgb) {
  size_t n = 0;
  for (int y = 0; y < r->h; y++)
    for (int x = 0; x < r->w; x++)
      n += ss_raster_get(r, x, y) == rgb;
  return n;
}

static void test_canvas_and_rectangles(void **state) {
  (void)state;
  assert_null(ss_raster_new(0, 10, WHITE));
  assert_null(ss_raster_new(10, SS_RASTER_MAX_SIDE + 1, WHITE));
  struct ss_raster *r = ss_raster_new(20, 10, WHITE);
  assert_non_null(r);
  assert_int_equal(count(r, WHITE), 200);
  ss_raster_fill_rect(r, 2, 3, 4, 5, RED);
  assert_int_equal(count(r, RED), 20);
  assert_int_equal(ss_raster_get(r, 2, 3), RED);
  assert_int_equal(ss_raster_get(r, 5, 7), RED);
  assert_int_equal(ss_raster_get(r, 6, 7), WHITE);
  assert_int_equal(ss_raster_get(r, 5, 8), WHITE);
  /* clipped, not written outside: a rectangle over the corner */
  ss_raster_fill_rect(r, 18, -5, 100, 7, BLUE);
  assert_int_equal(count(r, BLUE), 4);
  ss_raster_fill_rect(r, 1 << 30, 1 << 30, 1 << 30, 1 << 30, BLUE);
  assert_int_equal(count(r, BLUE), 4);
  ss_raster_stroke_rect(r, 10, 1, 5, 4, RED); /* 14 edge pixels */
  assert_int_equal(count(r, RED), 20 + 14);
  assert_int_equal(ss_raster_get(r, 12, 2), WHITE);
  assert_int_equal(ss_raster_get(r, -1, 0), 0);
  ss_raster_free(r);
}

static void test_lines_have_their_width(void **state) {
  (void)state;
  struct ss_raster *r = ss_raster_new(40, 20, WHITE);
  struct ss_raster_dash solid = {0, 0};
  /* width 2 along y = 10 from x = 5 to 35: rows 9 and 10 (centres within
   * 1 of it), round ends one pixel past each end point */
  ss_raster_line(r, 5, 10, 35, 10, 2, RED, solid);
  for (int x = 5; x < 35; x++) {
    assert_int_equal(ss_raster_get(r, x, 9), RED);
    assert_int_equal(ss_raster_get(r, x, 10), RED);
    assert_int_equal(ss_raster_get(r, x, 8), WHITE);
    assert_int_equal(ss_raster_get(r, x, 11), WHITE);
  }
  assert_int_equal(ss_raster_get(r, 2, 10), WHITE);
  assert_int_equal(ss_raster_get(r, 37, 10), WHITE);
  /* a diagonal of width 1 is connected: a pixel in every column */
  ss_raster_line(r, 0.5, 0.5, 19.5, 19.5, 1, BLUE, solid);
  for (int x = 0; x < 20; x++)
    assert_int_equal(ss_raster_get(r, x, x), BLUE);
  /* wholly outside, NaN and huge coordinates: nothing drawn, no crash */
  size_t blue = count(r, BLUE);
  ss_raster_line(r, -50, -50, -10, -40, 3, BLUE, solid);
  ss_raster_line(r, 0.0 / 0.0, 1, 5, 5, 2, BLUE, solid);
  ss_raster_line(r, 1e300, 1, 1e300, 5, 2, BLUE, solid);
  assert_int_equal(count(r, BLUE), blue);
  ss_raster_free(r);
}

static void test_dashes_and_polylines(void **state) {
  (void)state;
  struct ss_raster *r = ss_raster_new(60, 10, WHITE);
  /* dashes 6 on, 4 off along row 4.5 (width 1: row 4 only... and row 5
   * whose centre is exactly 0.5 away is in too) */
  ss_raster_line(r, 0, 5, 50, 5, 1, RED, (struct ss_raster_dash){6, 4});
  for (int x = 0; x < 50; x++) {
    int on = x % 10 < 6;
    if (x % 10 == 0 || x % 10 == 5 || x % 10 == 6)
      continue; /* the round ends of a dash reach half a pixel past it */
    assert_int_equal(ss_raster_get(r, x, 4) == RED, on);
  }
  ss_raster_free(r);

  /* a polyline carries the pattern over its corner: 3 + 3 on, then off */
  r = ss_raster_new(30, 30, WHITE);
  double xs[] = {2, 5, 5}, ys[] = {2.5, 2.5, 20};
  ss_raster_polyline(r, xs, ys, 3, 1, BLUE, (struct ss_raster_dash){6, 4});
  assert_int_equal(ss_raster_get(r, 3, 2), BLUE);
  assert_int_equal(ss_raster_get(r, 4, 5), BLUE);  /* 3 + 2.5 along */
  assert_int_equal(ss_raster_get(r, 4, 8), WHITE); /* 3 + 5.5 along: off */
  assert_int_equal(ss_raster_get(r, 4, 13), BLUE); /* 3 + 10.5: on again */
  /* one point: a dot */
  double x1[] = {20}, y1[] = {20};
  ss_raster_polyline(r, x1, y1, 1, 2, RED, (struct ss_raster_dash){0, 0});
  assert_int_equal(ss_raster_get(r, 20, 20), RED);
  ss_raster_free(r);
}

static void test_text(void **state) {
  (void)state;
  struct ss_raster *r = ss_raster_new(80, 20, WHITE);
  assert_int_equal(ss_raster_text_width("", 1, 0), 0);
  assert_int_equal(ss_raster_text_width("ab", 1, 0), 11);
  assert_int_equal(ss_raster_text_width("ab", 2, 1), 23);
  /* "1": a stem in the middle column, a foot across three, baseline 10 */
  int w = ss_raster_text(r, 2, 10, "1", 1, 0, RED);
  assert_int_equal(w, 5);
  for (int y = 3; y < 10; y++)
    assert_int_equal(ss_raster_get(r, 4, y), RED);
  assert_int_equal(ss_raster_get(r, 3, 9), RED);
  assert_int_equal(ss_raster_get(r, 5, 9), RED);
  assert_int_equal(ss_raster_get(r, 2, 9), WHITE);
  assert_int_equal(ss_raster_get(r, 4, 10), WHITE); /* nothing below the baseline */
  assert_int_equal(ss_raster_get(r, 4, 2), WHITE);
  /* "y" hangs two rows below it */
  ss_raster_text(r, 10, 10, "y", 1, 0, BLUE);
  assert_int_equal(ss_raster_get(r, 13, 11), BLUE);
  /* every printable byte has a glyph; a byte outside is drawn as '?' */
  for (int c = '!'; c <= '~'; c++) {
    struct ss_raster *g = ss_raster_new(8, 12, WHITE);
    char s[2] = {(char)c, 0};
    ss_raster_text(g, 1, 9, s, 1, 0, RED);
    if (count(g, RED) == 0)
      fail_msg("no glyph for '%c'", c);
    ss_raster_free(g);
  }
  struct ss_raster *a = ss_raster_new(8, 12, WHITE), *b = ss_raster_new(8, 12, WHITE);
  ss_raster_text(a, 1, 9, "\xc3", 1, 0, RED);
  ss_raster_text(b, 1, 9, "?", 1, 0, RED);
  assert_memory_equal(a->rgb, b->rgb, 8 * 12 * 3);
  /* scale 2 doubles each pixel; bold widens */
  ss_raster_text(r, 30, 18, "1", 2, 0, BLUE);
  assert_int_equal(ss_raster_get(r, 34, 17), BLUE);
  assert_int_equal(ss_raster_get(r, 35, 4), BLUE);
  ss_raster_free(a);
  ss_raster_free(b);
  ss_raster_free(r);
}

/* The timeline of test_timeline.c, with a warning event. */
static const char good[] =
    "{\"metadata\":{\"namespace\":\"default\",\"name\":\"m\"},\"since\":1000,\"now\":61000,"
    "\"series\":{\"t\":[11000,16000,21000],\"requestRate\":[0,40.5,null],"
    "\"latencyP50\":[null,2.5,3],\"latencyP99\":[null,4.9,8],\"desiredReplicas\":[1,2,2],"
    "\"readyReplicas\":[1,1,2]},"
    "\"metrics\":[{\"autoscaler\":\"HorizontalPodAutoscaler/m-x\",\"metric\":\"cpu\","
    "\"target\":10,\"t\":[11000,16000],\"value\":[3,25]}],"
    "\"events\":[{\"t\":17000,\"type\":\"Normal\",\"reason\":\"SuccessfulRescale\","
    "\"message\":\"New size: 2; reason: cpu <above> target\"},"
    "{\"t\":40000,\"type\":\"Warning\",\"reason\":\"FailedGetResourceMetric\"}]}";

/* The first "M x y L x y" of the SVG's path for a series. */
static void first_segment(const char *svg, const char *series, double seg[4]) {
  char key[64];
  snprintf(key, sizeof key, "data-series=\"%s\"", series);
  const char *p = strstr(svg, key);
  assert_non_null(p);
  p = strstr(p, " d=\"");
  assert_non_null(p);
  assert_int_equal(sscanf(p, " d=\"M%lf %lf L%lf %lf", &seg[0], &seg[1], &seg[2], &seg[3]), 4);
}

static void test_timeline_picture_matches_the_svg(void **state) {
  (void)state;
  json_error_t je;
  json_t *tl = json_loads(good, 0, &je);
  assert_non_null(tl);
  struct ss_error err = {0};
  assert_int_equal(ss_timeline_check(tl, &err), SS_EOK);
  char *svg = ss_timeline_svg(tl);
  struct ss_raster *r = ss_timeline_raster(tl);
  assert_non_null(svg);
  assert_non_null(r);
  /* the same page size */
  char size[64];
  snprintf(size, sizeof size, "width=\"%d\" height=\"%d\"", r->w, r->h);
  assert_non_null(strstr(svg, size));
  /* each series where the SVG draws it: the midpoint of its first segment
   * is in its colour */
  static const struct {
    const char *name;
    uint32_t rgb;
  } series[] = {{"requestRate", 0x2980b9}, {"latencyP50", 0x27ae60}, {"latencyP99", 0xc0392b},
                {"readyReplicas", 0x16a085}, {"metric", 0x8e44ad}};
  for (size_t i = 0; i < sizeof series / sizeof *series; i++) {
    double s[4];
    first_segment(svg, series[i].name, s);
    int x = (int)((s[0] + s[2]) / 2), y = (int)((s[1] + s[3]) / 2);
    if (ss_raster_get(r, x, y) != series[i].rgb)
      fail_msg("%s: pixel (%d, %d) is %06x, not %06x", series[i].name, x, y,
               ss_raster_get(r, x, y), series[i].rgb);
    assert_true(count(r, series[i].rgb) > 60);
  }
  /* desired is dashed: along its first segment both its colour and gaps */
  double s[4];
  first_segment(svg, "desiredReplicas", s);
  assert_true(count(r, 0xe67e22) > 100); /* desired, the target, legends */
  /* the events: the normal one grey, the warning red, dashed lines down
   * to the last panel's bottom */
  assert_true(count(r, 0x7f8c8d) > 100);
  /* frames and text */
  assert_true(count(r, 0xfafafa) > 100000);
  assert_true(count(r, 0x333333) > 500);
  assert_true(count(r, 0x555555) > 50);

  uint8_t *png = NULL;
  size_t len = 0;
  assert_int_equal(ss_timeline_png(tl, &png, &len), SS_EOK);
  assert_true(len > 1000 && len < 200000);
  assert_memory_equal(png + 1, "PNG", 3);
  const char *keep = getenv("SS_TEST_PNG_OUT"); /* to look at it */
  FILE *f = keep ? fopen(keep, "wb") : NULL;
  if (f) {
    fwrite(png, 1, len, f);
    fclose(f);
  }
  free(png);
  ss_raster_free(r);
  free(svg);
  json_decref(tl);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_canvas_and_rectangles),
      cmocka_unit_test(test_lines_have_their_width),
      cmocka_unit_test(test_dashes_and_polylines),
      cmocka_unit_test(test_text),
      cmocka_unit_test(test_timeline_picture_matches_the_svg),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
