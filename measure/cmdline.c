/* SPDX-License-Identifier: MIT */
#include "cmdline.h"

#include "endian.h"

size_t cmdline_len16(const uint16_t *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

static int is_mangled_to_space(uint16_t c)
{
	return c < 0x20 || c == 0x7f || c == ' ';
}

void cmdline_mangle16(uint16_t *s)
{
	size_t start = 0, end, n = cmdline_len16(s);

	while (start < n && is_mangled_to_space(s[start]))
		start++;
	end = n;
	while (end > start && is_mangled_to_space(s[end - 1]))
		end--;
	for (size_t i = start; i < end; i++)
		s[i - start] = is_mangled_to_space(s[i]) ? ' ' : s[i];
	s[end - start] = 0;
}

ms_status cmdline_from_section(const uint8_t *sec, size_t len, uint16_t *out, size_t out_cap)
{
	size_t n = 0;

	if (!out || out_cap == 0 || (len && !sec))
		return MS_ERR_INVALID;
	while (n < len && sec[n])
		n++;
	if (n >= out_cap)
		return MS_ERR_BUFFER_TOO_SMALL;
	for (size_t i = 0; i < n; i++)
		out[i] = sec[i];
	out[n] = 0;
	cmdline_mangle16(out);
	return MS_OK;
}

/*
 * A leading "@N" (N decimal, at most UINT32_MAX, then a space or the end)
 * selects profile N: remove it and exactly one space after it, nothing
 * else (systemd-stub's rule, so a prefixed command line measures as
 * predicted). Anything else is no profile and stays as it is.
 */
static uint32_t take_profile(uint16_t *s)
{
	uint64_t v = 0;
	size_t i = 1, skip;

	if (s[0] != '@' || s[1] < '0' || s[1] > '9')
		return 0;
	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		v = v * 10 + (s[i] - '0');
		if (v > UINT32_MAX)
			return 0;
	}
	if (s[i] != ' ' && s[i] != 0)
		return 0;
	skip = i + (s[i] == ' ');
	i = 0;
	do
		s[i] = s[skip + i];
	while (s[i++]);
	return (uint32_t)v;
}

ms_status cmdline_from_load_options(const void *opts, size_t size, uint32_t *ret_profile, uint16_t *out,
				    size_t out_cap)
{
	const uint8_t *p = opts;
	size_t n = 0, units;

	*ret_profile = 0;
	if (!out || out_cap == 0)
		return MS_ERR_INVALID;
	if (!opts || size == 0)
		return MS_ERR_NOT_FOUND;
	if (size % 2)
		return MS_ERR_INVALID;
	units = size / 2;
	while (n < units && le16_read(p + 2 * n) != 0)
		n++;
	if (n >= out_cap)
		return MS_ERR_BUFFER_TOO_SMALL;
	for (size_t i = 0; i < n; i++) {
		uint16_t c = le16_read(p + 2 * i);

		/*
		 * Only printable ASCII and whitespace count as text. Boot
		 * entries created by the firmware carry binary OptionalData
		 * (OVMF passes a 16-byte GUID), which would otherwise decode
		 * into a nonsense command line.
		 */
		if (!(c == '\t' || c == '\n' || c == '\r' || (c >= 0x20 && c < 0x7f)))
			return MS_ERR_INVALID;
		out[i] = c;
	}
	out[n] = 0;
	/* The profile comes off the text as passed, before mangling, as in systemd-stub. */
	*ret_profile = take_profile(out);
	cmdline_mangle16(out);
	return out[0] ? MS_OK : MS_ERR_NOT_FOUND;
}

ms_status cmdline_extend(const uint16_t *base, const uint16_t *words, uint16_t *out, size_t cap)
{
	size_t nb = base ? cmdline_len16(base) : 0, nw = cmdline_len16(words), at = 0;

	if (!out || nb + nw + 2 > cap)
		return MS_ERR_BUFFER_TOO_SMALL;
	for (size_t i = 0; i < nb; i++)
		out[at++] = base[i];
	if (nb)
		out[at++] = ' ';
	for (size_t i = 0; i < nw; i++)
		out[at++] = words[i];
	out[at] = 0;
	return MS_OK;
}
