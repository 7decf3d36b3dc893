/* SPDX-License-Identifier: MIT */
/*
 * json-writer.h - the one JSON string writer of the host tools.
 *
 * JSON text is UTF-8 (RFC 8259 §8.1), and the parsers our output is made
 * for refuse anything else: systemd's (json_variant_new_stringn() returns
 * -EUCLEAN; its parser also refuses noncharacters), Python's json with a
 * strict decode, jq. A Linux path is any bytes but NUL, so a string JSON
 * cannot carry is refused by the command before it prints anything
 * (json_text_ok(), with a message naming it), never escaped into something
 * else: a lossy escape would hand consumers a path that does not exist.
 * README.md, "Predict before you boot", says so.
 */
#ifndef HOST_TOOLS_JSON_WRITER_H
#define HOST_TOOLS_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * Whether @s is a string JSON can carry: UTF-8 throughout, with no
 * character systemd's parser refuses even escaped (a noncharacter; the
 * rule is measure/json.c's json_char_len()).
 */
bool json_text_ok(const char *s);

/*
 * @s as a JSON string: '"' and '\\' escaped, control characters and DEL as
 * \u00XX (systemd's parser refuses them raw). Callers check json_text_ok()
 * first; should a byte no JSON string can hold get here anyway, it is
 * written as '?' (as the `eventlog --expect` reader would read it), so the
 * output is valid JSON whatever happens.
 */
void json_write_string(FILE *out, const char *s);

/* json_write_string(), or null for NULL. */
void json_write_string_or_null(FILE *out, const char *s);

#endif
