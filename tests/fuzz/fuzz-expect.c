/* SPDX-License-Identifier: MIT */
/*
 * fuzz-expect.c - libFuzzer target for `sysext-stub eventlog --expect`:
 * the prediction JSON reader of host-tools/eventlog.c and the event-by-
 * event comparison behind it, run end to end through cmd_eventlog().
 *
 * Byte 0 picks output options (bit 0 --json, bit 1 --verbose, bit 2
 * --pcr 13, bit 3 --bank sha256); the rest is the --expect file, handed
 * over as /proc/self/fd/N of a memfd. The event log is the fixed seed
 * FUZZ_EXPECT_LOG (four banks, two sysexts in PCR 13), so predictions
 * that match it, differ from it or do not parse are all reachable.
 * Checked: the exit status is 0, 1 or 2 and nothing leaks on any path.
 * Its report goes to /dev/null.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create, open_memstream */
#endif
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "host-tools/eventlog.h"

#ifndef FUZZ_EXPECT_LOG
#define FUZZ_EXPECT_LOG "tests/fuzz/corpus/tcglog/valid-ovmf-four-banks-locality3"
#endif

#define CHECK(cond)                                                                            \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "fuzz-expect: %s:%d: invariant failed: %s\n",          \
				__FILE__, __LINE__, #cond);                                    \
			abort();                                                               \
		}                                                                              \
	} while (0)

static FILE *real_stderr;
static int devnull = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	char *argv[16];
	int argc = 0, fd, r, saved;

	if (!real_stderr) {
		/* The log must be there: a missing one would make every input "exit 2". */
		CHECK(access(FUZZ_EXPECT_LOG, R_OK) == 0);
		real_stderr = stderr;
		stderr = fopen("/dev/null", "w");
		devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
		CHECK(stderr != NULL && devnull >= 0);
	}
	if (size == 0)
		return 0;
	fd = memfd_create("fuzz-expect", MFD_CLOEXEC);
	CHECK(fd >= 0);
	CHECK(size == 1 || write(fd, data + 1, size - 1) == (ssize_t)(size - 1));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

	argv[argc++] = "eventlog";
	argv[argc++] = "--log";
	argv[argc++] = FUZZ_EXPECT_LOG;
	argv[argc++] = "--no-pcr-values";
	argv[argc++] = "--expect";
	argv[argc++] = path;
	if (data[0] & 1)
		argv[argc++] = "--json";
	if (data[0] & 2)
		argv[argc++] = "--verbose";
	if (data[0] & 4) {
		argv[argc++] = "--pcr";
		argv[argc++] = "13";
	}
	if (data[0] & 8) {
		argv[argc++] = "--bank";
		argv[argc++] = "sha256";
	}
	argv[argc] = NULL;
	/* The report goes to /dev/null for this call only (the replay driver prints on stdout). */
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	CHECK(saved >= 0 && dup2(devnull, STDOUT_FILENO) >= 0);
	r = cmd_eventlog(argc, argv);
	fflush(stdout);
	CHECK(dup2(saved, STDOUT_FILENO) >= 0);
	close(saved);
	close(fd);
	CHECK(r == 0 || r == 1 || r == 2);
	return 0;
}
