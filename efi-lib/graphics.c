/* SPDX-License-Identifier: MIT */
#include "graphics.h"

#include <efilib.h>

EFI_STATUS screen_open(struct screen *s)
{
	EFI_GUID guid = EFI_GRAPHICS_OUTPUT_PROTOCOL_GUID;
	EFI_GRAPHICS_OUTPUT_PROTOCOL *gop = NULL;
	EFI_STATUS err = BS->LocateProtocol(&guid, NULL, (void **)&gop);

	if (EFI_ERROR(err) || !gop || !gop->Mode || !gop->Mode->Info)
		return EFI_ERROR(err) ? err : EFI_NOT_FOUND;
	s->gop = gop;
	s->width = gop->Mode->Info->HorizontalResolution;
	s->height = gop->Mode->Info->VerticalResolution;
	return EFI_SUCCESS;
}

EFI_STATUS screen_fill(const struct screen *s, UINT8 red, UINT8 green, UINT8 blue)
{
	EFI_GRAPHICS_OUTPUT_PROTOCOL *gop = s->gop;
	EFI_GRAPHICS_OUTPUT_BLT_PIXEL colour = { .Blue = blue, .Green = green, .Red = red };

	return gop->Blt(gop, &colour, EfiBltVideoFill, 0, 0, 0, 0, s->width, s->height, 0);
}

EFI_STATUS screen_write(const struct screen *s, const void *pixels, UINT32 x, UINT32 y, UINT32 width,
			UINT32 height)
{
	EFI_GRAPHICS_OUTPUT_PROTOCOL *gop = s->gop;

	return gop->Blt(gop, (EFI_GRAPHICS_OUTPUT_BLT_PIXEL *)pixels, EfiBltBufferToVideo, 0, 0, x, y, width, height, 0);
}

void text_console_clear(void)
{
	ST->ConOut->ClearScreen(ST->ConOut);
}
