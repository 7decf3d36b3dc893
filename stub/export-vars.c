/* SPDX-License-Identifier: MIT */
#include "export-vars.h"

#include <efilib.h>

#include "efi-lib/log.h"
#include "efi-lib/vars.h"
#include "measure/uki.h"

#define WIDEN_(s) L##s
#define WIDEN(s) WIDEN_(s)

/* StubFeatures bits (systemd's EFI_STUB_FEATURE_*); only what we really do. */
#define STUB_FEATURE_REPORT_BOOT_PARTITION (1ULL << 0)
#define STUB_FEATURE_PICK_UP_CREDENTIALS (1ULL << 1)
#define STUB_FEATURE_PICK_UP_SYSEXTS (1ULL << 2)
#define STUB_FEATURE_THREE_PCRS (1ULL << 3)
#define STUB_FEATURE_CMDLINE_ADDONS (1ULL << 5)
#define STUB_FEATURE_CMDLINE_SMBIOS (1ULL << 6)
#define STUB_FEATURE_DEVICETREE_ADDONS (1ULL << 7)
#define STUB_FEATURE_PICK_UP_CONFEXTS (1ULL << 8)
#define STUB_FEATURE_MULTI_PROFILE_UKI (1ULL << 9)
#define STUB_FEATURE_REPORT_STUB_PARTITION (1ULL << 10)
#define STUB_FEATURE_SMBIOS_MEASURED (1ULL << 12)

#define STUB_FEATURES                                                                                    \
	(STUB_FEATURE_REPORT_BOOT_PARTITION | STUB_FEATURE_PICK_UP_CREDENTIALS | STUB_FEATURE_PICK_UP_SYSEXTS | \
	 STUB_FEATURE_THREE_PCRS | STUB_FEATURE_CMDLINE_ADDONS | STUB_FEATURE_CMDLINE_SMBIOS |                  \
	 STUB_FEATURE_DEVICETREE_ADDONS | STUB_FEATURE_PICK_UP_CONFEXTS | STUB_FEATURE_MULTI_PROFILE_UKI |     \
	 STUB_FEATURE_REPORT_STUB_PARTITION | STUB_FEATURE_SMBIOS_MEASURED)


/* Loader* variables belong to the boot loader: fill in only what it left unset. */
static void set_str_if_unset(const CHAR16 *name, const CHAR16 *value)
{
	if (!loader_var_exists(name))
		stub_var_set(name, value);
}

void export_stub_variables(const EFI_LOADED_IMAGE *li, const CHAR16 *image_path, UINT32 profile)
{
	CHAR16 uuid[37], number[UKI_PROFILE_TEXT_MAX], *s;
	EFI_STATUS err;

	stub_var_set(L"StubInfo", L"sysext-stub " WIDEN(SYSEXT_STUB_VERSION));
	err = loader_var_set_u64(L"StubFeatures", STUB_FEATURES);
	if (EFI_ERROR(err))
		log_warn(L"cannot set EFI variable StubFeatures (%r)", err);
	uki_profile_text(profile, number);
	stub_var_set(L"StubProfile", number);

	if (!EFI_ERROR(partition_uuid_string(li->DeviceHandle, uuid, sizeof(uuid) / sizeof(uuid[0])))) {
		stub_var_set(L"StubDevicePartUUID", uuid);
		set_str_if_unset(L"LoaderDevicePartUUID", uuid);
	}
	if (image_path) {
		stub_var_set(L"StubImageIdentifier", image_path);
		set_str_if_unset(L"LoaderImageIdentifier", image_path);
	}

	s = PoolPrint(L"%s %u.%02u", ST->FirmwareVendor ? ST->FirmwareVendor : L"unknown",
		      ST->FirmwareRevision >> 16, ST->FirmwareRevision & 0xffff);
	if (s) {
		set_str_if_unset(L"LoaderFirmwareInfo", s);
		FreePool(s);
	}
	s = PoolPrint(L"UEFI %u.%02u", ST->Hdr.Revision >> 16, ST->Hdr.Revision & 0xffff);
	if (s) {
		set_str_if_unset(L"LoaderFirmwareType", s);
		FreePool(s);
	}
}
