/* SPDX-License-Identifier: MIT */
/*
 * export-vars.h - the EFI variables systemd-stub sets (reference §2.5), so
 * bootctl, systemd-analyze and systemd's units see this stub as they see
 * systemd-stub. Failures to set one are logged and otherwise ignored.
 */
#ifndef STUB_EXPORT_VARS_H
#define STUB_EXPORT_VARS_H

#include <efi.h>

/* What went into which PCR this boot (all FALSE without a TPM). */
struct stub_measured {
	BOOLEAN kernel_image;      /* PCR 11: every section measured */
	BOOLEAN kernel_parameters; /* PCR 12: something measured there (a command line, a profile, a credential, ...) */
	BOOLEAN sysexts;           /* PCR 13: at least one extension measured */
	BOOLEAN confexts;          /* PCR 12: at least one configuration extension measured */
};

/*
 * StubInfo, StubFeatures, StubProfile (@profile in decimal),
 * StubImageIdentifier, StubDevicePartUUID, and the
 * Loader* ones a boot loader would have set (LoaderDevicePartUUID,
 * LoaderImageIdentifier, LoaderFirmwareInfo, LoaderFirmwareType) when no
 * boot loader did. @image_path may be NULL (not started from a file).
 */
void export_stub_variables(const EFI_LOADED_IMAGE *li, const CHAR16 *image_path, UINT32 profile);

/*
 * StubPcrKernelImage="11", StubPcrKernelParameters="12", StubPcrInitRDSysExts="13",
 * StubPcrInitRDConfExts="12", as measured.
 */
void export_pcr_variables(const struct stub_measured *measured);

#endif
