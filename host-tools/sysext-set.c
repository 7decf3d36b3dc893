/* SPDX-License-Identifier: MIT */
#include "sysext-set.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "measure/selection.h"
#include "measure/sysext-archive.h"
#include "util.h"

#define READ_CHUNK (4u << 20)

static void init_kind(struct sysext_set *s, enum ext_kind kind, enum sel_dir_role role,
		      const struct archive_layout *layout, enum ext_rule rule, bool limits, size_t dir_len)
{
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->role = role;
	s->layout = layout;
	s->prefix = layout->prefix;
	s->rule = rule;
	s->limits = limits;
	s->dir_len = dir_len;
}

void sysext_set_init(struct sysext_set *s, const struct companion_target *t, enum ext_rule rule, bool limits,
		     size_t dir_len)
{
	init_kind(s, t->kind, t->role, &t->layout, rule, limits, dir_len);
}

void sysext_set_init_signatures(struct sysext_set *s, enum sel_dir_role role, size_t dir_len)
{
	init_kind(s, EXT_KIND_SIGNATURE, role, &companion_literal_layout, EXT_RULE_SYSEXT_STUB, true, dir_len);
}

void sysext_set_init_addons(struct sysext_set *s, enum sel_dir_role role, enum ext_rule rule, bool limits,
			    size_t dir_len)
{
	init_kind(s, EXT_KIND_ADDON, role, &companion_literal_layout, rule, limits, dir_len);
}

void sysext_set_free(struct sysext_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->files[i].path);
	free(s->files);
	memset(s, 0, sizeof(*s));
}

/* The kinds a directory holds under the set's rule: all are selected together, as the stub does. */
static unsigned kinds_of(const struct sysext_set *s)
{
	return sel_dir_kinds(s->role, s->rule);
}

/* A host file name as the firmware would report it: each byte one UTF-16 unit (EXT_NAME_MAX + 1 are enough to judge). */
static size_t to_units(const char *name, uint16_t u[EXT_NAME_MAX + 1])
{
	size_t len = 0;

	while (name[len] && len < EXT_NAME_MAX + 1) {
		u[len] = (uint8_t)name[len];
		len++;
	}
	return len;
}

/* The name's verdict in the set's directory, and in *ret_kind the kind it is taken as there. */
static enum ext_verdict classify_kind(const struct sysext_set *s, const char *name, enum ext_kind *ret_kind)
{
	uint16_t u[EXT_NAME_MAX + 1];
	size_t len = to_units(name, u);

	return ext_classify_kind(u, len, 0, s->dir_len, s->rule, kinds_of(s), ret_kind);
}

/* The kind a name's suffix names under the set's rule, in whichever directory (EXT_KIND_NONE if none). */
static enum ext_kind name_kind(const struct sysext_set *s, const char *name)
{
	uint16_t u[EXT_NAME_MAX + 1];
	size_t len = to_units(name, u);
	enum ext_kind kind;

	(void)ext_classify_kind(u, len, 0, 0, s->rule, (1u << EXT_KINDS) - 1, &kind);
	return kind;
}

/* Whether the selection takes a name as the set's kind, and if not, why not (sizes aside). */
static enum ext_verdict classify(const struct sysext_set *s, const char *name)
{
	enum ext_kind kind;
	enum ext_verdict v = classify_kind(s, name, &kind);

	return v == EXT_PICK && kind != s->kind ? EXT_SKIP_OTHER_SUFFIX : v;
}

static struct sysext_file *find(struct sysext_set *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->files[i].name, name) == 0)
			return &s->files[i];
	return NULL;
}

static struct sysext_file *append(struct sysext_set *s, const char *name)
{
	struct sysext_file *f, *grown = realloc(s->files, (s->n + 1) * sizeof(*s->files));

	if (!grown) {
		errorf("out of memory");
		return NULL;
	}
	s->files = grown;
	f = &s->files[s->n++];
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", name);
	return f;
}

static int add_path(struct sysext_set *s, const char *path, const char *name, uint64_t size, bool not_a_file)
{
	struct sysext_file *f;

	if (find(s, name))
		return errorf("%s: a second file named %s", path, name);
	f = append(s, name);
	if (!f)
		return -1;
	f->path = strdup(path);
	f->size = size;
	f->not_a_file = not_a_file;
	return f->path ? 0 : errorf("out of memory");
}

int sysext_set_add_dir(struct sysext_set *s, const char *dir, bool verbose)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int r = 0;

	if (!d)
		return errorf("%s: cannot open directory: %s", dir, strerror(errno));
	s->verbose |= verbose;
	/* Every entry is recorded; sysext_set_finish() offers them all to the selection, as the stub does. */
	while (r == 0 && (errno = 0, de = readdir(d))) {
		char path[4096];
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path)) {
			r = errorf("%s/%s: path too long", dir, de->d_name);
			break;
		}
		if (stat(path, &st) < 0) {
			r = errorf("%s: %s", path, strerror(errno));
			break;
		}
		/* Sockets, devices: nothing a FAT ESP could hold; offered as directories are (skipped). */
		r = add_path(s, path, de->d_name, (uint64_t)st.st_size, !S_ISREG(st.st_mode));
	}
	if (r == 0 && errno)
		r = errorf("%s: cannot read directory: %s", dir, strerror(errno));
	closedir(d);
	return r;
}

int sysext_set_add_file(struct sysext_set *s, const char *path)
{
	const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	struct stat st;
	enum ext_verdict v;

	if (stat(path, &st) < 0)
		return errorf("%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return errorf("%s: not a regular file", path);
	v = classify(s, name);
	/* The path is the user's own words: named as given. */
	if (v != EXT_PICK)
		return errorf("%s: the stub would skip this file: %s", path, ext_verdict_reason(v));
	return add_path(s, path, name, (uint64_t)st.st_size, false);
}

/* A "<hex>  <name>" line whose digest fits no bank: name the bank it comes closest to. */
static int wrong_digest_length(const char *path, unsigned lineno, size_t hex_len)
{
	const struct bank *near = &banks[0];

	for (size_t i = 1; i < BANK_COUNT; i++)
		if (labs((long)(2 * banks[i].size) - (long)hex_len) < labs((long)(2 * near->size) - (long)hex_len))
			near = &banks[i];
	return errorf("%s:%u: a digest of %zu hex digits, the wrong length for %s (%zu hex digits; "
		      "sha1, sha256, sha384 and sha512 digests have 40, 64, 96 and 128)",
		      path, lineno, hex_len, near->name, 2 * near->size);
}

int sysext_set_add_manifest(struct sysext_set *s, const char *path, unsigned other_kinds)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned lineno = 0;
	int r = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		return errorf("%s: %s", path, strerror(errno));
	while (r == 0 && (errno = 0, n = getline(&line, &cap, f)) >= 0) {
		char *name, *hex = line, *nl = strpbrk(line, "\r\n");
		const struct bank *b = NULL;
		struct sysext_file *e;
		size_t hex_len;
		enum ext_verdict v;
		enum ext_kind kind;

		lineno++;
		/* A NUL would silently cut the name short: "a.sysext.raw\0junk" is not a.sysext.raw. */
		if (strlen(line) != (size_t)n) {
			r = errorf("%s:%u: contains a NUL byte", path, lineno);
			break;
		}
		if (nl)
			*nl = 0;
		if (!*line || *line == '#')
			continue;
		hex_len = strspn(hex, "0123456789abcdefABCDEF");
		for (size_t i = 0; i < BANK_COUNT; i++)
			if (hex_len == 2 * banks[i].size)
				b = &banks[i];
		if (hex[hex_len] != ' ' || (hex[hex_len + 1] != ' ' && hex[hex_len + 1] != '*') || hex_len == 0) {
			r = errorf("%s:%u: not a \"<hex digest>  <name>\" line", path, lineno);
			break;
		}
		if (!b) {
			r = wrong_digest_length(path, lineno, hex_len);
			break;
		}
		hex[hex_len] = 0;
		name = hex + hex_len + 2;
		if (strrchr(name, '/'))
			name = strrchr(name, '/') + 1;
		v = classify_kind(s, name, &kind);
		kind = name_kind(s, name);
		if (kind != EXT_KIND_NONE && kind != s->kind && (other_kinds & EXT_KIND_BIT(kind)))
			continue; /* another set of the same manifest reads this line */
		if (v == EXT_PICK && kind != s->kind)
			v = EXT_SKIP_OTHER_SUFFIX;
		if (v != EXT_PICK) {
			char *shown = shown_text(name);

			r = errorf("%s:%u: %s: the stub would skip this file: %s", path, lineno, SHOWN(shown),
				   ext_verdict_reason(v));
			shown_free(shown);
			break;
		}
		e = find(s, name);
		if (e && e->path) {
			r = errorf("%s:%u: %s is also given as a file", path, lineno, name);
			break;
		}
		if (!e && !(e = append(s, name))) {
			r = -1;
			break;
		}
		if (e->digest_mask & (1u << bank_index(b))) {
			r = errorf("%s:%u: %s listed twice", path, lineno, name);
			break;
		}
		(void)hex_decode(hex, e->digest[bank_index(b)], b->size);
		e->digest_mask |= 1u << bank_index(b);
	}
	if (r == 0 && ferror(f))
		r = errorf("%s: read error: %s", path, errno ? strerror(errno) : "unknown");
	free(line);
	fclose(f);
	return r;
}

struct finish_ctx {
	const struct sysext_set *set;
};

/* The stub logs every skip; the host warns about files of the set's kind and notes the rest with --verbose. */
static void report_skip(void *ctx_, const struct sel_skip *skip)
{
	const struct finish_ctx *ctx = ctx_;
	const struct sysext_file *f = &ctx->set->files[skip->tag];
	/* The directory is the user's own words; the entry's name may hold bytes a terminal acts on. */
	int dir_len = f->path ? (int)(strlen(f->path) - strlen(f->name)) : 0;
	char *shown = shown_text(f->name);

	if (skip->kind == ctx->set->kind)
		warnf("%.*s%s: skipped by the stub: %s", dir_len, f->path ? f->path : "", SHOWN(shown), skip->reason);
	else if (skip->kind == EXT_KIND_NONE && ctx->set->verbose)
		fprintf(stderr, "sysext-stub: %.*s%s: skipped, %s\n", dir_len, f->path ? f->path : "", SHOWN(shown),
			skip->reason);
	shown_free(shown);
}

int sysext_set_finish(struct sysext_set *s)
{
	struct sel_storage storage[EXT_KINDS] = { { 0 } };
	struct finish_ctx ctx = { .set = s };
	struct sel_dir *sel = calloc(1, sizeof(*sel));
	struct sysext_file *kept = NULL;
	size_t n_kept = 0;
	int r = -1;

	s->sorted = true;
	if (!sel)
		return errorf("out of memory");
	for (int k = 0; k < EXT_KINDS; k++) {
		size_t cap = sel_capacity(k, s->limits, s->n);

		storage[k] = (struct sel_storage){ .slots = calloc(cap + 1, sizeof(struct sel_file)),
						   .order = calloc(cap + 1, sizeof(struct sel_file *)), .cap = cap };
		if (!storage[k].slots || !storage[k].order) {
			errorf("out of memory");
			goto out;
		}
	}
	if (sel_dir_init(sel, s->dir_len, s->rule, kinds_of(s), s->limits, storage, report_skip, &ctx) != MS_OK) {
		errorf("internal error: selection storage");
		goto out;
	}
	/* Offered in the order they were given; the selection's result does not depend on it. */
	for (size_t i = 0; i < s->n; i++)
		(void)sel_dir_offer8(sel, s->files[i].name, s->files[i].size, s->files[i].not_a_file, i);
	sel_dir_finish(sel);

	n_kept = sel_dir_count(sel, s->kind);
	kept = calloc(n_kept + 1, sizeof(*kept));
	if (!kept) {
		errorf("out of memory");
		goto out;
	}
	for (size_t i = 0; i < n_kept; i++) {
		struct sysext_file *f = &s->files[sel_dir_file(sel, s->kind, i)->tag];

		kept[i] = *f;
		f->path = NULL; /* moved */
	}
	for (size_t i = 0; i < s->n; i++)
		free(s->files[i].path);
	free(s->files);
	s->files = kept;
	s->n = n_kept;
	r = 0;
out:
	for (int k = 0; k < EXT_KINDS; k++) {
		free(storage[k].slots);
		free(storage[k].order);
	}
	free(sel);
	return r;
}

bool sysext_set_has_bytes(const struct sysext_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (!s->files[i].path)
			return false;
	return true;
}

bool sysext_set_can_digest(const struct sysext_set *s, size_t bank_i)
{
	for (size_t i = 0; i < s->n; i++)
		if (!s->files[i].path && !(s->files[i].digest_mask & (1u << bank_i)))
			return false;
	return true;
}

/* ---------------------------------------------------------------- reading */

struct read_job {
	struct sysext_set *set;
	unsigned mask;
	uint8_t **slots; /* per file: where its bytes go in the archive, or NULL */
	size_t next;
	int failed;
	pthread_mutex_t lock;
};

/* Read @f once, feeding every bank; into @slot when given, else through a bounce buffer. */
static int read_one(struct sysext_file *f, unsigned mask, uint8_t *slot)
{
	struct multi_digest md;
	uint8_t out[BANK_COUNT][DIGEST_MAX];
	uint8_t *bounce = NULL;
	uint64_t done = 0;
	int fd, r = -1;

	fd = open(f->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errorf("%s: %s", f->path, strerror(errno));
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if (!slot && !(bounce = malloc(READ_CHUNK))) {
		close(fd);
		return errorf("out of memory");
	}
	if (multi_digest_init(&md, mask) < 0)
		goto out;
	while (done < f->size) {
		uint64_t want = f->size - done < READ_CHUNK ? f->size - done : READ_CHUNK;
		uint8_t *p = slot ? slot + done : bounce;
		ssize_t n = read(fd, p, want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			errorf("%s: %s", f->path, n < 0 ? strerror(errno) : "file shrank while being read");
			multi_digest_free(&md);
			goto out;
		}
		if (multi_digest_update(&md, p, (size_t)n) < 0) {
			multi_digest_free(&md);
			goto out;
		}
		done += (uint64_t)n;
	}
	if (multi_digest_final(&md, out) < 0)
		goto out;
	/* A file is never also a manifest entry (sysext_set_add_manifest refuses that): no digest to check. */
	for (size_t i = 0; i < BANK_COUNT; i++)
		if (mask & (1u << i)) {
			memcpy(f->digest[i], out[i], banks[i].size);
			f->digest_mask |= 1u << i;
		}
	r = 0;
out:
	free(bounce);
	close(fd);
	return r;
}

int sysext_file_hash(struct sysext_file *f, unsigned mask)
{
	return read_one(f, mask, NULL);
}

static void *read_worker(void *arg)
{
	struct read_job *job = arg;

	for (;;) {
		size_t i;

		pthread_mutex_lock(&job->lock);
		i = job->failed ? job->set->n : job->next++;
		pthread_mutex_unlock(&job->lock);
		if (i >= job->set->n)
			return NULL;
		if (!job->set->files[i].path)
			continue;
		if (read_one(&job->set->files[i], job->mask, job->slots ? job->slots[i] : NULL) < 0) {
			pthread_mutex_lock(&job->lock);
			job->failed = 1;
			pthread_mutex_unlock(&job->lock);
		}
	}
}

struct slot_ctx {
	uint8_t **slots;
};

/* Fill pass: only record where each file goes; the workers read into it afterwards. */
static int record_slot(void *ctx_, size_t index, const char *path, uint8_t *data, uint64_t size)
{
	struct slot_ctx *ctx = ctx_;

	(void)path;
	(void)size;
	ctx->slots[index] = data;
	return 1;
}

int sysext_set_read(struct sysext_set *s, unsigned mask, unsigned threads, uint8_t **archive, uint64_t *archive_size)
{
	struct read_job job = { .set = s, .mask = mask, .lock = PTHREAD_MUTEX_INITIALIZER };
	pthread_t tids[64];
	unsigned started = 0;
	uint8_t *buf = NULL;
	int r = 0;

	if (archive) {
		const char **names = calloc(s->n + 1, sizeof(*names));
		uint64_t *sizes = calloc(s->n + 1, sizeof(*sizes)), planned = 0, size = 0;
		struct slot_ctx ctx = { .slots = calloc(s->n + 1, sizeof(uint8_t *)) };
		size_t kept = 0;
		ms_status m;

		*archive = NULL;
		*archive_size = 0;
		if (!names || !sizes || !ctx.slots) {
			r = errorf("out of memory");
		} else {
			for (size_t i = 0; i < s->n; i++) {
				names[i] = s->files[i].name;
				sizes[i] = s->files[i].size;
			}
			m = sysext_archive_plan(s->layout, names, sizes, s->n, &planned);
			if (m != MS_OK)
				r = errorf("%s: cannot lay out the archive: %s", s->prefix, ms_strerror(m));
			else if (s->n > 0 && !(buf = malloc(planned)))
				r = errorf("%s: cannot allocate %llu bytes for the archive", s->prefix,
					   (unsigned long long)planned);
			else if (s->n > 0 && (m = sysext_archive_fill(buf, planned, s->layout, names, sizes, s->n,
								      record_slot, &ctx, &size, &kept)) != MS_OK)
				r = errorf("%s: cannot lay out the archive: %s", s->prefix, ms_strerror(m));
		}
		free(names);
		free(sizes);
		job.slots = ctx.slots;
		*archive_size = size;
		if (r < 0) {
			free(buf);
			free(ctx.slots);
			return r;
		}
	}

	if (threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		threads = n > 0 ? (unsigned)n : 1;
	}
	if (threads > sizeof(tids) / sizeof(tids[0]))
		threads = sizeof(tids) / sizeof(tids[0]);
	if (threads > s->n)
		threads = (unsigned)s->n;
	for (; started < threads; started++)
		if (pthread_create(&tids[started], NULL, read_worker, &job) != 0)
			break;
	if (started == 0 && s->n > 0)
		read_worker(&job);
	for (unsigned i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	free(job.slots);
	if (job.failed) {
		free(buf);
		return -1;
	}
	if (archive)
		*archive = buf;
	return 0;
}
