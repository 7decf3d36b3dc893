/* SPDX-License-Identifier: MIT */
/*
 * fuzz-tcglog.c - libFuzzer target for measure/tcglog.c.
 *
 * Walks the input as a TCG2 event log. Whenever the iterator accepts the
 * header and each record, the promises tcglog.h makes must hold: records
 * follow each other without gaps inside the buffer, each has one digest per
 * header algorithm with the header's size, PCR indices stay below 24, every
 * digest and the event data lie inside their record (each byte is read, so
 * ASan catches an overread), errors are sticky and say where. The text and
 * tag helpers run on every event. A broken promise aborts with a message.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure/tcglog.h"

#define CHECK(cond)                                                                            \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "fuzz-tcglog: %s:%d: invariant failed: %s\n", __FILE__, \
				__LINE__, #cond);                                              \
			abort();                                                               \
		}                                                                              \
	} while (0)

static volatile uint8_t sink;

static void touch(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc ^= p[i];
	sink = acc;
}

static int inside(const uint8_t *p, size_t n, const uint8_t *lo, size_t lo_len)
{
	return p >= lo && (size_t)(p - lo) <= lo_len && n <= lo_len - (size_t)(p - lo);
}

static void check_helpers(const struct tcglog_event *ev)
{
	char text[32];
	size_t n = tcglog_describe_text(ev->data, ev->data_size, text, sizeof(text));
	uint32_t id, size;
	const uint8_t *data;
	uint8_t loc, init[TCGLOG_DIGEST_MAX];

	CHECK(n < sizeof(text) && strlen(text) == n);
	for (size_t i = 0; i < n; i++)
		CHECK(text[i] >= 0x20 && text[i] < 0x7f);
	if (tcglog_event_tag(ev->data, ev->data_size, &id, &data, &size) == MS_OK) {
		CHECK(data == ev->data + 8 && (size_t)size + 8 == ev->data_size);
		touch(data, size);
	}
	if (tcglog_startup_locality(ev, &loc)) {
		CHECK(ev->type == TCG_EV_NO_ACTION && ev->data_size == 17);
		tcglog_initial_pcr_value(0, loc, init, sizeof(init));
		CHECK(init[sizeof(init) - 1] == ((loc == 3 || loc == 4) ? loc : 0));
	}
	if (tcglog_event_type_name(ev->type)) {
		uint32_t t;

		CHECK(tcglog_event_type_from_name(tcglog_event_type_name(ev->type), &t) && t == ev->type);
	}
}

static void check_event(const struct tcglog *log, const struct tcglog_event *ev, const uint8_t *data,
			size_t size, size_t expected_offset, uint32_t expected_index)
{
	const uint8_t *rec = data + ev->offset;

	CHECK(ev->index == expected_index);
	CHECK(ev->offset == expected_offset);
	CHECK(ev->size >= 16 && ev->size <= size - ev->offset);
	CHECK(ev->pcr < TCGLOG_PCR_COUNT);
	CHECK(ev->n_digests == log->n_algs);
	for (uint32_t i = 0; i < ev->n_digests; i++) {
		const struct tcglog_digest *d = &ev->digests[i];
		const struct tcglog_alg *a = tcglog_find_alg(log, d->alg_id);

		CHECK(a != NULL && a->size == d->size);
		CHECK(tcglog_event_digest(ev, d->alg_id) == d); /* no algorithm twice */
		CHECK(inside(d->bytes, d->size, rec, ev->size));
		touch(d->bytes, d->size);
	}
	CHECK(ev->data_size <= TCGLOG_EVENT_DATA_MAX);
	CHECK(inside(ev->data, ev->data_size, rec, ev->size));
	CHECK(ev->data + ev->data_size == rec + ev->size); /* the data ends the record */
	touch(ev->data, ev->data_size);
	check_helpers(ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tcglog log;
	struct tcglog_event ev;
	size_t end;
	uint32_t index = 1;
	ms_status r = tcglog_init(&log, data, size);

	if (r != MS_OK) {
		CHECK(log.error != NULL && log.error_offset <= size);
		CHECK(tcglog_next(&log, &ev) == r);
		return 0;
	}
	CHECK(log.n_algs >= 1 && log.n_algs <= TCGLOG_MAX_ALGS);
	for (uint32_t i = 0; i < log.n_algs; i++)
		CHECK(log.algs[i].size >= 1 && log.algs[i].size <= TCGLOG_DIGEST_MAX);
	CHECK(log.header.size <= size);
	CHECK(inside(log.header.data, log.header.data_size, data, size));
	CHECK(inside(log.vendor_info, log.vendor_info_size, log.header.data, log.header.data_size));
	touch(log.vendor_info, log.vendor_info_size);
	check_helpers(&log.header);
	end = log.header.size;

	/* Every record is at least 16 bytes: this many rounds always reach the end. */
	for (size_t round = 0; round <= size / 16 + 1; round++) {
		r = tcglog_next(&log, &ev);
		if (r != MS_OK)
			break;
		check_event(&log, &ev, data, size, end, index);
		end = ev.offset + ev.size;
		index++;
	}
	if (r == MS_ERR_NOT_FOUND) {
		CHECK(end == size);
	} else {
		CHECK(r != MS_OK);
		CHECK(log.error != NULL);
		CHECK(log.error_offset == end && log.error_index == index);
		CHECK(tcglog_next(&log, &ev) == r);
	}
	return 0;
}
