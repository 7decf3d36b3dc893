/* SPDX-License-Identifier: MIT */
/*
 * verity-sig.h - the verity signature partition of a DDI and its check,
 * as systemd does it (src/shared/dissect-image.c, v257 and v262):
 *
 *   - the partition is at most 4 MiB of JSON, padded with NUL bytes:
 *     {"rootHash":"<hex>","certificateFingerprint":"<hex>","signature":"<base64>"};
 *   - "signature" is a DER PKCS#7 signature over the root hash written as
 *     lower-case hex text (what the kernel's dm-verity checks, too);
 *   - in userspace it is checked with PKCS7_verify() against every
 *     certificate in /etc/verity.d, /run/verity.d, /usr/local/lib/verity.d
 *     and /usr/lib/verity.d (files "*.crt", the first of a name wins, an
 *     empty one or a link to /dev/null masks that name, the first PEM
 *     certificate of each), signer certificate taken from that set only,
 *     no chain verification (PKCS7_NOINTERN | PKCS7_NOVERIFY);
 *   - "certificateFingerprint" is not used by systemd for the check; we
 *     report whether it names the certificate that verified.
 */
#ifndef HOST_TOOLS_VERITY_SIG_H
#define HOST_TOOLS_VERITY_SIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "problem.h"

#define VERITY_SIG_SIZE_MAX (4u << 20)
#define VERITY_SIG_ROOT_MAX 64

struct verity_sig {
	uint8_t root_hash[VERITY_SIG_ROOT_MAX];
	size_t root_hash_len;
	uint8_t fingerprint[32];
	bool has_fingerprint; /* certificateFingerprint is 64 hex digits */
	uint8_t *signature;   /* DER PKCS#7 */
	size_t signature_len;
};

/* Parse the partition's @len bytes. 0, or -1 with a refusal in @p. */
int verity_sig_parse(const uint8_t *buf, size_t len, struct verity_sig *ret, struct problem *p);

void verity_sig_free(struct verity_sig *s);

/* A set of trusted certificates, and the file each came from. */
struct verity_certs {
	void **x509; /* X509 * */
	char **paths;
	size_t n;
};

/* The directories systemd searches, in its order (relative to a root directory). */
extern const char *const verity_cert_dirs[4];

/* Every certificate in PEM file @path (at least one, else an error). 0, or -1 (message printed). */
int verity_certs_add_file(struct verity_certs *c, const char *path);

/* systemd's search of verity_cert_dirs under @root ("" or "/" for the real root). 0, or -1 (out of memory). */
int verity_certs_add_dirs(struct verity_certs *c, const char *root);

void verity_certs_free(struct verity_certs *c);

/*
 * Verify @s against @c. 0 with *@ret_index the certificate that made the
 * signature, or -1 with a refusal in @p (no certificates, not PKCS#7, or
 * no certificate verifies it).
 */
int verity_sig_verify(const struct verity_sig *s, const struct verity_certs *c, size_t *ret_index, struct problem *p);

/* Whether certificate @i of @c has SHA-256 fingerprint @fp (the DER's digest). */
bool verity_certs_fingerprint_is(const struct verity_certs *c, size_t i, const uint8_t fp[32]);

#endif
