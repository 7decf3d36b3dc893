/* SPDX-License-Identifier: MIT */
/*
 * cvm.h - whether we run in a confidential VM (AMD SEV/SEV-ES/SEV-SNP or
 * Intel TDX), detected as systemd-stub detects it: CPUID under a
 * hypervisor, then the vendor's own bit. In such a VM the host is not
 * trusted, so what it passes in SMBIOS must not reach the kernel.
 */
#ifndef EFI_LIB_CVM_H
#define EFI_LIB_CVM_H

#include <efi.h>

BOOLEAN is_confidential_vm(void);

#endif
