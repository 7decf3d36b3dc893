/* SPDX-License-Identifier: MIT */
#include "timing.h"

#include <efilib.h>

#include "vars.h"

/* Calibration: spans long enough for a per cent, few enough not to show. */
#define CALIBRATE_USEC 1000
#define CALIBRATE_SPANS 3
#define LINE_MAX 640

/* The TIMING_DIR_* phases, each kept per directory. */
#define DIR_PHASES (TIMING_DIR_MEASURE - TIMING_DIR_LIST + 1)

static const char *const phase_names[TIMING_PHASES] = {
	[TIMING_SELF] = "self",
	[TIMING_VARIABLES] = "vars",
	[TIMING_PCR11] = "pcr11",
	[TIMING_CMDLINE] = "cmdline",
	[TIMING_DIR_LIST] = "list",
	[TIMING_DIR_READ] = "read",
	[TIMING_DIR_MEASURE] = "measure",
	[TIMING_SIGNATURES] = "signatures",
	[TIMING_REGISTER] = "register",
	[TIMING_KERNEL_LOAD] = "kernel_load",
	[TIMING_KERNEL_STUB] = "kernel_stub",
	[TIMING_INITRD_COPY] = "initrd_copy",
	[TIMING_INITRD_RELEASE] = "initrd_release",
};

/* Prefixes of the per-directory phases, after the initrd directory each fills. */
static const char *const dir_names[TIMING_DIRS] = {
	[TIMING_DIR_PER_UKI] = "sysext_",
	[TIMING_DIR_GLOBAL] = "global_sysext_",
};

static struct {
	UINT64 ticks_per_ms; /* 0: no usable clock, nothing is recorded */
	UINT64 last;
	enum timing_dir dir;
	UINT64 ticks[TIMING_PHASES];
	UINT64 dir_ticks[TIMING_DIRS][DIR_PHASES];
	BOOLEAN seen[TIMING_PHASES];
	BOOLEAN dir_seen[TIMING_DIRS][DIR_PHASES];
} clock;

static UINT64 read_tsc(void)
{
#if defined(__x86_64__)
	UINT32 lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((UINT64)hi << 32) | lo;
#else
	return 0;
#endif
}

/*
 * Stall() never returns early, but the CPU (a vCPU on a busy host) can be
 * taken away around it, which only makes a span look longer: the shortest
 * of a few spans is the best estimate.
 */
void timing_start(void)
{
	UINT64 best = 0;

	BS->Stall(1); /* the first call pays for anything the firmware does once */
	for (UINTN i = 0; i < CALIBRATE_SPANS; i++) {
		UINT64 t0 = read_tsc(), ticks;

		BS->Stall(CALIBRATE_USEC);
		ticks = read_tsc() - t0;
		if (best == 0 || ticks < best)
			best = ticks;
	}
	clock.ticks_per_ms = best * 1000 / CALIBRATE_USEC;
	clock.last = read_tsc();
}

void timing_lap(enum timing_phase phase)
{
	UINT64 now, delta;

	if (clock.ticks_per_ms == 0 || phase >= TIMING_PHASES)
		return;
	now = read_tsc();
	delta = now - clock.last;
	clock.last = now;
	if (phase >= TIMING_DIR_LIST && phase <= TIMING_DIR_MEASURE) {
		clock.dir_ticks[clock.dir][phase - TIMING_DIR_LIST] += delta;
		clock.dir_seen[clock.dir][phase - TIMING_DIR_LIST] = TRUE;
		return;
	}
	clock.ticks[phase] += delta;
	clock.seen[phase] = TRUE;
}

void timing_dir(enum timing_dir dir)
{
	if (dir < TIMING_DIRS)
		clock.dir = dir;
}

static UINT64 usec(UINT64 ticks)
{
	return ticks * 1000 / clock.ticks_per_ms;
}

/* Append " <prefix><name>=<usec>" to @line at *@len. */
static void put(CHAR16 *line, UINTN *len, const char *prefix, const char *name, UINT64 ticks)
{
	*len += SPrint(line + *len, (LINE_MAX - *len) * sizeof(CHAR16), L" %a%a=%lu", prefix, name, usec(ticks));
}

void timing_export(void)
{
	CHAR16 line[LINE_MAX];
	UINTN len;

	if (clock.ticks_per_ms == 0)
		return;
	len = SPrint(line, sizeof(line), L"tsc_khz=%lu", clock.ticks_per_ms);
	for (UINTN p = 0; p < TIMING_PHASES; p++) {
		if (p >= TIMING_DIR_LIST && p <= TIMING_DIR_MEASURE) {
			if (p != TIMING_DIR_LIST)
				continue;
			/* The directories' phases, in directory order, where the list phase stands. */
			for (UINTN d = 0; d < TIMING_DIRS; d++)
				for (UINTN k = 0; k < DIR_PHASES; k++)
					if (clock.dir_seen[d][k])
						put(line, &len, dir_names[d], phase_names[TIMING_DIR_LIST + k],
						    clock.dir_ticks[d][k]);
			continue;
		}
		if (clock.seen[p])
			put(line, &len, "", phase_names[p], clock.ticks[p]);
	}
	(void)loader_var_set_str(TIMING_VARIABLE, line);
}
