/* SPDX-License-Identifier: MIT */
/*
 * addon.c - the PE image every addon `sysext-stub build --addon` makes
 * starts from. An addon is data for a UKI stub (.cmdline, .initrd, .ucode,
 * .dtb, .uname sections), loaded by the stub through the firmware's
 * LoadImage so Secure Boot verifies it, and never started. Started
 * anyway (from a boot menu or the shell), it says what it is and returns
 * an error, doing nothing else.
 */
#include <efi.h>

#ifndef SYSEXT_STUB_VERSION
#error "SYSEXT_STUB_VERSION must be defined by the build"
#endif

/* SBAT metadata (see stub/sbat.c): its own component, so it can be revoked on its own. */
static const char sbat[] __attribute__((section(".sbat"), used)) =
	"sbat,1,SBAT Version,sbat,1,https://github.com/rhboot/shim/blob/main/SBAT.md\n"
	"sysext-stub-addon,1,sysext-stub,sysext-stub-addon," SYSEXT_STUB_VERSION ",https://sysext-stub.invalid/\n";

/* Debian's gnu-efi crt0 calls this with the System V ABI: no EFIAPI. */
EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	(void)image;
	if (systab && systab->ConOut)
		systab->ConOut->OutputString(systab->ConOut,
					     L"sysext-stub addon: this is not a program; it extends a UKI "
					     L"from <uki>.efi.extra.d or \\loader\\addons and is never started\r\n");
	return EFI_UNSUPPORTED;
}
