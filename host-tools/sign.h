/* SPDX-License-Identifier: MIT */
/*
 * sign.h - `sysext-stub sign`: systemd's tpm2-pcr-signature.json for the
 * predicted PCR values (PCR 11 phases, PCR 13 sysexts, ...): sign, emit
 * the policy digests for an external signer, attach a detached signature,
 * append to an existing file, or verify one against a key and a prediction.
 */
#ifndef HOST_TOOLS_SIGN_H
#define HOST_TOOLS_SIGN_H

int cmd_sign(int argc, char **argv);

#endif
