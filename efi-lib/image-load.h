/* SPDX-License-Identifier: MIT */
/*
 * image-load.h - have the firmware load a PE image from a file on a volume
 * without starting it, for the addons (stub/addons.c). LoadImage is where
 * Secure Boot verifies an image (db/dbx, or shim's hook of LoadImage), so
 * an addon that comes back from here passed the same check the UKI did;
 * under Secure Boot an unsigned or tampered one is refused by the firmware.
 * The firmware also measures the image into PCR 4 as it does any image it
 * loads. The image is never started: the caller copies what it needs from
 * the mapped image and unloads it.
 */
#ifndef EFI_LIB_IMAGE_LOAD_H
#define EFI_LIB_IMAGE_LOAD_H

#include <efi.h>

/*
 * Load @path (from the volume root, e.g. L"\\loader\\addons\\a.addon.efi")
 * on the volume of @device, as a child of @parent. On success *@ret_image
 * is the image handle (image_unload() it) and *@ret_loaded its
 * LOADED_IMAGE protocol: the mapped image at ImageBase, ImageSize bytes.
 * On failure nothing is left loaded; EFI_SECURITY_VIOLATION and
 * EFI_ACCESS_DENIED mean Secure Boot refused it.
 */
EFI_STATUS image_load_file(EFI_HANDLE parent, EFI_HANDLE device, const CHAR16 *path, EFI_HANDLE *ret_image,
			   EFI_LOADED_IMAGE **ret_loaded);

/* Unload an image from image_load_file(); NULL is ignored. */
void image_unload(EFI_HANDLE image);

#endif
