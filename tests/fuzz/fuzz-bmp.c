/* SPDX-License-Identifier: MIT */
/*
 * fuzz-bmp.c - libFuzzer target for measure/bmp.c, the .splash reader.
 *
 * The input is a .splash section. Whenever bmp_parse() accepts it, every
 * row is drawn into a buffer of exactly width pixels (ASan sees any write
 * past it, and any read past the section, which is a heap copy of exactly
 * its size); the promises bmp.h makes must hold: the rows lie inside the
 * section, at most 64 MiB of them, a palette covers every index of a
 * 1/4/8-bit image, and the reserved byte of each pixel is never written.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure/bmp.h"

#define CHECK(cond)                                                                            \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "fuzz-bmp: %s:%d: invariant failed: %s\n", __FILE__,   \
				__LINE__, #cond);                                              \
			abort();                                                               \
		}                                                                              \
	} while (0)

/* Drawing is bounded to keep each run short; parsing is not. */
#define DRAW_PIXELS_MAX (1u << 16)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bmp_image img;
	uint8_t *copy, *row;

	copy = malloc(size ? size : 1);
	CHECK(copy != NULL);
	memcpy(copy, data, size);
	if (bmp_parse(copy, size, &img) != MS_OK) {
		free(copy);
		return 0;
	}
	CHECK(img.rows >= copy && img.rows <= copy + size);
	CHECK((uint64_t)img.row_size * img.height <= (uint64_t)(copy + size - img.rows));
	CHECK((uint64_t)img.row_size * img.height <= BMP_ROWS_MAX);
	CHECK(img.row_size == ((uint64_t)img.depth * img.width + 31) / 32 * 4);
	if (img.depth <= 8)
		CHECK(img.palette + (4u << img.depth) <= img.rows);
	if ((uint64_t)img.width * img.height <= DRAW_PIXELS_MAX && img.width > 0 && img.height > 0) {
		row = malloc((size_t)img.width * 4);
		CHECK(row != NULL);
		for (uint32_t y = 0; y < img.height; y++) {
			memset(row, 0x5a, (size_t)img.width * 4);
			bmp_draw_row(&img, y, row);
			for (uint32_t x = 0; x < img.width; x++)
				CHECK(row[4 * (size_t)x + 3] == 0x5a);
		}
		free(row);
	}
	free(copy);
	return 0;
}
