/* SPDX-License-Identifier: MIT */
/*
 * fuzz-gpt.c - libFuzzer target for the partition side of `validate`: the
 * GPT reader (host-tools/gpt.c), the image policy parser
 * (host-tools/image-policy.c) and the dissection rules
 * (host-tools/dissect.c).
 *
 * Input: byte 0 = length L of a policy string, the next L bytes the policy,
 * the rest the disk image. Invariants: a table that reads has its sector
 * size probed as systemd does, every partition it uses lies inside the
 * image on sector boundaries; a refusal is one line of text; a dissection
 * that succeeds found a root or usr partition, allowed by the policy, and
 * names a verity-signed data partition only with its verity and signature
 * partitions. A policy that parses gives every designator flags that use
 * something, and prints.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host-tools/dissect.h"
#include "host-tools/gpt.h"
#include "host-tools/image-policy.h"

#define CHECK(cond)                                                                            \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "fuzz-gpt: %s:%d: invariant failed: %s\n", __FILE__,  \
				__LINE__, #cond);                                              \
			abort();                                                               \
		}                                                                              \
	} while (0)

static void check_problem(const struct problem *p)
{
	CHECK(p->kind != PROBLEM_NONE);
	CHECK(memchr(p->text, 0, sizeof(p->text)) && strlen(p->text) > 0 && !strchr(p->text, '\n'));
}

static void check_table(const struct gpt_table *t, uint64_t size)
{
	CHECK(t->sector_size >= 512 && t->sector_size <= 4096 && (t->sector_size & (t->sector_size - 1)) == 0);
	for (size_t i = 0; i < t->n_parts; i++) {
		const struct gpt_partition *gp = &t->parts[i];

		CHECK(gp->number >= 1 && strlen(gp->type_uuid) == 36 && strlen(gp->uuid) == 36);
		if (gp->out_of_range)
			continue;
		CHECK(gp->offset % t->sector_size == 0 && gp->size % t->sector_size == 0 && gp->size > 0);
		CHECK(gp->offset <= size && gp->size <= size - gp->offset);
		for (const char *c = gp->label; *c; c++)
			CHECK(*c >= 0x20 && *c < 0x7f);
	}
}

static void check_dissection(const struct dissection *ds, const struct image_policy *pol, uint64_t size)
{
	CHECK(ds->part[DPS_ROOT].found || ds->part[DPS_USR].found);
	for (int d = 0; d < DPS_DESIGNATOR_COUNT; d++) {
		const struct dissected_part *dp = &ds->part[d];

		if (!dp->found)
			continue;
		CHECK(dp->offset <= size && dp->size <= size - dp->offset);
		CHECK((image_policy_get(pol, (enum dps_designator)d) & POLICY_USE_MASK) != POLICY_ABSENT);
	}
	if (ds->verity_for >= 0) {
		CHECK(ds->verity_for == DPS_ROOT || ds->verity_for == DPS_USR);
		CHECK(ds->part[ds->verity_for].found && ds->part[dps_verity_of(ds->verity_for)].found &&
		      ds->part[dps_verity_sig_of(ds->verity_for)].found);
	}
}

static void check_policy(const struct image_policy *pol)
{
	char text[128];

	for (int d = 0; d < DPS_DESIGNATOR_COUNT; d++) {
		unsigned f = image_policy_get(pol, (enum dps_designator)d);

		CHECK(f != 0 && f < (1u << 10));
		CHECK(strlen(image_policy_flags_text(f, text, sizeof(text))) < sizeof(text));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image_policy pol;
	struct byte_source src;
	struct gpt_table t;
	struct dissection ds;
	struct problem p = { 0 };
	const char *check = NULL;
	char policy[256], why[128];
	size_t plen;
	int r;

	if (size < 1)
		return 0;
	plen = data[0] < size - 1 ? data[0] : size - 1;
	memcpy(policy, data + 1, plen);
	policy[plen] = 0;
	if (image_policy_parse(policy, &pol, why, sizeof(why)) < 0) {
		CHECK(strlen(why) > 0);
		CHECK(image_policy_parse(IMAGE_POLICY_SYSEXT_STRICT, &pol, why, sizeof(why)) == 0);
	}
	check_policy(&pol);
	src = bsrc_memory(data + 1 + plen, size - 1 - plen);
	r = gpt_read(&src, &t, &p);
	if (r < 0) {
		check_problem(&p);
		return 0;
	}
	if (r == 1)
		check_table(&t, src.size);
	memset(&p, 0, sizeof(p));
	if (dissect(r == 1 ? &t : NULL, src.size, dps_arch_native(), &pol, &ds, &check, &p) == 0)
		check_dissection(&ds, &pol, src.size);
	else {
		check_problem(&p);
		CHECK(check && (!strcmp(check, "partitions") || !strcmp(check, "image-policy")));
	}
	gpt_free(&t);
	return 0;
}
