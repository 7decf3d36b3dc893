/* SPDX-License-Identifier: MIT */
#include "validate.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "byte-source.h"
#include "digest.h"
#include "image-fs.h"
#include "json-writer.h"
#include "prediction.h"
#include "util.h"
#include "verity.h"

struct validator {
	struct validate_options o;
	struct verity_certs certs;
	bool have_host;
	struct os_release host;
	struct image_policy policy[2]; /* per class */
	int arch;
	const char *scope;
};

/* One image being checked: its file and the partitions as sources. */
struct image {
	int fd;
	struct byte_source whole;
	const struct validator *v;
	struct image_report *r;
};

static int fail(struct image_report *r, const char *check)
{
	r->check = check;
	return -1;
}

/* ---------------------------------------------------------------- options */

int validate_option(struct validate_options *o, int c, const char *arg)
{
	switch (c) {
	case VALIDATE_OPT_VALIDATE:
		o->enabled = true;
		return 0;
	case VALIDATE_OPT_CERT: {
		const char **n = realloc(o->certs, (o->n_certs + 1) * sizeof(*n));

		if (!n)
			return errorf("out of memory");
		o->certs = n;
		o->certs[o->n_certs++] = arg;
		return 0;
	}
	case VALIDATE_OPT_OS_RELEASE:
		o->os_release = arg;
		return 0;
	case VALIDATE_OPT_IMAGE_POLICY: {
		struct image_policy pol;
		char why[128];

		if (image_policy_parse(arg, &pol, why, sizeof(why)) < 0)
			return errorf("--image-policy: %s", why);
		o->image_policy = arg;
		return 0;
	}
	case VALIDATE_OPT_CLASS:
		if (strcmp(arg, "sysext") != 0 && strcmp(arg, "confext") != 0)
			return errorf("--class: '%s' is not sysext or confext", arg);
		o->cls = strcmp(arg, "sysext") == 0 ? EXTENSION_SYSEXT : EXTENSION_CONFEXT;
		return 0;
	case VALIDATE_OPT_SCOPE:
		if (strcmp(arg, "initrd") != 0 && strcmp(arg, "system") != 0 && strcmp(arg, "portable") != 0)
			return errorf("--scope: '%s' is not initrd, system or portable", arg);
		o->scope = arg;
		return 0;
	case VALIDATE_OPT_ARCH:
		if (dps_arch_from_name(arg) == DPS_ARCH_NONE)
			return errorf("--architecture: '%s' is not an architecture systemd knows (x86-64, arm64, ...)", arg);
		o->arch = arg;
		return 0;
	case VALIDATE_OPT_ROOT:
		o->root = arg;
		return 0;
	default:
		return errorf("unknown option");
	}
}

void validate_usage(FILE *f, bool with_switch)
{
	if (with_switch)
		fputs("  --validate             refuse unless every sysext passes `sysext-stub validate`; with:\n", f);
	fputs("  --cert PEM             trusted verity signing certificate(s) (repeatable; default: *.crt in\n"
	      "                         /etc/verity.d, /run/verity.d, /usr/local/lib/verity.d, /usr/lib/verity.d)\n"
	      "  --os-release FILE      the host's os-release or initrd-release to match ID, VERSION_ID and\n"
	      "                         SYSEXT_LEVEL against ('auto': /etc/os-release, else /usr/lib/os-release)\n"
	      "  --image-policy POLICY  systemd image policy (default: root=signed+absent:usr=signed+absent,\n"
	      "                         confexts root=signed+absent, as systemd applies to /.extra)\n"
	      "  --class CLASS          sysext or confext (default: confext for *.confext.raw, else sysext)\n"
	      "  --scope SCOPE          initrd (default), system or portable: what SYSEXT_SCOPE must include\n"
	      "  --architecture ARCH    the host's architecture, as systemd names it (default: this machine's)\n"
	      "  --root DIR             find the certificates and 'auto' os-release under DIR\n",
	      f);
}

void validate_options_free(struct validate_options *o)
{
	free(o->certs);
	o->certs = NULL;
	o->n_certs = 0;
}

/* ---------------------------------------------------------------- the validator */

static int load_host(struct validator *v)
{
	const char *root = v->o.root && strcmp(v->o.root, "/") != 0 ? v->o.root : "";
	uint8_t *buf = NULL;
	size_t len;
	char *path = NULL;
	int r;

	if (!v->o.os_release)
		return 0;
	if (strcmp(v->o.os_release, "auto") == 0) {
		/* systemd's parse_os_release(): /etc/os-release, else /usr/lib/os-release */
		if (asprintf(&path, "%s/etc/os-release", root) < 0)
			return errorf("out of memory");
		if (access(path, F_OK) < 0) {
			free(path);
			if (asprintf(&path, "%s/usr/lib/os-release", root) < 0)
				return errorf("out of memory");
			if (access(path, F_OK) < 0) {
				free(path); /* none: systemd-sysext would stop there; only host-independent checks here */
				return 0;
			}
		}
	} else if (!(path = strdup(v->o.os_release))) {
		return errorf("out of memory");
	}
	r = read_file(path, OS_RELEASE_MAX, &buf, &len);
	if (r == 0 && os_release_parse((const char *)buf, len, &v->host) < 0)
		r = errorf("out of memory");
	if (r == 0 && !os_release_get(&v->host, "ID"))
		r = errorf("%s: no ID= in it (systemd-sysext refuses to merge anything then)", path);
	v->have_host = r == 0;
	free(buf);
	free(path);
	return r;
}

struct validator *validator_new(const struct validate_options *o)
{
	struct validator *v = calloc(1, sizeof(*v));
	char why[128];

	if (!v) {
		errorf("out of memory");
		return NULL;
	}
	v->o = *o;
	v->arch = o->arch ? dps_arch_from_name(o->arch) : dps_arch_native();
	v->scope = o->scope ? o->scope : "initrd";
	if (image_policy_parse(o->image_policy ? o->image_policy : IMAGE_POLICY_SYSEXT_STRICT,
			       &v->policy[EXTENSION_SYSEXT], why, sizeof(why)) < 0 ||
	    image_policy_parse(o->image_policy ? o->image_policy : IMAGE_POLICY_CONFEXT_STRICT,
			       &v->policy[EXTENSION_CONFEXT], why, sizeof(why)) < 0) {
		errorf("--image-policy: %s", why);
		goto fail;
	}
	for (size_t i = 0; i < o->n_certs; i++)
		if (verity_certs_add_file(&v->certs, o->certs[i]) < 0)
			goto fail;
	if (o->n_certs == 0 && verity_certs_add_dirs(&v->certs, o->root) < 0) {
		errorf("out of memory");
		goto fail;
	}
	if (load_host(v) < 0)
		goto fail;
	return v;
fail:
	validator_free(v);
	return NULL;
}

void validator_free(struct validator *v)
{
	if (!v)
		return;
	verity_certs_free(&v->certs);
	os_release_free(&v->host);
	free(v);
}

void image_report_free(struct image_report *r)
{
	gpt_free(&r->table);
}

/* ---------------------------------------------------------------- file and name */

static int open_image(struct image *im, struct image_report *r)
{
	struct stat st;

	im->fd = open(r->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (im->fd < 0) {
		ioerrorf(&r->problem, "cannot open: %s", strerror(errno));
		return fail(r, "file");
	}
	if (fstat(im->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		ioerrorf(&r->problem, "not a regular file");
		return fail(r, "file");
	}
	im->whole = bsrc_file(im->fd, (uint64_t)st.st_size);
	(void)posix_fadvise(im->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return 0;
}

/* systemd's image_name_is_valid(): a file name, no control characters, not a temporary ".#" file. */
static bool image_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 255 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0 || strncmp(s, ".#", 2) == 0)
		return false;
	for (const unsigned char *c = (const unsigned char *)s; *c; c++)
		if (*c < 0x20 || *c == 0x7f || *c == '/')
			return false;
	return true;
}

/*
 * The name the extension-release file must carry: systemd's
 * path_extract_image_name() (v257, v262): the file name without
 * ".sysext.raw", ".confext.raw" or ".raw", cut at the first '_' or '+'
 * (version and boot counting suffixes).
 */
static int image_name(struct image_report *r, int cls)
{
	const char *base = strrchr(r->path, '/') ? strrchr(r->path, '/') + 1 : r->path;
	static const char *const suffixes[] = { ".sysext.raw", ".confext.raw", ".raw" };
	size_t n = strlen(base);

	r->cls = cls >= 0 ? (enum extension_class)cls :
			    n > 12 && strcmp(base + n - 12, ".confext.raw") == 0 ? EXTENSION_CONFEXT : EXTENSION_SYSEXT;
	for (size_t i = 0; i < 3; i++) {
		size_t s = strlen(suffixes[i]);

		if (n >= s && strcmp(base + n - s, suffixes[i]) == 0) {
			n -= s;
			break;
		}
	}
	if (n >= sizeof(r->name)) {
		refusef(&r->problem, "the file name is too long for an image name");
		return fail(r, "name");
	}
	memcpy(r->name, base, n);
	r->name[n] = 0;
	r->name[strcspn(r->name, "_+")] = 0;
	if (!image_name_valid(r->name)) {
		refusef(&r->problem, "'%s' is not a valid image name", r->name);
		return fail(r, "name");
	}
	return 0;
}

/* ---------------------------------------------------------------- partitions and policy */

static int part_source(const struct image *im, const struct dissected_part *dp, struct byte_source *ret,
		       const char *what)
{
	if (dp->index < 0) { /* a bare file system: the whole file */
		*ret = im->whole;
		return 0;
	}
	return bsrc_slice(&im->whole, dp->offset, dp->size, ret, what, &im->r->problem);
}

static int check_partitions(struct image *im)
{
	struct image_report *r = im->r;
	const struct image_policy *pol = &im->v->policy[r->cls];
	bool encrypted[DPS_DESIGNATOR_COUNT] = { 0 };
	const char *check = "partitions";
	int g = gpt_read(&im->whole, &r->table, &r->problem);

	if (g < 0)
		return fail(r, "partition-table");
	if (g == 0) {
		const char *t = imgfs_probe(&im->whole);

		if (!t) {
			refusef(&r->problem, "neither a GPT disk image nor a file system");
			return fail(r, "partition-table");
		}
		snprintf(r->fstype, sizeof(r->fstype), "%s", t);
	}
	if (dissect(g ? &r->table : NULL, im->whole.size, im->v->arch, pol, &r->ds, &check, &r->problem) < 0)
		return fail(r, check);
	r->dissected = true;
	/* which used partitions are LUKS: the policy is checked again with that known */
	for (int d = 0; d < DPS_DESIGNATOR_COUNT; d++) {
		struct byte_source s;
		const char *t;

		if (!r->ds.part[d].found || dps_data_of((enum dps_designator)d) >= 0)
			continue;
		if (part_source(im, &r->ds.part[d], &s, dps_designator_name((enum dps_designator)d)) < 0)
			return fail(r, "partitions");
		t = imgfs_probe(&s);
		encrypted[d] = t && strcmp(t, "crypto_LUKS") == 0;
	}
	if (dissect_check_encryption(&r->ds, encrypted, pol, &r->problem) < 0)
		return fail(r, "image-policy");
	return 0;
}

/* ---------------------------------------------------------------- signature and verity */

static int read_sig(struct image *im, struct verity_sig *sig)
{
	struct image_report *r = im->r;
	const struct dissected_part *dp = &r->ds.part[dps_verity_sig_of((enum dps_designator)r->ds.verity_for)];
	struct byte_source s;
	uint8_t *buf;
	int ret;

	if (dp->size > VERITY_SIG_SIZE_MAX) {
		refusef(&r->problem, "verity-sig partition of %llu bytes (systemd reads at most 4 MiB)",
			(unsigned long long)dp->size);
		return fail(r, "verity-sig");
	}
	if (part_source(im, dp, &s, "verity-sig partition") < 0)
		return fail(r, "verity-sig");
	buf = malloc(dp->size ? (size_t)dp->size : 1);
	if (!buf) {
		ioerrorf(&r->problem, "out of memory");
		return fail(r, "verity-sig");
	}
	ret = bsrc_read(&s, 0, buf, (size_t)dp->size, "verity-sig partition", &r->problem);
	if (ret == 0)
		ret = verity_sig_parse(buf, (size_t)dp->size, sig, &r->problem);
	free(buf);
	return ret < 0 ? fail(r, "verity-sig") : 0;
}

static int check_signature(struct image *im, const struct verity_sig *sig)
{
	struct image_report *r = im->r;
	size_t i;

	if (verity_sig_verify(sig, &im->v->certs, &i, &r->problem) < 0)
		return fail(r, "signature");
	r->signer = im->v->certs.paths[i];
	r->fingerprint_matches = sig->has_fingerprint && verity_certs_fingerprint_is(&im->v->certs, i, sig->fingerprint);
	return 0;
}

static int check_verity(struct image *im, const struct verity_sig *sig)
{
	struct image_report *r = im->r;
	enum dps_designator data = (enum dps_designator)r->ds.verity_for;
	struct byte_source ds, hs;
	struct verity_params vp;
	uint8_t sb[VERITY_SB_SIZE];

	if (part_source(im, &r->ds.part[data], &ds, "data partition") < 0 ||
	    part_source(im, &r->ds.part[dps_verity_of(data)], &hs, "verity partition") < 0 ||
	    bsrc_read(&hs, 0, sb, sizeof(sb), "dm-verity superblock", &r->problem) < 0 ||
	    verity_sb_parse(sb, &vp, &r->problem) < 0)
		return fail(r, "verity");
	snprintf(r->algorithm, sizeof(r->algorithm), "%s", vp.algorithm);
	if (verity_check(&vp, &ds, &hs, sig->root_hash, sig->root_hash_len, im->v->o.threads, &r->verity_bytes,
			 &r->problem) < 0)
		return fail(r, "verity");
	r->verity_checked = true;
	return 0;
}

static int check_protection(struct image *im)
{
	struct verity_sig sig = { 0 };
	int ret;

	if (im->r->ds.verity_for < 0)
		return 0; /* no signature partition: no root hash, systemd mounts without verity (if the policy lets it) */
	ret = read_sig(im, &sig);
	if (ret == 0) {
		hex_encode(sig.root_hash, sig.root_hash_len, im->r->root_hash);
		ret = check_signature(im, &sig);
	}
	if (ret == 0)
		ret = check_verity(im, &sig);
	verity_sig_free(&sig);
	return ret;
}

/* ---------------------------------------------------------------- file system and extension-release */

struct other_release {
	char first[IMGFS_NAME_MAX + 1];
	size_t n;
};

static int note_release(const char *name, size_t len, uint64_t ino, void *userdata)
{
	struct other_release *o = userdata;

	(void)ino;
	if (len > 18 && memcmp(name, "extension-release.", 18) == 0 && o->n++ == 0)
		snprintf(o->first, sizeof(o->first), "%.*s", (int)len, name);
	return 0;
}

/* The release file is not there: say which one is, for a renamed image. */
static int missing_release(struct image_report *r, struct imgfs *fs, const char *dir)
{
	struct other_release o = { { 0 }, 0 };
	struct problem ignored;

	(void)imgfs_list(fs, dir, note_release, &o, &ignored);
	if (o.n)
		refusef(&r->problem, "%s not found; the image has %s%s (a name mismatch: systemd takes another name "
			"only with the xattr user.extension-release.strict=false, not read here)", r->release_path,
			o.first, o.n > 1 ? " and more" : "");
	else
		refusef(&r->problem, "%s not found: not a %s", r->release_path,
			r->cls == EXTENSION_CONFEXT ? "confext" : "sysext");
	return fail(r, "extension-release");
}

static int check_release(struct image *im)
{
	struct image_report *r = im->r;
	bool usr = r->cls == EXTENSION_SYSEXT && r->ds.part[DPS_USR].found;
	const char *dir = r->cls == EXTENSION_CONFEXT ? "/etc/extension-release.d" :
			  usr ? "/lib/extension-release.d" : "/usr/lib/extension-release.d";
	struct byte_source s;
	struct imgfs fs;
	struct os_release rel = { 0 };
	uint8_t *text = NULL;
	size_t len;
	char why[256];
	int ret;

	if (!r->ds.part[usr ? DPS_USR : DPS_ROOT].found) {
		refusef(&r->problem, "no root partition to hold /etc");
		return fail(r, "filesystem");
	}
	if (part_source(im, &r->ds.part[usr ? DPS_USR : DPS_ROOT], &s, "data partition") < 0)
		return fail(r, "filesystem");
	if (!r->fstype[0])
		snprintf(r->fstype, sizeof(r->fstype), "%s", imgfs_probe(&s) ? imgfs_probe(&s) : "unknown");
	if (imgfs_open(&s, &fs, &r->problem) < 0)
		return fail(r, "filesystem");
	snprintf(r->release_path, sizeof(r->release_path), "%s%s/extension-release.%s", usr ? "/usr" : "", dir, r->name);
	ret = imgfs_read_file(&fs, r->release_path + (usr ? 4 : 0), OS_RELEASE_MAX, &text, &len, &r->problem);
	if (ret == 1)
		ret = missing_release(r, &fs, dir);
	else if (ret < 0)
		ret = fail(r, "extension-release");
	else if (os_release_parse((const char *)text, len, &rel) < 0)
		ret = ioerrorf(&r->problem, "out of memory"), fail(r, "extension-release");
	else if (!extension_release_fits(&rel, im->v->have_host ? &im->v->host : NULL, r->cls, im->v->scope,
					 dps_arch_name(im->v->arch), why, sizeof(why)))
		ret = refusef(&r->problem, "%s: %s", r->release_path, why), fail(r, "extension-release");
	os_release_free(&rel);
	free(text);
	imgfs_close(&fs);
	return ret;
}

/* ---------------------------------------------------------------- one image */

void validate_image(struct validator *v, const char *path, int cls, struct image_report *r)
{
	struct image im = { .fd = -1, .v = v, .r = r };
	struct timespec t0, t1;

	memset(r, 0, sizeof(*r));
	r->path = path;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (open_image(&im, r) == 0 && image_name(r, cls) == 0 && check_partitions(&im) == 0 &&
	    check_protection(&im) == 0)
		(void)check_release(&im);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	r->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (im.fd >= 0)
		close(im.fd);
	r->verdict = !r->check ? VERDICT_OK : r->problem.kind == PROBLEM_REFUSED ? VERDICT_REFUSED : VERDICT_ERROR;
}

/* ---------------------------------------------------------------- reporting */

static const char *verdict_name(enum verdict v)
{
	return v == VERDICT_OK ? "ok" : v == VERDICT_REFUSED ? "refused" : "error";
}

void image_report_line(const struct image_report *r, FILE *out)
{
	char part[64];

	fprintf(out, "%s: %s", r->path, verdict_name(r->verdict));
	if (r->verdict != VERDICT_OK) {
		fprintf(out, ": %s: %s", r->check, r->problem.text);
		return;
	}
	fprintf(out, " (%s '%s': ", r->cls == EXTENSION_CONFEXT ? "confext" : "sysext", r->name);
	if (r->ds.bare) {
		fprintf(out, "a bare %s file system, unprotected)", r->fstype);
		return;
	}
	for (int d = 0, first = 1; d < DPS_DESIGNATOR_COUNT; d++)
		if (r->ds.part[d].found) {
			fprintf(out, "%s%s", first ? "" : " + ", dissect_part_name(&r->ds, (enum dps_designator)d, part,
										    sizeof(part)));
			first = 0;
		}
	fprintf(out, ", %s", r->fstype);
	if (r->verity_checked)
		fprintf(out, ", %s hash tree over %llu bytes matches the root hash signed by %s", r->algorithm,
			(unsigned long long)r->verity_bytes, r->signer);
	else
		fputs(", no verity (no signature partition)", out);
	fputc(')', out);
}

static void json_partitions(const struct image_report *r, FILE *out)
{
	char name[64];

	fputs("\"partitions\":[", out);
	for (size_t i = 0; i < r->table.n_parts; i++) {
		const struct gpt_partition *gp = &r->table.parts[i];
		struct dps_type t = dps_type_from_uuid(gp->type_uuid);
		bool used = false;

		for (int d = 0; r->dissected && d < DPS_DESIGNATOR_COUNT; d++)
			used |= r->ds.part[d].found && r->ds.part[d].index == (int)i;
		fprintf(out, "%s{\"number\":%u,\"type\":", i ? "," : "", gp->number);
		json_write_string_or_null(out, t.designator == DPS_UNKNOWN ? gp->type_uuid : dps_type_name(t, name, sizeof(name)));
		fputs(",\"uuid\":", out);
		json_write_string_or_null(out, gp->uuid);
		fputs(",\"label\":", out);
		json_write_string_or_null(out, gp->label);
		fprintf(out, ",\"offset\":%llu,\"size\":%llu,\"flags\":%llu,\"used\":%s}", (unsigned long long)gp->offset,
			(unsigned long long)gp->size, (unsigned long long)gp->attrs, used ? "true" : "false");
	}
	fputc(']', out);
}

/* The image paths were checked (cmd_validate); what comes from an image is sanitised by the writer. */
static void report_json(const struct image_report *r, FILE *out)
{
	fputs("{\"image\":", out);
	json_write_string_or_null(out, r->path);
	fprintf(out, ",\"verdict\":\"%s\",\"check\":", verdict_name(r->verdict));
	json_write_string_or_null(out, r->check);
	fputs(",\"reason\":", out);
	json_write_string_or_null(out, r->check ? r->problem.text : NULL);
	fprintf(out, ",\"class\":\"%s\",\"name\":", r->cls == EXTENSION_CONFEXT ? "confext" : "sysext");
	json_write_string_or_null(out, r->name[0] ? r->name : NULL);
	fprintf(out, ",\"bare\":%s,", r->ds.bare ? "true" : "false");
	json_partitions(r, out);
	fputs(",\"filesystem\":", out);
	json_write_string_or_null(out, r->fstype[0] ? r->fstype : NULL);
	fputs(",\"rootHash\":", out);
	json_write_string_or_null(out, r->root_hash[0] ? r->root_hash : NULL);
	fputs(",\"signedBy\":", out);
	json_write_string_or_null(out, r->signer);
	fprintf(out, ",\"fingerprintMatches\":%s,\"verityChecked\":%s,\"verityBytes\":%llu,\"extensionRelease\":",
		r->fingerprint_matches ? "true" : "false", r->verity_checked ? "true" : "false",
		(unsigned long long)r->verity_bytes);
	json_write_string_or_null(out, r->release_path[0] ? r->release_path : NULL);
	fprintf(out, ",\"seconds\":%.6f}", r->seconds);
}

/* ---------------------------------------------------------------- the command */

static void usage(FILE *f)
{
	fputs("Usage: sysext-stub validate [options] IMAGE...\n\n"
	      "Check sysext/confext images the way systemd-sysext would take them in the initrd: GPT\n"
	      "(Discoverable Partitions), image policy, verity signature, the whole dm-verity hash tree,\n"
	      "and the extension-release file. One line per image: ok, or the first failed check.\n\n"
	      "Options:\n",
	      f);
	validate_usage(f, false);
	fputs("  --threads N            hashing threads (default: one per CPU)\n"
	      "  --json                 a JSON array, one object per image\n"
	      "  -h, --help             this help\n\n"
	      "Exit status: 0 every image ok, 1 an image is refused, 2 an image cannot be judged or bad usage.\n",
	      f);
}

enum { OPT_JSON = VALIDATE_OPT_END, OPT_THREADS };

static int parse_args(int argc, char **argv, struct validate_options *o, bool *json)
{
	static const struct option longopts[] = {
		VALIDATE_LONGOPTS,
		{ "threads", required_argument, NULL, OPT_THREADS },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->cls = -1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return 1;
		case OPT_JSON:
			*json = true;
			break;
		case OPT_THREADS:
			if (parse_uint(optarg, 64, &o->threads) < 0 || o->threads == 0)
				return errorf("--threads: '%s' is not 1..64", optarg);
			break;
		case VALIDATE_OPT_VALIDATE:
			return errorf("unknown option '--validate' (validate always validates)");
		default:
			if (c >= VALIDATE_OPT_VALIDATE && c < VALIDATE_OPT_END) {
				if (validate_option(o, c, optarg) < 0)
					return -1;
				break;
			}
			return errorf("try 'sysext-stub validate --help'");
		}
	}
	if (optind >= argc)
		return errorf("no image given (try 'sysext-stub validate --help')");
	return 0;
}

int cmd_validate(int argc, char **argv)
{
	struct validate_options o = { 0 };
	struct validator *v = NULL;
	bool json = false;
	int r = parse_args(argc, argv, &o, &json), worst = 0;

	if (r != 0) {
		validate_options_free(&o);
		return r == 1 ? 0 : 2;
	}
	/* JSON carries UTF-8 only, and the report repeats each path: refused before anything is printed. */
	for (int i = optind; json && i < argc; i++)
		if (!json_text_ok(argv[i])) {
			char *shown = shown_text(argv[i]);

			errorf("%s: not UTF-8, which JSON cannot carry (rename it, or leave out --json)", SHOWN(shown));
			shown_free(shown);
			validate_options_free(&o);
			return 2;
		}
	v = validator_new(&o);
	if (!v) {
		validate_options_free(&o);
		return 2;
	}
	if (json)
		fputc('[', stdout);
	for (int i = optind; i < argc; i++) {
		struct image_report rep;

		validate_image(v, argv[i], o.cls, &rep);
		if (json) {
			if (i > optind)
				fputc(',', stdout);
			report_json(&rep, stdout);
		} else {
			image_report_line(&rep, stdout);
			fputc('\n', stdout);
		}
		fflush(stdout);
		if (rep.verdict == VERDICT_ERROR)
			worst = 2;
		else if (rep.verdict == VERDICT_REFUSED && worst == 0)
			worst = 1;
		image_report_free(&rep);
	}
	if (json)
		fputs("]\n", stdout);
	validator_free(v);
	validate_options_free(&o);
	return worst;
}

/* ---------------------------------------------------------------- sign --validate */

int validate_prediction(const struct validate_options *o, const struct prediction *p)
{
	struct validator *v;
	int worst = 0;

	if (!o->enabled) {
		if (o->n_certs || o->os_release || o->image_policy || o->scope || o->arch || o->root || o->cls > 0) {
			errorf("--cert, --os-release, --image-policy, --class, --scope, --architecture and --root "
			       "go with --validate");
			return 2;
		}
		return 0;
	}
	for (size_t i = 0; i < p->n_events; i++)
		if (p->events[i].pcr == 13 && p->events[i].type != PRED_USERSPACE && !p->events[i].file) {
			errorf("--validate needs the images: '%s' has none behind it (a --manifest entry, or an archive of --scheme=systemd)",
			       p->events[i].description);
			return 2;
		}
	v = validator_new(o);
	if (!v)
		return 2;
	for (size_t i = 0; i < p->n_events; i++) {
		const char *file = p->events[i].file;
		struct image_report rep;
		bool seen = false;

		if (p->events[i].pcr != 13 || !file)
			continue;
		for (size_t j = 0; j < i && !seen; j++) /* each file once (the stub measures a file twice) */
			seen = p->events[j].pcr == 13 && p->events[j].file && strcmp(p->events[j].file, file) == 0;
		if (seen)
			continue;
		validate_image(v, file, o->cls, &rep);
		if (rep.verdict != VERDICT_OK) {
			fputs("sysext-stub: error: --validate: ", stderr);
			image_report_line(&rep, stderr);
			fputc('\n', stderr);
			worst = rep.verdict == VERDICT_ERROR ? 2 : worst ? worst : 1;
		}
		image_report_free(&rep);
	}
	validator_free(v);
	return worst;
}
