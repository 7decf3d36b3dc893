/* SPDX-License-Identifier: MIT */
/*
 * sysext.h - collect the system extensions of one ESP directory into a newc
 * cpio, measuring each file into PCR 13 (docs/MEASUREMENTS.md).
 */
#ifndef STUB_SYSEXT_H
#define STUB_SYSEXT_H

#include <efi.h>

#include "efi-lib/tcg2.h"

#include "listing.h"

#include "measure/uki.h"

#define SYSEXT_PCR PCR_SYSEXTS

struct sysext_archive {
	UINT8 *buf;        /* pages holding the archive, NULL if nothing was collected */
	UINTN pages;       /* allocation size, for FreePages */
	UINT64 size;       /* archive bytes */
	UINTN n_files;     /* files in the archive */
	UINTN n_measured;  /* files measured into PCR 13 */
};

/*
 * Pack the extensions @l selected into an archive under @cpio_prefix
 * (".extra/sysext" or ".extra/global_sysext"). With @m able to measure,
 * each file is measured (path event, then content event) and a file whose
 * measurement fails is left out. Never fails the boot: problems are logged
 * and the archive holds what could be read (and measured).
 */
void sysext_collect(const struct dir_listing *l, const char *cpio_prefix, struct measurer *m, BOOLEAN can_measure,
		    struct sysext_archive *ret);

void sysext_archive_free(struct sysext_archive *a);
/* Drop the reference without freeing: the pages now belong to someone else (the initrd media). */
void sysext_archive_forget(struct sysext_archive *a);

#endif
