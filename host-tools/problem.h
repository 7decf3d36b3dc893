/* SPDX-License-Identifier: MIT */
/*
 * problem.h - why an image check failed, as one line of text plus its kind.
 *
 * The image readers (GPT, dm-verity, verity-sig, erofs, squashfs, release
 * files) never print: they fill a struct problem and return -1, and the
 * `validate` command names the check and the image around it. The kind
 * decides the verdict: an image that is malformed, truncated or fails a
 * rule is refused (exit 1); an image we cannot judge (a read error, a
 * format variant no reader here handles) is an error (exit 2).
 */
#ifndef HOST_TOOLS_PROBLEM_H
#define HOST_TOOLS_PROBLEM_H

#include <stddef.h>

#define PROBLEM_TEXT_MAX 256

enum problem_kind {
	PROBLEM_NONE = 0,
	PROBLEM_REFUSED,     /* the image breaks a rule: systemd would not use it */
	PROBLEM_UNSUPPORTED, /* valid maybe, but a variant we cannot check */
	PROBLEM_IO,          /* reading failed (the input, not the image, is at fault) */
};

struct problem {
	enum problem_kind kind;
	char text[PROBLEM_TEXT_MAX];
};

/* Record a refusal (printf format, one line). Returns -1, for `return refusef(p, ...)`. */
int refusef(struct problem *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The same for a variant we do not handle. Returns -1. */
int unsupportedf(struct problem *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The same for a read error. Returns -1. */
int ioerrorf(struct problem *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
