/* SPDX-License-Identifier: MIT */
#include "predict-options.h"

#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "util.h"
#include "measure/cmdline.h"
#include "measure/uki.h"

/* The --help text of each input option, in the order predict lists them; opt 0: a heading. */
static const struct input_help {
	int opt;
	const char *text;
} input_help[] = {
	{ 0, "Inputs:\n" },
	{ PREDICT_OPT_ESP,
	  "  --esp DIR              the ESP's root (with --esp-path): the UKI and every directory below it,\n"
	  "                         unless given on their own\n" },
	{ PREDICT_OPT_UKI, "  --uki FILE             the UKI: PCR 11 sections, .cmdline, .initrd (PCR 9)\n" },
	{ PREDICT_OPT_EXTRA_DIR,
	  "  --extra-dir DIR        the UKI's <uki>.extra.d directory (sysexts, confexts, credentials,\n"
	  "                         addons, signature files)\n" },
	{ PREDICT_OPT_ESP_PATH,
	  "  --esp-path PATH        where the UKI is on the ESP, e.g. \\EFI\\Linux\\uki.efi: decides which\n"
	  "                         long per-UKI names the firmware opens (default: only those no path opens\n"
	  "                         are skipped)\n" },
	{ PREDICT_OPT_GLOBAL_DIR,
	  "  --global-dir DIR       the ESP's \\loader\\extensions directory (sysexts, confexts, signatures)\n" },
	{ PREDICT_OPT_GLOBAL_CRED_DIR, "  --global-cred-dir DIR  the ESP's \\loader\\credentials directory\n" },
	{ PREDICT_OPT_GLOBAL_ADDON_DIR, "  --global-addon-dir DIR the ESP's \\loader\\addons directory\n" },
	{ PREDICT_OPT_SYSEXT, "  --sysext FILE          one per-UKI sysext (repeatable)\n" },
	{ PREDICT_OPT_GLOBAL_SYSEXT, "  --global-sysext FILE   one global sysext (repeatable)\n" },
	{ PREDICT_OPT_CONFEXT, "  --confext FILE         one per-UKI configuration extension (repeatable)\n" },
	{ PREDICT_OPT_GLOBAL_CONFEXT, "  --global-confext FILE  one global configuration extension (repeatable)\n" },
	{ PREDICT_OPT_CRED, "  --cred FILE            one per-UKI credential (repeatable)\n" },
	{ PREDICT_OPT_GLOBAL_CRED, "  --global-cred FILE     one credential of \\loader\\credentials (repeatable)\n" },
	{ PREDICT_OPT_ADDON, "  --addon FILE           one per-UKI addon (*.addon.efi; repeatable)\n" },
	{ PREDICT_OPT_GLOBAL_ADDON, "  --global-addon FILE    one addon of \\loader\\addons (repeatable)\n" },
	{ PREDICT_OPT_MANIFEST,
	  "  --manifest FILE        per-UKI sysexts, confexts and credentials as sha256sum output, no files\n"
	  "                         needed (repeatable; the suffix of each name says its kind)\n" },
	{ PREDICT_OPT_GLOBAL_MANIFEST,
	  "  --global-manifest FILE the same for \\loader\\extensions and \\loader\\credentials\n" },
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

void predict_input_usage_of(FILE *f, const int *opts, size_t n)
{
	for (size_t k = 0; k < n; k++)
		for (size_t i = 0; i < N_INPUT_HELP; i++)
			if (input_help[i].opt == opts[k])
				fputs(input_help[i].text, f);
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

static int push_file(struct predict_options *o, const char *path, enum ext_kind kind, enum sel_dir_role role)
{
	struct predict_file *grown = realloc(o->files, (o->n_files + 1) * sizeof(*o->files));

	if (!grown)
		return errorf("out of memory");
	grown[o->n_files++] = (struct predict_file){ path, kind, role };
	o->files = grown;
	return 0;
}

static int parse_number(const char *s, const char *what, unsigned max, unsigned *ret)
{
	if (parse_uint(s, max, ret) < 0)
		return errorf("%s: invalid value '%s'", what, s);
	return 0;
}

/* --profile N|all: N as the stub reads "@N" (measure/cmdline.h), so both accept the same numbers. */
static int parse_profile(struct predict_options *o, const char *arg)
{
	uint16_t at[UKI_PROFILE_TEXT_MAX + 2] = { '@' }, rest[UKI_PROFILE_TEXT_MAX + 2];
	size_t n = strlen(arg);

	o->profile_given = true;
	o->all_profiles = strcmp(arg, "all") == 0;
	if (o->all_profiles)
		return 0;
	for (size_t i = 0; i < n && i < UKI_PROFILE_TEXT_MAX; i++)
		at[i + 1] = (uint8_t)arg[i];
	if (n == 0 || n >= UKI_PROFILE_TEXT_MAX ||
	    cmdline_from_load_options(at, (n + 2) * sizeof(uint16_t), &o->profile, rest, n + 2) != MS_ERR_NOT_FOUND ||
	    (o->profile == 0 && strspn(arg, "0") != n))
		return errorf("--profile: '%s' is not a profile number (0..4294967295) or 'all'", arg);
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
	case PREDICT_OPT_ESP: o->esp = arg; break;
	case PREDICT_OPT_GLOBAL_CRED_DIR: o->global_cred_dir = arg; break;
	case PREDICT_OPT_GLOBAL_ADDON_DIR: o->global_addon_dir = arg; break;
	case PREDICT_OPT_SYSEXT: return push_file(o, arg, EXT_KIND_SYSEXT, SEL_DIR_PER_UKI);
	case PREDICT_OPT_GLOBAL_SYSEXT: return push_file(o, arg, EXT_KIND_SYSEXT, SEL_DIR_GLOBAL);
	case PREDICT_OPT_CONFEXT: return push_file(o, arg, EXT_KIND_CONFEXT, SEL_DIR_PER_UKI);
	case PREDICT_OPT_GLOBAL_CONFEXT: return push_file(o, arg, EXT_KIND_CONFEXT, SEL_DIR_GLOBAL);
	case PREDICT_OPT_CRED: return push_file(o, arg, EXT_KIND_CREDENTIAL, SEL_DIR_PER_UKI);
	case PREDICT_OPT_GLOBAL_CRED: return push_file(o, arg, EXT_KIND_CREDENTIAL, SEL_DIR_GLOBAL_CREDENTIALS);
	case PREDICT_OPT_ADDON: return push_file(o, arg, EXT_KIND_ADDON, SEL_DIR_PER_UKI);
	case PREDICT_OPT_GLOBAL_ADDON: return push_file(o, arg, EXT_KIND_ADDON, SEL_DIR_GLOBAL_ADDONS);
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
	case PREDICT_OPT_PROFILE: r = parse_profile(o, arg); break;
	case PREDICT_OPT_CMDLINE_EXTRA: o->cmdline_extra = arg; break;
	default: return errorf("internal error: option %d is not an input", c);
	}
	return r;
}

void predict_options_free(struct predict_options *o)
{
	for (size_t i = 0; i < o->n_owned; i++)
		free(o->owned[i]);
	o->n_owned = 0;
	free(o->files);
	free(o->manifests);
	free(o->global_manifests);
	o->files = NULL;
	o->manifests = o->global_manifests = NULL;
	o->n_files = o->n_manifests = o->n_global_manifests = 0;
}

int predict_getopt(int argc, char **argv, const char *cmd, const char *shortopts, const struct option *longopts,
		   void (*usage)(FILE *f), struct predict_options *o,
		   int (*own)(struct predict_options *o, int c, const char *arg))
{
	int c, r = 0;

	while (r == 0 && (c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 1;
		}
		if (c == '?' || c == ':')
			return errorf("try 'sysext-stub %s --help'", cmd);
		r = c >= PREDICT_OPT_UKI && c < PREDICT_OPT_END ? predict_input_option(o, c, optarg) : own(o, c, optarg);
	}
	if (r == 0 && optind < argc)
		r = errorf("unexpected argument '%s'", argv[optind]);
	return r;
}
