/* SPDX-License-Identifier: MIT */
/*
 * fuzz-smbios.c - libFuzzer target for measure/smbios.c.
 *
 * The input is an SMBIOS structure table (a heap copy of exactly its size,
 * so reading past it is caught). The walk must cover the table front to
 * back without gaps or overlaps, each structure ending in its string set's
 * NUL; the OEM string found must lie inside the table, in the first type 11
 * structure, start right after the prefix, and end at a NUL; the measured
 * copy must differ from the structure at most in a type 1 structure's
 * Wake-up Type byte.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure/smbios.h"

#define CHECK(cond)                                                                            \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "fuzz-smbios: %s:%d: invariant failed: %s\n", __FILE__, \
				__LINE__, #cond);                                              \
			abort();                                                               \
		}                                                                              \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smbios_structure s;
	const uint8_t *first11 = NULL, *v;
	uint8_t *copy = malloc(size ? size : 1), *measured;
	size_t at = 0, first11_size = 0, n;
	const char *desc;
	uint32_t tag;

	CHECK(copy != NULL);
	memcpy(copy, data, size);
	while (smbios_next(copy, size, &at, &s) == MS_OK) {
		CHECK(s.data >= copy && s.size >= (size_t)s.length + 1 && s.length >= SMBIOS_HEADER_SIZE);
		CHECK(s.data + s.size == copy + at && at <= size);
		CHECK(s.data[s.size - 1] == 0);
		if (s.type == SMBIOS_TYPE_OEM_STRINGS && !first11) {
			first11 = s.data;
			first11_size = s.size;
		}
		if (smbios_is_measured(&s, &tag, &desc)) {
			measured = malloc(s.size);
			CHECK(measured != NULL);
			smbios_measured_copy(&s, measured);
			for (size_t i = 0; i < s.size; i++)
				CHECK(measured[i] == s.data[i] ||
				      (s.type == SMBIOS_TYPE_SYSTEM && i == SMBIOS_TYPE1_WAKE_UP_TYPE && measured[i] == 0));
			free(measured);
		}
	}
	if (smbios_oem_string(copy, size, SMBIOS_CMDLINE_EXTRA, &v, &n) == MS_OK) {
		size_t plen = strlen(SMBIOS_CMDLINE_EXTRA);

		CHECK(first11 != NULL);
		CHECK(v - plen >= first11 && v + n < first11 + first11_size);
		CHECK(memcmp(v - plen, SMBIOS_CMDLINE_EXTRA, plen) == 0);
		CHECK(v[n] == 0 && memchr(v, 0, n) == NULL);
	}
	free(copy);
	return 0;
}
