/* SPDX-License-Identifier: MIT */
/*
 * cmdline.h - the kernel command line as the stub passes it (UTF-16).
 *
 * Both sources (the UKI's .cmdline section and the LoadOptions the stub was
 * started with) are normalised the way systemd-stub does it, so that PCR 12
 * predictions made for systemd-stub hold for us: leading and trailing
 * whitespace removed, and every control character, space or DEL turned into
 * a plain space (runs are kept, not collapsed).
 */
#ifndef MEASURE_CMDLINE_H
#define MEASURE_CMDLINE_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

/* Normalise NUL-terminated UTF-16 @s in place (see above). */
void cmdline_mangle16(uint16_t *s);

/*
 * Convert @len bytes of a .cmdline section (ASCII/UTF-8 bytes; stops at the
 * first NUL) to UTF-16 in @out (capacity @out_cap units including the NUL),
 * then mangle it. Bytes >= 0x80 are passed through as code units, like
 * systemd-stub's xstrn8_to_16 does for Latin-1. Returns
 * MS_ERR_BUFFER_TOO_SMALL if @out is too small.
 */
ms_status cmdline_from_section(const uint8_t *sec, size_t len, uint16_t *out, size_t out_cap);

/*
 * Accept LoadOptions of @size bytes as a command line if they look like
 * UTF-16 text: even size, and every unit before the first NUL printable
 * ASCII or whitespace. Firmware boot entries pass binary OptionalData there,
 * which must not become a command line. A leading "@N" selects UKI
 * profile N (*ret_profile; 0 without one): it and exactly one space after
 * it are removed before the rest is mangled, as systemd-stub does
 * (decimal, at most UINT32_MAX, followed by a space or the end; anything
 * else is left in the command line). Copies and mangles into @out.
 * Returns MS_ERR_INVALID for non-text (profile 0), MS_ERR_NOT_FOUND if
 * empty after mangling (the profile still counts).
 */
ms_status cmdline_from_load_options(const void *opts, size_t size, uint32_t *ret_profile, uint16_t *out,
				    size_t out_cap);

/* Units before the NUL. */
size_t cmdline_len16(const uint16_t *s);

/*
 * A command line with more words appended (the addons', SMBIOS's): @base
 * (NULL or empty: none), a space, @words; or @words alone. @out has @cap
 * units, at least the two lengths plus 2.
 */
ms_status cmdline_extend(const uint16_t *base, const uint16_t *words, uint16_t *out, size_t cap);

#endif
