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
#include "measure/extensions.h"
#include "measure/initrd.h"
#include "measure/pcrsig.h"
#include "measure/sysext-archive.h"

#define FRAGMENTS_MAX (1 + 2 * EXT_SIGNATURE_MAX_FILES)

struct sig_file {
	char name[EXT_NAME_MAX + 1];
	UINT64 size;
};

/* Where each fragment came from, for messages; dir NULL means the .pcrsig section. */
struct fragment_source {
	const CHAR16 *dir;
	const char *name;
};

struct collected {
	struct pcrsig_fragment frags[FRAGMENTS_MAX];
	struct fragment_source from[FRAGMENTS_MAX];
	struct sig_file files[2][EXT_SIGNATURE_MAX_FILES + 1];
	UINTN n;
	UINTN n_files;
};

static struct sig_file *file_of(const char *name)
{
	return (struct sig_file *)(UINTN)(name - __builtin_offsetof(struct sig_file, name));
}

/* The signature files of one directory, the first EXT_SIGNATURE_MAX_FILES by name, in name order. */
static UINTN list_signatures(EFI_FILE_HANDLE dir, const CHAR16 *dir_path, struct sig_file *slots, const char **order)
{
	EFI_FILE_INFO *info = NULL;
	UINTN info_size = 0, used = 1, dir_len = StrLen(dir_path);
	size_t n = 0;
	BOOLEAN done = FALSE;
	struct sig_file *next = &slots[0];

	for (;;) {
		const char *dropped;
		UINTN len;

		if (EFI_ERROR(esp_next_entry(dir, &info, &info_size, &done)) || done)
			break;
		len = StrLen(info->FileName);
		if (ext_classify_signature(info->FileName, len, (info->Attribute & EFI_FILE_DIRECTORY) != 0, dir_len) !=
		    EXT_PICK)
			continue; /* the extension pass logs what it skips */
		if (info->FileSize == 0 || info->FileSize > EXT_SIGNATURE_SIZE_MAX) {
			log_warn(L"%s\\%s: skipped, a signature file must have 1 to %u bytes (it has %lu)", dir_path,
				 info->FileName, EXT_SIGNATURE_SIZE_MAX, info->FileSize);
			continue;
		}
		(void)ext_name_to_ascii(info->FileName, len, next->name, sizeof(next->name));
		next->size = info->FileSize;
		dropped = ext_sorted_insert(order, &n, EXT_SIGNATURE_MAX_FILES, next->name);
		if (dropped) {
			log_warn(L"%s\\%a: skipped, more than %d signature files", dir_path, dropped,
				 EXT_SIGNATURE_MAX_FILES);
			next = file_of(dropped);
		} else {
			next = &slots[used++];
		}
	}
	mem_free(info);
	return n;
}

static void read_directory(EFI_FILE_HANDLE root, const CHAR16 *dir_path, struct sig_file *slots,
			   struct collected *c)
{
	const char *order[EXT_SIGNATURE_MAX_FILES];
	CHAR16 name16[EXT_NAME_MAX + 1];
	EFI_FILE_HANDLE dir = NULL;
	UINTN n;

	if (EFI_ERROR(esp_open_dir(root, dir_path, &dir)))
		return; /* no directory: the extension pass already said so if it matters */
	n = list_signatures(dir, dir_path, slots, order);
	for (UINTN i = 0; i < n; i++) {
		struct sig_file *f = file_of(order[i]);
		UINT8 *buf = mem_alloc_zero(f->size);
		UINTN k;
		EFI_STATUS err;

		for (k = 0; f->name[k]; k++)
			name16[k] = (CHAR16)(UINT8)f->name[k];
		name16[k] = 0;
		err = buf ? esp_read_file(dir, name16, buf, f->size) : EFI_OUT_OF_RESOURCES;
		if (EFI_ERROR(err)) {
			log_error_status(err, L"%s\\%a: skipped, cannot read it", dir_path, f->name);
			mem_free(buf);
			continue;
		}
		c->frags[c->n] = (struct pcrsig_fragment){ .data = buf, .len = f->size };
		c->from[c->n] = (struct fragment_source){ .dir = dir_path, .name = f->name };
		c->n++;
		c->n_files++;
	}
	esp_close(dir);
}

static void log_skipped(const struct collected *c)
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
static void merge_and_pack(struct collected *c, struct sysext_archive *ret)
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

void signatures_collect(EFI_FILE_HANDLE root, const CHAR16 *const *dirs, UINTN n_dirs, const void *pcrsig,
			UINTN pcrsig_size, struct sysext_archive *ret)
{
	struct collected *c;

	SetMem(ret, sizeof(*ret), 0);
	c = mem_alloc_zero(sizeof(*c));
	if (!c) {
		log_error_status(EFI_OUT_OF_RESOURCES, L"PCR signatures not passed on");
		return;
	}
	if (pcrsig && pcrsig_size > 0) {
		c->frags[0] = (struct pcrsig_fragment){ .data = pcrsig, .len = pcrsig_size };
		c->n = 1;
	}
	for (UINTN d = 0; root && d < n_dirs && d < 2; d++)
		if (dirs[d])
			read_directory(root, dirs[d], c->files[d], c);

	if (c->n_files == 0) {
		/* Only the section: hand it over untouched, as systemd-stub does. */
		if (c->n == 1)
			(void)literal_archive(INITRD_PCR_SIGNATURE_FILE, pcrsig, pcrsig_size, ret);
	} else {
		if (c->n_files < c->n && pcrsig_size > PCRSIG_SECTION_MERGE_MAX) {
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

static int copy_into(void *ctx, size_t index, const char *path, uint8_t *data, uint64_t size)
{
	(void)index;
	(void)path;
	CopyMem(data, ctx, size);
	return 1;
}

EFI_STATUS literal_archive(const char *name, const void *data, UINTN size, struct sysext_archive *ret)
{
	const char *names[1] = { name };
	const uint64_t sizes[1] = { size };
	EFI_PHYSICAL_ADDRESS addr = 0;
	UINT64 planned = 0, final = 0;
	size_t kept = 0;
	UINTN pages;
	EFI_STATUS err;

	SetMem(ret, sizeof(*ret), 0);
	if (sysext_archive_plan(INITRD_EXTRA_PREFIX, names, sizes, 1, &planned) != MS_OK)
		return log_error_status(EFI_BAD_BUFFER_SIZE, L"/.extra/%a: too large (%lu bytes)", name, (UINT64)size);
	pages = EFI_SIZE_TO_PAGES(planned);
	err = mem_alloc_pages(pages, &addr);
	if (EFI_ERROR(err))
		return log_error_status(err, L"/.extra/%a: cannot allocate %lu bytes", name, planned);
	if (sysext_archive_fill((UINT8 *)(UINTN)addr, planned, INITRD_EXTRA_PREFIX, names, sizes, 1, copy_into,
				(void *)data, &final, &kept) != MS_OK ||
	    kept != 1) {
		mem_free_pages(addr, pages);
		return log_error_status(EFI_LOAD_ERROR, L"/.extra/%a: internal error laying out the archive", name);
	}
	ret->buf = (UINT8 *)(UINTN)addr;
	ret->pages = pages;
	ret->size = final;
	ret->n_files = 1;
	return EFI_SUCCESS;
}
