/* SPDX-License-Identifier: MIT */
/*
 * splash.h - the UKI's .splash (a BMP) on screen before the kernel starts,
 * drawn as systemd-stub draws it: centred on a black screen
 * (measure/bmp.h has the formats and the blending).
 */
#ifndef STUB_SPLASH_H
#define STUB_SPLASH_H

#include <efi.h>

/*
 * Draw @size bytes of a .splash section. Anything wrong (no graphics
 * output, a BMP we do not read, a picture larger than the screen, no
 * memory for one row) is one log line and no picture; the boot goes on.
 */
void splash_show(const UINT8 *bmp, UINTN size);

#endif
