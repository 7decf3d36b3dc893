/* SPDX-License-Identifier: MIT */
#include "addon.h"

#include "cmdline.h"

/* PE subsystems the firmware's LoadImage accepts: application, boot and runtime driver. */
#define PE_SUBSYSTEM_EFI_BOOT_DRIVER 11
#define PE_SUBSYSTEM_EFI_RUNTIME_DRIVER 12

static const char *const part_sections[ADDON_PARTS] = {
	[ADDON_PART_CMDLINE] = ".cmdline",
	[ADDON_PART_DTB] = ".dtb",
	[ADDON_PART_INITRD] = ".initrd",
	[ADDON_PART_UCODE] = ".ucode",
};

static const uint32_t part_tags[ADDON_PARTS] = {
	[ADDON_PART_CMDLINE] = 0,
	[ADDON_PART_DTB] = ADDON_TAG_DEVICETREE,
	[ADDON_PART_INITRD] = ADDON_TAG_INITRD,
	[ADDON_PART_UCODE] = ADDON_TAG_UCODE,
};

const char *addon_part_section(enum addon_part part)
{
	return part < ADDON_PARTS ? part_sections[part] : "";
}

uint32_t addon_part_tag(enum addon_part part)
{
	return part < ADDON_PARTS ? part_tags[part] : 0;
}

enum addon_part addon_slot_part(enum initrd_slot slot)
{
	return slot == INITRD_SLOT_UCODE_ADDONS ? ADDON_PART_UCODE
	       : slot == INITRD_SLOT_ADDON_INITRDS ? ADDON_PART_INITRD
						   : ADDON_PARTS;
}

size_t addon_slot_index(enum initrd_slot slot, size_t n, size_t k)
{
	return slot == INITRD_SLOT_UCODE_ADDONS ? n - 1 - k : k;
}

const char *addon_verdict_reason(enum addon_verdict v)
{
	switch (v) {
	case ADDON_USE: return "used";
	case ADDON_NOT_PE: return "not a PE image";
	case ADDON_WRONG_MACHINE: return "not an x86-64 EFI image";
	case ADDON_NO_SECTIONS: return "has none of .cmdline .dtb .initrd .ucode";
	case ADDON_IS_UKI: return "has a .linux section: a UKI, not an addon";
	case ADDON_UNAME_MISMATCH: return ".uname does not match the UKI's";
	}
	return "unknown";
}

/* The first section named @name, if its VirtualSize is not 0 (systemd-stub's "present"). */
static struct addon_span span_of(const struct pe_image *img, const char *name)
{
	const struct pe_section *s = pe_find_section(img, name);
	struct addon_span span = { 0, 0, 0 };
	size_t present = 0;

	if (!s || s->virtual_size == 0)
		return span;
	pe_section_content(img, s, &span.offset, &present);
	span.size = s->virtual_size;
	/* pe_section_content() never reports more than VirtualSize (it is the loaded size here). */
	span.present = present < span.size ? present : span.size;
	return span;
}

static int loadable(const struct pe_image *img)
{
	return img->machine == PE_MACHINE_X86_64 && img->opt_magic == PE_OPT_MAGIC_PE32PLUS &&
	       (img->subsystem == PE_SUBSYSTEM_EFI_APPLICATION || img->subsystem == PE_SUBSYSTEM_EFI_BOOT_DRIVER ||
		img->subsystem == PE_SUBSYSTEM_EFI_RUNTIME_DRIVER);
}

enum addon_verdict addon_inspect(const void *buf, size_t len, enum pe_layout layout, struct pe_image *scratch,
				 struct addon_info *ret)
{
	int any = 0;

	for (int p = 0; p < ADDON_PARTS; p++)
		ret->parts[p] = (struct addon_span){ 0, 0, 0 };
	ret->uname = (struct addon_span){ 0, 0, 0 };
	ret->pe_error = pe_parse(buf, len, layout, scratch);
	if (ret->pe_error != MS_OK)
		return ADDON_NOT_PE;
	if (!loadable(scratch))
		return ADDON_WRONG_MACHINE;
	for (int p = 0; p < ADDON_PARTS; p++) {
		ret->parts[p] = span_of(scratch, part_sections[p]);
		any |= ret->parts[p].size != 0;
	}
	if (!any) {
		for (int p = 0; p < ADDON_PARTS; p++)
			ret->parts[p] = (struct addon_span){ 0, 0, 0 };
		return ADDON_NO_SECTIONS;
	}
	if (span_of(scratch, ".linux").size != 0)
		return ADDON_IS_UKI;
	ret->uname = span_of(scratch, ".uname");
	return ADDON_USE;
}

static int bytes_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

/* Bytes of @s (@len) before the first NUL. */
static size_t strnlen8(const uint8_t *s, size_t len)
{
	size_t n = 0;

	while (n < len && s[n])
		n++;
	return n;
}

int addon_uname_matches(enum addon_rule rule, const uint8_t *uki_uname, size_t uki_len, const uint8_t *addon_uname,
			size_t addon_len)
{
	size_t uki_n, addon_n;

	if (!uki_uname || uki_len == 0 || !addon_uname || addon_len == 0)
		return 1;
	uki_n = strnlen8(uki_uname, uki_len);
	addon_n = strnlen8(addon_uname, addon_len);
	if (rule == ADDON_RULE_SYSTEMD) {
		/*
		 * strncmp(uki, addon, addon_len): equal over the addon's bytes
		 * up to where both strings end. The UKI's string ends at its
		 * first NUL (or its section's end), the addon's at its first NUL
		 * or after addon_len bytes, where the comparison stops anyway.
		 */
		if (addon_n < addon_len)
			return uki_n == addon_n && bytes_equal(uki_uname, addon_uname, uki_n);
		return uki_n >= addon_n && bytes_equal(uki_uname, addon_uname, addon_n);
	}
	return uki_n == addon_n && bytes_equal(uki_uname, addon_uname, uki_n);
}

size_t addon_cmdline_room(uint64_t total_len, size_t n)
{
	/* Each section's units, one space before each, the NUL. */
	uint64_t room = total_len + (uint64_t)n + 1;

	return room < total_len || room > SIZE_MAX ? SIZE_MAX : (size_t)room;
}

ms_status addon_cmdline_add(uint16_t *joined, size_t cap, const uint8_t *sec, size_t len)
{
	size_t at;

	if (!joined || cap == 0 || (len && !sec))
		return MS_ERR_INVALID;
	for (at = 0; at < cap && joined[at]; at++)
		;
	if (at == cap)
		return MS_ERR_INVALID; /* not a line: no NUL within @cap */
	if (at) {
		if (at + 1 >= cap)
			return MS_ERR_BUFFER_TOO_SMALL;
		joined[at++] = ' ';
	}
	/* cmdline_from_section() mangles only what it writes, the addon's own line. */
	if (cmdline_from_section(sec, len, joined + at, cap - at) != MS_OK) {
		joined[at ? at - 1 : 0] = 0;
		return MS_ERR_BUFFER_TOO_SMALL;
	}
	return MS_OK;
}

int addon_cmdline_finish(uint16_t *joined)
{
	cmdline_mangle16(joined);
	return joined[0] != 0;
}
