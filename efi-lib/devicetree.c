/* SPDX-License-Identifier: MIT */
#include "devicetree.h"

#include <efilib.h>

#include "mem.h"

/* UEFI 2.10 §4.6: the devicetree configuration table. */
#define DTB_TABLE_GUID { 0xb1b621d5, 0xf19c, 0x41a5, { 0x83, 0x0b, 0xd9, 0x15, 0x2c, 0x69, 0xaa, 0xe0 } }
/* The EBBR devicetree fixup protocol (U-Boot implements it). */
#define DT_FIXUP_PROTOCOL_GUID { 0xe617d64c, 0xfe08, 0x46da, { 0xf4, 0xdc, 0xbb, 0xd5, 0x87, 0x0c, 0x73, 0x00 } }
#define DT_APPLY_FIXUPS 0x00000001
#define DT_RESERVE_MEMORY 0x00000002

struct dt_fixup_protocol {
	UINT64 revision;
	EFI_STATUS(EFIAPI *fixup)(struct dt_fixup_protocol *self, void *fdt, UINTN *size, UINT32 flags);
};

static void *current_table(void)
{
	EFI_GUID guid = DTB_TABLE_GUID;

	for (UINTN i = 0; i < ST->NumberOfTableEntries; i++)
		if (CompareGuid(&ST->ConfigurationTable[i].VendorGuid, &guid) == 0)
			return ST->ConfigurationTable[i].VendorTable;
	return NULL;
}

/*
 * Let the firmware fix the blob up in place (pages of @size bytes hold
 * @len of it); when it needs more room, move to larger pages first.
 */
static EFI_STATUS fix_up(EFI_PHYSICAL_ADDRESS *addr, UINTN *pages, UINTN len)
{
	EFI_GUID guid = DT_FIXUP_PROTOCOL_GUID;
	struct dt_fixup_protocol *fixup = NULL;
	EFI_PHYSICAL_ADDRESS bigger;
	UINTN size = *pages * EFI_PAGE_SIZE, more;
	EFI_STATUS err;

	if (EFI_ERROR(BS->LocateProtocol(&guid, NULL, (void **)&fixup)) || !fixup)
		return EFI_SUCCESS; /* nothing to fix it up with */
	err = fixup->fixup(fixup, (void *)(UINTN)*addr, &size, DT_APPLY_FIXUPS | DT_RESERVE_MEMORY);
	if (err != EFI_BUFFER_TOO_SMALL)
		return err;
	more = EFI_SIZE_TO_PAGES(size);
	err = mem_alloc_table_pages(more, &bigger);
	if (EFI_ERROR(err))
		return err;
	mem_copy((void *)(UINTN)bigger, (void *)(UINTN)*addr, len);
	mem_free_pages(*addr, *pages);
	*addr = bigger;
	*pages = more;
	size = more * EFI_PAGE_SIZE;
	return fixup->fixup(fixup, (void *)(UINTN)*addr, &size, DT_APPLY_FIXUPS | DT_RESERVE_MEMORY);
}

EFI_STATUS devicetree_install(struct devicetree *dt, const void *blob, UINTN size)
{
	EFI_GUID guid = DTB_TABLE_GUID;
	EFI_PHYSICAL_ADDRESS addr = 0;
	UINTN pages = EFI_SIZE_TO_PAGES(size);
	EFI_STATUS err;

	if (size == 0)
		return EFI_INVALID_PARAMETER;
	if (!dt->saved) {
		dt->original = current_table();
		dt->saved = TRUE;
	}
	err = mem_alloc_table_pages(pages, &addr);
	if (EFI_ERROR(err))
		return err;
	mem_copy((void *)(UINTN)addr, blob, size);
	err = fix_up(&addr, &pages, size);
	if (!EFI_ERROR(err))
		err = BS->InstallConfigurationTable(&guid, (void *)(UINTN)addr);
	if (EFI_ERROR(err)) {
		mem_free_pages(addr, pages);
		return err;
	}
	/* The table points at the new blob now: the one before is ours to free. */
	mem_free_pages(dt->addr, dt->pages);
	dt->addr = addr;
	dt->pages = pages;
	return EFI_SUCCESS;
}

void devicetree_restore(struct devicetree *dt)
{
	EFI_GUID guid = DTB_TABLE_GUID;

	if (!dt->addr)
		return;
	/* Do not free what the table still points at if the old one cannot be put back. */
	if (EFI_ERROR(BS->InstallConfigurationTable(&guid, dt->original)))
		return;
	mem_free_pages(dt->addr, dt->pages);
	dt->addr = 0;
	dt->pages = 0;
}
