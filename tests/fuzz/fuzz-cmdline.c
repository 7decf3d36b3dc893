/* SPDX-License-Identifier: MIT */
/*
 * fuzz-cmdline.c - libFuzzer target for measure/cmdline.c.
 *
 * Byte 0 picks the output capacity (0: exactly enough; otherwise that many
 * units, often too few); the rest is used twice: as the bytes of a
 * .cmdline section and as LoadOptions (UTF-16LE). Both results must equal
 * those of a second implementation written from the rule in cmdline.h
 * (systemd-stub's mangling: outer "space-like" characters dropped, inner
 * ones turned into ' ', where space-like is < 0x20, 0x7f or ' '; for
 * LoadOptions a leading "@N " profile prefix taken off first), including
 * which status and which profile each input gets. Mangling is idempotent, and every output
 * buffer is allocated at exactly its capacity so ASan sees any overrun.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure/cmdline.h"

#define CHECK(cond)                                                                            \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "fuzz-cmdline: %s:%d: invariant failed: %s\n",         \
				__FILE__, __LINE__, #cond);                                    \
			abort();                                                               \
		}                                                                              \
	} while (0)

static int space_like(uint16_t c)
{
	return c < 0x20 || c == 0x7f || c == ' ';
}

/* The mangled form of u[0..n) into out (room for n + 1); returns its length. */
static size_t ref_mangle(const uint16_t *u, size_t n, uint16_t *out)
{
	size_t a = 0, b = n, k = 0;

	while (a < b && space_like(u[a]))
		a++;
	while (b > a && space_like(u[b - 1]))
		b--;
	for (size_t i = a; i < b; i++)
		out[k++] = space_like(u[i]) ? ' ' : u[i];
	out[k] = 0;
	return k;
}

static uint16_t *alloc_units(size_t n)
{
	uint16_t *p = malloc((n ? n : 1) * sizeof(uint16_t));

	CHECK(p != NULL);
	return p;
}

static void check_section(const uint8_t *sec, size_t len, size_t cap_sel)
{
	size_t n = 0, cap;
	uint16_t *units, *want, *out;
	ms_status r;

	while (n < len && sec[n])
		n++;
	cap = cap_sel ? cap_sel : n + 1;
	out = alloc_units(cap);
	r = cmdline_from_section(len ? sec : NULL, len, out, cap);
	if (n >= cap) {
		CHECK(r == MS_ERR_BUFFER_TOO_SMALL);
		free(out);
		return;
	}
	CHECK(r == MS_OK);
	units = alloc_units(n + 1);
	want = alloc_units(n + 1);
	for (size_t i = 0; i < n; i++)
		units[i] = sec[i]; /* bytes >= 0x80 pass through as code units */
	ref_mangle(units, n, want);
	CHECK(cmdline_len16(out) == cmdline_len16(want));
	CHECK(memcmp(out, want, (cmdline_len16(want) + 1) * sizeof(uint16_t)) == 0);
	/* Idempotent: mangling the result changes nothing. */
	memcpy(units, out, (cmdline_len16(out) + 1) * sizeof(uint16_t));
	cmdline_mangle16(units);
	CHECK(memcmp(units, out, (cmdline_len16(out) + 1) * sizeof(uint16_t)) == 0);
	free(units);
	free(want);
	free(out);
}

/*
 * systemd-stub's profile prefix on u[0..*n): "@" digits (value <= UINT32_MAX)
 * then a space or the end; returns the profile and drops the prefix and one
 * space from u (adjusting *n), or returns 0 and leaves u alone.
 */
static uint32_t ref_profile(uint16_t *u, size_t *n)
{
	uint64_t v = 0;
	size_t i = 1, drop;

	if (*n < 2 || u[0] != '@' || u[1] < '0' || u[1] > '9')
		return 0;
	while (i < *n && u[i] >= '0' && u[i] <= '9') {
		v = v * 10 + (u[i++] - '0');
		if (v > UINT32_MAX)
			return 0;
	}
	if (i < *n && u[i] != ' ')
		return 0;
	drop = i < *n ? i + 1 : i;
	memmove(u, u + drop, (*n - drop) * sizeof(uint16_t));
	*n -= drop;
	return (uint32_t)v;
}

static void check_load_options(const uint8_t *opts, size_t size, size_t cap_sel)
{
	size_t units_n = size / 2, n = 0, cap;
	uint16_t *u = alloc_units(units_n + 1), *want = alloc_units(units_n + 1), *out;
	ms_status r, expect = MS_OK;
	uint32_t profile, want_profile = 0;

	for (size_t i = 0; i < units_n; i++)
		u[i] = (uint16_t)(opts[2 * i] | opts[2 * i + 1] << 8);
	while (n < units_n && u[n])
		n++;
	cap = cap_sel ? cap_sel : n + 1;
	out = alloc_units(cap);
	/* The documented order: no data, odd size, too small, not text, empty after mangling. */
	if (size == 0)
		expect = MS_ERR_NOT_FOUND;
	else if (size % 2)
		expect = MS_ERR_INVALID;
	else if (n >= cap)
		expect = MS_ERR_BUFFER_TOO_SMALL;
	else {
		for (size_t i = 0; i < n; i++)
			if (!(u[i] == '\t' || u[i] == '\n' || u[i] == '\r' || (u[i] >= 0x20 && u[i] < 0x7f)))
				expect = MS_ERR_INVALID;
		if (expect == MS_OK)
			want_profile = ref_profile(u, &n);
		if (expect == MS_OK && ref_mangle(u, n, want) == 0)
			expect = MS_ERR_NOT_FOUND;
	}
	r = cmdline_from_load_options(size ? opts : NULL, size, &profile, out, cap);
	CHECK(r == expect);
	CHECK(profile == want_profile);
	if (r == MS_OK) {
		CHECK(cmdline_len16(out) == cmdline_len16(want));
		CHECK(memcmp(out, want, (cmdline_len16(want) + 1) * sizeof(uint16_t)) == 0);
		for (size_t i = 0; out[i]; i++)
			CHECK(out[i] >= 0x20 && out[i] < 0x7f);
		CHECK(out[0] != ' ' && out[cmdline_len16(out) - 1] != ' ');
	}
	free(u);
	free(want);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;
	size_t cap_sel;

	if (size == 0)
		return 0;
	cap_sel = data[0];
	/* An exact-size heap copy, so reading one byte too far is caught. */
	copy = malloc(size - 1 ? size - 1 : 1);
	CHECK(copy != NULL);
	memcpy(copy, data + 1, size - 1);
	check_section(copy, size - 1, cap_sel);
	check_load_options(copy, size - 1, cap_sel);
	free(copy);
	return 0;
}
