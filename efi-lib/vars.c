/* SPDX-License-Identifier: MIT */
#include "vars.h"

#include <efilib.h>

#include "efi-defs.h"

#define LOADER_VAR_ATTRIBUTES (EFI_VARIABLE_BOOTSERVICE_ACCESS | EFI_VARIABLE_RUNTIME_ACCESS)

/* UEFI 2.10 §10.3.5.1 Hard Drive media device path: 42 bytes, packed. */
#define HD_NODE_SIGNATURE 24
#define HD_NODE_SIGNATURE_TYPE 41
#define HD_NODE_LENGTH 42

static EFI_GUID loader_vendor = LOADER_VENDOR_GUID;

EFI_STATUS loader_var_set_str(const CHAR16 *name, const CHAR16 *value)
{
	return RT->SetVariable((CHAR16 *)name, &loader_vendor, LOADER_VAR_ATTRIBUTES,
			       (StrLen(value) + 1) * sizeof(CHAR16), (void *)value);
}

EFI_STATUS loader_var_set_u64(const CHAR16 *name, UINT64 value)
{
	UINT8 le[8];

	for (UINTN i = 0; i < sizeof(le); i++)
		le[i] = (UINT8)(value >> (8 * i));
	return RT->SetVariable((CHAR16 *)name, &loader_vendor, LOADER_VAR_ATTRIBUTES, sizeof(le), le);
}

BOOLEAN loader_var_exists(const CHAR16 *name)
{
	UINTN size = 0;
	EFI_STATUS err = RT->GetVariable((CHAR16 *)name, &loader_vendor, NULL, &size, NULL);

	/* A zero-size probe answers BUFFER_TOO_SMALL for any variable that has content. */
	return err == EFI_BUFFER_TOO_SMALL || err == EFI_SUCCESS;
}

static CHAR16 hex_digit(UINT8 v)
{
	return v < 10 ? L'0' + v : L'A' + (v - 10);
}

static CHAR16 *put_hex(CHAR16 *out, const UINT8 *bytes, UINTN n, BOOLEAN little_endian)
{
	for (UINTN i = 0; i < n; i++) {
		UINT8 b = bytes[little_endian ? n - 1 - i : i];

		*out++ = hex_digit(b >> 4);
		*out++ = hex_digit(b & 15);
	}
	return out;
}

EFI_STATUS partition_uuid_string(EFI_HANDLE device, CHAR16 *out, UINTN cap)
{
	EFI_DEVICE_PATH *dp = NULL;
	EFI_STATUS err;

	if (cap < 37)
		return EFI_BUFFER_TOO_SMALL;
	err = BS->HandleProtocol(device, &DevicePathProtocol, (void **)&dp);
	if (EFI_ERROR(err))
		return err;
	for (; dp && !IsDevicePathEnd(dp); dp = NextDevicePathNode(dp)) {
		const UINT8 *node = (const UINT8 *)dp, *sig = node + HD_NODE_SIGNATURE;
		CHAR16 *p = out;

		/* Byte offsets, not gnu-efi's struct: the node is packed and unaligned. */
		if (DevicePathType(dp) != MEDIA_DEVICE_PATH || DevicePathSubType(dp) != MEDIA_HARDDRIVE_DP ||
		    DevicePathNodeLength(dp) < HD_NODE_LENGTH || node[HD_NODE_SIGNATURE_TYPE] != SIGNATURE_TYPE_GUID)
			continue;
		/* EFI_GUID: three little-endian fields, then eight bytes in order. */
		p = put_hex(p, sig, 4, TRUE);
		*p++ = L'-';
		p = put_hex(p, sig + 4, 2, TRUE);
		*p++ = L'-';
		p = put_hex(p, sig + 6, 2, TRUE);
		*p++ = L'-';
		p = put_hex(p, sig + 8, 2, FALSE);
		*p++ = L'-';
		p = put_hex(p, sig + 10, 6, FALSE);
		*p = 0;
		return EFI_SUCCESS;
	}
	return EFI_NOT_FOUND;
}
