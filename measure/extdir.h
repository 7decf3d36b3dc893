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

/* The global extension directory, from the volume root, and its length (ext_classify()'s dir_len). */
#define EXTDIR_GLOBAL "\\loader\\extensions"
#define EXTDIR_GLOBAL_LEN (sizeof(EXTDIR_GLOBAL) - 1)
/* The global credentials and addons directories (systemd-stub's). */
#define EXTDIR_GLOBAL_CREDENTIALS "\\loader\\credentials"
#define EXTDIR_GLOBAL_CREDENTIALS_LEN (sizeof(EXTDIR_GLOBAL_CREDENTIALS) - 1)
#define EXTDIR_GLOBAL_ADDONS "\\loader\\addons"
#define EXTDIR_GLOBAL_ADDONS_LEN (sizeof(EXTDIR_GLOBAL_ADDONS) - 1)
/* The shortest per-UKI directory there is ("\a.extra.d"), for when the UKI's path is not known. */
#define EXTDIR_MIN_LEN (2 + sizeof(EXTDIR_SUFFIX) - 1)

/*
 * The longest image path, in UTF-16 units with its NUL, that the stub keeps
 * (and so the longest --esp-path the host tools take).
 */
#define EXTDIR_IMAGE_PATH_MAX 1024

/* @path has @len units (no NUL needed); @out gets a NUL-terminated result. */
ms_status extdir_from_image_path(const uint16_t *path, size_t len, uint16_t *out, size_t cap);

#endif
