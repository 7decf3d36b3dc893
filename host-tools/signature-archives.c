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
#include "measure/sysext-archive.h"
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

	sysext_set_init_kind(&set, EXT_KIND_SIGNATURE, role, INITRD_EXTRA_PREFIX, EXT_RULE_SYSEXT_STUB, true, dir_len);
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

static int copy_into(void *ctx, size_t index, const char *path, uint8_t *data, uint64_t size)
{
	(void)index;
	(void)path;
	memcpy(data, ctx, size);
	return 1;
}

/* A cpio holding .extra/@name (0444), as stub/signatures.c literal_archive() builds it. */
static int literal_archive(const char *name, const void *data, size_t size, uint8_t **ret, uint64_t *ret_size)
{
	const char *names[1] = { name };
	const uint64_t sizes[1] = { size };
	uint64_t planned = 0;
	size_t kept = 0;
	uint8_t *buf;

	if (sysext_archive_plan(INITRD_EXTRA_PREFIX, names, sizes, 1, &planned) != MS_OK || !(buf = calloc(1, planned)))
		return errorf("/.extra/%s: cannot lay out its archive (%zu bytes)", name, size);
	if (sysext_archive_fill(buf, planned, INITRD_EXTRA_PREFIX, names, sizes, 1, copy_into, (void *)data, ret_size,
				&kept) != MS_OK ||
	    kept != 1) {
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
			warnf("%s: skipped by the stub, not a valid PCR signature file (%s at byte %zu)",
			      l->paths[i] ? l->paths[i] : ".pcrsig section", ms_strerror(l->frags[i].status),
			      l->frags[i].error_offset);
		entries += l->frags[i].entries;
	}
	if (entries > 0)
		r = literal_archive(INITRD_PCR_SIGNATURE_FILE, out, out_len, &ret->signature, &ret->signature_size);
out:
	free(tokens);
	free(out);
	return r;
}

int signature_archives_build(const uint8_t *uki_buf, const struct pe_image *img, const char *extra_dir,
			     size_t extra_dir_len, const char *global_dir, struct signature_archives *ret)
{
	const struct pe_section *sig = pe_find_section(img, ".pcrsig"), *key = pe_find_section(img, ".pcrpkey");
	struct fragment_list *l = calloc(1, sizeof(*l));
	uint8_t *section = NULL;
	size_t section_len = 0;
	int r = 0;

	memset(ret, 0, sizeof(*ret));
	if (!l)
		return errorf("out of memory");
	/* Sections as the loader maps them: loaded size, zero-filled past the raw data. */
	if (sig && pe_section_loaded_size(sig) > 0) {
		size_t offset, present;

		section_len = pe_section_loaded_size(sig);
		if (!(section = calloc(1, section_len))) {
			r = errorf("out of memory");
			goto out;
		}
		pe_section_content(img, sig, &offset, &present);
		memcpy(section, uki_buf + offset, present < section_len ? present : section_len);
		l->frags[0] = (struct pcrsig_fragment){ .data = section,
							.len = section_len <= PCRSIG_SECTION_MERGE_MAX ? section_len : 0 };
		l->n = 1;
	}
	if ((extra_dir && add_directory(l, extra_dir, SEL_DIR_PER_UKI, extra_dir_len) < 0) ||
	    (global_dir && add_directory(l, global_dir, SEL_DIR_GLOBAL, EXTDIR_GLOBAL_LEN) < 0)) {
		r = -1;
		goto out;
	}
	if (l->n > (section ? 1u : 0u))
		r = merge_fragments(l, ret);
	else if (section)
		r = literal_archive(INITRD_PCR_SIGNATURE_FILE, section, section_len, &ret->signature, &ret->signature_size);
	if (r == 0 && key && pe_section_loaded_size(key) > 0) {
		size_t offset, present, len = pe_section_loaded_size(key);
		uint8_t *k = calloc(1, len);

		if (!k) {
			r = errorf("out of memory");
			goto out;
		}
		pe_section_content(img, key, &offset, &present);
		memcpy(k, uki_buf + offset, present < len ? present : len);
		r = literal_archive(INITRD_PCR_PUBLIC_KEY_FILE, k, len, &ret->public_key, &ret->public_key_size);
		free(k);
	}
out:
	for (size_t i = 0; i < l->n; i++)
		if (l->paths[i]) {
			free((void *)l->frags[i].data);
			free(l->paths[i]);
		}
	free(l);
	free(section);
	if (r < 0)
		signature_archives_free(ret);
	return r;
}

void signature_archives_free(struct signature_archives *a)
{
	free(a->signature);
	free(a->public_key);
	memset(a, 0, sizeof(*a));
}
