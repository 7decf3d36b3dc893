/* SPDX-License-Identifier: MIT */
/*
 * fuzz-extensions.c - libFuzzer target for the pickup rules and limits of
 * measure/extensions.c.
 *
 * Input: byte 0 holds flags (bits 0-2: unused; bit 3: treat every entry as a directory;
 * bits 4-7 times 18: the length of the directory's path, 0 to 270),
 * the rest is a list of names separated by '\n'. A name's bytes become
 * UTF-16 units one to one, except that 0xFE followed by two bytes is one
 * unit (high byte first), so units above 255 occur too.
 *
 * Checked for every name: each rule's verdict (sysext-stub, systemd 252,
 * systemd 256, signature fragments) equals the one a second, independent
 * implementation below gives; picked names convert to ASCII and nothing
 * else does; every verdict has a reason. Then the picked names go through
 * the selection (measure/selection.c) with sizes derived from the names,
 * whose result must equal the documented rule computed here with qsort,
 * whatever the input order, with every name not kept reported once and
 * never shown with a control character.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure/selection.h"

#define CHECK(cond)                                                                            \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "fuzz-extensions: %s:%d: invariant failed: %s\n",     \
				__FILE__, __LINE__, #cond);                                    \
			abort();                                                               \
		}                                                                              \
	} while (0)

#define MAX_NAMES 200
#define MAX_UNITS (EXT_NAME_MAX + 8)

/* ------------------------------------------------------------ the reference */

static int ref_ends_with(const uint16_t *u, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	if (len < n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		uint16_t c = u[len - n + i];

		if (c >= 'A' && c <= 'Z')
			c = (uint16_t)(c - 'A' + 'a');
		if (c != (uint8_t)suffix[i])
			return 0;
	}
	return 1;
}

enum ref_rule { REF_STUB, REF_252, REF_256, REF_SIGNATURE };

/* docs/MEASUREMENTS.md "Which files", written from the text, not from extensions.c. */
static enum ext_verdict ref_classify(const uint16_t *u, size_t len, int dir, size_t dir_len, enum ref_rule rule)
{
	if (len == 0)
		return EXT_SKIP_EMPTY_NAME;
	if (dir)
		return EXT_SKIP_DIRECTORY;
	if (u[0] == '.')
		return EXT_SKIP_DOT_FILE;
	if (len > 255)
		return EXT_SKIP_TOO_LONG;
	for (size_t i = 0; i < len; i++)
		if (u[i] == 0 || u[i] >= 128)
			return EXT_SKIP_NON_ASCII;
	/* EDK2 FatFileNameIsValid: trims leading blanks and trailing blanks and dots; refuses controls and "*\/:<>?\\|. */
	if (u[0] == ' ' || u[len - 1] == ' ' || u[len - 1] == '.')
		return EXT_SKIP_FAT_NAME;
	for (size_t i = 0; i < len; i++)
		if (u[i] < 0x20 || strchr("\"*/:<>?\\|", u[i]))
			return EXT_SKIP_FAT_NAME;
	/* EDK2 FatLocateOFile: "X:" + directory path + '\' + name + NUL must fit EFI_PATH_STRING_LENGTH. */
	if (2 + dir_len + 1 + len + 1 > 260)
		return EXT_SKIP_PATH_TOO_LONG;
	switch (rule) {
	case REF_STUB:
		return ref_ends_with(u, len, ".sysext.raw") ? EXT_PICK : EXT_SKIP_OTHER_SUFFIX;
	case REF_SIGNATURE:
		return ref_ends_with(u, len, ".pcrsig.json") ? EXT_PICK : EXT_SKIP_OTHER_SUFFIX;
	case REF_256:
		if (ref_ends_with(u, len, ".confext.raw"))
			return EXT_SKIP_CONFEXT;
		return ref_ends_with(u, len, ".raw") ? EXT_PICK : EXT_SKIP_NOT_RAW;
	case REF_252:
		return ref_ends_with(u, len, ".raw") ? EXT_PICK : EXT_SKIP_NOT_RAW;
	}
	abort();
}

/* ------------------------------------------------------------ one name */

static void check_name(const uint16_t *u, size_t len, int dir, size_t dir_len, char *ascii_out, int *picked)
{
	enum ext_verdict stub = ext_classify_rule(u, len, dir, dir_len, EXT_RULE_SYSEXT_STUB);
	enum ext_verdict v252 = ext_classify_rule(u, len, dir, dir_len, EXT_RULE_SYSTEMD_252);
	enum ext_verdict v256 = ext_classify_rule(u, len, dir, dir_len, EXT_RULE_SYSTEMD_256);
	enum ext_verdict sig = ext_classify_signature(u, len, dir, dir_len);
	char *ascii = malloc(len + 1);
	ms_status r;

	CHECK(ascii != NULL);
	CHECK(ext_classify(u, len, dir, dir_len) == stub);
	CHECK(stub == ref_classify(u, len, dir, dir_len, REF_STUB));
	CHECK(v252 == ref_classify(u, len, dir, dir_len, REF_252));
	CHECK(v256 == ref_classify(u, len, dir, dir_len, REF_256));
	CHECK(sig == ref_classify(u, len, dir, dir_len, REF_SIGNATURE));
	CHECK(ext_fat_opens(dir_len, len) == (2 + dir_len + 1 + len + 1 <= 260));
	/* A sysext is a *.raw that is no confext; a signature is never a sysext. */
	if (stub == EXT_PICK)
		CHECK(v256 == EXT_PICK && v252 == EXT_PICK && sig != EXT_PICK);
	if (v256 == EXT_PICK)
		CHECK(v252 == EXT_PICK);

	const enum ext_verdict all[] = { stub, v252, v256, sig };
	for (size_t i = 0; i < 4; i++) {
		const char *why = ext_verdict_reason(all[i]);

		CHECK(why != NULL && strcmp(why, "unknown") != 0);
	}

	/* ASCII conversion: exactly the names every rule could pick (suffix aside). */
	r = ext_name_to_ascii(u, len, ascii, len + 1);
	if (stub == EXT_PICK || v252 == EXT_PICK || sig == EXT_PICK) {
		CHECK(r == MS_OK);
		CHECK(strlen(ascii) == len);
		for (size_t i = 0; i < len; i++)
			CHECK((uint16_t)(uint8_t)ascii[i] == u[i]);
		if (len > 0)
			CHECK(ext_name_to_ascii(u, len, ascii, len) == MS_ERR_BUFFER_TOO_SMALL);
	}
	if (stub == EXT_SKIP_NON_ASCII || stub == EXT_SKIP_TOO_LONG || stub == EXT_SKIP_EMPTY_NAME)
		CHECK(r == MS_ERR_INVALID);
	*picked = stub == EXT_PICK;
	if (*picked)
		memcpy(ascii_out, ascii, len + 1);
	free(ascii);
}

/* ------------------------------------------------------------ the limits */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return h;
}

/* Sizes from tiny to far beyond the limits, some exactly at them. */
static uint64_t size_of(const char *name)
{
	uint64_t h = fnv1a(name);

	switch (h % 7) {
	case 0: return EXT_TOTAL_SIZE_MAX - (h >> 60);
	case 1: return EXT_FILE_SIZE_MAX + (h >> 63);
	case 2: return EXT_TOTAL_SIZE_MAX / 64 + (h >> 62);
	default: return h >> (h % 64);
	}
}

struct report_count {
	size_t n;
};

static void count_report(void *ctx, const struct sel_skip *s)
{
	struct report_count *c = ctx;

	CHECK(s->reason && s->name);
	for (const char *p = s->name; *p; p++)
		CHECK(*p >= 0x20 && *p < 0x7f); /* never an escape sequence */
	c->n++;
}

/*
 * The selection over the picked names (each offered once, sizes from
 * size_of) equals the documented rule: drop 4 GiB and more, keep the first
 * 128 names in strcmp order, then each that fits under 3 GiB, in order;
 * every name not kept is reported once.
 */
static void check_selection(char names[][EXT_NAME_MAX + 1], size_t n)
{
	static struct sel_file slots[EXT_MAX_FILES + 1];
	static struct sel_file *order[EXT_MAX_FILES];
	struct sel_storage storage[EXT_KINDS] = { [EXT_KIND_SYSEXT] = { slots, order, EXT_MAX_FILES } };
	struct report_count reports = { 0 };
	const char *ref[MAX_NAMES];
	size_t n_ref = 0, kept = 0;
	uint64_t total = 0;
	struct sel_dir *d = malloc(sizeof(*d));

	CHECK(d != NULL);
	CHECK(sel_dir_init(d, 0, EXT_RULE_SYSEXT_STUB, EXT_KIND_BIT(EXT_KIND_SYSEXT), 1, storage, count_report,
			   &reports) == MS_OK);
	for (size_t i = 0; i < n; i++)
		(void)sel_dir_offer8(d, names[i], size_of(names[i]), 0, i);
	sel_dir_finish(d);

	for (size_t i = 0; i < n; i++)
		if (size_of(names[i]) <= EXT_FILE_SIZE_MAX)
			ref[n_ref++] = names[i];
	qsort(ref, n_ref, sizeof(ref[0]), cmp_str);
	if (n_ref > EXT_MAX_FILES)
		n_ref = EXT_MAX_FILES;
	for (size_t i = 0; i < n_ref; i++) {
		if (size_of(ref[i]) > EXT_TOTAL_SIZE_MAX - total)
			continue;
		total += size_of(ref[i]);
		CHECK(kept < sel_dir_count(d, EXT_KIND_SYSEXT));
		CHECK(strcmp(sel_dir_file(d, EXT_KIND_SYSEXT, kept)->name, ref[i]) == 0);
		kept++;
	}
	CHECK(kept == sel_dir_count(d, EXT_KIND_SYSEXT));
	CHECK(kept + reports.n == n);
	free(d);
}

/* ------------------------------------------------------------ entry point */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char picked[MAX_NAMES][EXT_NAME_MAX + 1];
	size_t n_picked = 0, i = 1, dir_len;
	int dir;

	if (size == 0)
		return 0;
	dir = (data[0] >> 3) & 1;
	dir_len = (size_t)(data[0] >> 4) * 18;
	while (i <= size && n_picked < MAX_NAMES) {
		uint16_t *u = malloc(MAX_UNITS * sizeof(uint16_t)); /* heap: ASan sees overreads */
		size_t len = 0;
		int is_picked = 0;

		CHECK(u != NULL);
		while (i < size && data[i] != '\n' && len < MAX_UNITS) {
			if (data[i] == 0xfe && i + 2 < size) {
				u[len++] = (uint16_t)(data[i + 1] << 8 | data[i + 2]);
				i += 3;
			} else {
				u[len++] = data[i++];
			}
		}
		while (i < size && data[i] != '\n')
			i++; /* the rest of an over-long line */
		i++;
		check_name(u, len, dir, dir_len, picked[n_picked], &is_picked);
		n_picked += is_picked;
		free(u);
	}
	check_selection(picked, n_picked);
	return 0;
}
