/* SPDX-License-Identifier: MIT */
#include "pe.h"

#include "endian.h"

/* Offsets inside the headers (PE/COFF specification, "Image Only" fields). */
#define DOS_MAGIC 0x5a4d /* "MZ" */
#define DOS_LFANEW 0x3c
#define DOS_HEADER_SIZE 0x40
#define PE_SIGNATURE 0x00004550 /* "PE\0\0" */
#define COFF_HEADER_SIZE 20

#define OPT_ENTRY_POINT 16
#define OPT_IMAGE_BASE_PE32PLUS 24
#define OPT_IMAGE_BASE_PE32 28
#define OPT_SECTION_ALIGNMENT 32
#define OPT_FILE_ALIGNMENT 36
#define OPT_SIZE_OF_IMAGE 56
#define OPT_SIZE_OF_HEADERS 60
#define OPT_SUBSYSTEM 68
#define OPT_DLL_CHARACTERISTICS 70
#define OPT_NUM_DATA_DIRS_PE32PLUS 108
#define OPT_NUM_DATA_DIRS_PE32 92
#define DATA_DIR_ENTRY_SIZE 8
#define MAX_DATA_DIRS 16

static int is_power_of_two(uint32_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

/* [off, off+size) lies within [0, limit), computed without overflow. */
static int range_ok(uint64_t off, uint64_t size, uint64_t limit)
{
	return off <= limit && size <= limit - off;
}

uint32_t pe_section_loaded_size(const struct pe_section *s)
{
	/* Old linkers leave VirtualSize 0; loaders then use SizeOfRawData. */
	return s->virtual_size ? s->virtual_size : s->raw_size;
}

static ms_status parse_optional_header(const uint8_t *p, size_t len, struct pe_image *img)
{
	uint32_t n_dirs_at, dirs_at, min_size;
	const uint8_t *o;

	if (!range_ok(img->opt_offset, 2, len))
		return MS_ERR_TRUNCATED;
	o = p + img->opt_offset;
	img->opt_magic = le16_read(o);
	if (img->opt_magic == PE_OPT_MAGIC_PE32PLUS) {
		n_dirs_at = OPT_NUM_DATA_DIRS_PE32PLUS;
	} else if (img->opt_magic == PE_OPT_MAGIC_PE32) {
		n_dirs_at = OPT_NUM_DATA_DIRS_PE32;
	} else {
		return MS_ERR_UNSUPPORTED;
	}
	dirs_at = n_dirs_at + 4;
	min_size = dirs_at;
	if (img->opt_size < min_size)
		return MS_ERR_TRUNCATED;
	if (!range_ok(img->opt_offset, img->opt_size, len))
		return MS_ERR_TRUNCATED;

	img->entry_point = le32_read(o + OPT_ENTRY_POINT);
	img->image_base = img->opt_magic == PE_OPT_MAGIC_PE32PLUS ? le64_read(o + OPT_IMAGE_BASE_PE32PLUS)
								  : le32_read(o + OPT_IMAGE_BASE_PE32);
	img->section_alignment = le32_read(o + OPT_SECTION_ALIGNMENT);
	img->file_alignment = le32_read(o + OPT_FILE_ALIGNMENT);
	img->size_of_image = le32_read(o + OPT_SIZE_OF_IMAGE);
	img->size_of_headers = le32_read(o + OPT_SIZE_OF_HEADERS);
	img->subsystem = le16_read(o + OPT_SUBSYSTEM);
	img->dll_characteristics = le16_read(o + OPT_DLL_CHARACTERISTICS);
	img->n_data_dirs = le32_read(o + n_dirs_at);
	img->data_dir_offset = img->opt_offset + dirs_at;

	if (!is_power_of_two(img->section_alignment) || !is_power_of_two(img->file_alignment))
		return MS_ERR_INVALID;
	if (img->n_data_dirs > MAX_DATA_DIRS)
		return MS_ERR_LIMIT;
	/* The data directory must fit inside SizeOfOptionalHeader. */
	if ((uint64_t)dirs_at + (uint64_t)img->n_data_dirs * DATA_DIR_ENTRY_SIZE > img->opt_size)
		return MS_ERR_TRUNCATED;

	img->cert_table_offset = 0;
	img->cert_table_size = 0;
	if (img->n_data_dirs > PE_DATA_DIR_CERTIFICATE) {
		const uint8_t *d = p + img->data_dir_offset + PE_DATA_DIR_CERTIFICATE * DATA_DIR_ENTRY_SIZE;

		img->cert_table_offset = le32_read(d);
		img->cert_table_size = le32_read(d + 4);
	}
	return MS_OK;
}

static void read_section_header(const uint8_t *h, uint32_t header_offset, struct pe_section *s)
{
	for (int i = 0; i < PE_SECTION_NAME_MAX; i++)
		s->name[i] = (char)h[i];
	s->name[PE_SECTION_NAME_MAX] = '\0';
	s->virtual_size = le32_read(h + 8);
	s->virtual_address = le32_read(h + 12);
	s->raw_size = le32_read(h + 16);
	s->raw_offset = le32_read(h + 20);
	s->characteristics = le32_read(h + 36);
	s->header_offset = header_offset;
}

static ms_status check_sections(const struct pe_image *img, size_t len)
{
	uint64_t prev_end = img->size_of_headers;

	for (uint16_t i = 0; i < img->n_sections; i++) {
		const struct pe_section *s = &img->sections[i];
		uint32_t loaded = pe_section_loaded_size(s);

		/* Ascending, non-overlapping VAs that never cover the headers. */
		if (s->virtual_address < prev_end)
			return MS_ERR_OVERLAP;
		if (!range_ok(s->virtual_address, loaded, img->size_of_image))
			return MS_ERR_OUT_OF_BOUNDS;
		prev_end = (uint64_t)s->virtual_address + loaded;

		if (img->layout == PE_LAYOUT_MEMORY) {
			if (!range_ok(s->virtual_address, loaded, len))
				return MS_ERR_OUT_OF_BOUNDS;
			continue;
		}
		if (s->raw_size == 0)
			continue;
		if (s->raw_offset < img->size_of_headers)
			return MS_ERR_OVERLAP;
		if (!range_ok(s->raw_offset, s->raw_size, len))
			return MS_ERR_OUT_OF_BOUNDS;
		for (uint16_t j = 0; j < i; j++) {
			const struct pe_section *t = &img->sections[j];

			if (t->raw_size == 0)
				continue;
			if ((uint64_t)s->raw_offset < (uint64_t)t->raw_offset + t->raw_size &&
			    (uint64_t)t->raw_offset < (uint64_t)s->raw_offset + s->raw_size)
				return MS_ERR_OVERLAP;
		}
	}
	return MS_OK;
}

ms_status pe_parse(const void *buf, size_t len, enum pe_layout layout, struct pe_image *ret)
{
	const uint8_t *p = buf;
	struct pe_image *img = ret;
	uint64_t table_size;
	ms_status r;

	if (!buf || !ret)
		return MS_ERR_INVALID;
	if (len < DOS_HEADER_SIZE)
		return MS_ERR_TRUNCATED;
	if (le16_read(p) != DOS_MAGIC)
		return MS_ERR_BAD_MAGIC;

	img->layout = layout;
	img->buffer_size = len;
	img->pe_offset = le32_read(p + DOS_LFANEW);
	if (!range_ok(img->pe_offset, 4 + COFF_HEADER_SIZE, len))
		return MS_ERR_TRUNCATED;
	if (le32_read(p + img->pe_offset) != PE_SIGNATURE)
		return MS_ERR_BAD_MAGIC;

	{
		const uint8_t *coff = p + img->pe_offset + 4;

		img->machine = le16_read(coff);
		img->n_sections = le16_read(coff + 2);
		img->symbol_table_offset = le32_read(coff + 8);
		img->opt_size = le16_read(coff + 16);
		img->coff_characteristics = le16_read(coff + 18);
	}
	/*
	 * Every header offset is a 32-bit field: a buffer of 4 GiB or more
	 * could otherwise place the optional header or the section table at
	 * 2^32, where the 32-bit sum wraps to the start of the file.
	 */
	if ((uint64_t)img->pe_offset + 4 + COFF_HEADER_SIZE + img->opt_size > UINT32_MAX)
		return MS_ERR_OUT_OF_BOUNDS;
	img->opt_offset = img->pe_offset + 4 + COFF_HEADER_SIZE;

	r = parse_optional_header(p, len, img);
	if (r != MS_OK)
		return r;

	if (img->n_sections > PE_MAX_SECTIONS)
		return MS_ERR_LIMIT;
	img->section_table_offset = img->opt_offset + img->opt_size;
	table_size = (uint64_t)img->n_sections * PE_SECTION_HEADER_SIZE;
	if (!range_ok(img->section_table_offset, table_size, len))
		return MS_ERR_TRUNCATED;
	/* The section table is part of the headers the loader copies. */
	if (img->section_table_offset + table_size > img->size_of_headers)
		return MS_ERR_OUT_OF_BOUNDS;
	if (img->size_of_headers > len || img->size_of_headers > img->size_of_image)
		return MS_ERR_OUT_OF_BOUNDS;

	for (uint16_t i = 0; i < img->n_sections; i++) {
		uint32_t at = img->section_table_offset + (uint32_t)i * PE_SECTION_HEADER_SIZE;

		read_section_header(p + at, at, &img->sections[i]);
	}
	return check_sections(img, len);
}

static int section_name_equals(const struct pe_section *s, const char *name)
{
	int i;

	for (i = 0; i < PE_SECTION_NAME_MAX; i++) {
		if (s->name[i] != name[i])
			return 0;
		if (name[i] == '\0')
			return 1;
	}
	return name[i] == '\0';
}

const struct pe_section *pe_find_section(const struct pe_image *img, const char *name)
{
	if (!img || !name)
		return NULL;
	for (uint16_t i = 0; i < img->n_sections; i++)
		if (section_name_equals(&img->sections[i], name))
			return &img->sections[i];
	return NULL;
}

void pe_section_content(const struct pe_image *img, const struct pe_section *s, size_t *ret_offset,
			size_t *ret_present)
{
	uint32_t loaded = pe_section_loaded_size(s);

	if (img->layout == PE_LAYOUT_MEMORY) {
		*ret_offset = s->virtual_address;
		*ret_present = loaded;
		return;
	}
	/*
	 * PointerToRawData is only checked when there is raw data; without
	 * any, report offset 0 so the result never points past the buffer.
	 */
	*ret_offset = s->raw_size ? s->raw_offset : 0;
	*ret_present = loaded < s->raw_size ? loaded : s->raw_size;
}

uint32_t pe_section_table_end(const struct pe_image *img)
{
	return img->section_table_offset + (uint32_t)img->n_sections * PE_SECTION_HEADER_SIZE;
}
