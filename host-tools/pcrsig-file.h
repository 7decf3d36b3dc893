/* SPDX-License-Identifier: MIT */
/*
 * pcrsig-file.h - a tpm2-pcr-signature.json as `sign --verify` and
 * `sign --append` read it: validated by the stub's own rules
 * (measure/pcrsig.h), a refusal said in words that name the entry, the
 * field and what it must be, and the entries decoded.
 */
#ifndef HOST_TOOLS_PCRSIG_FILE_H
#define HOST_TOOLS_PCRSIG_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "measure/json.h"
#include "measure/pcrsig.h"

#define PCRSIG_DIGEST_SIZE (PCRSIG_DIGEST_HEX / 2)

/* One entry, decoded. */
struct pcrsig_entry {
	uint32_t pcrs; /* mask of PCR numbers */
	uint8_t pkfp[PCRSIG_DIGEST_SIZE];
	uint8_t pol[PCRSIG_DIGEST_SIZE];
	uint8_t *sig; /* malloc'ed */
	size_t sig_len;
};

/*
 * Why pcrsig_validate() (or pcrsig_merge() for a fragment) refused data[0..len)
 * with @m at @offset for @reason (its static phrase; may be NULL), as one
 * phrase into out[0..cap) that names the entry where it can, e.g.
 *   sha256[0]: "pol" has 2 characters; it must be 64 hex digits (a SHA-256 digest)
 *   invalid JSON: invalid UTF-8 in a string
 * followed by " (at byte N)".
 */
void pcrsig_file_problem(const void *data, size_t len, ms_status m, size_t offset, const char *reason, char *out,
			 size_t cap);

/*
 * Decode entry @obj of a document that passed pcrsig_validate() (so every
 * field is there and well-formed). 0, or -1 (out of memory, printed). The
 * caller frees e->sig.
 */
int pcrsig_entry_decode(const struct json_doc *doc, uint32_t obj, struct pcrsig_entry *e);

#endif
