/* SPDX-License-Identifier: MIT */
/*
 * graphics.h - the screen, through EFI_GRAPHICS_OUTPUT_PROTOCOL (UEFI 2.10
 * §12.9): for the UKI's splash image.
 */
#ifndef EFI_LIB_GRAPHICS_H
#define EFI_LIB_GRAPHICS_H

#include <efi.h>

struct screen {
	void *gop;
	UINT32 width, height; /* the current mode, in pixels */
};

/* The firmware's graphics output. EFI_NOT_FOUND without one (a serial-only machine). */
EFI_STATUS screen_open(struct screen *s);

/* The whole screen in one colour. */
EFI_STATUS screen_fill(const struct screen *s, UINT8 red, UINT8 green, UINT8 blue);

/*
 * @width x @height pixels (4 bytes each: blue, green, red, reserved) to the
 * rectangle at @x, @y, which must lie on the screen.
 */
EFI_STATUS screen_write(const struct screen *s, const void *pixels, UINT32 x, UINT32 y, UINT32 width,
			UINT32 height);

/*
 * Clear the text console and put its cursor at the top, so the lines
 * printed after a splash (the kernel's EFI stub prints a few) do not land
 * on the picture.
 */
void text_console_clear(void);

#endif
