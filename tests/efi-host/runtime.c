/* SPDX-License-Identifier: MIT */
/*
 * runtime.c - the runtime services the glue uses (SetVariable and
 * GetVariable, through efi-lib/vars.c), as an in-memory store of loader
 * variables, and the phase clock (efi-lib/timing.h) as no-ops: a
 * diagnostic the glue's outcome must not depend on.
 */
#include "efi-host.h"

#include <efilib.h>

#include <string.h>

#include "efi-lib/timing.h"

#define VARS_MAX 32
#define VAR_NAME_MAX 64
#define VAR_DATA_MAX 256

static struct {
	CHAR16 name[VAR_NAME_MAX];
	UINT8 data[VAR_DATA_MAX];
	UINTN size;
	unsigned sets;
} vars[VARS_MAX];
static size_t n_vars;

static int find(const CHAR16 *name)
{
	for (size_t i = 0; i < n_vars; i++)
		if (efi_host_strlen16(name) == efi_host_strlen16(vars[i].name) &&
		    memcmp(name, vars[i].name, efi_host_strlen16(name) * sizeof(CHAR16)) == 0)
			return (int)i;
	return -1;
}

static EFI_STATUS EFIAPI set_variable(CHAR16 *name, EFI_GUID *vendor, UINT32 attributes, UINTN size, VOID *data)
{
	int i = find(name);

	(void)vendor;
	(void)attributes;
	if (efi_host_strlen16(name) >= VAR_NAME_MAX || size > VAR_DATA_MAX)
		return EFI_OUT_OF_RESOURCES;
	if (i < 0) {
		if (n_vars == VARS_MAX)
			return EFI_OUT_OF_RESOURCES;
		i = (int)n_vars++;
		memcpy(vars[i].name, name, (efi_host_strlen16(name) + 1) * sizeof(CHAR16));
	}
	memcpy(vars[i].data, data, size);
	vars[i].size = size;
	vars[i].sets++;
	return EFI_SUCCESS;
}

static EFI_STATUS EFIAPI get_variable(CHAR16 *name, EFI_GUID *vendor, UINT32 *attributes, UINTN *size, VOID *data)
{
	int i = find(name);

	(void)vendor;
	(void)attributes;
	if (i < 0)
		return EFI_NOT_FOUND;
	if (*size < vars[i].size) {
		*size = vars[i].size;
		return EFI_BUFFER_TOO_SMALL;
	}
	memcpy(data, vars[i].data, vars[i].size);
	*size = vars[i].size;
	return EFI_SUCCESS;
}

static EFI_RUNTIME_SERVICES runtime_services = {
	.GetVariable = get_variable,
	.SetVariable = set_variable,
};

EFI_RUNTIME_SERVICES *RT = &runtime_services;

void efi_host_vars_reset(void)
{
	memset(vars, 0, sizeof(vars));
	n_vars = 0;
}

unsigned efi_host_var_sets(const char *name, char *value, size_t cap)
{
	CHAR16 name16[VAR_NAME_MAX];
	int i;

	efi_host_ascii_to16(name, name16, VAR_NAME_MAX);
	i = find(name16);
	if (cap)
		value[0] = 0;
	if (i < 0)
		return 0;
	for (size_t k = 0; k + 1 < cap && 2 * k + 1 < vars[i].size && vars[i].data[2 * k]; k++) {
		value[k] = (char)vars[i].data[2 * k];
		value[k + 1] = 0;
	}
	return vars[i].sets;
}

void timing_start(void)
{
}

void timing_lap(enum timing_phase phase)
{
	(void)phase;
}

void timing_dir(enum timing_dir dir)
{
	(void)dir;
}

void timing_export(void)
{
}
