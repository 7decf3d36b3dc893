/* SPDX-License-Identifier: MIT */
/*
 * pcrlock-components.h - systemd-pcrlock's component model: components
 * (named NNN-name, ordered by name), each with variants (one per approved
 * state), each a list of records ({"pcr":N,"digests":[{"hashAlg":"sha256",
 * "digest":HEX},...]}). Built by `sysext-stub pcrlock`, written as the
 * NNN-name.pcrlock.d/VARIANT.pcrlock tree systemd-pcrlock reads from
 * /var/lib/pcrlock.d/, and read back by `eventlog --expect DIR`.
 */
#ifndef HOST_TOOLS_PCRLOCK_COMPONENTS_H
#define HOST_TOOLS_PCRLOCK_COMPONENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "digest.h"

struct pcrlock_record {
	unsigned pcr;
	unsigned banks; /* bit i: digest[i] given */
	uint8_t digest[BANK_COUNT][DIGEST_MAX];
	char *description; /* what we know it to be (not written: systemd's format has no field for it), or NULL */
};

struct pcrlock_variant {
	char *id;
	struct pcrlock_record *records;
	size_t n_records;
};

struct pcrlock_component {
	char *id;
	struct pcrlock_variant *variants;
	size_t n_variants;
};

struct pcrlock_set {
	struct pcrlock_component *components; /* kept sorted by id (systemd-pcrlock's order) */
	size_t n_components;
};

/* Whether @id is a usable component or variant name: a file name (no '/', not "."/".."), 1..200 bytes. */
bool pcrlock_id_ok(const char *id);

/* The component @id, created (empty) when it is not there yet. NULL: out of memory (printed). */
struct pcrlock_component *pcrlock_component(struct pcrlock_set *s, const char *id);

/*
 * Add variant @id with @n records (copied) to @c. The same records again
 * under any name are merged silently (returns 0); @id already naming other
 * records is an error naming the component and the variant. Returns 1 when
 * added, 0 when merged, -1 (printed).
 */
int pcrlock_add_variant(struct pcrlock_component *c, const char *id, const struct pcrlock_record *records, size_t n);

/* The variant of @c whose records are exactly @records, or NULL. */
const struct pcrlock_variant *pcrlock_find_variant(const struct pcrlock_component *c, const struct pcrlock_record *records,
						   size_t n);

void pcrlock_set_free(struct pcrlock_set *s);

/* One variant's file content: {"records":[...]} with every bank of each record, and a newline. */
void pcrlock_write_variant(FILE *out, const struct pcrlock_variant *v);

/* The whole set as JSON: {"components":[{"id":..,"variants":[{"id":..,"records":[..]}]}]}. */
void pcrlock_print_json(FILE *out, const struct pcrlock_set *s);

/*
 * Write @dir/<component>.pcrlock.d/<variant>.pcrlock for every variant
 * (directories created, files written atomically, mode 0644). A component
 * directory that already holds other .pcrlock files is an error (they would
 * become approved variants too) unless @replace, which removes them.
 */
int pcrlock_write_tree(const char *dir, const struct pcrlock_set *s, bool replace);

/*
 * Read a component tree as systemd-pcrlock reads one directory:
 * NNN-name.pcrlock (a component with one variant named like it) and
 * NNN-name.pcrlock.d/VARIANT.pcrlock (variants); other entries ignored. A file
 * that is not valid JSON in that format is an error naming it (systemd-pcrlock
 * only warns and skips it, leaving a component with fewer variants than
 * meant). Returns 0, or -1 (printed).
 */
int pcrlock_read_tree(const char *dir, struct pcrlock_set *s);

#endif
