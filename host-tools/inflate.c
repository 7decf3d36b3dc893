/* SPDX-License-Identifier: MIT */
#include "inflate.h"

#include <string.h>

#define MAX_BITS 15
#define LITLEN_CODES 288
#define DIST_CODES 30

struct bits {
	const uint8_t *src;
	size_t len, pos; /* byte position */
	uint32_t buf;    /* bits not yet used, LSB first */
	unsigned have;
	int truncated;
};

/* @n (<= 16) bits, LSB first; on running out, zeros and the truncated mark. */
static unsigned getbits(struct bits *b, unsigned n)
{
	unsigned v;

	while (b->have < n) {
		if (b->pos >= b->len) {
			b->truncated = 1;
			return 0;
		}
		b->buf |= (uint32_t)b->src[b->pos++] << b->have;
		b->have += 8;
	}
	v = b->buf & ((1u << n) - 1);
	b->buf >>= n;
	b->have -= n;
	return v;
}

/* A canonical Huffman code: how many codes of each length, and the symbols in code order. */
struct huffman {
	uint16_t count[MAX_BITS + 1];
	uint16_t symbol[LITLEN_CODES];
};

/* Build from code lengths. 0, or -1 when the lengths over-subscribe the code space. */
static int huffman_build(struct huffman *h, const uint8_t *lengths, unsigned n)
{
	uint16_t offs[MAX_BITS + 2];
	int left = 1;

	memset(h->count, 0, sizeof(h->count));
	for (unsigned i = 0; i < n; i++)
		h->count[lengths[i]]++;
	for (unsigned len = 1; len <= MAX_BITS; len++) {
		left = left * 2 - h->count[len];
		if (left < 0)
			return -1;
	}
	offs[1] = 0;
	for (unsigned len = 1; len <= MAX_BITS; len++)
		offs[len + 1] = (uint16_t)(offs[len] + h->count[len]);
	for (unsigned i = 0; i < n; i++)
		if (lengths[i])
			h->symbol[offs[lengths[i]]++] = (uint16_t)i;
	return 0;
}

/* Decode one symbol, one bit at a time (Huffman codes are stored MSB first). -1: no such code. */
static int huffman_decode(struct bits *b, const struct huffman *h)
{
	int code = 0, first = 0, index = 0;

	for (unsigned len = 1; len <= MAX_BITS; len++) {
		code |= (int)getbits(b, 1);
		if (b->truncated)
			return -1;
		if (code - first < h->count[len])
			return h->symbol[index + code - first];
		index += h->count[len];
		first = (first + h->count[len]) << 1;
		code <<= 1;
	}
	return -1;
}

static const uint16_t len_base[29] = { 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
				       35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258 };
static const uint8_t len_extra[29] = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0 };
static const uint16_t dist_base[30] = { 1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193,
					257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577 };
static const uint8_t dist_extra[30] = { 0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13 };

struct out {
	uint8_t *dst;
	size_t cap, len;
};

static enum inflate_status inflate_codes(struct bits *b, struct out *o, const struct huffman *lit,
					 const struct huffman *dist)
{
	for (;;) {
		int sym = huffman_decode(b, lit);

		if (sym < 0)
			return b->truncated ? INFLATE_TRUNCATED : INFLATE_CORRUPT;
		if (sym < 256) {
			if (o->len >= o->cap)
				return INFLATE_TOO_BIG;
			o->dst[o->len++] = (uint8_t)sym;
		} else if (sym == 256) {
			return INFLATE_OK;
		} else {
			unsigned len, d;
			int ds;

			sym -= 257;
			if (sym >= 29)
				return INFLATE_CORRUPT;
			len = len_base[sym] + getbits(b, len_extra[sym]);
			ds = huffman_decode(b, dist);
			if (ds < 0 || ds >= 30)
				return b->truncated ? INFLATE_TRUNCATED : INFLATE_CORRUPT;
			d = dist_base[ds] + getbits(b, dist_extra[ds]);
			if (b->truncated)
				return INFLATE_TRUNCATED;
			if (d > o->len)
				return INFLATE_CORRUPT; /* reaches back before the start */
			if (len > o->cap - o->len)
				return INFLATE_TOO_BIG;
			for (unsigned i = 0; i < len; i++, o->len++)
				o->dst[o->len] = o->dst[o->len - d];
		}
	}
}

static enum inflate_status block_stored(struct bits *b, struct out *o)
{
	unsigned len, nlen;

	b->buf = 0, b->have = 0; /* to a byte boundary */
	if (b->len - b->pos < 4)
		return INFLATE_TRUNCATED;
	len = b->src[b->pos] | (unsigned)b->src[b->pos + 1] << 8;
	nlen = b->src[b->pos + 2] | (unsigned)b->src[b->pos + 3] << 8;
	b->pos += 4;
	if (len != (~nlen & 0xffff))
		return INFLATE_CORRUPT;
	if (b->len - b->pos < len)
		return INFLATE_TRUNCATED;
	if (len > o->cap - o->len)
		return INFLATE_TOO_BIG;
	memcpy(o->dst + o->len, b->src + b->pos, len);
	o->len += len;
	b->pos += len;
	return INFLATE_OK;
}

static enum inflate_status block_fixed(struct bits *b, struct out *o)
{
	struct huffman lit, dist;
	uint8_t lengths[LITLEN_CODES];
	unsigned i;

	for (i = 0; i < 144; i++)
		lengths[i] = 8;
	for (; i < 256; i++)
		lengths[i] = 9;
	for (; i < 280; i++)
		lengths[i] = 7;
	for (; i < LITLEN_CODES; i++)
		lengths[i] = 8;
	huffman_build(&lit, lengths, LITLEN_CODES);
	for (i = 0; i < DIST_CODES; i++)
		lengths[i] = 5;
	huffman_build(&dist, lengths, DIST_CODES);
	return inflate_codes(b, o, &lit, &dist);
}

static enum inflate_status block_dynamic(struct bits *b, struct out *o)
{
	static const uint8_t order[19] = { 16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15 };
	uint8_t lengths[LITLEN_CODES + DIST_CODES];
	struct huffman lencode, lit, dist;
	unsigned nlen = getbits(b, 5) + 257, ndist = getbits(b, 5) + 1, ncode = getbits(b, 4) + 4, i;

	if (b->truncated)
		return INFLATE_TRUNCATED;
	if (nlen > 286 || ndist > DIST_CODES)
		return INFLATE_CORRUPT;
	memset(lengths, 0, sizeof(lengths));
	for (i = 0; i < ncode; i++)
		lengths[order[i]] = (uint8_t)getbits(b, 3);
	if (b->truncated)
		return INFLATE_TRUNCATED;
	if (huffman_build(&lencode, lengths, 19) < 0)
		return INFLATE_CORRUPT;
	for (i = 0; i < nlen + ndist;) {
		int sym = huffman_decode(b, &lencode);
		unsigned rep, val = 0;

		if (sym < 0)
			return b->truncated ? INFLATE_TRUNCATED : INFLATE_CORRUPT;
		if (sym < 16) {
			lengths[i++] = (uint8_t)sym;
			continue;
		}
		if (sym == 16) {
			if (i == 0)
				return INFLATE_CORRUPT;
			val = lengths[i - 1];
			rep = 3 + getbits(b, 2);
		} else if (sym == 17) {
			rep = 3 + getbits(b, 3);
		} else {
			rep = 11 + getbits(b, 7);
		}
		if (b->truncated)
			return INFLATE_TRUNCATED;
		if (i + rep > nlen + ndist)
			return INFLATE_CORRUPT;
		while (rep--)
			lengths[i++] = (uint8_t)val;
	}
	if (lengths[256] == 0) /* no end-of-block code */
		return INFLATE_CORRUPT;
	if (huffman_build(&lit, lengths, nlen) < 0 || huffman_build(&dist, lengths + nlen, ndist) < 0)
		return INFLATE_CORRUPT;
	return inflate_codes(b, o, &lit, &dist);
}

enum inflate_status inflate_raw(const uint8_t *src, size_t src_len, uint8_t *dst, size_t dst_cap, size_t *dst_len,
				size_t *src_used)
{
	struct bits b = { .src = src, .len = src_len };
	struct out o = { dst, dst_cap, 0 };
	unsigned last;

	do {
		enum inflate_status s;
		unsigned type;

		last = getbits(&b, 1);
		type = getbits(&b, 2);
		if (b.truncated)
			return INFLATE_TRUNCATED;
		if (type == 0)
			s = block_stored(&b, &o);
		else if (type == 1)
			s = block_fixed(&b, &o);
		else if (type == 2)
			s = block_dynamic(&b, &o);
		else
			s = INFLATE_CORRUPT;
		if (s != INFLATE_OK)
			return s;
	} while (!last);
	*dst_len = o.len;
	if (src_used)
		*src_used = b.pos; /* whole bytes: the rest of the last byte is padding */
	return INFLATE_OK;
}

enum inflate_status inflate_zlib(const uint8_t *src, size_t src_len, uint8_t *dst, size_t dst_cap, size_t *dst_len)
{
	uint32_t a = 1, b = 0, want;
	size_t used = 0;
	enum inflate_status s;

	if (src_len < 2)
		return INFLATE_TRUNCATED;
	/* CM 8 (deflate), window <= 32 KiB, no preset dictionary, header check */
	if ((src[0] & 0x0f) != 8 || (src[0] >> 4) > 7 || (src[1] & 0x20) || ((src[0] << 8) | src[1]) % 31 != 0)
		return INFLATE_CORRUPT;
	s = inflate_raw(src + 2, src_len - 2, dst, dst_cap, dst_len, &used);
	if (s != INFLATE_OK)
		return s;
	if (src_len - 2 - used < 4)
		return INFLATE_TRUNCATED;
	for (size_t i = 0; i < *dst_len; i++) {
		a = (a + dst[i]) % 65521;
		b = (b + a) % 65521;
	}
	want = (uint32_t)src[2 + used] << 24 | (uint32_t)src[3 + used] << 16 | (uint32_t)src[4 + used] << 8 | src[5 + used];
	return want == (b << 16 | a) ? INFLATE_OK : INFLATE_CORRUPT;
}

const char *inflate_strerror(enum inflate_status s)
{
	switch (s) {
	case INFLATE_OK:
		return "ok";
	case INFLATE_TRUNCATED:
		return "compressed data cut short";
	case INFLATE_TOO_BIG:
		return "decompresses to more than the block size";
	default:
		return "corrupt compressed data";
	}
}
