/* SPDX-License-Identifier: MIT */
/*
 * log.h - one-line messages on the firmware console, all prefixed
 * "sysext-stub: " so they are easy to find in a serial log.
 */
#ifndef EFI_LIB_LOG_H
#define EFI_LIB_LOG_H

#include <efi.h>

void log_info(const CHAR16 *fmt, ...);
void log_warn(const CHAR16 *fmt, ...);

/* Print "sysext-stub: error: <message>: <status text>" and return @status. */
EFI_STATUS log_error_status(EFI_STATUS status, const CHAR16 *fmt, ...);

#endif
