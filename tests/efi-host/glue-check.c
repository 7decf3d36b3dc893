/* SPDX-License-Identifier: MIT */
/*
 * glue-check.c - the model of what the stub's glue must produce for a
 * volume and its faults, and the comparison with what it did (glue.h).
 * The archives are read back with a newc reader of its own, written from
 * the format's description in measure/cpio.h, not with measure/cpio.c.
 */
#include "glue.h"

#include <efilib.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "efi-lib/esp.h"
#include "measure/cpio.h"
#include "measure/extdir.h"
#include "measure/initrd.h"
#include "measure/json.h"
#include "measure/pcrsig.h"
#include "measure/selection.h"
#include "measure/companion.h"
#include "measure/uki.h"
#include "stub/listing.h"

#define V efi_host_violation

/* The sysext archive of each directory (the glue packs the extensions of both; measure/companion.c). */
static const struct archive_layout *dir_layout(int d)
{
	return &companion_target_for(EXT_KIND_SYSEXT, d == GLUE_PER_UKI ? SEL_DIR_PER_UKI : SEL_DIR_GLOBAL)->layout;
}
static const enum sel_dir_role dir_role[GLUE_DIRS] = { SEL_DIR_PER_UKI, SEL_DIR_GLOBAL };

/* ------------------------------------------------------------ newc */

static int hex8(const UINT8 *p, unsigned long *ret)
{
	unsigned long v = 0;

	for (int i = 0; i < 8; i++) {
		int c = p[i], d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return 0;
		v = v << 4 | (unsigned long)d;
	}
	*ret = v;
	return 1;
}

static UINT64 align4(UINT64 v)
{
	return (v + 3) & ~(UINT64)3;
}

static int zeros(const UINT8 *p, UINT64 n)
{
	for (UINT64 i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

enum { F_INO, F_MODE, F_UID, F_GID, F_NLINK, F_MTIME, F_SIZE, F_DEVMAJ, F_DEVMIN, F_RDEVMAJ, F_RDEVMIN, F_NAMESIZE,
       F_CHECK, F_COUNT };

long glue_cpio_parse(const UINT8 *buf, UINT64 size, struct glue_cpio_entry *out, size_t max, const char *what)
{
	UINT64 pos = 0;
	size_t n = 0;

	for (;;) {
		unsigned long f[F_COUNT];
		UINT64 name_at = pos + CPIO_HEADER_SIZE, data_at, end;
		const char *name;

		if (size < CPIO_HEADER_SIZE || pos > size - CPIO_HEADER_SIZE || memcmp(buf + pos, "070701", 6) != 0) {
			V("%s: no newc header at byte %lu", what, (unsigned long)pos);
			return -1;
		}
		for (int i = 0; i < F_COUNT; i++)
			if (!hex8(buf + pos + 6 + 8 * i, &f[i])) {
				V("%s: field %d of the header at %lu is not hex", what, i, (unsigned long)pos);
				return -1;
			}
		if (f[F_NAMESIZE] == 0 || name_at + f[F_NAMESIZE] > size || buf[name_at + f[F_NAMESIZE] - 1] != 0 ||
		    memchr(buf + name_at, 0, f[F_NAMESIZE] - 1)) {
			V("%s: bad name at %lu", what, (unsigned long)name_at);
			return -1;
		}
		name = (const char *)buf + name_at;
		data_at = align4(name_at + f[F_NAMESIZE]);
		end = align4(data_at + f[F_SIZE]);
		if (data_at + f[F_SIZE] > size || end > size || !zeros(buf + name_at + f[F_NAMESIZE], data_at - name_at - f[F_NAMESIZE]) ||
		    !zeros(buf + data_at + f[F_SIZE], end - data_at - f[F_SIZE])) {
			V("%s: entry %s overruns the archive or is not padded with zeros", what, name);
			return -1;
		}
		if (f[F_UID] || f[F_GID] || f[F_MTIME] || f[F_DEVMAJ] || f[F_DEVMIN] || f[F_RDEVMAJ] || f[F_RDEVMIN] ||
		    f[F_CHECK] || f[F_NLINK] != 1) {
			V("%s: entry %s: uid, gid, mtime, devices and check must be 0, nlink 1", what, name);
			return -1;
		}
		if (strcmp(name, "TRAILER!!!") == 0) {
			if (f[F_INO] || f[F_MODE] || f[F_SIZE] || memcmp(buf + pos + 6 + 8 * F_NAMESIZE, "0000000B", 8) != 0)
				V("%s: the trailer is not systemd's", what);
			if (end != size)
				V("%s: %lu bytes after the trailer", what, (unsigned long)(size - end));
			return (long)n;
		}
		if (n == max) {
			V("%s: more entries than expected", what);
			return -1;
		}
		out[n].ino = f[F_INO];
		out[n].mode = f[F_MODE];
		out[n].nlink = f[F_NLINK];
		snprintf(out[n].name, sizeof(out[n].name), "%s", name);
		out[n].name_offset = name_at;
		out[n].data_offset = data_at;
		out[n].size = f[F_SIZE];
		n++;
		pos = end;
	}
}

/* ------------------------------------------------------------ helpers */

const struct memfs_node *glue_opens(struct memfs *fs, const struct memfs_node *dir, const CHAR16 *name16)
{
	EFI_STATUS err;

	return memfs_resolve(fs, (struct memfs_node *)dir, name16, &err);
}

static void sha256(const void *data, UINT64 len, unsigned char out[32])
{
	unsigned int n = 32;

	if (!EVP_Digest(data, (size_t)len, out, &n, EVP_sha256(), NULL))
		abort();
}

static void name16_of(const char *name, CHAR16 out[EXT_NAME_MAX + 1])
{
	efi_host_ascii_to16(name, out, EXT_NAME_MAX + 1);
}

static void path8_of(const CHAR16 *path, char *out, size_t cap)
{
	size_t i = 0;

	for (; path[i] && i + 1 < cap; i++)
		out[i] = path[i] < 0x80 ? (char)path[i] : '?';
	out[i] = 0;
}

static int degraded(const struct glue_setup *s)
{
	return s->alloc.pool_fail_at || s->alloc.pages_fail_at;
}

static UINTN pages_limit(const struct glue_setup *s)
{
	UINTN limit = EFI_HOST_PAGES_MAX;

	return s->alloc.pages_max && s->alloc.pages_max < limit ? s->alloc.pages_max : limit;
}

/* ------------------------------------------------------------ the model */

struct exp_file {
	char name[EXT_NAME_MAX + 1];
	UINT64 size;                    /* as listed */
	const struct memfs_node *listed;
	const struct memfs_node *opens; /* what its name opens */
	BOOLEAN readable;
	UINT64 known;                   /* readable: its first bytes the firmware wrote; the rest is what the buffer held */
	BOOLEAN measure_failed;         /* its own bytes' events did not all go in: handed over as zeros */
	BOOLEAN content_measured;       /* a content event over what was handed over went in everywhere */
	long events[2];                 /* that content event, per protocol (CC, TCG2); -1 none */
};

struct dir_model {
	BOOLEAN listed;
	const struct memfs_node *node;
	char path[512];
	size_t n_sysext, n_sig;
	struct exp_file sysext[EXT_MAX_FILES], sig[EXT_SIGNATURE_MAX_FILES];
};

struct sel_model {
	struct sel_dir sel;
	struct sel_file slots[EXT_KINDS][EXT_MAX_FILES + 1];
	struct sel_file *order[EXT_KINDS][EXT_MAX_FILES];
};

/* Whether @f, listed as it is, reads whole: the firmware's answers are all consistent. */
static void model_read(struct memfs *fs, const struct dir_model *dm, struct exp_file *f)
{
	CHAR16 name16[EXT_NAME_MAX + 1];
	const struct memfs_node *r;

	name16_of(f->name, name16);
	r = f->opens = glue_opens(fs, dm->node, name16);
	/* The shared rule keeps only names the FAT driver opens as themselves. */
	if (r != f->listed)
		V("%s\\%s: kept, but the name opens %s", dm->path, f->name, r ? "another file" : "nothing");
	f->readable = r && !r->is_dir && !r->faults.open_status && r->size == f->size &&
		      !(r->faults.read_fails && r->faults.fail_at <= f->size) && !(r->faults.overreport && f->size);
	/*
	 * Undetectable (efi-lib/esp.h): a file shorter than listed whose one Read claims the missing tail
	 * as written, exactly what was asked. The stub takes it; what it measures is what it hands over.
	 */
	if (r && !r->is_dir && !r->faults.open_status && !r->faults.read_fails && !r->faults.read_max &&
	    r->faults.overreport && r->size < f->size && r->size + r->faults.overreport == f->size &&
	    f->size <= ESP_READ_CHUNK)
		f->readable = TRUE;
	f->known = f->readable && r->size < f->size ? r->size : f->size;
	f->events[0] = f->events[1] = -1;
}

/* The outcome listing_open() must have, then what the selection keeps from the entries it gets. */
static void model_dir(const struct glue_run *run, int d, struct dir_model *dm)
{
	const struct glue_setup *s = run->setup;
	struct memfs *fs = s->fs;
	const struct memfs_node *dir;
	struct sel_storage storage[EXT_KINDS];
	struct sel_model *sm;
	size_t dots, total, seen = 0;
	EFI_STATUS err, got = run->dir_status[d];
	BOOLEAN opens;

	memset(dm, 0, sizeof(*dm));
	path8_of(run->dir_path[d], dm->path, sizeof(dm->path));
	if (!run->dir_used[d] || EFI_ERROR(run->root_status))
		return;
	dir = memfs_resolve(fs, memfs_root(fs), run->dir_path[d], &err);
	if (dir && dir->faults.open_status) {
		err = dir->faults.open_status;
		dir = NULL;
	}
	opens = dir && dir->is_dir && (dir->faults.info == MEMFS_INFO_OK || dir->faults.info == MEMFS_INFO_SHRINKS);
	if (!degraded(s) && opens == EFI_ERROR(got))
		V("%s: listing_open returned 0x%lx; the directory %s", dm->path, (unsigned long)got,
		  opens ? "lists fine" : "cannot be listed");
	if (!dir && err == EFI_NOT_FOUND && got != EFI_NOT_FOUND)
		V("%s: absent, but listing_open returned 0x%lx, not EFI_NOT_FOUND", dm->path, (unsigned long)got);
	if (dir && !opens && got == EFI_NOT_FOUND)
		V("%s: a directory the firmware botched is reported as absent", dm->path);
	if (!opens || EFI_ERROR(got))
		return;
	dm->listed = TRUE;
	dm->node = dir;

	sm = calloc(1, sizeof(*sm));
	if (!sm)
		abort();
	for (int k = 0; k < EXT_KINDS; k++)
		storage[k] = (struct sel_storage){ sm->slots[k], sm->order[k], EXT_MAX_FILES };
	if (sel_dir_init(&sm->sel, efi_host_strlen16(run->dir_path[d]), EXT_RULE_SYSEXT_STUB,
			 sel_dir_kinds(dir_role[d], EXT_RULE_SYSEXT_STUB), 1, storage, NULL, NULL) != MS_OK)
		abort();
	dots = dir->dots ? 2 : 0;
	total = dots + dir->n_children;
	for (size_t i = 0; i < total; i++) {
		const struct memfs_node *c = i < dots ? NULL : dir->children[i - dots];

		if (c && memfs_entry_fault_ends_listing(c->faults.entry))
			break;
		if (++seen > LISTING_ENTRIES_MAX)
			break;
		if (c)
			(void)sel_dir_offer(&sm->sel, c->name, c->name_len, c->is_dir ? 0 : c->listed_size, c->is_dir,
					    (uintptr_t)c);
	}
	sel_dir_finish(&sm->sel);

	/* sysext.c: the largest goes while the archive's pages cannot be had. */
	for (;;) {
		const char *names[EXT_MAX_FILES];
		uint64_t sizes[EXT_MAX_FILES], planned;
		size_t n = sel_dir_count(&sm->sel, EXT_KIND_SYSEXT);

		for (size_t i = 0; i < n; i++) {
			names[i] = sel_dir_file(&sm->sel, EXT_KIND_SYSEXT, i)->name;
			sizes[i] = sel_dir_file(&sm->sel, EXT_KIND_SYSEXT, i)->size;
		}
		if (n == 0)
			break;
		if (sysext_archive_plan(dir_layout(d), names, sizes, n, &planned) != MS_OK) {
			while (sel_dir_drop_largest(&sm->sel, EXT_KIND_SYSEXT))
				;
			break;
		}
		if (EFI_SIZE_TO_PAGES(planned) <= pages_limit(s))
			break;
		(void)sel_dir_drop_largest(&sm->sel, EXT_KIND_SYSEXT);
	}
	dm->n_sysext = sel_dir_count(&sm->sel, EXT_KIND_SYSEXT);
	dm->n_sig = sel_dir_count(&sm->sel, EXT_KIND_SIGNATURE);
	for (size_t i = 0; i < dm->n_sysext + dm->n_sig; i++) {
		int sig = i >= dm->n_sysext;
		const struct sel_file *f = sig ? sel_dir_file(&sm->sel, EXT_KIND_SIGNATURE, i - dm->n_sysext)
					       : sel_dir_file(&sm->sel, EXT_KIND_SYSEXT, i);
		struct exp_file *e = sig ? &dm->sig[i - dm->n_sysext] : &dm->sysext[i];

		snprintf(e->name, sizeof(e->name), "%s", f->name);
		e->size = f->size;
		e->listed = (const struct memfs_node *)f->tag;
		model_read(fs, dm, e);
	}
	free(sm);
}

/* ------------------------------------------------------------ measurements */

struct walker {
	const struct glue_run *run;
	BOOLEAN cc, tpm;
	size_t at;
	BOOLEAN lost; /* the log no longer follows the model: stop comparing */
};

static const struct tpm_fake_event *walk_next(struct walker *w, enum tpm_fake_proto proto, UINT32 index,
					      const char *path, const void *data, UINT64 len)
{
	const struct tpm_fake_event *e = tpm_fake_event(w->at);

	if (!e || e->proto != proto || e->index != index || e->type != EV_IPL || strcmp(e->desc, path) != 0 ||
	    e->len != len || (data && (!e->copy || memcmp(e->copy, data, len) != 0))) {
		V("event %zu: expected the %s event of %s over %lu bytes (%s); got %s", w->at,
		  proto == TPM_FAKE_CC ? "CC" : "TCG2", path, (unsigned long)len, data ? "its path" : "its content",
		  e ? e->desc : "no event");
		w->lost = TRUE;
		return NULL;
	}
	w->at++;
	return e;
}

/*
 * One measure_ipl() of @len bytes described by @path, as efi-lib/tcg2.c
 * makes it: CC first, then the TPM if CC extended. @data: the bytes for a
 * path event (checked), NULL for content. Returns whether it extended
 * everywhere; @idx gets the event per protocol.
 */
static BOOLEAN walk_measure(struct walker *w, const char *path, const void *data, UINT64 len, long idx[2])
{
	const struct tpm_fake_event *e;

	if (w->lost)
		return FALSE;
	if (w->cc) {
		if (w->run->setup->tpm.cc_map_fails)
			return FALSE;
		e = walk_next(w, TPM_FAKE_CC, tpm_fake_cc_index(PCR_SYSEXTS), path, data, len);
		if (!e)
			return FALSE;
		idx[0] = (long)(w->at - 1);
		if (!tpm_fake_extended(e->status))
			return FALSE;
	}
	if (w->tpm) {
		e = walk_next(w, TPM_FAKE_TCG2, PCR_SYSEXTS, path, data, len);
		if (!e)
			return FALSE;
		idx[1] = (long)(w->at - 1);
		if (!tpm_fake_extended(e->status))
			return FALSE;
	}
	return TRUE;
}

/*
 * The events each file must get, in archive order (stub/lazy-archive.h):
 * its path, then its content (zeros if it did not read whole); after a
 * failed measurement of its own bytes, the zeros it is then handed over
 * as get a content event of their own.
 */
static void walk_dir(struct walker *w, int d, struct dir_model *dm)
{
	for (size_t i = 0; i < dm->n_sysext; i++) {
		struct exp_file *f = &dm->sysext[i];
		char path[CPIO_PATH_MAX + 2];
		long ignore[2];
		BOOLEAN ok;

		if (!w->run->can_measure)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir_layout(d)->prefix, f->name);
		ok = walk_measure(w, path, path, strlen(path) + 1, ignore) && walk_measure(w, path, NULL, f->size, f->events);
		if (!ok && f->readable && !w->lost) {
			f->measure_failed = TRUE;
			f->events[0] = f->events[1] = -1;
			ok = walk_measure(w, path, NULL, f->size, f->events);
		}
		f->content_measured = ok;
	}
}

/* ------------------------------------------------------------ archives */

struct item {
	char path[CPIO_PATH_MAX + 2];
	const UINT8 *data;
	UINT64 size;
	UINT64 known;       /* the first bytes of @data that are known; the rest is unchecked */
	const long *events; /* per protocol, NULL if not measured */
	BOOLEAN zeroed;     /* handed over as zeros: may lack a content event (the TPM failed that too) */
};

/* The bytes handed over at offset @off of archive @g. */
static const UINT8 *handed(const struct glue_run *run, const struct glue_archive *g, UINT64 off)
{
	return run->initrd ? run->initrd + g->offset + off : g->copy + off;
}

/* An extended event of @proto over exactly @len bytes at @addr with the digest of @bytes, after its path event. */
static int measured_weak(enum tpm_fake_proto proto, const UINT8 *addr, UINT64 len, const UINT8 *bytes,
			 const char *path)
{
	unsigned char digest[32];
	long prev = -1;

	sha256(bytes, len, digest);
	for (size_t i = 0; i < tpm_fake_event_count(); i++) {
		const struct tpm_fake_event *e = tpm_fake_event(i);

		if (e->proto != proto)
			continue;
		if (e->data == addr && e->len == len && tpm_fake_extended(e->status) && memcmp(e->sha256, digest, 32) == 0 &&
		    strcmp(e->desc, path) == 0 && prev >= 0) {
			const struct tpm_fake_event *p = tpm_fake_event((size_t)prev);

			if (tpm_fake_extended(p->status) && p->len == strlen(path) + 1 && p->copy &&
			    memcmp(p->copy, path, p->len) == 0)
				return 1;
		}
		prev = (long)i;
	}
	return 0;
}

/*
 * Archive @a against @items (exact) or, degraded, for its form and, with
 * @dir, for each file holding what its name opens. Measured archives
 * (@measured) must have every file measured where it was handed over.
 */
static void check_archive(const struct glue_run *run, int a, const char *prefix, const struct item *items,
			  size_t n, BOOLEAN exact, const struct dir_model *dir, BOOLEAN measured, const char *what)
{
	const struct glue_archive *g = &run->archives[a];
	struct glue_cpio_entry *e;
	size_t dirs = 1, max = n + 8 + EXT_MAX_FILES;
	long got;

	for (const char *p = prefix; *p; p++)
		dirs += *p == '/';
	if (!g->copy) {
		if (exact && n)
			V("%s: no archive; expected %zu file(s), the first %s", what, n, items[0].path);
		return;
	}
	if (exact && !n) {
		V("%s: an archive of %lu file(s) where none was expected", what, (unsigned long)g->n_files);
		return;
	}
	e = calloc(max, sizeof(*e));
	if (!e)
		abort();
	got = glue_cpio_parse(g->copy, g->size, e, max, what);
	if (got < 0)
		goto out;
	if ((size_t)got < dirs + (exact ? n : 1) || (exact && (size_t)got != dirs + n)) {
		V("%s: %ld entries, expected %zu directories and %zu file(s)", what, got, dirs, n);
		goto out;
	}
	for (size_t i = 0; i < (size_t)got; i++) {
		BOOLEAN is_dir = i < dirs;
		unsigned long mode = is_dir ? CPIO_MODE_DIR | EXTENSION_DIR_MODE : CPIO_MODE_FILE | EXTENSION_FILE_MODE;

		if (e[i].ino != i + 1 || e[i].mode != mode)
			V("%s: entry %zu (%s): inode %lu mode 0%lo, expected inode %zu mode 0%lo", what, i, e[i].name,
			  e[i].ino, e[i].mode, i + 1, mode);
	}
	for (size_t i = dirs; i < (size_t)got; i++) {
		const struct glue_cpio_entry *f = &e[i];
		const UINT8 *bytes = handed(run, g, f->data_offset);

		if (exact) {
			const struct item *it = &items[i - dirs];

			if (strcmp(f->name, it->path) != 0 || f->size != it->size ||
			    memcmp(g->copy + f->data_offset, it->data, it->known) != 0)
				V("%s: file %zu is %s (%lu bytes), expected %s (%lu bytes)%s", what, i - dirs, f->name,
				  (unsigned long)f->size, it->path, (unsigned long)it->size,
				  strcmp(f->name, it->path) || f->size != it->size ? "" : " with other bytes");
		} else if (dir) {
			CHAR16 name16[EXT_NAME_MAX + 1];
			const struct memfs_node *r;
			size_t plen = strlen(prefix);

			if (strncmp(f->name, prefix, plen) != 0 || f->name[plen] != '/') {
				V("%s: file %s outside %s", what, f->name, prefix);
				continue;
			}
			name16_of(f->name + plen + 1, name16);
			r = glue_opens(run->setup->fs, dir->node, name16);
			if (!r || r->size != f->size || memcmp(r->data, g->copy + f->data_offset, f->size) != 0)
				V("%s: %s does not hold the bytes of the file its name opens", what, f->name);
		}
		if (!measured)
			continue;
		for (int p = 0; p < 2; p++) {
			enum tpm_fake_proto proto = p == 0 ? TPM_FAKE_CC : TPM_FAKE_TCG2;
			BOOLEAN active = p == 0 ? run->setup->tpm.cc : run->setup->tpm.tcg2 && run->setup->tpm.tpm_present;
			const struct tpm_fake_event *ev;
			unsigned char digest[32];

			if (!active)
				continue;
			if (!exact) {
				/* Zeros (a failed read or measurement) may go unmeasured if the TPM failed them too. */
				if (g->lazy && zeros(bytes, f->size))
					continue;
				if (!measured_weak(proto, g->addr + f->data_offset, f->size, bytes, f->name))
					V("%s: %s handed over without a %s measurement of those bytes", what, f->name,
					  p == 0 ? "CC" : "TCG2");
				continue;
			}
			if (!items[i - dirs].events && items[i - dirs].zeroed)
				continue;
			ev = items[i - dirs].events ? tpm_fake_event((size_t)items[i - dirs].events[p]) : NULL;
			sha256(bytes, f->size, digest);
			if (!ev || ev->data != g->addr + f->data_offset || ev->len != f->size ||
			    memcmp(ev->sha256, digest, 32) != 0)
				V("%s: %s: the %s content event is not over the bytes handed over", what, f->name,
				  p == 0 ? "CC" : "TCG2");
		}
	}
	if (!g->lazy && (g->n_files != (size_t)got - dirs || g->n_measured != (measured ? g->n_files : 0)))
		V("%s: n_files %lu, n_measured %lu for %ld file(s)", what, (unsigned long)g->n_files,
		  (unsigned long)g->n_measured, got - (long)dirs);
	if (!g->lazy && (g->pages_allocated != g->pages || g->pages < EFI_SIZE_TO_PAGES(g->size)))
		V("%s: %lu pages recorded for %lu bytes, %lu allocated", what, (unsigned long)g->pages,
		  (unsigned long)g->size, (unsigned long)g->pages_allocated);
	if (run->initrd && (g->offset + g->size > run->initrd_size || memcmp(run->initrd + g->offset, g->copy, g->size)))
		V("%s: the initrd handed over does not hold the archive at offset %lu", what, (unsigned long)g->offset);
out:
	free(e);
}

/* Every kept file, with its bytes or, if it did not read whole or its measurement failed, zeros. */
static void check_sysexts(const struct glue_run *run, int d, const struct dir_model *dm, BOOLEAN exact)
{
	struct item *items = calloc(EXT_MAX_FILES, sizeof(*items));
	UINT64 largest = 0;
	UINT8 *zero;
	size_t n = 0;
	char what[600];

	for (size_t i = 0; i < dm->n_sysext; i++)
		largest = dm->sysext[i].size > largest ? dm->sysext[i].size : largest;
	zero = calloc(1, largest + 1);
	if (!items || !zero)
		abort();
	for (size_t i = 0; i < dm->n_sysext; i++) {
		const struct exp_file *f = &dm->sysext[i];

		snprintf(items[n].path, sizeof(items[n].path), "%s/%s", dir_layout(d)->prefix, f->name);
		items[n].zeroed = !f->readable || f->measure_failed;
		items[n].data = items[n].zeroed ? zero : f->opens->data;
		items[n].size = f->size;
		items[n].known = items[n].zeroed ? f->size : f->known;
		items[n].events = f->content_measured ? f->events : NULL;
		n++;
	}
	snprintf(what, sizeof(what), "%s archive", dm->path);
	check_archive(run, d, dir_layout(d)->prefix, items, n, exact, NULL, run->can_measure, what);
	free(zero);
	free(items);
}

/* StubPcrInitRDSysExts: "13" once a content event went into PCR 13, never set otherwise. */
static void check_pcr_variable(const struct dir_model dms[GLUE_DIRS], BOOLEAN exact)
{
	BOOLEAN measured = FALSE;
	char value[16];
	unsigned sets = efi_host_var_sets("StubPcrInitRDSysExts", value, sizeof(value));

	for (int d = 0; d < GLUE_DIRS; d++)
		for (size_t i = 0; i < dms[d].n_sysext; i++)
			measured |= dms[d].sysext[i].content_measured;
	if (sets && strcmp(value, "13") != 0)
		V("StubPcrInitRDSysExts is \"%s\"", value);
	if (exact && measured != (sets > 0))
		V("StubPcrInitRDSysExts %s, but %s went into PCR 13", sets ? "set" : "not set",
		  measured ? "a content event" : "no content event");
}

/* A one-file literal archive (.extra/@name) with @data, if its pages can be had. */
static size_t literal_item(const struct glue_run *run, const char *name, const void *data, UINT64 size,
			   struct item *it)
{
	const char *names[1] = { name };
	uint64_t sizes[1] = { size }, planned;

	if (sysext_archive_plan(&companion_literal_layout, names, sizes, 1, &planned) != MS_OK ||
	    EFI_SIZE_TO_PAGES(planned) > pages_limit(run->setup))
		return 0;
	snprintf(it->path, sizeof(it->path), INITRD_EXTRA_PREFIX "/%s", name);
	it->data = data;
	it->size = size;
	it->known = size;
	return 1;
}

/* signatures.c: the section alone byte for byte, or the merge of it and every signature file read. */
static void check_signatures(const struct glue_run *run, const struct dir_model dms[GLUE_DIRS], BOOLEAN exact)
{
	const struct glue_setup *s = run->setup;
	struct pcrsig_fragment frags[1 + GLUE_DIRS * EXT_SIGNATURE_MAX_FILES];
	struct json_token *tokens = NULL;
	char *doc = NULL;
	size_t n = 0, n_files = 0, max_len = 0, total = 0, entries = 0, doc_len = 0, items = 0;
	struct item it;

	memset(frags, 0, sizeof(frags));
	if (s->pcrsig && s->pcrsig_size)
		frags[n++] = (struct pcrsig_fragment){ .data = s->pcrsig, .len = s->pcrsig_size };
	for (int d = 0; d < GLUE_DIRS; d++)
		for (size_t i = 0; dms[d].listed && i < dms[d].n_sig; i++)
			if (dms[d].sig[i].readable) {
				frags[n++] = (struct pcrsig_fragment){ .data = dms[d].sig[i].opens->data,
								       .len = dms[d].sig[i].size };
				n_files++;
			}
	if (n_files == 0) {
		if (n == 1)
			items = literal_item(run, INITRD_PCR_SIGNATURE_FILE, s->pcrsig, s->pcrsig_size, &it);
	} else {
		if (n > n_files && s->pcrsig_size > PCRSIG_SECTION_MERGE_MAX)
			frags[0].len = 0;
		for (size_t i = 0; i < n; i++) {
			max_len = frags[i].len > max_len ? frags[i].len : max_len;
			total += frags[i].len;
		}
		tokens = calloc(JSON_TOKENS_FOR(max_len), sizeof(*tokens));
		doc = malloc(pcrsig_merged_bound(total, n));
		if (!tokens || !doc)
			abort();
		if (pcrsig_merge(frags, n, tokens, JSON_TOKENS_FOR(max_len), doc, pcrsig_merged_bound(total, n), &doc_len) ==
		    MS_OK)
			for (size_t i = 0; i < n; i++)
				entries += frags[i].entries;
		if (entries)
			items = literal_item(run, INITRD_PCR_SIGNATURE_FILE, doc, doc_len, &it);
	}
	check_archive(run, GLUE_ARCHIVE_SIGNATURES, INITRD_EXTRA_PREFIX, &it, items, exact, NULL, FALSE,
		      "signature archive");
	free(tokens);
	free(doc);
}

/* ------------------------------------------------------------ memory, handles, console */

/*
 * What a planned extension archive holds until the fill: itself, the directory it shares with the
 * archives of the directory's other kinds (the glue plans one kind per directory), and the selection.
 */
#define LAZY_POOL_BLOCKS 3

static void check_resources(const struct glue_run *run)
{
	UINT64 pages = 0;
	size_t allocs = 0;

	for (int a = 0; a < GLUE_ARCHIVES; a++)
		if (run->archives[a].pages) {
			allocs++;
			pages += run->archives[a].pages;
		}
	if (run->after_collect.pool_blocks != LAZY_POOL_BLOCKS * run->lazy_planned)
		V("%zu pool block(s), %lu bytes, still allocated after the glue finished; %zu planned archive(s)",
		  run->after_collect.pool_blocks, (unsigned long)run->after_collect.pool_bytes, run->lazy_planned);
	if (run->after_collect.page_allocs != allocs || run->after_collect.pages != pages)
		V("%zu page allocation(s) of %lu pages live after the glue; its archives hold %zu of %lu pages",
		  run->after_collect.page_allocs, (unsigned long)run->after_collect.pages, allocs, (unsigned long)pages);
	/* mem.c asks the pool for its header too, so both count the same bytes. */
	if (run->held_after_collect - run->held_before !=
	    run->after_collect.pool_bytes + run->after_collect.pages * EFI_PAGE_SIZE)
		V("mem.c counts %lu bytes held after the glue, the firmware %lu",
		  (unsigned long)(run->held_after_collect - run->held_before),
		  (unsigned long)(run->after_collect.pool_bytes + run->after_collect.pages * EFI_PAGE_SIZE));
	if (run->after_release.pool_blocks || run->after_release.page_allocs)
		V("after the handover: %zu pool block(s), %zu page allocation(s) never freed",
		  run->after_release.pool_blocks, run->after_release.page_allocs);
	if (run->held_after_release != run->held_before)
		V("mem.c counts %ld bytes more held after the handover than before",
		  (long)(run->held_after_release - run->held_before));
	if (run->handles_after_collect != run->lazy_planned)
		V("%zu file handle(s) open after the glue, %zu planned archive(s) hold one each", run->handles_after_collect,
		  run->lazy_planned);
	if (run->handles_after_release)
		V("%zu file handle(s) left open after the handover", run->handles_after_release);
	if (efi_host_log_unsafe_lines())
		V("%zu log line(s) with a control character", efi_host_log_unsafe_lines());
	for (size_t i = 0; i < efi_host_log_count(); i++)
		if (strncmp(efi_host_log_line(i), "sysext-stub: ", 13) != 0)
			V("log line without the prefix: %s", efi_host_log_line(i));
}

/* A kept name as the console stores it: DEL (the one control character such a name may hold) escaped. */
static void console_name(const char *name, char *out, size_t cap)
{
	size_t k = 0;

	for (; *name && k + 5 < cap; name++) {
		if (*name == 0x7f)
			k += (size_t)snprintf(out + k, cap - k, "\\x7f");
		else
			out[k++] = *name;
	}
	out[k] = 0;
}

/* Each file kept by the rule but not handed over has its one line saying why. */
static void check_skip_lines(const struct dir_model *dm, BOOLEAN can_measure)
{
	char needle[2048], name[4 * EXT_NAME_MAX + 1];

	for (size_t i = 0; i < dm->n_sysext + dm->n_sig; i++) {
		const struct exp_file *f = i < dm->n_sysext ? &dm->sysext[i] : &dm->sig[i - dm->n_sysext];

		console_name(f->name, name, sizeof(name));
		if (!f->readable)
			snprintf(needle, sizeof(needle), "%s\\%s: %s, cannot read it", dm->path, name,
				 i < dm->n_sysext ? "handed over zero-filled" : "skipped");
		else if (can_measure && f->measure_failed)
			snprintf(needle, sizeof(needle), "%s\\%s: handed over zero-filled, measuring it failed", dm->path,
				 name);
		else
			continue;
		if (efi_host_log_find(needle) != 1)
			V("expected one log line \"%s\", found %zu", needle, efi_host_log_find(needle));
	}
}

size_t glue_check(const struct glue_run *run)
{
	const struct glue_setup *s = run->setup;
	struct dir_model *dms = calloc(GLUE_DIRS, sizeof(*dms));
	BOOLEAN exact = !degraded(s), expect_measure = s->tpm.cc || (s->tpm.tcg2 && s->tpm.tpm_present);
	struct walker w = { .run = run, .cc = s->tpm.cc, .tpm = s->tpm.tcg2 && s->tpm.tpm_present };

	if (!dms)
		abort();
	if (run->can_measure != expect_measure)
		V("measurer_init said %s", run->can_measure ? "it can measure" : "it cannot measure");
	if (EFI_ERROR(run->root_status) != (s->fs && memfs_root(s->fs)->faults.open_status != 0) && exact)
		V("esp_open_root returned 0x%lx", (unsigned long)run->root_status);
	for (int d = 0; d < GLUE_DIRS; d++) {
		model_dir(run, d, &dms[d]);
		if (exact)
			walk_dir(&w, d, &dms[d]);
	}
	if (exact && !w.lost && w.at != tpm_fake_event_count())
		V("%zu measurement(s) beyond the model's %zu; the first: %s", tpm_fake_event_count() - w.at, w.at,
		  tpm_fake_event(w.at)->desc);
	if (!run->can_measure && tpm_fake_event_count())
		V("%zu measurement(s) without a TPM", tpm_fake_event_count());
	for (int d = 0; d < GLUE_DIRS; d++) {
		check_sysexts(run, d, &dms[d], exact);
		if (exact && dms[d].listed)
			check_skip_lines(&dms[d], run->can_measure);
	}
	check_signatures(run, dms, exact);
	check_pcr_variable(dms, exact);
	{
		struct item it;
		size_t n = s->pcrpkey && s->pcrpkey_size ?
				   literal_item(run, INITRD_PCR_PUBLIC_KEY_FILE, s->pcrpkey, s->pcrpkey_size, &it) : 0;

		check_archive(run, GLUE_ARCHIVE_PUBLIC_KEY, INITRD_EXTRA_PREFIX, &it, n, exact, NULL, FALSE,
			      "public-key archive");
	}
	if (run->initrd && s->embedded_initrd_size &&
	    memcmp(run->initrd + run->embedded_offset, s->embedded_initrd, s->embedded_initrd_size) != 0)
		V("the embedded .initrd is not handed over as it is");
	check_resources(run);
	free(dms);
	return efi_host_violation_count();
}
