/* SPDX-License-Identifier: MIT */
/*
 * pcr-kernel.h - the measurements systemd-stub makes of the UKI itself, so
 * systemd's userspace (boot phases, cryptsetup) and systemd-measure's
 * predictions work unchanged with this stub: the sections into PCR 11,
 * a passed-in command line into PCR 12. docs/MEASUREMENTS.md has the rules.
 */
#ifndef STUB_PCR_KERNEL_H
#define STUB_PCR_KERNEL_H

#include <efi.h>

#include "efi-lib/tcg2.h"
#include "measure/pe.h"

/*
 * PCR 11: every section of the canonical list (measure/uki.h) in effect
 * for @profile, name with NUL then VirtualSize bytes. @image_base is where
 * @self was parsed (memory layout). TRUE if every measurement succeeded.
 */
BOOLEAN measure_uki_sections(struct measurer *m, const void *image_base, const struct pe_image *self,
			     uint32_t profile);

/*
 * PCR 12, before anything else and only for a profile other than 0, as
 * systemd-stub v257+: one EV_EVENT_TAG event (UKI_PROFILE_EVENT_TAG) over
 * the profile number in decimal, UTF-16 with its NUL. TRUE if measured.
 */
BOOLEAN measure_profile(struct measurer *m, uint32_t profile);

/* PCR 12: a command line (UTF-16 with its NUL), described by itself. */
EFI_STATUS measure_cmdline(struct measurer *m, const CHAR16 *cmdline);

#endif
