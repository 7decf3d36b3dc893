/* SPDX-License-Identifier: MIT */
#include "companions.h"

#include <efilib.h>

#include "efi-lib/esp.h"
#include "efi-lib/log.h"
#include "efi-lib/mem.h"
#include "efi-lib/timing.h"
#include "measure/extdir.h"
#include "measure/uki.h"

#include "signatures.h"

/* The global directories, by role; the per-UKI one is derived from the image path. */
static const CHAR16 *const global_dir_path[SEL_DIR_GLOBAL_ADDONS + 1] = {
	[SEL_DIR_GLOBAL] = L"" EXTDIR_GLOBAL,
	[SEL_DIR_GLOBAL_CREDENTIALS] = L"" EXTDIR_GLOBAL_CREDENTIALS,
	[SEL_DIR_GLOBAL_ADDONS] = L"" EXTDIR_GLOBAL_ADDONS,
};

void companion_dirs_open(EFI_HANDLE device, const CHAR16 *image_path, struct companion_dirs *ret)
{
	CHAR16 *extra_dir;
	EFI_FILE_HANDLE root = NULL;
	EFI_STATUS err;

	SetMem(ret, sizeof(*ret), 0);
	err = esp_open_root(device, &root);
	if (EFI_ERROR(err)) {
		log_info(L"no file system on the boot device (%r): no companion files", err);
		return;
	}
	for (UINTN role = 0; role <= SEL_DIR_GLOBAL_ADDONS; role++) {
		const CHAR16 *path = global_dir_path[role];

		timing_dir(role == SEL_DIR_PER_UKI ? TIMING_DIR_PER_UKI : TIMING_DIR_GLOBAL);

		if (role == SEL_DIR_PER_UKI) {
			/* Pool memory, not static: the stub image must stay below 0x20000 (measure-check). */
			extra_dir = image_path ? mem_alloc_zero(EXTDIR_IMAGE_PATH_MAX * sizeof(CHAR16)) : NULL;
			if (!extra_dir ||
			    extdir_from_image_path(image_path, StrLen(image_path), extra_dir, EXTDIR_IMAGE_PATH_MAX) != MS_OK) {
				log_info(L"not started from a file path: no per-UKI directory");
				mem_free(extra_dir);
				continue;
			}
			path = ret->extra_dir = extra_dir;
		}
		/* Failures are logged by listing_open; a directory that is not there is nothing to take. */
		(void)listing_open(root, path, sel_dir_kinds(role, EXT_RULE_SYSEXT_STUB), &ret->dirs[role]);
		timing_lap(TIMING_DIR_LIST);
	}
	esp_close(root);
}

void companion_dirs_close(struct companion_dirs *d)
{
	for (UINTN role = 0; role <= SEL_DIR_GLOBAL_ADDONS; role++)
		listing_close(&d->dirs[role]);
	mem_free(d->extra_dir);
	d->extra_dir = NULL;
}

void companion_dirs_hand_over(struct companion_dirs *d, struct lazy_archive *lazy[INITRD_SLOTS])
{
	for (UINTN role = 0; role <= SEL_DIR_GLOBAL_ADDONS; role++) {
		struct lazy_archive *of_role[EXT_KINDS] = { NULL };
		UINTN n = 0;

		for (UINTN i = 0; i < companion_target_count && n < EXT_KINDS; i++)
			if (companion_targets[i].role == role)
				of_role[n++] = lazy[companion_targets[i].slot];
		if (d->dirs[role].sel)
			lazy_archives_adopt(of_role, n, &d->dirs[role]);
	}
	companion_dirs_close(d);
}

void companions_pack(const struct companion_dirs *d, struct measurer *m, BOOLEAN can_measure, const void *pcrsig,
		     UINTN pcrsig_size, struct extra_archive archives[INITRD_SLOTS],
		     struct lazy_archive *lazy[INITRD_SLOTS])
{
	struct signature_set *sigs = signatures_begin(pcrsig, pcrsig_size);

	for (UINTN i = 0; i < companion_target_count; i++) {
		const struct companion_target *t = &companion_targets[i];

		timing_dir(t->role == SEL_DIR_PER_UKI ? TIMING_DIR_PER_UKI : TIMING_DIR_GLOBAL);
		if (!d->dirs[t->role].sel)
			continue;
		lazy_archive_plan(&d->dirs[t->role], t, m, can_measure, &lazy[t->slot]);
	}
	/* Signature files sit beside the extensions: per-UKI first, then global. */
	if (d->dirs[SEL_DIR_PER_UKI].sel)
		signatures_add(sigs, &d->dirs[SEL_DIR_PER_UKI]);
	if (d->dirs[SEL_DIR_GLOBAL].sel)
		signatures_add(sigs, &d->dirs[SEL_DIR_GLOBAL]);
	signatures_finish(sigs, &archives[INITRD_SLOT_PCRSIG]);
	timing_lap(TIMING_SIGNATURES);
}
