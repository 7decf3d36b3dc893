/* SPDX-License-Identifier: MIT */
/*
 * fuzz-extensions.c - libFuzzer target for the pickup rules and limits of
 * measure/extensions.c.
 *
 * Input: byte 0 holds flags (bits 0-2: the count limit for
 * ext_sorted_insert minus one; bit 3: treat every entry as a directory;
 * bits 4-7 times 18: the length of the directory's path, 0 to 270),
 * the rest is a list of names separated by '\n'. A name's bytes become
 * UTF-16 units one to one, except that 0xFE followed by two bytes is one
 * unit (high byte first), so units above 255 occur too.
 *
 * Checked for every name: each rule's verdict (sysext-stub, systemd 252,
 * systemd 256, signature fragments) equals the one a second, independent
 * implementation below gives; picked names convert to ASCII and nothing
 * else does; every verdict has a reason. Then the picked names go through
 * ext_sorted_insert with a small limit, which must hold exactly the first
 * names in strcmp order whatever the input order, and through
 * ext_fits_total with sizes derived from the names, which must accept a
 * file exactly when the running total stays within EXT_TOTAL_SIZE_MAX.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure/extensions.h"

#define CHECK(cond)                                                                            \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "fuzz-extensions: %s:%d: invariant failed: %s\n",     \
				__FILE__, __LINE__, #cond);                                    \
			abort();                                                               \
		}                                                                              \
	} while (0)

#define MAX_NAMES 64
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

static void check_sorted_insert(char names[][EXT_NAME_MAX + 1], size_t n, size_t cap)
{
	const char *list[8], *all[MAX_NAMES];
	size_t len = 0, evicted = 0;

	for (size_t i = 0; i < n; i++) {
		const char *out = ext_sorted_insert(list, &len, cap, names[i]);

		CHECK(len <= cap);
		if (out) {
			evicted++;
			/* What falls out is never smaller than what stays. */
			for (size_t k = 0; k < len; k++)
				CHECK(ext_name_compare(list[k], out) <= 0);
		}
		for (size_t k = 1; k < len; k++)
			CHECK(ext_name_compare(list[k - 1], list[k]) <= 0);
		CHECK(len + evicted == i + 1);
	}
	/* The outcome is the first @cap names of the whole list in strcmp order. */
	for (size_t i = 0; i < n; i++)
		all[i] = names[i];
	qsort(all, n, sizeof(all[0]), cmp_str);
	CHECK(len == (n < cap ? n : cap));
	for (size_t k = 0; k < len; k++)
		CHECK(strcmp(list[k], all[k]) == 0);
	/* ext_sort_names agrees with qsort + strcmp. */
	{
		const char *sorted[MAX_NAMES];

		for (size_t i = 0; i < n; i++)
			sorted[i] = names[i];
		ext_sort_names(sorted, n);
		for (size_t i = 0; i < n; i++)
			CHECK(strcmp(sorted[i], all[i]) == 0);
	}
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return h;
}

static void check_fits_total(char names[][EXT_NAME_MAX + 1], size_t n)
{
	uint64_t total = 0;
	unsigned __int128 ref = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t h = fnv1a(names[i]);
		/* Sizes from tiny to far beyond the limit, some exactly at it. */
		uint64_t size = h % 5 == 0 ? EXT_TOTAL_SIZE_MAX - (h >> 60) : h >> (h % 64);
		uint64_t before = total;
		int fits = ext_fits_total(&total, size);

		CHECK(fits == (ref + size <= EXT_TOTAL_SIZE_MAX));
		if (fits) {
			ref += size;
			CHECK(total == before + size);
		} else {
			CHECK(total == before);
		}
		CHECK(total == (uint64_t)ref && total <= EXT_TOTAL_SIZE_MAX);
	}
}

/* ------------------------------------------------------------ entry point */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char picked[MAX_NAMES][EXT_NAME_MAX + 1];
	size_t n_picked = 0, cap, i = 1, dir_len;
	int dir;

	if (size == 0)
		return 0;
	cap = (size_t)(data[0] & 7) + 1;
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
	check_sorted_insert(picked, n_picked, cap);
	check_fits_total(picked, n_picked);
	return 0;
}
