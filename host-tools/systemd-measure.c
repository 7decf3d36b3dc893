/* SPDX-License-Identifier: MIT */
/*
 * systemd-measure.c - `sysext-stub` answering as systemd-measure 262 for
 * what ukify 262 calls: the verbs calculate, sign and policy-digest, the
 * section options (--linux= ... --hwids=), --bank, --phase, --json,
 * --private-key, --public-key and --policyref. Installed under the name
 * systemd-measure (a symlink to sysext-stub) in a directory given to
 * `ukify build --tools`, it lets `ukify --measure` and PCR signing work on
 * a build host whose own systemd-measure is older (Debian 12's 252 knows no
 * .uname, .sbat, .profile, ...).
 *
 * The output is byte for byte what systemd-measure 262 prints for the same
 * arguments (tests/vectors/systemd-measure-262 holds its answers, made once
 * in a Debian unstable chroot):
 *  - PCR 11: starting from zero, for every section file given (empty files
 *    skipped) in systemd's canonical order, H(name with NUL) then
 *    H(content); then, per phase, its words (measure/uki.c's list,
 *    host-tools/prediction.c's phases). Phases are sorted and deduplicated
 *    after their empty words are dropped; an empty phase has no "phase" key.
 *  - calculate: "11:<bank>=<hex>" per phase and bank, or JSON
 *    {"<bank>":[{"phase":...,"pcr":11,"hash":...}]};
 *  - sign: {"<bank>":[{"pcrs":[11],"pkfp":...,"ref":...,"pol":...,"sig":...}]},
 *    sig RSASSA-PKCS1-v1_5 SHA-256 over tbs (all banks, as from v261);
 *  - policy-digest: the same with "tbs" instead of "sig", "pkfp" only with
 *    a key. tbs is pol, or pol followed by SHA256(policy reference). With
 *    --json=off (the default) its JSON line has no final newline.
 * Everything else systemd-measure does (status, --current, --append,
 * certificates, engines and providers) is refused, named.
 */
#include "systemd-measure.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "base64.h"
#include "digest.h"
#include "key-file.h"
#include "pcr-policy.h"
#include "predict.h"
#include "prediction.h"
#include "userspace-extends.h"
#include "util.h"
#include "measure/uki.h"

#define SECTION_FILE_MAX ((uint64_t)4 << 30)
#define POLICYREF_MAX 1024

enum verb { VERB_CALCULATE, VERB_SIGN, VERB_POLICY_DIGEST };
enum json_mode { JSON_OFF, JSON_SHORT, JSON_PRETTY };

struct measure_args {
	enum verb verb;
	const char *section_file[UKI_MAX_MEASURED + 1]; /* by index in the v258 canonical list */
	unsigned banks;
	const char *phases[PRED_MAX_PHASES];
	size_t n_phases;
	enum json_mode json;
	const char *private_key, *public_key, *policyref;
};

/* The section options systemd-measure 262 has: the canonical names without .pcrsig and .efifw. */
static const char *const *canonical;
static size_t n_canonical;

static int section_option(const char *name)
{
	return uki_section_is_measured(name) && strcmp(name, ".efifw") != 0;
}

/* ---------------------------------------------------------------- JSON writer (short and pretty, as systemd) */

struct json_out {
	FILE *f;
	int pretty, depth;
	int first; /* no element written yet at this depth */
};

static void jw_newline(struct json_out *w)
{
	if (!w->pretty)
		return;
	fputc('\n', w->f);
	for (int i = 0; i < w->depth; i++)
		fputc('\t', w->f);
}

/* Before a value or key: the comma and the line break. */
static void jw_next(struct json_out *w)
{
	if (!w->first)
		fputc(',', w->f);
	if (w->depth > 0)
		jw_newline(w);
	w->first = 0;
}

static void jw_open(struct json_out *w, char c)
{
	fputc(c, w->f);
	w->depth++;
	w->first = 1;
}

static void jw_close(struct json_out *w, char c)
{
	w->depth--;
	jw_newline(w);
	fputc(c, w->f);
	w->first = 0;
}

static void jw_key(struct json_out *w, const char *key)
{
	jw_next(w);
	fprintf(w->f, w->pretty ? "\"%s\" : " : "\"%s\":", key);
	w->first = 1; /* the value follows without a comma or line break */
}

/* A value right after its key, or as an array element. */
static void jw_value_start(struct json_out *w, int after_key)
{
	if (!after_key)
		jw_next(w);
	w->first = 0;
}

static void jw_string(struct json_out *w, const char *key, const char *v)
{
	jw_key(w, key);
	jw_value_start(w, 1);
	fprintf(w->f, "\"%s\"", v);
}

/* ---------------------------------------------------------------- arguments */

static void usage(FILE *f)
{
	fprintf(f, "Usage: systemd-measure calculate|sign|policy-digest [options]\n"
		   "sysext-stub answering as systemd-measure 262, for ukify (README: build with ukify).\n\n"
		   "  --linux=PATH --osrel=PATH --cmdline=PATH --initrd=PATH --ucode=PATH --splash=PATH\n"
		   "  --dtb=PATH --uname=PATH --sbat=PATH --pcrpkey=PATH --profile=PATH --dtbauto=PATH\n"
		   "  --hwids=PATH           the UKI's sections (PCR 11)\n"
		   "  --bank=DIGEST          sha1, sha256, sha384, sha512 (repeatable; default: all)\n"
		   "  --phase=PHASE          boot phase path (repeatable; default: systemd-measure's four)\n"
		   "  --json=MODE            off, short, pretty\n"
		   "  --private-key=PATH     RSA key to sign with (sign)\n"
		   "  --public-key=PATH      its public key (default: derived from the private key)\n"
		   "  --policyref=STRING     bind the signatures to this policy reference\n");
}

static int parse_json_mode(const char *s, enum json_mode *ret)
{
	if (strcmp(s, "off") == 0)
		*ret = JSON_OFF;
	else if (strcmp(s, "short") == 0)
		*ret = JSON_SHORT;
	else if (strcmp(s, "pretty") == 0)
		*ret = JSON_PRETTY;
	else
		return errorf("--json: unknown mode '%s' (off, short, pretty)", s);
	return 0;
}

static int parse_args(int argc, char **argv, struct measure_args *a)
{
	enum { OPT_BANK = 1000, OPT_PHASE, OPT_JSON, OPT_PRIVATE_KEY, OPT_PUBLIC_KEY, OPT_POLICYREF, OPT_UNSUPPORTED,
	       OPT_SECTION };
	struct option longopts[UKI_MAX_MEASURED + 16];
	static const char *const unsupported[] = { "current", "append", "certificate", "private-key-source",
						   "certificate-source", "tpm2-device" };
	size_t n = 0;
	int c, idx;

	for (size_t i = 0; i < n_canonical; i++)
		if (section_option(canonical[i]))
			longopts[n++] = (struct option){ canonical[i] + 1, required_argument, NULL, OPT_SECTION + (int)i };
	longopts[n++] = (struct option){ "bank", required_argument, NULL, OPT_BANK };
	longopts[n++] = (struct option){ "phase", required_argument, NULL, OPT_PHASE };
	longopts[n++] = (struct option){ "json", required_argument, NULL, OPT_JSON };
	longopts[n++] = (struct option){ "private-key", required_argument, NULL, OPT_PRIVATE_KEY };
	longopts[n++] = (struct option){ "public-key", required_argument, NULL, OPT_PUBLIC_KEY };
	longopts[n++] = (struct option){ "policyref", required_argument, NULL, OPT_POLICYREF };
	for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++)
		longopts[n++] = (struct option){ unsupported[i], optional_argument, NULL, OPT_UNSUPPORTED };
	longopts[n++] = (struct option){ "no-pager", no_argument, NULL, 'P' };
	longopts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	longopts[n++] = (struct option){ "version", no_argument, NULL, 'V' };
	longopts[n] = (struct option){ NULL, 0, NULL, 0 };

	optind = 1;
	while ((c = getopt_long(argc, argv, "hj", longopts, &idx)) != -1) {
		const struct bank *b;

		switch (c) {
		case OPT_BANK:
			if (!(b = bank_by_name(optarg)))
				return errorf("--bank: unknown bank '%s' (sha1, sha256, sha384, sha512)", optarg);
			a->banks |= 1u << bank_index(b);
			break;
		case OPT_PHASE:
			if (a->n_phases >= PRED_MAX_PHASES)
				return errorf("--phase: at most %d", PRED_MAX_PHASES);
			a->phases[a->n_phases++] = optarg;
			break;
		case OPT_JSON:
			if (parse_json_mode(optarg, &a->json) < 0)
				return -1;
			break;
		case 'j':
			a->json = JSON_PRETTY;
			break;
		case OPT_PRIVATE_KEY: a->private_key = optarg; break;
		case OPT_PUBLIC_KEY: a->public_key = optarg; break;
		case OPT_POLICYREF:
			if (strlen(optarg) > POLICYREF_MAX)
				return errorf("--policyref: longer than %d bytes", POLICYREF_MAX);
			a->policyref = optarg;
			break;
		case OPT_UNSUPPORTED:
			return errorf("systemd-measure: --%s is not supported by sysext-stub's systemd-measure",
				      longopts[idx].name);
		case 'P': break;
		case 'h': usage(stdout); return 1;
		case 'V': printf("systemd 262 (sysext-stub %s)\n", SYSEXT_STUB_VERSION); return 1;
		case '?': return errorf("try 'systemd-measure --help'");
		default: {
			size_t i = (size_t)(c - OPT_SECTION);

			if (a->section_file[i])
				return errorf("--%s given twice", canonical[i] + 1);
			a->section_file[i] = optarg;
		}
		}
	}
	if (optind + 1 != argc)
		return errorf("systemd-measure: give one verb: calculate, sign or policy-digest");
	if (strcmp(argv[optind], "calculate") == 0)
		a->verb = VERB_CALCULATE;
	else if (strcmp(argv[optind], "sign") == 0)
		a->verb = VERB_SIGN;
	else if (strcmp(argv[optind], "policy-digest") == 0)
		a->verb = VERB_POLICY_DIGEST;
	else
		return errorf("systemd-measure: verb '%s' is not supported (calculate, sign, policy-digest)",
			      argv[optind]);
	if (!a->section_file[0])
		return errorf("systemd-measure: --linux= is required");
	if (a->verb == VERB_SIGN && !a->private_key)
		return errorf("systemd-measure: sign needs --private-key=");
	return 0;
}

/* ---------------------------------------------------------------- PCR 11 */

static int phase_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sections in canonical order (empty files skipped), then the phases (sorted after normalising). */
static int compute(const struct measure_args *a, struct prediction *p, const char *sorted[PRED_MAX_PHASES])
{
	const char *const *phases = a->phases;
	size_t n_phases = a->n_phases;

	p->banks = a->banks ? a->banks : (1u << BANK_COUNT) - 1;
	p->pcrs = 1u << PCR_KERNEL_IMAGE;
	for (size_t i = 0; i < n_canonical; i++) {
		uint8_t *data;
		size_t len;
		int r;

		if (!a->section_file[i])
			continue;
		if (read_file(a->section_file[i], SECTION_FILE_MAX, &data, &len) < 0)
			return -1;
		r = len == 0 ? 0 /* systemd-measure leaves empty files out */
			     : prediction_add_data(p, PCR_KERNEL_IMAGE, PRED_EV_IPL, canonical[i], a->section_file[i],
						   canonical[i], strlen(canonical[i]) + 1);
		if (r == 0 && len)
			r = prediction_add_data(p, PCR_KERNEL_IMAGE, PRED_EV_IPL, canonical[i], a->section_file[i], data,
						len);
		free(data);
		if (r < 0)
			return -1;
	}
	if (n_phases == 0)
		n_phases = userspace_default_phases(&phases);
	for (size_t i = 0; i < n_phases; i++)
		if (prediction_add_phase(p, phases[i]) < 0)
			return -1;
	for (size_t i = 0; i < p->n_phases; i++)
		sorted[i] = p->phases[i];
	qsort(sorted, p->n_phases, sizeof(sorted[0]), phase_cmp);
	return 0;
}

/* ---------------------------------------------------------------- output */

/* `"sha256": [`: one bank's list of entries, as systemd-measure groups them. */
static void open_bank(struct json_out *w, const char *name)
{
	jw_key(w, name);
	jw_value_start(w, 1);
	jw_open(w, '[');
}

static void print_calculate(const struct measure_args *a, const struct prediction *p, const char *const *phases)
{
	struct json_out w = { .f = stdout, .pretty = a->json == JSON_PRETTY };
	uint8_t v[DIGEST_MAX];
	char hex[2 * DIGEST_MAX + 1];

	if (a->json == JSON_OFF) {
		for (size_t k = 0; k < p->n_phases; k++)
			for (size_t b = 0; b < BANK_COUNT; b++)
				if (p->banks & (1u << b)) {
					prediction_value(p, b, PCR_KERNEL_IMAGE, phases[k], v);
					printf("%u:%s=%s\n", PCR_KERNEL_IMAGE, banks[b].name,
					       hex_encode(v, banks[b].size, hex));
				}
		return;
	}
	jw_open(&w, '{');
	for (size_t b = 0; b < BANK_COUNT; b++) {
		if (!(p->banks & (1u << b)))
			continue;
		open_bank(&w, banks[b].name);
		for (size_t k = 0; k < p->n_phases; k++) {
			jw_value_start(&w, 0);
			jw_open(&w, '{');
			if (phases[k][0])
				jw_string(&w, "phase", phases[k]);
			jw_key(&w, "pcr");
			jw_value_start(&w, 1);
			fprintf(w.f, "%u", PCR_KERNEL_IMAGE);
			prediction_value(p, b, PCR_KERNEL_IMAGE, phases[k], v);
			jw_string(&w, "hash", hex_encode(v, banks[b].size, hex));
			jw_close(&w, '}');
		}
		jw_close(&w, ']');
	}
	jw_close(&w, '}');
	fputc('\n', w.f);
}

/* One sign or policy-digest entry: pol of PCR 11's @value, then sig over tbs or tbs itself. */
static int print_entry(struct json_out *w, const struct measure_args *a, const struct bank *b, EVP_PKEY *priv,
		       const char *pkfp, const uint8_t value[DIGEST_MAX])
{
	uint8_t values[POLICY_PCR_COUNT][DIGEST_MAX] = { { 0 } }, tbs[2 * POLICY_DIGEST_SIZE], sig[POLICY_SIG_MAX];
	char hex[4 * POLICY_DIGEST_SIZE + 1], *b64;
	size_t tbs_len = POLICY_DIGEST_SIZE, sig_len;

	memcpy(values[PCR_KERNEL_IMAGE], value, b->size);
	if (policy_pcr_digest(b, 1u << PCR_KERNEL_IMAGE, values, tbs) < 0)
		return -1;
	if (a->policyref) {
		uint8_t ref[DIGEST_MAX];

		if (digest_buffer(bank_by_name("sha256"), a->policyref, strlen(a->policyref), ref) < 0)
			return -1;
		memcpy(tbs + POLICY_DIGEST_SIZE, ref, POLICY_DIGEST_SIZE);
		tbs_len += POLICY_DIGEST_SIZE;
	}
	jw_value_start(w, 0);
	jw_open(w, '{');
	jw_key(w, "pcrs");
	jw_value_start(w, 1);
	jw_open(w, '[');
	jw_value_start(w, 0);
	fprintf(w->f, "%u", PCR_KERNEL_IMAGE);
	jw_close(w, ']');
	if (pkfp)
		jw_string(w, "pkfp", pkfp);
	if (a->policyref)
		jw_string(w, "ref", a->policyref);
	jw_string(w, "pol", hex_encode(tbs, POLICY_DIGEST_SIZE, hex));
	if (priv) {
		if (policy_sign_data(priv, tbs, tbs_len, sig, &sig_len) < 0 || !(b64 = base64_encode(sig, sig_len)))
			return -1;
		jw_string(w, "sig", b64);
		free(b64);
	} else {
		jw_string(w, "tbs", hex_encode(tbs, tbs_len, hex));
	}
	jw_close(w, '}');
	return 0;
}

static int print_policies(const struct measure_args *a, const struct prediction *p, const char *const *phases,
			  EVP_PKEY *priv, EVP_PKEY *pub)
{
	struct json_out w = { .f = stdout, .pretty = a->json == JSON_PRETTY };
	uint8_t fp[POLICY_DIGEST_SIZE], v[DIGEST_MAX];
	char pkfp[2 * POLICY_DIGEST_SIZE + 1];

	if (pub && (policy_key_fingerprint(pub, fp) < 0))
		return -1;
	if (pub)
		hex_encode(fp, sizeof(fp), pkfp);
	jw_open(&w, '{');
	for (size_t b = 0; b < BANK_COUNT; b++) {
		if (!(p->banks & (1u << b)))
			continue;
		open_bank(&w, banks[b].name);
		for (size_t k = 0; k < p->n_phases; k++) {
			prediction_value(p, b, PCR_KERNEL_IMAGE, phases[k], v);
			if (print_entry(&w, a, &banks[b], priv, pub ? pkfp : NULL, v) < 0)
				return -1;
		}
		jw_close(&w, ']');
	}
	jw_close(&w, '}');
	/* systemd-measure 262 ends this line except for policy-digest with --json=off (its default). */
	if (a->verb == VERB_SIGN || a->json != JSON_OFF)
		fputc('\n', w.f);
	return 0;
}

/* The keys of sign and policy-digest: the public key given, else derived from the private one. */
static int load_keys(const struct measure_args *a, EVP_PKEY **ret_priv, EVP_PKEY **ret_pub)
{
	if (a->verb == VERB_SIGN && !(*ret_priv = key_file_load_private(a->private_key)))
		return -1;
	if (a->verb == VERB_POLICY_DIGEST && a->private_key)
		return errorf("systemd-measure: policy-digest takes no --private-key=");
	if (a->public_key) {
		if (!(*ret_pub = key_file_load_public(a->public_key)))
			return -1;
		if (*ret_priv && policy_keys_match(*ret_priv, *ret_pub) != 1)
			return errorf("%s: not the public key of %s", a->public_key, a->private_key);
	} else if (*ret_priv) {
		EVP_PKEY_up_ref(*ret_priv);
		*ret_pub = *ret_priv;
	}
	return 0;
}

int cmd_systemd_measure(int argc, char **argv)
{
	struct measure_args a = { .json = JSON_OFF };
	struct prediction p = { 0 };
	const char *phases[PRED_MAX_PHASES];
	EVP_PKEY *priv = NULL, *pub = NULL;
	int r;

	n_canonical = uki_canonical_sections(UKI_ORDER_SYSTEMD_258, &canonical);
	r = parse_args(argc, argv, &a);
	if (r != 0)
		return r > 0 ? 0 : 1;
	r = compute(&a, &p, phases);
	if (r == 0 && a.verb != VERB_CALCULATE)
		r = load_keys(&a, &priv, &pub);
	if (r == 0 && a.verb == VERB_CALCULATE)
		print_calculate(&a, &p, phases);
	else if (r == 0)
		r = print_policies(&a, &p, phases, a.verb == VERB_SIGN ? priv : NULL, pub);
	if (r == 0 && fflush(stdout) != 0)
		r = errorf("cannot write the output");
	EVP_PKEY_free(priv);
	EVP_PKEY_free(pub);
	prediction_free(&p);
	return r == 0 ? 0 : 1;
}
