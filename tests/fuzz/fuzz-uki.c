/* SPDX-License-Identifier: MIT */
/*
 * fuzz-uki.c - libFuzzer target for measure/uki.c: which section of a UKI
 * is in effect for a profile, and which go into PCR 11, in which order.
 *
 * Input: byte 0 picks the systemd version (200 + byte: 200..455, so
 * versions before 252, at every list change and after the last occur);
 * byte 1 bit 0 picks where the section table comes from: the rest parsed
 * as a PE file (pe_parse), or the rest read directly as section headers of
 * 10 bytes each (8 name bytes, a VirtualSize byte, a spare byte), which
 * reaches every name (and any arrangement of .profile headers) without a
 * valid PE around it.
 *
 * Checked against models written out here from docs/MEASUREMENTS.md, the
 * UKI specification and uki.h:
 *  - the lists (v252, +.uname .sbat in 254, +.ucode in 256, +.profile
 *    .dtbauto .hwids in 257, +.efifw in 258): uki_order_for_version()
 *    refuses versions before 252 and otherwise picks the newest list not
 *    newer than the version;
 *  - the section in effect for every profile (each one that exists, one
 *    that does not, the base alone): the first header of the name among
 *    the profile's own headers (its .profile up to the next), else among
 *    the base's (before the first .profile); absent with VirtualSize 0 or
 *    for .dtbauto/.efifw (machine-selected, never matched);
 *  - issue 13's property: every section the stub would use (uki_section)
 *    is exactly a section PCR 11 measures (uki_measured_sections, lists
 *    from v257), the same header and so the same bytes; the bytes
 *    (uki_section_bytes) are VirtualSize long and lie in the buffer;
 *  - lists before v257 know no profiles: the first header of each name.
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

/* [*begin, *end) of profile @p's own headers (p == UKI_PROFILE_MAX: the base), by the spec's words. */
static int model_range(const struct pe_image *img, uint32_t p, size_t *begin, size_t *end)
{
	size_t starts[PE_MAX_SECTIONS + 1], n_starts = 0;

	for (size_t i = 0; i < img->n_sections; i++)
		if (strcmp(img->sections[i].name, ".profile") == 0)
			starts[n_starts++] = i;
	starts[n_starts] = img->n_sections;
	if (p == UKI_PROFILE_MAX) {
		*begin = 0;
		*end = starts[0];
		return 1;
	}
	if (p >= n_starts)
		return 0;
	*begin = starts[p];
	*end = starts[p + 1];
	return 1;
}

static const struct pe_section *model_first(const struct pe_image *img, size_t begin, size_t end, const char *name)
{
	for (size_t i = begin; i < end; i++)
		if (strcmp(img->sections[i].name, name) == 0)
			return &img->sections[i];
	return NULL;
}

static const struct pe_section *model_section(const struct pe_image *img, uint32_t p, const char *name)
{
	const struct pe_section *s = NULL;
	size_t begin, end;

	if (strcmp(name, ".dtbauto") == 0 || strcmp(name, ".efifw") == 0)
		return NULL;
	if (p != UKI_PROFILE_MAX && model_range(img, p, &begin, &end))
		s = model_first(img, begin, end, name);
	if (!s && model_range(img, UKI_PROFILE_MAX, &begin, &end))
		s = model_first(img, begin, end, name);
	return s && s->virtual_size > 0 ? s : NULL;
}

static void check_measured(const struct pe_image *img, enum uki_order order, unsigned version, uint32_t p)
{
	struct uki_measured_section got[UKI_MAX_MEASURED];
	const char *list[N_ALL];
	size_t n_list = ref_list(version, list), n = uki_measured_sections(img, order, p, got), k = 0;

	for (size_t i = 0; i < n_list; i++) {
		const struct pe_section *want;

		if (strcmp(list[i], ".pcrsig") == 0)
			continue;
		if (version >= 257) {
			want = model_section(img, p, list[i]);
			/* The stub uses exactly what PCR 11 measures: the same header, hence the same bytes. */
			CHECK(uki_section(img, p, list[i]) == want);
		} else {
			want = model_first(img, 0, img->n_sections, list[i]);
			if (want && want->virtual_size == 0)
				want = NULL;
		}
		if (!want)
			continue;
		CHECK(k < n);
		CHECK(strcmp(got[k].name, list[i]) == 0);
		CHECK(got[k].section == want);
		k++;
	}
	CHECK(k == n && n <= UKI_MAX_MEASURED);
}

static volatile uint8_t sink;

/* Every canonical name, every profile: uki_section() against the model; the bytes inside the buffer. */
static void check_sections(const struct pe_image *img, const uint8_t *buf, size_t len, int parsed)
{
	uint32_t count = uki_profile_count(img);

	for (uint32_t p = 0; p <= count + 1; p++) {
		uint32_t profile = p == count + 1 ? UKI_PROFILE_MAX : p;
		int exists = profile == UKI_PROFILE_MAX || profile < count || (profile == 0 && count == 0);

		CHECK((uki_profile_check(img, profile) == MS_OK) == exists);
		for (size_t i = 0; i < N_ALL; i++) {
			const struct pe_section *s = uki_section(img, profile, all_sections[i].name);
			size_t offset, present;
			uint32_t size;
			uint8_t acc = 0;

			CHECK(s == model_section(img, exists ? profile : UKI_PROFILE_MAX, all_sections[i].name));
			if (!s || !parsed)
				continue;
			uki_section_bytes(img, s, &offset, &present, &size);
			CHECK(size == s->virtual_size && present <= size);
			CHECK(offset <= len && present <= len - offset);
			for (size_t b = 0; b < present; b++)
				acc ^= buf[offset + b];
			sink = acc;
		}
	}
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
	for (uint32_t p = 0; p <= uki_profile_count(img); p++)
		check_measured(img, order, version, p);
	check_measured(img, order, version, UKI_PROFILE_MAX);
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
	check_sections(img, data + 2, size - 2, data[1] & 1);
	check_version(version, img);
	free(img);
	return 0;
}
