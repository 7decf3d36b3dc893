/* SPDX-License-Identifier: MIT */
/* util.h - file I/O and error reporting shared by the host tools. */
#ifndef HOST_TOOLS_UTIL_H
#define HOST_TOOLS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* Print "sysext-stub: <message>" to stderr. Returns -1 for `return errorf(...)`. */
int errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warnf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Read @fd to EOF (never trusting st_size: securityfs reports 0 for the
 * event log, sysfs 4096 for a PCR), at most @max_size bytes; more is an
 * error naming @path. @size_hint sizes the first allocation (0: unknown).
 * The buffer holds one NUL past the data, so text can be used as a string.
 */
int read_fd_to_end(int fd, const char *path, uint64_t max_size, size_t size_hint, uint8_t **ret_buf,
		   size_t *ret_len);

/*
 * Read a whole regular file with read_fd_to_end(); a file whose size
 * changes while it is read is an error. On failure prints
 * "<path>: <reason>" and returns -1. @max_size bounds what we load.
 */
/* Open @path for reading and fstat it into *@st; it must be a regular file. The fd, or -1 (message printed). */
int open_regular_file(const char *path, struct stat *st);

int read_file(const char *path, uint64_t max_size, uint8_t **ret_buf, size_t *ret_len);

/*
 * Read a whole file with read_fd_to_end() (sysfs and securityfs files
 * report sizes that are not theirs). Unlike read_file() any file but a
 * directory will do (a pipe from ssh, say). Returns 0, 1 if @missing_ok and
 * the file does not exist, or -1 (printed).
 */
int read_any_file(const char *path, uint64_t max_size, bool missing_ok, uint8_t **ret_buf, size_t *ret_len);

/*
 * Write @len bytes to @path atomically and durably: a temporary file in the
 * same directory, created with @mode as open(2) would create it (the umask
 * applies: pass 0666 for a file anyone may read, 0600 for a secret), fsync,
 * rename, fsync of the directory. A failure before the rename removes the
 * temporary and leaves @path as it was; a failure to sync the directory
 * after it is reported too (the new file is in place, but a crash may lose
 * it). Prints the reason and returns -1.
 */
int write_file_atomic(const char *path, const void *buf, size_t len, unsigned mode);

/*
 * @s made safe to print on a terminal: bytes below 0x20, 0x7f and bytes
 * from 0x80 as "\xNN", the rest as they are (a file name on a hostile ESP
 * copy may carry escape sequences). Returns a new string, or NULL when out
 * of memory; shown_free() it.
 */
char *shown_text(const char *s);
void shown_free(char *shown);
/* "<shown>" or "?" when it could not be made (for use right inside a printf). */
#define SHOWN(p) ((p) ? (p) : "?")

/* A decimal number 0..@max and nothing else (no sign, no spaces): 0, or -1. */
int parse_uint(const char *s, unsigned max, unsigned *ret);

/* Round @v up to a multiple of the power of two @a; -1 on overflow. */
int align_up_u32(uint32_t v, uint32_t a, uint32_t *ret);

#endif
