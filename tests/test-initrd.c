/* SPDX-License-Identifier: MIT */
/*
 * test-initrd.c - unit tests for measure/initrd.c: where each piece of the
 * combined initrd lands and how large the whole is.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "measure/initrd.h"

#define NONE UINT64_C(0xdeadbeefdeadbeef) /* marks offsets not written */

/* Run initrd_layout on @n @sizes; check the status, and on success offsets and total. */
static void expect_layout(const uint64_t *sizes, size_t n, const uint64_t *want_offsets, uint64_t want_total)
{
	uint64_t offsets[INITRD_MAX_PIECES + 1];
	uint64_t total = NONE;

	for (size_t i = 0; i < INITRD_MAX_PIECES + 1; i++)
		offsets[i] = NONE;
	assert_int_equal(initrd_layout(sizes, n, offsets, &total), MS_OK);
	for (size_t i = 0; i < n; i++)
		if (offsets[i] != want_offsets[i])
			fail_msg("piece %zu at offset %llu, expected %llu", i, (unsigned long long)offsets[i],
				 (unsigned long long)want_offsets[i]);
	assert_int_equal(offsets[n], NONE); /* nothing written past the last piece */
	assert_int_equal(total, want_total);
}

/* ------------------------------------------------------------ align4_u64 */

static void test_align4_rounds_up(void **state)
{
	static const uint64_t cases[][2] = {
		{ 0, 0 }, { 1, 4 }, { 2, 4 }, { 3, 4 }, { 4, 4 }, { 5, 8 }, { 1023, 1024 },
		{ UINT64_C(0x100000001), UINT64_C(0x100000004) },
		{ UINT64_MAX - 6, UINT64_MAX - 3 }, /* ...f9 -> ...fc */
		{ UINT64_MAX - 3, UINT64_MAX - 3 }, /* ...fc is the largest multiple of 4 */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t r = NONE;

		assert_int_equal(align4_u64(cases[i][0], &r), MS_OK);
		if (r != cases[i][1])
			fail_msg("align4(%llx) = %llx, expected %llx", (unsigned long long)cases[i][0],
				 (unsigned long long)r, (unsigned long long)cases[i][1]);
	}
}

static void test_align4_overflow(void **state)
{
	uint64_t r = NONE;

	assert_int_equal(align4_u64(UINT64_MAX - 2, &r), MS_ERR_OVERFLOW);
	assert_int_equal(align4_u64(UINT64_MAX, &r), MS_ERR_OVERFLOW);
	assert_int_equal(r, NONE);
}

/* ------------------------------------------------------------ initrd_layout */

static void test_no_pieces(void **state)
{
	uint64_t total = NONE;

	assert_int_equal(initrd_layout(NULL, 0, NULL, &total), MS_OK);
	assert_int_equal(total, 0);
}

static void test_single_piece_unpadded(void **state)
{
	static const uint64_t sizes[] = { 5 };
	static const uint64_t offsets[] = { 0 };

	expect_layout(sizes, 1, offsets, 5);
}

static void test_pieces_padded_except_last(void **state)
{
	static const uint64_t sizes[] = { 5, 3, 8, 7 };
	static const uint64_t offsets[] = { 0, 8, 12, 20 };

	expect_layout(sizes, 4, offsets, 27);
}

static void test_aligned_pieces_not_padded_further(void **state)
{
	static const uint64_t sizes[] = { 512, 4, 1024 };
	static const uint64_t offsets[] = { 0, 512, 516 };

	expect_layout(sizes, 3, offsets, 1540);
}

static void test_empty_pieces_take_no_space(void **state)
{
	static const uint64_t sizes[] = { 0, 5, 0, 0, 6 };
	static const uint64_t offsets[] = { 0, 0, 8, 8, 8 };

	expect_layout(sizes, 5, offsets, 14);
}

static void test_trailing_empty_piece_keeps_last_unpadded(void **state)
{
	/* The last non-empty piece (5) is the unpadded one. */
	static const uint64_t sizes[] = { 3, 5, 0 };
	static const uint64_t offsets[] = { 0, 4, 9 };

	expect_layout(sizes, 3, offsets, 9);
}

static void test_all_pieces_empty(void **state)
{
	static const uint64_t sizes[] = { 0, 0, 0 };
	static const uint64_t offsets[] = { 0, 0, 0 };

	expect_layout(sizes, 3, offsets, 0);
}

static void test_max_pieces_accepted(void **state)
{
	uint64_t sizes[INITRD_MAX_PIECES], offsets[INITRD_MAX_PIECES];

	for (size_t i = 0; i < INITRD_MAX_PIECES; i++) {
		sizes[i] = 1;
		offsets[i] = 4 * i;
	}
	expect_layout(sizes, INITRD_MAX_PIECES, offsets, 4 * (INITRD_MAX_PIECES - 1) + 1);
}

static void test_null_offsets_allowed(void **state)
{
	static const uint64_t sizes[] = { 5, 3, 7 };
	uint64_t total = NONE;

	assert_int_equal(initrd_layout(sizes, 3, NULL, &total), MS_OK);
	assert_int_equal(total, 19);
}

static void test_too_many_pieces_invalid(void **state)
{
	static const uint64_t sizes[INITRD_MAX_PIECES + 1] = { 1 };
	uint64_t total = NONE;

	assert_int_equal(initrd_layout(sizes, INITRD_MAX_PIECES + 1, NULL, &total), MS_ERR_INVALID);
	assert_int_equal(initrd_layout(sizes, SIZE_MAX, NULL, &total), MS_ERR_INVALID);
	assert_int_equal(total, NONE);
}

static void test_invalid_arguments(void **state)
{
	static const uint64_t sizes[] = { 5 };
	uint64_t total = NONE;

	assert_int_equal(initrd_layout(NULL, 1, NULL, &total), MS_ERR_INVALID);
	assert_int_equal(initrd_layout(sizes, 1, NULL, NULL), MS_ERR_INVALID);
	assert_int_equal(total, NONE);
}

static void test_huge_last_piece_fits(void **state)
{
	static const uint64_t single[] = { UINT64_MAX };
	static const uint64_t pair[] = { 4, UINT64_MAX - 4 };
	static const uint64_t zero[] = { 0 };
	static const uint64_t pair_offsets[] = { 0, 4 };

	expect_layout(single, 1, zero, UINT64_MAX);
	expect_layout(pair, 2, pair_offsets, UINT64_MAX);
}

static void test_overflow_near_uint64_max(void **state)
{
	/* Padding the first piece overflows. */
	static const uint64_t pad[] = { UINT64_MAX - 1, 1 };
	/* The padded first piece fits; adding the second does not. */
	static const uint64_t sum[] = { UINT64_MAX - 3, 4 };
	/* 2^63 + 2^62 + 2^62 is UINT64_MAX + 1. */
	static const uint64_t three[] = { UINT64_C(1) << 63, UINT64_C(1) << 62, UINT64_C(1) << 62 };
	uint64_t total = NONE;

	assert_int_equal(initrd_layout(pad, 2, NULL, &total), MS_ERR_OVERFLOW);
	assert_int_equal(initrd_layout(sum, 2, NULL, &total), MS_ERR_OVERFLOW);
	assert_int_equal(initrd_layout(three, 3, NULL, &total), MS_ERR_OVERFLOW);
	assert_int_equal(total, NONE);
}

/* ------------------------------------------------------------ initrd_fill_rank */

static void test_fill_rank_is_pcr12_order(void **state)
{
	/* docs/MEASUREMENTS.md: credentials, sysexts (PCR 13), confexts, ucode addons, initrd addons. */
	static const enum initrd_slot measured[] = {
		INITRD_SLOT_CREDENTIALS, INITRD_SLOT_GLOBAL_CREDENTIALS, INITRD_SLOT_SYSEXT,
		INITRD_SLOT_GLOBAL_SYSEXT, INITRD_SLOT_CONFEXT,      INITRD_SLOT_GLOBAL_CONFEXT,
		INITRD_SLOT_UCODE_ADDONS, INITRD_SLOT_ADDON_INITRDS,
	};
	unsigned seen[INITRD_FILL_RANKS] = { 0 };

	(void)state;
	for (size_t i = 1; i < sizeof(measured) / sizeof(measured[0]); i++)
		assert_true(initrd_fill_rank(measured[i - 1]) < initrd_fill_rank(measured[i]));
	/* No two slots share a rank, so the fill order is total. */
	for (unsigned slot = 0; slot < INITRD_SLOTS; slot++) {
		assert_true(initrd_fill_rank(slot) < INITRD_FILL_RANKS);
		assert_int_equal(seen[initrd_fill_rank(slot)]++, 0);
	}
	/* Unmeasured slots keep their relative (layout) order. */
	assert_true(initrd_fill_rank(INITRD_SLOT_UCODE) < initrd_fill_rank(INITRD_SLOT_EMBEDDED));
	assert_true(initrd_fill_rank(INITRD_SLOT_PCRSIG) < initrd_fill_rank(INITRD_SLOT_PROFILE));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fill_rank_is_pcr12_order),
		cmocka_unit_test(test_align4_rounds_up),
		cmocka_unit_test(test_align4_overflow),
		cmocka_unit_test(test_no_pieces),
		cmocka_unit_test(test_single_piece_unpadded),
		cmocka_unit_test(test_pieces_padded_except_last),
		cmocka_unit_test(test_aligned_pieces_not_padded_further),
		cmocka_unit_test(test_empty_pieces_take_no_space),
		cmocka_unit_test(test_trailing_empty_piece_keeps_last_unpadded),
		cmocka_unit_test(test_all_pieces_empty),
		cmocka_unit_test(test_max_pieces_accepted),
		cmocka_unit_test(test_null_offsets_allowed),
		cmocka_unit_test(test_too_many_pieces_invalid),
		cmocka_unit_test(test_invalid_arguments),
		cmocka_unit_test(test_huge_last_piece_fits),
		cmocka_unit_test(test_overflow_near_uint64_max),
	};

	return cmocka_run_group_tests_name("initrd", tests, NULL, NULL);
}
