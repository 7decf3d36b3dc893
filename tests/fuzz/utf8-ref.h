/* SPDX-License-Identifier: MIT */
/*
 * utf8-ref.h - an independent check of the characters a JSON string can
 * hold as systemd reads it, for the fuzz targets that test what host-tools
 * write: RFC 3629 UTF-8, by decoding (not by byte ranges, as
 * measure/json.c's json_char_len() does), without noncharacters (systemd
 * refuses them even escaped).
 */
#ifndef TESTS_FUZZ_UTF8_REF_H
#define TESTS_FUZZ_UTF8_REF_H

#include <stddef.h>
#include <stdint.h>

/* The length of the valid sequence at @s (before @end), 0 if there is none or it is a noncharacter. */
static inline size_t ref_utf8(const unsigned char *s, const unsigned char *end)
{
	uint32_t cp;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		n = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if ((size_t)(end - s) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	if ((cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) == 0xfffe)
		return 0;
	return n;
}

/* Whether @len bytes at @s are such characters throughout. */
static inline int ref_utf8_ok(const void *s, size_t len)
{
	const unsigned char *p = s, *end = p + len;

	while (p < end) {
		size_t n = ref_utf8(p, end);

		if (n == 0)
			return 0;
		p += n;
	}
	return 1;
}

#endif
