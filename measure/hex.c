/* SPDX-License-Identifier: MIT */
#include "hex.h"

int hex_digit_value(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

ms_status hex_to_bytes(const void *hex, size_t hex_len, uint8_t *out, size_t out_len)
{
	const uint8_t *s = hex;

	if (out_len > SIZE_MAX / 2 || hex_len != 2 * out_len || (out_len && (!s || !out)))
		return MS_ERR_INVALID;
	for (size_t i = 0; i < out_len; i++) {
		int hi = hex_digit_value(s[2 * i]), lo = hex_digit_value(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return MS_ERR_INVALID;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return MS_OK;
}
