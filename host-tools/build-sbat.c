/* SPDX-License-Identifier: MIT */
#include "build-sbat.h"

#include <stdlib.h>
#include <string.h>

#include "measure/pe.h"
#include "util.h"

struct text {
	char *buf;
	size_t len, cap;
};

static int append(struct text *t, const char *s, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		size_t cap = (t->len + n + 1) * 2;
		char *grown = realloc(t->buf, cap);

		if (!grown)
			return errorf("out of memory");
		t->buf = grown;
		t->cap = cap;
	}
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = 0;
	return 0;
}

/* Every line of @s[0..n) but the first, each with a newline; the text ends at its first NUL. */
static int append_entries(struct text *t, const char *s, size_t n)
{
	size_t i = 0, end;

	while (i < n && s[i] && s[i] != '\n')
		i++;
	while (i < n && s[i] == '\n') {
		i++;
		for (end = i; end < n && s[end] && s[end] != '\n'; end++)
			;
		if (end > i && (append(t, s + i, end - i) < 0 || append(t, "\n", 1) < 0))
			return -1;
		i = end;
	}
	return 0;
}

/* The .sbat section of the PE file @buf, if it has one that starts with "sbat,". */
static int section_entries(struct text *t, const uint8_t *buf, size_t len, const char *what)
{
	struct pe_image *img = calloc(1, sizeof(*img));
	const struct pe_section *s;
	size_t offset, present;
	int r = 0;

	if (!img)
		return errorf("out of memory");
	if (pe_parse(buf, len, PE_LAYOUT_FILE, img) == MS_OK && (s = pe_find_section(img, ".sbat"))) {
		pe_section_content(img, s, &offset, &present);
		if (present >= 5 && memcmp(buf + offset, "sbat,", 5) == 0)
			r = append_entries(t, (const char *)buf + offset, present);
		else
			warnf("the %s's .sbat does not start with an sbat line: left out", what);
	}
	free(img);
	return r;
}

int sbat_merge(const uint8_t *stub, size_t stub_len, const uint8_t *kernel, size_t kernel_len, const char *text,
	       size_t text_len, uint8_t **ret, size_t *ret_len)
{
	struct text t = { 0 };

	if (text_len < 5 || memcmp(text, "sbat,", 5) != 0)
		return errorf("--sbat: does not start with an \"sbat,\" line (%s)", SBAT_HEADER);
	if (append(&t, SBAT_HEADER "\n", strlen(SBAT_HEADER) + 1) < 0 || section_entries(&t, stub, stub_len, "stub") < 0 ||
	    (kernel && section_entries(&t, kernel, kernel_len, "kernel") < 0) || append_entries(&t, text, text_len) < 0) {
		free(t.buf);
		return -1;
	}
	*ret = (uint8_t *)t.buf;
	*ret_len = t.len;
	return 0;
}
