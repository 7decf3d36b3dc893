/* SPDX-License-Identifier: MIT */
/*
 * pcrsig.h - systemd's tpm2-pcr-signature.json: validate fragments and
 * merge them into the one file the initrd gets.
 *
 * systemd-cryptsetup reads only the first tpm2-pcr-signature.json it finds,
 * so signatures from several places (the UKI's .pcrsig section, then
 * *.pcrsig.json files on the ESP) must arrive as one document. The stub
 * merges them at boot and `sysext-stub sign --append` merges on the host,
 * both with this code.
 *
 * A fragment is a JSON document (as measure/json.h reads it: what systemd's
 * own parser accepts) that is an object whose members "sha1", "sha256",
 * "sha384" and "sha512" (any of them, each at most once) are arrays of
 * entries
 *   {"pcrs":[11,13],"pkfp":"<hex>","pol":"<hex>","sig":"<base64>"}
 * Each entry must have: "pcrs", a non-empty array of distinct integers
 * 0..23; "pkfp" and "pol", 64 hex digits each (SHA-256 digests); "sig", a
 * non-empty base64 string; each once. It may have "ref" (a TPM2 policy
 * reference, which systemd-measure 262 writes and systemd 262 reads), once,
 * a string. Other members of an entry are kept (copied with the entry);
 * top-level members other than the four bank names are ignored. The four
 * required strings must not contain escapes (systemd never writes any, and
 * it keeps validation free of buffers). One bad entry, or one string
 * anywhere that systemd's parser would refuse, makes the whole fragment
 * invalid: systemd refuses the whole merged file for one bad byte, and a
 * fragment is an approved state signed as a unit, half of which is not
 * something its signer approved.
 *
 * The merged document is {"sha1":[...],"sha256":[...],...}: banks in that
 * fixed order, each with the entries of every valid fragment in fragment
 * order, each entry's bytes copied verbatim, banks without entries left
 * out, no whitespace. Without any entry it is "{}".
 */
#ifndef MEASURE_PCRSIG_H
#define MEASURE_PCRSIG_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "status.h"

#define PCRSIG_BANKS 4
#define PCRSIG_DIGEST_HEX 64
#define PCRSIG_PCR_MAX 23
/* The UKI's .pcrsig takes part in a merge only up to this size (parse tokens cost 12 bytes per input byte). */
#define PCRSIG_SECTION_MERGE_MAX (1024u * 1024)

struct pcrsig_fragment {
	const void *data;    /* a tpm2-pcr-signature.json text */
	size_t len;
	ms_status status;    /* out: MS_OK when merged; otherwise the kind of problem */
	size_t error_offset; /* out: where the problem is, for messages */
	const char *reason;  /* out: what the problem is ("invalid UTF-8 in a string"), a static phrase */
	size_t entries;      /* out: entries it contributed */
};

/* The bank names, in merge order ("sha1", "sha256", "sha384", "sha512"). */
extern const char *const pcrsig_bank_names[PCRSIG_BANKS];

/* A capacity that always fits the merged output of @n fragments totalling @total_len bytes. */
size_t pcrsig_merged_bound(size_t total_len, size_t n_fragments);

/*
 * Validate one fragment (rules above). tokens/max_tokens: scratch for
 * json_parse, JSON_TOKENS_FOR(len) of them. On error *error_offset (may be
 * NULL) is the offset of the offending token or syntax error, and *reason
 * (may be NULL) a static phrase saying what is wrong there.
 */
ms_status pcrsig_validate(const void *data, size_t len, struct json_token *tokens, uint32_t max_tokens,
			  size_t *error_offset, const char **reason);

/*
 * Validate every fragment, then write the merged document into out[0..out_cap)
 * (no NUL). A malformed fragment is skipped (its status says why) and never
 * affects the others. tokens/max_tokens: scratch for JSON_TOKENS_FOR(largest
 * fragment) tokens. Returns MS_ERR_BUFFER_TOO_SMALL when out_cap is below
 * what is needed (pcrsig_merged_bound() always suffices).
 */
ms_status pcrsig_merge(struct pcrsig_fragment *frags, size_t n, struct json_token *tokens, uint32_t max_tokens,
		       char *out, size_t out_cap, size_t *ret_len);

#endif
