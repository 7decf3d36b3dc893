/* SPDX-License-Identifier: MIT */
/*
 * pcr-signature.h - pick the entry of a tpm2-pcr-signature.json that
 * systemd-cryptsetup would use (tpm2-util.c find_signature):
 *
 *   {"sha256":[{"pcrs":[11,13],"pkfp":"<hex>","pol":"<hex>","sig":"<base64>"}, ...], ...}
 *
 * In the array of the token's bank, the first entry whose "pcrs" equal the
 * token's PCRs exactly (as a set), whose "pkfp" equals the key's fingerprint
 * and whose "pol" equals the live PolicyPCR digest. Entries lacking one of
 * the fields are skipped, malformed ones are an error.
 */
#ifndef TESTS_TPM_PCR_SIGNATURE_H
#define TESTS_TPM_PCR_SIGNATURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tpm-pubkey.h"

#define PCR_SIGNATURE_MAX 512 /* TPM2B_PUBLIC_KEY_RSA: 4096-bit keys */

struct pcr_signature_query {
	const char *bank;    /* JSON key: "sha256", ... */
	uint32_t pcr_mask;   /* bit n: PCR n */
	const uint8_t *pkfp; /* SHA256_LEN bytes */
	const uint8_t *pol;  /* SHA256_LEN bytes; NULL: any pol (the caller lets the TPM judge it) */
};

struct pcr_signature {
	uint8_t pol[SHA256_LEN];
	uint8_t sig[PCR_SIGNATURE_MAX];
	size_t sig_len;
	unsigned other_pol; /* entries for these PCRs and this key skipped because their pol differed */
};

/* 1: found, *ret filled; 0: no matching entry (ret->other_pol still set); -1: unreadable or malformed. */
int pcr_signature_find(const char *path, const struct pcr_signature_query *q, struct pcr_signature *ret);

#endif
