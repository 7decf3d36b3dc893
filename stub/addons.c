/* SPDX-License-Identifier: MIT */
#include "addons.h"

#include <efilib.h>

#include "efi-lib/fault.h"
#include "efi-lib/image-load.h"
#include "efi-lib/log.h"
#include "efi-lib/mem.h"
#include "measure/cmdline.h"
#include "measure/extdir.h"

#include "pcr-kernel.h"
#include "pcr-vars.h"

_Static_assert(ADDON_SET_MAX <= INITRD_ADDON_PIECES_MAX, "an addon slot must hold a piece from every addon");

/* The order the directories are read in: global first, as systemd-stub does. */
static const enum sel_dir_role addon_dirs[] = { SEL_DIR_GLOBAL_ADDONS, SEL_DIR_PER_UKI };

/* A full path: the directory, '\', the name. */
#define ADDON_PATH_MAX (EXTDIR_IMAGE_PATH_MAX + EXT_NAME_MAX + 2)


static void copy_free(struct addon_copy *c)
{
	if (c->pages)
		mem_free_pages((EFI_PHYSICAL_ADDRESS)(UINTN)c->buf, c->pages);
	else
		mem_free(c->buf);
	SetMem(c, sizeof(*c), 0);
}

static void entry_free(struct addon_entry *e)
{
	for (UINTN p = 0; p < ADDON_PARTS; p++)
		copy_free(&e->parts[p]);
}

/* Copy @size bytes at @src: the command line into pool memory, initrd pieces and devicetrees into pages. */
static EFI_STATUS copy_part(enum addon_part part, const UINT8 *src, UINT64 size, struct addon_copy *ret)
{
	EFI_PHYSICAL_ADDRESS addr;
	EFI_STATUS err;

	SetMem(ret, sizeof(*ret), 0);
	if (part == ADDON_PART_CMDLINE) {
		ret->buf = mem_alloc_zero(size);
		if (!ret->buf)
			return EFI_OUT_OF_RESOURCES;
	} else {
		err = mem_alloc_pages(EFI_SIZE_TO_PAGES(size), &addr);
		if (EFI_ERROR(err))
			return err;
		ret->buf = (UINT8 *)(UINTN)addr;
		ret->pages = EFI_SIZE_TO_PAGES(size);
	}
	mem_copy(ret->buf, src, size);
	ret->size = size;
	return EFI_SUCCESS;
}

/* Inspect the mapped addon and copy out what it contributes; when it is not used, say why in one line. */
static BOOLEAN take_parts(const EFI_LOADED_IMAGE *li, const CHAR16 *path, const void *uname, UINTN uname_size,
			  struct pe_image *scratch, struct addon_entry *e)
{
	const UINT8 *base = li->ImageBase;
	struct addon_info info;
	enum addon_verdict v = addon_inspect(base, li->ImageSize, PE_LAYOUT_MEMORY, scratch, &info);

	if (v == ADDON_USE && !addon_uname_matches(ADDON_RULE_OURS, uname, uname_size, base + info.uname.offset,
						   info.uname.size))
		v = ADDON_UNAME_MISMATCH;
	if (v != ADDON_USE) {
		if (v == ADDON_NOT_PE)
			log_warn(L"%s: skipped, %a (%a)", path, addon_verdict_reason(v), ms_strerror(info.pe_error));
		else
			log_warn(L"%s: skipped, %a", path, addon_verdict_reason(v));
		return FALSE;
	}
	for (UINTN p = 0; p < ADDON_PARTS; p++) {
		const struct addon_span *s = &info.parts[p];
		EFI_STATUS err;

		if (s->size == 0)
			continue;
		/* Mapped by the firmware: all VirtualSize bytes are there (present == size). */
		err = fault_hit(e->name, FAULT_ALLOC) ? EFI_OUT_OF_RESOURCES
						      : copy_part(p, base + s->offset, s->present, &e->parts[p]);
		if (EFI_ERROR(err)) {
			log_error_status(err, L"%s: skipped, cannot allocate %u bytes for its %a", path, s->size,
					 addon_part_section(p));
			entry_free(e);
			return FALSE;
		}
	}
	return TRUE;
}

/* What loading one addon needs besides the set: the UKI's .uname, and room too large for the stack. */
struct addon_loader {
	EFI_HANDLE image, device;
	const void *uname;
	UINTN uname_size;
	struct pe_image scratch; /* the parsed headers of the addon being inspected */
	CHAR16 path[ADDON_PATH_MAX];
};

static void load_one(struct addon_loader *ld, const CHAR16 *dir, const char *name, struct addon_set *set)
{
	CHAR16 *path = ld->path;
	struct addon_entry *e = &set->entries[set->n];
	EFI_LOADED_IMAGE *li = NULL;
	EFI_HANDLE loaded = NULL;
	UINTN at = StrLen(dir);
	EFI_STATUS err;

	if (at + 1 >= ADDON_PATH_MAX)
		return;
	StrCpy(path, dir);
	path[at++] = L'\\';
	listing_ascii16(name, path + at, ADDON_PATH_MAX - at);
	SetMem(e, sizeof(*e), 0);
	e->dir = dir;
	CopyMem(e->name, (void *)name, strlena((CHAR8 *)name) + 1);

	err = image_load_file(ld->image, ld->device, path, &loaded, &li);
	if (EFI_ERROR(err)) {
		log_error_status(err, L"%s: skipped, %s", path,
				 err == EFI_SECURITY_VIOLATION || err == EFI_ACCESS_DENIED
					 ? L"Secure Boot refused it (not signed by a trusted key, or altered)"
					 : L"the firmware cannot load it");
		return;
	}
	if (take_parts(li, path, ld->uname, ld->uname_size, &ld->scratch, e)) {
		log_info(L"%s: addon used:%a%a%a%a", path, e->parts[ADDON_PART_CMDLINE].buf ? " .cmdline" : "",
			 e->parts[ADDON_PART_DTB].buf ? " .dtb" : "", e->parts[ADDON_PART_INITRD].buf ? " .initrd" : "",
			 e->parts[ADDON_PART_UCODE].buf ? " .ucode" : "");
		set->n++;
	}
	image_unload(loaded);
}

void addons_load(EFI_HANDLE image, EFI_HANDLE device, const struct companion_dirs *dirs, const void *uname,
		 UINTN uname_size, struct addon_set *set)
{
	struct addon_loader *ld;
	UINTN total = 0;

	SetMem(set, sizeof(*set), 0);
	for (UINTN d = 0; d < sizeof(addon_dirs) / sizeof(addon_dirs[0]); d++)
		if (dirs->dirs[addon_dirs[d]].sel)
			total += sel_dir_count(dirs->dirs[addon_dirs[d]].sel, EXT_KIND_ADDON);
	if (total == 0)
		return;
	/* Heap, not static: the stub image must stay below 0x20000 (measure-check). Each listing keeps at
	 * most EXT_ADDON_MAX_FILES, so total <= ADDON_SET_MAX. */
	ld = mem_alloc_zero(sizeof(*ld));
	set->entries = ld ? mem_alloc_zero(total * sizeof(*set->entries)) : NULL;
	if (!set->entries) {
		log_error_status(EFI_OUT_OF_RESOURCES, L"%u addon(s) not used: no memory to load them", total);
		mem_free(ld);
		return;
	}
	*ld = (struct addon_loader){ .image = image, .device = device, .uname = uname, .uname_size = uname_size };
	for (UINTN d = 0; d < sizeof(addon_dirs) / sizeof(addon_dirs[0]); d++) {
		const struct dir_listing *l = &dirs->dirs[addon_dirs[d]];

		for (UINTN i = 0; l->sel && i < sel_dir_count(l->sel, EXT_KIND_ADDON); i++)
			load_one(ld, l->path, sel_dir_file(l->sel, EXT_KIND_ADDON, i)->name, set);
	}
	mem_free(ld);
}

/* The joined command line of every addon's .cmdline (measure/addon.h), NULL if there is none. */
static CHAR16 *joined_cmdline(const struct addon_set *set)
{
	UINT64 total = 0;
	UINTN n = 0, room;
	CHAR16 *joined;

	for (UINTN i = 0; i < set->n; i++) {
		const struct addon_copy *c = &set->entries[i].parts[ADDON_PART_CMDLINE];

		if (c->buf) {
			total += c->size;
			n++;
		}
	}
	if (n == 0)
		return NULL;
	room = addon_cmdline_room(total, n);
	joined = room < ((UINTN)-1) / sizeof(CHAR16) ? mem_alloc_zero(room * sizeof(CHAR16)) : NULL;
	if (!joined) {
		log_error_status(EFI_OUT_OF_RESOURCES, L"the addons' command line is not used: no memory for it");
		return NULL;
	}
	for (UINTN i = 0; i < set->n; i++) {
		const struct addon_copy *c = &set->entries[i].parts[ADDON_PART_CMDLINE];

		if (c->buf)
			(void)addon_cmdline_add(joined, room, c->buf, c->size); /* room fits every one */
	}
	if (!addon_cmdline_finish(joined)) {
		mem_free(joined);
		return NULL;
	}
	return joined;
}

void addons_apply_cmdline(struct addon_set *set, struct measurer *m, BOOLEAN can_measure, CHAR16 **cmdline)
{
	CHAR16 *joined = joined_cmdline(set), *out;
	UINTN cap;

	for (UINTN i = 0; i < set->n; i++)
		copy_free(&set->entries[i].parts[ADDON_PART_CMDLINE]);
	if (!joined)
		return;
	/* One EV_IPL event over the whole joined line, as for a passed-in command line. */
	if (can_measure) {
		EFI_STATUS err = measure_cmdline(m, joined);

		if (EFI_ERROR(err)) {
			log_error_status(err, L"the addons' command line is not used, measuring it into PCR %u failed",
					 ADDON_PCR);
			mem_free(joined);
			return;
		}
		set->measured = TRUE;
	}
	cap = (*cmdline ? StrLen(*cmdline) : 0) + StrLen(joined) + 2;
	out = mem_alloc_zero(cap * sizeof(CHAR16));
	if (!out || cmdline_extend(*cmdline, joined, out, cap) != MS_OK) {
		/* Measured but not used: PCR 12 then predicts a line the kernel does not get, never the reverse. */
		log_error_status(EFI_OUT_OF_RESOURCES, L"the addons' command line is not used: no memory for it");
		mem_free(out);
		mem_free(joined);
		return;
	}
	mem_free(*cmdline);
	*cmdline = out;
	mem_free(joined);
}

/*
 * One tagged event for @part of @e over the @size bytes at @data, described
 * by the addon's file name; @faults: the fault build may fail it.
 */
static EFI_STATUS measure_part(struct measurer *m, const struct addon_entry *e, enum addon_part part,
			       const UINT8 *data, UINT64 size, BOOLEAN faults)
{
	CHAR16 desc[EXT_NAME_MAX + 1];

	listing_ascii16(e->name, desc, EXT_NAME_MAX + 1);
	if (faults && fault_hit(e->name, FAULT_MEASURE))
		return EFI_DEVICE_ERROR;
	return measure_tagged(m, ADDON_PCR, addon_part_tag(part), data, size, desc);
}

/* Measure @part of entry @i; on failure drop it (never use what should have been measured). */
static BOOLEAN measure_or_drop(struct addon_set *set, UINTN i, enum addon_part part, struct measurer *m,
			       BOOLEAN can_measure)
{
	struct addon_entry *e = &set->entries[i];
	EFI_STATUS err;

	if (!e->parts[part].buf)
		return FALSE;
	if (!can_measure)
		return TRUE;
	err = measure_part(m, e, part, e->parts[part].buf, e->parts[part].size, TRUE);
	if (EFI_ERROR(err)) {
		log_error_status(err, L"%s\\%a: its %a is not used, measuring it into PCR %u failed", e->dir, e->name,
				 addon_part_section(part), ADDON_PCR);
		copy_free(&e->parts[part]);
		return FALSE;
	}
	set->measured = TRUE;
	return TRUE;
}

void addons_apply_devicetrees(struct addon_set *set, struct measurer *m, BOOLEAN can_measure)
{
	for (UINTN i = 0; i < set->n; i++) {
		struct addon_copy *c = &set->entries[i].parts[ADDON_PART_DTB];
		EFI_STATUS err;

		if (!measure_or_drop(set, i, ADDON_PART_DTB, m, can_measure))
			continue;
		/* Measured before it is installed: a failed install leaves an event, never an unmeasured devicetree. */
		err = devicetree_install(&set->dt, c->buf, c->size);
		if (EFI_ERROR(err))
			log_error_status(err, L"%s\\%a: cannot install its .dtb", set->entries[i].dir,
					 set->entries[i].name);
		copy_free(c);
	}
}

/*
 * initrd_piece fill: copy the part into the kernel's buffer and measure it
 * there. If that fails, the layout is fixed: zeros are handed over in its
 * place and measured as what they are.
 */
static void fill_part(void *ctx, UINT8 *dest)
{
	struct addon_piece_ctx *c = ctx;
	const struct addon_copy *copy = &c->entry->parts[c->part];
	const char *section = addon_part_section(c->part);
	EFI_STATUS err;

	mem_copy(dest, copy->buf, copy->size);
	if (!c->set->can_measure)
		return;
	err = measure_part(c->set->m, c->entry, c->part, dest, copy->size, TRUE);
	if (EFI_ERROR(err)) {
		mem_zero(dest, copy->size);
		log_error_status(err, L"%a: its %a handed over zero-filled, measuring it into PCR %u failed",
				 c->entry->name, section, ADDON_PCR);
		err = measure_part(c->set->m, c->entry, c->part, dest, copy->size, FALSE);
		if (EFI_ERROR(err))
			log_error_status(err, L"%a: measuring the zeros in place of its %a failed", c->entry->name,
					 section);
	}
	if (!EFI_ERROR(err))
		export_pcr_variables(&(struct stub_measured){ .kernel_parameters = TRUE });
}

static void release_part(void *ctx)
{
	struct addon_piece_ctx *c = ctx;

	copy_free(&c->entry->parts[c->part]);
}

UINTN addons_pieces(struct addon_set *set, enum initrd_slot slot, struct measurer *m, BOOLEAN can_measure,
		    struct initrd_piece *out, UINTN cap)
{
	enum addon_part part = addon_slot_part(slot);
	UINTN n = 0;

	set->m = m;
	set->can_measure = can_measure;
	for (UINTN k = 0; part != ADDON_PARTS && k < set->n && n < cap; k++) {
		struct addon_entry *e = &set->entries[addon_slot_index(slot, set->n, k)];
		struct addon_piece_ctx *c = &e->pieces[part];

		if (!e->parts[part].buf)
			continue;
		*c = (struct addon_piece_ctx){ .set = set, .entry = e, .part = part };
		out[n++] = (struct initrd_piece){
			.slot = slot, .size = e->parts[part].size, .fill = fill_part, .release = release_part, .ctx = c
		};
	}
	return n;
}

void addons_free(struct addon_set *set)
{
	for (UINTN i = 0; i < set->n; i++)
		entry_free(&set->entries[i]);
	mem_free(set->entries);
	set->entries = NULL;
	set->n = 0;
	devicetree_restore(&set->dt);
}
