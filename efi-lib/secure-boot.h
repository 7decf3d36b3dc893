/* SPDX-License-Identifier: MIT */
/* secure-boot.h - is UEFI Secure Boot enforcing? */
#ifndef EFI_LIB_SECURE_BOOT_H
#define EFI_LIB_SECURE_BOOT_H

#include <efi.h>

/* TRUE if the global SecureBoot variable is 1 (and not in setup/audit mode). */
BOOLEAN secure_boot_enabled(void);

#endif
