/* SPDX-License-Identifier: MIT */
#include "mem.h"

#include <efilib.h>

void *mem_alloc_zero(UINTN size)
{
	void *p = NULL;

	if (size == 0)
		size = 1;
	if (EFI_ERROR(BS->AllocatePool(EfiLoaderData, size, &p)))
		return NULL;
	ZeroMem(p, size);
	return p;
}

void mem_free(void *p)
{
	if (p)
		BS->FreePool(p);
}
