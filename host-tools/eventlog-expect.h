/* SPDX-License-Identifier: MIT */
/*
 * eventlog-expect.h - `eventlog --expect`: a prediction as `sysext-stub
 * predict --json` prints it, read back (measure/json.c parses it) and
 * checked against a replayed log event by event.
 */
#ifndef HOST_TOOLS_EVENTLOG_EXPECT_H
#define HOST_TOOLS_EVENTLOG_EXPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "eventlog-replay.h"

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

/*
 * Compare the log's events in x->pcr (EV_NO_ACTION skipped, log order) with
 * the expected events that are not userspace, by digest and type; when
 * they match, the log's replayed value extended with the userspace events
 * must equal the expected hash. Sets x->result, and x->problem to the
 * first difference.
 */
void expectation_check(struct expectation *x, const struct replay *rp);

#endif
