/* SPDX-License-Identifier: MIT */
/*
 * fuzz-sigfile.c - libFuzzer target for what `sign --verify` and
 * `sign --append` do with a signature file (host-tools/pcrsig-file.c) and
 * for the base64 and PEM decoders of host-tools (base64.c, pem.c).
 *
 * The input is the file. When the stub's rules (pcrsig_validate) refuse it,
 * the description names a problem, on one line, in the buffer, with the
 * offset. When they accept it, every entry of every bank decodes (the
 * decoder relies on the validation and has no errors of its own), with a
 * PCR mask that is not empty, the digests equal to their hex, and a
 * signature that base64 encodes back to a string OpenSSL decodes to the
 * same bytes.
 *
 * The input as base64: accepted only when OpenSSL's decoder decodes it to
 * the same bytes, and re-encoding gives it back when its padding bits are
 * zero. The input as PEM: every block lies within the input, its label is
 * printable, and its body decodes to at most pem_decoded_max() bytes, the
 * bytes OpenSSL decodes from the body with its whitespace removed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "host-tools/base64.h"
#include "host-tools/digest.h"
#include "host-tools/pcrsig-file.h"
#include "host-tools/pem.h"

#define CHECK(cond)                                                                            \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "fuzz-sigfile: %s:%d: invariant failed: %s\n",         \
				__FILE__, __LINE__, #cond);                                    \
			abort();                                                               \
		}                                                                              \
	} while (0)

static FILE *real_stderr;

/* OpenSSL's decoding of b64[0..len) (no whitespace, len % 4 == 0) equals out[0..n). */
static void check_openssl_decodes(const char *b64, size_t len, const uint8_t *out, size_t n)
{
	uint8_t *ref = malloc(len / 4 * 3 + 1);
	int k;

	CHECK(ref != NULL && len % 4 == 0 && len < INT32_MAX);
	k = EVP_DecodeBlock(ref, (const unsigned char *)b64, (int)len); /* counts the padding as zero bytes */
	CHECK(k >= 0 && (size_t)k == len / 4 * 3 && n <= (size_t)k && (size_t)k - n <= 2);
	CHECK(memcmp(ref, out, n) == 0);
	free(ref);
}

static void check_entries(const uint8_t *data, size_t size, struct json_token *tokens, uint32_t max_tokens)
{
	struct json_doc doc;

	CHECK(json_parse(&doc, data, size, tokens, max_tokens) == MS_OK);
	for (size_t b = 0; b < PCRSIG_BANKS; b++) {
		uint32_t arr;

		if (json_object_get(&doc, 0, pcrsig_bank_names[b], &arr) != MS_OK)
			continue;
		for (uint32_t i = json_first(&doc, arr); i != JSON_NONE; i = json_next(&doc, i)) {
			struct pcrsig_entry e;
			char hex[2 * PCRSIG_DIGEST_SIZE + 1], want[sizeof(hex)];
			uint32_t v;
			const uint8_t *raw;
			size_t raw_len;
			char *again;

			CHECK(pcrsig_entry_decode(&doc, i, &e) == 0);
			CHECK(e.pcrs != 0 && e.pcrs < (1u << (PCRSIG_PCR_MAX + 1)));
			CHECK(e.sig != NULL && e.sig_len > 0);
			CHECK(json_object_get(&doc, i, "pol", &v) == MS_OK);
			json_raw(&doc, v, &raw, &raw_len);
			CHECK(raw_len == sizeof(hex) + 1);
			for (size_t k = 0; k < sizeof(hex) - 1; k++)
				want[k] = (char)(raw[1 + k] | 0x20); /* hex digits, lower case */
			want[sizeof(hex) - 1] = 0;
			CHECK(strcmp(hex_encode(e.pol, sizeof(e.pol), hex), want) == 0);
			CHECK(json_object_get(&doc, i, "sig", &v) == MS_OK);
			json_raw(&doc, v, &raw, &raw_len);
			check_openssl_decodes((const char *)raw + 1, raw_len - 2, e.sig, e.sig_len);
			again = base64_encode(e.sig, e.sig_len);
			CHECK(again != NULL && strlen(again) == raw_len - 2);
			free(again);
			free(e.sig);
		}
	}
}

static void check_signature_file(const uint8_t *data, size_t size)
{
	uint32_t max_tokens = (uint32_t)JSON_TOKENS_FOR(size);
	struct json_token *tokens = calloc(max_tokens, sizeof(*tokens));
	const char *reason = NULL;
	size_t at = 0;
	ms_status m;

	CHECK(tokens != NULL);
	m = pcrsig_validate(data, size, tokens, max_tokens, &at, &reason);
	if (m == MS_OK) {
		check_entries(data, size, tokens, max_tokens);
	} else {
		char problem[256], tiny[8];

		CHECK(at <= size);
		CHECK(reason != NULL && reason[0] != '\0');
		memset(problem, 'x', sizeof(problem));
		pcrsig_file_problem(data, size, m, at, reason, problem, sizeof(problem));
		CHECK(memchr(problem, 0, sizeof(problem)) != NULL);
		CHECK(strlen(problem) > 0 && !strchr(problem, '\n') && strstr(problem, " (at byte "));
		pcrsig_file_problem(data, size, m, at, reason, tiny, sizeof(tiny)); /* cut short, still a string */
		CHECK(memchr(tiny, 0, sizeof(tiny)) != NULL);
	}
	free(tokens);
}

static void check_base64(const uint8_t *data, size_t size)
{
	uint8_t *out = NULL;
	size_t n = 0;
	char *again;

	if (base64_decode((const char *)data, size, &out, &n) < 0)
		return;
	CHECK(n <= size / 4 * 3);
	check_openssl_decodes((const char *)data, size, out, n);
	again = base64_encode(out, n);
	CHECK(again != NULL && strlen(again) == size);
	/* Equal unless the last group had padding bits set (which decoding ignores). */
	CHECK(size < 4 || memcmp(again, data, size - 4) == 0);
	free(again);
	free(out);
}

static void check_pem(const uint8_t *data, size_t size)
{
	struct pem_block b;
	size_t pos = 0, last = 0;
	int r;

	while ((r = pem_next(data, size, &pos, &b)) == 1) {
		size_t max = pem_decoded_max(&b), n = 0, len = strlen(b.label), k = 0;
		uint8_t *out = malloc(max);
		char *text = malloc(b.body_end - b.body + 1);

		CHECK(out != NULL && text != NULL);
		CHECK(pos > last && pos <= size && b.body <= b.body_end && b.body_end <= pos && b.body >= last);
		CHECK(len > 0 && len <= PEM_LABEL_MAX);
		for (size_t i = 0; i < len; i++)
			CHECK(b.label[i] >= 0x20 && b.label[i] < 0x7f);
		if (pem_decode(data, &b, out, &n) == 0) {
			CHECK(n <= max);
			for (size_t i = b.body; i < b.body_end; i++)
				if (!strchr(" \t\r\n", data[i]))
					text[k++] = (char)data[i];
			check_openssl_decodes(text, k, out, n);
		}
		free(text);
		free(out);
		last = pos;
	}
	CHECK(r == 0 || r == -1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!real_stderr) {
		/* Quiet the error messages; sanitizer reports use fd 2 directly. */
		real_stderr = stderr;
		stderr = fopen("/dev/null", "w");
		CHECK(stderr != NULL);
	}
	check_signature_file(data, size);
	check_base64(data, size);
	check_pem(data, size);
	return 0;
}
