/* SPDX-License-Identifier: MIT */
#include "verity-sig.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "base64.h"
#include "digest.h"
#include "util.h"
#include "measure/json.h"

const char *const verity_cert_dirs[4] = { "/etc/verity.d", "/run/verity.d", "/usr/local/lib/verity.d",
					  "/usr/lib/verity.d" };

/* ---------------------------------------------------------------- the JSON */

/*
 * String member @key of the top-level object, unescaped (malloc'ed). 1 and
 * *ret; 0 when absent; -1 when present but not a string (or holding NUL).
 */
static int member(const struct json_doc *doc, const char *key, char **ret)
{
	uint32_t v;
	size_t n = 0;
	ms_status m = json_object_get(doc, 0, key, &v);
	char *s;

	*ret = NULL;
	if (m == MS_ERR_NOT_FOUND)
		return 0;
	if (m != MS_OK || json_type(doc, v) != JSON_STRING)
		return -1;
	json_string_unescape(doc, v, NULL, 0, &n);
	s = malloc(n + 1);
	if (!s || json_string_unescape(doc, v, s, n + 1, NULL) != MS_OK || strlen(s) != n) {
		free(s);
		return -1;
	}
	*ret = s;
	return 1;
}

/* Hex of any case and even length, as systemd's unhexmem(). */
static int unhex(const char *s, uint8_t *out, size_t cap, size_t *ret_len)
{
	size_t n = strlen(s);

	if (n % 2 || n / 2 > cap)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdefABCDEF", s[i]))
			return -1;
	if (hex_decode(s, out, n / 2) < 0)
		return -1;
	*ret_len = n / 2;
	return 0;
}

/* Base64 with whitespace anywhere skipped, as systemd's unbase64mem(). */
static int unbase64(const char *s, uint8_t **ret, size_t *ret_len)
{
	size_t n = strlen(s), k = 0;
	char *t = malloc(n + 1);
	int r;

	if (!t)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!strchr(" \t\n\r", s[i]))
			t[k++] = s[i];
	r = k ? base64_decode(t, k, ret, ret_len) : -1;
	free(t);
	return r;
}

int verity_sig_parse(const uint8_t *buf, size_t len, struct verity_sig *ret, struct problem *p)
{
	const uint8_t *nul = memchr(buf, 0, len);
	size_t json_len = nul ? (size_t)(nul - buf) : len;
	struct json_token *tokens = NULL;
	struct json_doc doc;
	char *root = NULL, *sig = NULL, *fp = NULL;
	int r = -1;

	memset(ret, 0, sizeof(*ret));
	if (len > VERITY_SIG_SIZE_MAX)
		return refusef(p, "verity-sig partition of %zu bytes (at most 4 MiB)", len);
	/* JSON, then only NUL bytes to the partition's end */
	for (size_t i = json_len; i < len; i++)
		if (buf[i])
			return refusef(p, "verity-sig partition: a NUL byte inside the JSON (byte %zu)", json_len);
	tokens = calloc(JSON_TOKENS_FOR(json_len), sizeof(*tokens));
	if (!tokens)
		return ioerrorf(p, "out of memory");
	if (json_parse(&doc, buf, json_len, tokens, (uint32_t)JSON_TOKENS_FOR(json_len)) != MS_OK) {
		refusef(p, "verity-sig partition is not valid JSON (at byte %zu)", doc.error_offset);
		goto out;
	}
	if (json_type(&doc, 0) != JSON_OBJECT) {
		refusef(p, "verity-sig JSON is not an object");
		goto out;
	}
	if (member(&doc, "rootHash", &root) <= 0 ||
	    unhex(root, ret->root_hash, sizeof(ret->root_hash), &ret->root_hash_len) < 0 || !ret->root_hash_len) {
		refusef(p, "verity-sig JSON: no \"rootHash\" of hex digits");
		goto out;
	}
	if (member(&doc, "signature", &sig) <= 0 || unbase64(sig, &ret->signature, &ret->signature_len) < 0) {
		refusef(p, "verity-sig JSON: no \"signature\" in base64");
		goto out;
	}
	/* systemd ignores the fingerprint; a malformed one is only not reported */
	if (member(&doc, "certificateFingerprint", &fp) > 0 && strlen(fp) == 64) {
		size_t n;

		ret->has_fingerprint = unhex(fp, ret->fingerprint, sizeof(ret->fingerprint), &n) == 0;
	}
	r = 0;
out:
	free(root);
	free(sig);
	free(fp);
	free(tokens);
	if (r < 0)
		verity_sig_free(ret);
	return r;
}

void verity_sig_free(struct verity_sig *s)
{
	free(s->signature);
	s->signature = NULL;
	s->signature_len = 0;
}

/* ---------------------------------------------------------------- certificates */

static int push(struct verity_certs *c, X509 *x, const char *path)
{
	void **nx = realloc(c->x509, (c->n + 1) * sizeof(*nx));
	char **np;

	if (!nx)
		return -1;
	c->x509 = nx;
	np = realloc(c->paths, (c->n + 1) * sizeof(*np));
	if (!np)
		return -1;
	c->paths = np;
	c->paths[c->n] = strdup(path);
	if (!c->paths[c->n])
		return -1;
	c->x509[c->n++] = x;
	return 0;
}

int verity_certs_add_file(struct verity_certs *c, const char *path)
{
	FILE *f = fopen(path, "re");
	size_t before = c->n;
	X509 *x;

	if (!f)
		return errorf("%s: cannot open: %m", path);
	while ((x = PEM_read_X509(f, NULL, NULL, NULL))) {
		if (push(c, x, path) < 0) {
			X509_free(x);
			fclose(f);
			return errorf("out of memory");
		}
	}
	ERR_clear_error();
	fclose(f);
	if (c->n == before)
		return errorf("%s: no PEM certificate in it", path);
	return 0;
}

/* systemd's null_or_empty(): an empty regular file or /dev/null masks a name. */
static bool masks(const struct stat *st)
{
	return (S_ISREG(st->st_mode) && st->st_size <= 0) ||
	       (S_ISCHR(st->st_mode) && major(st->st_rdev) == 1 && minor(st->st_rdev) == 3);
}

struct found {
	char *name, *path; /* path NULL: a mask */
};

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct found *)a)->name, ((const struct found *)b)->name);
}

/* Collect "*.crt" of one directory that no earlier directory already named. */
static int scan_dir(const char *dir, struct found **list, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return 0; /* a missing directory is simply empty */
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		struct found *nl;
		struct stat st;
		bool seen = false;
		char *path;

		if (de->d_name[0] == '.' || len < 4 || strcmp(de->d_name + len - 4, ".crt") != 0)
			continue;
		for (size_t i = 0; i < *n && !seen; i++)
			seen = strcmp((*list)[i].name, de->d_name) == 0;
		if (seen)
			continue;
		if (asprintf(&path, "%s/%s", dir, de->d_name) < 0)
			goto oom;
		if (stat(path, &st) < 0 || (!masks(&st) && !S_ISREG(st.st_mode))) {
			free(path); /* unreadable or not a file: ignored, as by systemd */
			continue;
		}
		nl = realloc(*list, (*n + 1) * sizeof(**list));
		if (!nl || !(nl[*n].name = strdup(de->d_name))) {
			if (nl)
				*list = nl;
			free(path);
			goto oom;
		}
		*list = nl;
		nl[*n].path = masks(&st) ? (free(path), NULL) : path;
		(*n)++;
	}
	closedir(d);
	return 0;
oom:
	closedir(d);
	return -1;
}

int verity_certs_add_dirs(struct verity_certs *c, const char *root)
{
	struct found *list = NULL;
	size_t n = 0;
	int r = -1;

	for (size_t i = 0; i < sizeof(verity_cert_dirs) / sizeof(verity_cert_dirs[0]); i++) {
		char *dir;

		if (asprintf(&dir, "%s%s", root && strcmp(root, "/") != 0 ? root : "", verity_cert_dirs[i]) < 0)
			goto out;
		if (scan_dir(dir, &list, &n) < 0) {
			free(dir);
			goto out;
		}
		free(dir);
	}
	if (n > 1)
		qsort(list, n, sizeof(*list), by_name);
	for (size_t i = 0; i < n; i++) {
		FILE *f;
		X509 *x;

		if (!list[i].path || !(f = fopen(list[i].path, "re")))
			continue;
		x = PEM_read_X509(f, NULL, NULL, NULL); /* the first certificate; a file without one is ignored */
		fclose(f);
		ERR_clear_error();
		if (x && push(c, x, list[i].path) < 0) {
			X509_free(x);
			goto out;
		}
	}
	r = 0;
out:
	for (size_t i = 0; i < n; i++) {
		free(list[i].name);
		free(list[i].path);
	}
	free(list);
	return r;
}

void verity_certs_free(struct verity_certs *c)
{
	for (size_t i = 0; i < c->n; i++) {
		X509_free(c->x509[i]);
		free(c->paths[i]);
	}
	free(c->x509);
	free(c->paths);
	memset(c, 0, sizeof(*c));
}

bool verity_certs_fingerprint_is(const struct verity_certs *c, size_t i, const uint8_t fp[32])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned len = 0;

	return i < c->n && X509_digest(c->x509[i], EVP_sha256(), md, &len) == 1 && len == 32 && memcmp(md, fp, 32) == 0;
}

/* ---------------------------------------------------------------- the check */

int verity_sig_verify(const struct verity_sig *s, const struct verity_certs *c, size_t *ret_index, struct problem *p)
{
	const unsigned char *d = s->signature;
	char hex[2 * VERITY_SIG_ROOT_MAX + 1];
	STACK_OF(X509) *sk = NULL, *signers = NULL;
	PKCS7 *p7 = NULL;
	BIO *bio = NULL;
	int r = -1;

	if (c->n == 0)
		return refusef(p, "no certificate to check the signature against (--cert, or *.crt in /etc/verity.d, "
			       "/run/verity.d, /usr/local/lib/verity.d, /usr/lib/verity.d)");
	if (s->signature_len > LONG_MAX || !(p7 = d2i_PKCS7(NULL, &d, (long)s->signature_len))) {
		refusef(p, "the signature is not DER PKCS#7");
		goto out;
	}
	hex_encode(s->root_hash, s->root_hash_len, hex);
	bio = BIO_new_mem_buf(hex, (int)strlen(hex));
	sk = sk_X509_new_null();
	if (!bio || !sk) {
		ioerrorf(p, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < c->n; i++)
		if (!sk_X509_push(sk, c->x509[i])) {
			ioerrorf(p, "out of memory");
			goto out;
		}
	if (PKCS7_verify(p7, sk, NULL, bio, NULL, PKCS7_NOINTERN | PKCS7_NOVERIFY) != 1) {
		unsigned long e = ERR_peek_last_error();

		refusef(p, "no trusted certificate verifies the signature of the root hash (%s)",
			e ? ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "OpenSSL error" : "OpenSSL error");
		goto out;
	}
	/* which certificate signed: the first signer, matched back to its file */
	signers = PKCS7_get0_signers(p7, sk, PKCS7_NOINTERN);
	*ret_index = 0;
	for (size_t i = 0; signers && sk_X509_num(signers) > 0 && i < c->n; i++)
		if (X509_cmp(sk_X509_value(signers, 0), c->x509[i]) == 0) {
			*ret_index = i;
			break;
		}
	r = 0;
out:
	ERR_clear_error();
	sk_X509_free(signers);
	sk_X509_free(sk); /* the certificates stay in @c */
	BIO_free(bio);
	PKCS7_free(p7);
	return r;
}
