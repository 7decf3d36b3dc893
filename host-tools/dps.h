/* SPDX-License-Identifier: MIT */
/*
 * dps.h - the Discoverable Partitions Specification's partition types:
 * which GPT type UUID means which designator (root, usr, their verity and
 * verity-sig partitions per architecture, esp, home, ...), and the
 * architecture names systemd uses for them ("x86-64", "arm64", ...).
 *
 * Designators are in systemd's order (src/shared/gpt.h, v257 and v262),
 * which is the order systemd checks an image policy in, so the first
 * refusal we name is the one systemd would report.
 */
#ifndef HOST_TOOLS_DPS_H
#define HOST_TOOLS_DPS_H

#include <stdbool.h>
#include <stdint.h>

enum dps_designator {
	DPS_ROOT,
	DPS_USR,
	DPS_HOME,
	DPS_SRV,
	DPS_ESP,
	DPS_XBOOTLDR,
	DPS_SWAP,
	DPS_ROOT_VERITY,
	DPS_USR_VERITY,
	DPS_ROOT_VERITY_SIG,
	DPS_USR_VERITY_SIG,
	DPS_TMP,
	DPS_VAR,
	DPS_DESIGNATOR_COUNT,
	DPS_LINUX_GENERIC = DPS_DESIGNATOR_COUNT, /* "Linux filesystem data": no designator of its own */
	DPS_UNKNOWN,
};

#define DPS_ARCH_NONE (-1)

struct dps_type {
	enum dps_designator designator;
	int arch; /* index into the architecture table, or DPS_ARCH_NONE */
};

/* "root", "usr-verity-sig", ... as in systemd's image policies; NULL for the two non-designators. */
const char *dps_designator_name(enum dps_designator d);

/* The designator named @name (image policy syntax), or -1. */
int dps_designator_from_name(const char *name);

/* For root/usr: their verity (and verity-sig) designator; -1 for any other. */
int dps_verity_of(enum dps_designator d);
int dps_verity_sig_of(enum dps_designator d);

/* For a verity or verity-sig designator: the data designator it protects; -1 otherwise. */
int dps_data_of(enum dps_designator d);

/* The type of a partition from its type UUID, as lower-case text ("4f68bce3-e8cd-..."). */
struct dps_type dps_type_from_uuid(const char *uuid);

/* The systemd name of architecture @arch ("x86-64"), or NULL. */
const char *dps_arch_name(int arch);

/* The index of the architecture named @name, or DPS_ARCH_NONE. */
int dps_arch_from_name(const char *name);

/* The architecture this program was built for (systemd's native one), or DPS_ARCH_NONE. */
int dps_arch_native(void);

/* The 32-bit architecture systemd also takes for @arch (x86 for x86-64, arm for arm64), or DPS_ARCH_NONE. */
int dps_arch_secondary(int arch);

/* "root-x86-64-verity": a partition's full type name as systemd-repart prints it, into @buf. */
const char *dps_type_name(struct dps_type t, char *buf, unsigned size);

#endif
