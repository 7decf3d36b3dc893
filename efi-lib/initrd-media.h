/* SPDX-License-Identifier: MIT */
/*
 * initrd-media.h - hand the initrd to Linux through the LINUX_INITRD_MEDIA
 * LoadFile2 device path (Linux >= 5.8 looks it up from its EFI stub).
 *
 * The initrd is a list of pieces (embedded .initrd, generated cpios, ...).
 * LoadFile2 copies each piece straight into the kernel's buffer at the
 * offset measure/initrd.h assigns it; no combined copy is ever built.
 */
#ifndef EFI_LIB_INITRD_MEDIA_H
#define EFI_LIB_INITRD_MEDIA_H

#include <efi.h>

#include "measure/initrd.h" /* INITRD_MAX_PIECES and the layout rule */

struct initrd_media;

/*
 * Install a new handle with the LINUX_INITRD_MEDIA device path and a
 * LoadFile2 protocol serving the concatenation of @n pieces. The pieces
 * must stay valid until initrd_unregister(). Returns EFI_ALREADY_STARTED if
 * another image already registered that device path.
 */
EFI_STATUS initrd_register(const void *const *data, const UINT64 *sizes, UINTN n,
			   struct initrd_media **ret);

/* Uninstall and free; NULL is ignored. */
void initrd_unregister(struct initrd_media *media);

#endif
