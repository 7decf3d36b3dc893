/* SPDX-License-Identifier: MIT */
/* crc32.h - the two CRC-32 variants disk formats use: IEEE 802.3 (GPT) and Castagnoli (erofs). */
#ifndef HOST_TOOLS_CRC32_H
#define HOST_TOOLS_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* CRC-32 (IEEE, reflected, initial and final value ~0), as the UEFI spec uses for GPT headers. */
uint32_t crc32_ieee(const void *data, size_t len);

/*
 * CRC-32C (Castagnoli, reflected) of @len bytes continuing from @crc,
 * without the final inversion: crc32c_raw(~0, ...) is what erofs stores.
 */
uint32_t crc32c_raw(uint32_t crc, const void *data, size_t len);

#endif
