/* SPDX-License-Identifier: MIT */
/*
 * companion-archive.h - plan the newc cpio of the files of one kind that a
 * directory listing kept (system extensions, configuration extensions,
 * credentials), read and measure one file at its place in it, each into
 * its kind's PCR (docs/MEASUREMENTS.md; stub/lazy-archive.h does it at
 * fill time); and the literal archives, which are not measured.
 */
#ifndef STUB_COMPANION_ARCHIVE_H
#define STUB_COMPANION_ARCHIVE_H

#include <efi.h>

#include "efi-lib/tcg2.h"
#include "measure/companion.h"

#include "listing.h"

struct extra_archive {
	UINT8 *buf;        /* pages holding the archive, NULL if nothing was collected */
	UINTN pages;       /* allocation size, for FreePages */
	UINT64 size;       /* archive bytes */
	UINTN n_files;     /* files in the archive */
};

/* The most files any archived kind keeps per directory. */
#define COMPANION_PLAN_FILES_MAX (EXT_MAX_FILES > EXT_CREDENTIAL_MAX_FILES ? EXT_MAX_FILES : EXT_CREDENTIAL_MAX_FILES)

/* The files of one archive, in measurement order: names and sizes as sysext_archive_plan() takes them. */
struct companion_plan {
	const struct sel_file *files[COMPANION_PLAN_FILES_MAX]; /* in the listing's selection */
	const char *names[COMPANION_PLAN_FILES_MAX];
	UINT64 sizes[COMPANION_PLAN_FILES_MAX];
	UINTN n;
	UINT64 size; /* the archive's exact size */
};

/*
 * Plan the archive of the files of @t's kind that @l kept, and make sure
 * a buffer that large can be had (mem_probe_pages: the kernel allocates
 * it when it takes the initrd). While it cannot, the largest file is
 * given up (the selection reports it) and the rest planned again.
 * EFI_NOT_FOUND when nothing is left; other errors are logged.
 */
EFI_STATUS companion_archive_plan(const struct dir_listing *l, const struct companion_target *t,
				  struct companion_plan *in, UINTN *ret_pages);

/* Read kept file @f of @l into @data, exactly @size bytes (esp_read_file's rules). */
EFI_STATUS companion_file_read(const struct dir_listing *l, const struct sel_file *f, UINT8 *data, UINT64 size);

/*
 * Measure a file at its place in an archive into @pcr: its @path there
 * (with the NUL), then the @size bytes at @data. @f (NULL: none) names the
 * file for fault injection.
 */
EFI_STATUS companion_file_measure(struct measurer *m, UINT32 pcr, const char *path, const struct sel_file *f,
				  const UINT8 *data, UINT64 size);
/* Event 2 alone: the @size bytes at @data, described by @path. */
EFI_STATUS companion_file_measure_content(struct measurer *m, UINT32 pcr, const char *path, const struct sel_file *f,
					  const UINT8 *data, UINT64 size);

/* A cpio holding INITRD_EXTRA_PREFIX/@name (0444) with @size bytes of @data: not measured. */
EFI_STATUS literal_archive(const char *name, const void *data, UINTN size, struct extra_archive *ret);

void extra_archive_free(struct extra_archive *a);
/* Drop the reference without freeing: the pages now belong to someone else (the initrd media). */
void extra_archive_forget(struct extra_archive *a);

#endif
