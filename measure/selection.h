/* SPDX-License-Identifier: MIT */
/*
 * selection.h - the one rule for what is taken from a directory on the ESP:
 * the stub applies it while it lists the directory, and every host
 * subcommand (predict, cpio, sign, ...) applies it to a host copy of the
 * directory, so a prediction cannot drift from a boot.
 *
 * Entries are offered one at a time, in whatever order the directory
 * yields them, with their name, size and whether they are a directory.
 * Memory is bounded by the count limits (caller-provided storage). For
 * each entry, in this order:
 *   1. the name decides its kind, or why it is none (extensions.h,
 *      ext_classify_kind: dot files, non-ASCII, FAT-unopenable names, ...);
 *   2. its size must lie within the kind's bounds (sysext: below 4 GiB;
 *      signature file: 1 byte to 64 KiB);
 * then, per kind, in measurement order (strcmp of the names):
 *   3. the count: the first max_files names stay;
 *   4. the total: of those, in order, each file that still fits under the
 *      kind's total-size limit stays.
 * Each entry that is not taken is reported exactly once, with a reason,
 * through the caller's callback (1 and 2 while it is offered, 3 when it
 * falls out of the first names, 4 at sel_dir_finish()).
 *
 * systemd-stub's rules (for predictions of it) have no count or total
 * limit; a file its cpio writer cannot describe (4 GiB or more) makes it
 * drop every file of that directory.
 */
#ifndef MEASURE_SELECTION_H
#define MEASURE_SELECTION_H

#include <stddef.h>
#include <stdint.h>

#include "extensions.h"
#include "status.h"

/* The directories the stub reads companion files from, by what they are for. */
enum sel_dir_role {
	SEL_DIR_PER_UKI,            /* <uki>.efi.extra.d: every kind */
	SEL_DIR_GLOBAL,             /* \loader\extensions: extensions, confexts, signature files */
	SEL_DIR_GLOBAL_CREDENTIALS, /* \loader\credentials */
	SEL_DIR_GLOBAL_ADDONS,      /* \loader\addons */
};

/* The kinds (EXT_KIND_BIT mask) a directory of @role holds under @rule: all are selected in one listing. */
unsigned sel_dir_kinds(enum sel_dir_role role, enum ext_rule rule);

/* The limits of one kind of companion file, per directory. */
struct sel_limits {
	size_t max_files;   /* 0: no count limit */
	uint64_t min_size;  /* smaller files are skipped */
	uint64_t max_size;  /* larger files are skipped */
	uint64_t max_total; /* 0: no total-size limit */
};

/* Our limits for @kind, or systemd-stub's (@ours 0). */
const struct sel_limits *sel_limits_of(enum ext_kind kind, int ours);

struct sel_file {
	char name[EXT_NAME_MAX + 1]; /* ASCII, as it goes into the archive */
	uint64_t size;
	uintptr_t tag; /* the caller's, given with the entry (host: which file) */
};

/* What the caller hands sel_dir_init for one kind: room for @cap kept files. */
struct sel_storage {
	struct sel_file *slots;   /* cap + 1 of them: one for the newcomer */
	struct sel_file **order;  /* cap of them */
	size_t cap;
};

/* The cap the storage of @kind needs: its count limit, or @entries_max when it has none. */
size_t sel_capacity(enum ext_kind kind, int ours, size_t entries_max);

struct sel_skip {
	const char *name;       /* made safe for a console (ext_display_name) */
	enum ext_kind kind;     /* the kind its suffix names, EXT_KIND_NONE if it names none */
	enum ext_verdict why;
	const char *reason;     /* e.g. "more than 128 extensions (the first 128 by name are used)" */
	uint64_t size;
	uintptr_t tag;
};

/*
 * Called once per entry not taken. kind != EXT_KIND_NONE means a companion
 * file is being dropped (worth a warning); otherwise the entry is simply
 * not one (worth a note).
 */
typedef void (*sel_report_fn)(void *ctx, const struct sel_skip *skip);

struct sel_list {
	struct sel_storage mem;
	size_t n;      /* files kept so far, mem.order[0..n) in measurement order */
	size_t used;   /* slots handed out */
	struct sel_file *next; /* where the next newcomer goes */
};

struct sel_dir {
	size_t dir_len;   /* the directory's path length on the volume (EXT_FAT_PATH_MAX) */
	enum ext_rule rule;
	unsigned kinds;   /* EXT_KIND_BIT mask of the kinds taken here */
	int ours;         /* our limits (1) or systemd-stub's (0) */
	int finished;
	sel_report_fn report;
	void *ctx;
	struct sel_list lists[EXT_KINDS];
	int too_large[EXT_KINDS]; /* systemd-stub: the kind's directory is dropped */
	char display[EXT_DISPLAY_MAX];
};

/*
 * Start a selection for a directory whose path on the volume has @dir_len
 * units, taking @kinds under @rule with our limits (@ours) or systemd-stub's.
 * @storage[k] must have room for sel_capacity(k, ...) files for each kind in
 * @kinds. MS_ERR_INVALID when it does not.
 */
ms_status sel_dir_init(struct sel_dir *d, size_t dir_len, enum ext_rule rule, unsigned kinds, int ours,
		       const struct sel_storage storage[EXT_KINDS], sel_report_fn report, void *ctx);

/*
 * Offer one directory entry (@name: @len UTF-16 units, no NUL needed).
 * Returns EXT_PICK when it is taken for now (a later name or the total may
 * still drop it), else why not; either way a skip is already reported.
 */
enum ext_verdict sel_dir_offer(struct sel_dir *d, const uint16_t *name, size_t len, uint64_t size, int is_directory,
			       uintptr_t tag);

/* The same for an 8-bit name (host file names: each byte becomes one unit). */
enum ext_verdict sel_dir_offer8(struct sel_dir *d, const char *name, uint64_t size, int is_directory, uintptr_t tag);

/* Apply the total-size limits; after this the lists are final. */
void sel_dir_finish(struct sel_dir *d);

/* After sel_dir_finish(): the files of @kind kept, in measurement order. */
size_t sel_dir_count(const struct sel_dir *d, enum ext_kind kind);
const struct sel_file *sel_dir_file(const struct sel_dir *d, enum ext_kind kind, size_t i);

/*
 * The stub could not allocate room for @kind's files: drop the largest
 * (the last of equal sizes), reporting it as EXT_SKIP_NO_MEMORY. Returns
 * 0 when there was nothing left to drop.
 */
int sel_dir_drop_largest(struct sel_dir *d, enum ext_kind kind);

#endif
