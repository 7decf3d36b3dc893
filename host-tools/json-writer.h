/* SPDX-License-Identifier: MIT */
/*
 * json-writer.h - the one JSON string writer of the host tools.
 *
 * JSON text is UTF-8 (RFC 8259 §8.1), and the parsers our output is made
 * for refuse anything else: systemd's (json_variant_new_stringn() returns
 * -EUCLEAN), Python's json with a strict decode, jq. A Linux path is any
 * bytes but NUL, so a string that is not UTF-8 is refused by the command
 * before it prints anything (json_text_ok(), with a message naming it),
 * never escaped into something else: a lossy escape would hand consumers a
 * path that does not exist. README.md, "Predict before you boot", says so.
 */
#ifndef HOST_TOOLS_JSON_WRITER_H
#define HOST_TOOLS_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * The length of the valid UTF-8 sequence at @s (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), 0 if there is none. The
 * NUL ending a string is never part of a longer sequence.
 */
size_t utf8_sequence_len(const char *s);

/* Whether @s is UTF-8 throughout: a string JSON can carry. */
bool json_text_ok(const char *s);

/*
 * @s as a JSON string: '"' and '\\' escaped, control characters and DEL as
 * \u00XX (systemd's parser refuses them raw). Callers check json_text_ok()
 * first; should a byte that is not UTF-8 get here anyway, it is written as
 * U+FFFD, so the output is valid JSON whatever happens.
 */
void json_write_string(FILE *out, const char *s);

/* json_write_string(), or null for NULL. */
void json_write_string_or_null(FILE *out, const char *s);

#endif
