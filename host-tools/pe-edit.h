/* SPDX-License-Identifier: MIT */
/*
 * pe-edit.h - in-place edits of a parsed PE file (host only): header
 * fields, the image checksum. Offsets come from measure/pe.h.
 */
#ifndef HOST_TOOLS_PE_EDIT_H
#define HOST_TOOLS_PE_EDIT_H

#include <stddef.h>
#include <stdint.h>

#include "measure/pe.h"

/* File offsets of optional-header fields (same in PE32 and PE32+). */
#define PE_OPT_SIZE_OF_INITIALIZED_DATA 8
#define PE_OPT_SIZE_OF_IMAGE 56
#define PE_OPT_CHECKSUM 64
#define PE_OPT_DLL_CHARACTERISTICS 70

/* COFF header fields, relative to pe_offset + 4. */
#define PE_COFF_NUMBER_OF_SECTIONS 2
#define PE_COFF_TIME_DATE_STAMP 4
#define PE_COFF_POINTER_TO_SYMBOL_TABLE 8
#define PE_COFF_NUMBER_OF_SYMBOLS 12

/* Recompute and store the optional header's CheckSum (the classic PE algorithm). */
void pe_update_checksum(uint8_t *buf, size_t len, const struct pe_image *img);

#endif
