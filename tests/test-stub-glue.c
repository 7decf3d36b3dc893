/* SPDX-License-Identifier: MIT */
/*
 * Tests of the stub's glue on the host (tests/efi-host/efi-host.h):
 * stub/listing.c, stub/sysext.c, stub/signatures.c and efi-lib/ (esp.c,
 * initrd-media.c, mem.c, log.c, tcg2.c), compiled unchanged, against an
 * in-memory volume whose firmware answers odd sizes, short reads, errors,
 * files that changed since the listing and thousands of entries. Every
 * run goes through glue_check(), the invariants glue.h lists; each test
 * adds the facts its case is about. tests/fuzz/fuzz-stub-glue.c runs the
 * same checks on generated volumes.
 */
#include <efi.h>
#include <efilib.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "efi-lib/efi-defs.h"
#include "efi-lib/esp.h"
#include "efi-lib/initrd-media.h"
#include "efi-lib/mem.h"
#include "measure/cpio.h"
#include "measure/extdir.h"
#include "measure/initrd.h"
#include "measure/pcrsig.h"
#include "measure/selection.h"
#include "measure/companion.h"
#include "stub/lazy-archive.h"
#include "stub/listing.h"
#include "tests/efi-host/glue.h"

#define PER_UKI_DIR "\\EFI\\Linux\\uki.efi.extra.d"

/* ------------------------------------------------------------ fixture */

static struct fixture {
	struct memfs *fs;
	struct memfs_node *per_uki, *global;
	struct glue_setup setup;
	struct glue_run run;
} fx;

static int setup(void **state)
{
	(void)state;
	memset(&fx, 0, sizeof(fx));
	efi_host_reset();
	fx.fs = memfs_new();
	fx.per_uki = memfs_mkdirs(fx.fs, PER_UKI_DIR);
	fx.global = memfs_mkdirs(fx.fs, EXTDIR_GLOBAL);
	fx.setup.fs = fx.fs;
	fx.setup.per_uki_dir = PER_UKI_DIR;
	fx.setup.tpm = (struct tpm_fake_setup){ .tcg2 = TRUE, .tpm_present = TRUE };
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	glue_run_free(&fx.run);
	memfs_free(fx.fs);
	efi_host_reset();
	return 0;
}

/* Bytes that tell files apart: a file read in place of another shows. */
static void pattern(UINT8 *out, size_t size, unsigned seed)
{
	for (size_t i = 0; i < size; i++)
		out[i] = (UINT8)(seed * 131u + i * 7u + (i >> 8) + (i >> 16));
}

static struct memfs_node *add_file(struct memfs_node *dir, const char *name, size_t size)
{
	static unsigned seed;
	UINT8 *data = malloc(size ? size : 1);
	struct memfs_node *n;

	assert_non_null(data);
	pattern(data, size, ++seed);
	n = memfs_add8(fx.fs, dir, name, FALSE, data, size);
	free(data);
	assert_non_null(n);
	return n;
}

static const char fragment_fmt[] =
	"{\"sha256\":[{\"pcrs\":[%u],\"pkfp\":\"abababababababababababababababababababababababababababababababab\","
	"\"pol\":\"cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd\",\"sig\":\"AAAA\"}]}";

static struct memfs_node *add_fragment(struct memfs_node *dir, const char *name, unsigned pcr)
{
	char text[512];
	int n = snprintf(text, sizeof(text), fragment_fmt, pcr);
	struct memfs_node *node = memfs_add8(fx.fs, dir, name, FALSE, text, (UINT64)n);

	assert_non_null(node);
	return node;
}

/* Run the glue over the fixture and check every invariant; print what went wrong. */
static void run_checked(void)
{
	glue_run_free(&fx.run);
	glue_run(&fx.setup, &fx.run);
	if (glue_check(&fx.run)) {
		efi_host_violations_print();
		fprintf(stderr, "console:\n");
		efi_host_log_print();
		fail_msg("%zu invariant(s) broken", efi_host_violation_count());
	}
}

/* Whether entry @e of archive @a holds only zeros (a file handed over zero-filled: stub/lazy-archive.h). */
static int entry_zeroed(int a, const struct glue_cpio_entry *e)
{
	for (UINT64 i = 0; i < e->size; i++)
		if (fx.run.archives[a].copy[e->data_offset + i])
			return 0;
	return e->size > 0;
}

/* The files of archive @a handed over with their own bytes (@zeroed 0) or zero-filled (@zeroed 1). */
static size_t count_files(int a, int zeroed)
{
	struct glue_cpio_entry e[EXT_MAX_FILES + 8];
	size_t count = 0;
	long n;

	if (!fx.run.archives[a].copy)
		return 0;
	n = glue_cpio_parse(fx.run.archives[a].copy, fx.run.archives[a].size, e, EXT_MAX_FILES + 8, "archive");
	for (long i = 0; i < n; i++)
		if ((e[i].mode & 0170000u) == CPIO_MODE_FILE)
			count += entry_zeroed(a, &e[i]) == zeroed;
	return count;
}

static size_t files_in(int archive)
{
	return count_files(archive, 0);
}

static size_t zeroed_in(int archive)
{
	return count_files(archive, 1);
}

/* Whether archive @a holds a file whose path ends in "/@name". */
static int holds(int a, const char *name)
{
	struct glue_cpio_entry e[EXT_MAX_FILES + 8];
	long n;

	if (!fx.run.archives[a].copy)
		return 0;
	n = glue_cpio_parse(fx.run.archives[a].copy, fx.run.archives[a].size, e, EXT_MAX_FILES + 8, "archive");
	for (long i = 0; i < n; i++) {
		const char *slash = strrchr(e[i].name, '/');

		if (slash && strcmp(slash + 1, name) == 0)
			return 1;
	}
	return 0;
}

/* ------------------------------------------------------------ the ordinary boot */

static void test_two_directories_measured(void **state)
{
	(void)state;
	add_file(fx.per_uki, "b.sysext.raw", 5000);
	add_file(fx.per_uki, "a.sysext.raw", 1);
	add_file(fx.global, "c.sysext.raw", 70000);
	add_file(fx.global, "readme.txt", 10);
	add_fragment(fx.global, "x.pcrsig.json", 13);
	fx.setup.pcrsig = "{}";
	fx.setup.pcrsig_size = 2;
	fx.setup.pcrpkey = "-----BEGIN PUBLIC KEY-----\n";
	fx.setup.pcrpkey_size = 27;
	fx.setup.embedded_initrd = "070701embedded";
	fx.setup.embedded_initrd_size = 14;
	run_checked();
	assert_int_equal(files_in(GLUE_ARCHIVE_SYSEXT), 2);
	assert_int_equal(files_in(GLUE_ARCHIVE_GLOBAL), 1);
	assert_int_equal(files_in(GLUE_ARCHIVE_SIGNATURES), 1);
	assert_int_equal(files_in(GLUE_ARCHIVE_PUBLIC_KEY), 1);
	/* Two events per extension, none for the signature files. */
	assert_int_equal(tpm_fake_event_count(), 6);
	assert_non_null(fx.run.initrd);
	assert_int_equal(efi_host_log_find("readme.txt: skipped"), 1);
}

static void test_without_tpm_nothing_is_measured(void **state)
{
	(void)state;
	add_file(fx.global, "a.sysext.raw", 100);
	fx.setup.tpm.tpm_present = FALSE;
	run_checked();
	assert_false(fx.run.can_measure);
	assert_int_equal(files_in(GLUE_ARCHIVE_GLOBAL), 1);
	assert_int_equal(tpm_fake_event_count(), 0);
}

static void test_cc_and_tpm_both_measure(void **state)
{
	(void)state;
	add_file(fx.global, "a.sysext.raw", 100);
	add_file(fx.global, "b.sysext.raw", 100);
	fx.setup.tpm.cc = TRUE;
	run_checked();
	assert_int_equal(tpm_fake_event_count(), 8);
	fx.setup.tpm = (struct tpm_fake_setup){ .cc = TRUE };
	run_checked();
	assert_int_equal(tpm_fake_event_count(), 4);
	assert_int_equal(files_in(GLUE_ARCHIVE_GLOBAL), 2);
}

/* ------------------------------------------------------------ the directory itself */

static void test_directory_getinfo_faults(void **state)
{
	(void)state;
	add_file(fx.global, "a.sysext.raw", 10);
	for (int f = MEMFS_INFO_OK; f < MEMFS_INFO_FAULTS; f++) {
		BOOLEAN benign = f == MEMFS_INFO_OK || f == MEMFS_INFO_SHRINKS;

		fx.global->faults.info = f;
		run_checked();
		assert_int_equal(files_in(GLUE_ARCHIVE_GLOBAL), benign ? 1 : 0);
		assert_int_equal(efi_host_log_find(EXTDIR_GLOBAL ": cannot open as a directory"), benign ? 0 : 1);
	}
}

static void test_directory_open_faults(void **state)
{
	(void)state;
	add_file(fx.global, "a.sysext.raw", 10);
	fx.global->faults.open_status = EFI_DEVICE_ERROR;
	run_checked();
	assert_int_equal(fx.run.dir_status[GLUE_GLOBAL], EFI_DEVICE_ERROR);
	assert_int_equal(efi_host_log_find("cannot open as a directory: Device Error"), 1);
	/* Absent is normal: not a word about it. */
	fx.global->faults.open_status = EFI_NOT_FOUND;
	run_checked();
	assert_int_equal(fx.run.dir_status[GLUE_GLOBAL], EFI_NOT_FOUND);
	assert_int_equal(efi_host_log_count(), 0);
}

static void test_directory_is_a_file(void **state)
{
	(void)state;
	memfs_free(fx.fs);
	fx.fs = fx.setup.fs = memfs_new();
	fx.setup.per_uki_dir = NULL;
	memfs_mkdirs(fx.fs, "\\loader");
	assert_non_null(memfs_add8(fx.fs, memfs_mkdirs(fx.fs, "\\loader"), "extensions", FALSE, "x", 1));
	run_checked();
	assert_int_equal(fx.run.dir_status[GLUE_GLOBAL], EFI_LOAD_ERROR);
}

static void test_volume_does_not_open(void **state)
{
	(void)state;
	add_file(fx.global, "a.sysext.raw", 10);
	fx.setup.pcrsig = "{\"sha256\":[]}";
	fx.setup.pcrsig_size = 13;
	fx.setup.pcrpkey = "key";
	fx.setup.pcrpkey_size = 3;
	memfs_root(fx.fs)->faults.open_status = EFI_MEDIA_CHANGED;
	run_checked();
	assert_int_equal(files_in(GLUE_ARCHIVE_GLOBAL), 0);
	/* The UKI's own .pcrsig and .pcrpkey still reach the initrd, byte for byte. */
	assert_int_equal(files_in(GLUE_ARCHIVE_SIGNATURES), 1);
	assert_int_equal(files_in(GLUE_ARCHIVE_PUBLIC_KEY), 1);
}

/* ------------------------------------------------------------ directory entries */

static void test_entry_faults_end_the_listing_there(void **state)
{
	static const char *const names[] = { "a.sysext.raw", "b.sysext.raw", "c.sysext.raw", "d.sysext.raw" };

	(void)state;
	for (int f = MEMFS_ENTRY_OK; f < MEMFS_ENTRY_FAULTS; f++) {
		struct memfs_node *third = NULL;

		teardown(NULL);
		setup(NULL);
		for (int i = 0; i < 4; i++) {
			struct memfs_node *n = add_file(fx.global, names[i], 100u * (unsigned)(i + 1));

			if (i == 2)
				third = n;
		}
		third->faults.entry = f;
		run_checked();
		if (memfs_entry_fault_ends_listing(f)) {
			assert_int_equal(files_in(GLUE_ARCHIVE_GLOBAL), 2);
			assert_false(holds(GLUE_ARCHIVE_GLOBAL, "c.sysext.raw"));
			/* Only an early end of the directory is silent. */
			assert_int_equal(efi_host_log_find("cannot read the directory"), f == MEMFS_ENTRY_END ? 0 : 1);
		} else {
			assert_int_equal(files_in(GLUE_ARCHIVE_GLOBAL), 4);
		}
	}
}

static void test_dot_entries_are_not_offered(void **state)
{
	(void)state;
	assert_true(fx.global->dots);
	add_file(fx.global, "a.sysext.raw", 1);
	run_checked();
	assert_int_equal(efi_host_log_find(": skipped"), 0);
	assert_int_equal(files_in(GLUE_ARCHIVE_GLOBAL), 1);
}

static void test_thousands_of_entries(void **state)
{
	size_t sysexts = 0, signatures = 0;
	char name[64];

	(void)state;
	/* Reverse name order, so every newcomer is sorted in from the front. */
	for (int i = 4999; i >= 0; i--) {
		if (i % 25 == 0) {
			snprintf(name, sizeof(name), "e%04d.sysext.raw", i);
			add_file(fx.global, name, (size_t)(i % 97) + 1);
			sysexts++;
		} else if (i % 199 == 0) {
			snprintf(name, sizeof(name), "s%04d.pcrsig.json", i);
			add_fragment(fx.global, name, (unsigned)(i % 24));
			signatures++;
		} else {
			snprintf(name, sizeof(name), "other-%04d.txt", i);
			add_file(fx.global, name, 3);
		}
	}
	run_checked();
	/* The first 128 extensions and 16 signature files by name are kept. */
	assert_int_equal(sysexts, 200);
	assert_int_equal(files_in(GLUE_ARCHIVE_GLOBAL), EXT_MAX_FILES);
	assert_true(holds(GLUE_ARCHIVE_GLOBAL, "e0000.sysext.raw"));
	assert_false(holds(GLUE_ARCHIVE_GLOBAL, "e4975.sysext.raw"));
	assert_int_equal(efi_host_log_find("more than 128 extensions"), sysexts - EXT_MAX_FILES);
	assert_int_equal(efi_host_log_find("more than 16 signature files"), signatures - EXT_SIGNATURE_MAX_FILES);
}

static void test_more_entries_than_fat_holds(void **state)
{
	char name[32];

	(void)state;
	fx.setup.per_uki_dir = NULL;
	fx.global->dots = FALSE;
	for (int i = 0; i < LISTING_ENTRIES_MAX; i++) {
		snprintf(name, sizeof(name), "f%05d", i);
		assert_non_null(memfs_add8(fx.fs, fx.global, name, FALSE, "", 0));
	}
	/* Entry 65537: never offered, though it comes first by name. */
	add_file(fx.global, "a.sysext.raw", 10);
	run_checked();
	assert_int_equal(files_in(GLUE_ARCHIVE_GLOBAL), 0);
	assert_int_equal(efi_host_log_find("more than 65536 entries"), 1);
}

static void test_names_with_any_units(void **state)
{
	static const CHAR16 esc[] = { 0x1b, '[', '2', 'J', '.', 's', 'y', 's', 'e', 'x', 't', '.', 'r', 'a', 'w' };
	static const CHAR16 wide[] = { 0xd800, 0xfffe, 0x202e, '.', 's', 'y', 's', 'e', 'x', 't', '.', 'r', 'a', 'w' };
	static const CHAR16 c1[] = { 'a', 0x9b, '.', 's', 'y', 's', 'e', 'x', 't', '.', 'r', 'a', 'w' };

	(void)state;
	assert_non_null(memfs_add(fx.fs, fx.global, esc, sizeof(esc) / 2, FALSE, "x", 1));
	assert_non_null(memfs_add(fx.fs, fx.global, wide, sizeof(wide) / 2, FALSE, "x", 1));
	assert_non_null(memfs_add(fx.fs, fx.global, c1, sizeof(c1) / 2, FALSE, "x", 1));
	add_file(fx.global, "sub\\x.sysext.raw", 3);
	add_file(fx.global, "trailing.sysext.raw.", 4);
	add_file(fx.global, "a*.sysext.raw", 5);
	add_file(fx.global, "ok.sysext.raw", 6);
	run_checked();
	assert_int_equal(files_in(GLUE_ARCHIVE_GLOBAL), 1);
	assert_true(holds(GLUE_ARCHIVE_GLOBAL, "ok.sysext.raw"));
	assert_int_equal(efi_host_log_find(": skipped"), 6);
}

static void test_names_the_fat_driver_rewrites(void **state)
{
	(void)state;
	/* " a.sysext.raw" would open "a.sysext.raw": only the real one is read. */
	add_file(fx.global, " a.sysext.raw", 10);
	add_file(fx.global, "a.sysext.raw", 10);
	add_file(fx.global, "b.sysext.raw ", 10);
	run_checked();
	assert_int_equal(files_in(GLUE_ARCHIVE_GLOBAL), 1);
	assert_true(holds(GLUE_ARCHIVE_GLOBAL, "a.sysext.raw"));
}

/* ------------------------------------------------------------ reading the files */

static void test_file_that_changed_since_the_listing(void **state)
{
	(void)state;
	add_file(fx.global, "a.sysext.raw", 100);
	add_file(fx.global, "b.sysext.raw", 100)->listed_size = 99;  /* grew */
	add_file(fx.global, "c.sysext.raw", 100)->listed_size = 101; /* shrank */
	add_file(fx.global, "d.sysext.raw", 100)->listed_size = 0;
	add_file(fx.global, "e.sysext.raw", 100);
	add_file(fx.global, "s.pcrsig.json", 100)->listed_size = 200;
	run_checked();
	/*
	 * The layout was fixed before the reads: b and c are handed over
	 * zero-filled in their places, d as the empty file it was listed as.
	 */
	assert_int_equal(files_in(GLUE_ARCHIVE_GLOBAL), 3);
	assert_int_equal(zeroed_in(GLUE_ARCHIVE_GLOBAL), 2);
	assert_true(holds(GLUE_ARCHIVE_GLOBAL, "a.sysext.raw"));
	assert_true(holds(GLUE_ARCHIVE_GLOBAL, "e.sysext.raw"));
	assert_int_equal(efi_host_log_find("cannot read it: Bad Buffer Size"), 2);
	assert_int_equal(efi_host_log_find("cannot read it: End of File"), 2);
}

static void test_short_reads_are_read_on(void **state)
{
	(void)state;
	add_file(fx.global, "a.sysext.raw", 1000)->faults.read_max = 1;
	add_file(fx.global, "b.sysext.raw", 100000)->faults.read_max = 4093;
	add_fragment(fx.global, "s.pcrsig.json", 11)->faults.read_max = 3;
	run_checked();
	assert_int_equal(files_in(GLUE_ARCHIVE_GLOBAL), 2);
	assert_int_equal(files_in(GLUE_ARCHIVE_SIGNATURES), 1);
}

static void test_read_errors(void **state)
{
	struct memfs_node *n;

	(void)state;
	n = add_file(fx.global, "a.sysext.raw", 100);
	n->faults = (struct memfs_faults){ .read_fails = TRUE, .fail_at = 0 };
	n = add_file(fx.global, "b.sysext.raw", 100);
	n->faults = (struct memfs_faults){ .read_fails = TRUE, .fail_at = 50, .fail_status = EFI_VOLUME_CORRUPTED };
	/* Past the last byte: only the read that looks for more fails. */
	n = add_file(fx.global, "c.sysext.raw", 100);
	n->faults = (struct memfs_faults){ .read_fails = TRUE, .fail_at = 100 };
	n = add_file(fx.global, "d.sysext.raw", 100);
	n->faults = (struct memfs_faults){ .read_fails = TRUE, .fail_at = 101 };
	add_file(fx.global, "e.sysext.raw", 100)->faults.open_status = EFI_ACCESS_DENIED;
	add_fragment(fx.global, "s.pcrsig.json", 11)->faults = (struct memfs_faults){ .read_fails = TRUE };
	run_checked();
	assert_int_equal(files_in(GLUE_ARCHIVE_GLOBAL), 1);
	assert_int_equal(zeroed_in(GLUE_ARCHIVE_GLOBAL), 4);
	assert_true(holds(GLUE_ARCHIVE_GLOBAL, "d.sysext.raw"));
	assert_int_equal(files_in(GLUE_ARCHIVE_SIGNATURES), 0);
	assert_int_equal(efi_host_log_find("e.sysext.raw: handed over zero-filled, cannot read it: Access Denied"), 1);
	/* Path and content (the zeros) for each of the five. */
	assert_int_equal(tpm_fake_event_count(), 10);
}

/* A Read that claims more bytes than it was asked for wrote no more than that: not believed. */
static void test_read_claiming_more_than_it_wrote(void **state)
{
	struct memfs_node *n;

	(void)state;
	/* 700 bytes listed as 1000, read 100 at a time, each claiming 150: the gaps would be unwritten pages. */
	n = add_file(fx.global, "a.sysext.raw", 700);
	n->listed_size = 1000;
	n->faults.read_max = 100;
	n->faults.overreport = 50;
	/* Every byte there, one more claimed: the loop ends early and the probe finds the end. */
	add_file(fx.global, "b.sysext.raw", 10)->faults.overreport = 1;
	add_fragment(fx.global, "s.pcrsig.json", 11)->faults.overreport = 8;
	add_file(fx.global, "c.sysext.raw", 10);
	run_checked();
	assert_int_equal(files_in(GLUE_ARCHIVE_GLOBAL), 1);
	assert_int_equal(zeroed_in(GLUE_ARCHIVE_GLOBAL), 2);
	assert_true(holds(GLUE_ARCHIVE_GLOBAL, "c.sysext.raw"));
	assert_int_equal(files_in(GLUE_ARCHIVE_SIGNATURES), 0);
	assert_int_equal(efi_host_log_find("cannot read it: Protocol error"), 3);
}

/* ------------------------------------------------------------ measuring */

/*
 * The layout is fixed when the kernel asks: a file whose measurement fails
 * is handed over zero-filled, and the zeros get a content event of their
 * own (glue_check holds the events to that order and their bytes).
 */
static void test_failed_measurements_zero_the_file(void **state)
{
	(void)state;
	add_file(fx.global, "a.sysext.raw", 10);
	add_file(fx.global, "b.sysext.raw", 20);
	/* Events: a's path, a's content, b's path, b's content. */
	for (unsigned long at = 1; at <= 4; at++) {
		fx.setup.tpm.fail_at = at;
		fx.setup.tpm.fail_status = EFI_DEVICE_ERROR;
		run_checked();
		assert_int_equal(files_in(GLUE_ARCHIVE_GLOBAL), 1);
		assert_int_equal(zeroed_in(GLUE_ARCHIVE_GLOBAL), 1);
		assert_true(holds(GLUE_ARCHIVE_GLOBAL, "a.sysext.raw") && holds(GLUE_ARCHIVE_GLOBAL, "b.sysext.raw"));
		assert_int_equal(efi_host_log_find(at <= 2 ? "a.sysext.raw: handed over zero-filled, measuring it failed"
							  : "b.sysext.raw: handed over zero-filled, measuring it failed"),
				 1);
		/* The failed call, then the zeros' content event (after a failed path event, b's content is not tried). */
		assert_int_equal(tpm_fake_event_count(), at % 2 ? 4 : 5);
		/* A full event log still extended the PCR: kept. */
		fx.setup.tpm.fail_status = EFI_VOLUME_FULL;
		run_checked();
		assert_int_equal(files_in(GLUE_ARCHIVE_GLOBAL), 2);
		assert_int_equal(efi_host_log_find("event log is full"), 1);
	}
	/* CC first (call 3: a's content): a failed CC event stops the call before the TPM sees it. */
	fx.setup.tpm = (struct tpm_fake_setup){ .tcg2 = TRUE, .tpm_present = TRUE, .cc = TRUE, .fail_at = 3,
						.fail_status = EFI_DEVICE_ERROR };
	run_checked();
	assert_int_equal(files_in(GLUE_ARCHIVE_GLOBAL), 1);
	assert_int_equal(zeroed_in(GLUE_ARCHIVE_GLOBAL), 1);
	assert_int_equal(tpm_fake_event_count(), 9);
	/* Nothing can be measured at all: both go zero-filled, and PCR 13 is not announced (glue_check). */
	fx.setup.tpm.fail_at = 0;
	fx.setup.tpm.cc_map_fails = TRUE;
	run_checked();
	assert_int_equal(files_in(GLUE_ARCHIVE_GLOBAL), 0);
	assert_int_equal(zeroed_in(GLUE_ARCHIVE_GLOBAL), 2);
	assert_int_equal(tpm_fake_event_count(), 0);
}

/* ------------------------------------------------------------ memory */

static void test_archive_pages_short(void **state)
{
	(void)state;
	add_file(fx.global, "a.sysext.raw", 3 * 4096);
	add_file(fx.global, "b.sysext.raw", 9 * 4096);
	add_file(fx.global, "c.sysext.raw", 2 * 4096);
	fx.setup.alloc.pages_max = 8;
	run_checked();
	assert_int_equal(files_in(GLUE_ARCHIVE_GLOBAL), 2);
	assert_false(holds(GLUE_ARCHIVE_GLOBAL, "b.sysext.raw"));
	assert_int_equal(efi_host_log_find("b.sysext.raw: skipped, not enough memory"), 1);
}

/* Every single allocation the glue makes fails once: nothing leaks, nothing unmeasured is handed over. */
static void test_each_allocation_failing(void **state)
{
	struct efi_host_memory m;
	unsigned long pool_calls, pages_calls;

	(void)state;
	add_file(fx.per_uki, "a.sysext.raw", 10);
	add_file(fx.global, "b.sysext.raw", 5000);
	add_file(fx.global, "c.sysext.raw", 7);
	add_fragment(fx.per_uki, "x.pcrsig.json", 11);
	add_fragment(fx.global, "y.pcrsig.json", 12);
	fx.setup.pcrsig = "{}";
	fx.setup.pcrsig_size = 2;
	fx.setup.pcrpkey = "key";
	fx.setup.pcrpkey_size = 3;
	fx.setup.tpm.cc = TRUE; /* its events allocate too */
	fx.global->children[0]->faults.entry = MEMFS_ENTRY_PADDED;
	run_checked();
	efi_host_memory(&m);
	pool_calls = m.pool_calls;
	pages_calls = m.pages_calls;
	assert_true(pool_calls > 10);
	for (unsigned long at = 1; at <= pool_calls; at++) {
		fx.setup.alloc = (struct efi_host_alloc_faults){ .pool_fail_at = at };
		run_checked();
		efi_host_memory(&m);
		assert_int_equal(m.failed, 1);
	}
	for (unsigned long at = 1; at <= pages_calls; at++) {
		fx.setup.alloc = (struct efi_host_alloc_faults){ .pages_fail_at = at };
		run_checked();
	}
}

/* ------------------------------------------------------------ signatures */

static void test_signature_section_alone_and_merged(void **state)
{
	static const char section[] = "{ \"sha256\" : [ ] }";

	(void)state;
	fx.setup.pcrsig = section;
	fx.setup.pcrsig_size = sizeof(section) - 1;
	run_checked();
	assert_int_equal(files_in(GLUE_ARCHIVE_SIGNATURES), 1);
	add_fragment(fx.per_uki, "a.pcrsig.json", 11);
	add_fragment(fx.global, "b.pcrsig.json", 13);
	assert_non_null(memfs_add8(fx.fs, fx.global, "c.pcrsig.json", FALSE, "{\"sha256\":[{]}", 14));
	run_checked();
	assert_int_equal(files_in(GLUE_ARCHIVE_SIGNATURES), 1);
	assert_int_equal(efi_host_log_find("c.pcrsig.json: skipped, not a valid PCR signature file"), 1);
}

/* A .pcrsig section too large to parse at boot stays out of a merge, and alone is passed on as it is. */
static void test_signature_section_too_large_to_merge(void **state)
{
	size_t size = PCRSIG_SECTION_MERGE_MAX + 1;
	char *section = malloc(size);

	(void)state;
	assert_non_null(section);
	/* Valid JSON: a fragment with one entry, padded with blanks. */
	memset(section, ' ', size);
	memcpy(section, fragment_fmt, strlen(fragment_fmt));
	section[strstr(fragment_fmt, "%u") - fragment_fmt] = '1';
	section[strstr(fragment_fmt, "%u") - fragment_fmt + 1] = '1';
	fx.setup.pcrsig = section;
	fx.setup.pcrsig_size = size;
	run_checked();
	assert_int_equal(fx.run.archives[GLUE_ARCHIVE_SIGNATURES].n_files, 1);
	assert_true(fx.run.archives[GLUE_ARCHIVE_SIGNATURES].size > size);
	add_fragment(fx.global, "b.pcrsig.json", 13);
	run_checked();
	assert_true(fx.run.archives[GLUE_ARCHIVE_SIGNATURES].size < 4096);
	assert_int_equal(efi_host_log_find(".pcrsig section: left out of the merge"), 1);
	free(section);
}

/* ------------------------------------------------------------ LoadFile2 */

static EFI_LOAD_FILE_PROTOCOL *media_protocol(void)
{
	EFI_GUID guid = SYSEXT_EFI_LOAD_FILE2_PROTOCOL_GUID;

	return efi_host_find_protocol(&guid, NULL);
}

static void *owned_piece(UINTN pages, UINT8 fill)
{
	EFI_PHYSICAL_ADDRESS addr;

	assert_int_equal(mem_alloc_pages(pages, &addr), EFI_SUCCESS);
	memset((void *)(UINTN)addr, fill, pages * EFI_PAGE_SIZE);
	return (void *)(UINTN)addr;
}

static void test_load_file2_states(void **state)
{
	struct initrd_piece pieces[2] = {
		{ .data = "abcde", .size = 5 },
		{ .data = owned_piece(2, 0x42), .size = 5000, .pages = 2 },
	};
	struct initrd_media *media = NULL;
	EFI_LOAD_FILE_PROTOCOL *lf2;
	struct efi_host_memory m;
	UINT8 buf[5016];
	UINTN size = 0;

	(void)state;
	assert_int_equal(initrd_register(pieces, 2, &media), EFI_SUCCESS);
	lf2 = media_protocol();
	assert_non_null(lf2);
	/* The size query: the first piece is padded to 4. */
	assert_int_equal(lf2->LoadFile(lf2, NULL, FALSE, &size, NULL), EFI_BUFFER_TOO_SMALL);
	assert_int_equal(size, 5008);
	size = 100;
	assert_int_equal(lf2->LoadFile(lf2, NULL, FALSE, &size, buf), EFI_BUFFER_TOO_SMALL);
	assert_int_equal(size, 5008);
	assert_int_equal(lf2->LoadFile(lf2, NULL, TRUE, &size, buf), EFI_UNSUPPORTED);
	assert_int_equal(lf2->LoadFile(lf2, NULL, FALSE, NULL, buf), EFI_INVALID_PARAMETER);
	assert_int_equal(lf2->LoadFile(NULL, NULL, FALSE, &size, buf), EFI_INVALID_PARAMETER);
	memset(buf, 0xee, sizeof(buf));
	size = sizeof(buf);
	assert_int_equal(lf2->LoadFile(lf2, NULL, FALSE, &size, buf), EFI_SUCCESS);
	assert_int_equal(size, 5008);
	assert_memory_equal(buf, "abcde\0\0\0", 8);
	for (int i = 8; i < 5008; i++)
		assert_int_equal(buf[i], 0x42);
	assert_int_equal(buf[5008], 0xee);
	/* Released once delivered: the pages are back, a second fill finds nothing. */
	efi_host_memory(&m);
	assert_int_equal(m.page_allocs, 0);
	assert_int_equal(lf2->LoadFile(lf2, NULL, FALSE, &size, buf), EFI_NOT_FOUND);
	assert_int_equal(lf2->LoadFile(lf2, NULL, FALSE, &size, NULL), EFI_NOT_FOUND);
	initrd_unregister(media);
	assert_null(media_protocol());
	efi_host_memory(&m);
	assert_int_equal(m.pool_blocks + m.page_allocs, 0);
	assert_int_equal(efi_host_violation_count(), 0);
}

static void test_load_file2_unregistered_unread(void **state)
{
	struct initrd_piece piece = { .data = owned_piece(3, 1), .size = 3 * EFI_PAGE_SIZE, .pages = 3 };
	struct initrd_media *media = NULL;
	struct efi_host_memory m;

	(void)state;
	assert_int_equal(initrd_register(&piece, 1, &media), EFI_SUCCESS);
	initrd_unregister(media);
	efi_host_memory(&m);
	assert_int_equal(m.pool_blocks + m.page_allocs, 0);
	assert_int_equal(efi_host_violation_count(), 0);
}

/*
 * A planned extension archive that the kernel never asks for: unregistering
 * frees it and closes its directory; nothing was read, nothing measured,
 * and PCR 13 is not announced (it holds nothing).
 */
/* A TPM, the measurer over it, and the listing of \loader\extensions as the stub makes it. */
static void open_global_listing(struct measurer *m, EFI_FILE_HANDLE *root, struct dir_listing *l)
{
	tpm_fake_setup(&fx.setup.tpm);
	assert_true(measurer_init(m));
	assert_int_equal(esp_open_root(memfs_device(fx.fs), root), EFI_SUCCESS);
	assert_int_equal(listing_open(*root, L"" EXTDIR_GLOBAL, sel_dir_kinds(SEL_DIR_GLOBAL, EXT_RULE_SYSEXT_STUB), l),
			 EFI_SUCCESS);
}

static void test_load_file2_lazy_never_filled(void **state)
{
	const struct companion_target *t = companion_target_for(EXT_KIND_SYSEXT, SEL_DIR_GLOBAL);
	struct lazy_archive *lazy = NULL;
	struct initrd_media *media = NULL;
	struct initrd_piece piece;
	EFI_FILE_HANDLE root = NULL;
	struct dir_listing l;
	struct measurer m;
	struct efi_host_memory mem;
	char value[8];

	(void)state;
	add_file(fx.global, "a.sysext.raw", 5000);
	open_global_listing(&m, &root, &l);
	lazy_archive_plan(&l, t, &m, TRUE, &lazy);
	assert_non_null(lazy);
	lazy_archives_adopt(&lazy, 1, &l);
	listing_close(&l);
	esp_close(root);
	assert_int_equal(memfs_open_handles(fx.fs), 1);
	lazy_archive_piece(lazy, &piece);
	assert_null(piece.data);
	assert_int_equal(piece.pages, 0);
	assert_true(piece.size > 5000);
	assert_int_equal(initrd_register(&piece, 1, &media), EFI_SUCCESS);
	initrd_unregister(media);
	efi_host_memory(&mem);
	assert_int_equal(mem.pool_blocks + mem.page_allocs, 0);
	assert_int_equal(memfs_open_handles(fx.fs), 0);
	assert_int_equal(tpm_fake_event_count(), 0);
	assert_int_equal(efi_host_var_sets("StubPcrInitRDSysExts", value, sizeof(value)), 0);
	assert_int_equal(efi_host_violation_count(), 0);
}

/* Fill pieces that record the order they were filled in (initrd_fill_rank) and write their own byte. */
static char fill_log[8];
static size_t fill_log_n;

static void record_fill(void *ctx, UINT8 *dest)
{
	const char *id = ctx;

	fill_log[fill_log_n++] = *id;
	dest[0] = (UINT8)*id;
}

static void test_load_file2_fills_in_rank_order(void **state)
{
	/* Laid out in slot order; filled (and so measured) credentials, confexts, then the microcode addon. */
	struct initrd_piece pieces[4] = {
		{ .slot = INITRD_SLOT_UCODE_ADDONS, .size = 1, .fill = record_fill, .ctx = "u" },
		{ .slot = INITRD_SLOT_EMBEDDED, .data = "e", .size = 1 },
		{ .slot = INITRD_SLOT_CREDENTIALS, .size = 1, .fill = record_fill, .ctx = "c" },
		{ .slot = INITRD_SLOT_CONFEXT, .size = 1, .fill = record_fill, .ctx = "x" },
	};
	struct initrd_media *media = NULL;
	EFI_LOAD_FILE_PROTOCOL *lf2;
	UINT8 buf[13];
	UINTN size = sizeof(buf);

	(void)state;
	fill_log_n = 0;
	assert_int_equal(initrd_register(pieces, 4, &media), EFI_SUCCESS);
	lf2 = media_protocol();
	assert_int_equal(lf2->LoadFile(lf2, NULL, FALSE, &size, buf), EFI_SUCCESS);
	assert_int_equal(size, 13);
	assert_int_equal(fill_log_n, 3);
	assert_memory_equal(fill_log, "cxu", 3);
	/* The layout is the order given, each piece padded to 4. */
	assert_int_equal(buf[0], 'u');
	assert_int_equal(buf[4], 'e');
	assert_int_equal(buf[8], 'c');
	assert_int_equal(buf[12], 'x');
	initrd_unregister(media);
	assert_int_equal(efi_host_violation_count(), 0);
}

/* Sysexts and confexts of one directory share it: both read at fill time, closed when both are done. */
static void test_lazy_archives_share_a_directory(void **state)
{
	struct lazy_archive *lazy[2] = { NULL, NULL };
	struct initrd_piece pieces[2];
	struct initrd_media *media = NULL;
	EFI_LOAD_FILE_PROTOCOL *lf2;
	EFI_FILE_HANDLE root = NULL;
	struct dir_listing l;
	struct measurer m;
	struct efi_host_memory mem;
	char value[8];
	UINT8 *buf;
	UINTN size = 0;

	(void)state;
	add_file(fx.global, "a.sysext.raw", 5000);
	add_file(fx.global, "b.confext.raw", 3000);
	open_global_listing(&m, &root, &l);
	lazy_archive_plan(&l, companion_target_for(EXT_KIND_SYSEXT, SEL_DIR_GLOBAL), &m, TRUE, &lazy[0]);
	lazy_archive_plan(&l, companion_target_for(EXT_KIND_CONFEXT, SEL_DIR_GLOBAL), &m, TRUE, &lazy[1]);
	assert_non_null(lazy[0]);
	assert_non_null(lazy[1]);
	lazy_archives_adopt(lazy, 2, &l);
	listing_close(&l);
	esp_close(root);
	assert_int_equal(memfs_open_handles(fx.fs), 1);
	lazy_archive_piece(lazy[0], &pieces[0]);
	lazy_archive_piece(lazy[1], &pieces[1]);
	assert_int_equal(initrd_register(pieces, 2, &media), EFI_SUCCESS);
	lf2 = media_protocol();
	assert_int_equal(lf2->LoadFile(lf2, NULL, FALSE, &size, NULL), EFI_BUFFER_TOO_SMALL);
	buf = malloc(size);
	assert_non_null(buf);
	assert_int_equal(lf2->LoadFile(lf2, NULL, FALSE, &size, buf), EFI_SUCCESS);
	/* Both files read from the one handle, which closed once both archives were done with it. */
	assert_int_equal(memfs_open_handles(fx.fs), 0);
	assert_int_equal(tpm_fake_event_count(), 4);
	assert_int_equal(efi_host_var_sets("StubPcrInitRDSysExts", value, sizeof(value)), 1);
	assert_int_equal(efi_host_var_sets("StubPcrInitRDConfExts", value, sizeof(value)), 1);
	free(buf);
	initrd_unregister(media);
	efi_host_memory(&mem);
	assert_int_equal(mem.pool_blocks + mem.page_allocs, 0);
	assert_int_equal(efi_host_violation_count(), 0);
}

static void test_load_file2_registered_twice(void **state)
{
	struct initrd_piece a = { .data = owned_piece(1, 1), .size = 10, .pages = 1 };
	struct initrd_piece b = { .data = owned_piece(1, 2), .size = 10, .pages = 1 };
	struct initrd_media *first = NULL, *second = NULL;
	struct efi_host_memory m;

	(void)state;
	assert_int_equal(initrd_register(&a, 1, &first), EFI_SUCCESS);
	assert_int_equal(initrd_register(&b, 1, &second), EFI_ALREADY_STARTED);
	assert_null(second);
	/* The caller still owns the second piece. */
	assert_int_equal(efi_host_pages_at(b.data), 1);
	mem_free_pages((EFI_PHYSICAL_ADDRESS)(UINTN)b.data, 1);
	initrd_unregister(first);
	efi_host_memory(&m);
	assert_int_equal(m.pool_blocks + m.page_allocs, 0);
	assert_int_equal(efi_host_violation_count(), 0);
}

static void test_load_file2_not_uninstalled_not_freed(void **state)
{
	struct initrd_piece piece = { .data = owned_piece(1, 1), .size = 10, .pages = 1 };
	struct initrd_media *media = NULL;
	struct efi_host_memory m;

	(void)state;
	assert_int_equal(initrd_register(&piece, 1, &media), EFI_SUCCESS);
	efi_host_set_uninstall_status(EFI_ACCESS_DENIED);
	initrd_unregister(media);
	/* Still installed, so still allocated: the firmware may call it. */
	assert_non_null(media_protocol());
	efi_host_memory(&m);
	assert_int_equal(m.pool_blocks, 1);
	assert_int_equal(m.page_allocs, 1);
	assert_int_equal(efi_host_log_find("cannot uninstall the initrd LoadFile2 protocol"), 1);
	efi_host_set_uninstall_status(0);
	initrd_unregister(media);
	efi_host_memory(&m);
	assert_int_equal(m.pool_blocks + m.page_allocs, 0);
}

static void test_load_file2_edges(void **state)
{
	struct initrd_piece pieces[INITRD_MAX_PIECES + 1];
	struct initrd_media *media = NULL;
	EFI_LOAD_FILE_PROTOCOL *lf2;
	UINTN size = 0;

	(void)state;
	memset(pieces, 0, sizeof(pieces));
	assert_int_equal(initrd_register(pieces, INITRD_MAX_PIECES + 1, &media), EFI_INVALID_PARAMETER);
	assert_null(media_protocol());
	/* Sizes whose layout overflows. */
	pieces[0] = (struct initrd_piece){ .data = "x", .size = UINT64_MAX - 1 };
	pieces[1] = (struct initrd_piece){ .data = "y", .size = 1 };
	assert_int_equal(initrd_register(pieces, 2, &media), EFI_BAD_BUFFER_SIZE);
	assert_null(media_protocol());
	memset(pieces, 0, sizeof(pieces));
	/* Nothing to hand over: the media exists but has no file. */
	assert_int_equal(initrd_register(pieces, 0, &media), EFI_SUCCESS);
	lf2 = media_protocol();
	assert_int_equal(lf2->LoadFile(lf2, NULL, FALSE, &size, NULL), EFI_NOT_FOUND);
	initrd_unregister(media);
	initrd_unregister(NULL);
	assert_int_equal(efi_host_violation_count(), 0);
}

/* ------------------------------------------------------------ efi-lib odds and ends */

static void test_open_root_without_a_volume(void **state)
{
	EFI_FILE_HANDLE root = NULL;
	EFI_HANDLE other = NULL;
	EFI_GUID some_guid = { 1, 2, 3, { 4, 5, 6, 7, 8, 9, 10, 11 } };
	int some_interface;

	(void)state;
	assert_int_equal(esp_open_root(NULL, &root), EFI_NOT_FOUND);
	assert_int_equal(efi_host_install(&other, &some_guid, &some_interface), EFI_SUCCESS);
	assert_int_equal(esp_open_root(other, &root), EFI_UNSUPPORTED);
	assert_int_equal(esp_open_root(memfs_device(fx.fs), &root), EFI_SUCCESS);
	esp_close(root);
	esp_close(NULL);
	assert_int_equal(memfs_open_handles(fx.fs), 0);
}

static void test_memory_accounting_edges(void **state)
{
	struct mem_usage before, u;
	struct efi_host_memory m;
	EFI_PHYSICAL_ADDRESS addr;
	void *p;

	(void)state;
	mem_usage(&before);
	p = mem_alloc_zero(0);
	assert_non_null(p);
	mem_free(p);
	mem_free(NULL);
	assert_null(mem_alloc_zero((UINTN)-1));
	assert_int_equal(mem_alloc_pages(0, &addr), EFI_INVALID_PARAMETER);
	assert_int_equal(mem_alloc_code_pages(2, &addr), EFI_SUCCESS);
	mem_usage(&u);
	assert_int_equal(u.held - before.held, 2 * EFI_PAGE_SIZE);
	assert_true(u.peak >= u.held);
	mem_free_pages(addr, 0); /* ignored */
	assert_int_equal(efi_host_pages_at((void *)(UINTN)addr), 2);
	mem_free_pages(addr, 2);
	mem_usage(&u);
	assert_int_equal(u.held, before.held);
	efi_host_memory(&m);
	assert_int_equal(m.pool_blocks + m.page_allocs, 0);
	assert_int_equal(efi_host_violation_count(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_two_directories_measured, setup, teardown),
		cmocka_unit_test_setup_teardown(test_without_tpm_nothing_is_measured, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cc_and_tpm_both_measure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_directory_getinfo_faults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_directory_open_faults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_directory_is_a_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_volume_does_not_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_entry_faults_end_the_listing_there, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dot_entries_are_not_offered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thousands_of_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_more_entries_than_fat_holds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names_with_any_units, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names_the_fat_driver_rewrites, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_that_changed_since_the_listing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_reads_are_read_on, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_claiming_more_than_it_wrote, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_measurements_zero_the_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_archive_pages_short, setup, teardown),
		cmocka_unit_test_setup_teardown(test_each_allocation_failing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_signature_section_alone_and_merged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_signature_section_too_large_to_merge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_file2_states, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_file2_unregistered_unread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_file2_lazy_never_filled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_file2_fills_in_rank_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lazy_archives_share_a_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_file2_registered_twice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_file2_not_uninstalled_not_freed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_file2_edges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_root_without_a_volume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memory_accounting_edges, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
