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

#include "sysext.h"

/*
 * Build the signature archive from the .pcrsig section (@pcrsig, may be
 * NULL) and the *.pcrsig.json files in @dirs on @root (NULL entries are
 * skipped). Without signature files on the ESP the section is passed on
 * byte for byte, as systemd-stub does; with some, the valid documents are
 * merged (measure/pcrsig.h) and each invalid one is logged and left out.
 * Never fails the boot; *ret stays empty when there is nothing to pass.
 */
void signatures_collect(EFI_FILE_HANDLE root, const CHAR16 *const *dirs, UINTN n_dirs, const void *pcrsig,
			UINTN pcrsig_size, struct sysext_archive *ret);

/* A cpio holding .extra/@name (0444) with @size bytes of @data. */
EFI_STATUS literal_archive(const char *name, const void *data, UINTN size, struct sysext_archive *ret);

#endif
