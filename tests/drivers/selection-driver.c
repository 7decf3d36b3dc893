/* SPDX-License-Identifier: MIT */
/*
 * selection-driver.c - runs a listing through measure/selection.c for
 * tests/cli/test_selection_model.py, which checks the result against an
 * independent model of the documented rule.
 *
 * stdin:  "<rule> <ours> <dir_len> <kinds>" then one entry per line,
 *         "<name as 4 hex digits per UTF-16 unit, or -> <size> <is_dir>".
 * stdout: "skip <entry> <VERDICT> <kind>" for every report, in report
 *         order, then "keep <kind> <entry>" for every file kept, per kind
 *         in measurement order. Entries are numbered from 0; verdicts and
 *         kinds are spelled as below.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure/selection.h"

#define ENTRIES_MAX 100000

/* The verdict's name as the model spells it (a switch, so a new verdict without a name fails to build with -Wswitch). */
static const char *verdict_name(enum ext_verdict v)
{
	switch (v) {
	case EXT_PICK: return "PICK";
	case EXT_SKIP_DIRECTORY: return "DIRECTORY";
	case EXT_SKIP_DOT_FILE: return "DOT_FILE";
	case EXT_SKIP_NON_ASCII: return "NON_ASCII";
	case EXT_SKIP_TOO_LONG: return "TOO_LONG";
	case EXT_SKIP_OTHER_SUFFIX: return "OTHER_SUFFIX";
	case EXT_SKIP_EMPTY_NAME: return "EMPTY_NAME";
	case EXT_SKIP_CONFEXT: return "CONFEXT";
	case EXT_SKIP_NOT_RAW: return "NOT_RAW";
	case EXT_SKIP_PATH_TOO_LONG: return "PATH_TOO_LONG";
	case EXT_SKIP_FAT_NAME: return "FAT_NAME";
	case EXT_SKIP_TOO_LARGE: return "TOO_LARGE";
	case EXT_SKIP_EMPTY_FILE: return "EMPTY_FILE";
	case EXT_SKIP_COUNT: return "COUNT";
	case EXT_SKIP_TOTAL: return "TOTAL";
	case EXT_SKIP_NO_MEMORY: return "NO_MEMORY";
	case EXT_SKIP_DUPLICATE: return "DUPLICATE";
	case EXT_SKIP_DIRECTORY_DROPPED: return "DIRECTORY_DROPPED";
	}
	return "?";
}

static const char *kind_name(enum ext_kind k)
{
	switch (k) {
	case EXT_KIND_SYSEXT: return "sysext";
	case EXT_KIND_SIGNATURE: return "signature";
	case EXT_KIND_CONFEXT: return "confext";
	case EXT_KIND_CREDENTIAL: return "credential";
	case EXT_KIND_ADDON: return "addon";
	case EXT_KIND_NONE: return "none";
	}
	return "?";
}

static void report(void *ctx, const struct sel_skip *s)
{
	(void)ctx;
	printf("skip %lu %s %s\n", (unsigned long)s->tag, verdict_name(s->why), kind_name(s->kind));
}

#define UNITS_MAX (4 * EXT_NAME_MAX)

static int parse_name(const char *hex, uint16_t *out, size_t *len)
{
	size_t n = strlen(hex);

	*len = 0;
	if (strcmp(hex, "-") == 0)
		return 0;
	if (n % 4 || n / 4 > UNITS_MAX)
		return -1;
	for (size_t i = 0; i < n / 4; i++) {
		char unit[5] = { hex[4 * i], hex[4 * i + 1], hex[4 * i + 2], hex[4 * i + 3], 0 };

		out[(*len)++] = (uint16_t)strtoul(unit, NULL, 16);
	}
	return 0;
}

int main(void)
{
	static uint16_t name[UNITS_MAX];
	static char hex[4096 + 8];
	struct sel_storage storage[EXT_KINDS];
	struct sel_dir *d = calloc(1, sizeof(*d));
	int rule, ours, is_dir;
	unsigned long dir_len, kinds, entry = 0;
	unsigned long long size;

	if (!d || scanf("%d %d %lu %lu", &rule, &ours, &dir_len, &kinds) != 4)
		return 2;
	for (int k = 0; k < EXT_KINDS; k++) {
		size_t cap = sel_capacity(k, ours, ENTRIES_MAX);

		storage[k] = (struct sel_storage){ calloc(cap + 1, sizeof(struct sel_file)),
						   calloc(cap, sizeof(struct sel_file *)), cap };
		if (!storage[k].slots || !storage[k].order)
			return 2;
	}
	if (sel_dir_init(d, dir_len, (enum ext_rule)rule, (unsigned)kinds, ours, storage, report, NULL) != MS_OK)
		return 2;
	while (entry < ENTRIES_MAX && scanf("%4096s %llu %d", hex, &size, &is_dir) == 3) {
		size_t len;

		if (parse_name(hex, name, &len) < 0)
			return 2;
		(void)sel_dir_offer(d, name, len, size, is_dir, entry++);
	}
	sel_dir_finish(d);
	for (int k = 0; k < EXT_KINDS; k++)
		for (size_t i = 0; i < sel_dir_count(d, k); i++)
			printf("keep %s %lu\n", kind_name(k), (unsigned long)sel_dir_file(d, k, i)->tag);
	for (int k = 0; k < EXT_KINDS; k++) {
		free(storage[k].slots);
		free(storage[k].order);
	}
	free(d);
	return 0;
}
