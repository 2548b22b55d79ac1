/* test_png.c: unit tests for src/timeline/png.c: the chunks' CRC-32 against
 * known values (computed here bit by bit, not with zlib), and PNGs decoded
 * back by a small decoder of the test's own (chunks, CRCs, inflate, the
 * five row filters) to the very pixels encoded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <cmocka.h>

#include "timeline/png.h"

/* The CRC-32 of the PNG specification's annex D, one bit at a time. */
static uint32_t crc_bitwise(const uint8_t *p, size_t n, uint32_t c) {
  c = ~c;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++)
      c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
  }
  return ~c;
}

static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void test_crc_of_known_chunks(void **state) {
  (void)state;
  /* IEND's CRC, in every PNG file */
  assert_int_equal(ss_png_chunk_crc("IEND", NULL, 0), 0xae426082u);
  /* IHDR of a 1x1 8-bit truecolour image */
  const uint8_t ihdr[13] = {0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0};
  assert_int_equal(ss_png_chunk_crc("IHDR", ihdr, sizeof ihdr), 0x907753deu);
  /* the CRC-32 check value: "123456789" (type "1234", data "56789") */
  assert_int_equal(ss_png_chunk_crc("1234", (const uint8_t *)"56789", 5), 0xcbf43926u);
  assert_int_equal(crc_bitwise((const uint8_t *)"123456789", 9, 0), 0xcbf43926u);
}

static int paeth(int a, int b, int c) {
  int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/* Decodes an 8-bit RGB, non-interlaced PNG into *rgb (malloc'd); checks
 * every chunk's CRC and the order IHDR, IDAT..., IEND. */
static void decode(const uint8_t *png, size_t len, int *w, int *h, uint8_t **rgb) {
  static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  assert_true(len > 8);
  assert_memory_equal(png, sig, 8);
  size_t at = 8, zlen = 0;
  uint8_t *z = NULL;
  int seen_ihdr = 0, seen_iend = 0;
  while (at + 12 <= len) {
    uint32_t n = rd32(png + at);
    assert_true(at + 12 + n <= len);
    const uint8_t *type = png + at + 4, *data = png + at + 8;
    assert_int_equal(rd32(data + n), crc_bitwise(type, 4 + n, 0));
    assert_false(seen_iend);
    if (memcmp(type, "IHDR", 4) == 0) {
      assert_int_equal(at, 8);
      assert_int_equal(n, 13);
      *w = (int)rd32(data);
      *h = (int)rd32(data + 4);
      assert_int_equal(data[8], 8);
      assert_int_equal(data[9], 2);
      assert_int_equal(data[10] | data[11] | data[12], 0);
      seen_ihdr = 1;
    } else if (memcmp(type, "IDAT", 4) == 0) {
      assert_true(seen_ihdr);
      z = realloc(z, zlen + n + 1);
      assert_non_null(z);
      memcpy(z + zlen, data, n);
      zlen += n;
    } else if (memcmp(type, "IEND", 4) == 0) {
      assert_int_equal(n, 0);
      seen_iend = 1;
    }
    at += 12 + n;
  }
  assert_true(seen_iend);
  assert_int_equal(at, len);
  size_t stride = (size_t)*w * 3;
  uLongf raw_len = (uLongf)((stride + 1) * (size_t)*h);
  uint8_t *raw = malloc(raw_len);
  assert_non_null(raw);
  uLongf got = raw_len;
  assert_int_equal(uncompress(raw, &got, z, (uLong)zlen), Z_OK);
  assert_int_equal(got, raw_len);
  *rgb = malloc(stride * (size_t)*h);
  assert_non_null(*rgb);
  for (int y = 0; y < *h; y++) {
    const uint8_t *src = raw + (size_t)y * (stride + 1);
    uint8_t *row = *rgb + (size_t)y * stride, *up = y ? row - stride : NULL;
    assert_true(src[0] <= 4);
    for (size_t i = 0; i < stride; i++) {
      int a = i >= 3 ? row[i - 3] : 0, b = up ? up[i] : 0, c = up && i >= 3 ? up[i - 3] : 0;
      int pred = src[0] == 1 ? a : src[0] == 2 ? b : src[0] == 3 ? (a + b) / 2
                 : src[0] == 4 ? paeth(a, b, c) : 0;
      row[i] = (uint8_t)(src[1 + i] + pred);
    }
  }
  free(raw);
  free(z);
}

static void round_trip(int w, int h, const uint8_t *rgb) {
  uint8_t *png = NULL, *back = NULL;
  size_t len = 0;
  int bw = 0, bh = 0;
  assert_int_equal(ss_png_encode(rgb, w, h, &png, &len), 0);
  decode(png, len, &bw, &bh, &back);
  assert_int_equal(bw, w);
  assert_int_equal(bh, h);
  assert_memory_equal(back, rgb, (size_t)w * (size_t)h * 3);
  free(back);
  free(png);
}

static void test_one_pixel(void **state) {
  (void)state;
  const uint8_t red[3] = {0xff, 0, 0};
  uint8_t *png = NULL;
  size_t len = 0;
  assert_int_equal(ss_png_encode(red, 1, 1, &png, &len), 0);
  /* signature, then IHDR exactly as a 1x1 RGB image has it */
  static const uint8_t head[8 + 25] = {0x89, 'P',  'N',  'G',  '\r', '\n', 0x1a, '\n', 0, 0, 0,
                                       13,   'I',  'H',  'D',  'R',  0,    0,    0,    1, 0, 0,
                                       0,    1,    8,    2,    0,    0,    0,    0x90, 0x77, 0x53,
                                       0xde};
  assert_true(len > sizeof head + 12);
  assert_memory_equal(png, head, sizeof head);
  /* and IEND last */
  static const uint8_t iend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82};
  assert_memory_equal(png + len - 12, iend, 12);
  free(png);
  round_trip(1, 1, red);
}

static void test_round_trip_of_patterns(void **state) {
  (void)state;
  /* noise (rows left unfiltered), stripes (rows filtered "Up"), an odd size */
  int w = 37, h = 23;
  uint8_t *rgb = malloc((size_t)w * (size_t)h * 3);
  assert_non_null(rgb);
  uint32_t seed = 12345;
  for (size_t i = 0; i < (size_t)w * (size_t)h * 3; i++) {
    seed = seed * 1103515245u + 12345u;
    rgb[i] = (uint8_t)(seed >> 16);
  }
  round_trip(w, h, rgb);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < 3; c++)
        rgb[((size_t)y * (size_t)w + (size_t)x) * 3 + (size_t)c] = (uint8_t)(x * 7 + c * 50);
  round_trip(w, h, rgb);
  free(rgb);
}

static void test_flat_image_compresses(void **state) {
  (void)state;
  int w = 960, h = 900;
  uint8_t *rgb = malloc((size_t)w * (size_t)h * 3);
  assert_non_null(rgb);
  memset(rgb, 0xfa, (size_t)w * (size_t)h * 3);
  uint8_t *png = NULL;
  size_t len = 0;
  assert_int_equal(ss_png_encode(rgb, w, h, &png, &len), 0);
  assert_true(len < 20000);
  free(png);
  round_trip(w, h, rgb);
  free(rgb);
}

static void test_bad_sizes_refused(void **state) {
  (void)state;
  uint8_t px[3] = {0}, *png = (uint8_t *)1;
  size_t len = 7;
  assert_int_equal(ss_png_encode(px, 0, 1, &png, &len), -1);
  assert_null(png);
  assert_int_equal(len, 0);
  assert_int_equal(ss_png_encode(px, 1, -1, &png, &len), -1);
  assert_int_equal(ss_png_encode(NULL, 1, 1, &png, &len), -1);
  assert_int_equal(ss_png_encode(px, 100000, 1, &png, &len), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_crc_of_known_chunks),
      cmocka_unit_test(test_one_pixel),
      cmocka_unit_test(test_round_trip_of_patterns),
      cmocka_unit_test(test_flat_image_compresses),
      cmocka_unit_test(test_bad_sizes_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
