/* SPDX-License-Identifier: MIT */
#include "stack-guard.h"

#include <efilib.h>

/* Non-zero constant until seeded, so an early smash is still caught. */
UINTN __stack_chk_guard = (UINTN)0x5d1a6c27e3b48f09ULL;
static EFI_HANDLE guarded_image;

__attribute__((noreturn)) void __stack_chk_fail(void);
__attribute__((noreturn)) void __stack_chk_fail(void)
{
	Print(L"sysext-stub: error: stack corruption detected, exiting\n");
	if (guarded_image)
		BS->Exit(guarded_image, EFI_SECURITY_VIOLATION, 0, NULL);
	/* Exit() does not return; if the firmware misbehaves, stop here. */
	for (;;)
		__asm__ volatile("hlt");
}

static UINT64 read_tsc(void)
{
	UINT32 lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (UINT64)hi << 32 | lo;
}

__attribute__((no_stack_protector)) void stack_guard_init(EFI_HANDLE image)
{
	EFI_GUID rng_guid = EFI_RNG_PROTOCOL_GUID;
	EFI_RNG_PROTOCOL *rng = NULL;
	UINTN seed = 0;

	guarded_image = image;
	if (!EFI_ERROR(BS->LocateProtocol(&rng_guid, NULL, (void **)&rng)) && rng)
		(void)rng->GetRNG(rng, NULL, sizeof(seed), (UINT8 *)&seed);
	seed ^= (UINTN)read_tsc() * 0x9e3779b97f4a7c15ULL;
	/* Keep a zero byte at the bottom: string overflows cannot forge it. */
	__stack_chk_guard = seed & ~(UINTN)0xff;
}
