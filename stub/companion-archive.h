/* SPDX-License-Identifier: MIT */
/*
 * companion-archive.h - pack the files of one kind that a directory listing
 * kept (system extensions, configuration extensions, credentials) into a
 * newc cpio, measuring each file into its kind's PCR (docs/MEASUREMENTS.md).
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
	UINTN n_measured;  /* files measured */
};

/*
 * Pack the files of @t's kind that @l kept into an archive laid out as @t
 * says. With @m able to measure, each file is measured into @t's PCR (path
 * event, then content event) and a file whose measurement fails is left
 * out. Never fails the boot: problems are logged and the archive holds
 * what could be read (and measured).
 */
void companion_archive_collect(const struct dir_listing *l, const struct companion_target *t, struct measurer *m,
			       BOOLEAN can_measure, struct extra_archive *ret);

/* A cpio holding INITRD_EXTRA_PREFIX/@name (0444) with @size bytes of @data: not measured. */
EFI_STATUS literal_archive(const char *name, const void *data, UINTN size, struct extra_archive *ret);

void extra_archive_free(struct extra_archive *a);
/* Drop the reference without freeing: the pages now belong to someone else (the initrd media). */
void extra_archive_forget(struct extra_archive *a);

#endif
