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
#include "efi-lib/log.h"
#include "efi-lib/mem.h"
#include "measure/cpio.h"
#include "measure/extensions.h"

#define SYSEXT_FILE_MODE 0444
#define SYSEXT_DIR_MODE 0555

struct entry {
	char name[EXT_NAME_MAX + 1];
	UINT64 size;
};

struct listing {
	struct entry *entries; /* EXT_MAX_FILES of them */
	const char *order[EXT_MAX_FILES];
	UINTN n;
	UINT64 total;
};

static void ascii_to_16(const char *s, CHAR16 *out, UINTN cap)
{
	UINTN i = 0;

	for (; s[i] && i + 1 < cap; i++)
		out[i] = (CHAR16)(UINT8)s[i];
	out[i] = 0;
}

/* Read the directory, keep what the pickup rule picks, within the limits. */
static EFI_STATUS list_dir(EFI_FILE_HANDLE dir, const CHAR16 *dir_path, struct listing *l)
{
	EFI_FILE_INFO *info = NULL;
	UINTN info_size = 0;
	BOOLEAN done = FALSE;
	EFI_STATUS err;

	for (;;) {
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
		v = ext_classify(info->FileName, len, (info->Attribute & EFI_FILE_DIRECTORY) != 0);
		if (v != EXT_PICK) {
			log_info(L"%s\\%s: skipped, %a", dir_path, info->FileName, ext_verdict_reason(v));
			continue;
		}
		if (info->FileSize > EXT_FILE_SIZE_MAX) {
			log_warn(L"%s\\%s: skipped, 4 GiB or larger (%lu bytes)", dir_path, info->FileName,
				 info->FileSize);
			continue;
		}
		if (l->n >= EXT_MAX_FILES) {
			log_warn(L"%s\\%s: skipped, more than %d extensions", dir_path, info->FileName, EXT_MAX_FILES);
			continue;
		}
		if (info->FileSize > EXT_TOTAL_SIZE_MAX - l->total) {
			log_warn(L"%s\\%s: skipped, extensions would exceed %lu bytes in total", dir_path,
				 info->FileName, EXT_TOTAL_SIZE_MAX);
			continue;
		}
		(void)ext_name_to_ascii(info->FileName, len, l->entries[l->n].name, sizeof(l->entries[l->n].name));
		l->entries[l->n].size = info->FileSize;
		l->order[l->n] = l->entries[l->n].name;
		l->total += info->FileSize;
		l->n++;
	}
	mem_free(info);
	return err;
}

/* The entry a sorted name belongs to (names point into their entries). */
static const struct entry *entry_of(const char *name)
{
	return (const struct entry *)(name - __builtin_offsetof(struct entry, name));
}

/* Exact archive size if every file makes it in (counting pass of the writer). */
static ms_status plan_size(const struct listing *l, const char *prefix, UINT64 *ret)
{
	struct cpio_writer w;
	ms_status r;

	cpio_writer_init(&w, NULL, 0);
	r = cpio_write_dirs(&w, prefix, SYSEXT_DIR_MODE);
	for (UINTN i = 0; r == MS_OK && i < l->n; i++) {
		r = cpio_begin_file(&w, prefix, l->order[i], entry_of(l->order[i])->size, SYSEXT_FILE_MODE, NULL, NULL);
		if (r == MS_OK)
			r = cpio_end_file(&w, 1);
	}
	if (r == MS_OK)
		r = cpio_write_trailer(&w);
	*ret = w.pos;
	return r;
}

/* Read one file into place and measure it; returns whether to keep it. */
static BOOLEAN fill_one(EFI_FILE_HANDLE dir, const CHAR16 *dir_path, const char *name, UINT64 size, UINT8 *path,
			UINT8 *data, struct measurer *m, BOOLEAN can_measure, UINTN *n_measured)
{
	CHAR16 name16[EXT_NAME_MAX + 1], desc[CPIO_PATH_MAX + 1];
	EFI_STATUS err;

	ascii_to_16(name, name16, EXT_NAME_MAX + 1);
	err = esp_read_file(dir, name16, data, size);
	if (EFI_ERROR(err)) {
		log_error_status(err, L"%s\\%s: skipped, cannot read it", dir_path, name16);
		return FALSE;
	}
	if (!can_measure)
		return TRUE;
	/* Event 1: the path inside the initrd with its NUL, as it stands in the archive. */
	ascii_to_16((const char *)path, desc, CPIO_PATH_MAX + 1);
	err = measure_ipl(m, SYSEXT_PCR, path, cpio_strlen((const char *)path) + 1, desc);
	/* Event 2: the file's bytes, exactly those handed to Linux. */
	if (!EFI_ERROR(err))
		err = measure_ipl(m, SYSEXT_PCR, data, size, desc);
	if (EFI_ERROR(err)) {
		/* Never hand over what should have been measured but was not. */
		log_error_status(err, L"%s\\%s: not passed to the initrd, measuring it failed", dir_path, name16);
		return FALSE;
	}
	(*n_measured)++;
	return TRUE;
}

void sysext_collect(EFI_FILE_HANDLE root, const CHAR16 *dir_path, const char *prefix, struct measurer *m,
		    BOOLEAN can_measure, struct sysext_archive *ret)
{
	struct listing l = { 0 };
	struct cpio_writer w;
	EFI_FILE_HANDLE dir = NULL;
	EFI_PHYSICAL_ADDRESS addr = 0;
	UINT64 planned = 0;
	UINTN pages = 0;
	EFI_STATUS err;

	SetMem(ret, sizeof(*ret), 0);
	err = esp_open_dir(root, dir_path, &dir);
	if (err == EFI_NOT_FOUND)
		return; /* no directory, no extensions: not an error */
	if (EFI_ERROR(err)) {
		log_error_status(err, L"%s: cannot open as a directory", dir_path);
		return;
	}
	l.entries = mem_alloc_zero(EXT_MAX_FILES * sizeof(struct entry));
	if (!l.entries) {
		log_error_status(EFI_OUT_OF_RESOURCES, L"%s: extensions skipped", dir_path);
		goto out;
	}
	(void)list_dir(dir, dir_path, &l);
	if (l.n == 0)
		goto out;
	ext_sort_names(l.order, l.n);

	if (plan_size(&l, prefix, &planned) != MS_OK) {
		log_error_status(EFI_BAD_BUFFER_SIZE, L"%s: extensions skipped, archive too large", dir_path);
		goto out;
	}
	pages = EFI_SIZE_TO_PAGES(planned);
	err = BS->AllocatePages(AllocateAnyPages, EfiLoaderData, pages, &addr);
	if (EFI_ERROR(err)) {
		log_error_status(err, L"%s: extensions skipped, cannot allocate %lu bytes", dir_path, planned);
		goto out;
	}

	cpio_writer_init(&w, (UINT8 *)(UINTN)addr, planned);
	if (cpio_write_dirs(&w, prefix, SYSEXT_DIR_MODE) != MS_OK)
		goto fail;
	for (UINTN i = 0; i < l.n; i++) {
		UINT64 size = entry_of(l.order[i])->size, path_at, data_at;
		BOOLEAN keep;

		if (cpio_begin_file(&w, prefix, l.order[i], size, SYSEXT_FILE_MODE, &path_at, &data_at) != MS_OK)
			goto fail;
		keep = fill_one(dir, dir_path, l.order[i], size, w.buf + path_at, w.buf + data_at, m, can_measure,
				&ret->n_measured);
		if (cpio_end_file(&w, keep) != MS_OK)
			goto fail;
		ret->n_files += keep;
	}
	if (ret->n_files == 0 || cpio_write_trailer(&w) != MS_OK)
		goto fail;
	ret->buf = w.buf;
	ret->pages = pages;
	ret->size = w.pos;
	log_info(L"%s: %u extension(s), %lu bytes, %u measured into PCR %d", dir_path, ret->n_files, ret->size,
		 ret->n_measured, SYSEXT_PCR);
	goto out;
fail:
	if (ret->n_files)
		log_error_status(EFI_LOAD_ERROR, L"%s: internal error laying out the archive", dir_path);
	BS->FreePages(addr, pages);
	ret->n_files = 0;
	ret->n_measured = 0;
out:
	mem_free(l.entries);
	esp_close(dir);
}

void sysext_archive_free(struct sysext_archive *a)
{
	if (a->buf)
		BS->FreePages((EFI_PHYSICAL_ADDRESS)(UINTN)a->buf, a->pages);
	SetMem(a, sizeof(*a), 0);
}
