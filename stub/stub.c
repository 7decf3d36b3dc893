/* SPDX-License-Identifier: MIT */
/*
 * stub.c - the boot flow of the sysext-stub UKI stub, in one screen:
 *   read what we were started with (a profile "@N", a command line) ->
 *   find our own PE sections for that profile -> measure the profile
 *   (PCR 12) and the sections (PCR 11) -> choose the command line (PCR 12
 *   if passed in), append SMBIOS words (PCR 12) -> measure SMBIOS (PCR 1)
 *   -> collect and measure system extensions (PCR 13; per-UKI, then
 *   global) -> export the EFI variables -> register the initrd pieces
 *   (LoadFile2) -> show the splash -> start the embedded kernel.
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
#include "measure/sysext-archive.h"
#include "measure/uki.h"
#include "export-vars.h"
#include "kernel-cmdline.h"
#include "pcr-kernel.h"
#include "listing.h"
#include "signatures.h"
#include "smbios-words.h"
#include "splash.h"
#include "sysext.h"

#define GLOBAL_EXTENSIONS_DIR L"" EXTDIR_GLOBAL

/* The parsed headers of our own image (too large for a comfortable stack frame). */
static struct pe_image self;

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
	const struct pe_section *s = uki_section(&self, profile, name);
	size_t offset, present;
	uint32_t size;

	if (!s)
		return FALSE;
	uki_section_bytes(&self, s, &offset, &present, &size);
	ret->data = (const UINT8 *)li->ImageBase + offset;
	ret->size = size;
	return TRUE;
}

/* PCR 12's "measured" state: -1 nothing yet, then 1 while every measurement succeeds. */
static void note_pcr12(INTN *state, BOOLEAN ok)
{
	*state = *state < 0 ? ok : *state && ok;
}

/*
 * The kernel's command line for @profile: .cmdline or what was passed in
 * (measured), then the SMBIOS words (measured). Updates *pcr12.
 */
static EFI_STATUS make_cmdline(const EFI_LOADED_IMAGE *li, UINT32 profile, CHAR16 **passed, struct measurer *m,
			       BOOLEAN can_measure, INTN *pcr12, CHAR16 **ret)
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
	if (can_measure && *ret && passed_in)
		note_pcr12(pcr12, measure_cmdline(m, *ret));
	words = smbios_cmdline_extra();
	if (!words)
		return EFI_SUCCESS;
	log_info(L"SMBIOS adds to the kernel command line: \"%s\"", words);
	if (can_measure)
		note_pcr12(pcr12, measure_cmdline(m, words));
	err = cmdline_append(ret, words);
	mem_free(words);
	return err;
}

/*
 * Per-UKI then global directory, from the volume we were loaded from: each
 * listed once through the shared selection rule, its extensions packed
 * (and measured), its signature files added to the signature set.
 */
static void collect_from_esp(const EFI_LOADED_IMAGE *li, UINT32 profile, const CHAR16 *image_path,
			     struct measurer *m, BOOLEAN can_measure, struct sysext_archive *per_uki, struct sysext_archive *global,
			     struct sysext_archive *signatures)
{
	static CHAR16 extra_dir[EXTDIR_IMAGE_PATH_MAX];
	struct {
		const CHAR16 *path;
		enum sel_dir_role role;
		const char *prefix;
		struct sysext_archive *archive;
	} dirs[2] = {
		{ NULL, SEL_DIR_PER_UKI, SYSEXT_PREFIX, per_uki },
		{ GLOBAL_EXTENSIONS_DIR, SEL_DIR_GLOBAL, SYSEXT_GLOBAL_PREFIX, global },
	};
	struct section_span pcrsig = { 0 };
	struct signature_set *sigs;
	EFI_FILE_HANDLE root = NULL;
	EFI_STATUS err;

	(void)find_section(li, profile, ".pcrsig", &pcrsig);
	sigs = signatures_begin(pcrsig.data, pcrsig.size);
	err = esp_open_root(li->DeviceHandle, &root);
	if (EFI_ERROR(err)) {
		log_info(L"no file system on the boot device (%r): no extensions", err);
		signatures_finish(sigs, signatures);
		return;
	}
	if (image_path && extdir_from_image_path(image_path, StrLen(image_path), extra_dir, EXTDIR_IMAGE_PATH_MAX) == MS_OK)
		dirs[0].path = extra_dir;
	else
		log_info(L"not started from a file path: no per-UKI extension directory");
	for (UINTN i = 0; i < 2; i++) {
		struct dir_listing l;

		if (!dirs[i].path ||
		    EFI_ERROR(listing_open(root, dirs[i].path, sel_dir_kinds(dirs[i].role, EXT_RULE_SYSEXT_STUB), &l)))
			continue;
		sysext_collect(&l, dirs[i].prefix, m, can_measure, dirs[i].archive);
		signatures_add(sigs, &l);
		listing_close(&l);
	}
	signatures_finish(sigs, signatures);
	esp_close(root);
}

/*
 * The initrd pieces in slot order (measure/initrd.h): .ucode first, the
 * UKI's .initrd, then the archives; later archives win on equal paths.
 */
static UINTN initrd_pieces(const EFI_LOADED_IMAGE *li, UINT32 profile,
			   struct sysext_archive *const archives[INITRD_SLOTS], struct initrd_piece pieces[INITRD_SLOTS],
			   UINT64 *ret_total)
{
	static const char *const sections[INITRD_SLOTS] = {
		[INITRD_SLOT_UCODE] = ".ucode",
		[INITRD_SLOT_EMBEDDED] = ".initrd",
	};
	struct section_span sec;
	UINTN n = 0;

	*ret_total = 0;
	for (UINTN slot = 0; slot < INITRD_SLOTS; slot++) {
		if (sections[slot] && find_section(li, profile, sections[slot], &sec))
			pieces[n++] = (struct initrd_piece){ .data = sec.data, .size = sec.size };
		else if (archives[slot] && archives[slot]->buf)
			pieces[n++] = (struct initrd_piece){ .data = archives[slot]->buf,
							     .size = archives[slot]->size,
							     .pages = archives[slot]->pages };
		else
			continue;
		*ret_total += pieces[n - 1].size;
	}
	return n;
}

/* Our own sections, and whether the profile asked for exists (systemd-stub refuses to boot one that does not). */
static EFI_STATUS find_own_sections(const EFI_LOADED_IMAGE *li, UINT32 profile, struct section_span *ret_linux)
{
	ms_status r = pe_parse(li->ImageBase, li->ImageSize, PE_LAYOUT_MEMORY, &self);

	if (r != MS_OK)
		return log_error_status(EFI_LOAD_ERROR, L"our own PE headers are malformed (%a)", ms_strerror(r));
	if (uki_profile_check(&self, profile) != MS_OK)
		return log_error_status(EFI_NOT_FOUND, L"profile @%u asked for, but this UKI has %u profile(s)", profile,
					uki_profile_count(&self));
	if (!find_section(li, profile, ".linux", ret_linux))
		return log_error_status(EFI_NOT_FOUND, L"this UKI has no .linux section");
	return EFI_SUCCESS;
}

/* noinline: keep stack protection (efi_main itself must run without it). */
__attribute__((noinline)) static EFI_STATUS stub_run(EFI_HANDLE image)
{
	static CHAR16 image_path_buf[EXTDIR_IMAGE_PATH_MAX];
	struct sysext_archive per_uki = { 0 }, global = { 0 }, signatures = { 0 }, public_key = { 0 },
			      profile_file = { 0 };
	struct stub_measured measured = { 0 };
	const CHAR16 *image_path = NULL;
	BOOLEAN can_measure = FALSE;
	INTN pcr12 = -1;
	struct measurer m;
	/* The archives this flow builds, by the initrd slot each fills. */
	struct sysext_archive *const archives[INITRD_SLOTS] = {
		[INITRD_SLOT_SYSEXT] = &per_uki,
		[INITRD_SLOT_GLOBAL_SYSEXT] = &global,
		[INITRD_SLOT_PCRSIG] = &signatures,
		[INITRD_SLOT_PCRPKEY] = &public_key,
		[INITRD_SLOT_PROFILE] = &profile_file,
	};
	struct initrd_piece pieces[INITRD_SLOTS];
	UINTN n_pieces;
	struct mem_usage usage;
	UINT64 initrd_total;
	struct initrd_media *initrd = NULL;
	struct section_span linux_sec = { 0 }, sec;
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
	export_stub_variables(li, image_path, profile);

	can_measure = measurer_init(&m);
	if (!can_measure)
		log_info(L"no TPM: nothing is measured, extensions are passed on unmeasured");
	if (can_measure && profile != 0)
		note_pcr12(&pcr12, measure_profile(&m, profile));
	if (can_measure)
		measured.kernel_image = measure_uki_sections(&m, li->ImageBase, &self, profile);
	err = make_cmdline(li, profile, &passed, &m, can_measure, &pcr12, &cmdline);
	if (EFI_ERROR(err))
		goto out;
	measured.kernel_parameters = pcr12 > 0;
	if (can_measure)
		(void)measure_smbios(&m);

	collect_from_esp(li, profile, image_path, &m, can_measure, &per_uki, &global, &signatures);
	measured.sysexts = per_uki.n_measured + global.n_measured > 0;
	export_pcr_variables(&measured);
	if (find_section(li, profile, ".pcrpkey", &sec))
		(void)literal_archive(INITRD_PCR_PUBLIC_KEY_FILE, sec.data, sec.size, &public_key);
	/* The selected profile's .profile, for userspace, as systemd-stub passes it (measured in PCR 11 only). */
	if (find_section(li, profile, ".profile", &sec))
		(void)literal_archive(INITRD_PROFILE_FILE, sec.data, sec.size, &profile_file);

	n_pieces = initrd_pieces(li, profile, archives, pieces, &initrd_total);
	if (n_pieces > 0) {
		err = initrd_register(pieces, n_pieces, &initrd);
		if (EFI_ERROR(err)) {
			log_error_status(err, L"cannot register the initrd (LINUX_INITRD_MEDIA)");
			goto out;
		}
		/* The media owns the archives now (and frees them once the kernel has its copy). */
		for (UINTN slot = 0; slot < INITRD_SLOTS; slot++)
			if (archives[slot])
				sysext_archive_forget(archives[slot]);
	}

	mem_usage(&usage);
	log_info(L"starting kernel (%lu bytes), initrd %lu bytes, cmdline \"%s\"", (UINT64)linux_sec.size,
		 initrd ? initrd_total : 0, cmdline ? cmdline : L"");
	log_info(L"memory: %lu bytes held, peak %lu bytes", usage.held, usage.peak);
	/* Last, so that our own lines are not printed over the picture. */
	if (find_section(li, profile, ".splash", &sec))
		splash_show(sec.data, sec.size);
	err = linux_start(image, linux_sec.data, linux_sec.size, cmdline);
out:
	initrd_unregister(initrd);
	for (UINTN slot = 0; slot < INITRD_SLOTS; slot++)
		if (archives[slot])
			sysext_archive_free(archives[slot]);
	mem_free(cmdline);
	mem_free(passed);
	return err;
}

/* Debian's gnu-efi crt0 calls this with the System V ABI: no EFIAPI. */
__attribute__((no_stack_protector)) EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	InitializeLib(image, systab);
	stack_guard_init(image);
	return stub_run(image);
}
