/* SPDX-License-Identifier: MIT */
/*
 * Tests of measure/cpio.c: the golden archives of the reference (§3.2,
 * produced by a model verified byte-for-byte against systemd's own
 * cpio.c), hashed here with OpenSSL; GNU cpio unpacking what we write;
 * abandoned files and limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/sha.h>

#include "measure/cpio.h"
#include "measure/companion.h"

struct file {
	const char *name;
	const char *data;
};

/* Build an archive of @files under @prefix; returns malloc'd bytes. */
static uint8_t *build(const char *prefix, uint32_t dir_mode, uint32_t file_mode, const struct file *files,
		      size_t n, uint64_t *ret_len)
{
	struct cpio_writer w;
	uint8_t *buf;
	uint64_t size;

	/* Counting pass, then the real one into exactly that many bytes. */
	for (int pass = 0; pass < 2; pass++) {
		buf = pass ? malloc(size) : NULL;
		cpio_writer_init(&w, buf, pass ? size : 0);
		assert_int_equal(cpio_write_dirs(&w, prefix, dir_mode), MS_OK);
		for (size_t i = 0; i < n; i++) {
			uint64_t data_at;
			size_t len = strlen(files[i].data);

			assert_int_equal(cpio_begin_file(&w, prefix, files[i].name, len, file_mode, NULL, &data_at),
					 MS_OK);
			if (buf)
				memcpy(buf + data_at, files[i].data, len);
			assert_int_equal(cpio_end_file(&w, 1), MS_OK);
		}
		assert_int_equal(cpio_write_trailer(&w), MS_OK);
		size = w.pos;
	}
	*ret_len = size;
	return buf;
}

static void assert_sha256(const uint8_t *buf, uint64_t len, const char *hex)
{
	uint8_t md[32];
	char got[65];

	SHA256(buf, len, md);
	for (int i = 0; i < 32; i++)
		sprintf(got + 2 * i, "%02x", md[i]);
	assert_string_equal(got, hex);
}

static void golden_one_sysext(void **state)
{
	const struct file f[] = { { "a.sysext.raw", "hello\n" } };
	uint64_t len;
	uint8_t *a = build(".extra/sysext", 0555, 0444, f, 1, &len);

	(void)state;
	assert_int_equal(len, 516);
	assert_sha256(a, len, "df243ad6d653ae0304f9aaebaf89d473bc8108b5f36b2114c70689d91777b6d7");
	free(a);
}

static void golden_two_sysexts(void **state)
{
	const struct file f[] = { { "a.sysext.raw", "hello\n" }, { "b.sysext.raw", "world" } };
	uint64_t len;
	uint8_t *a = build(".extra/sysext", 0555, 0444, f, 2, &len);

	(void)state;
	assert_int_equal(len, 664);
	assert_sha256(a, len, "bf665435d45aa6e4a08c2343c776b69c1dbb3337cc5c311a0ea2e9e895b62ebd");
	free(a);
}

static void golden_global_sysext(void **state)
{
	const struct file f[] = { { "g.raw", "global" } };
	uint64_t len;
	uint8_t *a = build(".extra/global_sysext", 0555, 0444, f, 1, &len);

	(void)state;
	assert_int_equal(len, 524);
	assert_sha256(a, len, "0f57dd05c628b776320d52e75b30aae010bebcb8ca518b3051ce6107faf39cf8");
	free(a);
}

static void golden_credentials_modes(void **state)
{
	const struct file f[] = { { "x.cred", "secret" } };
	uint64_t len;
	uint8_t *a = build(".extra/credentials", 0500, 0400, f, 1, &len);

	(void)state;
	assert_int_equal(len, 520);
	assert_sha256(a, len, "59bfe34f8b07fc30e082a02300a1f697676c48b1dd0f6c4b5dead84560f3e4fb");
	free(a);
}

static void header_fields_and_trailer(void **state)
{
	const struct file f[] = { { "a.sysext.raw", "hello\n" } };
	uint64_t len;
	uint8_t *a = build(".extra/sysext", 0555, 0444, f, 1, &len);

	(void)state;
	/* .extra: ino 1, mode 040555; .extra/sysext: ino 2; the file: ino 3, 0100444, 6 bytes. */
	assert_memory_equal(a, "070701000000010000416d", 22);
	assert_memory_equal(a + 120, "070701000000020000416d", 22);
	assert_memory_equal(a + 244, "0707010000000300008124", 22);
	assert_memory_equal(a + 244 + 6 + 6 * 8, "00000006", 8);
	assert_memory_equal(a + 244 + 110, ".extra/sysext/a.sysext.raw", 27);
	/* Trailer: namesize upper-case B, name, 4 NULs, and it ends the archive. */
	assert_memory_equal(a + len - 124 + 6 + 11 * 8, "0000000B", 8);
	assert_memory_equal(a + len - 14, "TRAILER!!!\0\0\0\0", 14);
	free(a);
}

static void gnu_cpio_unpacks_it(void **state)
{
	const struct file f[] = { { "B.sysext.raw", "upper" }, { "a.sysext.raw", "hello\n" }, { "e.sysext.raw", "" } };
	char dir[] = "/tmp/test-cpio-XXXXXX", cmd[512], path[512];
	struct stat st;
	uint64_t len;
	uint8_t *a = build(".extra/sysext", 0555, 0444, f, 3, &len);
	FILE *out;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/a.cpio", dir);
	out = fopen(path, "wb");
	assert_non_null(out);
	assert_int_equal(fwrite(a, 1, len, out), len);
	fclose(out);
	snprintf(cmd, sizeof(cmd), "cd %s && cpio -id --quiet < a.cpio", dir);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/.extra/sysext/a.sysext.raw", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 6);
	assert_int_equal(st.st_mode & 07777, 0444);
	snprintf(path, sizeof(path), "%s/.extra/sysext/e.sysext.raw", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 0);
	snprintf(path, sizeof(path), "%s/.extra/sysext", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	snprintf(cmd, sizeof(cmd), "chmod -R u+w %s && rm -rf %s", dir, dir);
	assert_int_equal(system(cmd), 0);
	free(a);
}

/* An abandoned file leaves no trace: same bytes as an archive without it. */
static void abandoned_file_leaves_no_trace(void **state)
{
	const struct file f[] = { { "a.sysext.raw", "hello\n" } };
	struct cpio_writer w;
	uint8_t buf[1024];
	uint64_t len, data_at;
	uint8_t *ref = build(".extra/sysext", 0555, 0444, f, 1, &len);

	(void)state;
	memset(buf, 0xaa, sizeof(buf));
	cpio_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(cpio_write_dirs(&w, ".extra/sysext", 0555), MS_OK);
	assert_int_equal(cpio_begin_file(&w, ".extra/sysext", "0-unreadable.sysext.raw", 100, 0444, NULL, &data_at),
			 MS_OK);
	assert_int_equal(cpio_end_file(&w, 0), MS_OK);
	assert_int_equal(cpio_begin_file(&w, ".extra/sysext", "a.sysext.raw", 6, 0444, NULL, &data_at), MS_OK);
	memcpy(buf + data_at, "hello\n", 6);
	assert_int_equal(cpio_end_file(&w, 1), MS_OK);
	assert_int_equal(cpio_write_trailer(&w), MS_OK);
	assert_int_equal(w.pos, len);
	assert_memory_equal(buf, ref, len);
	free(ref);
}

static void path_offset_points_at_the_nul_terminated_path(void **state)
{
	struct cpio_writer w;
	uint8_t buf[512];
	uint64_t path_at, data_at;

	(void)state;
	cpio_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(cpio_write_dirs(&w, ".extra/sysext", 0555), MS_OK);
	assert_int_equal(cpio_begin_file(&w, ".extra/sysext", "k3s.sysext.raw", 0, 0444, &path_at, &data_at), MS_OK);
	assert_memory_equal(buf + path_at, ".extra/sysext/k3s.sysext.raw", 29); /* includes the NUL */
	assert_int_equal(data_at % 4, 0);
}

/*
 * docs/MEASUREMENTS.md's worked example: the PCR 13 sequence computed from
 * the path and data fields of archives our writer produced.
 */
static void extend(uint8_t pcr[32], const uint8_t *data, size_t len)
{
	uint8_t buf[64];

	memcpy(buf, pcr, 32);
	SHA256(data, len, buf + 32);
	SHA256(buf, 64, pcr);
}

static void measure_archive(uint8_t pcr[32], const char *prefix, const struct file *f, size_t n)
{
	struct cpio_writer w;
	uint8_t buf[2048];

	cpio_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(cpio_write_dirs(&w, prefix, 0555), MS_OK);
	for (size_t i = 0; i < n; i++) {
		uint64_t path_at, data_at;
		size_t len = strlen(f[i].data);

		assert_int_equal(cpio_begin_file(&w, prefix, f[i].name, len, 0444, &path_at, &data_at), MS_OK);
		memcpy(buf + data_at, f[i].data, len);
		extend(pcr, buf + path_at, strlen((char *)buf + path_at) + 1);
		extend(pcr, buf + data_at, len);
		assert_int_equal(cpio_end_file(&w, 1), MS_OK);
	}
}

static void worked_example_pcr13(void **state)
{
	const struct file per_uki[] = { { "a.sysext.raw", "hello\n" }, { "b.sysext.raw", "world" } };
	const struct file global[] = { { "g.sysext.raw", "global" } };
	uint8_t pcr[32] = { 0 };
	char hex[65];

	(void)state;
	measure_archive(pcr, ".extra/sysext", per_uki, 2);
	measure_archive(pcr, ".extra/global_sysext", global, 1);
	for (int i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", pcr[i]);
	assert_string_equal(hex, "b15b792148ca42c5ba7a1af14f7439a5d599c6e68f31c952cafd94648e4c50e1");
}

static void limits(void **state)
{
	struct cpio_writer w;
	uint8_t small[300];
	char long_name[600];

	(void)state;
	cpio_writer_init(&w, NULL, 0);
	assert_int_equal(cpio_write_dirs(&w, ".extra/sysext", 0555), MS_OK);
	assert_int_equal(cpio_begin_file(&w, ".extra/sysext", "big.sysext.raw", 1ULL << 32, 0444, NULL, NULL),
			 MS_ERR_LIMIT);
	assert_int_equal(cpio_begin_file(&w, ".extra/sysext", "max.sysext.raw", 0xffffffffULL, 0444, NULL, NULL),
			 MS_OK);
	assert_int_equal(cpio_end_file(&w, 1), MS_OK);
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = 0;
	assert_int_equal(cpio_begin_file(&w, ".extra/sysext", long_name, 1, 0444, NULL, NULL), MS_ERR_LIMIT);
	/* A real buffer that is too small is an error, never an overrun. */
	cpio_writer_init(&w, small, sizeof(small));
	assert_int_equal(cpio_write_dirs(&w, ".extra/sysext", 0555), MS_OK);
	assert_int_equal(cpio_begin_file(&w, ".extra/sysext", "a.sysext.raw", 100, 0444, NULL, NULL),
			 MS_ERR_BUFFER_TOO_SMALL);
	assert_int_equal(w.pos, 244);
	/* Misuse is rejected. */
	assert_int_equal(cpio_end_file(&w, 1), MS_ERR_INVALID);
	assert_int_equal(cpio_write_dirs(&w, "/abs", 0555), MS_ERR_INVALID);
	assert_int_equal(cpio_write_dirs(&w, "trailing/", 0555), MS_ERR_INVALID);
}

/* sysext_archive_fill's callback: copy contents from a table, drop names starting with 'x'. */
struct fill_table {
	const char *const *contents;
	char paths[4][64];
	size_t calls;
};

static int fill_from_table(void *ctx_, size_t index, const char *path, uint8_t *data, uint64_t size)
{
	struct fill_table *t = ctx_;

	snprintf(t->paths[index], sizeof(t->paths[index]), "%s", path);
	t->calls++;
	memcpy(data, t->contents[index], size);
	return strstr(path, "/x") == NULL;
}

/* The shared plan/fill gives the golden bytes, and a dropped file leaves no trace. */
static void sysext_archive_plan_and_fill(void **state)
{
	const char *names[] = { "a.sysext.raw", "b.sysext.raw", "x.sysext.raw" };
	const char *const contents[] = { "hello\n", "world", "dropped" };
	uint64_t sizes[] = { 6, 5, 7 }, planned, size;
	struct fill_table t = { .contents = contents };
	size_t kept;
	uint8_t *buf;

	(void)state;
	assert_int_equal(sysext_archive_plan(&companion_target_for(EXT_KIND_SYSEXT, SEL_DIR_PER_UKI)->layout, names, sizes, 3, &planned), MS_OK);
	buf = malloc(planned);
	assert_non_null(buf);
	assert_int_equal(sysext_archive_fill(buf, planned, &companion_target_for(EXT_KIND_SYSEXT, SEL_DIR_PER_UKI)->layout, names, sizes, 3, fill_from_table, &t, &size,
					     &kept), MS_OK);
	assert_int_equal(t.calls, 3);
	assert_string_equal(t.paths[0], ".extra/sysext/a.sysext.raw");
	assert_string_equal(t.paths[2], ".extra/sysext/x.sysext.raw");
	assert_int_equal(kept, 2);
	/* Exactly the two-file golden archive: x took no inode and left no bytes. */
	assert_int_equal(size, 664);
	assert_sha256(buf, size, "bf665435d45aa6e4a08c2343c776b69c1dbb3337cc5c311a0ea2e9e895b62ebd");
	free(buf);
}

static int drop_all(void *ctx, size_t index, const char *path, uint8_t *data, uint64_t size)
{
	(void)ctx, (void)index, (void)path, (void)data, (void)size;
	return 0;
}

static void sysext_archive_with_nothing_kept_is_empty(void **state)
{
	const char *names[] = { "a.sysext.raw" };
	uint64_t sizes[] = { 6 }, planned, size = 1;
	size_t kept = 1;
	uint8_t buf[1024];
	char path[16];

	(void)state;
	assert_int_equal(sysext_archive_plan(&companion_target_for(EXT_KIND_SYSEXT, SEL_DIR_GLOBAL)->layout, names, sizes, 1, &planned), MS_OK);
	assert_true(planned <= sizeof(buf));
	assert_int_equal(sysext_archive_fill(buf, planned, &companion_target_for(EXT_KIND_SYSEXT, SEL_DIR_GLOBAL)->layout, names, sizes, 1, drop_all, NULL, &size,
					     &kept), MS_OK);
	assert_int_equal(size, 0);
	assert_int_equal(kept, 0);
	/* Too small a buffer is an error, not an overrun. */
	assert_int_not_equal(sysext_archive_fill(buf, 100, &companion_target_for(EXT_KIND_SYSEXT, SEL_DIR_GLOBAL)->layout, names, sizes, 1, drop_all,
						 NULL, &size, &kept), MS_OK);
	assert_int_equal(sysext_archive_path(SYSEXT_PREFIX, "a.sysext.raw", path, sizeof(path)),
			 MS_ERR_BUFFER_TOO_SMALL);
}

static int copy_secret(void *ctx, size_t index, const char *path, uint8_t *data, uint64_t size)
{
	(void)ctx, (void)index, (void)path;
	memcpy(data, "secret", size);
	return 1;
}

/* Reference §3.2: the credentials layout (0500/0400) gives systemd-stub's bytes. */
static void credentials_archive_golden(void **state)
{
	const char *names[] = { "x.cred" };
	uint64_t sizes[] = { 6 }, planned, size;
	const struct companion_target *cred = companion_target_for(EXT_KIND_CREDENTIAL, SEL_DIR_PER_UKI);
	size_t kept;
	uint8_t buf[1024];

	(void)state;
	assert_non_null(cred);
	assert_string_equal(cred->layout.prefix, ".extra/credentials");
	assert_int_equal(sysext_archive_plan(&cred->layout, names, sizes, 1, &planned), MS_OK);
	assert_true(planned <= sizeof(buf));
	assert_int_equal(sysext_archive_fill(buf, planned, &cred->layout, names, sizes, 1, copy_secret, NULL, &size, &kept),
			 MS_OK);
	assert_int_equal(size, 520);
	assert_sha256(buf, size, "59bfe34f8b07fc30e082a02300a1f697676c48b1dd0f6c4b5dead84560f3e4fb");
}

/* Every archived target has a distinct slot, in slot order, with systemd's modes for its kind. */
static void companion_targets_in_slot_order(void **state)
{
	(void)state;
	for (size_t i = 0; i < companion_target_count; i++) {
		const struct companion_target *t = &companion_targets[i];

		if (i > 0)
			assert_true(companion_targets[i - 1].slot < t->slot);
		assert_ptr_equal(companion_target_for(t->kind, t->role), t);
		if (t->kind == EXT_KIND_CREDENTIAL)
			assert_true(t->layout.dir_mode == 0500 && t->layout.file_mode == 0400 && t->pcr == 12);
		else
			assert_true(t->layout.dir_mode == 0555 && t->layout.file_mode == 0444);
	}
	assert_null(companion_target_for(EXT_KIND_ADDON, SEL_DIR_PER_UKI));
	assert_null(companion_target_for(EXT_KIND_CREDENTIAL, SEL_DIR_GLOBAL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(golden_one_sysext),
		cmocka_unit_test(golden_two_sysexts),
		cmocka_unit_test(golden_global_sysext),
		cmocka_unit_test(golden_credentials_modes),
		cmocka_unit_test(header_fields_and_trailer),
		cmocka_unit_test(gnu_cpio_unpacks_it),
		cmocka_unit_test(abandoned_file_leaves_no_trace),
		cmocka_unit_test(path_offset_points_at_the_nul_terminated_path),
		cmocka_unit_test(worked_example_pcr13),
		cmocka_unit_test(limits),
		cmocka_unit_test(sysext_archive_plan_and_fill),
		cmocka_unit_test(credentials_archive_golden),
		cmocka_unit_test(companion_targets_in_slot_order),
		cmocka_unit_test(sysext_archive_with_nothing_kept_is_empty),
	};

	return cmocka_run_group_tests_name("cpio", tests, NULL, NULL);
}
