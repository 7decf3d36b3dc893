/* SPDX-License-Identifier: MIT */
/*
 * validate.h - `sysext-stub validate`: would systemd-sysext (or -confext)
 * take this image? Each image is checked offline, without root, loop
 * devices or the kernel, in the order systemd would fail on it:
 *
 *   file -> name -> partition-table -> partitions -> image-policy ->
 *   verity-sig -> signature -> verity -> filesystem -> extension-release
 *
 * and gets one verdict: ok, refused (the first failed check, named), or
 * error (the input cannot be judged). The same checks run for `sign
 * --validate` and in the initrd (`sysext-stub admit`, admit.h).
 */
#ifndef HOST_TOOLS_VALIDATE_H
#define HOST_TOOLS_VALIDATE_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dissect.h"
#include "gpt.h"
#include "image-policy.h"
#include "os-release.h"
#include "problem.h"
#include "verity-sig.h"

struct prediction;

int cmd_validate(int argc, char **argv);

/* The options that say how to validate (shared by validate, sign --validate and pcrlock --validate). */
struct validate_options {
	bool enabled; /* sign/pcrlock: --validate given */
	const char **certs;
	size_t n_certs;
	const char *os_release; /* NULL: no host check; "auto": as systemd finds it; or a file */
	const char *image_policy; /* NULL: the class's strict policy */
	int cls;                  /* -1: from the file name */
	const char *scope;        /* NULL: initrd */
	const char *arch;         /* NULL: this machine's */
	const char *root;         /* NULL: "/" */
	unsigned threads;
};

enum {
	VALIDATE_OPT_VALIDATE = 1500,
	VALIDATE_OPT_CERT,
	VALIDATE_OPT_OS_RELEASE,
	VALIDATE_OPT_IMAGE_POLICY,
	VALIDATE_OPT_CLASS,
	VALIDATE_OPT_SCOPE,
	VALIDATE_OPT_ARCH,
	VALIDATE_OPT_ROOT,
	VALIDATE_OPT_END,
};

/* For a command's getopt_long() table: `{ VALIDATE_LONGOPTS, ... }`. */
#define VALIDATE_LONGOPTS                                                              \
	{ "validate", no_argument, NULL, VALIDATE_OPT_VALIDATE },                      \
	{ "cert", required_argument, NULL, VALIDATE_OPT_CERT },                        \
	{ "os-release", required_argument, NULL, VALIDATE_OPT_OS_RELEASE },            \
	{ "image-policy", required_argument, NULL, VALIDATE_OPT_IMAGE_POLICY },        \
	{ "class", required_argument, NULL, VALIDATE_OPT_CLASS },                      \
	{ "scope", required_argument, NULL, VALIDATE_OPT_SCOPE },                      \
	{ "architecture", required_argument, NULL, VALIDATE_OPT_ARCH },                \
	{ "root", required_argument, NULL, VALIDATE_OPT_ROOT }

/* Apply option @c (a VALIDATE_OPT_*). 0, or -1 with the error printed. */
int validate_option(struct validate_options *o, int c, const char *arg);

/* The --help lines of VALIDATE_LONGOPTS (@with_switch: include --validate itself). */
void validate_usage(FILE *f, bool with_switch);

void validate_options_free(struct validate_options *o);

/*
 * For sign/pcrlock --validate: validate every image file behind the PCR 13
 * events of @p. 0 all ok (or @o not enabled); 1 one is refused (each named
 * on stderr); 2 an error (a file cannot be judged, an event has no file
 * behind it, or validate options were given without --validate).
 */
int validate_prediction(const struct validate_options *o, const struct prediction *p);

/* ---------------------------------------------------------------- the checks, as an API */

enum verdict { VERDICT_OK, VERDICT_REFUSED, VERDICT_ERROR };

/* Everything validate learned about one image: the verdict and what it is based on. */
struct image_report {
	const char *path;
	enum verdict verdict;
	const char *check;       /* the failed check's name (NULL when ok) */
	struct problem problem;
	enum extension_class cls;
	char name[256];          /* the image name the release file must carry */
	struct gpt_table table;  /* n_parts 0 for a bare file system */
	bool dissected;
	struct dissection ds;
	char fstype[16];
	bool verity_checked;
	char root_hash[2 * VERITY_SIG_ROOT_MAX + 1];
	char algorithm[33];
	uint64_t verity_bytes;
	const char *signer;      /* the certificate file that verified (owned by the validator) */
	bool fingerprint_matches;
	char release_path[320];
	double seconds;
};

struct validator;

/* Load what the options name (certificates, host os-release, policy). NULL with the error printed. */
struct validator *validator_new(const struct validate_options *o);
void validator_free(struct validator *v);

/* Check @path as an image of class @cls (-1: from its name). Fills @r (free it with image_report_free()). */
void validate_image(struct validator *v, const char *path, int cls, struct image_report *r);
void image_report_free(struct image_report *r);

/* "PATH: ok (...)" / "PATH: refused: CHECK: reason" / "PATH: error: CHECK: reason", without newline. */
void image_report_line(const struct image_report *r, FILE *out);

#endif
