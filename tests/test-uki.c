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
	size_t n = uki_measured_sections(img, order, 0, got);

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
	assert_int_equal(uki_measured_sections(&img, UKI_ORDER_DEFAULT, 0, got), 1);
	assert_ptr_equal(got[0].section, &img.sections[0]);
}

static void test_profile_sections_from_257(void **state)
{
	/* .dtbauto and .efifw are chosen by a device-tree/HWID match, which never happens here. */
	static const char *const names[] = { ".hwids", ".efifw", ".dtbauto", ".linux", ".profile" };
	static const char *const want_258[] = { ".linux", ".profile", ".hwids" };
	struct uki_measured_section got[UKI_MAX_MEASURED];
	struct pe_image img;

	(void)state;
	image_with(&img, names, NULL, 5);
	assert_int_equal(uki_measured_sections(&img, UKI_ORDER_SYSTEMD_258, UKI_PROFILE_MAX, got), 2);
	assert_measured(&img, UKI_ORDER_SYSTEMD_258, want_258, 3);
	assert_measured(&img, UKI_ORDER_SYSTEMD_257, want_258, 3);
}

/* base: .linux .cmdline .initrd | profile 0: .profile .cmdline | profile 1: .profile .initrd(VS 0) .cmdline .cmdline */
static const char *const multi[] = { ".linux", ".cmdline", ".initrd", ".profile", ".cmdline",
				     ".profile", ".initrd", ".cmdline", ".cmdline" };
static const uint32_t multi_vs[] = { 10, 11, 12, 13, 14, 15, 0, 17, 18 };

static void test_profiles_override_the_base(void **state)
{
	struct pe_image img;

	(void)state;
	image_with(&img, multi, multi_vs, 9);
	assert_int_equal(uki_profile_count(&img), 2);
	assert_int_equal(uki_profile_check(&img, 0), MS_OK);
	assert_int_equal(uki_profile_check(&img, 1), MS_OK);
	assert_int_equal(uki_profile_check(&img, 2), MS_ERR_NOT_FOUND);
	assert_int_equal(uki_profile_check(&img, UKI_PROFILE_MAX), MS_OK);
	/* Profile 0: its own .cmdline and .profile, the base's .linux and .initrd. */
	assert_ptr_equal(uki_section(&img, 0, ".cmdline"), &img.sections[4]);
	assert_ptr_equal(uki_section(&img, 0, ".profile"), &img.sections[3]);
	assert_ptr_equal(uki_section(&img, 0, ".initrd"), &img.sections[2]);
	assert_ptr_equal(uki_section(&img, 0, ".linux"), &img.sections[0]);
	/* Profile 1: the first of its two .cmdline; its VirtualSize-0 .initrd hides the base's. */
	assert_ptr_equal(uki_section(&img, 1, ".cmdline"), &img.sections[7]);
	assert_ptr_equal(uki_section(&img, 1, ".profile"), &img.sections[5]);
	assert_null(uki_section(&img, 1, ".initrd"));
	/* The base alone has no .profile; a profile that does not exist gets the base. */
	assert_ptr_equal(uki_section(&img, UKI_PROFILE_MAX, ".cmdline"), &img.sections[1]);
	assert_null(uki_section(&img, UKI_PROFILE_MAX, ".profile"));
	assert_ptr_equal(uki_section(&img, 7, ".cmdline"), &img.sections[1]);
}

static void test_measured_per_profile(void **state)
{
	static const char *const want_0[] = { ".linux", ".cmdline", ".initrd", ".profile" };
	static const char *const want_1[] = { ".linux", ".cmdline", ".profile" };
	struct uki_measured_section got[UKI_MAX_MEASURED];
	struct pe_image img;

	(void)state;
	image_with(&img, multi, multi_vs, 9);
	assert_int_equal(uki_measured_sections(&img, UKI_ORDER_DEFAULT, 0, got), 4);
	for (size_t i = 0; i < 4; i++) {
		assert_string_equal(got[i].name, want_0[i]);
		assert_ptr_equal(got[i].section, uki_section(&img, 0, want_0[i]));
	}
	assert_int_equal(uki_measured_sections(&img, UKI_ORDER_DEFAULT, 1, got), 3);
	for (size_t i = 0; i < 3; i++)
		assert_ptr_equal(got[i].section, uki_section(&img, 1, want_1[i]));
	assert_ptr_equal(got[1].section, &img.sections[7]);
	/* v256 knows no profiles: the first header of each name in the whole table. */
	assert_int_equal(uki_measured_sections(&img, UKI_ORDER_SYSTEMD_256, 1, got), 3);
	assert_ptr_equal(got[1].section, &img.sections[1]);
}

static void test_virtual_size_0_is_absent(void **state)
{
	/* Issue 13 defect 2: the loader maps raw data for VirtualSize 0, but the section does not count. */
	static const char *const names[] = { ".linux", ".cmdline", ".initrd", ".pcrpkey" };
	static const uint32_t vsizes[] = { 10, 0, 0, 0 };
	struct pe_image img;

	(void)state;
	image_with(&img, names, vsizes, 4);
	for (size_t i = 0; i < 4; i++)
		img.sections[i].raw_size = 0x200;
	assert_non_null(uki_section(&img, 0, ".linux"));
	assert_null(uki_section(&img, 0, ".cmdline"));
	assert_null(uki_section(&img, 0, ".initrd"));
	assert_null(uki_section(&img, 0, ".pcrpkey"));
}

static void test_profile_text(void **state)
{
	uint16_t out[UKI_PROFILE_TEXT_MAX];
	static const struct {
		uint32_t v;
		const char *want;
	} cases[] = { { 0, "0" }, { 7, "7" }, { 10, "10" }, { 4294967295u, "4294967295" } };

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = strlen(cases[i].want);

		uki_profile_text(cases[i].v, out);
		for (size_t k = 0; k <= n; k++)
			assert_int_equal(out[k], (uint16_t)cases[i].want[k]);
	}
}

static void test_section_bytes(void **state)
{
	static const char *const names[] = { ".linux", ".cmdline" };
	static const uint32_t vsizes[] = { 0x1800, 5 };
	size_t offset, present;
	uint32_t size;
	struct pe_image img;

	(void)state;
	image_with(&img, names, vsizes, 2);
	img.layout = PE_LAYOUT_FILE;
	img.sections[0].raw_offset = 0x400;
	img.sections[0].raw_size = 0x1000; /* the loader zero-fills the rest */
	img.sections[1].raw_offset = 0x1400;
	img.sections[1].raw_size = 0x200; /* longer than VirtualSize: only 5 bytes count */
	uki_section_bytes(&img, &img.sections[0], &offset, &present, &size);
	assert_int_equal(offset, 0x400);
	assert_int_equal(present, 0x1000);
	assert_int_equal(size, 0x1800);
	uki_section_bytes(&img, &img.sections[1], &offset, &present, &size);
	assert_int_equal(offset, 0x1400);
	assert_int_equal(present, 5);
	assert_int_equal(size, 5);
	img.layout = PE_LAYOUT_MEMORY;
	uki_section_bytes(&img, &img.sections[0], &offset, &present, &size);
	assert_int_equal(offset, img.sections[0].virtual_address);
	assert_int_equal(present, 0x1800);
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
		cmocka_unit_test(test_profiles_override_the_base),
		cmocka_unit_test(test_measured_per_profile),
		cmocka_unit_test(test_virtual_size_0_is_absent),
		cmocka_unit_test(test_section_bytes),
		cmocka_unit_test(test_profile_text),
		cmocka_unit_test(test_order_for_version),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
