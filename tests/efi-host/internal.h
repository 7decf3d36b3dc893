/* SPDX-License-Identifier: MIT */
/* internal.h - what the parts of tests/efi-host share: resets (efi_host_reset) and array growth. */
#ifndef TESTS_EFI_HOST_INTERNAL_H
#define TESTS_EFI_HOST_INTERNAL_H

void efi_host_log_reset(void);
void efi_host_memory_reset(void);
void efi_host_protocols_reset(void);
void efi_host_violations_reset(void);

#include <stddef.h>

/* Room for element @n in the realloc()ed *@array of *@cap elements of @size bytes (aborts without memory). */
void efi_host_reserve(void *array, size_t *cap, size_t n, size_t size);

#endif
