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

/* The PCR values the TPM holds (sysfs, or --pcr-value), where known. */
struct pcr_values {
	bool has[BANK_COUNT][N_PCRS];
	uint8_t value[BANK_COUNT][N_PCRS][DIGEST_MAX];
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

/* The PCRs shown whose actual value is known and differs from the replay. */
size_t eventlog_count_mismatches(const struct replay *rp, const struct pcr_values *actual, unsigned banks,
				 uint32_t pcrs);

void eventlog_print_text(const struct eventlog_report *r);

/* One JSON object and a newline. Its strings must be UTF-8 (json_text_ok()): the paths are checked by the caller. */
void eventlog_print_json(const struct eventlog_report *r);

#endif
