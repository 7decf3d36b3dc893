/* SPDX-License-Identifier: MIT */
/*
 * sysext-set.h - one directory's worth of system extensions on the host,
 * picked, limited and ordered by the same measure/ rules the stub applies
 * on the ESP; from a directory, from individual files, or from a manifest
 * of digests (sha256sum format) when the images themselves are not at hand.
 *
 * Reading is single-pass: each file is read once, and its bytes feed every
 * requested bank's hash and, when an archive is wanted, land directly in
 * their slot of the archive. Files are processed in parallel.
 */
#ifndef HOST_TOOLS_SYSEXT_SET_H
#define HOST_TOOLS_SYSEXT_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "measure/companion.h"
#include "measure/selection.h"

struct sysext_file {
	char name[EXT_NAME_MAX + 1]; /* as stored in the archive */
	char *path;                  /* host file, NULL when known from a manifest only */
	uint64_t size;               /* bytes (unknown, 0, for manifest entries) */
	bool not_a_file;             /* a directory (or socket, device...) in a listed directory */
	unsigned digest_mask;        /* bit i: digest[i] known */
	uint8_t digest[BANK_COUNT][DIGEST_MAX];
};

struct sysext_set {
	enum ext_kind kind;  /* the kind of companion file the set holds (EXT_KIND_SYSEXT, ...) */
	enum sel_dir_role role; /* which ESP directory it stands for */
	const struct archive_layout *layout; /* of its archive (companion.h), for archived kinds */
	const char *prefix;  /* layout->prefix, e.g. ".extra/sysext" */
	enum ext_rule rule;
	bool limits;         /* apply the stub's count and total-size limits */
	size_t dir_len;      /* the directory's path length on the ESP (ext_classify()) */
	bool verbose;        /* report entries that are no companion file at all */
	struct sysext_file *files; /* before sysext_set_finish(): everything given; after: what is kept, in order */
	size_t n;
	bool sorted;
};

/*
 * The files of @t's kind in a directory of @t's role, archived as @t says.
 * @dir_len: the length of the directory's path on the ESP, which decides
 * which names the firmware opens (EXT_FAT_PATH_MAX): EXTDIR_GLOBAL_LEN, or
 * the per-UKI directory's (EXTDIR_MIN_LEN when the UKI's path is unknown).
 * @limits: the stub's limits (our scheme), or systemd-stub's.
 */
void sysext_set_init(struct sysext_set *s, const struct companion_target *t, enum ext_rule rule, bool limits,
		     size_t dir_len);
/* The signature files (*.pcrsig.json) of a directory of @role: not archived by themselves. */
void sysext_set_init_signatures(struct sysext_set *s, enum sel_dir_role role, size_t dir_len);
/* The addons (*.addon.efi) of a directory of @role: not archived, their files read by host-tools/addon-list.c. */
void sysext_set_init_addons(struct sysext_set *s, enum sel_dir_role role, enum ext_rule rule, bool limits,
			    size_t dir_len);
void sysext_set_free(struct sysext_set *s);

/*
 * Every entry of @dir the pickup rule picks (skips are reported with
 * --verbose semantics through @verbose; a file skipped only because the
 * firmware would not open it is a warning, as the stub's limits are). A
 * missing directory is an error (the user named it); an empty one is not.
 */
int sysext_set_add_dir(struct sysext_set *s, const char *dir, bool verbose);

/* One file; an error if the pickup rule would not pick its name. */
int sysext_set_add_file(struct sysext_set *s, const char *path);

/*
 * Lines "<hex>  <name>" or "<hex> *<name>" (sha256sum, sha1sum, sha384sum
 * or sha512sum output; the hex length says which). A name may carry a
 * directory part; only its last component counts. Lines naming a file of a
 * kind in @other_kinds (EXT_KIND_BIT mask: kinds other sets read from the
 * same manifest) are left to them; any other name the set would not take is
 * an error. Several manifests may
 * describe the same names in different banks.
 */
int sysext_set_add_manifest(struct sysext_set *s, const char *path, unsigned other_kinds);

/*
 * Run everything given through the stub's selection rule (measure/selection.h):
 * what it keeps, in measurement order, stays; each file of the set's kind it
 * drops gets a warning ("skipped by the stub: ..."). Call once, after adding.
 */
int sysext_set_finish(struct sysext_set *s);

/* Whether every file has bytes on the host (needed for archives). */
bool sysext_set_has_bytes(const struct sysext_set *s);

/* Whether every file's digest in bank @i is known or can be computed. */
bool sysext_set_can_digest(const struct sysext_set *s, size_t bank_i);

/*
 * Read every file with bytes once, hashing it in the banks of @mask; with
 * @archive non-NULL also build the archive (plan, allocate, fill), which
 * the caller frees with free(). @threads workers (0 = online CPUs).
 */
int sysext_set_read(struct sysext_set *s, unsigned mask, unsigned threads, uint8_t **archive, uint64_t *archive_size);

/* Hash the file f->path (f->size bytes, as stat()ed) in the banks of @mask into f->digest. 0, or -1 (printed). */
int sysext_file_hash(struct sysext_file *f, unsigned mask);

#endif
