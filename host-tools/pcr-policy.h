/* SPDX-License-Identifier: MIT */
/*
 * pcr-policy.h - the pieces of a signed PCR policy as systemd-cryptsetup
 * checks it (reference-systemd-stub.md §4.3, §4.5): the TPM2 PolicyPCR
 * digest ("pol"), the RSA key and its fingerprint ("pkfp"), and the
 * RSASSA-PKCS1-v1_5 SHA-256 signature over pol ("sig").
 * The keys come from key-file.h.
 */
#ifndef HOST_TOOLS_PCR_POLICY_H
#define HOST_TOOLS_PCR_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "digest.h"

#define POLICY_DIGEST_SIZE 32 /* policy sessions are SHA-256, whatever the PCR bank */
#define POLICY_PCR_COUNT 24
#define POLICY_SIG_MAX 512    /* TPM2B_PUBLIC_KEY_RSA: up to RSA-4096 */

/*
 * pol = SHA256(0^32 || TPM_CC_PolicyPCR || TPML_PCR_SELECTION || SHA256(PCR values)):
 * the selection is one bank (b->alg_id) with a 3-byte bitmap of @pcr_mask;
 * the values are values[n] (b->size bytes each) for the PCRs n of
 * @pcr_mask in ascending order. Returns 0 or -1.
 */
int policy_pcr_digest(const struct bank *b, uint32_t pcr_mask, const uint8_t values[POLICY_PCR_COUNT][DIGEST_MAX],
		      uint8_t pol[POLICY_DIGEST_SIZE]);

/* Whether @a and @b are the same public key: 1 yes, 0 no. */
int policy_keys_match(const EVP_PKEY *a, const EVP_PKEY *b);

/* SHA-256 of the key's PKCS#1 RSAPublicKey DER (systemd's pkfp). Returns 0 or -1. */
int policy_key_fingerprint(EVP_PKEY *key, uint8_t out[POLICY_DIGEST_SIZE]);

/* Bytes of a signature by @key (the modulus size). */
size_t policy_signature_size(const EVP_PKEY *key);

/* RSASSA-PKCS1-v1_5 with SHA-256 over the 32 bytes of @pol. sig holds POLICY_SIG_MAX bytes. Returns 0 or -1. */
int policy_sign(EVP_PKEY *key, const uint8_t pol[POLICY_DIGEST_SIZE], uint8_t *sig, size_t *ret_len);

/*
 * The same over @data_len bytes of @data: systemd-measure 262 signs "tbs",
 * which is pol followed by SHA256(policy reference) when one is given.
 */
int policy_sign_data(EVP_PKEY *key, const uint8_t *data, size_t data_len, uint8_t *sig, size_t *ret_len);

/* Check such a signature: 1 valid, 0 not (also a wrong length). */
int policy_verify(EVP_PKEY *key, const uint8_t pol[POLICY_DIGEST_SIZE], const uint8_t *sig, size_t len);

#endif
