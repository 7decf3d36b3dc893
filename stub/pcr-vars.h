/* SPDX-License-Identifier: MIT */
/*
 * pcr-vars.h - the StubPcr* variables systemd-stub sets (reference §2.5):
 * which PCRs this boot measured into. Apart from export-vars.h because
 * the sysext archives announce PCR 13 themselves, when the kernel takes
 * the initrd (stub/lazy-archive.h), and that code also runs in the host
 * tests of the stub's glue.
 */
#ifndef STUB_PCR_VARS_H
#define STUB_PCR_VARS_H

#include <efi.h>

/* What went into which PCR this boot (all FALSE without a TPM). */
struct stub_measured {
	BOOLEAN kernel_image;      /* PCR 11: every section measured */
	BOOLEAN kernel_parameters; /* PCR 12: something measured there (a command line, a profile, a credential, ...) */
	BOOLEAN sysexts;           /* PCR 13: at least one extension measured */
	BOOLEAN confexts;          /* PCR 12: at least one configuration extension measured */
};

/*
 * StubPcrKernelImage="11", StubPcrKernelParameters="12", StubPcrInitRDSysExts="13",
 * StubPcrInitRDConfExts="12", for what is TRUE in @measured (the others are left alone).
 */
void export_pcr_variables(const struct stub_measured *measured);

/* Set loader variable @name to the string @value; a failure is logged and otherwise ignored. */
void stub_var_set(const CHAR16 *name, const CHAR16 *value);

#endif
