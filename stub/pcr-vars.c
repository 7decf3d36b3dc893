/* SPDX-License-Identifier: MIT */
#include "pcr-vars.h"

#include "efi-lib/log.h"
#include "efi-lib/vars.h"

void stub_var_set(const CHAR16 *name, const CHAR16 *value)
{
	EFI_STATUS err = loader_var_set_str(name, value);

	if (EFI_ERROR(err))
		log_warn(L"cannot set EFI variable %s (%r)", name, err);
}

void export_pcr_variables(const struct stub_measured *measured)
{
	if (measured->kernel_image)
		stub_var_set(L"StubPcrKernelImage", L"11");
	if (measured->kernel_parameters)
		stub_var_set(L"StubPcrKernelParameters", L"12");
	if (measured->sysexts)
		stub_var_set(L"StubPcrInitRDSysExts", L"13");
	if (measured->confexts)
		stub_var_set(L"StubPcrInitRDConfExts", L"12");
}
