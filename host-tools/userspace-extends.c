/* SPDX-License-Identifier: MIT */
#include "userspace-extends.h"

#include "measure/uki.h"

/* Each phase is the one before plus one word: the last one is the whole sequence (userspace_words()). */
static const char *const default_phases[] = {
	"enter-initrd",
	"enter-initrd:leave-initrd",
	"enter-initrd:leave-initrd:sysinit",
	"enter-initrd:leave-initrd:sysinit:ready",
};

#define N_DEFAULT_PHASES (sizeof(default_phases) / sizeof(default_phases[0]))

size_t userspace_default_phases(const char *const **ret)
{
	*ret = default_phases;
	return N_DEFAULT_PHASES;
}

const char *userspace_words(unsigned pcr)
{
	if (pcr == PCR_KERNEL_IMAGE)
		return default_phases[N_DEFAULT_PHASES - 1];
	if (pcr == PCR_SYSEXTS)
		return USERSPACE_OS_SEPARATOR;
	return NULL;
}
