/* SPDX-License-Identifier: MIT */
/*
 * listing.h - list one ESP directory through the shared selection rule
 * (measure/selection.h): every entry is offered as the firmware returns
 * it, every entry not taken gets one log line, and what is left are the
 * companion files of each kind, in measurement order, within their limits.
 * The directory stays open for the readers that follow (sysext.c,
 * signatures.c).
 */
#ifndef STUB_LISTING_H
#define STUB_LISTING_H

#include <efi.h>

#include "measure/selection.h"

/* A FAT directory holds at most 65536 entries; a driver that returns more is not listed further. */
#define LISTING_ENTRIES_MAX 65536

struct dir_listing {
	EFI_FILE_HANDLE dir;
	const CHAR16 *path;   /* from the volume root, e.g. L"\\loader\\extensions" */
	struct sel_dir *sel;  /* the kinds taken, final */
	void *storage;        /* one allocation holding sel and every kind's slots */
};

/*
 * Open @path below @root and select the files of @kinds (EXT_KIND_BIT
 * mask) from it. EFI_NOT_FOUND when there is no such directory (not
 * logged: absence is normal); any other error is logged. On success the
 * caller reads the files through ret->dir and calls listing_close().
 */
EFI_STATUS listing_open(EFI_FILE_HANDLE root, const CHAR16 *path, unsigned kinds, struct dir_listing *ret);

/* Close the directory and free the selection; safe on a zeroed listing. */
void listing_close(struct dir_listing *l);

/* ASCII @s as UTF-16 in @out of @cap units, cut to fit, NUL-terminated. */
void listing_ascii16(const char *s, CHAR16 *out, UINTN cap);

/* A kept file's name as UTF-16 (for Open), in @out of EXT_NAME_MAX + 1 units. */
void listing_name16(const struct sel_file *f, CHAR16 out[EXT_NAME_MAX + 1]);

/* A kept file's name made safe for the console (ext_display_name8: no control character gets out). */
const char *listing_shown(const struct sel_file *f, char out[EXT_DISPLAY_MAX]);

#endif
