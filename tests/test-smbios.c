/* SPDX-License-Identifier: MIT */
/*
 * test-smbios.c - unit tests for measure/smbios.c: walking an SMBIOS
 * structure table, the OEM-string lookup for the extra kernel command-line
 * words, and what goes into PCR 1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "measure/smbios.h"

/* A table as QEMU's firmware lays it out, built piece by piece. */
struct table {
	uint8_t b[1024];
	size_t n;
};

/* One structure: @type, a formatted area of @length bytes (header included, rest 0xaa), then @strings. */
static size_t add(struct table *t, uint8_t type, uint8_t length, const char *const *strings, size_t n_strings)
{
	size_t at = t->n;

	t->b[t->n++] = type;
	t->b[t->n++] = length;
	t->b[t->n++] = 0x34;
	t->b[t->n++] = 0x12;
	for (size_t i = 4; i < length; i++)
		t->b[t->n++] = 0xaa;
	for (size_t i = 0; i < n_strings; i++) {
		memcpy(t->b + t->n, strings[i], strlen(strings[i]) + 1);
		t->n += strlen(strings[i]) + 1;
	}
	t->b[t->n++] = 0;
	if (n_strings == 0)
		t->b[t->n++] = 0; /* no strings: two NULs */
	return at;
}

static void test_walk_sizes_and_end(void **state)
{
	static const char *const vendor[] = { "EDK II", "0.0.0" };
	static const char *const oem[] = { "a=b", "io.systemd.stub.kernel-cmdline-extra=quiet x=1" };
	struct table t = { .n = 0 };
	struct smbios_structure s;
	size_t at = 0, first, second, third;

	(void)state;
	first = add(&t, 0, 0x1a, vendor, 2);
	second = add(&t, 2, 0x08, NULL, 0);
	third = add(&t, 11, 0x05, oem, 2);
	add(&t, 127, 4, NULL, 0);
	t.b[t.n++] = 0x55; /* anything after the end marker is not read */

	assert_int_equal(smbios_next(t.b, t.n, &at, &s), MS_OK);
	assert_ptr_equal(s.data, t.b + first);
	assert_int_equal(s.size, 0x1a + strlen("EDK II") + 1 + strlen("0.0.0") + 1 + 1);
	assert_int_equal(smbios_next(t.b, t.n, &at, &s), MS_OK);
	assert_ptr_equal(s.data, t.b + second);
	assert_int_equal(s.size, 8 + 2);
	assert_int_equal(smbios_next(t.b, t.n, &at, &s), MS_OK);
	assert_ptr_equal(s.data, t.b + third);
	assert_int_equal(s.type, 11);
	assert_int_equal(smbios_next(t.b, t.n, &at, &s), MS_ERR_NOT_FOUND);
}

static void test_oem_string(void **state)
{
	static const char *const other[] = { "io.systemd.stub.kernel-cmdline-extra=from the second" };
	static const char *const oem[] = { "a=b", "io.systemd.stub.kernel-cmdline-extra=quiet x=1",
					   "io.systemd.stub.kernel-cmdline-extra=second" };
	static const char *const empty_value[] = { "io.systemd.stub.kernel-cmdline-extra=" };
	struct table t = { .n = 0 };
	const uint8_t *v;
	size_t n;

	(void)state;
	add(&t, 1, 0x1b, NULL, 0);
	add(&t, 11, 0x05, oem, 3);
	add(&t, 11, 0x05, other, 1);
	add(&t, 127, 4, NULL, 0);
	/* The first match in the first type 11 structure. */
	assert_int_equal(smbios_oem_string(t.b, t.n, SMBIOS_CMDLINE_EXTRA, &v, &n), MS_OK);
	assert_int_equal(n, strlen("quiet x=1"));
	assert_memory_equal(v, "quiet x=1", n);
	assert_int_equal(smbios_oem_string(t.b, t.n, "missing=", &v, &n), MS_ERR_NOT_FOUND);

	t.n = 0;
	add(&t, 11, 0x05, empty_value, 1);
	assert_int_equal(smbios_oem_string(t.b, t.n, SMBIOS_CMDLINE_EXTRA, &v, &n), MS_OK);
	assert_int_equal(n, 0);

	/* No type 11 at all, and a table without structures. */
	t.n = 0;
	add(&t, 1, 0x1b, NULL, 0);
	assert_int_equal(smbios_oem_string(t.b, t.n, SMBIOS_CMDLINE_EXTRA, &v, &n), MS_ERR_NOT_FOUND);
	assert_int_equal(smbios_oem_string(t.b, 0, SMBIOS_CMDLINE_EXTRA, &v, &n), MS_ERR_NOT_FOUND);
}

static void test_hostile_tables_stop_the_walk(void **state)
{
	static const char *const s1[] = { "abc" };
	struct table t = { .n = 0 };
	struct smbios_structure s;
	const uint8_t *v;
	size_t at, n;

	(void)state;
	/* A string set without its closing NUL: truncated, and no OEM string is read past the table. */
	add(&t, 11, 0x05, s1, 1);
	at = 0;
	assert_int_equal(smbios_next(t.b, t.n - 1, &at, &s), MS_ERR_TRUNCATED);
	assert_int_equal(smbios_oem_string(t.b, t.n - 2, "abc", &v, &n), MS_ERR_NOT_FOUND);
	/* A formatted area running past the table, and one shorter than its header. */
	t.b[1] = 0xff;
	at = 0;
	assert_int_equal(smbios_next(t.b, t.n, &at, &s), MS_ERR_TRUNCATED);
	t.b[1] = 3;
	at = 0;
	assert_int_equal(smbios_next(t.b, t.n, &at, &s), MS_ERR_TRUNCATED);
	/* Fewer than 4 bytes left: the end. */
	at = t.n - 2;
	assert_int_equal(smbios_next(t.b, t.n, &at, &s), MS_ERR_NOT_FOUND);
}

static void test_pcr1_measured_types_and_wake_up_type(void **state)
{
	static const char *const names[] = { "QEMU", "Standard PC" };
	struct table t = { .n = 0 };
	struct smbios_structure s;
	uint8_t copy[256];
	const char *desc;
	uint32_t tag;
	size_t at = 0;

	(void)state;
	add(&t, 1, 0x1b, names, 2);
	t.b[SMBIOS_TYPE1_WAKE_UP_TYPE] = 6; /* power switch */
	add(&t, 0, 0x18, NULL, 0);
	assert_int_equal(smbios_next(t.b, t.n, &at, &s), MS_OK);
	assert_true(smbios_is_measured(&s, &tag, &desc));
	assert_int_equal(tag, SMBIOS_TAG_TYPE1);
	assert_string_equal(desc, "smbios:type1");
	smbios_measured_copy(&s, copy);
	assert_int_equal(copy[SMBIOS_TYPE1_WAKE_UP_TYPE], 0);
	copy[SMBIOS_TYPE1_WAKE_UP_TYPE] = 6;
	assert_memory_equal(copy, s.data, s.size); /* nothing else changes */
	assert_int_equal(smbios_next(t.b, t.n, &at, &s), MS_OK);
	assert_false(smbios_is_measured(&s, &tag, &desc)); /* type 0 is not */

	/* A type 1 structure too short to hold the byte is measured as it is. */
	t.n = 0;
	add(&t, 1, 0x08, names, 2);
	at = 0;
	assert_int_equal(smbios_next(t.b, t.n, &at, &s), MS_OK);
	smbios_measured_copy(&s, copy);
	assert_memory_equal(copy, s.data, s.size);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_walk_sizes_and_end),
		cmocka_unit_test(test_oem_string),
		cmocka_unit_test(test_hostile_tables_stop_the_walk),
		cmocka_unit_test(test_pcr1_measured_types_and_wake_up_type),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
