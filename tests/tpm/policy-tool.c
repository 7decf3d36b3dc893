/* SPDX-License-Identifier: MIT */
/*
 * policy-tool.c - tpm-policy-tool: the TPM side of systemd's signed PCR
 * policies, on tpm2-tss ESAPI, for the tests in tests/tpm/ (swtpm).
 *
 *   extend     --pcr N --bank B --digest HEX...      PCR_Extend, in order
 *   pcrread    --pcrs 11,13 --bank B                 "<pcr> <hex>" per line
 *   pcr-policy --pcrs 11,13 --bank B                 the live PolicyPCR digest
 *   seal       --public-key P --secret-file S --out BLOB
 *   unseal     --blob BLOB --public-key P --signature JSON --pcrs 11,13 --bank B
 *
 * seal and unseal follow systemd-cryptenroll / systemd-cryptsetup
 * (reference-systemd-stub.md §4.4-4.5): a transient primary from the
 * standard ECC template in the owner hierarchy; the secret sealed in a
 * keyed-hash object whose only authorisation is the policy
 * PolicyAuthorize(name of P, empty policyRef). The PCRs are not part of
 * that policy: they enter at unseal time, through the signed digest.
 * seal computes the policy both offline and with a trial session, refuses
 * if they differ, and prints it.
 *
 * unseal: policy session; PolicyPCR(PCRs, bank) with the PCRs' current
 * values; the session digest is the approved policy; find the JSON entry
 * (pcrs equal, pkfp matches, pol equals that digest); LoadExternal P into
 * the owner hierarchy (--hierarchy null shows why: PolicyAuthorize rejects
 * a NULL-hierarchy ticket); VerifySignature(SHA-256(pol)) gives a ticket;
 * PolicyAuthorize; Unseal. The secret goes to stdout.
 * --any-pol skips the pol comparison and hands the first entry for these
 * PCRs and key to the TPM, so a test can show the TPM itself refuses it.
 *
 * Every command takes --tcti CONF (e.g. swtpm:path=/tmp/x/sock).
 * Exit status: 0 success, 1 policy failure (unseal), 2 any other error.
 */
#define _GNU_SOURCE /* asprintf */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "measure/hex.h"
#include "pcr-signature.h"
#include "tool.h"
#include "tpm-pubkey.h"

#define EXIT_POLICY 1
#define EXIT_ERROR 2
#define BLOB_MAX (sizeof(TPM2B_PRIVATE) + sizeof(TPM2B_PUBLIC))
#define MAX_DIGESTS 64

int tool_error(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	fputs("tpm-policy-tool: ", stderr);
	va_start(ap, fmt);
	errno = saved; /* for %m */
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

int tool_read_file(const char *path, size_t max, uint8_t **ret_buf, size_t *ret_len)
{
	FILE *f = fopen(path, "re");
	uint8_t *buf;
	size_t len;

	if (!f)
		return tool_error("%s: %m", path);
	buf = malloc(max + 1);
	if (!buf) {
		fclose(f);
		return tool_error("out of memory");
	}
	len = fread(buf, 1, max + 1, f);
	if (ferror(f) || len > max) {
		tool_error(ferror(f) ? "%s: read error" : "%s: larger than %zu bytes", path, max);
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	buf[len] = 0;
	*ret_buf = buf;
	*ret_len = len;
	return 0;
}

static void print_hex(FILE *f, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", p[i]);
}

/* ------------------------------------------------------------------ options */

struct bank_info {
	const char *name;
	TPMI_ALG_HASH alg;
	size_t size;
};

static const struct bank_info bank_table[] = {
	{ "sha1", TPM2_ALG_SHA1, 20 },
	{ "sha256", TPM2_ALG_SHA256, 32 },
	{ "sha384", TPM2_ALG_SHA384, 48 },
	{ "sha512", TPM2_ALG_SHA512, 64 },
};

enum opt {
	OPT_TCTI = 1000, OPT_PCR, OPT_PCRS, OPT_BANK, OPT_DIGEST, OPT_PUBLIC_KEY, OPT_SECRET_FILE, OPT_OUT, OPT_BLOB,
	OPT_SIGNATURE, OPT_ANY_POL, OPT_HIERARCHY,
};
#define OPTBIT(o) (1u << ((o) - OPT_TCTI))

struct options {
	const char *tcti, *public_key, *secret_file, *out, *blob, *signature;
	const struct bank_info *bank;
	unsigned pcr;        /* extend */
	uint32_t pcr_mask;   /* the others */
	const char *digests[MAX_DIGESTS];
	size_t n_digests;
	bool any_pol;
	ESYS_TR hierarchy;
	unsigned given;      /* OPTBIT()s */
};

struct command {
	const char *name;
	int (*run)(const struct options *o);
	unsigned required, allowed;
};

static int parse_pcr_list(const char *s, uint32_t *ret)
{
	uint32_t mask = 0;
	const char *p = s;

	for (;;) {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(p, &end, 10);
		if (end == p || errno || v > 23 || (*end && *end != ','))
			return tool_error("--pcrs: '%s' is not a comma-separated list of PCRs 0..23", s);
		mask |= 1u << v;
		if (!*end)
			break;
		p = end + 1;
	}
	*ret = mask;
	return 0;
}

static int parse_option(int c, const char *arg, struct options *o)
{
	unsigned long v;
	char *end;

	switch (c) {
	case OPT_TCTI: o->tcti = arg; return 0;
	case OPT_PUBLIC_KEY: o->public_key = arg; return 0;
	case OPT_SECRET_FILE: o->secret_file = arg; return 0;
	case OPT_OUT: o->out = arg; return 0;
	case OPT_BLOB: o->blob = arg; return 0;
	case OPT_SIGNATURE: o->signature = arg; return 0;
	case OPT_ANY_POL: o->any_pol = true; return 0;
	case OPT_PCRS: return parse_pcr_list(arg, &o->pcr_mask);
	case OPT_PCR:
		errno = 0;
		v = strtoul(arg, &end, 10);
		if (end == arg || *end || errno || v > 23)
			return tool_error("--pcr: '%s' is not a PCR 0..23", arg);
		o->pcr = (unsigned)v;
		return 0;
	case OPT_BANK:
		for (size_t i = 0; i < sizeof(bank_table) / sizeof(bank_table[0]); i++)
			if (strcmp(arg, bank_table[i].name) == 0)
				o->bank = &bank_table[i];
		return o->bank ? 0 : tool_error("--bank: unknown bank '%s'", arg);
	case OPT_DIGEST:
		if (o->n_digests == MAX_DIGESTS)
			return tool_error("--digest: at most %d", MAX_DIGESTS);
		o->digests[o->n_digests++] = arg;
		return 0;
	case OPT_HIERARCHY:
		if (strcmp(arg, "owner") == 0)
			o->hierarchy = ESYS_TR_RH_OWNER;
		else if (strcmp(arg, "null") == 0)
			o->hierarchy = ESYS_TR_RH_NULL;
		else
			return tool_error("--hierarchy: 'owner' or 'null', not '%s'", arg);
		return 0;
	}
	return -1;
}

/* ------------------------------------------------------------------ TPM plumbing */

struct tpm {
	TSS2_TCTI_CONTEXT *tcti;
	ESYS_CONTEXT *esys;
};

static int tpm_fail(const char *what, TSS2_RC rc)
{
	return tool_error("%s: %s (0x%x)", what, Tss2_RC_Decode(rc), rc);
}

static int tpm_open(const char *conf, struct tpm *t)
{
	TSS2_RC rc;

	memset(t, 0, sizeof(*t));
	rc = Tss2_TctiLdr_Initialize(conf, &t->tcti);
	if (rc != TSS2_RC_SUCCESS)
		return tool_error("TCTI '%s': %s", conf, Tss2_RC_Decode(rc));
	rc = Esys_Initialize(&t->esys, t->tcti, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		Tss2_TctiLdr_Finalize(&t->tcti);
		return tpm_fail("Esys_Initialize", rc);
	}
	return 0;
}

static void tpm_close(struct tpm *t)
{
	if (t->esys)
		Esys_Finalize(&t->esys);
	if (t->tcti)
		Tss2_TctiLdr_Finalize(&t->tcti);
}

static void flush(struct tpm *t, ESYS_TR *h)
{
	if (*h != ESYS_TR_NONE)
		(void)Esys_FlushContext(t->esys, *h);
	*h = ESYS_TR_NONE;
}

static TPML_PCR_SELECTION pcr_selection(const struct bank_info *bank, uint32_t mask)
{
	TPML_PCR_SELECTION sel = { .count = 1 };

	sel.pcrSelections[0].hash = bank->alg;
	sel.pcrSelections[0].sizeofSelect = 3;
	for (unsigned i = 0; i < 3; i++)
		sel.pcrSelections[0].pcrSelect[i] = (uint8_t)(mask >> (8 * i));
	return sel;
}

/*
 * The standard storage key template (TCG "SRK" template, ECC P-256 with
 * AES-128-CFB) that systemd uses for its transient primary when the token
 * names no persistent SRK. Deterministic: the same TPM gives the same key.
 */
static int create_primary(struct tpm *t, ESYS_TR *ret)
{
	const TPM2B_SENSITIVE_CREATE sensitive = { 0 };
	const TPM2B_DATA outside = { 0 };
	const TPML_PCR_SELECTION creation_pcrs = { 0 };
	TPM2B_PUBLIC tmpl = { 0 };
	TSS2_RC rc;

	tmpl.publicArea.type = TPM2_ALG_ECC;
	tmpl.publicArea.nameAlg = TPM2_ALG_SHA256;
	tmpl.publicArea.objectAttributes = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT | TPMA_OBJECT_FIXEDTPM |
					   TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
					   TPMA_OBJECT_USERWITHAUTH;
	tmpl.publicArea.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_AES;
	tmpl.publicArea.parameters.eccDetail.symmetric.keyBits.aes = 128;
	tmpl.publicArea.parameters.eccDetail.symmetric.mode.aes = TPM2_ALG_CFB;
	tmpl.publicArea.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
	tmpl.publicArea.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
	tmpl.publicArea.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
	rc = Esys_CreatePrimary(t->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &sensitive,
				&tmpl, &outside, &creation_pcrs, ret, NULL, NULL, NULL, NULL);
	return rc == TSS2_RC_SUCCESS ? 0 : tpm_fail("CreatePrimary (owner hierarchy)", rc);
}

static int start_session(struct tpm *t, TPM2_SE type, ESYS_TR *ret)
{
	const TPMT_SYM_DEF sym = { .algorithm = TPM2_ALG_AES, .keyBits.aes = 128, .mode.aes = TPM2_ALG_CFB };
	TSS2_RC rc = Esys_StartAuthSession(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
					   ESYS_TR_NONE, NULL, type, &sym, TPM2_ALG_SHA256, ret);

	return rc == TSS2_RC_SUCCESS ? 0 : tpm_fail("StartAuthSession", rc);
}

static int session_digest(struct tpm *t, ESYS_TR session, uint8_t out[SHA256_LEN])
{
	TPM2B_DIGEST *d = NULL;
	TSS2_RC rc = Esys_PolicyGetDigest(t->esys, session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &d);

	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail("PolicyGetDigest", rc);
	if (d->size != SHA256_LEN) {
		unsigned size = d->size;

		Esys_Free(d);
		return tool_error("PolicyGetDigest: %u bytes, expected %d", size, SHA256_LEN);
	}
	memcpy(out, d->buffer, SHA256_LEN);
	Esys_Free(d);
	return 0;
}

/* PolicyPCR over the current values of @mask in @bank; the session digest afterwards in @ret. */
static int policy_pcr(struct tpm *t, ESYS_TR session, const struct bank_info *bank, uint32_t mask,
		      uint8_t ret[SHA256_LEN])
{
	const TPM2B_DIGEST use_current_values = { .size = 0 };
	TPML_PCR_SELECTION sel = pcr_selection(bank, mask);
	TSS2_RC rc = Esys_PolicyPCR(t->esys, session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &use_current_values,
				    &sel);

	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail("PolicyPCR", rc);
	return session_digest(t, session, ret);
}

/* LoadExternal the public key (no private part) into @hierarchy; check the TPM names it as we do. */
static int load_external(struct tpm *t, const struct tpm_pubkey *key, ESYS_TR hierarchy, ESYS_TR *ret,
			 TPM2B_NAME **ret_name)
{
	TPM2B_NAME *name = NULL;
	TSS2_RC rc;

	rc = Esys_LoadExternal(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, NULL, &key->pub, hierarchy, ret);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail("LoadExternal of the public key", rc);
	rc = Esys_TR_GetName(t->esys, *ret, &name);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail("TR_GetName", rc);
	if (name->size != TPM_NAME_LEN || memcmp(name->name, key->name, TPM_NAME_LEN) != 0) {
		Esys_Free(name);
		return tool_error("the TPM's name for the public key differs from the offline computation");
	}
	*ret_name = name;
	return 0;
}

/* ------------------------------------------------------------------ commands */

static int cmd_extend(const struct options *o)
{
	uint8_t digests[MAX_DIGESTS][TPM2_SHA512_DIGEST_SIZE];
	TPML_DIGEST_VALUES values = { .count = 1 };
	struct tpm t;
	int r = 0;

	for (size_t i = 0; i < o->n_digests; i++)
		if (hex_to_bytes(o->digests[i], strlen(o->digests[i]), digests[i], o->bank->size) != MS_OK)
			return tool_error("--digest: '%s' is not %zu hex bytes (%s)", o->digests[i], o->bank->size,
					  o->bank->name);
	if (tpm_open(o->tcti, &t) < 0)
		return -1;
	values.digests[0].hashAlg = o->bank->alg;
	for (size_t i = 0; i < o->n_digests && r == 0; i++) {
		TSS2_RC rc;

		memcpy(&values.digests[0].digest, digests[i], o->bank->size);
		rc = Esys_PCR_Extend(t.esys, ESYS_TR_PCR0 + o->pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
				     &values);
		if (rc != TSS2_RC_SUCCESS)
			r = tpm_fail("PCR_Extend", rc);
	}
	tpm_close(&t);
	return r;
}

static int cmd_pcrread(const struct options *o)
{
	struct tpm t;
	int r = 0;

	if (tpm_open(o->tcti, &t) < 0)
		return -1;
	/* One PCR per PCR_Read: a TPM returns at most 8 digests per call and may return fewer. */
	for (unsigned pcr = 0; pcr < 24 && r == 0; pcr++) {
		TPML_PCR_SELECTION sel = pcr_selection(o->bank, 1u << pcr), *sel_out = NULL;
		TPML_DIGEST *values = NULL;
		UINT32 counter;
		TSS2_RC rc;

		if (!(o->pcr_mask & (1u << pcr)))
			continue;
		rc = Esys_PCR_Read(t.esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &sel, &counter, &sel_out, &values);
		if (rc != TSS2_RC_SUCCESS)
			r = tpm_fail("PCR_Read", rc);
		else if (values->count != 1 || values->digests[0].size != o->bank->size)
			r = tool_error("PCR_Read: the TPM returned no %s value for PCR %u (bank not active?)",
				       o->bank->name, pcr);
		else {
			printf("%u ", pcr);
			print_hex(stdout, values->digests[0].buffer, o->bank->size);
			putchar('\n');
		}
		Esys_Free(sel_out);
		Esys_Free(values);
	}
	tpm_close(&t);
	return r;
}

static int cmd_pcr_policy(const struct options *o)
{
	ESYS_TR session = ESYS_TR_NONE;
	uint8_t digest[SHA256_LEN];
	struct tpm t;
	int r;

	if (tpm_open(o->tcti, &t) < 0)
		return -1;
	r = start_session(&t, TPM2_SE_POLICY, &session);
	if (r == 0)
		r = policy_pcr(&t, session, o->bank, o->pcr_mask, digest);
	if (r == 0) {
		print_hex(stdout, digest, sizeof(digest));
		putchar('\n');
	}
	flush(&t, &session);
	tpm_close(&t);
	return r;
}

/* The sealing policy from a trial session: PolicyAuthorize(name) as the TPM computes it. */
static int trial_policy_authorize(struct tpm *t, const struct tpm_pubkey *key, uint8_t out[SHA256_LEN])
{
	const TPM2B_DIGEST approved = { .size = 0 };
	const TPM2B_NONCE policy_ref = { .size = 0 };
	/* A trial session does not check the ticket (TPM 2.0 Part 3, PolicyAuthorize). */
	const TPMT_TK_VERIFIED ticket = { .tag = TPM2_ST_VERIFIED, .hierarchy = TPM2_RH_NULL };
	ESYS_TR trial = ESYS_TR_NONE, ext = ESYS_TR_NONE;
	TPM2B_NAME *name = NULL;
	TSS2_RC rc;
	int r;

	r = load_external(t, key, ESYS_TR_RH_OWNER, &ext, &name);
	if (r == 0)
		r = start_session(t, TPM2_SE_TRIAL, &trial);
	if (r == 0) {
		rc = Esys_PolicyAuthorize(t->esys, trial, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &approved,
					  &policy_ref, name, &ticket);
		r = rc == TSS2_RC_SUCCESS ? session_digest(t, trial, out) : tpm_fail("PolicyAuthorize (trial)", rc);
	}
	Esys_Free(name);
	flush(t, &trial);
	flush(t, &ext);
	return r;
}

static int write_blob(const char *path, const TPM2B_PRIVATE *priv, const TPM2B_PUBLIC *pub)
{
	uint8_t buf[BLOB_MAX];
	size_t off = 0;
	char *tmp = NULL;
	FILE *f = NULL;
	int r = -1;

	/* systemd's tpm2-blob layout: marshalled TPM2B_PRIVATE, then TPM2B_PUBLIC. */
	if (Tss2_MU_TPM2B_PRIVATE_Marshal(priv, buf, sizeof(buf), &off) != TSS2_RC_SUCCESS ||
	    Tss2_MU_TPM2B_PUBLIC_Marshal(pub, buf, sizeof(buf), &off) != TSS2_RC_SUCCESS)
		return tool_error("cannot marshal the sealed object");
	if (asprintf(&tmp, "%s.tmpXXXXXX", path) < 0)
		return tool_error("out of memory");
	int fd = mkstemp(tmp);
	if (fd < 0) {
		tool_error("%s: %m", tmp);
		goto out;
	}
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		tool_error("%s: %m", tmp);
		goto unlink;
	}
	if (fwrite(buf, 1, off, f) != off || fclose(f) != 0) {
		f = NULL;
		tool_error("%s: write error", tmp);
		goto unlink;
	}
	f = NULL;
	if (rename(tmp, path) < 0) {
		tool_error("%s: %m", path);
		goto unlink;
	}
	r = 0;
	goto out;
unlink:
	if (f)
		fclose(f);
	unlink(tmp);
out:
	free(tmp);
	return r;
}

static int cmd_seal(const struct options *o)
{
	struct tpm_pubkey key;
	uint8_t offline[SHA256_LEN], trial[SHA256_LEN], *secret = NULL;
	size_t secret_len;
	TPM2B_SENSITIVE_CREATE sensitive = { 0 };
	TPM2B_PUBLIC tmpl = { 0 };
	const TPM2B_DATA outside = { 0 };
	const TPML_PCR_SELECTION creation_pcrs = { 0 };
	TPM2B_PRIVATE *priv = NULL;
	TPM2B_PUBLIC *pub = NULL;
	ESYS_TR primary = ESYS_TR_NONE;
	struct tpm t;
	TSS2_RC rc;
	int r;

	if (tpm_pubkey_load(o->public_key, &key) < 0)
		return -1;
	if (tool_read_file(o->secret_file, sizeof(sensitive.sensitive.data.buffer), &secret, &secret_len) < 0)
		return -1;
	if (secret_len == 0) {
		free(secret);
		return tool_error("%s: empty secret", o->secret_file);
	}
	policy_authorize_digest(key.name, offline);
	if (tpm_open(o->tcti, &t) < 0) {
		free(secret);
		return -1;
	}
	r = trial_policy_authorize(&t, &key, trial);
	if (r == 0 && memcmp(offline, trial, SHA256_LEN) != 0)
		r = tool_error("the trial session's PolicyAuthorize digest differs from the offline computation");
	if (r == 0)
		r = create_primary(&t, &primary);
	if (r == 0) {
		sensitive.sensitive.data.size = (UINT16)secret_len;
		memcpy(sensitive.sensitive.data.buffer, secret, secret_len);
		tmpl.publicArea.type = TPM2_ALG_KEYEDHASH;
		tmpl.publicArea.nameAlg = TPM2_ALG_SHA256;
		/* No USERWITHAUTH: only the policy session can unseal. */
		tmpl.publicArea.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT;
		tmpl.publicArea.authPolicy.size = SHA256_LEN;
		memcpy(tmpl.publicArea.authPolicy.buffer, offline, SHA256_LEN);
		tmpl.publicArea.parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_NULL;
		rc = Esys_Create(t.esys, primary, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &sensitive, &tmpl,
				 &outside, &creation_pcrs, &priv, &pub, NULL, NULL, NULL);
		r = rc == TSS2_RC_SUCCESS ? write_blob(o->out, priv, pub) : tpm_fail("Create (sealed object)", rc);
	}
	if (r == 0) {
		print_hex(stdout, offline, SHA256_LEN);
		putchar('\n');
	}
	OPENSSL_cleanse(&sensitive, sizeof(sensitive));
	OPENSSL_cleanse(secret, secret_len);
	free(secret);
	Esys_Free(priv);
	Esys_Free(pub);
	flush(&t, &primary);
	tpm_close(&t);
	return r;
}

static int read_blob(const char *path, TPM2B_PRIVATE *priv, TPM2B_PUBLIC *pub)
{
	uint8_t *buf;
	size_t len, off = 0;
	int r = 0;

	if (tool_read_file(path, BLOB_MAX, &buf, &len) < 0)
		return -1;
	/* The unmarshallers refuse a destination whose size field is not zero. */
	memset(priv, 0, sizeof(*priv));
	memset(pub, 0, sizeof(*pub));
	if (Tss2_MU_TPM2B_PRIVATE_Unmarshal(buf, len, &off, priv) != TSS2_RC_SUCCESS ||
	    Tss2_MU_TPM2B_PUBLIC_Unmarshal(buf, len, &off, pub) != TSS2_RC_SUCCESS || off != len)
		r = tool_error("%s: not a sealed-object blob (TPM2B_PRIVATE + TPM2B_PUBLIC)", path);
	free(buf);
	return r;
}

struct unseal_state {
	struct tpm t;
	ESYS_TR primary, object, session, key;
	TPM2B_NAME *key_name;
	TPMT_TK_VERIFIED *ticket;
	TPM2B_SENSITIVE_DATA *secret;
};

/* Steps 3-5 of §4.5 once the object is loaded: 0, -1 error, or EXIT_POLICY. */
static int authorize_and_unseal(struct unseal_state *s, const struct options *o, const struct tpm_pubkey *key)
{
	struct pcr_signature_query q = { .bank = o->bank->name, .pcr_mask = o->pcr_mask, .pkfp = key->pkfp };
	const TPM2B_NONCE policy_ref = { .size = 0 };
	struct pcr_signature sig;
	uint8_t live[SHA256_LEN];
	TPM2B_DIGEST approved = { .size = SHA256_LEN }, pol_hash = { .size = SHA256_LEN };
	TPMT_SIGNATURE signature = { .sigAlg = TPM2_ALG_RSASSA };
	TSS2_RC rc;
	int r;

	if (start_session(&s->t, TPM2_SE_POLICY, &s->session) < 0 ||
	    policy_pcr(&s->t, s->session, o->bank, o->pcr_mask, live) < 0)
		return -1;
	q.pol = o->any_pol ? NULL : live;
	r = pcr_signature_find(o->signature, &q, &sig);
	if (r < 0)
		return -1;
	if (r == 0) {
		tool_error("policy failure: %s has no %s entry for these PCRs and this key whose pol is the live "
			   "PolicyPCR digest (%u entries for these PCRs and key have another pol)",
			   o->signature, o->bank->name, sig.other_pol);
		fputs("tpm-policy-tool: live PolicyPCR digest: ", stderr);
		print_hex(stderr, live, SHA256_LEN);
		fputc('\n', stderr);
		return EXIT_POLICY;
	}
	if (load_external(&s->t, key, o->hierarchy, &s->key, &s->key_name) < 0)
		return -1;
	/* The signature is over SHA-256(pol): the TPM verifies a digest, the signer hashed pol once. */
	memcpy(approved.buffer, sig.pol, SHA256_LEN);
	(void)EVP_Digest(sig.pol, SHA256_LEN, pol_hash.buffer, NULL, EVP_sha256(), NULL);
	signature.signature.rsassa.hash = TPM2_ALG_SHA256;
	signature.signature.rsassa.sig.size = (UINT16)sig.sig_len;
	memcpy(signature.signature.rsassa.sig.buffer, sig.sig, sig.sig_len);
	rc = Esys_VerifySignature(s->t.esys, s->key, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pol_hash, &signature,
				  &s->ticket);
	if (rc != TSS2_RC_SUCCESS) {
		tpm_fail("policy failure: VerifySignature rejected the signature", rc);
		return EXIT_POLICY;
	}
	rc = Esys_PolicyAuthorize(s->t.esys, s->session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &approved,
				  &policy_ref, s->key_name, s->ticket);
	if (rc != TSS2_RC_SUCCESS) {
		tpm_fail("policy failure: PolicyAuthorize", rc);
		return EXIT_POLICY;
	}
	rc = Esys_Unseal(s->t.esys, s->object, s->session, ESYS_TR_NONE, ESYS_TR_NONE, &s->secret);
	if (rc != TSS2_RC_SUCCESS) {
		tpm_fail("policy failure: Unseal", rc);
		return EXIT_POLICY;
	}
	return 0;
}

static int cmd_unseal(const struct options *o)
{
	struct unseal_state s = { .primary = ESYS_TR_NONE, .object = ESYS_TR_NONE, .session = ESYS_TR_NONE,
				  .key = ESYS_TR_NONE };
	struct tpm_pubkey key;
	TPM2B_PRIVATE priv;
	TPM2B_PUBLIC pub;
	TSS2_RC rc;
	int r;

	if (tpm_pubkey_load(o->public_key, &key) < 0 || read_blob(o->blob, &priv, &pub) < 0)
		return -1;
	if (tpm_open(o->tcti, &s.t) < 0)
		return -1;
	r = create_primary(&s.t, &s.primary);
	if (r == 0) {
		rc = Esys_Load(s.t.esys, s.primary, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &priv, &pub, &s.object);
		if (rc != TSS2_RC_SUCCESS)
			r = tpm_fail("Load (sealed object; sealed on another TPM?)", rc);
	}
	if (r == 0)
		r = authorize_and_unseal(&s, o, &key);
	if (r == 0 && fwrite(s.secret->buffer, 1, s.secret->size, stdout) != s.secret->size)
		r = tool_error("stdout: write error");
	if (s.secret)
		OPENSSL_cleanse(s.secret->buffer, s.secret->size);
	Esys_Free(s.secret);
	Esys_Free(s.ticket);
	Esys_Free(s.key_name);
	flush(&s.t, &s.key);
	flush(&s.t, &s.session);
	flush(&s.t, &s.object);
	flush(&s.t, &s.primary);
	tpm_close(&s.t);
	return r;
}

/* ------------------------------------------------------------------ main */

static const struct command commands[] = {
	{ "extend", cmd_extend, OPTBIT(OPT_TCTI) | OPTBIT(OPT_PCR) | OPTBIT(OPT_BANK) | OPTBIT(OPT_DIGEST), 0 },
	{ "pcrread", cmd_pcrread, OPTBIT(OPT_TCTI) | OPTBIT(OPT_PCRS) | OPTBIT(OPT_BANK), 0 },
	{ "pcr-policy", cmd_pcr_policy, OPTBIT(OPT_TCTI) | OPTBIT(OPT_PCRS) | OPTBIT(OPT_BANK), 0 },
	{ "seal", cmd_seal, OPTBIT(OPT_TCTI) | OPTBIT(OPT_PUBLIC_KEY) | OPTBIT(OPT_SECRET_FILE) | OPTBIT(OPT_OUT), 0 },
	{ "unseal", cmd_unseal,
	  OPTBIT(OPT_TCTI) | OPTBIT(OPT_BLOB) | OPTBIT(OPT_PUBLIC_KEY) | OPTBIT(OPT_SIGNATURE) | OPTBIT(OPT_PCRS) |
		  OPTBIT(OPT_BANK),
	  OPTBIT(OPT_ANY_POL) | OPTBIT(OPT_HIERARCHY) },
};

static const struct option longopts[] = {
	{ "tcti", required_argument, NULL, OPT_TCTI },
	{ "pcr", required_argument, NULL, OPT_PCR },
	{ "pcrs", required_argument, NULL, OPT_PCRS },
	{ "bank", required_argument, NULL, OPT_BANK },
	{ "digest", required_argument, NULL, OPT_DIGEST },
	{ "public-key", required_argument, NULL, OPT_PUBLIC_KEY },
	{ "secret-file", required_argument, NULL, OPT_SECRET_FILE },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "blob", required_argument, NULL, OPT_BLOB },
	{ "signature", required_argument, NULL, OPT_SIGNATURE },
	{ "any-pol", no_argument, NULL, OPT_ANY_POL },
	{ "hierarchy", required_argument, NULL, OPT_HIERARCHY },
	{ 0 },
};

static void usage(FILE *f)
{
	fputs("Usage: tpm-policy-tool COMMAND --tcti CONF [options]\n"
	      "  extend     --pcr N --bank B --digest HEX [--digest HEX...]\n"
	      "  pcrread    --pcrs 11,13 --bank B\n"
	      "  pcr-policy --pcrs 11,13 --bank B\n"
	      "  seal       --public-key PEM --secret-file FILE --out BLOB\n"
	      "  unseal     --blob BLOB --public-key PEM --signature JSON --pcrs 11,13 --bank B\n"
	      "             [--any-pol] [--hierarchy owner|null]\n"
	      "Exit status: 0 ok, 1 policy failure (unseal), 2 other errors.\n",
	      f);
}

int main(int argc, char **argv)
{
	struct options o = { .hierarchy = ESYS_TR_RH_OWNER };
	const struct command *cmd = NULL;
	int c, r;

	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_ERROR : 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			cmd = &commands[i];
	if (!cmd) {
		tool_error("unknown command '%s'", argv[1]);
		return EXIT_ERROR;
	}
	optind = 2;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c < OPT_TCTI || !((cmd->required | cmd->allowed) & OPTBIT(c))) {
			if (c >= OPT_TCTI)
				tool_error("%s: option %s does not apply", cmd->name, argv[optind - 1]);
			usage(stderr);
			return EXIT_ERROR;
		}
		if (parse_option(c, optarg, &o) < 0)
			return EXIT_ERROR;
		o.given |= OPTBIT(c);
	}
	if (optind != argc) {
		tool_error("%s: unexpected argument '%s'", cmd->name, argv[optind]);
		return EXIT_ERROR;
	}
	for (const struct option *lo = longopts; lo->name; lo++)
		if ((cmd->required & OPTBIT(lo->val)) && !(o.given & OPTBIT(lo->val))) {
			tool_error("%s: --%s is required", cmd->name, lo->name);
			return EXIT_ERROR;
		}
	r = cmd->run(&o);
	if (fflush(stdout) != 0) {
		tool_error("stdout: write error");
		return EXIT_ERROR;
	}
	return r == 0 ? 0 : r == EXIT_POLICY ? EXIT_POLICY : EXIT_ERROR;
}
