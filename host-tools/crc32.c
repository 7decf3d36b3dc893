/* SPDX-License-Identifier: MIT */
#include "crc32.h"

/* Bitwise, one byte at a time: these checksums cover a few KiB per image, never the data. */
static uint32_t update(uint32_t crc, const uint8_t *p, size_t len, uint32_t poly)
{
	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (poly & (0u - (crc & 1)));
	}
	return crc;
}

uint32_t crc32_ieee(const void *data, size_t len)
{
	return ~update(~0u, data, len, 0xEDB88320u);
}

uint32_t crc32c_raw(uint32_t crc, const void *data, size_t len)
{
	return update(crc, data, len, 0x82F63B78u);
}
