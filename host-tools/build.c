/* SPDX-License-Identifier: MIT */
/*
 * build.c - `sysext-stub build`: assemble a UKI from a stub and its parts,
 * the way ukify does: the stub's sections stay as they are, each part is
 * appended as a new initialised, read-only data section after the last one,
 * VirtualAddress aligned to SectionAlignment, raw data to FileAlignment,
 * VirtualSize = the part's real size. Headers (section count, SizeOfImage,
 * SizeOfInitializedData, CheckSum) are updated. An Authenticode signature on
 * the stub is dropped (sign the UKI afterwards).
 */
#include "build.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "measure/endian.h"
#include "measure/json.h"
#include "measure/pcrsig.h"
#include "measure/pe.h"
#include "pcrsig-file.h"
#include "pe-edit.h"
#include "pem.h"
#include "util.h"

/* A section's size lives in 32-bit PE fields. */
#define PART_SIZE_MAX ((uint64_t)UINT32_MAX)
#define STUB_SIZE_MAX ((uint64_t)64 << 20)

/* Append order follows ukify: small metadata first, the kernel last. */
static const struct build_part parts_template[BUILD_N_PARTS] = {
	{ "os-release", ".osrel", 1, NULL, NULL, 0 },
	{ "cmdline", ".cmdline", 1, NULL, NULL, 0 },
	{ "uname", ".uname", 1, NULL, NULL, 0 },
	{ "pcrpkey", ".pcrpkey", 0, NULL, NULL, 0 },
	{ "initrd", ".initrd", 0, NULL, NULL, 0 },
	{ "linux", ".linux", 0, NULL, NULL, 0 },
	{ "pcrsig", ".pcrsig", 0, NULL, NULL, 0 },
};
#define N_PARTS BUILD_N_PARTS
#define PART_LINUX 5 /* index of .linux in parts_template */

void build_parts_init(struct build_part parts[BUILD_N_PARTS])
{
	memcpy(parts, parts_template, sizeof(parts_template));
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: sysext-stub build --linux FILE --output FILE [options]\n"
		"Assemble a Unified Kernel Image around the stub.\n\n"
		"  --stub FILE         EFI stub (default: sysext-stub-x64.efi next to this program)\n"
		"  --linux FILE        kernel image (PE/EFI, e.g. /boot/vmlinuz-*)  -> .linux\n"
		"  --initrd FILE       initrd                                        -> .initrd\n"
		"  --cmdline TEXT|@FILE   kernel command line                        -> .cmdline\n"
		"  --os-release TEXT|@FILE  os-release contents                      -> .osrel\n"
		"  --uname TEXT|@FILE  kernel version string                         -> .uname\n"
		"  --pcrpkey FILE      PEM public key for signed PCR policies        -> .pcrpkey\n"
		"  --pcrsig FILE       PCR signature JSON                            -> .pcrsig\n"
		"  --output FILE       the UKI to write (written atomically)\n");
}

static int load_part(struct build_part *p)
{
	if (p->is_text && p->arg[0] != '@') {
		p->size = strlen(p->arg);
		p->data = (uint8_t *)strdup(p->arg);
		if (!p->data)
			return errorf("out of memory");
	} else {
		const char *path = p->is_text ? p->arg + 1 : p->arg;

		if (read_file(path, PART_SIZE_MAX, &p->data, &p->size) < 0)
			return -1;
	}
	/* A PE section cannot be empty: refuse rather than silently drop it. */
	if (p->size == 0)
		return errorf("--%s %s: is empty; leave the option out instead", p->option, p->arg);
	return 0;
}

/*
 * .pcrpkey and .pcrsig are read by systemd in the booted system, long after
 * a mistake here could be noticed: refuse what it could not use. .pcrpkey
 * is a PEM public key (systemd-cryptsetup, systemd-pcrlock); .pcrsig a
 * tpm2-pcr-signature.json as measure/pcrsig.c (and so the stub) accepts it.
 */
/* Some PEM block of @p is labelled "... PRIVATE KEY". */
static int holds_private_key(const struct build_part *p)
{
	struct pem_block b;
	size_t pos = 0;

	for (;;) {
		int r = pem_next(p->data, p->size, &pos, &b);

		/* A block cut short (r < 0) still says what it was. */
		if (r != 0 && strstr(b.label, "PRIVATE KEY"))
			return 1;
		if (r != 1)
			return 0;
	}
}

static int check_part_content(struct build_part *p)
{
	if (strcmp(p->section, ".pcrpkey") == 0 && holds_private_key(p)) {
		/* Refused from its label, never decoded; and the text we read is wiped. */
		OPENSSL_cleanse(p->data, p->size);
		return errorf("--pcrpkey %s: is a private key; .pcrpkey must be the public key (a private key "
			      "never belongs in a UKI)", p->arg);
	}
	if (strcmp(p->section, ".pcrpkey") == 0) {
		BIO *bio = p->size <= INT_MAX ? BIO_new_mem_buf(p->data, (int)p->size) : NULL;
		EVP_PKEY *key = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;

		BIO_free(bio);
		ERR_clear_error();
		if (!key)
			return errorf("--pcrpkey %s: not a PEM public key (-----BEGIN PUBLIC KEY-----)", p->arg);
		EVP_PKEY_free(key);
	} else if (strcmp(p->section, ".pcrsig") == 0) {
		struct json_token *tokens;
		const char *reason = NULL;
		char problem[256];
		size_t at = 0;
		ms_status r;

		if (p->size > JSON_INPUT_MAX)
			return errorf("--pcrsig %s: too large", p->arg);
		tokens = calloc(JSON_TOKENS_FOR(p->size), sizeof(*tokens));
		if (!tokens)
			return errorf("--pcrsig %s: out of memory", p->arg);
		r = pcrsig_validate(p->data, p->size, tokens, (uint32_t)JSON_TOKENS_FOR(p->size), &at, &reason);
		free(tokens);
		if (r != MS_OK) {
			pcrsig_file_problem(p->data, p->size, r, at, reason, problem, sizeof(problem));
			return errorf("--pcrsig %s: not a valid tpm2-pcr-signature.json: %s", p->arg, problem);
		}
	}
	return 0;
}

static int check_stub(const char *path, const struct pe_image *img, const struct build_part *parts)
{
	if (img->subsystem != PE_SUBSYSTEM_EFI_APPLICATION)
		return errorf("%s: not an EFI application (PE subsystem %u)", path, img->subsystem);
	for (size_t i = 0; i < N_PARTS; i++)
		if (parts[i].arg && pe_find_section(img, parts[i].section))
			return errorf("%s: already has a %s section (is it a UKI rather than a stub?)", path,
				      parts[i].section);
	return 0;
}

static int check_kernel(const struct build_part *p)
{
	struct pe_image *k = calloc(1, sizeof(*k));
	ms_status r;

	if (!k)
		return errorf("out of memory");
	r = pe_parse(p->data, p->size, PE_LAYOUT_FILE, k);
	free(k);
	if (r != MS_OK)
		return errorf("--linux %s: not a PE/EFI kernel image (%s)", p->arg, ms_strerror(r));
	return 0;
}

/*
 * Bytes of the stub file we keep: headers and section data. What follows the
 * last section is dropped: a COFF symbol table (objcopy leaves one; nothing
 * loads it) and an Authenticode signature, which the new sections would
 * invalidate anyway.
 */
static int stub_kept_size(const char *path, const struct pe_image *img, size_t len, size_t *ret)
{
	uint64_t end = img->size_of_headers;

	for (uint16_t i = 0; i < img->n_sections; i++) {
		const struct pe_section *s = &img->sections[i];

		if (s->raw_size && (uint64_t)s->raw_offset + s->raw_size > end)
			end = (uint64_t)s->raw_offset + s->raw_size;
	}
	if (img->cert_table_size) {
		if (img->cert_table_offset < end || (uint64_t)img->cert_table_offset + img->cert_table_size != len)
			return errorf("%s: the certificate table is not at the end of the file", path);
		warnf("%s: dropping the stub's Authenticode signature; sign the UKI after building it", path);
	}
	if (img->symbol_table_offset && img->symbol_table_offset < end)
		return errorf("%s: the COFF symbol table overlaps section data", path);
	*ret = (size_t)end;
	return 0;
}

int build_assemble(const char *stub_path, const uint8_t *stub, size_t stub_len, const struct build_part *parts,
		   uint8_t **ret_buf, size_t *ret_len)
{
	struct pe_image *img = calloc(1, sizeof(*img));
	uint32_t n_new = 0, va, raw, headers_end, first_raw = UINT32_MAX, init_data;
	uint64_t out_len;
	size_t kept = 0;
	uint8_t *out = NULL;
	const struct pe_section *last;
	ms_status r;
	int ret = -1;

	if (!img)
		return errorf("out of memory");
	r = pe_parse(stub, stub_len, PE_LAYOUT_FILE, img);
	if (r != MS_OK) {
		errorf("%s: not a usable PE file (%s)", stub_path, ms_strerror(r));
		goto out;
	}
	if (check_stub(stub_path, img, parts) < 0 || stub_kept_size(stub_path, img, stub_len, &kept) < 0)
		goto out;
	if (img->n_sections == 0) {
		errorf("%s: has no sections", stub_path);
		goto out;
	}

	for (size_t i = 0; i < N_PARTS; i++)
		n_new += parts[i].arg != NULL;
	if (img->n_sections + n_new > PE_MAX_SECTIONS) {
		errorf("%s: too many sections", stub_path);
		goto out;
	}
	/* New section headers go right after the existing ones, inside the headers. */
	for (uint16_t i = 0; i < img->n_sections; i++)
		if (img->sections[i].raw_size && img->sections[i].raw_offset < first_raw)
			first_raw = img->sections[i].raw_offset;
	headers_end = pe_section_table_end(img) + n_new * PE_SECTION_HEADER_SIZE;
	if (headers_end > img->size_of_headers || headers_end > first_raw) {
		errorf("%s: no room for %u more section headers (headers end at 0x%x, SizeOfHeaders is 0x%x); "
		       "rebuild the stub with a larger --file-alignment",
		       stub_path, n_new, pe_section_table_end(img), img->size_of_headers);
		goto out;
	}

	/* Plan: VAs after the last section, raw data after the kept file bytes. */
	last = &img->sections[img->n_sections - 1];
	if (align_up_u32(last->virtual_address + pe_section_loaded_size(last), img->section_alignment, &va) < 0 ||
	    kept > UINT32_MAX || align_up_u32((uint32_t)kept, img->file_alignment, &raw) < 0) {
		errorf("%s: image too large", stub_path);
		goto out;
	}
	out_len = raw;
	{
		uint32_t v = va;

		for (size_t i = 0; i < N_PARTS; i++) {
			uint32_t raw_size, vsize_aligned;

			if (!parts[i].arg)
				continue;
			if (align_up_u32((uint32_t)parts[i].size, img->file_alignment, &raw_size) < 0 ||
			    align_up_u32((uint32_t)parts[i].size, img->section_alignment, &vsize_aligned) < 0 ||
			    (uint64_t)v + vsize_aligned > UINT32_MAX) {
				errorf("--%s %s: too large for a PE image", parts[i].option, parts[i].arg);
				goto out;
			}
			v += vsize_aligned;
			out_len += raw_size;
		}
		if (out_len > SIZE_MAX || out_len > UINT32_MAX) {
			errorf("the UKI would exceed 4 GiB");
			goto out;
		}
	}

	out = calloc(1, (size_t)out_len);
	if (!out) {
		errorf("out of memory for a %llu-byte UKI", (unsigned long long)out_len);
		goto out;
	}
	memcpy(out, stub, kept);
	/* No certificate table (sign the UKI afterwards), not even an empty entry pointing somewhere. */
	if (img->cert_table_size || img->cert_table_offset) {
		uint8_t *dir = out + img->data_dir_offset + PE_DATA_DIR_CERTIFICATE * 8;

		le32_write(dir, 0);
		le32_write(dir + 4, 0);
	}
	le32_write(out + img->pe_offset + 4 + PE_COFF_POINTER_TO_SYMBOL_TABLE, 0);
	le32_write(out + img->pe_offset + 4 + PE_COFF_NUMBER_OF_SYMBOLS, 0);

	init_data = le32_read(out + img->opt_offset + PE_OPT_SIZE_OF_INITIALIZED_DATA);
	{
		uint32_t hdr = pe_section_table_end(img);

		for (size_t i = 0; i < N_PARTS; i++) {
			uint8_t *h = out + hdr;
			uint32_t raw_size, vsize_aligned;

			if (!parts[i].arg)
				continue;
			(void)align_up_u32((uint32_t)parts[i].size, img->file_alignment, &raw_size);
			(void)align_up_u32((uint32_t)parts[i].size, img->section_alignment, &vsize_aligned);
			memset(h, 0, PE_SECTION_HEADER_SIZE);
			memcpy(h, parts[i].section, strlen(parts[i].section));
			le32_write(h + 8, (uint32_t)parts[i].size); /* VirtualSize: the real size */
			le32_write(h + 12, va);
			le32_write(h + 16, raw_size);
			le32_write(h + 20, raw);
			le32_write(h + 36, PE_SCN_CNT_INITIALIZED_DATA | PE_SCN_MEM_READ);
			memcpy(out + raw, parts[i].data, parts[i].size);
			init_data += raw_size;
			va += vsize_aligned;
			raw += raw_size;
			hdr += PE_SECTION_HEADER_SIZE;
		}
	}
	le16_write(out + img->pe_offset + 4 + PE_COFF_NUMBER_OF_SECTIONS, (uint16_t)(img->n_sections + n_new));
	le32_write(out + img->opt_offset + PE_OPT_SIZE_OF_IMAGE, va);
	le32_write(out + img->opt_offset + PE_OPT_SIZE_OF_INITIALIZED_DATA, init_data);

	/* Re-parse what we made: the output must satisfy our own validator. */
	r = pe_parse(out, (size_t)out_len, PE_LAYOUT_FILE, img);
	if (r != MS_OK) {
		errorf("internal error: the assembled UKI does not parse (%s)", ms_strerror(r));
		goto out;
	}
	pe_update_checksum(out, (size_t)out_len, img);
	*ret_buf = out;
	*ret_len = (size_t)out_len;
	out = NULL;
	ret = 0;
out:
	free(out);
	free(img);
	return ret;
}

static char *default_stub_path(void)
{
	char self[4096], *slash, *path = NULL;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		return NULL;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	if (asprintf(&path, "%s/sysext-stub-x64.efi", self) < 0)
		return NULL;
	if (access(path, R_OK) != 0) {
		free(path);
		return NULL;
	}
	return path;
}

int cmd_build(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "stub", required_argument, NULL, 's' },
		{ "output", required_argument, NULL, 'o' },
		{ "os-release", required_argument, NULL, 0 },
		{ "cmdline", required_argument, NULL, 0 },
		{ "uname", required_argument, NULL, 0 },
		{ "pcrpkey", required_argument, NULL, 0 },
		{ "initrd", required_argument, NULL, 0 },
		{ "linux", required_argument, NULL, 0 },
		{ "pcrsig", required_argument, NULL, 0 },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct build_part parts[N_PARTS];
	const char *output = NULL;
	char *stub_path = NULL;
	uint8_t *stub = NULL, *uki = NULL;
	size_t stub_len = 0, uki_len = 0;
	int c, idx, ret = 1;

	build_parts_init(parts);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, &idx)) != -1) {
		switch (c) {
		case 's':
			free(stub_path);
			stub_path = strdup(optarg);
			break;
		case 'o':
			output = optarg;
			break;
		case 'h':
			usage(stdout);
			ret = 0;
			goto out;
		case 0:
			for (size_t i = 0; i < N_PARTS; i++)
				if (strcmp(longopts[idx].name, parts[i].option) == 0)
					parts[i].arg = optarg;
			break;
		default:
			usage(stderr);
			goto out;
		}
	}
	if (optind < argc) {
		errorf("build: unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (!output || !parts[PART_LINUX].arg) {
		errorf("build: --linux and --output are required (see sysext-stub build --help)");
		goto out;
	}
	if (!stub_path)
		stub_path = default_stub_path();
	if (!stub_path) {
		errorf("build: --stub is required (no sysext-stub-x64.efi next to this program)");
		goto out;
	}

	if (read_file(stub_path, STUB_SIZE_MAX, &stub, &stub_len) < 0)
		goto out;
	for (size_t i = 0; i < N_PARTS; i++)
		if (parts[i].arg && (load_part(&parts[i]) < 0 || check_part_content(&parts[i]) < 0))
			goto out;
	if (check_kernel(&parts[PART_LINUX]) < 0)
		goto out;
	if (build_assemble(stub_path, stub, stub_len, parts, &uki, &uki_len) < 0)
		goto out;
	if (write_file_atomic(output, uki, uki_len, 0644) < 0)
		goto out;
	ret = 0;
out:
	for (size_t i = 0; i < N_PARTS; i++)
		free(parts[i].data);
	free(uki);
	free(stub);
	free(stub_path);
	return ret;
}
