/* SPDX-License-Identifier: MIT */
/*
 * fuzz-initrd.c - libFuzzer target for measure/initrd.c.
 *
 * Byte 0 gives the number of pieces (up to INITRD_MAX_PIECES + 2, so too
 * many is tried too); then 8 bytes per piece, little-endian, whose top
 * byte scales the size (small sizes, sizes near 2^32 and near 2^64 all
 * occur). initrd_layout must agree with a 128-bit computation of the rule
 * in initrd.h: every piece but the last non-empty one padded to 4, empty
 * pieces taking no room; MS_ERR_OVERFLOW exactly when that does not fit in
 * 64 bits, MS_ERR_INVALID for too many pieces. Pieces up to the last
 * non-empty one start 4-aligned, and align4_u64 is checked on every size.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure/initrd.h"

#define CHECK(cond)                                                                            \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "fuzz-initrd: %s:%d: invariant failed: %s\n",          \
				__FILE__, __LINE__, #cond);                                    \
			abort();                                                               \
		}                                                                              \
	} while (0)

#define MAX_N (INITRD_MAX_PIECES + 2)

static uint64_t scaled(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	switch (p[7] >> 6) {
	case 0: return v & 0xffff;                 /* small */
	case 1: return 0xffffffffull - (v & 0xff); /* near 4 GiB */
	case 2: return UINT64_MAX - (v & 0xff);    /* near 2^64 */
	default: return v;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t sizes[MAX_N] = { 0 }, offsets[MAX_N] = { 0 }, total = 0, t2 = 0;
	unsigned __int128 ref_off[MAX_N], ref_total = 0;
	size_t n, last;
	int overflow = 0;
	ms_status r;

	if (size == 0)
		return 0;
	n = data[0] % (MAX_N + 1);
	if (size < 1 + 8 * n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t a;
		unsigned __int128 want = ((unsigned __int128)scaled(data + 1 + 8 * i) + 3) & ~(unsigned __int128)3;

		sizes[i] = scaled(data + 1 + 8 * i);
		r = align4_u64(sizes[i], &a);
		if (want > UINT64_MAX) {
			CHECK(r == MS_ERR_OVERFLOW);
		} else {
			CHECK(r == MS_OK && a == (uint64_t)want);
		}
	}

	r = initrd_layout(sizes, n, offsets, &total);
	if (n > INITRD_MAX_PIECES) {
		CHECK(r == MS_ERR_INVALID);
		return 0;
	}
	last = n;
	for (size_t i = 0; i < n; i++)
		if (sizes[i])
			last = i;
	for (size_t i = 0; i < n; i++) {
		unsigned __int128 sz = sizes[i];

		ref_off[i] = ref_total;
		if (i != last)
			sz = (sz + 3) & ~(unsigned __int128)3;
		ref_total += sz;
		if (ref_total > UINT64_MAX)
			overflow = 1;
	}
	if (overflow) {
		CHECK(r == MS_ERR_OVERFLOW);
		return 0;
	}
	CHECK(r == MS_OK);
	CHECK(total == (uint64_t)ref_total);
	for (size_t i = 0; i < n; i++) {
		CHECK(offsets[i] == (uint64_t)ref_off[i]);
		if (last < n && i <= last)
			CHECK(offsets[i] % 4 == 0);
	}
	/* Offsets are optional. */
	CHECK(initrd_layout(sizes, n, NULL, &t2) == MS_OK && t2 == total);
	return 0;
}
