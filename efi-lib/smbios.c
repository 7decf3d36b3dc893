/* SPDX-License-Identifier: MIT */
#include "smbios.h"

#include <efilib.h>

#include "measure/endian.h"

/* SMBIOS 3.x 64-bit entry point ("_SM3_", 24 bytes) and 2.x 32-bit one ("_SM_", 31 bytes). */
#define SM3_LENGTH 6
#define SM3_TABLE_MAX_SIZE 12
#define SM3_TABLE_ADDRESS 16
#define SM3_SIZE 24
#define SM2_LENGTH 5
#define SM2_TABLE_LENGTH 22
#define SM2_TABLE_ADDRESS 24
#define SM2_SIZE 31

static const UINT8 *config_table(EFI_GUID guid)
{
	void *p = NULL;

	return EFI_ERROR(LibGetSystemConfigurationTable(&guid, &p)) ? NULL : p;
}

EFI_STATUS smbios_table(const UINT8 **ret, UINTN *ret_len)
{
	const UINT8 *ep = config_table((EFI_GUID)SMBIOS3_TABLE_GUID);

	if (ep && CompareMem((void *)ep, "_SM3_", 5) == 0 && ep[SM3_LENGTH] <= SM3_SIZE) {
		*ret = (const UINT8 *)(UINTN)le64_read(ep + SM3_TABLE_ADDRESS);
		*ret_len = le32_read(ep + SM3_TABLE_MAX_SIZE);
		return *ret ? EFI_SUCCESS : EFI_NOT_FOUND;
	}
	ep = config_table((EFI_GUID)SMBIOS_TABLE_GUID);
	if (ep && CompareMem((void *)ep, "_SM_", 4) == 0 && ep[SM2_LENGTH] <= SM2_SIZE) {
		*ret = (const UINT8 *)(UINTN)le32_read(ep + SM2_TABLE_ADDRESS);
		*ret_len = le16_read(ep + SM2_TABLE_LENGTH);
		return *ret ? EFI_SUCCESS : EFI_NOT_FOUND;
	}
	return EFI_NOT_FOUND;
}
