/* SPDX-License-Identifier: MIT */
/*
 * pe.h - bounds-checked reader for PE/COFF headers and section tables.
 *
 * Used by the stub on its own loaded image (PE_LAYOUT_MEMORY: sections at
 * their VirtualAddress) and by the host tools on UKI files (PE_LAYOUT_FILE:
 * sections at PointerToRawData). Nothing here allocates; every offset taken
 * from the input is checked against the buffer before it is used, so the
 * parser is safe on hostile input (see tests/test-pe.c and tests/fuzz/).
 */
#ifndef MEASURE_PE_H
#define MEASURE_PE_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

/* The Windows loader refuses more than 96 sections; so do we. */
#define PE_MAX_SECTIONS 96
#define PE_SECTION_NAME_MAX 8
#define PE_SECTION_HEADER_SIZE 40
#define PE_DATA_DIR_CERTIFICATE 4 /* index of the Authenticode cert table */

#define PE_MACHINE_X86_64 0x8664
#define PE_MACHINE_I386 0x014c
#define PE_MACHINE_AARCH64 0xaa64

#define PE_OPT_MAGIC_PE32 0x010b
#define PE_OPT_MAGIC_PE32PLUS 0x020b

#define PE_SUBSYSTEM_EFI_APPLICATION 10
#define PE_DLLCHAR_NX_COMPAT 0x0100

#define PE_SCN_CNT_CODE 0x00000020u
#define PE_SCN_CNT_INITIALIZED_DATA 0x00000040u
#define PE_SCN_MEM_EXECUTE 0x20000000u
#define PE_SCN_MEM_READ 0x40000000u
#define PE_SCN_MEM_WRITE 0x80000000u

enum pe_layout {
	PE_LAYOUT_FILE,   /* a PE file as stored on disk */
	PE_LAYOUT_MEMORY, /* an image as the firmware loaded it (ImageBase..+ImageSize) */
};

struct pe_section {
	char name[PE_SECTION_NAME_MAX + 1]; /* NUL-terminated copy of the 8-byte field */
	uint32_t virtual_size;
	uint32_t virtual_address;
	uint32_t raw_size;
	uint32_t raw_offset;
	uint32_t characteristics;
	uint32_t header_offset; /* offset of this section's 40-byte header */
};

struct pe_image {
	enum pe_layout layout;
	size_t buffer_size;
	uint32_t pe_offset; /* e_lfanew: offset of "PE\0\0" */
	uint16_t machine;
	uint16_t coff_characteristics;
	uint32_t symbol_table_offset;
	uint16_t opt_magic;
	uint32_t opt_offset; /* offset of the optional header */
	uint16_t opt_size;   /* SizeOfOptionalHeader */
	uint32_t entry_point;
	uint64_t image_base;
	uint32_t section_alignment;
	uint32_t file_alignment;
	uint32_t size_of_image;
	uint32_t size_of_headers;
	uint16_t subsystem;
	uint16_t dll_characteristics;
	uint32_t n_data_dirs;
	uint32_t data_dir_offset; /* offset of DataDirectory[0] */
	uint32_t cert_table_offset; /* DataDirectory[4]: a FILE offset, 0 if none */
	uint32_t cert_table_size;
	uint32_t section_table_offset;
	uint16_t n_sections;
	struct pe_section sections[PE_MAX_SECTIONS];
};

/*
 * Parse and validate the headers and section table of buf[0..len).
 *
 * Checks: MZ and PE signatures, PE32/PE32+ optional header large enough for
 * the fields read, power-of-two alignments, at most PE_MAX_SECTIONS sections,
 * a section table inside the headers, every section inside SizeOfImage and
 * (for the chosen layout) inside the buffer, section VAs ascending and not
 * overlapping each other or the headers, raw data not overlapping.
 *
 * Returns MS_OK and fills *ret, or an error and leaves *ret undefined.
 */
ms_status pe_parse(const void *buf, size_t len, enum pe_layout layout, struct pe_image *ret);

/* First section whose name equals @name exactly (names are at most 8 chars), or NULL. */
const struct pe_section *pe_find_section(const struct pe_image *img, const char *name);

/* Bytes the loader makes visible for @s: VirtualSize, or SizeOfRawData when VirtualSize is 0. */
uint32_t pe_section_loaded_size(const struct pe_section *s);

/*
 * Where @s's content lies in the buffer that was parsed.
 * ret_offset: offset into the buffer; ret_present: bytes present there. In the
 * memory layout that is the loaded size; in the file layout it is
 * min(loaded size, SizeOfRawData) and the loader zero-fills the rest (a
 * section without raw data reports offset 0, present 0).
 */
void pe_section_content(const struct pe_image *img, const struct pe_section *s, size_t *ret_offset,
			size_t *ret_present);

/* Offset just past the last section header (where a new header would go). */
uint32_t pe_section_table_end(const struct pe_image *img);

#endif
