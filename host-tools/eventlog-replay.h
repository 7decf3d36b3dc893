/* SPDX-License-Identifier: MIT */
/*
 * eventlog-replay.h - a TCG2 crypto-agile event log, parsed by
 * measure/tcglog.c and replayed per bank and PCR, with every record kept
 * (for --verbose and --expect) and named for people.
 */
#ifndef HOST_TOOLS_EVENTLOG_REPLAY_H
#define HOST_TOOLS_EVENTLOG_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "measure/tcglog.h"

#define N_PCRS TCGLOG_PCR_COUNT
/* Room for what log_event_describe() writes. */
#define EVENT_DESC_MAX 160
/* Room for the hex of any bank's digest. */
#define HEX_MAX (2 * DIGEST_MAX + 1)

/* One record after the header; pointers into the log buffer. */
struct log_event {
	uint32_t index, pcr, type;
	const uint8_t *digest[BANK_COUNT]; /* NULL for banks the log lacks or we cannot hash */
	const uint8_t *data;
	uint32_t data_size;
};

struct replay {
	struct tcglog log;
	unsigned banks; /* banks the log has and we can hash */
	bool has_locality;
	uint8_t locality;
	uint32_t extends[N_PCRS];
	uint8_t value[BANK_COUNT][N_PCRS][DIGEST_MAX];
	struct log_event *events;
	size_t n_events;
};

/*
 * Parse the log @buf (@len bytes, named @path in messages, kept alive by
 * the caller) and replay it into the zeroed @rp. Returns 0, or -1 with the
 * problem printed (what was read stays in @rp: free it with replay_free()).
 */
int replay_log(const char *path, const uint8_t *buf, size_t len, struct replay *rp);
void replay_free(struct replay *rp);

/* The TCG name of @type ("EV_IPL"), or its hex in @buf. */
const char *log_event_type_name(uint32_t type, char buf[16]);

/* What the log says an event is, for people (printable ASCII): EV_IPL descriptions, tags, action strings. */
void log_event_describe(const struct log_event *e, char *out, size_t size);

#endif
