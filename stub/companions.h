/* SPDX-License-Identifier: MIT */
/*
 * companions.h - every companion file for this UKI on the volume it was
 * loaded from: the per-UKI <uki>.efi.extra.d and the global
 * \loader\extensions, \loader\credentials and \loader\addons, each listed
 * once through the shared selection rule (measure/selection.h). The
 * archives are planned in initrd slot order (measure/companion.h:
 * credentials, system extensions, configuration extensions, per-UKI before
 * global) and read and measured in that order when the kernel takes the
 * initrd; the signature files of the extension directories are merged at
 * once (stub/signatures.c).
 */
#ifndef STUB_COMPANIONS_H
#define STUB_COMPANIONS_H

#include <efi.h>

#include "efi-lib/tcg2.h"
#include "measure/initrd.h"

#include "companion-archive.h"
#include "lazy-archive.h"
#include "listing.h"

/* The directories, by role (measure/selection.h), with what was kept from each; closed ones are zeroed. */
struct companion_dirs {
	struct dir_listing dirs[SEL_DIR_GLOBAL_ADDONS + 1];
	CHAR16 *extra_dir; /* the per-UKI directory's path (pool memory): dirs[SEL_DIR_PER_UKI].path */
};

/*
 * Open the volume of @device and list every directory (the per-UKI one only
 * when @image_path is known). Absence is not an error; nothing is measured
 * yet. The listings' paths (which the addons name in messages) stay valid
 * until companion_dirs_close().
 */
void companion_dirs_open(EFI_HANDLE device, const CHAR16 *image_path, struct companion_dirs *ret);
void companion_dirs_close(struct companion_dirs *d);

/*
 * Plan the archives into @lazy (indexed by initrd slot; their files are
 * read and measured when the kernel takes the initrd, stub/lazy-archive.h),
 * and build the signature archive (INITRD_SLOT_PCRSIG in @archives) from
 * @pcrsig merged with the signature files.
 */
void companions_pack(const struct companion_dirs *d, struct measurer *m, BOOLEAN can_measure, const void *pcrsig,
		     UINTN pcrsig_size, struct extra_archive archives[INITRD_SLOTS],
		     struct lazy_archive *lazy[INITRD_SLOTS]);

/*
 * Give the lazy archives in @lazy the directories they read from (every
 * reader at stub time is done with them; the archives of one directory
 * share it), then close the rest.
 */
void companion_dirs_hand_over(struct companion_dirs *d, struct lazy_archive *lazy[INITRD_SLOTS]);

#endif
