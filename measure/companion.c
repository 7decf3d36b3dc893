/* SPDX-License-Identifier: MIT */
#include "companion.h"

#include "uki.h"

#define EXTENSION_LAYOUT(prefix) { prefix, EXTENSION_DIR_MODE, EXTENSION_FILE_MODE }
#define CREDENTIAL_LAYOUT(prefix) { prefix, CREDENTIAL_DIR_MODE, CREDENTIAL_FILE_MODE }

const struct companion_target companion_targets[] = {
	{ EXT_KIND_CREDENTIAL, SEL_DIR_PER_UKI, INITRD_SLOT_CREDENTIALS, CREDENTIAL_LAYOUT(".extra/credentials"),
	  PCR_KERNEL_PARAMETERS, "Credentials initrd", 250 },
	{ EXT_KIND_CREDENTIAL, SEL_DIR_GLOBAL_CREDENTIALS, INITRD_SLOT_GLOBAL_CREDENTIALS,
	  CREDENTIAL_LAYOUT(".extra/global_credentials"), PCR_KERNEL_PARAMETERS, "Global credentials initrd", 250 },
	{ EXT_KIND_SYSEXT, SEL_DIR_PER_UKI, INITRD_SLOT_SYSEXT, EXTENSION_LAYOUT(SYSEXT_PREFIX), PCR_SYSEXTS,
	  "System extension initrd", 252 },
	{ EXT_KIND_SYSEXT, SEL_DIR_GLOBAL, INITRD_SLOT_GLOBAL_SYSEXT, EXTENSION_LAYOUT(SYSEXT_GLOBAL_PREFIX), PCR_SYSEXTS,
	  "Global system extension initrd", 258 },
	{ EXT_KIND_CONFEXT, SEL_DIR_PER_UKI, INITRD_SLOT_CONFEXT, EXTENSION_LAYOUT(".extra/confext"),
	  PCR_KERNEL_PARAMETERS, "Configuration extension initrd", 256 },
	{ EXT_KIND_CONFEXT, SEL_DIR_GLOBAL, INITRD_SLOT_GLOBAL_CONFEXT, EXTENSION_LAYOUT(".extra/global_confext"),
	  PCR_KERNEL_PARAMETERS, "Global configuration extension initrd", 258 },
};

const size_t companion_target_count = sizeof(companion_targets) / sizeof(companion_targets[0]);

const struct archive_layout companion_literal_layout = EXTENSION_LAYOUT(INITRD_EXTRA_PREFIX);

const struct companion_literal companion_literals[] = {
	{ ".pcrpkey", INITRD_PCR_PUBLIC_KEY_FILE, INITRD_SLOT_PCRPKEY, 252 },
	{ ".osrel", INITRD_OS_RELEASE_FILE, INITRD_SLOT_OS_RELEASE, 257 },
	{ ".profile", INITRD_PROFILE_FILE, INITRD_SLOT_PROFILE, 257 },
};

const size_t companion_literal_count = sizeof(companion_literals) / sizeof(companion_literals[0]);

const struct companion_target *companion_target_for(enum ext_kind kind, enum sel_dir_role role)
{
	for (size_t i = 0; i < companion_target_count; i++)
		if (companion_targets[i].kind == kind && companion_targets[i].role == role)
			return &companion_targets[i];
	return NULL;
}
