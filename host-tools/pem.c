/* SPDX-License-Identifier: MIT */
#include "pem.h"

#include <string.h>

#include <openssl/crypto.h>

#include "base64.h"

#define DASHES "-----"

/* One line of text[pos..len): [start, end) without the line break and trailing blanks; returns the next line's offset. */
static size_t next_line(const uint8_t *text, size_t len, size_t pos, size_t *start, size_t *end)
{
	const uint8_t *nl = memchr(text + pos, '\n', len - pos);
	size_t e = nl ? (size_t)(nl - text) : len;

	*start = pos;
	*end = e;
	while (*end > *start && (text[*end - 1] == '\r' || text[*end - 1] == ' ' || text[*end - 1] == '\t'))
		(*end)--;
	return nl ? e + 1 : len;
}

/* Whether text[start, end) is "-----<word> <label>-----"; the label, checked, into @label. */
static bool is_marker(const uint8_t *text, size_t start, size_t end, const char *word, char label[PEM_LABEL_MAX + 1])
{
	size_t wlen = strlen(word), n;

	if (end - start < 2 * strlen(DASHES) + wlen + 2 || memcmp(text + start, DASHES, 5) != 0 ||
	    memcmp(text + start + 5, word, wlen) != 0 || text[start + 5 + wlen] != ' ' ||
	    memcmp(text + end - 5, DASHES, 5) != 0)
		return false;
	start += 5 + wlen + 1;
	end -= 5;
	n = end - start;
	/* RFC 7468 labels: printable ASCII, neither starting nor ending with '-' or a space. */
	if (n == 0 || n > PEM_LABEL_MAX || text[start] == '-' || text[start] == ' ' || text[end - 1] == '-' ||
	    text[end - 1] == ' ')
		return false;
	for (size_t i = start; i < end; i++)
		if (text[i] < 0x20 || text[i] > 0x7e)
			return false;
	memcpy(label, text + start, n);
	label[n] = 0;
	return true;
}

static bool has(const uint8_t *text, size_t start, size_t end, const char *s)
{
	size_t n = strlen(s);

	for (size_t i = start; i + n <= end; i++)
		if (memcmp(text + i, s, n) == 0)
			return true;
	return false;
}

int pem_next(const uint8_t *text, size_t len, size_t *pos, struct pem_block *b)
{
	size_t p = *pos, s, e;
	char end_label[PEM_LABEL_MAX + 1];

	memset(b, 0, sizeof(*b));
	for (;;) {
		if (p >= len)
			return 0;
		p = next_line(text, len, p, &s, &e);
		if (is_marker(text, s, e, "BEGIN", b->label))
			break;
	}
	b->body = p;
	/* Header lines: the first line after BEGIN has a colon; they end at an empty line. */
	if (p < len) {
		size_t q = next_line(text, len, p, &s, &e);

		if (memchr(text + s, ':', e - s)) {
			b->headers = true;
			for (;;) {
				if (has(text, s, e, "Proc-Type:") && has(text, s, e, "ENCRYPTED"))
					b->encrypted = true;
				if (q >= len)
					return -1;
				q = next_line(text, len, q, &s, &e);
				if (s == e)
					break;
				if (e - s >= 5 && memcmp(text + s, DASHES, 5) == 0)
					return -1; /* no empty line before the body */
			}
			b->body = q;
		}
	}
	for (p = b->body; p < len;) {
		size_t line = p;

		p = next_line(text, len, p, &s, &e);
		if (e - s >= 5 && memcmp(text + s, DASHES, 5) == 0) {
			if (!is_marker(text, s, e, "END", end_label) || strcmp(end_label, b->label) != 0)
				return -1;
			b->body_end = line;
			*pos = p;
			return 1;
		}
	}
	return -1;
}

size_t pem_decoded_max(const struct pem_block *b)
{
	return (b->body_end - b->body) / 4 * 3 + 3;
}

int pem_decode(const uint8_t *text, const struct pem_block *b, uint8_t *out, size_t *ret_len)
{
	char group[4];
	size_t n = 0, in_group = 0;
	bool padded = false;
	int r = 0;

	for (size_t i = b->body; i < b->body_end; i++) {
		uint8_t c = text[i];
		int k;

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (padded) { /* nothing after the padding */
			r = -1;
			break;
		}
		group[in_group++] = (char)c;
		if (in_group < 4)
			continue;
		in_group = 0;
		k = base64_decode_group(group, out + n);
		if (k < 0) {
			r = -1;
			break;
		}
		n += (size_t)k;
		padded = k < 3;
	}
	if (in_group != 0)
		r = -1;
	OPENSSL_cleanse(group, sizeof(group));
	*ret_len = r == 0 ? n : 0;
	return r;
}
