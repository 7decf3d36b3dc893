/* SPDX-License-Identifier: MIT */
/*
 * addons.h - the PE addons for this UKI (*.addon.efi; measure/addon.h has
 * the rules): \loader\addons first, then the per-UKI directory, each in
 * name order as its listing kept them (stub/listing.c). Each addon is
 * loaded by the firmware (so verified under Secure Boot, never started),
 * inspected, and what it contributes is copied out before it is unloaded.
 * Then, in systemd-stub 262's order around the companion archives:
 *   addons_apply_cmdline      after the passed-in command line: one PCR 12 event;
 *   (the SMBIOS words: stub/smbios-words.c; SMBIOS into PCR 1)
 *   addons_apply_devicetrees  then: one tagged event each;
 *   addons_pieces             their initrd pieces, for the two addon slots: copied into the
 *                             kernel's buffer when it takes the initrd, after the companion
 *                             archives, and measured there (.ucode, last addon first, then
 *                             .initrd: one tagged event each; measure/initrd.h's fill order).
 * A command line or devicetree that fails to measure is dropped; an initrd
 * piece whose measurement fails at fill time, when the layout is fixed, is
 * handed over zero-filled and its zeros measured (as a companion file's:
 * stub/lazy-archive.h). Without a TPM everything applies unmeasured. Every
 * skipped addon gets one log line naming it.
 */
#ifndef STUB_ADDONS_H
#define STUB_ADDONS_H

#include <efi.h>

#include "efi-lib/devicetree.h"
#include "efi-lib/initrd-media.h"
#include "efi-lib/tcg2.h"
#include "measure/addon.h"
#include "measure/extensions.h"

#include "companions.h"

/* Addons kept at most: the count limit of each of the two directories. */
#define ADDON_SET_MAX (2 * EXT_ADDON_MAX_FILES)

/* One section an addon contributes, copied out of its image. */
struct addon_copy {
	UINT8 *buf;   /* NULL: none */
	UINTN pages;  /* pages from mem_alloc_pages(); 0: pool memory (.cmdline) */
	UINT64 size;
};

struct addon_set;
struct addon_entry;

/* What an initrd piece's fill needs: the part of an entry, and the set's measurer. */
struct addon_piece_ctx {
	struct addon_set *set;
	struct addon_entry *entry;
	enum addon_part part;
};

struct addon_entry {
	const CHAR16 *dir;           /* its directory, for messages at stub time (the listing's path) */
	char name[EXT_NAME_MAX + 1]; /* the file name: what its tagged events are described by */
	struct addon_copy parts[ADDON_PARTS];
	struct addon_piece_ctx pieces[ADDON_PARTS]; /* the fill contexts of its initrd pieces */
};

struct addon_set {
	UINTN n;
	struct addon_entry *entries; /* room for every addon the listings kept (pool memory), NULL: none */
	struct devicetree dt;
	BOOLEAN measured; /* an addon event went into PCR 12 at stub time */
	struct measurer *m; /* for the initrd pieces at fill time (set by addons_pieces) */
	BOOLEAN can_measure;
};

/*
 * Load the addons @dirs kept, as children of @image, from the volume of
 * @device, checking each .uname against the UKI's (@uname, @uname_size
 * bytes; NULL when the UKI has none).
 */
void addons_load(EFI_HANDLE image, EFI_HANDLE device, const struct companion_dirs *dirs, const void *uname,
		 UINTN uname_size, struct addon_set *set);

/* Join, measure and append the addons' .cmdline to *@cmdline (which may be NULL: none yet). */
void addons_apply_cmdline(struct addon_set *set, struct measurer *m, BOOLEAN can_measure, CHAR16 **cmdline);

/* Measure and install each addon's .dtb, in addon order (the last one installed stays). */
void addons_apply_devicetrees(struct addon_set *set, struct measurer *m, BOOLEAN can_measure);

/*
 * The initrd pieces of @slot (INITRD_SLOT_UCODE_ADDONS or
 * INITRD_SLOT_ADDON_INITRDS) into @out (room for @cap), in concatenation
 * order; returns how many. Each is filled, and measured with @m, when the
 * kernel takes the initrd; its release frees the copy. @set must outlive
 * the initrd media (a successful initrd_register() then releases them);
 * what was never registered is freed by addons_free().
 */
UINTN addons_pieces(struct addon_set *set, enum initrd_slot slot, struct measurer *m, BOOLEAN can_measure,
		    struct initrd_piece *out, UINTN cap);

/* Free what is still held and put the firmware's devicetree back (the kernel did not start). */
void addons_free(struct addon_set *set);

#endif
