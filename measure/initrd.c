/* SPDX-License-Identifier: MIT */
#include "initrd.h"

ms_status align4_u64(uint64_t v, uint64_t *ret)
{
	if (v > UINT64_MAX - 3)
		return MS_ERR_OVERFLOW;
	*ret = (v + 3) & ~(uint64_t)3;
	return MS_OK;
}

unsigned initrd_fill_rank(enum initrd_slot slot)
{
	if (slot == INITRD_SLOT_UCODE_ADDONS)
		return INITRD_SLOT_GLOBAL_CONFEXT + 1; /* just after the configuration extensions */
	return slot > INITRD_SLOT_GLOBAL_CONFEXT ? slot + 1 : slot;
}

ms_status initrd_layout(const uint64_t *sizes, size_t n, uint64_t *ret_offsets, uint64_t *ret_total)
{
	uint64_t total = 0;
	size_t last = n;

	if (n > INITRD_MAX_PIECES || (n && !sizes) || !ret_total)
		return MS_ERR_INVALID;
	/* The last non-empty piece is the one left unpadded. */
	for (size_t i = 0; i < n; i++)
		if (sizes[i])
			last = i;

	for (size_t i = 0; i < n; i++) {
		uint64_t sz = sizes[i];

		if (ret_offsets)
			ret_offsets[i] = total;
		if (i != last && align4_u64(sz, &sz) != MS_OK)
			return MS_ERR_OVERFLOW;
		if (sz > UINT64_MAX - total)
			return MS_ERR_OVERFLOW;
		total += sz;
	}
	*ret_total = total;
	return MS_OK;
}
