/* SPDX-License-Identifier: MIT */
/*
 * pcrlock-components.c - systemd-pcrlock components: build, write as the
 * .pcrlock.d tree, print as JSON, read back (pcrlock-components.h).
 *
 * The file format is systemd-pcrlock's (src/pcrlock/pcrlock.c, v255 to
 * 262): an object whose "records" array holds {"pcr":N,"digests":[...]}
 * objects, each digest {"hashAlg":"sha256","digest":"<hex>"}. Variants of
 * a component are the VARIANT.pcrlock files of NNN-name.pcrlock.d/; their names
 * (without .pcrlock) are the variant ids systemd-pcrlock prints.
 */
#include "pcrlock-components.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json-writer.h"
#include "util.h"
#include "measure/json.h"

#define PCRLOCK_SUFFIX ".pcrlock"
#define PCRLOCK_DIR_SUFFIX ".pcrlock.d"
#define PCRLOCK_FILE_MAX (16u << 20)
#define PCRLOCK_ID_MAX 200

bool pcrlock_id_ok(const char *id)
{
	size_t n = strlen(id);

	return n > 0 && n <= PCRLOCK_ID_MAX && !strchr(id, '/') && strcmp(id, ".") != 0 && strcmp(id, "..") != 0 &&
	       json_text_ok(id);
}

struct pcrlock_component *pcrlock_component(struct pcrlock_set *s, const char *id)
{
	struct pcrlock_component *grown;
	size_t at = 0;

	while (at < s->n_components && strcmp(s->components[at].id, id) < 0)
		at++;
	if (at < s->n_components && strcmp(s->components[at].id, id) == 0)
		return &s->components[at];
	grown = realloc(s->components, (s->n_components + 1) * sizeof(*grown));
	if (!grown) {
		errorf("out of memory");
		return NULL;
	}
	s->components = grown;
	memmove(grown + at + 1, grown + at, (s->n_components - at) * sizeof(*grown));
	grown[at] = (struct pcrlock_component){ .id = strdup(id) };
	if (!grown[at].id) {
		memmove(grown + at, grown + at + 1, (s->n_components - at) * sizeof(*grown));
		errorf("out of memory");
		return NULL;
	}
	s->n_components++;
	return &grown[at];
}

static bool records_equal(const struct pcrlock_record *a, size_t na, const struct pcrlock_record *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++) {
		if (a[i].pcr != b[i].pcr || a[i].banks != b[i].banks)
			return false;
		for (size_t k = 0; k < BANK_COUNT; k++)
			if ((a[i].banks & (1u << k)) && memcmp(a[i].digest[k], b[i].digest[k], banks[k].size) != 0)
				return false;
	}
	return true;
}

const struct pcrlock_variant *pcrlock_find_variant(const struct pcrlock_component *c, const struct pcrlock_record *records,
						   size_t n)
{
	for (size_t i = 0; i < c->n_variants; i++)
		if (records_equal(c->variants[i].records, c->variants[i].n_records, records, n))
			return &c->variants[i];
	return NULL;
}

static void variant_free(struct pcrlock_variant *v)
{
	for (size_t i = 0; i < v->n_records; i++)
		free(v->records[i].description);
	free(v->records);
	free(v->id);
}

int pcrlock_add_variant(struct pcrlock_component *c, const char *id, const struct pcrlock_record *records, size_t n)
{
	struct pcrlock_variant v = { 0 }, *grown;

	if (pcrlock_find_variant(c, records, n))
		return 0;
	for (size_t i = 0; i < c->n_variants; i++)
		if (strcmp(c->variants[i].id, id) == 0)
			return errorf("component %s: two different variants are both named '%s'", c->id, id);
	if (!pcrlock_id_ok(id))
		return errorf("component %s: '%s' cannot name a variant (a file name of 1 to %u bytes, UTF-8)", c->id,
			      id, PCRLOCK_ID_MAX);
	v.id = strdup(id);
	v.records = calloc(n + 1, sizeof(*v.records));
	grown = realloc(c->variants, (c->n_variants + 1) * sizeof(*grown));
	if (grown)
		c->variants = grown;
	if (!v.id || !v.records || !grown) {
		variant_free(&v);
		return errorf("out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		v.records[i] = records[i];
		v.records[i].description = NULL;
		if (records[i].description && !(v.records[i].description = strdup(records[i].description))) {
			v.n_records = i;
			variant_free(&v);
			return errorf("out of memory");
		}
	}
	v.n_records = n;
	c->variants[c->n_variants++] = v;
	return 1;
}

void pcrlock_set_free(struct pcrlock_set *s)
{
	for (size_t i = 0; i < s->n_components; i++) {
		for (size_t k = 0; k < s->components[i].n_variants; k++)
			variant_free(&s->components[i].variants[k]);
		free(s->components[i].variants);
		free(s->components[i].id);
	}
	free(s->components);
	memset(s, 0, sizeof(*s));
}

/* ---------------------------------------------------------------- writing */

static void write_records(FILE *out, const struct pcrlock_variant *v)
{
	fputs("{\"records\":[", out);
	for (size_t i = 0; i < v->n_records; i++) {
		const struct pcrlock_record *r = &v->records[i];
		bool first = true;

		fprintf(out, "%s{\"pcr\":%u,\"digests\":[", i ? "," : "", r->pcr);
		for (size_t k = 0; k < BANK_COUNT; k++) {
			char hex[2 * DIGEST_MAX + 1];

			if (!(r->banks & (1u << k)))
				continue;
			fprintf(out, "%s{\"hashAlg\":\"%s\",\"digest\":\"%s\"}", first ? "" : ",", banks[k].name,
				hex_encode(r->digest[k], banks[k].size, hex));
			first = false;
		}
		fputs("]}", out);
	}
	fputs("]}", out);
}

void pcrlock_write_variant(FILE *out, const struct pcrlock_variant *v)
{
	write_records(out, v);
	fputc('\n', out);
}

void pcrlock_print_json(FILE *out, const struct pcrlock_set *s)
{
	fputs("{\"components\":[", out);
	for (size_t i = 0; i < s->n_components; i++) {
		const struct pcrlock_component *c = &s->components[i];

		fputs(i ? ",{\"id\":" : "{\"id\":", out);
		json_write_string(out, c->id);
		fputs(",\"variants\":[", out);
		for (size_t k = 0; k < c->n_variants; k++) {
			fputs(k ? ",{\"id\":" : "{\"id\":", out);
			json_write_string(out, c->variants[k].id);
			fputs(",\"pcrlock\":", out);
			write_records(out, &c->variants[k]);
			fputc('}', out);
		}
		fputs("]}", out);
	}
	fputs("]}\n", out);
}

static int make_dir(const char *path)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return errorf("%s: cannot create the directory: %s", path, strerror(errno));
	return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && strcmp(s + n - m, suffix) == 0;
}

static bool is_variant_of(const struct pcrlock_component *c, const char *file)
{
	for (size_t i = 0; i < c->n_variants; i++)
		if (strncmp(file, c->variants[i].id, strlen(c->variants[i].id)) == 0 &&
		    strcmp(file + strlen(c->variants[i].id), PCRLOCK_SUFFIX) == 0)
			return true;
	return false;
}

/* Stale variants in @path: an error naming the first, or (@replace) removed. */
static int clear_stale(const char *path, const struct pcrlock_component *c, bool replace)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int r = 0;

	if (!d)
		return errno == ENOENT ? 0 : errorf("%s: %s", path, strerror(errno));
	while (r == 0 && (e = readdir(d))) {
		char *full;

		if (!ends_with(e->d_name, PCRLOCK_SUFFIX) || is_variant_of(c, e->d_name))
			continue;
		if (!replace) {
			r = errorf("%s/%s: not one of the variants written now, and systemd-pcrlock would approve it "
				   "too; remove it, or give --replace",
				   path, e->d_name);
			break;
		}
		if (asprintf(&full, "%s/%s", path, e->d_name) < 0)
			r = errorf("out of memory");
		else if (unlink(full) < 0)
			r = errorf("%s: cannot remove: %s", full, strerror(errno));
		free(full);
	}
	closedir(d);
	return r;
}

static int write_variant_file(const char *path, const struct pcrlock_variant *v)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	int r;

	if (!m)
		return errorf("out of memory");
	pcrlock_write_variant(m, v);
	if (fclose(m) != 0) {
		free(buf);
		return errorf("out of memory");
	}
	r = write_file_atomic(path, buf, len, 0644);
	free(buf);
	return r;
}

int pcrlock_write_tree(const char *dir, const struct pcrlock_set *s, bool replace)
{
	if (make_dir(dir) < 0)
		return -1;
	for (size_t i = 0; i < s->n_components; i++) {
		const struct pcrlock_component *c = &s->components[i];
		char *cdir = NULL;
		int r = 0;

		if (asprintf(&cdir, "%s/%s" PCRLOCK_DIR_SUFFIX, dir, c->id) < 0)
			return errorf("out of memory");
		r = make_dir(cdir) < 0 || clear_stale(cdir, c, replace) < 0 ? -1 : 0;
		for (size_t k = 0; r == 0 && k < c->n_variants; k++) {
			char *file;

			if (asprintf(&file, "%s/%s" PCRLOCK_SUFFIX, cdir, c->variants[k].id) < 0)
				r = errorf("out of memory");
			else
				r = write_variant_file(file, &c->variants[k]);
			free(file);
		}
		free(cdir);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- reading */

static int parse_digest(const struct json_doc *d, uint32_t obj, const char *path, struct pcrlock_record *rec)
{
	uint32_t alg, hex;
	char name[16], text[2 * DIGEST_MAX + 1];
	const struct bank *b;

	if (json_type(d, obj) != JSON_OBJECT || json_object_get(d, obj, "hashAlg", &alg) != MS_OK ||
	    json_object_get(d, obj, "digest", &hex) != MS_OK || json_type(d, alg) != JSON_STRING ||
	    json_type(d, hex) != JSON_STRING)
		return errorf("%s: a digest must be {\"hashAlg\":NAME,\"digest\":HEX}", path);
	if (json_string_unescape(d, alg, name, sizeof(name), NULL) != MS_OK || !(b = bank_by_name(name)))
		return errorf("%s: unknown hashAlg (sha1, sha256, sha384, sha512)", path);
	if (json_string_unescape(d, hex, text, sizeof(text), NULL) != MS_OK || strlen(text) != 2 * b->size ||
	    hex_decode(text, rec->digest[bank_index(b)], b->size) < 0)
		return errorf("%s: the %s digest is not %zu hex digits", path, b->name, 2 * b->size);
	if (rec->banks & (1u << bank_index(b)))
		return errorf("%s: two %s digests in one record", path, b->name);
	rec->banks |= 1u << bank_index(b);
	return 0;
}

static int parse_record(const struct json_doc *d, uint32_t obj, const char *path, struct pcrlock_record *rec)
{
	uint32_t pcr, digests;
	uint64_t v;

	memset(rec, 0, sizeof(*rec));
	if (json_type(d, obj) != JSON_OBJECT || json_object_get(d, obj, "pcr", &pcr) != MS_OK ||
	    json_uint(d, pcr, 23, &v) != MS_OK)
		return errorf("%s: a record needs \"pcr\": 0 to 23", path);
	rec->pcr = (unsigned)v;
	if (json_object_get(d, obj, "digests", &digests) != MS_OK || json_type(d, digests) != JSON_ARRAY)
		return errorf("%s: a record needs a \"digests\" array", path);
	for (uint32_t e = json_first(d, digests); e != JSON_NONE; e = json_next(d, e))
		if (parse_digest(d, e, path, rec) < 0)
			return -1;
	if (rec->banks == 0)
		return errorf("%s: a record without any digest", path);
	return 0;
}

/* One .pcrlock file as variant @id of @c. */
static int read_variant(const char *path, struct pcrlock_component *c, const char *id)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	struct json_token *tokens = NULL;
	struct json_doc d;
	struct pcrlock_record *recs = NULL;
	uint32_t arr;
	size_t n = 0;
	int r = -1;

	if (read_file(path, PCRLOCK_FILE_MAX, &buf, &len) < 0)
		return -1;
	if (!(tokens = calloc(JSON_TOKENS_FOR(len), sizeof(*tokens)))) {
		errorf("out of memory");
		goto out;
	}
	if (json_parse(&d, buf, len, tokens, JSON_TOKENS_FOR(len)) != MS_OK) {
		errorf("%s: not JSON (at byte %zu: %s)", path, d.error_offset,
		       d.error_reason ? d.error_reason : "cannot parse");
		goto out;
	}
	if (json_type(&d, 0) != JSON_OBJECT) {
		errorf("%s: not a JSON object", path);
		goto out;
	}
	if (json_object_get(&d, 0, "records", &arr) == MS_OK) {
		if (json_type(&d, arr) != JSON_ARRAY) {
			errorf("%s: \"records\" is not an array", path);
			goto out;
		}
		if (!(recs = calloc(json_token(&d, arr)->size + 1, sizeof(*recs)))) {
			errorf("out of memory");
			goto out;
		}
		for (uint32_t e = json_first(&d, arr); e != JSON_NONE; e = json_next(&d, e))
			if (parse_record(&d, e, path, &recs[n++]) < 0)
				goto out;
	}
	/* Identical variants stay separate when read: each is a file the user has. */
	if (pcrlock_find_variant(c, recs, n)) {
		struct pcrlock_variant *grown = realloc(c->variants, (c->n_variants + 1) * sizeof(*grown));
		struct pcrlock_record *copy = calloc(n + 1, sizeof(*copy));

		if (grown)
			c->variants = grown;
		if (!grown || !copy || !(c->variants[c->n_variants].id = strdup(id))) {
			free(copy);
			errorf("out of memory");
			goto out;
		}
		memcpy(copy, recs, n * sizeof(*copy));
		c->variants[c->n_variants].records = copy;
		c->variants[c->n_variants++].n_records = n;
		r = 0;
	} else {
		r = pcrlock_add_variant(c, id, recs, n) < 0 ? -1 : 0;
	}
out:
	free(recs);
	free(tokens);
	free(buf);
	return r;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in @dir ending in @suffix, sorted (systemd's conf-files order). */
static int list_dir(const char *dir, char ***ret, size_t *ret_n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;

	*ret = NULL;
	*ret_n = 0;
	if (!d)
		return errorf("%s: %s", dir, strerror(errno));
	while ((e = readdir(d))) {
		char **grown;

		if (e->d_name[0] == '.')
			continue;
		grown = realloc(names, (n + 1) * sizeof(*names));
		if (!grown || !(grown[n] = strdup(e->d_name))) {
			free(grown ? grown : names);
			closedir(d);
			return errorf("out of memory");
		}
		names = grown;
		n++;
	}
	closedir(d);
	if (n > 1) /* an empty directory leaves names NULL, which qsort must not see */
		qsort(names, n, sizeof(*names), name_cmp);
	*ret = names;
	*ret_n = n;
	return 0;
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* The variants of component @c: the *.pcrlock files in @path. */
static int read_component_dir(const char *path, struct pcrlock_component *c)
{
	char **names;
	size_t n;
	int r;

	if (list_dir(path, &names, &n) < 0)
		return -1;
	r = 0;
	for (size_t i = 0; r == 0 && i < n; i++) {
		char *file;

		if (!ends_with(names[i], PCRLOCK_SUFFIX))
			continue;
		names[i][strlen(names[i]) - strlen(PCRLOCK_SUFFIX)] = 0;
		if (asprintf(&file, "%s/%s" PCRLOCK_SUFFIX, path, names[i]) < 0)
			return free_names(names, n), errorf("out of memory");
		r = read_variant(file, c, names[i]);
		free(file);
	}
	free_names(names, n);
	return r;
}

int pcrlock_read_tree(const char *dir, struct pcrlock_set *s)
{
	char **names;
	size_t n;
	int r = 0;

	if (list_dir(dir, &names, &n) < 0)
		return -1;
	for (size_t i = 0; r == 0 && i < n; i++) {
		bool is_dir = ends_with(names[i], PCRLOCK_DIR_SUFFIX);
		char *path = NULL, *id = NULL;
		struct pcrlock_component *c;

		if (!is_dir && !ends_with(names[i], PCRLOCK_SUFFIX))
			continue;
		if (asprintf(&path, "%s/%s", dir, names[i]) < 0 ||
		    !(id = strndup(names[i], strlen(names[i]) - strlen(is_dir ? PCRLOCK_DIR_SUFFIX : PCRLOCK_SUFFIX)))) {
			free(path);
			r = errorf("out of memory");
			break;
		}
		c = pcrlock_component(s, id);
		r = !c ? -1 : is_dir ? read_component_dir(path, c) : read_variant(path, c, id);
		free(id);
		free(path);
	}
	free_names(names, n);
	return r;
}
