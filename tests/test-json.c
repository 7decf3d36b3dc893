/* SPDX-License-Identifier: MIT */
/*
 * test-json.c - unit tests for measure/json.c.
 *
 * Every document is copied into a heap buffer of exactly its length, with no
 * NUL after it, so AddressSanitizer reports any read past the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "measure/json.h"

#define MAX_TOKENS 256

struct parsed {
	uint8_t *buf;
	struct json_doc doc;
	struct json_token tokens[MAX_TOKENS];
};

static struct parsed P;

static ms_status parse_n(const char *text, size_t len, uint32_t max_tokens)
{
	free(P.buf);
	P.buf = malloc(len ? len : 1);
	assert_non_null(P.buf);
	memcpy(P.buf, text, len);
	memset(P.tokens, 0xa5, sizeof(P.tokens));
	return json_parse(&P.doc, P.buf, len, P.tokens, max_tokens);
}

static ms_status parse(const char *text)
{
	return parse_n(text, strlen(text), MAX_TOKENS);
}

static int teardown(void **state)
{
	(void)state;
	free(P.buf);
	P.buf = NULL;
	return 0;
}

static void assert_raw(uint32_t i, const char *expected)
{
	const uint8_t *raw;
	size_t len;

	json_raw(&P.doc, i, &raw, &len);
	assert_non_null(raw);
	assert_int_equal(len, strlen(expected));
	assert_memory_equal(raw, expected, len);
}

/* ------------------------------------------------------------ valid input */

static void test_scalar_roots(void **state)
{
	static const struct {
		const char *text;
		int type;
		const char *raw;
	} cases[] = {
		{ "0", JSON_NUMBER, "0" },
		{ "-0", JSON_NUMBER, "-0" },
		{ " 12.5e-3 ", JSON_NUMBER, "12.5e-3" },
		{ "1E+2", JSON_NUMBER, "1E+2" },
		{ "-1.0e0", JSON_NUMBER, "-1.0e0" },
		{ "\t\"x\"\r\n", JSON_STRING, "\"x\"" },
		{ "true", JSON_TRUE, "true" },
		{ "false", JSON_FALSE, "false" },
		{ " null", JSON_NULL, "null" },
		{ "\"\"", JSON_STRING, "\"\"" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse(cases[i].text), MS_OK);
		assert_int_equal(P.doc.n_tokens, 1);
		assert_int_equal(json_type(&P.doc, 0), cases[i].type);
		assert_int_equal(P.tokens[0].parent, JSON_NONE);
		assert_int_equal(P.tokens[0].next, 1);
		assert_int_equal(json_next(&P.doc, 0), JSON_NONE);
		assert_int_equal(json_first(&P.doc, 0), JSON_NONE);
		assert_raw(0, cases[i].raw);
	}
}

/*
 * {"a":1,"b":[true,null,{"c":"d"}],"e":{}}
 *  0: object, 1: "a", 2: 1, 3: "b", 4: array, 5: true, 6: null, 7: object,
 *  8: "c", 9: "d", 10: "e", 11: object
 */
static void test_tree_shape(void **state)
{
	(void)state;
	assert_int_equal(parse("{\"a\":1,\"b\":[true,null,{\"c\":\"d\"}],\"e\":{}}"), MS_OK);
	assert_int_equal(P.doc.n_tokens, 12);

	assert_int_equal(json_type(&P.doc, 0), JSON_OBJECT);
	assert_int_equal(P.tokens[0].size, 3);
	assert_int_equal(P.tokens[0].next, 12);

	assert_int_equal(json_type(&P.doc, 1), JSON_STRING);
	assert_int_equal(P.tokens[1].size, 1);
	assert_int_equal(P.tokens[1].parent, 0);
	assert_int_equal(P.tokens[1].next, 3); /* a key's subtree includes its value */
	assert_int_equal(P.tokens[2].parent, 1);

	assert_int_equal(json_type(&P.doc, 4), JSON_ARRAY);
	assert_int_equal(P.tokens[4].size, 3);
	assert_int_equal(P.tokens[4].parent, 3);
	assert_int_equal(P.tokens[4].next, 10);
	assert_int_equal(P.tokens[3].next, 10);
	assert_int_equal(P.tokens[7].parent, 4);
	assert_int_equal(P.tokens[7].size, 1);
	assert_int_equal(P.tokens[9].parent, 8);
	assert_int_equal(json_type(&P.doc, 11), JSON_OBJECT);
	assert_int_equal(P.tokens[11].size, 0);

	/* Walk keys of the root. */
	assert_int_equal(json_first(&P.doc, 0), 1);
	assert_int_equal(json_next(&P.doc, 1), 3);
	assert_int_equal(json_next(&P.doc, 3), 10);
	assert_int_equal(json_next(&P.doc, 10), JSON_NONE);
	/* A member's value has no sibling of its own. */
	assert_int_equal(json_next(&P.doc, 2), JSON_NONE);
	/* Array elements, skipping the nested object's subtree. */
	assert_int_equal(json_first(&P.doc, 4), 5);
	assert_int_equal(json_next(&P.doc, 5), 6);
	assert_int_equal(json_next(&P.doc, 6), 7);
	assert_int_equal(json_next(&P.doc, 7), JSON_NONE);
	assert_int_equal(json_first(&P.doc, 11), JSON_NONE);
	assert_int_equal(json_first(&P.doc, 1), 2); /* a key's child is its value */

	assert_raw(0, "{\"a\":1,\"b\":[true,null,{\"c\":\"d\"}],\"e\":{}}");
	assert_raw(1, "\"a\"");
	assert_raw(4, "[true,null,{\"c\":\"d\"}]");
	assert_raw(7, "{\"c\":\"d\"}");
	assert_raw(11, "{}");
}

static void test_whitespace_everywhere_and_raw_keeps_it(void **state)
{
	(void)state;
	assert_int_equal(parse(" \n{ \"k\" :\t[ 1 , 2 ] , \"e\" : [ ] }\r\n"), MS_OK);
	assert_int_equal(P.doc.n_tokens, 7);
	assert_raw(0, "{ \"k\" :\t[ 1 , 2 ] , \"e\" : [ ] }");
	assert_raw(2, "[ 1 , 2 ]");
	assert_raw(6, "[ ]");
	assert_int_equal(P.tokens[6].size, 0);
}

static void test_empty_containers(void **state)
{
	(void)state;
	assert_int_equal(parse("[]"), MS_OK);
	assert_int_equal(P.doc.n_tokens, 1);
	assert_int_equal(P.tokens[0].size, 0);
	assert_int_equal(parse("{}"), MS_OK);
	assert_int_equal(parse("[[],{},[[]]]"), MS_OK);
	assert_int_equal(P.doc.n_tokens, 5);
	assert_int_equal(P.tokens[0].size, 3);
	assert_int_equal(json_next(&P.doc, 1), 2);
	assert_int_equal(json_next(&P.doc, 2), 3);
	assert_int_equal(json_next(&P.doc, 3), JSON_NONE);
	assert_int_equal(P.tokens[3].size, 1);
}

/*
 * Strings follow systemd's JSON parser (the rules in json.h): UTF-8 in the
 * shortest form, no surrogates, nothing above U+10FFFF, no noncharacters,
 * no DEL, no \u0000.
 */
static void test_utf8_that_systemd_accepts(void **state)
{
	static const char *const good[] = {
		"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf",
		"\xee\x80\x80", "\xef\xb7\x8f" /* U+FDCF */, "\xef\xb7\xb0" /* U+FDF0 */, "\xef\xbf\xbd" /* U+FFFD */,
		"\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbd" /* U+10FFFD */, "\\u007f", "\\u0001", "\\ufffd", "\\ud83d\\ude00",
	};
	char text[32], out[16];
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text), "\"%s\"", good[i]);
		if (parse(text) != MS_OK)
			fail_msg("case %zu refused: %s", i, P.doc.error_reason);
		assert_int_equal(json_string_unescape(&P.doc, 0, out, sizeof(out), &n), MS_OK);
		if (good[i][0] != '\\')
			assert_string_equal(out, good[i]);
	}
}

/* Offset in @s of its first escape, DEL, control or non-ASCII byte. */
static size_t first_suspect(const char *s)
{
	size_t i = 0;

	while (s[i] && s[i] != '\\' && (uint8_t)s[i] >= 0x20 && (uint8_t)s[i] < 0x7f)
		i++;
	return i;
}

#define INVALID_UTF8 "invalid UTF-8 in a string"
#define NONCHARACTER "a Unicode noncharacter (U+FDD0..U+FDEF, U+xFFFE, U+xFFFF) in a string"

static void test_strings_that_systemd_refuses(void **state)
{
	static const struct {
		const char *content, *reason;
	} bad[] = {
		{ "\xff", INVALID_UTF8 }, { "\xfe", INVALID_UTF8 }, { "\x80", INVALID_UTF8 }, { "\xbf", INVALID_UTF8 },
		{ "a\xc3", INVALID_UTF8 }, { "\xc3(", INVALID_UTF8 }, { "\xc0\x80", INVALID_UTF8 },
		{ "\xc1\xbf", INVALID_UTF8 }, { "\xe0\x80\x80", INVALID_UTF8 }, { "\xe0\x9f\xbf", INVALID_UTF8 },
		{ "\xed\xa0\x80", INVALID_UTF8 } /* U+D800 */, { "\xed\xbf\xbf", INVALID_UTF8 } /* U+DFFF */,
		{ "\xf0\x80\x80\x80", INVALID_UTF8 }, { "\xf0\x8f\xbf\xbf", INVALID_UTF8 },
		{ "\xf4\x90\x80\x80", INVALID_UTF8 } /* U+110000 */, { "\xf5\x80\x80\x80", INVALID_UTF8 },
		{ "\xf8\x88\x80\x80\x80", INVALID_UTF8 }, { "\xfc\x84\x80\x80\x80\x80", INVALID_UTF8 },
		{ "\xef\xb7\x90", NONCHARACTER } /* U+FDD0 */, { "\xef\xb7\xaf", NONCHARACTER } /* U+FDEF */,
		{ "\xef\xbf\xbe", NONCHARACTER }, { "\xef\xbf\xbf", NONCHARACTER },
		{ "\xf0\x9f\xbf\xbe", NONCHARACTER } /* U+1FFFE */, { "\xf4\x8f\xbf\xbf", NONCHARACTER } /* U+10FFFF */,
		{ "\x7f", "DEL (0x7f) in a string" }, { "\x1f", "a control character in a string" },
		{ "\\u0000", "\\u0000 in a string" }, { "a\\u0000b", "\\u0000 in a string" },
		{ "\\ufdd0", NONCHARACTER }, { "\\uFDEF", NONCHARACTER }, { "\\ufffe", NONCHARACTER },
		{ "\\uFFFF", NONCHARACTER }, { "\\ud83f\\udffe", NONCHARACTER }, { "\\udbff\\udfff", NONCHARACTER },
		{ "\\udc00", "an unpaired surrogate escape" }, { "\\ud800\\u0041", "an unpaired surrogate escape" },
		{ "\\u12g4", "a \\u escape without 4 hex digits" }, { "\\x", "an unknown escape" },
	};
	char text[32];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "[\"ok\",\"%s\"]", bad[i].content);
		/* Refused at the offending character (its backslash for an escape), saying why. */
		if (parse(text) != MS_ERR_INVALID || P.doc.error_offset != 7 + first_suspect(bad[i].content) ||
		    strcmp(P.doc.error_reason, bad[i].reason) != 0)
			fail_msg("case %zu: status %d at %zu: %s", i, json_parse(&P.doc, P.buf, strlen(text), P.tokens,
										 MAX_TOKENS),
				 P.doc.error_offset, P.doc.error_reason ? P.doc.error_reason : "(no reason)");
		/* A key is a string too. */
		snprintf(text, sizeof(text), "{\"%s\":1}", bad[i].content);
		assert_int_equal(parse(text), MS_ERR_INVALID);
	}
	/* A sequence the input ends in is cut short, as any unterminated string. */
	assert_int_equal(parse_n("\"\xe2\x82", 3, MAX_TOKENS), MS_ERR_TRUNCATED);
	assert_string_equal(P.doc.error_reason, "the input ends early");
}

static void test_error_reasons(void **state)
{
	static const struct {
		const char *text, *reason;
	} cases[] = {
		{ "", "no JSON value" },
		{ " \n", "no JSON value" },
		{ "[1,", "the input ends early" },
		{ "{1:2}", "expected a member name (a string)" },
		{ "{\"a\" 1}", "expected ':' after a member name" },
		{ "[1 2]", "expected ',' or ']'" },
		{ "{\"a\":1 \"b\":2}", "expected ',' or '}'" },
		{ "01", "more data after the JSON value" },
		{ "-x", "a malformed number" },
		{ "nul", "the input ends early" },
		{ "nulL", "a value that is not true, false, null, a number, a string, an array or an object" },
		{ "[x]", "a value that is not true, false, null, a number, a string, an array or an object" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_not_equal(parse(cases[i].text), MS_OK);
		assert_non_null(P.doc.error_reason);
		assert_string_equal(P.doc.error_reason, cases[i].reason);
	}
	assert_int_equal(parse("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"), MS_ERR_LIMIT);
	assert_string_equal(P.doc.error_reason, "arrays and objects nested too deep");
	assert_int_equal(parse_n("[1,2]", 5, 2), MS_ERR_BUFFER_TOO_SMALL);
	assert_string_equal(P.doc.error_reason, "more values than the token buffer holds");
	assert_int_equal(parse("[1]"), MS_OK);
	assert_null(P.doc.error_reason);
}

static void test_char_len_for_writers(void **state)
{
	static const struct {
		const char *s;
		size_t len, want;
	} cases[] = {
		{ "a", 1, 1 }, { "\"", 1, 1 }, { "\x1f", 1, 1 }, { "\x7f", 1, 1 }, { "\0", 1, 0 },
		{ "\xc3\xa9x", 3, 2 }, { "\xe2\x82\xac", 3, 3 }, { "\xf0\x9f\x98\x80", 4, 4 },
		{ "\xc3", 1, 0 } /* cut short by the length */, { "\xe2\x82", 2, 0 }, { "\xff", 1, 0 },
		{ "\xc0\xaf", 2, 0 }, { "\xed\xa0\x80", 3, 0 }, { "\xef\xbf\xbf", 3, 0 }, { "\xf4\x90\x80\x80", 4, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (json_char_len(cases[i].s, cases[i].len) != cases[i].want)
			fail_msg("case %zu: %zu, expected %zu", i, json_char_len(cases[i].s, cases[i].len), cases[i].want);
	assert_int_equal(json_char_len(NULL, 1), 0);
	assert_int_equal(json_char_len("a", 0), 0);
	/* What it takes raw (besides the bytes a writer escapes), the parser takes inside a string. */
	for (unsigned a = 0x80; a < 0x100; a++)
		for (unsigned b = 0x80; b < 0xc0; b += 0x3f) {
			for (size_t n = 1; n <= 4; n++) {
				char text[8] = { '"', (char)a, (char)b, (char)0xbf, (char)0xbf };

				text[n + 1] = '"';
				assert_int_equal(json_char_len(text + 1, n) == n, parse_n(text, n + 2, MAX_TOKENS) == MS_OK);
			}
		}
}

static void test_depth_limit(void **state)
{
	char text[2 * (JSON_MAX_DEPTH + 1) + 1];

	(void)state;
	for (int i = 0; i < JSON_MAX_DEPTH; i++) {
		text[i] = '[';
		text[JSON_MAX_DEPTH + i] = ']';
	}
	assert_int_equal(parse_n(text, 2 * JSON_MAX_DEPTH, MAX_TOKENS), MS_OK);
	assert_int_equal(P.doc.n_tokens, JSON_MAX_DEPTH);

	for (int i = 0; i <= JSON_MAX_DEPTH; i++) {
		text[i] = '[';
		text[JSON_MAX_DEPTH + 1 + i] = ']';
	}
	assert_int_equal(parse_n(text, 2 * (JSON_MAX_DEPTH + 1), MAX_TOKENS), MS_ERR_LIMIT);
	assert_int_equal(P.doc.error_offset, JSON_MAX_DEPTH);

	/* Objects count too. */
	{
		char obj[8 * (JSON_MAX_DEPTH + 1) + 4];
		size_t n = 0;

		for (int i = 0; i <= JSON_MAX_DEPTH; i++)
			n += (size_t)sprintf(obj + n, "{\"a\":");
		n += (size_t)sprintf(obj + n, "1");
		for (int i = 0; i <= JSON_MAX_DEPTH; i++)
			obj[n++] = '}';
		assert_int_equal(parse_n(obj, n, MAX_TOKENS), MS_ERR_LIMIT);
	}
}

static void test_token_limit(void **state)
{
	(void)state;
	/* [1,2,{"a":3}] has 6 tokens. */
	assert_int_equal(parse_n("[1,2,{\"a\":3}]", 13, 6), MS_OK);
	assert_int_equal(P.doc.n_tokens, 6);
	assert_int_equal(parse_n("[1,2,{\"a\":3}]", 13, 5), MS_ERR_BUFFER_TOO_SMALL);
	assert_int_equal(parse_n("1", 1, 0), MS_ERR_BUFFER_TOO_SMALL);
}

static void test_tokens_for_bound_holds_for_dense_documents(void **state)
{
	static const char *dense[] = {
		"0", "[]", "[0]", "[0,0,0,0,0]", "[[],[],[]]", "{\"\":0}", "{\"\":0,\"\":[]}", "[{},{}]", "[\"\",\"\"]",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(dense) / sizeof(dense[0]); i++) {
		size_t len = strlen(dense[i]);

		assert_int_equal(parse_n(dense[i], len, (uint32_t)JSON_TOKENS_FOR(len)), MS_OK);
		assert_true(P.doc.n_tokens <= JSON_TOKENS_FOR(len));
	}
}

/* ------------------------------------------------------------ invalid input */

static void test_invalid_documents(void **state)
{
	static const struct {
		const char *text;
		ms_status status;
		size_t offset;
	} cases[] = {
		{ "", MS_ERR_TRUNCATED, 0 },
		{ "  \n", MS_ERR_TRUNCATED, 3 },
		{ "[", MS_ERR_TRUNCATED, 1 },
		{ "{", MS_ERR_TRUNCATED, 1 },
		{ "[1", MS_ERR_TRUNCATED, 2 },
		{ "[1,", MS_ERR_TRUNCATED, 3 },
		{ "{\"a\"", MS_ERR_TRUNCATED, 4 },
		{ "{\"a\":", MS_ERR_TRUNCATED, 5 },
		{ "\"abc", MS_ERR_TRUNCATED, 4 },
		{ "\"ab\\", MS_ERR_TRUNCATED, 3 },
		{ "tru", MS_ERR_TRUNCATED, 3 },
		{ "-", MS_ERR_TRUNCATED, 1 },
		{ "1.", MS_ERR_TRUNCATED, 2 },
		{ "1e", MS_ERR_TRUNCATED, 2 },
		{ "1e+", MS_ERR_TRUNCATED, 3 },
		{ "[1,]", MS_ERR_INVALID, 3 },
		{ "{\"a\":1,}", MS_ERR_INVALID, 7 },
		{ "{\"a\"}", MS_ERR_INVALID, 4 },
		{ "{\"a\" 1}", MS_ERR_INVALID, 5 },
		{ "{1:2}", MS_ERR_INVALID, 1 },
		{ "{\"a\":1]", MS_ERR_INVALID, 6 },
		{ "[1}", MS_ERR_INVALID, 2 },
		{ "[\"a\":1]", MS_ERR_INVALID, 4 },
		{ "[1 2]", MS_ERR_INVALID, 3 },
		{ "01", MS_ERR_INVALID, 1 },
		{ "-01", MS_ERR_INVALID, 2 },
		{ ".5", MS_ERR_INVALID, 0 },
		{ "+1", MS_ERR_INVALID, 0 },
		{ "1.e3", MS_ERR_INVALID, 2 },
		{ "1e+x", MS_ERR_INVALID, 3 },
		{ "-x", MS_ERR_INVALID, 1 },
		{ "0x10", MS_ERR_INVALID, 1 },
		{ "NaN", MS_ERR_INVALID, 0 },
		{ "Infinity", MS_ERR_INVALID, 0 },
		{ "True", MS_ERR_INVALID, 0 },
		{ "nul", MS_ERR_TRUNCATED, 3 },
		{ "nulL", MS_ERR_INVALID, 3 },
		{ "truex", MS_ERR_INVALID, 4 },
		{ "'a'", MS_ERR_INVALID, 0 },
		{ "[1]x", MS_ERR_INVALID, 3 },
		{ "1 2", MS_ERR_INVALID, 2 },
		{ "{}{}", MS_ERR_INVALID, 2 },
		{ "[] ,", MS_ERR_INVALID, 3 },
		{ "\xef\xbb\xbf{}", MS_ERR_INVALID, 0 },
		{ "/*c*/1", MS_ERR_INVALID, 0 },
		{ "[1,//\n2]", MS_ERR_INVALID, 3 },
		{ "\"a\tb\"", MS_ERR_INVALID, 2 },
		{ "\"a\nb\"", MS_ERR_INVALID, 2 },
		{ "\"\\x\"", MS_ERR_INVALID, 1 },
		{ "\"\\'\"", MS_ERR_INVALID, 1 },
		{ "\"\\u12\"", MS_ERR_INVALID, 1 },
		{ "\"\\u12G4\"", MS_ERR_INVALID, 1 },
		{ "\"\\u12", MS_ERR_TRUNCATED, 1 },
		{ "\"\\ud800\"", MS_ERR_INVALID, 1 },
		{ "\"\\udfff\"", MS_ERR_INVALID, 1 },
		{ "\"\\udc00\\ud800\"", MS_ERR_INVALID, 1 },
		{ "\"\\ud800\\u0041\"", MS_ERR_INVALID, 1 },
		{ "\"\\ud800\\ud800\"", MS_ERR_INVALID, 1 },
		{ "\"\\ud800x\"", MS_ERR_INVALID, 1 },
		{ "\"\\ud800", MS_ERR_TRUNCATED, 1 },
		{ "\"\\ud800\\udc0", MS_ERR_TRUNCATED, 1 },
		{ "[\"\\ud83d\"]", MS_ERR_INVALID, 2 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ms_status r = parse(cases[i].text);

		if (r != cases[i].status || P.doc.error_offset != cases[i].offset)
			fail_msg("case %zu '%s': status %d offset %zu, expected %d at %zu", i, cases[i].text, r,
				 P.doc.error_offset, cases[i].status, cases[i].offset);
	}
}

static void test_nul_and_control_bytes(void **state)
{
	(void)state;
	assert_int_equal(parse_n("\"a\0b\"", 5, MAX_TOKENS), MS_ERR_INVALID);
	assert_int_equal(parse_n("1\0", 2, MAX_TOKENS), MS_ERR_INVALID);
	assert_int_equal(parse_n("\0", 1, MAX_TOKENS), MS_ERR_INVALID);
	assert_int_equal(parse_n("\"\x1f\"", 3, MAX_TOKENS), MS_ERR_INVALID);
	/* systemd refuses DEL too (RFC 8259 would not). */
	assert_int_equal(parse_n("\"\x7f\"", 3, MAX_TOKENS), MS_ERR_INVALID);
	/* Vertical tab and form feed are not JSON whitespace. */
	assert_int_equal(parse("\v1"), MS_ERR_INVALID);
	assert_int_equal(parse("1\f"), MS_ERR_INVALID);
}

static void test_null_arguments(void **state)
{
	struct json_token t[4];
	struct json_doc d;

	(void)state;
	assert_int_equal(json_parse(NULL, "1", 1, t, 4), MS_ERR_INVALID);
	assert_int_equal(json_parse(&d, NULL, 1, t, 4), MS_ERR_INVALID);
	assert_int_equal(json_parse(&d, "1", 1, NULL, 4), MS_ERR_INVALID);
	assert_int_equal(json_parse(&d, NULL, 0, t, 4), MS_ERR_TRUNCATED);
	assert_null(json_token(NULL, 0));
	assert_null(json_token(&d, 0));
	assert_int_equal(json_type(&d, 7), 0);
	assert_int_equal(json_first(&d, 7), JSON_NONE);
	assert_int_equal(json_next(&d, 7), JSON_NONE);
}

/* ------------------------------------------------------------ helpers */

static void test_object_get(void **state)
{
	uint32_t v = 0;

	(void)state;
	assert_int_equal(parse("{\"pcrs\":[11],\"p\\u0063rs2\":1,\"nested\":{\"pcrs\":2},\"x\":null}"), MS_OK);
	assert_int_equal(json_object_get(&P.doc, 0, "pcrs", &v), MS_OK);
	assert_int_equal(json_type(&P.doc, v), JSON_ARRAY);
	assert_int_equal(json_object_get(&P.doc, 0, "pcrs2", &v), MS_OK); /* matched after unescaping */
	assert_int_equal(json_type(&P.doc, v), JSON_NUMBER);
	assert_int_equal(json_object_get(&P.doc, 0, "x", &v), MS_OK);
	assert_int_equal(json_type(&P.doc, v), JSON_NULL);
	assert_int_equal(json_object_get(&P.doc, 0, "pcr", &v), MS_ERR_NOT_FOUND);
	assert_int_equal(json_object_get(&P.doc, 0, "", &v), MS_ERR_NOT_FOUND);
	assert_int_equal(json_object_get(&P.doc, 0, NULL, &v), MS_ERR_INVALID);
	assert_int_equal(json_object_get(&P.doc, 2, "pcrs", &v), MS_ERR_INVALID); /* not an object */

	/* Duplicates are ambiguous, even when written differently. */
	assert_int_equal(parse("{\"a\":1,\"b\":2,\"\\u0061\":3}"), MS_OK);
	assert_int_equal(json_object_get(&P.doc, 0, "a", &v), MS_ERR_INVALID);
	assert_int_equal(json_object_get(&P.doc, 0, "b", &v), MS_OK);

	assert_int_equal(parse("{}"), MS_OK);
	assert_int_equal(json_object_get(&P.doc, 0, "a", &v), MS_ERR_NOT_FOUND);
}

static void test_string_equals(void **state)
{
	(void)state;
	assert_int_equal(parse("[\"sha256\",\"sha\\u0032\\u00356\",\"\",\"a\\u0001\",\"a\\\"b\",\"\\u00e9\",1]"), MS_OK);
	assert_true(json_string_equals(&P.doc, 1, "sha256"));
	assert_false(json_string_equals(&P.doc, 1, "sha25"));
	assert_false(json_string_equals(&P.doc, 1, "sha2566"));
	assert_false(json_string_equals(&P.doc, 1, "SHA256"));
	assert_true(json_string_equals(&P.doc, 2, "sha256"));
	assert_true(json_string_equals(&P.doc, 3, ""));
	assert_false(json_string_equals(&P.doc, 3, "x"));
	assert_false(json_string_equals(&P.doc, 4, "a")); /* the \u0001 is content */
	assert_true(json_string_equals(&P.doc, 4, "a\x01"));
	assert_true(json_string_equals(&P.doc, 5, "a\"b"));
	assert_true(json_string_equals(&P.doc, 6, "\xc3\xa9"));
	assert_false(json_string_equals(&P.doc, 7, "1")); /* not a string */
	assert_false(json_string_equals(&P.doc, 1, NULL));
	assert_false(json_string_equals(&P.doc, 99, "x"));
}

static void test_unescape(void **state)
{
	char out[64];
	size_t n = 0;

	(void)state;
	assert_int_equal(parse("\"q\\\"b\\\\s\\/b\\bf\\fn\\nr\\rt\\t\\u0041\\u00e9\\u20ac\\ud83d\\ude00\\uDBFF\\uDFFD\""),
			 MS_OK);
	assert_int_equal(json_string_unescape(&P.doc, 0, out, sizeof(out), &n), MS_OK);
	{
		static const char expected[] = "q\"b\\s/b\bf\fn\nr\rt\tA\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbd";

		assert_int_equal(n, sizeof(expected) - 1);
		assert_memory_equal(out, expected, sizeof(expected));
	}
	/* Asking for the length first. */
	assert_int_equal(json_string_unescape(&P.doc, 0, NULL, 0, &n), MS_ERR_BUFFER_TOO_SMALL);
	assert_int_equal(n, 30);
	/* Exactly the length is one too small (no room for the NUL). */
	assert_int_equal(json_string_unescape(&P.doc, 0, out, 30, &n), MS_ERR_BUFFER_TOO_SMALL);
	assert_int_equal(json_string_unescape(&P.doc, 0, out, 31, &n), MS_OK);
	assert_int_equal(out[30], '\0');

	assert_int_equal(parse("[\"a\\u0001b\",\"\",7]"), MS_OK);
	assert_int_equal(json_string_unescape(&P.doc, 1, out, sizeof(out), &n), MS_OK);
	assert_int_equal(n, 3);
	assert_memory_equal(out, "a\1b", 4);
	assert_int_equal(json_string_unescape(&P.doc, 2, out, 1, &n), MS_OK);
	assert_int_equal(n, 0);
	assert_string_equal(out, "");
	assert_int_equal(json_string_unescape(&P.doc, 3, out, sizeof(out), &n), MS_ERR_INVALID);
	assert_int_equal(json_string_unescape(&P.doc, 0, out, sizeof(out), &n), MS_ERR_INVALID);
}

static void test_uint(void **state)
{
	uint64_t v = 0;

	(void)state;
	assert_int_equal(parse("[0,23,24,18446744073709551615,18446744073709551616,99999999999999999999,-1,-0,1.0,1e2,\"5\"]"),
			 MS_OK);
	assert_int_equal(json_uint(&P.doc, 1, 23, &v), MS_OK);
	assert_int_equal(v, 0);
	assert_int_equal(json_uint(&P.doc, 2, 23, &v), MS_OK);
	assert_int_equal(v, 23);
	assert_int_equal(json_uint(&P.doc, 3, 23, &v), MS_ERR_LIMIT);
	assert_int_equal(json_uint(&P.doc, 3, 24, &v), MS_OK);
	assert_int_equal(json_uint(&P.doc, 4, UINT64_MAX, &v), MS_OK);
	assert_true(v == UINT64_MAX);
	assert_int_equal(json_uint(&P.doc, 5, UINT64_MAX, &v), MS_ERR_LIMIT);
	assert_int_equal(json_uint(&P.doc, 6, UINT64_MAX, &v), MS_ERR_LIMIT);
	assert_int_equal(json_uint(&P.doc, 7, 100, &v), MS_ERR_INVALID);
	assert_int_equal(json_uint(&P.doc, 8, 100, &v), MS_ERR_INVALID);
	assert_int_equal(json_uint(&P.doc, 9, 100, &v), MS_ERR_INVALID);
	assert_int_equal(json_uint(&P.doc, 10, 100, &v), MS_ERR_INVALID);
	assert_int_equal(json_uint(&P.doc, 11, 100, &v), MS_ERR_INVALID); /* a string */
	assert_int_equal(json_uint(&P.doc, 0, 100, &v), MS_ERR_INVALID);  /* an array */
	assert_int_equal(json_uint(&P.doc, 1, 0, &v), MS_OK);
	assert_int_equal(json_uint(&P.doc, 2, 0, &v), MS_ERR_LIMIT);
}

/* The shape the stub will merge: systemd's tpm2-pcr-signature.json. */
static void test_walk_pcr_signature_json(void **state)
{
	static const char text[] =
		"{\"sha256\":[{\"pcrs\":[11],\"pkfp\":\"ab01\",\"pol\":\"cd02\",\"sig\":\"ZWY=\"},"
		"{\"pcrs\":[11,13],\"pkfp\":\"ab01\",\"pol\":\"cd03\",\"sig\":\"Z2g=\"}],"
		"\"sha1\":[{\"pcrs\":[11],\"pkfp\":\"ab01\",\"pol\":\"ef04\",\"sig\":\"aWo=\"}]}";
	const char *expected_pol[] = { "cd02", "cd03", "ef04" };
	const char *expected_bank[] = { "sha256", "sha256", "sha1" };
	uint64_t pcr_sum = 0;
	int n = 0;

	(void)state;
	assert_int_equal(parse(text), MS_OK);
	for (uint32_t k = json_first(&P.doc, 0); k != JSON_NONE; k = json_next(&P.doc, k)) {
		assert_int_equal(json_type(&P.doc, k + 1), JSON_ARRAY);
		for (uint32_t e = json_first(&P.doc, k + 1); e != JSON_NONE; e = json_next(&P.doc, e)) {
			uint32_t pol, pcrs, sig;
			char buf[16];

			assert_true(n < 3);
			assert_true(json_string_equals(&P.doc, k, expected_bank[n]));
			assert_int_equal(json_object_get(&P.doc, e, "pol", &pol), MS_OK);
			assert_int_equal(json_string_unescape(&P.doc, pol, buf, sizeof(buf), NULL), MS_OK);
			assert_string_equal(buf, expected_pol[n]);
			assert_int_equal(json_object_get(&P.doc, e, "pcrs", &pcrs), MS_OK);
			for (uint32_t p = json_first(&P.doc, pcrs); p != JSON_NONE; p = json_next(&P.doc, p)) {
				uint64_t v;

				assert_int_equal(json_uint(&P.doc, p, 23, &v), MS_OK);
				pcr_sum += v;
			}
			/* Re-emit one entry byte for byte. */
			if (n == 1)
				assert_raw(e, "{\"pcrs\":[11,13],\"pkfp\":\"ab01\",\"pol\":\"cd03\",\"sig\":\"Z2g=\"}");
			assert_int_equal(json_object_get(&P.doc, e, "sig", &sig), MS_OK);
			n++;
		}
	}
	assert_int_equal(n, 3);
	assert_int_equal(pcr_sum, 11 + 11 + 13 + 11);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_scalar_roots, teardown),
		cmocka_unit_test_teardown(test_tree_shape, teardown),
		cmocka_unit_test_teardown(test_whitespace_everywhere_and_raw_keeps_it, teardown),
		cmocka_unit_test_teardown(test_empty_containers, teardown),
		cmocka_unit_test_teardown(test_utf8_that_systemd_accepts, teardown),
		cmocka_unit_test_teardown(test_strings_that_systemd_refuses, teardown),
		cmocka_unit_test_teardown(test_error_reasons, teardown),
		cmocka_unit_test_teardown(test_char_len_for_writers, teardown),
		cmocka_unit_test_teardown(test_depth_limit, teardown),
		cmocka_unit_test_teardown(test_token_limit, teardown),
		cmocka_unit_test_teardown(test_tokens_for_bound_holds_for_dense_documents, teardown),
		cmocka_unit_test_teardown(test_invalid_documents, teardown),
		cmocka_unit_test_teardown(test_nul_and_control_bytes, teardown),
		cmocka_unit_test_teardown(test_null_arguments, teardown),
		cmocka_unit_test_teardown(test_object_get, teardown),
		cmocka_unit_test_teardown(test_string_equals, teardown),
		cmocka_unit_test_teardown(test_unescape, teardown),
		cmocka_unit_test_teardown(test_uint, teardown),
		cmocka_unit_test_teardown(test_walk_pcr_signature_json, teardown),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
