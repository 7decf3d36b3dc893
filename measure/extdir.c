/* SPDX-License-Identifier: MIT */
#include "extdir.h"

static int is_digit(uint16_t c)
{
	return c >= '0' && c <= '9';
}

static uint16_t lower(uint16_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint16_t)(c + 32) : c;
}

/* Index of a "+N" / "+N-M" directly before a final ".efi" in out[start..n), or n. */
static size_t boot_counter_at(const uint16_t *s, size_t start, size_t n)
{
	static const char efi[] = ".efi";
	size_t end, i;

	if (n - start < 6) /* "+N.efi" at least */
		return n;
	end = n - 4;
	for (i = 0; i < 4; i++)
		if (lower(s[end + i]) != (uint16_t)efi[i])
			return n;
	/* Walk back over digits, an optional "-digits", then require '+'. */
	i = end;
	while (i > start && is_digit(s[i - 1]))
		i--;
	if (i == end)
		return n;
	if (i > start && s[i - 1] == '-') {
		size_t j = i - 1;

		i = j;
		while (i > start && is_digit(s[i - 1]))
			i--;
		if (i == j)
			return n;
	}
	if (i > start && s[i - 1] == '+')
		return i - 1;
	return n;
}

ms_status extdir_from_image_path(const uint16_t *path, size_t len, uint16_t *out, size_t cap)
{
	static const char suffix[] = EXTDIR_SUFFIX;
	size_t n = 0, last_sep = 0, cut;

	if (!path || !out || len == 0)
		return MS_ERR_INVALID;
	for (size_t i = 0; i < len && path[i]; i++) {
		uint16_t c = path[i] == '/' ? '\\' : path[i];

		if (c == '\\' && n > 0 && out[n - 1] == '\\')
			continue;
		if (n + 1 >= cap)
			return MS_ERR_BUFFER_TOO_SMALL;
		if (n == 0 && c != '\\')
			out[n++] = '\\';
		if (n + 1 >= cap)
			return MS_ERR_BUFFER_TOO_SMALL;
		if (c == '\\')
			last_sep = n;
		out[n++] = c;
	}
	if (n == 0 || out[n - 1] == '\\')
		return MS_ERR_INVALID;
	cut = boot_counter_at(out, last_sep + 1, n);
	if (cut < n) {
		/* Drop "+N[-M]", keep ".efi". */
		size_t efi_at = n - 4;

		for (size_t i = 0; i < 4; i++)
			out[cut + i] = out[efi_at + i];
		n = cut + 4;
	}
	if (n + sizeof(suffix) > cap)
		return MS_ERR_BUFFER_TOO_SMALL;
	for (size_t i = 0; i < sizeof(suffix); i++)
		out[n + i] = (uint16_t)suffix[i];
	return MS_OK;
}
