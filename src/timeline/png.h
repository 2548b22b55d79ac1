/* png.h: an RGB image as a PNG file (the PNG specification, ISO/IEC
 * 15948): the signature, IHDR (8-bit truecolour, no interlace), one IDAT
 * (the rows, each with filter byte 0 or 2 -- "Up" -- whichever compresses
 * better by a cheap estimate, deflated by zlib) and IEND, each chunk
 * closed by the CRC-32 of its type and data. */
#ifndef SS_TIMELINE_PNG_H
#define SS_TIMELINE_PNG_H

#include <stddef.h>
#include <stdint.h>

/* an image wider or taller than this is refused (the specification
 * allows 2^31 - 1; a chart is 960 wide) */
#define SS_PNG_MAX_SIDE 16384
/* a PNG larger than this is refused (a chart is tens of KiB) */
#define SS_PNG_MAX_BYTES ((size_t)64 << 20)

/* The CRC-32 the chunks carry (the PNG specification's, as zlib's crc32)
 * over type (4 bytes) then data. */
uint32_t ss_png_chunk_crc(const char type[4], const uint8_t *data, size_t len);

/* Encodes w x h pixels (rgb: w * h * 3 bytes, rows top first) into a new
 * buffer *out of *len bytes (malloc'd; the caller frees). Returns 0, or -1
 * on a bad size or out of memory (then *out is NULL). */
int ss_png_encode(const uint8_t *rgb, int w, int h, uint8_t **out, size_t *len);

#endif
