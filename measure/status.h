/* SPDX-License-Identifier: MIT */
/*
 * status.h - the one status type every measure/ module returns.
 *
 * measure/ is compiled into the EFI stub and into the host tools, so it
 * cannot use EFI_STATUS or errno. Each value names a class of problem; the
 * caller adds the "which file" context when it reports it.
 */
#ifndef MEASURE_STATUS_H
#define MEASURE_STATUS_H

typedef enum {
	MS_OK = 0,
	MS_ERR_TRUNCATED,        /* input ends before a structure it announces */
	MS_ERR_BAD_MAGIC,        /* a signature/magic field has the wrong value */
	MS_ERR_UNSUPPORTED,      /* well-formed, but a variant we do not handle */
	MS_ERR_OUT_OF_BOUNDS,    /* an offset or size points outside the input */
	MS_ERR_OVERLAP,          /* two regions that must be disjoint overlap */
	MS_ERR_LIMIT,            /* a count or size exceeds a named limit */
	MS_ERR_OVERFLOW,         /* arithmetic on untrusted sizes would overflow */
	MS_ERR_NOT_FOUND,        /* the thing asked for is not there */
	MS_ERR_BUFFER_TOO_SMALL, /* caller's output buffer is too small */
	MS_ERR_INVALID,          /* an argument or input value is not acceptable */
} ms_status;

/* A short, static, lower-case English description ("truncated input"). */
const char *ms_strerror(ms_status status);

#endif
