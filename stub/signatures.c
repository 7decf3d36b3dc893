/* SPDX-License-Identifier: MIT */
/*
 * signatures.c - see signatures.h. Signature files are small (at most
 * EXT_SIGNATURE_SIZE_MAX bytes, EXT_SIGNATURE_MAX_FILES per directory), so
 * they are read into pool memory, merged into a fresh buffer and copied
 * into their archive; the sysext rule "read once, no copies" is about
 * measured bytes, and these are not measured.
 */
#include "signatures.h"

#include <efilib.h>

#include "efi-lib/esp.h"
#include "efi-lib/log.h"
#include "efi-lib/mem.h"
#include "measure/selection.h"
#include "measure/initrd.h"
#include "measure/pcrsig.h"

#define FRAGMENTS_MAX (1 + 2 * EXT_SIGNATURE_MAX_FILES)

/* Where each fragment came from, for messages; dir NULL means the .pcrsig section. */
struct fragment_source {
	const CHAR16 *dir;
	char name[EXT_NAME_MAX + 1];
};

struct signature_set {
	struct pcrsig_fragment frags[FRAGMENTS_MAX];
	struct fragment_source from[FRAGMENTS_MAX];
	const void *pcrsig;
	UINTN pcrsig_size;
	UINTN n;
	UINTN n_files;
};

struct signature_set *signatures_begin(const void *pcrsig, UINTN pcrsig_size)
{
	struct signature_set *c = mem_alloc_zero(sizeof(*c));

	if (!c) {
		log_error_status(EFI_OUT_OF_RESOURCES, L"PCR signatures not passed on");
		return NULL;
	}
	c->pcrsig = pcrsig;
	c->pcrsig_size = pcrsig_size;
	if (pcrsig && pcrsig_size > 0) {
		c->frags[0] = (struct pcrsig_fragment){ .data = pcrsig, .len = pcrsig_size };
		c->n = 1;
	}
	return c;
}

void signatures_add(struct signature_set *c, const struct dir_listing *l)
{
	CHAR16 name16[EXT_NAME_MAX + 1];
	char shown[EXT_DISPLAY_MAX];
	UINTN n = sel_dir_count(l->sel, EXT_KIND_SIGNATURE);

	/* Two directories of at most EXT_SIGNATURE_MAX_FILES each fit FRAGMENTS_MAX; a third would not. */
	for (UINTN i = 0; c && i < n && c->n < FRAGMENTS_MAX; i++) {
		const struct sel_file *f = sel_dir_file(l->sel, EXT_KIND_SIGNATURE, i);
		UINT8 *buf = mem_alloc_zero(f->size);
		EFI_STATUS err;

		listing_name16(f, name16);
		err = buf ? esp_read_file(l->dir, name16, buf, f->size) : EFI_OUT_OF_RESOURCES;
		if (EFI_ERROR(err)) {
			log_error_status(err, L"%s\\%a: skipped, cannot read it", l->path, listing_shown(f, shown));
			mem_free(buf);
			continue;
		}
		c->frags[c->n] = (struct pcrsig_fragment){ .data = buf, .len = f->size };
		c->from[c->n].dir = l->path;
		CopyMem(c->from[c->n].name, f->name, sizeof(f->name));
		c->n++;
		c->n_files++;
	}
}

static void log_skipped(const struct signature_set *c)
{
	for (UINTN i = 0; i < c->n; i++) {
		const struct pcrsig_fragment *f = &c->frags[i];
		const char *why;

		if (f->status == MS_OK)
			continue;
		why = f->reason ? f->reason : ms_strerror(f->status);
		if (c->from[i].dir)
			log_warn(L"%s\\%a: skipped, not a valid PCR signature file: %a (at byte %lu)", c->from[i].dir,
				 c->from[i].name, why, (UINT64)f->error_offset);
		else
			log_warn(L".pcrsig section: skipped, not a valid PCR signature file: %a (at byte %lu)", why,
				 (UINT64)f->error_offset);
	}
}

/* Merge everything collected and pack it; *ret stays empty if nothing valid is left. */
static void merge_and_pack(struct signature_set *c, struct extra_archive *ret)
{
	struct json_token *tokens = NULL;
	char *out = NULL;
	UINTN max_len = 0, total = 0, entries = 0, valid_files = 0, out_cap;
	size_t out_len = 0;
	ms_status r;

	for (UINTN i = 0; i < c->n; i++) {
		max_len = c->frags[i].len > max_len ? c->frags[i].len : max_len;
		total += c->frags[i].len;
	}
	out_cap = pcrsig_merged_bound(total, c->n);
	tokens = mem_alloc_zero(JSON_TOKENS_FOR(max_len) * sizeof(*tokens));
	out = mem_alloc_zero(out_cap);
	if (!tokens || !out) {
		log_error_status(EFI_OUT_OF_RESOURCES, L"PCR signatures not passed on: cannot allocate %lu bytes",
				 (UINT64)out_cap);
		goto out;
	}
	r = pcrsig_merge(c->frags, c->n, tokens, JSON_TOKENS_FOR(max_len), out, out_cap, &out_len);
	if (r != MS_OK) {
		log_error_status(EFI_LOAD_ERROR, L"PCR signatures not passed on: merge failed (%a)", ms_strerror(r));
		goto out;
	}
	log_skipped(c);
	for (UINTN i = 0; i < c->n; i++) {
		entries += c->frags[i].entries;
		valid_files += c->from[i].dir && c->frags[i].status == MS_OK;
	}
	if (entries == 0) {
		log_warn(L"no valid PCR signature entries: no " INITRD_PCR_SIGNATURE_FILE L" for the initrd");
		goto out;
	}
	if (!EFI_ERROR(literal_archive(INITRD_PCR_SIGNATURE_FILE, out, out_len, ret)))
		log_info(L"PCR signatures: %u entries from %u signature file(s)%s -> /.extra/" INITRD_PCR_SIGNATURE_FILE,
			 entries, valid_files, c->from[0].dir || c->frags[0].status != MS_OK ? L"" : L" and .pcrsig");
out:
	mem_free(tokens);
	mem_free(out);
}

void signatures_finish(struct signature_set *c, struct extra_archive *ret)
{
	SetMem(ret, sizeof(*ret), 0);
	if (!c)
		return;
	if (c->n_files == 0) {
		/* Only the section: hand it over untouched, as systemd-stub does. */
		if (c->n == 1)
			(void)literal_archive(INITRD_PCR_SIGNATURE_FILE, c->pcrsig, c->pcrsig_size, ret);
	} else {
		if (c->n_files < c->n && c->pcrsig_size > PCRSIG_SECTION_MERGE_MAX) {
			log_warn(L".pcrsig section: left out of the merge, larger than %u bytes", PCRSIG_SECTION_MERGE_MAX);
			c->frags[0].len = 0; /* an empty fragment is invalid and skipped */
		}
		merge_and_pack(c, ret);
	}
	for (UINTN i = 0; i < c->n; i++)
		if (c->from[i].dir)
			mem_free((void *)c->frags[i].data);
	mem_free(c);
}
