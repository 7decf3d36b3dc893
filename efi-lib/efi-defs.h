/* SPDX-License-Identifier: MIT */
/*
 * efi-defs.h - protocol and device-path definitions that Debian's gnu-efi
 * 3.0.15 headers lack, written from the UEFI 2.10 specification and the
 * Linux boot protocol documentation.
 */
#ifndef EFI_LIB_EFI_DEFS_H
#define EFI_LIB_EFI_DEFS_H

#include <efi.h>

/* UEFI 2.10 §13.2: same signature as EFI_LOAD_FILE_PROTOCOL. */
#define SYSEXT_EFI_LOAD_FILE2_PROTOCOL_GUID \
	{ 0x4006c0c1, 0xfcb3, 0x403e, { 0x99, 0x6d, 0x4a, 0x6c, 0x87, 0x24, 0xe0, 0x6d } }

/* Linux: vendor media device path the kernel's EFI stub looks up for its initrd. */
#define LINUX_INITRD_MEDIA_GUID \
	{ 0x5568e427, 0x68fc, 0x4f3d, { 0xac, 0x74, 0xca, 0x55, 0x52, 0x31, 0xcc, 0x68 } }

/*
 * Vendor media path under which the embedded kernel is loaded. Same GUID as
 * systemd-stub uses, so event-log tooling that knows it labels PCR 4 alike.
 */
#define STUB_PAYLOAD_GUID \
	{ 0x55c5d1f8, 0x04cd, 0x46b5, { 0x8a, 0x20, 0xe5, 0x6c, 0xbb, 0x30, 0x52, 0xd0 } }

/* Vendor GUID of systemd's boot loader interface variables. */
#define LOADER_VENDOR_GUID \
	{ 0x4a67b082, 0x0a4c, 0x41cf, { 0xb6, 0xc7, 0x44, 0x0b, 0x29, 0xbb, 0x8c, 0x4f } }

/* PI spec vol. 2: the DXE security architectural protocols LoadImage consults. */
#define SECURITY_ARCH_PROTOCOL_GUID \
	{ 0xa46423e3, 0x4617, 0x49f1, { 0xb9, 0xff, 0xd1, 0xbf, 0xa9, 0x11, 0x58, 0x39 } }
#define SECURITY2_ARCH_PROTOCOL_GUID \
	{ 0x94ab2f58, 0x1438, 0x4ef1, { 0x91, 0x52, 0x18, 0x94, 0x1a, 0x3a, 0x0e, 0x68 } }

struct security_arch_protocol;
typedef EFI_STATUS(EFIAPI *security_file_auth_state_fn)(const struct security_arch_protocol *this,
							UINT32 authentication_status,
							const EFI_DEVICE_PATH *file);
struct security_arch_protocol {
	security_file_auth_state_fn FileAuthenticationState;
};

struct security2_arch_protocol;
typedef EFI_STATUS(EFIAPI *security2_file_auth_fn)(const struct security2_arch_protocol *this,
						   const EFI_DEVICE_PATH *device_path, VOID *file_buffer,
						   UINTN file_size, BOOLEAN boot_policy);
struct security2_arch_protocol {
	security2_file_auth_fn FileAuthentication;
};

/* A vendor media node followed by the end node, as one packed object. */
struct vendor_media_device_path {
	VENDOR_DEVICE_PATH vendor;
	EFI_DEVICE_PATH end;
} __attribute__((packed));

#endif
