/* SPDX-License-Identifier: MIT */
/*
 * cpio.h - newc ("070701") archive writer, byte-identical to what
 * systemd-stub generates for its sidecar archives (reference §3.1):
 *
 *   - one entry per component of the target directory: every leading
 *     component mode 040555, the last one the target's directory mode;
 *   - one entry per file, mode 0100000 | file mode, in the order written;
 *   - inode numbers from 1, counting directories then files; a file that is
 *     abandoned (read or measurement failed) consumes no number;
 *   - uid, gid, mtime and all device numbers 0, nlink 1, check 0, so the
 *     bytes depend only on names, order and contents (FAT times would make
 *     measurements unstable);
 *   - paths without a leading '/', NUL-terminated, padded with NULs to a
 *     multiple of 4 counted from the start of the archive; data padded alike;
 *   - the trailer: ino 0, nlink 1, namesize written "0000000B" (the only
 *     upper-case hex digit, as systemd writes it), "TRAILER!!!" + 4 NULs.
 *
 * The writer works in place: begin a file, let the caller put exactly
 * `size` bytes at the returned data offset (the stub reads the file there),
 * then keep or abandon it. With a NULL buffer it only counts, which gives
 * the exact size to allocate.
 */
#ifndef MEASURE_CPIO_H
#define MEASURE_CPIO_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define CPIO_HEADER_SIZE 110
#define CPIO_TRAILER_SIZE 124
/* newc stores sizes in 32 bits: a file must be smaller than 4 GiB. */
#define CPIO_FILE_SIZE_MAX 0xffffffffULL
/* Longest path (prefix + '/' + name) we write, excluding the NUL. */
#define CPIO_PATH_MAX 512

#define CPIO_MODE_DIR 0040000u
#define CPIO_MODE_FILE 0100000u

struct cpio_writer {
	uint8_t *buf;        /* NULL: count only */
	uint64_t cap;        /* bytes available at buf */
	uint64_t pos;        /* bytes written so far */
	uint32_t next_inode; /* next inode number to assign */
	uint64_t file_start; /* pos when the open file's entry began */
	uint64_t file_size;
	int file_open;
};

void cpio_writer_init(struct cpio_writer *w, uint8_t *buf, uint64_t cap);

/* Entries for each component of @prefix (e.g. ".extra/sysext"). */
ms_status cpio_write_dirs(struct cpio_writer *w, const char *prefix, uint32_t dir_mode);

/*
 * Write the header and path "<prefix>/<name>" of a file of @size bytes.
 * ret_path_offset: where the NUL-terminated path was written (its bytes
 * are what the PCR 13 name event measures); ret_data_offset: where the
 * caller must put the file's bytes. Either may be NULL.
 */
ms_status cpio_begin_file(struct cpio_writer *w, const char *prefix, const char *name, uint64_t size,
			  uint32_t file_mode, uint64_t *ret_path_offset, uint64_t *ret_data_offset);

/*
 * Finish the open file: keep != 0 pads its data and assigns its inode;
 * keep == 0 rewinds as if it was never begun.
 */
ms_status cpio_end_file(struct cpio_writer *w, int keep);

ms_status cpio_write_trailer(struct cpio_writer *w);

/* Length of a NUL-terminated string (measure/ has no libc). */
size_t cpio_strlen(const char *s);

#endif
