/* SPDX-License-Identifier: MIT */
/*
 * test-systemd-json.c - measure/json.c and the signature merge against
 * systemd's own JSON parser, loaded from libsystemd-shared with dlopen().
 *
 * The library is $SYSEXT_STUB_LIBSYSTEMD_SHARED, or else the installed
 * /usr/lib/x86_64-linux-gnu/systemd/libsystemd-shared-*.so (Debian 12:
 * v252, which exports json_parse; v257+ export sd_json_parse, same
 * arguments). tests/cli/test_systemd_json.py runs this program again with
 * the libraries of Debian 13 and unstable.
 *
 * Inputs: every seed of tests/fuzz/corpus/json and tests/fuzz/corpus/pcrsig
 * (the latter split at 0x1e into fragments, as fuzz-pcrsig does), the files
 * in the directories named in $SYSEXT_STUB_JSON_CORPUS (colon-separated,
 * e.g. a fuzzer's build/fuzz/corpus-json), and generated edge cases: every
 * string content of one byte, of two bytes starting >= 0x80, every
 * three-byte sequence E0..EF xx xx, four-byte ones around every boundary,
 * every \uXXXX escape and surrogate pairs, malformed escapes, and every
 * one-byte replacement, insertion and deletion in a few documents.
 *
 * For each document D, with "ours" = json_parse() accepts, "model" =
 * tests/sd-json-model.c accepts and "systemd" = the library accepts:
 *   model == systemd (the oracle the fuzz targets use is right);
 *   ours => systemd (nothing we accept breaks systemd);
 *   systemd, no NUL byte and nesting <= JSON_MAX_DEPTH => ours (json.c
 *   refuses nothing else systemd takes).
 * For each fragment F: pcrsig_validate() accepts F => systemd accepts F;
 * and the merge of any group of fragments parses in systemd.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "measure/json.h"
#include "measure/pcrsig.h"
#include "tests/sd-json-model.h"

#define DEFAULT_LIBRARY_GLOB "/usr/lib/x86_64-linux-gnu/systemd/libsystemd-shared-*.so"
#define JSON_CORPUS "tests/fuzz/corpus/json"
#define PCRSIG_CORPUS "tests/fuzz/corpus/pcrsig"
#define FRAGMENT_SEP 0x1e
#define MERGE_GROUP 16

#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ENTRY_HEAD "{\"sha256\":[{\"pcrs\":[13],\"pkfp\":\"" H64 "\",\"pol\":\"" H64 "\",\"sig\":\"AAAA\""
#define ENTRY_TAIL "}]}"

/* ------------------------------------------------------------ systemd's parser */

typedef int (*parse_fn)(const char *text, unsigned flags, void **ret, unsigned *line, unsigned *column);
typedef void *(*unref_fn)(void *v);

static struct {
	void *dl;
	char path[4096];
	parse_fn parse;
	unref_fn unref;
} SD;

static int load_systemd(void **state)
{
	const char *path = getenv("SYSEXT_STUB_LIBSYSTEMD_SHARED");
	glob_t g = { 0 };

	(void)state;
	if (!path || !*path) {
		if (glob(DEFAULT_LIBRARY_GLOB, 0, NULL, &g) != 0 || g.gl_pathc == 0) {
			fprintf(stderr, "test-systemd-json: no %s: install the systemd package "
					"(scripts/install-deps.sh)\n", DEFAULT_LIBRARY_GLOB);
			return -1;
		}
		path = g.gl_pathv[g.gl_pathc - 1];
	}
	snprintf(SD.path, sizeof(SD.path), "%s", path);
	globfree(&g);
	SD.dl = dlopen(SD.path, RTLD_NOW | RTLD_LOCAL);
	if (!SD.dl) {
		fprintf(stderr, "test-systemd-json: cannot load %s: %s\n", SD.path, dlerror());
		return -1;
	}
	/* v257+ made the parser public API (sd_json_parse); v252 has it as json_parse. */
	SD.parse = (parse_fn)dlsym(SD.dl, "sd_json_parse");
	SD.unref = (unref_fn)dlsym(SD.dl, "sd_json_variant_unref");
	if (!SD.parse || !SD.unref) {
		SD.parse = (parse_fn)dlsym(SD.dl, "json_parse");
		SD.unref = (unref_fn)dlsym(SD.dl, "json_variant_unref");
	}
	if (!SD.parse || !SD.unref) {
		fprintf(stderr, "test-systemd-json: %s exports neither sd_json_parse nor json_parse\n", SD.path);
		return -1;
	}
	printf("test-systemd-json: systemd's parser from %s\n", SD.path);
	return 0;
}

static int unload_systemd(void **state)
{
	(void)state;
	if (SD.dl)
		dlclose(SD.dl);
	return 0;
}

/* systemd parses a C string: it sees the document up to its first NUL. */
static bool systemd_accepts(const void *data, size_t len)
{
	char *text = malloc(len + 1);
	void *v = NULL;
	int r;

	assert_non_null(text);
	memcpy(text, data, len);
	text[len] = 0;
	r = SD.parse(text, 0, &v, NULL, NULL);
	if (r >= 0)
		SD.unref(v);
	free(text);
	return r >= 0;
}

/* ------------------------------------------------------------ the checks */

static struct {
	size_t documents, systemd_accepted, ours_accepted;
	size_t fragments, fragments_kept, merges;
} Stats;

static void fail_with(const char *what, const void *data, size_t len)
{
	const uint8_t *p = data;

	fprintf(stderr, "test-systemd-json: %s (%zu bytes):", what, len);
	for (size_t i = 0; i < len && i < 256; i++)
		fprintf(stderr, " %02x", p[i]);
	fprintf(stderr, "\n  as text: %.*s\n", (int)(len < 256 ? len : 256), (const char *)data);
	fail_msg("%s", what);
}

static bool ours_accepts(const void *data, size_t len)
{
	uint32_t max = (uint32_t)JSON_TOKENS_FOR(len);
	struct json_token *tokens = calloc(max, sizeof(*tokens));
	struct json_doc doc;
	uint8_t *copy = malloc(len ? len : 1); /* exactly its size: ASan sees overreads */
	ms_status r;

	assert_non_null(tokens);
	assert_non_null(copy);
	memcpy(copy, data, len);
	r = json_parse(&doc, copy, len, tokens, max);
	free(copy);
	free(tokens);
	return r == MS_OK;
}

static void check_document(const void *data, size_t len)
{
	bool sd = systemd_accepts(data, len);
	bool model = sd_json_model_accepts(data, len);
	bool ours = ours_accepts(data, len);

	Stats.documents++;
	Stats.systemd_accepted += sd;
	Stats.ours_accepted += ours;
	if (model != sd)
		fail_with(sd ? "systemd accepts what the model refuses" : "the model accepts what systemd refuses", data,
			  len);
	if (ours && !sd)
		fail_with("json_parse() accepts what systemd refuses", data, len);
	if (sd && !ours && !memchr(data, 0, len) && sd_json_model_depth(data, len) <= JSON_MAX_DEPTH)
		fail_with("json_parse() refuses what systemd accepts", data, len);
}

static bool fragment_kept(const void *data, size_t len)
{
	uint32_t max = (uint32_t)JSON_TOKENS_FOR(len);
	struct json_token *tokens = calloc(max, sizeof(*tokens));
	uint8_t *copy = malloc(len ? len : 1);
	ms_status r;

	assert_non_null(tokens);
	assert_non_null(copy);
	memcpy(copy, data, len);
	r = pcrsig_validate(copy, len, tokens, max, NULL, NULL);
	free(copy);
	free(tokens);
	return r == MS_OK;
}

static void check_fragment(const void *data, size_t len)
{
	bool kept = fragment_kept(data, len);

	Stats.fragments++;
	Stats.fragments_kept += kept;
	if (kept && !systemd_accepts(data, len))
		fail_with("a fragment the merge keeps is refused by systemd", data, len);
}

/* Merge fragments[0..n) as the stub does and check systemd parses the result. */
static void check_merge(struct pcrsig_fragment *frags, size_t n)
{
	size_t total = 0, largest = 0, cap, len = 0;
	struct json_token *tokens;
	char *out;

	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++) {
		total += frags[i].len;
		if (frags[i].len > largest)
			largest = frags[i].len;
	}
	cap = pcrsig_merged_bound(total, n);
	out = malloc(cap);
	tokens = calloc(JSON_TOKENS_FOR(largest), sizeof(*tokens));
	assert_non_null(out);
	assert_non_null(tokens);
	assert_int_equal(pcrsig_merge(frags, n, tokens, (uint32_t)JSON_TOKENS_FOR(largest), out, cap, &len), MS_OK);
	Stats.merges++;
	if (!systemd_accepts(out, len))
		fail_with("systemd refuses the merged document", out, len);
	free(tokens);
	free(out);
}

/* Fragments collected for merging in groups. */
static struct {
	struct pcrsig_fragment frags[MERGE_GROUP];
	uint8_t *bufs[MERGE_GROUP];
	size_t n;
} Group;

static void flush_group(void)
{
	check_merge(Group.frags, Group.n);
	for (size_t i = 0; i < Group.n; i++)
		free(Group.bufs[i]);
	Group.n = 0;
}

/* Check a fragment alone, and add it to the group merged next. */
static void fragment(const void *data, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);

	check_fragment(data, len);
	assert_non_null(copy);
	memcpy(copy, data, len);
	Group.bufs[Group.n] = copy;
	Group.frags[Group.n++] = (struct pcrsig_fragment){ .data = copy, .len = len };
	if (Group.n == MERGE_GROUP)
		flush_group();
}

/* ------------------------------------------------------------ inputs */

static uint8_t *read_whole(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, len = 0, n;

	if (!f)
		fail_msg("cannot open %s (run from the source tree: make unit)", path);
	do {
		if (len == cap) {
			cap = cap ? 2 * cap : 4096;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	*ret_len = len;
	return buf;
}

/* Call @fn on every file in @dir (not recursing; dot files skipped). Returns how many. */
static size_t for_each_file(const char *dir, void (*fn)(const uint8_t *data, size_t len))
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	if (!d)
		fail_msg("cannot open %s (run from the source tree: make unit)", dir);
	while ((e = readdir(d))) {
		char path[4096];
		uint8_t *data;
		size_t len;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		data = read_whole(path, &len);
		fn(data, len);
		free(data);
		n++;
	}
	closedir(d);
	return n;
}

/* A seed of fuzz-pcrsig: fragments separated by 0x1e, merged together. */
static void pcrsig_seed(const uint8_t *data, size_t len)
{
	size_t start = 0;

	flush_group();
	for (size_t i = 0; i <= len; i++)
		if (i == len || data[i] == FRAGMENT_SEP) {
			check_document(data + start, i - start);
			fragment(data + start, i - start);
			start = i + 1;
		}
	flush_group();
}

static void json_seed(const uint8_t *data, size_t len)
{
	check_document(data, len);
	fragment(data, len);
}

/* Where generated string contents go: a document of their own, and a fragment's entry member. */
enum placement { AS_DOCUMENT = 1, AS_FRAGMENT = 2, AS_KEY = 4 };

static void string_content(const void *content, size_t n, unsigned where)
{
	uint8_t buf[64 + sizeof(ENTRY_HEAD ENTRY_TAIL)];
	size_t len;

	assert_true(n <= 32);
	if (where & AS_DOCUMENT) {
		buf[0] = '"';
		memcpy(buf + 1, content, n);
		buf[n + 1] = '"';
		check_document(buf, n + 2);
	}
	if (where & AS_FRAGMENT) {
		len = sizeof(ENTRY_HEAD) - 1;
		memcpy(buf, ENTRY_HEAD, len);
		memcpy(buf + len, ",\"x\":\"", 6);
		len += 6;
		memcpy(buf + len, content, n);
		len += n;
		memcpy(buf + len, "\"" ENTRY_TAIL, sizeof(ENTRY_TAIL));
		len += sizeof(ENTRY_TAIL);
		fragment(buf, len);
	}
	if (where & AS_KEY) {
		len = 0;
		buf[len++] = '{';
		buf[len++] = '"';
		memcpy(buf + len, content, n);
		len += n;
		memcpy(buf + len, "\":1}", 4);
		len += 4;
		check_document(buf, len);
	}
}

static void escape_u(const char *fmt, unsigned a, unsigned b, unsigned where)
{
	char s[32];
	int n = snprintf(s, sizeof(s), fmt, a, b);

	string_content(s, (size_t)n, where);
}

static void generate_raw_strings(void)
{
	uint8_t s[8];

	/* Every byte alone (control characters, DEL, lone continuation and lead bytes). */
	for (unsigned b = 0; b < 256; b++) {
		s[0] = (uint8_t)b;
		string_content(s, 1, AS_DOCUMENT | AS_FRAGMENT | AS_KEY);
	}
	/* Every two-byte content starting at 0x80 (C0/C1 overlongs, truncations, bad continuations). */
	for (unsigned a = 0x80; a < 256; a++)
		for (unsigned b = 0; b < 256; b++) {
			s[0] = (uint8_t)a;
			s[1] = (uint8_t)b;
			string_content(s, 2, AS_DOCUMENT | ((a == 0xc2 || a == 0xdf || a == 0xed) ? AS_FRAGMENT : 0));
		}
	/* Every well-shaped three-byte sequence: overlongs (E0 80..9F), surrogates (ED A0..BF), U+FDD0..FDEF, U+FFFE/F. */
	for (unsigned a = 0xe0; a < 0xf0; a++)
		for (unsigned b = 0x80; b < 0xc0; b++)
			for (unsigned c = 0x80; c < 0xc0; c++) {
				s[0] = (uint8_t)a;
				s[1] = (uint8_t)b;
				s[2] = (uint8_t)c;
				string_content(s, 3, AS_DOCUMENT | ((a == 0xef && b >= 0xb7) ? AS_FRAGMENT : 0));
			}
	/* Four bytes: every lead F0..F7 and second byte, with boundary third and fourth bytes. */
	for (unsigned a = 0xf0; a < 0xf8; a++)
		for (unsigned b = 0x80; b < 0xc0; b++) {
			static const uint8_t thirds[] = { 0x80, 0x8f, 0xbf }, fourths[] = { 0x80, 0xbe, 0xbf };

			for (size_t i = 0; i < sizeof(thirds); i++)
				for (size_t j = 0; j < sizeof(fourths); j++) {
					s[0] = (uint8_t)a;
					s[1] = (uint8_t)b;
					s[2] = thirds[i];
					s[3] = fourths[j];
					string_content(s, 4, AS_DOCUMENT | ((b & 0x0f) == 0x0f ? AS_FRAGMENT : 0));
				}
			s[2] = 0xbf;
			string_content(s, 3, AS_DOCUMENT); /* cut short */
		}
	/* Five- and six-byte forms and 0xfe/0xff leads with continuation bytes after them. */
	for (unsigned a = 0xf8; a < 256; a++) {
		memset(s, 0x80, sizeof(s));
		s[0] = (uint8_t)a;
		string_content(s, 6, AS_DOCUMENT | AS_FRAGMENT);
	}
}

static void generate_escapes(void)
{
	static const char *const odd[] = {
		"\\", "\\x", "\\U0041", "\\'", "\\0", "\\u", "\\u1", "\\u12", "\\u123", "\\u12G4", "\\u00e", "\\uD800",
		"\\uD800x", "\\uD800\\n", "\\uD800\\u0041", "\\uD800\\uD800", "\\uD800\\u", "\\uD800\\uDC0",
		"\\uDC00\\uD800", "\\u00", "a\\u0000b", "\\\"\\\\\\/\\b\\f\\n\\r\\t", "\\uFFFF\\u0041", "\\u00E9",
	};

	for (unsigned v = 0; v <= 0xffff; v++)
		escape_u("\\u%04x", v, 0, AS_DOCUMENT | ((v < 0x80 || (v >= 0xfdc0 && v < 0xfdf8) || v >= 0xfff0) ? AS_FRAGMENT | AS_KEY : 0));
	for (unsigned v = 0xfdc0; v < 0x10000; v += 0x0f)
		escape_u("\\u%04X", v, 0, AS_DOCUMENT);
	/* Every high surrogate with low ones at the edges, and edge high ones with every low one. */
	for (unsigned hi = 0xd800; hi < 0xdc00; hi++) {
		escape_u("\\u%04x\\u%04x", hi, 0xdc00, AS_DOCUMENT);
		escape_u("\\u%04x\\u%04x", hi, 0xdffe, AS_DOCUMENT | ((hi & 0x3f) == 0x3f ? AS_FRAGMENT : 0));
		escape_u("\\u%04x\\u%04x", hi, 0xdfff, AS_DOCUMENT);
	}
	for (unsigned lo = 0xdc00; lo < 0xe000; lo++) {
		escape_u("\\u%04x\\u%04x", 0xd800, lo, AS_DOCUMENT);
		escape_u("\\u%04x\\u%04x", 0xd83f, lo, AS_DOCUMENT);
		escape_u("\\u%04x\\u%04x", 0xdbff, lo, AS_DOCUMENT);
	}
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++)
		string_content(odd[i], strlen(odd[i]), AS_DOCUMENT | AS_FRAGMENT | AS_KEY);
}

/* Every one-byte replacement, insertion and deletion of @base. */
static void generate_mutations(const char *base)
{
	size_t n = strlen(base);
	uint8_t *buf = malloc(n + 1);

	assert_non_null(buf);
	check_document(base, n);
	for (size_t i = 0; i <= n; i++) {
		for (unsigned b = 0; b < 256; b++) {
			if (i < n) {
				memcpy(buf, base, n);
				buf[i] = (uint8_t)b;
				check_document(buf, n);
			}
			memcpy(buf, base, i);
			buf[i] = (uint8_t)b;
			memcpy(buf + i + 1, base + i, n - i);
			check_document(buf, n + 1);
		}
		if (i < n) {
			memcpy(buf, base, i);
			memcpy(buf + i, base + i + 1, n - i - 1);
			check_document(buf, n - 1);
		}
	}
	free(buf);
}

static void generate_documents(void)
{
	static const char *const numbers[] = {
		"0", "-0", "01", "-01", "-", "+1", "1.", ".5", "1.5", "1e", "1e+", "1e5", "1E-5", "1.5e+10", "-1.5E-10",
		"18446744073709551615", "18446744073709551616", "-9223372036854775808", "-9223372036854775809",
		"1e99999", "-1e-99999", "123456789012345678901234567890e400", "NaN", "Infinity", "0x10", "1_000",
	};
	static const char *const bases[] = {
		"{\"sha256\":[{\"pcrs\":[11,13],\"pkfp\":\"ab\",\"pol\":\"cd\",\"sig\":\"QQ==\"}]}",
		"[1,-0,0.5,-1.5e+10,2E-3,true,false,null,\"s\",{},[]]",
		"{\"a\":{\"b\":[{\"c\":\"\\u00e9\"}]}}",
		" \t\r\n\"\xc3\xa9\" \n",
	};
	char deep[2 * (JSON_MAX_DEPTH + 2) + 1];

	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		char doc[128];

		check_document(numbers[i], strlen(numbers[i]));
		snprintf(doc, sizeof(doc), "[%s]", numbers[i]);
		check_document(doc, strlen(doc));
		snprintf(doc, sizeof(doc), "{\"n\":%s}", numbers[i]);
		check_document(doc, strlen(doc));
	}
	for (size_t d = JSON_MAX_DEPTH - 1; d <= JSON_MAX_DEPTH + 2; d++) {
		memset(deep, '[', d);
		memset(deep + d, ']', d);
		check_document(deep, 2 * d);
	}
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++)
		generate_mutations(bases[i]);
}

static void generate_fragments(void)
{
	static const char *const members[] = {
		"", ",\"ref\":\"\"", ",\"ref\":\"policy\"", ",\"ref\":\"\\u00e9\\n\"", ",\"ref\":1", ",\"ref\":null",
		",\"ref\":[]", ",\"ref\":{}", ",\"ref\":\"a\",\"ref\":\"a\"", ",\"x\":{\"y\":[1,2,{\"z\":null}]}",
		",\"x\":\"\\xff\"", ",\"x\":\"\xff\"", ",\"x\":\"\x7f\"", ",\"x\":\"\\u0000\"", ",\"x\":\"\\ud800\"",
		",\"x\":\"\xed\xa0\x80\"", ",\"x\":\"\xef\xbf\xbe\"", ",\"x\":1e400", ",\"x\":1,\"x\":2",
		",\"\xc0\xaf\":1", ",\"pol\":\"" H64 "\"",
	};

	for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
		char doc[512];
		int n = snprintf(doc, sizeof(doc), "%s%s%s", ENTRY_HEAD, members[i], ENTRY_TAIL);

		fragment(doc, (size_t)n);
		n = snprintf(doc, sizeof(doc), "{\"sha1\":[]%s,\"sha256\":[]}", members[i]);
		fragment(doc, (size_t)n);
	}
}

/* ------------------------------------------------------------ tests */

static void test_corpus_seeds(void **state)
{
	(void)state;
	assert_true(for_each_file(JSON_CORPUS, json_seed) > 0);
	flush_group();
	assert_true(for_each_file(PCRSIG_CORPUS, pcrsig_seed) > 0);
}

static void test_extra_corpora(void **state)
{
	const char *dirs = getenv("SYSEXT_STUB_JSON_CORPUS");
	char *copy, *save = NULL;

	(void)state;
	if (!dirs || !*dirs)
		return;
	copy = strdup(dirs);
	assert_non_null(copy);
	for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		printf("test-systemd-json: %zu inputs from %s\n", for_each_file(d, json_seed), d);
		flush_group();
	}
	free(copy);
}

static void test_string_contents(void **state)
{
	(void)state;
	generate_raw_strings();
	generate_escapes();
	flush_group();
}

static void test_documents(void **state)
{
	(void)state;
	generate_documents();
}

static void test_fragments(void **state)
{
	(void)state;
	generate_fragments();
	flush_group();
	/* The example: one member of invalid UTF-8 must not reach systemd. */
	assert_false(fragment_kept(ENTRY_HEAD ",\"x\":\"\xff\"" ENTRY_TAIL, sizeof(ENTRY_HEAD ",\"x\":\"\xff\"" ENTRY_TAIL) - 1));
	printf("test-systemd-json: %zu documents (systemd accepted %zu, json_parse %zu), %zu fragments "
	       "(%zu kept), %zu merges\n",
	       Stats.documents, Stats.systemd_accepted, Stats.ours_accepted, Stats.fragments, Stats.fragments_kept,
	       Stats.merges);
	/* The generators must exercise both verdicts. */
	assert_true(Stats.systemd_accepted > 1000 && Stats.documents - Stats.systemd_accepted > 1000);
	assert_true(Stats.fragments_kept > 100 && Stats.fragments - Stats.fragments_kept > 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus_seeds),
		cmocka_unit_test(test_extra_corpora),
		cmocka_unit_test(test_string_contents),
		cmocka_unit_test(test_documents),
		cmocka_unit_test(test_fragments),
	};

	return cmocka_run_group_tests_name("systemd-json", tests, load_systemd, unload_systemd);
}
