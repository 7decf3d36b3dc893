/* SPDX-License-Identifier: MIT */
/*
 * json.h - a strict JSON reader (RFC 8259, as systemd reads it) that never
 * allocates.
 *
 * json_parse() validates a whole buffer and splits it into tokens in a
 * caller-supplied array, in document order. The tokens form a tree:
 *
 *   - an array's children are its elements;
 *   - an object's children are its keys (JSON_STRING tokens), and each key's
 *     single child is its value, which is always the token right after the
 *     key (key + 1);
 *   - every token records its parent and `next`, the index of the first
 *     token after its whole subtree, so a caller skips a subtree in O(1).
 *     A key's subtree includes its value.
 *
 * Offsets are into the source buffer, which the caller keeps alive: [start,
 * end) is the token's exact JSON text (strings with their quotes, containers
 * with their brackets), so a token can be re-emitted byte for byte.
 *
 * Strictness: the documents systemd's JSON parser accepts (v252 to v262
 * read the same way; tests/test-systemd-json.c checks against the real
 * one), except that containers nest at most JSON_MAX_DEPTH deep (systemd:
 * 2048) and a NUL byte is refused wherever it is (systemd reads a C string
 * and stops there). That is RFC 8259 with:
 *   - one value with optional whitespace (space, tab, CR, LF) around it and
 *     nothing else; no comments, no trailing commas, no leading zeros, no
 *     BOM; literals exactly true/false/null; numbers of any size;
 *   - in strings, no control character (< 0x20) and no DEL (0x7f); only the
 *     escapes \" \\ \/ \b \f \n \r \t \uXXXX; a \u escape of a UTF-16
 *     surrogate must form a high+low pair; no \u0000;
 *   - other bytes >= 0x80 must be UTF-8 in its shortest form (RFC 3629: no
 *     surrogates, nothing above U+10FFFF, no sequence cut short);
 *   - no character of a string, raw or escaped, may be a Unicode
 *     noncharacter (U+FDD0..U+FDEF, U+xFFFE, U+xFFFF).
 * Duplicate keys are accepted by the parser (as systemd's does), but
 * json_object_get() refuses to pick one of them.
 *
 * Walking systemd's tpm2-pcr-signature.json
 * ({"sha256":[{"pcrs":[11],"pkfp":"..","pol":"..","sig":".."}], ...}):
 *
 *   for (k = json_first(&doc, 0); k != JSON_NONE; k = json_next(&doc, k)) {
 *           // k: the bank name key, k + 1: its array
 *           for (e = json_first(&doc, k + 1); e != JSON_NONE; e = json_next(&doc, e))
 *                   if (json_object_get(&doc, e, "pol", &pol) == MS_OK) ...
 *   }
 */
#ifndef MEASURE_JSON_H
#define MEASURE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define JSON_MAX_DEPTH 32
/* "No such token" for the index-returning helpers. */
#define JSON_NONE UINT32_MAX
/* Offsets are 32-bit; larger inputs are refused with MS_ERR_LIMIT. */
#define JSON_INPUT_MAX ((size_t)UINT32_MAX - 1)
/*
 * Tokens a valid document of @len bytes can need at most: every token takes
 * at least one byte of its own and all but the root are followed by a ',',
 * ':' or closing bracket that no other token is followed by. With this many
 * tokens, MS_ERR_BUFFER_TOO_SMALL means the input is not valid JSON (it ran
 * out of tokens before the syntax error was reached).
 */
#define JSON_TOKENS_FOR(len) ((len) / 2 + 1)

enum json_type {
	JSON_OBJECT = 1,
	JSON_ARRAY,
	JSON_STRING,
	JSON_NUMBER,
	JSON_TRUE,
	JSON_FALSE,
	JSON_NULL,
};

struct json_token {
	uint32_t start;  /* offset of the first byte: '{', '[', '"', '-', digit or literal */
	uint32_t end;    /* offset just past the last byte */
	uint32_t size;   /* children: object members, array elements, 1 for a key, else 0 */
	uint32_t next;   /* index of the first token after this subtree */
	uint32_t parent; /* container, or the key for an object member's value; JSON_NONE for the root */
	uint8_t type;    /* enum json_type */
};

struct json_doc {
	const uint8_t *src;
	size_t len;
	struct json_token *tokens;
	uint32_t n_tokens;   /* tokens[0] is the root */
	size_t error_offset; /* on a parse error: the offset where the input stopped making sense */
	const char *error_reason; /* on a parse error: what is wrong there, a static phrase */
};

/*
 * Parse src[0..len) into tokens[0..max_tokens). On success doc describes the
 * document (the root is token 0). Errors: MS_ERR_TRUNCATED (input ends
 * inside a value, or is empty), MS_ERR_INVALID (a syntax error, trailing
 * garbage, a bad escape or control character), MS_ERR_LIMIT (nesting deeper
 * than JSON_MAX_DEPTH, input longer than JSON_INPUT_MAX),
 * MS_ERR_BUFFER_TOO_SMALL (more than max_tokens tokens). On error
 * doc->error_offset says where and doc->error_reason what ("invalid UTF-8
 * in a string"), and the tokens are meaningless.
 */
ms_status json_parse(struct json_doc *doc, const void *src, size_t len, struct json_token *tokens,
		     uint32_t max_tokens);

/* Token @i, or NULL if there is no such token. */
const struct json_token *json_token(const struct json_doc *doc, uint32_t i);

/* Type of token @i, or 0 if there is no such token. */
int json_type(const struct json_doc *doc, uint32_t i);

/*
 * First child of @i: an array's first element, an object's first key, a
 * key's value. JSON_NONE for empty containers, scalars and bad indices.
 */
uint32_t json_first(const struct json_doc *doc, uint32_t i);

/*
 * The sibling after @i: the next array element, or the next key of an
 * object. JSON_NONE at the end, for the root, and for an object member's
 * value (step through an object by its keys).
 */
uint32_t json_next(const struct json_doc *doc, uint32_t i);

/*
 * The value of member @key in object @obj. MS_ERR_NOT_FOUND if absent,
 * MS_ERR_INVALID if @obj is not an object or the key occurs more than once
 * (duplicate keys are ambiguous: other readers may pick the other one).
 * Keys are compared after unescaping.
 */
ms_status json_object_get(const struct json_doc *doc, uint32_t obj, const char *key, uint32_t *ret_value);

/* Whether string token @i, unescaped, equals the NUL-terminated @s. */
bool json_string_equals(const struct json_doc *doc, uint32_t i, const char *s);

/*
 * Unescape string token @i as UTF-8 into out[0..out_size), NUL-terminated.
 * *ret_len (may be NULL) gets the unescaped length without the NUL, also when
 * MS_ERR_BUFFER_TOO_SMALL is returned, so a caller may first ask with
 * out == NULL, out_size == 0. The content never contains a NUL byte
 * (\u0000 is refused) and is valid UTF-8.
 */
ms_status json_string_unescape(const struct json_doc *doc, uint32_t i, char *out, size_t out_size,
			       size_t *ret_len);

/*
 * Number token @i as a non-negative integer <= @max. MS_ERR_INVALID for a
 * non-number, a negative number, a fraction or an exponent (even "1e2" or
 * "1.0"); MS_ERR_LIMIT when it exceeds @max.
 */
ms_status json_uint(const struct json_doc *doc, uint32_t i, uint64_t max, uint64_t *ret);

/*
 * For writers of JSON strings: the length of the character at s[0..len)
 * (len > 0) as json_parse() reads it raw inside a string. 1 for an ASCII
 * byte (including those a writer must escape: '"', '\\', control characters
 * and DEL), 2 to 4 for a UTF-8 sequence it accepts as it is, and 0 for bytes
 * that no JSON string here can hold at all, raw or escaped: not UTF-8 in the
 * shortest form, a surrogate, above U+10FFFF, a noncharacter, NUL.
 */
size_t json_char_len(const void *s, size_t len);

/*
 * The exact source bytes of token @i (for a key: only the key), for
 * re-emitting it. Sets *ret to NULL and *ret_len to 0 for a bad index.
 */
void json_raw(const struct json_doc *doc, uint32_t i, const uint8_t **ret, size_t *ret_len);

#endif
