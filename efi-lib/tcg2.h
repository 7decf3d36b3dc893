/* SPDX-License-Identifier: MIT */
/*
 * tcg2.h - measurements through EFI_TCG2_PROTOCOL (TCG EFI Protocol
 * Specification, rev. 1.22 §6) and, on confidential VMs, through
 * EFI_CC_MEASUREMENT_PROTOCOL (UEFI 2.10 §38.4) first.
 */
#ifndef EFI_LIB_TCG2_H
#define EFI_LIB_TCG2_H

#include <efi.h>

#define EV_IPL 0x0000000d
#define EV_EVENT_TAG 0x00000006

struct measurer {
	void *tcg2; /* EFI_TCG2_PROTOCOL with a TPM present, or NULL */
	void *cc;   /* EFI_CC_MEASUREMENT_PROTOCOL, or NULL */
	BOOLEAN warned_log_full;
};

/* Find the protocols. Returns TRUE if anything can measure. */
BOOLEAN measurer_init(struct measurer *m);

/*
 * One EV_IPL event into @pcr over @len bytes at @data, described in the
 * log by @description (UTF-16, logged with its NUL). EFI_VOLUME_FULL
 * (extended, log full) counts as measured, with one warning per boot.
 */
EFI_STATUS measure_ipl(struct measurer *m, UINT32 pcr, const void *data, UINT64 len, const CHAR16 *description);

/*
 * One EV_EVENT_TAG event into @pcr over @len bytes at @data; the event
 * data is TCG_PCClientTaggedEvent: @tag, then @description (UTF-16 with
 * its NUL) with its size. Same failure rules as measure_ipl().
 */
EFI_STATUS measure_tagged(struct measurer *m, UINT32 pcr, UINT32 tag, const void *data, UINT64 len,
			  const CHAR16 *description);

#endif
