/* SPDX-License-Identifier: MIT */
/*
 * sysext-archive.h - plan, then fill, the newc archive of one extension
 * directory, shared by the stub (which reads each file straight into its
 * place and measures it there) and the host tools (which predict and
 * reproduce it). Layout, byte for byte as systemd-stub's (reference §3.1):
 * directory entries for each prefix component (mode 040555, the last one
 * the layout's directory mode), then one entry per kept file in the
 * caller's order (0100000 | the layout's file mode, inodes from 1, skipped
 * files use none), then the trailer. measure/companion.h has the layout of
 * every archive the stub writes.
 */
#ifndef MEASURE_SYSEXT_ARCHIVE_H
#define MEASURE_SYSEXT_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#include "cpio.h"
#include "status.h"

/* Where an archive puts its files and with which modes. */
struct archive_layout {
	const char *prefix; /* ".extra/sysext": no leading or trailing '/' */
	uint32_t dir_mode;  /* of the prefix's last component (the others are 0555) */
	uint32_t file_mode;
};

/* Exact size of the archive if all @n files are kept. */
ms_status sysext_archive_plan(const struct archive_layout *layout, const char *const *names, const uint64_t *sizes,
			      size_t n, uint64_t *ret_size);

/*
 * Called once per file, in order, with the file's path inside the archive
 * (NUL-terminated, as stored: "<prefix>/<name>") and the @size bytes
 * reserved for its content. Fill @data and return nonzero to keep the
 * file, zero to leave it out (its entry is rewound, nothing is copied).
 */
typedef int (*sysext_fill_fn)(void *ctx, size_t index, const char *path, uint8_t *data, uint64_t size);

/*
 * Lay the archive out in @buf (@cap bytes, at least the planned size).
 * *ret_size is the final size, *ret_kept the files kept. With no file kept
 * the archive is not finished: *ret_kept is 0 and callers pass nothing on.
 */
ms_status sysext_archive_fill(uint8_t *buf, uint64_t cap, const struct archive_layout *layout,
			      const char *const *names, const uint64_t *sizes, size_t n, sysext_fill_fn fill, void *ctx,
			      uint64_t *ret_size, size_t *ret_kept);

/*
 * A literal archive: the one file .extra/@name holding @size bytes of
 * @data, laid out as companion_literal_layout (measure/companion.h) says,
 * as systemd-stub passes .pcrsig, .pcrpkey, .osrel and .profile. Plan
 * with sysext_archive_literal_plan(), then fill @buf (@cap bytes, at least
 * the planned size); *ret_size is the archive's size.
 */
ms_status sysext_archive_literal_plan(const char *name, uint64_t size, uint64_t *ret_size);
ms_status sysext_archive_literal_fill(uint8_t *buf, uint64_t cap, const char *name, const uint8_t *data,
				      uint64_t size, uint64_t *ret_size);

/* "<prefix>/<name>" into @out (@cap bytes incl. NUL): the path events name. */
ms_status sysext_archive_path(const char *prefix, const char *name, char *out, size_t cap);

#endif
