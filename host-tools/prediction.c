/* SPDX-License-Identifier: MIT */
#include "prediction.h"

#include <stdlib.h>
#include <string.h>

#include "json-writer.h"
#include "util.h"

static const char *const type_names[] = {
	[PRED_EV_IPL] = "EV_IPL",
	[PRED_EV_EVENT_TAG] = "EV_EVENT_TAG",
	[PRED_USERSPACE] = "userspace",
};

void prediction_free(struct prediction *p)
{
	for (size_t i = 0; i < p->n_events; i++) {
		free(p->events[i].description);
		free(p->events[i].file);
		free(p->events[i].phase);
	}
	free(p->events);
	for (size_t i = 0; i < p->n_phases; i++)
		free(p->phases[i]);
	memset(p, 0, sizeof(*p));
}

static struct pred_event *append(struct prediction *p, unsigned pcr, enum pred_type type, const char *description,
				 const char *file)
{
	struct pred_event *e, *grown = realloc(p->events, (p->n_events + 1) * sizeof(*p->events));

	if (!grown) {
		errorf("out of memory");
		return NULL;
	}
	p->events = grown;
	e = &p->events[p->n_events];
	memset(e, 0, sizeof(*e));
	e->pcr = pcr;
	e->type = type;
	e->description = strdup(description);
	e->file = file ? strdup(file) : NULL;
	if (!e->description || (file && !e->file)) {
		free(e->description);
		free(e->file);
		errorf("out of memory");
		return NULL;
	}
	p->n_events++;
	return e;
}

int prediction_add_data(struct prediction *p, unsigned pcr, enum pred_type type, const char *description,
			const char *file, const void *data, size_t len)
{
	uint8_t d[BANK_COUNT][DIGEST_MAX] = { { 0 } };

	for (size_t i = 0; i < BANK_COUNT; i++)
		if ((p->banks & (1u << i)) && digest_buffer(&banks[i], data, len, d[i]) < 0)
			return -1;
	return prediction_add_digests(p, pcr, type, description, file, d);
}

int prediction_add_digests(struct prediction *p, unsigned pcr, enum pred_type type, const char *description,
			   const char *file, const uint8_t digest[BANK_COUNT][DIGEST_MAX])
{
	struct pred_event *e = append(p, pcr, type, description, file);

	if (!e)
		return -1;
	memcpy(e->digest, digest, sizeof(e->digest));
	return 0;
}

/* @phase as systemd-measure reports it: its non-empty words joined by ':' ("a::b:" -> "a:b"). */
static char *phase_normalize(const char *phase)
{
	char *n = malloc(strlen(phase) + 1), *o = n;

	if (!n)
		return NULL;
	for (const char *w = phase; *w;) {
		size_t len = strcspn(w, ":");

		if (len > 0) {
			if (o != n)
				*o++ = ':';
			memcpy(o, w, len);
			o += len;
		}
		w += len;
		if (*w == ':')
			w++;
	}
	*o = 0;
	return n;
}

int prediction_add_phase(struct prediction *p, const char *phase_arg)
{
	char *norm = phase_normalize(phase_arg);
	const char *phase = norm, *word;

	if (!norm)
		return errorf("out of memory");
	/* The same phase twice (also "a::b" after "a:b"): one report, as systemd-measure gives. */
	for (size_t i = 0; i < p->n_phases; i++)
		if (strcmp(p->phases[i], norm) == 0) {
			free(norm);
			return 0;
		}
	if (p->n_phases >= PRED_MAX_PHASES) {
		free(norm);
		return errorf("at most %d --phase options", PRED_MAX_PHASES);
	}
	p->phases[p->n_phases++] = norm; /* owned by @p from here on */
	word = phase;
	/* Like systemd-measure: words separated by ':', empty words dropped, UTF-8 without NUL. */
	while (*word) {
		size_t len = strcspn(word, ":");

		if (len > 0) {
			char *w = strndup(word, len);
			int r = w ? prediction_add_data(p, 11, PRED_USERSPACE, w, NULL, w, len) : errorf("out of memory");

			free(w);
			if (r < 0)
				return r;
			p->events[p->n_events - 1].phase = strdup(phase);
			if (!p->events[p->n_events - 1].phase)
				return errorf("out of memory");
		}
		word += len;
		if (*word == ':')
			word++;
	}
	return 0;
}

/* Whether event @e belongs to the value reported for @pcr at @phase (NULL: no phases). */
static bool event_in(const struct pred_event *e, unsigned pcr, const char *phase)
{
	if (e->pcr != pcr)
		return false;
	if (!e->phase)
		return true;
	return phase && strcmp(e->phase, phase) == 0;
}

void prediction_value(const struct prediction *p, size_t bank_i, unsigned pcr, const char *phase,
		      uint8_t out[DIGEST_MAX])
{
	memset(out, 0, DIGEST_MAX);
	if (pcr == 13 && p->has_initial[bank_i])
		memcpy(out, p->initial13[bank_i], banks[bank_i].size);
	for (size_t i = 0; i < p->n_events; i++)
		if (event_in(&p->events[i], pcr, phase))
			(void)pcr_extend(&banks[bank_i], out, p->events[i].digest[bank_i]);
}

/* The reported values: one per PCR, and for PCR 11 one per phase. */
struct report {
	unsigned pcr;
	const char *phase;
};

static size_t reports(const struct prediction *p, struct report *out, size_t cap)
{
	size_t n = 0;

	for (unsigned pcr = 0; pcr < 24; pcr++) {
		if (!(p->pcrs & (1u << pcr)))
			continue;
		if (pcr == 11 && p->n_phases > 0) {
			for (size_t i = 0; i < p->n_phases && n < cap; i++)
				out[n++] = (struct report){ pcr, p->phases[i] };
		} else if (n < cap) {
			out[n++] = (struct report){ pcr, NULL };
		}
	}
	return n;
}

void prediction_print_table(const struct prediction *p, FILE *out)
{
	struct report r[24 + PRED_MAX_PHASES];
	size_t n = reports(p, r, sizeof(r) / sizeof(r[0]));
	char hex[2 * DIGEST_MAX + 1];

	for (size_t k = 0; k < n; k++) {
		/* Event digests are listed in sha256 when predicted, else in the first bank. */
		size_t shown = (p->banks & 2u) ? 1 : (size_t)__builtin_ctz(p->banks), idx = 0;
		uint8_t v[DIGEST_MAX];

		if (r[k].phase)
			fprintf(out, "# PCR %u, phase <%s>\n", r[k].pcr, r[k].phase);
		else
			fprintf(out, "# PCR %u\n", r[k].pcr);
		for (size_t b = 0; b < BANK_COUNT; b++) {
			if (!(p->banks & (1u << b)))
				continue;
			prediction_value(p, b, r[k].pcr, r[k].phase, v);
			fprintf(out, "%u:%s=%s\n", r[k].pcr, banks[b].name, hex_encode(v, banks[b].size, hex));
		}
		if (r[k].pcr == 13 && p->has_initial[shown])
			fprintf(out, "  (starting from %s)\n", hex_encode(p->initial13[shown], banks[shown].size, hex));
		for (size_t i = 0; i < p->n_events; i++) {
			const struct pred_event *e = &p->events[i];

			if (!event_in(e, r[k].pcr, r[k].phase))
				continue;
			fprintf(out, "  %2zu %-12s %s:%.16s… %s%s%s%s\n", ++idx, type_names[e->type], banks[shown].name,
				hex_encode(e->digest[shown], banks[shown].size, hex), e->description,
				e->file ? " (" : "", e->file ? e->file : "", e->file ? ")" : "");
		}
		if (idx == 0)
			fprintf(out, "  (no events)\n");
	}
}

/* The error for @text, which JSON cannot carry; shown escaped (util.h), as it is no text. */
static int not_utf8(const char *what, const char *text, const char *advice)
{
	char *shown = shown_text(text);

	errorf("%s%s: not UTF-8, which JSON cannot carry (%s)", what, SHOWN(shown), advice);
	shown_free(shown);
	return -1;
}

/*
 * The first string of @p that JSON cannot carry (json-writer.h), named in
 * an error: an event's file, or its description (a --phase word, say).
 */
static int check_json_text(const struct prediction *p)
{
	for (size_t i = 0; i < p->n_events; i++) {
		const struct pred_event *e = &p->events[i];

		if (e->file && !json_text_ok(e->file))
			return not_utf8("", e->file, "rename it, or leave out --json");
		if (!json_text_ok(e->description) || (e->phase && !json_text_ok(e->phase)))
			return not_utf8("an event description: ", e->description, "leave out --json");
	}
	for (size_t i = 0; i < p->n_phases; i++)
		if (!json_text_ok(p->phases[i]))
			return not_utf8("phase ", p->phases[i], "leave out --json");
	return 0;
}

/* The entries of @p for bank @b, each after a comma unless *first. */
static void print_json_entries(const struct prediction *p, size_t b, bool *first, FILE *out)
{
	struct report r[24 + PRED_MAX_PHASES];
	size_t n = reports(p, r, sizeof(r) / sizeof(r[0]));
	char hex[2 * DIGEST_MAX + 1];

	for (size_t k = 0; k < n; k++) {
		uint8_t v[DIGEST_MAX];
		bool first_event = true;

		prediction_value(p, b, r[k].pcr, r[k].phase, v);
		fprintf(out, "%s{", *first ? "" : ",");
		*first = false;
		if (p->has_profile)
			fprintf(out, "\"profile\":%u,", p->profile);
		if (r[k].phase && *r[k].phase) {
			fputs("\"phase\":", out);
			json_write_string(out, r[k].phase);
			fputc(',', out);
		}
		fprintf(out, "\"pcr\":%u,\"hash\":\"%s\"", r[k].pcr, hex_encode(v, banks[b].size, hex));
		if (r[k].pcr == 13 && p->has_initial[b])
			fprintf(out, ",\"initial\":\"%s\"", hex_encode(p->initial13[b], banks[b].size, hex));
		fputs(",\"events\":[", out);
		for (size_t i = 0; i < p->n_events; i++) {
			const struct pred_event *e = &p->events[i];

			if (!event_in(e, r[k].pcr, r[k].phase))
				continue;
			fprintf(out, "%s{\"type\":\"%s\",\"digest\":\"%s\",\"description\":", first_event ? "" : ",",
				type_names[e->type], hex_encode(e->digest[b], banks[b].size, hex));
			json_write_string(out, e->description);
			if (e->file) {
				fputs(",\"file\":", out);
				json_write_string(out, e->file);
			}
			fputc('}', out);
			first_event = false;
		}
		fputs("]}", out);
	}
}

int prediction_print_json_many(const struct prediction *p, size_t n, FILE *out)
{
	bool first_bank = true;

	for (size_t i = 0; i < n; i++)
		if (check_json_text(&p[i]) < 0)
			return -1;
	fputc('{', out);
	for (size_t b = 0; b < BANK_COUNT; b++) {
		bool first = true;

		if (n == 0 || !(p[0].banks & (1u << b)))
			continue;
		fprintf(out, "%s\"%s\":[", first_bank ? "" : ",", banks[b].name);
		first_bank = false;
		for (size_t i = 0; i < n; i++)
			print_json_entries(&p[i], b, &first, out);
		fputc(']', out);
	}
	fputs("}\n", out);
	return 0;
}

int prediction_print_json(const struct prediction *p, FILE *out)
{
	return prediction_print_json_many(p, 1, out);
}

void prediction_print_table_many(const struct prediction *p, size_t n, FILE *out)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i].has_profile)
			fprintf(out, "%s# profile %u\n", i ? "\n" : "", p[i].profile);
		prediction_print_table(&p[i], out);
	}
}
