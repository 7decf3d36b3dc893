/* SPDX-License-Identifier: MIT */
/* eventlog-components.c - the log's events checked against systemd-pcrlock components (eventlog-components.h). */
#include "eventlog-components.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcrlock-components.h"
#include "util.h"

/* The log's events in @pcr that carry a digest in @bank (EV_NO_ACTION is never extended). */
static size_t log_events(const struct replay *rp, unsigned pcr, size_t bank, const struct log_event **out)
{
	size_t n = 0;

	for (size_t i = 0; i < rp->n_events; i++)
		if (rp->events[i].pcr == pcr && rp->events[i].type != TCG_EV_NO_ACTION && rp->events[i].digest[bank])
			out[n++] = &rp->events[i];
	return n;
}

/* How many of @v's records in @pcr match the log from @pos on (in a row); *@n_pcr: how many it has. */
static size_t prefix_match(const struct pcrlock_variant *v, unsigned pcr, size_t bank, const struct log_event **ev,
			   size_t n_ev, size_t pos, size_t *n_pcr)
{
	size_t matched = 0;
	bool broken = false;

	*n_pcr = 0;
	for (size_t i = 0; i < v->n_records; i++) {
		const struct pcrlock_record *r = &v->records[i];

		if (r->pcr != pcr)
			continue;
		(*n_pcr)++;
		if (broken || pos + matched >= n_ev ||
		    memcmp(r->digest[bank], ev[pos + matched]->digest[bank], banks[bank].size) != 0)
			broken = true;
		else
			matched++;
	}
	return matched;
}

static bool touches(const struct pcrlock_component *c, unsigned pcr)
{
	for (size_t k = 0; k < c->n_variants; k++)
		for (size_t i = 0; i < c->variants[k].n_records; i++)
			if (c->variants[k].records[i].pcr == pcr)
				return true;
	return false;
}

static void fail(struct expectation *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct expectation *x, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	x->result = EXP_FAILED;
	if (vasprintf(&x->problem, fmt, ap) < 0)
		x->problem = NULL;
	va_end(ap);
}

/* "event 12 (EV_IPL .extra/sysext/k3s.sysext.raw, sha256:1a2b3c4d...)" */
static void describe(const struct log_event *e, size_t bank, char *out, size_t size)
{
	char desc[EVENT_DESC_MAX], type[16], hex[HEX_MAX];

	log_event_describe(e, desc, sizeof(desc));
	hex_encode(e->digest[bank], banks[bank].size, hex);
	snprintf(out, size, "log event %u (%s %s, %s:%.16s...)", e->index, log_event_type_name(e->type, type), desc,
		 banks[bank].name, hex);
}

/* No variant of @c matches at @pos: say which came closest. */
static void no_variant(struct expectation *x, const struct pcrlock_component *c, const struct log_event **ev, size_t n_ev,
		       size_t pos)
{
	const struct pcrlock_variant *best = NULL;
	size_t best_matched = 0, best_n = 0;
	char at[EVENT_DESC_MAX + 96] = "the end of the log";

	for (size_t k = 0; k < c->n_variants; k++) {
		size_t n, m = prefix_match(&c->variants[k], x->pcr, x->bank, ev, n_ev, pos, &n);

		if (n && (!best || m > best_matched)) {
			best = &c->variants[k];
			best_matched = m;
			best_n = n;
		}
	}
	if (pos + best_matched < n_ev)
		describe(ev[pos + best_matched], x->bank, at, sizeof(at));
	if (best && best_matched)
		fail(x, "PCR %u %s: component %s, variant %s: %zu of its %zu records match, then %s differs", x->pcr,
		     banks[x->bank].name, c->id, best->id, best_matched, best_n, at);
	else
		fail(x, "PCR %u %s: component %s: none of its %zu variants matches %s", x->pcr, banks[x->bank].name, c->id,
		     c->n_variants, at);
}

/* One PCR in one bank: every component in order, each one variant, then nothing left. */
static void check_pcr(struct expectation *x, const struct pcrlock_set *s, const struct replay *rp)
{
	const struct log_event **ev = calloc(rp->n_events + 1, sizeof(*ev));
	size_t n_ev, pos = 0;

	if (!ev) {
		fail(x, "out of memory");
		return;
	}
	n_ev = log_events(rp, x->pcr, x->bank, ev);
	x->result = EXP_OK;
	for (size_t i = 0; i < s->n_components && x->result == EXP_OK; i++) {
		const struct pcrlock_component *c = &s->components[i];
		size_t best = 0;
		bool found = false;

		if (!touches(c, x->pcr))
			continue;
		/* The longest variant that matches whole (an empty one matches nothing, always). */
		for (size_t k = 0; k < c->n_variants; k++) {
			size_t n, m = prefix_match(&c->variants[k], x->pcr, x->bank, ev, n_ev, pos, &n);

			if (m == n && (!found || n > best)) {
				best = n;
				found = true;
			}
		}
		if (!found)
			no_variant(x, c, ev, n_ev, pos);
		pos += best;
	}
	if (x->result == EXP_OK && pos < n_ev) {
		char at[EVENT_DESC_MAX + 96];

		describe(ev[pos], x->bank, at, sizeof(at));
		fail(x, "PCR %u %s: %s is in no component (%zu of %zu events matched)", x->pcr, banks[x->bank].name, at,
		     pos, n_ev);
	}
	x->n_log_events = n_ev;
	free(ev);
}

/* The banks every record of @s has, and the PCRs they name. */
static void coverage(const struct pcrlock_set *s, unsigned *ret_banks, uint32_t *ret_pcrs)
{
	unsigned b = (1u << BANK_COUNT) - 1;
	uint32_t pcrs = 0;

	for (size_t i = 0; i < s->n_components; i++)
		for (size_t k = 0; k < s->components[i].n_variants; k++)
			for (size_t r = 0; r < s->components[i].variants[k].n_records; r++) {
				b &= s->components[i].variants[k].records[r].banks;
				pcrs |= 1u << s->components[i].variants[k].records[r].pcr;
			}
	*ret_banks = b;
	*ret_pcrs = pcrs;
}

int eventlog_check_components(const char *dir, const struct replay *rp, unsigned bank_mask, uint32_t pcr_mask,
			      struct expect_set *set, size_t *checked, size_t *failed)
{
	struct pcrlock_set s = { 0 };
	unsigned have;
	uint32_t pcrs;

	*checked = *failed = 0;
	if (pcrlock_read_tree(dir, &s) < 0) {
		pcrlock_set_free(&s);
		return -1;
	}
	coverage(&s, &have, &pcrs);
	if (s.n_components == 0) {
		pcrlock_set_free(&s);
		return errorf("%s: no .pcrlock components in it", dir);
	}
	set->items = calloc(BANK_COUNT * N_PCRS, sizeof(*set->items));
	if (!set->items) {
		pcrlock_set_free(&s);
		return errorf("out of memory");
	}
	for (size_t b = 0; b < BANK_COUNT; b++)
		for (unsigned p = 0; p < N_PCRS; p++) {
			struct expectation *x;

			if (!(pcrs & (1u << p)) || !(have & (1u << b)) || (bank_mask && !(bank_mask & (1u << b))) ||
			    (pcr_mask && !(pcr_mask & (1u << p))))
				continue;
			x = &set->items[set->n++];
			x->bank = b;
			x->pcr = p;
			if (!(rp->banks & (1u << b))) {
				x->result = EXP_SKIPPED;
				continue;
			}
			check_pcr(x, &s, rp);
			(*checked)++;
			*failed += x->result == EXP_FAILED;
		}
	pcrlock_set_free(&s);
	return 0;
}
