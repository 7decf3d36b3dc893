/* SPDX-License-Identifier: MIT */
#include "problem.h"

#include <stdarg.h>
#include <stdio.h>

static int record(struct problem *p, enum problem_kind kind, const char *fmt, va_list ap)
{
	p->kind = kind;
	vsnprintf(p->text, sizeof(p->text), fmt, ap);
	/* One line: a name from a hostile image must not start a second one. */
	for (char *c = p->text; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	return -1;
}

int refusef(struct problem *p, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = record(p, PROBLEM_REFUSED, fmt, ap);
	va_end(ap);
	return r;
}

int unsupportedf(struct problem *p, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = record(p, PROBLEM_UNSUPPORTED, fmt, ap);
	va_end(ap);
	return r;
}

int ioerrorf(struct problem *p, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = record(p, PROBLEM_IO, fmt, ap);
	va_end(ap);
	return r;
}
