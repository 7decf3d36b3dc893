/* SPDX-License-Identifier: MIT */
/*
 * erofs.h - a read-only reader of uncompressed erofs files (the layout
 * mkfs.erofs writes without -z, which is what systemd-repart 257 and 262
 * run for --make-ddi): superblock (checksum checked when flagged),
 * compact and extended inodes, flat, inline-tail and chunk-based data,
 * directories. Compressed files and multi-device images are reported as
 * unsupported, never guessed at.
 */
#ifndef HOST_TOOLS_EROFS_H
#define HOST_TOOLS_EROFS_H

#include "byte-source.h"
#include "image-fs.h"

#define EROFS_SUPER_OFFSET 1024
#define EROFS_MAGIC 0xE0F5E1E2u

/* Open the erofs image of @src (the source must outlive @ret). 0, or -1 with @p filled. */
int erofs_open(const struct byte_source *src, struct imgfs *ret, struct problem *p);

#endif
