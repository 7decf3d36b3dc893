/* SPDX-License-Identifier: MIT */
/*
 * build.c - `sysext-stub build`: assemble a UKI from a stub and its parts,
 * the way ukify does: the stub's sections stay as they are, each part is
 * appended as a new initialised, read-only data section after the last one,
 * VirtualAddress aligned to SectionAlignment, raw data to FileAlignment,
 * VirtualSize = the part's real size. Headers (section count, SizeOfImage,
 * SizeOfInitializedData, CheckSum) are updated. An Authenticode signature on
 * the stub is dropped (sign the UKI afterwards). With --addon it assembles
 * an addon the same way, around the addon stub, from the parts
 * measure/addon.h uses, and checks the result by that same rule.
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

#include "measure/addon.h"
#include "measure/bmp.h"
#include "measure/endian.h"
#include "measure/json.h"
#include "measure/pcrsig.h"
#include "measure/pe.h"
#include "build-join.h"
#include "build-sbat.h"
#include "pcrsig-file.h"
#include "pe-edit.h"
#include "pem.h"
#include "util.h"

/* A section's size lives in 32-bit PE fields. */
#define PART_SIZE_MAX ((uint64_t)UINT32_MAX)
#define STUB_SIZE_MAX ((uint64_t)64 << 20)

/* Append order: small metadata first, the kernel after the initrd (the order of the sections does not
 * change what is measured: PCR 11 takes them in systemd's canonical order). */
static const struct build_part parts_template[BUILD_N_PARTS] = {
	{ "os-release", ".osrel", 1, NULL, NULL, 0 },
	{ "cmdline", ".cmdline", 1, NULL, NULL, 0 },
	{ "uname", ".uname", 1, NULL, NULL, 0 },
	{ "pcrpkey", ".pcrpkey", 0, NULL, NULL, 0 },
	{ "initrd", ".initrd", 0, NULL, NULL, 0 },
	{ "linux", ".linux", 0, NULL, NULL, 0 },
	{ "pcrsig", ".pcrsig", 0, NULL, NULL, 0 },
	{ "devicetree", ".dtb", 0, NULL, NULL, 0 },
	{ "hwids", ".hwids", 0, NULL, NULL, 0 },
	{ "splash", ".splash", 0, NULL, NULL, 0 },
	{ "ucode", ".ucode", 0, NULL, NULL, 0 },
};
#define PART_LINUX 5 /* index of .linux in parts_template */
#define PART_PCRSIG 6

/* An addon's, in ukify's order: what measure/addon.h uses, and the .uname it is checked by. */
static const struct build_part addon_parts_template[BUILD_N_ADDON_PARTS] = {
	{ "cmdline", ".cmdline", 1, NULL, NULL, 0 },
	{ "dtb", ".dtb", 0, NULL, NULL, 0 },
	{ "uname", ".uname", 1, NULL, NULL, 0 },
	{ "initrd", ".initrd", 0, NULL, NULL, 0 },
	{ "ucode", ".ucode", 0, NULL, NULL, 0 },
};
/* Room for either kind. */
#define N_PARTS_MAX (BUILD_N_PARTS > BUILD_N_ADDON_PARTS ? BUILD_N_PARTS : BUILD_N_ADDON_PARTS)

void build_parts_init(struct build_part parts[BUILD_N_PARTS])
{
	memcpy(parts, parts_template, sizeof(parts_template));
}

void build_addon_parts_init(struct build_part parts[BUILD_N_ADDON_PARTS])
{
	memcpy(parts, addon_parts_template, sizeof(addon_parts_template));
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: sysext-stub build --linux FILE --output FILE [options]\n"
		"       sysext-stub build --profile TEXT|@FILE [section options] --output FILE   (a profile PE)\n"
		"       sysext-stub build --addon --output FILE [addon options]\n"
		"Assemble a Unified Kernel Image around the stub, a profile PE, or a UKI addon.\n\n"
		"  --stub FILE         EFI stub (default: sysext-stub-x64.efi next to this program;\n"
		"                      with --addon sysext-addon-x64.efi.stub, or systemd's addonx64.efi.stub)\n"
		"  --linux FILE        kernel image (PE/EFI, e.g. /boot/vmlinuz-*)  -> .linux\n"
		"  --initrd FILE       initrd                                        -> .initrd\n"
		"  --ucode FILE        CPU microcode (an uncompressed cpio)          -> .ucode\n"
		"  --cmdline TEXT|@FILE   kernel command line                        -> .cmdline\n"
		"  --os-release TEXT|@FILE  os-release contents                      -> .osrel\n"
		"  --uname TEXT|@FILE  kernel version string                         -> .uname\n"
		"  --splash FILE       BMP image shown before the kernel starts      -> .splash\n"
		"  --devicetree FILE   device tree blob                              -> .dtb\n"
		"  --hwids FILE        hardware-ID table (as ukify builds it)        -> .hwids\n"
		"  --pcrpkey FILE      PEM public key for signed PCR policies        -> .pcrpkey\n"
		"  --pcrsig FILE       PCR signature JSON                            -> .pcrsig\n"
		"  --sbat TEXT|@FILE   SBAT entries, merged with the stub's and the kernel's into the stub's .sbat\n"
		"  --profile TEXT|@FILE   this UKI's (first) profile                 -> .profile\n"
		"  --join-profile FILE a profile PE: its sections become one more profile (repeatable)\n"
		"  --output FILE       the UKI to write (written atomically)\n\n"
		"Addon options (--addon; at least one of the first four):\n"
		"  --cmdline TEXT|@FILE   appended to the UKI's command line         -> .cmdline\n"
		"  --initrd FILE       an initrd appended to the UKI's                -> .initrd\n"
		"  --ucode FILE        a microcode initrd, put before the UKI's       -> .ucode\n"
		"  --dtb FILE          a devicetree                                   -> .dtb\n"
		"  --uname TEXT|@FILE  the only UKI kernel version it applies to      -> .uname\n");
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
	} else if (strcmp(p->section, ".splash") == 0) {
		struct bmp_image img;
		ms_status r = bmp_parse(p->data, p->size, &img);

		if (r != MS_OK)
			return errorf("--splash %s: not a BMP image the stub can draw (%s)", p->arg, ms_strerror(r));
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

static int check_stub(const char *path, const struct pe_image *img, const struct build_part *parts, size_t n_parts)
{
	if (img->subsystem != PE_SUBSYSTEM_EFI_APPLICATION)
		return errorf("%s: not an EFI application (PE subsystem %u)", path, img->subsystem);
	for (size_t i = 0; i < n_parts && !(parts[i].arg && strcmp(parts[i].section, ".profile") == 0); i++)
		if (parts[i].arg && pe_find_section(img, parts[i].section))
			return errorf("%s: already has a %s section (is it a UKI rather than a stub?)", path,
				      parts[i].section);
	return 0;
}

/* The stub's .sbat gets @sbat's data in place, as ukify does: only within the section's raw data. */
static int replace_sbat(const char *path, const struct pe_image *img, uint8_t *out, const struct build_part *sbat)
{
	const struct pe_section *s = pe_find_section(img, ".sbat");

	if (!s)
		return errorf("%s: has no .sbat section for --sbat", path);
	if (sbat->size > s->raw_size || (s + 1 < img->sections + img->n_sections &&
					  (uint64_t)s->virtual_address + sbat->size > s[1].virtual_address))
		return errorf("--sbat: %zu bytes do not fit the stub's .sbat (%u bytes)", sbat->size, s->raw_size);
	memset(out + s->raw_offset, 0, s->raw_size);
	memcpy(out + s->raw_offset, sbat->data, sbat->size);
	le32_write(out + s->header_offset + 8, (uint32_t)sbat->size);
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
		   size_t n_parts, const struct build_part *sbat, uint8_t **ret_buf, size_t *ret_len)
{
	struct pe_image *img = calloc(1, sizeof(*img));
	uint32_t n_new = 0, va, raw, headers_end, first_raw = UINT32_MAX, init_data, last_size;
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
	if (check_stub(stub_path, img, parts, n_parts) < 0 || stub_kept_size(stub_path, img, stub_len, &kept) < 0)
		goto out;
	if (img->n_sections == 0) {
		errorf("%s: has no sections", stub_path);
		goto out;
	}

	for (size_t i = 0; i < n_parts; i++)
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

	/* Plan: VAs after the last section (and its --sbat data), raw data after the kept file bytes. */
	last = &img->sections[img->n_sections - 1];
	last_size = pe_section_loaded_size(last);
	if (sbat && strcmp(last->name, ".sbat") == 0 && sbat->size > last_size)
		last_size = (uint32_t)sbat->size;
	if (align_up_u32(last->virtual_address + last_size, img->section_alignment, &va) < 0 ||
	    kept > UINT32_MAX || align_up_u32((uint32_t)kept, img->file_alignment, &raw) < 0) {
		errorf("%s: image too large", stub_path);
		goto out;
	}
	out_len = raw;
	{
		uint32_t v = va;

		for (size_t i = 0; i < n_parts; i++) {
			uint32_t raw_size, vsize_aligned;

			if (!parts[i].arg)
				continue;
			if (parts[i].size == 0 || parts[i].size > PART_SIZE_MAX ||
			    align_up_u32((uint32_t)parts[i].size, img->file_alignment, &raw_size) < 0 ||
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
	if (sbat && replace_sbat(stub_path, img, out, sbat) < 0)
		goto out;

	init_data = le32_read(out + img->opt_offset + PE_OPT_SIZE_OF_INITIALIZED_DATA);
	{
		uint32_t hdr = pe_section_table_end(img);

		for (size_t i = 0; i < n_parts; i++) {
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

static char *default_stub_path(const char *name)
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
	if (asprintf(&path, "%s/%s", self, name) < 0)
		return NULL;
	if (access(path, R_OK) != 0) {
		free(path);
		return NULL;
	}
	return path;
}

/* An addon must be one measure/addon.h uses: the same rule the stub applies. */
static int check_addon(const char *output, const char *stub_path, const uint8_t *buf, size_t len)
{
	struct pe_image *img = calloc(1, sizeof(*img));
	struct addon_info info;
	enum addon_verdict v;

	if (!img)
		return errorf("out of memory");
	v = addon_inspect(buf, len, PE_LAYOUT_FILE, img, &info);
	free(img);
	if (v != ADDON_USE)
		return errorf("%s: the addon built around %s would not be used: %s", output, stub_path,
			      addon_verdict_reason(v));
	return 0;
}

/* Put each option given into its part; one the kind has no part for is refused. */
static int assign_parts(const char *const given[], const struct option *longopts, int addon, struct build_part *parts,
			size_t n_parts)
{
	for (size_t o = 0; longopts[o].name; o++) {
		int found = 0;

		if (!given[o])
			continue;
		for (size_t i = 0; i < n_parts; i++)
			if (strcmp(longopts[o].name, parts[i].option) == 0) {
				parts[i].arg = given[o];
				found = 1;
			}
		if (!found)
			return errorf("build: --%s is not part of %s", longopts[o].name, addon ? "an addon" : "a UKI");
	}
	return 0;
}

static int any_given(const struct build_part *parts, size_t n_parts, const char *const sections[])
{
	for (size_t i = 0; i < n_parts; i++)
		for (size_t k = 0; sections[k]; k++)
			if (parts[i].arg && strcmp(parts[i].section, sections[k]) == 0)
				return 1;
	return 0;
}

/* Everything `build` was asked for: a UKI (or profile PE), or an addon. */
struct build_request {
	struct build_part parts[N_PARTS_MAX];
	size_t n_parts;
	int addon;
	struct build_part profile, sbat;
	const char **joins;
	size_t n_joins;
	const char *output;
	char *stub_path;
};

/* The parts of the kind asked for, each option given put into its part. */
static int choose_parts(struct build_request *q, const char *const given[], const struct option *longopts)
{
	static const char *const addon_content[] = { ".cmdline", ".dtb", ".initrd", ".ucode", NULL };

	if (q->addon) {
		q->n_parts = BUILD_N_ADDON_PARTS;
		build_addon_parts_init(q->parts);
		if (q->profile.arg || q->n_joins || q->sbat.arg)
			return errorf("build: --%s is not part of an addon",
				      q->profile.arg ? "profile" : q->n_joins ? "join-profile" : "sbat");
	}
	if (assign_parts(given, longopts, q->addon, q->parts, q->n_parts) < 0)
		return -1;
	if (q->addon && !q->output)
		return errorf("build: --output is required (see sysext-stub build --help)");
	if (q->addon && !any_given(q->parts, q->n_parts, addon_content))
		return errorf("build: an addon needs at least one of --cmdline, --dtb, --initrd, --ucode");
	return 0;
}

static int parse_args(int argc, char **argv, struct build_request *q)
{
	static const struct option longopts[] = {
		{ "os-release", required_argument, NULL, 0 },
		{ "cmdline", required_argument, NULL, 0 },
		{ "uname", required_argument, NULL, 0 },
		{ "pcrpkey", required_argument, NULL, 0 },
		{ "initrd", required_argument, NULL, 0 },
		{ "linux", required_argument, NULL, 0 },
		{ "pcrsig", required_argument, NULL, 0 },
		{ "devicetree", required_argument, NULL, 0 },
		{ "hwids", required_argument, NULL, 0 },
		{ "splash", required_argument, NULL, 0 },
		{ "ucode", required_argument, NULL, 0 },
		{ "dtb", required_argument, NULL, 0 },
		{ "stub", required_argument, NULL, 's' },
		{ "output", required_argument, NULL, 'o' },
		{ "addon", no_argument, NULL, 'a' },
		{ "profile", required_argument, NULL, 'p' },
		{ "join-profile", required_argument, NULL, 'j' },
		{ "sbat", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *given[sizeof(longopts) / sizeof(longopts[0])] = { NULL };
	const char **grown;
	int c, idx;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, &idx)) != -1) {
		switch (c) {
		case 's':
			free(q->stub_path);
			q->stub_path = strdup(optarg);
			if (!q->stub_path)
				return errorf("out of memory");
			break;
		case 'o':
			q->output = optarg;
			break;
		case 'p':
			q->profile.arg = optarg;
			break;
		case 'b':
			q->sbat.arg = optarg;
			break;
		case 'j':
			grown = realloc(q->joins, (q->n_joins + 1) * sizeof(*grown));
			if (!grown)
				return errorf("out of memory");
			q->joins = grown;
			q->joins[q->n_joins++] = optarg;
			break;
		case 'a':
			q->addon = 1;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case 0:
			given[idx] = optarg;
			break;
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc)
		return errorf("build: unexpected argument '%s'", argv[optind]);
	if (choose_parts(q, given, longopts) < 0)
		return -1;
	if (q->addon)
		return 0;
	if (!q->output || (!q->parts[PART_LINUX].arg && !q->profile.arg))
		return errorf("build: --output and --linux (or, for a profile PE, --profile) are required "
			      "(see sysext-stub build --help)");
	if (q->n_joins && !q->parts[PART_LINUX].arg)
		return errorf("build: --join-profile needs --linux (profiles join a UKI)");
	/* A UKI with profiles gets a base profile, as ukify gives it. */
	if (q->n_joins && !q->profile.arg)
		q->profile.arg = "ID=main";
	return 0;
}

/*
 * The sections to append, in order: without --join-profile, the .profile
 * first (a profile PE, or a UKI of one profile) and the parts; with it, the
 * parts (the base, shared by every profile), the base's .profile, then
 * each joined profile's sections.
 */
static int plan_sections(struct build_request *q, struct build_part **ret, size_t *ret_n)
{
	struct build_part *list = calloc(q->n_parts + 1, sizeof(*list)), *joined, *grown;
	size_t n = 0, n_joined;

	if (!list)
		return errorf("out of memory");
	if (q->profile.arg && !q->n_joins)
		list[n++] = q->profile;
	for (size_t i = 0; i < q->n_parts; i++)
		if (q->parts[i].arg)
			list[n++] = q->parts[i];
	if (q->profile.arg && q->n_joins)
		list[n++] = q->profile;
	for (size_t j = 0; j < q->n_joins; j++) {
		if (profile_pe_read(q->joins[j], &joined, &n_joined) < 0)
			goto fail;
		grown = realloc(list, (n + n_joined) * sizeof(*list));
		if (!grown) {
			for (size_t i = 0; i < n_joined; i++)
				free(joined[i].data);
			free(joined);
			errorf("out of memory");
			goto fail;
		}
		list = grown;
		memcpy(list + n, joined, n_joined * sizeof(*list));
		n += n_joined;
		free(joined);
	}
	*ret = list;
	*ret_n = n;
	return 0;
fail:
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i].option, "join-profile") == 0)
			free(list[i].data);
	free(list);
	return -1;
}

/* Load and check every part given on the command line, and merge --sbat. */
static int load_parts(struct build_request *q, const uint8_t *stub, size_t stub_len)
{
	/* An addon has no .linux (nor --sbat, refused by choose_parts()). */
	struct build_part *k = q->addon ? NULL : &q->parts[PART_LINUX];
	uint8_t *text;
	size_t text_len;
	int r;

	for (size_t i = 0; i < q->n_parts; i++)
		if (q->parts[i].arg && (load_part(&q->parts[i]) < 0 || check_part_content(&q->parts[i]) < 0))
			return -1;
	if (k && k->arg && check_kernel(k) < 0)
		return -1;
	if (q->profile.arg && load_part(&q->profile) < 0)
		return -1;
	if (!q->sbat.arg)
		return 0;
	if (load_part(&q->sbat) < 0)
		return -1;
	text = q->sbat.data;
	text_len = q->sbat.size;
	r = sbat_merge(stub, stub_len, k->data, k->size, (const char *)text, text_len, &q->sbat.data, &q->sbat.size);
	free(text);
	if (r < 0)
		q->sbat.data = NULL;
	return r;
}

int cmd_build(int argc, char **argv)
{
	struct build_request q = {
		.profile = { "profile", ".profile", 1, NULL, NULL, 0 },
		.sbat = { "sbat", ".sbat", 1, NULL, NULL, 0 },
		.n_parts = BUILD_N_PARTS,
	};
	struct build_part *list = NULL;
	size_t n = 0;
	uint8_t *stub = NULL, *uki = NULL;
	size_t stub_len = 0, uki_len = 0;
	int r, ret = 1;

	build_parts_init(q.parts);
	r = parse_args(argc, argv, &q);
	if (r != 0) {
		ret = r > 0 ? 0 : 1;
		goto out;
	}
	if (!q.stub_path)
		q.stub_path = default_stub_path(q.addon ? "sysext-addon-x64.efi.stub" : "sysext-stub-x64.efi");
	if (!q.stub_path) {
		errorf("build: --stub is required (no %s next to this program)",
		       q.addon ? "sysext-addon-x64.efi.stub" : "sysext-stub-x64.efi");
		goto out;
	}
	if (read_file(q.stub_path, STUB_SIZE_MAX, &stub, &stub_len) < 0 || load_parts(&q, stub, stub_len) < 0 ||
	    plan_sections(&q, &list, &n) < 0)
		goto out;
	if (build_assemble(q.stub_path, stub, stub_len, list, n, q.sbat.arg ? &q.sbat : NULL, &uki, &uki_len) < 0)
		goto out;
	if (q.addon && check_addon(q.output, q.stub_path, uki, uki_len) < 0)
		goto out;
	if (write_file_atomic(q.output, uki, uki_len, 0666) < 0)
		goto out;
	ret = 0;
out:
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i].option, "join-profile") == 0)
			free(list[i].data);
	free(list);
	for (size_t i = 0; i < q.n_parts; i++)
		free(q.parts[i].data);
	free(q.profile.data);
	free(q.sbat.data);
	free(q.joins);
	free(uki);
	free(stub);
	free(q.stub_path);
	return ret;
}
