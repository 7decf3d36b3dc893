/* SPDX-License-Identifier: MIT */
/*
 * Tests of measure/selection.c, the one rule for what is taken from an ESP
 * directory, and of the name rules it builds on (the FAT-openable name,
 * console-safe display). tests/cli/test_selection_model.py checks the same
 * function against an independent model with random listings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "measure/extdir.h"
#include "measure/selection.h"

#define GIB ((uint64_t)1 << 30)
#define MAX_SKIPS 1024

struct skip_log {
	struct {
		char name[EXT_DISPLAY_MAX];
		enum ext_kind kind;
		enum ext_verdict why;
	} e[MAX_SKIPS];
	size_t n;
};

static void record(void *ctx, const struct sel_skip *s)
{
	struct skip_log *log = ctx;

	assert_true(log->n < MAX_SKIPS);
	snprintf(log->e[log->n].name, sizeof(log->e[log->n].name), "%s", s->name);
	log->e[log->n].kind = s->kind;
	log->e[log->n].why = s->why;
	assert_non_null(s->reason);
	log->n++;
}

static enum ext_verdict why_of(const struct skip_log *log, const char *name)
{
	for (size_t i = 0; i < log->n; i++)
		if (strcmp(log->e[i].name, name) == 0)
			return log->e[i].why;
	return EXT_PICK;
}

/* A selection with our limits and storage for every kind, as the stub sets it up. */
struct fixture {
	struct sel_dir d;
	struct sel_file slots[EXT_KINDS][EXT_MAX_FILES + 1];
	struct sel_file *order[EXT_KINDS][EXT_MAX_FILES];
	struct skip_log log;
};

static struct fixture fx;

static void setup_rule(size_t dir_len, enum ext_rule rule, int ours)
{
	struct sel_storage storage[EXT_KINDS];

	memset(&fx, 0, sizeof(fx));
	for (int k = 0; k < EXT_KINDS; k++)
		storage[k] = (struct sel_storage){ fx.slots[k], fx.order[k], EXT_MAX_FILES };
	assert_int_equal(sel_dir_init(&fx.d, dir_len, rule, EXT_KIND_BIT(EXT_KIND_SYSEXT) | EXT_KIND_BIT(EXT_KIND_SIGNATURE),
				      ours, storage, record, &fx.log),
			 MS_OK);
}

static void setup(void)
{
	setup_rule(EXTDIR_GLOBAL_LEN, EXT_RULE_SYSEXT_STUB, 1);
}

static enum ext_verdict offer(const char *name, uint64_t size)
{
	return sel_dir_offer8(&fx.d, name, size, 0, 0);
}

/*
 * Issue 13, defect 1: 129 names, the first by name larger than the whole
 * 3 GiB total. The count keeps the first 128 names, then the total drops the
 * big one: 127 kept. (predict once counted after the size skip and kept 128.)
 */
static void count_before_total_129_names(void **state)
{
	char name[32];

	(void)state;
	setup();
	assert_int_equal(offer("0-big.sysext.raw", 3 * GIB + 1), EXT_PICK);
	for (int i = 0; i < 128; i++) {
		snprintf(name, sizeof(name), "s%03d.sysext.raw", i);
		(void)offer(name, 1000);
	}
	sel_dir_finish(&fx.d);
	assert_int_equal(sel_dir_count(&fx.d, EXT_KIND_SYSEXT), 127);
	assert_string_equal(sel_dir_file(&fx.d, EXT_KIND_SYSEXT, 0)->name, "s000.sysext.raw");
	assert_string_equal(sel_dir_file(&fx.d, EXT_KIND_SYSEXT, 126)->name, "s126.sysext.raw");
	assert_int_equal(why_of(&fx.log, "s127.sysext.raw"), EXT_SKIP_COUNT);
	assert_int_equal(why_of(&fx.log, "0-big.sysext.raw"), EXT_SKIP_TOTAL);
	assert_int_equal(fx.log.n, 2);
}

/* A file of 4 GiB or more is skipped before the count: it takes no place among the 128. */
static void four_gib_skipped_before_count(void **state)
{
	char name[32];

	(void)state;
	setup();
	assert_int_equal(offer("0-huge.sysext.raw", EXT_FILE_SIZE_MAX + 1), EXT_SKIP_TOO_LARGE);
	assert_int_equal(offer("0-edge.sysext.raw", EXT_FILE_SIZE_MAX), EXT_PICK);
	for (int i = 0; i < 127; i++) {
		snprintf(name, sizeof(name), "s%03d.sysext.raw", i);
		(void)offer(name, 0);
	}
	sel_dir_finish(&fx.d);
	/* 0-edge (just under 4 GiB) fits the count but not the 3 GiB total. */
	assert_int_equal(sel_dir_count(&fx.d, EXT_KIND_SYSEXT), 127);
	assert_int_equal(why_of(&fx.log, "0-huge.sysext.raw"), EXT_SKIP_TOO_LARGE);
	assert_int_equal(why_of(&fx.log, "0-edge.sysext.raw"), EXT_SKIP_TOTAL);
	assert_int_equal(fx.log.e[0].kind, EXT_KIND_SYSEXT);
}

/* The total is applied in name order, whatever the listing order; files after a dropped one still fit. */
static void total_in_name_order(void **state)
{
	(void)state;
	setup();
	(void)offer("c.sysext.raw", GIB / 2);
	(void)offer("a.sysext.raw", 2 * GIB);
	(void)offer("b.sysext.raw", 2 * GIB);
	(void)offer("d.sysext.raw", GIB / 2); /* exactly 3 GiB in all: fits */
	sel_dir_finish(&fx.d);
	assert_int_equal(sel_dir_count(&fx.d, EXT_KIND_SYSEXT), 3);
	assert_string_equal(sel_dir_file(&fx.d, EXT_KIND_SYSEXT, 0)->name, "a.sysext.raw");
	assert_string_equal(sel_dir_file(&fx.d, EXT_KIND_SYSEXT, 1)->name, "c.sysext.raw");
	assert_string_equal(sel_dir_file(&fx.d, EXT_KIND_SYSEXT, 2)->name, "d.sysext.raw");
	assert_int_equal(why_of(&fx.log, "b.sysext.raw"), EXT_SKIP_TOTAL);
}

/* Signature files: their own count (16), 1 byte to 64 KiB, and no part of the extensions' limits. */
static void signature_files(void **state)
{
	char name[32];

	(void)state;
	setup();
	assert_int_equal(offer("empty.pcrsig.json", 0), EXT_SKIP_EMPTY_FILE);
	assert_int_equal(offer("big.pcrsig.json", EXT_SIGNATURE_SIZE_MAX + 1), EXT_SKIP_TOO_LARGE);
	assert_int_equal(offer("max.pcrsig.json", EXT_SIGNATURE_SIZE_MAX), EXT_PICK);
	for (int i = 0; i < 16; i++) {
		snprintf(name, sizeof(name), "s%02d.pcrsig.json", i);
		(void)offer(name, 10);
	}
	(void)offer("k3s.sysext.raw", 10);
	sel_dir_finish(&fx.d);
	assert_int_equal(sel_dir_count(&fx.d, EXT_KIND_SIGNATURE), 16);
	assert_string_equal(sel_dir_file(&fx.d, EXT_KIND_SIGNATURE, 0)->name, "max.pcrsig.json");
	assert_int_equal(why_of(&fx.log, "s15.pcrsig.json"), EXT_SKIP_COUNT);
	assert_int_equal(sel_dir_count(&fx.d, EXT_KIND_SYSEXT), 1);
	assert_int_equal(why_of(&fx.log, "empty.pcrsig.json"), EXT_SKIP_EMPTY_FILE);
}

/*
 * Issue 13, defect 4: names EDK2's FAT driver would refuse or open as
 * another file are skipped while listing, before any limit counts them.
 */
static void fat_unopenable_names(void **state)
{
	static const char *const bad[] = {
		" a.sysext.raw",        /* leading blank: opens "a.sysext.raw" */
		"sub\\x.sysext.raw",    /* opens x.sysext.raw in "sub" */
		"a.sysext.raw.",        /* trailing dot: opens "a.sysext.raw" */
		"a.sysext.raw ",        /* trailing blank */
		"esc\x1b[2J.sysext.raw", /* a control character: refused, and never printed */
		"tab\t.sysext.raw", "q\".sysext.raw", "s*.sysext.raw", "c:.sysext.raw", "l<.sysext.raw",
		"g>.sysext.raw", "w?.sysext.raw", "p|.sysext.raw", "\x7f" "del-last.sysext.rax",
	};
	char name[32];

	(void)state;
	setup();
	for (size_t i = 0; i + 1 < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(offer(bad[i], 1), EXT_SKIP_FAT_NAME);
	/* 0x7f is a unit FAT accepts: that name is skipped for its suffix only. */
	assert_int_equal(offer(bad[sizeof(bad) / sizeof(bad[0]) - 1], 1), EXT_SKIP_OTHER_SUFFIX);
	assert_int_equal(offer("\x7f.sysext.raw", 1), EXT_PICK);
	for (int i = 0; i < 127; i++) {
		snprintf(name, sizeof(name), "s%03d.sysext.raw", i);
		(void)offer(name, 1);
	}
	sel_dir_finish(&fx.d);
	/* None of them took a place among the 128. */
	assert_int_equal(sel_dir_count(&fx.d, EXT_KIND_SYSEXT), 128);
	/* Reported as sysexts dropped (their suffix says what they meant to be), never raw. */
	assert_int_equal(why_of(&fx.log, "esc\\x1b[2J.sysext.raw"), EXT_SKIP_FAT_NAME);
	assert_int_equal(why_of(&fx.log, "sub\\x5cx.sysext.raw"), EXT_SKIP_FAT_NAME);
	for (size_t i = 0; i < fx.log.n; i++)
		for (const char *p = fx.log.e[i].name; *p; p++)
			assert_true(*p >= 0x20 && *p < 0x7f);
}

static void fat_name_rule_units(void **state)
{
	uint16_t name[3] = { 'a', 'b', 'c' };

	(void)state;
	assert_true(ext_fat_name_ok(name, 3));
	for (uint16_t c = 0; c < 0x20; c++) {
		name[1] = c;
		assert_false(ext_fat_name_ok(name, 3));
	}
	name[1] = 0x7f;
	assert_true(ext_fat_name_ok(name, 3));
	name[1] = 0x3000; /* FAT itself allows it; the ASCII rule skips it first */
	assert_true(ext_fat_name_ok(name, 3));
	name[1] = ' ';
	assert_true(ext_fat_name_ok(name, 3)); /* blanks inside are fine */
	name[1] = '.';
	assert_true(ext_fat_name_ok(name, 3));
	assert_false(ext_fat_name_ok(name, 0));
}

static void display_names(void **state)
{
	char out[EXT_DISPLAY_MAX];
	uint16_t wide[] = { 'a', 0x1b, 0xe9, 0x9b, '\\', 0xfffe };
	char long_name[300];

	(void)state;
	ext_display_name(wide, 6, out);
	assert_string_equal(out, "a\\x1b\\u00e9\\u009b\\x5c\\ufffe");
	ext_display_name8("plain-name.sysext.raw", out);
	assert_string_equal(out, "plain-name.sysext.raw");
	ext_display_name8("\xc3\xa9\x7f", out);
	assert_string_equal(out, "\\u00c3\\u00a9\\x7f");
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = 0;
	ext_display_name8(long_name, out);
	assert_int_equal(strlen(out), EXT_NAME_MAX + 3);
	assert_string_equal(out + EXT_NAME_MAX, "...");
	/* The worst case fits. */
	for (size_t i = 0; i < 6; i++)
		wide[i] = 0xffff;
	{
		static uint16_t all[EXT_NAME_MAX + 1];

		for (size_t i = 0; i < EXT_NAME_MAX + 1; i++)
			all[i] = 0xffff;
		ext_display_name(all, EXT_NAME_MAX + 1, out);
		assert_int_equal(strlen(out), EXT_NAME_MAX * 6 + 3);
	}
}

/* Listing order never matters: forwards and backwards give the same result. */
static void listing_order_does_not_matter(void **state)
{
	char names[200][24];
	const char *first[128];

	(void)state;
	for (int i = 0; i < 200; i++)
		snprintf(names[i], sizeof(names[i]), "%c%03d.sysext.raw", i % 2 ? 'b' : 'A', (i * 37) % 200);
	setup();
	for (int i = 0; i < 200; i++)
		(void)offer(names[i], (uint64_t)i * 10 * 1000 * 1000);
	sel_dir_finish(&fx.d);
	for (size_t i = 0; i < sel_dir_count(&fx.d, EXT_KIND_SYSEXT); i++)
		first[i] = strdup(sel_dir_file(&fx.d, EXT_KIND_SYSEXT, i)->name);
	{
		size_t n = sel_dir_count(&fx.d, EXT_KIND_SYSEXT);

		setup();
		for (int i = 199; i >= 0; i--)
			(void)offer(names[i], (uint64_t)i * 10 * 1000 * 1000);
		sel_dir_finish(&fx.d);
		assert_int_equal(sel_dir_count(&fx.d, EXT_KIND_SYSEXT), n);
		for (size_t i = 0; i < n; i++) {
			assert_string_equal(sel_dir_file(&fx.d, EXT_KIND_SYSEXT, i)->name, first[i]);
			free((void *)first[i]);
		}
	}
}

/* systemd-stub: no count or total limit, but one file of 4 GiB or more drops the directory. */
static void systemd_rules_drop_the_directory(void **state)
{
	char name[32];

	(void)state;
	setup_rule(EXTDIR_GLOBAL_LEN, EXT_RULE_SYSTEMD_256, 0);
	for (int i = 0; i < 128; i++) {
		snprintf(name, sizeof(name), "s%03d.raw", i);
		(void)offer(name, GIB);
	}
	sel_dir_finish(&fx.d);
	assert_int_equal(sel_dir_count(&fx.d, EXT_KIND_SYSEXT), 128); /* 128 GiB: no total limit */
	assert_int_equal(fx.log.n, 0);

	setup_rule(EXTDIR_GLOBAL_LEN, EXT_RULE_SYSTEMD_256, 0);
	(void)offer("a.raw", 1);
	assert_int_equal(offer("b.raw", EXT_FILE_SIZE_MAX + 1), EXT_SKIP_DIRECTORY_DROPPED);
	(void)offer("c.confext.raw", 1);
	(void)offer("d.pcrsig.json", 1); /* systemd reads no signature files */
	sel_dir_finish(&fx.d);
	assert_int_equal(sel_dir_count(&fx.d, EXT_KIND_SYSEXT), 0);
	assert_int_equal(sel_dir_count(&fx.d, EXT_KIND_SIGNATURE), 0);
	assert_int_equal(why_of(&fx.log, "a.raw"), EXT_SKIP_DIRECTORY_DROPPED);
	assert_int_equal(why_of(&fx.log, "c.confext.raw"), EXT_SKIP_CONFEXT);
	assert_int_equal(why_of(&fx.log, "d.pcrsig.json"), EXT_SKIP_NOT_RAW);
}

/* Out of memory in the stub: the largest goes (the last of equals), reported; then the next. */
static void drop_largest(void **state)
{
	(void)state;
	setup();
	(void)offer("a.sysext.raw", 5);
	(void)offer("b.sysext.raw", 9);
	(void)offer("c.sysext.raw", 9);
	(void)offer("d.sysext.raw", 1);
	sel_dir_finish(&fx.d);
	assert_true(sel_dir_drop_largest(&fx.d, EXT_KIND_SYSEXT));
	assert_int_equal(why_of(&fx.log, "c.sysext.raw"), EXT_SKIP_NO_MEMORY);
	assert_true(sel_dir_drop_largest(&fx.d, EXT_KIND_SYSEXT));
	assert_int_equal(why_of(&fx.log, "b.sysext.raw"), EXT_SKIP_NO_MEMORY);
	assert_int_equal(sel_dir_count(&fx.d, EXT_KIND_SYSEXT), 2);
	assert_true(sel_dir_drop_largest(&fx.d, EXT_KIND_SYSEXT));
	assert_true(sel_dir_drop_largest(&fx.d, EXT_KIND_SYSEXT));
	assert_false(sel_dir_drop_largest(&fx.d, EXT_KIND_SYSEXT));
}

/* Too little storage for a limit is refused, not overrun. */
static void storage_is_checked(void **state)
{
	struct sel_storage storage[EXT_KINDS] = { { 0 } };

	(void)state;
	memset(&fx, 0, sizeof(fx));
	storage[EXT_KIND_SYSEXT] = (struct sel_storage){ fx.slots[0], fx.order[0], EXT_MAX_FILES - 1 };
	assert_int_equal(sel_dir_init(&fx.d, 0, EXT_RULE_SYSEXT_STUB, EXT_KIND_BIT(EXT_KIND_SYSEXT), 1, storage, NULL,
				      NULL),
			 MS_ERR_INVALID);
	storage[EXT_KIND_SYSEXT].cap = EXT_MAX_FILES;
	assert_int_equal(sel_dir_init(&fx.d, 0, EXT_RULE_SYSEXT_STUB,
				      EXT_KIND_BIT(EXT_KIND_SYSEXT) | EXT_KIND_BIT(EXT_KIND_SIGNATURE), 1, storage, NULL,
				      NULL),
			 MS_ERR_INVALID);
	assert_int_equal(sel_capacity(EXT_KIND_SYSEXT, 1, 5000), EXT_MAX_FILES);
	assert_int_equal(sel_capacity(EXT_KIND_SYSEXT, 0, 5000), 5000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(count_before_total_129_names),
		cmocka_unit_test(four_gib_skipped_before_count),
		cmocka_unit_test(total_in_name_order),
		cmocka_unit_test(signature_files),
		cmocka_unit_test(fat_unopenable_names),
		cmocka_unit_test(fat_name_rule_units),
		cmocka_unit_test(display_names),
		cmocka_unit_test(listing_order_does_not_matter),
		cmocka_unit_test(systemd_rules_drop_the_directory),
		cmocka_unit_test(drop_largest),
		cmocka_unit_test(storage_is_checked),
	};

	return cmocka_run_group_tests_name("selection", tests, NULL, NULL);
}
