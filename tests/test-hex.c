/* SPDX-License-Identifier: MIT */
/* test-hex.c - unit tests for measure/hex.c, the one hex-digit parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "measure/hex.h"

static void test_digit_values(void **state)
{
	(void)state;
	for (unsigned c = 0; c < 256; c++) {
		int want = c >= '0' && c <= '9' ? (int)(c - '0')
			 : c >= 'a' && c <= 'f' ? (int)(c - 'a' + 10)
			 : c >= 'A' && c <= 'F' ? (int)(c - 'A' + 10)
						: -1;

		assert_int_equal(hex_digit_value((uint8_t)c), want);
	}
}

static void test_to_bytes(void **state)
{
	uint8_t out[4] = { 0 };

	(void)state;
	assert_int_equal(hex_to_bytes("00fFa5Z", 6, out, 3), MS_OK);
	assert_memory_equal(out, "\x00\xff\xa5", 3);
	/* Exactly two digits per byte: no more, no fewer. */
	assert_int_equal(hex_to_bytes("00ff", 4, out, 3), MS_ERR_INVALID);
	assert_int_equal(hex_to_bytes("00ff", 3, out, 2), MS_ERR_INVALID);
	assert_int_equal(hex_to_bytes("00ff00", 6, out, 2), MS_ERR_INVALID);
	/* No prefix, sign or space; no NUL inside the length. */
	assert_int_equal(hex_to_bytes("0x", 2, out, 1), MS_ERR_INVALID);
	assert_int_equal(hex_to_bytes(" a", 2, out, 1), MS_ERR_INVALID);
	assert_int_equal(hex_to_bytes("a\0", 2, out, 1), MS_ERR_INVALID);
	assert_int_equal(hex_to_bytes("ag", 2, out, 1), MS_ERR_INVALID);
	/* Zero bytes from zero digits; NULL pointers only then. */
	assert_int_equal(hex_to_bytes(NULL, 0, NULL, 0), MS_OK);
	assert_int_equal(hex_to_bytes(NULL, 2, out, 1), MS_ERR_INVALID);
	assert_int_equal(hex_to_bytes("aa", 2, NULL, 1), MS_ERR_INVALID);
	assert_int_equal(hex_to_bytes("aa", 2, out, SIZE_MAX), MS_ERR_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digit_values),
		cmocka_unit_test(test_to_bytes),
	};

	return cmocka_run_group_tests_name("hex", tests, NULL, NULL);
}
