/* SPDX-License-Identifier: MIT */
/*
 * smbios.h - reading an SMBIOS structure table (DMTF DSP0134) the way
 * systemd-stub v262 reads it, bounds-checked for a hostile table.
 *
 * Each structure is a header (type, length, handle), a formatted area of
 * `length` bytes (header included), then a string set: NUL-terminated
 * strings ended by an empty one, or two NULs when there are none. Type
 * 127 ends the table. Two uses:
 *  - the kernel command-line words a host passes in an OEM string (type 11)
 *    `io.systemd.stub.kernel-cmdline-extra=...` (PCR 12);
 *  - the structures systemd-stub v262 measures into PCR 1 (types 1, 2 and
 *    11, each whole: formatted area and string set; type 1 with its
 *    Wake-up Type byte zeroed, since it changes with how the machine was
 *    powered on).
 */
#ifndef MEASURE_SMBIOS_H
#define MEASURE_SMBIOS_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define SMBIOS_TYPE_SYSTEM 1
#define SMBIOS_TYPE_BASEBOARD 2
#define SMBIOS_TYPE_OEM_STRINGS 11
#define SMBIOS_TYPE_END 127
#define SMBIOS_HEADER_SIZE 4
#define SMBIOS_TYPE1_WAKE_UP_TYPE 0x18 /* offset of the Wake-up Type byte in a type 1 structure */

/* The OEM string prefix of systemd's extra kernel command-line words. */
#define SMBIOS_CMDLINE_EXTRA "io.systemd.stub.kernel-cmdline-extra="

/* PCR 1 event tags (EV_EVENT_TAG) systemd-stub v262 uses, and their descriptions. */
#define SMBIOS_TAG_TYPE1 0xd5cb7cbcu
#define SMBIOS_TAG_TYPE2 0xe0d47bc8u
#define SMBIOS_TAG_TYPE11 0xc0b3bd23u

struct smbios_structure {
	const uint8_t *data; /* the header's first byte */
	size_t size;         /* formatted area + string set, with its closing NUL */
	uint8_t type;
	uint8_t length;      /* the formatted area */
};

/*
 * The structure at *offset of table[0..len), and *offset moved past it.
 * MS_ERR_NOT_FOUND at the end (type 127, or no room for another header);
 * MS_ERR_TRUNCATED for a structure that does not fit (a length under 4,
 * a formatted area or string set running past the table): the walk stops
 * there, as systemd-stub's does.
 */
ms_status smbios_next(const uint8_t *table, size_t len, size_t *offset, struct smbios_structure *ret);

/*
 * The value of the first string starting with @prefix in the first OEM
 * strings (type 11) structure: *ret points into the table, *ret_len bytes
 * (no NUL). The strings are read up to the first empty one, as
 * systemd-stub reads them. MS_ERR_NOT_FOUND if there is none.
 */
ms_status smbios_oem_string(const uint8_t *table, size_t len, const char *prefix, const uint8_t **ret,
			    size_t *ret_len);

/*
 * Whether systemd-stub v262 measures @s into PCR 1, and as what: *ret_tag,
 * *ret_description (ASCII, e.g. "smbios:type1").
 */
int smbios_is_measured(const struct smbios_structure *s, uint32_t *ret_tag, const char **ret_description);

/*
 * The s->size bytes measured for @s into @out: the structure as it is,
 * but a type 1 structure's Wake-up Type byte 0 (when its formatted area
 * has one).
 */
void smbios_measured_copy(const struct smbios_structure *s, uint8_t *out);

#endif
