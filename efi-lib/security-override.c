/* SPDX-License-Identifier: MIT */
#include "security-override.h"

#include <efilib.h>

#include "efi-defs.h"

static struct {
	const void *buffer;
	UINTN size;
	const EFI_DEVICE_PATH *path;
	struct security_arch_protocol *security;
	security_file_auth_state_fn original;
	struct security2_arch_protocol *security2;
	security2_file_auth_fn original2;
} override;

static BOOLEAN device_path_equal(const EFI_DEVICE_PATH *a, const EFI_DEVICE_PATH *b)
{
	UINTN la, lb;

	if (!a || !b)
		return FALSE;
	la = DevicePathSize((EFI_DEVICE_PATH *)a);
	lb = DevicePathSize((EFI_DEVICE_PATH *)b);
	return la == lb && CompareMem(a, b, la) == 0;
}

static EFI_STATUS EFIAPI hook_security(const struct security_arch_protocol *this, UINT32 auth_status,
				       const EFI_DEVICE_PATH *file)
{
	if (device_path_equal(file, override.path))
		return EFI_SUCCESS;
	return override.original(this, auth_status, file);
}

static EFI_STATUS EFIAPI hook_security2(const struct security2_arch_protocol *this,
					const EFI_DEVICE_PATH *path, VOID *buffer, UINTN size,
					BOOLEAN boot_policy)
{
	if (buffer && buffer == override.buffer && size == override.size)
		return EFI_SUCCESS;
	return override.original2(this, path, buffer, size, boot_policy);
}

EFI_STATUS security_override_install(const void *buffer, UINTN size, const EFI_DEVICE_PATH *path)
{
	EFI_GUID security_guid = SECURITY_ARCH_PROTOCOL_GUID;
	EFI_GUID security2_guid = SECURITY2_ARCH_PROTOCOL_GUID;
	struct security_arch_protocol *security = NULL;
	struct security2_arch_protocol *security2 = NULL;

	override.buffer = buffer;
	override.size = size;
	override.path = path;
	/* Either protocol may be missing; without both there is nothing to hook. */
	(void)BS->LocateProtocol(&security_guid, NULL, (void **)&security);
	(void)BS->LocateProtocol(&security2_guid, NULL, (void **)&security2);
	if (!security && !security2)
		return EFI_NOT_FOUND;
	if (security) {
		override.security = security;
		override.original = security->FileAuthenticationState;
		security->FileAuthenticationState = hook_security;
	}
	if (security2) {
		override.security2 = security2;
		override.original2 = security2->FileAuthentication;
		security2->FileAuthentication = hook_security2;
	}
	return EFI_SUCCESS;
}

void security_override_remove(void)
{
	if (override.security)
		override.security->FileAuthenticationState = override.original;
	if (override.security2)
		override.security2->FileAuthentication = override.original2;
	SetMem(&override, sizeof(override), 0);
}
