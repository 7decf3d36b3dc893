/* SPDX-License-Identifier: MIT */
/*
 * signatures.h - hand the signed PCR policy and its public key to the
 * initrd, the way systemd-stub does (reference §4.1), plus signature files
 * on the ESP:
 *   .pcrsig, merged with the *.pcrsig.json files of the extension
 *   directories -> /.extra/tpm2-pcr-signature.json (0444)
 *   .pcrpkey -> /.extra/tpm2-pcr-public-key.pem (0444)
 * Each goes into its own small cpio. Neither is measured: a signature
 * authenticates itself (the TPM checks it against the key the disk was
 * enrolled with), and .pcrpkey is already measured as a PCR 11 section.
 */
#ifndef STUB_SIGNATURES_H
#define STUB_SIGNATURES_H

#include <efi.h>

#include "companion-archive.h"

/*
 * The signature archive is built from the .pcrsig section (@pcrsig, may be
 * NULL) and the *.pcrsig.json files the listings selected, added one
 * directory at a time (per-UKI first). Without signature files on the ESP
 * the section is passed on byte for byte, as systemd-stub does; with some,
 * the valid documents are merged (measure/pcrsig.h) and each invalid one is
 * logged and left out. Never fails the boot: a NULL set (no memory, logged)
 * is accepted everywhere, and *ret stays empty when there is nothing to pass.
 */
struct signature_set;
struct signature_set *signatures_begin(const void *pcrsig, UINTN pcrsig_size);
void signatures_add(struct signature_set *set, const struct dir_listing *l);
/* Merge, pack into *ret, and free @set. */
void signatures_finish(struct signature_set *set, struct extra_archive *ret);

#endif
