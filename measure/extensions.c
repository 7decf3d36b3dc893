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

static int fat_refuses_unit(uint16_t c)
{
	switch (c) {
	case '"': case '*': case '/': case ':': case '<': case '>': case '?': case '\\': case '|':
		return 1;
	}
	return c < 0x20;
}

int ext_fat_name_ok(const uint16_t *name, size_t len)
{
	if (len == 0 || name[0] == ' ' || name[len - 1] == ' ' || name[len - 1] == '.')
		return 0;
	for (size_t i = 0; i < len; i++)
		if (fat_refuses_unit(name[i]))
			return 0;
	return 1;
}

/* The checks every kind and rule shares: EXT_PICK means "the suffix decides". */
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
	/* Listed, but the firmware would open another file or none: skip it before any limit counts it. */
	if (!ext_fat_name_ok(name, len))
		return EXT_SKIP_FAT_NAME;
	if (!ext_fat_opens(dir_len, len))
		return EXT_SKIP_PATH_TOO_LONG;
	return EXT_PICK;
}

static const char *const kind_suffix[EXT_KINDS] = {
	[EXT_KIND_SYSEXT] = EXT_SUFFIX,
	[EXT_KIND_SIGNATURE] = EXT_SIGNATURE_SUFFIX,
	[EXT_KIND_CONFEXT] = EXT_CONFEXT_SUFFIX,
	[EXT_KIND_CREDENTIAL] = EXT_CREDENTIAL_SUFFIX,
	[EXT_KIND_ADDON] = EXT_ADDON_SUFFIX,
};

const char *ext_kind_suffix(enum ext_kind kind)
{
	return kind < EXT_KINDS ? kind_suffix[kind] : "";
}

/*
 * The kind the suffix names under @rule, or EXT_KIND_NONE with the reason in
 * *ret_why. Our rule: each kind its own suffix. systemd's: *.raw is a
 * system extension, except *.confext.raw from v256 on; it reads no
 * signature files.
 */
static enum ext_kind kind_of_suffix(const uint16_t *name, size_t len, enum ext_rule rule, enum ext_verdict *ret_why)
{
	*ret_why = rule == EXT_RULE_SYSEXT_STUB ? EXT_SKIP_OTHER_SUFFIX : EXT_SKIP_NOT_RAW;
	if (ends_with_nocase(name, len, EXT_CREDENTIAL_SUFFIX))
		return EXT_KIND_CREDENTIAL;
	if (ends_with_nocase(name, len, EXT_ADDON_SUFFIX))
		return EXT_KIND_ADDON;
	switch (rule) {
	case EXT_RULE_SYSEXT_STUB:
		for (int k = 0; k < EXT_KINDS; k++)
			if (ends_with_nocase(name, len, kind_suffix[k]))
				return (enum ext_kind)k;
		return EXT_KIND_NONE;
	case EXT_RULE_SYSTEMD_256:
		if (ends_with_nocase(name, len, EXT_CONFEXT_SUFFIX))
			return EXT_KIND_CONFEXT;
		/* fall through */
	case EXT_RULE_SYSTEMD_252:
		return ends_with_nocase(name, len, ".raw") ? EXT_KIND_SYSEXT : EXT_KIND_NONE;
	}
	return EXT_KIND_NONE;
}

enum ext_verdict ext_classify_kind(const uint16_t *name, size_t len, int is_directory, size_t dir_len,
				   enum ext_rule rule, unsigned kinds, enum ext_kind *ret_kind)
{
	enum ext_verdict common = classify_common(name, len, is_directory, dir_len), why;
	enum ext_kind kind = len > 0 ? kind_of_suffix(name, len, rule, &why) : EXT_KIND_NONE;

	if (len == 0)
		why = EXT_SKIP_EMPTY_NAME;
	if (kind != EXT_KIND_NONE && !(kinds & EXT_KIND_BIT(kind))) {
		/* A kind this directory does not hold: as any other name (a confext says what it is). */
		why = kind == EXT_KIND_CONFEXT && rule != EXT_RULE_SYSEXT_STUB ? EXT_SKIP_CONFEXT
		      : rule == EXT_RULE_SYSEXT_STUB ? EXT_SKIP_OTHER_SUFFIX
						     : EXT_SKIP_NOT_RAW;
		kind = EXT_KIND_NONE;
	}
	*ret_kind = kind;
	if (common != EXT_PICK)
		return common;
	return kind == EXT_KIND_NONE ? why : EXT_PICK;
}

enum ext_verdict ext_classify_rule(const uint16_t *name, size_t len, int is_directory, size_t dir_len,
				   enum ext_rule rule)
{
	enum ext_kind kind;

	return ext_classify_kind(name, len, is_directory, dir_len, rule, EXT_KIND_BIT(EXT_KIND_SYSEXT), &kind);
}

enum ext_verdict ext_classify(const uint16_t *name, size_t len, int is_directory, size_t dir_len)
{
	return ext_classify_rule(name, len, is_directory, dir_len, EXT_RULE_SYSEXT_STUB);
}

enum ext_verdict ext_classify_signature(const uint16_t *name, size_t len, int is_directory, size_t dir_len)
{
	enum ext_kind kind;

	return ext_classify_kind(name, len, is_directory, dir_len, EXT_RULE_SYSEXT_STUB,
				 EXT_KIND_BIT(EXT_KIND_SIGNATURE), &kind);
}

const char *ext_verdict_reason(enum ext_verdict v)
{
	switch (v) {
	case EXT_PICK:              return "picked";
	case EXT_SKIP_DIRECTORY:    return "is a directory";
	case EXT_SKIP_DOT_FILE:     return "name starts with '.'";
	case EXT_SKIP_NON_ASCII:    return "name is not ASCII";
	case EXT_SKIP_TOO_LONG:     return "name longer than 255 characters";
	case EXT_SKIP_OTHER_SUFFIX:
		return "not a companion file taken from this directory (*" EXT_SUFFIX ", *" EXT_CONFEXT_SUFFIX
		       ", *" EXT_CREDENTIAL_SUFFIX ", *" EXT_ADDON_SUFFIX ", *" EXT_SIGNATURE_SUFFIX ")";
	case EXT_SKIP_EMPTY_NAME:   return "empty name";
	case EXT_SKIP_CONFEXT:      return "a *.confext.raw file (configuration extension)";
	case EXT_SKIP_NOT_RAW:      return "not a *.raw file";
	case EXT_SKIP_PATH_TOO_LONG: return "path too long for the firmware to open (over the FAT driver's 260 characters)";
	case EXT_SKIP_FAT_NAME:
		return "a name the firmware's FAT driver would not open as itself (a control character, one of "
		       "\"*/:<>?\\|, a leading blank, or a trailing blank or dot)";
	case EXT_SKIP_TOO_LARGE:    return "too large";
	case EXT_SKIP_EMPTY_FILE:   return "empty";
	case EXT_SKIP_COUNT:        return "too many files";
	case EXT_SKIP_TOTAL:        return "over the total-size limit";
	case EXT_SKIP_NO_MEMORY:    return "not enough memory";
	case EXT_SKIP_DUPLICATE:    return "given twice";
	case EXT_SKIP_DIRECTORY_DROPPED: return "a file of 4 GiB or more makes systemd-stub drop the directory";
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

static char *put_escape(char *p, char kind, uint16_t c, int digits)
{
	static const char hex[] = "0123456789abcdef";

	*p++ = '\\';
	*p++ = kind;
	for (int shift = 4 * (digits - 1); shift >= 0; shift -= 4)
		*p++ = hex[(c >> shift) & 0xf];
	return p;
}

/* @name has @len units of 16 bits (@wide) or 8 bits. */
static void display_name(const void *name, size_t len, int wide, char *out)
{
	size_t n = len > EXT_NAME_MAX ? EXT_NAME_MAX : len;

	for (size_t i = 0; i < n; i++) {
		uint16_t c = wide ? ((const uint16_t *)name)[i] : ((const uint8_t *)name)[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			*out++ = (char)c;
		else
			out = c < 0x80 ? put_escape(out, 'x', c, 2) : put_escape(out, 'u', c, 4);
	}
	if (len > EXT_NAME_MAX)
		for (int k = 0; k < 3; k++)
			*out++ = '.';
	*out = '\0';
}

void ext_display_name(const uint16_t *name, size_t len, char out[EXT_DISPLAY_MAX])
{
	display_name(name, len, 1, out);
}

void ext_display_name8(const char *name, char out[EXT_DISPLAY_MAX])
{
	size_t len = 0;

	while (name[len])
		len++;
	display_name(name, len, 0, out);
}

int ext_name_compare(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (int)(unsigned char)*a - (int)(unsigned char)*b;
}

int ext_fits_total_of(uint64_t *total, uint64_t size, uint64_t limit)
{
	if (size > limit || *total > limit - size)
		return 0;
	*total += size;
	return 1;
}
