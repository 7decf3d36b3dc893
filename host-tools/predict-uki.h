/* SPDX-License-Identifier: MIT */
/*
 * predict-uki.h - what a UKI's profile and a VM host's SMBIOS words add to
 * a prediction, as the stub (stub/stub.c) does it: the PCR 12 profile
 * event, the extra command-line words, the /.extra/profile archive, and a
 * view of the UKI for the signature archives.
 */
#ifndef HOST_TOOLS_PREDICT_UKI_H
#define HOST_TOOLS_PREDICT_UKI_H

#include <stddef.h>
#include <stdint.h>

#include "prediction.h"
#include "measure/pe.h"

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

/* The archive of @profile's .profile (/.extra/profile), or *ret NULL without one. */
int predict_profile_archive(const uint8_t *buf, const struct pe_image *img, uint32_t profile, uint8_t **ret,
			    uint64_t *ret_size);

/*
 * A copy of @img whose section table holds only the .pcrsig and .pcrpkey
 * in effect for @profile (measure/uki.h's rule, VirtualSize 0 absent): for
 * signature_archives_build(), which looks them up by name.
 */
void predict_signature_view(const struct pe_image *img, uint32_t profile, struct pe_image *view);

#endif
