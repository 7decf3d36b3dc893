/* SPDX-License-Identifier: MIT */
#include "pcr-policy.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "util.h"

#define TPM_CC_POLICY_PCR 0x0000017Fu

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int policy_pcr_digest(const struct bank *b, uint32_t pcr_mask, const uint8_t values[POLICY_PCR_COUNT][DIGEST_MAX],
		      uint8_t pol[POLICY_DIGEST_SIZE])
{
	const struct bank *sha256 = bank_by_name("sha256");
	uint8_t values_digest[DIGEST_MAX], *concat, buf[POLICY_DIGEST_SIZE + 4 + 10 + POLICY_DIGEST_SIZE], *p = buf;
	size_t n = 0;
	int r;

	/* SHA256 of the selected values, ascending PCR order. */
	concat = malloc(POLICY_PCR_COUNT * DIGEST_MAX);
	if (!concat)
		return errorf("out of memory");
	for (unsigned pcr = 0; pcr < POLICY_PCR_COUNT; pcr++)
		if (pcr_mask & (1u << pcr)) {
			memcpy(concat + n, values[pcr], b->size);
			n += b->size;
		}
	r = digest_buffer(sha256, concat, n, values_digest);
	free(concat);
	if (r < 0)
		return -1;

	/* The session digest starts at zero; PolicyPCR extends it with its command code and arguments. */
	memset(p, 0, POLICY_DIGEST_SIZE);
	p += POLICY_DIGEST_SIZE;
	put_be32(p, TPM_CC_POLICY_PCR);
	p += 4;
	/* TPML_PCR_SELECTION: count 1, then TPMS_PCR_SELECTION { hash, sizeofSelect 3, pcrSelect[3] }. */
	put_be32(p, 1);
	p += 4;
	*p++ = (uint8_t)(b->alg_id >> 8);
	*p++ = (uint8_t)b->alg_id;
	*p++ = 3;
	for (unsigned i = 0; i < 3; i++)
		*p++ = (uint8_t)(pcr_mask >> (8 * i));
	memcpy(p, values_digest, POLICY_DIGEST_SIZE);
	p += POLICY_DIGEST_SIZE;
	if (digest_buffer(sha256, buf, (size_t)(p - buf), values_digest) < 0)
		return -1;
	memcpy(pol, values_digest, POLICY_DIGEST_SIZE);
	return 0;
}

int policy_keys_match(const EVP_PKEY *a, const EVP_PKEY *b)
{
	int r = EVP_PKEY_eq(a, b);

	ERR_clear_error();
	return r == 1;
}

int policy_key_fingerprint(EVP_PKEY *key, uint8_t out[POLICY_DIGEST_SIZE])
{
	unsigned char *der = NULL;
	int len = i2d_PublicKey(key, &der); /* for RSA: the PKCS#1 RSAPublicKey, as systemd's pubkey_fingerprint */
	uint8_t d[DIGEST_MAX];
	int r;

	if (len <= 0) {
		ERR_clear_error();
		return errorf("cannot encode the public key");
	}
	r = digest_buffer(bank_by_name("sha256"), der, (size_t)len, d);
	OPENSSL_free(der);
	memcpy(out, d, POLICY_DIGEST_SIZE);
	return r;
}

size_t policy_signature_size(const EVP_PKEY *key)
{
	int n = EVP_PKEY_get_size(key);

	return n > 0 ? (size_t)n : 0;
}

static EVP_MD_CTX *rsassa_sha256(EVP_PKEY *key, bool sign)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int ok;

	if (!ctx)
		return NULL;
	ok = sign ? EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), NULL, key)
		  : EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), NULL, key);
	if (ok != 1 || EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
		EVP_MD_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

int policy_sign(EVP_PKEY *key, const uint8_t pol[POLICY_DIGEST_SIZE], uint8_t *sig, size_t *ret_len)
{
	return policy_sign_data(key, pol, POLICY_DIGEST_SIZE, sig, ret_len);
}

int policy_sign_data(EVP_PKEY *key, const uint8_t *data, size_t data_len, uint8_t *sig, size_t *ret_len)
{
	EVP_MD_CTX *ctx = rsassa_sha256(key, true);
	size_t len = POLICY_SIG_MAX;
	int ok;

	if (!ctx) {
		ERR_clear_error();
		return errorf("cannot set up RSASSA-PKCS1-v1_5 SHA-256 signing");
	}
	ok = EVP_DigestSign(ctx, sig, &len, data, data_len);
	EVP_MD_CTX_free(ctx);
	if (ok != 1) {
		ERR_clear_error();
		return errorf("signing failed");
	}
	*ret_len = len;
	return 0;
}

int policy_verify(EVP_PKEY *key, const uint8_t pol[POLICY_DIGEST_SIZE], const uint8_t *sig, size_t len)
{
	EVP_MD_CTX *ctx;
	int ok;

	if (len != policy_signature_size(key))
		return 0;
	ctx = rsassa_sha256(key, false);
	if (!ctx) {
		ERR_clear_error();
		return 0;
	}
	ok = EVP_DigestVerify(ctx, sig, len, pol, POLICY_DIGEST_SIZE);
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return ok == 1;
}
