/* SPDX-License-Identifier: MIT */
/*
 * test-pe.c - unit tests for measure/pe.c and measure/pe-load.c.
 *
 * Every image is laid out byte by byte by build_pe() below from a small
 * spec, into a heap buffer of exactly the image's size, so AddressSanitizer
 * reports any read past its end. Malformed variants are made either by
 * changing the spec (section fields, alignments, sizes) or by overwriting
 * one header field of a well-formed image (signatures, counts, e_lfanew).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "measure/endian.h"
#include "measure/pe.h"
#include "measure/pe-load.h"

/* ------------------------------------------------------------ layout */

/* Where build_pe() puts the headers (PE/COFF specification offsets). */
#define T_LFANEW 0x40u
#define T_COFF (T_LFANEW + 4u)
#define T_OPT (T_COFF + 20u)
#define T_OPT_BASE_PE32PLUS 112u /* optional header up to DataDirectory[0] */
#define T_OPT_BASE_PE32 96u
#define T_DIR_SIZE 8u

/* COFF header fields, relative to T_COFF. */
#define COFF_MACHINE 0
#define COFF_N_SECTIONS 2
#define COFF_SYMTAB 8
#define COFF_OPT_SIZE 16
#define COFF_CHARACTERISTICS 18

/* Optional header fields, relative to T_OPT. */
#define OPT_MAGIC 0
#define OPT_ENTRY 16
#define OPT_BASE_OF_CODE 20
#define OPT_IMAGE_BASE_PE32 28
#define OPT_IMAGE_BASE_PE32PLUS 24
#define OPT_SECTION_ALIGN 32
#define OPT_FILE_ALIGN 36
#define OPT_SIZE_OF_IMAGE 56
#define OPT_SIZE_OF_HEADERS 60
#define OPT_SUBSYSTEM 68
#define OPT_DLLCHAR 70
#define OPT_N_DIRS_PE32 92
#define OPT_N_DIRS_PE32PLUS 108

/* Section header fields. */
#define SH_VSIZE 8
#define SH_VA 12
#define SH_RAW_SIZE 16
#define SH_RAW_OFFSET 20
#define SH_CHARACTERISTICS 36

#define T_MACHINE PE_MACHINE_X86_64
#define T_COFF_CHARS 0x0206u
#define T_ENTRY 0x1010u
#define T_IMAGE_BASE_PE32PLUS 0x140000000ull
#define T_IMAGE_BASE_PE32 0x400000u
#define T_CERT_OFFSET 0x800u
#define T_CERT_SIZE 0x48u

#define MAX_SPEC_SECTIONS 100

struct sect_spec {
	char name[PE_SECTION_NAME_MAX]; /* the raw 8-byte field: not NUL-terminated when full */
	uint32_t virtual_size;
	uint32_t virtual_address;
	uint32_t raw_size;
	uint32_t raw_offset;
	uint32_t characteristics;
};

struct pe_spec {
	uint16_t opt_magic;
	uint32_t n_data_dirs;
	uint32_t opt_pad; /* bytes of optional header beyond the data directory */
	uint32_t section_alignment;
	uint32_t file_alignment;
	uint32_t size_of_image;
	uint32_t size_of_headers;
	size_t n_sections;
	struct sect_spec sections[MAX_SPEC_SECTIONS];
	size_t file_size;
};

/* The byte every raw data byte of section @i is filled with. */
static uint8_t fill_byte(size_t i)
{
	return (uint8_t)(0xa1 + i);
}

static uint32_t spec_opt_size(const struct pe_spec *spec)
{
	uint32_t base = spec->opt_magic == PE_OPT_MAGIC_PE32 ? T_OPT_BASE_PE32 : T_OPT_BASE_PE32PLUS;

	return base + spec->n_data_dirs * T_DIR_SIZE + spec->opt_pad;
}

static uint32_t spec_section_table(const struct pe_spec *spec)
{
	return T_OPT + spec_opt_size(spec);
}

/* Lay out @spec as a PE file in a heap buffer of exactly spec->file_size bytes. */
static uint8_t *build_pe(const struct pe_spec *spec)
{
	uint32_t opt_size = spec_opt_size(spec);
	uint32_t table = spec_section_table(spec);
	int plus = spec->opt_magic != PE_OPT_MAGIC_PE32;
	uint32_t dirs = T_OPT + (plus ? T_OPT_BASE_PE32PLUS : T_OPT_BASE_PE32);
	uint8_t *b;

	assert_true(spec->n_sections <= MAX_SPEC_SECTIONS);
	assert_true(table + spec->n_sections * PE_SECTION_HEADER_SIZE <= spec->file_size);
	b = calloc(1, spec->file_size);
	assert_non_null(b);

	b[0] = 'M';
	b[1] = 'Z';
	le32_write(b + 0x3c, T_LFANEW);
	memcpy(b + T_LFANEW, "PE\0\0", 4);

	le16_write(b + T_COFF + COFF_MACHINE, T_MACHINE);
	le16_write(b + T_COFF + COFF_N_SECTIONS, (uint16_t)spec->n_sections);
	le16_write(b + T_COFF + COFF_OPT_SIZE, (uint16_t)opt_size);
	le16_write(b + T_COFF + COFF_CHARACTERISTICS, T_COFF_CHARS);

	le16_write(b + T_OPT + OPT_MAGIC, spec->opt_magic);
	le32_write(b + T_OPT + OPT_ENTRY, T_ENTRY);
	le32_write(b + T_OPT + OPT_BASE_OF_CODE, 0x1000);
	if (plus)
		le64_write(b + T_OPT + OPT_IMAGE_BASE_PE32PLUS, T_IMAGE_BASE_PE32PLUS);
	else
		le32_write(b + T_OPT + OPT_IMAGE_BASE_PE32, T_IMAGE_BASE_PE32);
	le32_write(b + T_OPT + OPT_SECTION_ALIGN, spec->section_alignment);
	le32_write(b + T_OPT + OPT_FILE_ALIGN, spec->file_alignment);
	le32_write(b + T_OPT + OPT_SIZE_OF_IMAGE, spec->size_of_image);
	le32_write(b + T_OPT + OPT_SIZE_OF_HEADERS, spec->size_of_headers);
	le16_write(b + T_OPT + OPT_SUBSYSTEM, PE_SUBSYSTEM_EFI_APPLICATION);
	le16_write(b + T_OPT + OPT_DLLCHAR, PE_DLLCHAR_NX_COMPAT);
	le32_write(b + T_OPT + (plus ? OPT_N_DIRS_PE32PLUS : OPT_N_DIRS_PE32), spec->n_data_dirs);
	if (spec->n_data_dirs > PE_DATA_DIR_CERTIFICATE) {
		le32_write(b + dirs + PE_DATA_DIR_CERTIFICATE * T_DIR_SIZE, T_CERT_OFFSET);
		le32_write(b + dirs + PE_DATA_DIR_CERTIFICATE * T_DIR_SIZE + 4, T_CERT_SIZE);
	}

	for (size_t i = 0; i < spec->n_sections; i++) {
		const struct sect_spec *s = &spec->sections[i];
		uint8_t *h = b + table + i * PE_SECTION_HEADER_SIZE;

		memcpy(h, s->name, PE_SECTION_NAME_MAX);
		le32_write(h + SH_VSIZE, s->virtual_size);
		le32_write(h + SH_VA, s->virtual_address);
		le32_write(h + SH_RAW_SIZE, s->raw_size);
		le32_write(h + SH_RAW_OFFSET, s->raw_offset);
		le32_write(h + SH_CHARACTERISTICS, s->characteristics);
		/* Raw data, as far as it lies inside the file (malformed specs point outside). */
		for (uint64_t at = s->raw_offset; at < (uint64_t)s->raw_offset + s->raw_size && at < spec->file_size; at++)
			b[at] = fill_byte(i);
	}
	return b;
}

/*
 * What a firmware loader makes of @spec: SizeOfImage bytes, the headers at 0,
 * each section's raw data at its VA and zeros for the rest of VirtualSize.
 */
static uint8_t *load_pe(const struct pe_spec *spec, const uint8_t *file)
{
	uint8_t *m = calloc(1, spec->size_of_image);

	assert_non_null(m);
	memcpy(m, file, spec->size_of_headers);
	for (size_t i = 0; i < spec->n_sections; i++) {
		const struct sect_spec *s = &spec->sections[i];
		uint32_t n = s->virtual_size && s->virtual_size < s->raw_size ? s->virtual_size : s->raw_size;

		memcpy(m + s->virtual_address, file + s->raw_offset, n);
	}
	return m;
}

/* A copy of the first @len bytes of @b in a buffer of exactly @len bytes. */
static uint8_t *truncated_copy(const uint8_t *b, size_t len)
{
	uint8_t *c = malloc(len ? len : 1);

	assert_non_null(c);
	memcpy(c, b, len);
	return c;
}

#define CODE_FLAGS (PE_SCN_CNT_CODE | PE_SCN_MEM_EXECUTE | PE_SCN_MEM_READ)
#define DATA_FLAGS (PE_SCN_CNT_INITIALIZED_DATA | PE_SCN_MEM_READ | PE_SCN_MEM_WRITE)
#define RODATA_FLAGS (PE_SCN_CNT_INITIALIZED_DATA | PE_SCN_MEM_READ)

/*
 * The golden image: PE32+, 16 data directories, three sections.
 *   headers   file 0x000-0x200, section table 0x148-0x1c0
 *   .text     VA 0x1000 VS 0x180, raw 0x200+0x200 (VS < raw: 0x180 loaded)
 *   .data     VA 0x2000 VS 0x300, raw 0x400+0x200 (VS > raw: 0x100 zero-filled)
 *   .linux    VA 0x3000 VS 0x100, raw 0x600+0x200
 * SizeOfImage 0x4000, file size 0x800.
 */
#define GOLDEN_TABLE 0x148u
#define GOLDEN_TABLE_END 0x1c0u
#define GOLDEN_FILE_SIZE 0x800u
#define GOLDEN_LAST_VA_END 0x3100u

static void golden_spec(struct pe_spec *spec)
{
	static const struct sect_spec sections[] = {
		{ ".text", 0x180, 0x1000, 0x200, 0x200, CODE_FLAGS },
		{ ".data", 0x300, 0x2000, 0x200, 0x400, DATA_FLAGS },
		{ ".linux", 0x100, 0x3000, 0x200, 0x600, RODATA_FLAGS },
	};

	memset(spec, 0, sizeof(*spec));
	spec->opt_magic = PE_OPT_MAGIC_PE32PLUS;
	spec->n_data_dirs = 16;
	spec->section_alignment = 0x1000;
	spec->file_alignment = 0x200;
	spec->size_of_image = 0x4000;
	spec->size_of_headers = 0x200;
	spec->n_sections = 3;
	memcpy(spec->sections, sections, sizeof(sections));
	spec->file_size = GOLDEN_FILE_SIZE;
}

static const char *status_name(ms_status r)
{
	static const char *const names[] = {
		"MS_OK", "MS_ERR_TRUNCATED", "MS_ERR_BAD_MAGIC", "MS_ERR_UNSUPPORTED",
		"MS_ERR_OUT_OF_BOUNDS", "MS_ERR_OVERLAP", "MS_ERR_LIMIT", "MS_ERR_OVERFLOW",
		"MS_ERR_NOT_FOUND", "MS_ERR_BUFFER_TOO_SMALL", "MS_ERR_INVALID",
	};

	return (size_t)r < sizeof(names) / sizeof(names[0]) ? names[r] : "?";
}

#define assert_status(got, want)                                                              \
	do {                                                                                  \
		ms_status got_ = (got), want_ = (want);                                       \
		if (got_ != want_)                                                            \
			fail_msg("status %s (%s), expected %s", status_name(got_),            \
				 ms_strerror(got_), status_name(want_));                        \
	} while (0)

/* Build @spec, parse it in the file layout and check the status. */
static void expect_file_status(const struct pe_spec *spec, ms_status want)
{
	struct pe_image img;
	uint8_t *b = build_pe(spec);

	assert_status(pe_parse(b, spec->file_size, PE_LAYOUT_FILE, &img), want);
	free(b);
}

/* Build the golden image, overwrite a 16- or 32-bit field, parse in the file layout. */
static void expect_golden_patch_status(uint32_t at, int width, uint32_t value, ms_status want)
{
	struct pe_spec spec;
	struct pe_image img;
	uint8_t *b;

	golden_spec(&spec);
	b = build_pe(&spec);
	if (width == 16)
		le16_write(b + at, (uint16_t)value);
	else
		le32_write(b + at, value);
	assert_status(pe_parse(b, spec.file_size, PE_LAYOUT_FILE, &img), want);
	free(b);
}

/* ------------------------------------------------------------ golden image */

struct expected_section {
	const char *name;
	uint32_t va, vs, raw_offset, raw_size, characteristics;
	uint32_t loaded;       /* pe_section_loaded_size */
	uint32_t file_present; /* pe_section_content, file layout */
};

static const struct expected_section golden_expected[] = {
	{ ".text", 0x1000, 0x180, 0x200, 0x200, CODE_FLAGS, 0x180, 0x180 },
	{ ".data", 0x2000, 0x300, 0x400, 0x200, DATA_FLAGS, 0x300, 0x200 },
	{ ".linux", 0x3000, 0x100, 0x600, 0x200, RODATA_FLAGS, 0x100, 0x100 },
};

static void assert_golden_headers(const struct pe_image *img, enum pe_layout layout, size_t len)
{
	assert_int_equal(img->layout, layout);
	assert_int_equal(img->buffer_size, len);
	assert_int_equal(img->pe_offset, T_LFANEW);
	assert_int_equal(img->machine, PE_MACHINE_X86_64);
	assert_int_equal(img->coff_characteristics, T_COFF_CHARS);
	assert_int_equal(img->symbol_table_offset, 0);
	assert_int_equal(img->opt_magic, PE_OPT_MAGIC_PE32PLUS);
	assert_int_equal(img->opt_offset, T_OPT);
	assert_int_equal(img->opt_size, 240);
	assert_int_equal(img->entry_point, T_ENTRY);
	assert_int_equal(img->image_base, T_IMAGE_BASE_PE32PLUS);
	assert_int_equal(img->section_alignment, 0x1000);
	assert_int_equal(img->file_alignment, 0x200);
	assert_int_equal(img->size_of_image, 0x4000);
	assert_int_equal(img->size_of_headers, 0x200);
	assert_int_equal(img->subsystem, PE_SUBSYSTEM_EFI_APPLICATION);
	assert_int_equal(img->dll_characteristics, PE_DLLCHAR_NX_COMPAT);
	assert_int_equal(img->n_data_dirs, 16);
	assert_int_equal(img->data_dir_offset, T_OPT + 112);
	assert_int_equal(img->cert_table_offset, T_CERT_OFFSET);
	assert_int_equal(img->cert_table_size, T_CERT_SIZE);
	assert_int_equal(img->section_table_offset, GOLDEN_TABLE);
	assert_int_equal(pe_section_table_end(img), GOLDEN_TABLE_END);
	assert_int_equal(img->n_sections, 3);
}

static void assert_golden_sections(const struct pe_image *img)
{
	for (size_t i = 0; i < 3; i++) {
		const struct expected_section *e = &golden_expected[i];
		const struct pe_section *s = &img->sections[i];

		assert_string_equal(s->name, e->name);
		assert_int_equal(s->name[PE_SECTION_NAME_MAX], '\0');
		assert_int_equal(s->virtual_address, e->va);
		assert_int_equal(s->virtual_size, e->vs);
		assert_int_equal(s->raw_offset, e->raw_offset);
		assert_int_equal(s->raw_size, e->raw_size);
		assert_int_equal(s->characteristics, e->characteristics);
		assert_int_equal(s->header_offset, GOLDEN_TABLE + i * PE_SECTION_HEADER_SIZE);
		assert_int_equal(pe_section_loaded_size(s), e->loaded);
	}
}

/* Every byte of [off, off+n) in @b is @want. */
static void assert_bytes_are(const uint8_t *b, size_t off, size_t n, uint8_t want)
{
	for (size_t i = 0; i < n; i++)
		if (b[off + i] != want)
			fail_msg("byte 0x%zx is 0x%02x, expected 0x%02x", off + i, b[off + i], want);
}

static void test_golden_file_layout(void **state)
{
	struct pe_spec spec;
	struct pe_image img;
	uint8_t *b;

	golden_spec(&spec);
	b = build_pe(&spec);
	assert_status(pe_parse(b, spec.file_size, PE_LAYOUT_FILE, &img), MS_OK);
	assert_golden_headers(&img, PE_LAYOUT_FILE, GOLDEN_FILE_SIZE);
	assert_golden_sections(&img);

	for (size_t i = 0; i < 3; i++) {
		size_t off = 0xdead, present = 0xdead;

		pe_section_content(&img, &img.sections[i], &off, &present);
		assert_int_equal(off, golden_expected[i].raw_offset);
		assert_int_equal(present, golden_expected[i].file_present);
		assert_bytes_are(b, off, present, fill_byte(i));
	}
	free(b);
}

static void test_golden_file_layout_zero_fill(void **state)
{
	/* .data: VirtualSize 0x300 > SizeOfRawData 0x200; the file holds 0x200, the loader zero-fills 0x100. */
	struct pe_spec spec;
	struct pe_image img;
	size_t off, present;
	uint8_t *b;

	golden_spec(&spec);
	b = build_pe(&spec);
	assert_status(pe_parse(b, spec.file_size, PE_LAYOUT_FILE, &img), MS_OK);
	pe_section_content(&img, &img.sections[1], &off, &present);
	assert_int_equal(present, 0x200);
	assert_int_equal(pe_section_loaded_size(&img.sections[1]), 0x300);
	assert_true(present < pe_section_loaded_size(&img.sections[1]));
	free(b);
}

static void test_golden_memory_layout(void **state)
{
	struct pe_spec spec;
	struct pe_image img;
	uint8_t *b, *m;

	golden_spec(&spec);
	b = build_pe(&spec);
	m = load_pe(&spec, b);
	assert_status(pe_parse(m, spec.size_of_image, PE_LAYOUT_MEMORY, &img), MS_OK);
	assert_golden_headers(&img, PE_LAYOUT_MEMORY, 0x4000);
	assert_golden_sections(&img);

	for (size_t i = 0; i < 3; i++) {
		const struct expected_section *e = &golden_expected[i];
		size_t off = 0xdead, present = 0xdead;
		size_t in_file = e->file_present;

		pe_section_content(&img, &img.sections[i], &off, &present);
		assert_int_equal(off, e->va);
		assert_int_equal(present, e->loaded);
		assert_bytes_are(m, off, in_file, fill_byte(i));
		assert_bytes_are(m, off + in_file, present - in_file, 0);
	}
	free(m);
	free(b);
}

static void test_memory_layout_accepts_buffer_ending_at_last_section(void **state)
{
	struct pe_spec spec;
	struct pe_image img;
	uint8_t *b, *m, *t;

	golden_spec(&spec);
	b = build_pe(&spec);
	m = load_pe(&spec, b);
	t = truncated_copy(m, GOLDEN_LAST_VA_END);
	assert_status(pe_parse(t, GOLDEN_LAST_VA_END, PE_LAYOUT_MEMORY, &img), MS_OK);
	free(t);
	free(m);
	free(b);
}

static void test_memory_layout_rejects_buffer_shorter_than_section(void **state)
{
	struct pe_spec spec;
	struct pe_image img;
	uint8_t *b, *m, *t;

	golden_spec(&spec);
	b = build_pe(&spec);
	m = load_pe(&spec, b);
	/* .linux is VA 0x3000 + VirtualSize 0x100; one byte short. */
	t = truncated_copy(m, GOLDEN_LAST_VA_END - 1);
	assert_status(pe_parse(t, GOLDEN_LAST_VA_END - 1, PE_LAYOUT_MEMORY, &img), MS_ERR_OUT_OF_BOUNDS);
	free(t);
	free(m);
	free(b);
}

static void test_virtual_size_zero_uses_raw_size(void **state)
{
	struct pe_spec spec;
	struct pe_image img;
	size_t off, present;
	uint8_t *b;

	golden_spec(&spec);
	spec.sections[2].virtual_size = 0;
	b = build_pe(&spec);
	assert_status(pe_parse(b, spec.file_size, PE_LAYOUT_FILE, &img), MS_OK);
	assert_int_equal(pe_section_loaded_size(&img.sections[2]), 0x200);
	pe_section_content(&img, &img.sections[2], &off, &present);
	assert_int_equal(off, 0x600);
	assert_int_equal(present, 0x200);
	free(b);
}

static void test_loaded_size(void **state)
{
	struct pe_section s;

	memset(&s, 0, sizeof(s));
	s.virtual_size = 0x123;
	s.raw_size = 0x200;
	assert_int_equal(pe_section_loaded_size(&s), 0x123);
	s.virtual_size = 0x345;
	assert_int_equal(pe_section_loaded_size(&s), 0x345);
	s.virtual_size = 0;
	assert_int_equal(pe_section_loaded_size(&s), 0x200);
	s.raw_size = 0;
	assert_int_equal(pe_section_loaded_size(&s), 0);
}

static void test_section_without_raw_data(void **state)
{
	/* A .bss-like section: VirtualSize only. Nothing present in the file. */
	struct pe_spec spec;
	struct pe_image img;
	size_t off, present;
	uint8_t *b;

	golden_spec(&spec);
	spec.sections[1].raw_size = 0;
	spec.sections[1].raw_offset = 0;
	b = build_pe(&spec);
	assert_status(pe_parse(b, spec.file_size, PE_LAYOUT_FILE, &img), MS_OK);
	pe_section_content(&img, &img.sections[1], &off, &present);
	assert_int_equal(present, 0);
	assert_int_equal(pe_section_loaded_size(&img.sections[1]), 0x300);
	free(b);
}

static void test_section_without_raw_data_bogus_offset_stays_in_buffer(void **state)
{
	/* No raw data, but PointerToRawData far past the file: the reported offset must stay inside. */
	struct pe_spec spec;
	struct pe_image img;
	size_t off = 0xdead, present = 0xdead;
	uint8_t *b;

	golden_spec(&spec);
	spec.sections[1].raw_size = 0;
	spec.sections[1].raw_offset = 0xfffff000;
	b = build_pe(&spec);
	assert_status(pe_parse(b, spec.file_size, PE_LAYOUT_FILE, &img), MS_OK);
	pe_section_content(&img, &img.sections[1], &off, &present);
	assert_int_equal(present, 0);
	assert_true(off <= spec.file_size);
	free(b);
}

static void test_zero_sections(void **state)
{
	struct pe_spec spec;
	struct pe_image img;
	uint8_t *b;

	golden_spec(&spec);
	spec.n_sections = 0;
	b = build_pe(&spec);
	assert_status(pe_parse(b, spec.file_size, PE_LAYOUT_FILE, &img), MS_OK);
	assert_int_equal(img.n_sections, 0);
	assert_int_equal(pe_section_table_end(&img), GOLDEN_TABLE);
	assert_null(pe_find_section(&img, ".text"));
	free(b);
}

static void test_optional_header_padding_moves_section_table(void **state)
{
	struct pe_spec spec;
	struct pe_image img;
	uint8_t *b;

	golden_spec(&spec);
	spec.opt_pad = 16;
	b = build_pe(&spec);
	assert_status(pe_parse(b, spec.file_size, PE_LAYOUT_FILE, &img), MS_OK);
	assert_int_equal(img.opt_size, 240 + 16);
	assert_int_equal(img.section_table_offset, GOLDEN_TABLE + 16);
	assert_int_equal(pe_section_table_end(&img), GOLDEN_TABLE_END + 16);
	assert_string_equal(img.sections[2].name, ".linux");
	free(b);
}

static void test_few_data_dirs_have_no_cert_table(void **state)
{
	struct pe_spec spec;
	struct pe_image img;
	uint8_t *b;

	golden_spec(&spec);
	spec.n_data_dirs = PE_DATA_DIR_CERTIFICATE; /* dirs 0..3: no certificate entry */
	b = build_pe(&spec);
	assert_status(pe_parse(b, spec.file_size, PE_LAYOUT_FILE, &img), MS_OK);
	assert_int_equal(img.n_data_dirs, 4);
	assert_int_equal(img.cert_table_offset, 0);
	assert_int_equal(img.cert_table_size, 0);
	assert_int_equal(img.section_table_offset, T_OPT + 112 + 4 * 8);
	free(b);

	spec.n_data_dirs = PE_DATA_DIR_CERTIFICATE + 1;
	b = build_pe(&spec);
	assert_status(pe_parse(b, spec.file_size, PE_LAYOUT_FILE, &img), MS_OK);
	assert_int_equal(img.cert_table_offset, T_CERT_OFFSET);
	assert_int_equal(img.cert_table_size, T_CERT_SIZE);
	free(b);
}

/* ------------------------------------------------------------ variants */

static void test_pe32_accepted(void **state)
{
	struct pe_spec spec;
	struct pe_image img;
	uint8_t *b;

	golden_spec(&spec);
	spec.opt_magic = PE_OPT_MAGIC_PE32;
	b = build_pe(&spec);
	assert_status(pe_parse(b, spec.file_size, PE_LAYOUT_FILE, &img), MS_OK);
	assert_int_equal(img.opt_magic, PE_OPT_MAGIC_PE32);
	assert_int_equal(img.opt_size, 96 + 16 * 8);
	assert_int_equal(img.image_base, T_IMAGE_BASE_PE32);
	assert_int_equal(img.entry_point, T_ENTRY);
	assert_int_equal(img.section_alignment, 0x1000);
	assert_int_equal(img.file_alignment, 0x200);
	assert_int_equal(img.size_of_image, 0x4000);
	assert_int_equal(img.size_of_headers, 0x200);
	assert_int_equal(img.subsystem, PE_SUBSYSTEM_EFI_APPLICATION);
	assert_int_equal(img.n_data_dirs, 16);
	assert_int_equal(img.data_dir_offset, T_OPT + 96);
	assert_int_equal(img.cert_table_offset, T_CERT_OFFSET);
	assert_int_equal(img.section_table_offset, T_OPT + 96 + 128);
	assert_int_equal(img.n_sections, 3);
	assert_string_equal(img.sections[2].name, ".linux");
	assert_int_equal(img.sections[2].raw_offset, 0x600);
	free(b);
}

static void test_unknown_optional_magic_unsupported(void **state)
{
	expect_golden_patch_status(T_OPT + OPT_MAGIC, 16, 0x0107 /* ROM image */, MS_ERR_UNSUPPORTED);
	expect_golden_patch_status(T_OPT + OPT_MAGIC, 16, 0x0000, MS_ERR_UNSUPPORTED);
}

/* ------------------------------------------------------------ malformed */

static void test_null_arguments_invalid(void **state)
{
	struct pe_spec spec;
	struct pe_image img;
	uint8_t *b;

	golden_spec(&spec);
	b = build_pe(&spec);
	assert_status(pe_parse(NULL, spec.file_size, PE_LAYOUT_FILE, &img), MS_ERR_INVALID);
	assert_status(pe_parse(b, spec.file_size, PE_LAYOUT_FILE, NULL), MS_ERR_INVALID);
	free(b);
}

static void test_empty_buffer_truncated(void **state)
{
	static const uint8_t nothing[1];
	struct pe_image img;

	assert_status(pe_parse(nothing, 0, PE_LAYOUT_FILE, &img), MS_ERR_TRUNCATED);
	assert_status(pe_parse(nothing, 0, PE_LAYOUT_MEMORY, &img), MS_ERR_TRUNCATED);
}

static void test_every_truncation_fails(void **state)
{
	/*
	 * Up to the end of the section table the input is missing a structure
	 * it announces (TRUNCATED); past that, some section's bytes are missing
	 * (OUT_OF_BOUNDS). Each copy is exactly @len bytes: ASan checks reads.
	 */
	struct pe_spec spec;
	struct pe_image img;
	uint8_t *b, *m;

	golden_spec(&spec);
	b = build_pe(&spec);
	m = load_pe(&spec, b);
	for (size_t len = 0; len < GOLDEN_FILE_SIZE; len++) {
		uint8_t *t = truncated_copy(b, len);
		ms_status r = pe_parse(t, len, PE_LAYOUT_FILE, &img);

		if (len < GOLDEN_TABLE_END && r != MS_ERR_TRUNCATED)
			fail_msg("file truncated to %zu bytes: %s, expected MS_ERR_TRUNCATED", len, status_name(r));
		if (len >= GOLDEN_TABLE_END && r != MS_ERR_OUT_OF_BOUNDS)
			fail_msg("file truncated to %zu bytes: %s, expected MS_ERR_OUT_OF_BOUNDS", len, status_name(r));
		free(t);
	}
	for (size_t len = 0; len < GOLDEN_LAST_VA_END; len++) {
		uint8_t *t = truncated_copy(m, len);
		ms_status r = pe_parse(t, len, PE_LAYOUT_MEMORY, &img);

		if (len < GOLDEN_TABLE_END && r != MS_ERR_TRUNCATED)
			fail_msg("image truncated to %zu bytes: %s, expected MS_ERR_TRUNCATED", len, status_name(r));
		if (len >= GOLDEN_TABLE_END && r != MS_ERR_OUT_OF_BOUNDS)
			fail_msg("image truncated to %zu bytes: %s, expected MS_ERR_OUT_OF_BOUNDS", len, status_name(r));
		free(t);
	}
	free(m);
	free(b);
}

static void test_bad_mz_signature(void **state)
{
	expect_golden_patch_status(0, 16, 0x4d5a /* "ZM" */, MS_ERR_BAD_MAGIC);
	expect_golden_patch_status(0, 16, 0, MS_ERR_BAD_MAGIC);
}

static void test_bad_pe_signature(void **state)
{
	expect_golden_patch_status(T_LFANEW, 32, 0x00014550 /* "PE\1\0" */, MS_ERR_BAD_MAGIC);
	expect_golden_patch_status(T_LFANEW, 32, 0x45500000, MS_ERR_BAD_MAGIC);
	/* e_lfanew pointing at a valid spot that does not hold "PE\0\0". */
	expect_golden_patch_status(0x3c, 32, 0x100, MS_ERR_BAD_MAGIC);
}

static void test_lfanew_past_end(void **state)
{
	expect_golden_patch_status(0x3c, 32, GOLDEN_FILE_SIZE, MS_ERR_TRUNCATED);
	expect_golden_patch_status(0x3c, 32, GOLDEN_FILE_SIZE + 0x1000, MS_ERR_TRUNCATED);
	/* The signature fits, the COFF header does not. */
	expect_golden_patch_status(0x3c, 32, GOLDEN_FILE_SIZE - 4, MS_ERR_TRUNCATED);
	expect_golden_patch_status(0x3c, 32, GOLDEN_FILE_SIZE - 23, MS_ERR_TRUNCATED);
}

static void test_lfanew_overflow(void **state)
{
	/* 0xfffffff0 + 24 wraps a 32-bit sum to 8: must not be taken as in bounds. */
	expect_golden_patch_status(0x3c, 32, 0xfffffff0, MS_ERR_TRUNCATED);
	expect_golden_patch_status(0x3c, 32, 0xffffffff, MS_ERR_TRUNCATED);
}

static void test_optional_header_too_small(void **state)
{
	/* PE32+ needs 112 bytes before the directories; 16 directories need 240. */
	expect_golden_patch_status(T_COFF + COFF_OPT_SIZE, 16, 0, MS_ERR_TRUNCATED);
	expect_golden_patch_status(T_COFF + COFF_OPT_SIZE, 16, 111, MS_ERR_TRUNCATED);
	expect_golden_patch_status(T_COFF + COFF_OPT_SIZE, 16, 112, MS_ERR_TRUNCATED);
	expect_golden_patch_status(T_COFF + COFF_OPT_SIZE, 16, 239, MS_ERR_TRUNCATED);
}

static void test_optional_header_larger_than_file(void **state)
{
	expect_golden_patch_status(T_COFF + COFF_OPT_SIZE, 16, 0xffff, MS_ERR_TRUNCATED);
	expect_golden_patch_status(T_COFF + COFF_OPT_SIZE, 16, GOLDEN_FILE_SIZE - T_OPT + 1, MS_ERR_TRUNCATED);
}

static void test_too_many_data_dirs(void **state)
{
	expect_golden_patch_status(T_OPT + OPT_N_DIRS_PE32PLUS, 32, 17, MS_ERR_LIMIT);
	expect_golden_patch_status(T_OPT + OPT_N_DIRS_PE32PLUS, 32, 0xffffffff, MS_ERR_LIMIT);
}

static void test_data_dirs_beyond_optional_header(void **state)
{
	/* 16 directories announced, room for 15. */
	struct pe_spec spec;

	golden_spec(&spec);
	spec.n_data_dirs = 15;
	{
		struct pe_image img;
		uint8_t *b = build_pe(&spec);

		le32_write(b + T_OPT + OPT_N_DIRS_PE32PLUS, 16);
		assert_status(pe_parse(b, spec.file_size, PE_LAYOUT_FILE, &img), MS_ERR_TRUNCATED);
		free(b);
	}
}

/* @n sections of 0x10 bytes each, no raw data, one page apart, with room in the headers. */
static void many_sections_spec(struct pe_spec *spec, size_t n)
{
	memset(spec, 0, sizeof(*spec));
	spec->opt_magic = PE_OPT_MAGIC_PE32PLUS;
	spec->n_data_dirs = 16;
	spec->section_alignment = 0x1000;
	spec->file_alignment = 0x200;
	spec->size_of_headers = 0x1200; /* table: 0x148 + 97 * 40 = 0x1070 */
	spec->size_of_image = 0x2000 + (uint32_t)n * 0x1000;
	spec->n_sections = n;
	for (size_t i = 0; i < n; i++) {
		struct sect_spec *s = &spec->sections[i];

		/* ".s00" .. ".s99" */
		memcpy(s->name, ".s", 2);
		s->name[2] = (char)('0' + i / 10 % 10);
		s->name[3] = (char)('0' + i % 10);
		s->virtual_size = 0x10;
		s->virtual_address = 0x2000 + (uint32_t)i * 0x1000;
		s->characteristics = DATA_FLAGS;
	}
	spec->file_size = 0x1200;
}

static void test_96_sections_accepted(void **state)
{
	struct pe_spec spec;
	struct pe_image img;
	uint8_t *b;

	many_sections_spec(&spec, PE_MAX_SECTIONS);
	b = build_pe(&spec);
	assert_status(pe_parse(b, spec.file_size, PE_LAYOUT_FILE, &img), MS_OK);
	assert_int_equal(img.n_sections, 96);
	assert_string_equal(img.sections[95].name, ".s95");
	assert_int_equal(img.sections[95].virtual_address, 0x2000 + 95 * 0x1000);
	assert_ptr_equal(pe_find_section(&img, ".s95"), &img.sections[95]);
	assert_int_equal(pe_section_table_end(&img), GOLDEN_TABLE + 96 * 40);
	free(b);
}

static void test_97_sections_limit(void **state)
{
	struct pe_spec spec;

	many_sections_spec(&spec, PE_MAX_SECTIONS + 1);
	expect_file_status(&spec, MS_ERR_LIMIT);
}

static void test_absurd_section_count_limit(void **state)
{
	expect_golden_patch_status(T_COFF + COFF_N_SECTIONS, 16, 97, MS_ERR_LIMIT);
	expect_golden_patch_status(T_COFF + COFF_N_SECTIONS, 16, 0xffff, MS_ERR_LIMIT);
}

static void test_section_table_past_size_of_headers(void **state)
{
	struct pe_spec spec;

	golden_spec(&spec);
	spec.size_of_headers = GOLDEN_TABLE_END - 1;
	expect_file_status(&spec, MS_ERR_OUT_OF_BOUNDS);
	spec.size_of_headers = GOLDEN_TABLE_END; /* exactly fits */
	expect_file_status(&spec, MS_OK);
	/* More announced sections than the headers hold (the file has the bytes). */
	expect_golden_patch_status(T_COFF + COFF_N_SECTIONS, 16, 10, MS_ERR_OUT_OF_BOUNDS);
}

static void test_size_of_headers_past_file_or_image(void **state)
{
	struct pe_spec spec;

	golden_spec(&spec);
	spec.size_of_headers = GOLDEN_FILE_SIZE + 0x200;
	spec.size_of_image = 0x10000;
	expect_file_status(&spec, MS_ERR_OUT_OF_BOUNDS);
	golden_spec(&spec);
	spec.size_of_image = 0x100; /* smaller than the headers */
	expect_file_status(&spec, MS_ERR_OUT_OF_BOUNDS);
}

static void test_non_power_of_two_alignment(void **state)
{
	static const uint32_t bad[] = { 0, 3, 0x300, 0x1800, 0xffffffff };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pe_spec spec;

		golden_spec(&spec);
		spec.section_alignment = bad[i];
		expect_file_status(&spec, MS_ERR_INVALID);
		golden_spec(&spec);
		spec.file_alignment = bad[i];
		expect_file_status(&spec, MS_ERR_INVALID);
	}
}

static void test_section_raw_data_past_end(void **state)
{
	struct pe_spec spec;

	golden_spec(&spec);
	spec.sections[2].raw_offset = 0x700; /* 0x700 + 0x200 > 0x800 */
	expect_file_status(&spec, MS_ERR_OUT_OF_BOUNDS);
	golden_spec(&spec);
	spec.sections[2].raw_offset = GOLDEN_FILE_SIZE;
	expect_file_status(&spec, MS_ERR_OUT_OF_BOUNDS);
	golden_spec(&spec);
	spec.sections[2].raw_size = 0x201;
	expect_file_status(&spec, MS_ERR_OUT_OF_BOUNDS);
}

static void test_section_raw_range_overflows_32_bits(void **state)
{
	struct pe_spec spec;

	golden_spec(&spec);
	spec.sections[2].raw_offset = 0xffffff00; /* + 0x200 wraps to 0x100 */
	expect_file_status(&spec, MS_ERR_OUT_OF_BOUNDS);
	golden_spec(&spec);
	spec.sections[2].raw_offset = 0x600;
	spec.sections[2].raw_size = 0xfffffc00; /* 0x600 + size wraps to 0x200 */
	expect_file_status(&spec, MS_ERR_OUT_OF_BOUNDS);
}

static void test_section_vas_overlap(void **state)
{
	struct pe_spec spec;

	golden_spec(&spec);
	spec.sections[1].virtual_address = 0x1100; /* inside .text 0x1000..0x1180 */
	expect_file_status(&spec, MS_ERR_OVERLAP);
	golden_spec(&spec);
	spec.sections[1].virtual_address = 0x117f; /* last byte of .text */
	expect_file_status(&spec, MS_ERR_OVERLAP);
	golden_spec(&spec);
	spec.sections[1].virtual_address = 0x1180; /* adjacent: fine */
	expect_file_status(&spec, MS_OK);
}

static void test_section_va_inside_headers(void **state)
{
	struct pe_spec spec;

	golden_spec(&spec);
	spec.sections[0].virtual_address = 0;
	expect_file_status(&spec, MS_ERR_OVERLAP);
	golden_spec(&spec);
	spec.sections[0].virtual_address = 0x1ff; /* SizeOfHeaders is 0x200 */
	expect_file_status(&spec, MS_ERR_OVERLAP);
	golden_spec(&spec);
	spec.sections[0].virtual_address = 0x200;
	expect_file_status(&spec, MS_OK);
}

static void test_section_vas_descending(void **state)
{
	struct pe_spec spec;

	/* Disjoint, but listed out of order. */
	golden_spec(&spec);
	spec.sections[1].virtual_address = 0x3000;
	spec.sections[2].virtual_address = 0x2000;
	expect_file_status(&spec, MS_ERR_OVERLAP);
}

static void test_section_raw_data_overlap(void **state)
{
	struct pe_spec spec;

	golden_spec(&spec);
	spec.sections[1].raw_offset = 0x300; /* inside .text's 0x200..0x400 */
	expect_file_status(&spec, MS_ERR_OVERLAP);
	golden_spec(&spec);
	spec.sections[2].raw_offset = 0x200; /* the same bytes as .text, listed later */
	expect_file_status(&spec, MS_ERR_OVERLAP);
	golden_spec(&spec);
	spec.sections[0].raw_offset = GOLDEN_TABLE_END; /* after the table, inside SizeOfHeaders */
	expect_file_status(&spec, MS_ERR_OVERLAP);
}

static void test_raw_overlap_ignored_in_memory_layout(void **state)
{
	/* In memory, sections live at their VAs: PointerToRawData is irrelevant. */
	struct pe_spec spec;
	struct pe_image img;
	uint8_t *b, *m;

	golden_spec(&spec);
	b = build_pe(&spec);
	m = load_pe(&spec, b);
	le32_write(m + GOLDEN_TABLE + 1 * PE_SECTION_HEADER_SIZE + SH_RAW_OFFSET, 0x300);
	assert_status(pe_parse(m, spec.size_of_image, PE_LAYOUT_MEMORY, &img), MS_OK);
	assert_status(pe_parse(m, spec.size_of_image, PE_LAYOUT_FILE, &img), MS_ERR_OVERLAP);
	free(m);
	free(b);
}

static void test_section_beyond_size_of_image(void **state)
{
	struct pe_spec spec;

	golden_spec(&spec);
	spec.size_of_image = GOLDEN_LAST_VA_END - 1;
	expect_file_status(&spec, MS_ERR_OUT_OF_BOUNDS);
	spec.size_of_image = GOLDEN_LAST_VA_END;
	expect_file_status(&spec, MS_OK);
	golden_spec(&spec);
	spec.sections[2].virtual_address = 0xffffff00; /* + 0x100 wraps to 0 */
	expect_file_status(&spec, MS_ERR_OUT_OF_BOUNDS);
}

static void test_raw_data_at_file_start_overlaps_headers(void **state)
{
	/* Patched after layout, so the headers themselves stay intact. */
	expect_golden_patch_status(GOLDEN_TABLE + SH_RAW_OFFSET, 32, 0, MS_ERR_OVERLAP); /* the DOS header */
	expect_golden_patch_status(GOLDEN_TABLE + 2 * PE_SECTION_HEADER_SIZE + SH_RAW_OFFSET, 32, 0x1ff,
				   MS_ERR_OVERLAP); /* from the last byte of SizeOfHeaders */
}

static void test_absurd_virtual_size_stays_in_the_file(void **state)
{
	/*
	 * A 3.9 GiB VirtualSize inside an equally absurd SizeOfImage is a
	 * well-formed (if useless) image. What the file holds of it is still
	 * just its raw data: the rest is the loader's zero fill, never bytes
	 * read past the buffer.
	 */
	struct pe_spec spec;
	struct pe_image img;
	size_t off, present;
	uint8_t *b;

	golden_spec(&spec);
	spec.sections[2].virtual_size = 0xfffff000 - 0x3000;
	spec.size_of_image = 0xfffff000;
	b = build_pe(&spec);
	assert_status(pe_parse(b, spec.file_size, PE_LAYOUT_FILE, &img), MS_OK);
	assert_int_equal(pe_section_loaded_size(&img.sections[2]), 0xfffff000 - 0x3000);
	pe_section_content(&img, &img.sections[2], &off, &present);
	assert_int_equal(off, 0x600);
	assert_int_equal(present, 0x200);
	/* One byte more and it leaves SizeOfImage. */
	le32_write(b + GOLDEN_TABLE + 2 * PE_SECTION_HEADER_SIZE + SH_VSIZE, 0xfffff000 - 0x3000 + 1);
	assert_status(pe_parse(b, spec.file_size, PE_LAYOUT_FILE, &img), MS_ERR_OUT_OF_BOUNDS);
	le32_write(b + GOLDEN_TABLE + 2 * PE_SECTION_HEADER_SIZE + SH_VSIZE, 0xffffffff);
	assert_status(pe_parse(b, spec.file_size, PE_LAYOUT_FILE, &img), MS_ERR_OUT_OF_BOUNDS);
	free(b);
}

/*
 * A buffer of exactly 4 GiB (the largest UKI `sysext-stub predict` reads)
 * whose headers sit at its very end, so that a 32-bit offset sum lands on
 * 2^32 and wraps to 0. Mapped without reserving memory: only the pages
 * written here are ever touched.
 */
#define FOUR_GIB ((size_t)1 << 32)

static uint8_t *map_4gib(void)
{
	void *p = mmap(NULL, FOUR_GIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		fail_msg("cannot map 4 GiB of address space");
	return p;
}

/* MZ, e_lfanew = @lfanew, "PE\0\0", a COFF header announcing one section and an optional header of @opt_size. */
static void write_headers_at(uint8_t *b, uint32_t lfanew, uint16_t opt_size)
{
	b[0] = 'M';
	b[1] = 'Z';
	le32_write(b + 0x3c, lfanew);
	memcpy(b + lfanew, "PE\0\0", 4);
	le16_write(b + lfanew + 4 + COFF_MACHINE, T_MACHINE);
	le16_write(b + lfanew + 4 + COFF_N_SECTIONS, 1);
	le16_write(b + lfanew + 4 + COFF_OPT_SIZE, opt_size);
}

static void test_optional_header_ending_at_4gib_does_not_wrap(void **state)
{
	uint8_t *b = map_4gib();
	const uint32_t opt_size = 240;
	const uint32_t lfanew = (uint32_t)(FOUR_GIB - 24 - opt_size);
	uint8_t *opt = b + lfanew + 24;
	struct pe_image img;

	/*
	 * A valid optional header that ends exactly at 4 GiB: the section
	 * table would start at 2^32. Make the DOS header's spare bytes look
	 * like a plausible section header, so that a parser whose 32-bit
	 * table offset wraps to 0 would accept the file with a section that
	 * is not in its section table.
	 */
	write_headers_at(b, lfanew, (uint16_t)opt_size);
	le16_write(opt + OPT_MAGIC, PE_OPT_MAGIC_PE32PLUS);
	le32_write(opt + OPT_SECTION_ALIGN, 0x1000);
	le32_write(opt + OPT_FILE_ALIGN, 0x200);
	le32_write(opt + OPT_SIZE_OF_IMAGE, 0x3000);
	le32_write(opt + OPT_SIZE_OF_HEADERS, 0x200);
	le32_write(opt + OPT_N_DIRS_PE32PLUS, 16);
	memcpy(b, "MZ", 2);
	le32_write(b + SH_VSIZE, 0x10);
	le32_write(b + SH_VA, 0x1000);
	assert_status(pe_parse(b, FOUR_GIB, PE_LAYOUT_FILE, &img), MS_ERR_OUT_OF_BOUNDS);

	/* The optional header itself at 2^32 (e_lfanew + 24 wraps to the "MZ" at 0). */
	write_headers_at(b, (uint32_t)(FOUR_GIB - 24), (uint16_t)opt_size);
	assert_status(pe_parse(b, FOUR_GIB, PE_LAYOUT_FILE, &img), MS_ERR_OUT_OF_BOUNDS);
	munmap(b, FOUR_GIB);
}

/* ------------------------------------------------------------ pe_find_section */

static void find_spec(struct pe_spec *spec)
{
	static const struct sect_spec sections[] = {
		{ ".initrdX", 0x10, 0x1000, 0x200, 0x400, RODATA_FLAGS }, /* 8 chars: no NUL in the header */
		{ ".initrd", 0x10, 0x2000, 0x200, 0x600, RODATA_FLAGS },
		{ ".linux", 0x10, 0x3000, 0x200, 0x800, RODATA_FLAGS },
		{ ".dup", 0x10, 0x4000, 0x200, 0xa00, RODATA_FLAGS },
		{ ".dup", 0x10, 0x5000, 0x200, 0xc00, RODATA_FLAGS },
		{ ".text\0XY", 0x10, 0x6000, 0x200, 0xe00, CODE_FLAGS }, /* junk after the NUL */
	};

	golden_spec(spec);
	spec->size_of_headers = 0x400; /* 6 headers end at 0x238 */
	spec->n_sections = 6;
	memcpy(spec->sections, sections, sizeof(sections));
	spec->size_of_image = 0x7000;
	spec->file_size = 0x1000;
}

struct find_fixture {
	struct pe_spec spec;
	struct pe_image img;
	uint8_t *file;
};

static int find_setup(void **state)
{
	struct find_fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	find_spec(&f->spec);
	f->file = build_pe(&f->spec);
	assert_status(pe_parse(f->file, f->spec.file_size, PE_LAYOUT_FILE, &f->img), MS_OK);
	*state = f;
	return 0;
}

static int find_teardown(void **state)
{
	struct find_fixture *f = *state;

	free(f->file);
	free(f);
	return 0;
}

static void test_find_exact_name(void **state)
{
	struct find_fixture *f = *state;

	assert_ptr_equal(pe_find_section(&f->img, ".linux"), &f->img.sections[2]);
	assert_ptr_equal(pe_find_section(&f->img, ".initrd"), &f->img.sections[1]);
}

static void test_find_prefix_does_not_match(void **state)
{
	struct find_fixture *f = *state;

	assert_null(pe_find_section(&f->img, ".linu"));
	assert_null(pe_find_section(&f->img, ".lin"));
	assert_null(pe_find_section(&f->img, "."));
	assert_null(pe_find_section(&f->img, ".initr"));
}

static void test_find_longer_name_does_not_match(void **state)
{
	struct find_fixture *f = *state;

	assert_null(pe_find_section(&f->img, ".linuxx"));
	assert_null(pe_find_section(&f->img, ".linux "));
	/* 9 characters whose first 8 equal the full 8-byte name ".initrdX". */
	assert_null(pe_find_section(&f->img, ".initrdXY"));
	assert_null(pe_find_section(&f->img, ".initrdX.efi"));
}

static void test_find_eight_char_name(void **state)
{
	struct find_fixture *f = *state;

	assert_string_equal(f->img.sections[0].name, ".initrdX");
	assert_ptr_equal(pe_find_section(&f->img, ".initrdX"), &f->img.sections[0]);
}

static void test_find_first_of_duplicates(void **state)
{
	struct find_fixture *f = *state;

	assert_ptr_equal(pe_find_section(&f->img, ".dup"), &f->img.sections[3]);
}

static void test_find_ignores_bytes_after_nul(void **state)
{
	struct find_fixture *f = *state;

	assert_string_equal(f->img.sections[5].name, ".text");
	assert_ptr_equal(pe_find_section(&f->img, ".text"), &f->img.sections[5]);
	assert_null(pe_find_section(&f->img, ".textXY"));
}

static void test_find_missing_and_case(void **state)
{
	struct find_fixture *f = *state;

	assert_null(pe_find_section(&f->img, ".cmdline"));
	assert_null(pe_find_section(&f->img, ".LINUX"));
	assert_null(pe_find_section(&f->img, ""));
}

static void test_find_null_arguments(void **state)
{
	struct find_fixture *f = *state;

	assert_null(pe_find_section(NULL, ".linux"));
	assert_null(pe_find_section(&f->img, NULL));
}

/* ------------------------------------------------------------ a real stub */

#ifndef SYSTEMD_STUB
#define SYSTEMD_STUB "/usr/lib/systemd/boot/efi/linuxx64.efi.stub"
#endif

static uint8_t *read_whole_file(const char *path, size_t *ret_len)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *b;
	long n;

	if (!fp)
		fail_msg("%s is missing: install systemd-boot-efi (scripts/install-deps.sh does)", path);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	assert_true(n > 0);
	assert_int_equal(fseek(fp, 0, SEEK_SET), 0);
	b = malloc((size_t)n);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	*ret_len = (size_t)n;
	return b;
}

static void assert_content_starts_with(const struct pe_image *img, const uint8_t *b, const char *name,
				       const char *prefix)
{
	const struct pe_section *s = pe_find_section(img, name);
	size_t off, present;

	assert_non_null(s);
	pe_section_content(img, s, &off, &present);
	assert_true(off + present <= img->buffer_size);
	assert_true(present >= strlen(prefix));
	assert_memory_equal(b + off, prefix, strlen(prefix));
}

static void test_systemd_stub(void **state)
{
	static const char *const names[] = {
		".text", ".reloc", ".data", ".dynamic", ".rela", ".dynsym", ".sbat", ".sdmagic",
	};
	struct pe_image img;
	size_t len;
	uint8_t *b = read_whole_file(SYSTEMD_STUB, &len);

	assert_status(pe_parse(b, len, PE_LAYOUT_FILE, &img), MS_OK);
	assert_int_equal(img.machine, PE_MACHINE_X86_64);
	assert_int_equal(img.opt_magic, PE_OPT_MAGIC_PE32PLUS);
	assert_int_equal(img.subsystem, PE_SUBSYSTEM_EFI_APPLICATION);
	assert_int_equal(img.n_data_dirs, 16);
	assert_int_equal(img.n_sections, 8);
	for (size_t i = 0; i < 8; i++) {
		assert_string_equal(img.sections[i].name, names[i]);
		assert_ptr_equal(pe_find_section(&img, names[i]), &img.sections[i]);
	}
	assert_true(pe_section_table_end(&img) <= img.size_of_headers);
	assert_content_starts_with(&img, b, ".sdmagic", "#### LoaderInfo: systemd-stub ");
	assert_content_starts_with(&img, b, ".sbat", "sbat,1,");
	free(b);
}

/* ------------------------------------------------------------ pe-load */

/* Load @file (parsed from @spec) with measure/pe-load.h at @load_addr into a zeroed buffer. */
static uint8_t *load_with_plan(const struct pe_spec *spec, const uint8_t *file, uint64_t load_addr,
			       ms_status *ret_relocate)
{
	static struct pe_image img;
	static struct pe_load_plan plan;
	uint8_t *m;

	assert_status(pe_parse(file, spec->file_size, PE_LAYOUT_FILE, &img), MS_OK);
	assert_status(pe_load_plan(&img, PE_MACHINE_X86_64, &plan), MS_OK);
	assert_int_equal(plan.size_of_image, spec->size_of_image);
	m = calloc(1, plan.size_of_image);
	assert_non_null(m);
	for (size_t i = 0; i < plan.n_copies; i++) {
		const struct pe_load_copy *c = &plan.copies[i];

		assert_true((uint64_t)c->dest + c->size <= plan.size_of_image);
		assert_true((uint64_t)c->src + c->size <= spec->file_size);
		memcpy(m + c->dest, file + c->src, c->size);
	}
	*ret_relocate = pe_load_relocate(m, &img, &plan, load_addr);
	return m;
}

static void test_load_plan_equals_reference_loader(void **state)
{
	struct pe_spec spec;
	uint8_t *file, *want, *got;
	ms_status r;

	(void)state;
	golden_spec(&spec);
	spec.n_data_dirs = 6; /* a base relocation directory, empty */
	file = build_pe(&spec);
	want = load_pe(&spec, file);
	got = load_with_plan(&spec, file, 0x7f000000, &r);
	assert_status(r, MS_OK);
	assert_memory_equal(got, want, spec.size_of_image);
	free(got);
	free(want);
	free(file);
}

/* The golden image with one relocation block in .data (file 0x400, VA 0x2000). */
#define RELOC_DIR_VA 0x2000u
#define RELOC_FILE 0x400u
#define RELOC_TARGET_RVA 0x2040u
#define RELOC_TARGET_FILE 0x440u

static uint8_t *golden_with_relocs(struct pe_spec *spec, uint32_t page, const uint16_t *entries, size_t n,
				   uint32_t dir_size)
{
	uint8_t *file;
	uint32_t dirs = T_OPT + T_OPT_BASE_PE32PLUS;

	golden_spec(spec);
	file = build_pe(spec);
	le32_write(file + dirs + PE_DATA_DIR_BASERELOC * T_DIR_SIZE, RELOC_DIR_VA);
	le32_write(file + dirs + PE_DATA_DIR_BASERELOC * T_DIR_SIZE + 4, dir_size ? dir_size : (uint32_t)(8 + 2 * n));
	le32_write(file + RELOC_FILE, page);
	le32_write(file + RELOC_FILE + 4, (uint32_t)(8 + 2 * n));
	for (size_t i = 0; i < n; i++)
		le16_write(file + RELOC_FILE + 8 + 2 * i, entries[i]);
	/* The address to fix: ImageBase + 0x1234, as a linker would have written it. */
	le64_write(file + RELOC_TARGET_FILE, T_IMAGE_BASE_PE32PLUS + 0x1234);
	return file;
}

static void test_load_relocates_dir64(void **state)
{
	const uint16_t entries[] = { (PE_REL_BASED_DIR64 << 12) | (RELOC_TARGET_RVA & 0xfff), PE_REL_BASED_ABSOLUTE };
	struct pe_spec spec;
	uint8_t *file, *got;
	ms_status r;

	(void)state;
	file = golden_with_relocs(&spec, RELOC_TARGET_RVA & ~0xfffu, entries, 2, 0);
	got = load_with_plan(&spec, file, 0x7f000000, &r);
	assert_status(r, MS_OK);
	assert_int_equal(le64_read(got + RELOC_TARGET_RVA), 0x7f000000ull + 0x1234);
	free(got);
	/* Loaded below ImageBase: the delta wraps and still lands right. */
	got = load_with_plan(&spec, file, 0x100000, &r);
	assert_status(r, MS_OK);
	assert_int_equal(le64_read(got + RELOC_TARGET_RVA), 0x100000ull + 0x1234);
	free(got);
	free(file);
}

static void test_load_refuses_bad_relocations(void **state)
{
	const uint16_t highlow[] = { (3 << 12) | 0x40 };
	const uint16_t past_end[] = { (PE_REL_BASED_DIR64 << 12) | 0xffc };
	struct pe_spec spec;
	uint8_t *file, *got;
	ms_status r;

	(void)state;
	/* HIGHLOW belongs to 32-bit images. */
	file = golden_with_relocs(&spec, 0x2000, highlow, 1, 0);
	got = load_with_plan(&spec, file, 0x7f000000, &r);
	assert_status(r, MS_ERR_UNSUPPORTED);
	free(got);
	free(file);
	/* A target whose 8 bytes cross SizeOfImage (0x4000). */
	file = golden_with_relocs(&spec, 0x3000, past_end, 1, 0);
	got = load_with_plan(&spec, file, 0x7f000000, &r);
	assert_status(r, MS_ERR_OUT_OF_BOUNDS);
	free(got);
	free(file);
	/* A block that claims more than the directory holds. */
	file = golden_with_relocs(&spec, 0x2000, highlow, 1, 8);
	got = load_with_plan(&spec, file, 0x7f000000, &r);
	assert_status(r, MS_ERR_OUT_OF_BOUNDS);
	free(got);
	free(file);
	/* A directory shorter than a block header. */
	file = golden_with_relocs(&spec, 0x2000, highlow, 1, 6);
	got = load_with_plan(&spec, file, 0x7f000000, &r);
	assert_status(r, MS_ERR_TRUNCATED);
	free(got);
	free(file);
	/* A directory that leaves the image. */
	file = golden_with_relocs(&spec, 0x2000, highlow, 1, 0x2001);
	got = load_with_plan(&spec, file, 0x7f000000, &r);
	assert_status(r, MS_ERR_OUT_OF_BOUNDS);
	free(got);
	free(file);
}

/* Parse @file (from @spec) and return pe_load_plan's verdict for x86-64. */
static ms_status plan_status(const struct pe_spec *spec, uint8_t *file)
{
	static struct pe_image img;
	static struct pe_load_plan plan;
	ms_status r = pe_parse(file, spec->file_size, PE_LAYOUT_FILE, &img);

	if (r == MS_OK)
		r = pe_load_plan(&img, PE_MACHINE_X86_64, &plan);
	free(file);
	return r;
}

static void test_load_plan_refuses_what_uefi_would_not_run(void **state)
{
	static struct pe_image img;
	static struct pe_load_plan plan;
	struct pe_spec spec;
	uint8_t *file;

	(void)state;
	golden_spec(&spec);
	file = build_pe(&spec);
	le16_write(file + T_COFF + COFF_MACHINE, PE_MACHINE_AARCH64);
	assert_status(plan_status(&spec, file), MS_ERR_UNSUPPORTED);

	file = build_pe(&spec);
	le16_write(file + T_OPT + OPT_SUBSYSTEM, 3); /* Windows console */
	assert_status(plan_status(&spec, file), MS_ERR_UNSUPPORTED);

	file = build_pe(&spec);
	le32_write(file + T_OPT + OPT_ENTRY, 0);
	assert_status(plan_status(&spec, file), MS_ERR_INVALID);

	file = build_pe(&spec);
	le32_write(file + T_OPT + OPT_ENTRY, 0x3800); /* between .linux's end (0x3100) and SizeOfImage */
	assert_status(plan_status(&spec, file), MS_ERR_INVALID);

	spec.section_alignment = 4u << 20;
	spec.size_of_image = 0x4000;
	file = build_pe(&spec);
	assert_status(plan_status(&spec, file), MS_ERR_LIMIT);

	golden_spec(&spec);
	spec.opt_magic = PE_OPT_MAGIC_PE32;
	file = build_pe(&spec);
	assert_status(plan_status(&spec, file), MS_ERR_UNSUPPORTED);

	/* Only the file layout can be loaded. */
	golden_spec(&spec);
	file = build_pe(&spec);
	uint8_t *m = load_pe(&spec, file);
	assert_status(pe_parse(m, spec.size_of_image, PE_LAYOUT_MEMORY, &img), MS_OK);
	assert_status(pe_load_plan(&img, PE_MACHINE_X86_64, &plan), MS_ERR_INVALID);
	free(m);
	free(file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_file_layout),
		cmocka_unit_test(test_golden_file_layout_zero_fill),
		cmocka_unit_test(test_golden_memory_layout),
		cmocka_unit_test(test_memory_layout_accepts_buffer_ending_at_last_section),
		cmocka_unit_test(test_memory_layout_rejects_buffer_shorter_than_section),
		cmocka_unit_test(test_virtual_size_zero_uses_raw_size),
		cmocka_unit_test(test_loaded_size),
		cmocka_unit_test(test_section_without_raw_data),
		cmocka_unit_test(test_section_without_raw_data_bogus_offset_stays_in_buffer),
		cmocka_unit_test(test_zero_sections),
		cmocka_unit_test(test_optional_header_padding_moves_section_table),
		cmocka_unit_test(test_few_data_dirs_have_no_cert_table),
		cmocka_unit_test(test_pe32_accepted),
		cmocka_unit_test(test_unknown_optional_magic_unsupported),
		cmocka_unit_test(test_null_arguments_invalid),
		cmocka_unit_test(test_empty_buffer_truncated),
		cmocka_unit_test(test_every_truncation_fails),
		cmocka_unit_test(test_bad_mz_signature),
		cmocka_unit_test(test_bad_pe_signature),
		cmocka_unit_test(test_lfanew_past_end),
		cmocka_unit_test(test_lfanew_overflow),
		cmocka_unit_test(test_optional_header_too_small),
		cmocka_unit_test(test_optional_header_larger_than_file),
		cmocka_unit_test(test_too_many_data_dirs),
		cmocka_unit_test(test_data_dirs_beyond_optional_header),
		cmocka_unit_test(test_96_sections_accepted),
		cmocka_unit_test(test_97_sections_limit),
		cmocka_unit_test(test_absurd_section_count_limit),
		cmocka_unit_test(test_section_table_past_size_of_headers),
		cmocka_unit_test(test_size_of_headers_past_file_or_image),
		cmocka_unit_test(test_non_power_of_two_alignment),
		cmocka_unit_test(test_section_raw_data_past_end),
		cmocka_unit_test(test_section_raw_range_overflows_32_bits),
		cmocka_unit_test(test_section_vas_overlap),
		cmocka_unit_test(test_section_va_inside_headers),
		cmocka_unit_test(test_section_vas_descending),
		cmocka_unit_test(test_section_raw_data_overlap),
		cmocka_unit_test(test_raw_overlap_ignored_in_memory_layout),
		cmocka_unit_test(test_section_beyond_size_of_image),
		cmocka_unit_test(test_raw_data_at_file_start_overlaps_headers),
		cmocka_unit_test(test_absurd_virtual_size_stays_in_the_file),
		cmocka_unit_test(test_optional_header_ending_at_4gib_does_not_wrap),
		cmocka_unit_test_setup_teardown(test_find_exact_name, find_setup, find_teardown),
		cmocka_unit_test_setup_teardown(test_find_prefix_does_not_match, find_setup, find_teardown),
		cmocka_unit_test_setup_teardown(test_find_longer_name_does_not_match, find_setup, find_teardown),
		cmocka_unit_test_setup_teardown(test_find_eight_char_name, find_setup, find_teardown),
		cmocka_unit_test_setup_teardown(test_find_first_of_duplicates, find_setup, find_teardown),
		cmocka_unit_test_setup_teardown(test_find_ignores_bytes_after_nul, find_setup, find_teardown),
		cmocka_unit_test_setup_teardown(test_find_missing_and_case, find_setup, find_teardown),
		cmocka_unit_test_setup_teardown(test_find_null_arguments, find_setup, find_teardown),
		cmocka_unit_test(test_systemd_stub),
		cmocka_unit_test(test_load_plan_equals_reference_loader),
		cmocka_unit_test(test_load_relocates_dir64),
		cmocka_unit_test(test_load_refuses_bad_relocations),
		cmocka_unit_test(test_load_plan_refuses_what_uefi_would_not_run),
	};

	return cmocka_run_group_tests_name("pe", tests, NULL, NULL);
}
