/* SPDX-License-Identifier: MIT */
/*
 * smbios.h - the firmware's SMBIOS structure table, found the way
 * systemd-stub finds it: the SMBIOS 3 entry point first, else the 32-bit
 * one (SMBIOS 3.7 §5.2). The structures are read by measure/smbios.c.
 */
#ifndef EFI_LIB_SMBIOS_H
#define EFI_LIB_SMBIOS_H

#include <efi.h>

/* The structure table and its size (the entry point's maximum or exact size). EFI_NOT_FOUND without one. */
EFI_STATUS smbios_table(const UINT8 **ret, UINTN *ret_len);

#endif
