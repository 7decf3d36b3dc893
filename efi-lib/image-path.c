/* SPDX-License-Identifier: MIT */
#include "image-path.h"

#include <efilib.h>

EFI_STATUS image_file_path(const EFI_DEVICE_PATH *dp, CHAR16 *out, UINTN cap)
{
	UINTN n = 0;

	if (!dp || cap == 0)
		return EFI_NOT_FOUND;
	for (; !IsDevicePathEnd((EFI_DEVICE_PATH *)dp); dp = NextDevicePathNode((EFI_DEVICE_PATH *)dp)) {
		const FILEPATH_DEVICE_PATH *f = (const FILEPATH_DEVICE_PATH *)dp;
		UINTN len = DevicePathNodeLength(dp), units;

		if (DevicePathType(dp) != MEDIA_DEVICE_PATH || DevicePathSubType(dp) != MEDIA_FILEPATH_DP ||
		    len < sizeof(EFI_DEVICE_PATH))
			return EFI_NOT_FOUND;
		units = (len - sizeof(EFI_DEVICE_PATH)) / sizeof(CHAR16);
		if (n > 0 && n + 1 < cap)
			out[n++] = L'\\'; /* doubled separators are collapsed later */
		for (UINTN i = 0; i < units && f->PathName[i]; i++) {
			if (n + 1 >= cap)
				return EFI_BUFFER_TOO_SMALL;
			out[n++] = f->PathName[i];
		}
	}
	out[n] = 0;
	return n ? EFI_SUCCESS : EFI_NOT_FOUND;
}
