/* SPDX-License-Identifier: MIT */
#include "kernel-cmdline.h"

#include <efilib.h>

#include "efi-lib/log.h"
#include "efi-lib/mem.h"
#include "efi-lib/shell-args.h"
#include "measure/cmdline.h"

EFI_STATUS passed_in_read(EFI_HANDLE image, const EFI_LOADED_IMAGE *li, UINT32 *ret_profile, CHAR16 **ret_text)
{
	CHAR16 *joined = NULL, *buf;
	const void *opts = li->LoadOptions;
	UINTN size = li->LoadOptionsSize, cap;
	BOOLEAN from_shell;
	EFI_STATUS err;
	ms_status r;

	*ret_profile = 0;
	*ret_text = NULL;
	err = shell_arguments(image, &from_shell, &joined);
	if (EFI_ERROR(err))
		return log_error_status(err, L"cannot read the shell's arguments");
	if (from_shell) {
		/* The shell's LoadOptions start with our own path; its arguments do not. */
		opts = joined;
		size = joined ? (StrLen(joined) + 1) * sizeof(CHAR16) : 0;
	}
	if (size == 0)
		return EFI_SUCCESS;
	cap = size / sizeof(CHAR16) + 1;
	buf = mem_alloc_zero(cap * sizeof(CHAR16));
	if (!buf) {
		mem_free(joined);
		return log_error_status(EFI_OUT_OF_RESOURCES, L"cannot allocate the command line");
	}
	r = cmdline_from_load_options(opts, size, ret_profile, buf, cap);
	if (r == MS_ERR_INVALID)
		log_info(L"ignoring LoadOptions (%u bytes): not a text command line", (UINT32)size);
	mem_free(joined);
	if (r != MS_OK) {
		mem_free(buf);
		return EFI_SUCCESS;
	}
	*ret_text = buf;
	return EFI_SUCCESS;
}

EFI_STATUS cmdline_choose(const UINT8 *section, UINTN size, CHAR16 **passed, CHAR16 **ret, BOOLEAN *ret_passed_in)
{
	CHAR16 *buf;

	*ret = NULL;
	*ret_passed_in = FALSE;
	if (!section) {
		*ret = *passed;
		*passed = NULL;
		*ret_passed_in = *ret != NULL;
		return EFI_SUCCESS;
	}
	if (*passed)
		log_info(L"ignoring the command line passed in: the UKI's .cmdline is used");
	buf = mem_alloc_zero((size + 1) * sizeof(CHAR16));
	if (!buf)
		return log_error_status(EFI_OUT_OF_RESOURCES, L"cannot allocate the command line");
	if (cmdline_from_section(section, size, buf, size + 1) != MS_OK) {
		mem_free(buf);
		return EFI_SUCCESS;
	}
	*ret = buf;
	return EFI_SUCCESS;
}

EFI_STATUS cmdline_append(CHAR16 **cmdline, const CHAR16 *words)
{
	UINTN cap = (*cmdline ? StrLen(*cmdline) : 0) + StrLen(words) + 2;
	CHAR16 *buf = mem_alloc_zero(cap * sizeof(CHAR16));

	if (!buf || cmdline_extend(*cmdline, words, buf, cap) != MS_OK) {
		mem_free(buf);
		return log_error_status(EFI_OUT_OF_RESOURCES, L"cannot allocate the command line");
	}
	mem_free(*cmdline);
	*cmdline = buf;
	return EFI_SUCCESS;
}
