/* SPDX-License-Identifier: MIT */
#include "addon-list.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "util.h"
#include "measure/cmdline.h"
#include "measure/uki.h"

/* A PE image's sizes are 32-bit: no addon the firmware loads is larger. */
#define ADDON_FILE_MAX ((uint64_t)UINT32_MAX)

void addon_list_init(struct addon_list *l, enum addon_rule rule, const uint8_t *uki_uname, size_t uki_uname_len)
{
	memset(l, 0, sizeof(*l));
	l->rule = rule;
	l->uki_uname = uki_uname;
	l->uki_uname_len = uki_uname_len;
}

static void addon_free(struct host_addon *a)
{
	free(a->name);
	free(a->path);
	free(a->buf);
	memset(a, 0, sizeof(*a));
}

void addon_list_free(struct addon_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		addon_free(&l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

/*
 * The .uname check on the section as the loader maps it: when the file
 * holds fewer bytes than its VirtualSize, a zero byte follows them, which
 * ends the string for either rule.
 */
static bool uname_matches(const struct addon_list *l, const struct host_addon *a)
{
	const struct addon_span *u = &a->info.uname;
	uint8_t *copy;
	bool r;

	if (u->present == u->size)
		return addon_uname_matches(l->rule, l->uki_uname, l->uki_uname_len, a->buf + u->offset, u->present);
	copy = calloc(1, u->present + 1);
	if (!copy)
		return false; /* cannot tell: predict it skipped, with the warning */
	memcpy(copy, a->buf + u->offset, u->present);
	r = addon_uname_matches(l->rule, l->uki_uname, l->uki_uname_len, copy, u->present + 1);
	free(copy);
	return r;
}

int addon_list_add(struct addon_list *l, const char *name, const char *path)
{
	struct host_addon a = { 0 }, *grown;
	struct pe_image *img = calloc(1, sizeof(*img));
	enum addon_verdict v;

	if (!img)
		return errorf("out of memory");
	if (read_file(path, ADDON_FILE_MAX, &a.buf, &a.len) < 0) {
		free(img);
		return -1;
	}
	v = addon_inspect(a.buf, a.len, PE_LAYOUT_FILE, img, &a.info);
	free(img);
	if (v == ADDON_USE && !uname_matches(l, &a))
		v = ADDON_UNAME_MISMATCH;
	if (v != ADDON_USE) {
		if (v == ADDON_NOT_PE)
			warnf("%s: skipped by the stub: %s (%s)", path, addon_verdict_reason(v),
			      ms_strerror(a.info.pe_error));
		else
			warnf("%s: skipped by the stub: %s", path, addon_verdict_reason(v));
		free(a.buf);
		return 0;
	}
	a.name = strdup(name);
	a.path = strdup(path);
	grown = realloc(l->items, (l->n + 1) * sizeof(*grown));
	if (!a.name || !a.path || !grown) {
		if (grown)
			l->items = grown;
		addon_free(&a);
		return errorf("out of memory");
	}
	l->items = grown;
	l->items[l->n++] = a;
	return 0;
}

static const struct addon_span *part_of(const struct host_addon *a, enum addon_part part)
{
	const struct addon_span *s = &a->info.parts[part];

	return s->size ? s : NULL;
}

int addon_list_cmdline(const struct addon_list *l, uint16_t **ret)
{
	uint64_t total = 0;
	size_t n = 0, room;
	uint16_t *joined;

	*ret = NULL;
	for (size_t i = 0; i < l->n; i++) {
		const struct addon_span *s = part_of(&l->items[i], ADDON_PART_CMDLINE);

		if (s) {
			total += s->present;
			n++;
		}
	}
	if (n == 0)
		return 0;
	room = addon_cmdline_room(total, n);
	joined = room < SIZE_MAX / sizeof(uint16_t) ? calloc(room, sizeof(uint16_t)) : NULL;
	if (!joined)
		return errorf("out of memory");
	for (size_t i = 0; i < l->n; i++) {
		const struct addon_span *s = part_of(&l->items[i], ADDON_PART_CMDLINE);

		/* Only the bytes the file holds: the zero fill past them ends the line anyway. */
		if (s && addon_cmdline_add(joined, room, l->items[i].buf + s->offset, s->present) != MS_OK) {
			free(joined);
			return errorf("internal error: the addons' command line does not fit");
		}
	}
	if (!addon_cmdline_finish(joined)) {
		free(joined);
		return 0;
	}
	*ret = joined;
	return 0;
}

/* The host files the joined command line comes from, ", "-separated. */
static char *cmdline_files(const struct addon_list *l)
{
	size_t len = 1;
	char *out;

	for (size_t i = 0; i < l->n; i++)
		if (part_of(&l->items[i], ADDON_PART_CMDLINE))
			len += strlen(l->items[i].path) + 2;
	out = calloc(1, len);
	if (!out)
		return NULL;
	for (size_t i = 0; i < l->n; i++)
		if (part_of(&l->items[i], ADDON_PART_CMDLINE)) {
			if (*out)
				strcat(out, ", ");
			strcat(out, l->items[i].path);
		}
	return out;
}

static int predict_cmdline(const struct addon_list *l, struct prediction *p)
{
	uint16_t *joined = NULL;
	char *desc = NULL, *files = NULL;
	size_t n;
	int r = -1;

	if (addon_list_cmdline(l, &joined) < 0)
		return -1;
	if (!joined)
		return 0;
	n = cmdline_len16(joined);
	desc = malloc(n + 1);
	files = cmdline_files(l);
	if (!desc || !files) {
		errorf("out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		desc[i] = joined[i] < 0x80 ? (char)joined[i] : '?';
	desc[n] = 0;
	/* As a passed-in command line: UTF-16 with its NUL, described by itself. */
	r = prediction_add_data(p, ADDON_PCR, PRED_EV_IPL, desc, files, joined, (n + 1) * sizeof(uint16_t));
out:
	free(joined);
	free(desc);
	free(files);
	return r;
}

/* One tagged event over @part of @a: its VirtualSize bytes, the zero fill included. */
static int predict_part(const struct host_addon *a, enum addon_part part, struct prediction *p)
{
	const struct addon_span *s = part_of(a, part);
	uint8_t d[BANK_COUNT][DIGEST_MAX] = { { 0 } };
	struct multi_digest md;

	if (!s)
		return 0;
	if (multi_digest_init(&md, p->banks) < 0)
		return -1;
	if (multi_digest_update(&md, a->buf + s->offset, s->present) < 0 ||
	    multi_digest_update_zeros(&md, s->size - s->present) < 0) {
		multi_digest_free(&md);
		return -1;
	}
	if (multi_digest_final(&md, d) < 0)
		return -1;
	return prediction_add_digests(p, ADDON_PCR, PRED_EV_EVENT_TAG, a->name, a->path, d);
}

int addon_list_predict(const struct addon_list *l, struct prediction *p, enum addon_events which)
{
	if (which == ADDON_EVENTS_CMDLINE)
		return predict_cmdline(l, p);
	for (size_t i = 0; i < l->n; i++) /* ADDON_EVENTS_DEVICETREES */
		if (predict_part(&l->items[i], ADDON_PART_DTB, p) < 0)
			return -1;
	return 0;
}

int addon_list_predict_slot(const struct addon_list *l, struct prediction *p, enum initrd_slot slot)
{
	enum addon_part part = addon_slot_part(slot);

	for (size_t k = 0; part != ADDON_PARTS && k < l->n; k++)
		if (predict_part(&l->items[addon_slot_index(slot, l->n, k)], part, p) < 0)
			return -1;
	return 0;
}

size_t addon_list_pieces(const struct addon_list *l, enum initrd_slot slot, struct initrd_span *out, size_t cap)
{
	enum addon_part part = addon_slot_part(slot);
	size_t n = 0;

	for (size_t k = 0; part != ADDON_PARTS && k < l->n && n < cap; k++) {
		const struct host_addon *a = &l->items[addon_slot_index(slot, l->n, k)];
		const struct addon_span *s = part_of(a, part);

		if (s)
			out[n++] = (struct initrd_span){ a->buf + s->offset, s->present, s->size };
	}
	return n;
}
