/* SPDX-License-Identifier: MIT */
/*
 * fuzz-pcrsig.c - libFuzzer target for measure/pcrsig.c, the merge of
 * tpm2-pcr-signature.json fragments (the UKI's .pcrsig, then *.pcrsig.json
 * files) into the one document the initrd gets.
 *
 * Input: up to EXT_SIGNATURE_MAX_FILES fragments separated by the byte
 * 0x1e (a control character, so never part of valid JSON text). Checked:
 * each fragment's status and reason are what pcrsig_validate() says of it
 * alone, and it is valid exactly when a second implementation of pcrsig.h's
 * rules below (on the same measure/json.c tokens) says so; every valid
 * fragment and the merged output are accepted by systemd's JSON parser as
 * tests/sd-json-model.c models it (written independently of json.c, and
 * checked against the real parser by tests/test-systemd-json.c); the
 * output never exceeds pcrsig_merged_bound(), is valid JSON (measure/json.c)
 * and itself a valid fragment; per bank, in sha1..sha512 order, it holds
 * exactly the entries of the valid fragments, byte for byte, in fragment
 * order (collected here independently with json.c), and no bank without
 * entries; the entry counts agree; one byte less of output room is refused;
 * and merging the output alone reproduces it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure/extensions.h"
#include "measure/json.h"
#include "measure/pcrsig.h"
#include "tests/sd-json-model.h"

#define CHECK(cond)                                                                            \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "fuzz-pcrsig: %s:%d: invariant failed: %s\n",          \
				__FILE__, __LINE__, #cond);                                    \
			abort();                                                               \
		}                                                                              \
	} while (0)

#define SEP 0x1e
#define MAX_FRAGS EXT_SIGNATURE_MAX_FILES

/* ------------------------------------------------------------ the rules of pcrsig.h, again */

static size_t count_key(const struct json_doc *d, uint32_t obj, const char *key, uint32_t *ret_value)
{
	size_t n = 0;

	for (uint32_t k = json_first(d, obj); k != JSON_NONE; k = json_next(d, k))
		if (json_string_equals(d, k, key)) {
			*ret_value = k + 1;
			n++;
		}
	return n;
}

/* The characters between the quotes, as written (escapes are not allowed, so never unescaped). */
static void body(const struct json_doc *d, uint32_t tok, const uint8_t **s, size_t *len)
{
	json_raw(d, tok, s, len);
	(*s)++;
	*len -= 2;
}

static int ref_hex64(const struct json_doc *d, uint32_t tok)
{
	const uint8_t *s;
	size_t len;

	if (json_type(d, tok) != JSON_STRING)
		return 0;
	body(d, tok, &s, &len);
	if (len != 64)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!strchr("0123456789abcdefABCDEF", s[i]) || !s[i])
			return 0;
	return 1;
}

static int ref_base64(const struct json_doc *d, uint32_t tok)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const uint8_t *s;
	size_t len, data_len;

	if (json_type(d, tok) != JSON_STRING)
		return 0;
	body(d, tok, &s, &len);
	if (len == 0 || len % 4)
		return 0;
	data_len = len;
	if (s[len - 1] == '=')
		data_len--;
	if (s[len - 2] == '=')
		data_len--;
	for (size_t i = 0; i < data_len; i++)
		if (!s[i] || !strchr(alphabet, s[i]))
			return 0;
	return 1;
}

static int ref_entry(const struct json_doc *d, uint32_t e)
{
	uint32_t pcrs = 0, pkfp = 0, pol = 0, sig = 0, ref = 0, seen = 0;
	size_t refs;

	if (json_type(d, e) != JSON_OBJECT)
		return 0;
	if (count_key(d, e, "pcrs", &pcrs) != 1 || count_key(d, e, "pkfp", &pkfp) != 1 ||
	    count_key(d, e, "pol", &pol) != 1 || count_key(d, e, "sig", &sig) != 1)
		return 0;
	/* "ref" is optional: at most once, a string. */
	refs = count_key(d, e, "ref", &ref);
	if (refs > 1 || (refs == 1 && json_type(d, ref) != JSON_STRING))
		return 0;
	if (json_type(d, pcrs) != JSON_ARRAY || json_token(d, pcrs)->size == 0)
		return 0;
	for (uint32_t p = json_first(d, pcrs); p != JSON_NONE; p = json_next(d, p)) {
		uint64_t v;

		if (json_uint(d, p, 23, &v) != MS_OK || (seen >> v & 1))
			return 0;
		seen |= 1u << v;
	}
	return ref_hex64(d, pkfp) && ref_hex64(d, pol) && ref_base64(d, sig);
}

static int ref_valid(const void *data, size_t len, struct json_token *tokens, uint32_t max_tokens)
{
	struct json_doc d;

	if (json_parse(&d, data, len, tokens, max_tokens) != MS_OK || json_type(&d, 0) != JSON_OBJECT)
		return 0;
	for (size_t b = 0; b < PCRSIG_BANKS; b++) {
		uint32_t arr = 0;
		size_t n = count_key(&d, 0, pcrsig_bank_names[b], &arr);

		if (n == 0)
			continue;
		if (n > 1 || json_type(&d, arr) != JSON_ARRAY)
			return 0;
		for (uint32_t e = json_first(&d, arr); e != JSON_NONE; e = json_next(&d, e))
			if (!ref_entry(&d, e))
				return 0;
	}
	return 1;
}

/* ------------------------------------------------------------ the merge */

/* The raw bytes of every entry of bank @b in every valid fragment, concatenated with commas. */
static char *expected_entries(const struct pcrsig_fragment *f, size_t n, size_t b, struct json_token *tokens,
			      uint32_t max_tokens, size_t *ret_len, size_t *counts)
{
	size_t cap = 1, len = 0;
	char *out;

	for (size_t i = 0; i < n; i++)
		cap += f[i].len + 1;
	out = malloc(cap);
	CHECK(out != NULL);
	for (size_t i = 0; i < n; i++) {
		struct json_doc doc;
		uint32_t arr;

		if (f[i].status != MS_OK)
			continue;
		CHECK(json_parse(&doc, f[i].data, f[i].len, tokens, max_tokens) == MS_OK);
		if (json_object_get(&doc, 0, pcrsig_bank_names[b], &arr) != MS_OK)
			continue;
		for (uint32_t e = json_first(&doc, arr); e != JSON_NONE; e = json_next(&doc, e)) {
			const uint8_t *raw;
			size_t raw_len;

			json_raw(&doc, e, &raw, &raw_len);
			if (len)
				out[len++] = ',';
			memcpy(out + len, raw, raw_len);
			len += raw_len;
			counts[i]++;
		}
	}
	*ret_len = len;
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pcrsig_fragment frags[MAX_FRAGS], again;
	uint8_t *pieces[MAX_FRAGS];
	size_t n = 0, start = 0, largest = 0, total = 0, counts[MAX_FRAGS] = { 0 };
	size_t bound, len = 0, len2 = 0, short_len;
	struct json_token *tokens, *out_tokens;
	uint32_t max_tokens;
	char *out, *out2;
	struct json_doc doc;
	uint32_t key;
	size_t next_bank = 0;

	/* Split; each fragment gets an exact-size heap copy so ASan sees overreads. */
	for (size_t i = 0; i <= size && n < MAX_FRAGS; i++) {
		if (i < size && data[i] != SEP)
			continue;
		pieces[n] = malloc(i - start ? i - start : 1);
		CHECK(pieces[n] != NULL);
		memcpy(pieces[n], data + start, i - start);
		frags[n] = (struct pcrsig_fragment){ .data = pieces[n], .len = i - start };
		if (i - start > largest)
			largest = i - start;
		total += i - start;
		n++;
		start = i + 1;
	}
	max_tokens = (uint32_t)JSON_TOKENS_FOR(largest);
	tokens = calloc(max_tokens, sizeof(*tokens));
	CHECK(tokens != NULL);
	bound = pcrsig_merged_bound(total, n);
	out = malloc(bound);
	CHECK(out != NULL);
	CHECK(pcrsig_merge(frags, n, tokens, max_tokens, out, bound, &len) == MS_OK);
	CHECK(len <= bound);

	/* Each status is the fragment's own validation; invalid ones contribute nothing. */
	for (size_t i = 0; i < n; i++) {
		const char *reason = "unset";
		size_t at = 0;

		CHECK(frags[i].status == pcrsig_validate(frags[i].data, frags[i].len, tokens, max_tokens, &at, &reason));
		CHECK((frags[i].status == MS_OK) == ref_valid(frags[i].data, frags[i].len, tokens, max_tokens));
		CHECK(frags[i].reason == reason);
		if (frags[i].status != MS_OK)
			CHECK(frags[i].entries == 0 && frags[i].error_offset == at && at <= frags[i].len && reason);
		else
			CHECK(reason == NULL && sd_json_model_accepts(frags[i].data, frags[i].len));
	}
	/* systemd takes the merged file whole, or not at all. */
	CHECK(sd_json_model_accepts((const uint8_t *)out, len));

	/* The output: JSON, an object of banks in order, each exactly the expected entries. */
	out_tokens = calloc(JSON_TOKENS_FOR(len), sizeof(*out_tokens));
	CHECK(out_tokens != NULL);
	CHECK(json_parse(&doc, (const uint8_t *)out, len, out_tokens, (uint32_t)JSON_TOKENS_FOR(len)) == MS_OK);
	CHECK(json_type(&doc, 0) == JSON_OBJECT);
	for (key = json_first(&doc, 0); key != JSON_NONE; key = json_next(&doc, key)) {
		const uint8_t *raw;
		size_t raw_len, want_len;
		char *want;

		while (next_bank < PCRSIG_BANKS && !json_string_equals(&doc, key, pcrsig_bank_names[next_bank])) {
			/* A bank left out must have no entries anywhere. */
			want = expected_entries(frags, n, next_bank, tokens, max_tokens, &want_len, counts);
			CHECK(want_len == 0);
			free(want);
			next_bank++;
		}
		CHECK(next_bank < PCRSIG_BANKS); /* only bank names, in order, each once */
		CHECK(json_type(&doc, key + 1) == JSON_ARRAY && json_token(&doc, key + 1)->size > 0);
		json_raw(&doc, key + 1, &raw, &raw_len);
		want = expected_entries(frags, n, next_bank, tokens, max_tokens, &want_len, counts);
		CHECK(raw_len == want_len + 2 && memcmp(raw + 1, want, want_len) == 0);
		free(want);
		next_bank++;
	}
	for (; next_bank < PCRSIG_BANKS; next_bank++) {
		size_t want_len;
		char *want = expected_entries(frags, n, next_bank, tokens, max_tokens, &want_len, counts);

		CHECK(want_len == 0);
		free(want);
	}
	for (size_t i = 0; i < n; i++)
		CHECK(frags[i].entries == counts[i]);

	/* The merged document is a valid fragment, and merging it alone changes nothing. */
	free(tokens);
	max_tokens = (uint32_t)JSON_TOKENS_FOR(len);
	tokens = calloc(max_tokens, sizeof(*tokens));
	CHECK(tokens != NULL);
	CHECK(pcrsig_validate(out, len, tokens, max_tokens, NULL, NULL) == MS_OK);
	again = (struct pcrsig_fragment){ .data = out, .len = len };
	out2 = malloc(len);
	CHECK(out2 != NULL);
	CHECK(pcrsig_merge(&again, 1, tokens, max_tokens, out2, len, &len2) == MS_OK);
	CHECK(len2 == len && memcmp(out, out2, len) == 0);
	/* Exactly the needed room works (above); one byte less is refused. */
	short_len = 0;
	CHECK(pcrsig_merge(&again, 1, tokens, max_tokens, out2, len - 1, &short_len) == MS_ERR_BUFFER_TOO_SMALL);

	free(out2);
	free(out);
	free(out_tokens);
	free(tokens);
	for (size_t i = 0; i < n; i++)
		free(pieces[i]);
	return 0;
}
