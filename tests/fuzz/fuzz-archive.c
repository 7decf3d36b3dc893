/* SPDX-License-Identifier: MIT */
/*
 * fuzz-archive.c - libFuzzer target for measure/sysext-archive.c, the plan
 * and fill steps the stub and the host share (fuzz-cpio covers the cpio
 * writer underneath on its own).
 *
 * Input: byte 0 holds flags (bit 0: the global prefix; bits 1-7: which of
 * the first seven files the fill callback abandons, as a failed read or
 * measurement would), then records "<name bytes> 0x00 <u8 len> <data>".
 * Names are taken as they come (any bytes but NUL, any length), so the
 * plan's limits are exercised as well as the layout.
 *
 * Checked: the plan equals the exact newc size computed here from the
 * format (or fails exactly when a path is over CPIO_PATH_MAX); fill into
 * exactly the planned bytes succeeds, hands the callback the path
 * sysext_archive_path() gives and a data slot of the file's size inside the
 * buffer, in order; keeping every file gives exactly the planned size; one
 * byte less fails cleanly; and the archive parses back with the reader
 * below into the kept files, inodes from 1, and the trailer at the end.
 * Sizes near 2^32 and 2^64 are planned (not filled) too.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure/companion.h"

#define CHECK(cond)                                                                            \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "fuzz-archive: %s:%d: invariant failed: %s\n",         \
				__FILE__, __LINE__, #cond);                                    \
			abort();                                                               \
		}                                                                              \
	} while (0)

#define MAX_FILES 24

struct file {
	char *name;
	const uint8_t *data;
	uint64_t size;
	int keep;
};

struct fill_ctx {
	const char *prefix;
	struct file *files;
	uint8_t *buf;
	uint64_t cap;
	size_t calls;
};

static uint64_t align4(uint64_t v)
{
	return (v + 3) & ~(uint64_t)3;
}

/* The newc size of @n files under @prefix, all kept (reference §3.1), or 0 when a path is too long. */
static unsigned __int128 ref_size(const char *prefix, const struct file *f, size_t n)
{
	size_t plen = strlen(prefix);
	unsigned __int128 total = 0;

	for (size_t end = 1; end <= plen; end++)
		if (end == plen || prefix[end] == '/')
			total += align4(CPIO_HEADER_SIZE + end + 1);
	for (size_t i = 0; i < n; i++) {
		size_t path = plen + 1 + strlen(f[i].name);

		if (path > CPIO_PATH_MAX)
			return 0;
		total += align4(CPIO_HEADER_SIZE + path + 1) + (((unsigned __int128)f[i].size + 3) & ~(unsigned __int128)3);
	}
	return total + CPIO_TRAILER_SIZE;
}

static int fill(void *ctx_, size_t index, const char *path, uint8_t *data, uint64_t size)
{
	struct fill_ctx *ctx = ctx_;
	char want[CPIO_PATH_MAX + 1];

	CHECK(index == ctx->calls++); /* in order, once each */
	CHECK(size == ctx->files[index].size);
	CHECK(sysext_archive_path(ctx->prefix, ctx->files[index].name, want, sizeof(want)) == MS_OK);
	CHECK(strcmp(path, want) == 0);
	CHECK((const uint8_t *)path >= ctx->buf && (const uint8_t *)path + strlen(path) < ctx->buf + ctx->cap);
	CHECK(data >= ctx->buf && (uint64_t)(data - ctx->buf) + size <= ctx->cap);
	memcpy(data, ctx->files[index].data, size);
	return ctx->files[index].keep;
}

static uint32_t hex8(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 0; i < 8; i++) {
		uint8_t c = p[i];

		CHECK((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == 'B');
		v = v << 4 | (uint32_t)(c <= '9' ? c - '0' : c == 'B' ? 11 : c - 'a' + 10);
	}
	return v;
}

/* One newc entry at *off: its inode, mode, name and data; *off moves past it. */
static void read_entry(const uint8_t *a, uint64_t len, uint64_t *off, uint32_t *ino, uint32_t *mode,
		       const char **name, const uint8_t **data, uint32_t *size)
{
	uint64_t o = *off;
	uint32_t namesize;

	CHECK(o % 4 == 0 && o + CPIO_HEADER_SIZE <= len && memcmp(a + o, "070701", 6) == 0);
	*ino = hex8(a + o + 6);
	*mode = hex8(a + o + 14);
	*size = hex8(a + o + 54);
	namesize = hex8(a + o + 94);
	CHECK(namesize > 0 && o + CPIO_HEADER_SIZE + namesize <= len);
	CHECK(a[o + CPIO_HEADER_SIZE + namesize - 1] == 0);
	CHECK(memchr(a + o + CPIO_HEADER_SIZE, 0, namesize) == a + o + CPIO_HEADER_SIZE + namesize - 1);
	*name = (const char *)a + o + CPIO_HEADER_SIZE;
	o = align4(o + CPIO_HEADER_SIZE + namesize);
	CHECK(o + *size <= len);
	*data = a + o;
	*off = align4(o + *size);
}

static void parse_back(const uint8_t *a, uint64_t len, const struct archive_layout *layout, const struct file *f, size_t n)
{
	uint64_t off = 0;
	uint32_t ino, mode, size, next = 1;
	const char *name;
	const uint8_t *data;
	const char *prefix = layout->prefix;
	size_t plen = strlen(prefix);

	for (size_t end = 1; end <= plen; end++) {
		if (end < plen && prefix[end] != '/')
			continue;
		read_entry(a, len, &off, &ino, &mode, &name, &data, &size);
		CHECK(ino == next++ && mode == (040000 | (end == plen ? layout->dir_mode : 0555)) && size == 0);
		CHECK(strlen(name) == end && memcmp(name, prefix, end) == 0);
	}
	for (size_t i = 0; i < n; i++) {
		if (!f[i].keep)
			continue;
		read_entry(a, len, &off, &ino, &mode, &name, &data, &size);
		CHECK(ino == next++ && mode == (0100000 | layout->file_mode) && size == f[i].size);
		CHECK(strncmp(name, prefix, plen) == 0 && name[plen] == '/' && strcmp(name + plen + 1, f[i].name) == 0);
		CHECK(memcmp(data, f[i].data, size) == 0);
	}
	read_entry(a, len, &off, &ino, &mode, &name, &data, &size);
	CHECK(ino == 0 && strcmp(name, "TRAILER!!!") == 0 && size == 0);
	CHECK(memcmp(a + off - CPIO_TRAILER_SIZE + 94, "0000000B", 8) == 0);
	CHECK(off == len);
}

static void check_big_sizes(const struct archive_layout *layout, struct file *f, size_t n, const uint8_t *in, size_t in_len)
{
	const char *names[MAX_FILES];
	uint64_t sizes[MAX_FILES], planned = 0;
	struct file big[MAX_FILES];
	unsigned __int128 want;
	ms_status r;

	for (size_t i = 0; i < n; i++) {
		uint8_t b = in_len ? in[i % in_len] : 0;

		big[i] = f[i];
		big[i].size = b & 1 ? 0xffffffffull - (b >> 1) : b & 2 ? UINT64_MAX - b : (uint64_t)b << 24;
		names[i] = f[i].name;
		sizes[i] = big[i].size;
	}
	r = sysext_archive_plan(layout, names, sizes, n, &planned);
	for (size_t i = 0; i < n; i++)
		if (sizes[i] > CPIO_FILE_SIZE_MAX) {
			CHECK(r != MS_OK); /* newc cannot describe it */
			return;
		}
	want = ref_size(layout->prefix, big, n);
	if (want == 0) {
		CHECK(r == MS_ERR_LIMIT);
		return;
	}
	CHECK(r == MS_OK && planned == (uint64_t)want);
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t n_in)
{
	struct file files[MAX_FILES];
	const char *names[MAX_FILES];
	uint64_t sizes[MAX_FILES], planned = 0, final = 0;
	const struct archive_layout *layout;
	size_t n = 0, i = 1, kept = 0, want_kept = 0;
	unsigned __int128 want;
	struct fill_ctx ctx;
	uint8_t *buf;
	ms_status r;

	if (n_in == 0)
		return 0;
	layout = &companion_targets[in[0] % companion_target_count].layout;
	while (i < n_in && n < MAX_FILES) {
		size_t start = i, len;

		while (i < n_in && in[i])
			i++;
		if (i + 2 > n_in || i == start)
			break;
		files[n].name = malloc(i - start + 1);
		CHECK(files[n].name != NULL);
		memcpy(files[n].name, in + start, i - start);
		files[n].name[i - start] = 0;
		len = in[i + 1];
		i += 2;
		if (len > n_in - i)
			len = n_in - i;
		files[n].data = in + i;
		files[n].size = len;
		files[n].keep = n >= 7 || !((in[0] >> (n + 1)) & 1);
		want_kept += files[n].keep;
		names[n] = files[n].name;
		sizes[n] = len;
		i += len;
		n++;
	}

	r = sysext_archive_plan(layout, names, sizes, n, &planned);
	want = ref_size(layout->prefix, files, n);
	if (want == 0) {
		CHECK(r == MS_ERR_LIMIT);
		goto out;
	}
	CHECK(r == MS_OK && planned == (uint64_t)want);

	buf = malloc(planned);
	CHECK(buf != NULL);
	ctx = (struct fill_ctx){ .prefix = layout->prefix, .files = files, .buf = buf, .cap = planned };
	r = sysext_archive_fill(buf, planned, layout, names, sizes, n, fill, &ctx, &final, &kept);
	CHECK(r == MS_OK && ctx.calls == n && kept == want_kept);
	if (kept == 0) {
		CHECK(final == 0); /* nothing to pass on */
	} else {
		CHECK(final <= planned);
		if (kept == n)
			CHECK(final == planned);
		parse_back(buf, final, layout, files, n);
	}
	free(buf);

	/* One byte short of the plan: refused, never written past. */
	if (n > 0 && planned > 0) {
		for (size_t k = 0; k < n; k++)
			files[k].keep = 1;
		buf = malloc(planned - 1);
		CHECK(buf != NULL);
		ctx = (struct fill_ctx){ .prefix = layout->prefix, .files = files, .buf = buf, .cap = planned - 1 };
		r = sysext_archive_fill(buf, planned - 1, layout, names, sizes, n, fill, &ctx, &final, &kept);
		CHECK(r == MS_ERR_BUFFER_TOO_SMALL && final == 0 && kept == 0);
		free(buf);
	}
	check_big_sizes(layout, files, n, in, n_in);
out:
	for (size_t k = 0; k < n; k++)
		free(files[k].name);
	return 0;
}
