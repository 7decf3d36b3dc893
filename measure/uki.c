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

int uki_section_is_measured(const char *name)
{
	return !names_equal(name, ".pcrsig");
}

size_t uki_measured_sections(const struct pe_image *img, enum uki_order order,
			     struct uki_measured_section out[UKI_MAX_MEASURED])
{
	const char *const *names;
	size_t n_names = uki_canonical_sections(order, &names), n = 0;

	for (size_t i = 0; i < n_names && n < UKI_MAX_MEASURED; i++) {
		const struct pe_section *s;

		if (!uki_section_is_measured(names[i]))
			continue;
		s = pe_find_section(img, names[i]);
		/* systemd-stub counts a section as present only with VirtualSize > 0. */
		if (!s || s->virtual_size == 0)
			continue;
		out[n].name = names[i];
		out[n].section = s;
		n++;
	}
	return n;
}
