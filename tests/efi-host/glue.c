/* SPDX-License-Identifier: MIT */
/* glue.c - the stub's collect-and-hand-over flow over the fake firmware (glue.h). */
#include "glue.h"

#include <efilib.h>

#include <stdlib.h>
#include <string.h>

#include "efi-lib/efi-defs.h"
#include "efi-lib/esp.h"
#include "efi-lib/initrd-media.h"
#include "efi-lib/mem.h"
#include "measure/extdir.h"
#include "measure/initrd.h"
#include "measure/selection.h"
#include "measure/companion.h"
#include "stub/lazy-archive.h"
#include "stub/listing.h"
#include "stub/signatures.h"

static const enum sel_dir_role dir_role[GLUE_DIRS] = { SEL_DIR_PER_UKI, SEL_DIR_GLOBAL };

/*
 * stub/companions.c, for the extensions only: per-UKI, then global; each
 * listed once, planned, its signature files added, its directory handed
 * to the plan.
 */
static void collect(struct glue_run *run, struct measurer *m, struct extra_archive out[GLUE_ARCHIVES],
		    struct lazy_archive *lazy[GLUE_DIRS])
{
	const struct glue_setup *s = run->setup;
	struct signature_set *sigs = signatures_begin(s->pcrsig_size ? s->pcrsig : NULL, s->pcrsig_size);
	EFI_FILE_HANDLE root = NULL;

	run->root_status = esp_open_root(memfs_device(s->fs), &root);
	if (EFI_ERROR(run->root_status)) {
		signatures_finish(sigs, &out[GLUE_ARCHIVE_SIGNATURES]);
		return;
	}
	for (int d = 0; d < GLUE_DIRS; d++) {
		struct dir_listing l;

		if (!run->dir_used[d])
			continue;
		run->dir_status[d] =
			listing_open(root, run->dir_path[d], sel_dir_kinds(dir_role[d], EXT_RULE_SYSEXT_STUB), &l);
		if (EFI_ERROR(run->dir_status[d]))
			continue;
		lazy_archive_plan(&l, companion_target_for(EXT_KIND_SYSEXT, dir_role[d]), m, run->can_measure, &lazy[d]);
		signatures_add(sigs, &l);
		if (lazy[d]) {
			lazy_archives_adopt(&lazy[d], 1, &l);
			run->lazy_planned++;
		}
		listing_close(&l);
	}
	signatures_finish(sigs, &out[GLUE_ARCHIVE_SIGNATURES]);
	esp_close(root);
}

static void keep_copy(struct glue_archive *g, const struct extra_archive *a)
{
	memset(g, 0, sizeof(*g));
	if (!a->buf)
		return;
	g->addr = a->buf;
	g->size = a->size;
	g->pages = a->pages;
	g->n_files = a->n_files;
	g->n_measured = 0; /* archives built at stub time (signatures, literals) measure nothing */
	g->pages_allocated = efi_host_pages_at(a->buf);
	g->copy = malloc(a->size ? a->size : 1);
	if (!g->copy)
		abort();
	memcpy(g->copy, a->buf, a->size);
}

/* The LINUX_INITRD_MEDIA device path, written from the Linux EFI stub's side. */
static const UINT8 initrd_media_path[] = {
	0x04, 0x03, 0x14, 0x00, /* media, vendor, 20 bytes */
	0x27, 0xe4, 0x68, 0x55, 0xfc, 0x68, 0x3d, 0x4f, 0xac, 0x74, 0xca, 0x55, 0x52, 0x31, 0xcc, 0x68,
	0x7f, 0xff, 0x04, 0x00, /* end of the entire path */
};

/* What the kernel's EFI stub does with the media: ask the size, refuse nothing, fill once. */
static void take_initrd(struct glue_run *run, UINT64 expect_total)
{
	EFI_GUID lf2_guid = SYSEXT_EFI_LOAD_FILE2_PROTOCOL_GUID;
	EFI_HANDLE handle = NULL;
	EFI_LOAD_FILE_PROTOCOL *lf2 = efi_host_find_protocol(&lf2_guid, &handle);
	EFI_DEVICE_PATH *dp = (EFI_DEVICE_PATH *)initrd_media_path;
	const UINT8 *path = efi_host_handle_protocol(handle, &gEfiDevicePathProtocolGuid);
	struct efi_host_memory mem;
	UINTN size = 0, small;
	UINT8 *buf;
	EFI_STATUS err;

	if (!lf2 || !path || memcmp(path, initrd_media_path, sizeof(initrd_media_path)) != 0) {
		efi_host_violation("LoadFile2: no LINUX_INITRD_MEDIA handle with a LoadFile2 protocol");
		return;
	}
	err = lf2->LoadFile(lf2, dp, FALSE, &size, NULL);
	if (err != EFI_BUFFER_TOO_SMALL || size != expect_total)
		efi_host_violation("LoadFile2 size query: status 0x%lx, size %lu, expected %lu", (unsigned long)err,
				   (unsigned long)size, (unsigned long)expect_total);
	size = (UINTN)expect_total;
	buf = malloc(expect_total + 16);
	if (!buf)
		abort();
	memset(buf, 0xee, expect_total + 16);
	if (lf2->LoadFile(lf2, dp, TRUE, &size, buf) != EFI_UNSUPPORTED)
		efi_host_violation("LoadFile2 served a BootPolicy request");
	if (lf2->LoadFile(lf2, dp, FALSE, NULL, buf) != EFI_INVALID_PARAMETER ||
	    lf2->LoadFile(NULL, dp, FALSE, &size, buf) != EFI_INVALID_PARAMETER)
		efi_host_violation("LoadFile2 took a NULL This or BufferSize");
	if (expect_total > 0) {
		small = (UINTN)expect_total - 1;
		err = lf2->LoadFile(lf2, dp, FALSE, &small, buf);
		if (err != EFI_BUFFER_TOO_SMALL || small != expect_total)
			efi_host_violation("LoadFile2 with one byte too few: status 0x%lx, size %lu", (unsigned long)err,
					   (unsigned long)small);
	}
	size = (UINTN)expect_total;
	err = lf2->LoadFile(lf2, dp, FALSE, &size, buf);
	if (err != EFI_SUCCESS || size != expect_total)
		efi_host_violation("LoadFile2 fill: status 0x%lx, size %lu", (unsigned long)err, (unsigned long)size);
	for (int i = 0; i < 16; i++)
		if (buf[expect_total + i] != 0xee) {
			efi_host_violation("LoadFile2 wrote past the %lu bytes it announced", (unsigned long)expect_total);
			break;
		}
	run->initrd = buf;
	run->initrd_size = expect_total;
	/* The kernel has its copy: the media gives the archives back and keeps only itself. */
	efi_host_memory(&mem);
	if (mem.page_allocs || mem.pool_blocks != 1)
		efi_host_violation("after the fill the media holds %zu page allocation(s), %zu pool block(s)",
				   mem.page_allocs, mem.pool_blocks);
	size = (UINTN)expect_total;
	err = lf2->LoadFile(lf2, dp, FALSE, &size, buf);
	if (err != EFI_NOT_FOUND)
		efi_host_violation("LoadFile2 after the kernel took its copy: status 0x%lx, not EFI_NOT_FOUND",
				   (unsigned long)err);
}

/* The archive that fills initrd @slot, -1 for none. */
static int slot_archive(int slot)
{
	switch (slot) {
	case INITRD_SLOT_SYSEXT: return GLUE_ARCHIVE_SYSEXT;
	case INITRD_SLOT_GLOBAL_SYSEXT: return GLUE_ARCHIVE_GLOBAL;
	case INITRD_SLOT_PCRSIG: return GLUE_ARCHIVE_SIGNATURES;
	case INITRD_SLOT_PCRPKEY: return GLUE_ARCHIVE_PUBLIC_KEY;
	default: return -1;
	}
}

/* Extension archive @a as LoadFile2 wrote it into the kernel's buffer, where its events point. */
static void keep_lazy(struct glue_run *run, int a, UINT64 size)
{
	struct glue_archive *g = &run->archives[a];
	struct glue_cpio_entry *e;
	long n;

	g->lazy = TRUE;
	if (!run->initrd)
		return;
	g->addr = run->initrd + g->offset;
	g->size = size;
	g->copy = malloc(size ? size : 1);
	e = calloc(EXT_MAX_FILES + 8, sizeof(*e));
	if (!g->copy || !e)
		abort();
	memcpy(g->copy, g->addr, size);
	n = glue_cpio_parse(g->copy, size, e, EXT_MAX_FILES + 8, "extension archive");
	/* Less its directories (.extra, .extra/sysext or .extra/global_sysext). */
	g->n_files = n > 2 ? (UINTN)n - 2 : 0;
	free(e);
}

/* stub.c, stub_run(): the pieces in initrd slot order, registered, taken, unregistered. */
static void hand_over(struct glue_run *run, struct extra_archive out[GLUE_ARCHIVES], struct lazy_archive *lazy[GLUE_DIRS])
{
	const struct glue_setup *s = run->setup;
	struct initrd_piece pieces[INITRD_SLOTS];
	UINT64 sizes[INITRD_SLOTS], offsets[INITRD_SLOTS], total = 0;
	int piece_archive[INITRD_SLOTS];
	struct initrd_media *media = NULL;
	UINTN n = 0;

	for (int slot = 0; slot < INITRD_SLOTS; slot++) {
		int a = slot_archive(slot);

		if (slot == INITRD_SLOT_EMBEDDED && s->embedded_initrd && s->embedded_initrd_size)
			pieces[n] = (struct initrd_piece){ .data = s->embedded_initrd, .size = s->embedded_initrd_size };
		else if (a >= 0 && a < GLUE_DIRS && lazy[a])
			lazy_archive_piece(lazy[a], &pieces[n]);
		else if (a >= 0 && out[a].buf)
			pieces[n] = (struct initrd_piece){ .data = out[a].buf, .size = out[a].size, .pages = out[a].pages };
		else
			continue;
		piece_archive[n] = slot == INITRD_SLOT_EMBEDDED ? -2 : a;
		sizes[n] = pieces[n].size;
		n++;
	}
	if (n == 0)
		return;
	if (initrd_layout(sizes, n, offsets, &total) != MS_OK)
		abort();
	for (UINTN i = 0; i < n; i++) {
		if (piece_archive[i] >= 0)
			run->archives[piece_archive[i]].offset = offsets[i];
		else
			run->embedded_offset = offsets[i];
	}
	run->register_status = initrd_register(pieces, n, &media);
	if (!EFI_ERROR(run->register_status)) {
		for (int a = 0; a < GLUE_ARCHIVES; a++)
			extra_archive_forget(&out[a]);
		for (int d = 0; d < GLUE_DIRS; d++)
			lazy[d] = NULL;
		take_initrd(run, total);
		for (UINTN i = 0; i < n; i++)
			if (pieces[i].fill)
				keep_lazy(run, piece_archive[i], pieces[i].size);
	}
	initrd_unregister(media);
}

void glue_run(const struct glue_setup *s, struct glue_run *run)
{
	struct extra_archive out[GLUE_ARCHIVES];
	struct lazy_archive *lazy[GLUE_DIRS] = { NULL };
	struct mem_usage usage;
	struct measurer m;

	memset(run, 0, sizeof(*run));
	memset(out, 0, sizeof(out));
	run->setup = s;
	for (int d = 0; d < GLUE_DIRS; d++)
		run->dir_status[d] = EFI_NOT_STARTED;
	efi_host_reset();
	tpm_fake_setup(&s->tpm);
	efi_host_set_alloc_faults(&s->alloc);
	mem_usage(&usage);
	run->held_before = usage.held;
	if (s->per_uki_dir) {
		efi_host_ascii_to16(s->per_uki_dir, run->dir_path[GLUE_PER_UKI], 512);
		run->dir_used[GLUE_PER_UKI] = TRUE;
	}
	efi_host_ascii_to16(EXTDIR_GLOBAL, run->dir_path[GLUE_GLOBAL], 512);
	run->dir_used[GLUE_GLOBAL] = TRUE;

	run->can_measure = measurer_init(&m);
	collect(run, &m, out, lazy);
	/* stub.c, stub_run(): .pcrpkey in its own archive, whatever the ESP held. */
	if (s->pcrpkey && s->pcrpkey_size)
		(void)literal_archive(INITRD_PCR_PUBLIC_KEY_FILE, s->pcrpkey, s->pcrpkey_size,
				      &out[GLUE_ARCHIVE_PUBLIC_KEY]);
	for (int a = 0; a < GLUE_ARCHIVES; a++)
		keep_copy(&run->archives[a], &out[a]);
	efi_host_memory(&run->after_collect);
	mem_usage(&usage);
	run->held_after_collect = usage.held;
	run->handles_after_collect = memfs_open_handles(s->fs);

	hand_over(run, out, lazy);
	for (int a = 0; a < GLUE_ARCHIVES; a++)
		extra_archive_free(&out[a]);
	for (int d = 0; d < GLUE_DIRS; d++)
		lazy_archive_free(lazy[d]);
	run->handles_after_release = memfs_open_handles(s->fs);
	efi_host_memory(&run->after_release);
	mem_usage(&usage);
	run->held_after_release = usage.held;
}

void glue_run_free(struct glue_run *run)
{
	for (int a = 0; a < GLUE_ARCHIVES; a++)
		free(run->archives[a].copy);
	free(run->initrd);
	memset(run, 0, sizeof(*run));
}
