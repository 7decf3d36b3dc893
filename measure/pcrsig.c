/* SPDX-License-Identifier: MIT */
#include "pcrsig.h"

#include "hex.h"

#define STRINGIFY(x) #x
#define STR(x) STRINGIFY(x)

const char *const pcrsig_bank_names[PCRSIG_BANKS] = { "sha1", "sha256", "sha384", "sha512" };

static bool is_base64(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* The bytes between the quotes of string token @i, or false if @i is not a string. */
static bool string_body(const struct json_doc *doc, uint32_t i, const uint8_t **ret, size_t *ret_len)
{
	const uint8_t *raw;
	size_t len;

	if (json_type(doc, i) != JSON_STRING)
		return false;
	json_raw(doc, i, &raw, &len);
	*ret = raw + 1;
	*ret_len = len - 2;
	return true;
}

static bool is_digest_hex(const struct json_doc *doc, uint32_t i)
{
	const uint8_t *s;
	size_t len;

	if (!string_body(doc, i, &s, &len) || len != PCRSIG_DIGEST_HEX)
		return false;
	for (size_t k = 0; k < len; k++)
		if (hex_digit_value(s[k]) < 0)
			return false;
	return true;
}

/* Canonical base64 without line breaks: groups of four, '=' only as the last one or two characters. */
static bool is_base64_string(const struct json_doc *doc, uint32_t i)
{
	const uint8_t *s;
	size_t len, pad = 0;

	if (!string_body(doc, i, &s, &len) || len == 0 || len % 4 != 0)
		return false;
	while (pad < 2 && s[len - 1 - pad] == '=')
		pad++;
	for (size_t k = 0; k < len - pad; k++)
		if (!is_base64(s[k]))
			return false;
	return true;
}

static bool is_string(const struct json_doc *doc, uint32_t i)
{
	return json_type(doc, i) == JSON_STRING;
}

static bool is_pcr_list(const struct json_doc *doc, uint32_t i)
{
	uint32_t seen = 0;
	uint64_t pcr;

	if (json_type(doc, i) != JSON_ARRAY || json_first(doc, i) == JSON_NONE)
		return false;
	for (uint32_t e = json_first(doc, i); e != JSON_NONE; e = json_next(doc, e)) {
		if (json_uint(doc, e, PCRSIG_PCR_MAX, &pcr) != MS_OK || (seen & (1u << pcr)))
			return false;
		seen |= 1u << pcr;
	}
	return true;
}

/* Why an entry is refused, per member: missing, repeated, or a value of the wrong form. */
static const struct member_rule {
	const char *name;
	bool required;
	bool (*value_ok)(const struct json_doc *doc, uint32_t i);
	const char *missing, *repeated, *bad_value;
} member_rules[] = {
	{ "pcrs", true, is_pcr_list, "an entry lacks \"pcrs\"", "an entry has \"pcrs\" twice",
	  "\"pcrs\" is not a non-empty array of distinct PCR numbers 0.." STR(PCRSIG_PCR_MAX) },
	{ "pkfp", true, is_digest_hex, "an entry lacks \"pkfp\"", "an entry has \"pkfp\" twice",
	  "\"pkfp\" is not 64 hex digits" },
	{ "pol", true, is_digest_hex, "an entry lacks \"pol\"", "an entry has \"pol\" twice",
	  "\"pol\" is not 64 hex digits" },
	{ "sig", true, is_base64_string, "an entry lacks \"sig\"", "an entry has \"sig\" twice",
	  "\"sig\" is not base64 without escapes" },
	/* systemd 262 reads it (a TPM2 policy reference) and gives up on the whole file if it is not a string. */
	{ "ref", false, is_string, NULL, "an entry has \"ref\" twice", "\"ref\" is not a string" },
};

static ms_status validate_entry(const struct json_doc *doc, uint32_t e, size_t *error_offset, const char **reason)
{
	*error_offset = json_token(doc, e)->start;
	if (json_type(doc, e) != JSON_OBJECT) {
		*reason = "an entry is not an object";
		return MS_ERR_INVALID;
	}
	for (size_t m = 0; m < sizeof(member_rules) / sizeof(member_rules[0]); m++) {
		const struct member_rule *rule = &member_rules[m];
		uint32_t v = 0;
		/* MS_ERR_NOT_FOUND for a missing member, MS_ERR_INVALID for a repeated one. */
		ms_status r = json_object_get(doc, e, rule->name, &v);

		if (r == MS_ERR_NOT_FOUND && !rule->required)
			continue;
		if (r != MS_OK) {
			*reason = r == MS_ERR_NOT_FOUND ? rule->missing : rule->repeated;
			return r;
		}
		if (!rule->value_ok(doc, v)) {
			*error_offset = json_token(doc, v)->start;
			*reason = rule->bad_value;
			return MS_ERR_INVALID;
		}
	}
	return MS_OK;
}

/* Parse and check a fragment; on success *ret_entries is its number of entries over all banks. */
static ms_status parse_fragment(struct json_doc *doc, const void *data, size_t len, struct json_token *tokens,
				uint32_t max_tokens, size_t *error_offset, const char **reason, size_t *ret_entries)
{
	size_t entries = 0;
	ms_status r;

	r = json_parse(doc, data, len, tokens, max_tokens);
	if (r != MS_OK) {
		*error_offset = doc->error_offset;
		*reason = doc->error_reason;
		return r;
	}
	*error_offset = 0;
	if (json_type(doc, 0) != JSON_OBJECT) {
		*reason = "not a JSON object";
		return MS_ERR_INVALID;
	}
	for (size_t b = 0; b < PCRSIG_BANKS; b++) {
		uint32_t arr;

		r = json_object_get(doc, 0, pcrsig_bank_names[b], &arr);
		if (r == MS_ERR_NOT_FOUND)
			continue;
		if (r != MS_OK) {
			*reason = "a bank appears twice";
			return r;
		}
		if (json_type(doc, arr) != JSON_ARRAY) {
			*error_offset = json_token(doc, arr)->start;
			*reason = "a bank is not an array";
			return MS_ERR_INVALID;
		}
		for (uint32_t e = json_first(doc, arr); e != JSON_NONE; e = json_next(doc, e)) {
			r = validate_entry(doc, e, error_offset, reason);
			if (r != MS_OK)
				return r;
			entries++;
		}
	}
	*ret_entries = entries;
	return MS_OK;
}

ms_status pcrsig_validate(const void *data, size_t len, struct json_token *tokens, uint32_t max_tokens,
			  size_t *error_offset, const char **reason)
{
	struct json_doc doc;
	size_t where = 0, entries;
	const char *why = NULL;
	ms_status r;

	r = parse_fragment(&doc, data, len, tokens, max_tokens, &where, &why, &entries);
	if (error_offset)
		*error_offset = r == MS_OK ? 0 : where;
	if (reason)
		*reason = r == MS_OK ? NULL : why;
	return r;
}

size_t pcrsig_merged_bound(size_t total_len, size_t n_fragments)
{
	/*
	 * Per bank, a fragment's entries plus the commas between them are no
	 * longer than its own "[...]" for that bank; the merge adds one comma
	 * per fragment and bank, and once per bank the key and brackets.
	 */
	size_t extra = 2 + PCRSIG_BANKS * (sizeof("\"sha512\":[],") - 1);

	if (n_fragments > (SIZE_MAX - extra) / PCRSIG_BANKS)
		return SIZE_MAX;
	extra += n_fragments * PCRSIG_BANKS;
	return total_len > SIZE_MAX - extra ? SIZE_MAX : total_len + extra;
}

struct out {
	char *buf;
	size_t cap;
	size_t len;
	bool overflow;
};

static void put(struct out *o, const void *data, size_t len)
{
	const uint8_t *p = data;

	if (o->overflow || len > o->cap - o->len) {
		o->overflow = true;
		return;
	}
	for (size_t i = 0; i < len; i++)
		o->buf[o->len + i] = (char)p[i];
	o->len += len;
}

static void put_str(struct out *o, const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	put(o, s, n);
}

ms_status pcrsig_merge(struct pcrsig_fragment *frags, size_t n, struct json_token *tokens, uint32_t max_tokens,
		       char *out, size_t out_cap, size_t *ret_len)
{
	struct out o = { .buf = out, .cap = out_cap };
	struct json_doc doc;
	bool any_bank = false;

	for (size_t f = 0; f < n; f++) {
		frags[f].entries = 0;
		frags[f].error_offset = 0;
		frags[f].reason = NULL;
		frags[f].status = parse_fragment(&doc, frags[f].data, frags[f].len, tokens, max_tokens,
						 &frags[f].error_offset, &frags[f].reason, &frags[f].entries);
		if (frags[f].status == MS_OK)
			frags[f].error_offset = 0;
	}

	put(&o, "{", 1);
	for (size_t b = 0; b < PCRSIG_BANKS; b++) {
		bool bank_open = false;

		for (size_t f = 0; f < n; f++) {
			uint32_t arr;

			if (frags[f].status != MS_OK || frags[f].entries == 0)
				continue;
			/* Validated above, so this parse succeeds; it only rebuilds the tokens. */
			if (json_parse(&doc, frags[f].data, frags[f].len, tokens, max_tokens) != MS_OK ||
			    json_object_get(&doc, 0, pcrsig_bank_names[b], &arr) != MS_OK)
				continue;
			for (uint32_t e = json_first(&doc, arr); e != JSON_NONE; e = json_next(&doc, e)) {
				const uint8_t *raw;
				size_t raw_len;

				if (!bank_open) {
					if (any_bank)
						put(&o, ",", 1);
					put(&o, "\"", 1);
					put_str(&o, pcrsig_bank_names[b]);
					put(&o, "\":[", 3);
					bank_open = any_bank = true;
				} else {
					put(&o, ",", 1);
				}
				json_raw(&doc, e, &raw, &raw_len);
				put(&o, raw, raw_len);
			}
		}
		if (bank_open)
			put(&o, "]", 1);
	}
	put(&o, "}", 1);
	if (o.overflow)
		return MS_ERR_BUFFER_TOO_SMALL;
	*ret_len = o.len;
	return MS_OK;
}
