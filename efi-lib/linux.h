/* SPDX-License-Identifier: MIT */
/* linux.h - start the embedded kernel image. */
#ifndef EFI_LIB_LINUX_H
#define EFI_LIB_LINUX_H

#include <efi.h>

/*
 * Load the PE kernel at @kernel/@size (the UKI's .linux) into fresh
 * EfiLoaderCode pages, give it @cmdline (UTF-16, may be NULL) as
 * LoadOptions and call its entry point with our own @image handle. No
 * LoadImage: no second signature check (the UKI's covers .linux, also under
 * Secure Boot) and no firmware PCR 4 event for the inner kernel (PCR 11
 * holds .linux). Returns only if the kernel could not be loaded or
 * returned; its pages are freed then.
 */
EFI_STATUS linux_start(EFI_HANDLE image, const void *kernel, UINTN size, const CHAR16 *cmdline);

#endif
