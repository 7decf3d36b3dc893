/* SPDX-License-Identifier: MIT */
#include "shell-args.h"

#include <efilib.h>

#include "mem.h"

#define SHELL_PARAMETERS_GUID \
	{ 0x752f3136, 0x4e16, 0x4fdc, { 0xa2, 0x2a, 0xe5, 0xf4, 0x68, 0x12, 0xf4, 0xca } }

struct shell_parameters {
	CHAR16 **argv;
	UINTN argc;
	/* StdIn, StdOut, StdErr follow; not used */
};

EFI_STATUS shell_arguments(EFI_HANDLE image, BOOLEAN *ret_from_shell, CHAR16 **ret_joined)
{
	EFI_GUID guid = SHELL_PARAMETERS_GUID;
	struct shell_parameters *sp = NULL;
	UINTN units = 0, at = 0;
	CHAR16 *out;

	*ret_from_shell = FALSE;
	*ret_joined = NULL;
	if (EFI_ERROR(BS->HandleProtocol(image, &guid, (void **)&sp)) || !sp || !sp->argv)
		return EFI_SUCCESS;
	*ret_from_shell = TRUE;
	if (sp->argc < 2)
		return EFI_SUCCESS;
	for (UINTN i = 1; i < sp->argc; i++)
		units += (sp->argv[i] ? StrLen(sp->argv[i]) : 0) + 1; /* a space after each, the last one the NUL */
	out = mem_alloc_zero(units * sizeof(CHAR16));
	if (!out)
		return EFI_OUT_OF_RESOURCES;
	for (UINTN i = 1; i < sp->argc; i++) {
		UINTN n = sp->argv[i] ? StrLen(sp->argv[i]) : 0;

		if (i > 1)
			out[at++] = L' ';
		CopyMem(out + at, sp->argv[i], n * sizeof(CHAR16));
		at += n;
	}
	*ret_joined = out;
	return EFI_SUCCESS;
}
