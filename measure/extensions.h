/* SPDX-License-Identifier: MIT */
/*
 * extensions.h - which files on the ESP are system extensions, and in which
 * order they are measured and packed (the rule docs/MEASUREMENTS.md states).
 *
 * Picked: regular files whose name ends in ".sysext.raw", compared
 * case-insensitively (ASCII folding). Skipped, each with a reason the caller
 * logs: directories, names starting with '.', names with a UTF-16 unit above
 * 127, names longer than 255 units, names the firmware's FAT driver would
 * refuse to open below their directory (EXT_FAT_PATH_MAX), anything else
 * (other suffixes).
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

enum ext_verdict {
	EXT_PICK = 0,
	EXT_SKIP_DIRECTORY,
	EXT_SKIP_DOT_FILE,
	EXT_SKIP_NON_ASCII,
	EXT_SKIP_TOO_LONG,
	EXT_SKIP_OTHER_SUFFIX,
	EXT_SKIP_EMPTY_NAME,
	EXT_SKIP_CONFEXT,   /* systemd rules only: *.confext.raw goes elsewhere */
	EXT_SKIP_NOT_RAW,   /* systemd rules only: not *.raw */
	EXT_SKIP_PATH_TOO_LONG, /* the firmware would refuse to open it (EXT_FAT_PATH_MAX) */
};

/* Whether the FAT driver opens a name of @name_len units below a directory whose path has @dir_len units. */
int ext_fat_opens(size_t dir_len, size_t name_len);

/*
 * PCR signature fragments (tpm2-pcr-signature.json pieces, see pcrsig.h) may
 * sit beside the extensions as "*.pcrsig.json"; they are picked by the same
 * name rules with this suffix, not measured, and merged into one file.
 */
#define EXT_SIGNATURE_SUFFIX ".pcrsig.json"
#define EXT_SIGNATURE_MAX_FILES 16
#define EXT_SIGNATURE_SIZE_MAX (64u * 1024)

/* Which pickup rule to apply. */
enum ext_rule {
	EXT_RULE_SYSEXT_STUB,   /* ours: *.sysext.raw */
	EXT_RULE_SYSTEMD_252,   /* systemd-stub v252-v255: any *.raw (confexts included) */
	EXT_RULE_SYSTEMD_256,   /* systemd-stub v256+: *.raw except *.confext.raw */
};

/*
 * Classify an entry of a directory whose path from the volume root has
 * @dir_len units (see EXT_FAT_PATH_MAX): @name has @len UTF-16 units (no
 * NUL needed).
 */
enum ext_verdict ext_classify(const uint16_t *name, size_t len, int is_directory, size_t dir_len);

/* The same under another pickup rule (predictions for systemd-stub). */
enum ext_verdict ext_classify_rule(const uint16_t *name, size_t len, int is_directory, size_t dir_len,
				   enum ext_rule rule);

/*
 * Whether a directory entry is a PCR signature fragment (EXT_PICK) under
 * the same rules as ext_classify() with EXT_SIGNATURE_SUFFIX; any other
 * verdict means it is not one.
 */
enum ext_verdict ext_classify_signature(const uint16_t *name, size_t len, int is_directory, size_t dir_len);

/* Why an entry was skipped, e.g. "not a *.sysext.raw file". */
const char *ext_verdict_reason(enum ext_verdict v);

/*
 * Copy a picked name (all units < 128) to ASCII in @out (cap >= len + 1).
 * Returns MS_ERR_INVALID for a name ext_classify() would not pick.
 */
ms_status ext_name_to_ascii(const uint16_t *name, size_t len, char *out, size_t cap);

/* strcmp for the measurement order: negative, zero or positive. */
int ext_name_compare(const char *a, const char *b);

/* Sort @n names in place into measurement order (stable insertion sort; n is small). */
void ext_sort_names(const char **names, size_t n);

/*
 * Insert @name into the sorted list @names (*n entries, room for @cap) so
 * that the list always holds the @cap first names in measurement order,
 * whatever order the directory yields them in. Returns the name that fell
 * out (@name itself, or the previous last entry), or NULL if none did.
 */
const char *ext_sorted_insert(const char **names, size_t *n, size_t cap, const char *name);

/*
 * The total-size limit, applied in measurement order: returns nonzero and
 * adds @size to *@total if the file still fits under EXT_TOTAL_SIZE_MAX;
 * zero (file skipped) otherwise.
 */
int ext_fits_total(uint64_t *total, uint64_t size);

#endif
