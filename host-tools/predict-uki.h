/* SPDX-License-Identifier: MIT */
/*
 * predict-uki.h - what a UKI's profile and a VM host's SMBIOS words add to
 * a prediction, as the stub (stub/stub.c) does it: the PCR 12 profile
 * event and the extra command-line words. (The profile's /.extra/profile
 * archive is one of the literal archives: signature-archives.h.)
 */
#ifndef HOST_TOOLS_PREDICT_UKI_H
#define HOST_TOOLS_PREDICT_UKI_H

#include <stddef.h>
#include <stdint.h>

#include "prediction.h"

/* PCR 12's first event for @profile (not 0): EV_EVENT_TAG over its number, UTF-16 with NUL. */
int predict_profile_event(struct prediction *p, uint32_t profile);

/*
 * @words (the value of io.systemd.stub.kernel-cmdline-extra=) as the stub
 * reads them: bytes as UTF-16 units, mangled. *ret is NULL when nothing is
 * left (then nothing is measured or appended).
 */
int predict_cmdline_words(const char *words, uint16_t **ret);

/* *cmdline (NULL or empty: none) followed by a space and @words, as the stub appends them. */
int predict_cmdline_append(uint16_t **cmdline, const uint16_t *words);

#endif
