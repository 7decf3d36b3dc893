/* SPDX-License-Identifier: MIT */
/*
 * addon-list.h - the addons a stub uses, read from host files, for
 * `predict` (PCR 12, the command line and initrd of PCR 9) and `cpio`:
 * each file read once and inspected by the stub's own rule
 * (measure/addon.h, with ours or systemd-stub's .uname comparison); what
 * it contributes is kept as spans of its bytes. Which files, and their
 * order, is the selection rule's (host-tools/sysext-set.c): add them in
 * the stub's order, \loader\addons first, then the per-UKI directory.
 */
#ifndef HOST_TOOLS_ADDON_LIST_H
#define HOST_TOOLS_ADDON_LIST_H

#include <stddef.h>
#include <stdint.h>

#include "prediction.h"
#include "measure/addon.h"
#include "measure/initrd.h"

struct host_addon {
	char *name;   /* its name on the ESP: what its tagged events are described by */
	char *path;   /* the host file */
	uint8_t *buf; /* the whole file */
	size_t len;
	struct addon_info info; /* its parts: spans of buf */
};

struct addon_list {
	enum addon_rule rule;
	const uint8_t *uki_uname; /* the UKI's .uname (NULL: none); not owned */
	size_t uki_uname_len;
	struct host_addon *items; /* the addons used, in the stub's order */
	size_t n;
};

void addon_list_init(struct addon_list *l, enum addon_rule rule, const uint8_t *uki_uname, size_t uki_uname_len);
void addon_list_free(struct addon_list *l);

/*
 * Read the addon @path, named @name on the ESP, and keep it if the stub
 * uses it; one that it skips gets a warning saying why ("skipped by the
 * stub: ..."). Returns -1 (printed) only when the file cannot be read.
 */
int addon_list_add(struct addon_list *l, const char *name, const char *path);

/* The addons' joined command line (measure/addon.h), UTF-16 with NUL, into *@ret (NULL: none). */
int addon_list_cmdline(const struct addon_list *l, uint16_t **ret);

/*
 * Which of the addons' stub-time PCR 12 events, in systemd-stub 262's
 * order around the others (docs/MEASUREMENTS.md): the command line after
 * the passed-in one, the devicetrees after the SMBIOS words.
 */
enum addon_events {
	ADDON_EVENTS_CMDLINE,      /* the joined command line */
	ADDON_EVENTS_DEVICETREES, /* each .dtb */
};

/* Append those events to @p. */
int addon_list_predict(const struct addon_list *l, struct prediction *p, enum addon_events which);

/*
 * The tagged events of the pieces of addon slot @slot (measure/addon.h
 * addon_slot_part), in their order; nothing for any other slot. The stub
 * makes them when the kernel takes the initrd, in initrd_fill_rank order.
 */
int addon_list_predict_slot(const struct addon_list *l, struct prediction *p, enum initrd_slot slot);

/* One initrd piece: @present bytes at @data, then zeros up to @size. */
struct initrd_span {
	const uint8_t *data;
	uint64_t present;
	uint64_t size;
};

/*
 * The pieces of @slot (INITRD_SLOT_UCODE_ADDONS, INITRD_SLOT_ADDON_INITRDS)
 * in concatenation order into @out (room for @cap); returns how many.
 */
size_t addon_list_pieces(const struct addon_list *l, enum initrd_slot slot, struct initrd_span *out, size_t cap);

#endif
