/* SPDX-License-Identifier: MIT */
#include "smbios-words.h"

#include <efilib.h>

#include "efi-lib/cvm.h"
#include "efi-lib/log.h"
#include "efi-lib/mem.h"
#include "efi-lib/smbios.h"
#include "efi-lib/vars.h"
#include "measure/cmdline.h"
#include "measure/smbios.h"

#define PCR_PLATFORM_CONFIG 1

CHAR16 *smbios_cmdline_extra(void)
{
	const UINT8 *table, *value;
	UINTN len;
	size_t value_len;
	CHAR16 *out;

	if (EFI_ERROR(smbios_table(&table, &len)) ||
	    smbios_oem_string(table, len, SMBIOS_CMDLINE_EXTRA, &value, &value_len) != MS_OK)
		return NULL;
	/* The host is outside a confidential VM's trust: its words must not reach the kernel. */
	if (is_confidential_vm()) {
		log_info(L"SMBIOS kernel command-line words ignored: this is a confidential VM");
		return NULL;
	}
	out = mem_alloc_zero((value_len + 1) * sizeof(CHAR16));
	if (!out) {
		log_warn(L"SMBIOS kernel command-line words ignored: not enough memory");
		return NULL;
	}
	/* Bytes as code units and mangled, exactly as a .cmdline section is read. */
	if (cmdline_from_section(value, value_len, out, value_len + 1) != MS_OK || out[0] == 0) {
		mem_free(out);
		return NULL;
	}
	return out;
}

/* One structure into PCR 1, as measured (a copy: type 1's Wake-up Type reads as 0). */
static EFI_STATUS measure_structure(struct measurer *m, const struct smbios_structure *s, UINT32 tag,
				    const char *description)
{
	CHAR16 desc[16];
	UINT8 *copy = mem_alloc_zero(s->size);
	UINTN i = 0;
	EFI_STATUS err;

	if (!copy)
		return EFI_OUT_OF_RESOURCES;
	for (; description[i] && i < sizeof(desc) / sizeof(desc[0]) - 1; i++)
		desc[i] = (CHAR16)description[i];
	desc[i] = 0;
	smbios_measured_copy(s, copy);
	err = measure_tagged(m, PCR_PLATFORM_CONFIG, tag, copy, s->size, desc);
	mem_free(copy);
	return err;
}

BOOLEAN measure_smbios(struct measurer *m)
{
	struct smbios_structure s;
	const UINT8 *table;
	UINTN len;
	size_t at = 0;
	BOOLEAN any = FALSE, ok = TRUE;

	/* A boot loader that measured them (systemd-boot) says so; twice would change PCR 1. */
	if (loader_var_exists(L"LoaderPcrSMBIOS") || EFI_ERROR(smbios_table(&table, &len)))
		return TRUE;
	while (smbios_next(table, len, &at, &s) == MS_OK) {
		const char *description;
		UINT32 tag;
		EFI_STATUS err;

		if (!smbios_is_measured(&s, &tag, &description))
			continue;
		err = measure_structure(m, &s, tag, description);
		if (EFI_ERROR(err)) {
			log_error_status(err, L"cannot measure SMBIOS %a into PCR %d", description, PCR_PLATFORM_CONFIG);
			ok = FALSE;
			continue;
		}
		any = TRUE;
	}
	if (any && EFI_ERROR(loader_var_set_str(L"LoaderPcrSMBIOS", L"1")))
		log_warn(L"cannot set EFI variable LoaderPcrSMBIOS");
	return ok;
}
