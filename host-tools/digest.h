/* SPDX-License-Identifier: MIT */
/*
 * digest.h - the TPM PCR banks the host tools know (sha1, sha256, sha384,
 * sha512), hashing with OpenSSL, and the PCR extend operation
 * PCR_new = H(PCR_old || digest).
 */
#ifndef HOST_TOOLS_DIGEST_H
#define HOST_TOOLS_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define DIGEST_MAX 64
#define BANK_COUNT 4

/* TPM_ALG_ID values (TPM 2.0 Part 2, table 9). */
#define TPM_ALG_SHA1 0x0004
#define TPM_ALG_SHA256 0x000b
#define TPM_ALG_SHA384 0x000c
#define TPM_ALG_SHA512 0x000d

struct bank {
	const char *name; /* "sha256", as in systemd's JSON and /sys/class/tpm/tpm0/pcr-<name> */
	uint16_t alg_id;  /* TPM_ALG_* */
	size_t size;      /* digest bytes */
};

/* All banks, in the order systemd lists them: sha1, sha256, sha384, sha512. */
extern const struct bank banks[BANK_COUNT];

const struct bank *bank_by_name(const char *name);
const struct bank *bank_by_alg(uint16_t alg_id);
/* Index of @b in banks[] (0..BANK_COUNT-1). */
size_t bank_index(const struct bank *b);

/* out = H(data). Returns 0, or -1 (OpenSSL failure, printed). */
int digest_buffer(const struct bank *b, const void *data, size_t len, uint8_t out[DIGEST_MAX]);

/* pcr = H(pcr || digest), both b->size bytes. Returns 0 or -1. */
int pcr_extend(const struct bank *b, uint8_t pcr[DIGEST_MAX], const uint8_t digest[DIGEST_MAX]);

/* Lower-case hex of @len bytes into @out (2*len+1 bytes). Returns out. */
char *hex_encode(const uint8_t *buf, size_t len, char *out);

/* Parse exactly @len bytes of hex from the string @s (measure/hex.h's rules). Returns 0 or -1. */
int hex_decode(const char *s, uint8_t *out, size_t len);

/* A multi-bank hash in progress: one pass over the data feeds every selected bank. */
struct multi_digest {
	void *ctx[BANK_COUNT]; /* EVP_MD_CTX *, NULL for banks not selected */
};

/* @mask: bit i selects banks[i]. Returns 0 or -1. */
int multi_digest_init(struct multi_digest *m, unsigned mask);
int multi_digest_update(struct multi_digest *m, const void *data, size_t len);
/* @n zero bytes (a section's zero fill past its raw data, the initrd's padding). */
int multi_digest_update_zeros(struct multi_digest *m, uint64_t n);
/* Writes out[i] for every selected bank and frees the contexts. */
int multi_digest_final(struct multi_digest *m, uint8_t out[BANK_COUNT][DIGEST_MAX]);
/* Frees without output (error paths); safe after final. */
void multi_digest_free(struct multi_digest *m);

#endif
