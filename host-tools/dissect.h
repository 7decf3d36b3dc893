/* SPDX-License-Identifier: MIT */
/*
 * dissect.h - which partitions of an image systemd would use, and whether
 * the image policy allows it: systemd's dissect_image() (src/shared/
 * dissect-image.c, v257; v262 the same for these rules) with the flags
 * systemd-sysext passes (GENERIC_ROOT, REQUIRE_ROOT, USR_NO_ROOT) and
 * verity settings without a root hash (none comes with an image in
 * /.extra), so the root hash comes from the verity-sig partition.
 *
 * Pure: the partition table and the file system types come in, a verdict
 * and the chosen partitions come out.
 */
#ifndef HOST_TOOLS_DISSECT_H
#define HOST_TOOLS_DISSECT_H

#include <stdbool.h>
#include <stdint.h>

#include "dps.h"
#include "gpt.h"
#include "image-policy.h"
#include "problem.h"

struct dissected_part {
	bool found;
	bool ignored;  /* there, but the policy says "unused" */
	int index;     /* into gpt_table.parts; -1 for a bare file system (the whole image) */
	int arch;      /* DPS_ARCH_NONE when the type has none */
	uint64_t offset, size, attrs;
	char label[GPT_LABEL_MAX * 3 + 1];
};

struct dissection {
	struct dissected_part part[DPS_DESIGNATOR_COUNT];
	bool bare;      /* no partition table: one file system, taken as root */
	int verity_for; /* DPS_ROOT or DPS_USR: the data partition a verity-sig partition signs; -1: none */
};

/*
 * Dissect @t (NULL: a bare file system of @bare_size bytes) for an image
 * of architecture preference @arch (native; its secondary next) under
 * @policy. 0, or -1 with the refusal in @p and *@check set to
 * "partitions" (the table does not make a usable image) or "image-policy".
 */
int dissect(const struct gpt_table *t, uint64_t bare_size, int arch, const struct image_policy *policy,
	    struct dissection *ret, const char **check, struct problem *p);

/*
 * After probing the file system of every used partition: the policy
 * check systemd repeats once it knows which are LUKS-encrypted.
 * @encrypted[d]: partition d holds a LUKS header. 0 or -1 as dissect().
 */
int dissect_check_encryption(const struct dissection *d, const bool encrypted[DPS_DESIGNATOR_COUNT],
			     const struct image_policy *policy, struct problem *p);

/* The partition table name of designator @d in @ds, e.g. "root-x86-64", into @buf. */
const char *dissect_part_name(const struct dissection *ds, enum dps_designator d, char *buf, unsigned size);

#endif
