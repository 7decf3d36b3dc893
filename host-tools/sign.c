/* SPDX-License-Identifier: MIT */
/*
 * sign.c - `sysext-stub sign`.
 *
 * For every predicted bank, and for every PCR 11 phase when PCR 11 is
 * signed, one entry {"pcrs":[..],"pkfp":..,"pol":..,"sig":..} in the
 * shape systemd-measure writes and systemd-cryptsetup reads
 * (reference-systemd-stub.md §4.3, §4.5): pol is the PolicyPCR digest of
 * the predicted values, sig an RSASSA-PKCS1-v1_5 SHA-256 signature of it.
 * The prediction is `sysext-stub predict`'s (predict.h), so what is signed
 * is exactly what predict prints.
 *
 * Exit status: 0 done (for --verify: every state has a valid entry),
 * 1 --verify found a state without one, 2 unusable input or options.
 */
#include "sign.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "digest.h"
#include "key-file.h"
#include "pcr-policy.h"
#include "pcrsig-file.h"
#include "predict-inputs.h"
#include "predict.h"
#include "prediction.h"
#include "util.h"
#include "validate.h"
#include "measure/json.h"
#include "measure/pcrsig.h"
#include "measure/uki.h"

#define SIGNATURE_FILE_MAX ((uint64_t)64 << 20)
#define PREDICTABLE_PCRS ((1u << PCR_LINUX_INITRD) | (1u << PCR_KERNEL_IMAGE) | (1u << PCR_KERNEL_PARAMETERS) | \
			  (1u << PCR_SYSEXTS))
#define MAX_CANDIDATES 4 /* --verify: closest entries listed per state */
#define DEFAULT_PCRS ((1u << PCR_KERNEL_IMAGE) | (1u << PCR_SYSEXTS))

enum { EXIT_MISMATCH = 1, EXIT_ERROR = 2 };

struct sign_args {
	struct predict_options in;
	const char *private_key, *public_key;
	const char *output, *append, *signature, *verify;
	uint32_t pcrs;
	bool digest_only;
	struct validate_options validate; /* --validate: every sysext must pass `sysext-stub validate` */
};

/* One approved state: a bank and (when PCR 11 is signed) a phase, with its policy digest. */
struct policy_entry {
	size_t bank;       /* index in banks[] */
	const char *phase; /* owned by the prediction; NULL when PCR 11 is not signed */
	uint8_t pol[POLICY_DIGEST_SIZE];
	uint8_t sig[POLICY_SIG_MAX];
	size_t sig_len; /* 0: unsigned */
};

static void usage(FILE *f)
{
	fputs("Usage: sysext-stub sign --private-key PEM [options]\n"
	      "       sysext-stub sign --policy-digest-only [--public-key PEM] [options]\n"
	      "       sysext-stub sign --signature FILE --public-key PEM [options]\n"
	      "       sysext-stub sign --verify FILE (--public-key PEM | --private-key PEM) [options]\n"
	      "Sign TPM2 PCR policies for the predicted PCR values, as systemd's tpm2-pcr-signature.json:\n"
	      "one entry per bank and PCR 11 phase, each signing the PolicyPCR digest of the PCRs chosen.\n\n"
	      "Keys and what to sign:\n"
	      "  --private-key PEM      RSA private key (unencrypted PEM) that signs\n"
	      "  --public-key PEM       its public key (default: derived from --private-key; must match it)\n"
	      "  --pcrs LIST            PCRs the policy covers, e.g. 11,13 or 13 (9, 11, 12, 13; default 11,13);\n"
	      "                         must equal the enrolled --tpm2-public-key-pcrs\n"
	      "Output:\n"
	      "  --output FILE          write the JSON there (atomically) instead of stdout\n"
	      "  --append FILE          add the new entries to those of the signature file FILE\n"
	      "  --policy-digest-only   print the entries without \"sig\", for an external signer (HSM)\n"
	      "  --signature FILE       attach FILE, a detached signature of the one policy digest selected\n"
	      "                         (raw RSASSA-PKCS1-v1_5 SHA-256, e.g. from openssl dgst -sha256 -sign)\n"
	      "  --verify FILE          check FILE: which entry approves each predicted state, or why none does\n"
	      "The prediction (as sysext-stub predict):\n",
	      f);
	predict_input_usage(f);
	fputs("Sysexts:\n", f);
	validate_usage(f, true);
	fputs("Exit status: 0 done (--verify: every state approved), 1 --verify: a state is not, or --validate\n"
	      "refused a sysext, 2 error.\n",
	      f);
}

/* "11,13", "11+13" (systemd's form) or "13". */
static int parse_pcrs(const char *arg, uint32_t *ret)
{
	uint32_t mask = 0;
	const char *s = arg;

	for (;;) {
		size_t len = strcspn(s, ",+");
		char word[8];
		unsigned v;

		if (len == 0 || len >= sizeof(word))
			return errorf("--pcrs: '%s' is not a list of PCR numbers like 11,13", arg);
		memcpy(word, s, len);
		word[len] = 0;
		if (parse_uint(word, 23, &v) < 0)
			return errorf("--pcrs: '%s' is not a PCR number (0-23)", word);
		if (!(PREDICTABLE_PCRS & (1u << v)))
			return errorf("--pcrs: PCR %u cannot be predicted (9, 11, 12, 13)", v);
		mask |= 1u << v;
		s += len;
		if (!*s)
			break;
		s++;
	}
	*ret = mask;
	return 0;
}

static int parse_args(int argc, char **argv, struct sign_args *a)
{
	enum {
		OPT_PRIVATE_KEY = PREDICT_OPT_END, OPT_PUBLIC_KEY, OPT_PCRS, OPT_OUTPUT, OPT_APPEND,
		OPT_DIGEST_ONLY, OPT_SIGNATURE, OPT_VERIFY,
	};
	static const struct option longopts[] = {
		PREDICT_INPUT_LONGOPTS,
		VALIDATE_LONGOPTS,
		{ "private-key", required_argument, NULL, OPT_PRIVATE_KEY },
		{ "public-key", required_argument, NULL, OPT_PUBLIC_KEY },
		{ "pcrs", required_argument, NULL, OPT_PCRS },
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ "append", required_argument, NULL, OPT_APPEND },
		{ "policy-digest-only", no_argument, NULL, OPT_DIGEST_ONLY },
		{ "signature", required_argument, NULL, OPT_SIGNATURE },
		{ "verify", required_argument, NULL, OPT_VERIFY },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, r = 0;

	a->pcrs = DEFAULT_PCRS;
	while (r == 0 && (c = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_PRIVATE_KEY: a->private_key = optarg; break;
		case OPT_PUBLIC_KEY: a->public_key = optarg; break;
		case OPT_PCRS: r = parse_pcrs(optarg, &a->pcrs); break;
		case 'o':
		case OPT_OUTPUT: a->output = optarg; break;
		case OPT_APPEND: a->append = optarg; break;
		case OPT_DIGEST_ONLY: a->digest_only = true; break;
		case OPT_SIGNATURE: a->signature = optarg; break;
		case OPT_VERIFY: a->verify = optarg; break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			if (c >= PREDICT_OPT_UKI && c < PREDICT_OPT_END) {
				r = predict_input_option(&a->in, c, optarg);
				break;
			}
			if (c >= VALIDATE_OPT_VALIDATE && c < VALIDATE_OPT_END) {
				r = validate_option(&a->validate, c, optarg);
				break;
			}
			return errorf("try 'sysext-stub sign --help'");
		}
	}
	if (r == 0 && optind < argc)
		r = errorf("unexpected argument '%s'", argv[optind]);
	return r;
}

/* The combinations that make sense, and the inputs each signed PCR needs. */
static int check_args(const struct sign_args *a)
{
	const struct predict_options *o = &a->in;
	bool sysexts = predict_have_sysext_input(o);

	if (a->verify) {
		if (a->output || a->append || a->signature || a->digest_only)
			return errorf("--verify only reads: it takes no --output, --append, --signature or "
				      "--policy-digest-only");
		if (!a->public_key && !a->private_key)
			return errorf("--verify needs --public-key (or --private-key)");
	} else if (a->digest_only) {
		if (a->append || a->signature)
			return errorf("--policy-digest-only prints unsigned entries: it takes no --append or --signature");
	} else if (a->signature) {
		if (!a->public_key && !a->private_key)
			return errorf("--signature needs --public-key: the key that made the signature");
	} else if (!a->private_key) {
		return errorf("give --private-key (or --policy-digest-only, or --signature with --public-key)");
	}

	/* --esp with --esp-path names the UKI too (resolved later, by predict_resolve_defaults). */
	if ((a->pcrs & (1u << PCR_KERNEL_IMAGE)) && !o->uki && !o->esp)
		return errorf("PCR 11 needs --uki (or --esp)");
	if (!(a->pcrs & (1u << PCR_KERNEL_IMAGE)) && o->phases_given)
		return errorf("--phase needs PCR 11 in --pcrs");
	if ((a->pcrs & (1u << PCR_KERNEL_PARAMETERS)) && !o->uki && !o->esp)
		return errorf("PCR 12 needs --uki (whether it has a .cmdline), and --cmdline for a passed-in command line");
	if ((a->pcrs & (1u << PCR_SYSEXTS)) && !sysexts && !o->uki && !o->n_initial && !o->os_separator)
		return errorf("PCR 13 needs --extra-dir/--global-dir/--sysext/--global-sysext/--manifest/--global-manifest "
			      "(or --uki alone for a boot without sysexts)");
	return 0;
}

/* ---------------------------------------------------------------- keys */

struct keys {
	EVP_PKEY *private_key;
	EVP_PKEY *public_key; /* the public key: loaded, or the private key itself */
	bool public_loaded;
	uint8_t pkfp[POLICY_DIGEST_SIZE];
};

static void keys_free(struct keys *k)
{
	/* EVP_PKEY_free() clears the private numbers (BN_clear_free) before releasing them. */
	EVP_PKEY_free(k->private_key);
	if (k->public_loaded)
		EVP_PKEY_free(k->public_key);
	memset(k, 0, sizeof(*k));
}

static int load_keys(const struct sign_args *a, struct keys *k)
{
	if (a->private_key) {
		k->private_key = key_file_load_private(a->private_key);
		if (!k->private_key)
			return -1;
		k->public_key = k->private_key;
	}
	if (a->public_key) {
		EVP_PKEY *pub = key_file_load_public(a->public_key);

		if (!pub)
			return -1;
		if (k->private_key && !policy_keys_match(pub, k->private_key)) {
			EVP_PKEY_free(pub);
			return errorf("%s: not the public key of %s", a->public_key, a->private_key);
		}
		k->public_key = pub;
		k->public_loaded = true;
	}
	if (k->public_key && policy_key_fingerprint(k->public_key, k->pkfp) < 0)
		return -1;
	return 0;
}

/* ---------------------------------------------------------------- policy digests */

static int compute_entries(const struct sign_args *a, const struct prediction *p, struct policy_entry **ret,
			   size_t *ret_n)
{
	bool phases = a->pcrs & (1u << PCR_KERNEL_IMAGE);
	size_t per_bank = phases ? p->n_phases : 1, n = 0;
	struct policy_entry *e = calloc(BANK_COUNT * per_bank + 1, sizeof(*e));

	if (!e)
		return errorf("out of memory");
	for (size_t b = 0; b < BANK_COUNT; b++) {
		if (!(p->banks & (1u << b)))
			continue;
		for (size_t i = 0; i < per_bank; i++, n++) {
			uint8_t values[POLICY_PCR_COUNT][DIGEST_MAX] = { { 0 } };

			e[n].bank = b;
			e[n].phase = phases ? p->phases[i] : NULL;
			for (unsigned pcr = 0; pcr < POLICY_PCR_COUNT; pcr++)
				if (a->pcrs & (1u << pcr))
					prediction_value(p, b, pcr, pcr == PCR_KERNEL_IMAGE ? e[n].phase : NULL, values[pcr]);
			if (policy_pcr_digest(&banks[b], a->pcrs, values, e[n].pol) < 0) {
				free(e);
				return -1;
			}
		}
	}
	*ret = e;
	*ret_n = n;
	return 0;
}

/*
 * The entries of every profile to sign: the one --profile names, or, for a
 * UKI with profiles, all of them (one signature file for every boot menu
 * entry). *ret_ps holds the predictions the entries point into.
 */
static int compute_profiles(struct sign_args *a, struct prediction **ret_ps, size_t *ret_nps,
			    struct policy_entry **ret, size_t *ret_n)
{
	struct policy_entry *all = NULL, *e = NULL, *grown, *sorted;
	uint32_t *profiles = NULL;
	size_t np = 0, n = 0, k = 0, at = 0;
	int r;

	*ret_ps = NULL;
	*ret_nps = 0;
	/* (run() resolved --esp, which may be what names the UKI.) */
	if (!a->in.profile_given && a->in.uki)
		a->in.all_profiles = true;
	r = predict_profiles(&a->in, &profiles, &np);
	if (r == 0 && !(*ret_ps = calloc(np, sizeof(**ret_ps))))
		r = errorf("out of memory");
	for (size_t i = 0; r == 0 && i < np; i++) {
		a->in.profile = profiles[i];
		r = predict_compute(&a->in, &(*ret_ps)[i]);
		*ret_nps = i + 1;
		if (r == 0)
			r = compute_entries(a, &(*ret_ps)[i], &e, &k);
		if (r == 0 && !(grown = realloc(all, (n + k + 1) * sizeof(*all)))) {
			free(e);
			r = errorf("out of memory");
		}
		if (r == 0) {
			all = grown;
			memcpy(all + n, e, k * sizeof(*e));
			n += k;
			free(e);
		}
	}
	free(profiles);
	if (r < 0) {
		free(all);
		return -1;
	}
	/* Grouped by bank for the JSON, each bank's entries in profile order. */
	sorted = calloc(n + 1, sizeof(*sorted));
	if (!sorted) {
		free(all);
		return errorf("out of memory");
	}
	for (size_t b = 0; b < BANK_COUNT; b++)
		for (size_t i = 0; i < n; i++)
			if (all[i].bank == b)
				sorted[at++] = all[i];
	free(all);
	*ret = sorted;
	*ret_n = n;
	return 0;
}

static void describe(FILE *f, const struct policy_entry *e)
{
	fputs(banks[e->bank].name, f);
	if (e->phase)
		fprintf(f, ", phase '%s'", e->phase);
}

/* ---------------------------------------------------------------- JSON */

/* {"<bank>":[{"pcrs":[..],"pkfp":..,"pol":..,"sig":..},..],..} + no newline; malloc'ed. */
static char *entries_json(const struct policy_entry *e, size_t n, uint32_t pcrs, const uint8_t *pkfp, size_t *ret_len)
{
	char *buf = NULL, hex[2 * DIGEST_MAX + 1];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	bool ok = true;

	if (!f) {
		errorf("out of memory");
		return NULL;
	}
	fputc('{', f);
	for (size_t i = 0; i < n && ok; i++) {
		bool first_in_bank = i == 0 || e[i - 1].bank != e[i].bank, first_pcr = true;

		if (first_in_bank)
			fprintf(f, "%s\"%s\":[", i ? "]," : "", banks[e[i].bank].name);
		else
			fputc(',', f);
		fputs("{\"pcrs\":[", f);
		for (unsigned pcr = 0; pcr < POLICY_PCR_COUNT; pcr++)
			if (pcrs & (1u << pcr)) {
				fprintf(f, "%s%u", first_pcr ? "" : ",", pcr);
				first_pcr = false;
			}
		fputc(']', f);
		if (pkfp)
			fprintf(f, ",\"pkfp\":\"%s\"", hex_encode(pkfp, POLICY_DIGEST_SIZE, hex));
		fprintf(f, ",\"pol\":\"%s\"", hex_encode(e[i].pol, POLICY_DIGEST_SIZE, hex));
		if (e[i].sig_len) {
			char *b64 = base64_encode(e[i].sig, e[i].sig_len);

			ok = b64 != NULL;
			if (b64)
				fprintf(f, ",\"sig\":\"%s\"", b64);
			free(b64);
		}
		fputc('}', f);
	}
	fputs(n ? "]}" : "}", f);
	if (fclose(f) != 0 || !ok) {
		free(buf);
		if (ok)
			errorf("out of memory");
		return NULL;
	}
	*ret_len = len;
	return buf;
}

/* The signature file @path with @fresh's entries added, as the stub merges them (measure/pcrsig.h). */
static char *append_to(const char *path, const char *fresh, size_t fresh_len, size_t *ret_len)
{
	uint8_t *old = NULL;
	size_t old_len = 0, cap, len = 0;
	struct json_token *tokens = NULL;
	struct pcrsig_fragment frags[2];
	char *out = NULL;
	ms_status m;

	if (read_file(path, SIGNATURE_FILE_MAX, &old, &old_len) < 0)
		return NULL;
	frags[0] = (struct pcrsig_fragment){ .data = old, .len = old_len };
	frags[1] = (struct pcrsig_fragment){ .data = fresh, .len = fresh_len };
	cap = pcrsig_merged_bound(old_len + fresh_len, 2);
	tokens = calloc(JSON_TOKENS_FOR(old_len > fresh_len ? old_len : fresh_len), sizeof(*tokens));
	out = malloc(cap + 1);
	if (!tokens || !out) {
		errorf("out of memory");
		goto fail;
	}
	m = pcrsig_merge(frags, 2, tokens, JSON_TOKENS_FOR(old_len > fresh_len ? old_len : fresh_len), out, cap, &len);
	if (frags[0].status != MS_OK) {
		char problem[256];

		/* Never drop a file silently: the approved states in it would be lost. */
		pcrsig_file_problem(old, old_len, frags[0].status, frags[0].error_offset, frags[0].reason, problem,
				    sizeof(problem));
		errorf("%s: not a valid PCR signature file: %s", path, problem);
		goto fail;
	}
	if (m != MS_OK || frags[1].status != MS_OK) {
		errorf("internal error: cannot merge the new entries: %s",
		       ms_strerror(m != MS_OK ? m : frags[1].status));
		goto fail;
	}
	free(tokens);
	free(old);
	*ret_len = len;
	return out;
fail:
	free(tokens);
	free(old);
	free(out);
	return NULL;
}

static int emit(const struct sign_args *a, const char *json, size_t len)
{
	char *text = malloc(len + 1);
	int r;

	if (!text)
		return errorf("out of memory");
	memcpy(text, json, len);
	text[len] = '\n';
	if (a->output) {
		r = write_file_atomic(a->output, text, len + 1, 0666);
	} else {
		r = fwrite(text, 1, len + 1, stdout) == len + 1 && fflush(stdout) == 0
			    ? 0
			    : errorf("cannot write the output: %s", strerror(errno));
	}
	free(text);
	return r;
}

/* ---------------------------------------------------------------- --signature */

static int attach_signature(const struct sign_args *a, const struct keys *k, struct policy_entry *e, size_t n)
{
	uint8_t *sig = NULL;
	size_t len = 0, want = policy_signature_size(k->public_key);
	char hex[2 * POLICY_DIGEST_SIZE + 1];

	if (n != 1)
		return errorf("--signature: the selection gives %zu policy digests (banks x phases), and %s signs one; "
			      "narrow it with --bank and --phase",
			      n, a->signature);
	if (read_file(a->signature, SIGNATURE_FILE_MAX, &sig, &len) < 0)
		return -1;
	if (len != want) {
		free(sig);
		return errorf("%s: %zu bytes, but a signature by this key is %zu bytes (raw RSASSA-PKCS1-v1_5 SHA-256)",
			      a->signature, len, want);
	}
	if (!policy_verify(k->public_key, e[0].pol, sig, len)) {
		free(sig);
		return errorf("%s: not a valid signature of the policy digest %s by the key %s", a->signature,
			      hex_encode(e[0].pol, POLICY_DIGEST_SIZE, hex), a->public_key ? a->public_key : a->private_key);
	}
	memcpy(e[0].sig, sig, len);
	e[0].sig_len = len;
	free(sig);
	return 0;
}

/* ---------------------------------------------------------------- --verify */

static void print_pcrs(FILE *f, uint32_t mask)
{
	bool first = true;

	fputc('[', f);
	for (unsigned pcr = 0; pcr < POLICY_PCR_COUNT; pcr++)
		if (mask & (1u << pcr)) {
			fprintf(f, "%s%u", first ? "" : ",", pcr);
			first = false;
		}
	fputc(']', f);
}

/*
 * One state: the first entry of its bank with the same PCR set, key and
 * policy digest is the one systemd-cryptsetup uses (tpm2-util.c
 * find_signature), so its signature must verify. Returns 1 approved, 0 not.
 */
static int verify_state(const struct json_doc *doc, const char *path, const struct keys *k, uint32_t pcrs,
			const struct policy_entry *e)
{
	uint32_t arr = JSON_NONE;
	struct pcrsig_entry *found = NULL;
	size_t n = 0, index = 0, best_score = 0;
	char hex1[2 * DIGEST_MAX + 1], hex2[2 * DIGEST_MAX + 1];
	int r = 0;

	describe(stdout, e);
	if (json_object_get(doc, 0, banks[e->bank].name, &arr) != MS_OK || json_first(doc, arr) == JSON_NONE) {
		printf(": NOT APPROVED: %s has no %s entries\n", path, banks[e->bank].name);
		return 0;
	}
	for (uint32_t i = json_first(doc, arr); i != JSON_NONE; i = json_next(doc, i))
		n++;
	found = calloc(n, sizeof(*found));
	if (!found) {
		printf("\n");
		return errorf("out of memory");
	}
	for (uint32_t i = json_first(doc, arr); i != JSON_NONE; i = json_next(doc, i), index++) {
		struct pcrsig_entry *f = &found[index];

		if (pcrsig_entry_decode(doc, i, f) < 0) {
			printf("\n");
			r = errorf("%s: %s[%zu]: cannot decode the entry", path, banks[e->bank].name, index);
			goto out;
		}
		if (f->pcrs == pcrs && memcmp(f->pkfp, k->pkfp, POLICY_DIGEST_SIZE) == 0 &&
		    memcmp(f->pol, e->pol, POLICY_DIGEST_SIZE) == 0) {
			if (policy_verify(k->public_key, e->pol, f->sig, f->sig_len)) {
				printf(": approved by entry %s[%zu]\n", banks[e->bank].name, index);
				r = 1;
			} else {
				printf(": NOT APPROVED: entry %s[%zu] has this PCR set, key and policy digest, but its "
				       "signature does not verify (systemd-cryptsetup uses the first such entry)\n",
				       banks[e->bank].name, index);
			}
			goto out;
		}
	}
	printf(": NOT APPROVED: no entry of %s matches; the closest:\n", banks[e->bank].name);
	/* The closest candidates: the entries that agree in the most of (PCR set, key, digest). */
	for (size_t i = 0; i < n; i++) {
		size_t score = (found[i].pcrs == pcrs) + (memcmp(found[i].pkfp, k->pkfp, POLICY_DIGEST_SIZE) == 0) +
			       (memcmp(found[i].pol, e->pol, POLICY_DIGEST_SIZE) == 0);

		if (score > best_score)
			best_score = score;
	}
	for (size_t i = 0, shown = 0; i < n; i++) {
		const struct pcrsig_entry *f = &found[i];
		bool same_pcrs = f->pcrs == pcrs, same_key = memcmp(f->pkfp, k->pkfp, POLICY_DIGEST_SIZE) == 0,
		     same_pol = memcmp(f->pol, e->pol, POLICY_DIGEST_SIZE) == 0;
		const char *sep = " ";

		if ((size_t)same_pcrs + same_key + same_pol != best_score)
			continue;
		if (shown++ == MAX_CANDIDATES) {
			printf("  (more entries differ in the same way)\n");
			break;
		}
		printf("  %s[%zu]:", banks[e->bank].name, i);
		if (!same_pcrs) {
			printf("%spcrs set differs: expected ", sep);
			print_pcrs(stdout, pcrs);
			printf(", found ");
			print_pcrs(stdout, f->pcrs);
			sep = "; ";
		}
		if (!same_key) {
			printf("%spkfp is another key: %s, not this key's %s", sep,
			       hex_encode(f->pkfp, POLICY_DIGEST_SIZE, hex1), hex_encode(k->pkfp, POLICY_DIGEST_SIZE, hex2));
			sep = "; ";
		}
		if (!same_pol)
			printf("%spol differs: expected %s, found %s", sep, hex_encode(e->pol, POLICY_DIGEST_SIZE, hex1),
			       hex_encode(f->pol, POLICY_DIGEST_SIZE, hex2));
		printf("\n");
	}
out:
	for (size_t i = 0; i < n; i++)
		free(found[i].sig);
	free(found);
	return r;
}

static int verify_file(const struct sign_args *a, const struct keys *k, const struct policy_entry *e, size_t n)
{
	uint8_t *buf = NULL;
	size_t len = 0, error_offset = 0, approved = 0;
	const char *reason = NULL;
	struct json_token *tokens = NULL;
	struct json_doc doc;
	ms_status m;
	int r = -1;

	if (read_file(a->verify, SIGNATURE_FILE_MAX, &buf, &len) < 0)
		return -1;
	tokens = calloc(JSON_TOKENS_FOR(len), sizeof(*tokens));
	if (!tokens) {
		errorf("out of memory");
		goto out;
	}
	/* The rules the stub merges by: a file it would drop approves nothing. */
	m = pcrsig_validate(buf, len, tokens, JSON_TOKENS_FOR(len), &error_offset, &reason);
	if (m != MS_OK) {
		char problem[256];

		pcrsig_file_problem(buf, len, m, error_offset, reason, problem, sizeof(problem));
		errorf("%s: not a valid PCR signature file: %s", a->verify, problem);
		goto out;
	}
	if (json_parse(&doc, buf, len, tokens, JSON_TOKENS_FOR(len)) != MS_OK) {
		errorf("%s: cannot parse", a->verify);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		int v = verify_state(&doc, a->verify, k, a->pcrs, &e[i]);

		if (v < 0)
			goto out;
		approved += (size_t)v;
	}
	printf("%zu of %zu predicted states approved by %s\n", approved, n, a->verify);
	r = fflush(stdout) != 0 ? errorf("cannot write the output: %s", strerror(errno)) : approved == n ? 0 : 1;
out:
	free(tokens);
	free(buf);
	return r;
}

/* ---------------------------------------------------------------- main flow */

static int run(struct sign_args *a)
{
	struct keys k = { 0 };
	struct prediction *ps = NULL;
	struct policy_entry *e = NULL;
	uint8_t pkfp[POLICY_DIGEST_SIZE];
	bool have_pkfp;
	size_t n = 0, nps = 0, json_len = 0, merged_len = 0;
	char *json = NULL, *merged = NULL;
	int r = -1;

	/* --esp may be what names the UKI and the directories, which check_args() asks for. */
	if (predict_resolve_defaults(&a->in) < 0 || check_args(a) < 0 || load_keys(a, &k) < 0)
		goto out;
	a->in.pcrs = a->pcrs;
	if (compute_profiles(a, &ps, &nps, &e, &n) < 0)
		goto out;
	/* The sysexts are the same for every profile (ps[0] always exists): one validation. A refused
	 * sysext: nothing is signed. */
	if ((r = validate_prediction(&a->validate, &ps[0])) != 0) {
		r = r == 1 ? 1 : -1;
		goto out;
	}
	r = -1;

	if (a->verify) {
		r = verify_file(a, &k, e, n);
		goto out;
	}
	if (a->signature) {
		if (attach_signature(a, &k, e, n) < 0)
			goto out;
	} else if (!a->digest_only) {
		for (size_t i = 0; i < n; i++)
			if (policy_sign(k.private_key, e[i].pol, e[i].sig, &e[i].sig_len) < 0)
				goto out;
	}
	/* Done with the private key: release (and so clear) it before writing anything. */
	have_pkfp = k.public_key != NULL;
	memcpy(pkfp, k.pkfp, sizeof(pkfp));
	keys_free(&k);

	json = entries_json(e, n, a->pcrs, have_pkfp ? pkfp : NULL, &json_len);
	if (!json)
		goto out;
	if (a->append) {
		merged = append_to(a->append, json, json_len, &merged_len);
		if (!merged)
			goto out;
	}
	r = emit(a, merged ? merged : json, merged ? merged_len : json_len);
out:
	free(merged);
	free(json);
	keys_free(&k);
	free(e);
	for (size_t i = 0; i < nps; i++)
		prediction_free(&ps[i]);
	free(ps);
	return r;
}

int cmd_sign(int argc, char **argv)
{
	struct sign_args a = { 0 };
	int r = parse_args(argc, argv, &a);

	if (r == 1) /* --help */
		r = 0;
	else if (r == 0)
		r = run(&a);
	predict_options_free(&a.in);
	validate_options_free(&a.validate);
	return r == 0 ? 0 : r == 1 ? EXIT_MISMATCH : EXIT_ERROR;
}
