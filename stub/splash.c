/* SPDX-License-Identifier: MIT */
#include "splash.h"

#include <efilib.h>

#include "efi-lib/graphics.h"
#include "efi-lib/log.h"
#include "efi-lib/mem.h"
#include "measure/bmp.h"

/* Apple's firmware draws a grey background, which systemd-stub matches; everyone else gets black. */
static UINT8 background(void)
{
	return ST->FirmwareVendor && StriCmp(ST->FirmwareVendor, L"Apple") == 0 ? 0xc0 : 0;
}

void splash_show(const UINT8 *bmp, UINTN size)
{
	struct bmp_image img;
	struct screen screen;
	UINT8 *row, bg = background();
	UINT32 x, y;
	EFI_STATUS err;
	ms_status r;

	r = bmp_parse(bmp, size, &img);
	if (r != MS_OK) {
		log_warn(L".splash: not shown, not a BMP image we can draw (%a)", ms_strerror(r));
		return;
	}
	err = screen_open(&screen);
	if (EFI_ERROR(err)) {
		log_info(L".splash: not shown, no graphics output (%r)", err);
		return;
	}
	if (img.width > screen.width || img.height > screen.height) {
		log_warn(L".splash: not shown, %ux%u pixels do not fit the %ux%u screen", img.width, img.height,
			 screen.width, screen.height);
		return;
	}
	if (img.width == 0 || img.height == 0)
		return;
	row = mem_alloc_zero((UINTN)img.width * 4);
	if (!row) {
		log_warn(L".splash: not shown, not enough memory for a row of %u pixels", img.width);
		return;
	}
	log_info(L".splash: %ux%u pixels, %u bits per pixel", img.width, img.height, (UINT32)img.depth);
	text_console_clear();
	x = (screen.width - img.width) / 2;
	y = (screen.height - img.height) / 2;
	err = screen_fill(&screen, bg, bg, bg);
	/* Row by row over the background just filled: no buffer the size of the picture. */
	for (UINT32 i = 0; !EFI_ERROR(err) && i < img.height; i++) {
		for (UINT32 k = 0; k < img.width; k++) {
			row[4 * k] = row[4 * k + 1] = row[4 * k + 2] = bg;
			row[4 * k + 3] = 0;
		}
		bmp_draw_row(&img, i, row);
		err = screen_write(&screen, row, x, y + i, img.width, 1);
	}
	if (EFI_ERROR(err))
		log_warn(L".splash: drawing failed (%r)", err);
	mem_free(row);
}
