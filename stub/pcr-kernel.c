/* SPDX-License-Identifier: MIT */
#include "pcr-kernel.h"

#include <efilib.h>

#include "efi-lib/fault.h"
#include "efi-lib/log.h"
#include "measure/uki.h"

/* One section's content; in the fault build a small section holding FAULT_PCR11 fails instead. */
static EFI_STATUS measure_content(struct measurer *m, const UINT8 *content, UINTN size, const CHAR16 *desc)
{
	if (size <= FAULT_SECTION_SCAN_MAX && fault_hit_mem(content, size, FAULT_PCR11))
		return EFI_DEVICE_ERROR;
	return measure_ipl(m, PCR_KERNEL_IMAGE, content, size, desc);
}

BOOLEAN measure_uki_sections(struct measurer *m, const void *image_base, const struct pe_image *self,
			     uint32_t profile)
{
	struct uki_measured_section list[UKI_MAX_MEASURED];
	UINTN n = uki_measured_sections(self, UKI_ORDER_DEFAULT, profile, list);

	for (UINTN i = 0; i < n; i++) {
		CHAR16 desc[PE_SECTION_NAME_MAX + 1];
		size_t offset, present;
		UINTN len = 0;
		uint32_t size;
		EFI_STATUS err;

		for (; list[i].name[len]; len++)
			desc[len] = (CHAR16)list[i].name[len];
		desc[len] = 0;
		/* The very bytes the stub uses (uki_section_bytes), in the memory layout all present. */
		uki_section_bytes(self, list[i].section, &offset, &present, &size);
		err = measure_ipl(m, PCR_KERNEL_IMAGE, list[i].name, len + 1, desc);
		if (!EFI_ERROR(err))
			err = measure_content(m, (const UINT8 *)image_base + offset, size, desc);
		if (EFI_ERROR(err)) {
			/* Boot on: PCR 11 just will not match, and StubPcrKernelImage says so. */
			log_error_status(err, L"cannot measure section %s into PCR %d", desc, PCR_KERNEL_IMAGE);
			return FALSE;
		}
	}
	return TRUE;
}

BOOLEAN measure_profile(struct measurer *m, uint32_t profile)
{
	CHAR16 number[UKI_PROFILE_TEXT_MAX];
	EFI_STATUS err;

	uki_profile_text(profile, number);
	/* The number in UTF-16 with its NUL is both the data and the description. */
	err = measure_tagged(m, PCR_KERNEL_PARAMETERS, UKI_PROFILE_EVENT_TAG, number, (StrLen(number) + 1) * sizeof(CHAR16),
			     number);
	if (EFI_ERROR(err)) {
		log_error_status(err, L"cannot measure profile %u into PCR %d", profile, PCR_KERNEL_PARAMETERS);
		return FALSE;
	}
	return TRUE;
}

EFI_STATUS measure_cmdline(struct measurer *m, const CHAR16 *cmdline)
{
	/* In the fault build a command line holding FAULT_PCR12 fails to measure. */
	return fault_hit16(cmdline, FAULT_PCR12)
		       ? EFI_DEVICE_ERROR
		       : measure_ipl(m, PCR_KERNEL_PARAMETERS, cmdline, (StrLen(cmdline) + 1) * sizeof(CHAR16), cmdline);
}
