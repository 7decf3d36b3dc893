/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for measure/extensions.c and measure/cpio.c.
 *
 * The input is a list of records "<name bytes> 0x00 <u8 len> <len data bytes>".
 * Each name goes through the pickup rule; picked names are sorted and
 * written into an archive (counting pass, then into exactly that many
 * bytes), some abandoned on purpose. The archive is then parsed back with
 * an independent newc reader, which must find every kept file with its
 * name and data, inodes from 1 in order, 4-byte alignment and the trailer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "measure/cpio.h"
#include "measure/extensions.h"

#define MAX_FILES 32
#define PREFIX ".extra/sysext"

struct rec {
	char name[EXT_NAME_MAX + 1];
	const uint8_t *data;
	size_t len;
	int keep;
};

static uint32_t hex8(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 0; i < 8; i++) {
		uint8_t c = p[i];

		if (c >= '0' && c <= '9')
			v = v << 4 | (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uint32_t)(c - 'a' + 10);
		else if (c == 'B') /* only in the trailer's namesize */
			v = v << 4 | 11;
		else
			abort();
	}
	return v;
}

/* Parse one entry at *off; returns its name and data, advances *off. */
static void parse_entry(const uint8_t *a, size_t len, size_t *off, uint32_t *ino, uint32_t *mode, const char **name,
			const uint8_t **data, uint32_t *size)
{
	size_t o = *off, namesize;

	if (o % 4 || o + CPIO_HEADER_SIZE > len || memcmp(a + o, "070701", 6))
		abort();
	*ino = hex8(a + o + 6);
	*mode = hex8(a + o + 14);
	*size = hex8(a + o + 6 + 6 * 8);
	namesize = hex8(a + o + 6 + 11 * 8);
	if (namesize == 0 || o + CPIO_HEADER_SIZE + namesize > len || a[o + CPIO_HEADER_SIZE + namesize - 1])
		abort();
	*name = (const char *)a + o + CPIO_HEADER_SIZE;
	o = (o + CPIO_HEADER_SIZE + namesize + 3) & ~(size_t)3;
	if (o + *size > len)
		abort();
	*data = a + o;
	*off = (o + *size + 3) & ~(size_t)3;
}

static int split(const uint8_t *in, size_t n, struct rec *recs)
{
	int count = 0;
	size_t i = 0;

	while (i < n && count < MAX_FILES) {
		size_t start = i, name_len, dlen;
		uint16_t name16[EXT_NAME_MAX + 2];

		while (i < n && in[i])
			i++;
		name_len = i - start;
		if (i + 2 > n)
			break;
		dlen = in[i + 1];
		i += 2;
		if (dlen > n - i)
			dlen = n - i;
		if (name_len <= EXT_NAME_MAX + 1) {
			for (size_t k = 0; k < name_len; k++)
				name16[k] = in[start + k];
			/* The low bit of the length byte doubles as "is a directory". */
			if (ext_classify(name16, name_len, (int)(dlen & 1) && dlen > 200, 0) == EXT_PICK) {
				if (ext_name_to_ascii(name16, name_len, recs[count].name, sizeof(recs[count].name)) != MS_OK)
					abort();
				recs[count].data = in + i;
				recs[count].len = dlen;
				recs[count].keep = !(dlen % 7 == 3); /* abandon some, like unreadable files */
				count++;
			}
		}
		i += dlen;
	}
	return count;
}

static int cmp_rec(const void *a, const void *b)
{
	return ext_name_compare(((const struct rec *)a)->name, ((const struct rec *)b)->name);
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t n)
{
	struct rec recs[MAX_FILES];
	struct cpio_writer w;
	uint8_t *buf = NULL;
	uint64_t size = 0;
	int count = split(in, n, recs);
	size_t off = 0;
	uint32_t expect_ino = 1;

	if (count == 0)
		return 0;
	qsort(recs, (size_t)count, sizeof(recs[0]), cmp_rec);
	for (int pass = 0; pass < 2; pass++) {
		if (pass) {
			buf = malloc(size);
			if (!buf)
				abort();
		}
		cpio_writer_init(&w, buf, size);
		if (cpio_write_dirs(&w, PREFIX, 0555) != MS_OK)
			abort();
		for (int i = 0; i < count; i++) {
			uint64_t path_at, data_at;

			if (cpio_begin_file(&w, PREFIX, recs[i].name, recs[i].len, 0444, &path_at, &data_at) != MS_OK)
				abort();
			if (buf)
				memcpy(buf + data_at, recs[i].data, recs[i].len);
			/* The counting pass keeps everything: it is the upper bound. */
			if (cpio_end_file(&w, pass ? recs[i].keep : 1) != MS_OK)
				abort();
		}
		if (cpio_write_trailer(&w) != MS_OK)
			abort();
		if (!pass)
			size = w.pos;
	}
	/* Parse back: two directories, the kept files in order, the trailer, the end. */
	for (int d = 0; d < 2; d++) {
		uint32_t ino, mode, fsize;
		const char *name;
		const uint8_t *data;

		parse_entry(buf, w.pos, &off, &ino, &mode, &name, &data, &fsize);
		if (ino != expect_ino++ || mode != 040555 || fsize != 0)
			abort();
		if (strcmp(name, d == 0 ? ".extra" : PREFIX))
			abort();
	}
	for (int i = 0; i < count; i++) {
		uint32_t ino, mode, fsize;
		const char *name;
		const uint8_t *data;

		if (!recs[i].keep)
			continue;
		parse_entry(buf, w.pos, &off, &ino, &mode, &name, &data, &fsize);
		if (ino != expect_ino++ || mode != 0100444 || fsize != recs[i].len)
			abort();
		if (strncmp(name, PREFIX "/", sizeof(PREFIX)) || strcmp(name + sizeof(PREFIX), recs[i].name))
			abort();
		if (memcmp(data, recs[i].data, recs[i].len))
			abort();
	}
	{
		uint32_t ino, mode, fsize;
		const char *name;
		const uint8_t *data;

		parse_entry(buf, w.pos, &off, &ino, &mode, &name, &data, &fsize);
		if (ino != 0 || strcmp(name, "TRAILER!!!") || off != w.pos || w.pos > size)
			abort();
	}
	free(buf);
	return 0;
}
