/* SPDX-License-Identifier: MIT */
/*
 * test-addon.c - unit tests for measure/addon.c: which addons are used and
 * which bytes of them (file and memory layout), the .uname rules (ours and
 * systemd-stub 262's strncmp), the joined command line with its quirks, and
 * the tagged event data, byte for byte.
 *
 * Addons are laid out by make_addon() below (PE32+, x86-64, EFI
 * application, sections one after another), into a heap buffer of exactly
 * the image's size, so AddressSanitizer reports any read past its end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "measure/addon.h"
#include "measure/cmdline.h"
#include "measure/endian.h"

#define LFANEW 0x40u
#define COFF (LFANEW + 4u)
#define OPT (COFF + 20u)
#define OPT_SIZE 240u /* PE32+ with 16 data directories */
#define TABLE (OPT + OPT_SIZE)
#define HEADERS 0x400u
#define FILE_ALIGN 0x200u
#define SECT_ALIGN 0x1000u

struct sect {
	const char *name;
	const void *data;
	uint32_t len;   /* raw bytes given */
	uint32_t vsize; /* 0: len */
	int no_vsize;   /* VirtualSize 0 */
};

static uint32_t up(uint32_t v, uint32_t a)
{
	return (v + a - 1) / a * a;
}

/* An addon file with @n sections; *@ret_len its size. @machine, @subsystem as given. */
static uint8_t *make_addon_as(const struct sect *s, size_t n, uint16_t machine, uint16_t subsystem, size_t *ret_len)
{
	uint32_t raw = HEADERS, va = SECT_ALIGN;
	size_t len = HEADERS;
	uint8_t *b;

	for (size_t i = 0; i < n; i++)
		len += up(s[i].len ? s[i].len : 1, FILE_ALIGN);
	b = calloc(1, len);
	assert_non_null(b);
	b[0] = 'M';
	b[1] = 'Z';
	le32_write(b + 0x3c, LFANEW);
	memcpy(b + LFANEW, "PE\0\0", 4);
	le16_write(b + COFF, machine);
	le16_write(b + COFF + 2, (uint16_t)n);
	le16_write(b + COFF + 16, OPT_SIZE);
	le16_write(b + OPT, PE_OPT_MAGIC_PE32PLUS);
	le32_write(b + OPT + 32, SECT_ALIGN);
	le32_write(b + OPT + 36, FILE_ALIGN);
	le32_write(b + OPT + 60, HEADERS);
	le16_write(b + OPT + 68, subsystem);
	le32_write(b + OPT + 108, 16);
	for (size_t i = 0; i < n; i++) {
		uint8_t *h = b + TABLE + 40 * i;
		uint32_t vsize = s[i].no_vsize ? 0 : s[i].vsize ? s[i].vsize : s[i].len;

		memcpy(h, s[i].name, strlen(s[i].name) < 8 ? strlen(s[i].name) : 8);
		le32_write(h + 8, vsize);
		le32_write(h + 12, va);
		le32_write(h + 16, s[i].len ? up(s[i].len, FILE_ALIGN) : 0);
		le32_write(h + 20, s[i].len ? raw : 0);
		le32_write(h + 36, PE_SCN_CNT_INITIALIZED_DATA | PE_SCN_MEM_READ);
		if (s[i].len)
			memcpy(b + raw, s[i].data, s[i].len);
		raw += s[i].len ? up(s[i].len, FILE_ALIGN) : 0;
		va += up(vsize > s[i].len ? vsize : (s[i].len ? s[i].len : 1), SECT_ALIGN);
	}
	le32_write(b + OPT + 56, va); /* SizeOfImage */
	*ret_len = len;
	return b;
}

static uint8_t *make_addon(const struct sect *s, size_t n, size_t *ret_len)
{
	return make_addon_as(s, n, PE_MACHINE_X86_64, PE_SUBSYSTEM_EFI_APPLICATION, ret_len);
}

static struct pe_image img;

static enum addon_verdict inspect(const uint8_t *b, size_t len, struct addon_info *info)
{
	return addon_inspect(b, len, PE_LAYOUT_FILE, &img, info);
}

/* The bytes of @span in @b, as a string for comparisons (present bytes only). */
static void assert_span(const uint8_t *b, const struct addon_span *span, const char *want, uint32_t size)
{
	assert_int_equal(span->size, size);
	assert_int_equal(span->present, strlen(want));
	assert_memory_equal(b + span->offset, want, strlen(want));
}

/* ------------------------------------------------------------ addon_inspect */

static void test_used_sections_and_bytes(void **state)
{
	const struct sect s[] = {
		{ ".text", "\xc3", 1, 0, 0 },
		{ ".sbat", "sbat,1", 6, 0, 0 },
		{ ".cmdline", "quiet", 5, 0, 0 },
		{ ".uname", "6.1.0-57-amd64", 14, 0, 0 },
		{ ".initrd", "INITRD", 6, 0, 0 },
		{ ".ucode", "UCODE", 5, 0, 0 },
		{ ".dtb", "DTB!", 4, 0, 0 },
	};
	struct addon_info info;
	size_t len;
	uint8_t *b = make_addon(s, 7, &len);

	(void)state;
	assert_int_equal(inspect(b, len, &info), ADDON_USE);
	assert_span(b, &info.parts[ADDON_PART_CMDLINE], "quiet", 5);
	assert_span(b, &info.parts[ADDON_PART_INITRD], "INITRD", 6);
	assert_span(b, &info.parts[ADDON_PART_UCODE], "UCODE", 5);
	assert_span(b, &info.parts[ADDON_PART_DTB], "DTB!", 4);
	assert_span(b, &info.uname, "6.1.0-57-amd64", 14);
	free(b);
}

static void test_virtual_size_rules(void **state)
{
	/* VirtualSize past the raw data: the tail is zeros (present < size); VirtualSize 0: absent. */
	const struct sect s[] = {
		{ ".initrd", "abc", 3, 0x300, 0 },
		{ ".ucode", "ignored", 7, 0, 1 },
		{ ".cmdline", "x", 1, 0, 0 },
	};
	struct addon_info info;
	size_t len;
	uint8_t *b = make_addon(s, 3, &len);

	(void)state;
	assert_int_equal(inspect(b, len, &info), ADDON_USE);
	assert_int_equal(info.parts[ADDON_PART_INITRD].size, 0x300);
	/* The raw data is a whole file-alignment unit: present up to it, zeros beyond. */
	assert_int_equal(info.parts[ADDON_PART_INITRD].present, FILE_ALIGN);
	assert_int_equal(info.parts[ADDON_PART_UCODE].size, 0);
	free(b);
}

static void test_first_section_of_a_name_decides(void **state)
{
	/* The first .cmdline has VirtualSize 0: the addon has no command line, however the second looks. */
	const struct sect s[] = {
		{ ".cmdline", "first", 5, 0, 1 },
		{ ".cmdline", "second", 6, 0, 0 },
		{ ".initrd", "i", 1, 0, 0 },
		{ ".initrd", "j", 1, 0, 0 },
	};
	struct addon_info info;
	size_t len;
	uint8_t *b = make_addon(s, 4, &len);

	(void)state;
	assert_int_equal(inspect(b, len, &info), ADDON_USE);
	assert_int_equal(info.parts[ADDON_PART_CMDLINE].size, 0);
	assert_span(b, &info.parts[ADDON_PART_INITRD], "i", 1);
	free(b);
}

static void test_refused_addons(void **state)
{
	const struct sect only_text[] = { { ".text", "\xc3", 1, 0, 0 }, { ".dtbauto", "d", 1, 0, 0 } };
	const struct sect uki[] = { { ".cmdline", "x", 1, 0, 0 }, { ".linux", "MZ", 2, 0, 0 } };
	const struct sect fine[] = { { ".cmdline", "x", 1, 0, 0 } };
	struct addon_info info;
	size_t len;
	uint8_t *b;

	(void)state;
	/* .dtbauto is never used, so an addon with nothing else has no sections. */
	b = make_addon(only_text, 2, &len);
	assert_int_equal(inspect(b, len, &info), ADDON_NO_SECTIONS);
	assert_int_equal(info.parts[ADDON_PART_CMDLINE].size, 0);
	free(b);

	b = make_addon(uki, 2, &len);
	assert_int_equal(inspect(b, len, &info), ADDON_IS_UKI);
	free(b);

	b = make_addon_as(fine, 1, PE_MACHINE_AARCH64, PE_SUBSYSTEM_EFI_APPLICATION, &len);
	assert_int_equal(inspect(b, len, &info), ADDON_WRONG_MACHINE);
	free(b);
	b = make_addon_as(fine, 1, PE_MACHINE_X86_64, 13 /* EFI ROM */, &len);
	assert_int_equal(inspect(b, len, &info), ADDON_WRONG_MACHINE);
	free(b);
	b = make_addon_as(fine, 1, PE_MACHINE_X86_64, 11 /* boot service driver: LoadImage takes it */, &len);
	assert_int_equal(inspect(b, len, &info), ADDON_USE);
	free(b);

	b = make_addon(fine, 1, &len);
	assert_int_equal(inspect(b, 0x100, &info), ADDON_NOT_PE);
	assert_int_equal(info.pe_error, MS_ERR_TRUNCATED);
	b[0] = 'X';
	assert_int_equal(inspect(b, len, &info), ADDON_NOT_PE);
	assert_int_equal(info.pe_error, MS_ERR_BAD_MAGIC);
	for (int p = 0; p < ADDON_PARTS; p++)
		assert_int_equal(info.parts[p].size, 0);
	free(b);
	for (int v = ADDON_USE; v <= ADDON_UNAME_MISMATCH; v++)
		assert_true(strlen(addon_verdict_reason(v)) > 0);
}

static void test_memory_layout(void **state)
{
	/* An image as LoadImage maps it: headers at 0, each section at its VirtualAddress. */
	const struct sect s[] = { { ".cmdline", "mapped", 6, 0, 0 }, { ".initrd", "zz", 2, 0x20, 0 } };
	struct addon_info info;
	size_t len;
	uint8_t *file = make_addon(s, 2, &len), *mem;
	uint32_t size_of_image;

	(void)state;
	assert_int_equal(addon_inspect(file, len, PE_LAYOUT_FILE, &img, &info), ADDON_USE);
	size_of_image = img.size_of_image;
	mem = calloc(1, size_of_image);
	assert_non_null(mem);
	memcpy(mem, file, HEADERS);
	for (uint16_t i = 0; i < img.n_sections; i++)
		memcpy(mem + img.sections[i].virtual_address, file + img.sections[i].raw_offset,
		       img.sections[i].raw_size < img.sections[i].virtual_size ? img.sections[i].raw_size
									: img.sections[i].virtual_size);
	assert_int_equal(addon_inspect(mem, size_of_image, PE_LAYOUT_MEMORY, &img, &info), ADDON_USE);
	assert_span(mem, &info.parts[ADDON_PART_CMDLINE], "mapped", 6);
	assert_int_equal(info.parts[ADDON_PART_INITRD].size, 0x20);
	assert_int_equal(info.parts[ADDON_PART_INITRD].present, 0x20);
	free(mem);
	free(file);
}

/* ------------------------------------------------------------ addon_uname_matches */

#define U(s) (const uint8_t *)(s), sizeof(s) - 1

static void test_uname_rules(void **state)
{
	(void)state;
	/* Nothing to compare: a match. */
	assert_true(addon_uname_matches(ADDON_RULE_OURS, NULL, 0, U("6.1")));
	assert_true(addon_uname_matches(ADDON_RULE_OURS, U("6.1"), NULL, 0));
	assert_true(addon_uname_matches(ADDON_RULE_SYSTEMD, NULL, 0, U("6.1")));

	/* Ours: the strings, each up to its first NUL, are equal. */
	assert_true(addon_uname_matches(ADDON_RULE_OURS, U("6.1.0-57-amd64"), U("6.1.0-57-amd64")));
	assert_true(addon_uname_matches(ADDON_RULE_OURS, U("6.1.0-57-amd64\0\0"), U("6.1.0-57-amd64\0")));
	assert_false(addon_uname_matches(ADDON_RULE_OURS, U("6.1.0-57-amd64"), U("6.1.0")));
	assert_false(addon_uname_matches(ADDON_RULE_OURS, U("6.1.0"), U("6.1.0-57-amd64")));
	assert_false(addon_uname_matches(ADDON_RULE_OURS, U("6.1.0-57-amd64"), U("6.1.0-58-amd64")));
	assert_false(addon_uname_matches(ADDON_RULE_OURS, U("6.1.0-57-amd64"), U("6.1.0-57-amd64\n")));

	/* systemd-stub 262: strncmp(uki, addon, addon's size) == 0. */
	assert_true(addon_uname_matches(ADDON_RULE_SYSTEMD, U("6.1.0-57-amd64"), U("6.1.0-57-amd64")));
	assert_true(addon_uname_matches(ADDON_RULE_SYSTEMD, U("6.1.0-57-amd64"), U("6.1.0")));   /* a prefix */
	assert_true(addon_uname_matches(ADDON_RULE_SYSTEMD, U("6.1.0-57-amd64"), U("6.1.0-57-amd64\0junk")));
	assert_false(addon_uname_matches(ADDON_RULE_SYSTEMD, U("6.1.0-57-amd64"), U("6.1.0\0")));  /* NUL ends it */
	assert_false(addon_uname_matches(ADDON_RULE_SYSTEMD, U("6.1.0"), U("6.1.0-57-amd64")));
	assert_false(addon_uname_matches(ADDON_RULE_SYSTEMD, U("6.1.0-57-amd64"), U("6.2")));
	/* The UKI's string ends at its first NUL. */
	assert_true(addon_uname_matches(ADDON_RULE_SYSTEMD, U("6.1\0.0"), U("6.1")));
	assert_false(addon_uname_matches(ADDON_RULE_SYSTEMD, U("6.1\0.0"), U("6.1.0")));
}

/* ------------------------------------------------------------ command lines */

static void to16(const char *s, uint16_t *out)
{
	size_t i = 0;

	for (; s[i]; i++)
		out[i] = (uint8_t)s[i];
	out[i] = 0;
}

static void assert_line(const uint16_t *got, const char *want)
{
	uint16_t w[256];

	to16(want, w);
	assert_memory_equal(got, w, (strlen(want) + 1) * 2);
}

static void add(uint16_t *joined, size_t cap, const char *sec, size_t len)
{
	assert_int_equal(addon_cmdline_add(joined, cap, (const uint8_t *)sec, len), MS_OK);
}

static void test_cmdline_join(void **state)
{
	uint16_t j[128] = { 0 };

	(void)state;
	add(j, 128, "  quiet\tsplash \n", 16);
	assert_line(j, "quiet splash");
	add(j, 128, "a=1\0ignored", 11); /* stops at the NUL */
	assert_line(j, "quiet splash a=1");
	assert_true(addon_cmdline_finish(j));
	assert_line(j, "quiet splash a=1");
}

static void test_cmdline_join_quirks(void **state)
{
	uint16_t j[64] = { 0 };

	(void)state;
	/* An empty first line adds nothing; an empty later one still adds its space (kept inside, trimmed at the end). */
	add(j, 64, " \t ", 3);
	assert_line(j, "");
	add(j, 64, "a", 1);
	assert_line(j, "a");
	add(j, 64, "\n", 1);
	assert_line(j, "a ");
	add(j, 64, "b", 1);
	assert_line(j, "a  b");
	add(j, 64, "", 0);
	assert_true(addon_cmdline_finish(j));
	assert_line(j, "a  b");

	j[0] = 0;
	add(j, 64, "   ", 3);
	assert_false(addon_cmdline_finish(j));
}

static void test_cmdline_room(void **state)
{
	uint16_t j[8] = { 0 };

	(void)state;
	/* "abc", "de": 5 bytes from 2 addons need 5 + 2 + 1 units. */
	assert_int_equal(addon_cmdline_room(5, 2), 8);
	add(j, 8, "abc", 3);
	add(j, 8, "de", 2);
	assert_line(j, "abc de");
	/* Too small: refused, and the line is left as it was. */
	assert_int_equal(addon_cmdline_add(j, 8, (const uint8_t *)"fgh", 3), MS_ERR_BUFFER_TOO_SMALL);
	assert_line(j, "abc de");
	assert_int_equal(addon_cmdline_add(j, 6, (const uint8_t *)"f", 1), MS_ERR_INVALID); /* no NUL within cap */
	assert_int_equal(addon_cmdline_add(NULL, 8, (const uint8_t *)"f", 1), MS_ERR_INVALID);
	assert_int_equal(addon_cmdline_room(UINT64_MAX, 1), SIZE_MAX);
}

static void test_cmdline_extend(void **state)
{
	uint16_t base[16], joined[16], out[32];

	(void)state;
	to16("console=ttyS0", base);
	to16("quiet", joined);
	assert_int_equal(cmdline_extend(base, joined, out, 32), MS_OK);
	assert_line(out, "console=ttyS0 quiet");
	assert_int_equal(cmdline_extend(NULL, joined, out, 32), MS_OK);
	assert_line(out, "quiet");
	base[0] = 0;
	assert_int_equal(cmdline_extend(base, joined, out, 32), MS_OK);
	assert_line(out, "quiet");
	to16("console=ttyS0", base);
	assert_int_equal(cmdline_extend(base, joined, out, 19), MS_ERR_BUFFER_TOO_SMALL);
	assert_int_equal(cmdline_extend(base, joined, out, 20), MS_OK);
}

/* ------------------------------------------------------------ events */

static void test_part_tags(void **state)
{
	/* The tags of TCG_PCClientTaggedEvent that systemd-stub 262 uses for each part. */
	(void)state;
	assert_int_equal(addon_part_tag(ADDON_PART_INITRD), 0x49dffe0f);
	assert_int_equal(addon_part_tag(ADDON_PART_UCODE), 0xdac08e1a);
	assert_int_equal(addon_part_tag(ADDON_PART_DTB), 0x6c46f751);
	/* The command line is an EV_IPL event, not a tagged one. */
	assert_int_equal(addon_part_tag(ADDON_PART_CMDLINE), 0);
	assert_int_equal(addon_part_tag(ADDON_PARTS), 0);
	assert_string_equal(addon_part_section(ADDON_PART_UCODE), ".ucode");
}

/* Microcode pieces last addon first, initrd pieces in addon order; no other slot is the addons'. */
static void test_addon_slots(void **state)
{
	(void)state;
	assert_int_equal(addon_slot_part(INITRD_SLOT_UCODE_ADDONS), ADDON_PART_UCODE);
	assert_int_equal(addon_slot_part(INITRD_SLOT_ADDON_INITRDS), ADDON_PART_INITRD);
	assert_int_equal(addon_slot_part(INITRD_SLOT_UCODE), ADDON_PARTS);
	assert_int_equal(addon_slot_part(INITRD_SLOT_CREDENTIALS), ADDON_PARTS);
	for (size_t k = 0; k < 3; k++) {
		assert_int_equal(addon_slot_index(INITRD_SLOT_UCODE_ADDONS, 3, k), 2 - k);
		assert_int_equal(addon_slot_index(INITRD_SLOT_ADDON_INITRDS, 3, k), k);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addon_slots),
		cmocka_unit_test(test_used_sections_and_bytes),
		cmocka_unit_test(test_virtual_size_rules),
		cmocka_unit_test(test_first_section_of_a_name_decides),
		cmocka_unit_test(test_refused_addons),
		cmocka_unit_test(test_memory_layout),
		cmocka_unit_test(test_uname_rules),
		cmocka_unit_test(test_cmdline_join),
		cmocka_unit_test(test_cmdline_join_quirks),
		cmocka_unit_test(test_cmdline_room),
		cmocka_unit_test(test_cmdline_extend),
		cmocka_unit_test(test_part_tags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
