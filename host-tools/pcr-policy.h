/* SPDX-License-Identifier: MIT */
/*
 * pcr-policy.h - the pieces of a signed PCR policy as systemd-cryptsetup
 * checks it (reference-systemd-stub.md §4.3, §4.5): the TPM2 PolicyPCR
 * digest ("pol"), the RSA key and its fingerprint ("pkfp"), and the
 * RSASSA-PKCS1-v1_5 SHA-256 signature over pol ("sig").
 *
 * Keys are RSA only: cryptsetup verifies with TPM2_ALG_RSASSA, so any other
 * key type is refused when it is loaded, with the file named.
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

/*
 * Load a PEM private key (PKCS#1 or PKCS#8, unencrypted: there is no
 * passphrase prompt). The file's bytes are wiped after parsing. NULL on
 * error, printed with @path.
 */
EVP_PKEY *policy_load_private_key(const char *path);

/* Load a PEM public key (SubjectPublicKeyInfo or PKCS#1). NULL on error, printed with @path. */
EVP_PKEY *policy_load_public_key(const char *path);

/* Whether @a and @b are the same public key: 1 yes, 0 no. */
int policy_keys_match(const EVP_PKEY *a, const EVP_PKEY *b);

/* SHA-256 of the key's PKCS#1 RSAPublicKey DER (systemd's pkfp). Returns 0 or -1. */
int policy_key_fingerprint(EVP_PKEY *key, uint8_t out[POLICY_DIGEST_SIZE]);

/* Bytes of a signature by @key (the modulus size). */
size_t policy_signature_size(const EVP_PKEY *key);

/* RSASSA-PKCS1-v1_5 with SHA-256 over the 32 bytes of @pol. sig holds POLICY_SIG_MAX bytes. Returns 0 or -1. */
int policy_sign(EVP_PKEY *key, const uint8_t pol[POLICY_DIGEST_SIZE], uint8_t *sig, size_t *ret_len);

/* Check such a signature: 1 valid, 0 not (also a wrong length). */
int policy_verify(EVP_PKEY *key, const uint8_t pol[POLICY_DIGEST_SIZE], const uint8_t *sig, size_t len);

/* Standard base64 with padding, no newlines, into a malloc'ed string; NULL on failure (printed). */
char *base64_encode(const uint8_t *data, size_t len);

/* Decode standard base64 (padding required, no whitespace); malloc'ed *ret. Returns 0, or -1 if invalid. */
int base64_decode(const char *s, size_t len, uint8_t **ret, size_t *ret_len);

#endif
