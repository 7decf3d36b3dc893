/* SPDX-License-Identifier: MIT */
/*
 * fuzz-json.c - libFuzzer target for measure/json.c.
 *
 * Parses the input; whenever the parser accepts it, the promises json.h
 * makes must hold: the token count stays within JSON_TOKENS_FOR(), the
 * tokens form the documented tree (parents, `next`, child counts, keys
 * followed by their values), each token's bytes start and end as its type
 * says, every string unescapes and compares equal to its own unescaping,
 * every key is found by json_object_get() (or reported as a duplicate),
 * and the raw bytes of a subtree parse on their own into as many tokens.
 * Whether the parser accepts at all is checked against
 * tests/sd-json-model.c, an independent model of systemd's JSON parser:
 * json.c accepts exactly what that model accepts, except documents with a
 * NUL byte or nested deeper than JSON_MAX_DEPTH (which json.c refuses).
 * A broken promise aborts with a message.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure/json.h"
#include "tests/sd-json-model.h"

#define CHECK(cond)                                                                            \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "fuzz-json: %s:%d: invariant failed: %s\n", __FILE__,  \
				__LINE__, #cond);                                              \
			abort();                                                               \
		}                                                                              \
	} while (0)

#define MAX_TOKENS 8192
#define MAX_REPARSE 64 /* subtrees re-parsed on their own (quadratic) */
#define STR_MAX 4096

static struct json_token tokens[MAX_TOKENS];
static struct json_token sub_tokens[MAX_TOKENS];
static char str[STR_MAX];

static void check_string(const struct json_doc *d, uint32_t i)
{
	size_t n = 0, n2 = 0;
	ms_status r;

	CHECK(json_string_unescape(d, i, NULL, 0, &n) == MS_ERR_BUFFER_TOO_SMALL);
	/* Unescaping never makes a string longer than its source. */
	CHECK(n <= (size_t)(d->tokens[i].end - d->tokens[i].start - 2));
	if (n >= STR_MAX)
		return;
	r = json_string_unescape(d, i, str, sizeof(str), &n2);
	CHECK(r == MS_OK);
	CHECK(n2 == n);
	CHECK(str[n] == '\0');
	if (strlen(str) == n) {
		CHECK(json_string_equals(d, i, str));
		/* A key is found by its own name, unless it occurs twice. */
		if (d->tokens[i].size == 1) {
			uint32_t v = JSON_NONE;

			r = json_object_get(d, d->tokens[i].parent, str, &v);
			CHECK(r == MS_OK || r == MS_ERR_INVALID);
			if (r == MS_OK)
				CHECK(v == i + 1);
		}
	}
}

static void check_number(const struct json_doc *d, uint32_t i)
{
	const uint8_t *raw;
	size_t len;
	uint64_t v;
	ms_status r;

	json_raw(d, i, &raw, &len);
	r = json_uint(d, i, UINT64_MAX, &v);
	if (r == MS_OK) {
		char buf[24];
		int n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);

		CHECK(n > 0 && (size_t)n == len && memcmp(buf, raw, len) == 0);
	} else {
		CHECK(r == MS_ERR_INVALID || r == MS_ERR_LIMIT);
	}
}

static void check_children(const struct json_doc *d, uint32_t i)
{
	const struct json_token *t = &d->tokens[i];
	uint32_t n = 0, prev = i;

	for (uint32_t c = json_first(d, i); c != JSON_NONE; c = json_next(d, c)) {
		CHECK(c > prev);
		CHECK(c < t->next);
		CHECK(d->tokens[c].parent == i);
		if (t->type == JSON_OBJECT) {
			CHECK(d->tokens[c].type == JSON_STRING);
			CHECK(d->tokens[c].size == 1);
			CHECK(d->tokens[c].next == d->tokens[c + 1].next);
		}
		prev = c;
		n++;
		CHECK(n <= t->size);
	}
	CHECK(n == t->size);
	if (n)
		CHECK(d->tokens[prev].next == t->next);
}

static void check_token(const struct json_doc *d, uint32_t i, const uint8_t *data, size_t size)
{
	const struct json_token *t = &d->tokens[i];
	uint8_t first, last;

	CHECK(t->start < t->end);
	CHECK(t->end <= size);
	CHECK(t->next > i && t->next <= d->n_tokens);
	CHECK(i == 0 ? t->parent == JSON_NONE : t->parent < i);
	if (i > 0) {
		const struct json_token *p = &d->tokens[t->parent];

		CHECK(t->next <= p->next);
		if (p->type == JSON_STRING)
			CHECK(t->start >= p->end); /* a member's value follows its key */
		else
			CHECK(t->start > p->start && t->end < p->end);
	}
	first = data[t->start];
	last = data[t->end - 1];
	switch (t->type) {
	case JSON_OBJECT:
		CHECK(first == '{' && last == '}');
		check_children(d, i);
		break;
	case JSON_ARRAY:
		CHECK(first == '[' && last == ']');
		check_children(d, i);
		break;
	case JSON_STRING:
		CHECK(first == '"' && last == '"' && t->end - t->start >= 2);
		CHECK(t->size == 0 || t->size == 1);
		if (t->size == 1) {
			CHECK(d->tokens[t->parent].type == JSON_OBJECT);
			CHECK(i + 1 < d->n_tokens && d->tokens[i + 1].parent == i);
			CHECK(json_first(d, i) == i + 1);
		} else {
			CHECK(t->next == i + 1);
		}
		check_string(d, i);
		break;
	case JSON_NUMBER:
		CHECK(first == '-' || (first >= '0' && first <= '9'));
		CHECK(last >= '0' && last <= '9');
		CHECK(t->size == 0 && t->next == i + 1);
		check_number(d, i);
		break;
	case JSON_TRUE:
		CHECK(t->end - t->start == 4 && memcmp(data + t->start, "true", 4) == 0);
		break;
	case JSON_FALSE:
		CHECK(t->end - t->start == 5 && memcmp(data + t->start, "false", 5) == 0);
		break;
	case JSON_NULL:
		CHECK(t->end - t->start == 4 && memcmp(data + t->start, "null", 4) == 0);
		break;
	default:
		CHECK(!"unknown token type");
	}
}

/* A token's raw bytes are a document of their own, with the same subtree. */
static void check_reparse(const struct json_doc *d, uint32_t i)
{
	const struct json_token *t = &d->tokens[i];
	uint32_t expected = t->size == 1 && t->type == JSON_STRING ? 1 : t->next - i;
	const uint8_t *raw;
	size_t len;
	struct json_doc sub;
	uint8_t *copy;

	json_raw(d, i, &raw, &len);
	CHECK(raw != NULL);
	copy = malloc(len);
	CHECK(copy != NULL);
	memcpy(copy, raw, len);
	CHECK(json_parse(&sub, copy, len, sub_tokens, MAX_TOKENS) == MS_OK);
	CHECK(sub.n_tokens == expected);
	for (uint32_t j = 0; j < expected; j++) {
		CHECK(sub_tokens[j].type == t[j].type);
		CHECK(sub_tokens[j].start == t[j].start - t->start);
	}
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_doc d;
	uint32_t max = size / 2 + 1 < MAX_TOKENS ? (uint32_t)(size / 2 + 1) : MAX_TOKENS;
	ms_status r = json_parse(&d, data, size, tokens, max);

	if (r != MS_OK) {
		CHECK(r == MS_ERR_TRUNCATED || r == MS_ERR_INVALID || r == MS_ERR_LIMIT ||
		      r == MS_ERR_BUFFER_TOO_SMALL);
		CHECK(d.error_offset <= size && d.error_reason != NULL && d.error_reason[0] != '\0');
		/* Refused, so systemd refuses it too, unless it is only too deep or has a NUL (or ran out of tokens). */
		if (r != MS_ERR_BUFFER_TOO_SMALL && !memchr(data, 0, size) &&
		    sd_json_model_depth(data, size) <= JSON_MAX_DEPTH)
			CHECK(!sd_json_model_accepts(data, size));
		/*
		 * The bound JSON_TOKENS_FOR() promises: never too small for a
		 * valid document; invalid ones may run out of tokens first.
		 */
		if (r == MS_ERR_BUFFER_TOO_SMALL && max < MAX_TOKENS)
			CHECK(json_parse(&d, data, size, tokens, MAX_TOKENS) != MS_OK);
		return 0;
	}
	CHECK(d.error_reason == NULL);
	CHECK(sd_json_model_accepts(data, size)); /* nothing systemd would refuse */
	CHECK(d.n_tokens >= 1 && d.n_tokens <= JSON_TOKENS_FOR(size));
	CHECK(tokens[0].next == d.n_tokens);
	for (uint32_t i = 0; i < d.n_tokens; i++)
		check_token(&d, i, data, size);
	for (uint32_t i = 0; i < d.n_tokens && i < MAX_REPARSE; i++)
		check_reparse(&d, i);
	/* One token fewer than needed is refused. */
	CHECK(json_parse(&d, data, size, tokens, d.n_tokens - 1) == MS_ERR_BUFFER_TOO_SMALL);
	return 0;
}
