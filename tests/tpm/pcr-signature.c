/* SPDX-License-Identifier: MIT */
#include "pcr-signature.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "measure/hex.h"
#include "measure/json.h"
#include "tool.h"

#define SIGNATURE_FILE_MAX (1u << 20)
#define HEX_FIELD_MAX 128 /* a hex field longer than this cannot match a 32-byte value */

struct reader {
	const char *path;
	struct json_doc doc;
};

/* PCR array -> mask; -1 on anything but distinct-or-repeated numbers 0..31. */
static int read_pcr_mask(const struct reader *rd, uint32_t arr, uint32_t *ret)
{
	uint32_t mask = 0;

	if (json_type(&rd->doc, arr) != JSON_ARRAY)
		return tool_error("%s: \"pcrs\" is not an array", rd->path);
	for (uint32_t i = json_first(&rd->doc, arr); i != JSON_NONE; i = json_next(&rd->doc, i)) {
		uint64_t pcr;

		if (json_uint(&rd->doc, i, 31, &pcr) != MS_OK)
			return tool_error("%s: \"pcrs\" holds something other than a PCR index 0..31", rd->path);
		mask |= 1u << pcr;
	}
	*ret = mask;
	return 0;
}

/*
 * Hex string member @key of @entry equals @want (SHA256_LEN bytes)?
 * 1 yes, 0 no or absent, -1 malformed.
 */
static int hex_member_equals(const struct reader *rd, uint32_t entry, const char *key, const uint8_t *want)
{
	char text[HEX_FIELD_MAX + 1];
	uint8_t bytes[SHA256_LEN];
	size_t len;
	uint32_t v;

	if (json_object_get(&rd->doc, entry, key, &v) != MS_OK)
		return 0;
	if (json_type(&rd->doc, v) != JSON_STRING)
		return tool_error("%s: \"%s\" is not a string", rd->path, key);
	if (json_string_unescape(&rd->doc, v, text, sizeof(text), &len) != MS_OK)
		return 0; /* longer than any value we compare with */
	if (len != 2 * SHA256_LEN)
		return 0;
	if (hex_to_bytes(text, len, bytes, sizeof(bytes)) != MS_OK)
		return tool_error("%s: \"%s\" is not hex", rd->path, key);
	return memcmp(bytes, want, SHA256_LEN) == 0;
}

static int read_base64(const struct reader *rd, uint32_t v, uint8_t *out, size_t out_size, size_t *ret_len)
{
	char *text = NULL;
	uint8_t *bin = NULL;
	size_t len;
	int n1, n2, r = -1;
	EVP_ENCODE_CTX *ctx = NULL;

	if (json_type(&rd->doc, v) != JSON_STRING)
		return tool_error("%s: \"sig\" is not a string", rd->path);
	(void)json_string_unescape(&rd->doc, v, NULL, 0, &len);
	text = malloc(len + 1);
	bin = malloc(len + 1);
	ctx = EVP_ENCODE_CTX_new();
	if (!text || !bin || !ctx) {
		tool_error("out of memory");
		goto out;
	}
	if (json_string_unescape(&rd->doc, v, text, len + 1, NULL) != MS_OK || len > INT32_MAX)
		goto bad;
	EVP_DecodeInit(ctx);
	if (EVP_DecodeUpdate(ctx, bin, &n1, (const unsigned char *)text, (int)len) < 0 ||
	    EVP_DecodeFinal(ctx, bin + n1, &n2) < 0)
		goto bad;
	if ((size_t)(n1 + n2) > out_size) {
		tool_error("%s: \"sig\" of %d bytes is longer than any RSA signature the TPM takes", rd->path, n1 + n2);
		goto out;
	}
	memcpy(out, bin, (size_t)(n1 + n2));
	*ret_len = (size_t)(n1 + n2);
	r = 0;
	goto out;
bad:
	tool_error("%s: \"sig\" is not base64", rd->path);
out:
	EVP_ENCODE_CTX_free(ctx);
	free(text);
	free(bin);
	return r;
}

/* 1: @entry is the one; 0: skip it; -1: malformed. */
static int match_entry(const struct reader *rd, uint32_t entry, const struct pcr_signature_query *q,
		       struct pcr_signature *ret)
{
	uint32_t v, mask;
	int r;

	if (json_type(&rd->doc, entry) != JSON_OBJECT)
		return tool_error("%s: an entry of \"%s\" is not an object", rd->path, q->bank);
	if (json_object_get(&rd->doc, entry, "pcrs", &v) != MS_OK)
		return 0;
	if (read_pcr_mask(rd, v, &mask) < 0)
		return -1;
	if (mask != q->pcr_mask)
		return 0;
	r = hex_member_equals(rd, entry, "pkfp", q->pkfp);
	if (r <= 0)
		return r;
	if (json_object_get(&rd->doc, entry, "pol", &v) != MS_OK)
		return 0;
	if (q->pol) {
		r = hex_member_equals(rd, entry, "pol", q->pol);
		if (r < 0)
			return r;
		if (r == 0) {
			ret->other_pol++;
			return 0;
		}
		memcpy(ret->pol, q->pol, SHA256_LEN);
	} else {
		char text[2 * SHA256_LEN + 1];
		size_t len;

		if (json_type(&rd->doc, v) != JSON_STRING ||
		    json_string_unescape(&rd->doc, v, text, sizeof(text), &len) != MS_OK ||
		    hex_to_bytes(text, len, ret->pol, SHA256_LEN) != MS_OK)
			return tool_error("%s: \"pol\" is not %d hex bytes", rd->path, SHA256_LEN);
	}
	if (json_object_get(&rd->doc, entry, "sig", &v) != MS_OK)
		return 0;
	if (read_base64(rd, v, ret->sig, sizeof(ret->sig), &ret->sig_len) < 0)
		return -1;
	return 1;
}

int pcr_signature_find(const char *path, const struct pcr_signature_query *q, struct pcr_signature *ret)
{
	struct reader rd = { .path = path };
	struct json_token *tokens = NULL;
	uint8_t *buf = NULL;
	size_t len;
	uint32_t bank;
	int r = -1;

	memset(ret, 0, sizeof(*ret));
	if (tool_read_file(path, SIGNATURE_FILE_MAX, &buf, &len) < 0)
		return -1;
	tokens = calloc(JSON_TOKENS_FOR(len), sizeof(*tokens));
	if (!tokens) {
		tool_error("out of memory");
		goto out;
	}
	if (json_parse(&rd.doc, buf, len, tokens, (uint32_t)JSON_TOKENS_FOR(len)) != MS_OK) {
		tool_error("%s: not valid JSON (at byte %zu)", path, rd.doc.error_offset);
		goto out;
	}
	if (json_type(&rd.doc, 0) != JSON_OBJECT) {
		tool_error("%s: the top level is not an object", path);
		goto out;
	}
	if (json_object_get(&rd.doc, 0, q->bank, &bank) != MS_OK) {
		r = 0; /* no entries for this bank */
		goto out;
	}
	if (json_type(&rd.doc, bank) != JSON_ARRAY) {
		tool_error("%s: \"%s\" is not an array", path, q->bank);
		goto out;
	}
	r = 0;
	for (uint32_t e = json_first(&rd.doc, bank); e != JSON_NONE && r == 0; e = json_next(&rd.doc, e))
		r = match_entry(&rd, e, q, ret);
out:
	free(tokens);
	free(buf);
	return r;
}
