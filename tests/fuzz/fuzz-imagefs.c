/* SPDX-License-Identifier: MIT */
/*
 * fuzz-imagefs.c - libFuzzer target for the file system readers of
 * `validate`: erofs (host-tools/erofs.c), squashfs (host-tools/squashfs.c),
 * the path walk with symlinks (host-tools/image-fs.c) and the DEFLATE/zlib
 * decoder (host-tools/inflate.c).
 *
 * The input is a file system image: the release files a sysext or confext
 * could carry are read, the release directories listed. Invariants: a file
 * read is NUL-terminated at its size and no larger than asked; every name
 * listed is 1..255 bytes without '/' or NUL; a problem is one line.
 *
 * The input is also inflated as a zlib stream and as raw DEFLATE, and
 * compared with zlib's own decoder: both accept with the same bytes, or
 * both refuse (ours may refuse output beyond its buffer, which zlib is
 * given room for).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "host-tools/image-fs.h"
#include "host-tools/inflate.h"

#define CHECK(cond)                                                                            \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "fuzz-imagefs: %s:%d: invariant failed: %s\n", __FILE__, \
				__LINE__, #cond);                                              \
			abort();                                                               \
		}                                                                              \
	} while (0)

#define OUT_CAP 65536

static void check_problem(const struct problem *p)
{
	CHECK(p->kind != PROBLEM_NONE && strlen(p->text) > 0 && !strchr(p->text, '\n'));
}

static int check_name(const char *name, size_t len, uint64_t ino, void *userdata)
{
	(void)ino;
	CHECK(len >= 1 && len <= IMGFS_NAME_MAX && !memchr(name, '/', len) && !memchr(name, 0, len));
	return ++*(unsigned *)userdata > 1000 ? 1 : 0;
}

static void read_one(struct imgfs *fs, const char *path)
{
	struct problem p = { 0 };
	uint8_t *buf = NULL;
	size_t len = 0;
	int r = imgfs_read_file(fs, path, 4096, &buf, &len, &p);

	if (r == 0) {
		CHECK(len <= 4096 && buf[len] == 0);
		free(buf);
	} else if (r < 0) {
		check_problem(&p);
	}
}

static void check_fs(const uint8_t *data, size_t size)
{
	struct byte_source src = bsrc_memory(data, size);
	struct problem p = { 0 };
	struct imgfs fs;
	unsigned n = 0;

	if (imgfs_open(&src, &fs, &p) < 0) {
		check_problem(&p);
		return;
	}
	read_one(&fs, "/usr/lib/extension-release.d/extension-release.hello");
	read_one(&fs, "/etc/extension-release.d/extension-release.cfg");
	read_one(&fs, "/lib/extension-release.d/../extension-release.d/./extension-release.hello");
	memset(&p, 0, sizeof(p));
	if (imgfs_list(&fs, "/usr/lib/extension-release.d", check_name, &n, &p) < 0)
		check_problem(&p);
	n = 0;
	memset(&p, 0, sizeof(p));
	if (imgfs_list(&fs, "/", check_name, &n, &p) < 0)
		check_problem(&p);
	imgfs_close(&fs);
}

static void check_inflate(const uint8_t *data, size_t size)
{
	static uint8_t ours[OUT_CAP], theirs[OUT_CAP + 1];
	size_t n = 0;
	uLongf zn = sizeof(theirs);
	enum inflate_status s = inflate_zlib(data, size, ours, OUT_CAP, &n);
	int z = uncompress(theirs, &zn, data, size);

	if (s == INFLATE_OK) {
		CHECK(z == Z_OK && zn == n && memcmp(ours, theirs, n) == 0);
	} else if (z == Z_OK) {
		/* zlib allows trailing bytes after the checksum and output up to its larger buffer */
		CHECK(s == INFLATE_TOO_BIG || zn > OUT_CAP || s == INFLATE_TRUNCATED || s == INFLATE_CORRUPT);
		CHECK(s != INFLATE_CORRUPT || zn > OUT_CAP);
	}
	n = 0;
	s = inflate_raw(data, size, ours, OUT_CAP, &n, NULL);
	CHECK(s != INFLATE_OK || n <= OUT_CAP);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_fs(data, size);
	check_inflate(data, size);
	return 0;
}
