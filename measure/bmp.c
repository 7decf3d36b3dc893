/* SPDX-License-Identifier: MIT */
#include "bmp.h"

#include "endian.h"

/* Offsets in the file header and the DIB header (BITMAPINFOHEADER and its V4/V5 successors). */
#define FILE_SIZE 2
#define FILE_PIXELS 10
#define DIB_SIZE 0
#define DIB_WIDTH 4
#define DIB_HEIGHT 8
#define DIB_DEPTH 14
#define DIB_COMPRESSION 16
#define DIB_COLORS_USED 32
#define DIB_MASKS 40          /* R, G, B: in a header of at least 52 bytes */
#define DIB_ALPHA_MASK 52     /* in a header of at least 56 bytes */
#define DIB_RGB_MASKS_END 52
#define DIB_ALPHA_MASK_END 56
#define PALETTE_ENTRY 4

#define BI_RGB 0
#define BI_BITFIELDS 3

enum { R, G, B, A };

static unsigned popcount32(uint32_t v)
{
	unsigned n = 0;

	for (; v; v &= v - 1)
		n++;
	return n;
}

static unsigned ctz32(uint32_t v)
{
	unsigned n = 0;

	while (!(v & 1)) {
		v >>= 1;
		n++;
	}
	return n;
}

/* A channel mask we can scale to 8 bits: non-zero, contiguous, at most 8 bits. */
static ms_status set_channel(struct bmp_image *img, int c, uint32_t mask)
{
	unsigned bits = popcount32(mask);

	if (mask == 0 || bits > 8 || ((mask >> ctz32(mask)) & ((mask >> ctz32(mask)) + 1)) != 0)
		return MS_ERR_UNSUPPORTED;
	img->mask[c] = mask;
	img->shift[c] = (uint8_t)ctz32(mask);
	/* systemd-stub's scale: 255 / (2^bits - 1), truncated (5 bits: 8, 8 bits: 1). */
	img->scale[c] = (uint8_t)(0xff / ((1u << bits) - 1));
	return MS_OK;
}

/* The masks of a 16/32-bit image: from a large enough DIB header, else the defaults. */
static ms_status read_masks(const uint8_t *dib, uint32_t dib_size, struct bmp_image *img)
{
	uint32_t alpha;
	ms_status r;

	if (dib_size < DIB_RGB_MASKS_END) {
		int b16 = img->depth == 16;

		(void)set_channel(img, R, b16 ? 0x7c00 : 0xff0000);
		(void)set_channel(img, G, b16 ? 0x03e0 : 0x00ff00);
		(void)set_channel(img, B, b16 ? 0x001f : 0x0000ff);
		return MS_OK;
	}
	for (int c = R; c <= B; c++) {
		r = set_channel(img, c, le32_read(dib + DIB_MASKS + 4 * c));
		if (r != MS_OK)
			return r;
	}
	alpha = dib_size >= DIB_ALPHA_MASK_END ? le32_read(dib + DIB_ALPHA_MASK) : 0;
	return alpha ? set_channel(img, A, alpha) : MS_OK;
}

/* The colour table: exactly as long as its entry count says, and covering every index (1/4/8 bits). */
static ms_status check_palette(uint32_t pixels_at, uint32_t dib_end, uint32_t colors_used, uint16_t depth)
{
	uint64_t table = pixels_at - dib_end, count = colors_used;

	if (table > 0) {
		if (count == 0 && depth <= 8)
			count = 1u << depth;
		if (table != PALETTE_ENTRY * count)
			return MS_ERR_INVALID;
	}
	if (depth <= 8 && table < (uint64_t)PALETTE_ENTRY << depth)
		return MS_ERR_INVALID;
	return MS_OK;
}

ms_status bmp_parse(const uint8_t *buf, size_t len, struct bmp_image *ret)
{
	const uint8_t *dib = buf + BMP_FILE_HEADER_SIZE;
	uint32_t pixels_at, dib_size, compression;
	uint64_t row_size, rows;
	ms_status r;

	if (!buf || len < BMP_FILE_HEADER_SIZE + BMP_DIB_MIN_SIZE)
		return MS_ERR_TRUNCATED;
	if (buf[0] != 'B' || buf[1] != 'M')
		return MS_ERR_BAD_MAGIC;
	/* systemd-stub insists that the header's file size is the section's size. */
	if (le32_read(buf + FILE_SIZE) != len)
		return MS_ERR_TRUNCATED;
	pixels_at = le32_read(buf + FILE_PIXELS);
	if (pixels_at > len)
		return MS_ERR_OUT_OF_BOUNDS;
	dib_size = le32_read(dib + DIB_SIZE);
	if (dib_size < BMP_DIB_MIN_SIZE)
		return MS_ERR_UNSUPPORTED;
	if (dib_size > len - BMP_FILE_HEADER_SIZE || pixels_at < BMP_FILE_HEADER_SIZE + dib_size)
		return MS_ERR_OUT_OF_BOUNDS;

	for (int c = 0; c < 4; c++)
		ret->mask[c] = ret->shift[c] = ret->scale[c] = 0;
	ret->width = le32_read(dib + DIB_WIDTH);
	ret->height = le32_read(dib + DIB_HEIGHT); /* negative (top-down) reads as huge: refused below */
	ret->depth = le16_read(dib + DIB_DEPTH);
	compression = le32_read(dib + DIB_COMPRESSION);
	switch (ret->depth) {
	case 1:
	case 4:
	case 8:
	case 24:
		if (compression != BI_RGB)
			return MS_ERR_UNSUPPORTED;
		break;
	case 16:
	case 32:
		if (compression != BI_RGB && compression != BI_BITFIELDS)
			return MS_ERR_UNSUPPORTED;
		r = read_masks(dib, dib_size, ret);
		if (r != MS_OK)
			return r;
		break;
	default:
		return MS_ERR_UNSUPPORTED;
	}

	row_size = ((uint64_t)ret->depth * ret->width + 31) / 32 * 4;
	rows = row_size * ret->height;
	if (rows > len - pixels_at)
		return MS_ERR_TRUNCATED;
	if (rows > BMP_ROWS_MAX)
		return MS_ERR_LIMIT;
	r = check_palette(pixels_at, BMP_FILE_HEADER_SIZE + dib_size, le32_read(dib + DIB_COLORS_USED), ret->depth);
	if (r != MS_OK)
		return r;
	ret->row_size = (size_t)row_size;
	ret->rows = buf + pixels_at;
	ret->palette = buf + BMP_FILE_HEADER_SIZE + dib_size;
	return MS_OK;
}

static void put(uint8_t *px, const uint8_t *bgr)
{
	px[0] = bgr[0];
	px[1] = bgr[1];
	px[2] = bgr[2];
}

/* One 16/32-bit pixel blended over the screen's, as systemd-stub blends (>> 8, not / 255). */
static void blend(const struct bmp_image *img, uint32_t v, uint8_t *px)
{
	uint32_t a = img->mask[A] ? ((v & img->mask[A]) >> img->shift[A]) * img->scale[A] : 0xff;
	static const int at[3] = { [R] = 2, [G] = 1, [B] = 0 };

	for (int c = R; c <= B; c++) {
		uint32_t colour = ((v & img->mask[c]) >> img->shift[c]) * img->scale[c];

		px[at[c]] = (uint8_t)((px[at[c]] * (0xffu - a) + colour * a) >> 8);
	}
}

void bmp_draw_row(const struct bmp_image *img, uint32_t y, uint8_t *pixels)
{
	const uint8_t *in = img->rows + (size_t)(img->height - 1 - y) * img->row_size;

	for (uint32_t x = 0; x < img->width; x++) {
		uint8_t *px = pixels + 4 * (size_t)x;
		unsigned index;

		switch (img->depth) {
		case 1:
			index = (in[x / 8] >> (7 - x % 8)) & 1;
			put(px, img->palette + PALETTE_ENTRY * index);
			break;
		case 4:
			index = (in[x / 2] >> (x % 2 ? 0 : 4)) & 0xf;
			put(px, img->palette + PALETTE_ENTRY * index);
			break;
		case 8:
			put(px, img->palette + PALETTE_ENTRY * in[x]);
			break;
		case 24:
			put(px, in + 3 * (size_t)x);
			break;
		case 16:
			blend(img, le16_read(in + 2 * (size_t)x), px);
			break;
		default: /* 32 */
			blend(img, le32_read(in + 4 * (size_t)x), px);
			break;
		}
	}
}
