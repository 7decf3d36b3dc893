/* SPDX-License-Identifier: MIT */
#include "gpt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc32.h"
#include "measure/endian.h"

#define HEADER_MIN 92 /* the header fields the UEFI spec defines */
#define ENTRY_MIN 128
#define PROBE_BYTES 8192 /* the second sector at the largest sector size systemd probes (4096) */

/* Header field offsets (UEFI spec, 5.3.2). */
enum {
	H_REVISION = 8, H_SIZE = 12, H_CRC = 16, H_MY_LBA = 24, H_ALT_LBA = 32, H_FIRST_USABLE = 40,
	H_LAST_USABLE = 48, H_DISK_GUID = 56, H_ENTRIES_LBA = 72, H_N_ENTRIES = 80, H_ENTRY_SIZE = 84,
	H_ENTRIES_CRC = 88,
};

void gpt_guid_text(const uint8_t raw[16], char out[GPT_UUID_TEXT], uint8_t bytes[16])
{
	uint8_t b[16];

	/* GPT stores the first three fields little-endian; RFC 4122 text and bytes are big-endian. */
	b[0] = raw[3], b[1] = raw[2], b[2] = raw[1], b[3] = raw[0];
	b[4] = raw[5], b[5] = raw[4];
	b[6] = raw[7], b[7] = raw[6];
	memcpy(b + 8, raw + 8, 8);
	snprintf(out, GPT_UUID_TEXT,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3],
		 b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
	if (bytes)
		memcpy(bytes, b, 16);
}

void gpt_free(struct gpt_table *t)
{
	free(t->parts);
	t->parts = NULL;
	t->n_parts = 0;
}

/* systemd's gpt_header_has_signature(): the sector size is where such a header is. */
static bool header_signature(const uint8_t *h)
{
	return memcmp(h, "EFI PART", 8) == 0 && le32_read(h + H_REVISION) == 0x00010000 &&
	       le32_read(h + H_SIZE) >= HEADER_MIN && le32_read(h + H_SIZE) <= 4096 && le64_read(h + H_MY_LBA) == 1;
}

/* A protective MBR (libblkid's is_pmbr_valid): boot signature and one partition of type 0xEE. */
static bool has_pmbr(const uint8_t *mbr)
{
	if (mbr[510] != 0x55 || mbr[511] != 0xAA)
		return false;
	for (int i = 0; i < 4; i++)
		if (mbr[446 + 16 * i + 4] == 0xEE)
			return true;
	return false;
}

struct header {
	uint64_t first_usable, last_usable, entries_lba;
	uint32_t n_entries, entry_size, entries_crc;
	uint8_t disk_guid[16];
};

/* The header at @lba, checked as libblkid checks it. 0, or -1 with the reason in @p (a refusal). */
static int read_header(const struct byte_source *src, uint32_t ssz, uint64_t lba, uint64_t last_lba,
		       struct header *h, struct problem *p)
{
	uint8_t *sec = malloc(ssz);
	uint32_t size, crc;
	int r = -1;

	if (!sec)
		return ioerrorf(p, "out of memory");
	if (bsrc_read(src, lba * ssz, sec, ssz, "GPT header", p) < 0)
		goto out;
	if (memcmp(sec, "EFI PART", 8) != 0) {
		refusef(p, "no GPT header at sector %llu", (unsigned long long)lba);
		goto out;
	}
	size = le32_read(sec + H_SIZE);
	if (size < HEADER_MIN || size > ssz) {
		refusef(p, "GPT header at sector %llu: size %u is not %u..%u", (unsigned long long)lba, size,
			HEADER_MIN, ssz);
		goto out;
	}
	crc = le32_read(sec + H_CRC);
	le32_write(sec + H_CRC, 0);
	if (crc32_ieee(sec, size) != crc) {
		refusef(p, "GPT header at sector %llu: CRC mismatch", (unsigned long long)lba);
		goto out;
	}
	if (le64_read(sec + H_MY_LBA) != lba) {
		refusef(p, "GPT header at sector %llu claims to be at sector %llu", (unsigned long long)lba,
			(unsigned long long)le64_read(sec + H_MY_LBA));
		goto out;
	}
	h->first_usable = le64_read(sec + H_FIRST_USABLE);
	h->last_usable = le64_read(sec + H_LAST_USABLE);
	h->entries_lba = le64_read(sec + H_ENTRIES_LBA);
	h->n_entries = le32_read(sec + H_N_ENTRIES);
	h->entry_size = le32_read(sec + H_ENTRY_SIZE);
	h->entries_crc = le32_read(sec + H_ENTRIES_CRC);
	memcpy(h->disk_guid, sec + H_DISK_GUID, 16);
	if (h->last_usable < h->first_usable || h->last_usable > last_lba) {
		refusef(p, "GPT header at sector %llu: usable sectors %llu..%llu do not fit the %llu sectors of the image",
			(unsigned long long)lba, (unsigned long long)h->first_usable,
			(unsigned long long)h->last_usable, (unsigned long long)last_lba + 1);
		goto out;
	}
	if (h->first_usable < lba && lba < h->last_usable) {
		refusef(p, "GPT header at sector %llu lies inside the usable sectors", (unsigned long long)lba);
		goto out;
	}
	if (h->entry_size < ENTRY_MIN || h->entry_size % 8 != 0 || h->n_entries == 0 ||
	    (uint64_t)h->n_entries * h->entry_size > GPT_ENTRIES_BYTES_MAX) {
		refusef(p, "GPT header at sector %llu: %u entries of %u bytes (at most %u bytes of entries, each >= %u)",
			(unsigned long long)lba, h->n_entries, h->entry_size, GPT_ENTRIES_BYTES_MAX, ENTRY_MIN);
		goto out;
	}
	r = 0;
out:
	free(sec);
	return r;
}

static void decode_label(const uint8_t *utf16, char *out)
{
	size_t o = 0;

	for (int i = 0; i < GPT_LABEL_MAX; i++) {
		uint16_t c = le16_read(utf16 + 2 * i);

		if (c == 0)
			break;
		out[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[o] = 0;
}

static int read_entries(const struct byte_source *src, uint32_t ssz, const struct header *h, struct gpt_table *t,
			struct problem *p)
{
	size_t bytes = (size_t)h->n_entries * h->entry_size;
	uint8_t *buf = malloc(bytes);
	int r = -1;

	if (!buf)
		return ioerrorf(p, "out of memory");
	if (h->entries_lba > src->size / ssz) {
		refusef(p, "GPT entries at sector %llu lie outside the image", (unsigned long long)h->entries_lba);
		goto out;
	}
	if (bsrc_read(src, h->entries_lba * ssz, buf, bytes, "GPT partition entries", p) < 0)
		goto out;
	if (crc32_ieee(buf, bytes) != h->entries_crc) {
		refusef(p, "GPT partition entries: CRC mismatch");
		goto out;
	}
	t->parts = calloc(h->n_entries, sizeof(*t->parts));
	if (!t->parts) {
		ioerrorf(p, "out of memory");
		goto out;
	}
	for (uint32_t i = 0; i < h->n_entries; i++) {
		const uint8_t *e = buf + (size_t)i * h->entry_size;
		struct gpt_partition *gp = &t->parts[t->n_parts];
		uint64_t first = le64_read(e + 32), last = le64_read(e + 40);
		static const uint8_t zero[16];

		if (memcmp(e, zero, 16) == 0)
			continue;
		gp->number = i + 1;
		gpt_guid_text(e, gp->type_uuid, NULL);
		gpt_guid_text(e + 16, gp->uuid, gp->uuid_bytes);
		gp->attrs = le64_read(e + 48);
		decode_label(e + 56, gp->label);
		/* libblkid skips entries outside the usable range (and so does systemd-dissect). */
		gp->out_of_range = last < first || first < h->first_usable || last > h->last_usable;
		if (!gp->out_of_range) {
			gp->offset = first * ssz;
			gp->size = (last - first + 1) * ssz;
		}
		t->n_parts++;
	}
	r = 0;
out:
	free(buf);
	return r;
}

int gpt_read(const struct byte_source *src, struct gpt_table *ret, struct problem *p)
{
	uint8_t probe[PROBE_BYTES] = { 0 };
	size_t have = src->size < PROBE_BYTES ? (size_t)src->size : PROBE_BYTES;
	uint32_t ssz = 0;
	uint64_t last_lba;
	struct header h;
	bool pmbr, any_sig = false;

	memset(ret, 0, sizeof(*ret));
	if (bsrc_read(src, 0, probe, have, "first sectors", p) < 0)
		return -1;
	/* systemd probes the sector size only with 8 KiB at hand; otherwise it takes 512. */
	for (uint32_t sz = 512; sz <= 4096; sz <<= 1) {
		if (have < 2 * (size_t)sz || !header_signature(probe + sz))
			continue;
		any_sig = true;
		if (have == PROBE_BYTES && ssz)
			return refusef(p, "GPT headers for two sector sizes (%u and %u)", ssz, sz);
		if (!ssz)
			ssz = sz;
	}
	if (have < PROBE_BYTES || !ssz)
		ssz = 512;
	pmbr = have >= 512 && has_pmbr(probe);
	if (!pmbr && !any_sig && !(have >= 520 && memcmp(probe + 512, "EFI PART", 8) == 0))
		return 0;
	if (!pmbr)
		return refusef(p, "GPT header without a protective MBR (libblkid does not see a partition table)");
	if (src->size / ssz < 3)
		return refusef(p, "protective MBR, but the image is only %llu bytes", (unsigned long long)src->size);
	last_lba = src->size / ssz - 1;
	ret->sector_size = ssz;
	if (read_header(src, ssz, 1, last_lba, &h, p) < 0) {
		struct problem primary = *p;

		if (p->kind == PROBLEM_IO || read_header(src, ssz, last_lba, last_lba, &h, p) < 0) {
			if (p->kind != PROBLEM_IO)
				*p = primary; /* name the primary header's problem: the backup is only a fallback */
			return -1;
		}
		ret->from_backup = true;
	}
	gpt_guid_text(h.disk_guid, ret->disk_uuid, NULL);
	if (read_entries(src, ssz, &h, ret, p) < 0) {
		gpt_free(ret);
		return -1;
	}
	return 1;
}
