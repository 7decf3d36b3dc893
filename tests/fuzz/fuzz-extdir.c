/* SPDX-License-Identifier: MIT */
/*
 * fuzz-extdir.c - libFuzzer target for measure/extdir.c: the per-UKI
 * extension directory derived from the stub's own path.
 *
 * Input: byte 0 is the output capacity in UTF-16 units (0..255); byte 1
 * bit 0 chooses how the rest becomes the path: one unit per byte, or two
 * bytes per unit (little-endian), so units above 255 and NULs inside the
 * path occur too.
 *
 * Checked against a second implementation written from extdir.h's text
 * (cut at the first NUL, '/' to '\', doubled separators collapsed, a '\'
 * in front, a final component ending in ".efi" (any case) loses a "+N" or
 * "+N-M" directly before it, ".extra.d" appended; empty or ending in '\' is
 * invalid): with room to spare the result is exactly the reference's; with
 * the fuzzed capacity it is the same or MS_ERR_BUFFER_TOO_SMALL, never
 * writing past the capacity (the output buffer is a heap block of exactly
 * that size), and never too small when the normalised path plus the
 * suffix and NUL fit.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure/extdir.h"

#define CHECK(cond)                                                                            \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "fuzz-extdir: %s:%d: invariant failed: %s\n",          \
				__FILE__, __LINE__, #cond);                                    \
			abort();                                                               \
		}                                                                              \
	} while (0)

static int is_digit16(uint16_t c)
{
	return c >= '0' && c <= '9';
}

/* Whether stem[0..n) ends in "+digits" or "+digits-digits"; *ret_at: where the '+' is. */
static int ends_in_counter(const uint16_t *stem, size_t n, size_t *ret_at)
{
	/* Scan forward: remember the last '+' that starts a valid counter running to the end. */
	for (size_t plus = 0; plus < n; plus++) {
		size_t i = plus + 1, digits = 0;

		if (stem[plus] != '+')
			continue;
		while (i < n && is_digit16(stem[i]))
			i++, digits++;
		if (digits == 0)
			continue;
		if (i < n && stem[i] == '-') {
			size_t more = 0;

			i++;
			while (i < n && is_digit16(stem[i]))
				i++, more++;
			if (more == 0)
				continue;
		}
		if (i == n) {
			*ret_at = plus;
			return 1;
		}
	}
	return 0;
}

/*
 * The reference. Returns 0 valid (*ref, *ref_len), -1 invalid; *norm_len: the
 * normalised path before the counter is removed (what the implementation
 * holds in its buffer at most).
 */
static int reference(const uint16_t *path, size_t len, uint16_t *ref, size_t *ref_len, size_t *norm_len)
{
	static const char suffix[] = EXTDIR_SUFFIX;
	size_t n = 0, comp;

	for (size_t i = 0; i < len && path[i]; i++) {
		uint16_t c = path[i] == '/' ? '\\' : path[i];

		if (n == 0 && c != '\\')
			ref[n++] = '\\';
		if (c == '\\' && n > 0 && ref[n - 1] == '\\')
			continue;
		ref[n++] = c;
	}
	*norm_len = n;
	if (n == 0 || ref[n - 1] == '\\')
		return -1;
	comp = n;
	while (comp > 0 && ref[comp - 1] != '\\')
		comp--;
	if (n - comp >= 4) {
		const char *efi = ".efi";
		int is_efi = 1;
		size_t at;

		for (size_t k = 0; k < 4; k++) {
			uint16_t c = ref[n - 4 + k];

			if (c >= 'A' && c <= 'Z')
				c = (uint16_t)(c - 'A' + 'a');
			is_efi &= c == (uint16_t)efi[k];
		}
		if (is_efi && ends_in_counter(ref + comp, n - 4 - comp, &at)) {
			memmove(ref + comp + at, ref + n - 4, 4 * sizeof(uint16_t));
			n = comp + at + 4;
		}
	}
	for (size_t k = 0; suffix[k]; k++)
		ref[n++] = (uint16_t)suffix[k];
	ref[n] = 0;
	*ref_len = n;
	return 0;
}

static size_t len16(const uint16_t *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t cap, len = 0, ref_len = 0, norm_len = 0, big_cap;
	uint16_t *path, *ref, *out, *big;
	int wide, ref_r;
	ms_status r, r_big;

	if (size < 2)
		return 0;
	cap = data[0];
	wide = data[1] & 1;
	data += 2;
	size -= 2;
	path = malloc((size + 1) * sizeof(uint16_t)); /* heap: ASan sees overreads */
	CHECK(path != NULL);
	if (wide) {
		for (size_t i = 0; i + 1 < size; i += 2)
			path[len++] = (uint16_t)(data[i] | data[i + 1] << 8);
	} else {
		for (size_t i = 0; i < size; i++)
			path[len++] = data[i];
	}
	/* Normalising at most doubles the length (a '\' in front), then the suffix and NUL. */
	big_cap = 2 * len + sizeof(EXTDIR_SUFFIX) + 2;
	ref = malloc(big_cap * sizeof(uint16_t));
	big = malloc(big_cap * sizeof(uint16_t));
	out = malloc((cap ? cap : 1) * sizeof(uint16_t));
	CHECK(ref && big && out);
	ref_r = reference(path, len, ref, &ref_len, &norm_len);

	r_big = extdir_from_image_path(path, len, big, big_cap);
	if (ref_r < 0 || len == 0) {
		CHECK(r_big == MS_ERR_INVALID);
	} else {
		CHECK(r_big == MS_OK);
		CHECK(len16(big) == ref_len && memcmp(big, ref, (ref_len + 1) * sizeof(uint16_t)) == 0);
		/* The shape every result has. */
		CHECK(big[0] == '\\' && ref_len >= EXTDIR_MIN_LEN);
		for (size_t i = 0; i < ref_len; i++) {
			CHECK(big[i] != '/' && big[i] != 0);
			CHECK(i == 0 || big[i] != '\\' || big[i - 1] != '\\');
		}
	}

	r = extdir_from_image_path(path, len, out, cap);
	CHECK(r == MS_OK || r == MS_ERR_INVALID || r == MS_ERR_BUFFER_TOO_SMALL);
	if (r == MS_OK) {
		CHECK(r_big == MS_OK);
		CHECK(ref_len + 1 <= cap && memcmp(out, ref, (ref_len + 1) * sizeof(uint16_t)) == 0);
	} else if (r == MS_ERR_INVALID) {
		CHECK(r_big == MS_ERR_INVALID);
	} else {
		/* Too small only when the normalised path, the suffix and the NUL do not fit. */
		CHECK(norm_len + sizeof(EXTDIR_SUFFIX) > cap);
	}
	if (r_big == MS_OK && norm_len + sizeof(EXTDIR_SUFFIX) <= cap)
		CHECK(r == MS_OK);
	CHECK(extdir_from_image_path(NULL, len, out, cap) == MS_ERR_INVALID);
	free(path);
	free(ref);
	free(big);
	free(out);
	return 0;
}
