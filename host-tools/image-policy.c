/* SPDX-License-Identifier: MIT */
#include "image-policy.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	unsigned flags;
} flag_names[] = {
	{ "verity", POLICY_VERITY },
	{ "signed", POLICY_SIGNED },
	{ "encrypted", POLICY_ENCRYPTED },
	{ "unprotected", POLICY_UNPROTECTED },
	{ "unused", POLICY_UNUSED },
	{ "absent", POLICY_ABSENT },
	{ "open", POLICY_OPEN },
	{ "ignore", POLICY_IGNORE },
	{ "read-only-on", POLICY_READ_ONLY_ON },
	{ "read-only-off", POLICY_READ_ONLY_OFF },
	{ "growfs-on", POLICY_GROWFS_ON },
	{ "growfs-off", POLICY_GROWFS_OFF },
};

/* [s, e) without leading and trailing whitespace, as systemd's strstrip(). */
static void strip(const char **s, const char **e)
{
	while (*s < *e && strchr(" \t\n\r", **s))
		(*s)++;
	while (*e > *s && strchr(" \t\n\r", (*e)[-1]))
		(*e)--;
}

static bool span_is(const char *s, const char *e, const char *word)
{
	return (size_t)(e - s) == strlen(word) && memcmp(s, word, (size_t)(e - s)) == 0;
}

static int parse_flags(const char *s, const char *e, unsigned *ret, char *why, size_t why_size)
{
	unsigned flags = 0;

	strip(&s, &e);
	if (s == e || span_is(s, e, "-")) {
		*ret = 0;
		return 0;
	}
	for (;;) {
		const char *plus = memchr(s, '+', (size_t)(e - s)), *w = s, *we = plus ? plus : e;
		size_t i;

		strip(&w, &we);
		for (i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
			if (span_is(w, we, flag_names[i].name))
				break;
		if (i == sizeof(flag_names) / sizeof(flag_names[0])) {
			snprintf(why, why_size, "unknown partition policy flag '%.*s'", (int)(we - w), w);
			return -1;
		}
		flags |= flag_names[i].flags;
		if (!plus)
			break;
		s = plus + 1;
	}
	*ret = flags;
	return 0;
}

int image_policy_parse(const char *s, struct image_policy *ret, char *why, size_t why_size)
{
	bool default_given = false;
	const char *q = s;

	memset(ret, 0, sizeof(*ret));
	ret->default_flags = POLICY_IGNORE;
	if (strcmp(s, "") == 0 || strcmp(s, "-") == 0)
		return 0; /* everything may exist, nothing is used */
	if (strcmp(s, "*") == 0) {
		ret->default_flags = POLICY_OPEN;
		return 0;
	}
	if (strcmp(s, "~") == 0) {
		ret->default_flags = POLICY_ABSENT;
		return 0;
	}
	for (;;) {
		const char *end = strchr(q, ':'), *eq, *ds, *de;
		unsigned flags;

		if (!end)
			end = q + strlen(q);
		eq = memchr(q, '=', (size_t)(end - q));
		if (!eq) {
			snprintf(why, why_size, "'%.*s' is not DESIGNATOR=FLAGS", (int)(end - q), q);
			return -1;
		}
		ds = q, de = eq;
		strip(&ds, &de);
		if (parse_flags(eq + 1, end, &flags, why, why_size) < 0)
			return -1;
		if (ds == de) {
			if (default_given) {
				snprintf(why, why_size, "the default rule is given twice");
				return -1;
			}
			default_given = true;
			ret->default_flags = flags;
		} else {
			char name[32];
			int d;

			snprintf(name, sizeof(name), "%.*s", (int)(de - ds), ds);
			d = (size_t)(de - ds) < sizeof(name) ? dps_designator_from_name(name) : -1;
			if (d < 0) {
				snprintf(why, why_size, "unknown partition designator '%.*s'", (int)(de - ds), ds);
				return -1;
			}
			if (ret->has[d]) {
				snprintf(why, why_size, "partition designator '%s' is given twice", name);
				return -1;
			}
			ret->has[d] = true;
			ret->flags[d] = flags;
		}
		if (!*end)
			return 0;
		q = end + 1;
	}
}

/* systemd's partition_policy_normalized_flags(): fill in what was left unsaid, mask what cannot apply. */
static unsigned normalized(unsigned flags, enum dps_designator d)
{
	if ((flags & POLICY_USE_MASK) == 0)
		flags |= POLICY_OPEN;
	if ((flags & POLICY_READ_ONLY_MASK) == 0)
		flags |= POLICY_READ_ONLY_MASK;
	if ((flags & POLICY_GROWFS_MASK) == 0)
		flags |= POLICY_GROWFS_MASK;
	/* A verity or signature partition is the protection: it needs none of its own. */
	if (dps_data_of(d) >= 0)
		flags &= ~(unsigned)(POLICY_VERITY | POLICY_SIGNED | POLICY_ENCRYPTED);
	if (dps_verity_of(d) < 0)
		flags &= ~(unsigned)(POLICY_VERITY | POLICY_SIGNED);
	if ((flags & POLICY_USE_MASK) == POLICY_ABSENT)
		flags &= ~(unsigned)POLICY_PFLAGS_MASK;
	return flags;
}

/* systemd's image_policy_get(): 0 when there is no rule for @d, explicit or derived. */
static unsigned get_explicit(const struct image_policy *p, enum dps_designator d)
{
	int data = dps_data_of(d);
	unsigned data_flags;

	if (p->has[d])
		return normalized(p->flags[d], d);
	if (data < 0)
		return 0;
	data_flags = get_explicit(p, (enum dps_designator)data);
	if (!data_flags)
		return 0;
	/* verity needs the data partition to want verity; a signature, to want signed */
	if (d == DPS_ROOT_VERITY || d == DPS_USR_VERITY) {
		if (!(data_flags & (POLICY_SIGNED | POLICY_VERITY)))
			return 0;
	} else if (!(data_flags & POLICY_SIGNED)) {
		return 0;
	}
	return normalized(POLICY_UNPROTECTED | (data_flags & (POLICY_UNUSED | POLICY_ABSENT)) |
				  (data_flags & POLICY_PFLAGS_MASK),
			  d);
}

unsigned image_policy_get(const struct image_policy *p, enum dps_designator d)
{
	unsigned f = get_explicit(p, d);

	return f ? f : normalized(p->default_flags, d);
}

const char *image_policy_flags_text(unsigned flags, char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = 0;
	if ((flags & POLICY_USE_MASK) == POLICY_OPEN) {
		o += (size_t)snprintf(buf, size, "open");
	} else if ((flags & POLICY_USE_MASK) == POLICY_IGNORE) {
		o += (size_t)snprintf(buf, size, "ignore");
	} else {
		for (size_t i = 0; i < 6; i++)
			if (flags & flag_names[i].flags && o < size)
				o += (size_t)snprintf(buf + o, size - o, "%s%s", o ? "+" : "", flag_names[i].name);
	}
	if ((flags & POLICY_READ_ONLY_MASK) != POLICY_READ_ONLY_MASK)
		for (size_t i = 8; i < 10; i++)
			if (flags & flag_names[i].flags && o < size)
				o += (size_t)snprintf(buf + o, size - o, "%s%s", o ? "+" : "", flag_names[i].name);
	if ((flags & POLICY_GROWFS_MASK) != POLICY_GROWFS_MASK)
		for (size_t i = 10; i < 12; i++)
			if (flags & flag_names[i].flags && o < size)
				o += (size_t)snprintf(buf + o, size - o, "%s%s", o ? "+" : "", flag_names[i].name);
	return buf;
}
