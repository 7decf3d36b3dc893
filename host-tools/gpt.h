/* SPDX-License-Identifier: MIT */
/*
 * gpt.h - the GUID partition table of a disk image, read the way libblkid
 * reads it for systemd-dissect: sector size probed from where the header
 * is (512 to 4096, as systemd's probe_sector_size), a protective MBR
 * required, the primary header and, if that is invalid, the backup at the
 * image's last sector; header and entry array CRCs checked; partitions
 * outside the usable range ignored.
 */
#ifndef HOST_TOOLS_GPT_H
#define HOST_TOOLS_GPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "byte-source.h"

/* An entry array larger than this is refused: 1 MiB is 8192 entries of 128 bytes (the usual is 128). */
#define GPT_ENTRIES_BYTES_MAX (1u << 20)
#define GPT_UUID_TEXT 37 /* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" + NUL */
#define GPT_LABEL_MAX 36 /* UTF-16 units in an entry's name */

/* GPT partition attribute bits systemd looks at (Discoverable Partitions Specification). */
#define GPT_FLAG_NO_BLOCK_IO (UINT64_C(1) << 1)
#define GPT_FLAG_GROWFS (UINT64_C(1) << 59)
#define GPT_FLAG_READ_ONLY (UINT64_C(1) << 60)
#define GPT_FLAG_NO_AUTO (UINT64_C(1) << 63)

struct gpt_partition {
	uint32_t number;               /* 1-based entry index, as in /dev/loop0p<number> */
	char type_uuid[GPT_UUID_TEXT]; /* lower case */
	char uuid[GPT_UUID_TEXT];
	uint8_t uuid_bytes[16];        /* the partition UUID in RFC 4122 byte order (for root hash matching) */
	uint64_t attrs;
	uint64_t offset, size;         /* bytes */
	bool out_of_range;             /* outside first/last usable LBA: libblkid ignores it */
	char label[GPT_LABEL_MAX * 3 + 1]; /* UTF-8 of printable characters; others as '?' */
};

struct gpt_table {
	uint32_t sector_size;
	bool from_backup; /* the primary header was invalid */
	char disk_uuid[GPT_UUID_TEXT];
	struct gpt_partition *parts; /* entries with a non-zero type, in table order */
	size_t n_parts;
};

/*
 * Read the partition table of @src. Returns 1 and fills @ret; 0 when there
 * is no GPT at all (no protective MBR and no "EFI PART" header: the caller
 * may look for a bare file system); -1 with @p filled when the table is
 * there but broken or absurd, or cannot be read.
 */
int gpt_read(const struct byte_source *src, struct gpt_table *ret, struct problem *p);

void gpt_free(struct gpt_table *t);

/* RFC 4122 text of a GUID as GPT stores it (first three fields little-endian). */
void gpt_guid_text(const uint8_t raw[16], char out[GPT_UUID_TEXT], uint8_t bytes[16]);

#endif
