/* SPDX-License-Identifier: MIT */
#include "timing.h"

#include <efilib.h>

#include "mem.h"
#include "vars.h"

/* Calibration: spans long enough for a per cent, few enough not to show. */
#define CALIBRATE_USEC 1000
#define CALIBRATE_SPANS 3
#define LINE_MAX 640

/* The directory phases are kept per directory: their slots follow each other. */
#define DIR_PHASES (TIMING_DIR_MEASURE - TIMING_DIR_LIST + 1)
#define SLOTS (TIMING_PHASES + (TIMING_DIRS - 1) * DIR_PHASES)
_Static_assert(SLOTS <= 32, "one bit of clock->seen per slot");

/*
 * Names in enum order, one word each, in one string: no table of pointers
 * (each needs a relocation), since the stub must stay below 128 KiB for
 * UKIs glued with objcopy at the classic addresses (.osrel at 0x20000).
 */
static const char phase_names[] = "self vars pcr11 cmdline list read measure signatures register kernel_load "
				  "kernel_stub initrd_copy initrd_release";
/* The directory phases' prefixes, after the initrd directory each fills. */
static const char dir_prefixes[] = "sysext_ global_sysext_";

/* Pool memory, not a static: the image's data section has no room to spare either. */
static struct clock {
	UINT64 ticks_per_ms;
	UINT64 last;
	UINT32 dir;
	UINT32 seen; /* bit per slot */
	UINT64 ticks[SLOTS];
} *clock; /* NULL: no clock (no memory, or no usable counter), nothing is recorded */

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

	clock = mem_alloc_zero(sizeof(*clock));
	if (!clock)
		return;
	BS->Stall(1); /* the first call pays for anything the firmware does once */
	for (UINTN i = 0; i < CALIBRATE_SPANS; i++) {
		UINT64 t0 = read_tsc(), ticks;

		BS->Stall(CALIBRATE_USEC);
		ticks = read_tsc() - t0;
		if (best == 0 || ticks < best)
			best = ticks;
	}
	clock->ticks_per_ms = best * 1000 / CALIBRATE_USEC;
	clock->last = read_tsc();
	if (clock->ticks_per_ms == 0) {
		mem_free(clock);
		clock = NULL;
	}
}

static UINTN slot_of(UINTN phase, UINTN dir)
{
	if (phase < TIMING_DIR_LIST)
		return phase;
	if (phase <= TIMING_DIR_MEASURE)
		return TIMING_DIR_LIST + dir * DIR_PHASES + (phase - TIMING_DIR_LIST);
	return phase + (TIMING_DIRS - 1) * DIR_PHASES;
}

void timing_lap(enum timing_phase phase)
{
	UINT64 now;
	UINTN slot;

	if (!clock || phase >= TIMING_PHASES)
		return;
	now = read_tsc();
	slot = slot_of(phase, clock->dir);
	clock->ticks[slot] += now - clock->last;
	clock->seen |= 1U << slot;
	clock->last = now;
}

void timing_dir(enum timing_dir dir)
{
	if (clock && dir < TIMING_DIRS)
		clock->dir = dir;
}

/* Copy the @index-th space-separated word of @words into @out (at least 24 bytes). */
static void word(const char *words, UINTN index, char *out)
{
	UINTN n = 0;

	for (; index > 0; words++)
		if (*words == ' ')
			index--;
	for (; words[n] && words[n] != ' ' && n < 23; n++)
		out[n] = words[n];
	out[n] = 0;
}

/* Append " <prefix><name>=<usec>" for @slot to @line at *@len, if the slot was lapped. */
static void put(CHAR16 *line, UINTN *len, UINTN slot, UINTN phase, UINTN dir)
{
	char prefix[24] = "", name[24];

	if (!(clock->seen & (1U << slot)))
		return;
	if (phase >= TIMING_DIR_LIST && phase <= TIMING_DIR_MEASURE)
		word(dir_prefixes, dir, prefix);
	word(phase_names, phase, name);
	*len += SPrint(line + *len, (LINE_MAX - *len) * sizeof(CHAR16), L" %a%a=%lu", prefix, name,
		       clock->ticks[slot] * 1000 / clock->ticks_per_ms);
}

void timing_export(void)
{
	CHAR16 line[LINE_MAX];
	UINTN len;

	if (!clock)
		return;
	len = SPrint(line, sizeof(line), L"tsc_khz=%lu", clock->ticks_per_ms);
	for (UINTN phase = 0; phase < TIMING_PHASES; phase++) {
		if (phase == TIMING_DIR_LIST) {
			/* The directories' phases, in directory order, where the list phase stands. */
			for (UINTN dir = 0; dir < TIMING_DIRS; dir++)
				for (UINTN k = 0; k < DIR_PHASES; k++)
					put(line, &len, slot_of(TIMING_DIR_LIST + k, dir), TIMING_DIR_LIST + k, dir);
			phase = TIMING_DIR_MEASURE;
			continue;
		}
		put(line, &len, slot_of(phase, 0), phase, 0);
	}
	(void)loader_var_set_str(TIMING_VARIABLE, line);
}
