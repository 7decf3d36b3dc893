/* SPDX-License-Identifier: MIT */
/*
 * pcrlock.h - `sysext-stub pcrlock`: systemd-pcrlock components for what
 * the stub measures (PCR 11 the UKI, PCR 12 the parameters, PCR 13 one
 * component per sysext slot with a variant per approved version), so a
 * pcrlock policy approves every approved version without a signing key.
 */
#ifndef HOST_TOOLS_PCRLOCK_H
#define HOST_TOOLS_PCRLOCK_H

int cmd_pcrlock(int argc, char **argv);

#endif
