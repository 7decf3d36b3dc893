/* SPDX-License-Identifier: MIT */
/*
 * fuzz-stub-glue.c - libFuzzer target for the stub's glue on the host
 * (tests/efi-host/efi-host.h): the input builds an ESP and a fault
 * schedule, the real stub/listing.c, stub/sysext.c, stub/signatures.c and
 * efi-lib/ code lists, reads, measures, merges and hands it over, and
 * glue_check() asserts every invariant glue.h lists (measured bytes are
 * the bytes handed over, the selection is measure/selection.c's, nothing
 * leaks, ...). Any violation aborts with the list of them and the console.
 * Seeds: tests/fuzz/make-stub-glue-seeds.py, which documents the format.
 *
 * Input, every missing byte read as 0:
 *   6 header bytes:
 *     h0  bit 0: a TPM; 1: a CC protocol; 2: TCG2 without a TPM; 3: a
 *         per-UKI directory; 4: no "." and ".." entries; 5: a .pcrsig
 *         section; 6: .pcrpkey; 7: an embedded .initrd
 *     h1  bits 0-3: page limit, none or 2^(n-1) pages (default 4096);
 *         bits 4-7: the global directory's GetInfo fault
 *     h2  the Nth pool allocation fails (0: none)
 *     h3  bits 0-3: the Nth page allocation fails; bits 4-6: the
 *         per-UKI directory's GetInfo fault; bit 7: the volume does not open
 *     h4  the Nth measurement fails (0: none)
 *     h5  bits 0-1: how it fails (error, full log, CC mapping fails);
 *         bits 2-3: the section (a fragment, "{}", "{", one over the merge
 *         size); bit 4: the global directory does not open; bit 5: the
 *         per-UKI one is absent
 *   then records until the input ends:
 *     op  bits 0-1: a file in the global directory, one in the per-UKI
 *         directory, a subdirectory, and 3 as 0 unless bit 7 makes it a
 *         bulk of op2 * 16 files (at most BULK_MAX in all); bits 2-4:
 *         the suffix (.sysext.raw, .pcrsig.json, .SysExt.Raw, .raw, none,
 *         .PCRSIG.JSON, ".sysext.raw.", ".sysext.raw "); bit 5: content
 *         from the input (else a pattern, or a valid fragment for
 *         signature files); bit 6: a directory-entry fault byte follows
 *     len, then len bytes of name (0xfe hi lo: one UTF-16 unit)
 *     size  bits 0-3: content size from a table; bits 4-7: the listed
 *         size (same for 0-7, +1, -1, 0, 5 GiB, 3 GiB, twice, 4 GiB - 1, 1)
 *     fault bits 0-2: none (0-3), open fails, read fails at param/256 of
 *         the file, short reads of param + 1 bytes, reads over-reporting
 *         by param % 8 + 1; bit 3: NOT_FOUND instead of DEVICE_ERROR
 *     param
 *     [entry fault] if op bit 6
 *     [n, n bytes] content, if op bit 5
 */
#include <efi.h>
#include <efilib.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure/extdir.h"
#include "measure/pcrsig.h"
#include "tests/efi-host/glue.h"

#define PER_UKI_DIR "\\EFI\\Linux\\fuzz.efi.extra.d"
#define RECORDS_MAX 400
#define NAME_MAX_UNITS 40
#define BULK_UNIT 16
#define BULK_MAX 5000

struct input {
	const uint8_t *p;
	size_t n;
};

static uint8_t next(struct input *in)
{
	uint8_t b = 0;

	if (in->n) {
		b = *in->p++;
		in->n--;
	}
	return b;
}

static const char fragment_fmt[] =
	"{\"sha256\":[{\"pcrs\":[%u],\"pkfp\":\"abababababababababababababababababababababababababababababababab\","
	"\"pol\":\"cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd\",\"sig\":\"QUJD\"}]}";

static const char *const suffixes[8] = {
	".sysext.raw", ".pcrsig.json", ".SysExt.Raw", ".raw", "", ".PCRSIG.JSON", ".sysext.raw.", ".sysext.raw ",
};

static const UINT64 content_sizes[16] = { 0, 1, 2, 3, 4, 7, 100, 511, 512, 1000, 4095, 4096, 4097, 20000, 70000, 65536 };

static UINT64 listed_size(uint8_t code, UINT64 size)
{
	switch (code) {
	case 8: return size + 1;
	case 9: return size ? size - 1 : 0;
	case 10: return 0;
	case 11: return 5ULL << 30;
	case 12: return 3ULL << 30;
	case 13: return 2 * size;
	case 14: return 0xffffffffULL;
	case 15: return 1;
	default: return size;
	}
}

static void set_read_fault(struct memfs_node *n, uint8_t fault, uint8_t param)
{
	switch (fault & 7) {
	case 4:
		n->faults.open_status = fault & 8 ? EFI_NOT_FOUND : EFI_DEVICE_ERROR;
		break;
	case 5:
		n->faults.read_fails = TRUE;
		n->faults.fail_at = n->size * param / 256;
		n->faults.fail_status = fault & 8 ? EFI_VOLUME_CORRUPTED : 0;
		break;
	case 6:
		n->faults.read_max = (UINTN)param + 1;
		break;
	case 7:
		n->faults.overreport = param % 8 + 1;
		break;
	default:
		break;
	}
}

/* The name: input bytes as units, 0xfe hi lo as one unit; the suffix after it. */
static size_t read_name(struct input *in, const char *suffix, CHAR16 *out)
{
	size_t len = next(in) % NAME_MAX_UNITS, n = 0;

	for (size_t i = 0; i < len; i++) {
		uint8_t b = next(in);

		if (b == 0xfe) {
			uint8_t hi = next(in);

			out[n++] = (CHAR16)(hi << 8 | next(in));
		} else {
			out[n++] = b;
		}
	}
	for (; *suffix; suffix++)
		out[n++] = (CHAR16)*suffix;
	return n;
}

/* @count more files named bulkNNNNN<suffix> in @dir, while the input's budget lasts. */
static void add_bulk(struct memfs *fs, struct memfs_node *dir, const char *suffix, size_t count, size_t *budget)
{
	char name[64];

	for (size_t i = 0; i < count && *budget; i++) {
		snprintf(name, sizeof(name), "bulk%05zu%s", dir->n_children, suffix);
		if (memfs_add8(fs, dir, name, FALSE, "b", 1))
			--*budget;
	}
}

static void add_record(struct memfs *fs, struct memfs_node *dirs[2], struct input *in, unsigned index,
		       UINT8 *scratch, size_t *bulk_budget)
{
	uint8_t op = next(in), size_code, fault, param, entry = 0;
	const char *suffix = suffixes[(op >> 2) & 7];
	struct memfs_node *dir = (op & 3) == 1 && dirs[1] ? dirs[1] : dirs[0], *n;
	CHAR16 name[3 * NAME_MAX_UNITS + 16];
	size_t name_len;
	UINT64 size;

	if ((op & 3) == 3 && (op & 0x80)) {
		add_bulk(fs, dirs[0], suffix, (size_t)next(in) * BULK_UNIT, bulk_budget);
		return;
	}
	name_len = read_name(in, suffix, name);
	size_code = next(in);
	fault = next(in);
	param = next(in);
	if (op & 0x40)
		entry = next(in) % MEMFS_ENTRY_FAULTS;
	size = content_sizes[size_code & 15];
	if (op & 0x20) {
		size = next(in);
		for (size_t i = 0; i < size; i++)
			scratch[i] = next(in);
	} else if (strstr(suffix, "pcrsig") || strstr(suffix, "PCRSIG")) {
		size = (UINT64)snprintf((char *)scratch, 512, fragment_fmt, param % 24);
	} else {
		for (UINT64 i = 0; i < size; i++)
			scratch[i] = (UINT8)(index * 151u + i * 7u + (i >> 8));
	}
	if ((op & 3) == 2) {
		n = memfs_add(fs, dir, name, name_len, TRUE, NULL, 0);
		if (n)
			n->dots = TRUE;
	} else {
		n = memfs_add(fs, dir, name, name_len, FALSE, scratch, size);
		if (n) {
			n->listed_size = listed_size(size_code >> 4, size);
			set_read_fault(n, fault, param);
		}
	}
	if (n)
		n->faults.entry = entry;
}

/* The .pcrsig section: a fragment, an empty document, a broken one, or one too large to merge. */
static void *make_section(unsigned kind, UINTN *ret_size)
{
	char *s;

	if (kind == 3) {
		*ret_size = PCRSIG_SECTION_MERGE_MAX + 1;
		s = malloc(*ret_size);
		if (!s)
			abort();
		memset(s, ' ', *ret_size);
		memcpy(s, "{}", 2);
		return s;
	}
	s = malloc(512);
	if (!s)
		abort();
	*ret_size = kind == 0 ? (UINTN)snprintf(s, 512, fragment_fmt, 11u) : kind == 1 ? 2 : 1;
	if (kind)
		memcpy(s, "{}", 2);
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static UINT8 scratch[70000];
	struct input in = { data, size };
	uint8_t h[6];
	struct glue_setup s;
	struct glue_run run;
	struct memfs_node *dirs[2];
	void *section = NULL;
	size_t bulk_budget = BULK_MAX;

	for (int i = 0; i < 6; i++)
		h[i] = next(&in);
	memset(&s, 0, sizeof(s));
	s.fs = memfs_new();
	dirs[0] = memfs_mkdirs(s.fs, EXTDIR_GLOBAL);
	dirs[1] = NULL;
	if ((h[0] & 0x08) && !(h[5] & 0x20))
		dirs[1] = memfs_mkdirs(s.fs, PER_UKI_DIR);
	if (h[0] & 0x08)
		s.per_uki_dir = PER_UKI_DIR;
	if (h[0] & 0x10) {
		dirs[0]->dots = FALSE;
		if (dirs[1])
			dirs[1]->dots = FALSE;
	}
	s.tpm.tcg2 = (h[0] & 0x05) != 0;
	s.tpm.tpm_present = (h[0] & 0x01) != 0;
	s.tpm.cc = (h[0] & 0x02) != 0;
	s.tpm.fail_at = h[4];
	s.tpm.fail_status = (h[5] & 3) == 1 ? EFI_VOLUME_FULL : EFI_DEVICE_ERROR;
	s.tpm.cc_map_fails = (h[5] & 3) == 2;
	if (h[0] & 0x20)
		section = make_section((h[5] >> 2) & 3, &s.pcrsig_size);
	s.pcrsig = section;
	if (h[0] & 0x40) {
		s.pcrpkey = "-----BEGIN PUBLIC KEY-----\n";
		s.pcrpkey_size = 27;
	}
	if (h[0] & 0x80) {
		s.embedded_initrd = "embedded";
		s.embedded_initrd_size = 8;
	}
	/* Without a limit of its own, 16 MiB: a listed size of gigabytes is refused, never allocated. */
	s.alloc.pages_max = (h[1] & 15) ? (UINTN)1 << ((h[1] & 15) - 1) : 4096;
	s.alloc.pool_fail_at = h[2];
	s.alloc.pages_fail_at = h[3] & 15;
	dirs[0]->faults.info = (h[1] >> 4) % MEMFS_INFO_FAULTS;
	if (dirs[1])
		dirs[1]->faults.info = ((h[3] >> 4) & 7) % MEMFS_INFO_FAULTS;
	if (h[3] & 0x80)
		memfs_root(s.fs)->faults.open_status = EFI_MEDIA_CHANGED;
	if (h[5] & 0x10)
		dirs[0]->faults.open_status = EFI_DEVICE_ERROR;

	for (unsigned i = 0; in.n && i < RECORDS_MAX; i++)
		add_record(s.fs, dirs, &in, i, scratch, &bulk_budget);

	glue_run(&s, &run);
	if (glue_check(&run)) {
		efi_host_violations_print();
		fprintf(stderr, "console:\n");
		efi_host_log_print();
		abort();
	}
	glue_run_free(&run);
	memfs_free(s.fs);
	free(section);
	efi_host_reset();
	return 0;
}
