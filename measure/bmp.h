/* SPDX-License-Identifier: MIT */
/*
 * bmp.h - the Windows BMP images a UKI's .splash holds, read the way
 * systemd-stub v262 reads them (src/boot/splash.c), bounds-checked for a
 * hostile section.
 *
 * Accepted, as systemd-stub accepts them: the file header ("BM", a file
 * size equal to the section's, a pixel offset inside it), a DIB header of
 * at least 40 bytes, 1, 4, 8 or 24 bits per pixel uncompressed, 16 or 32
 * bits uncompressed or BI_BITFIELDS, rows bottom-up (a top-down image has a
 * negative height, which reads as a huge one and is refused), every row
 * there (at most 64 MiB of rows), and a colour table that is exactly the
 * size its entry count says and large enough for every index a 1/4/8-bit
 * pixel can hold. 16/32-bit channel masks come from a DIB header of at
 * least 52 bytes (alpha from one of at least 56), else the defaults (5-5-5,
 * 8-8-8). Stricter than systemd-stub, which would divide by zero or read
 * garbage: a mask that is 0, wider than 8 bits or not contiguous is refused.
 *
 * Drawing follows systemd-stub too: 1/4/8/24-bit pixels replace the
 * screen's, 16/32-bit ones are blended over it as
 * (screen * (255 - alpha) + colour * alpha) >> 8 (alpha 255 without an
 * alpha mask, so an opaque 255 becomes 254).
 */
#ifndef MEASURE_BMP_H
#define MEASURE_BMP_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define BMP_FILE_HEADER_SIZE 14
#define BMP_DIB_MIN_SIZE 40
#define BMP_ROWS_MAX (64u * 1024 * 1024) /* bytes of pixel rows systemd-stub accepts */

struct bmp_image {
	uint32_t width, height;
	uint16_t depth;
	const uint8_t *rows;    /* the bottom row's first byte */
	size_t row_size;        /* bytes per row, padded to 4 */
	const uint8_t *palette; /* B, G, R, reserved per entry (1/4/8 bits) */
	uint32_t mask[4];       /* R, G, B, A (16/32 bits; A 0: opaque) */
	uint8_t shift[4], scale[4];
};

/* Parse @len bytes of a .splash section. MS_OK, or why it is refused (MS_ERR_*). */
ms_status bmp_parse(const uint8_t *buf, size_t len, struct bmp_image *ret);

/*
 * Draw row @y (0 = the top row on screen) of @img over @pixels: width
 * pixels of 4 bytes, blue, green, red, reserved (EFI_GRAPHICS_OUTPUT_BLT_PIXEL),
 * holding what the screen shows there. The reserved bytes are left alone.
 */
void bmp_draw_row(const struct bmp_image *img, uint32_t y, uint8_t *pixels);

#endif
