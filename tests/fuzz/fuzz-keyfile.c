/* SPDX-License-Identifier: MIT */
/*
 * fuzz-keyfile.c - libFuzzer target for the key files of `sysext-stub sign`
 * (host-tools/key-file.c): the PEM around them and the DER inside, PKCS#8
 * PrivateKeyInfo and PKCS#1 RSAPrivateKey taken apart by hand, public keys
 * through OpenSSL.
 *
 * Byte 0 chooses what the rest is (byte 0 % 6):
 *   0  a private key file, as it is          3  a public key file, as it is
 *   1  DER, in a "PRIVATE KEY" PEM block      4  DER, in a "PUBLIC KEY" block
 *   2  DER, in an "RSA PRIVATE KEY" block     5  DER, in an "RSA PUBLIC KEY" block
 * The file is a memfd, read through /proc/self/fd/N by the same functions
 * `sign` calls (key_file_load_private(), key_file_load_public()).
 *
 * Checked: a key loaded is an RSA key of at most 8 * POLICY_SIG_MAX bits,
 * and a private one has its private exponent. For private DER (1, 2), our
 * hand-made decoder against OpenSSL's: what we accept, OpenSSL decodes to
 * the same n, e and d; and DER that is exactly OpenSSL's own encoding of a
 * two-prime RSA key (not RSA-PSS) of at most that size, we accept. Messages go to /dev/null; nothing leaks.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create */
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "fuzz-host.h"
#include "host-tools/key-file.h"
#include "host-tools/pcr-policy.h"

enum mode { RAW_PRIVATE, PKCS8_DER, PKCS1_DER, RAW_PUBLIC, SPKI_DER, RSA_PUBLIC_DER, MODES };

static const char *const labels[MODES] = {
	[PKCS8_DER] = "PRIVATE KEY",
	[PKCS1_DER] = "RSA PRIVATE KEY",
	[SPKI_DER] = "PUBLIC KEY",
	[RSA_PUBLIC_DER] = "RSA PUBLIC KEY",
};

/* @der as a PEM block with @label, base64 in lines of 64 (what openssl writes). */
static void write_pem(FILE *f, const char *label, const uint8_t *der, size_t len)
{
	fprintf(f, "-----BEGIN %s-----\n", label);
	for (size_t at = 0; at < len; at += 48) {
		unsigned char line[65];
		size_t n = len - at < 48 ? len - at : 48;

		EVP_EncodeBlock(line, der + at, (int)n);
		fprintf(f, "%s\n", line);
	}
	fprintf(f, "-----END %s-----\n", label);
}

/* The RSA number @name of @key, or NULL. */
static BIGNUM *number(const EVP_PKEY *key, const char *name)
{
	BIGNUM *bn = NULL;

	return EVP_PKEY_get_bn_param(key, name, &bn) == 1 ? bn : NULL;
}

static int same_number(const EVP_PKEY *a, const EVP_PKEY *b, const char *name)
{
	BIGNUM *x = number(a, name), *y = number(b, name);
	int same = x && y && BN_cmp(x, y) == 0;

	BN_clear_free(x);
	BN_clear_free(y);
	return same;
}

/*
 * OpenSSL's own decoder for private DER of @mode, or NULL. *ret_canonical:
 * the input is exactly what OpenSSL writes for the key it decoded (in that
 * form), so no field is left to interpretation.
 */
static EVP_PKEY *openssl_private(enum mode mode, const uint8_t *der, size_t len, int *ret_canonical)
{
	const unsigned char *p = der;
	unsigned char *again = NULL;
	EVP_PKEY *key = NULL;
	int n = -1;

	*ret_canonical = 0;
	if (mode == PKCS8_DER) {
		PKCS8_PRIV_KEY_INFO *info = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)len);

		if (info && p == der + len)
			key = EVP_PKCS82PKEY(info);
		PKCS8_PRIV_KEY_INFO_free(info);
		info = key ? EVP_PKEY2PKCS8(key) : NULL;
		if (info)
			n = i2d_PKCS8_PRIV_KEY_INFO(info, &again);
		PKCS8_PRIV_KEY_INFO_free(info);
	} else {
		key = d2i_PrivateKey(EVP_PKEY_RSA, NULL, &p, (long)len);
		if (key && p != der + len) {
			EVP_PKEY_free(key);
			key = NULL;
		}
		if (key)
			n = i2d_PrivateKey(key, &again);
	}
	*ret_canonical = n >= 0 && (size_t)n == len && memcmp(again, der, len) == 0;
	OPENSSL_clear_free(again, n > 0 ? (size_t)n : 0);
	ERR_clear_error();
	return key;
}

/* A key `sign` can use: RSA (not RSA-PSS), two primes, at most POLICY_SIG_MAX bytes of modulus. */
static int usable_rsa(const EVP_PKEY *key)
{
	BIGNUM *third = number(key, OSSL_PKEY_PARAM_RSA_FACTOR3);
	int ok = EVP_PKEY_is_a(key, "RSA") && !EVP_PKEY_is_a(key, "RSA-PSS") && !third &&
		 EVP_PKEY_get_bits(key) <= 8 * POLICY_SIG_MAX;

	BN_clear_free(third);
	return ok;
}

/*
 * The version field of the RSAPrivateKey in @der (inside a PKCS#8 wrapper
 * for PKCS8_DER): 0 is RFC 8017's two-prime, 1 multi-prime; -1 if there
 * is none. OpenSSL decodes any version number; the CLI takes 0 only.
 */
static int rsa_private_version(enum mode mode, const uint8_t *der, size_t len)
{
	const unsigned char *rsa = der, *p = der;
	PKCS8_PRIV_KEY_INFO *info = NULL;
	int rsa_len = len > INT32_MAX ? 0 : (int)len, version = -1;
	size_t i;

	if (mode == PKCS8_DER) {
		info = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)len);
		if (!info || !PKCS8_pkey_get0(NULL, &rsa, &rsa_len, NULL, info))
			rsa_len = 0;
	}
	/* SEQUENCE (short or long length form), then a one-byte INTEGER. */
	if (rsa_len > 2 && rsa[0] == 0x30) {
		i = rsa[1] < 0x80 ? 2 : 2 + (size_t)(rsa[1] & 0x7f);
		if (i + 3 <= (size_t)rsa_len && rsa[i] == 0x02 && rsa[i + 1] == 0x01)
			version = rsa[i + 2];
	}
	PKCS8_PRIV_KEY_INFO_free(info);
	return version;
}

static void check_private(enum mode mode, const uint8_t *der, size_t len, EVP_PKEY *ours)
{
	int canonical;
	EVP_PKEY *theirs = openssl_private(mode, der, len, &canonical);

	if (ours) {
		CHECK(theirs != NULL);
		CHECK(same_number(ours, theirs, OSSL_PKEY_PARAM_RSA_N));
		CHECK(same_number(ours, theirs, OSSL_PKEY_PARAM_RSA_E));
		CHECK(same_number(ours, theirs, OSSL_PKEY_PARAM_RSA_D));
	} else if (theirs && canonical && rsa_private_version(mode, der, len) == 0) {
		CHECK(!usable_rsa(theirs));
	}
	EVP_PKEY_free(theirs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum mode mode;
	char path[64];
	EVP_PKEY *key;
	FILE *f;
	int fd;

	fuzz_quiet_stderr();
	if (size == 0)
		return 0;
	mode = (enum mode)(data[0] % MODES);
	fd = memfd_create("fuzz-keyfile", MFD_CLOEXEC);
	CHECK(fd >= 0);
	f = fdopen(dup(fd), "w");
	CHECK(f != NULL);
	if (labels[mode])
		write_pem(f, labels[mode], data + 1, size - 1);
	else
		CHECK(fwrite(data + 1, 1, size - 1, f) == size - 1);
	CHECK(fclose(f) == 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

	if (mode <= PKCS1_DER)
		key = key_file_load_private(path);
	else
		key = key_file_load_public(path);
	if (key) {
		CHECK(EVP_PKEY_is_a(key, "RSA"));
		CHECK(EVP_PKEY_get_bits(key) <= 8 * POLICY_SIG_MAX);
		if (mode <= PKCS1_DER) {
			BIGNUM *d = number(key, OSSL_PKEY_PARAM_RSA_D);

			CHECK(d != NULL);
			BN_clear_free(d);
		}
	}
	if (mode == PKCS8_DER || mode == PKCS1_DER)
		check_private(mode, data + 1, size - 1, key);
	EVP_PKEY_free(key);
	ERR_clear_error();
	close(fd);
	return 0;
}
