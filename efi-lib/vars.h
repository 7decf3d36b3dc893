/* SPDX-License-Identifier: MIT */
/*
 * vars.h - volatile EFI variables under systemd's boot loader interface
 * vendor GUID (4a67b082-0a4c-41cf-b6c7-440b29bb8c4f), so bootctl,
 * systemd-analyze and systemd's units read ours as they read systemd-stub's.
 */
#ifndef EFI_LIB_VARS_H
#define EFI_LIB_VARS_H

#include <efi.h>

/* Set @name to the UTF-16 string @value including its NUL (BS|RT, volatile). */
EFI_STATUS loader_var_set_str(const CHAR16 *name, const CHAR16 *value);

/* Set @name to @value as 8 bytes little-endian. */
EFI_STATUS loader_var_set_u64(const CHAR16 *name, UINT64 value);

/* Whether @name exists (someone before us, e.g. a boot loader, set it). */
BOOLEAN loader_var_exists(const CHAR16 *name);

/*
 * The GPT partition GUID of the partition @device is on, as systemd
 * prints it ("%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X", upper
 * case), into @out (at least 37 units). EFI_NOT_FOUND when the device
 * path has no GPT hard-drive node.
 */
EFI_STATUS partition_uuid_string(EFI_HANDLE device, CHAR16 *out, UINTN cap);

#endif
