/* SPDX-License-Identifier: MIT */
/*
 * userspace-extends.h - what systemd's userspace extends into the PCRs the
 * stub measures, after the firmware's event log ends (docs/MEASUREMENTS.md):
 * systemd-pcrphase's boot phases into PCR 11, and the os-separator systemd
 * >= 261 extends into PCR 13 in the initrd. `predict --phase` /
 * `--os-separator` add them to a prediction; `eventlog` accepts a TPM that
 * holds them on top of the log's replay. Each word is extended as its UTF-8
 * bytes, without a NUL.
 */
#ifndef HOST_TOOLS_USERSPACE_EXTENDS_H
#define HOST_TOOLS_USERSPACE_EXTENDS_H

#include <stddef.h>

/* What systemd >= 261 extends into PCR 13 in the initrd before unlocking. */
#define USERSPACE_OS_SEPARATOR "os-separator"

/*
 * systemd-measure's default phases for PCR 11, in boot order: each is the
 * one before plus systemd-pcrphase's next word ("enter-initrd", ...,
 * "enter-initrd:leave-initrd:sysinit:ready"). Returns how many, @ret gets them.
 */
size_t userspace_default_phases(const char *const **ret);

/*
 * The words userspace extends into @pcr, in order, joined by ':': PCR 11
 * the last default phase, PCR 13 the os-separator; NULL for any other PCR.
 * A booted TPM holds the firmware log's value extended with some leading
 * words of these.
 */
const char *userspace_words(unsigned pcr);

#endif
