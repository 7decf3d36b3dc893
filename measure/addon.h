/* SPDX-License-Identifier: MIT */
/*
 * addon.h - PE addons (*.addon.efi, systemd's UKI addons): which sections
 * of an addon are used, with which bytes, and how they are measured, as
 * systemd-stub 262 does it (src/boot/stub.c load_addons and what follows
 * it; docs/MEASUREMENTS.md has the worked example). The stub applies this
 * to an addon the firmware loaded (and so verified) with LoadImage, the
 * host tools to an addon file; both through addon_inspect().
 *
 * An addon is used when, in this order (the first failing check is the
 * reason given):
 *   1. its headers parse (measure/pe.c) as an x86-64 PE32+ EFI image, what
 *      the firmware loads for this stub (ADDON_NOT_PE, ADDON_WRONG_MACHINE);
 *   2. it has at least one of .cmdline .dtb .initrd .ucode
 *      (ADDON_NO_SECTIONS);
 *   3. it has no .linux (ADDON_IS_UKI: an addon must not carry a kernel);
 *   4. its .uname, when both it and the UKI have one, matches the UKI's
 *      (ADDON_UNAME_MISMATCH, addon_uname_matches()).
 * A section counts when the first section of that name has VirtualSize > 0
 * (systemd-stub's rule, as for PCR 11); its bytes are the VirtualSize
 * bytes the loader maps, raw data zero-filled up to VirtualSize. .dtbauto
 * counts as absent: systemd-stub takes one only when it matches the
 * firmware's devicetree or the SMBIOS IDs in the addon's .hwids, and x86
 * firmware has no devicetree; this stub does no .hwids matching. An addon
 * that has .dtb too uses its .dtb, as systemd-stub does without a match.
 *
 * What each used section becomes, all measured into PCR 12 (ADDON_PCR):
 *   .cmdline  every addon's, global directory first, each directory in
 *             name order, joined (addon_cmdline_add) and measured once as
 *             one EV_IPL event, like a passed-in command line; then
 *             appended to the kernel command line (cmdline_extend());
 *   .dtb      installed as the devicetree, one EV_EVENT_TAG event each
 *             (ADDON_TAG_DEVICETREE), in addon order;
 *   .ucode    an initrd piece before the UKI's .ucode, the addons in
 *             REVERSE order (the kernel takes the first microcode it
 *             finds), one tagged event each in that reversed order, after
 *             every companion archive;
 *   .initrd   an initrd piece after everything else, in addon order, one
 *             tagged event each, after the .ucode events.
 * A tagged event's digest covers the section bytes; its event data is
 * TCG_PCClientTaggedEvent {addon_part_tag(), size, the addon's file name
 * as UTF-16LE with NUL}, built where events are made (efi-lib/tcg2.c,
 * measure_tagged()).
 */
#ifndef MEASURE_ADDON_H
#define MEASURE_ADDON_H

#include <stddef.h>
#include <stdint.h>

#include "initrd.h"
#include "pe.h"
#include "status.h"
#include "uki.h"

#define ADDON_PCR PCR_KERNEL_PARAMETERS

/* systemd's event tags (src/fundamental/tpm2-pcr.h). */
#define ADDON_TAG_DEVICETREE 0x6c46f751u
#define ADDON_TAG_INITRD 0x49dffe0fu
#define ADDON_TAG_UCODE 0xdac08e1au

/* The sections of an addon that are used. */
enum addon_part {
	ADDON_PART_CMDLINE,
	ADDON_PART_DTB,
	ADDON_PART_INITRD,
	ADDON_PART_UCODE,
	ADDON_PARTS,
};

/* Why an addon is not used (ADDON_USE: it is). */
enum addon_verdict {
	ADDON_USE = 0,
	ADDON_NOT_PE,
	ADDON_WRONG_MACHINE,
	ADDON_NO_SECTIONS,
	ADDON_IS_UKI,
	ADDON_UNAME_MISMATCH,
};

/* Whose .uname comparison to apply. */
enum addon_rule {
	ADDON_RULE_OURS,    /* the two strings (each up to its first NUL) are equal */
	ADDON_RULE_SYSTEMD, /* systemd-stub: strncmp(uki, addon, addon's VirtualSize) == 0, so a prefix matches */
};

/*
 * A section's bytes in the buffer that was inspected: @present bytes at
 * @offset, then @size - @present zero bytes (only a file-layout section
 * whose raw data is shorter than its VirtualSize has any). @size 0: absent.
 */
struct addon_span {
	size_t offset;
	size_t present;
	uint32_t size;
};

struct addon_info {
	struct addon_span parts[ADDON_PARTS];
	struct addon_span uname;
	ms_status pe_error; /* with ADDON_NOT_PE: what pe_parse() said */
};

/*
 * Inspect @len bytes at @buf (@layout: a file, or an image as LoadImage
 * mapped it) with checks 1-3 above; @scratch holds the parsed headers.
 * Check 4 is addon_uname_matches(), which needs the UKI's .uname.
 */
enum addon_verdict addon_inspect(const void *buf, size_t len, enum pe_layout layout, struct pe_image *scratch,
				 struct addon_info *ret);

/*
 * Check 4: whether an addon's .uname (@addon_uname, @addon_len bytes: its
 * VirtualSize, 0 if it has none) matches the UKI's (@uki_uname, @uki_len
 * bytes: 0 if it has none) under @rule. Without either there is nothing
 * to match: TRUE.
 */
int addon_uname_matches(enum addon_rule rule, const uint8_t *uki_uname, size_t uki_len, const uint8_t *addon_uname,
			size_t addon_len);

/* The words for a verdict, e.g. "not a PE image", for "<name>: skipped, <reason>". */
const char *addon_verdict_reason(enum addon_verdict v);

/* The section name of a part (".cmdline", ...) and the tag its event has (0 for .cmdline: EV_IPL). */
const char *addon_part_section(enum addon_part part);
uint32_t addon_part_tag(enum addon_part part);

/*
 * The two initrd slots the addons fill (measure/initrd.h), one piece per
 * addon that has the part: the part of @slot (ADDON_PARTS for any other
 * slot), and which of @n addons (in addon order) the @k-th piece of @slot
 * comes from. Microcode goes last addon first (the kernel takes the first
 * it finds), initrds in addon order; each slot's events are in the same
 * order (docs/MEASUREMENTS.md, "PCR 12: addons").
 */
enum addon_part addon_slot_part(enum initrd_slot slot);
size_t addon_slot_index(enum initrd_slot slot, size_t n, size_t k);

/*
 * The joined command line of the addons (UTF-16, NUL-terminated in
 * @joined of @cap units; start with joined[0] = 0): append one addon's
 * .cmdline section (@sec, @len bytes, up to its first NUL, each byte one
 * unit, as measure/cmdline.h reads the UKI's) mangled, after one space if
 * the joined line is not empty. As systemd-stub 262 does it, an addon
 * whose command line mangles to nothing still adds that space.
 * MS_ERR_BUFFER_TOO_SMALL if @cap is less than addon_cmdline_room() of
 * the sections given so far.
 */
ms_status addon_cmdline_add(uint16_t *joined, size_t cap, const uint8_t *sec, size_t len);

/* Units (with the NUL) a joined line needs for sections of @total_len bytes in all from @n addons. */
size_t addon_cmdline_room(uint64_t total_len, size_t n);

/*
 * After the last addon: mangle the joined line as a whole (measure/cmdline.h).
 * Returns nonzero if anything is left: that string is what PCR 12 measures.
 */
int addon_cmdline_finish(uint16_t *joined);

#endif
