/* SPDX-License-Identifier: MIT */
/* test-uki.c - unit tests for measure/uki.c: which sections go into PCR 11, in which order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "measure/uki.h"

/* A parsed image holding just section headers (uki.c only looks at those). */
static void image_with(struct pe_image *img, const char *const *names, const uint32_t *vsizes, size_t n)
{
	memset(img, 0, sizeof(*img));
	img->n_sections = (uint16_t)n;
	for (size_t i = 0; i < n; i++) {
		strncpy(img->sections[i].name, names[i], PE_SECTION_NAME_MAX);
		img->sections[i].virtual_size = vsizes ? vsizes[i] : 100 + (uint32_t)i;
		img->sections[i].virtual_address = 0x1000 * (uint32_t)(i + 1);
	}
}

static void assert_measured(const struct pe_image *img, enum uki_order order, const char *const *want, size_t n_want)
{
	struct uki_measured_section got[UKI_MAX_MEASURED];
	size_t n = uki_measured_sections(img, order, got);

	assert_int_equal(n, n_want);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(got[i].name, want[i]);
		assert_string_equal(got[i].section->name, want[i]);
	}
}

/* A UKI as ukify/sysext-stub lay it out: file order differs from canonical order. */
static const char *const typical[] = { ".text", ".reloc", ".data", ".sbat",   ".osrel",  ".cmdline",
				       ".uname", ".pcrpkey", ".initrd", ".linux", ".pcrsig" };

static void test_canonical_order_not_file_order(void **state)
{
	static const char *const want[] = { ".linux", ".osrel", ".cmdline", ".initrd", ".uname", ".sbat", ".pcrpkey" };
	struct pe_image img;

	(void)state;
	image_with(&img, typical, NULL, sizeof(typical) / sizeof(typical[0]));
	assert_measured(&img, UKI_ORDER_DEFAULT, want, sizeof(want) / sizeof(want[0]));
}

static void test_systemd_252_knows_fewer_sections(void **state)
{
	/* v252 predates .uname and .sbat: systemd-measure 252 has no options for them. */
	static const char *const want[] = { ".linux", ".osrel", ".cmdline", ".initrd", ".pcrpkey" };
	struct pe_image img;

	(void)state;
	image_with(&img, typical, NULL, sizeof(typical) / sizeof(typical[0]));
	assert_measured(&img, UKI_ORDER_SYSTEMD_252, want, sizeof(want) / sizeof(want[0]));
}

static void test_ucode_moved_in_256(void **state)
{
	static const char *const names[] = { ".splash", ".ucode", ".initrd", ".linux" };
	static const char *const want_256[] = { ".linux", ".initrd", ".ucode", ".splash" };
	static const char *const want_254[] = { ".linux", ".initrd", ".splash" };
	struct pe_image img;

	(void)state;
	image_with(&img, names, NULL, 4);
	assert_measured(&img, UKI_ORDER_SYSTEMD_256, want_256, 4);
	assert_measured(&img, UKI_ORDER_SYSTEMD_258, want_256, 4);
	assert_measured(&img, UKI_ORDER_SYSTEMD_254, want_254, 3);
}

static void test_pcrsig_never_and_empty_sections_skipped(void **state)
{
	static const char *const names[] = { ".pcrsig", ".linux", ".osrel", ".dtb" };
	static const uint32_t vsizes[] = { 500, 10, 0, 7 };
	static const char *const want[] = { ".linux", ".dtb" };
	struct pe_image img;

	(void)state;
	image_with(&img, names, vsizes, 4);
	assert_measured(&img, UKI_ORDER_DEFAULT, want, 2);
	assert_false(uki_section_is_measured(".pcrsig"));
	assert_true(uki_section_is_measured(".pcrpkey"));
}

static void test_first_of_duplicate_names_wins(void **state)
{
	static const char *const names[] = { ".linux", ".linux" };
	struct uki_measured_section got[UKI_MAX_MEASURED];
	struct pe_image img;

	(void)state;
	image_with(&img, names, NULL, 2);
	assert_int_equal(uki_measured_sections(&img, UKI_ORDER_DEFAULT, got), 1);
	assert_ptr_equal(got[0].section, &img.sections[0]);
}

static void test_profile_sections_from_257(void **state)
{
	static const char *const names[] = { ".hwids", ".efifw", ".profile", ".dtbauto", ".linux" };
	static const char *const want_258[] = { ".linux", ".profile", ".dtbauto", ".hwids", ".efifw" };
	static const char *const want_257[] = { ".linux", ".profile", ".dtbauto", ".hwids" };
	struct pe_image img;

	(void)state;
	image_with(&img, names, NULL, 5);
	assert_measured(&img, UKI_ORDER_SYSTEMD_258, want_258, 5);
	assert_measured(&img, UKI_ORDER_SYSTEMD_257, want_257, 4);
}

static void test_order_for_version(void **state)
{
	static const struct {
		unsigned version;
		enum uki_order order;
	} cases[] = {
		{ 252, UKI_ORDER_SYSTEMD_252 }, { 253, UKI_ORDER_SYSTEMD_252 }, { 254, UKI_ORDER_SYSTEMD_254 },
		{ 255, UKI_ORDER_SYSTEMD_254 }, { 256, UKI_ORDER_SYSTEMD_256 }, { 257, UKI_ORDER_SYSTEMD_257 },
		{ 258, UKI_ORDER_SYSTEMD_258 }, { 261, UKI_ORDER_SYSTEMD_258 },
	};
	enum uki_order order;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(uki_order_for_version(cases[i].version, &order), MS_OK);
		assert_int_equal(order, cases[i].order);
	}
	assert_int_equal(uki_order_for_version(251, &order), MS_ERR_UNSUPPORTED);
	assert_int_equal(uki_order_version(UKI_ORDER_SYSTEMD_256), 256);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canonical_order_not_file_order),
		cmocka_unit_test(test_systemd_252_knows_fewer_sections),
		cmocka_unit_test(test_ucode_moved_in_256),
		cmocka_unit_test(test_pcrsig_never_and_empty_sections_skipped),
		cmocka_unit_test(test_first_of_duplicate_names_wins),
		cmocka_unit_test(test_profile_sections_from_257),
		cmocka_unit_test(test_order_for_version),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
