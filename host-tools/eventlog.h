/* SPDX-License-Identifier: MIT */
/* eventlog.h - `sysext-stub eventlog`: replay a TPM2 event log, compare with PCRs or a prediction. */
#ifndef HOST_TOOLS_EVENTLOG_H
#define HOST_TOOLS_EVENTLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digest.h"

/*
 * Entry point of the subcommand; argv[0] is "eventlog". Returns 0 when
 * everything compared matches, 1 on a mismatch, 2 on unusable input.
 */
int cmd_eventlog(int argc, char **argv);

/* A prediction as --expect reads it (the JSON `sysext-stub predict --json` prints). */
struct exp_event {
	bool userspace; /* extended by the OS after boot: not in the firmware log */
	uint32_t type;  /* TCG_EV_*, when not userspace */
	char *type_name;
	uint8_t digest[DIGEST_MAX];
	char *description; /* or NULL */
	char *file;        /* or NULL */
};

enum exp_result { EXP_OK, EXP_FAILED, EXP_SKIPPED, EXP_NOT_SELECTED };

struct expectation {
	size_t bank;
	unsigned pcr;
	char *phase; /* or NULL */
	bool has_profile; /* "profile": the UKI profile the entry predicts (predict --profile) */
	uint32_t profile;
	uint8_t hash[DIGEST_MAX];
	bool has_initial;
	uint8_t initial[DIGEST_MAX];
	struct exp_event *events;
	size_t n_events;
	/* Outcome of the check. */
	enum exp_result result;
	char *problem; /* the first difference, when failed */
	size_t n_log_events, n_userspace;
};

struct expect_set {
	struct expectation *items;
	size_t n;
};

/*
 * Load @path: {"<bank>":[{"pcr":N,"hash":HEX,"events":[...]}, ...], ...},
 * one item per entry, banks in document order. Keys that are not bank
 * names are ignored (room for later additions). Strings are sanitised
 * (control characters and bytes that are not UTF-8 become '?'). Returns
 * 0, or -1 with the error printed (what was loaded stays in @set: free it
 * with eventlog_expect_free()).
 */
int eventlog_load_expect(const char *path, struct expect_set *set);
void eventlog_expect_free(struct expect_set *set);

#endif
