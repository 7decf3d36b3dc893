/* SPDX-License-Identifier: MIT */
/*
 * initrd.h - how the pieces of the initrd handed to Linux are concatenated.
 *
 * The stub passes the embedded .initrd followed by the generated cpio
 * archives. Each piece but the last is padded with zero bytes to a multiple
 * of 4, so every following cpio starts 4-aligned as newc requires; the last
 * is not padded (a lone .initrd is passed byte for byte, as systemd-stub
 * does). The cpio archives we generate are multiples of 4 already, so this
 * equals "every piece padded to 4" whenever a cpio is last.
 * Linux measures exactly these bytes into PCR 9, so the host predictor uses
 * this same module.
 */
#ifndef MEASURE_INITRD_H
#define MEASURE_INITRD_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

/*
 * The kinds of piece, in the order they are concatenated: systemd-stub
 * v262's order (reference §3.3) for the kinds we hand over. Microcode comes
 * first because the kernel only scans leading uncompressed cpios for it;
 * otherwise a later archive wins over an earlier one on equal paths. The
 * stub and the host tools both lay the initrd out by this enum. The two
 * addon slots hold several pieces each, one per addon (measure/addon.h):
 * ucode addons in reverse addon order, initrd addons in addon order.
 */
enum initrd_slot {
	INITRD_SLOT_UCODE_ADDONS,       /* addons' .ucode sections, last addon first */
	INITRD_SLOT_UCODE,              /* the UKI's .ucode */
	INITRD_SLOT_EMBEDDED,           /* the UKI's .initrd */
	INITRD_SLOT_CREDENTIALS,        /* .extra/credentials */
	INITRD_SLOT_GLOBAL_CREDENTIALS, /* .extra/global_credentials */
	INITRD_SLOT_SYSEXT,             /* .extra/sysext */
	INITRD_SLOT_GLOBAL_SYSEXT,      /* .extra/global_sysext */
	INITRD_SLOT_CONFEXT,            /* .extra/confext */
	INITRD_SLOT_GLOBAL_CONFEXT,     /* .extra/global_confext */
	INITRD_SLOT_PCRSIG,             /* .extra/tpm2-pcr-signature.json */
	INITRD_SLOT_PCRPKEY,            /* .extra/tpm2-pcr-public-key.pem */
	INITRD_SLOT_OS_RELEASE,         /* .extra/os-release */
	INITRD_SLOT_PROFILE,            /* .extra/profile */
	INITRD_SLOT_ADDON_INITRDS,      /* addons' .initrd sections, in addon order */
	INITRD_SLOTS
};

/*
 * The order the stub fills the slots in when the kernel takes the initrd
 * (stub/lazy-archive.h): the companion files and the addons' pieces are
 * read, or copied, into the kernel's buffer and measured there, so this is
 * also their measurement order. It is the slot order but for the addons'
 * microcode, which systemd-stub 262 measures into PCR 12 after the
 * configuration extensions although it lays it out first
 * (docs/MEASUREMENTS.md, "The order of all PCR 12 events"). Lower ranks
 * are filled first; slots of equal rank in slot order.
 */
unsigned initrd_fill_rank(enum initrd_slot slot);
/* Every rank is below this. */
#define INITRD_FILL_RANKS (INITRD_SLOTS + 1)

/* Pieces one addon slot holds at most: an addon from each of the two addon directories. */
#define INITRD_ADDON_PIECES_MAX 64
/* Largest number of pieces: one per slot, the addon slots full. */
#define INITRD_MAX_PIECES (INITRD_SLOTS + 2 * INITRD_ADDON_PIECES_MAX)

/* Where the generated archives put their files, and the literal files' names below it. */
#define INITRD_EXTRA_PREFIX ".extra"
#define INITRD_PCR_SIGNATURE_FILE "tpm2-pcr-signature.json"
#define INITRD_PCR_PUBLIC_KEY_FILE "tpm2-pcr-public-key.pem"
#define INITRD_OS_RELEASE_FILE "os-release"
#define INITRD_PROFILE_FILE "profile" /* the selected profile's .profile */

/* Round @v up to a multiple of 4; MS_ERR_OVERFLOW if that does not fit. */
ms_status align4_u64(uint64_t v, uint64_t *ret);

/*
 * Offsets of each piece in the combined initrd and its total size.
 * Empty pieces (size 0) occupy nothing and get no padding.
 * ret_offsets may be NULL.
 */
ms_status initrd_layout(const uint64_t *sizes, size_t n, uint64_t *ret_offsets, uint64_t *ret_total);

#endif
