/* SPDX-License-Identifier: MIT */
/*
 * image-fs.h - read files out of the read-only file systems sysext images
 * carry (erofs, systemd-repart's default; squashfs), without mounting
 * anything. Each reader (erofs.h, squashfs.h) gives four operations on
 * inode numbers; this module walks paths over them the way systemd's
 * chase(CHASE_AT_RESOLVE_IN_ROOT) does: symlinks followed, absolute ones
 * and ".." kept inside the image's root, at most IMGFS_SYMLINKS_MAX of
 * them.
 *
 * Every size and offset comes from the image and is checked before use.
 */
#ifndef HOST_TOOLS_IMAGE_FS_H
#define HOST_TOOLS_IMAGE_FS_H

#include <stddef.h>
#include <stdint.h>

#include "byte-source.h"
#include "problem.h"

#define IMGFS_NAME_MAX 255
#define IMGFS_SYMLINKS_MAX 32
#define IMGFS_PATH_MAX 4096

enum imgfs_ftype { IMGFS_OTHER, IMGFS_REG, IMGFS_DIR, IMGFS_LNK };

struct imgfs_stat {
	enum imgfs_ftype type;
	uint64_t size;
};

/* Called per directory entry (not "." and ".."): 0 go on, 1 stop (found), -1 stop with an error. */
typedef int (*imgfs_dirent_cb)(const char *name, size_t len, uint64_t ino, void *userdata);

struct imgfs_ops {
	const char *name; /* "erofs", "squashfs" */
	int (*stat)(void *fs, uint64_t ino, struct imgfs_stat *ret, struct problem *p);
	/* Read [@off, @off + @len) of a regular file or symlink (inside its size). */
	int (*read)(void *fs, uint64_t ino, uint64_t off, void *buf, size_t len, struct problem *p);
	/* Each entry of directory @dir; returns the callback's 1 or -1, or 0 after the last entry. */
	int (*readdir)(void *fs, uint64_t dir, imgfs_dirent_cb cb, void *userdata, struct problem *p);
	void (*close)(void *fs);
};

struct imgfs {
	const struct imgfs_ops *ops;
	void *fs;
	uint64_t root;
};

/* The file system type @src holds, by its magic ("erofs", "squashfs", "crypto_LUKS", "ext4", ...), or NULL. */
const char *imgfs_probe(const struct byte_source *src);

/* Open the erofs or squashfs file system of @src. 0, or -1 (unknown type: unsupported; broken: refused). */
int imgfs_open(const struct byte_source *src, struct imgfs *ret, struct problem *p);

void imgfs_close(struct imgfs *fs);

/* The inode @path names (absolute, inside the image). 0 found, 1 it does not exist, -1 a problem. */
int imgfs_resolve(struct imgfs *fs, const char *path, uint64_t *ret_ino, struct problem *p);

/*
 * The whole regular file at @path, at most @max bytes, NUL-terminated
 * (malloc'ed). 0, 1 when it does not exist, -1 a problem (not a regular
 * file, too large, unreadable).
 */
int imgfs_read_file(struct imgfs *fs, const char *path, size_t max, uint8_t **ret, size_t *ret_len, struct problem *p);

/*
 * Each entry of the directory at @path (the callback may stop early). 0,
 * 1 when there is no such directory, -1 a problem (or the callback's -1).
 */
int imgfs_list(struct imgfs *fs, const char *path, imgfs_dirent_cb cb, void *userdata, struct problem *p);

#endif
