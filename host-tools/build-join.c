/* SPDX-License-Identifier: MIT */
#include "build-join.h"

#include <stdlib.h>
#include <string.h>

#include "measure/pe.h"
#include "measure/uki.h"
#include "util.h"

#define PROFILE_PE_SIZE_MAX ((uint64_t)4 << 30)

/* What ukify copies from a profile PE (ukify 262, make_uki's to_import). */
static const char *const importable[] = { ".profile", ".linux", ".osrel", ".cmdline", ".initrd", ".ucode",
					  ".splash",  ".dtb",   ".uname", ".sbat",    ".efifw" };

static int is_importable(const char *name)
{
	for (size_t i = 0; i < sizeof(importable) / sizeof(importable[0]); i++)
		if (strcmp(name, importable[i]) == 0)
			return 1;
	return 0;
}

/* Section @s of @img as a part's data: its VirtualSize bytes, the raw data and the zero fill after it. */
static int take_section(const char *path, const uint8_t *buf, const struct pe_image *img, const struct pe_section *s,
			uint8_t **ret_data)
{
	size_t offset, present;
	uint8_t *d;

	if (s->virtual_size == 0)
		return errorf("%s: section %s has VirtualSize 0 (it would not count in the UKI)", path, s->name);
	pe_section_content(img, s, &offset, &present);
	d = calloc(1, s->virtual_size);
	if (!d)
		return errorf("out of memory");
	memcpy(d, buf + offset, present);
	*ret_data = d;
	return 0;
}

int profile_pe_read(const char *path, struct build_part **ret_parts, size_t *ret_n)
{
	struct pe_image *img = calloc(1, sizeof(*img));
	struct build_part *parts = NULL;
	uint8_t *buf = NULL;
	size_t len, n = 0;
	uint16_t first = 0;
	ms_status r;
	int ret = -1;

	*ret_parts = NULL;
	*ret_n = 0;
	if (!img)
		return errorf("out of memory");
	if (read_file(path, PROFILE_PE_SIZE_MAX, &buf, &len) < 0)
		goto out;
	r = pe_parse(buf, len, PE_LAYOUT_FILE, img);
	if (r != MS_OK) {
		errorf("--join-profile %s: not a PE file (%s)", path, ms_strerror(r));
		goto out;
	}
	while (first < img->n_sections && strcmp(img->sections[first].name, ".profile") != 0)
		first++;
	if (first == img->n_sections) {
		errorf("--join-profile %s: has no .profile section (build it with --profile)", path);
		goto out;
	}
	parts = calloc(img->n_sections, sizeof(*parts));
	if (!parts) {
		errorf("out of memory");
		goto out;
	}
	for (uint16_t i = first; i < img->n_sections; i++) {
		const struct pe_section *s = &img->sections[i];

		if (i > first && strcmp(s->name, ".profile") == 0)
			break; /* its first profile only */
		if (!is_importable(s->name))
			continue;
		parts[n] = (struct build_part){ .option = "join-profile", .section = uki_canonical_name(s->name),
						.arg = path, .size = s->virtual_size };
		if (!parts[n].section) {
			errorf("internal error: %s is not a canonical name", s->name);
			goto out;
		}
		if (take_section(path, buf, img, s, &parts[n].data) < 0)
			goto out;
		n++;
	}
	*ret_parts = parts;
	*ret_n = n;
	parts = NULL;
	ret = 0;
out:
	if (parts)
		for (size_t i = 0; i < n; i++)
			free(parts[i].data);
	free(parts);
	free(buf);
	free(img);
	return ret;
}
