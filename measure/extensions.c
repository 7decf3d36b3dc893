/* SPDX-License-Identifier: MIT */
#include "extensions.h"

static uint16_t ascii_lower(uint16_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint16_t)(c + ('a' - 'A')) : c;
}

static int ends_with_nocase(const uint16_t *name, size_t len, const char *suffix)
{
	size_t n = 0;

	while (suffix[n])
		n++;
	/* The suffix alone (".sysext.raw") is a dot file, handled before. */
	if (len < n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (ascii_lower(name[len - n + i]) != (uint16_t)suffix[i])
			return 0;
	return 1;
}

int ext_fat_opens(size_t dir_len, size_t name_len)
{
	/* "X:" + path + '\' + name + NUL, written so that no sum can wrap. */
	return dir_len <= EXT_FAT_PATH_MAX - 4 && name_len <= EXT_FAT_PATH_MAX - 4 - dir_len;
}

enum ext_verdict ext_classify(const uint16_t *name, size_t len, int is_directory, size_t dir_len)
{
	return ext_classify_rule(name, len, is_directory, dir_len, EXT_RULE_SYSEXT_STUB);
}

/* The checks every rule shares: EXT_PICK means "the suffix decides". */
static enum ext_verdict classify_common(const uint16_t *name, size_t len, int is_directory, size_t dir_len)
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
	/* Listed, but the firmware would not open it: skip it here, before any limit counts it. */
	if (!ext_fat_opens(dir_len, len))
		return EXT_SKIP_PATH_TOO_LONG;
	return EXT_PICK;
}

enum ext_verdict ext_classify_signature(const uint16_t *name, size_t len, int is_directory, size_t dir_len)
{
	enum ext_verdict v = classify_common(name, len, is_directory, dir_len);

	if (v != EXT_PICK)
		return v;
	return ends_with_nocase(name, len, EXT_SIGNATURE_SUFFIX) ? EXT_PICK : EXT_SKIP_OTHER_SUFFIX;
}

enum ext_verdict ext_classify_rule(const uint16_t *name, size_t len, int is_directory, size_t dir_len,
				   enum ext_rule rule)
{
	enum ext_verdict v = classify_common(name, len, is_directory, dir_len);

	if (v != EXT_PICK)
		return v;
	switch (rule) {
	case EXT_RULE_SYSEXT_STUB:
		return ends_with_nocase(name, len, EXT_SUFFIX) ? EXT_PICK : EXT_SKIP_OTHER_SUFFIX;
	case EXT_RULE_SYSTEMD_256:
		if (ends_with_nocase(name, len, ".confext.raw"))
			return EXT_SKIP_CONFEXT;
		/* fall through */
	case EXT_RULE_SYSTEMD_252:
		return ends_with_nocase(name, len, ".raw") ? EXT_PICK : EXT_SKIP_NOT_RAW;
	}
	return EXT_SKIP_OTHER_SUFFIX;
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
	case EXT_SKIP_CONFEXT:      return "a *.confext.raw file (configuration extension)";
	case EXT_SKIP_NOT_RAW:      return "not a *.raw file";
	case EXT_SKIP_PATH_TOO_LONG: return "path too long for the firmware to open (over the FAT driver's 260 characters)";
	}
	return "unknown";
}

ms_status ext_name_to_ascii(const uint16_t *name, size_t len, char *out, size_t cap)
{
	/* Any name a rule picks: non-empty, ASCII, not too long. */
	if (len == 0 || len > EXT_NAME_MAX)
		return MS_ERR_INVALID;
	for (size_t i = 0; i < len; i++)
		if (name[i] == 0 || name[i] > 127)
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

const char *ext_sorted_insert(const char **names, size_t *n, size_t cap, const char *name)
{
	const char *evicted = NULL;
	size_t j;

	if (cap == 0)
		return name;
	if (*n == cap) {
		if (ext_name_compare(names[cap - 1], name) <= 0)
			return name;
		evicted = names[cap - 1];
		(*n)--;
	}
	for (j = *n; j > 0 && ext_name_compare(names[j - 1], name) > 0; j--)
		names[j] = names[j - 1];
	names[j] = name;
	(*n)++;
	return evicted;
}

int ext_fits_total(uint64_t *total, uint64_t size)
{
	if (size > EXT_TOTAL_SIZE_MAX || *total > EXT_TOTAL_SIZE_MAX - size)
		return 0;
	*total += size;
	return 1;
}
