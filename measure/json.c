/* SPDX-License-Identifier: MIT */
#include "json.h"

#include "hex.h"

/* Reasons for json_doc.error_reason used in more than one place. */
#define WHY_ENDS_EARLY "the input ends early"
#define WHY_TOO_MANY_TOKENS "more values than the token buffer holds"
#define WHY_NONCHARACTER "a Unicode noncharacter (U+FDD0..U+FDEF, U+xFFFE, U+xFFFF) in a string"

/*
 * The parser is a loop over three states instead of recursion: the stub's
 * stack is small, and nesting is bounded by JSON_MAX_DEPTH anyway. The open
 * containers form a chain through the tokens' parent links, so no separate
 * stack is needed either.
 */
enum parse_state {
	WANT_VALUE, /* a value must come next */
	WANT_KEY,   /* inside an object: a key string, then ':' */
	AFTER_VALUE /* a value ended: ',', a closing bracket, or the end of input at the root */
};

static bool is_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static size_t skip_ws(const uint8_t *s, size_t len, size_t pos)
{
	while (pos < len && is_ws(s[pos]))
		pos++;
	return pos;
}

/* Four hex digits at s[pos..pos+4), all before @end (pos <= end). */
static ms_status read_hex4(const uint8_t *s, size_t pos, size_t end, uint32_t *ret, const char **why)
{
	uint32_t v = 0;

	for (size_t i = 0; i < 4; i++) {
		int d;

		if (pos + i == end) {
			*why = WHY_ENDS_EARLY;
			return MS_ERR_TRUNCATED;
		}
		d = hex_digit_value(s[pos + i]);
		if (d < 0) {
			*why = "a \\u escape without 4 hex digits";
			return MS_ERR_INVALID;
		}
		v = v << 4 | (uint32_t)d;
	}
	*ret = v;
	return MS_OK;
}

/*
 * Unicode's noncharacters: U+FDD0..U+FDEF and the last two code points of
 * every plane. Valid in UTF-8, but systemd's parser refuses strings with
 * them (utf8.c, unichar_is_valid()), raw or escaped.
 */
static bool is_noncharacter(uint32_t cp)
{
	return (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) == 0xfffe;
}

static int utf8_encode(uint32_t cp, uint8_t out[4])
{
	if (cp < 0x80) {
		out[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (uint8_t)(0xc0 | cp >> 6);
		out[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (uint8_t)(0xe0 | cp >> 12);
		out[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (uint8_t)(0xf0 | cp >> 18);
	out[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * One raw character of 2-4 bytes at s[p..end), s[p] >= 0x80: UTF-8 in its
 * shortest form for a code point up to U+10FFFF that is not a surrogate
 * (RFC 3629) nor a noncharacter. Sets *ret_n to its length.
 */
static ms_status decode_utf8(const uint8_t *s, size_t p, size_t end, int *ret_n, const char **why)
{
	static const uint32_t shortest[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	uint8_t lead = s[p];
	uint32_t cp;
	int n;

	if (lead >= 0xc0 && lead <= 0xdf)
		n = 2, cp = lead & 0x1f;
	else if (lead >= 0xe0 && lead <= 0xef)
		n = 3, cp = lead & 0x0f;
	else if (lead >= 0xf0 && lead <= 0xf4)
		n = 4, cp = lead & 0x07;
	else
		goto invalid; /* a continuation byte, or a lead byte of nothing up to U+10FFFF */
	for (int i = 1; i < n; i++) {
		if (p + (size_t)i == end) {
			*why = WHY_ENDS_EARLY;
			return MS_ERR_TRUNCATED;
		}
		if ((s[p + i] & 0xc0) != 0x80)
			goto invalid;
		cp = cp << 6 | (s[p + i] & 0x3f);
	}
	if (cp < shortest[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		goto invalid;
	if (is_noncharacter(cp)) {
		*why = WHY_NONCHARACTER;
		return MS_ERR_INVALID;
	}
	*ret_n = n;
	return MS_OK;
invalid:
	*why = "invalid UTF-8 in a string";
	return MS_ERR_INVALID;
}

/* A \u escape at s[p..end) (p + 2 <= end, s[p + 1] == 'u'), a surrogate pair counted as one; its code point. */
static ms_status decode_u_escape(const uint8_t *s, size_t *pos, size_t end, uint32_t *ret_cp, const char **why)
{
	size_t p = *pos;
	uint32_t cp, lo;
	ms_status r;

	r = read_hex4(s, p + 2, end, &cp, why);
	if (r != MS_OK)
		return r;
	p += 6;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		goto unpaired; /* a low surrogate without a high one */
	if (cp >= 0xd800 && cp <= 0xdbff) {
		/* A high surrogate must be followed by an escaped low one. */
		if (p == end || (s[p] == '\\' && p + 1 == end)) {
			*why = WHY_ENDS_EARLY;
			return MS_ERR_TRUNCATED;
		}
		if (s[p] != '\\' || s[p + 1] != 'u')
			goto unpaired;
		r = read_hex4(s, p + 2, end, &lo, why);
		if (r != MS_OK)
			return r;
		if (lo < 0xdc00 || lo > 0xdfff)
			goto unpaired;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		p += 6;
	}
	if (cp == 0) {
		*why = "\\u0000 in a string"; /* systemd's strings are C strings */
		return MS_ERR_INVALID;
	}
	if (is_noncharacter(cp)) {
		*why = WHY_NONCHARACTER;
		return MS_ERR_INVALID;
	}
	*pos = p;
	*ret_cp = cp;
	return MS_OK;
unpaired:
	*why = "an unpaired surrogate escape";
	return MS_ERR_INVALID;
}

/*
 * Decode one character of string content starting at *pos, which is before
 * @end and not the closing quote: a plain character or one escape (a
 * surrogate pair counts as one). Writes its 1-4 UTF-8 bytes to out, advances
 * *pos. The parser validates with this very function, so the helpers that
 * decode again later cannot disagree with it. On error *pos stays at the
 * character and *why says what is wrong with it.
 */
static ms_status decode_char(const uint8_t *s, size_t *pos, size_t end, uint8_t out[4], int *ret_n,
			     const char **why)
{
	size_t p = *pos;
	uint32_t cp;
	ms_status r;

	if (s[p] < 0x20) {
		*why = "a control character in a string";
		return MS_ERR_INVALID;
	}
	if (s[p] == 0x7f) {
		*why = "DEL (0x7f) in a string";
		return MS_ERR_INVALID;
	}
	if (s[p] >= 0x80) {
		r = decode_utf8(s, p, end, ret_n, why);
		if (r != MS_OK)
			return r;
		for (int i = 0; i < *ret_n; i++)
			out[i] = s[p + i];
		*pos = p + (size_t)*ret_n;
		return MS_OK;
	}
	if (s[p] != '\\') {
		out[0] = s[p];
		*ret_n = 1;
		*pos = p + 1;
		return MS_OK;
	}
	if (end - p < 2) {
		*why = WHY_ENDS_EARLY;
		return MS_ERR_TRUNCATED;
	}
	switch (s[p + 1]) {
	case '"': cp = '"'; break;
	case '\\': cp = '\\'; break;
	case '/': cp = '/'; break;
	case 'b': cp = '\b'; break;
	case 'f': cp = '\f'; break;
	case 'n': cp = '\n'; break;
	case 'r': cp = '\r'; break;
	case 't': cp = '\t'; break;
	case 'u':
		r = decode_u_escape(s, pos, end, &cp, why);
		if (r == MS_OK)
			*ret_n = utf8_encode(cp, out);
		return r;
	default:
		*why = "an unknown escape";
		return MS_ERR_INVALID;
	}
	out[0] = (uint8_t)cp;
	*ret_n = 1;
	*pos = p + 2;
	return MS_OK;
}

/* A string starting at the quote at *pos; on success *pos is just past the closing quote. */
static ms_status scan_string(const uint8_t *s, size_t len, size_t *pos, const char **why)
{
	size_t p = *pos + 1;

	/* Every decode_char() call advances p by at least one byte. */
	while (p < len) {
		uint8_t buf[4];
		int n;
		ms_status r;

		if (s[p] == '"') {
			*pos = p + 1;
			return MS_OK;
		}
		r = decode_char(s, &p, len, buf, &n, why);
		if (r != MS_OK) {
			*pos = p;
			return r;
		}
	}
	*pos = p;
	*why = WHY_ENDS_EARLY;
	return MS_ERR_TRUNCATED;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? at *pos. */
static ms_status scan_number(const uint8_t *s, size_t len, size_t *pos, const char **why)
{
	size_t p = *pos;

	if (s[p] == '-')
		p++;
	if (p == len)
		goto truncated;
	if (s[p] == '0') {
		p++;
	} else if (is_digit(s[p])) {
		while (p < len && is_digit(s[p]))
			p++;
	} else {
		goto invalid;
	}
	if (p < len && s[p] == '.') {
		p++;
		if (p == len)
			goto truncated;
		if (!is_digit(s[p]))
			goto invalid;
		while (p < len && is_digit(s[p]))
			p++;
	}
	if (p < len && (s[p] == 'e' || s[p] == 'E')) {
		p++;
		if (p < len && (s[p] == '+' || s[p] == '-'))
			p++;
		if (p == len)
			goto truncated;
		if (!is_digit(s[p]))
			goto invalid;
		while (p < len && is_digit(s[p]))
			p++;
	}
	*pos = p;
	return MS_OK;
truncated:
	*pos = p;
	*why = WHY_ENDS_EARLY;
	return MS_ERR_TRUNCATED;
invalid:
	*pos = p;
	*why = "a malformed number";
	return MS_ERR_INVALID;
}

/* Exactly @word at *pos. A prefix of it cut off by the end of input is truncated. */
static ms_status scan_literal(const uint8_t *s, size_t len, size_t *pos, const char *word, const char **why)
{
	size_t p = *pos;

	for (size_t i = 0; word[i]; i++, p++) {
		if (p == len) {
			*pos = p;
			*why = WHY_ENDS_EARLY;
			return MS_ERR_TRUNCATED;
		}
		if (s[p] != (uint8_t)word[i]) {
			*pos = p;
			*why = "a value that is not true, false, null, a number, a string, an array or an object";
			return MS_ERR_INVALID;
		}
	}
	*pos = p;
	return MS_OK;
}

static ms_status new_token(struct json_doc *d, uint32_t max, uint8_t type, size_t start, uint32_t parent,
			   uint32_t *ret)
{
	struct json_token *t;

	if (d->n_tokens >= max)
		return MS_ERR_BUFFER_TOO_SMALL;
	t = &d->tokens[d->n_tokens];
	t->type = type;
	t->start = (uint32_t)start;
	t->end = (uint32_t)start;
	t->size = 0;
	t->parent = parent;
	t->next = d->n_tokens + 1;
	*ret = d->n_tokens++;
	return MS_OK;
}

static uint8_t closer_of(const struct json_token *t)
{
	return t->type == JSON_OBJECT ? '}' : ']';
}

/*
 * Value @v (complete, `next` already right) ended; account for it in the
 * open container @cur. For an object member, the key's subtree now ends too.
 */
static void value_done(struct json_doc *d, uint32_t cur, uint32_t key)
{
	if (cur == JSON_NONE)
		return;
	if (d->tokens[cur].type == JSON_OBJECT)
		d->tokens[key].next = d->n_tokens;
	d->tokens[cur].size++;
}

/*
 * Close container *cur at the bracket at @pos and make its parent the open
 * container again (for an object member's value: the object, remembering
 * the key in *key).
 */
static void close_container(struct json_doc *d, size_t pos, uint32_t *cur, uint32_t *key)
{
	uint32_t t = *cur, p;

	d->tokens[t].end = (uint32_t)(pos + 1);
	d->tokens[t].next = d->n_tokens;
	p = d->tokens[t].parent;
	if (p == JSON_NONE) {
		*cur = JSON_NONE;
	} else if (d->tokens[p].type == JSON_STRING) {
		*key = p;
		*cur = d->tokens[p].parent;
	} else {
		*cur = p;
	}
	value_done(d, *cur, *key);
}

/*
 * A scalar value starting at *pos (the first byte is not whitespace): its
 * token, child of @parent, in *ret; *pos ends up just past it.
 */
static ms_status scan_scalar(struct json_doc *d, uint32_t max_tokens, size_t *pos, uint32_t parent, uint32_t *ret,
			     const char **why)
{
	static const struct {
		uint8_t first, type;
		const char *word;
	} literals[] = { { 't', JSON_TRUE, "true" }, { 'f', JSON_FALSE, "false" }, { 'n', JSON_NULL, "null" } };
	uint8_t c = d->src[*pos];
	ms_status r;

	if (c == '"' || c == '-' || is_digit(c)) {
		r = new_token(d, max_tokens, c == '"' ? JSON_STRING : JSON_NUMBER, *pos, parent, ret);
		if (r != MS_OK)
			goto too_many;
		return c == '"' ? scan_string(d->src, d->len, pos, why) : scan_number(d->src, d->len, pos, why);
	}
	for (size_t i = 0; i < sizeof(literals) / sizeof(literals[0]); i++) {
		if (c != literals[i].first)
			continue;
		r = new_token(d, max_tokens, literals[i].type, *pos, parent, ret);
		if (r != MS_OK)
			goto too_many;
		return scan_literal(d->src, d->len, pos, literals[i].word, why);
	}
	*why = "a value that is not true, false, null, a number, a string, an array or an object";
	return MS_ERR_INVALID;
too_many:
	*why = WHY_TOO_MANY_TOKENS;
	return r;
}

#define FAIL(status, reason)            \
	do {                            \
		r = (status);           \
		why = (reason);         \
		goto fail;              \
	} while (0)

ms_status json_parse(struct json_doc *doc, const void *src, size_t len, struct json_token *tokens,
		     uint32_t max_tokens)
{
	const uint8_t *s = src;
	enum parse_state state = WANT_VALUE;
	uint32_t cur = JSON_NONE, key = JSON_NONE, depth = 0, t;
	size_t pos = 0;
	bool done = false;
	const char *why = NULL;
	ms_status r = MS_OK;

	if (!doc)
		return MS_ERR_INVALID;
	doc->src = s;
	doc->len = len;
	doc->tokens = tokens;
	doc->n_tokens = 0;
	doc->error_offset = 0;
	doc->error_reason = NULL;
	if ((!src && len) || !tokens)
		FAIL(MS_ERR_INVALID, "no input or no tokens");
	if (len > JSON_INPUT_MAX)
		FAIL(MS_ERR_LIMIT, "input too large");

	/* Every iteration consumes at least one byte or returns: len + 1 rounds suffice. */
	for (size_t round = 0; round <= len; round++) {
		pos = skip_ws(s, len, pos);
		if (pos == len)
			FAIL(MS_ERR_TRUNCATED, doc->n_tokens ? WHY_ENDS_EARLY : "no JSON value");
		if (state == WANT_KEY) {
			if (s[pos] != '"')
				FAIL(MS_ERR_INVALID, "expected a member name (a string)");
			r = new_token(doc, max_tokens, JSON_STRING, pos, cur, &key);
			if (r != MS_OK)
				FAIL(r, WHY_TOO_MANY_TOKENS);
			r = scan_string(s, len, &pos, &why);
			if (r != MS_OK)
				goto fail;
			tokens[key].end = (uint32_t)pos;
			tokens[key].size = 1;
			pos = skip_ws(s, len, pos);
			if (pos == len)
				FAIL(MS_ERR_TRUNCATED, WHY_ENDS_EARLY);
			if (s[pos] != ':')
				FAIL(MS_ERR_INVALID, "expected ':' after a member name");
			pos++;
			state = WANT_VALUE;
			continue;
		}
		if (state == AFTER_VALUE) {
			if (s[pos] == ',') {
				pos++;
				state = tokens[cur].type == JSON_OBJECT ? WANT_KEY : WANT_VALUE;
				continue;
			}
			if (s[pos] != closer_of(&tokens[cur]))
				FAIL(MS_ERR_INVALID, tokens[cur].type == JSON_OBJECT ? "expected ',' or '}'"
										    : "expected ',' or ']'");
			close_container(doc, pos, &cur, &key);
			pos++;
			depth--;
			if (cur == JSON_NONE) {
				done = true;
				break;
			}
			continue;
		}

		/* WANT_VALUE: its parent is the open array, or the key of the open object. */
		{
			uint32_t parent = cur != JSON_NONE && tokens[cur].type == JSON_OBJECT ? key : cur;
			uint8_t c = s[pos];

			if (c == '{' || c == '[') {
				if (depth >= JSON_MAX_DEPTH)
					FAIL(MS_ERR_LIMIT, "arrays and objects nested too deep");
				r = new_token(doc, max_tokens, c == '{' ? JSON_OBJECT : JSON_ARRAY, pos, parent, &t);
				if (r != MS_OK)
					FAIL(r, WHY_TOO_MANY_TOKENS);
				depth++;
				cur = t;
				pos = skip_ws(s, len, pos + 1);
				if (pos == len)
					FAIL(MS_ERR_TRUNCATED, WHY_ENDS_EARLY);
				if (s[pos] == closer_of(&tokens[t])) {
					/* Empty container: closes at once. */
					close_container(doc, pos, &cur, &key);
					pos++;
					depth--;
					if (cur == JSON_NONE) {
						done = true;
						break;
					}
					state = AFTER_VALUE;
					continue;
				}
				state = c == '{' ? WANT_KEY : WANT_VALUE;
				continue;
			}
			r = scan_scalar(doc, max_tokens, &pos, parent, &t, &why);
			if (r != MS_OK)
				goto fail;
			tokens[t].end = (uint32_t)pos;
			if (cur == JSON_NONE) {
				done = true; /* a scalar root */
				break;
			}
			value_done(doc, cur, key);
			state = AFTER_VALUE;
		}
	}
	if (!done)
		FAIL(MS_ERR_TRUNCATED, WHY_ENDS_EARLY); /* not reached: see the loop bound */
	/* The root value is complete: only whitespace may follow. */
	pos = skip_ws(s, len, pos);
	if (pos != len)
		FAIL(MS_ERR_INVALID, "more data after the JSON value");
	return MS_OK;
fail:
	doc->error_offset = pos;
	doc->error_reason = why;
	return r;
}

#undef FAIL

const struct json_token *json_token(const struct json_doc *doc, uint32_t i)
{
	if (!doc || !doc->tokens || i >= doc->n_tokens)
		return NULL;
	return &doc->tokens[i];
}

int json_type(const struct json_doc *doc, uint32_t i)
{
	const struct json_token *t = json_token(doc, i);

	return t ? t->type : 0;
}

uint32_t json_first(const struct json_doc *doc, uint32_t i)
{
	const struct json_token *t = json_token(doc, i);

	if (!t || t->size == 0)
		return JSON_NONE;
	return i + 1;
}

uint32_t json_next(const struct json_doc *doc, uint32_t i)
{
	const struct json_token *t = json_token(doc, i), *p;

	if (!t || t->parent == JSON_NONE)
		return JSON_NONE;
	p = json_token(doc, t->parent);
	if (!p || p->type == JSON_STRING)
		return JSON_NONE;
	return t->next < p->next ? t->next : JSON_NONE;
}

/* Where unescape() puts the bytes it decodes: compared, or copied. */
struct unescape_sink {
	const char *cmp; /* json_string_equals: the string compared with */
	bool equal;
	char *out;       /* json_string_unescape: output buffer */
	size_t out_size;
	size_t n;        /* bytes produced so far */
};

static bool sink_byte(struct unescape_sink *k, uint8_t b)
{
	if (k->cmp) {
		/* Test the terminator first: never read past the end of cmp. */
		if (k->cmp[k->n] == '\0' || (uint8_t)k->cmp[k->n] != b) {
			k->equal = false;
			return false;
		}
	} else if (k->out && k->n < k->out_size) {
		k->out[k->n] = (char)b;
	}
	k->n++;
	return true;
}

/*
 * Feed the unescaped bytes of string token @i to @k one at a time; stops
 * early when a comparison fails. Returns MS_OK, or MS_ERR_INVALID for a
 * non-string or an inconsistent token.
 */
static ms_status unescape(const struct json_doc *doc, uint32_t i, struct unescape_sink *k)
{
	const struct json_token *t = json_token(doc, i);
	size_t pos, end;

	if (!t || t->type != JSON_STRING || t->end < t->start + 2 || t->end > doc->len)
		return MS_ERR_INVALID;
	pos = t->start + 1;
	end = t->end - 1; /* the closing quote */
	while (pos < end) {
		uint8_t buf[4];
		int n;
		const char *why;
		ms_status r = decode_char(doc->src, &pos, end, buf, &n, &why);

		if (r != MS_OK)
			return MS_ERR_INVALID;
		for (int j = 0; j < n; j++)
			if (!sink_byte(k, buf[j]))
				return MS_OK;
	}
	return MS_OK;
}

bool json_string_equals(const struct json_doc *doc, uint32_t i, const char *s)
{
	struct unescape_sink k = { .cmp = s, .equal = true };

	if (!s || unescape(doc, i, &k) != MS_OK)
		return false;
	return k.equal && s[k.n] == '\0';
}

ms_status json_string_unescape(const struct json_doc *doc, uint32_t i, char *out, size_t out_size,
			       size_t *ret_len)
{
	struct unescape_sink k = { .out = out, .out_size = out ? out_size : 0 };
	ms_status r = unescape(doc, i, &k);

	if (r != MS_OK)
		return r;
	if (ret_len)
		*ret_len = k.n;
	if (!out || k.n >= out_size)
		return MS_ERR_BUFFER_TOO_SMALL;
	out[k.n] = '\0';
	return MS_OK;
}

ms_status json_uint(const struct json_doc *doc, uint32_t i, uint64_t max, uint64_t *ret)
{
	const struct json_token *t = json_token(doc, i);
	uint64_t v = 0;

	if (!t || t->type != JSON_NUMBER || t->end <= t->start || t->end > doc->len)
		return MS_ERR_INVALID;
	for (size_t p = t->start; p < t->end; p++) {
		uint8_t c = doc->src[p];

		if (!is_digit(c))
			return MS_ERR_INVALID; /* '-', '.', 'e', 'E', '+' */
	}
	for (size_t p = t->start; p < t->end; p++) {
		unsigned d = (unsigned)(doc->src[p] - '0');

		if (d > max || v > (max - d) / 10)
			return MS_ERR_LIMIT;
		v = v * 10 + d;
	}
	if (ret)
		*ret = v;
	return MS_OK;
}

ms_status json_object_get(const struct json_doc *doc, uint32_t obj, const char *key, uint32_t *ret_value)
{
	uint32_t found = JSON_NONE;

	if (json_type(doc, obj) != JSON_OBJECT || !key)
		return MS_ERR_INVALID;
	/* At most size keys; json_next() strictly increases the index. */
	for (uint32_t k = json_first(doc, obj); k != JSON_NONE; k = json_next(doc, k)) {
		if (!json_string_equals(doc, k, key))
			continue;
		if (found != JSON_NONE)
			return MS_ERR_INVALID;
		found = k + 1;
	}
	if (found == JSON_NONE)
		return MS_ERR_NOT_FOUND;
	if (ret_value)
		*ret_value = found;
	return MS_OK;
}

size_t json_char_len(const void *s, size_t len)
{
	const uint8_t *b = s;
	const char *why;
	int n;

	if (!b || len == 0 || b[0] == 0)
		return 0;
	if (b[0] < 0x80)
		return 1;
	return decode_utf8(b, 0, len, &n, &why) == MS_OK ? (size_t)n : 0;
}

void json_raw(const struct json_doc *doc, uint32_t i, const uint8_t **ret, size_t *ret_len)
{
	const struct json_token *t = json_token(doc, i);

	if (!t || t->end < t->start || t->end > doc->len) {
		*ret = NULL;
		*ret_len = 0;
		return;
	}
	*ret = doc->src + t->start;
	*ret_len = t->end - t->start;
}
