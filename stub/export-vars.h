/* SPDX-License-Identifier: MIT */
/*
 * export-vars.h - the EFI variables systemd-stub sets (reference §2.5), so
 * bootctl, systemd-analyze and systemd's units see this stub as they see
 * systemd-stub. Failures to set one are logged and otherwise ignored.
 */
#ifndef STUB_EXPORT_VARS_H
#define STUB_EXPORT_VARS_H

#include <efi.h>

#include "pcr-vars.h"

/*
 * StubInfo, StubFeatures, StubProfile (@profile in decimal),
 * StubImageIdentifier, StubDevicePartUUID, and the
 * Loader* ones a boot loader would have set (LoaderDevicePartUUID,
 * LoaderImageIdentifier, LoaderFirmwareInfo, LoaderFirmwareType) when no
 * boot loader did. @image_path may be NULL (not started from a file).
 */
void export_stub_variables(const EFI_LOADED_IMAGE *li, const CHAR16 *image_path, UINT32 profile);

#endif
