/* SPDX-License-Identifier: MIT */
/*
 * image-policy.h - systemd's image policies (systemd.image-policy(7)):
 * which partitions of an image may be used, and how protected each must
 * be. The syntax and the meaning follow systemd's src/shared/image-policy.c
 * (v257, unchanged in v262): "root=signed+absent:usr=signed+absent",
 * symbolic "*" (all allowed), "-" (nothing used), "~" (nothing may exist),
 * a default rule with an empty designator ("=ignore"), and a verity or
 * verity-sig partition without a rule of its own derived from its data
 * partition's rule.
 */
#ifndef HOST_TOOLS_IMAGE_POLICY_H
#define HOST_TOOLS_IMAGE_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "dps.h"

enum {
	POLICY_VERITY = 1 << 0,      /* must exist, used with verity */
	POLICY_SIGNED = 1 << 1,      /* must exist, used with signed verity */
	POLICY_ENCRYPTED = 1 << 2,   /* must exist, used with LUKS */
	POLICY_UNPROTECTED = 1 << 3, /* must exist, used as is */
	POLICY_UNUSED = 1 << 4,      /* must exist, not used */
	POLICY_ABSENT = 1 << 5,      /* must not exist */
	POLICY_OPEN = 0x3f,
	POLICY_IGNORE = POLICY_UNUSED | POLICY_ABSENT,
	POLICY_USE_MASK = POLICY_OPEN,
	POLICY_READ_ONLY_OFF = 1 << 6,
	POLICY_READ_ONLY_ON = 1 << 7,
	POLICY_GROWFS_OFF = 1 << 8,
	POLICY_GROWFS_ON = 1 << 9,
	POLICY_READ_ONLY_MASK = POLICY_READ_ONLY_OFF | POLICY_READ_ONLY_ON,
	POLICY_GROWFS_MASK = POLICY_GROWFS_OFF | POLICY_GROWFS_ON,
	POLICY_PFLAGS_MASK = POLICY_READ_ONLY_MASK | POLICY_GROWFS_MASK,
};

struct image_policy {
	unsigned default_flags;
	bool has[DPS_DESIGNATOR_COUNT];
	unsigned flags[DPS_DESIGNATOR_COUNT];
};

/* What systemd-sysext applies to /.extra/sysext in the initrd (image_policy_sysext_strict). */
#define IMAGE_POLICY_SYSEXT_STRICT "root=signed+absent:usr=signed+absent"
/* ... and to /.extra/confext (image_policy_confext_strict). */
#define IMAGE_POLICY_CONFEXT_STRICT "root=signed+absent"

/*
 * Parse @s. 0, or -1 with a one-line reason in @why (an unknown designator
 * or flag, a designator given twice, a rule without '=').
 */
int image_policy_parse(const char *s, struct image_policy *ret, char *why, size_t why_size);

/* The normalized flags for @d, as systemd's image_policy_get_exhaustively(). */
unsigned image_policy_get(const struct image_policy *p, enum dps_designator d);

/* "signed+absent": flags as systemd prints them (simplified: "open", "ignore"), into @buf. */
const char *image_policy_flags_text(unsigned flags, char *buf, size_t size);

#endif
