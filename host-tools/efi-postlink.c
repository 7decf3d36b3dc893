/* SPDX-License-Identifier: MIT */
/*
 * efi-postlink.c - build helper run on the stub right after objcopy:
 *   - set NX_COMPAT (objcopy cannot), after checking that no section is
 *     both writable and executable, which is what NX_COMPAT promises;
 *   - zero the COFF TimeDateStamp so builds are reproducible (objcopy
 *     writes the current time, which would change the Authenticode hash);
 *   - require an EFI application with a .sbat section;
 *   - recompute the checksum.
 * Usage: efi-postlink FILE (edited in place, atomically).
 */
#include <stdio.h>
#include <stdlib.h>

#include "measure/endian.h"
#include "measure/pe.h"
#include "pe-edit.h"
#include "util.h"

int main(int argc, char **argv)
{
	struct pe_image *img = calloc(1, sizeof(*img));
	uint8_t *buf = NULL;
	size_t len = 0;
	uint16_t dllchar;
	ms_status r;
	int ret = 1;

	if (argc != 2 || !img) {
		fprintf(stderr, "usage: efi-postlink FILE\n");
		goto out;
	}
	if (read_file(argv[1], (uint64_t)64 << 20, &buf, &len) < 0)
		goto out;
	r = pe_parse(buf, len, PE_LAYOUT_FILE, img);
	if (r != MS_OK) {
		errorf("%s: not a valid PE file (%s)", argv[1], ms_strerror(r));
		goto out;
	}
	if (img->subsystem != PE_SUBSYSTEM_EFI_APPLICATION) {
		errorf("%s: subsystem %u, expected an EFI application", argv[1], img->subsystem);
		goto out;
	}
	if (!pe_find_section(img, ".sbat")) {
		errorf("%s: no .sbat section", argv[1]);
		goto out;
	}
	for (uint16_t i = 0; i < img->n_sections; i++) {
		const struct pe_section *s = &img->sections[i];

		if ((s->characteristics & PE_SCN_MEM_WRITE) && (s->characteristics & PE_SCN_MEM_EXECUTE)) {
			errorf("%s: section %s is writable and executable; refusing to set NX_COMPAT",
			       argv[1], s->name);
			goto out;
		}
		if (s->virtual_address % 4096) {
			errorf("%s: section %s is not page-aligned (VA 0x%x)", argv[1], s->name,
			       s->virtual_address);
			goto out;
		}
	}
	dllchar = le16_read(buf + img->opt_offset + PE_OPT_DLL_CHARACTERISTICS);
	le16_write(buf + img->opt_offset + PE_OPT_DLL_CHARACTERISTICS, dllchar | PE_DLLCHAR_NX_COMPAT);
	le32_write(buf + img->pe_offset + 4 + PE_COFF_TIME_DATE_STAMP, 0);
	pe_update_checksum(buf, len, img);
	if (write_file_atomic(argv[1], buf, len, 0666) < 0)
		goto out;
	ret = 0;
out:
	free(buf);
	free(img);
	return ret;
}
