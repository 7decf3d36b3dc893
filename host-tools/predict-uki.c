/* SPDX-License-Identifier: MIT */
#include "predict-uki.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "measure/cmdline.h"
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
	size_t cap = (*cmdline ? cmdline_len16(*cmdline) : 0) + cmdline_len16(words) + 2;
	uint16_t *out = calloc(cap, sizeof(uint16_t));

	if (!out || cmdline_extend(*cmdline, words, out, cap) != MS_OK) {
		free(out);
		return errorf("out of memory");
	}
	free(*cmdline);
	*cmdline = out;
	return 0;
}
