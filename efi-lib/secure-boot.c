/* SPDX-License-Identifier: MIT */
#include "secure-boot.h"

#include <efilib.h>

static BOOLEAN read_bool_global(CHAR16 *name)
{
	UINT8 value = 0;
	UINTN size = sizeof(value);

	if (EFI_ERROR(RT->GetVariable(name, &EfiGlobalVariable, NULL, &size, &value)))
		return FALSE;
	return size == sizeof(value) && value == 1;
}

BOOLEAN secure_boot_enabled(void)
{
	/* In setup or audit mode images are not verified, whatever SecureBoot says. */
	return read_bool_global(L"SecureBoot") && !read_bool_global(L"SetupMode") &&
	       !read_bool_global(L"AuditMode");
}
