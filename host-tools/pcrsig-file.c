/* SPDX-License-Identifier: MIT */
#include "pcrsig-file.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "digest.h"
#include "util.h"

/* The members measure/pcrsig.c checks: the four an entry must have, then the optional "ref". */
static const char *const fields[] = { "pcrs", "pkfp", "pol", "sig", "ref" };
#define N_REQUIRED 4

/* The index of token @i among its parent array's elements. */
static size_t index_in(const struct json_doc *doc, uint32_t arr, uint32_t i)
{
	size_t n = 0;

	for (uint32_t e = json_first(doc, arr); e != JSON_NONE && e != i; e = json_next(doc, e))
		n++;
	return n;
}

/* Whether object @obj has key @key more than once. */
static bool repeated(const struct json_doc *doc, uint32_t obj, const char *key)
{
	size_t n = 0;

	for (uint32_t k = json_first(doc, obj); k != JSON_NONE; k = json_next(doc, k))
		n += json_string_equals(doc, k, key);
	return n > 1;
}

/* What is wrong with the value @v of entry field @field, which pcrsig_validate() refused. */
static void field_problem(const struct json_doc *doc, uint32_t v, const char *field, char *out, size_t cap)
{
	const struct json_token *t = json_token(doc, v);

	if (strcmp(field, "ref") == 0) {
		snprintf(out, cap, "\"ref\" must be a string (a TPM2 policy reference)");
	} else if (strcmp(field, "pcrs") == 0) {
		snprintf(out, cap, "\"pcrs\" must be a non-empty array of distinct PCR numbers 0..%d", PCRSIG_PCR_MAX);
	} else if (strcmp(field, "sig") == 0) {
		snprintf(out, cap, "\"sig\" must be a non-empty base64 string (groups of four characters, '=' only "
				   "at the end, no escapes)");
	} else if (json_type(doc, v) != JSON_STRING) {
		snprintf(out, cap, "\"%s\" must be a string of %d hex digits (a SHA-256 digest)", field, PCRSIG_DIGEST_HEX);
	} else if (t->end - t->start - 2 != PCRSIG_DIGEST_HEX) {
		snprintf(out, cap, "\"%s\" has %u characters; it must be %d hex digits (a SHA-256 digest)", field,
			 t->end - t->start - 2, PCRSIG_DIGEST_HEX);
	} else {
		snprintf(out, cap, "\"%s\" has characters that are not hex digits; it must be %d hex digits "
				   "(a SHA-256 digest)", field, PCRSIG_DIGEST_HEX);
	}
}

/* The bank name of key @key ("sha256"); bank names have no escapes. */
static void bank_name(const struct json_doc *doc, uint32_t key, char *out, size_t cap)
{
	const uint8_t *name;
	size_t name_len;

	json_raw(doc, key, &name, &name_len); /* with its quotes */
	snprintf(out, cap, "%.*s", (int)(name_len - 2), (const char *)name + 1);
}

/* What is wrong with entry @entry (the offset was its start). */
static bool entry_problem(const struct json_doc *doc, ms_status m, uint32_t entry, const char *where, char *out,
			  size_t cap)
{
	if (json_type(doc, entry) != JSON_OBJECT) {
		snprintf(out, cap, "%s: an entry must be an object", where);
		return true;
	}
	for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
		uint32_t v;
		ms_status r = json_object_get(doc, entry, fields[f], &v);

		if (r == MS_ERR_NOT_FOUND && m == MS_ERR_NOT_FOUND && f < N_REQUIRED) {
			snprintf(out, cap, "%s lacks \"%s\" (an entry has pcrs, pkfp, pol and sig)", where, fields[f]);
			return true;
		}
		if (r != MS_OK && r != MS_ERR_NOT_FOUND) {
			snprintf(out, cap, "%s: \"%s\" appears more than once", where, fields[f]);
			return true;
		}
	}
	return false;
}

/*
 * The phrase for a document that is valid JSON but breaks a rule at
 * @offset, where pcrsig.c points: the root (0) for a root that is not an
 * object or a repeated bank, a bank's value, an entry (not an object; a
 * field missing or repeated), or an entry field's value. False if it is
 * none of these.
 */
static bool describe(const struct json_doc *doc, ms_status m, size_t offset, char *out, size_t cap)
{
	uint32_t at = JSON_NONE, parent, entry, arr, key;
	char where[48];

	if (offset == 0) {
		if (json_type(doc, 0) != JSON_OBJECT) {
			snprintf(out, cap, "not a JSON object of banks ({\"sha256\":[entries],...})");
			return true;
		}
		for (size_t b = 0; b < PCRSIG_BANKS; b++)
			if (repeated(doc, 0, pcrsig_bank_names[b])) {
				snprintf(out, cap, "\"%s\" appears more than once", pcrsig_bank_names[b]);
				return true;
			}
	}
	/* No two tokens start at the same byte. */
	for (uint32_t i = 1; i < doc->n_tokens && at == JSON_NONE; i++)
		if (json_token(doc, i)->start == offset)
			at = i;
	if (at == JSON_NONE)
		return false;
	parent = json_token(doc, at)->parent;
	if (parent == JSON_NONE)
		return false;
	if (json_type(doc, parent) == JSON_STRING && json_token(doc, parent)->parent == 0) {
		bank_name(doc, parent, where, sizeof(where));
		snprintf(out, cap, "\"%s\" must be an array of entries", where);
		return true;
	}
	/* An entry, or the value of one of its fields (whose parent is the field's key). */
	entry = json_type(doc, parent) == JSON_STRING ? json_token(doc, parent)->parent : at;
	arr = entry == JSON_NONE ? JSON_NONE : json_token(doc, entry)->parent;
	key = arr == JSON_NONE ? JSON_NONE : json_token(doc, arr)->parent;
	if (key == JSON_NONE || json_type(doc, arr) != JSON_ARRAY || json_type(doc, key) != JSON_STRING ||
	    json_token(doc, key)->parent != 0)
		return false;
	bank_name(doc, key, where, sizeof(where) - 24);
	snprintf(where + strlen(where), 24, "[%zu]", index_in(doc, arr, entry));
	if (entry == at)
		return entry_problem(doc, m, entry, where, out, cap);
	for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++)
		if (json_string_equals(doc, parent, fields[f])) {
			size_t n = (size_t)snprintf(out, cap, "%s: ", where);

			if (n < cap)
				field_problem(doc, at, fields[f], out + n, cap - n);
			return true;
		}
	return false;
}

void pcrsig_file_problem(const void *data, size_t len, ms_status m, size_t offset, const char *reason, char *out,
			 size_t cap)
{
	struct json_token *tokens = NULL;
	struct json_doc doc;
	size_t n;
	bool said = false;

	if (cap == 0)
		return;
	out[0] = 0;
	if (m == MS_ERR_TRUNCATED) {
		snprintf(out, cap, "it ends early");
	} else if (m == MS_ERR_INVALID || m == MS_ERR_NOT_FOUND) {
		tokens = calloc(JSON_TOKENS_FOR(len), sizeof(*tokens));
		if (tokens && json_parse(&doc, data, len, tokens, (uint32_t)JSON_TOKENS_FOR(len)) == MS_OK)
			said = describe(&doc, m, offset, out, cap);
		else if (tokens)
			said = snprintf(out, cap, "invalid JSON: %s", doc.error_reason ? doc.error_reason : "?") > 0;
		free(tokens);
		if (!said && reason)
			snprintf(out, cap, "%s", reason);
		else if (!said)
			snprintf(out, cap, m == MS_ERR_NOT_FOUND ? "an entry lacks one of pcrs, pkfp, pol, sig"
								 : "an entry or bank that is not as systemd writes it");
	} else {
		snprintf(out, cap, "%s", reason ? reason : ms_strerror(m));
	}
	n = strlen(out);
	if (n < cap)
		snprintf(out + n, cap - n, " (at byte %zu)", offset);
}

static int string_of(const struct json_doc *doc, uint32_t obj, const char *key, char *out, size_t cap)
{
	uint32_t v;

	if (json_object_get(doc, obj, key, &v) != MS_OK || json_type(doc, v) != JSON_STRING ||
	    json_string_unescape(doc, v, out, cap, NULL) != MS_OK)
		return -1;
	return 0;
}

int pcrsig_entry_decode(const struct json_doc *doc, uint32_t obj, struct pcrsig_entry *e)
{
	char hex[PCRSIG_DIGEST_HEX + 1], *b64;
	uint32_t v;
	size_t len = 0;
	uint64_t pcr;
	int r;

	memset(e, 0, sizeof(*e));
	if (json_object_get(doc, obj, "pcrs", &v) != MS_OK)
		return -1;
	for (uint32_t i = json_first(doc, v); i != JSON_NONE; i = json_next(doc, i)) {
		if (json_uint(doc, i, PCRSIG_PCR_MAX, &pcr) != MS_OK)
			return -1;
		e->pcrs |= 1u << pcr;
	}
	if (string_of(doc, obj, "pkfp", hex, sizeof(hex)) < 0 || hex_decode(hex, e->pkfp, PCRSIG_DIGEST_SIZE) < 0 ||
	    string_of(doc, obj, "pol", hex, sizeof(hex)) < 0 || hex_decode(hex, e->pol, PCRSIG_DIGEST_SIZE) < 0 ||
	    json_object_get(doc, obj, "sig", &v) != MS_OK)
		return -1;
	(void)json_string_unescape(doc, v, NULL, 0, &len);
	b64 = malloc(len + 1);
	if (!b64)
		return errorf("out of memory");
	r = json_string_unescape(doc, v, b64, len + 1, NULL) == MS_OK ? base64_decode(b64, len, &e->sig, &e->sig_len) : -1;
	free(b64);
	return r;
}
