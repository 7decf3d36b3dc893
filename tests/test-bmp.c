/* SPDX-License-Identifier: MIT */
/*
 * test-bmp.c - unit tests for measure/bmp.c: which .splash images are drawn
 * and which pixels they give, for every depth systemd-stub draws, and the
 * refusals (each a malformed or unsupported header, never a crash).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "measure/bmp.h"

#define MAX_BMP 4096

struct bmp_spec {
	int32_t width, height;
	uint16_t depth;
	uint32_t compression, dib_size, colors_used;
	const uint8_t *palette; /* 4 bytes per entry */
	size_t palette_bytes;
	uint32_t masks[4];      /* written when dib_size >= 52 (56 for alpha) */
	const uint8_t *rows;    /* bottom row first, each padded to 4 */
	size_t rows_bytes;
};

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A BMP file from @s into @out; returns its size. */
static size_t make_bmp(const struct bmp_spec *s, uint8_t *out)
{
	uint32_t dib = s->dib_size ? s->dib_size : 40;
	size_t pixels_at = 14 + dib + s->palette_bytes, len = pixels_at + s->rows_bytes;

	assert_true(len <= MAX_BMP);
	memset(out, 0, len);
	out[0] = 'B';
	out[1] = 'M';
	put32(out + 2, (uint32_t)len);
	put32(out + 10, (uint32_t)pixels_at);
	put32(out + 14, dib);
	put32(out + 18, (uint32_t)s->width);
	put32(out + 22, (uint32_t)s->height);
	out[26] = 1;
	out[28] = (uint8_t)s->depth;
	put32(out + 30, s->compression);
	put32(out + 46, s->colors_used);
	for (int c = 0; c < 4 && 40 + 4 * (uint32_t)c + 4 <= dib; c++)
		put32(out + 14 + 40 + 4 * c, s->masks[c]);
	if (s->palette_bytes)
		memcpy(out + 14 + dib, s->palette, s->palette_bytes);
	if (s->rows_bytes)
		memcpy(out + pixels_at, s->rows, s->rows_bytes);
	return len;
}

/* Draw every row of @buf over a screen of @bg and compare with @want (B, G, R per pixel, top row first). */
static void assert_drawn(const uint8_t *buf, size_t len, uint8_t bg, const uint8_t *want)
{
	struct bmp_image img;
	uint8_t row[64 * 4];

	assert_int_equal(bmp_parse(buf, len, &img), MS_OK);
	assert_true(img.width <= 64);
	for (uint32_t y = 0; y < img.height; y++) {
		memset(row, bg, sizeof(row));
		bmp_draw_row(&img, y, row);
		for (uint32_t x = 0; x < img.width; x++) {
			const uint8_t *w = want + 3 * (y * img.width + x);

			if (memcmp(row + 4 * x, w, 3) != 0)
				fail_msg("pixel (%u, %u): got %02x%02x%02x, want %02x%02x%02x", x, y, row[4 * x],
					 row[4 * x + 1], row[4 * x + 2], w[0], w[1], w[2]);
			assert_int_equal(row[4 * x + 3], bg); /* the reserved byte is left alone */
		}
	}
}

static void test_24_bit_rows_bottom_up(void **state)
{
	/* 3x2: bottom row blue, green, red; top row white, black, grey. Rows padded to 12 bytes. */
	static const uint8_t rows[] = { 0xff, 0, 0, 0, 0xff, 0, 0, 0, 0xff, 0, 0, 0,
					0xff, 0xff, 0xff, 0, 0, 0, 0x80, 0x80, 0x80, 0, 0, 0 };
	static const uint8_t want[] = { 0xff, 0xff, 0xff, 0, 0, 0, 0x80, 0x80, 0x80,
					0xff, 0, 0, 0, 0xff, 0, 0, 0, 0xff };
	struct bmp_spec s = { .width = 3, .height = 2, .depth = 24, .rows = rows, .rows_bytes = sizeof(rows) };
	uint8_t buf[MAX_BMP];

	(void)state;
	assert_drawn(buf, make_bmp(&s, buf), 0x11, want);
}

static void test_palette_depths(void **state)
{
	static const uint8_t pal2[] = { 0, 0, 0, 0, 0x10, 0x20, 0x30, 0 };
	static uint8_t pal16[16 * 4], pal256[256 * 4];
	/* 1 bit, 10x1: bits 1010000011 (MSB first), row padded to 4 bytes. */
	static const uint8_t rows1[] = { 0xa0, 0xc0, 0, 0 };
	/* 4 bits, 3x1: indexes 1, 2, 15. */
	static const uint8_t rows4[] = { 0x12, 0xf0, 0, 0 };
	/* 8 bits, 2x1: indexes 7, 255. */
	static const uint8_t rows8[] = { 7, 255, 0, 0 };
	uint8_t want[10 * 3], buf[MAX_BMP];
	struct bmp_spec s = { .height = 1 };

	(void)state;
	for (int i = 0; i < 256; i++) {
		uint8_t *p = i < 16 ? pal16 + 4 * i : NULL;

		pal256[4 * i] = (uint8_t)i;
		pal256[4 * i + 1] = (uint8_t)(255 - i);
		pal256[4 * i + 2] = 0x42;
		if (p) {
			p[0] = (uint8_t)(i * 16);
			p[1] = 1;
			p[2] = 2;
		}
	}
	s = (struct bmp_spec){ .width = 10, .height = 1, .depth = 1, .palette = pal2, .palette_bytes = 8,
			       .rows = rows1, .rows_bytes = 4 };
	for (int x = 0; x < 10; x++)
		memcpy(want + 3 * x, pal2 + 4 * ((rows1[x / 8] >> (7 - x % 8)) & 1), 3);
	assert_drawn(buf, make_bmp(&s, buf), 0, want);

	s = (struct bmp_spec){ .width = 3, .height = 1, .depth = 4, .palette = pal16, .palette_bytes = sizeof(pal16),
			       .rows = rows4, .rows_bytes = 4 };
	memcpy(want, pal16 + 4 * 1, 3);
	memcpy(want + 3, pal16 + 4 * 2, 3);
	memcpy(want + 6, pal16 + 4 * 15, 3);
	assert_drawn(buf, make_bmp(&s, buf), 0, want);

	s = (struct bmp_spec){ .width = 2, .height = 1, .depth = 8, .palette = pal256, .palette_bytes = sizeof(pal256),
			       .rows = rows8, .rows_bytes = 4 };
	memcpy(want, pal256 + 4 * 7, 3);
	memcpy(want + 3, pal256 + 4 * 255, 3);
	assert_drawn(buf, make_bmp(&s, buf), 0, want);
}

static void test_16_and_32_bit_blend_like_systemd(void **state)
{
	/* 16 bit 5-5-5: red 31 -> 31*8 = 248, green 16 -> 128, blue 1 -> 8; blended opaque: c * 255 >> 8. */
	static const uint8_t rows16[] = { 0x01, 0x7e, 0, 0 }; /* 0x7e01 = 0 11111 10000 00001 */
	/* 32 bit, 40-byte header: default 8-8-8 masks, opaque: 255 -> 254, 0x80 -> 0x7f. */
	static const uint8_t rows32[] = { 0xff, 0x80, 0x00, 0x00 };
	/* 32 bit, V5 header with alpha mask 0xff000000: half transparent over a screen of 0x40. */
	static const uint8_t rows32a[] = { 0xff, 0x00, 0x00, 0x80 };
	uint8_t want[3], buf[MAX_BMP];
	struct bmp_spec s;

	(void)state;
	s = (struct bmp_spec){ .width = 1, .height = 1, .depth = 16, .rows = rows16, .rows_bytes = 4 };
	want[0] = (uint8_t)(8 * 255 >> 8);
	want[1] = (uint8_t)(128 * 255 >> 8);
	want[2] = (uint8_t)(248 * 255 >> 8);
	assert_drawn(buf, make_bmp(&s, buf), 0, want);

	s = (struct bmp_spec){ .width = 1, .height = 1, .depth = 32, .rows = rows32, .rows_bytes = 4 };
	want[0] = 254;
	want[1] = 0x7f;
	want[2] = 0;
	assert_drawn(buf, make_bmp(&s, buf), 0, want);

	s = (struct bmp_spec){ .width = 1, .height = 1, .depth = 32, .compression = 3, .dib_size = 124,
			       .masks = { 0x00ff0000, 0x0000ff00, 0x000000ff, 0xff000000 }, .rows = rows32a,
			       .rows_bytes = 4 };
	want[0] = (uint8_t)((0x40 * (255 - 0x80) + 0xff * 0x80) >> 8);
	want[1] = (uint8_t)((0x40 * (255 - 0x80)) >> 8);
	want[2] = want[1];
	assert_drawn(buf, make_bmp(&s, buf), 0x40, want);
}

static void test_refusals(void **state)
{
	static const uint8_t rows[32] = { 0 };
	static const uint8_t pal2[8] = { 0 };
	static const struct {
		const char *what;
		struct bmp_spec s;
		ms_status want;
	} cases[] = {
		{ "RLE compression", { .width = 1, .height = 1, .depth = 8, .compression = 1, .palette = NULL }, MS_ERR_UNSUPPORTED },
		{ "2 bits per pixel", { .width = 1, .height = 1, .depth = 2, .rows = rows, .rows_bytes = 4 }, MS_ERR_UNSUPPORTED },
		{ "JPEG in a BMP", { .width = 1, .height = 1, .depth = 24, .compression = 4, .rows = rows, .rows_bytes = 4 }, MS_ERR_UNSUPPORTED },
		{ "top-down", { .width = 1, .height = -1, .depth = 24, .rows = rows, .rows_bytes = 4 }, MS_ERR_TRUNCATED },
		{ "rows missing", { .width = 2, .height = 3, .depth = 24, .rows = rows, .rows_bytes = 16 }, MS_ERR_TRUNCATED },
		{ "palette short for 8 bits", { .width = 1, .height = 1, .depth = 8, .palette = pal2, .palette_bytes = 8,
						.colors_used = 2, .rows = rows, .rows_bytes = 4 }, MS_ERR_INVALID },
		{ "palette size disagrees", { .width = 1, .height = 1, .depth = 1, .palette = pal2, .palette_bytes = 8,
					      .colors_used = 3, .rows = rows, .rows_bytes = 4 }, MS_ERR_INVALID },
		{ "no palette for 1 bit", { .width = 1, .height = 1, .depth = 1, .rows = rows, .rows_bytes = 4 }, MS_ERR_INVALID },
		{ "DIB header too small", { .width = 1, .height = 1, .depth = 24, .dib_size = 12, .rows = rows, .rows_bytes = 32 }, MS_ERR_UNSUPPORTED },
		{ "zero mask", { .width = 1, .height = 1, .depth = 32, .compression = 3, .dib_size = 56,
				 .masks = { 0xff0000, 0, 0xff, 0 }, .rows = rows, .rows_bytes = 4 }, MS_ERR_UNSUPPORTED },
		{ "split mask", { .width = 1, .height = 1, .depth = 32, .compression = 3, .dib_size = 56,
				  .masks = { 0xff0000, 0x00f00f, 0xf0, 0 }, .rows = rows, .rows_bytes = 4 }, MS_ERR_UNSUPPORTED },
		{ "mask over 8 bits", { .width = 1, .height = 1, .depth = 32, .compression = 3, .dib_size = 56,
					.masks = { 0x3ff00000, 0xff00, 0xff, 0 }, .rows = rows, .rows_bytes = 4 }, MS_ERR_UNSUPPORTED },
	};
	uint8_t buf[MAX_BMP];
	struct bmp_image img;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = make_bmp(&cases[i].s, buf);
		ms_status r = bmp_parse(buf, len, &img);

		if (r != cases[i].want)
			fail_msg("%s: got %s, want %s", cases[i].what, ms_strerror(r), ms_strerror(cases[i].want));
	}
}

static void test_file_header_refusals(void **state)
{
	static const uint8_t rows[4] = { 0 };
	struct bmp_spec s = { .width = 1, .height = 1, .depth = 24, .rows = rows, .rows_bytes = 4 };
	uint8_t buf[MAX_BMP];
	struct bmp_image img;
	size_t len = make_bmp(&s, buf);

	(void)state;
	assert_int_equal(bmp_parse(buf, len, &img), MS_OK);
	/* The section is shorter or longer than the header says (a truncated or padded BMP). */
	assert_int_equal(bmp_parse(buf, len - 1, &img), MS_ERR_TRUNCATED);
	assert_int_equal(bmp_parse(buf, len + 1, &img), MS_ERR_TRUNCATED);
	assert_int_equal(bmp_parse(buf, 20, &img), MS_ERR_TRUNCATED);
	assert_int_equal(bmp_parse(NULL, 0, &img), MS_ERR_TRUNCATED);
	buf[1] = 'A';
	assert_int_equal(bmp_parse(buf, len, &img), MS_ERR_BAD_MAGIC);
	buf[1] = 'M';
	put32(buf + 10, (uint32_t)len + 1); /* pixels past the end */
	assert_int_equal(bmp_parse(buf, len, &img), MS_ERR_OUT_OF_BOUNDS);
	put32(buf + 10, 20); /* pixels inside the DIB header */
	assert_int_equal(bmp_parse(buf, len, &img), MS_ERR_OUT_OF_BOUNDS);
	put32(buf + 10, 54);
	put32(buf + 14, 0xffffff00u); /* a DIB header larger than the file */
	assert_int_equal(bmp_parse(buf, len, &img), MS_ERR_OUT_OF_BOUNDS);
}

static void test_64_mib_of_rows_at_most(void **state)
{
	/* 1024 pixels of 4 bytes per row: 16384 rows are exactly 64 MiB, one more is refused. */
	size_t rows_bytes = (size_t)4096 * 16385, len = 54 + rows_bytes;
	uint8_t *buf = calloc(1, len);
	struct bmp_image img;

	(void)state;
	assert_non_null(buf);
	buf[0] = 'B';
	buf[1] = 'M';
	put32(buf + 10, 54);
	put32(buf + 14, 40);
	put32(buf + 18, 1024);
	buf[26] = 1;
	buf[28] = 32;
	put32(buf + 2, (uint32_t)len);
	put32(buf + 22, 16385);
	assert_int_equal(bmp_parse(buf, len, &img), MS_ERR_LIMIT);
	put32(buf + 2, (uint32_t)(len - 4096));
	put32(buf + 22, 16384);
	assert_int_equal(bmp_parse(buf, len - 4096, &img), MS_OK);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_24_bit_rows_bottom_up),
		cmocka_unit_test(test_palette_depths),
		cmocka_unit_test(test_16_and_32_bit_blend_like_systemd),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_file_header_refusals),
		cmocka_unit_test(test_64_mib_of_rows_at_most),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
