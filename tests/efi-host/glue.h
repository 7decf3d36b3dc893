/* SPDX-License-Identifier: MIT */
/*
 * glue.h - run the stub's glue the way stub.c's boot flow does, over a
 * memfs volume and the fake firmware, and check what it must guarantee.
 *
 * glue_run() lists the per-UKI directory (if any) and then the global one
 * (stub/listing.c), plans each one's extensions (stub/lazy-archive.c),
 * gathers their signature files with the UKI's .pcrsig
 * (stub/signatures.c), packs .pcrpkey, registers the pieces as the
 * LINUX_INITRD_MEDIA LoadFile2 (efi-lib/initrd-media.c) and takes the
 * initrd from it as the kernel's EFI stub would: size queries, fill (where
 * the extensions are read and measured in the kernel's buffer), then a
 * second fill that must find nothing. stub.c itself is not compiled
 * here (it starts a kernel); its order of calls is repeated in glue.c.
 *
 * glue_check() then compares everything with a model computed from the
 * volume, its fault knobs and measure/ (the rules the stub must apply):
 *   - each directory is listed up to the first entry the firmware botched,
 *     and measure/selection.c applied to those entries decides the files,
 *     less the largest while the archive's pages cannot be had;
 *   - a kept file is in the archive, in that order, with the bytes of the
 *     file its name opens, or zeros if it failed to read whole (a file
 *     whose size differs from the listing's, a read error, a lying Read)
 *     or to be measured; inodes are consecutive;
 *   - with a TPM or a CC protocol every file handed over was measured
 *     there: a path event, then a content event over the very bytes at
 *     their place in the kernel's buffer (zeros after a failed
 *     measurement: a content event over them follows); no other events;
 *     StubPcrInitRDSysExts is "13" once a content event went in, unset
 *     otherwise;
 *   - the signature archive holds what measure/pcrsig.c merges from the
 *     .pcrsig section and the signature files read;
 *   - until the fill, the extension plans hold only their pool blocks and
 *     directory handles, no pages; the other archives' pages are exactly
 *     what the media owns; all is freed once the kernel has its copy;
 *     mem.c's accounting agrees; every file handle is closed;
 *   - no log line carries a control character.
 * With allocation faults that make the outcome depend on which call fails
 * ("degraded"), only the safety checks apply: what is handed over is read
 * correctly and measured, and nothing leaks.
 * Every failure is an efi_host_violation().
 */
#ifndef TESTS_EFI_HOST_GLUE_H
#define TESTS_EFI_HOST_GLUE_H

#include <efi.h>

#include "efi-host.h"
#include "memfs.h"
#include "tpm-fake.h"

#include "efi-lib/tcg2.h"
#include "stub/companion-archive.h"

enum { GLUE_PER_UKI, GLUE_GLOBAL, GLUE_DIRS };

struct glue_setup {
	struct memfs *fs;
	const char *per_uki_dir; /* from the volume root; NULL: the stub was not started from a file */
	const void *pcrsig;      /* the UKI's sections, each may be NULL */
	UINTN pcrsig_size;
	const void *pcrpkey;
	UINTN pcrpkey_size;
	const void *embedded_initrd;
	UINTN embedded_initrd_size;
	struct tpm_fake_setup tpm;
	struct efi_host_alloc_faults alloc;
};

/* An archive as it was built, copied before the handover frees it. */
struct glue_archive {
	const UINT8 *addr; /* where it was (event data points there) */
	UINT8 *copy;       /* its bytes, NULL if there was none */
	UINT64 size;
	UINTN pages, n_files, n_measured;
	UINTN pages_allocated; /* what the firmware allocated at addr */
	UINT64 offset;     /* in the initrd handed over */
	BOOLEAN lazy;      /* written by LoadFile2 into the kernel's buffer: addr is there */
};

enum { GLUE_ARCHIVE_SYSEXT, GLUE_ARCHIVE_GLOBAL, GLUE_ARCHIVE_SIGNATURES, GLUE_ARCHIVE_PUBLIC_KEY, GLUE_ARCHIVES };

struct glue_run {
	const struct glue_setup *setup;
	CHAR16 dir_path[GLUE_DIRS][512];
	BOOLEAN dir_used[GLUE_DIRS];
	EFI_STATUS dir_status[GLUE_DIRS]; /* what listing_open returned */
	BOOLEAN can_measure;
	EFI_STATUS root_status;
	struct glue_archive archives[GLUE_ARCHIVES];
	UINT64 held_before;            /* mem.c's accounting when the run began */
	struct efi_host_memory after_collect;
	UINT64 held_after_collect;
	size_t handles_after_collect;
	size_t lazy_planned;           /* extension archives planned (each holds a directory handle) */
	size_t handles_after_release;
	EFI_STATUS register_status;
	UINT8 *initrd;                 /* what LoadFile2 handed over, NULL if nothing was registered */
	UINT64 initrd_size;
	UINT64 embedded_offset;
	struct efi_host_memory after_release;
	UINT64 held_after_release;
};

/* Reset the firmware, run the glue over @s, keep what glue_check needs in @run. */
void glue_run(const struct glue_setup *s, struct glue_run *run);
/* Check every invariant above; returns the number of violations recorded so far. */
size_t glue_check(const struct glue_run *run);
void glue_run_free(struct glue_run *run);

/* ------------------------------------------------------------ helpers for tests */

/* One entry of a newc archive as glue-check.c reads it. */
struct glue_cpio_entry {
	unsigned long ino, mode, nlink;
	char name[520];
	UINT64 name_offset, data_offset, size;
};
/* Read @size bytes of newc: up to @max entries before the trailer; -1 (and a violation) if malformed. */
long glue_cpio_parse(const UINT8 *buf, UINT64 size, struct glue_cpio_entry *out, size_t max, const char *what);

/* The content a file named @name16 in @dir opens to, NULL if it does not open. */
const struct memfs_node *glue_opens(struct memfs *fs, const struct memfs_node *dir, const CHAR16 *name16);

#endif
