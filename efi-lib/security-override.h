/* SPDX-License-Identifier: MIT */
/*
 * security-override.h - let LoadImage accept one specific in-memory image.
 *
 * Under Secure Boot the firmware verified the UKI it started (us); the
 * embedded .linux section is covered by that signature. LoadImage would
 * verify the inner kernel a second time against db, and a kernel signed by
 * a key not in db (or not signed at all) would be refused. For the duration
 * of one LoadImage call we hook the DXE security protocols so that exactly
 * that buffer (or exactly that device path) is accepted; everything else
 * goes to the firmware's own handlers. systemd-stub 252-257 does the same.
 * A side effect, also as in systemd-stub: the firmware does not measure the
 * kernel into PCR 4 then; PCR 11 covers .linux instead.
 */
#ifndef EFI_LIB_SECURITY_OVERRIDE_H
#define EFI_LIB_SECURITY_OVERRIDE_H

#include <efi.h>

/* Accept @buffer/@size (Security2) and @path (Security). */
EFI_STATUS security_override_install(const void *buffer, UINTN size, const EFI_DEVICE_PATH *path);
/* Put the firmware's hooks back. Safe to call when nothing is installed. */
void security_override_remove(void);

#endif
