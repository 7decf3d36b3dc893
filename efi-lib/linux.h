/* SPDX-License-Identifier: MIT */
/* linux.h - start the embedded kernel image. */
#ifndef EFI_LIB_LINUX_H
#define EFI_LIB_LINUX_H

#include <efi.h>

/*
 * LoadImage the PE kernel at @kernel/@size from memory (vendor media path
 * STUB_PAYLOAD_GUID, parent @parent), give it @cmdline (UTF-16, may be
 * NULL) as LoadOptions and StartImage it. Under Secure Boot the kernel is
 * accepted through security-override.h. Returns only if the kernel could
 * not be loaded or returned; the image is unloaded then.
 */
EFI_STATUS linux_start(EFI_HANDLE parent, const void *kernel, UINTN size, const CHAR16 *cmdline);

#endif
