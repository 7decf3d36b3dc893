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

/* Vendor GUID of systemd's boot loader interface variables. */
#define LOADER_VENDOR_GUID \
	{ 0x4a67b082, 0x0a4c, 0x41cf, { 0xb6, 0xc7, 0x44, 0x0b, 0x29, 0xbb, 0x8c, 0x4f } }

/* A vendor media node followed by the end node, as one packed object. */
struct vendor_media_device_path {
	VENDOR_DEVICE_PATH vendor;
	EFI_DEVICE_PATH end;
} __attribute__((packed));

#endif
