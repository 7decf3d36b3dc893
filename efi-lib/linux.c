/* SPDX-License-Identifier: MIT */
/*
 * linux.c - start the embedded kernel: place its PE image in memory
 * ourselves (measure/pe-load.h says why not LoadImage), lend it our own
 * LOADED_IMAGE with its base, size and command line, and call its entry
 * point with our image handle, as systemd-stub does since v258.
 */
#include "linux.h"

#include <efilib.h>

#include "log.h"
#include "mem.h"
#include "timing.h"
#include "measure/pe-load.h"

/* The kernel's headers and load plan: too large for a comfortable stack frame, and on the heap, not in
 * the stub image (which must stay below 0x20000). */
struct kernel_layout {
	struct pe_image pe;
	struct pe_load_plan plan;
};

struct placed_kernel {
	EFI_PHYSICAL_ADDRESS pages_addr;
	UINTN pages;
	UINT8 *base; /* pages_addr rounded up to the section alignment */
};

static EFI_STATUS place_kernel(const UINT8 *file, UINTN size, struct kernel_layout *kl, struct placed_kernel *k)
{
	struct pe_image *const kernel_pe = &kl->pe;
	struct pe_load_plan *const plan = &kl->plan;
	UINT64 slack, base;
	EFI_STATUS err;
	ms_status r;

	r = pe_parse(file, size, PE_LAYOUT_FILE, kernel_pe);
	if (r == MS_OK)
		r = pe_load_plan(kernel_pe, PE_MACHINE_X86_64, plan);
	if (r != MS_OK)
		return log_error_status(EFI_LOAD_ERROR,
					L"cannot load the embedded kernel (.linux, %lu bytes): not a PE image we can run (%a)",
					(UINT64)size, ms_strerror(r));

	/* Pages are 4 KiB aligned; a larger section alignment needs room to round up. */
	slack = plan->alignment > EFI_PAGE_SIZE ? plan->alignment - EFI_PAGE_SIZE : 0;
	k->pages = EFI_SIZE_TO_PAGES((UINT64)plan->size_of_image + slack);
	err = mem_alloc_code_pages(k->pages, &k->pages_addr);
	if (EFI_ERROR(err)) {
		k->pages = 0;
		return log_error_status(err, L"cannot load the embedded kernel: no memory for %lu bytes",
					(UINT64)plan->size_of_image);
	}
	base = (k->pages_addr + plan->alignment - 1) & ~((UINT64)plan->alignment - 1);
	k->base = (UINT8 *)(UINTN)base;

	mem_zero(k->base, plan->size_of_image);
	for (UINTN i = 0; i < plan->n_copies; i++)
		mem_copy(k->base + plan->copies[i].dest, file + plan->copies[i].src,
			 plan->copies[i].size);
	r = pe_load_relocate(k->base, kernel_pe, plan, base);
	if (r != MS_OK) {
		mem_free_pages(k->pages_addr, k->pages);
		k->pages = 0;
		return log_error_status(EFI_LOAD_ERROR, L"cannot load the embedded kernel: relocations: %a",
					ms_strerror(r));
	}
	return EFI_SUCCESS;
}

EFI_STATUS linux_start(EFI_HANDLE image, const void *kernel, UINTN size, const CHAR16 *cmdline)
{
	EFI_LOADED_IMAGE *li = NULL, saved;
	struct placed_kernel k = { 0 };
	struct kernel_layout *kl;
	EFI_IMAGE_ENTRY_POINT entry;
	UINT32 size_of_image, entry_point;
	EFI_STATUS err;

	err = BS->HandleProtocol(image, &LoadedImageProtocol, (void **)&li);
	if (EFI_ERROR(err))
		return log_error_status(err, L"cannot get our own LOADED_IMAGE protocol");
	kl = mem_alloc_zero(sizeof(*kl));
	if (!kl)
		return log_error_status(EFI_OUT_OF_RESOURCES, L"cannot load the embedded kernel: no memory");
	err = place_kernel(kernel, size, kl, &k);
	size_of_image = kl->plan.size_of_image;
	entry_point = kl->plan.entry_point;
	mem_free(kl);
	if (EFI_ERROR(err))
		return err;

	/*
	 * Linux's EFI stub finds itself (and its setup header) through the
	 * LOADED_IMAGE of the handle it is called with, and its command line
	 * in LoadOptions: while it runs, ours describe it.
	 */
	saved = *li;
	li->ImageBase = k.base;
	li->ImageSize = size_of_image;
	li->LoadOptions = (void *)cmdline;
	li->LoadOptionsSize = cmdline ? (StrLen(cmdline) + 1) * sizeof(CHAR16) : 0;

	entry = (EFI_IMAGE_ENTRY_POINT)(UINTN)(k.base + entry_point);
	timing_lap(TIMING_KERNEL_LOAD);
	timing_export();
	err = entry(image, ST);

	*li = saved;
	log_error_status(err, L"the kernel returned to the stub");
	mem_free_pages(k.pages_addr, k.pages);
	return EFI_ERROR(err) ? err : EFI_LOAD_ERROR;
}
