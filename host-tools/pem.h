/* SPDX-License-Identifier: MIT */
/*
 * pem.h - the blocks of a PEM file (RFC 7468, and RFC 1421 header lines as
 * OpenSSL's traditional encrypted keys have them), found and decoded
 * without OpenSSL, so that a key file's contents only ever reach buffers
 * the caller wipes (key-file.h).
 *
 *   -----BEGIN <label>-----
 *   [Proc-Type: 4,ENCRYPTED       header lines, then an empty line]
 *   [DEK-Info: ...]
 *   <base64 lines>
 *   -----END <label>-----
 *
 * Text before, between and after blocks is skipped, as OpenSSL does.
 */
#ifndef HOST_TOOLS_PEM_H
#define HOST_TOOLS_PEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PEM_LABEL_MAX 64

struct pem_block {
	char label[PEM_LABEL_MAX + 1]; /* "PRIVATE KEY", "RSA PUBLIC KEY", ... */
	size_t body, body_end;         /* offsets of the base64 lines: [body, body_end) */
	bool headers;                  /* header lines before the body */
	bool encrypted;                /* one of them is "Proc-Type: 4,ENCRYPTED" */
};

/*
 * The next block of text[*pos..len): 1, with *pos moved past its END line;
 * 0 when there is none; -1 for a BEGIN line whose END line is missing or
 * has another label (b->label names the block).
 */
int pem_next(const uint8_t *text, size_t len, size_t *pos, struct pem_block *b);

/* Bytes pem_decode() writes at most for @b. */
size_t pem_decoded_max(const struct pem_block *b);

/*
 * Decode the base64 body of @b (whitespace and line breaks skipped, padding
 * only at the end) into out[0..pem_decoded_max(b)). 0, or -1 if it is not
 * base64. No decoded byte goes anywhere but @out (the group in flight is
 * wiped), so a caller that wipes @out leaves no copy.
 */
int pem_decode(const uint8_t *text, const struct pem_block *b, uint8_t *out, size_t *ret_len);

#endif
