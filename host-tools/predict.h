/* SPDX-License-Identifier: MIT */
/*
 * predict.h - `sysext-stub predict` and `sysext-stub cpio`: what the TPM
 * will hold, before any boot; and the same prediction as an API, for
 * commands that build on it (`sysext-stub sign`).
 */
#ifndef HOST_TOOLS_PREDICT_H
#define HOST_TOOLS_PREDICT_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "prediction.h"

int cmd_predict(int argc, char **argv);
int cmd_cpio(int argc, char **argv);

enum predict_scheme { PREDICT_SCHEME_SYSEXT_STUB, PREDICT_SCHEME_SYSTEMD };

/* Everything a prediction is computed from (the command-line inputs). */
struct predict_options {
	const char *uki;
	const char *esp_path; /* the UKI's path on the ESP (its .extra.d decides which long names open), or NULL */
	const char *extra_dir, *global_dir;
	const char **sysexts, **global_sysexts, **manifests, **global_manifests; /* malloc'ed arrays */
	size_t n_sysexts, n_global_sysexts, n_manifests, n_global_manifests;
	const char *cmdline;
	unsigned banks, pcrs; /* bit masks; 0 = the defaults (all banks; every PCR the inputs allow) */
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
	{ "profile", required_argument, NULL, PREDICT_OPT_PROFILE },                   \
	{ "kernel-cmdline-extra", required_argument, NULL, PREDICT_OPT_CMDLINE_EXTRA }

/* Apply input option @c (a PREDICT_OPT_*) with @arg. Returns 0, or -1 with the error printed. */
int predict_input_option(struct predict_options *o, int c, const char *arg);

/* The --help lines for PREDICT_INPUT_LONGOPTS. */
void predict_input_usage(FILE *f);

/* The PCR 11 phases used when no --phase is given (systemd-measure's four). */
size_t predict_default_phases(const char *const **ret);

/*
 * Compute the prediction for @o (defaults filled in: banks, PCRs, systemd
 * version). @ret gets the events; prediction_value() gives the PCR values.
 * Banks the inputs cannot give (a manifest without that digest) are left
 * out of ret->banks with a warning. Returns 0, or -1 with the error
 * printed (and @ret empty).
 */
int predict_compute(struct predict_options *o, struct prediction *ret);

/*
 * The profiles @o asks for, of the UKI @o->uki: --profile all gives every
 * profile it has (0 for a UKI without any); otherwise o->profile alone.
 * *ret is malloc()ed. Returns 0, or -1 with the error printed.
 */
int predict_profiles(const struct predict_options *o, uint32_t **ret, size_t *ret_n);

/* Free what predict_input_option() allocated. */
void predict_options_free(struct predict_options *o);

#endif
