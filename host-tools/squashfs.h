/* SPDX-License-Identifier: MIT */
/*
 * squashfs.h - a read-only reader of squashfs 4.0 images: metadata blocks,
 * basic and extended directory, file and symlink inodes, data blocks and
 * fragments, uncompressed or gzip-compressed (inflate.h; mksquashfs's
 * default). Other compressors (xz, lzo, lz4, zstd) are reported as
 * unsupported.
 */
#ifndef HOST_TOOLS_SQUASHFS_H
#define HOST_TOOLS_SQUASHFS_H

#include "byte-source.h"
#include "image-fs.h"

#define SQUASHFS_MAGIC 0x73717368u

/* Open the squashfs image of @src (the source must outlive @ret). 0, or -1 with @p filled. */
int squashfs_open(const struct byte_source *src, struct imgfs *ret, struct problem *p);

#endif
