/* SPDX-License-Identifier: MIT */
/*
 * stub.c - the boot flow of the sysext-stub UKI stub, in one screen:
 *   find our own PE sections -> choose the command line -> register the
 *   initrd (LoadFile2) -> start the embedded kernel.
 * Every failure prints one line naming what is wrong and returns an error
 * to the firmware; nothing here waits for input.
 */
#include <efi.h>
#include <efilib.h>

#include "efi-lib/initrd-media.h"
#include "efi-lib/linux.h"
#include "efi-lib/log.h"
#include "efi-lib/mem.h"
#include "efi-lib/stack-guard.h"
#include "measure/cmdline.h"
#include "measure/pe.h"

/* The parsed headers of our own image (too large for a comfortable stack frame). */
static struct pe_image self;

struct section_span {
	const UINT8 *data;
	UINTN size;
};

static BOOLEAN find_section(const EFI_LOADED_IMAGE *li, const char *name, struct section_span *ret)
{
	const struct pe_section *s = pe_find_section(&self, name);
	size_t offset, size;

	if (!s)
		return FALSE;
	pe_section_content(&self, s, &offset, &size);
	ret->data = (const UINT8 *)li->ImageBase + offset;
	ret->size = size;
	return size > 0;
}

/*
 * The UKI's .cmdline wins; without one, the LoadOptions we were started
 * with are used if they are text. *ret is NULL when there is none.
 */
static EFI_STATUS choose_cmdline(const EFI_LOADED_IMAGE *li, CHAR16 **ret)
{
	struct section_span sec;
	CHAR16 *buf;
	UINTN cap;
	ms_status r;

	*ret = NULL;
	if (find_section(li, ".cmdline", &sec)) {
		cap = sec.size + 1;
		buf = mem_alloc_zero(cap * sizeof(CHAR16));
		if (!buf)
			return log_error_status(EFI_OUT_OF_RESOURCES, L"cannot allocate the command line");
		r = cmdline_from_section(sec.data, sec.size, buf, cap);
	} else {
		if (li->LoadOptionsSize == 0)
			return EFI_SUCCESS;
		cap = li->LoadOptionsSize / sizeof(CHAR16) + 1;
		buf = mem_alloc_zero(cap * sizeof(CHAR16));
		if (!buf)
			return log_error_status(EFI_OUT_OF_RESOURCES, L"cannot allocate the command line");
		r = cmdline_from_load_options(li->LoadOptions, li->LoadOptionsSize, buf, cap);
		if (r == MS_ERR_INVALID)
			log_info(L"ignoring LoadOptions (%u bytes): not a text command line",
				 li->LoadOptionsSize);
	}
	if (r != MS_OK) {
		mem_free(buf);
		return EFI_SUCCESS;
	}
	*ret = buf;
	return EFI_SUCCESS;
}

/* noinline: keep stack protection (efi_main itself must run without it). */
__attribute__((noinline)) static EFI_STATUS stub_run(EFI_HANDLE image)
{
	struct initrd_media *initrd = NULL;
	struct section_span linux_sec = { 0 }, initrd_sec = { 0 };
	EFI_LOADED_IMAGE *li = NULL;
	CHAR16 *cmdline = NULL;
	EFI_STATUS err;
	ms_status r;

	err = BS->HandleProtocol(image, &LoadedImageProtocol, (void **)&li);
	if (EFI_ERROR(err))
		return log_error_status(err, L"cannot get our own LOADED_IMAGE protocol");

	r = pe_parse(li->ImageBase, li->ImageSize, PE_LAYOUT_MEMORY, &self);
	if (r != MS_OK)
		return log_error_status(EFI_LOAD_ERROR, L"our own PE headers are malformed (%a)",
					ms_strerror(r));
	if (!find_section(li, ".linux", &linux_sec))
		return log_error_status(EFI_NOT_FOUND, L"this UKI has no .linux section");

	err = choose_cmdline(li, &cmdline);
	if (EFI_ERROR(err))
		return err;

	if (find_section(li, ".initrd", &initrd_sec)) {
		const void *data[1] = { initrd_sec.data };
		UINT64 sizes[1] = { initrd_sec.size };

		err = initrd_register(data, sizes, 1, &initrd);
		if (EFI_ERROR(err)) {
			log_error_status(err, L"cannot register the initrd (LINUX_INITRD_MEDIA)");
			goto out;
		}
	}

	log_info(L"starting kernel (%lu bytes), initrd %lu bytes, cmdline \"%s\"", (UINT64)linux_sec.size,
		 initrd ? (UINT64)initrd_sec.size : 0, cmdline ? cmdline : L"");
	err = linux_start(image, linux_sec.data, linux_sec.size, cmdline);
out:
	initrd_unregister(initrd);
	mem_free(cmdline);
	return err;
}

/* Debian's gnu-efi crt0 calls this with the System V ABI: no EFIAPI. */
__attribute__((no_stack_protector)) EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	InitializeLib(image, systab);
	stack_guard_init(image);
	return stub_run(image);
}
