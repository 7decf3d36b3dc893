/* SPDX-License-Identifier: MIT */
/*
 * fuzz-addon.c - libFuzzer target for measure/addon.c: an addon from the
 * ESP is hostile input (any bytes, any name).
 *
 * Input: byte 0 (low 4 bits) is the length L of the UKI's .uname, which
 * follows (L bytes); the rest is the addon. The addon is inspected as a
 * file and as a mapped image. Whenever it is used, the promises of
 * addon.h must hold: every span lies inside the buffer (each byte is read,
 * so ASan catches an overread), present <= size, size is the VirtualSize
 * of the first section of that name, and at least one part is there; the
 * .uname verdicts of both rules agree with the strncmp/strcmp written out
 * here; the joined command line of its .cmdline fits in
 * addon_cmdline_room(), holds no control character and no leading or
 * trailing space once finished, and extends a base line as promised.
 * A broken promise aborts with a message.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure/addon.h"
#include "measure/cmdline.h"

#define CHECK(cond)                                                                            \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "fuzz-addon: %s:%d: invariant failed: %s\n", __FILE__,  \
				__LINE__, #cond);                                              \
			abort();                                                               \
		}                                                                              \
	} while (0)

static struct pe_image img;
static volatile uint8_t sink;

static void touch(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc ^= p[i];
	sink = acc;
}

/* strncmp(a, b, n) == 0 with a NUL-terminated @a (its @a_len bytes, cut at a NUL). */
static int ref_strneq(const uint8_t *a, size_t a_len, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t ca = i < a_len ? a[i] : 0, cb = b[i];

		if (ca != cb)
			return 0;
		if (ca == 0)
			return 1;
	}
	return 1;
}

static size_t ref_strnlen(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n && s[i])
		i++;
	return i;
}

static void check_uname(const uint8_t *uki, size_t uki_len, const uint8_t *u, size_t u_len)
{
	int ours = addon_uname_matches(ADDON_RULE_OURS, uki, uki_len, u, u_len);
	int theirs = addon_uname_matches(ADDON_RULE_SYSTEMD, uki, uki_len, u, u_len);

	if (uki_len == 0 || u_len == 0) {
		CHECK(ours && theirs);
		return;
	}
	size_t a = ref_strnlen(uki, uki_len), b = ref_strnlen(u, u_len);

	CHECK(ours == (a == b && memcmp(uki, u, a) == 0));
	CHECK(theirs == ref_strneq(uki, a, u, u_len));
	/* An exact match is a match under both rules. */
	if (ours)
		CHECK(theirs);
}

static void check_cmdline(const uint8_t *sec, size_t len)
{
	size_t room = addon_cmdline_room(len * 2, 2), n = 0;
	uint16_t *joined, *out, base[] = { 'r', 'o', 'o', 't', '=', 'x', 0 };

	if (room > (1u << 20))
		return;
	joined = calloc(room, sizeof(*joined));
	out = calloc(room + 8, sizeof(*out));
	CHECK(joined && out);
	/* The same section twice: the room for both must suffice. */
	CHECK(addon_cmdline_add(joined, room, sec, len) == MS_OK);
	CHECK(addon_cmdline_add(joined, room, sec, len) == MS_OK);
	if (addon_cmdline_finish(joined)) {
		while (joined[n]) {
			CHECK(joined[n] > 0x20 || joined[n] == ' ');
			CHECK(joined[n] != 0x7f);
			n++;
		}
		CHECK(n > 0 && joined[0] != ' ' && joined[n - 1] != ' ');
		CHECK(cmdline_extend(base, joined, out, room + 8) == MS_OK);
		CHECK(memcmp(out, base, 6 * 2) == 0 && out[6] == ' ' && memcmp(out + 7, joined, (n + 1) * 2) == 0);
	} else {
		CHECK(joined[0] == 0);
	}
	free(joined);
	free(out);
}

static void check_layout(const uint8_t *buf, size_t len, enum pe_layout layout, const uint8_t *uki, size_t uki_len)
{
	struct addon_info info;
	enum addon_verdict v = addon_inspect(buf, len, layout, &img, &info);
	int any = 0;

	if (v == ADDON_NOT_PE) {
		CHECK(info.pe_error != MS_OK);
		CHECK(pe_parse(buf, len, layout, &img) != MS_OK);
		return;
	}
	CHECK(info.pe_error == MS_OK);
	if (v != ADDON_USE && v != ADDON_IS_UKI)
		return;
	for (int p = 0; p < ADDON_PARTS; p++) {
		const struct addon_span *s = &info.parts[p];
		const struct pe_section *sec = pe_find_section(&img, addon_part_section(p));

		if (s->size == 0) {
			CHECK(!sec || sec->virtual_size == 0);
			continue;
		}
		any = 1;
		CHECK(sec && sec->virtual_size == s->size);
		CHECK(s->present <= s->size);
		CHECK(s->offset <= len && s->present <= len - s->offset);
		if (layout == PE_LAYOUT_MEMORY)
			CHECK(s->present == s->size);
		touch(buf + s->offset, s->present);
	}
	CHECK(any);
	if (v == ADDON_IS_UKI)
		return;
	CHECK(info.uname.offset <= len && info.uname.present <= len - info.uname.offset);
	check_uname(uki, uki_len, buf + info.uname.offset, info.uname.present);
	if (info.parts[ADDON_PART_CMDLINE].size)
		check_cmdline(buf + info.parts[ADDON_PART_CMDLINE].offset, info.parts[ADDON_PART_CMDLINE].present);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t uki_len;
	uint8_t *uki, *addon;

	if (size == 0)
		return 0;
	uki_len = data[0] & 0x0f;
	if (size < 1 + uki_len)
		return 0;
	/* Exact-size copies, so ASan sees any overread of either. */
	uki = malloc(uki_len ? uki_len : 1);
	addon = malloc(size - 1 - uki_len ? size - 1 - uki_len : 1);
	CHECK(uki && addon);
	memcpy(uki, data + 1, uki_len);
	memcpy(addon, data + 1 + uki_len, size - 1 - uki_len);
	check_layout(addon, size - 1 - uki_len, PE_LAYOUT_FILE, uki, uki_len);
	check_layout(addon, size - 1 - uki_len, PE_LAYOUT_MEMORY, uki, uki_len);
	/* The .uname rules on raw bytes too, whatever the addon is. */
	check_uname(uki, uki_len, addon, size - 1 - uki_len < 32 ? size - 1 - uki_len : 32);
	free(uki);
	free(addon);
	return 0;
}
