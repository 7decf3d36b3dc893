/* SPDX-License-Identifier: MIT */
/*
 * signature-archives.h - the two small archives the stub appends to the
 * initrd after the extensions (stub/signatures.c): the PCR signature JSON
 * (the UKI's .pcrsig, merged with the *.pcrsig.json files of the extension
 * directories by the same rules and the same measure/pcrsig code) and the
 * .pcrpkey public key. Not measured by the stub, but part of the initrd
 * Linux measures into PCR 9, and of what `sysext-stub cpio` reproduces.
 */
#ifndef HOST_TOOLS_SIGNATURE_ARCHIVES_H
#define HOST_TOOLS_SIGNATURE_ARCHIVES_H

#include <stddef.h>
#include <stdint.h>

#include "measure/pe.h"

struct signature_archives {
	uint8_t *signature; /* .extra/tpm2-pcr-signature.json archive, or NULL */
	uint64_t signature_size;
	uint8_t *public_key; /* .extra/tpm2-pcr-public-key.pem archive, or NULL */
	uint64_t public_key_size;
};

/*
 * Build both from the UKI (@uki_buf parsed as @img in the file layout) and
 * the extension directories (either may be NULL; @extra_dir_len is the
 * per-UKI directory's path length on the ESP, see sysext_set_init()). Signature files that
 * cannot be read are errors (the host never guesses); malformed ones are
 * left out with a warning, as the stub leaves them out.
 */
int signature_archives_build(const uint8_t *uki_buf, const struct pe_image *img, const char *extra_dir,
			     size_t extra_dir_len, const char *global_dir, struct signature_archives *ret);

void signature_archives_free(struct signature_archives *a);

#endif
