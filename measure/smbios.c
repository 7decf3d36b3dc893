/* SPDX-License-Identifier: MIT */
#include "smbios.h"

/* Bytes from @p to just past the string set's closing NUL, or 0 if it runs past @left bytes. */
static size_t string_set_size(const uint8_t *p, size_t left)
{
	size_t i = 0;

	/* No strings: two NULs. */
	if (left >= 2 && p[0] == 0 && p[1] == 0)
		return 2;
	/* Otherwise strings until an empty one; its NUL closes the set. */
	for (;;) {
		size_t start = i;

		while (i < left && p[i])
			i++;
		if (i >= left)
			return 0;
		i++; /* the NUL */
		if (i - start == 1 && start > 0)
			return i;
	}
}

ms_status smbios_next(const uint8_t *table, size_t len, size_t *offset, struct smbios_structure *ret)
{
	size_t at = *offset, strings;
	const uint8_t *p;

	if (!table || at > len || len - at < SMBIOS_HEADER_SIZE)
		return MS_ERR_NOT_FOUND;
	p = table + at;
	if (p[0] == SMBIOS_TYPE_END)
		return MS_ERR_NOT_FOUND;
	if (p[1] < SMBIOS_HEADER_SIZE || p[1] > len - at)
		return MS_ERR_TRUNCATED;
	strings = string_set_size(p + p[1], len - at - p[1]);
	if (strings == 0)
		return MS_ERR_TRUNCATED;
	ret->data = p;
	ret->type = p[0];
	ret->length = p[1];
	ret->size = p[1] + strings;
	*offset = at + ret->size;
	return MS_OK;
}

static int starts_with(const uint8_t *s, size_t n, const char *prefix, size_t *ret_prefix_len)
{
	size_t i = 0;

	for (; prefix[i]; i++)
		if (i >= n || s[i] != (uint8_t)prefix[i])
			return 0;
	*ret_prefix_len = i;
	return 1;
}

ms_status smbios_oem_string(const uint8_t *table, size_t len, const char *prefix, const uint8_t **ret,
			    size_t *ret_len)
{
	struct smbios_structure s;
	size_t at = 0;

	/* Only the first type 11 structure counts, as in systemd-stub. */
	while (smbios_next(table, len, &at, &s) == MS_OK) {
		size_t i;

		if (s.type != SMBIOS_TYPE_OEM_STRINGS)
			continue;
		i = s.length;
		while (i < s.size && s.data[i]) {
			size_t end = i, plen;

			while (s.data[end])
				end++; /* smbios_next() found this string's NUL */
			if (starts_with(s.data + i, end - i, prefix, &plen)) {
				*ret = s.data + i + plen;
				*ret_len = end - i - plen;
				return MS_OK;
			}
			i = end + 1;
		}
		return MS_ERR_NOT_FOUND;
	}
	return MS_ERR_NOT_FOUND;
}

int smbios_is_measured(const struct smbios_structure *s, uint32_t *ret_tag, const char **ret_description)
{
	switch (s->type) {
	case SMBIOS_TYPE_SYSTEM:
		*ret_tag = SMBIOS_TAG_TYPE1;
		*ret_description = "smbios:type1";
		return 1;
	case SMBIOS_TYPE_BASEBOARD:
		*ret_tag = SMBIOS_TAG_TYPE2;
		*ret_description = "smbios:type2";
		return 1;
	case SMBIOS_TYPE_OEM_STRINGS:
		*ret_tag = SMBIOS_TAG_TYPE11;
		*ret_description = "smbios:type11";
		return 1;
	default:
		return 0;
	}
}

void smbios_measured_copy(const struct smbios_structure *s, uint8_t *out)
{
	for (size_t i = 0; i < s->size; i++)
		out[i] = s->data[i];
	if (s->type == SMBIOS_TYPE_SYSTEM && s->length > SMBIOS_TYPE1_WAKE_UP_TYPE)
		out[SMBIOS_TYPE1_WAKE_UP_TYPE] = 0;
}
