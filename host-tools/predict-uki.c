/* SPDX-License-Identifier: MIT */
#include "predict-uki.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "measure/cmdline.h"
#include "measure/initrd.h"
#include "measure/sysext-archive.h"
#include "measure/uki.h"

int predict_profile_event(struct prediction *p, uint32_t profile)
{
	uint16_t number[UKI_PROFILE_TEXT_MAX];
	char desc[UKI_PROFILE_TEXT_MAX];
	size_t n = 0;

	uki_profile_text(profile, number);
	for (; number[n]; n++)
		desc[n] = (char)number[n];
	desc[n] = 0;
	return prediction_add_data(p, PCR_KERNEL_PARAMETERS, PRED_EV_EVENT_TAG, desc, NULL, number,
				   (n + 1) * sizeof(uint16_t));
}

int predict_cmdline_words(const char *words, uint16_t **ret)
{
	size_t n = strlen(words);
	uint16_t *out = calloc(n + 1, sizeof(uint16_t));

	*ret = NULL;
	if (!out)
		return errorf("out of memory");
	if (cmdline_from_section((const uint8_t *)words, n, out, n + 1) != MS_OK || out[0] == 0) {
		free(out);
		return 0;
	}
	*ret = out;
	return 0;
}

int predict_cmdline_append(uint16_t **cmdline, const uint16_t *words)
{
	size_t old = *cmdline ? cmdline_len16(*cmdline) : 0, add = cmdline_len16(words);
	uint16_t *out = calloc(old + 1 + add + 1, sizeof(uint16_t));

	if (!out)
		return errorf("out of memory");
	if (old) {
		memcpy(out, *cmdline, old * sizeof(uint16_t));
		out[old++] = ' ';
	}
	memcpy(out + old, words, add * sizeof(uint16_t));
	free(*cmdline);
	*cmdline = out;
	return 0;
}

int predict_profile_archive(const uint8_t *buf, const struct pe_image *img, uint32_t profile, uint8_t **ret,
			    uint64_t *ret_size)
{
	const struct pe_section *s = uki_section(img, profile, ".profile");
	size_t offset, present;
	uint32_t size;
	uint64_t planned;
	uint8_t *data, *out;
	ms_status r;

	*ret = NULL;
	*ret_size = 0;
	if (!s)
		return 0;
	uki_section_bytes(img, s, &offset, &present, &size);
	data = calloc(1, size);
	if (!data)
		return errorf("out of memory");
	memcpy(data, buf + offset, present); /* the rest stays zero, as the loader fills it */
	r = sysext_archive_literal_plan(INITRD_PROFILE_FILE, size, &planned);
	out = r == MS_OK ? calloc(1, planned) : NULL;
	if (out)
		r = sysext_archive_literal_fill(out, planned, INITRD_PROFILE_FILE, data, size, ret_size);
	free(data);
	if (!out || r != MS_OK) {
		free(out);
		return errorf("/.extra/%s: cannot lay out its archive", INITRD_PROFILE_FILE);
	}
	*ret = out;
	return 0;
}

void predict_signature_view(const struct pe_image *img, uint32_t profile, struct pe_image *view)
{
	static const char *const names[] = { ".pcrsig", ".pcrpkey" };

	*view = *img;
	view->n_sections = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct pe_section *s = uki_section(img, profile, names[i]);

		if (s)
			view->sections[view->n_sections++] = *s;
	}
}
