/* SPDX-License-Identifier: MIT */
#include "image-fs.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "erofs.h"
#include "squashfs.h"
#include "measure/endian.h"

const char *imgfs_probe(const struct byte_source *src)
{
	uint8_t b[4096];
	struct problem p;
	size_t have = src->size < sizeof(b) ? (size_t)src->size : sizeof(b);

	if (bsrc_read(src, 0, b, have, "file system superblock", &p) < 0)
		return NULL;
	if (have >= EROFS_SUPER_OFFSET + 4 && le32_read(b + EROFS_SUPER_OFFSET) == EROFS_MAGIC)
		return "erofs";
	if (have >= 4 && le32_read(b) == SQUASHFS_MAGIC)
		return "squashfs";
	if (have >= 6 && memcmp(b, "LUKS\xba\xbe", 6) == 0)
		return "crypto_LUKS";
	if (have >= 1082 && le16_read(b + 1080) == 0xEF53)
		return "ext4";
	if (have >= 4 && memcmp(b, "XFSB", 4) == 0)
		return "xfs";
	if (have >= 512 && memcmp(b + 82, "FAT32   ", 8) == 0)
		return "vfat";
	{
		uint8_t magic[8];

		if (src->size >= 65536 + 72 && bsrc_read(src, 65536 + 64, magic, 8, "btrfs superblock", &p) == 0 &&
		    memcmp(magic, "_BHRfS_M", 8) == 0)
			return "btrfs";
	}
	return NULL;
}

int imgfs_open(const struct byte_source *src, struct imgfs *ret, struct problem *p)
{
	const char *type = imgfs_probe(src);

	memset(ret, 0, sizeof(*ret));
	if (type && strcmp(type, "erofs") == 0)
		return erofs_open(src, ret, p);
	if (type && strcmp(type, "squashfs") == 0)
		return squashfs_open(src, ret, p);
	if (type)
		return unsupportedf(p, "a %s file system (this reader handles erofs and squashfs)", type);
	return refusef(p, "no file system found (neither erofs nor squashfs, nor any other known one)");
}

void imgfs_close(struct imgfs *fs)
{
	if (fs->ops)
		fs->ops->close(fs->fs);
	fs->ops = NULL;
}

struct lookup {
	const char *name;
	size_t len;
	uint64_t ino;
	bool found;
};

static int match(const char *name, size_t len, uint64_t ino, void *userdata)
{
	struct lookup *l = userdata;

	if (len != l->len || memcmp(name, l->name, len) != 0)
		return 0;
	l->ino = ino;
	l->found = true;
	return 1;
}

/*
 * The walk keeps the chain of directories it went through (for ".."), and
 * the path still to go: rest[at..]. A symlink's target is put in front of
 * what is left (through a second buffer: the two never overlap).
 */
struct walk {
	uint64_t dirs[IMGFS_PATH_MAX / 2];
	size_t depth; /* dirs[0] is the root */
	char rest[IMGFS_PATH_MAX * 2], next[IMGFS_PATH_MAX * 2];
	size_t at;
	unsigned links;
};

static int follow_link(struct imgfs *fs, struct walk *w, uint64_t ino, const struct imgfs_stat *st, struct problem *p)
{
	char target[IMGFS_PATH_MAX + 1];
	size_t left = strlen(w->rest + w->at);

	if (++w->links > IMGFS_SYMLINKS_MAX)
		return refusef(p, "more than %d symlinks on the way", IMGFS_SYMLINKS_MAX);
	if (st->size == 0 || st->size > IMGFS_PATH_MAX)
		return refusef(p, "a symlink of %llu bytes", (unsigned long long)st->size);
	if (fs->ops->read(fs->fs, ino, 0, target, (size_t)st->size, p) < 0)
		return -1;
	target[st->size] = 0;
	if (strlen(target) != st->size)
		return refusef(p, "a symlink target with a NUL byte");
	if (st->size + 1 + left >= sizeof(w->rest))
		return refusef(p, "a path longer than %d bytes after following symlinks", IMGFS_PATH_MAX);
	if (target[0] == '/')
		w->depth = 1; /* absolute: from the image's root, never the host's */
	memcpy(w->next, target, st->size);
	w->next[st->size] = '/';
	memcpy(w->next + st->size + 1, w->rest + w->at, left + 1);
	memcpy(w->rest, w->next, st->size + 2 + left);
	w->at = 0;
	return 0;
}

/* One step of the walk: the next component of rest[at..]. 1 done (*ret_ino), 0 go on, 2 absent, -1 a problem. */
static int step(struct imgfs *fs, struct walk *w, uint64_t *ret_ino, struct problem *p)
{
	char *s = w->rest + w->at, *e;
	struct lookup l = { 0 };
	struct imgfs_stat st;
	uint64_t cur = w->dirs[w->depth - 1];
	int r;

	while (*s == '/')
		s++;
	if (!*s) {
		*ret_ino = cur;
		return 1;
	}
	e = strchrnul(s, '/');
	w->at = (size_t)(e - w->rest);
	l.name = s, l.len = (size_t)(e - s);
	if (l.len == 1 && s[0] == '.')
		return 0;
	if (l.len == 2 && s[0] == '.' && s[1] == '.') {
		if (w->depth > 1)
			w->depth--; /* ".." of the root is the root */
		return 0;
	}
	if (fs->ops->stat(fs->fs, cur, &st, p) < 0)
		return -1;
	if (st.type != IMGFS_DIR || l.len > IMGFS_NAME_MAX)
		return 2; /* a file where a directory is needed: ENOTDIR, as good as absent */
	r = fs->ops->readdir(fs->fs, cur, match, &l, p);
	if (r < 0)
		return -1;
	if (!l.found)
		return 2;
	if (fs->ops->stat(fs->fs, l.ino, &st, p) < 0)
		return -1;
	if (st.type == IMGFS_LNK)
		return follow_link(fs, w, l.ino, &st, p);
	if (w->depth >= sizeof(w->dirs) / sizeof(w->dirs[0]))
		return refusef(p, "path too deep");
	w->dirs[w->depth++] = l.ino;
	return 0;
}

int imgfs_resolve(struct imgfs *fs, const char *path, uint64_t *ret_ino, struct problem *p)
{
	struct walk *w = malloc(sizeof(*w));
	int r;

	if (!w)
		return ioerrorf(p, "out of memory");
	w->dirs[0] = fs->root;
	w->depth = 1;
	w->links = 0;
	w->at = 0;
	if (strlen(path) >= sizeof(w->rest)) {
		free(w);
		return refusef(p, "path too long");
	}
	strcpy(w->rest, path);
	while ((r = step(fs, w, ret_ino, p)) == 0)
		;
	free(w);
	return r == 1 ? 0 : r == 2 ? 1 : -1;
}

int imgfs_read_file(struct imgfs *fs, const char *path, size_t max, uint8_t **ret, size_t *ret_len, struct problem *p)
{
	struct imgfs_stat st;
	uint64_t ino;
	uint8_t *buf;
	int r = imgfs_resolve(fs, path, &ino, p);

	if (r != 0)
		return r;
	if (fs->ops->stat(fs->fs, ino, &st, p) < 0)
		return -1;
	if (st.type != IMGFS_REG)
		return refusef(p, "%s is not a regular file", path);
	if (st.size > max)
		return refusef(p, "%s has %llu bytes (at most %zu are read)", path, (unsigned long long)st.size, max);
	buf = malloc((size_t)st.size + 1);
	if (!buf)
		return ioerrorf(p, "out of memory");
	if (fs->ops->read(fs->fs, ino, 0, buf, (size_t)st.size, p) < 0) {
		free(buf);
		return -1;
	}
	buf[st.size] = 0;
	*ret = buf;
	*ret_len = (size_t)st.size;
	return 0;
}

int imgfs_list(struct imgfs *fs, const char *path, imgfs_dirent_cb cb, void *userdata, struct problem *p)
{
	struct imgfs_stat st;
	uint64_t ino;
	int r = imgfs_resolve(fs, path, &ino, p);

	if (r != 0)
		return r;
	if (fs->ops->stat(fs->fs, ino, &st, p) < 0)
		return -1;
	if (st.type != IMGFS_DIR)
		return 1;
	r = fs->ops->readdir(fs->fs, ino, cb, userdata, p);
	return r < 0 ? -1 : 0;
}
