/* SPDX-License-Identifier: MIT */
/*
 * boot-services.c - the EFI_BOOT_SERVICES the stub's glue calls, on malloc:
 * every pool block and page allocation is tracked, fresh memory is
 * poisoned (firmware does not zero it), and freeing something that is not
 * a live allocation of that kind and size is a violation. A protocol
 * database serves Install/UninstallMultipleProtocolInterfaces (a device
 * path installed twice is EFI_ALREADY_STARTED, as UEFI 2.10 §7.3.16 says),
 * HandleProtocol and LocateProtocol. Services the glue does not call stay
 * NULL, so a new call crashes here instead of passing unnoticed.
 */
#include <efi.h>
#include <efilib.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "efi-host.h"
#include "internal.h"

/* ------------------------------------------------------------ violations */

#define VIOLATIONS_KEPT 32

static struct {
	char text[VIOLATIONS_KEPT][512];
	size_t n;
} violations;

void efi_host_violation(const char *fmt, ...)
{
	va_list args;

	if (violations.n < VIOLATIONS_KEPT) {
		va_start(args, fmt);
		vsnprintf(violations.text[violations.n], sizeof(violations.text[0]), fmt, args);
		va_end(args);
	}
	violations.n++;
}

size_t efi_host_violation_count(void)
{
	return violations.n;
}

void efi_host_violations_print(void)
{
	for (size_t i = 0; i < violations.n && i < VIOLATIONS_KEPT; i++)
		fprintf(stderr, "violation: %s\n", violations.text[i]);
	if (violations.n > VIOLATIONS_KEPT)
		fprintf(stderr, "violation: ... and %zu more\n", violations.n - VIOLATIONS_KEPT);
}

void efi_host_violations_reset(void)
{
	violations.n = 0;
}

/* ------------------------------------------------------------ memory */

struct block {
	void *p;
	UINT64 size; /* pool: bytes asked for; pages: pages * EFI_PAGE_SIZE */
	UINTN pages; /* 0 for a pool block */
};

static struct {
	struct block *blocks;
	size_t n, cap;
	struct efi_host_alloc_faults faults;
	unsigned long pool_calls, pages_calls, failed;
} mem;

void efi_host_reserve(void *array, size_t *cap, size_t n, size_t size)
{
	void **p = array, *grown;

	if (n < *cap)
		return;
	grown = realloc(*p, (*cap ? *cap * 2 : 16) * size);
	if (!grown)
		abort();
	*p = grown;
	*cap = *cap ? *cap * 2 : 16;
}

static void track(void *p, UINT64 size, UINTN pages)
{
	efi_host_reserve(&mem.blocks, &mem.cap, mem.n, sizeof(*mem.blocks));
	mem.blocks[mem.n++] = (struct block){ p, size, pages };
}

static struct block *find_block(const void *p)
{
	for (size_t i = 0; i < mem.n; i++)
		if (mem.blocks[i].p == p)
			return &mem.blocks[i];
	return NULL;
}

static void untrack(struct block *b)
{
	memset(b->p, 0xdd, b->size); /* a stale pointer reads garbage, not the old data */
	free(b->p);
	*b = mem.blocks[--mem.n];
}

static EFI_STATUS EFIAPI allocate_pool(EFI_MEMORY_TYPE type, UINTN size, VOID **ret)
{
	void *p;

	(void)type;
	mem.pool_calls++;
	if (!ret)
		return EFI_INVALID_PARAMETER;
	if (mem.faults.pool_fail_at && mem.pool_calls == mem.faults.pool_fail_at) {
		mem.failed++;
		return EFI_OUT_OF_RESOURCES;
	}
	p = malloc(size ? size : 1);
	if (!p)
		return EFI_OUT_OF_RESOURCES;
	memset(p, EFI_HOST_POOL_POISON, size);
	track(p, size, 0);
	*ret = p;
	return EFI_SUCCESS;
}

static EFI_STATUS EFIAPI free_pool(VOID *p)
{
	struct block *b = find_block(p);

	if (!b || b->pages) {
		efi_host_violation("FreePool(%p): %s", p, b ? "that is a page allocation" : "not a live pool block");
		return EFI_INVALID_PARAMETER;
	}
	untrack(b);
	return EFI_SUCCESS;
}

static EFI_STATUS EFIAPI allocate_pages(EFI_ALLOCATE_TYPE type, EFI_MEMORY_TYPE mem_type, UINTN pages,
					EFI_PHYSICAL_ADDRESS *ret)
{
	void *p;

	(void)mem_type;
	mem.pages_calls++;
	if (type != AllocateAnyPages || !ret || pages == 0) {
		efi_host_violation("AllocatePages(type %d, %lu pages): not a request the stub makes", (int)type,
				   (unsigned long)pages);
		return EFI_INVALID_PARAMETER;
	}
	if ((mem.faults.pages_fail_at && mem.pages_calls == mem.faults.pages_fail_at) ||
	    (mem.faults.pages_max && pages > mem.faults.pages_max) || pages > EFI_HOST_PAGES_MAX) {
		mem.failed++;
		return EFI_OUT_OF_RESOURCES;
	}
	p = aligned_alloc(EFI_PAGE_SIZE, pages * EFI_PAGE_SIZE);
	if (!p)
		return EFI_OUT_OF_RESOURCES;
	memset(p, EFI_HOST_PAGE_POISON, pages * EFI_PAGE_SIZE);
	track(p, (UINT64)pages * EFI_PAGE_SIZE, pages);
	*ret = (EFI_PHYSICAL_ADDRESS)(UINTN)p;
	return EFI_SUCCESS;
}

/*
 * A memory map whose largest conventional range is what one AllocatePages
 * may take (faults.pages_max, else EFI_HOST_PAGES_MAX), between ranges of
 * other types that are larger (a probe must not count them). Descriptors
 * are spaced wider than the structure, as firmware may do.
 */
#define MAP_DESCRIPTORS 3
#define MAP_DESCRIPTOR_SIZE (sizeof(EFI_MEMORY_DESCRIPTOR) + 8)

static EFI_STATUS EFIAPI get_memory_map(UINTN *size, EFI_MEMORY_DESCRIPTOR *map, UINTN *key, UINTN *desc_size,
					UINT32 *version)
{
	UINTN limit = mem.faults.pages_max && mem.faults.pages_max < EFI_HOST_PAGES_MAX ? mem.faults.pages_max
											 : EFI_HOST_PAGES_MAX;
	const EFI_MEMORY_DESCRIPTOR d[MAP_DESCRIPTORS] = {
		{ .Type = EfiBootServicesData, .PhysicalStart = 0x100000, .NumberOfPages = 4 * limit + 16 },
		{ .Type = EfiConventionalMemory, .PhysicalStart = 0x10000000, .NumberOfPages = limit },
		{ .Type = EfiLoaderData, .PhysicalStart = 0x20000000, .NumberOfPages = 2 * limit + 8 },
	};

	if (!size || !key || !desc_size || !version)
		return EFI_INVALID_PARAMETER;
	*desc_size = MAP_DESCRIPTOR_SIZE;
	*version = EFI_MEMORY_DESCRIPTOR_VERSION;
	*key = 1;
	if (*size < MAP_DESCRIPTORS * MAP_DESCRIPTOR_SIZE || !map) {
		*size = MAP_DESCRIPTORS * MAP_DESCRIPTOR_SIZE;
		return EFI_BUFFER_TOO_SMALL;
	}
	for (int i = 0; i < MAP_DESCRIPTORS; i++)
		memcpy((UINT8 *)map + i * MAP_DESCRIPTOR_SIZE, &d[i], sizeof(d[i]));
	*size = MAP_DESCRIPTORS * MAP_DESCRIPTOR_SIZE;
	return EFI_SUCCESS;
}

static EFI_STATUS EFIAPI free_pages(EFI_PHYSICAL_ADDRESS addr, UINTN pages)
{
	struct block *b = find_block((void *)(UINTN)addr);

	if (!b || !b->pages) {
		efi_host_violation("FreePages(0x%lx, %lu): %s", (unsigned long)addr, (unsigned long)pages,
				   b ? "that is a pool block" : "not a live page allocation");
		return EFI_NOT_FOUND;
	}
	if (b->pages != pages) {
		efi_host_violation("FreePages(0x%lx, %lu): allocated as %lu pages", (unsigned long)addr,
				   (unsigned long)pages, (unsigned long)b->pages);
		return EFI_INVALID_PARAMETER;
	}
	untrack(b);
	return EFI_SUCCESS;
}

void efi_host_set_alloc_faults(const struct efi_host_alloc_faults *f)
{
	mem.faults = *f;
}

void efi_host_memory(struct efi_host_memory *ret)
{
	memset(ret, 0, sizeof(*ret));
	for (size_t i = 0; i < mem.n; i++) {
		if (mem.blocks[i].pages) {
			ret->page_allocs++;
			ret->pages += mem.blocks[i].pages;
		} else {
			ret->pool_blocks++;
			ret->pool_bytes += mem.blocks[i].size;
		}
	}
	ret->pool_calls = mem.pool_calls;
	ret->pages_calls = mem.pages_calls;
	ret->failed = mem.failed;
}

UINTN efi_host_pages_at(const void *addr)
{
	struct block *b = find_block(addr);

	return b ? b->pages : 0;
}

void efi_host_reclaim(void)
{
	while (mem.n)
		untrack(&mem.blocks[mem.n - 1]);
}

void efi_host_memory_reset(void)
{
	efi_host_reclaim();
	free(mem.blocks);
	memset(&mem, 0, sizeof(mem));
}

static VOID EFIAPI copy_mem(VOID *dest, VOID *src, UINTN len)
{
	memmove(dest, src, len);
}

static VOID EFIAPI set_mem(VOID *buf, UINTN size, UINT8 value)
{
	memset(buf, value, size);
}

/* ------------------------------------------------------------ protocols */

struct installed {
	EFI_HANDLE handle;
	EFI_GUID guid;
	void *iface;
};

static struct {
	struct installed *e;
	size_t n, cap;
	EFI_STATUS uninstall_status;
	efi_host_locate_fn locate;
} db;

static int guid_eq(const EFI_GUID *a, const EFI_GUID *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

static struct installed *find_installed(EFI_HANDLE h, const EFI_GUID *g)
{
	for (size_t i = 0; i < db.n; i++)
		if ((!h || db.e[i].handle == h) && guid_eq(&db.e[i].guid, g))
			return &db.e[i];
	return NULL;
}

static int handle_live(EFI_HANDLE h)
{
	for (size_t i = 0; i < db.n; i++)
		if (db.e[i].handle == h)
			return 1;
	return 0;
}

/* Bytes of the device path at @p up to and including its end node; 0 if malformed. */
static size_t device_path_size(const void *p)
{
	const UINT8 *b = p;
	size_t at = 0;

	for (int nodes = 0; nodes < 64; nodes++) {
		size_t len = b[at + 2] | (size_t)b[at + 3] << 8;

		if (len < 4)
			return 0;
		if (b[at] == END_DEVICE_PATH_TYPE && b[at + 1] == END_ENTIRE_DEVICE_PATH_SUBTYPE)
			return at + len;
		at += len;
	}
	return 0;
}

static int device_path_installed(const void *dp)
{
	size_t size = device_path_size(dp);

	for (size_t i = 0; i < db.n; i++)
		if (guid_eq(&db.e[i].guid, &gEfiDevicePathProtocolGuid) && device_path_size(db.e[i].iface) == size &&
		    memcmp(db.e[i].iface, dp, size) == 0)
			return 1;
	return 0;
}

EFI_STATUS efi_host_install(EFI_HANDLE *handle, const EFI_GUID *guid, void *iface)
{
	if (!*handle) {
		*handle = malloc(1); /* a unique token */
		if (!*handle)
			abort();
	} else if (find_installed(*handle, guid)) {
		return EFI_INVALID_PARAMETER;
	}
	efi_host_reserve(&db.e, &db.cap, db.n, sizeof(*db.e));
	db.e[db.n++] = (struct installed){ *handle, *guid, iface };
	return EFI_SUCCESS;
}

static void remove_installed(struct installed *e)
{
	EFI_HANDLE h = e->handle;

	*e = db.e[--db.n];
	if (!handle_live(h))
		free(h);
}

#define PAIRS_MAX 8

/* The GUID and interface pairs of a *MultipleProtocolInterfaces call, up to its NULL; 0 if over PAIRS_MAX. */
static size_t read_pairs(__builtin_ms_va_list *ap, EFI_GUID *guids[PAIRS_MAX], void *ifaces[PAIRS_MAX])
{
	size_t n = 0;

	for (;;) {
		EFI_GUID *g = __builtin_va_arg(*ap, EFI_GUID *);

		if (!g)
			return n;
		if (n == PAIRS_MAX)
			return 0;
		guids[n] = g;
		ifaces[n++] = __builtin_va_arg(*ap, void *);
	}
}

static EFI_STATUS EFIAPI install_multiple(EFI_HANDLE *handle, ...)
{
	__builtin_ms_va_list ap;
	EFI_GUID *guids[PAIRS_MAX];
	void *ifaces[PAIRS_MAX];
	EFI_HANDLE fresh = NULL;
	size_t n;

	if (!handle)
		return EFI_INVALID_PARAMETER;
	__builtin_ms_va_start(ap, handle);
	n = read_pairs(&ap, guids, ifaces);
	__builtin_ms_va_end(ap);
	if (!n)
		return EFI_INVALID_PARAMETER;
	/* All or nothing: check every pair first. */
	for (size_t i = 0; i < n; i++) {
		if (guid_eq(guids[i], &gEfiDevicePathProtocolGuid) && device_path_installed(ifaces[i]))
			return EFI_ALREADY_STARTED;
		if (*handle && find_installed(*handle, guids[i]))
			return EFI_INVALID_PARAMETER;
	}
	for (size_t i = 0; i < n; i++) {
		EFI_HANDLE h = *handle ? *handle : fresh;

		(void)efi_host_install(&h, guids[i], ifaces[i]);
		fresh = h;
	}
	if (!*handle)
		*handle = fresh;
	return EFI_SUCCESS;
}

static EFI_STATUS EFIAPI uninstall_multiple(EFI_HANDLE handle, ...)
{
	__builtin_ms_va_list ap;
	EFI_GUID *guids[PAIRS_MAX];
	void *ifaces[PAIRS_MAX];
	size_t n;

	if (db.uninstall_status)
		return db.uninstall_status;
	__builtin_ms_va_start(ap, handle);
	n = read_pairs(&ap, guids, ifaces);
	__builtin_ms_va_end(ap);
	if (!n)
		return EFI_INVALID_PARAMETER;
	for (size_t i = 0; i < n; i++) {
		struct installed *e = find_installed(handle, guids[i]);

		if (!handle || !e || e->iface != ifaces[i])
			return EFI_INVALID_PARAMETER;
	}
	for (size_t i = 0; i < n; i++)
		remove_installed(find_installed(handle, guids[i]));
	return EFI_SUCCESS;
}

static EFI_STATUS EFIAPI handle_protocol(EFI_HANDLE handle, EFI_GUID *guid, VOID **ret)
{
	struct installed *e = handle ? find_installed(handle, guid) : NULL;

	if (!ret)
		return EFI_INVALID_PARAMETER;
	*ret = e ? e->iface : NULL;
	return e ? EFI_SUCCESS : EFI_UNSUPPORTED;
}

static EFI_STATUS EFIAPI locate_protocol(EFI_GUID *guid, VOID *registration, VOID **ret)
{
	struct installed *e;
	void *p = db.locate ? db.locate(guid) : NULL;

	(void)registration;
	if (!ret)
		return EFI_INVALID_PARAMETER;
	if (!p && (e = find_installed(NULL, guid)))
		p = e->iface;
	*ret = p;
	return p ? EFI_SUCCESS : EFI_NOT_FOUND;
}

void *efi_host_find_protocol(const EFI_GUID *guid, EFI_HANDLE *ret_handle)
{
	struct installed *e = find_installed(NULL, guid);

	if (ret_handle)
		*ret_handle = e ? e->handle : NULL;
	return e ? e->iface : NULL;
}

void *efi_host_handle_protocol(EFI_HANDLE handle, const EFI_GUID *guid)
{
	struct installed *e = handle ? find_installed(handle, guid) : NULL;

	return e ? e->iface : NULL;
}

size_t efi_host_protocol_count(void)
{
	return db.n;
}

void efi_host_set_uninstall_status(EFI_STATUS status)
{
	db.uninstall_status = status;
}

void efi_host_set_locate(efi_host_locate_fn fn)
{
	db.locate = fn;
}

void efi_host_protocols_reset(void)
{
	while (db.n)
		remove_installed(&db.e[db.n - 1]);
	free(db.e);
	memset(&db, 0, sizeof(db));
}

/* ------------------------------------------------------------ the table */

static EFI_BOOT_SERVICES boot_services = {
	.AllocatePages = allocate_pages,
	.FreePages = free_pages,
	.GetMemoryMap = get_memory_map,
	.AllocatePool = allocate_pool,
	.FreePool = free_pool,
	.HandleProtocol = handle_protocol,
	.LocateProtocol = locate_protocol,
	.InstallMultipleProtocolInterfaces = install_multiple,
	.UninstallMultipleProtocolInterfaces = uninstall_multiple,
	.CopyMem = copy_mem,
	.SetMem = set_mem,
};

EFI_BOOT_SERVICES *BS = &boot_services;


void efi_host_reset(void)
{
	efi_host_memory_reset();
	efi_host_protocols_reset();
	efi_host_log_reset();
	efi_host_violations_reset();
	efi_host_vars_reset();
}
