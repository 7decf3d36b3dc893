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

#include "measure/sysext-archive.h"
#include "util.h"

#define READ_CHUNK (4u << 20)
#define STR_(x) #x
#define STR(x) STR_(x)

void sysext_set_init(struct sysext_set *s, const char *prefix, enum ext_rule rule, bool limits, size_t dir_len)
{
	memset(s, 0, sizeof(*s));
	s->prefix = prefix;
	s->rule = rule;
	s->limits = limits;
	s->dir_len = dir_len;
}

void sysext_set_free(struct sysext_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->files[i].path);
	free(s->files);
	memset(s, 0, sizeof(*s));
}

/* The name as the firmware would report it (bytes >= 0x80 become non-ASCII units), below a @dir_len path. */
static enum ext_verdict classify(const struct sysext_set *s, const char *name, bool is_dir, size_t dir_len)
{
	uint16_t u[EXT_NAME_MAX + 2];
	size_t len = strlen(name);

	if (len > EXT_NAME_MAX)
		return EXT_SKIP_TOO_LONG;
	for (size_t i = 0; i < len; i++)
		u[i] = (uint8_t)name[i];
	return ext_classify_rule(u, len, is_dir, dir_len, s->rule);
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

static int add_path(struct sysext_set *s, const char *path, const char *name, uint64_t size)
{
	struct sysext_file *f;

	if (find(s, name))
		return errorf("%s: a second extension named %s", path, name);
	f = append(s, name);
	if (!f)
		return -1;
	f->path = strdup(path);
	f->size = size;
	return f->path ? 0 : errorf("out of memory");
}

int sysext_set_add_dir(struct sysext_set *s, const char *dir, bool verbose)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int r = 0;

	if (!d)
		return errorf("%s: cannot open directory: %s", dir, strerror(errno));
	while (r == 0 && (errno = 0, de = readdir(d))) {
		char path[4096];
		struct stat st;
		enum ext_verdict v;

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
		v = classify(s, de->d_name, S_ISDIR(st.st_mode), s->dir_len);
		if (v == EXT_PICK && !S_ISREG(st.st_mode))
			v = EXT_SKIP_DIRECTORY; /* sockets, devices: nothing a FAT ESP could hold */
		if (v == EXT_SKIP_PATH_TOO_LONG && S_ISREG(st.st_mode) && classify(s, de->d_name, false, 0) == EXT_PICK) {
			/* An extension the stub lists but skips before its limits: a warning, like them. */
			warnf("%s: skipped by the stub: %s", path, ext_verdict_reason(v));
			continue;
		}
		if (v != EXT_PICK) {
			if (verbose)
				fprintf(stderr, "sysext-stub: %s: skipped, %s\n", path, ext_verdict_reason(v));
			continue;
		}
		r = add_path(s, path, de->d_name, (uint64_t)st.st_size);
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
	v = classify(s, name, false, s->dir_len);
	if (v != EXT_PICK)
		return errorf("%s: the stub would skip this file: %s", path, ext_verdict_reason(v));
	return add_path(s, path, name, (uint64_t)st.st_size);
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

int sysext_set_add_manifest(struct sysext_set *s, const char *path)
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
		v = classify(s, name, false, s->dir_len);
		if (v != EXT_PICK) {
			r = errorf("%s:%u: %s: the stub would skip this file: %s", path, lineno, name, ext_verdict_reason(v));
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

static int compare_files(const void *a, const void *b)
{
	return ext_name_compare(((const struct sysext_file *)a)->name, ((const struct sysext_file *)b)->name);
}

int sysext_set_finish(struct sysext_set *s)
{
	uint64_t total = 0;
	size_t kept = 0;

	if (s->n > 1)
		qsort(s->files, s->n, sizeof(*s->files), compare_files);
	s->sorted = true;
	/* systemd-stub (no limits) fails the whole directory on a file cpio cannot describe. */
	for (size_t i = 0; !s->limits && i < s->n; i++)
		if (s->files[i].size > EXT_FILE_SIZE_MAX) {
			warnf("%s: 4 GiB or larger: systemd-stub drops every extension of %s", s->files[i].path,
			      s->prefix);
			for (size_t k = 0; k < s->n; k++)
				free(s->files[k].path);
			s->n = 0;
			return 0;
		}
	/* The stub's limits, in the stub's order (stub/sysext.c list_dir). */
	for (size_t i = 0; i < s->n; i++) {
		struct sysext_file *f = &s->files[i];
		const char *why = NULL;

		if (f->size > EXT_FILE_SIZE_MAX)
			why = "4 GiB or larger";
		else if (s->limits && kept >= EXT_MAX_FILES)
			why = "more than " STR(EXT_MAX_FILES) " extensions";
		else if (s->limits && !ext_fits_total(&total, f->size))
			why = "extensions would exceed the total-size limit";
		if (why) {
			warnf("%s: skipped by the stub: %s", f->path ? f->path : f->name, why);
			free(f->path);
			continue;
		}
		s->files[kept++] = *f;
	}
	s->n = kept;
	return 0;
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
			m = sysext_archive_plan(s->prefix, names, sizes, s->n, &planned);
			if (m != MS_OK)
				r = errorf("%s: cannot lay out the archive: %s", s->prefix, ms_strerror(m));
			else if (s->n > 0 && !(buf = malloc(planned)))
				r = errorf("%s: cannot allocate %llu bytes for the archive", s->prefix,
					   (unsigned long long)planned);
			else if (s->n > 0 && (m = sysext_archive_fill(buf, planned, s->prefix, names, sizes, s->n,
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
