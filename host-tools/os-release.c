/* SPDX-License-Identifier: MIT */
#include "os-release.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WHITESPACE " \t\n\r"

struct buf {
	char *s;
	size_t len, cap;
};

static int put(struct buf *b, char c)
{
	if (b->len + 2 > b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 64;
		char *n = realloc(b->s, cap);

		if (!n)
			return -1;
		b->s = n, b->cap = cap;
	}
	b->s[b->len++] = c;
	b->s[b->len] = 0;
	return 0;
}

static int add(struct os_release *r, struct buf *key, struct buf *value, size_t trailing_ws)
{
	struct os_release_entry *n;
	char *v = value->s ? value->s : strdup("");

	if (!v)
		return -1;
	if (trailing_ws != SIZE_MAX && value->s)
		v[trailing_ws] = 0; /* an unquoted value loses its trailing whitespace */
	n = realloc(r->entries, (r->n + 1) * sizeof(*n));
	if (!n) {
		if (!value->s)
			free(v);
		return -1;
	}
	r->entries = n;
	n[r->n].key = key->s;
	n[r->n].value = v;
	r->n++;
	*key = (struct buf){ 0 };
	*value = (struct buf){ 0 };
	return 0;
}

/*
 * systemd's env-file state machine (src/basic/env-file.c): KEY, optional
 * whitespace, '=', then the value: quotes open only where a value (part)
 * starts, '...' literal, "..." with backslash escaping only " \ ` $ and
 * newline; unquoted text has backslash escapes and loses trailing
 * whitespace; a backslash-newline continues the line; '#' or ';' before a
 * key start a comment.
 */
enum state { PRE_KEY, KEY, PRE_VALUE, VALUE, VALUE_ESCAPE, SQUOTE, DQUOTE, DQUOTE_ESCAPE, COMMENT, COMMENT_ESCAPE };

static bool is_nl(char c)
{
	return c == '\n' || c == '\r';
}

int os_release_parse(const char *text, size_t len, struct os_release *ret)
{
	struct buf key = { 0 }, value = { 0 };
	enum state st = PRE_KEY;
	size_t key_ws = SIZE_MAX, value_ws = SIZE_MAX; /* where trailing whitespace starts, if any */
	int r = -1;

	memset(ret, 0, sizeof(*ret));
	for (size_t i = 0; i < len; i++) {
		char c = text[i];

		switch (st) {
		case PRE_KEY:
			if (c == '#' || c == ';')
				st = COMMENT;
			else if (!strchr(WHITESPACE, c)) {
				st = KEY, key_ws = SIZE_MAX;
				if (put(&key, c) < 0)
					goto out;
			}
			break;
		case KEY:
			if (is_nl(c)) {
				st = PRE_KEY; /* no '=': not an assignment */
				free(key.s), key = (struct buf){ 0 };
			} else if (c == '=') {
				if (key_ws != SIZE_MAX)
					key.s[key_ws] = 0;
				st = PRE_VALUE, value_ws = SIZE_MAX;
			} else {
				if (!strchr(WHITESPACE, c))
					key_ws = SIZE_MAX;
				else if (key_ws == SIZE_MAX)
					key_ws = key.len;
				if (put(&key, c) < 0)
					goto out;
			}
			break;
		case PRE_VALUE:
			if (is_nl(c)) {
				if (add(ret, &key, &value, SIZE_MAX) < 0)
					goto out;
				st = PRE_KEY;
			} else if (c == '\'') {
				st = SQUOTE;
			} else if (c == '"') {
				st = DQUOTE;
			} else if (c == '\\') {
				st = VALUE_ESCAPE;
			} else if (!strchr(WHITESPACE, c)) {
				st = VALUE;
				if (put(&value, c) < 0)
					goto out;
			}
			break;
		case VALUE:
			if (is_nl(c)) {
				if (add(ret, &key, &value, value_ws) < 0)
					goto out;
				st = PRE_KEY;
			} else if (c == '\\') {
				st = VALUE_ESCAPE, value_ws = SIZE_MAX;
			} else {
				if (!strchr(WHITESPACE, c))
					value_ws = SIZE_MAX;
				else if (value_ws == SIZE_MAX)
					value_ws = value.len;
				if (put(&value, c) < 0)
					goto out;
			}
			break;
		case VALUE_ESCAPE:
			st = VALUE;
			if (!is_nl(c) && put(&value, c) < 0)
				goto out;
			break;
		case SQUOTE:
			if (c == '\'')
				st = PRE_VALUE;
			else if (put(&value, c) < 0)
				goto out;
			break;
		case DQUOTE:
			if (c == '"')
				st = PRE_VALUE;
			else if (c == '\\')
				st = DQUOTE_ESCAPE;
			else if (put(&value, c) < 0)
				goto out;
			break;
		case DQUOTE_ESCAPE:
			st = DQUOTE;
			if (strchr("\"\\`$", c)) {
				if (put(&value, c) < 0)
					goto out;
			} else if (c != '\n') {
				if (put(&value, '\\') < 0 || put(&value, c) < 0)
					goto out;
			}
			break;
		case COMMENT:
			if (c == '\\')
				st = COMMENT_ESCAPE;
			else if (is_nl(c))
				st = PRE_KEY;
			break;
		case COMMENT_ESCAPE:
			st = COMMENT;
			break;
		}
	}
	/* at the end of the text, an assignment in progress counts */
	if (st == PRE_VALUE || st == VALUE || st == VALUE_ESCAPE || st == SQUOTE || st == DQUOTE || st == DQUOTE_ESCAPE)
		if (add(ret, &key, &value, st == VALUE ? value_ws : SIZE_MAX) < 0)
			goto out;
	r = 0;
out:
	free(key.s);
	free(value.s);
	if (r < 0)
		os_release_free(ret);
	return r;
}

void os_release_free(struct os_release *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->entries[i].key);
		free(r->entries[i].value);
	}
	free(r->entries);
	r->entries = NULL;
	r->n = 0;
}

const char *os_release_get(const struct os_release *r, const char *key)
{
	for (size_t i = r->n; i-- > 0;)
		if (strcmp(r->entries[i].key, key) == 0)
			return r->entries[i].value;
	return NULL;
}

static bool empty(const char *s)
{
	return !s || !*s;
}

/* Whether the whitespace-separated list @list holds @word. */
static bool word_in(const char *list, const char *word)
{
	size_t wl = strlen(word);

	for (const char *s = list; *s;) {
		size_t n;

		s += strspn(s, WHITESPACE);
		n = strcspn(s, WHITESPACE);
		if (n == wl && n && memcmp(s, word, n) == 0)
			return true;
		s += n;
	}
	return false;
}

bool extension_release_fits(const struct os_release *ext, const struct os_release *host, enum extension_class cls,
			    const char *scope, const char *arch, char *why, size_t why_size)
{
	const char *level_key = cls == EXTENSION_CONFEXT ? "CONFEXT_LEVEL" : "SYSEXT_LEVEL";
	const char *scope_key = cls == EXTENSION_CONFEXT ? "CONFEXT_SCOPE" : "SYSEXT_SCOPE";
	const char *v, *id, *host_id, *host_version, *host_level;

	if (ext->n == 0)
		return snprintf(why, why_size, "it is empty"), false;
	if (scope) {
		v = os_release_get(ext, scope_key);
		/* without a scope an extension is for "system" and "portable", not the initrd */
		if (!word_in(v ? v : "system portable", scope))
			return snprintf(why, why_size, "%s=%s does not include %s", scope_key, v ? v : "(unset: system portable)",
					scope), false;
	}
	v = os_release_get(ext, "ARCHITECTURE");
	if (!empty(v) && strcmp(v, "_any") != 0 && (!arch || strcmp(v, arch) != 0))
		return snprintf(why, why_size, "ARCHITECTURE=%s, the host is %s", v, arch ? arch : "unknown"), false;
	id = os_release_get(ext, "ID");
	if (empty(id))
		return snprintf(why, why_size, "it has no ID"), false;
	if (strcmp(id, "_any") == 0 || !host)
		return true;
	host_id = os_release_get(host, "ID");
	v = os_release_get(host, "ID_LIKE");
	if (empty(host_id) || (strcmp(host_id, id) != 0 && !(v && word_in(v, id))))
		return snprintf(why, why_size, "ID=%s, the host is ID=%s%s%s", id, host_id ? host_id : "",
				v ? " ID_LIKE=" : "", v ? v : ""), false;
	host_version = os_release_get(host, "VERSION_ID");
	host_level = os_release_get(host, level_key);
	if (empty(host_version) && empty(host_level))
		return true; /* a rolling release: the ID is enough */
	v = os_release_get(ext, level_key);
	if (!empty(host_level) && !empty(v)) {
		if (strcmp(host_level, v) != 0)
			return snprintf(why, why_size, "%s=%s, the host has %s", level_key, v, host_level), false;
		return true;
	}
	if (!empty(host_version)) {
		v = os_release_get(ext, "VERSION_ID");
		if (empty(v))
			return snprintf(why, why_size, "no VERSION_ID (the host has VERSION_ID=%s)", host_version), false;
		if (strcmp(v, host_version) != 0)
			return snprintf(why, why_size, "VERSION_ID=%s, the host has %s", v, host_version), false;
	}
	return true;
}
