/* SPDX-License-Identifier: MIT */
/*
 * smbios-words.h - what systemd-stub v262 takes from the firmware's SMBIOS
 * table (measure/smbios.h):
 *  - the kernel command-line words a VM's host passes as the OEM string
 *    io.systemd.stub.kernel-cmdline-extra= (QEMU: -smbios type=11,value=...),
 *    appended to the command line and measured into PCR 12, except in a
 *    confidential VM, where the host is not trusted;
 *  - the SMBIOS structures of types 1, 2 and 11, measured into PCR 1 (one
 *    tagged event each) unless a boot loader did so before us
 *    (LoaderPcrSMBIOS is set).
 */
#ifndef STUB_SMBIOS_WORDS_H
#define STUB_SMBIOS_WORDS_H

#include <efi.h>

#include "efi-lib/tcg2.h"

/* The extra words, mangled like any command line, or NULL (none, empty, a confidential VM, no memory). */
CHAR16 *smbios_cmdline_extra(void);

/*
 * PCR 1: every type 1, 2 and 11 structure, in table order, then
 * LoaderPcrSMBIOS = "1" if any was measured. TRUE if every measurement
 * made succeeded.
 */
BOOLEAN measure_smbios(struct measurer *m);

#endif
