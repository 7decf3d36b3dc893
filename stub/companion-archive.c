/* SPDX-License-Identifier: MIT */
/*
 * companion-archive.c - plan an archive: take the directory's files of one
 * kind as the shared selection rule kept them (stub/listing.c,
 * measure/selection.c), size the archive exactly (measure/cpio counting
 * pass), and make sure the kernel can have a buffer that large; then, at
 * fill time (stub/lazy-archive.c), read and measure each file in place.
 */
#include "companion-archive.h"

#include <efilib.h>

#include "efi-lib/esp.h"
#include "efi-lib/fault.h"
#include "efi-lib/log.h"
#include "efi-lib/mem.h"
#include "efi-lib/timing.h"
#include "measure/selection.h"
#include "measure/sysext-archive.h"

static void plan_input_of(const struct sel_dir *sel, enum ext_kind kind, struct companion_plan *in)
{
	in->n = sel_dir_count(sel, kind);
	for (UINTN i = 0; i < in->n; i++) {
		in->files[i] = sel_dir_file(sel, kind, i);
		in->names[i] = in->files[i]->name;
		in->sizes[i] = in->files[i]->size;
	}
}

static BOOLEAN plan_has_fault(const struct companion_plan *in, const char *marker)
{
	for (UINTN i = 0; i < in->n; i++)
		if (fault_hit(in->names[i], marker))
			return TRUE;
	return FALSE;
}

EFI_STATUS companion_file_read(const struct dir_listing *l, const struct sel_file *f, UINT8 *data, UINT64 size)
{
	CHAR16 name16[EXT_NAME_MAX + 1];
	EFI_STATUS err;

	listing_name16(f, name16);
	err = fault_hit(f->name, FAULT_READ) ? EFI_DEVICE_ERROR : esp_read_file(l->dir, name16, data, size);
	timing_lap(TIMING_DIR_READ);
	return err;
}

EFI_STATUS companion_file_measure_content(struct measurer *m, UINT32 pcr, const char *path, const struct sel_file *f,
					  const UINT8 *data, UINT64 size)
{
	CHAR16 desc[CPIO_PATH_MAX + 1];
	EFI_STATUS err;

	listing_ascii16(path, desc, CPIO_PATH_MAX + 1);
	err = f && fault_hit(f->name, FAULT_MEASURE) ? EFI_DEVICE_ERROR : measure_ipl(m, pcr, data, size, desc);
	timing_lap(TIMING_DIR_MEASURE);
	return err;
}

EFI_STATUS companion_file_measure(struct measurer *m, UINT32 pcr, const char *path, const struct sel_file *f,
				  const UINT8 *data, UINT64 size)
{
	CHAR16 desc[CPIO_PATH_MAX + 1];
	EFI_STATUS err;

	/* Event 1: the path inside the initrd with its NUL, as it stands in the archive. */
	listing_ascii16(path, desc, CPIO_PATH_MAX + 1);
	err = measure_ipl(m, pcr, path, cpio_strlen(path) + 1, desc);
	/* Event 2: the file's bytes, exactly those handed to Linux. */
	return EFI_ERROR(err) ? err : companion_file_measure_content(m, pcr, path, f, data, size);
}

EFI_STATUS companion_archive_plan(const struct dir_listing *l, const struct companion_target *t,
				  struct companion_plan *in, UINTN *ret_pages)
{
	EFI_STATUS err;

	for (;;) {
		plan_input_of(l->sel, t->kind, in);
		if (in->n == 0)
			return EFI_NOT_FOUND;
		if (sysext_archive_plan(&t->layout, in->names, in->sizes, in->n, &in->size) != MS_OK)
			return log_error_status(EFI_BAD_BUFFER_SIZE, L"%s: %a files skipped, archive too large",
						l->path, ext_kind_suffix(t->kind));
		*ret_pages = EFI_SIZE_TO_PAGES(in->size);
		if (plan_has_fault(in, FAULT_ALLOC))
			err = EFI_OUT_OF_RESOURCES;
		else
			err = mem_probe_pages(*ret_pages);
		if (!EFI_ERROR(err))
			return EFI_SUCCESS;
		log_warn(L"%s: cannot allocate %lu bytes for the %a files (%r)", l->path, in->size,
			 ext_kind_suffix(t->kind), err);
		(void)sel_dir_drop_largest(l->sel, t->kind);
	}
}

EFI_STATUS literal_archive(const char *name, const void *data, UINTN size, struct extra_archive *ret)
{
	EFI_PHYSICAL_ADDRESS addr = 0;
	UINT64 planned = 0, final = 0;
	UINTN pages;
	EFI_STATUS err;

	SetMem(ret, sizeof(*ret), 0);
	if (sysext_archive_literal_plan(name, size, &planned) != MS_OK)
		return log_error_status(EFI_BAD_BUFFER_SIZE, L"/.extra/%a: too large (%lu bytes)", name, (UINT64)size);
	pages = EFI_SIZE_TO_PAGES(planned);
	err = mem_alloc_pages(pages, &addr);
	if (EFI_ERROR(err))
		return log_error_status(err, L"/.extra/%a: cannot allocate %lu bytes", name, planned);
	if (sysext_archive_literal_fill((UINT8 *)(UINTN)addr, planned, name, data, size, &final) != MS_OK) {
		mem_free_pages(addr, pages);
		return log_error_status(EFI_LOAD_ERROR, L"/.extra/%a: internal error laying out the archive", name);
	}
	ret->buf = (UINT8 *)(UINTN)addr;
	ret->pages = pages;
	ret->size = final;
	ret->n_files = 1;
	return EFI_SUCCESS;
}

void extra_archive_free(struct extra_archive *a)
{
	if (a->buf)
		mem_free_pages((EFI_PHYSICAL_ADDRESS)(UINTN)a->buf, a->pages);
	extra_archive_forget(a);
}

void extra_archive_forget(struct extra_archive *a)
{
	SetMem(a, sizeof(*a), 0);
}
