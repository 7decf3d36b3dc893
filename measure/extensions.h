/* SPDX-License-Identifier: MIT */
/*
 * extensions.h - what a name in an ESP directory is: which kind of
 * companion file (system extension, PCR signature fragment), or why it is
 * none, under the pickup rule in force (docs/MEASUREMENTS.md states it).
 * measure/selection.h builds on this to decide what is taken from a whole
 * directory, in which order, within which limits.
 *
 * A name is a companion file of kind K when every check below passes, in
 * this order (the first failing one is the reason given):
 *   not empty; not a directory; not starting with '.'; at most 255 units;
 *   every unit ASCII (1..127); a name EDK2's FAT driver opens as itself
 *   (EXT_FAT_NAME_OK below); short enough for the driver's path limit
 *   below its directory (EXT_FAT_PATH_MAX); its suffix, compared
 *   case-insensitively (ASCII folding), is K's.
 * Order: plain code-unit order of the names as the firmware returns them
 * (strcmp on ASCII; "B" < "a", "a10" < "a9"), so PCR values never depend on
 * the order a directory is read in.
 */
#ifndef MEASURE_EXTENSIONS_H
#define MEASURE_EXTENSIONS_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define EXT_SUFFIX ".sysext.raw"
#define EXT_NAME_MAX 255
/* At most this many extensions per directory; more are skipped (logged). */
#define EXT_MAX_FILES 128
/* Bytes of extensions per directory we are willing to load into memory. */
#define EXT_TOTAL_SIZE_MAX ((uint64_t)3 << 30)
/* newc sizes are 32-bit: a file of 4 GiB or more is skipped. */
#define EXT_FILE_SIZE_MAX 0xffffffffULL

/*
 * PCR signature fragments (tpm2-pcr-signature.json pieces, see pcrsig.h) may
 * sit beside the extensions as "*.pcrsig.json"; they are picked by the same
 * name rules with this suffix, not measured, and merged into one file.
 */
#define EXT_SIGNATURE_SUFFIX ".pcrsig.json"
#define EXT_SIGNATURE_MAX_FILES 16
#define EXT_SIGNATURE_SIZE_MAX (64u * 1024)

/*
 * The other companion files systemd-stub takes (issue 14): configuration
 * extensions, credentials and addons, each with its own suffix and limits
 * (measure/selection.c). Confexts have the extensions' limits, counted
 * apart from them.
 */
#define EXT_CONFEXT_SUFFIX ".confext.raw"
#define EXT_CREDENTIAL_SUFFIX ".cred"
/*
 * Credentials are small: systemd refuses to read one over CREDENTIAL_SIZE_MAX
 * (1 MiB, src/basic/... creds-util); an encrypted one is a little larger.
 */
#define EXT_CREDENTIAL_MAX_FILES 128
#define EXT_CREDENTIAL_SIZE_MAX (2u * 1024 * 1024)
#define EXT_CREDENTIAL_TOTAL_MAX ((uint64_t)32 << 20)
/* Addons are small PE files (a command line, an initrd, microcode); they are loaded whole. */
#define EXT_ADDON_SUFFIX ".addon.efi"
#define EXT_ADDON_MAX_FILES 32
#define EXT_ADDON_SIZE_MAX ((uint64_t)256 << 20)
#define EXT_ADDON_TOTAL_MAX ((uint64_t)512 << 20)

/*
 * EDK2's FAT driver (FatPkg/EnhancedFatDxe/DirectoryManage.c,
 * FatLocateOFile: OVMF's, and any firmware's built from EDK2) refuses with
 * EFI_INVALID_PARAMETER to open a name below a directory when
 *   2 + dir_len + 1 + name_len + 1 > EFI_PATH_STRING_LENGTH (260),
 * "X:", the directory's path from the volume root, '\', the name, a NUL.
 * dir_len is what the driver keeps per open directory (FullPathLen): one
 * '\' plus the name for each component, no trailing '\', 0 for the root;
 * "\loader\extensions" has 18, so names there open up to 238 units. A
 * directory opened from the root ("\a\b") opens when
 * ext_fat_opens(0, its length - 1), the leading '\' not counted.
 */
#define EXT_FAT_PATH_MAX 260

/*
 * Names a directory listing can return but that the same FAT driver does
 * not open as themselves (FatLocateOFile splits the name it is given at
 * '\' and resolves "." and ".."; FileName.c FatFileNameIsValid then strips
 * leading blanks and trailing blanks and dots, and refuses any unit below
 * 0x20 and any of  " * / : < > ? \ |  ). A name opens as itself exactly
 * when it has none of those units, does not start with a blank and does
 * not end in a blank or a dot (it cannot be "." or "..": names starting
 * with '.' are skipped before). Anything else would open another file
 * (" a.sysext.raw" opens "a.sysext.raw", "sub\x.sysext.raw" a file in
 * "sub") or nothing, so it is skipped while listing, before any limit
 * counts it.
 */
int ext_fat_name_ok(const uint16_t *name, size_t len);

/* Which companion file a name is. */
enum ext_kind {
	EXT_KIND_SYSEXT,     /* system extension image, PCR 13 */
	EXT_KIND_SIGNATURE,  /* PCR signature fragment, not measured */
	EXT_KIND_CONFEXT,    /* configuration extension image, PCR 12 */
	EXT_KIND_CREDENTIAL, /* credential, PCR 12 */
	EXT_KIND_ADDON,      /* PE addon: command line, initrd, microcode; PCR 12 */
	EXT_KINDS,
	EXT_KIND_NONE = EXT_KINDS,
};
#define EXT_KIND_BIT(k) (1u << (k))

/* Why an entry is not taken. The first group is decided by the name alone (ext_classify_kind). */
enum ext_verdict {
	EXT_PICK = 0,
	EXT_SKIP_DIRECTORY,
	EXT_SKIP_DOT_FILE,
	EXT_SKIP_NON_ASCII,
	EXT_SKIP_TOO_LONG,
	EXT_SKIP_OTHER_SUFFIX,
	EXT_SKIP_EMPTY_NAME,
	EXT_SKIP_CONFEXT,       /* systemd rules only: *.confext.raw goes elsewhere */
	EXT_SKIP_NOT_RAW,       /* systemd rules only: not *.raw */
	EXT_SKIP_PATH_TOO_LONG, /* the firmware would refuse to open it (EXT_FAT_PATH_MAX) */
	EXT_SKIP_FAT_NAME,      /* the firmware would open another name, or none (ext_fat_name_ok) */
	/* Decided by measure/selection.c from sizes and the rest of the directory: */
	EXT_SKIP_TOO_LARGE,     /* over the kind's file-size limit */
	EXT_SKIP_EMPTY_FILE,    /* below the kind's minimum size (signature files: 0 bytes) */
	EXT_SKIP_COUNT,         /* more files of the kind than its count limit, and later by name */
	EXT_SKIP_TOTAL,         /* would take the kind's bytes past its total-size limit */
	EXT_SKIP_NO_MEMORY,     /* the stub could not allocate the archive: the largest file goes */
	EXT_SKIP_DUPLICATE,     /* host tools only: the same name given twice */
	EXT_SKIP_DIRECTORY_DROPPED, /* systemd rules: a file cpio cannot describe drops the directory */
};

/* Which pickup rule to apply. */
enum ext_rule {
	EXT_RULE_SYSEXT_STUB,   /* ours: *.sysext.raw, *.confext.raw, *.cred, *.addon.efi, *.pcrsig.json */
	EXT_RULE_SYSTEMD_252,   /* systemd-stub v252-v255: any *.raw (confexts included), *.cred, *.addon.efi */
	EXT_RULE_SYSTEMD_256,   /* systemd-stub v256+: *.raw except *.confext.raw, *.confext.raw, *.cred, *.addon.efi */
};

/* Whether the FAT driver opens a name of @name_len units below a directory whose path has @dir_len units. */
int ext_fat_opens(size_t dir_len, size_t name_len);

/*
 * Classify an entry of a directory whose path from the volume root has
 * @dir_len units (see EXT_FAT_PATH_MAX): @name has @len UTF-16 units (no
 * NUL needed). On EXT_PICK, *@ret_kind says which kind; only kinds in
 * @kinds (EXT_KIND_BIT mask) are picked. Otherwise *@ret_kind is the kind
 * the suffix names if there is one (so callers can tell "a sysext that
 * is skipped" from "not a companion file"), else EXT_KIND_NONE.
 */
enum ext_verdict ext_classify_kind(const uint16_t *name, size_t len, int is_directory, size_t dir_len,
				   enum ext_rule rule, unsigned kinds, enum ext_kind *ret_kind);

/* Shorthands: a system extension under our rule, or under @rule. */
enum ext_verdict ext_classify(const uint16_t *name, size_t len, int is_directory, size_t dir_len);
enum ext_verdict ext_classify_rule(const uint16_t *name, size_t len, int is_directory, size_t dir_len,
				   enum ext_rule rule);

/* Whether an entry is a PCR signature fragment (EXT_PICK), under our rule. */
enum ext_verdict ext_classify_signature(const uint16_t *name, size_t len, int is_directory, size_t dir_len);

/* Why an entry was skipped, e.g. "not a *.sysext.raw file" (selection.h has the kind-specific texts). */
const char *ext_verdict_reason(enum ext_verdict v);

/*
 * The suffix that names @kind under our rule (".sysext.raw", ...), for messages.
 */
const char *ext_kind_suffix(enum ext_kind kind);

/*
 * Copy a picked name (all units < 128) to ASCII in @out (cap >= len + 1).
 * Returns MS_ERR_INVALID for a name ext_classify() would not pick.
 */
ms_status ext_name_to_ascii(const uint16_t *name, size_t len, char *out, size_t cap);

/*
 * A name made safe for a console or a terminal, whatever it holds: units
 * 0x20..0x7e except '\' as they are, any other unit as "\xNN" (below 0x80)
 * or "\uNNNN", so no escape sequence or control character is ever printed.
 * Names over EXT_NAME_MAX units are cut there and end in "...". Always
 * NUL-terminated in @out, which has room for EXT_DISPLAY_MAX bytes.
 */
#define EXT_DISPLAY_MAX (EXT_NAME_MAX * 6 + 4)
void ext_display_name(const uint16_t *name, size_t len, char out[EXT_DISPLAY_MAX]);
/* The same for an 8-bit name (host file names: each byte one unit). */
void ext_display_name8(const char *name, char out[EXT_DISPLAY_MAX]);

/* strcmp for the measurement order: negative, zero or positive. */
int ext_name_compare(const char *a, const char *b);

/*
 * The total-size limit, applied in measurement order: returns nonzero and
 * adds @size to *@total if the file still fits under @limit; zero (file
 * skipped) otherwise.
 */
int ext_fits_total_of(uint64_t *total, uint64_t size, uint64_t limit);

#endif
