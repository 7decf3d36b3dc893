/* SPDX-License-Identifier: MIT */
#include "uki.h"

/*
 * Every list is a prefix-compatible extension of the one before except
 * v256, which put .ucode between .initrd and .splash. Names the version
 * does not know are absent from its list, so a newer UKI measured by an
 * older stub simply measures fewer sections.
 */
static const char *const order_252[] = { ".linux", ".osrel", ".cmdline", ".initrd", ".splash",
					 ".dtb",   ".pcrsig", ".pcrpkey" };
static const char *const order_254[] = { ".linux", ".osrel", ".cmdline", ".initrd", ".splash",
					 ".dtb",   ".uname",  ".sbat",    ".pcrsig",  ".pcrpkey" };
static const char *const order_256[] = { ".linux", ".osrel", ".cmdline", ".initrd", ".ucode",  ".splash",
					 ".dtb",   ".uname",  ".sbat",    ".pcrsig",  ".pcrpkey" };
static const char *const order_257[] = { ".linux", ".osrel", ".cmdline", ".initrd", ".ucode",
					 ".splash", ".dtb",  ".uname",   ".sbat",    ".pcrsig",
					 ".pcrpkey", ".profile", ".dtbauto", ".hwids" };
static const char *const order_258[] = { ".linux", ".osrel", ".cmdline", ".initrd",  ".ucode",
					 ".splash", ".dtb",  ".uname",   ".sbat",     ".pcrsig",
					 ".pcrpkey", ".profile", ".dtbauto", ".hwids", ".efifw" };

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	unsigned version;
	const char *const *names;
	size_t n;
} orders[] = {
	[UKI_ORDER_SYSTEMD_252] = { 252, order_252, N(order_252) },
	[UKI_ORDER_SYSTEMD_254] = { 254, order_254, N(order_254) },
	[UKI_ORDER_SYSTEMD_256] = { 256, order_256, N(order_256) },
	[UKI_ORDER_SYSTEMD_257] = { 257, order_257, N(order_257) },
	[UKI_ORDER_SYSTEMD_258] = { 258, order_258, N(order_258) },
};

_Static_assert(N(order_258) - 1 <= UKI_MAX_MEASURED, "UKI_MAX_MEASURED too small");

unsigned uki_order_version(enum uki_order order)
{
	return orders[order].version;
}

ms_status uki_order_for_version(unsigned version, enum uki_order *ret)
{
	if (version < orders[0].version)
		return MS_ERR_UNSUPPORTED;
	*ret = UKI_ORDER_SYSTEMD_252;
	for (size_t i = 0; i < N(orders); i++)
		if (version >= orders[i].version)
			*ret = (enum uki_order)i;
	return MS_OK;
}

size_t uki_canonical_sections(enum uki_order order, const char *const **ret)
{
	*ret = orders[order].names;
	return orders[order].n;
}

static int names_equal(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

const char *uki_canonical_name(const char *name)
{
	for (size_t i = 0; i < N(order_258); i++)
		if (names_equal(order_258[i], name))
			return order_258[i];
	return NULL;
}

int uki_section_is_measured(const char *name)
{
	return !names_equal(name, ".pcrsig");
}

/* [*ret_begin, *ret_end): the section-table range of @profile's own sections (UKI_PROFILE_MAX: the base). */
static void profile_range(const struct pe_image *img, uint32_t profile, uint16_t *ret_begin, uint16_t *ret_end)
{
	uint32_t seen = 0;
	uint16_t i = 0;

	/* The base runs up to the first .profile; profile P from the P-th (0-based) .profile to the next. */
	if (profile != UKI_PROFILE_MAX)
		for (; i < img->n_sections; i++)
			if (names_equal(img->sections[i].name, ".profile") && seen++ == profile)
				break;
	*ret_begin = profile == UKI_PROFILE_MAX ? 0 : i;
	for (i = *ret_begin + (profile != UKI_PROFILE_MAX); i < img->n_sections; i++)
		if (names_equal(img->sections[i].name, ".profile"))
			break;
	*ret_end = i;
}

void uki_profile_text(uint32_t profile, uint16_t out[UKI_PROFILE_TEXT_MAX])
{
	uint16_t digits[UKI_PROFILE_TEXT_MAX];
	size_t n = 0, i = 0;

	do {
		digits[n++] = (uint16_t)('0' + profile % 10);
		profile /= 10;
	} while (profile);
	while (n)
		out[i++] = digits[--n];
	out[i] = 0;
}

uint32_t uki_profile_count(const struct pe_image *img)
{
	uint32_t n = 0;

	for (uint16_t i = 0; i < img->n_sections; i++)
		n += names_equal(img->sections[i].name, ".profile");
	return n;
}

ms_status uki_profile_check(const struct pe_image *img, uint32_t profile)
{
	uint32_t n = uki_profile_count(img);

	/* systemd-stub: profile 0 is implied when there are none; the base alone is always there. */
	return profile == UKI_PROFILE_MAX || profile < n || (profile == 0 && n == 0) ? MS_OK : MS_ERR_NOT_FOUND;
}

static const struct pe_section *first_in(const struct pe_image *img, uint16_t begin, uint16_t end, const char *name)
{
	for (uint16_t i = begin; i < end; i++)
		if (names_equal(img->sections[i].name, name))
			return &img->sections[i];
	return NULL;
}

/* Chosen by the machine (a device-tree or HWID match) in systemd-stub; never matched here. */
static int machine_selected(const char *name)
{
	return names_equal(name, ".dtbauto") || names_equal(name, ".efifw");
}

const struct pe_section *uki_section(const struct pe_image *img, uint32_t profile, const char *name)
{
	const struct pe_section *s = NULL;
	uint16_t begin, end;

	if (machine_selected(name))
		return NULL;
	if (profile != UKI_PROFILE_MAX && uki_profile_check(img, profile) == MS_OK && uki_profile_count(img) > 0) {
		profile_range(img, profile, &begin, &end);
		s = first_in(img, begin, end, name);
	}
	if (!s) {
		profile_range(img, UKI_PROFILE_MAX, &begin, &end);
		s = first_in(img, begin, end, name);
	}
	/* VirtualSize 0: absent (systemd-stub's PE_SECTION_VECTOR_IS_SET), even where the loader maps raw data. */
	return s && s->virtual_size > 0 ? s : NULL;
}

void uki_section_bytes(const struct pe_image *img, const struct pe_section *s, size_t *ret_offset,
		       size_t *ret_present, uint32_t *ret_size)
{
	/* A present section has VirtualSize > 0, so the loaded size pe.c reports is VirtualSize. */
	pe_section_content(img, s, ret_offset, ret_present);
	*ret_size = s->virtual_size;
}

size_t uki_measured_sections(const struct pe_image *img, enum uki_order order, uint32_t profile,
			     struct uki_measured_section out[UKI_MAX_MEASURED])
{
	const char *const *names;
	size_t n_names = uki_canonical_sections(order, &names), n = 0;

	for (size_t i = 0; i < n_names && n < UKI_MAX_MEASURED; i++) {
		const struct pe_section *s;

		if (!uki_section_is_measured(names[i]))
			continue;
		if (order >= UKI_ORDER_SYSTEMD_257) {
			s = uki_section(img, profile, names[i]);
		} else {
			/* Stubs before v257 know no profiles: the first header of the name anywhere. */
			s = pe_find_section(img, names[i]);
			if (s && s->virtual_size == 0)
				s = NULL;
		}
		if (!s)
			continue;
		out[n].name = names[i];
		out[n].section = s;
		n++;
	}
	return n;
}
