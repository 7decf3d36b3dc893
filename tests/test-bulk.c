/* SPDX-License-Identifier: MIT */
/*
 * test-bulk.c - unit tests for efi-lib/bulk.c, the stub's own copy and zero
 * loops: every byte of the range, none outside it, at every length and
 * alignment around the 8- and 64-byte steps. (The initrd handed to Linux is
 * copied with them, so a wrong byte here is a wrong byte measured.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "efi-lib/bulk.h"

#define SPAN 512
#define GUARD 64
#define BEFORE 0xA5
#define AFTER 0x5A

/* A source pattern in which no byte equals its neighbour or the guards. */
static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 7 + 1) | 0x40;
}

static void check_guards(const uint8_t *buf, size_t at, size_t n)
{
	for (size_t i = 0; i < GUARD + at; i++)
		if (buf[i] != BEFORE)
			fail_msg("byte %zu before the range (offset %zu, %zu bytes) was written", i, at, n);
	for (size_t i = GUARD + at + n; i < GUARD + SPAN + GUARD; i++)
		if (buf[i] != AFTER)
			fail_msg("byte %zu after the range (offset %zu, %zu bytes) was written", i, at, n);
}

static void fill_guards(uint8_t *buf, size_t at, size_t n)
{
	memset(buf, BEFORE, GUARD + at);
	memset(buf + GUARD + at, 0, n);
	memset(buf + GUARD + at + n, AFTER, SPAN + GUARD - at - n);
}

static void test_copy_every_length_and_alignment(void **state)
{
	static uint8_t src[SPAN + 8], dst[GUARD + SPAN + GUARD];

	(void)state;
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = pattern(i);
	for (size_t s_off = 0; s_off < 8; s_off++)
		for (size_t d_off = 0; d_off < 8; d_off++)
			for (size_t n = 0; n + d_off <= 300; n++) {
				fill_guards(dst, d_off, n);
				bulk_copy(dst + GUARD + d_off, src + s_off, n);
				if (memcmp(dst + GUARD + d_off, src + s_off, n) != 0)
					fail_msg("copy of %zu bytes (source +%zu, dest +%zu) differs", n, s_off, d_off);
				check_guards(dst, d_off, n);
			}
}

static void test_zero_every_length_and_alignment(void **state)
{
	static uint8_t buf[GUARD + SPAN + GUARD];

	(void)state;
	for (size_t off = 0; off < 8; off++)
		for (size_t n = 0; n + off <= 300; n++) {
			fill_guards(buf, off, n);
			memset(buf + GUARD + off, 0xEE, n);
			bulk_zero(buf + GUARD + off, n);
			for (size_t i = 0; i < n; i++)
				if (buf[GUARD + off + i] != 0)
					fail_msg("byte %zu of %zu (offset %zu) not zeroed", i, n, off);
			check_guards(buf, off, n);
		}
}

static void test_large_copy(void **state)
{
	size_t n = (4u << 20) + 13;
	uint8_t *src = malloc(n + 1), *dst = malloc(n + 1);

	(void)state;
	assert_non_null(src);
	assert_non_null(dst);
	for (size_t i = 0; i < n + 1; i++)
		src[i] = pattern(i);
	dst[n] = AFTER;
	bulk_copy(dst, src + 1, n);
	assert_memory_equal(dst, src + 1, n);
	assert_int_equal(dst[n], AFTER);
	bulk_zero(dst + 3, n - 3);
	for (size_t i = 3; i < n; i++)
		if (dst[i] != 0)
			fail_msg("byte %zu not zeroed", i);
	assert_int_equal(dst[2], src[3]);
	free(src);
	free(dst);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copy_every_length_and_alignment),
		cmocka_unit_test(test_zero_every_length_and_alignment),
		cmocka_unit_test(test_large_copy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
