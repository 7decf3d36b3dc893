/* SPDX-License-Identifier: MIT */
/*
 * predict-options.h - the inputs of a prediction as command-line options
 * (--uki, --extra-dir, ..., --bank, --phase, --scheme), shared by the
 * commands that predict: `predict`, `cpio` and `sign`.
 */
#ifndef HOST_TOOLS_PREDICT_OPTIONS_H
#define HOST_TOOLS_PREDICT_OPTIONS_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "prediction.h"
#include "measure/selection.h"

enum predict_scheme { PREDICT_SCHEME_SYSEXT_STUB, PREDICT_SCHEME_SYSTEMD };

/* One file given on its own (--sysext, --global-cred, ...): what it must be, and where the stub would find it. */
struct predict_file {
	const char *path;
	enum ext_kind kind;
	enum sel_dir_role role;
};

/* Everything a prediction is computed from (the command-line inputs). */
struct predict_options {
	const char *uki;
	const char *esp;      /* the ESP's root on the host: --uki and every directory below it by default */
	const char *esp_path; /* the UKI's path on the ESP (its .extra.d decides which long names open), or NULL */
	const char *extra_dir, *global_dir, *global_cred_dir, *global_addon_dir;
	struct predict_file *files; /* malloc'ed */
	size_t n_files;
	const char **manifests, **global_manifests; /* malloc'ed arrays */
	size_t n_manifests, n_global_manifests;
	const char *cmdline;
	unsigned banks, pcrs; /* bit masks; 0 = the defaults (all banks; every PCR the inputs allow) */
	unsigned pcrs_never;  /* PCRs the defaults leave out (pcrlock: 9, which systemd-pcrlock locks itself) */
	const char *phases[PRED_MAX_PHASES];
	size_t n_phases;
	bool phases_given;
	enum predict_scheme scheme;
	unsigned systemd_version; /* 0 = the scheme's default */
	const char *initial[BANK_COUNT];
	size_t n_initial;
	bool os_separator, json, verbose, secure_boot;
	uint32_t profile;          /* the UKI profile booted (@N) */
	bool all_profiles;         /* --profile all: every profile the UKI has */
	bool profile_given;        /* --profile was given: predictions say which profile */
	const char *cmdline_extra; /* words a VM host passes in SMBIOS (io.systemd.stub.kernel-cmdline-extra=) */
	unsigned threads;
	const char *output; /* cpio */
	char *owned[8];     /* paths --esp resolved, freed with the options */
	size_t n_owned;
};

/*
 * The long options that describe the inputs (--uki, --extra-dir, ...,
 * --bank, --phase, --scheme, --initial, --os-separator, ...), for a
 * getopt_long() table: `{ PREDICT_INPUT_LONGOPTS, { "pcrs", ... }, ... }`.
 * Their values are PREDICT_OPT_*; a command's own options use values from
 * PREDICT_OPT_END on.
 */
enum {
	PREDICT_OPT_UKI = 1000,
	PREDICT_OPT_EXTRA_DIR,
	PREDICT_OPT_GLOBAL_DIR,
	PREDICT_OPT_SYSEXT,
	PREDICT_OPT_GLOBAL_SYSEXT,
	PREDICT_OPT_MANIFEST,
	PREDICT_OPT_GLOBAL_MANIFEST,
	PREDICT_OPT_CMDLINE,
	PREDICT_OPT_BANK,
	PREDICT_OPT_PHASE,
	PREDICT_OPT_SCHEME,
	PREDICT_OPT_SYSTEMD_VERSION,
	PREDICT_OPT_SECURE_BOOT,
	PREDICT_OPT_INITIAL,
	PREDICT_OPT_OS_SEPARATOR,
	PREDICT_OPT_VERBOSE,
	PREDICT_OPT_THREADS,
	PREDICT_OPT_ESP_PATH,
	PREDICT_OPT_ESP,
	PREDICT_OPT_GLOBAL_CRED_DIR,
	PREDICT_OPT_GLOBAL_ADDON_DIR,
	PREDICT_OPT_CONFEXT,
	PREDICT_OPT_GLOBAL_CONFEXT,
	PREDICT_OPT_CRED,
	PREDICT_OPT_GLOBAL_CRED,
	PREDICT_OPT_ADDON,
	PREDICT_OPT_GLOBAL_ADDON,
	PREDICT_OPT_PROFILE,
	PREDICT_OPT_CMDLINE_EXTRA,
	PREDICT_OPT_END,
};

#define PREDICT_INPUT_LONGOPTS                                                         \
	{ "uki", required_argument, NULL, PREDICT_OPT_UKI },                           \
	{ "extra-dir", required_argument, NULL, PREDICT_OPT_EXTRA_DIR },               \
	{ "global-dir", required_argument, NULL, PREDICT_OPT_GLOBAL_DIR },             \
	{ "sysext", required_argument, NULL, PREDICT_OPT_SYSEXT },                     \
	{ "global-sysext", required_argument, NULL, PREDICT_OPT_GLOBAL_SYSEXT },       \
	{ "manifest", required_argument, NULL, PREDICT_OPT_MANIFEST },                 \
	{ "global-manifest", required_argument, NULL, PREDICT_OPT_GLOBAL_MANIFEST },   \
	{ "cmdline", required_argument, NULL, PREDICT_OPT_CMDLINE },                   \
	{ "bank", required_argument, NULL, PREDICT_OPT_BANK },                         \
	{ "phase", required_argument, NULL, PREDICT_OPT_PHASE },                       \
	{ "scheme", required_argument, NULL, PREDICT_OPT_SCHEME },                     \
	{ "systemd-version", required_argument, NULL, PREDICT_OPT_SYSTEMD_VERSION },   \
	{ "secure-boot", no_argument, NULL, PREDICT_OPT_SECURE_BOOT },                 \
	{ "initial", required_argument, NULL, PREDICT_OPT_INITIAL },                   \
	{ "os-separator", no_argument, NULL, PREDICT_OPT_OS_SEPARATOR },               \
	{ "verbose", no_argument, NULL, PREDICT_OPT_VERBOSE },                         \
	{ "threads", required_argument, NULL, PREDICT_OPT_THREADS },                   \
	{ "esp-path", required_argument, NULL, PREDICT_OPT_ESP_PATH },                 \
	{ "esp", required_argument, NULL, PREDICT_OPT_ESP },                           \
	{ "global-cred-dir", required_argument, NULL, PREDICT_OPT_GLOBAL_CRED_DIR },   \
	{ "global-addon-dir", required_argument, NULL, PREDICT_OPT_GLOBAL_ADDON_DIR }, \
	{ "confext", required_argument, NULL, PREDICT_OPT_CONFEXT },                   \
	{ "global-confext", required_argument, NULL, PREDICT_OPT_GLOBAL_CONFEXT },     \
	{ "cred", required_argument, NULL, PREDICT_OPT_CRED },                         \
	{ "global-cred", required_argument, NULL, PREDICT_OPT_GLOBAL_CRED },           \
	{ "addon", required_argument, NULL, PREDICT_OPT_ADDON },                       \
	{ "global-addon", required_argument, NULL, PREDICT_OPT_GLOBAL_ADDON },         \
	{ "profile", required_argument, NULL, PREDICT_OPT_PROFILE },                   \
	{ "kernel-cmdline-extra", required_argument, NULL, PREDICT_OPT_CMDLINE_EXTRA }

/* Apply input option @c (a PREDICT_OPT_*) with @arg. Returns 0, or -1 with the error printed. */
int predict_input_option(struct predict_options *o, int c, const char *arg);

/* The --help lines for PREDICT_INPUT_LONGOPTS. */
void predict_input_usage(FILE *f);

/* The --help lines of the input options @opts (no headings), in that order. */
void predict_input_usage_of(FILE *f, const int *opts, size_t n);

/* Free what predict_input_option() allocated. */
void predict_options_free(struct predict_options *o);

/*
 * The getopt_long() loop of a command that takes the input options
 * (@longopts holds PREDICT_INPUT_LONGOPTS and the command's own): each
 * input option goes to predict_input_option(), -h/--help prints @usage,
 * any other option of @longopts goes to @own (its value and argument,
 * returning 0 or -1 printed). An unknown option or a left-over argument is
 * an error naming @cmd. Returns 0, 1 when the help was shown, or -1.
 */
int predict_getopt(int argc, char **argv, const char *cmd, const char *shortopts, const struct option *longopts,
		   void (*usage)(FILE *f), struct predict_options *o,
		   int (*own)(struct predict_options *o, int c, const char *arg));

#endif
