/* SPDX-License-Identifier: MIT */
/*
 * signature-archives.c - see signature-archives.h. The signature files of
 * each directory are the ones the stub's selection rule keeps
 * (measure/selection.c, through sysext-set.c); without any, .pcrsig byte for byte;
 * with some, the merge of .pcrsig (if at most PCRSIG_SECTION_MERGE_MAX
 * bytes) and the files, per-UKI directory first; nothing if no entry is left.
 */
#include "signature-archives.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure/extdir.h"
#include "measure/extensions.h"
#include "measure/initrd.h"
#include "measure/pcrsig.h"
#include "measure/companion.h"
#include "measure/sysext-archive.h"
#include "measure/uki.h"
#include "sysext-set.h"
#include "util.h"

struct fragment_list {
	struct pcrsig_fragment frags[1 + 2 * EXT_SIGNATURE_MAX_FILES];
	char *paths[1 + 2 * EXT_SIGNATURE_MAX_FILES]; /* NULL for the section */
	size_t n;
};

/*
 * Read the signature files of @dir (@dir_len units long on the ESP) into @l,
 * as the stub's selection keeps them (count, sizes, order: sysext-set.c runs
 * measure/selection.c on the directory, as the stub does).
 */
static int add_directory(struct fragment_list *l, const char *dir, enum sel_dir_role role, size_t dir_len)
{
	struct sysext_set set;
	int r;

	sysext_set_init_signatures(&set, role, dir_len);
	r = sysext_set_add_dir(&set, dir, false);
	if (r == 0)
		r = sysext_set_finish(&set);
	for (size_t i = 0; r == 0 && i < set.n; i++) {
		uint8_t *buf = NULL;
		size_t len = 0;

		if (read_file(set.files[i].path, EXT_SIGNATURE_SIZE_MAX, &buf, &len) < 0) {
			r = -1;
			break;
		}
		l->frags[l->n] = (struct pcrsig_fragment){ .data = buf, .len = len };
		if (!(l->paths[l->n++] = strdup(set.files[i].path)))
			r = errorf("out of memory");
	}
	sysext_set_free(&set);
	return r;
}

/* A cpio holding .extra/@name, as the stub's literal_archive() builds it (measure/sysext-archive.h). */
static int literal_archive(const char *name, const void *data, size_t size, uint8_t **ret, uint64_t *ret_size)
{
	uint64_t planned = 0;
	uint8_t *buf;

	if (sysext_archive_literal_plan(name, size, &planned) != MS_OK || !(buf = calloc(1, planned)))
		return errorf("/.extra/%s: cannot lay out its archive (%zu bytes)", name, size);
	if (sysext_archive_literal_fill(buf, planned, name, data, size, ret_size) != MS_OK) {
		free(buf);
		return errorf("/.extra/%s: cannot lay out its archive", name);
	}
	*ret = buf;
	return 0;
}

static int merge_fragments(struct fragment_list *l, struct signature_archives *ret)
{
	size_t max_len = 0, total = 0, entries = 0, out_len = 0, cap;
	struct json_token *tokens;
	char *out;
	int r = 0;

	for (size_t i = 0; i < l->n; i++) {
		max_len = l->frags[i].len > max_len ? l->frags[i].len : max_len;
		total += l->frags[i].len;
	}
	cap = pcrsig_merged_bound(total, l->n);
	tokens = calloc(JSON_TOKENS_FOR(max_len), sizeof(*tokens));
	out = malloc(cap);
	if (!tokens || !out) {
		r = errorf("out of memory");
		goto out;
	}
	if (pcrsig_merge(l->frags, l->n, tokens, JSON_TOKENS_FOR(max_len), out, cap, &out_len) != MS_OK) {
		r = errorf("merging PCR signature files failed");
		goto out;
	}
	for (size_t i = 0; i < l->n; i++) {
		if (l->frags[i].status != MS_OK)
			warnf("%s: skipped by the stub, not a valid PCR signature file: %s (at byte %zu)",
			      l->paths[i] ? l->paths[i] : ".pcrsig section",
			      l->frags[i].reason ? l->frags[i].reason : ms_strerror(l->frags[i].status),
			      l->frags[i].error_offset);
		entries += l->frags[i].entries;
	}
	if (entries > 0)
		r = literal_archive(INITRD_PCR_SIGNATURE_FILE, out, out_len, &ret->archive[INITRD_SLOT_PCRSIG],
				    &ret->size[INITRD_SLOT_PCRSIG]);
out:
	free(tokens);
	free(out);
	return r;
}

/*
 * The section @name in effect for @profile (measure/uki.h: VirtualSize
 * bytes, zero-filled past the raw data, as the stub uses it) in a new
 * buffer; NULL if absent.
 */
static int section_bytes(const uint8_t *uki_buf, const struct pe_image *img, uint32_t profile, const char *name,
			 uint8_t **ret, size_t *ret_len)
{
	const struct pe_section *s = uki_section(img, profile, name);
	size_t offset, present;
	uint32_t size;

	*ret = NULL;
	*ret_len = 0;
	if (!s)
		return 0;
	uki_section_bytes(img, s, &offset, &present, &size);
	if (!(*ret = calloc(1, size)))
		return errorf("out of memory");
	memcpy(*ret, uki_buf + offset, present);
	*ret_len = size;
	return 0;
}

/* The signature archive: .pcrsig alone, byte for byte, or merged with the signature files. */
static int build_signatures(const uint8_t *uki_buf, const struct pe_image *img, uint32_t profile, const char *extra_dir,
			    size_t extra_dir_len, const char *global_dir, struct signature_archives *ret)
{
	struct fragment_list *l = calloc(1, sizeof(*l));
	uint8_t *section = NULL;
	size_t section_len = 0;
	int r;

	if (!l)
		return errorf("out of memory");
	r = section_bytes(uki_buf, img, profile, ".pcrsig", &section, &section_len);
	if (r == 0 && section) {
		l->frags[0] = (struct pcrsig_fragment){ .data = section,
							.len = section_len <= PCRSIG_SECTION_MERGE_MAX ? section_len : 0 };
		l->n = 1;
	}
	if (r == 0 && ((extra_dir && add_directory(l, extra_dir, SEL_DIR_PER_UKI, extra_dir_len) < 0) ||
		       (global_dir && add_directory(l, global_dir, SEL_DIR_GLOBAL, EXTDIR_GLOBAL_LEN) < 0)))
		r = -1;
	if (r == 0 && l->n > (section ? 1u : 0u))
		r = merge_fragments(l, ret);
	else if (r == 0 && section)
		r = literal_archive(INITRD_PCR_SIGNATURE_FILE, section, section_len, &ret->archive[INITRD_SLOT_PCRSIG],
				    &ret->size[INITRD_SLOT_PCRSIG]);
	for (size_t i = 0; i < l->n; i++)
		if (l->paths[i]) {
			free((void *)l->frags[i].data);
			free(l->paths[i]);
		}
	free(l);
	free(section);
	return r;
}

int signature_archives_build(const uint8_t *uki_buf, const struct pe_image *img, uint32_t profile,
			     const char *extra_dir, size_t extra_dir_len, const char *global_dir, unsigned systemd_version,
			     struct signature_archives *ret)
{
	int r;

	memset(ret, 0, sizeof(*ret));
	r = build_signatures(uki_buf, img, profile, extra_dir, extra_dir_len, global_dir, ret);
	/* The sections handed over as they are (measure/companion.c), by the stubs that hand them over. */
	for (size_t i = 0; r == 0 && i < companion_literal_count; i++) {
		const struct companion_literal *c = &companion_literals[i];
		uint8_t *bytes;
		size_t len;

		if (systemd_version && systemd_version < c->systemd_since)
			continue;
		r = section_bytes(uki_buf, img, profile, c->section, &bytes, &len);
		if (r == 0 && bytes)
			r = literal_archive(c->file, bytes, len, &ret->archive[c->slot], &ret->size[c->slot]);
		free(bytes);
	}
	if (r < 0)
		signature_archives_free(ret);
	return r;
}

void signature_archives_free(struct signature_archives *a)
{
	for (size_t i = 0; i < INITRD_SLOTS; i++)
		free(a->archive[i]);
	memset(a, 0, sizeof(*a));
}
