/* SPDX-License-Identifier: MIT */
/*
 * tpm-fake.h - EFI_TCG2_PROTOCOL (TCG EFI Protocol Specification rev. 1.22
 * §6) and EFI_CC_MEASUREMENT_PROTOCOL (UEFI 2.10 §38.4) that extend
 * nothing but record every HashLogExtendEvent call: which protocol, the
 * index, the event type and description, the address and length of the
 * data, a SHA-256 of the data at the time of the call and, for short data,
 * a copy. Malformed event structures are violations. A fault schedule
 * makes chosen calls fail.
 */
#ifndef TESTS_EFI_HOST_TPM_FAKE_H
#define TESTS_EFI_HOST_TPM_FAKE_H

#include <efi.h>
#include <stddef.h>
#include <stdint.h>

enum tpm_fake_proto { TPM_FAKE_TCG2, TPM_FAKE_CC };

struct tpm_fake_setup {
	BOOLEAN tcg2;        /* EFI_TCG2_PROTOCOL is installed */
	BOOLEAN tpm_present; /* ... and GetCapability says a TPM is behind it */
	BOOLEAN cc;          /* EFI_CC_MEASUREMENT_PROTOCOL is installed */
	/* The Nth HashLogExtendEvent call (1-based, both protocols counted) returns fail_status; 0: none. */
	unsigned long fail_at;
	EFI_STATUS fail_status; /* EFI_VOLUME_FULL: extended, but the log entry is lost */
	BOOLEAN cc_map_fails;   /* MapPcrToMrIndex fails */
};

/* Install the fakes @s describes (after efi_host_reset) and forget earlier events. */
void tpm_fake_setup(const struct tpm_fake_setup *s);

#define TPM_FAKE_COPY_MAX 4096
#define TPM_FAKE_DESC_MAX 1024

struct tpm_fake_event {
	enum tpm_fake_proto proto;
	UINT32 index; /* PCR (TCG2) or MR index (CC) */
	UINT32 type;
	const void *data;
	UINT64 len;
	unsigned char sha256[32];
	unsigned char *copy; /* the data, when len <= TPM_FAKE_COPY_MAX */
	char desc[TPM_FAKE_DESC_MAX]; /* the description, UTF-16 units below 0x100 as bytes */
	EFI_STATUS status;   /* what the call returned */
};

size_t tpm_fake_event_count(void);
const struct tpm_fake_event *tpm_fake_event(size_t i);

/* Whether a call that returned @status extended the register (success, or a full log). */
static inline int tpm_fake_extended(EFI_STATUS status)
{
	return status == EFI_SUCCESS || status == EFI_VOLUME_FULL;
}

/* The MR index the CC fake maps @pcr to: 3 for PCRs 8-15 (TDX's RTMR[2]), 1 for any other. */
UINT32 tpm_fake_cc_index(UINT32 pcr);

#endif
