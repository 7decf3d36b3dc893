/* SPDX-License-Identifier: MIT */
/* build.h - `sysext-stub build`, and the UKI layout behind it. */
#ifndef HOST_TOOLS_BUILD_H
#define HOST_TOOLS_BUILD_H

#include <stddef.h>
#include <stdint.h>

/* Entry point of the subcommand; argv[0] is "build". Returns the exit code. */
int cmd_build(int argc, char **argv);

/* One part of a UKI: a section appended to the stub. */
struct build_part {
	const char *option;  /* command-line option */
	const char *section; /* PE section name */
	int is_text;         /* TEXT or @FILE; otherwise a path */
	const char *arg;     /* as given (for messages); NULL: the part is left out */
	uint8_t *data;
	size_t size;         /* > 0 */
};

/*
 * The parts of one profile (or of a UKI without profiles) in append order
 * (.osrel .cmdline .uname .pcrpkey .initrd .linux .pcrsig .dtb .hwids
 * .splash .ucode), none given.
 */
#define BUILD_N_PARTS 11
void build_parts_init(struct build_part parts[BUILD_N_PARTS]);

/* The parts of an addon (measure/addon.h) in append order (.cmdline .dtb .uname .initrd .ucode), none given. */
#define BUILD_N_ADDON_PARTS 5
void build_addon_parts_init(struct build_part parts[BUILD_N_ADDON_PARTS]);

/*
 * Lay out the UKI (or profile PE, or addon): the stub's headers and
 * sections as they are (what follows its last section dropped), then each
 * of the @n_parts parts that is given (arg != NULL), in order, as a new
 * initialised read-only section, VirtualAddress aligned to
 * SectionAlignment after the one before, raw data aligned to
 * FileAlignment, VirtualSize the part's size; section count, SizeOfImage,
 * SizeOfInitializedData and CheckSum updated. The stub must have none of
 * the sections given before the first .profile (it would be a UKI
 * already). With @sbat, the stub's own .sbat gets its data in place
 * (VirtualSize its size; it must fit the section's raw data), as ukify
 * does; a stub without .sbat is refused. Returns 0 with a malloc()ed
 * *@ret_buf, or -1 with the reason printed (naming @stub_path or the part).
 */
int build_assemble(const char *stub_path, const uint8_t *stub, size_t stub_len, const struct build_part *parts,
		   size_t n_parts, const struct build_part *sbat, uint8_t **ret_buf, size_t *ret_len);

#endif
