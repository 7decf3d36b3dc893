/* SPDX-License-Identifier: MIT */
/*
 * fuzz-veritysig.c - libFuzzer target for the text inputs of `validate`:
 * the verity signature partition (host-tools/verity-sig.c: JSON, hex,
 * base64, PKCS#7) and os-release / extension-release files
 * (host-tools/os-release.c: the env-file syntax and systemd's matching
 * rules).
 *
 * The input is the partition content. Invariants: a signature partition
 * that parses has a root hash of 1..64 bytes and a non-empty signature;
 * checking it against a certificate that signed nothing is refused, never
 * accepted; a refusal is one line. As a release file:
 * every key is non-empty without a newline, and the matching rule
 * gives a verdict with a reason for every refusal. (A key holds '=' only as
 * its first character: systemd's parser takes a line's first non-blank
 * character into the key whatever it is.)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "host-tools/os-release.h"
#include "host-tools/verity-sig.h"

#define CHECK(cond)                                                                            \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "fuzz-veritysig: %s:%d: invariant failed: %s\n", __FILE__, \
				__LINE__, #cond);                                              \
			abort();                                                               \
		}                                                                              \
	} while (0)

static struct verity_certs certs;

/* A self-signed certificate made once, that signed nothing the input can hold. */
static void make_cert(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();

	CHECK(k && x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC, (const unsigned char *)"fuzz", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	CHECK(X509_sign(x, k, EVP_sha256()) > 0);
	EVP_PKEY_free(k);
	certs.x509 = calloc(1, sizeof(void *));
	certs.paths = calloc(1, sizeof(char *));
	CHECK(certs.x509 && certs.paths);
	certs.x509[0] = x;
	certs.paths[0] = strdup("fuzz.crt");
	certs.n = 1;
}

static void check_sig(const uint8_t *data, size_t size)
{
	struct verity_sig s;
	struct problem p = { 0 };
	size_t i = 99;

	if (verity_sig_parse(data, size, &s, &p) < 0) {
		CHECK(p.kind != PROBLEM_NONE && strlen(p.text) > 0 && !strchr(p.text, '\n'));
		return;
	}
	CHECK(s.root_hash_len >= 1 && s.root_hash_len <= VERITY_SIG_ROOT_MAX);
	CHECK(s.signature && s.signature_len >= 1);
	CHECK(verity_sig_verify(&s, &certs, &i, &p) < 0 && i == 99);
	verity_sig_free(&s);
}

static void check_release(const uint8_t *data, size_t size)
{
	static const char host_text[] = "ID=debian\nID_LIKE=ubuntu\nVERSION_ID=13\nSYSEXT_LEVEL=1.2\n";
	struct os_release rel, host;
	char why[256];

	CHECK(os_release_parse((const char *)data, size, &rel) == 0);
	CHECK(os_release_parse(host_text, sizeof(host_text) - 1, &host) == 0 && host.n == 4);
	for (size_t i = 0; i < rel.n; i++) {
		const char *k = rel.entries[i].key;

		/* a line may start with '=': like systemd, that character begins a key no one asks for */
		CHECK(k[0] && !strchr(k + 1, '=') && !strchr(k, '\n') && !strchr(k, '\r'));
	}
	for (int cls = 0; cls < 2; cls++) {
		why[0] = 0;
		if (!extension_release_fits(&rel, &host, (enum extension_class)cls, "initrd", "x86-64", why, sizeof(why)))
			CHECK(strlen(why) > 0);
		(void)extension_release_fits(&rel, NULL, (enum extension_class)cls, NULL, NULL, why, sizeof(why));
	}
	os_release_free(&rel);
	os_release_free(&host);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!certs.n)
		make_cert();
	check_sig(data, size);
	check_release(data, size);
	return 0;
}
