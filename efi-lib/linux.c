/* SPDX-License-Identifier: MIT */
#include "linux.h"

#include <efilib.h>

#include "efi-defs.h"
#include "log.h"
#include "secure-boot.h"
#include "security-override.h"

static const struct vendor_media_device_path payload_device_path = {
	.vendor = {
		.Header = {
			.Type = MEDIA_DEVICE_PATH,
			.SubType = MEDIA_VENDOR_DP,
			.Length = { sizeof(VENDOR_DEVICE_PATH), 0 },
		},
		.Guid = STUB_PAYLOAD_GUID,
	},
	.end = {
		.Type = END_DEVICE_PATH_TYPE,
		.SubType = END_ENTIRE_DEVICE_PATH_SUBTYPE,
		.Length = { sizeof(EFI_DEVICE_PATH), 0 },
	},
};

static EFI_STATUS load_kernel(EFI_HANDLE parent, const void *kernel, UINTN size, EFI_HANDLE *ret)
{
	EFI_DEVICE_PATH *path = (EFI_DEVICE_PATH *)&payload_device_path;
	BOOLEAN overridden = FALSE;
	EFI_STATUS err;

	if (secure_boot_enabled()) {
		err = security_override_install(kernel, size, path);
		if (EFI_ERROR(err))
			log_warn(L"Secure Boot is on but no security protocol to hook (%r); "
				 L"the firmware will verify the kernel itself", err);
		else
			overridden = TRUE;
	}
	err = BS->LoadImage(FALSE, parent, path, (void *)kernel, size, ret);
	if (overridden)
		security_override_remove();
	return err;
}

EFI_STATUS linux_start(EFI_HANDLE parent, const void *kernel, UINTN size, const CHAR16 *cmdline)
{
	EFI_LOADED_IMAGE *loaded = NULL;
	EFI_HANDLE image = NULL;
	EFI_STATUS err;

	err = load_kernel(parent, kernel, size, &image);
	if (EFI_ERROR(err))
		return log_error_status(err, L"cannot load the embedded kernel (.linux, %lu bytes)",
					(UINT64)size);

	err = BS->HandleProtocol(image, &LoadedImageProtocol, (void **)&loaded);
	if (EFI_ERROR(err)) {
		log_error_status(err, L"kernel image has no LOADED_IMAGE protocol");
		goto unload;
	}
	if (cmdline) {
		loaded->LoadOptions = (void *)cmdline;
		loaded->LoadOptionsSize = (StrLen(cmdline) + 1) * sizeof(CHAR16);
	}

	err = BS->StartImage(image, NULL, NULL);
	log_error_status(err, L"the kernel returned to the stub");
unload:
	BS->UnloadImage(image);
	return EFI_ERROR(err) ? err : EFI_LOAD_ERROR;
}
