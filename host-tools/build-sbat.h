/* SPDX-License-Identifier: MIT */
/*
 * build-sbat.h - `build --sbat TEXT|@FILE`: the UKI's .sbat, merged as
 * ukify merges it, so that shim can revoke the stub, the kernel or the UKI.
 */
#ifndef HOST_TOOLS_BUILD_SBAT_H
#define HOST_TOOLS_BUILD_SBAT_H

#include <stddef.h>
#include <stdint.h>

/* The header line every .sbat starts with (shim's SBAT.md). */
#define SBAT_HEADER "sbat,1,SBAT Version,sbat,1,https://github.com/rhboot/shim/blob/main/SBAT.md"

/*
 * The merged .sbat: SBAT_HEADER, then the entries (every line but the
 * first) of the stub's .sbat, of the kernel's .sbat (if it has one), and of
 * @text, each in order, one per line, ending with a newline; as ukify 262's
 * merge_sbat. @text must itself start with an "sbat," line. -1 with the
 * reason printed.
 */
int sbat_merge(const uint8_t *stub, size_t stub_len, const uint8_t *kernel, size_t kernel_len, const char *text,
	       size_t text_len, uint8_t **ret, size_t *ret_len);

#endif
