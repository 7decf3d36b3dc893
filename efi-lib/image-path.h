/* SPDX-License-Identifier: MIT */
/* image-path.h - the file path a loaded image was started from. */
#ifndef EFI_LIB_IMAGE_PATH_H
#define EFI_LIB_IMAGE_PATH_H

#include <efi.h>

/*
 * Concatenate the file-path nodes of @dp (a LOADED_IMAGE FilePath) into
 * @out (@cap units incl. NUL), '\'-separated. EFI_NOT_FOUND if @dp is NULL
 * or holds any node that is not a media file path (loaded from memory, a
 * URI, ...): then there is no per-UKI directory.
 */
EFI_STATUS image_file_path(const EFI_DEVICE_PATH *dp, CHAR16 *out, UINTN cap);

#endif
