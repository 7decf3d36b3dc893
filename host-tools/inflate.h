/* SPDX-License-Identifier: MIT */
/*
 * inflate.h - a bounded DEFLATE (RFC 1951) decoder and its zlib wrapper
 * (RFC 1950), for squashfs images compressed with gzip (mksquashfs's
 * default). Never allocates; never reads or writes outside the buffers it
 * is given; hostile input is an error, never a crash or a hang.
 */
#ifndef HOST_TOOLS_INFLATE_H
#define HOST_TOOLS_INFLATE_H

#include <stddef.h>
#include <stdint.h>

enum inflate_status {
	INFLATE_OK = 0,
	INFLATE_TRUNCATED,  /* the input ends inside the stream */
	INFLATE_TOO_BIG,    /* the output does not fit */
	INFLATE_CORRUPT,    /* not a valid stream (or a checksum mismatch) */
};

/* Raw DEFLATE: src[0..src_len) into dst[0..dst_cap); *dst_len gets the output size. */
enum inflate_status inflate_raw(const uint8_t *src, size_t src_len, uint8_t *dst, size_t dst_cap, size_t *dst_len,
				size_t *src_used);

/* A zlib stream (header, DEFLATE data, Adler-32 of the output checked). */
enum inflate_status inflate_zlib(const uint8_t *src, size_t src_len, uint8_t *dst, size_t dst_cap, size_t *dst_len);

const char *inflate_strerror(enum inflate_status s);

#endif
