/* SPDX-License-Identifier: MIT */
#include "json-writer.h"

#include <string.h>

#include "measure/json.h"

bool json_text_ok(const char *s)
{
	for (size_t left = strlen(s), n; left > 0; s += n, left -= n) {
		n = json_char_len(s, left);
		if (n == 0)
			return false;
	}
	return true;
}

void json_write_string(FILE *out, const char *s)
{
	size_t left = strlen(s), n;

	fputc('"', out);
	for (; left > 0; s += n, left -= n) {
		unsigned char c = (unsigned char)*s;

		n = json_char_len(s, left);
		if (n == 0) {
			fputc('?', out);
			n = 1;
		} else if (c == '"' || c == '\\') {
			fputc('\\', out);
			fputc(c, out);
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(out, "\\u%04x", c);
		} else {
			fwrite(s, 1, n, out);
		}
	}
	fputc('"', out);
}

void json_write_string_or_null(FILE *out, const char *s)
{
	if (s)
		json_write_string(out, s);
	else
		fputs("null", out);
}
