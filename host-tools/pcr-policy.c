/* SPDX-License-Identifier: MIT */
#include "pcr-policy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "util.h"

#define TPM_CC_POLICY_PCR 0x0000017Fu
#define KEY_FILE_MAX (1 << 20)

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

/* RSA (RSASSA-PKCS1-v1_5) only, with a signature that fits TPM2B_PUBLIC_KEY_RSA. */
static int check_key_type(EVP_PKEY *key, const char *path)
{
	int id = EVP_PKEY_get_base_id(key), bits = EVP_PKEY_get_bits(key);
	const char *name;

	if (id != EVP_PKEY_RSA) {
		switch (id) {
		case EVP_PKEY_EC: name = "an EC"; break;
		case EVP_PKEY_ED25519: name = "an Ed25519"; break;
		case EVP_PKEY_ED448: name = "an Ed448"; break;
		case EVP_PKEY_RSA_PSS: name = "an RSA-PSS-only"; break;
		default: name = "a non-RSA"; break;
		}
		return errorf("%s: is %s key; systemd-cryptsetup verifies RSA signatures only "
			      "(create one with: openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048)",
			      path, name);
	}
	if (bits > 8 * POLICY_SIG_MAX)
		return errorf("%s: a %d-bit RSA key; a TPM takes signatures of at most %d bits", path, bits,
			      8 * POLICY_SIG_MAX);
	if (bits != 2048)
		warnf("%s: a %d-bit RSA key; TPMs are only required to load 2048-bit keys, so this one may not unlock",
		      path, bits);
	return 0;
}

/*
 * Read a private key file into one buffer allocated once (never grown, so
 * no stale copy is left in freed memory); every failure wipes what was
 * read. The caller wipes and frees *ret_buf.
 */
static int read_secret_file(const char *path, uint8_t **ret_buf, size_t *ret_len)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t len = 0;
	int fd, r = -1;

	fd = open_regular_file(path, &st);
	if (fd < 0)
		return -1;
	if (st.st_size > KEY_FILE_MAX) {
		errorf("%s: too large for a key (%lld bytes)", path, (long long)st.st_size);
		goto out;
	}
	/* One byte more than the size: reading it means the file grew. */
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		errorf("%s: out of memory", path);
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			errorf("%s: read error: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > (size_t)st.st_size) {
			errorf("%s: file changed size while reading", path);
			goto out;
		}
	}
	*ret_buf = buf;
	*ret_len = len;
	buf = NULL;
	r = 0;
out:
	if (buf) {
		OPENSSL_cleanse(buf, (size_t)st.st_size + 1);
		free(buf);
	}
	close(fd);
	return r;
}

/* Passphrase callback that never prompts: it records that a passphrase was wanted and fails. */
static int no_passphrase(char *buf, int size, int rwflag, void *userdata)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	*(bool *)userdata = true;
	return -1;
}

EVP_PKEY *policy_load_private_key(const char *path)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	bool wanted_passphrase = false;
	EVP_PKEY *key = NULL;
	BIO *bio;

	if (read_secret_file(path, &buf, &len) < 0)
		return NULL;
	/* Parsed straight from our buffer (a read-only memory BIO makes no copy), which is wiped below. */
	bio = BIO_new_mem_buf(buf, (int)len);
	if (bio) {
		key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, &wanted_passphrase);
		BIO_free(bio);
	}
	OPENSSL_cleanse(buf, len);
	free(buf);
	ERR_clear_error();
	if (!key) {
		if (wanted_passphrase)
			errorf("%s: the private key is encrypted and there is no passphrase prompt; use an unencrypted "
			       "key, or sign externally (--policy-digest-only, then --signature)",
			       path);
		else
			errorf("%s: not a PEM private key", path);
		return NULL;
	}
	if (check_key_type(key, path) < 0) {
		EVP_PKEY_free(key); /* OpenSSL clears the key's numbers when it frees them */
		return NULL;
	}
	return key;
}

EVP_PKEY *policy_load_public_key(const char *path)
{
	uint8_t *buf = NULL;
	size_t size = 0, len;
	EVP_PKEY *key = NULL;
	OSSL_DECODER_CTX *dctx;
	const unsigned char *p;

	if (read_secret_file(path, &buf, &size) < 0)
		return NULL;
	len = size;
	/* Any PEM public-key structure: SubjectPublicKeyInfo ("PUBLIC KEY") or PKCS#1 ("RSA PUBLIC KEY"). */
	dctx = OSSL_DECODER_CTX_new_for_pkey(&key, "PEM", NULL, NULL, EVP_PKEY_PUBLIC_KEY, NULL, NULL);
	p = buf;
	if (!dctx || !OSSL_DECODER_from_data(dctx, &p, &len)) {
		EVP_PKEY_free(key);
		key = NULL;
	}
	OSSL_DECODER_CTX_free(dctx);
	/* Someone may pass the private key file here by mistake: wipe what was read in any case. */
	OPENSSL_cleanse(buf, size);
	free(buf);
	ERR_clear_error();
	if (!key) {
		errorf("%s: not a PEM public key", path);
		return NULL;
	}
	if (check_key_type(key, path) < 0) {
		EVP_PKEY_free(key);
		return NULL;
	}
	return key;
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
	EVP_MD_CTX *ctx = rsassa_sha256(key, true);
	size_t len = POLICY_SIG_MAX;
	int ok;

	if (!ctx) {
		ERR_clear_error();
		return errorf("cannot set up RSASSA-PKCS1-v1_5 SHA-256 signing");
	}
	ok = EVP_DigestSign(ctx, sig, &len, pol, POLICY_DIGEST_SIZE);
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

char *base64_encode(const uint8_t *data, size_t len)
{
	char *out;

	if (len > (size_t)INT32_MAX / 2) {
		errorf("out of memory");
		return NULL;
	}
	out = malloc(4 * ((len + 2) / 3) + 1);
	if (!out) {
		errorf("out of memory");
		return NULL;
	}
	EVP_EncodeBlock((unsigned char *)out, data, (int)len); /* no newlines, NUL-terminated */
	return out;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int base64_decode(const char *s, size_t len, uint8_t **ret, size_t *ret_len)
{
	uint8_t *out;
	size_t n = 0;

	if (len % 4 != 0)
		return -1;
	out = malloc(len / 4 * 3 + 1);
	if (!out)
		return errorf("out of memory");
	for (size_t i = 0; i < len; i += 4) {
		int v[4];
		size_t pad = 0;

		for (size_t k = 0; k < 4; k++) {
			/* '=' only in the last group, as its last one or two characters. */
			if (s[i + k] == '=' && i + 4 == len && k >= 2 && (k == 3 || s[i + 3] == '=')) {
				v[k] = 0;
				pad++;
				continue;
			}
			v[k] = b64_value(s[i + k]);
			if (v[k] < 0 || pad) {
				free(out);
				return -1;
			}
		}
		out[n++] = (uint8_t)(v[0] << 2 | v[1] >> 4);
		if (pad < 2)
			out[n++] = (uint8_t)(v[1] << 4 | v[2] >> 2);
		if (pad < 1)
			out[n++] = (uint8_t)(v[2] << 6 | v[3]);
	}
	*ret = out;
	*ret_len = n;
	return 0;
}
