/* SPDX-License-Identifier: MIT */
#include "listing.h"

#include <efilib.h>

#include "efi-lib/esp.h"
#include "efi-lib/log.h"
#include "efi-lib/mem.h"

/* A companion file dropped is worth a warning; anything else in the directory, a note. */
static void log_skip(void *ctx, const struct sel_skip *s)
{
	const CHAR16 *path = ctx;

	if (s->kind == EXT_KIND_NONE)
		log_info(L"%s\\%a: skipped, %a", path, s->name, s->reason);
	else
		log_warn(L"%s\\%a: skipped, %a", path, s->name, s->reason);
}

/* Room for every kind in @kinds, with sel itself first. */
static EFI_STATUS alloc_selection(unsigned kinds, struct dir_listing *l, struct sel_storage storage[EXT_KINDS])
{
	UINTN size = sizeof(struct sel_dir);
	UINT8 *p;

	for (int k = 0; k < EXT_KINDS; k++) {
		UINTN cap = (kinds & EXT_KIND_BIT(k)) ? sel_capacity(k, 1, 0) : 0;

		storage[k].cap = cap;
		size += cap ? (cap + 1) * sizeof(struct sel_file) + cap * sizeof(struct sel_file *) : 0;
	}
	p = l->storage = mem_alloc_zero(size);
	if (!p)
		return EFI_OUT_OF_RESOURCES;
	l->sel = (struct sel_dir *)p;
	p += sizeof(struct sel_dir);
	for (int k = 0; k < EXT_KINDS; k++) {
		if (!storage[k].cap)
			continue;
		storage[k].order = (struct sel_file **)p; /* pointers first: sel_file needs no more alignment */
		p += storage[k].cap * sizeof(struct sel_file *);
		storage[k].slots = (struct sel_file *)p;
		p += (storage[k].cap + 1) * sizeof(struct sel_file);
	}
	return EFI_SUCCESS;
}

/* Offer every entry of the directory; a read error ends the listing with what was read. */
static void offer_entries(struct dir_listing *l)
{
	EFI_FILE_INFO *info = NULL;
	UINTN info_size = 0, seen = 0;
	BOOLEAN done = FALSE;
	EFI_STATUS err;

	for (;;) {
		err = esp_next_entry(l->dir, &info, &info_size, &done);
		if (EFI_ERROR(err)) {
			log_error_status(err, L"%s: cannot read the directory (the rest of it is skipped)", l->path);
			break;
		}
		if (done)
			break;
		if (++seen > LISTING_ENTRIES_MAX) {
			log_warn(L"%s: more than %u entries: the rest is skipped", l->path, LISTING_ENTRIES_MAX);
			break;
		}
		if (StrCmp(info->FileName, L".") == 0 || StrCmp(info->FileName, L"..") == 0)
			continue;
		(void)sel_dir_offer(l->sel, info->FileName, StrLen(info->FileName), info->FileSize,
				    (info->Attribute & EFI_FILE_DIRECTORY) != 0, 0);
	}
	mem_free(info);
	sel_dir_finish(l->sel);
}

EFI_STATUS listing_open(EFI_FILE_HANDLE root, const CHAR16 *path, unsigned kinds, struct dir_listing *ret)
{
	struct sel_storage storage[EXT_KINDS] = { 0 };
	EFI_STATUS err;

	SetMem(ret, sizeof(*ret), 0);
	ret->path = path;
	err = esp_open_dir(root, path, &ret->dir);
	if (err == EFI_NOT_FOUND)
		return err; /* no directory, nothing to take: not an error */
	if (EFI_ERROR(err))
		return log_error_status(err, L"%s: cannot open as a directory", path);
	err = alloc_selection(kinds, ret, storage);
	/* The path's length decides which names the FAT driver opens (EXT_FAT_PATH_MAX). */
	if (!EFI_ERROR(err) && sel_dir_init(ret->sel, StrLen(path), EXT_RULE_SYSEXT_STUB, kinds, 1, storage, log_skip,
					    (void *)path) != MS_OK)
		err = EFI_LOAD_ERROR;
	if (EFI_ERROR(err)) {
		log_error_status(err, L"%s: skipped", path);
		listing_close(ret);
		return err;
	}
	offer_entries(ret);
	return EFI_SUCCESS;
}

void listing_close(struct dir_listing *l)
{
	esp_close(l->dir);
	mem_free(l->storage);
	SetMem(l, sizeof(*l), 0);
}

void listing_ascii16(const char *s, CHAR16 *out, UINTN cap)
{
	UINTN i = 0;

	for (; s[i] && i + 1 < cap; i++)
		out[i] = (CHAR16)(UINT8)s[i];
	out[i] = 0;
}

void listing_name16(const struct sel_file *f, CHAR16 out[EXT_NAME_MAX + 1])
{
	listing_ascii16(f->name, out, EXT_NAME_MAX + 1);
}

const char *listing_shown(const struct sel_file *f, char out[EXT_DISPLAY_MAX])
{
	ext_display_name8(f->name, out);
	return out;
}
