/* SPDX-License-Identifier: MIT */
/*
 * prediction.h - a predicted measurement log: the events each PCR
 * receives, with their digests per bank, and the values they lead to.
 * Printed as a table or as JSON in the shape of `systemd-measure
 * calculate --json` plus the events ({"sha256":[{"pcr":13,"hash":...,
 * "events":[...]}]}), which `sysext-stub eventlog --expect` reads back.
 */
#ifndef HOST_TOOLS_PREDICTION_H
#define HOST_TOOLS_PREDICTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "digest.h"

enum pred_type {
	PRED_EV_IPL,       /* EV_IPL in the firmware log */
	PRED_EV_EVENT_TAG, /* EV_EVENT_TAG in the firmware log */
	PRED_USERSPACE,    /* extended by the OS later (boot phases, os-separator): not in the firmware log */
};

struct pred_event {
	unsigned pcr;
	enum pred_type type;
	char *description;
	char *file;    /* host file the data came from, or NULL */
	char *phase;   /* PCR 11 phase extends: the phase expression they belong to */
	uint8_t digest[BANK_COUNT][DIGEST_MAX];
};

#define PRED_MAX_PHASES 16

struct prediction {
	unsigned banks;               /* bit i: banks[i] predicted */
	unsigned pcrs;                /* bit n: PCR n reported */
	struct pred_event *events;
	size_t n_events;
	char *phases[PRED_MAX_PHASES]; /* PCR 11 phase expressions ("" = sections only) */
	size_t n_phases;
	bool has_initial[BANK_COUNT];
	uint8_t initial13[BANK_COUNT][DIGEST_MAX]; /* PCR 13 start value per bank */
	bool has_profile;                          /* a UKI profile was asked for: entries say which */
	uint32_t profile;
};

void prediction_free(struct prediction *p);

/* Append an event whose data is @len bytes at @data, hashed in every predicted bank. */
int prediction_add_data(struct prediction *p, unsigned pcr, enum pred_type type, const char *description,
			const char *file, const void *data, size_t len);

/* Append an event with digests already known (all predicted banks). */
int prediction_add_digests(struct prediction *p, unsigned pcr, enum pred_type type, const char *description,
			   const char *file, const uint8_t digest[BANK_COUNT][DIGEST_MAX]);

/* Append boot-phase extends for PCR 11: one per colon-separated word of @phase. */
int prediction_add_phase(struct prediction *p, const char *phase);

/*
 * The value PCR @pcr ends with in bank banks[@bank_i]: its start value (zero,
 * or --initial for PCR 13) extended by its events; for PCR 11 the section
 * events plus the words of @phase (one of p->phases; NULL or "": sections
 * only). @bank_i must be a predicted bank.
 */
void prediction_value(const struct prediction *p, size_t bank_i, unsigned pcr, const char *phase,
		      uint8_t out[DIGEST_MAX]);

void prediction_print_table(const struct prediction *p, FILE *out);
/*
 * The JSON. Every string in it must be UTF-8 (json-writer.h): a path or
 * description that is not is an error naming it, and nothing is written.
 * Returns 0, or -1 (printed).
 */
int prediction_print_json(const struct prediction *p, FILE *out);

/*
 * Several predictions (one per UKI profile) as one document: per bank, the
 * entries of each in turn, each entry with its "profile"; the table with a
 * "# profile N" heading before each. The JSON checks every string as
 * prediction_print_json() does.
 */
int prediction_print_json_many(const struct prediction *p, size_t n, FILE *out);
void prediction_print_table_many(const struct prediction *p, size_t n, FILE *out);

#endif
