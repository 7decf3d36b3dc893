/* SPDX-License-Identifier: MIT */
/*
 * test-cmdline.c - unit tests for measure/cmdline.c: normalisation of the
 * kernel command line and its two sources (.cmdline section, LoadOptions).
 * Inputs live in heap buffers of exactly their size so ASan sees overreads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "measure/cmdline.h"

#define CAP 128

/* The profile cmdline_from_load_options() took off the front. */
static uint32_t profile;

/* ------------------------------------------------------------ helpers */

/* @ascii as a NUL-terminated UTF-16 string in @out (capacity CAP). */
static void u16_from_ascii(uint16_t *out, const char *ascii)
{
	size_t i;

	assert_true(strlen(ascii) < CAP);
	for (i = 0; ascii[i]; i++)
		out[i] = (uint8_t)ascii[i];
	out[i] = 0;
}

/* @got equals @want (ASCII), unit for unit, including the terminating NUL. */
static void assert_u16_equals(const uint16_t *got, const char *want)
{
	size_t i;

	for (i = 0; want[i]; i++)
		if (got[i] != (uint8_t)want[i])
			fail_msg("unit %zu is 0x%04x, expected 0x%02x ('%s')", i, got[i], (uint8_t)want[i], want);
	if (got[i] != 0)
		fail_msg("unit %zu is 0x%04x, expected the NUL ending '%s'", i, got[i], want);
}

/* Run cmdline_mangle16 on @in and compare with @want. */
static void assert_mangles_to(const char *in, const char *want)
{
	uint16_t s[CAP];

	u16_from_ascii(s, in);
	cmdline_mangle16(s);
	assert_u16_equals(s, want);
}

/* A heap copy of @n bytes of @b, exactly @n bytes long. */
static uint8_t *exact_copy(const void *b, size_t n)
{
	uint8_t *c = malloc(n ? n : 1);

	assert_non_null(c);
	memcpy(c, b, n);
	return c;
}

/*
 * @n units of UTF-16LE in a heap buffer of exactly 2*@n bytes: the ASCII
 * characters of @ascii (which may contain NULs, hence @n), zero-extended.
 */
static uint8_t *utf16le(const char *ascii, size_t n)
{
	uint8_t *b = malloc(n ? 2 * n : 1);

	assert_non_null(b);
	for (size_t i = 0; i < n; i++) {
		b[2 * i] = (uint8_t)ascii[i];
		b[2 * i + 1] = 0;
	}
	return b;
}

/* ------------------------------------------------------------ cmdline_mangle16 */

static void test_len16(void **state)
{
	uint16_t s[CAP];

	u16_from_ascii(s, "");
	assert_int_equal(cmdline_len16(s), 0);
	u16_from_ascii(s, "quiet splash");
	assert_int_equal(cmdline_len16(s), 12);
}

static void test_mangle_plain_text_unchanged(void **state)
{
	assert_mangles_to("console=ttyS0 quiet", "console=ttyS0 quiet");
	assert_mangles_to("x", "x");
}

static void test_mangle_strips_leading_and_trailing_whitespace(void **state)
{
	assert_mangles_to("   quiet", "quiet");
	assert_mangles_to("quiet   ", "quiet");
	assert_mangles_to("  a b  ", "a b");
	assert_mangles_to("\t\n a b \r\n", "a b");
	assert_mangles_to("\x01quiet\x7f", "quiet");
}

static void test_mangle_control_chars_become_spaces(void **state)
{
	assert_mangles_to("a\tb", "a b");
	assert_mangles_to("a\nb", "a b");
	assert_mangles_to("a\rb", "a b");
	assert_mangles_to("a\x01" "b\x1f" "c", "a b c");
	assert_mangles_to("a\x7f" "b", "a b");
}

static void test_mangle_keeps_runs(void **state)
{
	assert_mangles_to("a  b", "a  b");
	assert_mangles_to("a\t\tb", "a  b");
	assert_mangles_to("a \t\n\x7f" "b", "a    b");
}

static void test_mangle_empty(void **state)
{
	assert_mangles_to("", "");
}

static void test_mangle_all_whitespace_becomes_empty(void **state)
{
	assert_mangles_to(" ", "");
	assert_mangles_to("     ", "");
	assert_mangles_to(" \t\r\n\x7f\x01 ", "");
}

static void test_mangle_keeps_non_ascii(void **state)
{
	uint16_t s[] = { ' ', 0x00e9, '\t', 0x20ac, 0x0100, ' ', 0 };

	cmdline_mangle16(s);
	assert_int_equal(s[0], 0x00e9);
	assert_int_equal(s[1], ' ');
	assert_int_equal(s[2], 0x20ac);
	assert_int_equal(s[3], 0x0100);
	assert_int_equal(s[4], 0);
}

/* ------------------------------------------------------------ cmdline_from_section */

/* Convert @n bytes of @sec (heap copy) with capacity @cap; return the status. */
static ms_status from_section(const char *sec, size_t n, uint16_t *out, size_t cap)
{
	uint8_t *b = exact_copy(sec, n);
	ms_status r = cmdline_from_section(b, n, out, cap);

	free(b);
	return r;
}

static void test_section_plain(void **state)
{
	uint16_t out[CAP];

	assert_int_equal(from_section("console=ttyS0 quiet", 19, out, CAP), MS_OK);
	assert_u16_equals(out, "console=ttyS0 quiet");
}

static void test_section_stops_at_nul(void **state)
{
	uint16_t out[CAP];

	assert_int_equal(from_section("quiet\0splash", 12, out, CAP), MS_OK);
	assert_u16_equals(out, "quiet");
	/* As objcopy leaves it: a newline from `echo`, then padding. */
	assert_int_equal(from_section("quiet splash\n\0\0\0", 16, out, CAP), MS_OK);
	assert_u16_equals(out, "quiet splash");
}

static void test_section_is_mangled(void **state)
{
	uint16_t out[CAP];

	assert_int_equal(from_section("  root=/dev/sda\tro\n", 19, out, CAP), MS_OK);
	assert_u16_equals(out, "root=/dev/sda ro");
}

static void test_section_empty(void **state)
{
	uint16_t out[CAP];

	out[0] = 0xffff;
	assert_int_equal(from_section("", 0, out, CAP), MS_OK);
	assert_int_equal(out[0], 0);
	out[0] = 0xffff;
	assert_int_equal(cmdline_from_section(NULL, 0, out, CAP), MS_OK);
	assert_int_equal(out[0], 0);
	assert_int_equal(from_section("\0quiet", 6, out, CAP), MS_OK);
	assert_int_equal(out[0], 0);
}

static void test_section_buffer_too_small(void **state)
{
	uint16_t out[CAP];

	/* 5 characters need 6 units with the NUL. */
	assert_int_equal(from_section("quiet", 5, out, 5), MS_ERR_BUFFER_TOO_SMALL);
	assert_int_equal(from_section("quiet", 5, out, 1), MS_ERR_BUFFER_TOO_SMALL);
	assert_int_equal(from_section("quiet", 5, out, 6), MS_OK);
	assert_u16_equals(out, "quiet");
	/* Only the bytes before the NUL need room. */
	assert_int_equal(from_section("ab\0cdefgh", 9, out, 3), MS_OK);
	assert_u16_equals(out, "ab");
}

static void test_section_high_bytes_passed_through(void **state)
{
	/* UTF-8 "é" (c3 a9) and 0xff become code units 0xc3 0xa9 0xff, not sign-extended. */
	static const char sec[] = { 'a', (char)0xc3, (char)0xa9, (char)0xff, (char)0x80, 'b' };
	uint16_t out[CAP];

	assert_int_equal(from_section(sec, sizeof(sec), out, CAP), MS_OK);
	assert_int_equal(out[0], 'a');
	assert_int_equal(out[1], 0x00c3);
	assert_int_equal(out[2], 0x00a9);
	assert_int_equal(out[3], 0x00ff);
	assert_int_equal(out[4], 0x0080);
	assert_int_equal(out[5], 'b');
	assert_int_equal(out[6], 0);
}

static void test_section_invalid_arguments(void **state)
{
	uint16_t out[CAP];

	assert_int_equal(cmdline_from_section((const uint8_t *)"quiet", 5, NULL, CAP), MS_ERR_INVALID);
	assert_int_equal(cmdline_from_section((const uint8_t *)"quiet", 5, out, 0), MS_ERR_INVALID);
	assert_int_equal(cmdline_from_section(NULL, 5, out, CAP), MS_ERR_INVALID);
}

/* ------------------------------------------------------------ cmdline_from_load_options */

static void test_options_utf16_text(void **state)
{
	static const char text[] = "console=ttyS0 quiet"; /* 19 characters + NUL */
	uint16_t out[CAP];
	uint8_t *b = utf16le(text, sizeof(text));

	assert_int_equal(cmdline_from_load_options(b, 2 * sizeof(text), &profile, out, CAP), MS_OK);
	assert_u16_equals(out, "console=ttyS0 quiet");
	free(b);
}

static void test_options_without_nul(void **state)
{
	uint16_t out[CAP];
	uint8_t *b = utf16le("quiet", 5);

	assert_int_equal(cmdline_from_load_options(b, 10, &profile, out, CAP), MS_OK);
	assert_u16_equals(out, "quiet");
	free(b);
}

static void test_options_trailing_nuls(void **state)
{
	uint16_t out[CAP];
	uint8_t *b = utf16le("quiet\0\0\0\0", 9);

	assert_int_equal(cmdline_from_load_options(b, 18, &profile, out, CAP), MS_OK);
	assert_u16_equals(out, "quiet");
	free(b);
}

static void test_options_bytes_after_nul_ignored(void **state)
{
	/* "quiet\0" then binary units: only units before the NUL must be text. */
	static const uint8_t opts[] = { 'q', 0, 'u', 0, 'i', 0, 'e', 0, 't', 0, 0, 0, 0x4e, 0xac, 0x08, 0x81 };
	uint16_t out[CAP];
	uint8_t *b = exact_copy(opts, sizeof(opts));

	assert_int_equal(cmdline_from_load_options(b, sizeof(opts), &profile, out, CAP), MS_OK);
	assert_u16_equals(out, "quiet");
	free(b);
}

static void test_options_are_mangled(void **state)
{
	uint16_t out[CAP];
	uint8_t *b = utf16le("\t quiet\r\nsplash \n", 17);

	assert_int_equal(cmdline_from_load_options(b, 34, &profile, out, CAP), MS_OK);
	assert_u16_equals(out, "quiet  splash");
	free(b);
}

static void test_options_unaligned_buffer(void **state)
{
	/* LoadOptions need not be 2-byte aligned: read them byte-wise. */
	uint8_t *b = malloc(1 + 10);
	uint16_t out[CAP];

	assert_non_null(b);
	memcpy(b + 1, "q\0u\0i\0e\0t\0", 10);
	assert_int_equal(cmdline_from_load_options(b + 1, 10, &profile, out, CAP), MS_OK);
	assert_u16_equals(out, "quiet");
	free(b);
}

static void test_options_odd_size_invalid(void **state)
{
	uint16_t out[CAP];
	uint8_t *b = utf16le("quiet", 5);

	assert_int_equal(cmdline_from_load_options(b, 9, &profile, out, CAP), MS_ERR_INVALID);
	assert_int_equal(cmdline_from_load_options(b, 1, &profile, out, CAP), MS_ERR_INVALID);
	free(b);
}

static void test_options_ovmf_boot_option_guid_invalid(void **state)
{
	/* The binary OptionalData OVMF puts in its auto-generated boot options. */
	static const uint8_t guid[16] = {
		0x4e, 0xac, 0x08, 0x81, 0x11, 0x9f, 0x59, 0x4d,
		0x85, 0x0e, 0xe2, 0x1a, 0x52, 0x2c, 0x59, 0xb2,
	};
	uint16_t out[CAP];
	uint8_t *b = exact_copy(guid, sizeof(guid));

	assert_int_equal(cmdline_from_load_options(b, sizeof(guid), &profile, out, CAP), MS_ERR_INVALID);
	free(b);
}

static void test_options_non_text_units_invalid(void **state)
{
	static const uint16_t bad[] = { 0x0001, 0x001b, 0x007f, 0x0080, 0x00e9, 0x20ac, 0xffff };
	uint16_t out[CAP];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t opts[6] = { 'a', 0, 0, 0, 'b', 0 };
		uint8_t *b;

		opts[2] = (uint8_t)bad[i];
		opts[3] = (uint8_t)(bad[i] >> 8);
		b = exact_copy(opts, sizeof(opts));
		if (cmdline_from_load_options(b, sizeof(opts), &profile, out, CAP) != MS_ERR_INVALID)
			fail_msg("unit 0x%04x accepted as text", bad[i]);
		free(b);
	}
}

static void test_options_empty_not_found(void **state)
{
	uint16_t out[CAP];
	uint8_t *b;

	assert_int_equal(cmdline_from_load_options(NULL, 0, &profile, out, CAP), MS_ERR_NOT_FOUND);
	assert_int_equal(cmdline_from_load_options(NULL, 10, &profile, out, CAP), MS_ERR_NOT_FOUND);
	b = utf16le("x", 1);
	assert_int_equal(cmdline_from_load_options(b, 0, &profile, out, CAP), MS_ERR_NOT_FOUND);
	free(b);
	b = utf16le("\0", 1);
	assert_int_equal(cmdline_from_load_options(b, 2, &profile, out, CAP), MS_ERR_NOT_FOUND);
	free(b);
	b = utf16le(" \t \r\n ", 6);
	assert_int_equal(cmdline_from_load_options(b, 12, &profile, out, CAP), MS_ERR_NOT_FOUND);
	assert_int_equal(out[0], 0);
	free(b);
}

static void test_options_buffer_too_small(void **state)
{
	uint16_t out[CAP];
	uint8_t *b = utf16le("quiet", 5);

	assert_int_equal(cmdline_from_load_options(b, 10, &profile, out, 5), MS_ERR_BUFFER_TOO_SMALL);
	assert_int_equal(cmdline_from_load_options(b, 10, &profile, out, 6), MS_OK);
	assert_u16_equals(out, "quiet");
	free(b);
}

static void test_options_invalid_output(void **state)
{
	uint16_t out[CAP];
	uint8_t *b = utf16le("quiet", 5);

	assert_int_equal(cmdline_from_load_options(b, 10, &profile, NULL, CAP), MS_ERR_INVALID);
	assert_int_equal(cmdline_from_load_options(b, 10, &profile, out, 0), MS_ERR_INVALID);
	free(b);
}

/* LoadOptions @ascii (UTF-16LE, with its NUL) through cmdline_from_load_options(). */
static ms_status from_ascii_options(const char *ascii, uint16_t *out)
{
	uint8_t b[2 * CAP];
	size_t n = strlen(ascii);

	assert_true(n < CAP);
	for (size_t i = 0; i <= n; i++) {
		b[2 * i] = (uint8_t)ascii[i];
		b[2 * i + 1] = 0;
	}
	return cmdline_from_load_options(b, 2 * (n + 1), &profile, out, CAP);
}

static void test_load_options_profile_prefix(void **state)
{
	static const struct {
		const char *in, *cmdline;
		uint32_t profile;
		ms_status status;
	} cases[] = {
		{ "@1 quiet", "quiet", 1, MS_OK },
		{ "@2", "", 2, MS_ERR_NOT_FOUND },
		{ "@0  two spaces", "two spaces", 0, MS_OK }, /* one space goes with the prefix, mangling the rest */
		{ "@4294967295 x", "x", UINT32_MAX, MS_OK },
		{ "@4294967296 x", "@4294967296 x", 0, MS_OK }, /* too large: no profile */
		{ "@1x quiet", "@1x quiet", 0, MS_OK },         /* not followed by a space */
		{ "@ 1 quiet", "@ 1 quiet", 0, MS_OK },
		{ " @1 quiet", "@1 quiet", 0, MS_OK },          /* before mangling: a leading space is no prefix */
		{ "@1\tquiet", "@1 quiet", 0, MS_OK },          /* only a space separates */
		{ "@007 a", "a", 7, MS_OK },
		{ "quiet @1", "quiet @1", 0, MS_OK },
	};
	uint16_t out[CAP];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(from_ascii_options(cases[i].in, out), cases[i].status);
		assert_int_equal(profile, cases[i].profile);
		if (cases[i].status == MS_OK)
			assert_u16_equals(out, cases[i].cmdline);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_options_profile_prefix),
		cmocka_unit_test(test_len16),
		cmocka_unit_test(test_mangle_plain_text_unchanged),
		cmocka_unit_test(test_mangle_strips_leading_and_trailing_whitespace),
		cmocka_unit_test(test_mangle_control_chars_become_spaces),
		cmocka_unit_test(test_mangle_keeps_runs),
		cmocka_unit_test(test_mangle_empty),
		cmocka_unit_test(test_mangle_all_whitespace_becomes_empty),
		cmocka_unit_test(test_mangle_keeps_non_ascii),
		cmocka_unit_test(test_section_plain),
		cmocka_unit_test(test_section_stops_at_nul),
		cmocka_unit_test(test_section_is_mangled),
		cmocka_unit_test(test_section_empty),
		cmocka_unit_test(test_section_buffer_too_small),
		cmocka_unit_test(test_section_high_bytes_passed_through),
		cmocka_unit_test(test_section_invalid_arguments),
		cmocka_unit_test(test_options_utf16_text),
		cmocka_unit_test(test_options_without_nul),
		cmocka_unit_test(test_options_trailing_nuls),
		cmocka_unit_test(test_options_bytes_after_nul_ignored),
		cmocka_unit_test(test_options_are_mangled),
		cmocka_unit_test(test_options_unaligned_buffer),
		cmocka_unit_test(test_options_odd_size_invalid),
		cmocka_unit_test(test_options_ovmf_boot_option_guid_invalid),
		cmocka_unit_test(test_options_non_text_units_invalid),
		cmocka_unit_test(test_options_empty_not_found),
		cmocka_unit_test(test_options_buffer_too_small),
		cmocka_unit_test(test_options_invalid_output),
	};

	return cmocka_run_group_tests_name("cmdline", tests, NULL, NULL);
}
