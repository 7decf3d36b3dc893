/* SPDX-License-Identifier: MIT */
/*
 * stub.c - the boot flow of the sysext-stub UKI stub, in one screen:
 *   find our own PE sections -> measure them (PCR 11) -> choose the command
 *   line (PCR 12 if passed in) -> load the addons, append their command
 *   line, install their devicetrees (PCR 12) -> collect and measure the
 *   companion files (PCR 12, 13) -> measure the addons' initrd pieces
 *   (PCR 12) -> export the EFI variables -> register the initrd pieces
 *   (LoadFile2) -> start the embedded kernel.
 * Every failure prints one line naming what is wrong and returns an error
 * to the firmware; nothing here waits for input.
 */
#include <efi.h>
#include <efilib.h>

#include "efi-lib/esp.h"
#include "efi-lib/image-path.h"
#include "efi-lib/initrd-media.h"
#include "efi-lib/linux.h"
#include "efi-lib/log.h"
#include "efi-lib/mem.h"
#include "efi-lib/stack-guard.h"
#include "efi-lib/tcg2.h"
#include "measure/cmdline.h"
#include "measure/extdir.h"
#include "measure/initrd.h"
#include "measure/pe.h"
#include "measure/companion.h"
#include "addons.h"
#include "export-vars.h"
#include "pcr-kernel.h"
#include "companions.h"


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
 * with are used if they are text. *ret is NULL when there is none;
 * *ret_passed_in says it came from outside the UKI (so PCR 12 gets it).
 */
static EFI_STATUS choose_cmdline(const EFI_LOADED_IMAGE *li, CHAR16 **ret, BOOLEAN *ret_passed_in)
{
	struct section_span sec;
	CHAR16 *buf;
	UINTN cap;
	ms_status r;

	*ret = NULL;
	*ret_passed_in = FALSE;
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
		*ret_passed_in = r == MS_OK;
	}
	if (r != MS_OK) {
		mem_free(buf);
		return EFI_SUCCESS;
	}
	*ret = buf;
	return EFI_SUCCESS;
}

/* The UKI's sections handed over as literal files (measure/companion.h), unmeasured: PCR 11 covers them. */
static void pack_literals(const EFI_LOADED_IMAGE *li, struct extra_archive archives[INITRD_SLOTS])
{
	for (UINTN i = 0; i < companion_literal_count; i++) {
		const struct companion_literal *c = &companion_literals[i];
		struct section_span sec;

		if (find_section(li, c->section, &sec))
			(void)literal_archive(c->file, sec.data, sec.size, &archives[c->slot]);
	}
}

/*
 * Register the UKI's .ucode and .initrd, the archives and the addons' pieces, in
 * initrd slot order (measure/initrd.h; later archives win on equal paths).
 * On success the media owns the archives and the addons' pieces (and
 * frees them once the kernel has its copy).
 */
static EFI_STATUS hand_over_initrd(const EFI_LOADED_IMAGE *li, struct extra_archive archives[INITRD_SLOTS],
				   struct addon_set *addons, struct initrd_media **ret, UINT64 *ret_total)
{
	static struct initrd_piece pieces[INITRD_MAX_PIECES];
	struct section_span sec;
	UINTN n = 0;
	EFI_STATUS err;

	*ret = NULL;
	*ret_total = 0;
	for (UINTN slot = 0; slot < INITRD_SLOTS; slot++) {
		if (slot == INITRD_SLOT_UCODE_ADDONS || slot == INITRD_SLOT_ADDON_INITRDS)
			n += addons_pieces(addons, slot, pieces + n, INITRD_MAX_PIECES - n);
		else if ((slot == INITRD_SLOT_UCODE && find_section(li, ".ucode", &sec)) ||
			 (slot == INITRD_SLOT_EMBEDDED && find_section(li, ".initrd", &sec)))
			pieces[n++] = (struct initrd_piece){ .data = sec.data, .size = sec.size };
		else if (archives[slot].buf)
			pieces[n++] = (struct initrd_piece){ .data = archives[slot].buf, .size = archives[slot].size,
							     .pages = archives[slot].pages };
	}
	if (n == 0)
		return EFI_SUCCESS;
	err = initrd_register(pieces, n, ret);
	if (EFI_ERROR(err))
		return log_error_status(err, L"cannot register the initrd (LINUX_INITRD_MEDIA)");
	for (UINTN i = 0; i < n; i++)
		*ret_total += pieces[i].size;
	for (UINTN slot = 0; slot < INITRD_SLOTS; slot++)
		extra_archive_forget(&archives[slot]);
	addons_forget_pieces(addons);
	return EFI_SUCCESS;
}

/* What was measured into PCR 12 and 13 by the archives, for the StubPcr* variables. */
static void note_measured(const struct extra_archive archives[INITRD_SLOTS], struct stub_measured *measured)
{
	for (UINTN i = 0; i < companion_target_count; i++) {
		const struct companion_target *t = &companion_targets[i];

		if (archives[t->slot].n_measured == 0)
			continue;
		if (t->kind == EXT_KIND_SYSEXT)
			measured->sysexts = TRUE;
		else if (t->kind == EXT_KIND_CONFEXT)
			measured->confexts = TRUE;
		else
			measured->kernel_parameters = TRUE;
	}
}

/* noinline: keep stack protection (efi_main itself must run without it). */
__attribute__((noinline)) static EFI_STATUS stub_run(EFI_HANDLE image)
{
	static CHAR16 image_path_buf[EXTDIR_IMAGE_PATH_MAX];
	/* The archives this flow builds, by the initrd slot each fills. */
	static struct extra_archive archives[INITRD_SLOTS];
	static struct companion_dirs dirs;
	static struct addon_set addons;
	struct stub_measured measured = { 0 };
	const CHAR16 *image_path = NULL;
	BOOLEAN can_measure, cmdline_passed_in;
	struct measurer m;
	struct mem_usage usage;
	UINT64 initrd_total = 0;
	struct initrd_media *initrd = NULL;
	struct section_span linux_sec = { 0 }, pcrsig = { 0 }, uname = { 0 };
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

	if (!EFI_ERROR(image_file_path(li->FilePath, image_path_buf, EXTDIR_IMAGE_PATH_MAX)))
		image_path = image_path_buf;
	export_stub_variables(li, image_path);

	can_measure = measurer_init(&m);
	if (!can_measure)
		log_info(L"no TPM: nothing is measured, companion files are passed on unmeasured");
	if (can_measure)
		measured.kernel_image = measure_uki_sections(&m, li->ImageBase, &self);

	err = choose_cmdline(li, &cmdline, &cmdline_passed_in);
	if (EFI_ERROR(err))
		return err;
	if (can_measure && cmdline && cmdline_passed_in) {
		err = measure_cmdline(&m, cmdline);
		if (EFI_ERROR(err))
			log_error_status(err, L"cannot measure the command line into PCR %d", PCR_KERNEL_PARAMETERS);
		measured.kernel_parameters = !EFI_ERROR(err);
	}

	companion_dirs_open(li->DeviceHandle, image_path, &dirs);
	(void)find_section(li, ".uname", &uname);
	addons_load(image, li->DeviceHandle, &dirs, uname.data, uname.size, &addons);
	addons_apply_cmdline(&addons, &m, can_measure, &cmdline);
	addons_apply_devicetrees(&addons, &m, can_measure);
	(void)find_section(li, ".pcrsig", &pcrsig);
	companions_pack(&dirs, &m, can_measure, pcrsig.data, pcrsig.size, archives);
	companion_dirs_close(&dirs);
	addons_measure_initrds(&addons, &m, can_measure);
	note_measured(archives, &measured);
	measured.kernel_parameters |= addons.measured;
	export_pcr_variables(&measured);
	pack_literals(li, archives);

	err = hand_over_initrd(li, archives, &addons, &initrd, &initrd_total);
	if (EFI_ERROR(err))
		goto out;
	mem_usage(&usage);
	log_info(L"starting kernel (%lu bytes), initrd %lu bytes, cmdline \"%s\"", (UINT64)linux_sec.size,
		 initrd_total, cmdline ? cmdline : L"");
	log_info(L"memory: %lu bytes held, peak %lu bytes", usage.held, usage.peak);
	err = linux_start(image, linux_sec.data, linux_sec.size, cmdline);
out:
	initrd_unregister(initrd);
	for (UINTN slot = 0; slot < INITRD_SLOTS; slot++)
		extra_archive_free(&archives[slot]);
	addons_free(&addons);
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
