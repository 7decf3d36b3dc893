/* SPDX-License-Identifier: MIT */
#include "cvm.h"

#define CPUID_FEATURES 0x1u
#define CPUID_HYPERVISOR_BIT (1u << 31) /* ECX */
#define CPUID_INTEL_TDX 0x21u           /* "IntelTDX    " in EBX, EDX, ECX */
#define CPUID_EXT_MAX 0x80000000u
#define CPUID_AMD_SEV 0x8000001fu       /* EAX bit 1: SEV supported */
#define MSR_AMD64_SEV 0xc0010131u       /* bits 0-2: SEV, SEV-ES, SEV-SNP enabled */

struct cpuid {
	UINT32 eax, ebx, ecx, edx;
};

static struct cpuid cpuid(UINT32 leaf)
{
	struct cpuid r;

	__asm__ volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx) : "a"(leaf), "c"(0));
	return r;
}

static UINT64 rdmsr(UINT32 msr)
{
	UINT32 lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((UINT64)hi << 32) | lo;
}

/* The 12-byte vendor signature in EBX, EDX, ECX order (leaf 0), or TDX's in EBX, EDX, ECX. */
static BOOLEAN signature_is(struct cpuid r, const char *want)
{
	const UINT32 regs[3] = { r.ebx, r.edx, r.ecx };

	for (UINTN i = 0; i < 12; i++)
		if ((char)(regs[i / 4] >> (8 * (i % 4))) != want[i])
			return FALSE;
	return TRUE;
}

static BOOLEAN sev_active(void)
{
	/* Only ask the MSR when CPUID says the CPU has SEV: reading it elsewhere faults. */
	if (cpuid(CPUID_EXT_MAX).eax < CPUID_AMD_SEV || !(cpuid(CPUID_AMD_SEV).eax & (1u << 1)))
		return FALSE;
	return (rdmsr(MSR_AMD64_SEV) & 0x7) != 0;
}

static BOOLEAN tdx_guest(void)
{
	return cpuid(0).eax >= CPUID_INTEL_TDX && signature_is(cpuid(CPUID_INTEL_TDX), "IntelTDX    ");
}

BOOLEAN is_confidential_vm(void)
{
	struct cpuid vendor;

	if (!(cpuid(CPUID_FEATURES).ecx & CPUID_HYPERVISOR_BIT))
		return FALSE;
	vendor = cpuid(0);
	if (signature_is(vendor, "AuthenticAMD"))
		return sev_active();
	if (signature_is(vendor, "GenuineIntel"))
		return tdx_guest();
	return FALSE;
}
