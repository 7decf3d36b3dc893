/* SPDX-License-Identifier: MIT */
#include "digest.h"

#include <string.h>

#include <openssl/evp.h>

#include "util.h"
#include "measure/hex.h"

const struct bank banks[BANK_COUNT] = {
	{ "sha1", TPM_ALG_SHA1, 20 },
	{ "sha256", TPM_ALG_SHA256, 32 },
	{ "sha384", TPM_ALG_SHA384, 48 },
	{ "sha512", TPM_ALG_SHA512, 64 },
};

static const EVP_MD *bank_md(const struct bank *b)
{
	switch (b->alg_id) {
	case TPM_ALG_SHA1:
		return EVP_sha1();
	case TPM_ALG_SHA256:
		return EVP_sha256();
	case TPM_ALG_SHA384:
		return EVP_sha384();
	default:
		return EVP_sha512();
	}
}

const struct bank *bank_by_name(const char *name)
{
	for (size_t i = 0; i < BANK_COUNT; i++)
		if (strcasecmp(name, banks[i].name) == 0)
			return &banks[i];
	return NULL;
}

const struct bank *bank_by_alg(uint16_t alg_id)
{
	for (size_t i = 0; i < BANK_COUNT; i++)
		if (banks[i].alg_id == alg_id)
			return &banks[i];
	return NULL;
}

size_t bank_index(const struct bank *b)
{
	return (size_t)(b - banks);
}

int digest_buffer(const struct bank *b, const void *data, size_t len, uint8_t out[DIGEST_MAX])
{
	unsigned int n = 0;

	if (EVP_Digest(data, len, out, &n, bank_md(b), NULL) != 1 || n != b->size)
		return errorf("%s: hashing failed (OpenSSL)", b->name);
	return 0;
}

int pcr_extend(const struct bank *b, uint8_t pcr[DIGEST_MAX], const uint8_t digest[DIGEST_MAX])
{
	uint8_t cat[2 * DIGEST_MAX];

	memcpy(cat, pcr, b->size);
	memcpy(cat + b->size, digest, b->size);
	return digest_buffer(b, cat, 2 * b->size, pcr);
}

char *hex_encode(const uint8_t *buf, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[buf[i] >> 4];
		out[2 * i + 1] = digits[buf[i] & 15];
	}
	out[2 * len] = 0;
	return out;
}

int hex_decode(const char *s, uint8_t *out, size_t len)
{
	return hex_to_bytes(s, strlen(s), out, len) == MS_OK ? 0 : -1;
}

int multi_digest_init(struct multi_digest *m, unsigned mask)
{
	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < BANK_COUNT; i++) {
		if (!(mask & (1u << i)))
			continue;
		m->ctx[i] = EVP_MD_CTX_new();
		if (!m->ctx[i] || EVP_DigestInit_ex(m->ctx[i], bank_md(&banks[i]), NULL) != 1) {
			multi_digest_free(m);
			return errorf("%s: cannot start hashing (OpenSSL)", banks[i].name);
		}
	}
	return 0;
}

int multi_digest_update(struct multi_digest *m, const void *data, size_t len)
{
	for (size_t i = 0; i < BANK_COUNT; i++)
		if (m->ctx[i] && EVP_DigestUpdate(m->ctx[i], data, len) != 1)
			return errorf("%s: hashing failed (OpenSSL)", banks[i].name);
	return 0;
}

int multi_digest_update_zeros(struct multi_digest *m, uint64_t n)
{
	static const uint8_t zeros[4096];

	while (n > 0) {
		size_t k = n < sizeof(zeros) ? (size_t)n : sizeof(zeros);

		if (multi_digest_update(m, zeros, k) < 0)
			return -1;
		n -= k;
	}
	return 0;
}

int multi_digest_final(struct multi_digest *m, uint8_t out[BANK_COUNT][DIGEST_MAX])
{
	int r = 0;

	for (size_t i = 0; i < BANK_COUNT; i++) {
		unsigned int n = 0;

		if (m->ctx[i] && (EVP_DigestFinal_ex(m->ctx[i], out[i], &n) != 1 || n != banks[i].size))
			r = errorf("%s: hashing failed (OpenSSL)", banks[i].name);
	}
	multi_digest_free(m);
	return r;
}

void multi_digest_free(struct multi_digest *m)
{
	for (size_t i = 0; i < BANK_COUNT; i++) {
		EVP_MD_CTX_free(m->ctx[i]);
		m->ctx[i] = NULL;
	}
}
