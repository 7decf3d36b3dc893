/* SPDX-License-Identifier: MIT */
#include "pe-load.h"

#include "endian.h"

#define DATA_DIR_ENTRY_SIZE 8
#define RELOC_BLOCK_HEADER 8

static int range_ok(uint64_t off, uint64_t size, uint64_t limit)
{
	return off <= limit && size <= limit - off;
}

static int inside_a_section(const struct pe_image *img, uint32_t rva)
{
	for (uint16_t i = 0; i < img->n_sections; i++) {
		const struct pe_section *s = &img->sections[i];

		if (rva >= s->virtual_address && rva - s->virtual_address < pe_section_loaded_size(s))
			return 1;
	}
	return 0;
}

ms_status pe_load_plan(const struct pe_image *img, uint16_t machine, struct pe_load_plan *ret)
{
	struct pe_load_plan *p = ret;

	if (!img || !ret || img->layout != PE_LAYOUT_FILE)
		return MS_ERR_INVALID;
	if (img->machine != machine || img->opt_magic != PE_OPT_MAGIC_PE32PLUS)
		return MS_ERR_UNSUPPORTED;
	if (img->subsystem != PE_SUBSYSTEM_EFI_APPLICATION)
		return MS_ERR_UNSUPPORTED;
	if (img->section_alignment > PE_LOAD_MAX_ALIGNMENT)
		return MS_ERR_LIMIT;
	if (img->size_of_image == 0 || img->entry_point == 0 || !inside_a_section(img, img->entry_point))
		return MS_ERR_INVALID;

	p->size_of_image = img->size_of_image;
	p->alignment = img->section_alignment;
	p->entry_point = img->entry_point;
	/* pe_parse checked: headers inside the file and SizeOfImage, sections ascending and inside both. */
	p->copies[0] = (struct pe_load_copy){ .dest = 0, .src = 0, .size = img->size_of_headers };
	p->n_copies = 1;
	for (uint16_t i = 0; i < img->n_sections; i++) {
		const struct pe_section *s = &img->sections[i];
		size_t off, present;

		pe_section_content(img, s, &off, &present);
		if (present == 0)
			continue; /* .bss-like: zero-filled */
		p->copies[p->n_copies++] = (struct pe_load_copy){
			.dest = s->virtual_address, .src = (uint32_t)off, .size = (uint32_t)present
		};
	}
	return MS_OK;
}

ms_status pe_load_relocate(uint8_t *image, const struct pe_image *img, const struct pe_load_plan *plan,
			   uint64_t load_addr)
{
	const uint8_t *dir;
	uint32_t rva, size, at;
	uint64_t delta;

	if (!image || !img || !plan)
		return MS_ERR_INVALID;
	if (img->n_data_dirs <= PE_DATA_DIR_BASERELOC)
		return MS_OK;
	/* The data directory is in the headers, which the plan copied first. */
	dir = image + img->data_dir_offset + PE_DATA_DIR_BASERELOC * DATA_DIR_ENTRY_SIZE;
	rva = le32_read(dir);
	size = le32_read(dir + 4);
	if (size == 0)
		return MS_OK;
	if (!range_ok(rva, size, plan->size_of_image))
		return MS_ERR_OUT_OF_BOUNDS;

	/* Unsigned wrap-around is the two's-complement difference we want. */
	delta = load_addr - img->image_base;
	for (at = 0; at < size;) {
		const uint8_t *block = image + rva + at;
		uint32_t page, block_size;

		if (size - at < RELOC_BLOCK_HEADER)
			return MS_ERR_TRUNCATED;
		page = le32_read(block);
		block_size = le32_read(block + 4);
		if (block_size < RELOC_BLOCK_HEADER || block_size > size - at || block_size % 2)
			return MS_ERR_OUT_OF_BOUNDS;
		for (uint32_t e = RELOC_BLOCK_HEADER; e < block_size; e += 2) {
			uint16_t entry = le16_read(block + e);
			uint64_t target = (uint64_t)page + (entry & 0x0fff);

			switch (entry >> 12) {
			case PE_REL_BASED_ABSOLUTE:
				break;
			case PE_REL_BASED_DIR64:
				if (!range_ok(target, 8, plan->size_of_image))
					return MS_ERR_OUT_OF_BOUNDS;
				le64_write(image + target, le64_read(image + target) + delta);
				break;
			default:
				return MS_ERR_UNSUPPORTED;
			}
		}
		at += block_size;
	}
	return MS_OK;
}
