/* SPDX-License-Identifier: MIT */
#include "pe-edit.h"

#include "measure/endian.h"

void pe_update_checksum(uint8_t *buf, size_t len, const struct pe_image *img)
{
	size_t at = img->opt_offset + PE_OPT_CHECKSUM;
	uint64_t sum = 0;

	le32_write(buf + at, 0);
	/* 16-bit one's-complement-style sum of the file, folded, plus the length. */
	for (size_t i = 0; i + 1 < len; i += 2) {
		sum += le16_read(buf + i);
		sum = (sum & 0xffff) + (sum >> 16);
	}
	if (len & 1) {
		sum += buf[len - 1];
		sum = (sum & 0xffff) + (sum >> 16);
	}
	sum = (sum & 0xffff) + (sum >> 16);
	le32_write(buf + at, (uint32_t)(sum + len));
}
