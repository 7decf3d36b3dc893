/* SPDX-License-Identifier: MIT */
/*
 * cpio.c - `sysext-stub cpio`: the archives the stub appends after the
 * UKI's .initrd, byte for byte, from the same inputs and steps as a
 * prediction (predict-inputs.h), written to one file.
 */
#include "cpio.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "predict-inputs.h"
#include "util.h"

/*
 * The inputs `cpio` takes: what decides which files are packed and how
 * (not the PCR, bank, phase or command-line options, which only change
 * what is measured, nor manifests, which have no bytes to pack).
 */
static const int cpio_files[] = { PREDICT_OPT_ESP, PREDICT_OPT_EXTRA_DIR, PREDICT_OPT_ESP_PATH,
				  PREDICT_OPT_GLOBAL_DIR, PREDICT_OPT_GLOBAL_CRED_DIR, PREDICT_OPT_SYSEXT,
				  PREDICT_OPT_GLOBAL_SYSEXT, PREDICT_OPT_CONFEXT, PREDICT_OPT_GLOBAL_CONFEXT,
				  PREDICT_OPT_CRED, PREDICT_OPT_GLOBAL_CRED };
static const int cpio_rules[] = { PREDICT_OPT_PROFILE, PREDICT_OPT_SCHEME, PREDICT_OPT_SYSTEMD_VERSION,
				  PREDICT_OPT_VERBOSE, PREDICT_OPT_THREADS };

static void usage(FILE *f)
{
	fputs("Usage: sysext-stub cpio --output FILE [options]\n"
	      "Write the archives the stub appends to the UKI's .initrd, byte for byte (docs/MEASUREMENTS.md).\n\n"
	      "Inputs (at least one directory or file):\n"
	      "  --uki FILE             the UKI: adds its literal archives (.pcrsig merged, .pcrpkey, .osrel,\n"
	      "                         the booted profile's .profile)\n",
	      f);
	predict_input_usage_of(f, cpio_files, sizeof(cpio_files) / sizeof(cpio_files[0]));
	fputs("How the stub picks:\n", f);
	predict_input_usage_of(f, cpio_rules, sizeof(cpio_rules) / sizeof(cpio_rules[0]));
	fputs("Output:\n"
	      "  -o, --output FILE      where to write the archives (atomically; required)\n"
	      "  -h, --help             this text\n",
	      f);
}

enum { OPT_OUTPUT = PREDICT_OPT_END };

/* -o, --output. */
static int own_option(struct predict_options *o, int c, const char *arg)
{
	(void)c;
	o->output = arg;
	return 0;
}

static int parse_args(int argc, char **argv, struct predict_options *o)
{
	static const struct option inputs[] = { PREDICT_INPUT_LONGOPTS };
	/* --uki, its files and rules, --output, --help; the rest stays zero (the end). */
	struct option longopts[1 + sizeof(cpio_files) / sizeof(int) + sizeof(cpio_rules) / sizeof(int) + 3] = {
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ "help", no_argument, NULL, 'h' },
	};
	size_t n = 2;

	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		bool take = inputs[i].val == PREDICT_OPT_UKI;

		for (size_t k = 0; k < sizeof(cpio_files) / sizeof(int); k++)
			take |= inputs[i].val == cpio_files[k];
		for (size_t k = 0; k < sizeof(cpio_rules) / sizeof(int); k++)
			take |= inputs[i].val == cpio_rules[k];
		if (take)
			longopts[n++] = inputs[i];
	}
	return predict_getopt(argc, argv, "cpio", "ho:", longopts, usage, o, own_option);
}

/* The archives in the stub's order, one after the other (each a multiple of 4 bytes), into @path. */
static int write_archives(const char *path, const struct predict_inputs *in)
{
	uint64_t total = 0, pos = 0;
	uint8_t *all;
	int r;

	for (size_t i = 0; i < INITRD_SLOTS; i++)
		total += in->archive_size[i];
	if (!(all = malloc(total + 1)))
		return errorf("out of memory");
	for (size_t i = 0; i < INITRD_SLOTS; i++) {
		if (in->archive_size[i])
			memcpy(all + pos, in->archive[i], in->archive_size[i]);
		pos += in->archive_size[i];
	}
	r = write_file_atomic(path, all, total, 0666);
	free(all);
	if (r == 0 && total == 0)
		warnf("no companion file picked: %s is empty, and the stub appends nothing", path);
	return r;
}

/* The steps of a prediction up to the archives (predict-inputs.h), then the file. */
static int cpio(struct predict_options *o)
{
	struct predict_inputs in = { 0 };
	int r = -1;

	if (o->all_profiles) {
		errorf("cpio: --profile all is for predictions; give one profile");
		goto out;
	}
	if (predict_resolve_defaults(o) < 0 || predict_load_inputs(o, &in) < 0)
		goto out;
	if (!o->output) {
		errorf("cpio: --output FILE is required");
		goto out;
	}
	if (!predict_have_sysext_input(o)) {
		errorf("cpio: give --esp, --extra-dir, --global-dir, --global-cred-dir or a file (--sysext, --cred, ...)");
		goto out;
	}
	if (predict_choose_banks(o, &in) < 0 || predict_read_sets(o, &in, true) < 0 ||
	    (o->uki && predict_build_archives(o, &in) < 0))
		goto out;
	r = write_archives(o->output, &in);
out:
	predict_inputs_free(&in);
	return r;
}

int cmd_cpio(int argc, char **argv)
{
	struct predict_options o = { 0 };
	int r = parse_args(argc, argv, &o);

	if (r == 0)
		r = cpio(&o);
	predict_options_free(&o);
	return r < 0 ? 1 : 0;
}
