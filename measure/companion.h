/* SPDX-License-Identifier: MIT */
/*
 * companion.h - where every kind of companion file goes: its archive (path
 * and modes, as systemd-stub 262 writes them), its initrd slot, the PCR its
 * files are measured into, and the event systemd-stub makes for the whole
 * archive (for predictions of systemd-stub).
 *
 * The table is in initrd slot order, and that is also the order the stub
 * measures the archives in: credentials, global credentials (PCR 12),
 * system extensions, global ones (PCR 13), configuration extensions,
 * global ones (PCR 12), as systemd-stub 262 packs them. Addons and
 * signature files are not archived (they have no entry).
 */
#ifndef MEASURE_COMPANION_H
#define MEASURE_COMPANION_H

#include <stddef.h>
#include <stdint.h>

#include "extensions.h"
#include "initrd.h"
#include "selection.h"
#include "sysext-archive.h"

#define SYSEXT_PREFIX ".extra/sysext"
#define SYSEXT_GLOBAL_PREFIX ".extra/global_sysext"

/* Modes of extension archives (0555/0444) and of credential archives (0500/0400: secrets). */
#define EXTENSION_DIR_MODE 0555
#define EXTENSION_FILE_MODE 0444
#define CREDENTIAL_DIR_MODE 0500
#define CREDENTIAL_FILE_MODE 0400

struct companion_target {
	enum ext_kind kind;
	enum sel_dir_role role;
	enum initrd_slot slot;
	struct archive_layout layout;
	uint32_t pcr;                    /* where the stub measures each file (path event, content event) */
	const char *systemd_description; /* systemd-stub's one EV_IPL event over the whole archive */
	unsigned systemd_since;          /* the first systemd-stub release that hands it over */
};

/* The archived targets, in initrd slot (and measurement) order. */
extern const struct companion_target companion_targets[];
extern const size_t companion_target_count;

/* The target of @kind read from a directory of @role, or NULL if that pair is not archived. */
const struct companion_target *companion_target_for(enum ext_kind kind, enum sel_dir_role role);

/* The literal files below INITRD_EXTRA_PREFIX (signatures, public key, os-release, profile): 0555/0444. */
extern const struct archive_layout companion_literal_layout;

/*
 * UKI sections handed over as they are, each as one literal file, not
 * measured (PCR 11 covers them): .pcrpkey as tpm2-pcr-public-key.pem
 * (systemd-stub 252+), .osrel as os-release and the booted profile's
 * .profile as profile (systemd-stub 257+). Each is the section in effect
 * for the booted profile (measure/uki.h). .pcrsig is not here: it is
 * merged with the signature files first (measure/pcrsig.h).
 */
struct companion_literal {
	const char *section;
	const char *file;
	enum initrd_slot slot;
	unsigned systemd_since; /* the first systemd-stub release that hands it over */
};
extern const struct companion_literal companion_literals[];
extern const size_t companion_literal_count;

#endif
