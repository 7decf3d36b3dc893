/* SPDX-License-Identifier: MIT */
/*
 * predict-inputs.h - what a prediction is computed from, loaded in named
 * steps that `predict` (and `sign` through it) and `cpio` share: the UKI,
 * the two sysext sets as the stub picks them, the banks every input can
 * give, the files read once (hashed, and packed when the archives are
 * wanted), and the signature and public-key archives the stub appends
 * after them (measure/initrd.h gives the order).
 *
 *   predict_resolve_defaults(o);
 *   predict_load_inputs(o, &in);      UKI, sysext sets picked and limited
 *   predict_choose_banks(o, &in);     banks every sysext has a digest in
 *   predict_read_sets(o, &in, want);  hash every file once (+ its archive)
 *   predict_build_archives(o, &in);   .pcrsig merged, .pcrpkey
 *   ...
 *   predict_inputs_free(&in);
 */
#ifndef HOST_TOOLS_PREDICT_INPUTS_H
#define HOST_TOOLS_PREDICT_INPUTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "predict-options.h"
#include "signature-archives.h"
#include "sysext-set.h"
#include "measure/initrd.h"
#include "measure/pe.h"
#include "measure/uki.h"

/* A loaded UKI: its bytes and parsed headers. */
struct loaded_uki {
	uint8_t *buf; /* NULL without --uki */
	size_t len;
	struct pe_image img;
};

struct predict_inputs {
	struct loaded_uki uki;
	struct sysext_set per_uki, global;
	size_t extra_dir_len; /* the per-UKI directory's path length on the ESP */
	bool global_read;     /* the scheme reads \loader\extensions */
	enum uki_order order; /* the section list PCR 11 measures */
	unsigned banks;       /* the banks predicted (bit i: banks[i]) */
	/* The archives the stub appends after .initrd, by slot; the UKI's own .initrd is not here. */
	uint8_t *archive[INITRD_SLOTS];
	uint64_t archive_size[INITRD_SLOTS];
	struct signature_archives sa; /* owns archive[] of the signature and public-key slots */
};

/* The scheme's systemd version when none is given, and every bank when none is. */
void predict_resolve_defaults(struct predict_options *o);

/* Whether any sysext input is given (a directory, a file or a manifest). */
bool predict_have_sysext_input(const struct predict_options *o);

/*
 * Load the UKI and pick both sysext sets as the stub would (names, limits,
 * order), into the zeroed @in. Returns 0, or -1 with the error printed
 * (free @in either way).
 */
int predict_load_inputs(const struct predict_options *o, struct predict_inputs *in);

/*
 * in->banks: the banks of o->banks every sysext can give a digest in (a
 * manifest may cover only some; those left out are warned about). An
 * error when none is left.
 */
int predict_choose_banks(const struct predict_options *o, struct predict_inputs *in);

/*
 * Read every sysext once, hashing it in in->banks, and with @want_archives
 * pack both sysext archives too (which needs the files, not manifests).
 */
int predict_read_sets(const struct predict_options *o, struct predict_inputs *in, bool want_archives);

/* The signature and public-key archives of the UKI and its directories (needs --uki). */
int predict_build_archives(const struct predict_options *o, struct predict_inputs *in);

void predict_inputs_free(struct predict_inputs *in);

#endif
