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

/* Whether a canonical section is measured at all (everything but .pcrsig). */
int uki_section_is_measured(const char *name);

/* One section to measure: its name and its header in @img. */
struct uki_measured_section {
	const char *name;
	const struct pe_section *section;
};

/*
 * The sections of @img that go into PCR 11, in measurement order: first
 * header with each canonical name, VirtualSize > 0, .pcrsig left out.
 * Writes up to UKI_MAX_MEASURED entries; returns how many.
 */
size_t uki_measured_sections(const struct pe_image *img, enum uki_order order,
			     struct uki_measured_section out[UKI_MAX_MEASURED]);

#endif
