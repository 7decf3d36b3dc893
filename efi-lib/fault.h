/* SPDX-License-Identifier: MIT */
/*
 * fault.h - fault injection for the boot tests of failure paths OVMF
 * cannot produce on its own (a failing TPM call, a full event log, a read
 * error, an allocation failure).
 *
 * Only a stub built with -DSYSEXT_STUB_FAULT=1 (make build/fault/...) has
 * it: there, a fault fires for an extension whose file name contains the
 * fault's marker, e.g. "b-fault-measure.sysext.raw"; the PCR 11 and 12
 * faults fire for a UKI section or a passed-in command line that contains
 * theirs. Release builds
 * compile every check to a constant FALSE; `make measure-check` verifies
 * that no marker string is left in the release binary.
 */
#ifndef EFI_LIB_FAULT_H
#define EFI_LIB_FAULT_H

#include <efi.h>

#define FAULT_READ "fault-read"         /* reading the file fails */
#define FAULT_MEASURE "fault-measure"   /* measuring its content fails */
#define FAULT_LOG_FULL "fault-logfull"  /* the TPM reports EFI_VOLUME_FULL */
#define FAULT_SHRINK "fault-shrink"   /* the file ends halfway through reading it */
#define FAULT_ALLOC "fault-alloc"       /* allocating its directory's archive fails while it is planned in */
#define FAULT_PCR11 "fault-pcr11"       /* measuring the content of a UKI section (<= 64 KiB) holding it fails */
#define FAULT_PCR12 "fault-pcr12"       /* measuring a passed-in command line holding it fails */

/* The PCR 11 fault looks only into sections this small (.osrel, .cmdline, .uname; not .linux). */
#define FAULT_SECTION_SCAN_MAX (64 * 1024)

#if defined(SYSEXT_STUB_FAULT) && SYSEXT_STUB_FAULT
/* Whether ASCII @name contains @marker. */
static inline BOOLEAN fault_hit(const char *name, const char *marker)
{
	for (; *name; name++) {
		UINTN i = 0;

		while (marker[i] && name[i] == marker[i])
			i++;
		if (!marker[i])
			return TRUE;
	}
	return FALSE;
}

/* Whether the @size bytes at @data contain ASCII @marker. */
static inline BOOLEAN fault_hit_mem(const void *data, UINTN size, const char *marker)
{
	const UINT8 *p = data;

	for (UINTN at = 0; at < size; at++) {
		UINTN i = 0;

		while (marker[i] && at + i < size && p[at + i] == (UINT8)marker[i])
			i++;
		if (!marker[i])
			return TRUE;
	}
	return FALSE;
}

/* The same for a UTF-16 @name (event descriptions). */
static inline BOOLEAN fault_hit16(const CHAR16 *name, const char *marker)
{
	for (; *name; name++) {
		UINTN i = 0;

		while (marker[i] && name[i] == (CHAR16)marker[i])
			i++;
		if (!marker[i])
			return TRUE;
	}
	return FALSE;
}
#else
static inline BOOLEAN fault_hit(const char *name, const char *marker)
{
	(void)name;
	(void)marker;
	return FALSE;
}

static inline BOOLEAN fault_hit_mem(const void *data, UINTN size, const char *marker)
{
	(void)data;
	(void)size;
	(void)marker;
	return FALSE;
}

static inline BOOLEAN fault_hit16(const CHAR16 *name, const char *marker)
{
	(void)name;
	(void)marker;
	return FALSE;
}
#endif

#endif
