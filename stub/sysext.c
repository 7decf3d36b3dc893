/* SPDX-License-Identifier: MIT */
/*
 * sysext.c - plan, then fill: take the directory's extensions as the
 * shared selection rule kept them (stub/listing.c, measure/selection.c),
 * size the archive exactly (measure/cpio counting pass),
 * allocate it once, then read each file straight into its place, measure
 * those very bytes, and keep or abandon the entry. No byte is copied after
 * it was measured; what is handed to Linux is what was measured.
 */
#include "sysext.h"

#include <efilib.h>

#include "efi-lib/esp.h"
#include "efi-lib/fault.h"
#include "efi-lib/log.h"
#include "efi-lib/mem.h"
#include "efi-lib/timing.h"
#include "measure/selection.h"
#include "measure/sysext-archive.h"

/* What fill_one needs to know besides the archive slot. */
struct fill_ctx {
	const struct dir_listing *l;
	const struct sel_file *const *files;
	struct measurer *m;
	BOOLEAN can_measure;
	UINTN n_measured;
};

static void ascii_to_16(const char *s, CHAR16 *out, UINTN cap)
{
	UINTN i = 0;

	for (; s[i] && i + 1 < cap; i++)
		out[i] = (CHAR16)(UINT8)s[i];
	out[i] = 0;
}

/* The files to pack, in measurement order: names and sizes as sysext_archive_plan() takes them. */
struct plan_input {
	const struct sel_file *files[EXT_MAX_FILES];
	const char *names[EXT_MAX_FILES];
	UINT64 sizes[EXT_MAX_FILES];
	UINTN n;
};

static void plan_input_of(const struct sel_dir *sel, struct plan_input *in)
{
	in->n = sel_dir_count(sel, EXT_KIND_SYSEXT);
	for (UINTN i = 0; i < in->n; i++) {
		in->files[i] = sel_dir_file(sel, EXT_KIND_SYSEXT, i);
		in->names[i] = in->files[i]->name;
		in->sizes[i] = in->files[i]->size;
	}
}

static BOOLEAN plan_has_fault(const struct plan_input *in, const char *marker)
{
	for (UINTN i = 0; i < in->n; i++)
		if (fault_hit(in->names[i], marker))
			return TRUE;
	return FALSE;
}

/* Read one file into its archive slot and measure it there; returns whether to keep it. */
static int fill_one(void *ctx_, size_t index, const char *path, UINT8 *data, UINT64 size)
{
	struct fill_ctx *ctx = ctx_;
	const char *name = ctx->files[index]->name;
	CHAR16 name16[EXT_NAME_MAX + 1], desc[CPIO_PATH_MAX + 1];
	EFI_STATUS err;

	listing_name16(ctx->files[index], name16);
	err = fault_hit(name, FAULT_READ) ? EFI_DEVICE_ERROR : esp_read_file(ctx->l->dir, name16, data, size);
	timing_lap(TIMING_DIR_READ);
	if (EFI_ERROR(err)) {
		log_error_status(err, L"%s\\%s: skipped, cannot read it", ctx->l->path, name16);
		return 0;
	}
	if (!ctx->can_measure)
		return 1;
	/* Event 1: the path inside the initrd with its NUL, as it stands in the archive. */
	ascii_to_16(path, desc, CPIO_PATH_MAX + 1);
	err = measure_ipl(ctx->m, SYSEXT_PCR, path, cpio_strlen(path) + 1, desc);
	/* Event 2: the file's bytes, exactly those handed to Linux. */
	if (!EFI_ERROR(err))
		err = fault_hit(name, FAULT_MEASURE) ? EFI_DEVICE_ERROR : measure_ipl(ctx->m, SYSEXT_PCR, data, size, desc);
	timing_lap(TIMING_DIR_MEASURE);
	if (EFI_ERROR(err)) {
		/* Never hand over what should have been measured but was not. */
		log_error_status(err, L"%s\\%s: not passed to the initrd, measuring it failed", ctx->l->path, name16);
		return 0;
	}
	ctx->n_measured++;
	return 1;
}

/*
 * Allocate the archive for the planned files; when memory is short, give
 * up the largest file (the selection reports it) and retry with the rest.
 * Returns with *in holding what the pages were planned for.
 */
static EFI_STATUS alloc_archive(const struct dir_listing *l, const char *prefix, struct plan_input *in,
				EFI_PHYSICAL_ADDRESS *ret_addr, UINTN *ret_pages, UINT64 *ret_planned)
{
	EFI_STATUS err;

	for (;;) {
		plan_input_of(l->sel, in);
		if (in->n == 0)
			return EFI_NOT_FOUND;
		if (sysext_archive_plan(prefix, in->names, in->sizes, in->n, ret_planned) != MS_OK)
			return log_error_status(EFI_BAD_BUFFER_SIZE, L"%s: extensions skipped, archive too large",
						l->path);
		*ret_pages = EFI_SIZE_TO_PAGES(*ret_planned);
		err = plan_has_fault(in, FAULT_ALLOC) ? EFI_OUT_OF_RESOURCES : mem_alloc_pages(*ret_pages, ret_addr);
		if (!EFI_ERROR(err))
			return EFI_SUCCESS;
		log_warn(L"%s: cannot allocate %lu bytes for the extensions (%r)", l->path, *ret_planned, err);
		(void)sel_dir_drop_largest(l->sel, EXT_KIND_SYSEXT);
	}
}

void sysext_collect(const struct dir_listing *l, const char *prefix, struct measurer *m, BOOLEAN can_measure,
		    struct sysext_archive *ret)
{
	struct plan_input *in;
	struct fill_ctx ctx = { .l = l, .m = m, .can_measure = can_measure };
	EFI_PHYSICAL_ADDRESS addr = 0;
	UINT64 planned = 0, size = 0;
	UINTN pages = 0;
	size_t kept = 0;
	ms_status r;

	SetMem(ret, sizeof(*ret), 0);
	if (sel_dir_count(l->sel, EXT_KIND_SYSEXT) == 0)
		return;
	in = mem_alloc_zero(sizeof(*in));
	if (!in) {
		log_error_status(EFI_OUT_OF_RESOURCES, L"%s: extensions skipped", l->path);
		return;
	}
	if (EFI_ERROR(alloc_archive(l, prefix, in, &addr, &pages, &planned)))
		goto out;

	ctx.files = in->files;
	r = sysext_archive_fill((UINT8 *)(UINTN)addr, planned, prefix, in->names, in->sizes, in->n, fill_one, &ctx,
				&size, &kept);
	if (r != MS_OK || kept == 0) {
		if (r != MS_OK)
			log_error_status(EFI_LOAD_ERROR, L"%s: internal error laying out the archive (%a)", l->path,
					 ms_strerror(r));
		mem_free_pages(addr, pages);
		goto out;
	}
	ret->buf = (UINT8 *)(UINTN)addr;
	ret->pages = pages;
	ret->size = size;
	ret->n_files = kept;
	ret->n_measured = ctx.n_measured;
	log_info(L"%s: %u extension(s), %lu bytes, %u measured into PCR %d", l->path, ret->n_files, ret->size,
		 ret->n_measured, SYSEXT_PCR);
out:
	mem_free(in);
}

void sysext_archive_free(struct sysext_archive *a)
{
	if (a->buf)
		mem_free_pages((EFI_PHYSICAL_ADDRESS)(UINTN)a->buf, a->pages);
	sysext_archive_forget(a);
}

void sysext_archive_forget(struct sysext_archive *a)
{
	SetMem(a, sizeof(*a), 0);
}
