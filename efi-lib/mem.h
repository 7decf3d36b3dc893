/* SPDX-License-Identifier: MIT */
/*
 * mem.h - memory from boot services, with accounting. Allocation failure is
 * an ordinary status: callers skip the optional feature and the boot goes on.
 *
 * Everything the stub allocates goes through here (EfiLoaderData, and
 * EfiLoaderCode for the kernel it loads), so mem_usage() knows what the
 * stub holds and the most it ever held; the stub logs both at handover and
 * `make bench` reads them off the console.
 */
#ifndef EFI_LIB_MEM_H
#define EFI_LIB_MEM_H

#include <efi.h>

/* Zeroed pool memory of @size bytes, or NULL. */
void *mem_alloc_zero(UINTN size);
/* Free memory from mem_alloc_zero(); NULL is ignored. */
void mem_free(void *p);

/* @pages whole pages of EfiLoaderData, not zeroed (for buffers that are filled completely). */
EFI_STATUS mem_alloc_pages(UINTN pages, EFI_PHYSICAL_ADDRESS *ret);
/* The same as EfiLoaderCode, for an image the stub loads (the embedded kernel). */
EFI_STATUS mem_alloc_code_pages(UINTN pages, EFI_PHYSICAL_ADDRESS *ret);
/*
 * The same as EfiACPIReclaimMemory, for a configuration table handed to
 * the kernel (a devicetree): the kernel keeps it until it has parsed it.
 */
EFI_STATUS mem_alloc_table_pages(UINTN pages, EFI_PHYSICAL_ADDRESS *ret);
/*
 * Whether @pages pages could be allocated now: the memory map has a free
 * range of conventional memory that large. Nothing is allocated for them.
 * A plan that hands its bytes to a buffer someone else allocates later
 * (the kernel's initrd) asks this first, so that it can give up files
 * while it still can.
 */
EFI_STATUS mem_probe_pages(UINTN pages);
/* Free pages from any mem_alloc_*_pages(); 0 pages is ignored. */
void mem_free_pages(EFI_PHYSICAL_ADDRESS addr, UINTN pages);

/* Copy @n bytes, fast on large buffers (bulk.h says why not CopyMem); overlap is allowed. */
void mem_copy(void *dest, const void *src, UINTN n);
/* Zero @n bytes, as fast. */
void mem_zero(void *dest, UINTN n);

struct mem_usage {
	UINT64 held; /* bytes allocated through this module now */
	UINT64 peak; /* the most held at any time */
};
void mem_usage(struct mem_usage *ret);

#endif
