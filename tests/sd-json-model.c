/* SPDX-License-Identifier: MIT */
#include "sd-json-model.h"

#include <string.h>

struct cursor {
	const uint8_t *s;
	size_t len; /* up to the first NUL: systemd parses a C string */
	size_t pos;
};

static int peek(const struct cursor *c)
{
	return c->pos < c->len ? c->s[c->pos] : -1;
}

static void skip_ws(struct cursor *c)
{
	while (c->pos < c->len && strchr(" \t\n\r", c->s[c->pos]) && c->s[c->pos])
		c->pos++;
}

/* unichar_is_valid() of systemd's src/basic/utf8.c, as a rule. */
static bool scalar_ok(uint32_t cp)
{
	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return false;
	if (cp >= 0xfdd0 && cp <= 0xfdef)
		return false;
	return (cp & 0xfffe) != 0xfffe;
}

/* One raw UTF-8 sequence starting with a byte >= 0x80; its code point. */
static bool utf8_char(struct cursor *c, uint32_t *ret)
{
	static const uint32_t smallest[] = { 0, 0, 0x80, 0x800, 0x10000 };
	uint8_t lead = c->s[c->pos];
	size_t n;
	uint32_t cp;

	if (lead >= 0xc0 && lead < 0xe0)
		n = 2, cp = lead & 0x1f;
	else if (lead >= 0xe0 && lead < 0xf0)
		n = 3, cp = lead & 0x0f;
	else if (lead >= 0xf0 && lead < 0xf8)
		n = 4, cp = lead & 0x07;
	else
		return false; /* a continuation byte, or a 5/6-byte or 0xfe/0xff lead: never a scalar value */
	if (c->len - c->pos < n)
		return false;
	for (size_t i = 1; i < n; i++) {
		uint8_t b = c->s[c->pos + i];

		if ((b & 0xc0) != 0x80)
			return false;
		cp = cp << 6 | (b & 0x3f);
	}
	if (cp < smallest[n])
		return false; /* overlong */
	c->pos += n;
	*ret = cp;
	return true;
}

static bool hex4(struct cursor *c, uint32_t *ret)
{
	uint32_t v = 0;

	if (c->len - c->pos < 4)
		return false;
	for (size_t i = 0; i < 4; i++) {
		uint8_t b = c->s[c->pos + i];

		v <<= 4;
		if (b >= '0' && b <= '9')
			v |= (uint32_t)(b - '0');
		else if (b >= 'a' && b <= 'f')
			v |= (uint32_t)(b - 'a' + 10);
		else if (b >= 'A' && b <= 'F')
			v |= (uint32_t)(b - 'A' + 10);
		else
			return false;
	}
	c->pos += 4;
	*ret = v;
	return v != 0; /* systemd's unhex_ucs2() refuses \u0000 */
}

/* After a backslash: one escape; its code point. */
static bool escape(struct cursor *c, uint32_t *ret)
{
	int e = peek(c);
	uint32_t hi, lo;

	if (e < 0)
		return false;
	c->pos++;
	if (e != 'u') {
		*ret = (uint32_t)e;
		return e && strchr("\"\\/bfnrt", e);
	}
	if (!hex4(c, &hi))
		return false;
	if (hi >= 0xdc00 && hi <= 0xdfff)
		return false;
	if (hi < 0xd800 || hi > 0xdbff) {
		*ret = hi;
		return true;
	}
	if (peek(c) != '\\' || c->pos + 1 >= c->len || c->s[c->pos + 1] != 'u')
		return false;
	c->pos += 2;
	if (!hex4(c, &lo) || lo < 0xdc00 || lo > 0xdfff)
		return false;
	*ret = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
	return true;
}

static bool string(struct cursor *c)
{
	c->pos++; /* the opening quote */
	for (;;) {
		int b = peek(c);
		uint32_t cp;

		if (b < 0)
			return false;
		if (b == '"') {
			c->pos++;
			return true;
		}
		if (b < 0x20 || b == 0x7f)
			return false;
		if (b == '\\') {
			c->pos++;
			if (!escape(c, &cp))
				return false;
		} else if (b >= 0x80) {
			if (!utf8_char(c, &cp))
				return false;
		} else {
			cp = (uint32_t)b;
			c->pos++;
		}
		if (!scalar_ok(cp))
			return false;
	}
}

static bool digits(struct cursor *c)
{
	size_t start = c->pos;

	while (peek(c) >= '0' && peek(c) <= '9')
		c->pos++;
	return c->pos > start;
}

static bool number(struct cursor *c)
{
	if (peek(c) == '-')
		c->pos++;
	if (peek(c) == '0')
		c->pos++;
	else if (!(peek(c) >= '1' && peek(c) <= '9') || !digits(c))
		return false;
	if (peek(c) == '.') {
		c->pos++;
		if (!digits(c))
			return false;
	}
	if (peek(c) == 'e' || peek(c) == 'E') {
		c->pos++;
		if (peek(c) == '+' || peek(c) == '-')
			c->pos++;
		if (!digits(c))
			return false;
	}
	return true;
}

static bool literal(struct cursor *c, const char *word)
{
	size_t n = strlen(word);

	if (c->len - c->pos < n || memcmp(c->s + c->pos, word, n) != 0)
		return false;
	c->pos += n;
	return true;
}

static bool value(struct cursor *c, size_t depth);

/* An array or object: values separated by ',' (for an object "key":value). */
static bool container(struct cursor *c, size_t depth, bool object)
{
	int close = object ? '}' : ']';

	if (depth >= SD_JSON_MODEL_DEPTH_MAX)
		return false;
	c->pos++;
	skip_ws(c);
	if (peek(c) == close) {
		c->pos++;
		return true;
	}
	for (;;) {
		skip_ws(c);
		if (object) {
			if (peek(c) != '"' || !string(c))
				return false;
			skip_ws(c);
			if (peek(c) != ':')
				return false;
			c->pos++;
		}
		if (!value(c, depth + 1))
			return false;
		skip_ws(c);
		if (peek(c) == close) {
			c->pos++;
			return true;
		}
		if (peek(c) != ',')
			return false;
		c->pos++;
	}
}

static bool value(struct cursor *c, size_t depth)
{
	int b;

	skip_ws(c);
	b = peek(c);
	if (b == '{' || b == '[')
		return container(c, depth, b == '{');
	if (b == '"')
		return string(c);
	if (b == '-' || (b >= '0' && b <= '9'))
		return number(c);
	return literal(c, "true") || literal(c, "false") || literal(c, "null");
}

bool sd_json_model_accepts(const uint8_t *data, size_t len)
{
	struct cursor c = { data, len, 0 };
	const uint8_t *nul = memchr(data, 0, len);

	if (nul)
		c.len = (size_t)(nul - data);
	if (!value(&c, 0))
		return false;
	skip_ws(&c);
	return c.pos == c.len;
}

size_t sd_json_model_depth(const uint8_t *data, size_t len)
{
	size_t depth = 0, deepest = 0;
	bool in_string = false;

	for (size_t i = 0; i < len; i++) {
		uint8_t b = data[i];

		if (in_string) {
			if (b == '\\')
				i++;
			else if (b == '"')
				in_string = false;
		} else if (b == '"') {
			in_string = true;
		} else if (b == '[' || b == '{') {
			if (++depth > deepest)
				deepest = depth;
		} else if ((b == ']' || b == '}') && depth > 0) {
			depth--;
		}
	}
	return deepest;
}
