/* SPDX-License-Identifier: MIT */
/*
 * tpm-pubkey.h - an RSA public key (PEM) in the three forms systemd's
 * signed PCR policies use (reference-systemd-stub.md §4.3, §4.5):
 *
 *   - the TPM2B_PUBLIC handed to TPM2_LoadExternal, built like systemd's
 *     tpm2_tpm2b_public_from_openssl_pkey (RSA, nameAlg SHA-256,
 *     DECRYPT|SIGN_ENCRYPT|USERWITHAUTH, no symmetric, no scheme, the
 *     exponent written explicitly);
 *   - its TPM name, 000B ‖ SHA-256(marshalled TPMT_PUBLIC), computed here
 *     offline so callers can compare it with the name the TPM reports;
 *   - the "pkfp" of the signature JSON: SHA-256 of the PKCS#1 DER.
 *
 * Plus the policy digest PolicyAuthorize(name) with an empty policyRef,
 * which is what cryptenroll seals the secret under.
 */
#ifndef TESTS_TPM_PUBKEY_H
#define TESTS_TPM_PUBKEY_H

#include <stddef.h>
#include <stdint.h>

#include <tss2/tss2_tpm2_types.h>

#define SHA256_LEN 32
#define TPM_NAME_LEN (2 + SHA256_LEN)

struct tpm_pubkey {
	TPM2B_PUBLIC pub;
	uint8_t name[TPM_NAME_LEN];
	uint8_t pkfp[SHA256_LEN];
};

/* Load the PEM public key at @path. On failure prints "<path>: <reason>" and returns -1. */
int tpm_pubkey_load(const char *path, struct tpm_pubkey *ret);

/* SHA-256(SHA-256(0^32 ‖ TPM_CC_PolicyAuthorize ‖ name) ‖ empty policyRef). */
void policy_authorize_digest(const uint8_t name[TPM_NAME_LEN], uint8_t out[SHA256_LEN]);

#endif
