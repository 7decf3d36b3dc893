/* SPDX-License-Identifier: MIT */
/* util.h - file I/O and error reporting shared by the host tools. */
#ifndef HOST_TOOLS_UTIL_H
#define HOST_TOOLS_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Print "sysext-stub: <message>" to stderr. Returns -1 for `return errorf(...)`. */
int errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warnf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Read a whole regular file. On failure prints "<path>: <reason>" and
 * returns -1. @max_size bounds what we are willing to load.
 */
int read_file(const char *path, uint64_t max_size, uint8_t **ret_buf, size_t *ret_len);

/*
 * Write @len bytes to @path atomically: a temporary file in the same
 * directory, fsync, rename. On any failure the temporary is removed and
 * @path is left as it was. Prints the reason and returns -1.
 */
int write_file_atomic(const char *path, const void *buf, size_t len, unsigned mode);

/* Round @v up to a multiple of the power of two @a; -1 on overflow. */
int align_up_u32(uint32_t v, uint32_t a, uint32_t *ret);

#endif
