/* SPDX-License-Identifier: MIT */
/*
 * timing.h - where the stub's time goes. A lap clock on the CPU's
 * time-stamp counter (one RDTSC per lap, no firmware call), calibrated once
 * against the firmware's Stall(). Each lap gives the time since the
 * previous one to a named phase (summed when a phase recurs, as read and
 * measure do per file). The totals are written, in microseconds, to the
 * volatile EFI variable SysextStubPhaseUSec (systemd's loader vendor GUID)
 * when the kernel is started and again when it has taken the initrd, as
 * one UTF-16 line: "tsc_khz=2096000 self=812 vars=1403 pcr11=512345 ...".
 * Phases never reached are left out. docs/MEASUREMENTS.md lists them.
 */
#ifndef EFI_LIB_TIMING_H
#define EFI_LIB_TIMING_H

#include <efi.h>

#define TIMING_VARIABLE L"SysextStubPhaseUSec"

enum timing_phase {
	TIMING_SELF,           /* LOADED_IMAGE, own PE headers, the sections we need, our image path */
	TIMING_VARIABLES,      /* StubInfo, StubFeatures, Loader* */
	TIMING_PCR11,          /* the TPM found, the UKI's sections measured */
	TIMING_CMDLINE,        /* chosen, and measured into PCR 12 if passed in */
	TIMING_DIR_LIST,       /* the current directory (timing_dir): opened and listed */
	TIMING_DIR_READ,       /* its files read (and its archive allocated) */
	TIMING_DIR_MEASURE,    /* its files measured into PCR 13 */
	TIMING_SIGNATURES,     /* signature files added and merged (with the end of packing each directory) */
	TIMING_REGISTER,       /* StubPcr* variables, the initrd pieces, LoadFile2 installed */
	TIMING_KERNEL_LOAD,    /* .linux placed: allocation, copy, base relocations */
	TIMING_KERNEL_STUB,    /* our jump into the kernel to its LoadFile2 calls (the kernel's EFI stub) */
	TIMING_INITRD_COPY,    /* LoadFile2: the initrd copied into the kernel's buffer */
	TIMING_INITRD_RELEASE, /* our archives freed */
	TIMING_PHASES
};

/* The extension directories whose list/read/measure phases are kept apart. */
enum timing_dir {
	TIMING_DIR_PER_UKI,
	TIMING_DIR_GLOBAL,
	TIMING_DIRS
};

/*
 * Calibrate the clock and start the first lap; once, at entry. Its state
 * (under 200 bytes) is pool memory; without it, or without a counter that
 * moves, nothing is recorded and nothing is written.
 */
void timing_start(void);

/* Give the time since the previous lap to @phase. */
void timing_lap(enum timing_phase phase);

/* The directory the TIMING_DIR_* phases count for from now on. */
void timing_dir(enum timing_dir dir);

/* Write the totals so far to TIMING_VARIABLE (failure is ignored: it is a diagnostic). */
void timing_export(void);

#endif
