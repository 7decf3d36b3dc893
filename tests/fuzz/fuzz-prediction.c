/* SPDX-License-Identifier: MIT */
/*
 * fuzz-prediction.c - libFuzzer target for the JSON writer of
 * host-tools/prediction.c (`predict --json`), in a round trip through the
 * reader `eventlog --expect` uses (host-tools/eventlog.c).
 *
 * Input: byte 0: the banks (bits 0-3; none means sha256) and which of
 * them have a PCR 13 start value (bits 4-7); byte 1: the PCRs reported
 * (bits 0-3: 9, 11, 12, 13; bits 4-7: one more PCR number, 0 for none).
 * Then operations, each an op byte and its operands; strings run to the
 * next 0x00 byte (any other byte may be in them: quotes, backslashes,
 * control characters, bytes that are not UTF-8):
 *   op % 4 == 0  an event: PCR (op >> 2) % 4 of 9/11/12/13, type
 *                (op >> 4) % 3, a description and, with bit 7, a file;
 *                its digests hash the description
 *   op % 4 == 1  a boot phase (prediction_add_phase)
 *   op % 4 == 2  start values: the next bytes, bank after bank
 *   op % 4 == 3  an event with digests taken from the next bytes
 *
 * Checked: a prediction with a string no JSON string can hold (not UTF-8,
 * or a noncharacter, which systemd's parser refuses even escaped; an
 * independent check, utf8-ref.h) is refused, and nothing is written; any
 * other is printed as JSON that reads back without error, with one entry
 * per bank and reported value in the writer's order, each with its PCR,
 * phase (none when empty), value (prediction_value()), start value, and
 * the events of that value with their types, digests, descriptions and
 * files. Strings come back as the reader promises: equal, with control
 * characters and DEL turned into '?'. Messages go to /dev/null; nothing
 * leaks.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create */
#endif
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz-host.h"
#include "host-tools/eventlog-expect.h"
#include "host-tools/prediction.h"
#include "utf8-ref.h"

static const unsigned event_pcrs[4] = { 9, 11, 12, 13 };
static const char *const type_words[3] = { "EV_IPL", "EV_EVENT_TAG", "userspace" };

struct input {
	const uint8_t *data;
	size_t size, at;
};

/* The next string (to a 0x00 byte or the end), malloc()ed. */
static char *next_string(struct input *in)
{
	size_t start = in->at, n;
	char *s;

	while (in->at < in->size && in->data[in->at])
		in->at++;
	n = in->at - start;
	if (in->at < in->size)
		in->at++;
	s = malloc(n + 1);
	CHECK(s != NULL);
	memcpy(s, in->data + start, n);
	s[n] = 0;
	return s;
}

static void next_bytes(struct input *in, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = in->at < in->size ? in->data[in->at++] : (uint8_t)i;
}

/* @s as the reader hands it back. */
static int read_back_equal(const char *s, const char *got)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t k = 0;

	if (!got)
		return 0;
	while (*p) {
		size_t n = ref_utf8(p, p + strlen((const char *)p));

		if (n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7f))) {
			if (got[k++] != '?')
				return 0;
			p++;
			continue;
		}
		if (memcmp(got + k, p, n) != 0)
			return 0;
		k += n;
		p += n;
	}
	return got[k] == 0;
}

/* Whether event @e is part of the value of @pcr at @phase, as the writer documents. */
static int belongs(const struct pred_event *e, unsigned pcr, const char *phase)
{
	return e->pcr == pcr && (!e->phase || (phase && strcmp(e->phase, phase) == 0));
}

static void check_entry(const struct prediction *p, size_t b, unsigned pcr, const char *phase,
			const struct expectation *x)
{
	uint8_t v[DIGEST_MAX];
	size_t k = 0;

	CHECK(x->bank == b && x->pcr == pcr);
	if (phase && *phase)
		CHECK(read_back_equal(phase, x->phase));
	else
		CHECK(x->phase == NULL);
	prediction_value(p, b, pcr, phase, v);
	CHECK(memcmp(x->hash, v, banks[b].size) == 0);
	CHECK(x->has_initial == (pcr == 13 && p->has_initial[b]));
	if (x->has_initial)
		CHECK(memcmp(x->initial, p->initial13[b], banks[b].size) == 0);
	for (size_t i = 0; i < p->n_events; i++) {
		const struct pred_event *e = &p->events[i];
		const struct exp_event *got;

		if (!belongs(e, pcr, phase))
			continue;
		CHECK(k < x->n_events);
		got = &x->events[k++];
		CHECK(strcmp(got->type_name, type_words[e->type]) == 0);
		CHECK(got->userspace == (e->type == PRED_USERSPACE));
		CHECK(memcmp(got->digest, e->digest[b], banks[b].size) == 0);
		CHECK(read_back_equal(e->description, got->description));
		if (e->file)
			CHECK(read_back_equal(e->file, got->file));
		else
			CHECK(got->file == NULL);
	}
	CHECK(k == x->n_events);
}

static int ref_text_ok(const char *s)
{
	return ref_utf8_ok(s, strlen(s));
}

/* Whether every string the JSON would carry is UTF-8. */
static int all_text_ok(const struct prediction *p)
{
	for (size_t i = 0; i < p->n_events; i++)
		if (!ref_text_ok(p->events[i].description) || (p->events[i].file && !ref_text_ok(p->events[i].file)) ||
		    (p->events[i].phase && !ref_text_ok(p->events[i].phase)))
			return 0;
	for (size_t i = 0; i < p->n_phases; i++)
		if (!ref_text_ok(p->phases[i]))
			return 0;
	return 1;
}

static void round_trip(const struct prediction *p)
{
	struct expect_set set = { 0 };
	char path[64];
	size_t item = 0;
	int fd = memfd_create("fuzz-prediction", MFD_CLOEXEC), printed;
	FILE *f;

	CHECK(fd >= 0);
	f = fdopen(dup(fd), "w");
	CHECK(f != NULL);
	printed = prediction_print_json(p, f);
	CHECK(fclose(f) == 0);
	if (!all_text_ok(p)) {
		CHECK(printed == -1 && lseek(fd, 0, SEEK_END) == 0);
		close(fd);
		return;
	}
	CHECK(printed == 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	CHECK(eventlog_load_expect(path, &set) == 0);
	for (size_t b = 0; b < BANK_COUNT; b++) {
		if (!(p->banks & (1u << b)))
			continue;
		for (unsigned pcr = 0; pcr < 24; pcr++) {
			if (!(p->pcrs & (1u << pcr)))
				continue;
			if (pcr == 11 && p->n_phases > 0) {
				for (size_t i = 0; i < p->n_phases; i++) {
					CHECK(item < set.n);
					check_entry(p, b, pcr, p->phases[i], &set.items[item++]);
				}
			} else {
				CHECK(item < set.n);
				check_entry(p, b, pcr, NULL, &set.items[item++]);
			}
		}
	}
	CHECK(item == set.n);
	eventlog_expect_free(&set);
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prediction p = { 0 };
	struct input in = { data, size, 2 };

	fuzz_quiet_stderr();
	if (size < 2)
		return 0;
	p.banks = data[0] & 0xf ? data[0] & 0xfu : 2u;
	for (size_t b = 0; b < BANK_COUNT; b++)
		p.has_initial[b] = (p.banks & (1u << b)) && (data[0] >> 4 & (1u << b));
	for (size_t i = 0; i < 4; i++)
		if (data[1] & (1u << i))
			p.pcrs |= 1u << event_pcrs[i];
	if (data[1] >> 4)
		p.pcrs |= 1u << (data[1] >> 4);
	while (in.at < in.size && p.n_events < 256) {
		uint8_t op = in.data[in.at++];
		unsigned pcr = event_pcrs[(op >> 2) % 4];
		enum pred_type type = (enum pred_type)((op >> 4) % 3);
		char *desc = NULL, *file = NULL;
		uint8_t d[BANK_COUNT][DIGEST_MAX] = { { 0 } };

		switch (op % 4) {
		case 0:
			desc = next_string(&in);
			file = op & 0x80 ? next_string(&in) : NULL;
			CHECK(prediction_add_data(&p, pcr, type, desc, file, desc, strlen(desc)) == 0);
			break;
		case 1:
			desc = next_string(&in);
			(void)prediction_add_phase(&p, desc); /* may refuse the 17th phase */
			break;
		case 2:
			for (size_t b = 0; b < BANK_COUNT; b++)
				if (p.has_initial[b])
					next_bytes(&in, p.initial13[b], banks[b].size);
			break;
		case 3:
			for (size_t b = 0; b < BANK_COUNT; b++)
				next_bytes(&in, d[b], banks[b].size);
			desc = next_string(&in);
			CHECK(prediction_add_digests(&p, pcr, type, desc, NULL, d) == 0);
			break;
		}
		free(desc);
		free(file);
	}
	round_trip(&p);
	prediction_free(&p);
	return 0;
}
