/* SPDX-License-Identifier: MIT */
/*
 * sysext.c - plan, then fill: list and order the directory (measure/
 * extensions), size the archive exactly (measure/cpio counting pass),
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
#include "measure/extensions.h"
#include "measure/sysext-archive.h"

struct entry {
	char name[EXT_NAME_MAX + 1];
	UINT64 size;
};

struct listing {
	struct entry *entries; /* EXT_MAX_FILES + 1 of them: one for the newcomer */
	const char *order[EXT_MAX_FILES]; /* names, always in measurement order */
	UINT64 sizes[EXT_MAX_FILES];      /* sizes in that order, once final */
	UINTN n;
};

/* What fill_one needs to know besides the archive slot. */
struct fill_ctx {
	EFI_FILE_HANDLE dir;
	const CHAR16 *dir_path;
	const char *const *names;
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

/* The entry a sorted name belongs to (names point into their entries). */
static struct entry *entry_of(const char *name)
{
	return (struct entry *)(UINTN)(name - __builtin_offsetof(struct entry, name));
}

/*
 * Read the directory and keep what the pickup rule picks. The limits are
 * applied in measurement order, not directory order, so which files a limit
 * drops does not depend on the file system (and the host predicts it).
 */
static EFI_STATUS list_dir(EFI_FILE_HANDLE dir, const CHAR16 *dir_path, struct listing *l)
{
	EFI_FILE_INFO *info = NULL;
	UINTN info_size = 0, kept = 0, used = 1, dir_len = StrLen(dir_path);
	BOOLEAN done = FALSE;
	UINT64 total = 0;
	/* The slot the next pick goes into: a fresh one until the list is full, then whichever fell out. */
	struct entry *next = &l->entries[0];
	EFI_STATUS err;

	for (;;) {
		const char *dropped;
		enum ext_verdict v;
		UINTN len;

		err = esp_next_entry(dir, &info, &info_size, &done);
		if (EFI_ERROR(err)) {
			log_error_status(err, L"%s: cannot read the directory", dir_path);
			break;
		}
		if (done)
			break;
		len = StrLen(info->FileName);
		if (StrCmp(info->FileName, L".") == 0 || StrCmp(info->FileName, L"..") == 0)
			continue;
		/* Names the firmware would refuse to open are skipped here, so no limit or archive counts them. */
		v = ext_classify(info->FileName, len, (info->Attribute & EFI_FILE_DIRECTORY) != 0, dir_len);
		if (v != EXT_PICK) {
			/* Signature files are picked up by stub/signatures.c. */
			if (ext_classify_signature(info->FileName, len, (info->Attribute & EFI_FILE_DIRECTORY) != 0,
						   dir_len) != EXT_PICK)
				log_info(L"%s\\%s: skipped, %a", dir_path, info->FileName, ext_verdict_reason(v));
			continue;
		}
		if (info->FileSize > EXT_FILE_SIZE_MAX) {
			log_warn(L"%s\\%s: skipped, 4 GiB or larger (%lu bytes)", dir_path, info->FileName,
				 info->FileSize);
			continue;
		}
		(void)ext_name_to_ascii(info->FileName, len, next->name, sizeof(next->name));
		next->size = info->FileSize;
		dropped = ext_sorted_insert(l->order, &l->n, EXT_MAX_FILES, next->name);
		if (dropped) {
			log_warn(L"%s\\%a: skipped, more than %d extensions (the first %d by name are used)", dir_path,
				 dropped, EXT_MAX_FILES, EXT_MAX_FILES);
			next = entry_of(dropped);
		} else {
			next = &l->entries[used++]; /* used <= n + 1 <= EXT_MAX_FILES + 1 slots */
		}
	}
	mem_free(info);

	for (UINTN i = 0; i < l->n; i++) {
		UINT64 size = entry_of(l->order[i])->size;

		if (!ext_fits_total(&total, size)) {
			log_warn(L"%s\\%a: skipped, extensions would exceed %lu bytes in total", dir_path, l->order[i],
				 EXT_TOTAL_SIZE_MAX);
			continue;
		}
		l->order[kept] = l->order[i];
		l->sizes[kept++] = size;
	}
	l->n = kept;
	return err;
}

/* Remove the largest file (the last of equals) from the listing; returns its name. */
static const char *drop_largest(struct listing *l)
{
	UINTN k = 0;
	const char *name;

	for (UINTN i = 1; i < l->n; i++)
		if (l->sizes[i] >= l->sizes[k])
			k = i;
	name = l->order[k];
	for (UINTN i = k; i + 1 < l->n; i++) {
		l->order[i] = l->order[i + 1];
		l->sizes[i] = l->sizes[i + 1];
	}
	l->n--;
	return name;
}

static BOOLEAN listing_has_fault(const struct listing *l, const char *marker)
{
	for (UINTN i = 0; i < l->n; i++)
		if (fault_hit(l->order[i], marker))
			return TRUE;
	return FALSE;
}

/* Read one file into its archive slot and measure it there; returns whether to keep it. */
static int fill_one(void *ctx_, size_t index, const char *path, UINT8 *data, UINT64 size)
{
	struct fill_ctx *ctx = ctx_;
	const char *name = ctx->names[index];
	CHAR16 name16[EXT_NAME_MAX + 1], desc[CPIO_PATH_MAX + 1];
	EFI_STATUS err;

	ascii_to_16(name, name16, EXT_NAME_MAX + 1);
	err = fault_hit(name, FAULT_READ) ? EFI_DEVICE_ERROR : esp_read_file(ctx->dir, name16, data, size);
	timing_lap(TIMING_DIR_READ);
	if (EFI_ERROR(err)) {
		log_error_status(err, L"%s\\%s: skipped, cannot read it", ctx->dir_path, name16);
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
		log_error_status(err, L"%s\\%s: not passed to the initrd, measuring it failed", ctx->dir_path, name16);
		return 0;
	}
	ctx->n_measured++;
	return 1;
}

void sysext_collect(EFI_FILE_HANDLE root, const CHAR16 *dir_path, const char *prefix, struct measurer *m,
		    BOOLEAN can_measure, struct sysext_archive *ret)
{
	struct listing l = { 0 };
	struct fill_ctx ctx = { .dir_path = dir_path, .names = l.order, .m = m, .can_measure = can_measure };
	EFI_FILE_HANDLE dir = NULL;
	EFI_PHYSICAL_ADDRESS addr = 0;
	UINT64 planned = 0, size = 0;
	UINTN pages = 0;
	size_t kept = 0;
	EFI_STATUS err;
	ms_status r;

	SetMem(ret, sizeof(*ret), 0);
	err = esp_open_dir(root, dir_path, &dir);
	if (err == EFI_NOT_FOUND)
		return; /* no directory, no extensions: not an error */
	if (EFI_ERROR(err)) {
		log_error_status(err, L"%s: cannot open as a directory", dir_path);
		return;
	}
	l.entries = mem_alloc_zero((EXT_MAX_FILES + 1) * sizeof(struct entry));
	if (!l.entries) {
		log_error_status(EFI_OUT_OF_RESOURCES, L"%s: extensions skipped", dir_path);
		goto out;
	}
	(void)list_dir(dir, dir_path, &l);
	timing_lap(TIMING_DIR_LIST);
	if (l.n == 0)
		goto out;

	for (;;) {
		if (sysext_archive_plan(prefix, l.order, l.sizes, l.n, &planned) != MS_OK) {
			log_error_status(EFI_BAD_BUFFER_SIZE, L"%s: extensions skipped, archive too large", dir_path);
			goto out;
		}
		pages = EFI_SIZE_TO_PAGES(planned);
		err = listing_has_fault(&l, FAULT_ALLOC) ? EFI_OUT_OF_RESOURCES
							 : mem_alloc_pages(pages, &addr);
		if (!EFI_ERROR(err))
			break;
		/* Not enough memory for all: give up the largest file, keep the rest. */
		log_warn(L"%s\\%a: skipped, not enough memory for %lu bytes of extensions (%r)", dir_path,
			 drop_largest(&l), planned, err);
		if (l.n == 0)
			goto out;
	}

	ctx.dir = dir;
	r = sysext_archive_fill((UINT8 *)(UINTN)addr, planned, prefix, l.order, l.sizes, l.n, fill_one, &ctx, &size,
				&kept);
	if (r != MS_OK || kept == 0) {
		if (r != MS_OK)
			log_error_status(EFI_LOAD_ERROR, L"%s: internal error laying out the archive (%a)", dir_path,
					 ms_strerror(r));
		mem_free_pages(addr, pages);
		goto out;
	}
	ret->buf = (UINT8 *)(UINTN)addr;
	ret->pages = pages;
	ret->size = size;
	ret->n_files = kept;
	ret->n_measured = ctx.n_measured;
	log_info(L"%s: %u extension(s), %lu bytes, %u measured into PCR %d", dir_path, ret->n_files, ret->size,
		 ret->n_measured, SYSEXT_PCR);
out:
	mem_free(l.entries);
	esp_close(dir);
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
