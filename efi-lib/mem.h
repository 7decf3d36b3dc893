/* SPDX-License-Identifier: MIT */
/*
 * mem.h - pool allocation through boot services. Allocation failure is an
 * ordinary status: callers skip the optional feature and the boot goes on.
 */
#ifndef EFI_LIB_MEM_H
#define EFI_LIB_MEM_H

#include <efi.h>

/* Zeroed pool memory of @size bytes, or NULL. */
void *mem_alloc_zero(UINTN size);
/* Free memory from mem_alloc_zero(); NULL is ignored. */
void mem_free(void *p);

#endif
