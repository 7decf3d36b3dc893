/* SPDX-License-Identifier: MIT */
#include "extensions.h"

static uint16_t ascii_lower(uint16_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint16_t)(c + ('a' - 'A')) : c;
}

static int ends_with_suffix_nocase(const uint16_t *name, size_t len)
{
	static const char suffix[] = EXT_SUFFIX;
	size_t n = sizeof(suffix) - 1;

	/* The suffix alone (".sysext.raw") is a dot file, handled before. */
	if (len < n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (ascii_lower(name[len - n + i]) != (uint16_t)suffix[i])
			return 0;
	return 1;
}

enum ext_verdict ext_classify(const uint16_t *name, size_t len, int is_directory)
{
	if (len == 0)
		return EXT_SKIP_EMPTY_NAME;
	if (is_directory)
		return EXT_SKIP_DIRECTORY;
	if (name[0] == '.')
		return EXT_SKIP_DOT_FILE;
	if (len > EXT_NAME_MAX)
		return EXT_SKIP_TOO_LONG;
	for (size_t i = 0; i < len; i++)
		if (name[i] > 127 || name[i] == 0)
			return EXT_SKIP_NON_ASCII;
	if (!ends_with_suffix_nocase(name, len))
		return EXT_SKIP_OTHER_SUFFIX;
	return EXT_PICK;
}

const char *ext_verdict_reason(enum ext_verdict v)
{
	switch (v) {
	case EXT_PICK:              return "picked";
	case EXT_SKIP_DIRECTORY:    return "is a directory";
	case EXT_SKIP_DOT_FILE:     return "name starts with '.'";
	case EXT_SKIP_NON_ASCII:    return "name is not ASCII";
	case EXT_SKIP_TOO_LONG:     return "name longer than 255 characters";
	case EXT_SKIP_OTHER_SUFFIX: return "not a *" EXT_SUFFIX " file";
	case EXT_SKIP_EMPTY_NAME:   return "empty name";
	}
	return "unknown";
}

ms_status ext_name_to_ascii(const uint16_t *name, size_t len, char *out, size_t cap)
{
	if (ext_classify(name, len, 0) != EXT_PICK)
		return MS_ERR_INVALID;
	if (cap < len + 1)
		return MS_ERR_BUFFER_TOO_SMALL;
	for (size_t i = 0; i < len; i++)
		out[i] = (char)name[i];
	out[len] = '\0';
	return MS_OK;
}

int ext_name_compare(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (int)(unsigned char)*a - (int)(unsigned char)*b;
}

void ext_sort_names(const char **names, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		const char *x = names[i];
		size_t j = i;

		while (j > 0 && ext_name_compare(names[j - 1], x) > 0) {
			names[j] = names[j - 1];
			j--;
		}
		names[j] = x;
	}
}
