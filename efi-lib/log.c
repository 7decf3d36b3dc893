/* SPDX-License-Identifier: MIT */
#include "log.h"

#include <efilib.h>

#define LOG_LINE_MAX 512

static void emit(const CHAR16 *level, EFI_STATUS status, BOOLEAN with_status, const CHAR16 *fmt,
		 va_list args)
{
	CHAR16 line[LOG_LINE_MAX];

	UnicodeVSPrint(line, sizeof(line), fmt, args);
	if (with_status)
		Print(L"sysext-stub: %s%s: %r\n", level, line, status);
	else
		Print(L"sysext-stub: %s%s\n", level, line);
}

void log_info(const CHAR16 *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	emit(L"", 0, FALSE, fmt, args);
	va_end(args);
}

void log_warn(const CHAR16 *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	emit(L"warning: ", 0, FALSE, fmt, args);
	va_end(args);
}

EFI_STATUS log_error_status(EFI_STATUS status, const CHAR16 *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	emit(L"error: ", status, TRUE, fmt, args);
	va_end(args);
	return status;
}
