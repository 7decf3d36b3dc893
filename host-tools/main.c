/* SPDX-License-Identifier: MIT */
/* main.c - the `sysext-stub` command: one subcommand per host task. */
#include <stdio.h>
#include <string.h>

#include "admit.h"
#include "build.h"
#include "cpio.h"
#include "eventlog.h"
#include "pcrlock.h"
#include "predict.h"
#include "sign.h"
#include "systemd-measure.h"
#include "validate.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "build", cmd_build, "assemble a UKI around the stub" },
	{ "predict", cmd_predict, "predict PCR 9, 11, 12 and 13 before booting" },
	{ "cpio", cmd_cpio, "write the exact sysext archives the stub appends to the initrd" },
	{ "eventlog", cmd_eventlog, "replay a TPM event log and compare with PCRs or a prediction" },
	{ "pcrlock", cmd_pcrlock, "write systemd-pcrlock components: any approved sysext version unlocks, no signing key" },
	{ "sign", cmd_sign, "sign TPM2 PCR policies for the predicted values (tpm2-pcr-signature.json)" },
	{ "systemd-measure", cmd_systemd_measure, "answer as systemd-measure 262 (calculate, sign, policy-digest), for ukify" },
	{ "validate", cmd_validate, "check sysext/confext images as systemd-sysext would take them" },
	{ "admit", cmd_admit, "in the initrd: move away the images validate refuses, before systemd-sysext" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: sysext-stub COMMAND [options]\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nRun 'sysext-stub COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
	const char *self = argc > 0 ? strrchr(argv[0], '/') : NULL;

	/* Under the name systemd-measure (a symlink in ukify's --tools directory): that command. */
	self = self ? self + 1 : argc > 0 ? argv[0] : "";
	if (strcmp(self, "systemd-measure") == 0)
		return cmd_systemd_measure(argc, argv);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("sysext-stub %s\n", SYSEXT_STUB_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "sysext-stub: error: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
