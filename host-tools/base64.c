/* SPDX-License-Identifier: MIT */
#include "base64.h"

#include <stdint.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "util.h"

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

int base64_decode_group(const char in[4], uint8_t out[3])
{
	int v[4];
	int n = 3;

	/* '=' as the last character, or as the last two. */
	if (in[3] == '=')
		n = in[2] == '=' ? 1 : 2;
	for (int k = 0; k < 4; k++) {
		v[k] = k > n ? 0 : b64_value(in[k]);
		if (v[k] < 0)
			return -1;
	}
	out[0] = (uint8_t)(v[0] << 2 | v[1] >> 4);
	if (n > 1)
		out[1] = (uint8_t)(v[1] << 4 | v[2] >> 2);
	if (n > 2)
		out[2] = (uint8_t)(v[2] << 6 | v[3]);
	return n;
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
		int k = base64_decode_group(s + i, out + n);

		/* A short (padded) group ends the text. */
		if (k < 0 || (k < 3 && i + 4 != len)) {
			free(out);
			return -1;
		}
		n += (size_t)k;
	}
	*ret = out;
	*ret_len = n;
	return 0;
}
