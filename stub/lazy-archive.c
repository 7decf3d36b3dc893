/* SPDX-License-Identifier: MIT */
#include "lazy-archive.h"

#include <efilib.h>

#include "efi-lib/log.h"
#include "efi-lib/mem.h"
#include "efi-lib/timing.h"
#include "measure/extdir.h"
#include "measure/sysext-archive.h"
#include "measure/uki.h"

#include "companion-archive.h"
#include "pcr-vars.h"

/* A directory the archives of its kinds read from at fill time; the last archive to go closes it. */
struct lazy_dir {
	struct dir_listing listing; /* adopted: the directory and the selection plan.files point into */
	CHAR16 path[EXTDIR_IMAGE_PATH_MAX]; /* the directory's path (cut to fit), for messages */
	UINTN refs;
};

struct lazy_archive {
	struct lazy_dir *dir; /* refs 0: never given its directory (fills zeros, without a cpio entry) */
	const struct companion_target *t;
	struct measurer *m;
	BOOLEAN can_measure;
	struct companion_plan plan;
	UINTN n_measured, n_zeroed;
};

void lazy_archive_plan(const struct dir_listing *l, const struct companion_target *t, struct measurer *m,
		       BOOLEAN can_measure, struct lazy_archive **ret)
{
	struct lazy_archive *a;
	UINTN pages = 0;

	*ret = NULL;
	if (sel_dir_count(l->sel, t->kind) == 0)
		return;
	a = mem_alloc_zero(sizeof(*a));
	/* Allocated now, so that handing the directory over later cannot fail (lazy_archives_adopt). */
	if (a && !(a->dir = mem_alloc_zero(sizeof(*a->dir))))
		mem_free(a), a = NULL;
	if (!a) {
		log_error_status(EFI_OUT_OF_RESOURCES, L"%s: %a files skipped, cannot plan them", l->path,
				 ext_kind_suffix(t->kind));
		return;
	}
	a->t = t;
	a->m = m;
	a->can_measure = can_measure;
	if (EFI_ERROR(companion_archive_plan(l, t, &a->plan, &pages))) {
		lazy_archive_free(a);
		return;
	}
	log_info(L"%s: %u *%a file(s) planned, %lu bytes -> /%a, read and measured into PCR %u when the kernel "
		 L"takes the initrd", l->path, a->plan.n, ext_kind_suffix(t->kind), a->plan.size, t->layout.prefix,
		 t->pcr);
	*ret = a;
}

void lazy_archives_adopt(struct lazy_archive *const *archives, UINTN n, struct dir_listing *l)
{
	struct lazy_dir *d = NULL;
	UINTN len = StrLen(l->path);

	/* The first archive's directory becomes the shared one; the others give theirs up. */
	for (UINTN i = 0; i < n; i++) {
		if (!archives[i])
			continue;
		if (!d)
			d = archives[i]->dir;
		else
			mem_free(archives[i]->dir);
		archives[i]->dir = d;
		d->refs++;
	}
	if (!d)
		return;
	if (len >= EXTDIR_IMAGE_PATH_MAX)
		len = EXTDIR_IMAGE_PATH_MAX - 1;
	CopyMem(d->path, (void *)l->path, len * sizeof(CHAR16));
	d->path[len] = 0;
	d->listing = *l;
	d->listing.path = d->path;
	SetMem(l, sizeof(*l), 0);
}

/*
 * Hand over zeros in place of file @f: it could not be read whole, or its
 * measurement failed. Zeros are no extension (nothing accepts them as an
 * image) and their digest is no approved file's.
 */
static void zero_fill(struct lazy_archive *a, const struct sel_file *f, UINT8 *data, UINT64 size, EFI_STATUS why,
		      const CHAR16 *what)
{
	char shown[EXT_DISPLAY_MAX];

	mem_zero(data, size);
	a->n_zeroed++;
	log_error_status(why, L"%s\\%a: handed over zero-filled, %s", a->dir->path, listing_shown(f, shown), what);
}

/* sysext_fill_fn: read one file into its place in the kernel's buffer and measure it there. Always kept. */
static int fill_file(void *ctx, size_t index, const char *path, UINT8 *data, UINT64 size)
{
	struct lazy_archive *a = ctx;
	const struct sel_file *f = a->plan.files[index];
	EFI_STATUS err = companion_file_read(&a->dir->listing, f, data, size);
	BOOLEAN have_file = !EFI_ERROR(err);

	if (!have_file)
		zero_fill(a, f, data, size, err, L"cannot read it");
	if (!a->can_measure)
		return 1;
	err = companion_file_measure(a->m, a->t->pcr, path, have_file ? f : NULL, data, size);
	if (EFI_ERROR(err) && have_file) {
		/* Never hand over what should have been measured but was not: zeros, measured as what they are. */
		zero_fill(a, f, data, size, err, L"measuring it failed");
		err = companion_file_measure_content(a->m, a->t->pcr, path, NULL, data, size);
	}
	a->n_measured += !EFI_ERROR(err);
	return 1;
}

static void fill(void *ctx, UINT8 *dest)
{
	struct lazy_archive *a = ctx;
	const struct companion_target *t = a->t;
	UINT64 size = 0;
	size_t kept = 0;
	ms_status r;

	timing_dir(t->role == SEL_DIR_PER_UKI ? TIMING_DIR_PER_UKI : TIMING_DIR_GLOBAL);
	if (a->dir->refs == 0) {
		/* Never adopted: the plan's names went with the closed listing. No file, zeros only (no cpio entry). */
		log_error_status(EFI_NOT_READY, L"%a files: none handed over, their directory was not kept open",
				 ext_kind_suffix(t->kind));
		mem_zero(dest, a->plan.size);
		return;
	}
	r = sysext_archive_fill(dest, a->plan.size, &t->layout, a->plan.names, a->plan.sizes, a->plan.n, fill_file, a,
				&size, &kept);
	if (r != MS_OK || size != a->plan.size) {
		/* Cannot happen (the plan was made from the same names and sizes); zeros are no archive at all. */
		log_error_status(EFI_LOAD_ERROR, L"%s: internal error laying out the archive (%a): handed over zeros",
				 a->dir->path, ms_strerror(r));
		mem_zero(dest, a->plan.size);
	}
	log_info(L"%s: %u *%a file(s), %lu bytes -> /%a, %u measured into PCR %u, %u zero-filled", a->dir->path,
		 a->plan.n, ext_kind_suffix(t->kind), a->plan.size, t->layout.prefix, a->n_measured, t->pcr, a->n_zeroed);
	if (a->n_measured)
		export_pcr_variables(&(struct stub_measured){ .sysexts = t->pcr == PCR_SYSEXTS,
							       .kernel_parameters = t->pcr == PCR_KERNEL_PARAMETERS,
							       .confexts = t->kind == EXT_KIND_CONFEXT });
}

static void release(void *ctx)
{
	lazy_archive_free(ctx);
}

void lazy_archive_piece(struct lazy_archive *a, struct initrd_piece *ret)
{
	SetMem(ret, sizeof(*ret), 0);
	ret->slot = a->t->slot;
	ret->size = a->plan.size;
	ret->fill = fill;
	ret->release = release;
	ret->ctx = a;
}

void lazy_archive_free(struct lazy_archive *a)
{
	if (!a)
		return;
	if (a->dir && (a->dir->refs == 0 || --a->dir->refs == 0)) {
		listing_close(&a->dir->listing); /* zeroed if never adopted: nothing to close */
		mem_free(a->dir);
	}
	mem_free(a);
}
