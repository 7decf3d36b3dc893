/* SPDX-License-Identifier: MIT */
#include "bulk.h"

#include <stdint.h>

/* An 8-byte word at any address (x86 loads and stores it in one move). */
typedef uint64_t __attribute__((may_alias, aligned(1))) word;

/*
 * The compiler must not turn these loops back into calls of memcpy/memset
 * (gnu-efi's are the byte loops this file exists to avoid).
 */
#define NO_LIBCALL __attribute__((optimize("no-tree-loop-distribute-patterns")))

NO_LIBCALL void bulk_copy(void *dest, const void *src, size_t n)
{
	uint8_t *d = dest;
	const uint8_t *s = src;

	for (; n >= 64; n -= 64, d += 64, s += 64) {
		const word *in = (const word *)s;
		word *out = (word *)d;
		uint64_t w0 = in[0], w1 = in[1], w2 = in[2], w3 = in[3];
		uint64_t w4 = in[4], w5 = in[5], w6 = in[6], w7 = in[7];

		out[0] = w0;
		out[1] = w1;
		out[2] = w2;
		out[3] = w3;
		out[4] = w4;
		out[5] = w5;
		out[6] = w6;
		out[7] = w7;
	}
	for (; n >= 8; n -= 8, d += 8, s += 8)
		*(word *)d = *(const word *)s;
	for (; n > 0; n--)
		*d++ = *s++;
}

NO_LIBCALL void bulk_zero(void *dest, size_t n)
{
	uint8_t *d = dest;

	for (; n >= 64; n -= 64, d += 64) {
		word *out = (word *)d;

		out[0] = 0;
		out[1] = 0;
		out[2] = 0;
		out[3] = 0;
		out[4] = 0;
		out[5] = 0;
		out[6] = 0;
		out[7] = 0;
	}
	for (; n >= 8; n -= 8, d += 8)
		*(word *)d = 0;
	for (; n > 0; n--)
		*d++ = 0;
}
