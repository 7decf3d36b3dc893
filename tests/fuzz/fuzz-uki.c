/* SPDX-License-Identifier: MIT */
/*
 * fuzz-uki.c - libFuzzer target for measure/uki.c: which sections of a UKI
 * go into PCR 11, and in which order.
 *
 * Input: byte 0 picks the systemd version (200 + byte: 200..455, so
 * versions before 252, at every list change and after the last occur);
 * byte 1 bit 0 picks where the section table comes from: the rest parsed
 * as a PE file (pe_parse), or the rest read directly as section headers of
 * 10 bytes each (8 name bytes, a VirtualSize byte, a spare byte), which
 * reaches every name without a valid PE around it.
 *
 * Checked against lists written out here from docs/MEASUREMENTS.md and
 * uki.h (v252, +.uname .sbat in 254, +.ucode in 256, +.profile .dtbauto
 * .hwids in 257, +.efifw in 258): uki_order_for_version() refuses versions
 * before 252 and otherwise picks the newest list not newer than the
 * version; the canonical list is that list; the measured sections are,
 * in list order, the first header of each listed name but .pcrsig that
 * has VirtualSize > 0, each pointing at that very header.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure/uki.h"

#define CHECK(cond)                                                                            \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "fuzz-uki: %s:%d: invariant failed: %s\n",             \
				__FILE__, __LINE__, #cond);                                    \
			abort();                                                               \
		}                                                                              \
	} while (0)

/* The v258 list with the release each name arrived in (.ucode moved in before .splash in 256). */
static const struct {
	const char *name;
	unsigned since;
} all_sections[] = {
	{ ".linux", 252 },  { ".osrel", 252 },   { ".cmdline", 252 }, { ".initrd", 252 }, { ".ucode", 256 },
	{ ".splash", 252 }, { ".dtb", 252 },     { ".uname", 254 },   { ".sbat", 254 },   { ".pcrsig", 252 },
	{ ".pcrpkey", 252 }, { ".profile", 257 }, { ".dtbauto", 257 }, { ".hwids", 257 },  { ".efifw", 258 },
};
#define N_ALL (sizeof(all_sections) / sizeof(all_sections[0]))

static const unsigned list_changes[] = { 252, 254, 256, 257, 258 };

/* The reference list for @version (>= 252): every name that had arrived, in v258 order. */
static size_t ref_list(unsigned version, const char *out[N_ALL])
{
	size_t n = 0;

	for (size_t i = 0; i < N_ALL; i++)
		if (all_sections[i].since <= version)
			out[n++] = all_sections[i].name;
	return n;
}

static void check_measured(const struct pe_image *img, enum uki_order order, unsigned version)
{
	struct uki_measured_section got[UKI_MAX_MEASURED];
	const char *list[N_ALL];
	size_t n_list = ref_list(version, list), n = uki_measured_sections(img, order, got), k = 0;

	for (size_t i = 0; i < n_list; i++) {
		const struct pe_section *first = NULL;

		if (strcmp(list[i], ".pcrsig") == 0)
			continue;
		for (uint16_t s = 0; s < img->n_sections && !first; s++)
			if (strcmp(img->sections[s].name, list[i]) == 0)
				first = &img->sections[s];
		if (!first || first->virtual_size == 0)
			continue;
		CHECK(k < n);
		CHECK(strcmp(got[k].name, list[i]) == 0);
		CHECK(got[k].section == first);
		k++;
	}
	CHECK(k == n && n <= UKI_MAX_MEASURED);
}

static void check_version(unsigned version, const struct pe_image *img)
{
	enum uki_order order = UKI_ORDER_SYSTEMD_252;
	ms_status r = uki_order_for_version(version, &order);
	const char *const *names;
	const char *list[N_ALL];
	size_t n_names, n_list;
	unsigned want = 0;

	if (version < 252) {
		CHECK(r == MS_ERR_UNSUPPORTED);
		return;
	}
	CHECK(r == MS_OK);
	for (size_t i = 0; i < sizeof(list_changes) / sizeof(list_changes[0]); i++)
		if (list_changes[i] <= version)
			want = list_changes[i];
	CHECK(uki_order_version(order) == want);
	n_names = uki_canonical_sections(order, &names);
	n_list = ref_list(version, list);
	CHECK(n_names == n_list);
	for (size_t i = 0; i < n_list; i++) {
		CHECK(strcmp(names[i], list[i]) == 0);
		CHECK(uki_section_is_measured(names[i]) == (strcmp(names[i], ".pcrsig") != 0));
	}
	check_measured(img, order, version);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pe_image *img;
	unsigned version;

	if (size < 2)
		return 0;
	version = 200u + data[0];
	img = calloc(1, sizeof(*img));
	CHECK(img != NULL);
	if (data[1] & 1) {
		if (pe_parse(data + 2, size - 2, PE_LAYOUT_FILE, img) != MS_OK) {
			free(img);
			return 0;
		}
	} else {
		for (size_t at = 2; at + 10 <= size && img->n_sections < PE_MAX_SECTIONS; at += 10) {
			struct pe_section *s = &img->sections[img->n_sections++];

			memcpy(s->name, data + at, PE_SECTION_NAME_MAX);
			s->name[PE_SECTION_NAME_MAX] = 0;
			s->virtual_size = data[at + 8];
		}
	}
	for (uint16_t s = 0; s < img->n_sections; s++)
		CHECK(uki_section_is_measured(img->sections[s].name) == (strcmp(img->sections[s].name, ".pcrsig") != 0));
	check_version(version, img);
	free(img);
	return 0;
}
