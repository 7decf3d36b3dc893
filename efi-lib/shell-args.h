/* SPDX-License-Identifier: MIT */
/*
 * shell-args.h - the arguments the UEFI shell started us with.
 *
 * The shell puts its whole command line, our own path first, into
 * LoadOptions, and the split arguments into EFI_SHELL_PARAMETERS_PROTOCOL
 * on our image handle. Like systemd-stub, we take the arguments after our
 * path from the protocol when it is there.
 */
#ifndef EFI_LIB_SHELL_ARGS_H
#define EFI_LIB_SHELL_ARGS_H

#include <efi.h>

/*
 * *ret_from_shell: the shell started @image. Then *ret_joined is Argv[1..]
 * joined by single spaces (allocated with mem_alloc_zero), or NULL when
 * there are none. EFI_OUT_OF_RESOURCES if the copy fails.
 */
EFI_STATUS shell_arguments(EFI_HANDLE image, BOOLEAN *ret_from_shell, CHAR16 **ret_joined);

#endif
