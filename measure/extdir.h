/* SPDX-License-Identifier: MIT */
/*
 * extdir.h - the per-UKI extension directory, derived from the stub's own
 * file path: '/' becomes '\', doubled separators collapse, a boot-counting
 * suffix "+N" or "+N-M" right before a final ".efi" is removed, and
 * ".extra.d" is appended:
 *   \EFI\kairos\active.efi      -> \EFI\kairos\active.efi.extra.d
 *   \EFI\Linux\foo+3-1.efi      -> \EFI\Linux\foo.efi.extra.d
 * Works on UTF-16 code units, as the firmware's device path holds them.
 */
#ifndef MEASURE_EXTDIR_H
#define MEASURE_EXTDIR_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define EXTDIR_SUFFIX ".extra.d"

/* @path has @len units (no NUL needed); @out gets a NUL-terminated result. */
ms_status extdir_from_image_path(const uint16_t *path, size_t len, uint16_t *out, size_t cap);

#endif
