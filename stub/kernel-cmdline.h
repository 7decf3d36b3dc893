/* SPDX-License-Identifier: MIT */
/*
 * kernel-cmdline.h - what the stub was started with, and the command line
 * the kernel gets.
 *
 * Started by the UEFI shell, the arguments after our own path count;
 * otherwise LoadOptions, if they are text. A leading "@N" selects UKI
 * profile N (measure/cmdline.h has the exact rule); the rest is the
 * passed-in command line. The UKI's .cmdline, when the profile has one,
 * always wins over it (even without Secure Boot); the addons' words, then
 * the SMBIOS words, are appended to whichever is used (stub/stub.c).
 */
#ifndef STUB_KERNEL_CMDLINE_H
#define STUB_KERNEL_CMDLINE_H

#include <efi.h>

/*
 * *ret_profile (0 without "@N") and *ret_text, the passed-in command line
 * mangled (NULL when there is none, or it is not text). Fails only when
 * memory runs out.
 */
EFI_STATUS passed_in_read(EFI_HANDLE image, const EFI_LOADED_IMAGE *li, UINT32 *ret_profile, CHAR16 **ret_text);

/*
 * The kernel's command line: @section (@size bytes of the .cmdline in
 * effect, or NULL without one) read and mangled, else *passed (taken over;
 * *ret_passed_in then says so). *ret is NULL when there is neither.
 */
EFI_STATUS cmdline_choose(const UINT8 *section, UINTN size, CHAR16 **passed, CHAR16 **ret, BOOLEAN *ret_passed_in);

/* *cmdline followed by a space and @words, or @words alone when *cmdline is NULL or empty. */
EFI_STATUS cmdline_append(CHAR16 **cmdline, const CHAR16 *words);

#endif
