/* SPDX-License-Identifier: MIT */
/*
 * stub.c - the boot flow of the sysext-stub UKI stub, in one screen:
 *   find our own PE sections -> measure them (PCR 11) -> choose the command
 *   line (PCR 12 if passed in) -> collect and measure system extensions
 *   (PCR 13; per-UKI, then global) -> export the EFI variables -> register
 *   the initrd pieces (LoadFile2) -> start the embedded kernel.
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
#include "efi-lib/timing.h"
#include "measure/cmdline.h"
#include "measure/extdir.h"
#include "measure/initrd.h"
#include "measure/pe.h"
#include "measure/sysext-archive.h"
#include "export-vars.h"
#include "pcr-kernel.h"
#include "listing.h"
#include "signatures.h"
#include "sysext.h"

#define GLOBAL_EXTENSIONS_DIR L"" EXTDIR_GLOBAL

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

/*
 * Per-UKI then global directory, from the volume we were loaded from: each
 * listed once through the shared selection rule, its extensions packed
 * (and measured), its signature files added to the signature set.
 */
static void collect_from_esp(const EFI_LOADED_IMAGE *li, const CHAR16 *image_path, struct measurer *m,
			     BOOLEAN can_measure, struct sysext_archive *per_uki, struct sysext_archive *global,
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

	(void)find_section(li, ".pcrsig", &pcrsig);
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

		timing_dir(i == 0 ? TIMING_DIR_PER_UKI : TIMING_DIR_GLOBAL);
		if (!dirs[i].path ||
		    EFI_ERROR(listing_open(root, dirs[i].path, sel_dir_kinds(dirs[i].role, EXT_RULE_SYSEXT_STUB), &l)))
			continue;
		timing_lap(TIMING_DIR_LIST);
		sysext_collect(&l, dirs[i].prefix, m, can_measure, dirs[i].archive);
		signatures_add(sigs, &l);
		timing_lap(TIMING_SIGNATURES);
		listing_close(&l);
	}
	signatures_finish(sigs, signatures);
	timing_lap(TIMING_SIGNATURES);
	esp_close(root);
}

/* noinline: keep stack protection (efi_main itself must run without it). */
__attribute__((noinline)) static EFI_STATUS stub_run(EFI_HANDLE image)
{
	static CHAR16 image_path_buf[EXTDIR_IMAGE_PATH_MAX];
	struct sysext_archive per_uki = { 0 }, global = { 0 }, signatures = { 0 }, public_key = { 0 };
	struct stub_measured measured = { 0 };
	const CHAR16 *image_path = NULL;
	BOOLEAN can_measure, cmdline_passed_in;
	struct measurer m;
	/* The archives this flow builds, by the initrd slot each fills. */
	struct sysext_archive *archives[INITRD_SLOTS] = {
		[INITRD_SLOT_SYSEXT] = &per_uki,
		[INITRD_SLOT_GLOBAL_SYSEXT] = &global,
		[INITRD_SLOT_PCRSIG] = &signatures,
		[INITRD_SLOT_PCRPKEY] = &public_key,
	};
	struct initrd_piece pieces[INITRD_SLOTS];
	UINTN n_pieces = 0;
	struct mem_usage usage;
	UINT64 initrd_total = 0;
	struct initrd_media *initrd = NULL;
	struct section_span linux_sec = { 0 }, initrd_sec = { 0 }, pcrpkey_sec = { 0 };
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
	timing_lap(TIMING_SELF);
	export_stub_variables(li, image_path);
	timing_lap(TIMING_VARIABLES);

	can_measure = measurer_init(&m);
	if (!can_measure)
		log_info(L"no TPM: nothing is measured, extensions are passed on unmeasured");
	if (can_measure)
		measured.kernel_image = measure_uki_sections(&m, li->ImageBase, &self);
	timing_lap(TIMING_PCR11);

	err = choose_cmdline(li, &cmdline, &cmdline_passed_in);
	if (EFI_ERROR(err))
		return err;
	if (can_measure && cmdline && cmdline_passed_in)
		measured.kernel_parameters = measure_cmdline(&m, cmdline);
	timing_lap(TIMING_CMDLINE);

	collect_from_esp(li, image_path, &m, can_measure, &per_uki, &global, &signatures);
	measured.sysexts = per_uki.n_measured + global.n_measured > 0;
	export_pcr_variables(&measured);
	if (find_section(li, ".pcrpkey", &pcrpkey_sec))
		(void)literal_archive(INITRD_PCR_PUBLIC_KEY_FILE, pcrpkey_sec.data, pcrpkey_sec.size, &public_key);

	/* The pieces in initrd slot order (measure/initrd.h); later archives win on equal paths. */
	for (UINTN slot = 0; slot < INITRD_SLOTS; slot++) {
		if (slot == INITRD_SLOT_EMBEDDED && find_section(li, ".initrd", &initrd_sec))
			pieces[n_pieces++] = (struct initrd_piece){ .data = initrd_sec.data, .size = initrd_sec.size };
		else if (archives[slot] && archives[slot]->buf)
			pieces[n_pieces++] = (struct initrd_piece){ .data = archives[slot]->buf,
								    .size = archives[slot]->size,
								    .pages = archives[slot]->pages };
	}
	for (UINTN i = 0; i < n_pieces; i++)
		initrd_total += pieces[i].size;
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

	timing_lap(TIMING_REGISTER);
	mem_usage(&usage);
	log_info(L"starting kernel (%lu bytes), initrd %lu bytes, cmdline \"%s\"", (UINT64)linux_sec.size,
		 initrd ? initrd_total : 0, cmdline ? cmdline : L"");
	log_info(L"memory: %lu bytes held, peak %lu bytes", usage.held, usage.peak);
	err = linux_start(image, linux_sec.data, linux_sec.size, cmdline);
out:
	initrd_unregister(initrd);
	sysext_archive_free(&per_uki);
	sysext_archive_free(&global);
	sysext_archive_free(&signatures);
	sysext_archive_free(&public_key);
	mem_free(cmdline);
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
