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

struct initrd_piece {
	const void *data;
	UINT64 size;
	/*
	 * 0: memory the media only reads (a section of our image). Otherwise
	 * the piece is @pages pages from mem_alloc_pages(), and a successful
	 * initrd_register() takes them over (see below).
	 */
	UINTN pages;
};

/*
 * Install a new handle with the LINUX_INITRD_MEDIA device path and a
 * LoadFile2 protocol serving the concatenation of @n pieces. Returns
 * EFI_ALREADY_STARTED if another image already registered that device path.
 *
 * On success the media owns the pieces with pages: once one LoadFile2 call
 * has copied the whole initrd into the kernel's buffer, it frees them, so
 * the sysexts are not held twice (ours and the kernel's copy) when the
 * kernel takes over; later calls get EFI_NOT_FOUND. Pieces without pages
 * must stay valid until initrd_unregister(). On failure the caller still
 * owns everything.
 */
EFI_STATUS initrd_register(const struct initrd_piece *pieces, UINTN n, struct initrd_media **ret);
/* Uninstall, free what was not released yet; NULL is ignored. */
void initrd_unregister(struct initrd_media *media);

#endif
