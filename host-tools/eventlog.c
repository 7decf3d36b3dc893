/* SPDX-License-Identifier: MIT */
/*
 * eventlog.c - `sysext-stub eventlog`: replay a TCG2 event log per bank and
 * PCR (measure/tcglog.c does the parsing), compare the result with the
 * TPM's PCRs or with values given on the command line, and check the log
 * against a prediction in the JSON shape `sysext-stub predict --json`
 * prints (parsed with measure/json.c).
 *
 * Exit status: 0 when everything compared matches, 1 on any mismatch, 2
 * with a one-line message naming the file when an input is unusable.
 */
#include "eventlog.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest.h"
#include "measure/json.h"
#include "measure/tcglog.h"
#include "util.h"

#define DEFAULT_LOG "/sys/kernel/security/tpm0/binary_bios_measurements"
#define DEFAULT_TPM_DIR "/sys/class/tpm/tpm0"
#define LOG_SIZE_MAX ((size_t)16 << 20)    /* real logs are tens of KiB */
#define EXPECT_SIZE_MAX ((size_t)16 << 20)
#define PCR_FILE_MAX ((size_t)1024)
#define N_PCRS TCGLOG_PCR_COUNT
#define DESC_MAX 160
#define HEX_MAX (2 * DIGEST_MAX + 1)

enum { EXIT_MATCH = 0, EXIT_MISMATCH = 1, EXIT_BAD_INPUT = 2 };

struct pcr_arg {
	size_t bank; /* index into banks[] */
	unsigned pcr;
	uint8_t value[DIGEST_MAX];
	const char *text;
};

struct options {
	const char *log_path;
	const char *tpm_dir;
	bool tpm_dir_given, no_pcr_values, json, verbose;
	struct pcr_arg *values;
	size_t n_values;
	unsigned bank_mask; /* --bank: bit i selects banks[i]; 0: every bank the log has */
	uint32_t pcr_mask;  /* --pcr: bit n selects PCR n; 0: every PCR the log extends */
	const char *expect_path;
	bool profile_given; /* --profile: check the --expect entries of that UKI profile */
	uint32_t profile;
};

/* One record after the header; pointers into the log buffer. */
struct log_event {
	uint32_t index, pcr, type;
	const uint8_t *digest[BANK_COUNT]; /* NULL for banks the log lacks or we cannot hash */
	const uint8_t *data;
	uint32_t data_size;
};

struct replay {
	struct tcglog log;
	unsigned banks; /* banks the log has and we can hash */
	bool has_locality;
	uint8_t locality;
	uint32_t extends[N_PCRS];
	uint8_t value[BANK_COUNT][N_PCRS][DIGEST_MAX];
	struct log_event *events;
	size_t n_events;
};

struct actual {
	bool has[BANK_COUNT][N_PCRS];
	uint8_t value[BANK_COUNT][N_PCRS][DIGEST_MAX];
};

/* ------------------------------------------------------------ small helpers */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: sysext-stub eventlog [options]\n"
		"Replay a TPM2 event log per bank and PCR and compare it with the TPM's PCRs or with\n"
		"a prediction (sysext-stub predict --json).\n\n"
		"  --log FILE              the event log (default " DEFAULT_LOG ")\n"
		"  --tpm-dir DIR           read actual PCRs from DIR/pcr-<bank>/<N>\n"
		"                          (default " DEFAULT_TPM_DIR ", when it exists)\n"
		"  --pcr-value BANK:N=HEX  an actual PCR value (repeatable; then no --tpm-dir is read)\n"
		"  --no-pcr-values         compare with no PCR values, only print the replay\n"
		"  --bank NAME             only this bank (repeatable; default: every bank in the log)\n"
		"  --pcr N                 only this PCR (repeatable; default: every PCR the log extends)\n"
		"  --expect FILE           check the log's events against a prediction\n"
		"  --profile N             the UKI profile booted, when FILE predicts several\n"
		"  --json                  machine-readable output\n"
		"  --verbose               list every event\n\n"
		"Exit status: 0 everything compared matches, 1 a mismatch, 2 unusable input.\n");
}

/* Length of the valid UTF-8 sequence at s, or 0. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	/* No overlong forms, no surrogates, nothing above U+10FFFF. */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

/* In place: control characters and bytes that are not UTF-8 become '?'. */
static void sanitize(char *s)
{
	unsigned char *p = (unsigned char *)s;

	while (*p) {
		size_t n = utf8_len(p);

		if (n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7f))) {
			*p++ = '?';
			continue;
		}
		p += n;
	}
}

static void json_str(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', out);
	while (*p) {
		size_t n = utf8_len(p);

		if (n == 0) {
			fputc('?', out); /* JSON text must be UTF-8 */
			p++;
		} else if (*p == '"' || *p == '\\') {
			fprintf(out, "\\%c", *p++);
		} else if (*p < 0x20) {
			fprintf(out, "\\u%04x", *p++);
		} else {
			fwrite(p, 1, n, out);
			p += n;
		}
	}
	fputc('"', out);
}

static void json_str_or_null(FILE *out, const char *s)
{
	if (s)
		json_str(out, s);
	else
		fputs("null", out);
}

/* The bank called exactly @name (as the log, sysfs and systemd spell it). */
static const struct bank *bank_named(const char *name)
{
	for (size_t i = 0; i < BANK_COUNT; i++)
		if (strcmp(banks[i].name, name) == 0)
			return &banks[i];
	return NULL;
}

/*
 * Read a whole file with read_fd_to_end() (sysfs and securityfs files
 * report sizes that are not theirs). Unlike read_file() any file but a
 * directory will do (a pipe from ssh, say). Returns 0, 1 if @missing_ok and
 * the file does not exist, or -1 (printed).
 */
static int slurp(const char *path, size_t max, bool missing_ok, uint8_t **ret, size_t *ret_len)
{
	struct stat st;
	int r, fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		if (missing_ok && errno == ENOENT)
			return 1;
		return errorf("%s: cannot open: %s", path, strerror(errno));
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
		r = errorf("%s: is a directory", path);
	else
		r = read_fd_to_end(fd, path, max, 0, ret, ret_len);
	close(fd);
	return r;
}

static const char *type_name(uint32_t type, char buf[16])
{
	const char *n = tcglog_event_type_name(type);

	if (n)
		return n;
	snprintf(buf, 16, "0x%08x", type);
	return buf;
}

/* What the log says an event is, for people: EV_IPL descriptions, tags, action strings. */
static void describe(const struct log_event *e, char *out, size_t size)
{
	struct tcglog_event ev = { .type = e->type, .data = e->data, .data_size = e->data_size };
	char text[DESC_MAX - 24]; /* room for "tag 0x%08x: " in front */
	const uint8_t *tag_data;
	uint32_t tag_id, tag_size;
	uint8_t loc;

	out[0] = '\0';
	if (tcglog_startup_locality(&ev, &loc)) {
		snprintf(out, size, "StartupLocality %u", loc);
		return;
	}
	switch (e->type) {
	case TCG_EV_EVENT_TAG:
		if (tcglog_event_tag(e->data, e->data_size, &tag_id, &tag_data, &tag_size) == MS_OK) {
			tcglog_describe_text(tag_data, tag_size, text, sizeof(text));
			snprintf(out, size, "tag 0x%08x%s%s", tag_id, text[0] ? ": " : "", text);
		} else {
			snprintf(out, size, "tag (malformed)");
		}
		break;
	case TCG_EV_IPL:
	case TCG_EV_S_CRTM_VERSION:
	case TCG_EV_ACTION:
	case TCG_EV_EFI_ACTION:
	case TCG_EV_NO_ACTION:
		tcglog_describe_text(e->data, e->data_size, out, size);
		break;
	default:
		break;
	}
}

/* ------------------------------------------------------------ the log */

static int log_error(const char *path, const struct tcglog *l, ms_status r)
{
	char value[32] = "";

	if (l->has_error_value)
		snprintf(value, sizeof(value), " (0x%x)", l->error_value);
	if (l->error_index == 0)
		return errorf("%s: not a usable TCG2 event log: %s%s (%s)", path, l->error ? l->error : "?", value,
			      ms_strerror(r));
	return errorf("%s: record %u at offset %zu: %s%s (%s)", path, l->error_index, l->error_offset,
		      l->error ? l->error : "?", value, ms_strerror(r));
}

static int add_event(struct replay *rp, const struct log_event *e, size_t *cap)
{
	if (rp->n_events == *cap) {
		size_t ncap = *cap ? 2 * *cap : 256;
		struct log_event *n = realloc(rp->events, ncap * sizeof(*n));

		if (!n)
			return errorf("out of memory");
		rp->events = n;
		*cap = ncap;
	}
	rp->events[rp->n_events++] = *e;
	return 0;
}

/* Parse and replay the whole log. Every record is kept for --verbose and --expect. */
static int replay_log(const char *path, const uint8_t *buf, size_t len, struct replay *rp)
{
	struct tcglog_event ev;
	size_t cap = 0;
	ms_status r = tcglog_init(&rp->log, buf, len);

	if (r != MS_OK)
		return log_error(path, &rp->log, r);
	for (uint32_t i = 0; i < rp->log.n_algs; i++) {
		const struct bank *b = bank_by_alg(rp->log.algs[i].alg_id);

		if (b)
			rp->banks |= 1u << bank_index(b);
		else
			warnf("%s: cannot replay digests of algorithm 0x%04x; ignoring them", path,
			      rp->log.algs[i].alg_id);
	}
	if (!rp->banks)
		return errorf("%s: the log has no digests of sha1, sha256, sha384 or sha512", path);

	for (;;) {
		struct log_event e = { 0 };
		uint8_t loc;

		r = tcglog_next(&rp->log, &ev);
		if (r == MS_ERR_NOT_FOUND)
			break;
		if (r != MS_OK)
			return log_error(path, &rp->log, r);
		e.index = ev.index;
		e.pcr = ev.pcr;
		e.type = ev.type;
		e.data = ev.data;
		e.data_size = ev.data_size;
		for (size_t b = 0; b < BANK_COUNT; b++) {
			const struct tcglog_digest *d;

			if (!(rp->banks & (1u << b)))
				continue;
			/* tcglog guarantees one digest per header algorithm, of the header's size. */
			d = tcglog_event_digest(&ev, banks[b].alg_id);
			if (!d || d->size != banks[b].size)
				return errorf("%s: record %u: no %s digest", path, ev.index, banks[b].name);
			e.digest[b] = d->bytes;
		}
		if (add_event(rp, &e, &cap) < 0)
			return -1;

		if (tcglog_startup_locality(&ev, &loc)) {
			/* It sets PCR 0's reset value: only meaningful before PCR 0 is extended. */
			if (rp->extends[0] > 0 || rp->has_locality) {
				warnf("%s: record %u: StartupLocality event after PCR 0 was set up; ignored", path,
				      ev.index);
				continue;
			}
			rp->has_locality = true;
			rp->locality = loc;
			for (size_t b = 0; b < BANK_COUNT; b++)
				if (rp->banks & (1u << b))
					tcglog_initial_pcr_value(0, loc, rp->value[b][0], banks[b].size);
			continue;
		}
		if (!tcglog_event_is_extended(&ev))
			continue;
		for (size_t b = 0; b < BANK_COUNT; b++)
			if (e.digest[b] && pcr_extend(&banks[b], rp->value[b][ev.pcr], e.digest[b]) < 0)
				return -1;
		rp->extends[ev.pcr]++;
	}
	return 0;
}

/* ------------------------------------------------------------ actual PCR values */

static int parse_pcr_value(const char *arg, struct pcr_arg *ret)
{
	const char *colon = strchr(arg, ':'), *eq = strchr(arg, '=');
	char name[16], num[8];
	const struct bank *b;

	if (!colon || !eq || eq < colon || (size_t)(colon - arg) >= sizeof(name) ||
	    (size_t)(eq - colon - 1) >= sizeof(num))
		return errorf("--pcr-value %s: expected BANK:N=HEX, e.g. sha256:7=3d45...", arg);
	memcpy(name, arg, (size_t)(colon - arg));
	name[colon - arg] = '\0';
	memcpy(num, colon + 1, (size_t)(eq - colon - 1));
	num[eq - colon - 1] = '\0';
	b = bank_named(name);
	if (!b)
		return errorf("--pcr-value %s: unknown bank '%s' (sha1, sha256, sha384, sha512)", arg, name);
	if (parse_uint(num, N_PCRS - 1, &ret->pcr) < 0)
		return errorf("--pcr-value %s: PCR '%s' is not a number 0..23", arg, num);
	if (hex_decode(eq + 1, ret->value, b->size) < 0)
		return errorf("--pcr-value %s: the value must be %zu hex digits for %s", arg, 2 * b->size, b->name);
	ret->bank = bank_index(b);
	ret->text = arg;
	return 0;
}

/* DIR/pcr-<bank>/<N> for the banks and PCRs shown. A missing file means "not available". */
static int read_tpm_dir(const char *dir, bool given, unsigned bank_mask, uint32_t pcrs, struct actual *a)
{
	struct stat st;

	/* Without a TPM (or with an explicit --tpm-dir that is not there): no values, or an error. */
	if (stat(dir, &st) < 0)
		return given ? errorf("--tpm-dir %s: %s", dir, strerror(errno)) : 0;
	if (!S_ISDIR(st.st_mode))
		return given ? errorf("--tpm-dir %s: not a directory", dir) : 0;
	for (size_t b = 0; b < BANK_COUNT; b++) {
		if (!(bank_mask & (1u << b)))
			continue;
		for (unsigned pcr = 0; pcr < N_PCRS; pcr++) {
			char *path = NULL, *text;
			uint8_t *buf = NULL;
			size_t len = 0;
			int r;

			if (!(pcrs & (1u << pcr)))
				continue;
			if (asprintf(&path, "%s/pcr-%s/%u", dir, banks[b].name, pcr) < 0)
				return errorf("out of memory");
			r = slurp(path, PCR_FILE_MAX, true, &buf, &len);
			if (r != 0) {
				free(path);
				if (r < 0)
					return -1;
				continue;
			}
			/* The kernel prints upper-case hex and a newline. */
			text = (char *)buf;
			while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' ' || text[len - 1] == '\r'))
				len--;
			text[len] = '\0'; /* within the buffer: read_fd_to_end keeps a NUL past the data */
			if (memchr(text, '\0', len) || hex_decode(text, a->value[b][pcr], banks[b].size) < 0) {
				errorf("%s: not a %s PCR value (%zu hex digits expected)", path, banks[b].name,
				       2 * banks[b].size);
				free(buf);
				free(path);
				return -1;
			}
			a->has[b][pcr] = true;
			free(buf);
			free(path);
		}
	}
	return 0;
}

/* ------------------------------------------------------------ the prediction */

struct jctx {
	const char *path;
	const struct json_doc *doc;
};

void eventlog_expect_free(struct expect_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		struct expectation *x = &set->items[i];

		for (size_t k = 0; k < x->n_events; k++) {
			free(x->events[k].type_name);
			free(x->events[k].description);
			free(x->events[k].file);
		}
		free(x->events);
		free(x->phase);
		free(x->problem);
	}
	free(set->items);
	set->items = NULL;
	set->n = 0;
}

/* A string token as a sanitised C string; NULL if it holds a NUL (or no memory). */
static char *tok_strdup(const struct json_doc *d, uint32_t tok)
{
	size_t n = 0;
	char *s;

	(void)json_string_unescape(d, tok, NULL, 0, &n);
	s = malloc(n + 1);
	if (!s)
		return NULL;
	if (json_string_unescape(d, tok, s, n + 1, NULL) != MS_OK || strlen(s) != n) {
		free(s);
		return NULL;
	}
	sanitize(s);
	return s;
}

static const char *json_type_word(int type)
{
	switch (type) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_NUMBER: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "?";
}

/*
 * Member @key of object @obj, which must have @type. Returns 1 and sets
 * *ret, 0 when absent (or null) and optional, -1 on error (printed).
 */
static int member(const struct jctx *c, const char *where, uint32_t obj, const char *key, int type, bool required,
		  uint32_t *ret)
{
	ms_status r = json_object_get(c->doc, obj, key, ret);

	if (r == MS_ERR_INVALID)
		return errorf("%s: %s: \"%s\" appears more than once", c->path, where, key);
	if (r != MS_OK || (!required && json_type(c->doc, *ret) == JSON_NULL)) {
		if (required)
			return errorf("%s: %s: \"%s\" is missing", c->path, where, key);
		return 0;
	}
	if (json_type(c->doc, *ret) != type)
		return errorf("%s: %s: \"%s\" must be %s, not %s", c->path, where, key, json_type_word(type),
			      json_type_word(json_type(c->doc, *ret)));
	return 1;
}

static int member_string(const struct jctx *c, const char *where, uint32_t obj, const char *key, bool required,
			 char **ret)
{
	uint32_t tok;
	int r = member(c, where, obj, key, JSON_STRING, required, &tok);

	*ret = NULL;
	if (r <= 0)
		return r;
	*ret = tok_strdup(c->doc, tok);
	if (!*ret)
		return errorf("%s: %s: \"%s\" contains a NUL character", c->path, where, key);
	return 1;
}

static int member_hex(const struct jctx *c, const char *where, uint32_t obj, const char *key, size_t bank,
		      bool required, uint8_t out[DIGEST_MAX])
{
	char text[HEX_MAX + 1];
	uint32_t tok;
	int r = member(c, where, obj, key, JSON_STRING, required, &tok);

	if (r <= 0)
		return r;
	if (json_string_unescape(c->doc, tok, text, sizeof(text), NULL) != MS_OK ||
	    hex_decode(text, out, banks[bank].size) < 0)
		return errorf("%s: %s: \"%s\" must be %zu hex digits (a %s value)", c->path, where, key,
			      2 * banks[bank].size, banks[bank].name);
	return 1;
}

static int parse_exp_event(const struct jctx *c, const char *where, uint32_t obj, size_t bank, struct exp_event *e)
{
	if (json_type(c->doc, obj) != JSON_OBJECT)
		return errorf("%s: %s: must be an object", c->path, where);
	if (member_string(c, where, obj, "type", true, &e->type_name) < 0)
		return -1;
	if (strcmp(e->type_name, "userspace") == 0)
		e->userspace = true;
	else if (!tcglog_event_type_from_name(e->type_name, &e->type))
		return errorf("%s: %s: unknown event type \"%s\" (EV_IPL, EV_EVENT_TAG, ... or userspace)", c->path,
			      where, e->type_name);
	if (member_hex(c, where, obj, "digest", bank, true, e->digest) < 0 ||
	    member_string(c, where, obj, "description", false, &e->description) < 0 ||
	    member_string(c, where, obj, "file", false, &e->file) < 0)
		return -1;
	return 0;
}

static int parse_entry(const struct jctx *c, const char *where, uint32_t obj, size_t bank, struct expectation *x)
{
	uint32_t tok, events;
	uint64_t pcr;
	int r;

	x->bank = bank;
	if (json_type(c->doc, obj) != JSON_OBJECT)
		return errorf("%s: %s: must be an object", c->path, where);
	if (member(c, where, obj, "pcr", JSON_NUMBER, true, &tok) < 0)
		return -1;
	if (json_uint(c->doc, tok, N_PCRS - 1, &pcr) != MS_OK)
		return errorf("%s: %s: \"pcr\" must be an integer 0..23", c->path, where);
	x->pcr = (unsigned)pcr;
	if (member_hex(c, where, obj, "hash", bank, true, x->hash) < 0)
		return -1;
	r = member_hex(c, where, obj, "initial", bank, false, x->initial);
	if (r < 0)
		return -1;
	x->has_initial = r > 0;
	if (member_string(c, where, obj, "phase", false, &x->phase) < 0)
		return -1;
	r = member(c, where, obj, "profile", JSON_NUMBER, false, &tok);
	if (r < 0)
		return -1;
	if (r > 0 && json_uint(c->doc, tok, UINT32_MAX, &pcr) != MS_OK)
		return errorf("%s: %s: \"profile\" must be an integer 0..4294967295", c->path, where);
	x->has_profile = r > 0;
	x->profile = r > 0 ? (uint32_t)pcr : 0;
	if (member(c, where, obj, "events", JSON_ARRAY, true, &events) < 0)
		return -1;
	x->events = calloc(json_token(c->doc, events)->size + 1, sizeof(*x->events));
	if (!x->events)
		return errorf("out of memory");
	for (uint32_t e = json_first(c->doc, events); e != JSON_NONE; e = json_next(c->doc, e)) {
		char ewhere[96];

		snprintf(ewhere, sizeof(ewhere), "%s.events[%zu]", where, x->n_events);
		if (parse_exp_event(c, ewhere, e, bank, &x->events[x->n_events++]) < 0)
			return -1;
	}
	return 0;
}

int eventlog_load_expect(const char *path, struct expect_set *set)
{
	struct json_token *tokens = NULL;
	struct json_doc doc;
	struct jctx c = { path, &doc };
	uint8_t *buf = NULL;
	size_t len = 0, n_tok, cap = 0;
	ms_status r;
	int ret = -1;

	if (slurp(path, EXPECT_SIZE_MAX, false, &buf, &len) < 0)
		return -1;
	n_tok = JSON_TOKENS_FOR(len);
	tokens = calloc(n_tok, sizeof(*tokens));
	if (!tokens) {
		errorf("%s: out of memory", path);
		goto out;
	}
	r = json_parse(&doc, buf, len, tokens, (uint32_t)n_tok);
	if (r != MS_OK) {
		size_t line = 1, col = 1;

		for (size_t i = 0; i < doc.error_offset && i < len; i++) {
			col++;
			if (buf[i] == '\n') {
				line++;
				col = 1;
			}
		}
		/* With JSON_TOKENS_FOR() tokens, running out of them means a syntax error. */
		errorf("%s: not valid JSON: %s at line %zu, column %zu", path,
		       r == MS_ERR_TRUNCATED ? "unexpected end of input"
		       : r == MS_ERR_LIMIT   ? "nested too deeply"
					     : "syntax error",
		       line, col);
		goto out;
	}
	if (json_type(&doc, 0) != JSON_OBJECT) {
		errorf("%s: expected an object of banks ({\"sha256\":[...]}), not %s", path,
		       json_type_word(json_type(&doc, 0)));
		goto out;
	}
	for (uint32_t k = json_first(&doc, 0); k != JSON_NONE; k = json_next(&doc, k)) {
		const struct bank *b = NULL;
		uint32_t arr = k + 1, i = 0;

		for (size_t j = 0; j < BANK_COUNT && !b; j++)
			if (json_string_equals(&doc, k, banks[j].name))
				b = &banks[j];
		if (!b)
			continue;
		/* Two arrays for one bank: which one did the predictor mean? */
		if (json_object_get(&doc, 0, b->name, &arr) == MS_ERR_INVALID) {
			errorf("%s: \"%s\" appears more than once", path, b->name);
			goto out;
		}
		arr = k + 1;
		if (json_type(&doc, arr) != JSON_ARRAY) {
			errorf("%s: \"%s\" must be an array of PCR entries", path, b->name);
			goto out;
		}
		for (uint32_t e = json_first(&doc, arr); e != JSON_NONE; e = json_next(&doc, e), i++) {
			char where[48];

			if (set->n == cap) {
				size_t ncap = cap ? 2 * cap : 16;
				struct expectation *n = realloc(set->items, ncap * sizeof(*n));

				if (!n) {
					errorf("out of memory");
					goto out;
				}
				set->items = n;
				cap = ncap;
			}
			memset(&set->items[set->n], 0, sizeof(set->items[0]));
			set->n++;
			snprintf(where, sizeof(where), "%s[%u]", b->name, i);
			if (parse_entry(&c, where, e, bank_index(b), &set->items[set->n - 1]) < 0)
				goto out;
		}
	}
	ret = 0;
out:
	free(tokens);
	free(buf);
	return ret;
}

/* ------------------------------------------------------------ checking the prediction */

static char *exp_label(const struct exp_event *e)
{
	char *s = NULL;

	if (asprintf(&s, "%s%s%s%s", e->description ? e->description : e->type_name, e->file ? " (file " : "",
		     e->file ? e->file : "", e->file ? ")" : "") < 0)
		return NULL;
	return s;
}

static char *log_label(const struct log_event *e)
{
	char desc[DESC_MAX], tbuf[16], *s = NULL;

	describe(e, desc, sizeof(desc));
	if ((desc[0] ? asprintf(&s, "description \"%s\", log record #%u", desc, e->index)
		     : asprintf(&s, "%s, log record #%u", type_name(e->type, tbuf), e->index)) < 0)
		return NULL;
	return s;
}

static void set_problem(struct expectation *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_problem(struct expectation *x, const char *fmt, ...)
{
	va_list ap;

	x->result = EXP_FAILED;
	va_start(ap, fmt);
	if (vasprintf(&x->problem, fmt, ap) < 0)
		x->problem = NULL;
	va_end(ap);
}

/*
 * Compare the log's events in x->pcr (EV_NO_ACTION skipped, log order) with
 * the expected events that are not userspace, by digest and type, and
 * report the first difference. When they match, the log's replayed value
 * extended with the userspace events must equal the expected hash.
 */
static void check_expectation(struct expectation *x, const struct replay *rp)
{
	const struct bank *b = &banks[x->bank];
	uint8_t start[DIGEST_MAX] = { 0 }, log_start[DIGEST_MAX], v[DIGEST_MAX];
	char hx[HEX_MAX], hy[HEX_MAX], *el = NULL, *ll = NULL;
	size_t k = 0, nth = 0;

	x->result = EXP_OK;
	if (x->has_initial)
		memcpy(start, x->initial, b->size);
	tcglog_initial_pcr_value(x->pcr, rp->has_locality ? rp->locality : 0, log_start, b->size);
	if (memcmp(start, log_start, b->size) != 0) {
		set_problem(x, "PCR %u %s: initial value differs: expected %s, the log implies %s", x->pcr, b->name,
			    hex_encode(start, b->size, hx), hex_encode(log_start, b->size, hy));
		return;
	}
	for (size_t j = 0; j < x->n_events; j++) {
		const struct exp_event *e = &x->events[j];
		const struct log_event *le = NULL;

		if (e->userspace) {
			x->n_userspace++;
			continue;
		}
		nth++;
		while (k < rp->n_events && !le) {
			const struct log_event *c = &rp->events[k++];

			if (c->pcr == x->pcr && c->type != TCG_EV_NO_ACTION)
				le = c;
		}
		el = exp_label(e);
		if (!le) {
			set_problem(x, "PCR %u %s: log ends before expected event %zu: %s digest %s", x->pcr, b->name,
				    nth, el ? el : "?", hex_encode(e->digest, b->size, hx));
			goto out;
		}
		x->n_log_events++;
		if (memcmp(le->digest[x->bank], e->digest, b->size) != 0) {
			ll = log_label(le);
			set_problem(x, "PCR %u %s: event %zu differs: expected %s digest %s, log has digest %s (%s)",
				    x->pcr, b->name, nth, el ? el : "?", hex_encode(e->digest, b->size, hx),
				    hex_encode(le->digest[x->bank], b->size, hy), ll ? ll : "?");
			goto out;
		}
		if (le->type != e->type) {
			char tbuf[16];

			ll = log_label(le);
			set_problem(x, "PCR %u %s: event %zu differs: expected %s of type %s, log has type %s (%s)",
				    x->pcr, b->name, nth, el ? el : "?", e->type_name, type_name(le->type, tbuf),
				    ll ? ll : "?");
			goto out;
		}
		free(el);
		el = NULL;
	}
	{
		const struct log_event *first = NULL;
		size_t more = 0;

		for (; k < rp->n_events; k++) {
			const struct log_event *c = &rp->events[k];

			if (c->pcr == x->pcr && c->type != TCG_EV_NO_ACTION) {
				if (!first)
					first = c;
				more++;
			}
		}
		if (more) {
			ll = log_label(first);
			set_problem(x, "PCR %u %s: log has %zu more event%s than expected, the first: digest %s (%s)",
				    x->pcr, b->name, more, more == 1 ? "" : "s",
				    hex_encode(first->digest[x->bank], b->size, hx), ll ? ll : "?");
			goto out;
		}
	}
	memcpy(v, rp->value[x->bank][x->pcr], b->size);
	for (size_t j = 0; j < x->n_events; j++)
		if (x->events[j].userspace && pcr_extend(b, v, x->events[j].digest) < 0) {
			set_problem(x, "PCR %u %s: hashing failed", x->pcr, b->name);
			goto out;
		}
	if (memcmp(v, x->hash, b->size) != 0)
		set_problem(x, "PCR %u %s%s%s%s: the log's value extended with %zu userspace event%s is %s, expected hash %s",
			    x->pcr, b->name, x->phase ? " (phase " : "", x->phase ? x->phase : "", x->phase ? ")" : "",
			    x->n_userspace, x->n_userspace == 1 ? "" : "s", hex_encode(v, b->size, hx),
			    hex_encode(x->hash, b->size, hy));
out:
	free(el);
	free(ll);
}

/* ------------------------------------------------------------ output */

struct row {
	unsigned pcr;
	size_t bank;
};

static void print_events_text(const struct replay *rp, unsigned shown)
{
	char tbuf[16], hex[HEX_MAX], desc[DESC_MAX];

	printf("%6s  %3s  %-32s  %s\n", "RECORD", "PCR", "TYPE", "DIGESTS / DESCRIPTION");
	printf("%6u  %3u  %-32s  %s\n", 0u, 0u, "EV_NO_ACTION", "(not extended)  Spec ID Event03");
	for (size_t i = 0; i < rp->n_events; i++) {
		const struct log_event *e = &rp->events[i];

		printf("%6u  %3u  %-32s ", e->index, e->pcr, type_name(e->type, tbuf));
		if (e->type == TCG_EV_NO_ACTION) {
			printf(" (not extended)");
		} else {
			for (size_t b = 0; b < BANK_COUNT; b++)
				if ((shown & (1u << b)) && e->digest[b])
					printf(" %s:%s", banks[b].name, hex_encode(e->digest[b], banks[b].size, hex));
		}
		describe(e, desc, sizeof(desc));
		printf("%s%s\n", desc[0] ? "  " : "", desc);
	}
	printf("\n");
}

static void print_events_json(const struct replay *rp, unsigned shown)
{
	char tbuf[16], hex[HEX_MAX], desc[DESC_MAX];

	printf("\"events\":[");
	for (size_t i = 0; i < rp->n_events; i++) {
		const struct log_event *e = &rp->events[i];
		bool first = true;

		printf("%s{\"record\":%u,\"pcr\":%u,\"type\":", i ? "," : "", e->index, e->pcr);
		json_str(stdout, type_name(e->type, tbuf));
		printf(",\"extended\":%s,\"digests\":{", e->type == TCG_EV_NO_ACTION ? "false" : "true");
		for (size_t b = 0; b < BANK_COUNT; b++) {
			if (!(shown & (1u << b)) || !e->digest[b])
				continue;
			printf("%s\"%s\":\"%s\"", first ? "" : ",", banks[b].name,
			       hex_encode(e->digest[b], banks[b].size, hex));
			first = false;
		}
		describe(e, desc, sizeof(desc));
		printf("},\"description\":");
		json_str(stdout, desc);
		printf("}");
	}
	printf("],");
}

/*
 * A prediction of several UKI profiles (predict --profile all) is checked for
 * one: --profile N, which must be one of them; with one profile it is that.
 */
static int check_profiles(struct options *o, const struct expect_set *set)
{
	bool found = false, several = false;
	uint32_t first = 0;

	for (size_t i = 0; i < set->n; i++) {
		if (!set->items[i].has_profile)
			continue;
		several |= found && set->items[i].profile != first;
		if (!found)
			first = set->items[i].profile;
		found = true;
		if (o->profile_given && set->items[i].profile == o->profile)
			return 0;
	}
	if (!found)
		return 0; /* a prediction without profiles: --profile changes nothing */
	if (o->profile_given)
		return errorf("--profile %u: %s predicts no such profile", o->profile, o->expect_path);
	if (several)
		return errorf("%s predicts several UKI profiles: give --profile N", o->expect_path);
	o->profile = first;
	return 0;
}

/* ------------------------------------------------------------ the command */

static int parse_options(int argc, char **argv, struct options *o)
{
	enum { OPT_LOG = 256, OPT_TPM_DIR, OPT_PCR_VALUE, OPT_NO_PCR_VALUES, OPT_BANK, OPT_PCR, OPT_EXPECT, OPT_JSON,
	       OPT_VERBOSE, OPT_PROFILE };
	static const struct option longopts[] = {
		{ "log", required_argument, NULL, OPT_LOG },
		{ "tpm-dir", required_argument, NULL, OPT_TPM_DIR },
		{ "pcr-value", required_argument, NULL, OPT_PCR_VALUE },
		{ "no-pcr-values", no_argument, NULL, OPT_NO_PCR_VALUES },
		{ "bank", required_argument, NULL, OPT_BANK },
		{ "pcr", required_argument, NULL, OPT_PCR },
		{ "expect", required_argument, NULL, OPT_EXPECT },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "verbose", no_argument, NULL, OPT_VERBOSE },
		{ "profile", required_argument, NULL, OPT_PROFILE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->log_path = DEFAULT_LOG;
	o->tpm_dir = DEFAULT_TPM_DIR;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_LOG: o->log_path = optarg; break;
		case OPT_TPM_DIR:
			o->tpm_dir = optarg;
			o->tpm_dir_given = true;
			break;
		case OPT_PCR_VALUE: {
			struct pcr_arg *n = realloc(o->values, (o->n_values + 1) * sizeof(*n));

			if (!n)
				return errorf("out of memory");
			o->values = n;
			if (parse_pcr_value(optarg, &o->values[o->n_values]) < 0)
				return -1;
			for (size_t i = 0; i < o->n_values; i++)
				if (o->values[i].bank == n[o->n_values].bank && o->values[i].pcr == n[o->n_values].pcr)
					return errorf("--pcr-value %s: %s PCR %u given twice", optarg,
						      banks[n[o->n_values].bank].name, n[o->n_values].pcr);
			o->n_values++;
			break;
		}
		case OPT_NO_PCR_VALUES: o->no_pcr_values = true; break;
		case OPT_BANK: {
			const struct bank *b = bank_named(optarg);

			if (!b)
				return errorf("--bank %s: unknown bank (sha1, sha256, sha384, sha512)", optarg);
			o->bank_mask |= 1u << bank_index(b);
			break;
		}
		case OPT_PCR: {
			unsigned pcr;

			if (parse_uint(optarg, N_PCRS - 1, &pcr) < 0)
				return errorf("--pcr %s: not a PCR number 0..23", optarg);
			o->pcr_mask |= 1u << pcr;
			break;
		}
		case OPT_EXPECT: o->expect_path = optarg; break;
		case OPT_JSON: o->json = true; break;
		case OPT_VERBOSE: o->verbose = true; break;
		case OPT_PROFILE: {
			unsigned profile;

			if (parse_uint(optarg, UINT32_MAX, &profile) < 0)
				return errorf("--profile %s: not a profile number", optarg);
			o->profile = profile;
			o->profile_given = true;
			break;
		}
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc)
		return errorf("eventlog: unexpected argument '%s'", argv[optind]);
	if (o->no_pcr_values && (o->n_values || o->tpm_dir_given))
		return errorf("eventlog: --no-pcr-values cannot be combined with --pcr-value or --tpm-dir");
	return 0;
}

int cmd_eventlog(int argc, char **argv)
{
	struct options o = { 0 };
	struct replay *rp = calloc(1, sizeof(*rp));
	struct actual *act = calloc(1, sizeof(*act));
	struct expect_set set = { 0 };
	struct row rows[BANK_COUNT * N_PCRS];
	size_t n_rows = 0, mismatches = 0, failed = 0, checked = 0;
	uint8_t *log_buf = NULL;
	size_t log_len = 0;
	unsigned shown;
	uint32_t pcrs = 0;
	bool any_actual = false;
	char hex[HEX_MAX], hex2[HEX_MAX];
	int r, ret = EXIT_BAD_INPUT;

	if (!rp || !act) {
		errorf("out of memory");
		goto out;
	}
	r = parse_options(argc, argv, &o);
	if (r != 0) {
		ret = r > 0 ? EXIT_MATCH : EXIT_BAD_INPUT;
		goto out;
	}
	if (slurp(o.log_path, LOG_SIZE_MAX, false, &log_buf, &log_len) < 0 ||
	    replay_log(o.log_path, log_buf, log_len, rp) < 0)
		goto out;

	if (o.bank_mask & ~rp->banks) {
		for (size_t b = 0; b < BANK_COUNT; b++)
			if (o.bank_mask & ~rp->banks & (1u << b)) {
				errorf("--bank %s: %s has no %s digests", banks[b].name, o.log_path, banks[b].name);
				goto out;
			}
	}
	shown = o.bank_mask ? o.bank_mask : rp->banks;

	/* Which PCRs to show: the selection, or every PCR the log extends (and any given a value). */
	if (o.pcr_mask) {
		pcrs = o.pcr_mask;
	} else {
		for (unsigned p = 0; p < N_PCRS; p++)
			if (rp->extends[p])
				pcrs |= 1u << p;
	}
	for (size_t i = 0; i < o.n_values; i++) {
		const struct pcr_arg *v = &o.values[i];

		if (!(rp->banks & (1u << v->bank))) {
			errorf("--pcr-value %s: %s has no %s digests", v->text, o.log_path, banks[v->bank].name);
			goto out;
		}
		if (!(shown & (1u << v->bank)) || (o.pcr_mask && !(o.pcr_mask & (1u << v->pcr))))
			continue;
		pcrs |= 1u << v->pcr;
		act->has[v->bank][v->pcr] = true;
		memcpy(act->value[v->bank][v->pcr], v->value, banks[v->bank].size);
	}
	if (!o.n_values && !o.no_pcr_values && read_tpm_dir(o.tpm_dir, o.tpm_dir_given, shown, pcrs, act) < 0)
		goto out;

	if (o.expect_path) {
		if (eventlog_load_expect(o.expect_path, &set) < 0 || check_profiles(&o, &set) < 0)
			goto out;
		for (size_t i = 0; i < set.n; i++) {
			struct expectation *x = &set.items[i];

			if ((o.bank_mask && !(o.bank_mask & (1u << x->bank))) || (o.pcr_mask && !(o.pcr_mask & (1u << x->pcr))) ||
			    (x->has_profile && x->profile != o.profile)) {
				x->result = EXP_NOT_SELECTED;
				continue;
			}
			if (!(rp->banks & (1u << x->bank))) {
				x->result = EXP_SKIPPED;
				continue;
			}
			check_expectation(x, rp);
			checked++;
			failed += x->result == EXP_FAILED;
		}
	}

	for (unsigned p = 0; p < N_PCRS; p++) {
		if (!(pcrs & (1u << p)))
			continue;
		for (size_t b = 0; b < BANK_COUNT; b++) {
			if (!(shown & (1u << b)))
				continue;
			rows[n_rows++] = (struct row){ p, b };
			if (act->has[b][p]) {
				any_actual = true;
				mismatches += memcmp(act->value[b][p], rp->value[b][p], banks[b].size) != 0;
			}
		}
	}
	ret = mismatches || failed || (o.expect_path && checked == 0) ? EXIT_MISMATCH : EXIT_MATCH;

	if (o.json) {
		bool first = true;

		printf("{\"log\":");
		json_str(stdout, o.log_path);
		printf(",\"banks\":[");
		for (size_t b = 0; b < BANK_COUNT; b++)
			if (shown & (1u << b)) {
				printf("%s\"%s\"", first ? "" : ",", banks[b].name);
				first = false;
			}
		printf("],\"startup_locality\":");
		if (rp->has_locality)
			printf("%u", rp->locality);
		else
			printf("null");
		printf(",");
		if (o.verbose)
			print_events_json(rp, shown);
		printf("\"pcrs\":[");
		for (size_t i = 0; i < n_rows; i++) {
			const struct row *w = &rows[i];
			bool has = act->has[w->bank][w->pcr];

			printf("%s{\"pcr\":%u,\"bank\":\"%s\",\"replayed\":\"%s\",\"actual\":", i ? "," : "", w->pcr,
			       banks[w->bank].name, hex_encode(rp->value[w->bank][w->pcr], banks[w->bank].size, hex));
			if (has) {
				hex_encode(act->value[w->bank][w->pcr], banks[w->bank].size, hex2);
				printf("\"%s\",\"match\":%s}", hex2, strcmp(hex, hex2) == 0 ? "true" : "false");
			} else
				printf("null,\"match\":null}");
		}
		printf("]");
		if (o.expect_path) {
			static const char *const words[] = { "ok", "mismatch", "skipped", "not-selected" };

			printf(",\"expect\":{\"file\":");
			json_str(stdout, o.expect_path);
			printf(",\"checked\":%zu,\"checks\":[", checked);
			for (size_t i = 0; i < set.n; i++) {
				const struct expectation *x = &set.items[i];

				printf("%s{\"pcr\":%u,\"bank\":\"%s\",\"phase\":", i ? "," : "", x->pcr, banks[x->bank].name);
				json_str_or_null(stdout, x->phase);
				printf(",\"result\":\"%s\",\"problem\":", words[x->result]);
				json_str_or_null(stdout, x->problem);
				printf("}");
			}
			printf("]}");
		}
		printf(",\"ok\":%s}\n", ret == EXIT_MATCH ? "true" : "false");
		goto out;
	}

	printf("Event log %s: %zu records; banks", o.log_path, rp->n_events + 1);
	for (size_t b = 0; b < BANK_COUNT; b++)
		if (rp->banks & (1u << b))
			printf(" %s", banks[b].name);
	if (rp->has_locality)
		printf("; startup locality %u", rp->locality);
	printf("\n\n");
	if (o.verbose)
		print_events_text(rp, shown);
	if (n_rows) {
		int width = 0;

		for (size_t b = 0; b < BANK_COUNT; b++)
			if ((shown & (1u << b)) && (int)(2 * banks[b].size) > width)
				width = (int)(2 * banks[b].size);
		if (any_actual)
			printf("%3s  %-6s  %-*s  %-*s  %s\n", "PCR", "BANK", width, "REPLAYED", width, "ACTUAL", "RESULT");
		else
			printf("%3s  %-6s  %s\n", "PCR", "BANK", "REPLAYED");
		for (size_t i = 0; i < n_rows; i++) {
			const struct row *w = &rows[i];
			const struct bank *b = &banks[w->bank];

			hex_encode(rp->value[w->bank][w->pcr], b->size, hex);
			if (!any_actual) {
				printf("%3u  %-6s  %s\n", w->pcr, b->name, hex);
			} else if (act->has[w->bank][w->pcr]) {
				hex_encode(act->value[w->bank][w->pcr], b->size, hex2);
				printf("%3u  %-6s  %-*s  %-*s  %s\n", w->pcr, b->name, width, hex, width, hex2,
				       strcmp(hex, hex2) == 0 ? "ok" : "MISMATCH");
			} else {
				printf("%3u  %-6s  %-*s  %-*s  %s\n", w->pcr, b->name, width, hex, width, "-", "-");
			}
		}
	} else {
		printf("(no PCR to show)\n");
	}

	if (o.expect_path) {
		printf("\nExpectations from %s:\n", o.expect_path);
		for (size_t i = 0; i < set.n; i++) {
			const struct expectation *x = &set.items[i];
			bool repeated = false;

			switch (x->result) {
			case EXP_OK:
				printf("  PCR %u %s%s%s%s: ok (%zu log event%s", x->pcr, banks[x->bank].name,
				       x->phase ? " (phase " : "", x->phase ? x->phase : "", x->phase ? ")" : "",
				       x->n_log_events, x->n_log_events == 1 ? "" : "s");
				if (x->n_userspace)
					printf(" + %zu userspace", x->n_userspace);
				printf(")\n");
				break;
			case EXP_SKIPPED:
				printf("  PCR %u %s: skipped, the log has no %s digests\n", x->pcr, banks[x->bank].name,
				       banks[x->bank].name);
				break;
			case EXP_NOT_SELECTED:
				break;
			case EXP_FAILED:
				/* PCR 11's phases share firmware events: say each difference once. */
				for (size_t j = 0; j < i && !repeated; j++)
					repeated = set.items[j].problem && x->problem &&
						   strcmp(set.items[j].problem, x->problem) == 0;
				if (!repeated)
					printf("  %s\n", x->problem ? x->problem : "(out of memory)");
				break;
			}
		}
		if (checked == 0)
			printf("  nothing checked: the log has none of the predicted banks, or none was selected\n");
	}
	if (any_actual || o.expect_path) {
		printf("\nresult: %s", ret == EXIT_MATCH ? "ok" : "MISMATCH");
		if (mismatches)
			printf(" (%zu PCR value%s differ%s)", mismatches, mismatches == 1 ? "" : "s",
			       mismatches == 1 ? "s" : "");
		if (failed)
			printf(" (%zu expectation%s failed)", failed, failed == 1 ? "" : "s");
		printf("\n");
	}
out:
	eventlog_expect_free(&set);
	free(o.values);
	free(log_buf);
	if (rp)
		free(rp->events);
	free(rp);
	free(act);
	return ret;
}
