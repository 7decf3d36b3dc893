/* SPDX-License-Identifier: MIT */
/*
 * predict.c - `sysext-stub predict`: the PCR values a boot will produce,
 * computed offline from the same measure/ code the stub runs, and
 * `sysext-stub cpio`: the exact archive bytes the stub appends.
 *
 * What is predicted (docs/MEASUREMENTS.md has the rules):
 *   PCR 11  UKI sections, canonical order, + boot phases (systemd-measure)
 *   PCR 12  a passed-in command line (only when the UKI has no .cmdline)
 *   PCR 13  the sysexts: per file (sysext-stub) or per archive (systemd)
 *   PCR 9   what the Linux EFI stub measures: load options, then the initrd
 */
#include "predict.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "prediction.h"
#include "predict-uki.h"
#include "signature-archives.h"
#include "sysext-set.h"
#include "util.h"
#include "measure/cmdline.h"
#include "measure/extdir.h"
#include "measure/initrd.h"
#include "measure/pe.h"
#include "measure/sysext-archive.h"
#include "measure/uki.h"

#define UKI_SIZE_MAX ((uint64_t)4 << 30)
#define SYSTEMD_DEFAULT_VERSION 252 /* Debian 12's systemd-stub */
#define TAG_LINUX_INITRD 0x8F3B22ECu
#define TAG_LINUX_LOAD_OPTIONS 0x8F3B22EDu

static const char *const default_phases[] = {
	"enter-initrd",
	"enter-initrd:leave-initrd",
	"enter-initrd:leave-initrd:sysinit",
	"enter-initrd:leave-initrd:sysinit:ready",
};

/* A loaded UKI: its bytes and parsed headers. */
struct uki {
	uint8_t *buf;
	size_t len;
	struct pe_image img;
};

/* The --help text of each input option, in the order predict lists them; opt 0: a heading. */
static const struct input_help {
	int opt;
	const char *text;
} input_help[] = {
	{ 0, "Inputs:\n" },
	{ PREDICT_OPT_UKI, "  --uki FILE             the UKI: PCR 11 sections, .cmdline, .initrd (PCR 9)\n" },
	{ PREDICT_OPT_EXTRA_DIR, "  --extra-dir DIR        the UKI's <uki>.extra.d directory (per-UKI sysexts)\n" },
	{ PREDICT_OPT_ESP_PATH,
	  "  --esp-path PATH        where the UKI is on the ESP, e.g. \\EFI\\Linux\\uki.efi: decides which\n"
	  "                         long per-UKI names the firmware opens (default: only those no path opens\n"
	  "                         are skipped)\n" },
	{ PREDICT_OPT_GLOBAL_DIR, "  --global-dir DIR       the ESP's \\loader\\extensions directory\n" },
	{ PREDICT_OPT_SYSEXT, "  --sysext FILE          one per-UKI sysext (repeatable)\n" },
	{ PREDICT_OPT_GLOBAL_SYSEXT, "  --global-sysext FILE   one global sysext (repeatable)\n" },
	{ PREDICT_OPT_MANIFEST, "  --manifest FILE        per-UKI sysexts as sha256sum output, no images needed (repeatable)\n" },
	{ PREDICT_OPT_GLOBAL_MANIFEST, "  --global-manifest FILE the same for global sysexts\n" },
	{ PREDICT_OPT_CMDLINE,
	  "  --cmdline STR          command line passed to the UKI (PCR 12; ignored if the UKI has .cmdline)\n" },
	{ PREDICT_OPT_PROFILE,
	  "  --profile N|all        the UKI profile booted (\"@N\"; default 0), or every profile it has\n" },
	{ PREDICT_OPT_CMDLINE_EXTRA,
	  "  --kernel-cmdline-extra WORDS  what a VM host passes in SMBIOS (io.systemd.stub.kernel-cmdline-extra=)\n" },
	{ 0, "How the boot measures:\n" },
	{ PREDICT_OPT_BANK, "  --bank NAME            sha1, sha256, sha384, sha512 (repeatable; default: all)\n" },
	{ PREDICT_OPT_PHASE,
	  "  --phase PHASE          PCR 11 boot phase, e.g. enter-initrd (repeatable; default: as systemd-measure)\n" },
	{ PREDICT_OPT_SCHEME,
	  "  --scheme NAME          sysext-stub (default) or systemd (systemd-stub's archive measurement)\n" },
	{ PREDICT_OPT_SYSTEMD_VERSION,
	  "  --systemd-version N    systemd release whose section list / pickup rules to use\n"
	  "                         (default: 258 list for sysext-stub, 252 for --scheme=systemd)\n" },
	{ PREDICT_OPT_SECURE_BOOT, "  --secure-boot          (systemd scheme) Secure Boot on: .cmdline cannot be overridden\n" },
	{ PREDICT_OPT_INITIAL, "  --initial HEX          PCR 13 start value (its length selects the bank; repeatable)\n" },
	{ PREDICT_OPT_OS_SEPARATOR, "  --os-separator         add the extend systemd >= 261 makes into PCR 13 in the initrd\n" },
	{ PREDICT_OPT_VERBOSE, "  --verbose              report skipped directory entries\n" },
	{ PREDICT_OPT_THREADS, "  --threads N            hash with N threads (default: one per CPU)\n" },
};

#define N_INPUT_HELP (sizeof(input_help) / sizeof(input_help[0]))

void predict_input_usage(FILE *f)
{
	for (size_t i = 0; i < N_INPUT_HELP; i++)
		fputs(input_help[i].text, f);
}

/* The help of the input options @opts (no headings), in that order. */
static void input_usage_of(FILE *f, const int *opts, size_t n)
{
	for (size_t k = 0; k < n; k++)
		for (size_t i = 0; i < N_INPUT_HELP; i++)
			if (input_help[i].opt == opts[k])
				fputs(input_help[i].text, f);
}

/*
 * The inputs `cpio` takes: what decides which files are packed and how
 * (not the PCR, bank, phase or command-line options, which only change
 * what is measured, nor manifests, which have no bytes to pack).
 */
static const int cpio_files[] = { PREDICT_OPT_EXTRA_DIR, PREDICT_OPT_ESP_PATH, PREDICT_OPT_GLOBAL_DIR,
				  PREDICT_OPT_SYSEXT, PREDICT_OPT_GLOBAL_SYSEXT };
static const int cpio_rules[] = { PREDICT_OPT_PROFILE, PREDICT_OPT_SCHEME, PREDICT_OPT_SYSTEMD_VERSION, PREDICT_OPT_VERBOSE,
				  PREDICT_OPT_THREADS };

static void cpio_usage(FILE *f)
{
	fputs("Usage: sysext-stub cpio --output FILE [options]\n"
	      "Write the archives the stub appends to the UKI's .initrd, byte for byte (docs/MEASUREMENTS.md).\n\n"
	      "Inputs (at least one directory or file):\n"
	      "  --uki FILE             the UKI: adds its signature (.pcrsig, merged) and public-key archives\n",
	      f);
	input_usage_of(f, cpio_files, sizeof(cpio_files) / sizeof(cpio_files[0]));
	fputs("How the stub picks:\n", f);
	input_usage_of(f, cpio_rules, sizeof(cpio_rules) / sizeof(cpio_rules[0]));
	fputs("Output:\n"
	      "  -o, --output FILE      where to write the archives (atomically; required)\n"
	      "  -h, --help             this text\n",
	      f);
}

static void usage(FILE *f)
{
	fputs("Usage: sysext-stub predict [options]\n"
	      "Predict PCR values before booting (docs/MEASUREMENTS.md).\n\n",
	      f);
	predict_input_usage(f);
	fputs("What to predict:\n"
	      "  --pcr N                9, 11, 12 or 13 (repeatable; default: all the inputs allow)\n"
	      "Output:\n"
	      "  --json                 systemd-measure-style JSON with every event\n",
	      f);
}

size_t predict_default_phases(const char *const **ret)
{
	*ret = default_phases;
	return sizeof(default_phases) / sizeof(default_phases[0]);
}

static int push(const char ***list, size_t *n, const char *v)
{
	const char **grown = realloc(*list, (*n + 1) * sizeof(**list));

	if (!grown)
		return errorf("out of memory");
	grown[(*n)++] = v;
	*list = grown;
	return 0;
}

static int parse_number(const char *s, const char *what, unsigned max, unsigned *ret)
{
	if (parse_uint(s, max, ret) < 0)
		return errorf("%s: invalid value '%s'", what, s);
	return 0;
}

int predict_input_option(struct predict_options *o, int c, const char *arg)
{
	int r = 0;

	switch (c) {
	case PREDICT_OPT_UKI: o->uki = arg; break;
	case PREDICT_OPT_ESP_PATH: o->esp_path = arg; break;
	case PREDICT_OPT_EXTRA_DIR: o->extra_dir = arg; break;
	case PREDICT_OPT_GLOBAL_DIR: o->global_dir = arg; break;
	case PREDICT_OPT_SYSEXT: return push(&o->sysexts, &o->n_sysexts, arg);
	case PREDICT_OPT_GLOBAL_SYSEXT: return push(&o->global_sysexts, &o->n_global_sysexts, arg);
	case PREDICT_OPT_MANIFEST: return push(&o->manifests, &o->n_manifests, arg);
	case PREDICT_OPT_GLOBAL_MANIFEST: return push(&o->global_manifests, &o->n_global_manifests, arg);
	case PREDICT_OPT_CMDLINE: o->cmdline = arg; break;
	case PREDICT_OPT_BANK: {
		const struct bank *b = bank_by_name(arg);

		if (!b)
			return errorf("--bank: unknown bank '%s' (sha1, sha256, sha384, sha512)", arg);
		o->banks |= 1u << bank_index(b);
		break;
	}
	case PREDICT_OPT_PHASE:
		if (o->n_phases >= PRED_MAX_PHASES)
			return errorf("--phase: at most %d", PRED_MAX_PHASES);
		o->phases[o->n_phases++] = arg;
		o->phases_given = true;
		break;
	case PREDICT_OPT_SCHEME:
		if (strcmp(arg, "sysext-stub") == 0)
			o->scheme = PREDICT_SCHEME_SYSEXT_STUB;
		else if (strcmp(arg, "systemd") == 0)
			o->scheme = PREDICT_SCHEME_SYSTEMD;
		else
			return errorf("--scheme: unknown scheme '%s' (sysext-stub, systemd)", arg);
		break;
	case PREDICT_OPT_SYSTEMD_VERSION:
		r = parse_number(arg, "--systemd-version", 9999, &o->systemd_version);
		if (r == 0 && o->systemd_version < 252)
			r = errorf("--systemd-version: %u is older than 252 (no PCR 11/13 measurements)",
				   o->systemd_version);
		break;
	case PREDICT_OPT_SECURE_BOOT: o->secure_boot = true; break;
	case PREDICT_OPT_INITIAL:
		if (o->n_initial >= BANK_COUNT)
			return errorf("--initial: at most one per bank");
		o->initial[o->n_initial++] = arg;
		break;
	case PREDICT_OPT_OS_SEPARATOR: o->os_separator = true; break;
	case PREDICT_OPT_VERBOSE: o->verbose = true; break;
	case PREDICT_OPT_THREADS: r = parse_number(arg, "--threads", 64, &o->threads); break;
	case PREDICT_OPT_PROFILE: {
		uint16_t at[UKI_PROFILE_TEXT_MAX + 2] = { '@' }, rest[UKI_PROFILE_TEXT_MAX + 2];
		size_t n = strlen(arg);

		o->profile_given = true;
		o->all_profiles = strcmp(arg, "all") == 0;
		if (o->all_profiles)
			break;
		/* The stub's own rule: what "@N" would select. */
		for (size_t i = 0; i < n && i < UKI_PROFILE_TEXT_MAX; i++)
			at[i + 1] = (uint8_t)arg[i];
		if (n == 0 || n >= UKI_PROFILE_TEXT_MAX ||
		    cmdline_from_load_options(at, (n + 2) * sizeof(uint16_t), &o->profile, rest, n + 2) != MS_ERR_NOT_FOUND ||
		    (o->profile == 0 && strspn(arg, "0") != n))
			return errorf("--profile: '%s' is not a profile number (0..4294967295) or 'all'", arg);
		break;
	}
	case PREDICT_OPT_CMDLINE_EXTRA: o->cmdline_extra = arg; break;
	default: return errorf("internal error: option %d is not an input", c);
	}
	return r;
}

void predict_options_free(struct predict_options *o)
{
	free(o->sysexts);
	free(o->global_sysexts);
	free(o->manifests);
	free(o->global_manifests);
	o->sysexts = o->global_sysexts = o->manifests = o->global_manifests = NULL;
	o->n_sysexts = o->n_global_sysexts = o->n_manifests = o->n_global_manifests = 0;
}

static int parse_args(int argc, char **argv, struct predict_options *o, bool cpio_mode)
{
	enum { OPT_PCR = PREDICT_OPT_END, OPT_JSON, OPT_OUTPUT };
	static const struct option inputs[] = { PREDICT_INPUT_LONGOPTS };
	static const struct option predict_longopts[] = {
		PREDICT_INPUT_LONGOPTS,
		{ "pcr", required_argument, NULL, OPT_PCR },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	/* cpio: --uki, its files and rules, --output, --help; the rest stays zero (the end). */
	struct option cpio_longopts[1 + sizeof(cpio_files) / sizeof(int) + sizeof(cpio_rules) / sizeof(int) + 3] = {
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ "help", no_argument, NULL, 'h' },
	};
	size_t n = 2;
	int c, r = 0;
	unsigned v;

	for (size_t i = 0; cpio_mode && i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		bool take = inputs[i].val == PREDICT_OPT_UKI;

		for (size_t k = 0; k < sizeof(cpio_files) / sizeof(int); k++)
			take |= inputs[i].val == cpio_files[k];
		for (size_t k = 0; k < sizeof(cpio_rules) / sizeof(int); k++)
			take |= inputs[i].val == cpio_rules[k];
		if (take)
			cpio_longopts[n++] = inputs[i];
	}
	while (r == 0 && (c = getopt_long(argc, argv, cpio_mode ? "ho:" : "h",
					  cpio_mode ? cpio_longopts : predict_longopts, NULL)) != -1) {
		switch (c) {
		case OPT_PCR:
			r = parse_number(optarg, "--pcr", 23, &v);
			if (r == 0 && v != 9 && v != 11 && v != 12 && v != 13)
				r = errorf("--pcr: %u is not predicted (9, 11, 12, 13)", v);
			if (r == 0)
				o->pcrs |= 1u << v;
			break;
		case OPT_JSON: o->json = true; break;
		case 'o':
		case OPT_OUTPUT:
			o->output = optarg;
			break;
		case 'h':
			(cpio_mode ? cpio_usage : usage)(stdout);
			return 1;
		default:
			if (c >= PREDICT_OPT_UKI && c < PREDICT_OPT_END) {
				r = predict_input_option(o, c, optarg);
				break;
			}
			return errorf("try 'sysext-stub %s --help'", cpio_mode ? "cpio" : "predict");
		}
	}
	if (r == 0 && optind < argc)
		r = errorf("unexpected argument '%s'", argv[optind]);
	return r;
}

/* ---------------------------------------------------------------- UKI */

static int load_uki(const char *path, struct uki *u)
{
	ms_status m;

	if (read_file(path, UKI_SIZE_MAX, &u->buf, &u->len) < 0)
		return -1;
	m = pe_parse(u->buf, u->len, PE_LAYOUT_FILE, &u->img);
	if (m != MS_OK)
		return errorf("%s: not a valid PE image: %s", path, ms_strerror(m));
	if (!pe_find_section(&u->img, ".linux"))
		return errorf("%s: not a UKI: no .linux section", path);
	return 0;
}

static int feed_zeros(struct multi_digest *md, uint64_t n)
{
	static const uint8_t zeros[4096];

	while (n > 0) {
		size_t k = n < sizeof(zeros) ? (size_t)n : sizeof(zeros);

		if (multi_digest_update(md, zeros, k) < 0)
			return -1;
		n -= k;
	}
	return 0;
}

/* Hash the bytes of @s as the stub uses and measures them (uki_section_bytes), straight from the file. */
static int feed_section(struct multi_digest *md, const struct uki *u, const struct pe_section *s)
{
	size_t offset, present;
	uint32_t size;

	uki_section_bytes(&u->img, s, &offset, &present, &size);
	if (multi_digest_update(md, u->buf + offset, present) < 0)
		return -1;
	return feed_zeros(md, size - present);
}

static int predict_sections(struct prediction *p, const struct uki *u, const char *path, enum uki_order order,
			    uint32_t profile)
{
	struct uki_measured_section list[UKI_MAX_MEASURED];
	size_t n = uki_measured_sections(&u->img, order, profile, list);

	for (size_t i = 0; i < n; i++) {
		uint8_t d[BANK_COUNT][DIGEST_MAX] = { { 0 } };
		struct multi_digest md;

		if (prediction_add_data(p, PCR_KERNEL_IMAGE, PRED_EV_IPL, list[i].name, path, list[i].name,
					strlen(list[i].name) + 1) < 0 ||
		    multi_digest_init(&md, p->banks) < 0)
			return -1;
		if (feed_section(&md, u, list[i].section) < 0) {
			multi_digest_free(&md);
			return -1;
		}
		if (multi_digest_final(&md, d) < 0 ||
		    prediction_add_digests(p, PCR_KERNEL_IMAGE, PRED_EV_IPL, list[i].name, path, d) < 0)
			return -1;
	}
	return 0;
}

/*
 * PCR 9's initrd event: the pieces in the stub's slot order (measure/initrd.h),
 * laid out as it serves them (measure/initrd.c), hashed piece by piece
 * without building the concatenation. @arch holds the generated archives by
 * slot; the embedded .initrd comes from the UKI.
 */
static int predict_initrd(struct prediction *p, const struct uki *u, const char *path, uint32_t profile,
			  uint8_t *const arch[INITRD_SLOTS], const uint64_t arch_size[INITRD_SLOTS])
{
	/* The slots the UKI's own sections fill: .ucode first, then .initrd (the profile's). */
	const struct pe_section *sec[INITRD_SLOTS] = {
		[INITRD_SLOT_UCODE] = uki_section(&u->img, profile, ".ucode"),
		[INITRD_SLOT_EMBEDDED] = uki_section(&u->img, profile, ".initrd"),
	};
	uint64_t sizes[INITRD_SLOTS], offsets[INITRD_SLOTS], total, pos = 0;
	uint8_t d[BANK_COUNT][DIGEST_MAX] = { { 0 } };
	struct multi_digest md;

	for (size_t i = 0; i < INITRD_SLOTS; i++)
		sizes[i] = sec[i] ? sec[i]->virtual_size : arch_size[i];
	if (initrd_layout(sizes, INITRD_SLOTS, offsets, &total) != MS_OK)
		return errorf("the initrd is too large");
	if (total == 0)
		return 0;
	if (multi_digest_init(&md, p->banks) < 0)
		return -1;
	for (size_t i = 0; i < INITRD_SLOTS; i++) {
		int r;

		if (sizes[i] == 0)
			continue;
		r = feed_zeros(&md, offsets[i] - pos);
		if (r == 0)
			r = sec[i] ? feed_section(&md, u, sec[i]) : multi_digest_update(&md, arch[i], sizes[i]);
		if (r < 0) {
			multi_digest_free(&md);
			return -1;
		}
		pos = offsets[i] + sizes[i];
	}
	if (feed_zeros(&md, total - pos) < 0) {
		multi_digest_free(&md);
		return -1;
	}
	if (multi_digest_final(&md, d) < 0)
		return -1;
	return prediction_add_digests(p, PCR_LINUX_INITRD, PRED_EV_EVENT_TAG, "Linux initrd", path, d);
}

/* ---------------------------------------------------------------- command line */

/*
 * The command line the kernel gets, as UTF-16 with NUL; *ret_passed_in: from --cmdline.
 * Like the stub (stub.c choose_cmdline), the buffer is sized from the source: no length limit.
 */
static int effective_cmdline(const struct predict_options *o, const struct uki *u, uint16_t **ret, bool *ret_passed_in)
{
	const struct pe_section *s = u && u->buf ? uki_section(&u->img, o->profile, ".cmdline") : NULL;
	bool section_wins = s != NULL;
	uint16_t *out = NULL;
	ms_status m = MS_ERR_NOT_FOUND;

	*ret = NULL;
	*ret_passed_in = false;
	if (o->scheme == PREDICT_SCHEME_SYSTEMD && !o->secure_boot && o->cmdline)
		section_wins = false; /* systemd-stub lets LoadOptions override .cmdline without Secure Boot */
	if (o->cmdline && section_wins)
		warnf("--cmdline is ignored: the UKI has a .cmdline, which the stub always uses");
	if (section_wins) {
		size_t offset, present;
		uint32_t size;

		/*
		 * Only the bytes the file holds: the loader's zero fill past
		 * them ends the command line anyway, and sizing by VirtualSize
		 * would let a tiny hostile UKI ask for gigabytes here.
		 */
		uki_section_bytes(&u->img, s, &offset, &present, &size);
		out = calloc(present + 1, sizeof(uint16_t));
		if (!out)
			return errorf("out of memory");
		m = cmdline_from_section(u->buf + offset, present, out, present + 1);
	} else if (o->cmdline) {
		/* Exactly what the stub does with LoadOptions holding this string. */
		size_t n = strlen(o->cmdline);
		uint16_t *opts = calloc(n + 1, sizeof(uint16_t));
		uint32_t profile;

		out = calloc(n + 1, sizeof(uint16_t));
		if (!opts || !out) {
			free(opts);
			free(out);
			return errorf("out of memory");
		}
		for (size_t i = 0; i < n; i++)
			opts[i] = (uint8_t)o->cmdline[i];
		m = cmdline_from_load_options(opts, (n + 1) * sizeof(uint16_t), &profile, out, n + 1);
		free(opts);
		if (profile != 0) {
			free(out);
			return errorf("--cmdline: a leading '@%u' selects a UKI profile; give --profile %u and the rest",
				      profile, profile);
		}
		if (m == MS_ERR_INVALID)
			warnf("--cmdline: not printable ASCII; the stub would ignore it");
		*ret_passed_in = m == MS_OK;
	}
	if (m != MS_OK) {
		free(out);
		return 0;
	}
	*ret = out;
	return 0;
}

static char *utf16_to_ascii(const uint16_t *s)
{
	size_t n = cmdline_len16(s);
	char *a = malloc(n + 1);

	if (!a)
		return NULL;
	for (size_t i = 0; i < n; i++)
		a[i] = s[i] < 0x80 ? (char)s[i] : '?';
	a[n] = 0;
	return a;
}

/* ---------------------------------------------------------------- sysexts */

static enum ext_rule rule_for(const struct predict_options *o)
{
	if (o->scheme == PREDICT_SCHEME_SYSEXT_STUB)
		return EXT_RULE_SYSEXT_STUB;
	return o->systemd_version >= 256 ? EXT_RULE_SYSTEMD_256 : EXT_RULE_SYSTEMD_252;
}

/*
 * The per-UKI directory's path length on the ESP, derived from --esp-path
 * as the stub derives it from its own path (measure/extdir.c); without
 * --esp-path the shortest there is, so that only names no UKI path lets
 * the firmware open are skipped.
 */
static int per_uki_dir_len(const struct predict_options *o, size_t *ret)
{
	uint16_t in[EXTDIR_IMAGE_PATH_MAX], out[EXTDIR_IMAGE_PATH_MAX];
	size_t n, len = 0;

	*ret = EXTDIR_MIN_LEN;
	if (!o->esp_path)
		return 0;
	n = strlen(o->esp_path);
	if (n >= EXTDIR_IMAGE_PATH_MAX)
		return errorf("--esp-path: longer than %d characters", EXTDIR_IMAGE_PATH_MAX - 1);
	for (size_t i = 0; i < n; i++) {
		if ((uint8_t)o->esp_path[i] >= 0x80)
			return errorf("--esp-path '%s': only ASCII paths are supported", o->esp_path);
		in[i] = (uint8_t)o->esp_path[i];
	}
	if (extdir_from_image_path(in, n, out, EXTDIR_IMAGE_PATH_MAX) != MS_OK)
		return errorf("--esp-path '%s': not the path of a file", o->esp_path);
	while (out[len])
		len++;
	*ret = len;
	return 0;
}

static int collect_set(const struct predict_options *o, struct sysext_set *s, const char *prefix, size_t dir_len,
		       const char *dir, const char *const *files, size_t n_files, const char *const *manifests,
		       size_t n_manifests)
{
	sysext_set_init(s, prefix, rule_for(o), o->scheme == PREDICT_SCHEME_SYSEXT_STUB, dir_len);
	if (dir && sysext_set_add_dir(s, dir, o->verbose) < 0)
		return -1;
	for (size_t i = 0; i < n_files; i++)
		if (sysext_set_add_file(s, files[i]) < 0)
			return -1;
	for (size_t i = 0; i < n_manifests; i++)
		if (sysext_set_add_manifest(s, manifests[i]) < 0)
			return -1;
	return sysext_set_finish(s);
}

/* Our scheme: per file, the path with NUL, then the content. */
static int predict_sysexts_per_file(struct prediction *p, const struct sysext_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct sysext_file *f = &s->files[i];
		char path[CPIO_PATH_MAX + 1];
		ms_status m = sysext_archive_path(s->prefix, f->name, path, sizeof(path));

		if (m != MS_OK)
			return errorf("%s: %s", f->name, ms_strerror(m));
		if (prediction_add_data(p, PCR_SYSEXTS, PRED_EV_IPL, path, f->path, path, strlen(path) + 1) < 0 ||
		    prediction_add_digests(p, PCR_SYSEXTS, PRED_EV_IPL, path, f->path, f->digest) < 0)
			return -1;
	}
	return 0;
}

/* One PCR 12 EV_IPL event over @cmdline, UTF-16 with its NUL, described by it. */
static int predict_cmdline_event(struct prediction *p, const uint16_t *cmdline)
{
	char *desc = utf16_to_ascii(cmdline);
	int r = desc ? prediction_add_data(p, PCR_KERNEL_PARAMETERS, PRED_EV_IPL, desc, NULL, cmdline,
					   (cmdline_len16(cmdline) + 1) * sizeof(uint16_t))
		     : errorf("out of memory");

	free(desc);
	return r;
}

/* The profile asked for must be one the stub would boot (it refuses the others). */
static int check_profile(const struct predict_options *o, const struct uki *u, enum uki_order order)
{
	if (o->profile == 0)
		return 0;
	if (o->scheme == PREDICT_SCHEME_SYSTEMD && order < UKI_ORDER_SYSTEMD_257)
		return errorf("--profile: systemd-stub %u knows no profiles (v257+)", o->systemd_version);
	if (u && uki_profile_check(&u->img, o->profile) != MS_OK)
		return errorf("%s: has no profile %u (it has %u); the stub refuses to boot \"@%u\"", o->uki, o->profile,
			      uki_profile_count(&u->img), o->profile);
	return 0;
}

int predict_profiles(const struct predict_options *o, uint32_t **ret, size_t *ret_n)
{
	struct uki u = { 0 };
	uint32_t n = 1;

	*ret = NULL;
	*ret_n = 0;
	if (o->all_profiles) {
		if (!o->uki)
			return errorf("--profile all needs --uki");
		if (load_uki(o->uki, &u) < 0)
			return -1;
		n = uki_profile_count(&u.img);
		n = n ? n : 1;
		free(u.buf);
	}
	*ret = calloc(n, sizeof(**ret));
	if (!*ret)
		return errorf("out of memory");
	for (uint32_t i = 0; i < n; i++)
		(*ret)[i] = o->all_profiles ? i : o->profile;
	*ret_n = n;
	return 0;
}

/* ---------------------------------------------------------------- main flow */

static int set_initial(struct prediction *p, const struct predict_options *o)
{
	for (size_t i = 0; i < o->n_initial; i++) {
		const struct bank *b = NULL;

		for (size_t k = 0; k < BANK_COUNT; k++)
			if (strlen(o->initial[i]) == 2 * banks[k].size)
				b = &banks[k];
		if (!b || hex_decode(o->initial[i], p->initial13[bank_index(b)], b->size) < 0)
			return errorf("--initial: '%s' is not 40, 64, 96 or 128 hex digits", o->initial[i]);
		p->has_initial[bank_index(b)] = true;
	}
	return 0;
}

/*
 * The whole flow: in cpio mode, write the archives to o->output; else fill
 * *ret with the prediction (emptied again on failure).
 */
static int compute(struct predict_options *o, bool cpio_mode, struct prediction *ret)
{
	struct uki u = { 0 };
	struct sysext_set per_uki = { 0 }, global = { 0 };
	struct prediction p = { 0 };
	/* The generated archives, by initrd slot (measure/initrd.h). */
	uint8_t *arch[INITRD_SLOTS] = { NULL };
	uint64_t arch_size[INITRD_SLOTS] = { 0 };
	struct signature_archives sa = { 0 };
	uint16_t *cmdline = NULL;
	bool passed_in = false, have_sysext_input, want_archives, global_read;
	enum uki_order order = UKI_ORDER_DEFAULT;
	size_t extra_dir_len;
	int r = -1;

	if (o->systemd_version == 0)
		o->systemd_version = o->scheme == PREDICT_SCHEME_SYSTEMD ? SYSTEMD_DEFAULT_VERSION : uki_order_version(UKI_ORDER_DEFAULT);
	(void)uki_order_for_version(o->systemd_version, &order);
	global_read = o->scheme == PREDICT_SCHEME_SYSEXT_STUB || o->systemd_version >= 258;
	have_sysext_input = o->extra_dir || o->global_dir || o->n_sysexts || o->n_global_sysexts || o->n_manifests ||
			    o->n_global_manifests;
	if (o->banks == 0)
		o->banks = (1u << BANK_COUNT) - 1;
	p.banks = o->banks;

	if (o->uki && load_uki(o->uki, &u) < 0)
		goto out;
	if (check_profile(o, o->uki ? &u : NULL, order) < 0)
		goto out;
	if (per_uki_dir_len(o, &extra_dir_len) < 0 ||
	    collect_set(o, &per_uki, SYSEXT_PREFIX, extra_dir_len, o->extra_dir, o->sysexts, o->n_sysexts,
			o->manifests, o->n_manifests) < 0)
		goto out;
	if (collect_set(o, &global, SYSEXT_GLOBAL_PREFIX, EXTDIR_GLOBAL_LEN, global_read ? o->global_dir : NULL,
			global_read ? o->global_sysexts : NULL, global_read ? o->n_global_sysexts : 0,
			global_read ? o->global_manifests : NULL, global_read ? o->n_global_manifests : 0) < 0)
		goto out;

	if (cpio_mode) {
		if (!o->output) {
			errorf("cpio: --output FILE is required");
			goto out;
		}
		if (!have_sysext_input) {
			errorf("cpio: give --extra-dir, --global-dir, --sysext or --global-sysext");
			goto out;
		}
		o->pcrs = 0;
	} else if (o->pcrs == 0) {
		/* Default: whatever the inputs allow. */
		if (o->uki)
			o->pcrs |= 1u << PCR_KERNEL_IMAGE;
		if (have_sysext_input || o->uki)
			o->pcrs |= 1u << PCR_SYSEXTS;
		if (o->cmdline || o->profile != 0 || o->cmdline_extra)
			o->pcrs |= 1u << PCR_KERNEL_PARAMETERS;
		if (o->uki && o->scheme == PREDICT_SCHEME_SYSEXT_STUB && sysext_set_has_bytes(&per_uki) &&
		    sysext_set_has_bytes(&global))
			o->pcrs |= 1u << PCR_LINUX_INITRD;
	}
	p.pcrs = o->pcrs;
	p.has_profile = o->profile_given;
	p.profile = o->profile;
	if ((o->pcrs & (1u << PCR_KERNEL_IMAGE)) && !o->uki) {
		errorf("PCR 11 needs --uki");
		goto out;
	}
	if (o->pcrs & (1u << PCR_LINUX_INITRD)) {
		if (!o->uki) {
			errorf("PCR 9 needs --uki (its .initrd and command line)");
			goto out;
		}
		if (o->scheme != PREDICT_SCHEME_SYSEXT_STUB) {
			errorf("PCR 9 is predicted for sysext-stub only");
			goto out;
		}
	}

	/* Only now: a command that fails on its options should print its one error, no warning before it. */
	if (!global_read && (o->global_dir || o->n_global_sysexts || o->n_global_manifests))
		warnf("systemd-stub %u does not read \\loader\\extensions (v258+): global sysexts ignored",
		      o->systemd_version);
	/* Which banks every sysext can give a digest in (manifests may cover only some). */
	for (size_t b = 0; b < BANK_COUNT; b++)
		if ((p.banks & (1u << b)) && (!sysext_set_can_digest(&per_uki, b) || !sysext_set_can_digest(&global, b))) {
			warnf("no %s digest for every sysext (manifest): %s not predicted", banks[b].name, banks[b].name);
			p.banks &= ~(1u << b);
		}
	if (p.banks == 0) {
		errorf("no bank can be predicted with these inputs");
		goto out;
	}

	want_archives = cpio_mode || (o->pcrs & (1u << PCR_LINUX_INITRD)) ||
			(o->scheme == PREDICT_SCHEME_SYSTEMD && (o->pcrs & (1u << PCR_SYSEXTS)));
	if (want_archives && !(sysext_set_has_bytes(&per_uki) && sysext_set_has_bytes(&global))) {
		errorf("a manifest has digests only: the archives (cpio, PCR 9, --scheme=systemd) need the files");
		goto out;
	}
	if (sysext_set_read(&per_uki, p.banks, o->threads, want_archives ? &arch[INITRD_SLOT_SYSEXT] : NULL,
			    &arch_size[INITRD_SLOT_SYSEXT]) < 0 ||
	    sysext_set_read(&global, p.banks, o->threads, want_archives ? &arch[INITRD_SLOT_GLOBAL_SYSEXT] : NULL,
			    &arch_size[INITRD_SLOT_GLOBAL_SYSEXT]) < 0)
		goto out;

	/*
	 * With a UKI, the signature and public-key archives follow (stub/signatures.c);
	 * systemd-stub passes .pcrsig on as it is and reads no signature files.
	 */
	if (want_archives && o->uki) {
		bool ours = o->scheme == PREDICT_SCHEME_SYSEXT_STUB;
		struct pe_image *view = malloc(sizeof(*view));

		/* The profile's .pcrsig and .pcrpkey, as the stub takes them (measure/uki.h). */
		if (view)
			predict_signature_view(&u.img, o->profile, view);
		r = view ? signature_archives_build(u.buf, view, ours ? o->extra_dir : NULL, extra_dir_len,
						    ours && global_read ? o->global_dir : NULL, &sa)
			 : errorf("out of memory");
		free(view);
		if (r < 0 || predict_profile_archive(u.buf, &u.img, o->profile, &arch[INITRD_SLOT_PROFILE],
						     &arch_size[INITRD_SLOT_PROFILE]) < 0)
			goto out;
		r = -1;
		arch[INITRD_SLOT_PCRSIG] = sa.signature;
		arch_size[INITRD_SLOT_PCRSIG] = sa.signature_size;
		arch[INITRD_SLOT_PCRPKEY] = sa.public_key;
		arch_size[INITRD_SLOT_PCRPKEY] = sa.public_key_size;
	}

	if (cpio_mode) {
		/* The bytes the stub appends after .initrd, in its order (each archive a multiple of 4). */
		uint64_t total = 0, pos = 0;
		uint8_t *all;

		for (size_t i = 0; i < INITRD_SLOTS; i++)
			total += arch_size[i];
		if (!(all = malloc(total + 1))) {
			errorf("out of memory");
			goto out;
		}
		for (size_t i = 0; i < INITRD_SLOTS; i++) {
			if (arch_size[i])
				memcpy(all + pos, arch[i], arch_size[i]);
			pos += arch_size[i];
		}
		r = write_file_atomic(o->output, all, total, 0644);
		free(all);
		if (r == 0 && total == 0)
			warnf("no sysext picked: %s is empty, and the stub appends nothing", o->output);
		goto out;
	}

	/* PCR 11 */
	if ((o->pcrs & (1u << PCR_KERNEL_IMAGE)) && predict_sections(&p, &u, o->uki, order, o->profile) < 0)
		goto out;
	if (o->pcrs & (1u << PCR_KERNEL_IMAGE)) {
		size_t n = o->phases_given ? o->n_phases : sizeof(default_phases) / sizeof(default_phases[0]);

		for (size_t i = 0; i < n; i++)
			if (prediction_add_phase(&p, o->phases_given ? o->phases[i] : default_phases[i]) < 0)
				goto out;
	}

	/* PCR 12: the profile (systemd-stub 257+), a passed-in command line, SMBIOS words (254+), in that order */
	if ((o->pcrs & (1u << PCR_KERNEL_PARAMETERS)) && o->profile != 0 && predict_profile_event(&p, o->profile) < 0)
		goto out;
	if (effective_cmdline(o, o->uki ? &u : NULL, &cmdline, &passed_in) < 0)
		goto out;
	if ((o->pcrs & (1u << PCR_KERNEL_PARAMETERS)) && cmdline && passed_in && predict_cmdline_event(&p, cmdline) < 0)
		goto out;
	if (o->cmdline_extra && !(o->scheme == PREDICT_SCHEME_SYSTEMD && o->systemd_version < 254)) {
		uint16_t *words = NULL;

		r = predict_cmdline_words(o->cmdline_extra, &words);
		if (r == 0 && words && (o->pcrs & (1u << PCR_KERNEL_PARAMETERS)))
			r = predict_cmdline_event(&p, words);
		if (r == 0 && words)
			r = predict_cmdline_append(&cmdline, words);
		free(words);
		if (r < 0)
			goto out;
		r = -1;
	}

	/* PCR 13 */
	if (o->pcrs & (1u << PCR_SYSEXTS)) {
		if (set_initial(&p, o) < 0)
			goto out;
		if (o->scheme == PREDICT_SCHEME_SYSEXT_STUB) {
			if (predict_sysexts_per_file(&p, &per_uki) < 0 || predict_sysexts_per_file(&p, &global) < 0)
				goto out;
		} else {
			static const struct {
				enum initrd_slot slot;
				const char *desc;
			} measured[] = { { INITRD_SLOT_SYSEXT, "System extension initrd" },
					 { INITRD_SLOT_GLOBAL_SYSEXT, "Global system extension initrd" } };

			for (size_t i = 0; i < 2; i++)
				if (arch_size[measured[i].slot] &&
				    prediction_add_data(&p, PCR_SYSEXTS, PRED_EV_IPL, measured[i].desc, NULL,
							arch[measured[i].slot], arch_size[measured[i].slot]) < 0)
					goto out;
		}
		if (o->os_separator &&
		    prediction_add_data(&p, PCR_SYSEXTS, PRED_USERSPACE, "os-separator", NULL, "os-separator", 12) < 0)
			goto out;
	}

	/* PCR 9: what the Linux EFI stub measures. */
	if (o->pcrs & (1u << PCR_LINUX_INITRD)) {
		if (cmdline && prediction_add_data(&p, PCR_LINUX_INITRD, PRED_EV_EVENT_TAG, "LOADED_IMAGE::LoadOptions",
						   NULL, cmdline, (cmdline_len16(cmdline) + 1) * sizeof(uint16_t)) < 0)
			goto out;
		if (predict_initrd(&p, &u, o->uki, o->profile, arch, arch_size) < 0)
			goto out;
	}

	*ret = p;
	memset(&p, 0, sizeof(p)); /* now owned by *ret */
	r = 0;
out:
	free(cmdline);
	free(arch[INITRD_SLOT_SYSEXT]);
	free(arch[INITRD_SLOT_GLOBAL_SYSEXT]);
	free(arch[INITRD_SLOT_PROFILE]);
	signature_archives_free(&sa);
	free(u.buf);
	sysext_set_free(&per_uki);
	sysext_set_free(&global);
	prediction_free(&p);
	return r;
}

int predict_compute(struct predict_options *o, struct prediction *ret)
{
	memset(ret, 0, sizeof(*ret));
	return compute(o, false, ret);
}

/* One prediction per profile asked for (--profile all: every one), printed as one document. */
static int predict_all(struct predict_options *o)
{
	struct prediction *ps = NULL;
	uint32_t *profiles = NULL;
	size_t n = 0, done = 0;
	int r = predict_profiles(o, &profiles, &n);

	if (r == 0 && !(ps = calloc(n, sizeof(*ps))))
		r = errorf("out of memory");
	for (; r == 0 && done < n; done++) {
		o->profile = profiles[done];
		r = compute(o, false, &ps[done]);
	}
	if (r == 0) {
		if (o->json)
			prediction_print_json_many(ps, n, stdout);
		else
			prediction_print_table_many(ps, n, stdout);
		r = fflush(stdout) == 0 ? 0 : errorf("cannot write the output: %s", strerror(errno));
	}
	for (size_t i = 0; ps && i < done; i++)
		prediction_free(&ps[i]);
	free(ps);
	free(profiles);
	return r;
}

static int main_common(int argc, char **argv, bool cpio_mode)
{
	struct predict_options o = { 0 };
	struct prediction p = { 0 };
	int r = parse_args(argc, argv, &o, cpio_mode);

	if (r == 0 && cpio_mode && o.all_profiles)
		r = errorf("cpio: --profile all is for predictions; give one profile");
	if (r == 0 && cpio_mode)
		r = compute(&o, true, &p);
	else if (r == 0)
		r = predict_all(&o);
	prediction_free(&p);
	predict_options_free(&o);
	return r == 1 ? 0 : r < 0 ? 1 : 0;
}

int cmd_predict(int argc, char **argv)
{
	return main_common(argc, argv, false);
}

int cmd_cpio(int argc, char **argv)
{
	return main_common(argc, argv, true);
}
