/* SPDX-License-Identifier: MIT */
#include "tpm-pubkey.h"

#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <tss2/tss2_mu.h>

#include "tool.h"

static void sha256(const void *data, size_t len, uint8_t out[SHA256_LEN])
{
	unsigned int n = SHA256_LEN;

	(void)EVP_Digest(data, len, out, &n, EVP_sha256(), NULL);
}

/* The TPM2B_PUBLIC systemd builds for TPM2_LoadExternal from an RSA key. */
static int fill_public(const char *path, const BIGNUM *n, const BIGNUM *e, TPM2B_PUBLIC *ret)
{
	int n_bytes = BN_num_bytes(n);
	TPMT_PUBLIC *p = &ret->publicArea;

	if (n_bytes <= 0 || n_bytes > TPM2_MAX_RSA_KEY_BYTES)
		return tool_error("%s: RSA modulus of %d bytes does not fit a TPM key", path, n_bytes);
	if (BN_num_bits(e) > 32)
		return tool_error("%s: RSA exponent does not fit 32 bits", path);
	memset(ret, 0, sizeof(*ret));
	p->type = TPM2_ALG_RSA;
	p->nameAlg = TPM2_ALG_SHA256;
	p->objectAttributes = TPMA_OBJECT_DECRYPT | TPMA_OBJECT_SIGN_ENCRYPT | TPMA_OBJECT_USERWITHAUTH;
	p->parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
	p->parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
	p->parameters.rsaDetail.keyBits = (TPMI_RSA_KEY_BITS)(n_bytes * 8);
	/* Explicit, never 0 ("default 65537"): the value is part of the name (systemd bug #30546). */
	p->parameters.rsaDetail.exponent = (UINT32)BN_get_word(e);
	p->unique.rsa.size = (UINT16)n_bytes;
	if (BN_bn2bin(n, p->unique.rsa.buffer) != n_bytes)
		return tool_error("%s: cannot convert the RSA modulus", path);
	return 0;
}

static int compute_name(const char *path, const TPMT_PUBLIC *p, uint8_t name[TPM_NAME_LEN])
{
	uint8_t buf[sizeof(TPMT_PUBLIC)];
	size_t off = 0;

	if (Tss2_MU_TPMT_PUBLIC_Marshal(p, buf, sizeof(buf), &off) != TSS2_RC_SUCCESS)
		return tool_error("%s: cannot marshal the TPM public area", path);
	name[0] = TPM2_ALG_SHA256 >> 8;
	name[1] = TPM2_ALG_SHA256 & 0xff;
	sha256(buf, off, name + 2);
	return 0;
}

int tpm_pubkey_load(const char *path, struct tpm_pubkey *ret)
{
	EVP_PKEY *pkey = NULL;
	BIGNUM *n = NULL, *e = NULL;
	unsigned char *der = NULL;
	FILE *f;
	int der_len, r = -1;

	f = fopen(path, "re");
	if (!f)
		return tool_error("%s: %m", path);
	pkey = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	if (!pkey) {
		tool_error("%s: not a PEM public key", path);
		goto out;
	}
	/* cryptsetup verifies with TPM2_ALG_RSASSA only (reference §4.3). */
	if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
		tool_error("%s: not an RSA key (systemd's signed policies are RSA only)", path);
		goto out;
	}
	if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) ||
	    !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e)) {
		tool_error("%s: cannot read the RSA modulus and exponent", path);
		goto out;
	}
	if (fill_public(path, n, e, &ret->pub) < 0 || compute_name(path, &ret->pub.publicArea, ret->name) < 0)
		goto out;
	/* pkfp: SHA-256 over i2d_PublicKey(), for RSA the PKCS#1 RSAPublicKey DER. */
	der_len = i2d_PublicKey(pkey, &der);
	if (der_len <= 0) {
		tool_error("%s: cannot encode the key as PKCS#1 DER", path);
		goto out;
	}
	sha256(der, (size_t)der_len, ret->pkfp);
	r = 0;
out:
	OPENSSL_free(der);
	BN_free(n);
	BN_free(e);
	EVP_PKEY_free(pkey);
	return r;
}

void policy_authorize_digest(const uint8_t name[TPM_NAME_LEN], uint8_t out[SHA256_LEN])
{
	uint8_t buf[SHA256_LEN + 4 + TPM_NAME_LEN] = { 0 };
	uint8_t d1[SHA256_LEN];

	/* policyDigest starts as 32 zero bytes; TPM_CC_PolicyAuthorize = 0x0000016A, big-endian. */
	buf[SHA256_LEN + 2] = (TPM2_CC_PolicyAuthorize >> 8) & 0xff;
	buf[SHA256_LEN + 3] = TPM2_CC_PolicyAuthorize & 0xff;
	memcpy(buf + SHA256_LEN + 4, name, TPM_NAME_LEN);
	sha256(buf, sizeof(buf), d1);
	/* PolicyUpdate's second step hashes in policyRef, here empty: d = SHA-256(d1). */
	sha256(d1, sizeof(d1), out);
}
