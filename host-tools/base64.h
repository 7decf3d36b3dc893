/* SPDX-License-Identifier: MIT */
/*
 * base64.h - standard base64 (RFC 4648 section 4, with padding): the "sig"
 * of tpm2-pcr-signature.json, and the body of PEM files (pem.h).
 */
#ifndef HOST_TOOLS_BASE64_H
#define HOST_TOOLS_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Standard base64 with padding, no newlines, into a malloc'ed string; NULL on failure (printed). */
char *base64_encode(const uint8_t *data, size_t len);

/*
 * Decode one group of four characters into out[0..3): returns 3, or 2 or 1
 * for a group that ends in "=" or "==" (which only the last group may), or
 * -1 if the group is not base64. @out may be @in: all four characters are
 * read before anything is written.
 */
int base64_decode_group(const char in[4], uint8_t out[3]);

/* Decode standard base64 (padding required, no whitespace); malloc'ed *ret. Returns 0, or -1 if invalid. */
int base64_decode(const char *s, size_t len, uint8_t **ret, size_t *ret_len);

#endif
