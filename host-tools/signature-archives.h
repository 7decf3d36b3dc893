/* SPDX-License-Identifier: MIT */
/*
 * signature-archives.h - the small literal archives the stub appends to the
 * initrd after the companion archives (stub/signatures.c, stub/stub.c): the
 * PCR signature JSON (the UKI's .pcrsig, merged with the *.pcrsig.json
 * files of the extension directories by the same rules and the same
 * measure/pcrsig code), the .pcrpkey public key, os-release and the booted
 * profile's .profile. Not measured by the stub, but part of the initrd
 * Linux measures into PCR 9, and of what `sysext-stub cpio` reproduces.
 */
#ifndef HOST_TOOLS_SIGNATURE_ARCHIVES_H
#define HOST_TOOLS_SIGNATURE_ARCHIVES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "measure/initrd.h"
#include "measure/pe.h"

/* The literal archives, by initrd slot: the signature JSON, the public key, os-release, profile; NULL when absent. */
struct signature_archives {
	uint8_t *archive[INITRD_SLOTS];
	uint64_t size[INITRD_SLOTS];
};

/*
 * Build them from the UKI (@uki_buf parsed as @img in the file layout),
 * booting @profile (measure/uki.h decides which .pcrsig, .pcrpkey, .osrel
 * and .profile are in effect), and the extension directories (either may
 * be NULL; @extra_dir_len is the per-UKI directory's path length on the
 * ESP, see sysext_set_init()). Signature files that cannot be read are
 * errors (the host never guesses); malformed ones are left out with a
 * warning, as the stub leaves them out. The UKI's other literal sections
 * (measure/companion.c) follow in their own archives: every one for
 * sysext-stub (@systemd_version 0), else those systemd-stub
 * @systemd_version hands over.
 */
int signature_archives_build(const uint8_t *uki_buf, const struct pe_image *img, uint32_t profile,
			     const char *extra_dir, size_t extra_dir_len, const char *global_dir, unsigned systemd_version,
			     struct signature_archives *ret);

void signature_archives_free(struct signature_archives *a);

#endif
