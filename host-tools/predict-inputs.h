/* SPDX-License-Identifier: MIT */
/*
 * predict-inputs.h - what a prediction is computed from, loaded in named
 * steps that `predict` (and `sign` through it) and `cpio` share: the UKI,
 * one set per archived companion target (measure/companion.h: credentials,
 * sysexts, confexts, per-UKI and global) as the stub picks them, the banks
 * every input can give, the files read once (hashed, and packed when the
 * archives are wanted), and the literal archives the stub appends after
 * them (measure/initrd.h gives the order).
 *
 *   predict_resolve_defaults(o);      --esp: the UKI and directories below it
 *   predict_load_inputs(o, &in);      UKI, companion sets picked and limited, addons read
 *   predict_choose_banks(o, &in);     banks every file has a digest in
 *   predict_read_sets(o, &in, want);  hash every file once (+ its archive)
 *   predict_build_archives(o, &in);   .pcrsig merged, .pcrpkey, .osrel, .profile
 *   ...
 *   predict_inputs_free(&in);
 */
#ifndef HOST_TOOLS_PREDICT_INPUTS_H
#define HOST_TOOLS_PREDICT_INPUTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addon-list.h"
#include "predict-options.h"
#include "measure/companion.h"
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

/* At most one set per archived companion target. */
#define PREDICT_SETS_MAX 8

struct predict_inputs {
	struct loaded_uki uki;
	struct sysext_set sets[PREDICT_SETS_MAX]; /* sets[i] for companion_targets[i] */
	bool read[PREDICT_SETS_MAX];  /* the scheme hands companion_targets[i] over */
	size_t extra_dir_len; /* the per-UKI directory's path length on the ESP */
	enum uki_order order; /* the section list PCR 11 measures */
	unsigned banks;       /* the banks predicted (bit i: banks[i]) */
	/* The archives the stub appends after .initrd, by slot; the UKI's own .initrd is not here. */
	uint8_t *archive[INITRD_SLOTS];
	uint64_t archive_size[INITRD_SLOTS];
	struct signature_archives sa; /* owns archive[] of the signature and public-key slots */
	struct sysext_set addon_sets[2]; /* the addon files picked: \loader\addons, then the per-UKI directory */
	struct addon_list addons;        /* those the stub uses, in that order (host-tools/addon-list.h) */
};

/*
 * The scheme's systemd version when none is given, and every bank when none
 * is. With --esp: the UKI at --esp-path below it and the directories the
 * stub would read, where they exist, unless given on their own. Returns 0,
 * or -1 with the error printed.
 */
int predict_resolve_defaults(struct predict_options *o);

/* Whether any companion-file input is given (a directory, a file or a manifest). */
bool predict_have_sysext_input(const struct predict_options *o);

/* The set of @kind read from @role, or NULL when none is (or that pair is not archived). */
const struct sysext_set *predict_set(const struct predict_inputs *in, enum ext_kind kind, enum sel_dir_role role);

/*
 * The profiles @o asks for, of the UKI @o->uki (--esp resolved first): --profile all
 * gives every profile it has (0 for a UKI without any); otherwise
 * o->profile alone. *ret is malloc()ed. Returns 0, or -1 with the error printed.
 */
int predict_profiles(struct predict_options *o, uint32_t **ret, size_t *ret_n);

/*
 * Load the UKI (refusing a profile the stub would not boot), pick every companion set as the stub would (names, limits,
 * order), and read the addons it would use, into the zeroed @in. Returns 0, or -1 with the error printed
 * (free @in either way).
 */
int predict_load_inputs(const struct predict_options *o, struct predict_inputs *in);

/*
 * in->banks: the banks of o->banks every file can give a digest in (a
 * manifest may cover only some; those left out are warned about). An
 * error when none is left.
 */
int predict_choose_banks(const struct predict_options *o, struct predict_inputs *in);

/*
 * Read every file once, hashing it in in->banks, and with @want_archives
 * pack every archive too (which needs the files, not manifests).
 */
int predict_read_sets(const struct predict_options *o, struct predict_inputs *in, bool want_archives);

/*
 * The literal archives of the UKI for o->profile (signatures merged with its
 * directories', public key, os-release, profile; needs --uki).
 */
int predict_build_archives(const struct predict_options *o, struct predict_inputs *in);

void predict_inputs_free(struct predict_inputs *in);

#endif
