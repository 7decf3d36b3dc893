/* SPDX-License-Identifier: MIT */
/*
 * fuzz-eventlog.c - libFuzzer target for `sysext-stub eventlog` end to end:
 * a TCG2 event log and an --expect prediction, both from the input, through
 * cmd_eventlog() as the CLI calls it (parse, replay, compare, check, report).
 * fuzz-tcglog covers the log iterator alone; here the log and the prediction
 * vary together. (It replaces fuzz-expect, which fuzzed the prediction
 * against one fixed log: that target's seeds are the expect-* seeds here.)
 *
 * Input: byte 0 the options (bit 0 --json, bit 1 --verbose, bit 2 --pcr 13,
 * bit 3 --bank sha256, bit 4 --pcr-value sha256:13=<zeros>, else
 * --no-pcr-values), bytes 1-2 the length L of the prediction (little
 * endian; 0: no --expect), then L bytes of prediction JSON, then the log.
 * Both are memfds, named as /proc/self/fd/N.
 *
 * Checked: the exit status is 0, 1 or 2; with 2 (unusable input) nothing is
 * printed; otherwise the output is UTF-8 (an independent check) without
 * control characters but line ends, and with --json it is one JSON document
 * (measure/json.c) whose "ok" is true exactly when the status is 0.
 * Messages go to /dev/null; nothing leaks.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create */
#endif
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz-host.h"
#include "host-tools/eventlog.h"
#include "measure/json.h"
#include "utf8-ref.h"

#define ZERO_SHA256 "0000000000000000000000000000000000000000000000000000000000000000"

/* Run cmd_eventlog() with its stdout in a memfd: the status, and what it printed (malloc()ed) in *ret. */
static int run(int argc, char **argv, uint8_t **ret, size_t *ret_len)
{
	int out = memfd_create("fuzz-eventlog-stdout", MFD_CLOEXEC), saved, r;
	off_t len;

	CHECK(out >= 0);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	CHECK(saved >= 0 && dup2(out, STDOUT_FILENO) >= 0);
	r = cmd_eventlog(argc, argv);
	fflush(stdout);
	CHECK(dup2(saved, STDOUT_FILENO) >= 0);
	close(saved);
	len = lseek(out, 0, SEEK_END);
	CHECK(len >= 0);
	*ret = malloc((size_t)len + 1);
	CHECK(*ret != NULL);
	CHECK(pread(out, *ret, (size_t)len, 0) == len);
	(*ret)[len] = 0;
	*ret_len = (size_t)len;
	close(out);
	return r;
}

/* The output is one JSON document whose "ok" says whether the status is 0. */
static void check_json(const uint8_t *out, size_t len, int status)
{
	size_t n_tok = JSON_TOKENS_FOR(len);
	struct json_token *tokens = calloc(n_tok, sizeof(*tokens));
	struct json_doc doc;
	uint32_t ok;

	CHECK(tokens != NULL);
	CHECK(len > 0 && out[len - 1] == '\n' && memchr(out, '\n', len) == out + len - 1);
	CHECK(json_parse(&doc, out, len, tokens, (uint32_t)n_tok) == MS_OK);
	CHECK(json_type(&doc, 0) == JSON_OBJECT);
	CHECK(json_object_get(&doc, 0, "ok", &ok) == MS_OK);
	CHECK(json_type(&doc, ok) == (status == 0 ? JSON_TRUE : JSON_FALSE));
	free(tokens);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char log_path[64], expect_path[64], *argv[16];
	int argc = 0, log_fd, expect_fd = -1, status;
	uint8_t *out = NULL;
	size_t expect_len, out_len;

	fuzz_quiet_stderr();
	if (size < 3)
		return 0;
	expect_len = (size_t)data[1] | (size_t)data[2] << 8;
	if (expect_len > size - 3)
		expect_len = size - 3;
	log_fd = fuzz_memfd(data + 3 + expect_len, size - 3 - expect_len, log_path);
	argv[argc++] = "eventlog";
	argv[argc++] = "--log";
	argv[argc++] = log_path;
	if (expect_len) {
		expect_fd = fuzz_memfd(data + 3, expect_len, expect_path);
		argv[argc++] = "--expect";
		argv[argc++] = expect_path;
	}
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
	/* Never the host's own TPM: a value on the command line, or none. */
	argv[argc++] = data[0] & 16 ? "--pcr-value=sha256:13=" ZERO_SHA256 : "--no-pcr-values";
	argv[argc] = NULL;

	status = run(argc, argv, &out, &out_len);
	CHECK(status == 0 || status == 1 || status == 2);
	if (status == 2) {
		CHECK(out_len == 0);
	} else {
		CHECK(ref_utf8_ok(out, out_len));
		for (size_t i = 0; i < out_len; i++)
			CHECK(out[i] == '\n' || (out[i] >= 0x20 && out[i] != 0x7f));
		if (data[0] & 1)
			check_json(out, out_len, status);
	}
	free(out);
	close(log_fd);
	if (expect_fd >= 0)
		close(expect_fd);
	return 0;
}
