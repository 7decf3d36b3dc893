/* SPDX-License-Identifier: MIT */
/*
 * test-pcrsig.c - unit tests for measure/pcrsig.c: validating and merging
 * tpm2-pcr-signature.json fragments. Fragments are copied into heap buffers
 * of exactly their length, so AddressSanitizer catches reads past the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "measure/pcrsig.h"

#define MAX_TOKENS 512

#define H64A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define H64B "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
#define H64C "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

#define ENTRY(pcrs, pol, sig) "{\"pcrs\":" pcrs ",\"pkfp\":\"" H64A "\",\"pol\":\"" pol "\",\"sig\":\"" sig "\"}"

static struct json_token tokens[MAX_TOKENS];

static void *copy(const char *s)
{
	size_t n = strlen(s);
	void *p = malloc(n ? n : 1);

	assert_non_null(p);
	memcpy(p, s, n);
	return p;
}

/* The reason the last validate() gave. */
static const char *last_reason;

static ms_status validate(const char *text)
{
	void *buf = copy(text);
	size_t where = 12345;
	ms_status r = pcrsig_validate(buf, strlen(text), tokens, MAX_TOKENS, &where, &last_reason);

	if (r == MS_OK) {
		assert_int_equal(where, 0);
		assert_null(last_reason);
	} else {
		assert_true(where <= strlen(text));
		assert_non_null(last_reason);
	}
	free(buf);
	return r;
}

static void test_systemd_shapes_validate(void **state)
{
	(void)state;
	/* What systemd-measure 252 writes (one entry per phase), with whitespace. */
	assert_int_equal(validate("{\n  \"sha256\" : [ " ENTRY("[11]", H64B, "QUJD") ", " ENTRY("[ 11 ]", H64C, "QUI=")
				  " ]\n}\n"),
			 MS_OK);
	assert_int_equal(validate("{\"sha1\":[" ENTRY("[11,13]", H64C, "QQ==") "],\"sha512\":[]}"), MS_OK);
	/* A policy-digest-only file has no sig: not mergeable. */
	assert_int_equal(validate("{\"sha256\":[{\"pcrs\":[11],\"pkfp\":\"" H64A "\",\"pol\":\"" H64B "\"}]}"),
			 MS_ERR_NOT_FOUND);
	/* No banks at all is valid (and contributes nothing); other members are ignored. */
	assert_int_equal(validate("{}"), MS_OK);
	assert_int_equal(validate("{\"comment\":\"x\",\"sm3_256\":[1]}"), MS_OK);
	/* Extra members inside an entry are kept. */
	assert_int_equal(validate("{\"sha256\":[{\"x\":1,\"pcrs\":[13],\"pkfp\":\"" H64A "\",\"pol\":\"" H64B
				  "\",\"sig\":\"QUJD\"}]}"),
			 MS_OK);
}

static void test_malformed_fragments_are_refused(void **state)
{
	(void)state;
	assert_int_not_equal(validate(""), MS_OK);
	assert_int_not_equal(validate("   "), MS_OK);
	assert_int_equal(validate("[]"), MS_ERR_INVALID);
	assert_int_equal(validate("{\"sha256\":{}}"), MS_ERR_INVALID);
	assert_int_equal(validate("{\"sha256\":[1]}"), MS_ERR_INVALID);
	assert_int_not_equal(validate("{\"sha256\":[" ENTRY("[11]", H64B, "QUJD") "]"), MS_OK); /* truncated */
	assert_int_not_equal(validate("{\"sha256\":[" ENTRY("[11]", H64B, "QUJD") "]}x"), MS_OK);
	/* The same bank twice: readers could pick either. */
	assert_int_equal(validate("{\"sha256\":[],\"sha256\":[" ENTRY("[11]", H64B, "QUJD") "]}"), MS_ERR_INVALID);
	/* A member twice inside an entry. */
	assert_int_equal(validate("{\"sha256\":[{\"pcrs\":[11],\"pcrs\":[13],\"pkfp\":\"" H64A "\",\"pol\":\"" H64B
				  "\",\"sig\":\"QUJD\"}]}"),
			 MS_ERR_INVALID);
	/* PCR lists: empty, out of range, repeated, not integers. */
	assert_int_equal(validate("{\"sha256\":[" ENTRY("[]", H64B, "QUJD") "]}"), MS_ERR_INVALID);
	assert_int_equal(validate("{\"sha256\":[" ENTRY("[24]", H64B, "QUJD") "]}"), MS_ERR_INVALID);
	assert_int_equal(validate("{\"sha256\":[" ENTRY("[11,11]", H64B, "QUJD") "]}"), MS_ERR_INVALID);
	assert_int_equal(validate("{\"sha256\":[" ENTRY("[11.0]", H64B, "QUJD") "]}"), MS_ERR_INVALID);
	assert_int_equal(validate("{\"sha256\":[" ENTRY("[-1]", H64B, "QUJD") "]}"), MS_ERR_INVALID);
	assert_int_equal(validate("{\"sha256\":[" ENTRY("11", H64B, "QUJD") "]}"), MS_ERR_INVALID);
	/* Digests: wrong length, not hex, escaped. */
	assert_int_equal(validate("{\"sha256\":[" ENTRY("[11]", "abcd", "QUJD") "]}"), MS_ERR_INVALID);
	assert_int_equal(validate("{\"sha256\":[" ENTRY("[11]", H64B "aa", "QUJD") "]}"), MS_ERR_INVALID);
	assert_int_equal(
		validate("{\"sha256\":[" ENTRY("[11]", "g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
					       "QUJD") "]}"),
		MS_ERR_INVALID);
	assert_int_equal(validate("{\"sha256\":[" ENTRY("[11]",
							"\\u0030123456789abcdef0123456789abcdef0123456789abcdef0123456789a",
							"QUJD") "]}"),
			 MS_ERR_INVALID);
	/* Signatures: empty, not base64, bad padding, line breaks. */
	assert_int_equal(validate("{\"sha256\":[" ENTRY("[11]", H64B, "") "]}"), MS_ERR_INVALID);
	assert_int_equal(validate("{\"sha256\":[" ENTRY("[11]", H64B, "QU*D") "]}"), MS_ERR_INVALID);
	assert_int_equal(validate("{\"sha256\":[" ENTRY("[11]", H64B, "QUJ") "]}"), MS_ERR_INVALID);
	assert_int_equal(validate("{\"sha256\":[" ENTRY("[11]", H64B, "Q===") "]}"), MS_ERR_INVALID);
	assert_int_equal(validate("{\"sha256\":[" ENTRY("[11]", H64B, "QU=D") "]}"), MS_ERR_INVALID);
	assert_int_equal(validate("{\"sha256\":[" ENTRY("[11]", H64B, "QUJD\\nQUJD") "]}"), MS_ERR_INVALID);
	/* One bad entry spoils the whole fragment. */
	assert_int_equal(validate("{\"sha256\":[" ENTRY("[11]", H64B, "QUJD") "],\"sha1\":[" ENTRY("[11]", H64B, "Q")
				  "]}"),
			 MS_ERR_INVALID);
	/* Not enough tokens is an error, never a silent partial result. */
	{
		const char *t = "{\"sha256\":[" ENTRY("[11]", H64B, "QUJD") "]}";
		void *buf = copy(t);

		assert_int_equal(pcrsig_validate(buf, strlen(t), tokens, 3, NULL, NULL), MS_ERR_BUFFER_TOO_SMALL);
		free(buf);
	}
}

struct merged {
	char *text;
	size_t len;
	ms_status status;
};

static struct merged merge(const char *const *texts, size_t n, struct pcrsig_fragment *frags)
{
	struct merged m = { 0 };
	size_t total = 0, cap;

	for (size_t i = 0; i < n; i++) {
		frags[i] = (struct pcrsig_fragment){ .data = copy(texts[i]), .len = strlen(texts[i]) };
		total += strlen(texts[i]);
	}
	cap = pcrsig_merged_bound(total, n);
	m.text = malloc(cap + 1);
	assert_non_null(m.text);
	m.status = pcrsig_merge(frags, n, tokens, MAX_TOKENS, m.text, cap, &m.len);
	if (m.status == MS_OK) {
		assert_true(m.len <= cap);
		m.text[m.len] = 0;
		/* The result is itself a valid fragment. */
		assert_int_equal(pcrsig_validate(m.text, m.len, tokens, MAX_TOKENS, NULL, NULL), MS_OK);
	}
	return m;
}

static void free_merge(struct merged *m, struct pcrsig_fragment *frags, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free((void *)frags[i].data);
	free(m->text);
}

static void test_merge_concatenates_per_bank_and_skips_bad_fragments(void **state)
{
	const char *texts[] = {
		/* the UKI's .pcrsig: PCR 11 only, two phases */
		"{\"sha256\":[ " ENTRY("[11]", H64B, "QUJD") " , " ENTRY("[11]", H64C, "QUJE") " ]}\n",
		/* an ESP fragment with a typo: skipped whole */
		"{\"sha256\":[" ENTRY("[11,13]", "zz", "QUJD") "]}",
		/* an ESP fragment for the sysext set, two banks, sha1 first */
		"{\"sha1\":[" ENTRY("[11,13]", H64A, "c2hhMQ==") "],\"sha256\":[" ENTRY("[11,13]", H64A, "c2hhMg==")
		"],\"note\":true}",
		/* not JSON at all */
		"sha256=deadbeef",
	};
	struct pcrsig_fragment frags[4];
	struct merged m;

	(void)state;
	m = merge(texts, 4, frags);
	assert_int_equal(m.status, MS_OK);
	assert_string_equal(m.text, "{\"sha1\":[" ENTRY("[11,13]", H64A, "c2hhMQ==") "],\"sha256\":["
				    ENTRY("[11]", H64B, "QUJD") "," ENTRY("[11]", H64C, "QUJE") ","
				    ENTRY("[11,13]", H64A, "c2hhMg==") "]}");
	assert_int_equal(frags[0].status, MS_OK);
	assert_int_equal(frags[0].entries, 2);
	assert_int_equal(frags[1].status, MS_ERR_INVALID);
	assert_int_equal(frags[1].entries, 0);
	/* The error offset points at the bad pol string, and the reason says what is wrong with it. */
	assert_memory_equal((const char *)frags[1].data + frags[1].error_offset, "\"zz\"", 4);
	assert_string_equal(frags[1].reason, "\"pol\" is not 64 hex digits");
	assert_null(frags[0].reason);
	assert_int_equal(frags[2].status, MS_OK);
	assert_int_equal(frags[2].entries, 2);
	assert_int_not_equal(frags[3].status, MS_OK);
	free_merge(&m, frags, 4);
}

/*
 * systemd's JSON parser refuses the whole merged file for one bad byte
 * anywhere in it, so a fragment systemd would refuse is left out whole,
 * even when the bad part is a member the merge would copy unread.
 */
#define NONCHARACTER "a Unicode noncharacter (U+FDD0..U+FDEF, U+xFFFE, U+xFFFF) in a string"

static void test_fragments_systemd_would_refuse_are_left_out(void **state)
{
	static const struct {
		const char *member, *reason;
	} bad[] = {
		{ ",\"x\":\"\xff\"", "invalid UTF-8 in a string" }, /* the example */
		{ ",\"x\":\"\x7f\"", "DEL (0x7f) in a string" },
		{ ",\"x\":\"\\u0000\"", "\\u0000 in a string" },
		{ ",\"x\":\"\xc0\xaf\"", "invalid UTF-8 in a string" },         /* an overlong '/' */
		{ ",\"x\":\"\xed\xa0\x80\"", "invalid UTF-8 in a string" },     /* a UTF-16 surrogate in UTF-8 */
		{ ",\"x\":\"\xf4\x90\x80\x80\"", "invalid UTF-8 in a string" }, /* beyond U+10FFFF */
		{ ",\"x\":\"\xe2\x82\"", "invalid UTF-8 in a string" },         /* a sequence cut short */
		{ ",\"x\":\"\xef\xbf\xbe\"", NONCHARACTER },
		{ ",\"x\":\"\\ufdd0\"", NONCHARACTER },
		{ ",\"x\":\"\\ud83f\\udfff\"", NONCHARACTER }, /* U+1FFFF as a surrogate pair */
		{ ",\"x\":\"\\udfff\"", "an unpaired surrogate escape" },
		{ ",\"\xff\":1", "invalid UTF-8 in a string" }, /* in a key */
		{ ",\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", "arrays and objects nested too deep" },
		{ ",\"ref\":1", "\"ref\" is not a string" }, /* systemd 262 gives up on the whole file */
		{ ",\"ref\":\"a\",\"ref\":\"a\"", "an entry has \"ref\" twice" },
	};
	const char *good = "{\"sha256\":[" ENTRY("[11]", H64B, "QUJD") "]}";

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[512];
		const char *texts[2];
		struct pcrsig_fragment frags[2];
		struct merged m;

		snprintf(text, sizeof(text), "{\"sha256\":[{\"pcrs\":[13],\"pkfp\":\"" H64A "\",\"pol\":\"" H64B
					   "\",\"sig\":\"AAAA\"%s}]}", bad[i].member);
		if (validate(text) == MS_OK || strcmp(last_reason, bad[i].reason) != 0)
			fail_msg("case %zu (%s): accepted, or refused for \"%s\"", i, bad[i].member,
				 last_reason ? last_reason : "");
		/* The UKI's own .pcrsig goes on alone. */
		texts[0] = good;
		texts[1] = text;
		m = merge(texts, 2, frags);
		assert_int_equal(m.status, MS_OK);
		assert_string_equal(m.text, good);
		assert_int_not_equal(frags[1].status, MS_OK);
		assert_string_equal(frags[1].reason, bad[i].reason);
		free_merge(&m, frags, 2);
	}
	/* What systemd accepts stays: UTF-8, an escaped DEL or control character, a string "ref". */
	assert_int_equal(validate("{\"sha256\":[{\"pcrs\":[13],\"pkfp\":\"" H64A "\",\"pol\":\"" H64B
				  "\",\"sig\":\"AAAA\",\"ref\":\"r\xc3\xa9\\u007f\\u0001\xf0\x9f\x98\x80\"}]}"),
		 MS_OK);
}

static void test_merge_of_nothing_is_an_empty_object(void **state)
{
	const char *texts[] = { "{}", "{\"sha256\":[]}", "[" };
	struct pcrsig_fragment frags[3];
	struct merged m;

	(void)state;
	m = merge(texts, 3, frags);
	assert_int_equal(m.status, MS_OK);
	assert_string_equal(m.text, "{}");
	free_merge(&m, frags, 3);

	m = merge(texts, 0, frags);
	assert_int_equal(m.status, MS_OK);
	assert_string_equal(m.text, "{}");
	free_merge(&m, frags, 0);
}

static void test_merge_reports_small_buffers(void **state)
{
	const char *t = "{\"sha256\":[" ENTRY("[11]", H64B, "QUJD") "]}";
	struct pcrsig_fragment frag = { .data = t, .len = strlen(t) };
	char out[512];
	size_t len = 0, need;

	(void)state;
	assert_int_equal(pcrsig_merge(&frag, 1, tokens, MAX_TOKENS, out, sizeof(out), &len), MS_OK);
	need = len;
	assert_int_equal(need, strlen(t));
	for (size_t cap = 0; cap < need; cap++)
		assert_int_equal(pcrsig_merge(&frag, 1, tokens, MAX_TOKENS, out, cap, &len), MS_ERR_BUFFER_TOO_SMALL);
	assert_int_equal(pcrsig_merge(&frag, 1, tokens, MAX_TOKENS, out, need, &len), MS_OK);
	assert_int_equal(len, need);
}

/* The bound holds in the worst case: many one-entry fragments spread over all banks, no whitespace. */
static void test_bound_holds_for_many_small_fragments(void **state)
{
	enum { N = 40 };
	const char *texts[N];
	char bufs[N][600];
	struct pcrsig_fragment frags[N];
	size_t total = 0;
	struct merged m;

	(void)state;
	for (int i = 0; i < N; i++) {
		snprintf(bufs[i], sizeof(bufs[i]), "{\"%s\":[" ENTRY("[%d]", H64B, "QQ==") "]}",
			 pcrsig_bank_names[i % PCRSIG_BANKS], i % 24);
		texts[i] = bufs[i];
		total += strlen(bufs[i]);
	}
	m = merge(texts, N, frags);
	assert_int_equal(m.status, MS_OK);
	assert_true(m.len <= pcrsig_merged_bound(total, N));
	for (int i = 0; i < N; i++)
		assert_int_equal(frags[i].entries, 1);
	free_merge(&m, frags, N);
	assert_int_equal(pcrsig_merged_bound(SIZE_MAX - 3, 1), SIZE_MAX);
	assert_int_equal(pcrsig_merged_bound(10, SIZE_MAX / 2), SIZE_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_systemd_shapes_validate),
		cmocka_unit_test(test_malformed_fragments_are_refused),
		cmocka_unit_test(test_merge_concatenates_per_bank_and_skips_bad_fragments),
		cmocka_unit_test(test_fragments_systemd_would_refuse_are_left_out),
		cmocka_unit_test(test_merge_of_nothing_is_an_empty_object),
		cmocka_unit_test(test_merge_reports_small_buffers),
		cmocka_unit_test(test_bound_holds_for_many_small_fragments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
