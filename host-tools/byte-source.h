/* SPDX-License-Identifier: MIT */
/*
 * byte-source.h - random-access, bounds-checked reads from an image: a
 * whole file (pread), a partition of it (a slice), or a buffer (tests and
 * fuzz targets). Every parser of image content reads through this, so no
 * offset from the image is ever used without a check against the size.
 */
#ifndef HOST_TOOLS_BYTE_SOURCE_H
#define HOST_TOOLS_BYTE_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "problem.h"

struct byte_source {
	/* Read exactly @len bytes at @off (already checked against size); 0, or -1 with errno set. */
	int (*read)(const struct byte_source *s, uint64_t off, void *buf, size_t len);
	uint64_t size;
	uint64_t base;     /* offset of byte 0 in the underlying file or buffer */
	int fd;            /* file sources */
	const uint8_t *mem; /* memory sources */
};

/* A source over the open file @fd of @size bytes. */
struct byte_source bsrc_file(int fd, uint64_t size);

/* A source over @len bytes at @buf (kept alive by the caller). */
struct byte_source bsrc_memory(const void *buf, size_t len);

/*
 * Bytes [@off, @off + @len) of @parent as a source of their own. -1 (a
 * refusal in @p naming @what) when the range does not lie inside @parent.
 */
int bsrc_slice(const struct byte_source *parent, uint64_t off, uint64_t len, struct byte_source *ret,
	       const char *what, struct problem *p);

/*
 * Read [@off, @off + @len): 0; or -1 with @p filled: a refusal ("@what at
 * byte N lies outside the M-byte image") for a range past the end, an I/O
 * problem for a failed read.
 */
int bsrc_read(const struct byte_source *s, uint64_t off, void *buf, size_t len, const char *what,
	      struct problem *p);

#endif
