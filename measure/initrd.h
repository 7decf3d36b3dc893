/* SPDX-License-Identifier: MIT */
/*
 * initrd.h - how the pieces of the initrd handed to Linux are concatenated.
 *
 * The stub passes the embedded .initrd followed by the generated cpio
 * archives. Each piece but the last is padded with zero bytes to a multiple
 * of 4, so every following cpio starts 4-aligned as newc requires; the last
 * is not padded (a lone .initrd is passed byte for byte, as systemd-stub
 * does). The cpio archives we generate are multiples of 4 already, so this
 * equals "every piece padded to 4" whenever a cpio is last.
 * Linux measures exactly these bytes into PCR 9, so the host predictor uses
 * this same module.
 */
#ifndef MEASURE_INITRD_H
#define MEASURE_INITRD_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

/* Largest number of pieces: .initrd, per-UKI sysexts, global sysexts, signatures... */
#define INITRD_MAX_PIECES 8

/* Round @v up to a multiple of 4; MS_ERR_OVERFLOW if that does not fit. */
ms_status align4_u64(uint64_t v, uint64_t *ret);

/*
 * Offsets of each piece in the combined initrd and its total size.
 * Empty pieces (size 0) occupy nothing and get no padding.
 * ret_offsets may be NULL.
 */
ms_status initrd_layout(const uint64_t *sizes, size_t n, uint64_t *ret_offsets, uint64_t *ret_total);

#endif
