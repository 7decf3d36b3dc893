/* SPDX-License-Identifier: MIT */
/*
 * stub.c - the boot flow of the sysext-stub UKI stub, in one screen:
 *   read what we were started with (a profile "@N", a command line) ->
 *   find our own PE sections for that profile -> measure the profile
 *   (PCR 12) and the sections (PCR 11) -> list the companion directories
 *   and load the addons -> the kernel command line: .cmdline or what was
 *   passed in, the addons', SMBIOS words (each measured into PCR 12) ->
 *   measure SMBIOS (PCR 1) -> install the addons' devicetrees (PCR 12) ->
 *   plan the credentials, sysexts and confexts -> export the EFI
 *   variables -> register the initrd pieces (LoadFile2) -> show the
 *   splash -> start the embedded kernel, whose EFI stub asks for the
 *   initrd: only then are the companion files read into its buffer and
 *   measured there (credentials and confexts into PCR 12, sysexts into
 *   PCR 13; stub/lazy-archive.h), and then the addons' initrd pieces
 *   (PCR 12). That is systemd-stub 262's PCR 12 and PCR 13 order
 *   (docs/MEASUREMENTS.md; measure/initrd.h, initrd_fill_rank).
 * Every failure prints one line naming what is wrong and returns an error
 * to the firmware; nothing here waits for input.
 */
#include <efi.h>
#include <efilib.h>

#include "efi-lib/image-path.h"
#include "efi-lib/initrd-media.h"
#include "efi-lib/linux.h"
#include "efi-lib/log.h"
#include "efi-lib/mem.h"
#include "efi-lib/stack-guard.h"
#include "efi-lib/tcg2.h"
#include "efi-lib/timing.h"
#include "measure/companion.h"
#include "measure/extdir.h"
#include "measure/initrd.h"
#include "measure/pe.h"
#include "measure/uki.h"
#include "addons.h"
#include "companions.h"
#include "export-vars.h"
#include "kernel-cmdline.h"
#include "pcr-kernel.h"
#include "smbios-words.h"
#include "splash.h"

/*
 * The parsed headers of our own image: too large for a comfortable stack
 * frame, and allocated at run time rather than static, since the stub
 * image must stay below 0x20000 (measure-check).
 */
static struct pe_image *self;

struct section_span {
	const UINT8 *data;
	UINTN size;
};

/*
 * The section @name in effect for @profile (measure/uki.h: the one rule
 * PCR 11 measures by too): present only with VirtualSize > 0, and then
 * VirtualSize bytes.
 */
static BOOLEAN find_section(const EFI_LOADED_IMAGE *li, UINT32 profile, const char *name, struct section_span *ret)
{
	const struct pe_section *s = uki_section(self, profile, name);
	size_t offset, present;
	uint32_t size;

	if (!s)
		return FALSE;
	uki_section_bytes(self, s, &offset, &present, &size);
	ret->data = (const UINT8 *)li->ImageBase + offset;
	ret->size = size;
	return TRUE;
}

/* Our own sections, and whether the profile asked for exists (systemd-stub refuses to boot one that does not). */
static EFI_STATUS find_own_sections(const EFI_LOADED_IMAGE *li, UINT32 profile, struct section_span *ret_linux)
{
	ms_status r;

	self = mem_alloc_zero(sizeof(*self));
	if (!self)
		return log_error_status(EFI_OUT_OF_RESOURCES, L"cannot allocate room for our own PE headers");
	r = pe_parse(li->ImageBase, li->ImageSize, PE_LAYOUT_MEMORY, self);
	if (r != MS_OK)
		return log_error_status(EFI_LOAD_ERROR, L"our own PE headers are malformed (%a)", ms_strerror(r));
	if (uki_profile_check(self, profile) != MS_OK)
		return log_error_status(EFI_NOT_FOUND, L"profile @%u asked for, but this UKI has %u profile(s)", profile,
					uki_profile_count(self));
	if (!find_section(li, profile, ".linux", ret_linux))
		return log_error_status(EFI_NOT_FOUND, L"this UKI has no .linux section");
	return EFI_SUCCESS;
}

/*
 * The kernel's command line for @profile, in systemd-stub 262's order:
 * .cmdline or what was passed in (measured), then the addons' (measured
 * once), then the SMBIOS words (measured). *@pcr12 becomes TRUE when any
 * of them went into PCR 12.
 */
static EFI_STATUS make_cmdline(const EFI_LOADED_IMAGE *li, UINT32 profile, CHAR16 **passed,
			       struct addon_set *addons, struct measurer *m, BOOLEAN can_measure, BOOLEAN *pcr12,
			       CHAR16 **ret)
{
	struct section_span sec = { 0 };
	BOOLEAN passed_in;
	CHAR16 *words;
	EFI_STATUS err;

	if (!find_section(li, profile, ".cmdline", &sec))
		sec.data = NULL;
	err = cmdline_choose(sec.data, sec.size, passed, ret, &passed_in);
	if (EFI_ERROR(err))
		return err;
	if (can_measure && *ret && passed_in) {
		err = measure_cmdline(m, *ret);
		if (EFI_ERROR(err))
			log_error_status(err, L"cannot measure the command line into PCR %d", PCR_KERNEL_PARAMETERS);
		*pcr12 |= !EFI_ERROR(err);
	}
	addons_apply_cmdline(addons, m, can_measure, ret);
	words = smbios_cmdline_extra();
	if (!words)
		return EFI_SUCCESS;
	log_info(L"SMBIOS adds to the kernel command line: \"%s\"", words);
	if (can_measure) {
		err = measure_cmdline(m, words);
		if (EFI_ERROR(err))
			log_error_status(err, L"cannot measure the SMBIOS command-line words into PCR %d",
					 PCR_KERNEL_PARAMETERS);
		*pcr12 |= !EFI_ERROR(err);
	}
	err = cmdline_append(ret, words);
	mem_free(words);
	return err;
}

/*
 * The UKI's sections handed over as literal files (measure/companion.h:
 * .pcrpkey, .osrel, the profile's .profile), unmeasured: PCR 11 covers them.
 */
static void pack_literals(const EFI_LOADED_IMAGE *li, UINT32 profile, struct extra_archive archives[INITRD_SLOTS])
{
	for (UINTN i = 0; i < companion_literal_count; i++) {
		const struct companion_literal *c = &companion_literals[i];
		struct section_span sec;

		if (find_section(li, profile, c->section, &sec))
			(void)literal_archive(c->file, sec.data, sec.size, &archives[c->slot]);
	}
}

/*
 * Register the profile's .ucode and .initrd, the archives and the addons'
 * pieces, in initrd slot order (measure/initrd.h; later archives win on
 * equal paths). On success the media owns the archives and the addons'
 * pieces (and frees them once the kernel has its copy).
 */
static EFI_STATUS hand_over_initrd(const EFI_LOADED_IMAGE *li, UINT32 profile,
				   struct extra_archive archives[INITRD_SLOTS], struct lazy_archive *lazy[INITRD_SLOTS],
				   struct addon_set *addons, struct measurer *m, BOOLEAN can_measure,
				   struct initrd_media **ret, UINT64 *ret_total)
{
	/* Heap, not static (the stub image stays small): initrd_register() copies them. */
	struct initrd_piece *pieces = mem_alloc_zero(INITRD_MAX_PIECES * sizeof(*pieces));
	struct section_span sec;
	UINTN n = 0;
	EFI_STATUS err;

	*ret = NULL;
	*ret_total = 0;
	if (!pieces)
		return log_error_status(EFI_OUT_OF_RESOURCES, L"cannot register the initrd: no memory");
	for (UINTN slot = 0; slot < INITRD_SLOTS; slot++) {
		if (slot == INITRD_SLOT_UCODE_ADDONS || slot == INITRD_SLOT_ADDON_INITRDS)
			n += addons_pieces(addons, slot, m, can_measure, pieces + n, INITRD_MAX_PIECES - n);
		else if ((slot == INITRD_SLOT_UCODE && find_section(li, profile, ".ucode", &sec)) ||
			 (slot == INITRD_SLOT_EMBEDDED && find_section(li, profile, ".initrd", &sec)))
			pieces[n++] = (struct initrd_piece){ .slot = slot, .data = sec.data, .size = sec.size };
		else if (archives[slot].buf)
			pieces[n++] = (struct initrd_piece){ .slot = slot, .data = archives[slot].buf,
							     .size = archives[slot].size, .pages = archives[slot].pages };
		else if (lazy[slot])
			lazy_archive_piece(lazy[slot], &pieces[n++]);
	}
	err = n ? initrd_register(pieces, n, ret) : EFI_SUCCESS;
	for (UINTN i = 0; i < n; i++)
		*ret_total += pieces[i].size;
	mem_free(pieces);
	if (EFI_ERROR(err))
		return log_error_status(err, L"cannot register the initrd (LINUX_INITRD_MEDIA)");
	if (n == 0)
		return EFI_SUCCESS;
	for (UINTN slot = 0; slot < INITRD_SLOTS; slot++) {
		extra_archive_forget(&archives[slot]);
		lazy[slot] = NULL;
	}
	return EFI_SUCCESS;
}

/*
 * The companion files after the command line: the addons' devicetrees
 * (measured now), the plans of the companion archives and the literal
 * files. The archives' files and the addons' initrd pieces are measured
 * when the kernel takes the initrd (measure/initrd.h, initrd_fill_rank).
 */
static void collect_companions(const EFI_LOADED_IMAGE *li, UINT32 profile, struct companion_dirs *dirs,
			       struct addon_set *addons, struct measurer *m, BOOLEAN can_measure,
			       struct extra_archive archives[INITRD_SLOTS], struct lazy_archive *lazy[INITRD_SLOTS],
			       struct stub_measured *measured)
{
	struct section_span pcrsig = { 0 };

	addons_apply_devicetrees(addons, m, can_measure);
	(void)find_section(li, profile, ".pcrsig", &pcrsig);
	companions_pack(dirs, m, can_measure, pcrsig.data, pcrsig.size, archives, lazy);
	/* After the addons' last messages, which name their directory. */
	companion_dirs_hand_over(dirs, lazy);
	measured->kernel_parameters |= addons->measured;
	pack_literals(li, profile, archives);
}

/* noinline: keep stack protection (efi_main itself must run without it). */
__attribute__((noinline)) static EFI_STATUS stub_run(EFI_HANDLE image)
{
	CHAR16 image_path_buf[EXTDIR_IMAGE_PATH_MAX];
	/* The archives this flow builds, by the initrd slot each fills. */
	static struct extra_archive archives[INITRD_SLOTS];
	/* The sysext archives, planned, written when the kernel takes the initrd; by initrd slot. */
	static struct lazy_archive *lazy[INITRD_SLOTS];
	static struct companion_dirs dirs;
	static struct addon_set addons;
	struct stub_measured measured = { 0 };
	const CHAR16 *image_path = NULL;
	BOOLEAN can_measure;
	struct measurer m;
	struct mem_usage usage;
	UINT64 initrd_total = 0;
	struct initrd_media *initrd = NULL;
	struct section_span linux_sec = { 0 }, uname = { 0 }, splash;
	EFI_LOADED_IMAGE *li = NULL;
	CHAR16 *cmdline = NULL, *passed = NULL;
	UINT32 profile = 0;
	EFI_STATUS err;

	err = BS->HandleProtocol(image, &LoadedImageProtocol, (void **)&li);
	if (EFI_ERROR(err))
		return log_error_status(err, L"cannot get our own LOADED_IMAGE protocol");
	err = passed_in_read(image, li, &profile, &passed);
	if (!EFI_ERROR(err))
		err = find_own_sections(li, profile, &linux_sec);
	if (EFI_ERROR(err))
		goto out;

	if (!EFI_ERROR(image_file_path(li->FilePath, image_path_buf, EXTDIR_IMAGE_PATH_MAX)))
		image_path = image_path_buf;
	timing_lap(TIMING_SELF);
	export_stub_variables(li, image_path, profile);
	timing_lap(TIMING_VARIABLES);

	can_measure = measurer_init(&m);
	if (!can_measure)
		log_info(L"no TPM: nothing is measured, companion files are passed on unmeasured");
	if (can_measure && profile != 0)
		measured.kernel_parameters = measure_profile(&m, profile);
	if (can_measure)
		measured.kernel_image = measure_uki_sections(&m, li->ImageBase, self, profile);
	timing_lap(TIMING_PCR11);

	companion_dirs_open(li->DeviceHandle, image_path, &dirs);
	(void)find_section(li, profile, ".uname", &uname);
	addons_load(image, li->DeviceHandle, &dirs, uname.data, uname.size, &addons);
	err = make_cmdline(li, profile, &passed, &addons, &m, can_measure, &measured.kernel_parameters, &cmdline);
	if (EFI_ERROR(err)) {
		companion_dirs_close(&dirs);
		goto out;
	}
	if (can_measure)
		(void)measure_smbios(&m);
	timing_lap(TIMING_CMDLINE);
	collect_companions(li, profile, &dirs, &addons, &m, can_measure, archives, lazy, &measured);
	/*
	 * What the initrd's fill measures (the companion files, the addons' initrd pieces) is announced
	 * by the fill itself, once it measured something (lazy-archive.c, addons.c).
	 */
	export_pcr_variables(&measured);

	err = hand_over_initrd(li, profile, archives, lazy, &addons, &m, can_measure, &initrd, &initrd_total);
	if (EFI_ERROR(err))
		goto out;
	timing_lap(TIMING_REGISTER);
	mem_usage(&usage);
	log_info(L"starting kernel (%lu bytes), initrd %lu bytes, cmdline \"%s\"", (UINT64)linux_sec.size,
		 initrd_total, cmdline ? cmdline : L"");
	log_info(L"memory: %lu bytes held, peak %lu bytes", usage.held, usage.peak);
	/* Last, so that our own lines are not printed over the picture. */
	if (find_section(li, profile, ".splash", &splash))
		splash_show(splash.data, splash.size);
	err = linux_start(image, linux_sec.data, linux_sec.size, cmdline);
out:
	initrd_unregister(initrd);
	for (UINTN slot = 0; slot < INITRD_SLOTS; slot++) {
		extra_archive_free(&archives[slot]);
		lazy_archive_free(lazy[slot]);
		lazy[slot] = NULL;
	}
	addons_free(&addons);
	mem_free(cmdline);
	mem_free(passed);
	mem_free(self);
	self = NULL;
	return err;
}

/* Debian's gnu-efi crt0 calls this with the System V ABI: no EFIAPI. */
__attribute__((no_stack_protector)) EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	InitializeLib(image, systab);
	timing_start();
	stack_guard_init(image);
	return stub_run(image);
}
