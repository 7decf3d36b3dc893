/* SPDX-License-Identifier: MIT */
#include "eventlog-report.h"

#include <stdio.h>
#include <string.h>

#include "json-writer.h"
#include "userspace-extends.h"

/* Whether the report has a row for PCR @pcr in bank @b. */
static bool shown(const struct eventlog_report *r, unsigned pcr, size_t b)
{
	return (r->pcrs & (1u << pcr)) && (r->banks & (1u << b));
}

/* Length of the first @n words of the ':'-joined @words (n >= 1, at most the words there are). */
static size_t words_prefix_len(const char *words, unsigned n)
{
	size_t len = 0;

	for (unsigned i = 0; i < n; i++) {
		len += strcspn(words + len, ":");
		if (i + 1 < n && words[len] == ':')
			len++;
	}
	return len;
}

/* Whether @actual is @replayed extended with the first words of @words, and with how many. */
static int match_after_words(const struct bank *b, const uint8_t *replayed, const uint8_t *actual, const char *words,
			     bool *ret_match, unsigned *ret_words)
{
	uint8_t v[DIGEST_MAX], d[DIGEST_MAX];
	unsigned n = 0;

	memcpy(v, replayed, b->size);
	*ret_match = memcmp(v, actual, b->size) == 0;
	*ret_words = 0;
	for (const char *w = words; w && *w && !*ret_match;) {
		size_t len = strcspn(w, ":");

		if (len > 0) {
			if (digest_buffer(b, w, len, d) < 0 || pcr_extend(b, v, d) < 0)
				return -1;
			n++;
			if (memcmp(v, actual, b->size) == 0) {
				*ret_match = true;
				*ret_words = n;
			}
		}
		w += len + (w[len] == ':');
	}
	return 0;
}

int eventlog_compare_pcrs(const struct replay *rp, struct pcr_values *actual, unsigned banks_mask, uint32_t pcrs,
			  size_t *ret_mismatches)
{
	*ret_mismatches = 0;
	for (unsigned p = 0; p < N_PCRS; p++)
		for (size_t b = 0; b < BANK_COUNT; b++) {
			if (!(pcrs & (1u << p)) || !(banks_mask & (1u << b)) || !actual->has[b][p])
				continue;
			if (match_after_words(&banks[b], rp->value[b][p], actual->value[b][p], userspace_words(p),
					      &actual->match[b][p], &actual->words[b][p]) < 0)
				return -1;
			*ret_mismatches += !actual->match[b][p];
		}
	return 0;
}

/* ------------------------------------------------------------ text */

static void print_events_text(const struct replay *rp, unsigned shown_banks)
{
	char tbuf[16], hex[HEX_MAX], desc[EVENT_DESC_MAX];

	printf("%6s  %3s  %-32s  %s\n", "RECORD", "PCR", "TYPE", "DIGESTS / DESCRIPTION");
	printf("%6u  %3u  %-32s  %s\n", 0u, 0u, "EV_NO_ACTION", "(not extended)  Spec ID Event03");
	for (size_t i = 0; i < rp->n_events; i++) {
		const struct log_event *e = &rp->events[i];

		printf("%6u  %3u  %-32s ", e->index, e->pcr, log_event_type_name(e->type, tbuf));
		if (e->type == TCG_EV_NO_ACTION) {
			printf(" (not extended)");
		} else {
			for (size_t b = 0; b < BANK_COUNT; b++)
				if ((shown_banks & (1u << b)) && e->digest[b])
					printf(" %s:%s", banks[b].name, hex_encode(e->digest[b], banks[b].size, hex));
		}
		log_event_describe(e, desc, sizeof(desc));
		printf("%s%s\n", desc[0] ? "  " : "", desc);
	}
	printf("\n");
}

static bool any_actual(const struct eventlog_report *r)
{
	for (unsigned p = 0; p < N_PCRS; p++)
		for (size_t b = 0; b < BANK_COUNT; b++)
			if (shown(r, p, b) && r->actual->has[b][p])
				return true;
	return false;
}

static void print_pcrs_text(const struct eventlog_report *r)
{
	char hex[HEX_MAX], hex2[HEX_MAX];
	bool with_actual = any_actual(r);
	int width = 0;

	if (!r->pcrs || !r->banks) {
		printf("(no PCR to show)\n");
		return;
	}
	for (size_t b = 0; b < BANK_COUNT; b++)
		if ((r->banks & (1u << b)) && (int)(2 * banks[b].size) > width)
			width = (int)(2 * banks[b].size);
	if (with_actual)
		printf("%3s  %-6s  %-*s  %-*s  %s\n", "PCR", "BANK", width, "REPLAYED", width, "ACTUAL", "RESULT");
	else
		printf("%3s  %-6s  %s\n", "PCR", "BANK", "REPLAYED");
	for (unsigned p = 0; p < N_PCRS; p++) {
		for (size_t bi = 0; bi < BANK_COUNT; bi++) {
			const struct bank *b = &banks[bi];

			if (!shown(r, p, bi))
				continue;
			hex_encode(r->rp->value[bi][p], b->size, hex);
			if (!with_actual) {
				printf("%3u  %-6s  %s\n", p, b->name, hex);
			} else if (r->actual->has[bi][p]) {
				const char *words = userspace_words(p);
				unsigned n = r->actual->words[bi][p];

				hex_encode(r->actual->value[bi][p], b->size, hex2);
				printf("%3u  %-6s  %-*s  %-*s  %s", p, b->name, width, hex, width, hex2,
				       r->actual->match[bi][p] ? "ok" : "MISMATCH");
				if (n)
					printf(" after the log plus userspace %.*s", (int)words_prefix_len(words, n), words);
				printf("\n");
			} else {
				printf("%3u  %-6s  %-*s  %-*s  %s\n", p, b->name, width, hex, width, "-", "-");
			}
		}
	}
}

static void print_expectations_text(const struct eventlog_report *r)
{
	const struct expect_set *set = r->set;

	printf("\nExpectations from %s:\n", r->expect_path);
	for (size_t i = 0; i < set->n; i++) {
		const struct expectation *x = &set->items[i];
		bool repeated = false;

		switch (x->result) {
		case EXP_OK:
			printf("  PCR %u %s%s%s%s: ok (%zu log event%s", x->pcr, banks[x->bank].name,
			       x->phase ? " (phase " : "", x->phase ? x->phase : "", x->phase ? ")" : "", x->n_log_events,
			       x->n_log_events == 1 ? "" : "s");
			if (x->n_userspace)
				printf(" + %zu userspace", x->n_userspace);
			printf(")\n");
			break;
		case EXP_SKIPPED:
			printf("  PCR %u %s: skipped, the log has no %s digests\n", x->pcr, banks[x->bank].name,
			       banks[x->bank].name);
			break;
		case EXP_NOT_SELECTED:
			break;
		case EXP_FAILED:
			/* PCR 11's phases share firmware events: say each difference once. */
			for (size_t j = 0; j < i && !repeated; j++)
				repeated = set->items[j].problem && x->problem &&
					   strcmp(set->items[j].problem, x->problem) == 0;
			if (!repeated)
				printf("  %s\n", x->problem ? x->problem : "(out of memory)");
			break;
		}
	}
	if (r->checked == 0)
		printf("  nothing checked: the log has none of the predicted banks, or none was selected\n");
}

void eventlog_print_text(const struct eventlog_report *r)
{
	printf("Event log %s: %zu records; banks", r->log_path, r->rp->n_events + 1);
	for (size_t b = 0; b < BANK_COUNT; b++)
		if (r->rp->banks & (1u << b))
			printf(" %s", banks[b].name);
	if (r->rp->has_locality)
		printf("; startup locality %u", r->rp->locality);
	printf("\n\n");
	if (r->verbose)
		print_events_text(r->rp, r->banks);
	print_pcrs_text(r);
	if (r->expect_path)
		print_expectations_text(r);
	if (any_actual(r) || r->expect_path) {
		printf("\nresult: %s", r->ok ? "ok" : "MISMATCH");
		if (r->mismatches)
			printf(" (%zu PCR value%s differ%s)", r->mismatches, r->mismatches == 1 ? "" : "s",
			       r->mismatches == 1 ? "s" : "");
		if (r->failed)
			printf(" (%zu expectation%s failed)", r->failed, r->failed == 1 ? "" : "s");
		printf("\n");
	}
}

/* ------------------------------------------------------------ JSON */

static void print_events_json(const struct replay *rp, unsigned shown_banks)
{
	char tbuf[16], hex[HEX_MAX], desc[EVENT_DESC_MAX];

	printf("\"events\":[");
	for (size_t i = 0; i < rp->n_events; i++) {
		const struct log_event *e = &rp->events[i];
		bool first = true;

		printf("%s{\"record\":%u,\"pcr\":%u,\"type\":", i ? "," : "", e->index, e->pcr);
		json_write_string(stdout, log_event_type_name(e->type, tbuf));
		printf(",\"extended\":%s,\"digests\":{", e->type == TCG_EV_NO_ACTION ? "false" : "true");
		for (size_t b = 0; b < BANK_COUNT; b++) {
			if (!(shown_banks & (1u << b)) || !e->digest[b])
				continue;
			printf("%s\"%s\":\"%s\"", first ? "" : ",", banks[b].name,
			       hex_encode(e->digest[b], banks[b].size, hex));
			first = false;
		}
		log_event_describe(e, desc, sizeof(desc));
		printf("},\"description\":");
		json_write_string(stdout, desc);
		printf("}");
	}
	printf("],");
}

/* The userspace words a match needed, as a list ([] for the log alone); null without a match. */
static void print_userspace_json(bool match, const char *words, unsigned n)
{
	if (!match) {
		printf("null");
		return;
	}
	printf("[");
	for (unsigned i = 0; i < n; i++) {
		size_t len = strcspn(words, ":");

		printf("%s\"%.*s\"", i ? "," : "", (int)len, words); /* our own words: plain ASCII */
		words += len + (words[len] == ':');
	}
	printf("]");
}

static void print_pcrs_json(const struct eventlog_report *r)
{
	char hex[HEX_MAX], hex2[HEX_MAX];
	bool first = true;

	printf("\"pcrs\":[");
	for (unsigned p = 0; p < N_PCRS; p++) {
		for (size_t b = 0; b < BANK_COUNT; b++) {
			if (!shown(r, p, b))
				continue;
			printf("%s{\"pcr\":%u,\"bank\":\"%s\",\"replayed\":\"%s\",\"actual\":", first ? "" : ",", p,
			       banks[b].name, hex_encode(r->rp->value[b][p], banks[b].size, hex));
			first = false;
			if (r->actual->has[b][p]) {
				hex_encode(r->actual->value[b][p], banks[b].size, hex2);
				printf("\"%s\",\"match\":%s,\"userspace\":", hex2, r->actual->match[b][p] ? "true" : "false");
				print_userspace_json(r->actual->match[b][p], userspace_words(p), r->actual->words[b][p]);
				printf("}");
			} else {
				printf("null,\"match\":null,\"userspace\":null}");
			}
		}
	}
	printf("]");
}

static void print_expectations_json(const struct eventlog_report *r)
{
	static const char *const words[] = { "ok", "mismatch", "skipped", "not-selected" };

	printf(",\"expect\":{\"file\":");
	json_write_string(stdout, r->expect_path);
	printf(",\"checked\":%zu,\"checks\":[", r->checked);
	for (size_t i = 0; i < r->set->n; i++) {
		const struct expectation *x = &r->set->items[i];

		printf("%s{\"pcr\":%u,\"bank\":\"%s\",\"phase\":", i ? "," : "", x->pcr, banks[x->bank].name);
		json_write_string_or_null(stdout, x->phase);
		printf(",\"result\":\"%s\",\"problem\":", words[x->result]);
		json_write_string_or_null(stdout, x->problem);
		printf("}");
	}
	printf("]}");
}

void eventlog_print_json(const struct eventlog_report *r)
{
	bool first = true;

	printf("{\"log\":");
	json_write_string(stdout, r->log_path);
	printf(",\"banks\":[");
	for (size_t b = 0; b < BANK_COUNT; b++)
		if (r->banks & (1u << b)) {
			printf("%s\"%s\"", first ? "" : ",", banks[b].name);
			first = false;
		}
	printf("],\"startup_locality\":");
	if (r->rp->has_locality)
		printf("%u", r->rp->locality);
	else
		printf("null");
	printf(",");
	if (r->verbose)
		print_events_json(r->rp, r->banks);
	print_pcrs_json(r);
	if (r->expect_path)
		print_expectations_json(r);
	printf(",\"ok\":%s}\n", r->ok ? "true" : "false");
}
