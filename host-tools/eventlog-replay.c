/* SPDX-License-Identifier: MIT */
#include "eventlog-replay.h"

#include <stdio.h>
#include <stdlib.h>

#include "util.h"

const char *log_event_type_name(uint32_t type, char buf[16])
{
	const char *n = tcglog_event_type_name(type);

	if (n)
		return n;
	snprintf(buf, 16, "0x%08x", type);
	return buf;
}

void log_event_describe(const struct log_event *e, char *out, size_t size)
{
	struct tcglog_event ev = { .type = e->type, .data = e->data, .data_size = e->data_size };
	char text[EVENT_DESC_MAX - 24]; /* room for "tag 0x%08x: " in front */
	const uint8_t *tag_data;
	uint32_t tag_id, tag_size;
	uint8_t loc;

	out[0] = '\0';
	if (tcglog_startup_locality(&ev, &loc)) {
		snprintf(out, size, "StartupLocality %u", loc);
		return;
	}
	switch (e->type) {
	case TCG_EV_EVENT_TAG:
		if (tcglog_event_tag(e->data, e->data_size, &tag_id, &tag_data, &tag_size) == MS_OK) {
			tcglog_describe_text(tag_data, tag_size, text, sizeof(text));
			snprintf(out, size, "tag 0x%08x%s%s", tag_id, text[0] ? ": " : "", text);
		} else {
			snprintf(out, size, "tag (malformed)");
		}
		break;
	case TCG_EV_IPL:
	case TCG_EV_S_CRTM_VERSION:
	case TCG_EV_ACTION:
	case TCG_EV_EFI_ACTION:
	case TCG_EV_NO_ACTION:
		tcglog_describe_text(e->data, e->data_size, out, size);
		break;
	default:
		break;
	}
}

static int log_error(const char *path, const struct tcglog *l, ms_status r)
{
	char value[32] = "";

	if (l->has_error_value)
		snprintf(value, sizeof(value), " (0x%x)", l->error_value);
	if (l->error_index == 0)
		return errorf("%s: not a usable TCG2 event log: %s%s (%s)", path, l->error ? l->error : "?", value,
			      ms_strerror(r));
	return errorf("%s: record %u at offset %zu: %s%s (%s)", path, l->error_index, l->error_offset,
		      l->error ? l->error : "?", value, ms_strerror(r));
}

static int add_event(struct replay *rp, const struct log_event *e, size_t *cap)
{
	if (rp->n_events == *cap) {
		size_t ncap = *cap ? 2 * *cap : 256;
		struct log_event *n = realloc(rp->events, ncap * sizeof(*n));

		if (!n)
			return errorf("out of memory");
		rp->events = n;
		*cap = ncap;
	}
	rp->events[rp->n_events++] = *e;
	return 0;
}

/* The banks of the log's header that we can hash. */
static int choose_banks(const char *path, struct replay *rp)
{
	for (uint32_t i = 0; i < rp->log.n_algs; i++) {
		const struct bank *b = bank_by_alg(rp->log.algs[i].alg_id);

		if (b)
			rp->banks |= 1u << bank_index(b);
		else
			warnf("%s: cannot replay digests of algorithm 0x%04x; ignoring them", path,
			      rp->log.algs[i].alg_id);
	}
	if (!rp->banks)
		return errorf("%s: the log has no digests of sha1, sha256, sha384 or sha512", path);
	return 0;
}

/* The record @ev as kept: its digest in every bank replayed. */
static int keep_event(const char *path, const struct replay *rp, const struct tcglog_event *ev, struct log_event *e)
{
	e->index = ev->index;
	e->pcr = ev->pcr;
	e->type = ev->type;
	e->data = ev->data;
	e->data_size = ev->data_size;
	for (size_t b = 0; b < BANK_COUNT; b++) {
		const struct tcglog_digest *d;

		if (!(rp->banks & (1u << b)))
			continue;
		/* tcglog guarantees one digest per header algorithm, of the header's size. */
		d = tcglog_event_digest(ev, banks[b].alg_id);
		if (!d || d->size != banks[b].size)
			return errorf("%s: record %u: no %s digest", path, ev->index, banks[b].name);
		e->digest[b] = d->bytes;
	}
	return 0;
}

/* A StartupLocality event sets PCR 0's reset value: only meaningful before PCR 0 is extended. */
static void set_locality(const char *path, struct replay *rp, uint32_t index, uint8_t loc)
{
	if (rp->extends[0] > 0 || rp->has_locality) {
		warnf("%s: record %u: StartupLocality event after PCR 0 was set up; ignored", path, index);
		return;
	}
	rp->has_locality = true;
	rp->locality = loc;
	for (size_t b = 0; b < BANK_COUNT; b++)
		if (rp->banks & (1u << b))
			tcglog_initial_pcr_value(0, loc, rp->value[b][0], banks[b].size);
}

int replay_log(const char *path, const uint8_t *buf, size_t len, struct replay *rp)
{
	struct tcglog_event ev;
	size_t cap = 0;
	ms_status r = tcglog_init(&rp->log, buf, len);

	if (r != MS_OK)
		return log_error(path, &rp->log, r);
	if (choose_banks(path, rp) < 0)
		return -1;
	for (;;) {
		struct log_event e = { 0 };
		uint8_t loc;

		r = tcglog_next(&rp->log, &ev);
		if (r == MS_ERR_NOT_FOUND)
			break;
		if (r != MS_OK)
			return log_error(path, &rp->log, r);
		if (keep_event(path, rp, &ev, &e) < 0 || add_event(rp, &e, &cap) < 0)
			return -1;
		if (tcglog_startup_locality(&ev, &loc)) {
			set_locality(path, rp, ev.index, loc);
			continue;
		}
		if (!tcglog_event_is_extended(&ev))
			continue;
		for (size_t b = 0; b < BANK_COUNT; b++)
			if (e.digest[b] && pcr_extend(&banks[b], rp->value[b][ev.pcr], e.digest[b]) < 0)
				return -1;
		rp->extends[ev.pcr]++;
	}
	return 0;
}

void replay_free(struct replay *rp)
{
	free(rp->events);
	rp->events = NULL;
	rp->n_events = 0;
}
