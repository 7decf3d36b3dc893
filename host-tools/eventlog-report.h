/* SPDX-License-Identifier: MIT */
/*
 * eventlog-report.h - what `sysext-stub eventlog` prints: the replayed
 * PCRs next to the actual ones, every event (--verbose), and the outcome
 * of each expectation (--expect); as a table for people or as JSON.
 */
#ifndef HOST_TOOLS_EVENTLOG_REPORT_H
#define HOST_TOOLS_EVENTLOG_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eventlog-expect.h"
#include "eventlog-replay.h"

/* The PCR values the TPM holds (sysfs, or --pcr-value), where known, and how they compare. */
struct pcr_values {
	bool has[BANK_COUNT][N_PCRS];
	uint8_t value[BANK_COUNT][N_PCRS][DIGEST_MAX];
	/* Set by eventlog_compare_pcrs(), where has[][]: */
	bool match[BANK_COUNT][N_PCRS];
	/* How many of userspace_words(pcr) the match needed on top of the replay (0: the log alone). */
	unsigned words[BANK_COUNT][N_PCRS];
};

struct eventlog_report {
	const char *log_path;
	const char *expect_path; /* NULL: no --expect */
	const struct replay *rp;
	const struct pcr_values *actual;
	const struct expect_set *set;
	unsigned banks;           /* the banks shown (bit i: banks[i]) */
	uint32_t pcrs;            /* the PCRs shown (bit n: PCR n) */
	bool verbose;             /* list every event */
	size_t mismatches;        /* PCRs whose actual value differs from the replay */
	size_t failed, checked;   /* expectations */
	bool ok;                  /* the exit status is "match" */
};

/*
 * Compare each PCR shown whose actual value is known with the replay: it
 * matches when it equals the replay, or the replay extended with the first
 * words of what systemd's userspace extends into that PCR
 * (userspace_words(): PCR 11's boot phases, PCR 13's os-separator),
 * which the firmware log cannot hold. Sets actual->match and ->words;
 * @ret_mismatches gets the PCRs that do not match. Returns 0, or -1
 * (hashing failed, printed).
 */
int eventlog_compare_pcrs(const struct replay *rp, struct pcr_values *actual, unsigned banks, uint32_t pcrs,
			  size_t *ret_mismatches);

void eventlog_print_text(const struct eventlog_report *r);

/* One JSON object and a newline. Its strings must be UTF-8 (json_text_ok()): the paths are checked by the caller. */
void eventlog_print_json(const struct eventlog_report *r);

#endif
