/* SPDX-License-Identifier: MIT */
/*
 * pcrlock.c - `sysext-stub pcrlock`: the predictions of `predict`, one per
 * approved state (each --extra-dir, each profile), cut into
 * systemd-pcrlock components (pcrlock-components.h):
 *
 *   660-sysext-stub-uki                  PCR 11: the UKI's sections (one variant per profile;
 *                                        only with --pcr 11, see build())
 *   670-sysext-stub-parameters           PCR 12: profile, command line, addons, credentials, confexts
 *                                        (one variant per distinct state)
 *   68K-sysext-stub-<dir>-<file name>    PCR 13, sysext-stub's scheme: one component per slot
 *                                        (K: the directory's place in measurement order), its path
 *                                        and content events; one variant per approved version
 *   680-sysext-stub-archives             PCR 13, --scheme=systemd: the archive events (one variant
 *                                        per distinct state)
 *
 * Every event digest comes from predict_compute(); nothing here measures.
 * Events systemd's own components cover (the boot phases, the
 * os-separator: PRED_USERSPACE) are left out. README.md, "pcrlock instead
 * of signing", says why the numbers and names are what they are.
 */
#include "pcrlock.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "digest.h"
#include "pcrlock-components.h"
#include "predict-inputs.h"
#include "predict.h"
#include "sysext-set.h"
#include "util.h"
#include "validate.h"
#include "measure/companion.h"

#define COMPONENT_UKI "660-sysext-stub-uki"
#define COMPONENT_PARAMETERS "670-sysext-stub-parameters"
#define COMPONENT_SLOT_BASE 680
#define COMPONENT_ARCHIVES "680-sysext-stub-archives"
#define ABSENT_VARIANT "absent"
#define MAX_STATES 64

/* --variant SLOT[:LABEL]=FILE|ALG:HEX[,ALG:HEX...] */
struct variant_arg {
	const char *text;
	char *slot, *label, *source;
};

struct pcrlock_args {
	struct predict_options in;
	struct validate_options validate;
	const char *states[MAX_STATES]; /* every --extra-dir, each an approved state */
	size_t n_states;
	struct variant_arg *variants;
	size_t n_variants;
	const char *output;
	bool replace, json;
};

static void usage(FILE *f)
{
	fputs("Usage: sysext-stub pcrlock [options]\n"
	      "Write systemd-pcrlock components (.pcrlock files) for what the stub measures, so that a\n"
	      "systemd-pcrlock policy approves every approved version of each sysext (README.md).\n\n",
	      f);
	predict_input_usage(f);
	fputs("Approved states:\n"
	      "  --extra-dir DIR        repeatable: each directory is one approved state of the per-UKI\n"
	      "                         directory (every version of every file in it is approved)\n"
	      "  --variant SLOT[:LABEL]=FILE|ALG:HEX[,ALG:HEX...]\n"
	      "                         also approve FILE (or the content digests given, one per bank) as the\n"
	      "                         file named SLOT (e.g. k3s.sysext.raw, or global_sysext/k3s.raw);\n"
	      "                         LABEL names the variant (default: ALG-<first 16 hex digits>)\n"
	      "  --pcr N                11, 12 or 13 (repeatable; default: 12 and 13, as the inputs allow;\n"
	      "                         PCR 11 only when asked: systemd-pcrlock lock-uki writes the same\n"
	      "                         records, except for UKIs with profiles, which it refuses)\n"
	      "Output:\n"
	      "  --output DIR           write DIR/NNN-name.pcrlock.d/VARIANT.pcrlock (for /var/lib/pcrlock.d)\n"
	      "  --replace              remove other .pcrlock files in the component directories written\n"
	      "  --json                 print the components as JSON\n"
	      "  (neither: a table of components and variants)\n",
	      f);
	validate_usage(f, true);
}

/* ---------------------------------------------------------------- options */

static int parse_variant(const char *arg, struct variant_arg *v)
{
	const char *eq = strchr(arg, '='), *colon;

	v->text = arg;
	if (!eq || eq == arg || !eq[1])
		return errorf("--variant: '%s' is not SLOT[:LABEL]=FILE|DIGEST", arg);
	colon = memchr(arg, ':', (size_t)(eq - arg));
	v->slot = strndup(arg, (size_t)((colon ? colon : eq) - arg));
	v->label = colon ? strndup(colon + 1, (size_t)(eq - colon - 1)) : NULL;
	v->source = strdup(eq + 1);
	if (!v->slot || (colon && !v->label) || !v->source)
		return errorf("out of memory");
	if (v->label && !pcrlock_id_ok(v->label))
		return errorf("--variant %s: '%s' cannot name a variant (a file name)", arg, v->label);
	return 0;
}

static int parse_pcr(struct pcrlock_args *a, const char *arg)
{
	unsigned v;

	if (parse_uint(arg, 23, &v) < 0 || (v != 11 && v != 12 && v != 13))
		return errorf("--pcr: '%s': pcrlock writes PCRs 11, 12 and 13 (systemd-pcrlock locks the others itself)",
			      arg);
	a->in.pcrs |= 1u << v;
	return 0;
}

static int parse_args(int argc, char **argv, struct pcrlock_args *a)
{
	enum { OPT_VARIANT = PREDICT_OPT_END, OPT_PCR, OPT_OUTPUT, OPT_REPLACE, OPT_JSON };
	static const struct option longopts[] = {
		PREDICT_INPUT_LONGOPTS,
		VALIDATE_LONGOPTS,
		{ "variant", required_argument, NULL, OPT_VARIANT },
		{ "pcr", required_argument, NULL, OPT_PCR },
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ "replace", no_argument, NULL, OPT_REPLACE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, r = 0;

	while (r == 0 && (c = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_VARIANT: {
			struct variant_arg *grown = realloc(a->variants, (a->n_variants + 1) * sizeof(*grown));

			if (!grown)
				return errorf("out of memory");
			a->variants = grown;
			grown[a->n_variants] = (struct variant_arg){ 0 };
			r = parse_variant(optarg, &grown[a->n_variants++]);
			break;
		}
		case OPT_PCR: r = parse_pcr(a, optarg); break;
		case 'o':
		case OPT_OUTPUT: a->output = optarg; break;
		case OPT_REPLACE: a->replace = true; break;
		case OPT_JSON: a->json = true; break;
		case 'h': usage(stdout); return 1;
		case PREDICT_OPT_EXTRA_DIR:
			if (a->n_states >= MAX_STATES)
				return errorf("--extra-dir: at most %d states", MAX_STATES);
			a->states[a->n_states++] = optarg;
			break;
		default:
			if (c >= PREDICT_OPT_UKI && c < PREDICT_OPT_END)
				r = predict_input_option(&a->in, c, optarg);
			else if (c >= VALIDATE_OPT_VALIDATE && c < VALIDATE_OPT_END)
				r = validate_option(&a->validate, c, optarg);
			else
				return errorf("try 'sysext-stub pcrlock --help'");
		}
	}
	if (r == 0 && optind < argc)
		r = errorf("unexpected argument '%s'", argv[optind]);
	if (r == 0 && a->n_variants && a->in.scheme == PREDICT_SCHEME_SYSTEMD)
		r = errorf("--variant approves one file's versions, which needs sysext-stub's per-file PCR 13 events; "
			   "under --scheme=systemd give each approved set as its own --extra-dir");
	return r;
}

/* ---------------------------------------------------------------- records from events */

static void record_of(const struct prediction *p, const struct pred_event *e, struct pcrlock_record *r)
{
	memset(r, 0, sizeof(*r));
	r->pcr = e->pcr;
	r->banks = p->banks;
	memcpy(r->digest, e->digest, sizeof(r->digest));
	r->description = e->description;
}

/* The first predicted bank, preferring sha256: the one variant labels are made from. */
static size_t label_bank(unsigned mask)
{
	size_t sha256 = bank_index(bank_by_name("sha256"));

	if (mask & (1u << sha256))
		return sha256;
	for (size_t i = 0; i < BANK_COUNT; i++)
		if (mask & (1u << i))
			return i;
	return sha256;
}

/* "sha256-<16 hex digits>" of @digest (the content, or the records' own digests). */
static void digest_label(size_t bank_i, const uint8_t *digest, char out[32])
{
	char hex[2 * DIGEST_MAX + 1];

	hex_encode(digest, banks[bank_i].size, hex);
	snprintf(out, 32, "%s-%.16s", banks[bank_i].name, hex);
}

/* A label for a list of records: a digest over their digests in the label bank. */
static int records_label(const struct pcrlock_record *r, size_t n, unsigned mask, char out[32])
{
	size_t b = label_bank(mask);
	uint8_t *buf = malloc(n * DIGEST_MAX + 1), d[DIGEST_MAX];

	if (!buf)
		return errorf("out of memory");
	for (size_t i = 0; i < n; i++)
		memcpy(buf + i * banks[b].size, r[i].digest[b], banks[b].size);
	if (digest_buffer(&banks[b], buf, n * banks[b].size, d) < 0) {
		free(buf);
		return -1;
	}
	free(buf);
	digest_label(b, d, out);
	return 0;
}

/* The events of PCR @pcr the firmware log holds, as records. *ret malloc()ed. */
static int pcr_records(const struct prediction *p, unsigned pcr, struct pcrlock_record **ret, size_t *ret_n)
{
	size_t n = 0;

	*ret = calloc(p->n_events + 1, sizeof(**ret));
	if (!*ret)
		return errorf("out of memory");
	for (size_t i = 0; i < p->n_events; i++)
		if (p->events[i].pcr == pcr && p->events[i].type != PRED_USERSPACE)
			record_of(p, &p->events[i], &(*ret)[n++]);
	*ret_n = n;
	return 0;
}

/* One component holding all of @pcr's events as a variant named @label (or after its digests). */
static int add_whole(struct pcrlock_set *s, const char *component, const struct prediction *p, unsigned pcr,
		     const char *label)
{
	struct pcrlock_record *recs;
	char made[32];
	size_t n;
	struct pcrlock_component *c;
	int r;

	if (pcr_records(p, pcr, &recs, &n) < 0)
		return -1;
	r = (c = pcrlock_component(s, component)) ? 0 : -1;
	if (r == 0 && !label)
		r = records_label(recs, n, p->banks, made);
	if (r == 0)
		r = pcrlock_add_variant(c, label ? label : made, recs, n) < 0 ? -1 : 0;
	free(recs);
	return r;
}

/* ---------------------------------------------------------------- PCR 13 slots */

/* A PCR 13 slot seen in some state: its component, directory and file name, and its path event. */
struct slot {
	char *id, *dir, *name;
	struct pcrlock_record path_event;
	size_t n_states; /* states that have it */
};

struct slots {
	struct slot *items;
	size_t n;
	unsigned banks; /* the banks predicted */
};

static void slots_free(struct slots *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].id);
		free(l->items[i].dir);
		free(l->items[i].name);
	}
	free(l->items);
}

/* The place of @prefix (".extra/sysext") among the PCR 13 targets, in measurement order; -1 if none. */
static int slot_dir_index(const char *prefix, size_t len)
{
	int k = 0;

	for (size_t i = 0; i < companion_target_count; i++) {
		const struct companion_target *t = &companion_targets[i];

		if (t->pcr != PCR_SYSEXTS)
			continue;
		if (strlen(t->layout.prefix) == len && strncmp(t->layout.prefix, prefix, len) == 0)
			return k;
		k++;
	}
	return -1;
}

/*
 * The slot of the file whose path event says @path (".extra/sysext/k3s.sysext.raw"),
 * found or added: component 68K-sysext-stub-sysext-k3s.sysext.raw. The id
 * holds the file name: the stub measures a directory's files in strcmp()
 * order of their names and systemd-pcrlock orders components by strcmp() of
 * theirs, so one directory's slots keep their order in every state.
 */
static struct slot *slot_of(struct slots *l, const struct pcrlock_record *path_event)
{
	const char *path = path_event->description, *slash = strrchr(path, '/'), *dir;
	int k = slash ? slot_dir_index(path, (size_t)(slash - path)) : -1;
	struct slot sl = { .path_event = *path_event }, *grown;

	if (k < 0 || k > 9) {
		errorf("PCR 13 event '%s' is not a file of a directory the stub measures", path);
		return NULL;
	}
	dir = memrchr(path, '/', (size_t)(slash - path));
	dir = dir ? dir + 1 : path;
	if (asprintf(&sl.id, "%d-sysext-stub-%.*s-%s", COMPONENT_SLOT_BASE + k, (int)(slash - dir), dir, slash + 1) < 0) {
		errorf("out of memory");
		return NULL;
	}
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->items[i].id, sl.id) == 0) {
			free(sl.id);
			return &l->items[i];
		}
	if (!pcrlock_id_ok(sl.id)) {
		errorf("%s: the file name cannot name a systemd-pcrlock component", path);
		free(sl.id);
		return NULL;
	}
	sl.dir = strndup(dir, (size_t)(slash - dir));
	sl.name = strdup(slash + 1);
	sl.path_event.description = NULL;
	grown = realloc(l->items, (l->n + 1) * sizeof(*grown));
	if (grown)
		l->items = grown;
	if (!sl.dir || !sl.name || !grown) {
		free(sl.id);
		free(sl.dir);
		free(sl.name);
		errorf("out of memory");
		return NULL;
	}
	l->items[l->n] = sl;
	return &l->items[l->n++];
}

/*
 * Each file of the state: its path and content events as one variant of
 * its slot, labelled after its content. Checks that the state's slots are
 * in component order (they are by construction; a stub that measured in
 * another order would be caught here).
 */
static int add_slots(struct pcrlock_set *s, struct slots *l, const struct prediction *p, const char *state)
{
	struct pcrlock_record *recs;
	const char *prev = NULL;
	size_t n, b = label_bank(p->banks);
	int r = 0;

	if (pcr_records(p, PCR_SYSEXTS, &recs, &n) < 0)
		return -1;
	if (n % 2)
		r = errorf("internal error: PCR 13 events do not come in pairs");
	l->banks = p->banks;
	for (size_t i = 0; r == 0 && i + 1 < n; i += 2) {
		struct slot *sl = slot_of(l, &recs[i]);
		struct pcrlock_component *c;
		char label[32];

		if (!sl) {
			r = -1;
			break;
		}
		if (prev && strcmp(prev, sl->id) >= 0)
			warnf("%s: %s is measured after %s, but systemd-pcrlock orders its component first: the policy "
			      "will not match this state",
			      state, sl->id, prev);
		prev = sl->id;
		sl->n_states++;
		digest_label(b, recs[i + 1].digest[b], label);
		r = (c = pcrlock_component(s, sl->id)) && pcrlock_add_variant(c, label, recs + i, 2) >= 0 ? 0 : -1;
	}
	free(recs);
	return r;
}

/*
 * Slots some state lacks get an empty ("absent") variant: systemd-pcrlock
 * then approves boots with and without that file. Warned, since a renamed
 * file (k3s-v1.29.sysext.raw -> k3s-v1.30.sysext.raw) is two such slots and
 * the policy then approves either, both or neither.
 */
static int add_absent(struct pcrlock_set *s, const struct slots *l, size_t n_states)
{
	for (size_t i = 0; i < l->n; i++) {
		struct pcrlock_component *c;

		if (l->items[i].n_states == n_states)
			continue;
		warnf("%s: not in every approved state, so the policy also approves boots without it; keep a "
		      "file's name across its versions (k3s.sysext.raw, not k3s-v1.29.sysext.raw) so that they are "
		      "variants of one slot",
		      l->items[i].id);
		if (!(c = pcrlock_component(s, l->items[i].id)) || pcrlock_add_variant(c, ABSENT_VARIANT, NULL, 0) < 0)
			return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- --variant */

/* @text as ALG:HEX[,ALG:HEX...] into @d; 1 if it is one, 0 if it is not (a file), -1 on a bad digest. */
static int parse_digests(const char *text, uint8_t d[BANK_COUNT][DIGEST_MAX], unsigned *mask, const char *what)
{
	const char *p = text;

	*mask = 0;
	for (;;) {
		const char *colon = strchr(p, ':'), *end = strchr(p, ',');
		char name[16], hex[2 * DIGEST_MAX + 1];
		const struct bank *b;
		size_t hl;

		end = end ? end : p + strlen(p);
		if (!colon || colon > end || (size_t)(colon - p) >= sizeof(name))
			return p == text ? 0 : errorf("--variant %s: '%s' is not ALG:HEX", what, p);
		memcpy(name, p, (size_t)(colon - p));
		name[colon - p] = 0;
		if (!(b = bank_by_name(name)))
			return p == text ? 0 : errorf("--variant %s: unknown bank '%s' (sha1, sha256, sha384, sha512)", what, name);
		hl = (size_t)(end - colon - 1);
		if (hl != 2 * b->size || hl >= sizeof(hex))
			return errorf("--variant %s: a %s digest is %zu hex digits", what, b->name, 2 * b->size);
		memcpy(hex, colon + 1, hl);
		hex[hl] = 0;
		if (hex_decode(hex, d[bank_index(b)], b->size) < 0)
			return errorf("--variant %s: '%s' is not hex", what, hex);
		*mask |= 1u << bank_index(b);
		if (!*end)
			return 1;
		p = end + 1;
	}
}

static struct slot *find_slot(struct slots *l, const char *spec)
{
	const char *slash = strrchr(spec, '/');
	struct slot *found = NULL;

	for (size_t i = 0; i < l->n; i++) {
		struct slot *sl = &l->items[i];

		if (strcmp(sl->name, slash ? slash + 1 : spec) != 0 ||
		    (slash && (strlen(sl->dir) != (size_t)(slash - spec) || strncmp(sl->dir, spec, (size_t)(slash - spec)) != 0)))
			continue;
		if (found) {
			errorf("--variant: '%s' names a file in %s and in %s: write DIR/NAME", spec, found->dir, sl->dir);
			return NULL;
		}
		found = sl;
	}
	if (!found)
		errorf("--variant: no approved state has a file '%s' the stub measures into PCR 13 (a variant approves "
		       "another version of a file a state has: give a state with it)",
		       spec);
	return found;
}

static int add_variant(struct pcrlock_set *s, struct slots *l, const struct variant_arg *v)
{
	struct slot *sl = find_slot(l, v->slot);
	struct pcrlock_record recs[2];
	struct sysext_file f = { 0 };
	struct pcrlock_component *c;
	char label[32];
	unsigned mask;
	int r;

	if (!sl)
		return -1;
	r = parse_digests(v->source, f.digest, &mask, v->text);
	if (r < 0)
		return -1;
	if (r == 0) {
		struct stat st;

		f.path = v->source;
		if (stat(f.path, &st) < 0)
			return errorf("--variant %s: %s: %s", v->text, f.path, strerror(errno));
		if (!S_ISREG(st.st_mode))
			return errorf("--variant %s: %s: not a regular file", v->text, f.path);
		f.size = (uint64_t)st.st_size;
		if (sysext_file_hash(&f, l->banks) < 0)
			return -1;
	} else {
		for (size_t i = 0; i < BANK_COUNT; i++)
			if ((l->banks & (1u << i)) && !(mask & (1u << i)))
				return errorf("--variant %s: no %s digest, and the %s bank is predicted: give %s:HEX too, "
					      "or leave that bank out with --bank",
					      v->text, banks[i].name, banks[i].name, banks[i].name);
	}
	recs[0] = sl->path_event;
	recs[1] = sl->path_event;
	memcpy(recs[1].digest, f.digest, sizeof(f.digest));
	if (!v->label)
		digest_label(label_bank(l->banks), f.digest[label_bank(l->banks)], label);
	if (!(c = pcrlock_component(s, sl->id)))
		return -1;
	if (v->label) {
		const struct pcrlock_variant *same = pcrlock_find_variant(c, recs, 2);

		if (same && strcmp(same->id, v->label) != 0)
			warnf("--variant %s: the same version is already variant '%s'", v->text, same->id);
	}
	return pcrlock_add_variant(c, v->label ? v->label : label, recs, 2) < 0 ? -1 : 0;
}

/* ---------------------------------------------------------------- the states */

/* Validate the state's sysexts, then cut its prediction into components. */
static int add_state(struct pcrlock_args *a, struct pcrlock_set *s, struct slots *l, const char *state,
		     const struct prediction *p, bool first_profile)
{
	unsigned pcrs = a->in.pcrs;
	char uki_label[32];
	int r;

	if (first_profile && (r = validate_prediction(&a->validate, p)) != 0)
		return r == 1 ? errorf("%s: validate refuses a sysext: nothing is written", state) : -1;
	snprintf(uki_label, sizeof(uki_label), "profile-%u", p->profile);
	if ((pcrs & (1u << PCR_KERNEL_IMAGE)) &&
	    add_whole(s, COMPONENT_UKI, p, PCR_KERNEL_IMAGE, p->has_profile ? uki_label : NULL) < 0)
		return -1;
	if ((pcrs & (1u << PCR_KERNEL_PARAMETERS)) && add_whole(s, COMPONENT_PARAMETERS, p, PCR_KERNEL_PARAMETERS, NULL) < 0)
		return -1;
	if (!(pcrs & (1u << PCR_SYSEXTS)) || !first_profile) /* the profiles share the sysexts */
		return 0;
	if (a->in.scheme == PREDICT_SCHEME_SYSTEMD)
		return add_whole(s, COMPONENT_ARCHIVES, p, PCR_SYSEXTS, NULL);
	return add_slots(s, l, p, state);
}

/* Every state (--extra-dir) and profile predicted and added to @s; then the absent slots and --variant. */
static int build(struct pcrlock_args *a, struct pcrlock_set *s)
{
	size_t n_states = a->n_states ? a->n_states : 1, n_profiles = 0;
	struct slots l = { 0 };
	uint32_t *profiles = NULL;
	int r;

	/*
	 * By default neither PCR 9 (systemd-pcrlock's lock-kernel-cmdline and
	 * lock-kernel-initrd) nor PCR 11: `systemd-pcrlock lock-uki` writes the
	 * same PCR 11 records for a UKI of ours (tests/tpm/test_pcrlock.py), and
	 * two components for one UKI would extend it twice. --pcr 11 writes
	 * ours, for what lock-uki 257 refuses: UKIs with profiles.
	 */
	a->in.pcrs_never = (1u << PCR_LINUX_INITRD) | (1u << PCR_KERNEL_IMAGE);
	r = predict_profiles(&a->in, &profiles, &n_profiles);
	for (size_t st = 0; r == 0 && st < n_states; st++) {
		const char *name = a->n_states ? a->states[st] : "the inputs";

		if (a->n_states)
			a->in.extra_dir = a->states[st];
		for (size_t k = 0; r == 0 && k < n_profiles; k++) {
			struct prediction p;

			a->in.profile = profiles[k];
			r = predict_compute(&a->in, &p);
			if (r == 0)
				r = add_state(a, s, &l, name, &p, k == 0);
			prediction_free(&p);
		}
	}
	if (r == 0)
		r = add_absent(s, &l, n_states);
	for (size_t i = 0; r == 0 && i < a->n_variants; i++)
		r = add_variant(s, &l, &a->variants[i]);
	if (r == 0 && s->n_components == 0)
		r = errorf("nothing to lock: give --uki, a command line, or files the stub measures");
	slots_free(&l);
	free(profiles);
	return r;
}

/* ---------------------------------------------------------------- output */

static void print_table(const struct pcrlock_set *s, FILE *out)
{
	fprintf(out, "%-48s %-24s %s\n", "COMPONENT", "VARIANT", "RECORDS");
	for (size_t i = 0; i < s->n_components; i++)
		for (size_t k = 0; k < s->components[i].n_variants; k++) {
			const struct pcrlock_variant *v = &s->components[i].variants[k];

			fprintf(out, "%-48s %-24s %zu", s->components[i].id, v->id, v->n_records);
			if (v->n_records)
				fprintf(out, " (PCR %u)", v->records[0].pcr);
			fputc('\n', out);
		}
}

int cmd_pcrlock(int argc, char **argv)
{
	struct pcrlock_args a = { 0 };
	struct pcrlock_set s = { 0 };
	int r = parse_args(argc, argv, &a);

	if (r == 0)
		r = build(&a, &s);
	if (r == 0 && a.output)
		r = pcrlock_write_tree(a.output, &s, a.replace);
	if (r == 0 && a.json)
		pcrlock_print_json(stdout, &s);
	else if (r == 0 && !a.output)
		print_table(&s, stdout);
	if (r == 0 && fflush(stdout) != 0)
		r = errorf("cannot write the output: %s", strerror(errno));
	pcrlock_set_free(&s);
	for (size_t i = 0; i < a.n_variants; i++) {
		free(a.variants[i].slot);
		free(a.variants[i].label);
		free(a.variants[i].source);
	}
	free(a.variants);
	predict_options_free(&a.in);
	validate_options_free(&a.validate);
	return r == 1 ? 0 : r < 0 ? 1 : 0;
}
