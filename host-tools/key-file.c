/* SPDX-License-Identifier: MIT */
#include "key-file.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "pcr-policy.h"
#include "pem.h"
#include "util.h"

#define KEY_FILE_MAX (1 << 20)
#define RSA_NUMBERS 8 /* n e d p q dp dq qinv, in RSAPrivateKey order */

enum { DER_INTEGER = 0x02, DER_OCTET_STRING = 0x04, DER_OID = 0x06, DER_SEQUENCE = 0x30, DER_CONTEXT_0 = 0xa0 };

/* Wipe, then free, a buffer that held key material; NULL is ignored. */
static void wipe_free(uint8_t *buf, size_t cap)
{
	if (buf) {
		OPENSSL_cleanse(buf, cap);
		free(buf);
	}
}

/*
 * Read a key file into one buffer allocated once (never grown, so no stale
 * copy is left in freed memory); every failure wipes what was read. The
 * caller wipes and frees *ret_buf (*ret_cap bytes).
 */
static int read_secret_file(const char *path, uint8_t **ret_buf, size_t *ret_len, size_t *ret_cap)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;
	int fd, r = -1;

	fd = open_regular_file(path, &st);
	if (fd < 0)
		return -1;
	if (st.st_size > KEY_FILE_MAX) {
		errorf("%s: too large for a key (%lld bytes)", path, (long long)st.st_size);
		goto out;
	}
	/* One byte more than the size: reading it means the file grew. */
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap);
	if (!buf) {
		errorf("%s: out of memory", path);
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, cap - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			errorf("%s: read error: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == cap) {
			errorf("%s: file changed size while reading", path);
			goto out;
		}
	}
	*ret_buf = buf;
	*ret_len = len;
	*ret_cap = cap;
	buf = NULL;
	r = 0;
out:
	wipe_free(buf, cap);
	close(fd);
	return r;
}

/* ---------------------------------------------------------------- key types */

/* The key types systemd-cryptsetup cannot use that have a name here: by OID (PKCS#8) and by OpenSSL's name. */
static const struct {
	int nid;
	const char *openssl_name;
	const char *phrase; /* "... is an EC key" */
} key_types[] = {
	{ NID_sm2, "SM2", "an SM2" }, /* before EC: an SM2 key is an EC key too */
	{ NID_X9_62_id_ecPublicKey, "EC", "an EC" },
	{ NID_ED25519, "ED25519", "an Ed25519" },
	{ NID_ED448, "ED448", "an Ed448" },
	{ NID_rsassaPss, "RSA-PSS", "an RSA-PSS-only" },
	{ NID_dsa, "DSA", "a DSA" },
	{ NID_dhKeyAgreement, "DH", "a DH" },
	{ NID_dhpublicnumber, "DHX", "a DH" },
	{ NID_X25519, "X25519", "an X25519" },
	{ NID_X448, "X448", "an X448" },
};

/* @phrase: "an EC" and the like. */
static int refuse_type(const char *path, const char *phrase)
{
	return errorf("%s: is %s key; systemd-cryptsetup verifies RSA signatures only "
		      "(create one with: openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048)",
		      path, phrase);
}

/* "a non-RSA (NAME)" for types without a phrase. */
static int refuse_other(const char *path, const char *name)
{
	char phrase[96];

	snprintf(phrase, sizeof(phrase), "a non-RSA (%s)", name);
	return refuse_type(path, phrase);
}

static int refuse_nid(const char *path, int nid)
{
	const char *sn = OBJ_nid2sn(nid);

	for (size_t i = 0; i < sizeof(key_types) / sizeof(key_types[0]); i++)
		if (key_types[i].nid == nid)
			return refuse_type(path, key_types[i].phrase);
	return refuse_other(path, nid != NID_undef && sn ? sn : "an algorithm OpenSSL does not know");
}

static int refuse_key(const char *path, const EVP_PKEY *key)
{
	const char *name = EVP_PKEY_get0_type_name(key);

	for (size_t i = 0; i < sizeof(key_types) / sizeof(key_types[0]); i++)
		if (EVP_PKEY_is_a(key, key_types[i].openssl_name))
			return refuse_type(path, key_types[i].phrase);
	return refuse_other(path, name ? name : "a type OpenSSL does not name");
}

/* A signature must fit TPM2B_PUBLIC_KEY_RSA; other sizes than 2048 bits may not load. */
static int check_rsa_bits(const char *path, int bits)
{
	if (bits > 8 * POLICY_SIG_MAX)
		return errorf("%s: a %d-bit RSA key; a TPM takes signatures of at most %d bits", path, bits,
			      8 * POLICY_SIG_MAX);
	if (bits != 2048)
		warnf("%s: a %d-bit RSA key; TPMs are only required to load 2048-bit keys, so this one may not unlock",
		      path, bits);
	return 0;
}

/* ---------------------------------------------------------------- DER */

/*
 * The TLV at *p (before @end) if its tag is @tag: its contents in *ret and
 * *ret_len, and *p moved past it. Lengths as DER has them: definite, and in
 * the fewest bytes. (OpenSSL reads BER lengths too, but not all of them the
 * same way: it refuses a long-form length of an empty value at the end of
 * its buffer. Keys in DER are what openssl and every other tool write.)
 */
static bool der_take(const uint8_t **p, const uint8_t *end, uint8_t tag, const uint8_t **ret, size_t *ret_len)
{
	const uint8_t *s = *p;
	size_t len;

	if (end - s < 2 || s[0] != tag)
		return false;
	len = s[1];
	s += 2;
	if (len & 0x80) {
		size_t n = len & 0x7f;

		if (n == 0 || n > 3 || (size_t)(end - s) < n || s[0] == 0)
			return false;
		len = 0;
		while (n--)
			len = len << 8 | *s++;
		if (len < 0x80)
			return false;
	}
	if ((size_t)(end - s) < len)
		return false;
	*ret = s;
	*ret_len = len;
	*p = s + len;
	return true;
}

/*
 * True if the DER TLV @tlv[0..len) is exactly one value of @it as OpenSSL
 * decodes it. The AlgorithmIdentifier and the attributes of a PKCS#8 key
 * hold no secret, and the rules for what they may hold (ANY parameters,
 * Attribute values) are OpenSSL's: a key file is taken only when OpenSSL
 * would take it the same way.
 */
static bool openssl_decodes(const ASN1_ITEM *it, const uint8_t *tlv, size_t len)
{
	const unsigned char *q = tlv;
	ASN1_VALUE *v = len <= LONG_MAX ? ASN1_item_d2i(NULL, &q, (long)len, it) : NULL;
	bool ok = v && q == tlv + len;

	ASN1_item_free(v, it);
	ERR_clear_error();
	return ok;
}

/* The contents of PKCS#8's [0] attributes: Attribute after Attribute, each one OpenSSL reads. */
static bool pkcs8_attributes_ok(const uint8_t *p, const uint8_t *end)
{
	while (p < end) {
		const uint8_t *tlv = p, *v;
		size_t v_len;

		if (!der_take(&p, end, DER_SEQUENCE, &v, &v_len) ||
		    !openssl_decodes(ASN1_ITEM_rptr(X509_ATTRIBUTE), tlv, (size_t)(p - tlv)))
			return false;
	}
	return true;
}

/* The NID of the OID whose contents are @oid[0..len) (NID_undef if OpenSSL does not know it). */
static int nid_of(const uint8_t *oid, size_t len)
{
	ASN1_OBJECT *obj;
	uint8_t der[2 + 127];
	const unsigned char *p = der;
	int nid;

	if (len == 0 || len > 127)
		return NID_undef;
	der[0] = DER_OID;
	der[1] = (uint8_t)len;
	memcpy(der + 2, oid, len);
	obj = d2i_ASN1_OBJECT(NULL, &p, (long)(len + 2));
	nid = obj ? OBJ_obj2nid(obj) : NID_undef;
	ASN1_OBJECT_free(obj);
	ERR_clear_error();
	return nid;
}

/*
 * RSAPrivateKey (RFC 8017 A.1.2), two-prime: its numbers as BIGNUMs that
 * OpenSSL clears when they are freed. Returns 0, or -1 (printed).
 */
static int rsa_numbers(const char *path, const uint8_t *der, size_t len, BIGNUM *bn[RSA_NUMBERS])
{
	const uint8_t *p = der, *end = der + len, *seq, *v;
	size_t seq_len, v_len;

	memset(bn, 0, RSA_NUMBERS * sizeof(*bn));
	if (!der_take(&p, end, DER_SEQUENCE, &seq, &seq_len) || p != end)
		return errorf("%s: not a PEM private key (not an RSAPrivateKey structure)", path);
	p = seq;
	end = seq + seq_len;
	if (!der_take(&p, end, DER_INTEGER, &v, &v_len) || v_len != 1 || v[0] > 1)
		return errorf("%s: not a PEM private key (not an RSAPrivateKey structure)", path);
	if (v[0] == 1)
		return errorf("%s: a multi-prime RSA key; use a two-prime key (openssl genpkey -algorithm RSA)", path);
	for (size_t i = 0; i < RSA_NUMBERS; i++) {
		/* Positive integers only (a set top bit would make it negative). */
		if (!der_take(&p, end, DER_INTEGER, &v, &v_len) || v_len == 0 || (v[0] & 0x80) || v_len > INT32_MAX)
			return errorf("%s: not a PEM private key (not an RSAPrivateKey structure)", path);
		bn[i] = BN_secure_new();
		if (!bn[i] || !BN_bin2bn(v, (int)v_len, bn[i]))
			return errorf("out of memory");
	}
	if (p != end)
		return errorf("%s: not a PEM private key (not an RSAPrivateKey structure)", path);
	return 0;
}

/* The EVP_PKEY of the numbers. Its parameters live in memory OpenSSL clears on free (BN_FLG_SECURE). */
static EVP_PKEY *rsa_key(BIGNUM *bn[RSA_NUMBERS])
{
	static const char *const names[RSA_NUMBERS] = {
		OSSL_PKEY_PARAM_RSA_N,         OSSL_PKEY_PARAM_RSA_E,         OSSL_PKEY_PARAM_RSA_D,
		OSSL_PKEY_PARAM_RSA_FACTOR1,   OSSL_PKEY_PARAM_RSA_FACTOR2,   OSSL_PKEY_PARAM_RSA_EXPONENT1,
		OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
	};
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *key = NULL;
	bool ok = bld != NULL;

	for (size_t i = 0; i < RSA_NUMBERS && ok; i++)
		ok = OSSL_PARAM_BLD_push_BN(bld, names[i], bn[i]) == 1;
	if (ok)
		params = OSSL_PARAM_BLD_to_param(bld);
	if (params)
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 || EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_KEYPAIR, params) != 1) {
		EVP_PKEY_free(key);
		key = NULL;
	}
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params); /* the numbers' part with OPENSSL_secure_clear_free */
	OSSL_PARAM_BLD_free(bld);
	ERR_clear_error();
	return key;
}

/* The RSA key of RSAPrivateKey DER; NULL on error (printed). */
static EVP_PKEY *rsa_private_key(const char *path, const uint8_t *der, size_t len)
{
	BIGNUM *bn[RSA_NUMBERS];
	EVP_PKEY *key = NULL;

	if (rsa_numbers(path, der, len, bn) == 0 && check_rsa_bits(path, BN_num_bits(bn[0])) == 0) {
		key = rsa_key(bn);
		if (!key)
			errorf("%s: not a usable RSA private key", path);
	}
	for (size_t i = 0; i < RSA_NUMBERS; i++)
		BN_clear_free(bn[i]);
	return key;
}

/*
 * PKCS#8 PrivateKeyInfo (RFC 5208): version, AlgorithmIdentifier, the
 * privateKey octets, optional attributes ([0]) and nothing else, as
 * OpenSSL reads it. An RSA key is decoded from those octets; any other is
 * refused from the algorithm alone.
 */
static EVP_PKEY *pkcs8_private_key(const char *path, const uint8_t *der, size_t len)
{
	const uint8_t *p = der, *end = der + len, *seq, *alg_tlv, *alg, *alg_end, *oid, *v, *key, *attrs;
	size_t seq_len, alg_len, oid_len, v_len, key_len, attrs_len = 0;
	int nid;

	if (!der_take(&p, end, DER_SEQUENCE, &seq, &seq_len) || p != end)
		goto invalid;
	p = seq;
	end = seq + seq_len;
	if (!der_take(&p, end, DER_INTEGER, &v, &v_len) || v_len != 1 || v[0] > 1)
		goto invalid;
	alg_tlv = p;
	if (!der_take(&p, end, DER_SEQUENCE, &alg, &alg_len) ||
	    !openssl_decodes(ASN1_ITEM_rptr(X509_ALGOR), alg_tlv, (size_t)(p - alg_tlv)) ||
	    !der_take(&p, end, DER_OCTET_STRING, &key, &key_len))
		goto invalid;
	/* Bytes after the key that are no attributes: OpenSSL refuses the key, and so do we. */
	attrs = p;
	if (p != end && (!der_take(&p, end, DER_CONTEXT_0, &attrs, &attrs_len) || p != end))
		goto invalid;
	if (!pkcs8_attributes_ok(attrs, attrs + attrs_len))
		goto invalid;
	alg_end = alg + alg_len;
	if (!der_take(&alg, alg_end, DER_OID, &oid, &oid_len))
		goto invalid;
	nid = nid_of(oid, oid_len);
	/* An SM2 key is an EC key on the SM2 curve (the parameters: the curve's OID). */
	if (nid == NID_X9_62_id_ecPublicKey && der_take(&alg, alg_end, DER_OID, &oid, &oid_len) &&
	    nid_of(oid, oid_len) == NID_sm2)
		nid = NID_sm2;
	if (nid != NID_rsaEncryption) {
		refuse_nid(path, nid);
		return NULL;
	}
	return rsa_private_key(path, key, key_len);
invalid:
	errorf("%s: not a PEM private key (not a PKCS#8 PrivateKeyInfo structure)", path);
	return NULL;
}

/* ---------------------------------------------------------------- PEM */

static bool is_private_label(const char *label)
{
	return strstr(label, "PRIVATE KEY") != NULL;
}

EVP_PKEY *key_file_load_private(const char *path)
{
	uint8_t *text = NULL, *der = NULL;
	size_t len = 0, cap = 0, pos = 0, der_cap = 0, der_len = 0;
	struct pem_block b;
	EVP_PKEY *key = NULL;
	int found;

	if (read_secret_file(path, &text, &len, &cap) < 0)
		return NULL;
	while ((found = pem_next(text, len, &pos, &b)) == 1 && !is_private_label(b.label))
		;
	if (found < 0) {
		errorf("%s: not a PEM private key (-----BEGIN %s----- without its END line)", path, b.label);
		goto out;
	}
	if (found == 0) {
		errorf("%s: not a PEM private key", path);
		goto out;
	}
	if (strcmp(b.label, "ENCRYPTED PRIVATE KEY") == 0 || b.encrypted) {
		errorf("%s: the private key is encrypted and there is no passphrase prompt; use an unencrypted "
		       "key, or sign externally (--policy-digest-only, then --signature)",
		       path);
		goto out;
	}
	/* Traditional keys say their type in the label. */
	if (strcmp(b.label, "EC PRIVATE KEY") == 0) {
		refuse_nid(path, NID_X9_62_id_ecPublicKey);
		goto out;
	}
	if (strcmp(b.label, "DSA PRIVATE KEY") == 0) {
		refuse_nid(path, NID_dsa);
		goto out;
	}
	if ((strcmp(b.label, "PRIVATE KEY") != 0 && strcmp(b.label, "RSA PRIVATE KEY") != 0) || b.headers) {
		errorf("%s: not a PEM private key of a known kind (-----BEGIN %s-----%s)", path, b.label,
		       b.headers ? " with header lines" : "");
		goto out;
	}
	der_cap = pem_decoded_max(&b);
	der = malloc(der_cap);
	if (!der) {
		errorf("%s: out of memory", path);
		goto out;
	}
	if (pem_decode(text, &b, der, &der_len) < 0) {
		errorf("%s: not a PEM private key (the text between the BEGIN and END lines is not base64)", path);
		goto out;
	}
	key = strcmp(b.label, "RSA PRIVATE KEY") == 0 ? rsa_private_key(path, der, der_len)
						    : pkcs8_private_key(path, der, der_len);
out:
	wipe_free(der, der_cap);
	wipe_free(text, cap);
	return key;
}

EVP_PKEY *key_file_load_public(const char *path)
{
	uint8_t *text = NULL, *der = NULL;
	size_t len = 0, cap = 0, pos = 0, der_cap = 0, der_len = 0;
	struct pem_block b, pub = { .label = "" };
	EVP_PKEY *key = NULL;
	const unsigned char *p;
	int found;

	/* Someone may pass the private key file here by mistake: it is read like one, and wiped. */
	if (read_secret_file(path, &text, &len, &cap) < 0)
		return NULL;
	/* Refused from the label, before anything is decoded. */
	while ((found = pem_next(text, len, &pos, &b)) == 1) {
		if (is_private_label(b.label)) {
			errorf("%s: is a private key (-----BEGIN %s-----), not a public key; the public key is: "
			       "openssl pkey -in %s -pubout",
			       path, b.label, path);
			goto out;
		}
		if (!pub.label[0] && (strcmp(b.label, "PUBLIC KEY") == 0 || strcmp(b.label, "RSA PUBLIC KEY") == 0))
			pub = b;
	}
	if (!pub.label[0] || pub.headers) {
		errorf("%s: not a PEM public key", path);
		goto out;
	}
	der_cap = pem_decoded_max(&pub);
	der = malloc(der_cap);
	if (!der) {
		errorf("%s: out of memory", path);
		goto out;
	}
	p = der;
	if (pem_decode(text, &pub, der, &der_len) == 0 && der_len <= LONG_MAX)
		key = strcmp(pub.label, "PUBLIC KEY") == 0 ? d2i_PUBKEY(NULL, &p, (long)der_len)
							   : d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)der_len);
	ERR_clear_error();
	if (!key || p != der + der_len) {
		EVP_PKEY_free(key);
		key = NULL;
		errorf("%s: not a PEM public key", path);
		goto out;
	}
	if (!EVP_PKEY_is_a(key, "RSA")) {
		refuse_key(path, key);
		EVP_PKEY_free(key);
		key = NULL;
	} else if (check_rsa_bits(path, EVP_PKEY_get_bits(key)) < 0) {
		EVP_PKEY_free(key);
		key = NULL;
	}
out:
	wipe_free(der, der_cap);
	wipe_free(text, cap);
	return key;
}
