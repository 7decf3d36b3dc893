/* SPDX-License-Identifier: MIT */
/*
 * uki.h - which UKI sections go into PCR 11, in which order.
 *
 * systemd-stub measures every present section of a fixed ("canonical")
 * list, in list order, not in file order: two EV_IPL events per section,
 * first the name with its NUL, then VirtualSize bytes of content. .pcrsig
 * is never measured (it signs the result). The list grew over systemd
 * releases; the stub measures with the newest list, and predictions can
 * pick an older one to match an older systemd-stub or systemd-measure.
 */
#ifndef MEASURE_UKI_H
#define MEASURE_UKI_H

#include <stddef.h>
#include <stdint.h>

#include "pe.h"
#include "status.h"

#define PCR_KERNEL_IMAGE 11      /* UKI sections (+ boot phases from userspace) */
#define PCR_KERNEL_PARAMETERS 12 /* a command line passed in from outside the UKI */
#define PCR_SYSEXTS 13           /* system extensions */
#define PCR_LINUX_INITRD 9       /* where the Linux EFI stub measures its initrd */

#define UKI_MAX_MEASURED 16

/* systemd releases whose canonical list differs from the one before. */
enum uki_order {
	UKI_ORDER_SYSTEMD_252, /* v252-v253 */
	UKI_ORDER_SYSTEMD_254, /* v254-v255: + .uname .sbat */
	UKI_ORDER_SYSTEMD_256, /* v256: + .ucode */
	UKI_ORDER_SYSTEMD_257, /* v257: + .profile .dtbauto .hwids */
	UKI_ORDER_SYSTEMD_258, /* v258+: + .efifw; what sysext-stub measures */
	UKI_ORDER_DEFAULT = UKI_ORDER_SYSTEMD_258,
};

/* The oldest systemd version with a given list, for messages: 252, 254, ... */
unsigned uki_order_version(enum uki_order order);

/* The list for systemd @version (>= 252); MS_ERR_UNSUPPORTED for older ones. */
ms_status uki_order_for_version(unsigned version, enum uki_order *ret);

/* The canonical names of @order, including ".pcrsig" at its place. */
size_t uki_canonical_sections(enum uki_order order, const char *const **ret);

/* The canonical name (of the newest list) equal to @name, as a static string; NULL if it is not one. */
const char *uki_canonical_name(const char *name);

/* Whether a canonical section is measured at all (everything but .pcrsig). */
int uki_section_is_measured(const char *name);

/*
 * Which section a UKI boots with (UKI specification; systemd-stub v257+):
 * the .profile headers split the section table into the base (everything
 * before the first .profile) and profiles 0..N-1, each running from its
 * .profile header up to the next one. Booting profile P, a name's section
 * is the first header with that name among P's own sections, or else the
 * first among the base's. It is present only with VirtualSize > 0: a
 * VirtualSize of 0 means absent, for use and for measurement alike (so a
 * profile can hide a base section with one). A UKI without .profile has
 * one profile, 0, which is the base. This is the one rule the stub, PCR 11
 * and every prediction use.
 *
 * .dtbauto and .efifw are chosen by the machine (device tree or HWID
 * match); nothing here matches them, so they are never in effect.
 */
#define UKI_PROFILE_MAX UINT32_MAX /* the base alone: "@4294967295" selects it, as in systemd-stub */

/* The PCR 12 event tag of the selected profile (systemd's UKI_PROFILE_EVENT_TAG_ID). */
#define UKI_PROFILE_EVENT_TAG 0x13aed6dbu
/* Room for a profile number in decimal with its NUL ("4294967295"). */
#define UKI_PROFILE_TEXT_MAX 11

/* @profile in decimal as UTF-16 with its NUL: the data and description of the PCR 12 event, and StubProfile. */
void uki_profile_text(uint32_t profile, uint16_t out[UKI_PROFILE_TEXT_MAX]);

/* The number of .profile headers: the profiles the UKI declares (0 for a plain UKI). */
uint32_t uki_profile_count(const struct pe_image *img);

/*
 * Whether @profile can be booted: below uki_profile_count(), 0 for a UKI
 * without profiles, or UKI_PROFILE_MAX (the base alone). MS_ERR_NOT_FOUND
 * otherwise (systemd-stub refuses to boot it).
 */
ms_status uki_profile_check(const struct pe_image *img, uint32_t profile);

/*
 * The section @name in effect when booting @profile (see above), or NULL
 * when it is absent. For a @profile that uki_profile_check() refuses,
 * only the base counts.
 */
const struct pe_section *uki_section(const struct pe_image *img, uint32_t profile, const char *name);

/*
 * The bytes of a section uki_section() returned, as used and measured:
 * VirtualSize bytes (*ret_size). *ret_offset is where they start in the
 * parsed buffer and *ret_present how many of them the buffer holds there;
 * the rest are zeros (the loader's fill past SizeOfRawData, file layout
 * only).
 */
void uki_section_bytes(const struct pe_image *img, const struct pe_section *s, size_t *ret_offset,
		       size_t *ret_present, uint32_t *ret_size);

/* One section to measure: its name and its header in @img. */
struct uki_measured_section {
	const char *name;
	const struct pe_section *section;
};

/*
 * The sections of @img that go into PCR 11 when booting @profile, in
 * measurement order: each name of @order's canonical list but .pcrsig
 * whose uki_section() is present. Lists older than v257 (stubs without
 * profiles) take the first header of each name in the whole table.
 * Writes up to UKI_MAX_MEASURED entries; returns how many.
 */
size_t uki_measured_sections(const struct pe_image *img, enum uki_order order, uint32_t profile,
			     struct uki_measured_section out[UKI_MAX_MEASURED]);

#endif
