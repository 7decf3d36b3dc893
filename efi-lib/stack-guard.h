/* SPDX-License-Identifier: MIT */
/*
 * stack-guard.h - runtime support for -fstack-protector with a global
 * canary (-mstack-protector-guard=global: UEFI has no TLS for %fs:0x28).
 */
#ifndef EFI_LIB_STACK_GUARD_H
#define EFI_LIB_STACK_GUARD_H

#include <efi.h>

/*
 * Seed the canary from EFI_RNG_PROTOCOL (falling back to the TSC) and
 * remember @image for a clean Exit() on a smashed stack. Call first thing
 * from an entry point built without stack protection: changing the canary
 * while a protected frame is live would trip its check.
 */
void stack_guard_init(EFI_HANDLE image);

#endif
