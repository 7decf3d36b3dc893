/* SPDX-License-Identifier: MIT */
/*
 * key-file.h - the RSA keys of `sysext-stub sign`, from PEM files.
 *
 * Keys are RSA only: systemd-cryptsetup verifies with TPM2_ALG_RSASSA, so
 * any other key type is refused, named, with the file.
 *
 * No copy of a private key is left in memory, on success or on any error
 * (tests/cli/test_sign.py checks with an allocator shim): OpenSSL 3.0's PEM
 * and DER decoders free their decoded copies without wiping them, so the
 * PEM text is decoded here (pem.h) into a buffer that is wiped, the
 * PKCS#8 and PKCS#1 structures are taken apart here, and only the RSA
 * numbers go to OpenSSL (in BIGNUMs that it clears when it frees them). A
 * non-RSA private key is refused from its algorithm identifier, without
 * decoding its numbers; a private key given as a public key is refused from
 * its PEM label, without decoding it at all.
 */
#ifndef HOST_TOOLS_KEY_FILE_H
#define HOST_TOOLS_KEY_FILE_H

#include <openssl/evp.h>

/*
 * An RSA private key: PEM "PRIVATE KEY" (PKCS#8) or "RSA PRIVATE KEY"
 * (PKCS#1), unencrypted (there is no passphrase prompt: an encrypted key is
 * refused, saying so). NULL on error, printed with @path.
 */
EVP_PKEY *key_file_load_private(const char *path);

/* An RSA public key: PEM "PUBLIC KEY" (SubjectPublicKeyInfo) or "RSA PUBLIC KEY" (PKCS#1). NULL on error, printed. */
EVP_PKEY *key_file_load_public(const char *path);

#endif
