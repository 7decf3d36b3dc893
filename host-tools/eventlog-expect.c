/* SPDX-License-Identifier: MIT */
#include "eventlog-expect.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure/json.h"
#include "util.h"

#define EXPECT_SIZE_MAX ((size_t)16 << 20)

/* In place: control characters, DEL and what no JSON string can hold (json_char_len()) become '?'. */
static void sanitize(char *s)
{
	for (size_t left = strlen(s), n; left > 0; s += n, left -= n) {
		n = json_char_len(s, left);
		if (n == 0 || (n == 1 && ((unsigned char)*s < 0x20 || *s == 0x7f))) {
			*s = '?';
			n = 1;
		}
	}
}

struct jctx {
	const char *path;
	const struct json_doc *doc;
};

void eventlog_expect_free(struct expect_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		struct expectation *x = &set->items[i];

		for (size_t k = 0; k < x->n_events; k++) {
			free(x->events[k].type_name);
			free(x->events[k].description);
			free(x->events[k].file);
		}
		free(x->events);
		free(x->phase);
		free(x->problem);
	}
	free(set->items);
	set->items = NULL;
	set->n = 0;
}

/* A string token as a sanitised C string; NULL if it holds a NUL (or no memory). */
static char *tok_strdup(const struct json_doc *d, uint32_t tok)
{
	size_t n = 0;
	char *s;

	(void)json_string_unescape(d, tok, NULL, 0, &n);
	s = malloc(n + 1);
	if (!s)
		return NULL;
	if (json_string_unescape(d, tok, s, n + 1, NULL) != MS_OK || strlen(s) != n) {
		free(s);
		return NULL;
	}
	sanitize(s);
	return s;
}

static const char *json_type_word(int type)
{
	switch (type) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_NUMBER: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "?";
}

/*
 * Member @key of object @obj, which must have @type. Returns 1 and sets
 * *ret, 0 when absent (or null) and optional, -1 on error (printed).
 */
static int member(const struct jctx *c, const char *where, uint32_t obj, const char *key, int type, bool required,
		  uint32_t *ret)
{
	ms_status r = json_object_get(c->doc, obj, key, ret);

	if (r == MS_ERR_INVALID)
		return errorf("%s: %s: \"%s\" appears more than once", c->path, where, key);
	if (r != MS_OK || (!required && json_type(c->doc, *ret) == JSON_NULL)) {
		if (required)
			return errorf("%s: %s: \"%s\" is missing", c->path, where, key);
		return 0;
	}
	if (json_type(c->doc, *ret) != type)
		return errorf("%s: %s: \"%s\" must be %s, not %s", c->path, where, key, json_type_word(type),
			      json_type_word(json_type(c->doc, *ret)));
	return 1;
}

static int member_string(const struct jctx *c, const char *where, uint32_t obj, const char *key, bool required,
			 char **ret)
{
	uint32_t tok;
	int r = member(c, where, obj, key, JSON_STRING, required, &tok);

	*ret = NULL;
	if (r <= 0)
		return r;
	*ret = tok_strdup(c->doc, tok);
	if (!*ret)
		return errorf("%s: %s: \"%s\" contains a NUL character", c->path, where, key);
	return 1;
}

static int member_hex(const struct jctx *c, const char *where, uint32_t obj, const char *key, size_t bank,
		      bool required, uint8_t out[DIGEST_MAX])
{
	char text[HEX_MAX + 1];
	uint32_t tok;
	int r = member(c, where, obj, key, JSON_STRING, required, &tok);

	if (r <= 0)
		return r;
	if (json_string_unescape(c->doc, tok, text, sizeof(text), NULL) != MS_OK ||
	    hex_decode(text, out, banks[bank].size) < 0)
		return errorf("%s: %s: \"%s\" must be %zu hex digits (a %s value)", c->path, where, key,
			      2 * banks[bank].size, banks[bank].name);
	return 1;
}

static int parse_exp_event(const struct jctx *c, const char *where, uint32_t obj, size_t bank, struct exp_event *e)
{
	if (json_type(c->doc, obj) != JSON_OBJECT)
		return errorf("%s: %s: must be an object", c->path, where);
	if (member_string(c, where, obj, "type", true, &e->type_name) < 0)
		return -1;
	if (strcmp(e->type_name, "userspace") == 0)
		e->userspace = true;
	else if (!tcglog_event_type_from_name(e->type_name, &e->type))
		return errorf("%s: %s: unknown event type \"%s\" (EV_IPL, EV_EVENT_TAG, ... or userspace)", c->path,
			      where, e->type_name);
	if (member_hex(c, where, obj, "digest", bank, true, e->digest) < 0 ||
	    member_string(c, where, obj, "description", false, &e->description) < 0 ||
	    member_string(c, where, obj, "file", false, &e->file) < 0)
		return -1;
	return 0;
}

static int parse_entry(const struct jctx *c, const char *where, uint32_t obj, size_t bank, struct expectation *x)
{
	uint32_t tok, events;
	uint64_t pcr;
	int r;

	x->bank = bank;
	if (json_type(c->doc, obj) != JSON_OBJECT)
		return errorf("%s: %s: must be an object", c->path, where);
	if (member(c, where, obj, "pcr", JSON_NUMBER, true, &tok) < 0)
		return -1;
	if (json_uint(c->doc, tok, N_PCRS - 1, &pcr) != MS_OK)
		return errorf("%s: %s: \"pcr\" must be an integer 0..23", c->path, where);
	x->pcr = (unsigned)pcr;
	if (member_hex(c, where, obj, "hash", bank, true, x->hash) < 0)
		return -1;
	r = member_hex(c, where, obj, "initial", bank, false, x->initial);
	if (r < 0)
		return -1;
	x->has_initial = r > 0;
	if (member_string(c, where, obj, "phase", false, &x->phase) < 0)
		return -1;
	r = member(c, where, obj, "profile", JSON_NUMBER, false, &tok);
	if (r < 0)
		return -1;
	if (r > 0 && json_uint(c->doc, tok, UINT32_MAX, &pcr) != MS_OK)
		return errorf("%s: %s: \"profile\" must be an integer 0..4294967295", c->path, where);
	x->has_profile = r > 0;
	x->profile = r > 0 ? (uint32_t)pcr : 0;
	if (member(c, where, obj, "events", JSON_ARRAY, true, &events) < 0)
		return -1;
	x->events = calloc(json_token(c->doc, events)->size + 1, sizeof(*x->events));
	if (!x->events)
		return errorf("out of memory");
	for (uint32_t e = json_first(c->doc, events); e != JSON_NONE; e = json_next(c->doc, e)) {
		char ewhere[96];

		snprintf(ewhere, sizeof(ewhere), "%s.events[%zu]", where, x->n_events);
		if (parse_exp_event(c, ewhere, e, bank, &x->events[x->n_events++]) < 0)
			return -1;
	}
	return 0;
}

/* Parse @buf, or say where it stops being JSON (line and column). Returns 0, or -1 (printed). */
static int parse_document(const char *path, const uint8_t *buf, size_t len, struct json_doc *doc,
			  struct json_token *tokens, size_t n_tok)
{
	ms_status r = json_parse(doc, buf, len, tokens, (uint32_t)n_tok);
	size_t line = 1, col = 1;

	if (r == MS_OK)
		return 0;
	for (size_t i = 0; i < doc->error_offset && i < len; i++) {
		col++;
		if (buf[i] == '\n') {
			line++;
			col = 1;
		}
	}
	/* With JSON_TOKENS_FOR() tokens, running out of them means a syntax error. */
	return errorf("%s: not valid JSON: %s at line %zu, column %zu", path,
		      r == MS_ERR_TRUNCATED ? "unexpected end of input"
		      : r == MS_ERR_LIMIT   ? "nested too deeply"
					    : "syntax error",
		      line, col);
}

/* A zeroed item at the end of @set (*cap: its allocated length), or NULL (printed). */
static struct expectation *new_item(struct expect_set *set, size_t *cap)
{
	if (set->n == *cap) {
		size_t ncap = *cap ? 2 * *cap : 16;
		struct expectation *n = realloc(set->items, ncap * sizeof(*n));

		if (!n) {
			errorf("out of memory");
			return NULL;
		}
		set->items = n;
		*cap = ncap;
	}
	memset(&set->items[set->n], 0, sizeof(set->items[0]));
	return &set->items[set->n++];
}

/* The entries of bank @b, whose key in the top-level object is token @key. */
static int load_bank(const struct jctx *c, const struct bank *b, uint32_t key, struct expect_set *set, size_t *cap)
{
	uint32_t arr = key + 1, i = 0;

	/* Two arrays for one bank: which one did the predictor mean? */
	if (json_object_get(c->doc, 0, b->name, &arr) == MS_ERR_INVALID)
		return errorf("%s: \"%s\" appears more than once", c->path, b->name);
	arr = key + 1;
	if (json_type(c->doc, arr) != JSON_ARRAY)
		return errorf("%s: \"%s\" must be an array of PCR entries", c->path, b->name);
	for (uint32_t e = json_first(c->doc, arr); e != JSON_NONE; e = json_next(c->doc, e), i++) {
		struct expectation *x = new_item(set, cap);
		char where[48];

		if (!x)
			return -1;
		snprintf(where, sizeof(where), "%s[%u]", b->name, i);
		if (parse_entry(c, where, e, bank_index(b), x) < 0)
			return -1;
	}
	return 0;
}

int eventlog_load_expect(const char *path, struct expect_set *set)
{
	struct json_token *tokens = NULL;
	struct json_doc doc;
	struct jctx c = { path, &doc };
	uint8_t *buf = NULL;
	size_t len = 0, n_tok, cap = 0;
	int ret = -1;

	if (read_any_file(path, EXPECT_SIZE_MAX, false, &buf, &len) < 0)
		return -1;
	n_tok = JSON_TOKENS_FOR(len);
	tokens = calloc(n_tok, sizeof(*tokens));
	if (!tokens) {
		errorf("%s: out of memory", path);
		goto out;
	}
	if (parse_document(path, buf, len, &doc, tokens, n_tok) < 0)
		goto out;
	if (json_type(&doc, 0) != JSON_OBJECT) {
		errorf("%s: expected an object of banks ({\"sha256\":[...]}), not %s", path,
		       json_type_word(json_type(&doc, 0)));
		goto out;
	}
	for (uint32_t k = json_first(&doc, 0); k != JSON_NONE; k = json_next(&doc, k)) {
		for (size_t j = 0; j < BANK_COUNT; j++)
			if (json_string_equals(&doc, k, banks[j].name)) {
				if (load_bank(&c, &banks[j], k, set, &cap) < 0)
					goto out;
				break;
			}
	}
	ret = 0;
out:
	free(tokens);
	free(buf);
	return ret;
}

/* ------------------------------------------------------------ checking the prediction */

static char *exp_label(const struct exp_event *e)
{
	char *s = NULL;

	if (asprintf(&s, "%s%s%s%s", e->description ? e->description : e->type_name, e->file ? " (file " : "",
		     e->file ? e->file : "", e->file ? ")" : "") < 0)
		return NULL;
	return s;
}

static char *log_label(const struct log_event *e)
{
	char desc[EVENT_DESC_MAX], tbuf[16], *s = NULL;

	log_event_describe(e, desc, sizeof(desc));
	if ((desc[0] ? asprintf(&s, "description \"%s\", log record #%u", desc, e->index)
		     : asprintf(&s, "%s, log record #%u", log_event_type_name(e->type, tbuf), e->index)) < 0)
		return NULL;
	return s;
}

static void set_problem(struct expectation *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_problem(struct expectation *x, const char *fmt, ...)
{
	va_list ap;

	x->result = EXP_FAILED;
	va_start(ap, fmt);
	if (vasprintf(&x->problem, fmt, ap) < 0)
		x->problem = NULL;
	va_end(ap);
}

/* The expected start value (zero, or "initial") against the one the log implies (locality for PCR 0). */
static bool check_start(struct expectation *x, const struct replay *rp)
{
	const struct bank *b = &banks[x->bank];
	uint8_t start[DIGEST_MAX] = { 0 }, log_start[DIGEST_MAX];
	char hx[HEX_MAX], hy[HEX_MAX];

	if (x->has_initial)
		memcpy(start, x->initial, b->size);
	tcglog_initial_pcr_value(x->pcr, rp->has_locality ? rp->locality : 0, log_start, b->size);
	if (memcmp(start, log_start, b->size) == 0)
		return true;
	set_problem(x, "PCR %u %s: initial value differs: expected %s, the log implies %s", x->pcr, b->name,
		    hex_encode(start, b->size, hx), hex_encode(log_start, b->size, hy));
	return false;
}

/* The next event of x->pcr in the log from *k on (EV_NO_ACTION skipped), or NULL. */
static const struct log_event *next_in_pcr(const struct expectation *x, const struct replay *rp, size_t *k)
{
	while (*k < rp->n_events) {
		const struct log_event *c = &rp->events[(*k)++];

		if (c->pcr == x->pcr && c->type != TCG_EV_NO_ACTION)
			return c;
	}
	return NULL;
}

/* Expected event @e, the @nth of the firmware's, against log event @le (NULL: the log ended). */
static bool check_event(struct expectation *x, const struct exp_event *e, size_t nth, const struct log_event *le)
{
	const struct bank *b = &banks[x->bank];
	char hx[HEX_MAX], hy[HEX_MAX], tbuf[16], *el = exp_label(e), *ll = le ? log_label(le) : NULL;

	if (!le)
		set_problem(x, "PCR %u %s: log ends before expected event %zu: %s digest %s", x->pcr, b->name, nth,
			    el ? el : "?", hex_encode(e->digest, b->size, hx));
	else if (memcmp(le->digest[x->bank], e->digest, b->size) != 0)
		set_problem(x, "PCR %u %s: event %zu differs: expected %s digest %s, log has digest %s (%s)", x->pcr,
			    b->name, nth, el ? el : "?", hex_encode(e->digest, b->size, hx),
			    hex_encode(le->digest[x->bank], b->size, hy), ll ? ll : "?");
	else if (le->type != e->type)
		set_problem(x, "PCR %u %s: event %zu differs: expected %s of type %s, log has type %s (%s)", x->pcr,
			    b->name, nth, el ? el : "?", e->type_name, log_event_type_name(le->type, tbuf),
			    ll ? ll : "?");
	free(el);
	free(ll);
	return x->result != EXP_FAILED;
}

/* The log's events of x->pcr from @k on, which the prediction does not have. */
static bool check_no_more(struct expectation *x, const struct replay *rp, size_t k)
{
	const struct bank *b = &banks[x->bank];
	const struct log_event *first = next_in_pcr(x, rp, &k);
	size_t more = first ? 1 : 0;
	char hx[HEX_MAX], *ll;

	if (!first)
		return true;
	while (next_in_pcr(x, rp, &k))
		more++;
	ll = log_label(first);
	set_problem(x, "PCR %u %s: log has %zu more event%s than expected, the first: digest %s (%s)", x->pcr,
		    b->name, more, more == 1 ? "" : "s", hex_encode(first->digest[x->bank], b->size, hx),
		    ll ? ll : "?");
	free(ll);
	return false;
}

/* The log's value of x->pcr extended with the userspace events, against the expected hash. */
static void check_value(struct expectation *x, const struct replay *rp)
{
	const struct bank *b = &banks[x->bank];
	uint8_t v[DIGEST_MAX];
	char hx[HEX_MAX], hy[HEX_MAX];

	memcpy(v, rp->value[x->bank][x->pcr], b->size);
	for (size_t j = 0; j < x->n_events; j++)
		if (x->events[j].userspace && pcr_extend(b, v, x->events[j].digest) < 0) {
			set_problem(x, "PCR %u %s: hashing failed", x->pcr, b->name);
			return;
		}
	if (memcmp(v, x->hash, b->size) != 0)
		set_problem(x, "PCR %u %s%s%s%s: the log's value extended with %zu userspace event%s is %s, expected hash %s",
			    x->pcr, b->name, x->phase ? " (phase " : "", x->phase ? x->phase : "", x->phase ? ")" : "",
			    x->n_userspace, x->n_userspace == 1 ? "" : "s", hex_encode(v, b->size, hx),
			    hex_encode(x->hash, b->size, hy));
}

void expectation_check(struct expectation *x, const struct replay *rp)
{
	size_t k = 0, nth = 0;

	x->result = EXP_OK;
	if (!check_start(x, rp))
		return;
	for (size_t j = 0; j < x->n_events; j++) {
		const struct log_event *le;

		if (x->events[j].userspace) {
			x->n_userspace++;
			continue;
		}
		nth++;
		le = next_in_pcr(x, rp, &k);
		if (le)
			x->n_log_events++;
		if (!check_event(x, &x->events[j], nth, le))
			return;
	}
	if (check_no_more(x, rp, k))
		check_value(x, rp);
}
