/* SPDX-License-Identifier: MIT */
/*
 * fuzz-manifest.c - libFuzzer target for the sha256sum-style manifest
 * parser of host-tools/sysext-set.c (`predict --manifest`).
 *
 * The input is the manifest file (handed over as /proc/self/fd/N of a
 * memfd, since the parser reads a path). When the parser accepts it:
 * every entry has a name the pickup rule picks below \loader\extensions
 * (checked again here through ext_classify), at least one digest, no host
 * file, no name twice;
 * finishing sorts the entries in strcmp order within the 128-file limit;
 * and writing the set back out as a manifest (one line per entry and
 * bank) and parsing that gives the same set. Every path frees what it
 * allocated (LeakSanitizer). The parser's messages go to /dev/null.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create, open_memstream */
#endif
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz-host.h"
#include "host-tools/digest.h"
#include "host-tools/sysext-set.h"
#include "measure/extdir.h"
#include "measure/sysext-archive.h"


static int parse(const void *data, size_t size, struct sysext_set *s)
{
	char path[64];
	int fd = fuzz_memfd(data, size, path), r;

	sysext_set_init(s, companion_target_for(EXT_KIND_SYSEXT, SEL_DIR_GLOBAL), EXT_RULE_SYSEXT_STUB, true, EXTDIR_GLOBAL_LEN);
	r = sysext_set_add_manifest(s, path, 0);
	close(fd);
	return r;
}

static void check_entries(const struct sysext_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct sysext_file *f = &s->files[i];
		uint16_t u[EXT_NAME_MAX];
		size_t len = strlen(f->name);

		CHECK(f->path == NULL && f->size == 0);
		CHECK(f->digest_mask != 0 && f->digest_mask < (1u << BANK_COUNT));
		CHECK(len > 0 && len <= EXT_NAME_MAX);
		for (size_t k = 0; k < len; k++)
			u[k] = (uint8_t)f->name[k];
		CHECK(ext_classify(u, len, 0, EXTDIR_GLOBAL_LEN) == EXT_PICK);
		for (size_t k = 0; k < i; k++)
			CHECK(strcmp(s->files[k].name, f->name) != 0);
	}
}

/* The set as a manifest again: "<hex>  <name>" per entry and bank. */
static char *serialise(const struct sysext_set *s, size_t *ret_len)
{
	char *buf = NULL, hex[2 * DIGEST_MAX + 1];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CHECK(f != NULL);
	for (size_t i = 0; i < s->n; i++)
		for (size_t b = 0; b < BANK_COUNT; b++)
			if (s->files[i].digest_mask & (1u << b))
				fprintf(f, "%s  %s\n", hex_encode(s->files[i].digest[b], banks[b].size, hex),
					s->files[i].name);
	CHECK(fclose(f) == 0);
	*ret_len = len;
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sysext_set s, t;
	char *text;
	size_t text_len;

	fuzz_quiet_stderr();
	if (parse(data, size, &s) < 0) {
		sysext_set_free(&s);
		return 0;
	}
	check_entries(&s);
	CHECK(sysext_set_finish(&s) == 0);
	CHECK(s.n <= EXT_MAX_FILES);
	for (size_t i = 1; i < s.n; i++)
		CHECK(strcmp(s.files[i - 1].name, s.files[i].name) < 0);
	check_entries(&s);

	/* Round trip. */
	text = serialise(&s, &text_len);
	CHECK(parse(text, text_len, &t) == 0);
	CHECK(sysext_set_finish(&t) == 0);
	CHECK(t.n == s.n);
	for (size_t i = 0; i < s.n; i++) {
		CHECK(strcmp(t.files[i].name, s.files[i].name) == 0);
		CHECK(t.files[i].digest_mask == s.files[i].digest_mask);
		for (size_t b = 0; b < BANK_COUNT; b++)
			if (s.files[i].digest_mask & (1u << b))
				CHECK(memcmp(t.files[i].digest[b], s.files[i].digest[b], banks[b].size) == 0);
	}
	free(text);
	sysext_set_free(&t);
	sysext_set_free(&s);
	return 0;
}
