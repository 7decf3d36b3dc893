/* SPDX-License-Identifier: MIT */
#include "dissect.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* systemd's compare_arch(): the native architecture beats its secondary, which beats any other. */
static int compare_arch(int a, int b, int native)
{
	int secondary = dps_arch_secondary(native);

	if (a == b)
		return 0;
	if (a == native)
		return 1;
	if (b == native)
		return -1;
	if (secondary != DPS_ARCH_NONE && a == secondary)
		return 1;
	if (secondary != DPS_ARCH_NONE && b == secondary)
		return -1;
	return 0;
}

/*
 * Version order of two partition labels, for A/B root partitions of one
 * architecture (the newer wins). Runs of digits compare as numbers, other
 * characters as bytes; a subset of systemd's strverscmp_improved() that
 * agrees with it on labels like "root-1.2" and "root-1.10".
 */
static int compare_versions(const char *a, const char *b)
{
	while (*a || *b) {
		if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
			const char *ea = a, *eb = b;

			while (*a == '0')
				a++;
			while (*b == '0')
				b++;
			for (ea = a; isdigit((unsigned char)*ea); ea++)
				;
			for (eb = b; isdigit((unsigned char)*eb); eb++)
				;
			if (ea - a != eb - b)
				return ea - a < eb - b ? -1 : 1;
			for (; a < ea; a++, b++)
				if (*a != *b)
					return *a < *b ? -1 : 1;
			continue;
		}
		if (*a != *b)
			return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
		a++, b++;
	}
	return 0;
}

static bool is_versioned(enum dps_designator d)
{
	return d == DPS_ROOT || d == DPS_USR || dps_data_of(d) >= 0;
}

/* systemd's image_policy_may_use(): 1 use, 0 ignore, -1 refused (the policy says it must be absent). */
static int may_use(const struct image_policy *policy, enum dps_designator d, struct problem *p)
{
	unsigned f = image_policy_get(policy, d) & POLICY_USE_MASK;

	if (f == POLICY_ABSENT)
		return refusef(p, "a %s partition exists, which the policy does not allow", dps_designator_name(d));
	if ((f & ~(unsigned)POLICY_ABSENT) == POLICY_UNUSED)
		return 0;
	return 1;
}

static int check_protection(const struct image_policy *policy, enum dps_designator d, unsigned found,
			    struct problem *p)
{
	unsigned want = image_policy_get(policy, d);
	char a[96], b[96];

	if (found & want)
		return 0;
	return refusef(p, "%s partition is %s, but the policy requires %s", dps_designator_name(d),
		       image_policy_flags_text(found, a, sizeof(a)), image_policy_flags_text(want, b, sizeof(b)));
}

static int check_gpt_flags(const struct image_policy *policy, enum dps_designator d, uint64_t attrs,
			   struct problem *p)
{
	unsigned want = image_policy_get(policy, d);
	bool ro = attrs & GPT_FLAG_READ_ONLY, grow = attrs & GPT_FLAG_GROWFS;

	if ((want & POLICY_READ_ONLY_MASK) == (ro ? POLICY_READ_ONLY_OFF : POLICY_READ_ONLY_ON))
		return refusef(p, "%s partition has the read-only flag %s, the policy wants it %s",
			       dps_designator_name(d), ro ? "set" : "clear", ro ? "clear" : "set");
	if ((want & POLICY_GROWFS_MASK) == (grow ? POLICY_GROWFS_OFF : POLICY_GROWFS_ON))
		return refusef(p, "%s partition has the growfs flag %s, the policy wants it %s", dps_designator_name(d),
			       grow ? "set" : "clear", grow ? "clear" : "set");
	return 0;
}

/* The designator one GPT entry counts as, or -1 to skip it (as dissect_image's per-type rules). */
static int entry_designator(const struct gpt_partition *gp, struct dps_type *t)
{
	*t = dps_type_from_uuid(gp->type_uuid);
	switch (t->designator) {
	case DPS_ESP:
		return gp->attrs & GPT_FLAG_NO_BLOCK_IO ? -1 : DPS_ESP;
	case DPS_VAR:
		/* /var must carry the machine's HMAC-derived UUID, which an offline check cannot know. */
		return -1;
	case DPS_UNKNOWN:
		return -1;
	default:
		return gp->attrs & GPT_FLAG_NO_AUTO ? -1 : (int)t->designator;
	}
}

static int scan_table(const struct gpt_table *t, int arch, const struct image_policy *policy, struct dissection *ds,
		      int *generic, bool *multiple_generic, struct problem *p)
{
	for (size_t i = 0; i < t->n_parts; i++) {
		const struct gpt_partition *gp = &t->parts[i];
		struct dissected_part *dp;
		struct dps_type type;
		int d, r;

		if (gp->out_of_range || (d = entry_designator(gp, &type)) < 0)
			continue;
		if (d == DPS_LINUX_GENERIC) {
			if (*generic >= 0)
				*multiple_generic = true;
			else
				*generic = (int)i;
			continue;
		}
		r = may_use(policy, (enum dps_designator)d, p);
		if (r < 0)
			return -1;
		dp = &ds->part[d];
		if (r == 0) {
			if (!dp->found)
				dp->ignored = true;
			continue;
		}
		if (dp->found) {
			int c = compare_arch(type.arch, dp->arch, arch);

			if (c < 0 || (c == 0 && (!is_versioned((enum dps_designator)d) ||
						 compare_versions(gp->label, dp->label) <= 0)))
				continue;
		}
		*dp = (struct dissected_part){ .found = true, .index = (int)i, .arch = type.arch, .offset = gp->offset,
					       .size = gp->size, .attrs = gp->attrs };
		snprintf(dp->label, sizeof(dp->label), "%s", gp->label);
	}
	return 0;
}

/* The partition combinations dissect_image() refuses before it looks at the policy. */
static int check_combinations(struct dissection *ds, struct problem *p)
{
	const struct dissected_part *P = ds->part;

	for (int data = DPS_ROOT; data <= DPS_USR; data++) {
		const char *n = dps_designator_name((enum dps_designator)data);

		if (!P[data].found && (P[dps_verity_of((enum dps_designator)data)].found ||
				       P[dps_verity_sig_of((enum dps_designator)data)].found))
			return refusef(p, "%s verity partitions without a %s partition", n, n);
		if (P[dps_verity_sig_of((enum dps_designator)data)].found &&
		    !P[dps_verity_of((enum dps_designator)data)].found)
			return refusef(p, "%s verity-sig partition without a %s verity partition", n, n);
	}
	if (P[DPS_ROOT].found && P[DPS_USR].found && P[DPS_ROOT].arch != DPS_ARCH_NONE &&
	    P[DPS_USR].arch != DPS_ARCH_NONE && P[DPS_ROOT].arch != P[DPS_USR].arch)
		return refusef(p, "root (%s) and usr (%s) partitions of different architectures",
			       dps_arch_name(P[DPS_ROOT].arch), dps_arch_name(P[DPS_USR].arch));
	return 0;
}

static int check_policy(const struct dissection *ds, const struct image_policy *policy, struct problem *p)
{
	for (int d = 0; d < DPS_DESIGNATOR_COUNT; d++) {
		const struct dissected_part *dp = &ds->part[d];
		int v = dps_verity_of((enum dps_designator)d), s = dps_verity_sig_of((enum dps_designator)d);
		unsigned found;

		if (dp->found)
			found = v >= 0 && ds->part[v].found ?
					(s >= 0 && ds->part[s].found ? POLICY_SIGNED : POLICY_VERITY) :
					POLICY_ENCRYPTED | POLICY_UNPROTECTED;
		else
			found = dp->ignored ? POLICY_UNUSED : POLICY_ABSENT;
		if (check_protection(policy, (enum dps_designator)d, found, p) < 0)
			return -1;
		if (dp->found && check_gpt_flags(policy, (enum dps_designator)d, dp->attrs, p) < 0)
			return -1;
	}
	return 0;
}

static int dissect_bare(uint64_t size, const struct image_policy *policy, struct dissection *ds, const char **check,
			struct problem *p)
{
	int r;

	*check = "image-policy";
	r = may_use(policy, DPS_ROOT, p);
	if (r < 0)
		return -1;
	if (r == 0)
		return refusef(p, "the image is a bare file system, and the policy ignores root partitions");
	/* No verity data comes with a file in /.extra: the file system is used unprotected. */
	if (check_protection(policy, DPS_ROOT, POLICY_UNPROTECTED, p) < 0 ||
	    check_gpt_flags(policy, DPS_ROOT, 0, p) < 0)
		return -1;
	ds->bare = true;
	ds->part[DPS_ROOT] = (struct dissected_part){ .found = true, .index = -1, .arch = DPS_ARCH_NONE, .size = size };
	return 0;
}

int dissect(const struct gpt_table *t, uint64_t bare_size, int arch, const struct image_policy *policy,
	    struct dissection *ret, const char **check, struct problem *p)
{
	struct dissected_part *P = ret->part;
	bool multiple_generic = false;
	int generic = -1;

	memset(ret, 0, sizeof(*ret));
	ret->verity_for = -1;
	for (int d = 0; d < DPS_DESIGNATOR_COUNT; d++)
		P[d].index = -1, P[d].arch = DPS_ARCH_NONE;
	if (!t)
		return dissect_bare(bare_size, policy, ret, check, p);

	*check = "image-policy";
	if (scan_table(t, arch, policy, ret, &generic, &multiple_generic, p) < 0)
		return -1;
	*check = "partitions";
	if (check_combinations(ret, p) < 0)
		return -1;
	if (!P[DPS_ROOT].found && !P[DPS_USR].found) {
		int r;

		if (multiple_generic)
			return refusef(p, "no root or usr partition, and more than one generic Linux partition");
		if (generic >= 0) {
			*check = "image-policy";
			r = may_use(policy, DPS_ROOT, p);
			if (r < 0)
				return -1;
			*check = "partitions";
			if (r == 0)
				P[DPS_ROOT].ignored = true;
			else
				P[DPS_ROOT] = (struct dissected_part){ .found = true, .index = generic,
								       .arch = DPS_ARCH_NONE,
								       .offset = t->parts[generic].offset,
								       .size = t->parts[generic].size,
								       .attrs = t->parts[generic].attrs };
		}
	}
	if (!P[DPS_ROOT].found && !P[DPS_USR].found)
		return refusef(p, "no root or usr partition for any architecture");
	if (P[DPS_ROOT_VERITY].found && P[DPS_USR_VERITY].found)
		return refusef(p, "verity partitions for both root and usr");
	if (P[DPS_ROOT_VERITY].found && P[DPS_USR].found)
		return refusef(p, "a root partition with verity and a separate usr partition");
	/* A signature partition makes verity ready; without one no root hash is known (systemd mounts without verity). */
	if (P[DPS_USR_VERITY_SIG].found)
		ret->verity_for = DPS_USR;
	else if (P[DPS_ROOT_VERITY_SIG].found)
		ret->verity_for = DPS_ROOT;
	*check = "image-policy";
	return check_policy(ret, policy, p);
}

int dissect_check_encryption(const struct dissection *ds, const bool encrypted[DPS_DESIGNATOR_COUNT],
			     const struct image_policy *policy, struct problem *p)
{
	for (int d = 0; d < DPS_DESIGNATOR_COUNT; d++) {
		unsigned found = encrypted[d] ? POLICY_ENCRYPTED : POLICY_UNPROTECTED | POLICY_VERITY | POLICY_SIGNED;

		if (ds->part[d].found && check_protection(policy, (enum dps_designator)d, found, p) < 0)
			return -1;
	}
	return 0;
}

const char *dissect_part_name(const struct dissection *ds, enum dps_designator d, char *buf, unsigned size)
{
	struct dps_type t = { d, ds->part[d].arch };

	return dps_type_name(t, buf, size);
}
