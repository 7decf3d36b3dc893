/* SPDX-License-Identifier: MIT */
/*
 * pe-load.h - place a PE/COFF image (parsed from its file layout) in memory
 * the way a UEFI loader does, for the stub's own loader of the embedded
 * kernel (efi-lib/linux.c).
 *
 * Why the stub loads the kernel itself instead of calling LoadImage: the
 * UKI was verified (Secure Boot) and its .linux section measured (PCR 11)
 * already; LoadImage would verify the inner kernel against db a second time
 * (needing a security-protocol override under Secure Boot) and hash it once
 * more for a PCR 4 event, which costs boot time for nothing. systemd-stub
 * does the same since v258.
 *
 * Loading is: reserve SizeOfImage bytes at a multiple of SectionAlignment,
 * zero them, do the copies of the plan (headers, then each section's raw
 * data at its VirtualAddress), apply the base relocations for the address
 * chosen, and call the entry point. Everything taken from the image is
 * bounds-checked here; the stub only allocates and copies.
 */
#ifndef MEASURE_PE_LOAD_H
#define MEASURE_PE_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "pe.h"
#include "status.h"

#define PE_LOAD_MAX_COPIES (PE_MAX_SECTIONS + 1)
/* Larger section alignments are refused (nothing we boot uses one). */
#define PE_LOAD_MAX_ALIGNMENT (2u << 20)

#define PE_DATA_DIR_BASERELOC 5
#define PE_REL_BASED_ABSOLUTE 0 /* padding, no effect */
#define PE_REL_BASED_DIR64 10   /* a 64-bit address */

/* Copy @size bytes from file offset @src to image offset @dest. */
struct pe_load_copy {
	uint32_t dest;
	uint32_t src;
	uint32_t size;
};

struct pe_load_plan {
	uint32_t size_of_image; /* bytes to reserve; what no copy fills stays zero */
	uint32_t alignment;     /* the load address must be a multiple of this */
	uint32_t entry_point;   /* RVA of the entry point */
	size_t n_copies;
	struct pe_load_copy copies[PE_LOAD_MAX_COPIES];
};

/*
 * Plan loading @img, parsed with PE_LAYOUT_FILE. Refuses what a UEFI loader
 * for @machine would not run: another machine (MS_ERR_UNSUPPORTED), not
 * PE32+, not an EFI application, an entry point outside every section, an
 * alignment above PE_LOAD_MAX_ALIGNMENT (MS_ERR_LIMIT).
 */
ms_status pe_load_plan(const struct pe_image *img, uint16_t machine, struct pe_load_plan *ret);

/*
 * Apply the base relocations of @img to @image (@plan->size_of_image bytes,
 * already filled by the plan's copies) for a load at @load_addr. Only
 * ABSOLUTE and DIR64 entries exist in x86-64 EFI images; anything else is
 * MS_ERR_UNSUPPORTED, a block or target outside the image
 * MS_ERR_OUT_OF_BOUNDS. On error the image may be partly relocated: do not
 * run it.
 */
ms_status pe_load_relocate(uint8_t *image, const struct pe_image *img, const struct pe_load_plan *plan,
			   uint64_t load_addr);

#endif
