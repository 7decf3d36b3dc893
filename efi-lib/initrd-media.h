/* SPDX-License-Identifier: MIT */
/*
 * initrd-media.h - hand the initrd to Linux through the LINUX_INITRD_MEDIA
 * LoadFile2 device path (Linux >= 5.8 looks it up from its EFI stub).
 *
 * The initrd is a list of pieces (embedded .initrd, generated cpios, ...).
 * LoadFile2 copies each piece straight into the kernel's buffer at the
 * offset measure/initrd.h assigns it; no combined copy is ever built. A
 * piece may also be written there by its own fill function, at that
 * moment: the companion archives are read from the ESP, and measured, in
 * the kernel's buffer itself (stub/lazy-archive.h), and the addons'
 * pieces are measured there (stub/addons.h). The pieces are filled in
 * their slots' fill order (initrd_fill_rank), which is therefore the
 * order of those measurements.
 */
#ifndef EFI_LIB_INITRD_MEDIA_H
#define EFI_LIB_INITRD_MEDIA_H

#include <efi.h>

#include "measure/initrd.h" /* INITRD_MAX_PIECES and the layout rule */

struct initrd_media;

struct initrd_piece {
	/* Where it is laid out is the order given; when it is filled is its slot's fill rank (measure/initrd.h). */
	enum initrd_slot slot;
	const void *data;
	UINT64 size;
	/*
	 * 0: memory the media only reads (a section of our image). Otherwise
	 * the piece is @pages pages from mem_alloc_pages(), and a successful
	 * initrd_register() takes them over (see below).
	 */
	UINTN pages;
	/*
	 * Or, with @fill set (and @data NULL): @fill(@ctx, dest) writes
	 * exactly @size bytes at dest when the kernel asks for the initrd.
	 * It cannot fail (a piece's failures are its own, handled inside).
	 * @release(@ctx) frees what the piece holds; a successful
	 * initrd_register() takes @ctx over.
	 */
	void (*fill)(void *ctx, UINT8 *dest);
	void (*release)(void *ctx);
	void *ctx;
};

/*
 * Install a new handle with the LINUX_INITRD_MEDIA device path and a
 * LoadFile2 protocol serving the concatenation of @n pieces. Returns
 * EFI_ALREADY_STARTED if another image already registered that device path.
 *
 * The LoadFile2 contract: any number of size queries (no buffer, or one
 * too small: EFI_BUFFER_TOO_SMALL with the size), then one fill. On
 * success the media owns the pieces with pages and the fill pieces' ctx:
 * once one LoadFile2 call has written the whole initrd into the kernel's
 * buffer, it frees them, so nothing is held twice (ours and the kernel's
 * copy) when the kernel takes over. A second fill gets EFI_NOT_FOUND,
 * never other bytes: a fill piece's files were read and measured once,
 * and reading them again could hand over bytes that were not measured.
 * Pieces without pages must stay valid until initrd_unregister(). On
 * failure the caller still owns everything.
 */
EFI_STATUS initrd_register(const struct initrd_piece *pieces, UINTN n, struct initrd_media **ret);
/* Uninstall, free what was not released yet; NULL is ignored. */
void initrd_unregister(struct initrd_media *media);

#endif
