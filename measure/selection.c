/* SPDX-License-Identifier: MIT */
#include "selection.h"

#define STR_(x) #x
#define STR(x) STR_(x)

_Static_assert(EXT_TOTAL_SIZE_MAX == (uint64_t)3 << 30, "the reason text below says 3 GiB");

/* The limits, and the words a skip is reported with, per kind. */
static const struct kind_rules {
	struct sel_limits ours, systemd;
	const char *too_large, *empty, *count, *total, *no_memory;
} kind_rules[EXT_KINDS] = {
	[EXT_KIND_SYSEXT] = {
		.ours = { EXT_MAX_FILES, 0, EXT_FILE_SIZE_MAX, EXT_TOTAL_SIZE_MAX },
		/* systemd-stub: no count or total limit; its cpio sizes are 32-bit too. */
		.systemd = { 0, 0, EXT_FILE_SIZE_MAX, 0 },
		.too_large = "4 GiB or larger (cpio sizes are 32-bit)",
		.empty = "empty",
		.count = "more than " STR(EXT_MAX_FILES) " extensions (the first " STR(EXT_MAX_FILES)
			 " by name are used)",
		.total = "extensions would exceed 3 GiB in total",
		.no_memory = "not enough memory for the extensions' archive",
	},
	[EXT_KIND_CONFEXT] = {
		/* The extensions' limits, with a budget of their own. */
		.ours = { EXT_MAX_FILES, 0, EXT_FILE_SIZE_MAX, EXT_TOTAL_SIZE_MAX },
		.systemd = { 0, 0, EXT_FILE_SIZE_MAX, 0 },
		.too_large = "4 GiB or larger (cpio sizes are 32-bit)",
		.empty = "empty",
		.count = "more than " STR(EXT_MAX_FILES) " configuration extensions (the first " STR(EXT_MAX_FILES)
			 " by name are used)",
		.total = "configuration extensions would exceed 3 GiB in total",
		.no_memory = "not enough memory for the configuration extensions' archive",
	},
	[EXT_KIND_CREDENTIAL] = {
		.ours = { EXT_CREDENTIAL_MAX_FILES, 0, EXT_CREDENTIAL_SIZE_MAX, EXT_CREDENTIAL_TOTAL_MAX },
		.systemd = { 0, 0, EXT_FILE_SIZE_MAX, 0 },
		.too_large = "larger than a credential may be (" STR(EXT_CREDENTIAL_SIZE_MAX) " bytes)",
		.empty = "empty",
		.count = "more than " STR(EXT_CREDENTIAL_MAX_FILES) " credentials (the first "
			 STR(EXT_CREDENTIAL_MAX_FILES) " by name are used)",
		.total = "credentials would exceed 32 MiB in total",
		.no_memory = "not enough memory for the credentials' archive",
	},
	[EXT_KIND_ADDON] = {
		/* An addon is loaded whole; systemd-stub has no limit but memory. */
		.ours = { EXT_ADDON_MAX_FILES, 0, EXT_ADDON_SIZE_MAX, EXT_ADDON_TOTAL_MAX },
		.systemd = { 0, 0, UINT64_MAX, 0 },
		.too_large = "larger than an addon may be (256 MiB)",
		.empty = "empty",
		.count = "more than " STR(EXT_ADDON_MAX_FILES) " addons (the first " STR(EXT_ADDON_MAX_FILES)
			 " by name are used)",
		.total = "addons would exceed 512 MiB in total",
		.no_memory = "not enough memory for the addon",
	},
	[EXT_KIND_SIGNATURE] = {
		.ours = { EXT_SIGNATURE_MAX_FILES, 1, EXT_SIGNATURE_SIZE_MAX, 0 },
		.systemd = { EXT_SIGNATURE_MAX_FILES, 1, EXT_SIGNATURE_SIZE_MAX, 0 }, /* never picked under its rules */
		.too_large = "a signature file must have 1 to " STR(EXT_SIGNATURE_SIZE_MAX) " bytes",
		.empty = "a signature file must have 1 to " STR(EXT_SIGNATURE_SIZE_MAX) " bytes",
		.count = "more than " STR(EXT_SIGNATURE_MAX_FILES) " signature files (the first "
			 STR(EXT_SIGNATURE_MAX_FILES) " by name are used)",
		.total = "signature files would exceed their total-size limit",
		.no_memory = "not enough memory",
	},
};

_Static_assert(EXT_CREDENTIAL_TOTAL_MAX == (uint64_t)32 << 20, "the reason text above says 32 MiB");
_Static_assert(EXT_ADDON_SIZE_MAX == (uint64_t)256 << 20, "the reason text above says 256 MiB");
_Static_assert(EXT_ADDON_TOTAL_MAX == (uint64_t)512 << 20, "the reason text above says 512 MiB");

unsigned sel_dir_kinds(enum sel_dir_role role, enum ext_rule rule)
{
	unsigned extensions = EXT_KIND_BIT(EXT_KIND_SYSEXT) | EXT_KIND_BIT(EXT_KIND_CONFEXT);
	/* systemd-stub reads no signature files. */
	unsigned signatures = rule == EXT_RULE_SYSEXT_STUB ? EXT_KIND_BIT(EXT_KIND_SIGNATURE) : 0;

	switch (role) {
	case SEL_DIR_PER_UKI:
		return extensions | signatures | EXT_KIND_BIT(EXT_KIND_CREDENTIAL) | EXT_KIND_BIT(EXT_KIND_ADDON);
	case SEL_DIR_GLOBAL:
		return extensions | signatures;
	case SEL_DIR_GLOBAL_CREDENTIALS:
		return EXT_KIND_BIT(EXT_KIND_CREDENTIAL);
	case SEL_DIR_GLOBAL_ADDONS:
		return EXT_KIND_BIT(EXT_KIND_ADDON);
	}
	return 0;
}

const struct sel_limits *sel_limits_of(enum ext_kind kind, int ours)
{
	return ours ? &kind_rules[kind].ours : &kind_rules[kind].systemd;
}

size_t sel_capacity(enum ext_kind kind, int ours, size_t entries_max)
{
	size_t max = sel_limits_of(kind, ours)->max_files;

	return max ? max : entries_max;
}

static const char *reason_text(enum ext_kind kind, enum ext_verdict why)
{
	if (kind < EXT_KINDS) {
		const struct kind_rules *r = &kind_rules[kind];

		switch (why) {
		case EXT_SKIP_TOO_LARGE: return r->too_large;
		case EXT_SKIP_EMPTY_FILE: return r->empty;
		case EXT_SKIP_COUNT: return r->count;
		case EXT_SKIP_TOTAL: return r->total;
		case EXT_SKIP_NO_MEMORY: return r->no_memory;
		default: break;
		}
	}
	return ext_verdict_reason(why);
}

/* Report a kept file that is dropped after all. */
static void report_file(struct sel_dir *d, enum ext_kind kind, const struct sel_file *f, enum ext_verdict why)
{
	struct sel_skip s = { .name = d->display, .kind = kind, .why = why, .size = f->size, .tag = f->tag };

	ext_display_name8(f->name, d->display);
	s.reason = reason_text(kind, why);
	if (d->report)
		d->report(d->ctx, &s);
}

ms_status sel_dir_init(struct sel_dir *d, size_t dir_len, enum ext_rule rule, unsigned kinds, int ours,
		       const struct sel_storage storage[EXT_KINDS], sel_report_fn report, void *ctx)
{
	for (size_t i = 0; i < sizeof(*d); i++)
		((uint8_t *)d)[i] = 0;
	d->dir_len = dir_len;
	d->rule = rule;
	d->kinds = kinds;
	d->ours = ours;
	d->report = report;
	d->ctx = ctx;
	for (int k = 0; k < EXT_KINDS; k++) {
		if (!(kinds & EXT_KIND_BIT(k)))
			continue;
		/* Room for the cap a caller asked sel_capacity() for; with no count limit, whatever it has. */
		if (!storage[k].slots || !storage[k].order ||
		    (sel_limits_of(k, ours)->max_files && storage[k].cap < sel_limits_of(k, ours)->max_files))
			return MS_ERR_INVALID;
		d->lists[k].mem = storage[k];
		/* The count limit; storage beyond it is not used. */
		if (sel_limits_of(k, ours)->max_files)
			d->lists[k].mem.cap = sel_limits_of(k, ours)->max_files;
		d->lists[k].next = &storage[k].slots[0];
		d->lists[k].used = 1;
	}
	return MS_OK;
}

/*
 * Insert the newcomer (in l->next) in name order, keeping the first mem.cap
 * names. Returns the file that is not kept (the newcomer, or the name it
 * pushed out), or NULL when all are.
 */
static struct sel_file *insert_sorted(struct sel_list *l)
{
	struct sel_file *f = l->next, *out = NULL;
	size_t j;

	if (l->n == l->mem.cap) {
		if (l->mem.cap == 0 || ext_name_compare(l->mem.order[l->n - 1]->name, f->name) <= 0)
			return f; /* its slot stays l->next, for the next newcomer */
		out = l->mem.order[--l->n];
	}
	for (j = l->n; j > 0 && ext_name_compare(l->mem.order[j - 1]->name, f->name) > 0; j--)
		l->mem.order[j] = l->mem.order[j - 1];
	l->mem.order[j] = f;
	l->n++;
	/* The next newcomer goes into the slot just freed, or a fresh one (used <= cap + 1). */
	l->next = out ? out : &l->mem.slots[l->used++];
	return out;
}

/* Steps 2 and 3 for a name that passed step 1. */
static enum ext_verdict take(struct sel_dir *d, enum ext_kind kind, const uint16_t *name, size_t len, uint64_t size,
			     uintptr_t tag)
{
	const struct sel_limits *lim = sel_limits_of(kind, d->ours);
	struct sel_list *l = &d->lists[kind];
	struct sel_file *f = l->next, *out;

	if (size > lim->max_size) {
		if (d->ours)
			return EXT_SKIP_TOO_LARGE;
		d->too_large[kind] = 1;
		return EXT_SKIP_DIRECTORY_DROPPED;
	}
	if (size < lim->min_size)
		return EXT_SKIP_EMPTY_FILE;
	(void)ext_name_to_ascii(name, len, f->name, sizeof(f->name)); /* step 1 checked it */
	f->size = size;
	f->tag = tag;
	out = insert_sorted(l);
	if (!out)
		return EXT_PICK;
	report_file(d, kind, out, EXT_SKIP_COUNT);
	return out == f ? EXT_SKIP_COUNT : EXT_PICK;
}

enum ext_verdict sel_dir_offer(struct sel_dir *d, const uint16_t *name, size_t len, uint64_t size, int is_directory,
			       uintptr_t tag)
{
	enum ext_kind kind;
	enum ext_verdict why;

	if (d->finished)
		return EXT_SKIP_COUNT;
	why = ext_classify_kind(name, len, is_directory, d->dir_len, d->rule, d->kinds, &kind);
	if (why == EXT_PICK)
		why = take(d, kind, name, len, size, tag);
	/* A file that fell out of the first names was reported where it fell out. */
	if (why != EXT_PICK && why != EXT_SKIP_COUNT) {
		struct sel_skip s = { .name = d->display, .kind = kind, .why = why, .size = size, .tag = tag };

		ext_display_name(name, len, d->display);
		s.reason = reason_text(kind, why);
		if (d->report)
			d->report(d->ctx, &s);
	}
	return why;
}

enum ext_verdict sel_dir_offer8(struct sel_dir *d, const char *name, uint64_t size, int is_directory, uintptr_t tag)
{
	uint16_t u[EXT_NAME_MAX + 1];
	size_t len = 0;

	/* A longer name is skipped as such: EXT_NAME_MAX + 1 units are enough to tell (and to show). */
	while (name[len] && len < EXT_NAME_MAX + 1) {
		u[len] = (uint8_t)name[len];
		len++;
	}
	return sel_dir_offer(d, u, len, size, is_directory, tag);
}

void sel_dir_finish(struct sel_dir *d)
{
	if (d->finished)
		return;
	d->finished = 1;
	for (int k = 0; k < EXT_KINDS; k++) {
		struct sel_list *l = &d->lists[k];
		const struct sel_limits *lim = sel_limits_of(k, d->ours);
		uint64_t total = 0;
		size_t kept = 0;

		if (!(d->kinds & EXT_KIND_BIT(k)))
			continue;
		for (size_t i = 0; i < l->n; i++) {
			struct sel_file *f = l->mem.order[i];
			enum ext_verdict why = EXT_PICK;

			if (d->too_large[k])
				why = EXT_SKIP_DIRECTORY_DROPPED;
			else if (lim->max_total && !ext_fits_total_of(&total, f->size, lim->max_total))
				why = EXT_SKIP_TOTAL;
			if (why != EXT_PICK) {
				report_file(d, k, f, why);
				continue;
			}
			l->mem.order[kept++] = f;
		}
		l->n = kept;
	}
}

size_t sel_dir_count(const struct sel_dir *d, enum ext_kind kind)
{
	return kind < EXT_KINDS && (d->kinds & EXT_KIND_BIT(kind)) ? d->lists[kind].n : 0;
}

const struct sel_file *sel_dir_file(const struct sel_dir *d, enum ext_kind kind, size_t i)
{
	return i < sel_dir_count(d, kind) ? d->lists[kind].mem.order[i] : NULL;
}

int sel_dir_drop_largest(struct sel_dir *d, enum ext_kind kind)
{
	struct sel_list *l;
	size_t k = 0;

	if (sel_dir_count(d, kind) == 0)
		return 0;
	l = &d->lists[kind];
	for (size_t i = 1; i < l->n; i++)
		if (l->mem.order[i]->size >= l->mem.order[k]->size)
			k = i;
	report_file(d, kind, l->mem.order[k], EXT_SKIP_NO_MEMORY);
	for (size_t i = k; i + 1 < l->n; i++)
		l->mem.order[i] = l->mem.order[i + 1];
	l->n--;
	return 1;
}
