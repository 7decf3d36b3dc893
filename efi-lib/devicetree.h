/* SPDX-License-Identifier: MIT */
/*
 * devicetree.h - install a flattened devicetree as the firmware's
 * devicetree configuration table (EFI_DTB_TABLE_GUID), which the kernel's
 * EFI stub reads on architectures that use one, after the firmware's
 * EFI_DT_FIXUP_PROTOCOL (if it has one) fixed it up: what systemd-stub
 * does with a .dtb, here for the addons' (stub/addons.c). Each install
 * replaces the one before; the first remembers the firmware's own table.
 */
#ifndef EFI_LIB_DEVICETREE_H
#define EFI_LIB_DEVICETREE_H

#include <efi.h>

struct devicetree {
	EFI_PHYSICAL_ADDRESS addr; /* ours, installed; 0 if none */
	UINTN pages;
	void *original;            /* the table before our first install (NULL: none) */
	BOOLEAN saved;
};

/* Copy @size bytes at @blob into table memory, fix it up, install it. The previous one of ours is freed. */
EFI_STATUS devicetree_install(struct devicetree *dt, const void *blob, UINTN size);

/* Put the firmware's table back and free ours (the boot did not happen); safe on a zeroed state. */
void devicetree_restore(struct devicetree *dt);

#endif
