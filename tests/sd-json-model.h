/* SPDX-License-Identifier: MIT */
/*
 * sd-json-model.h - a test oracle: whether systemd's JSON parser (v252
 * src/shared/json.c, v257..v262 src/libsystemd/sd-json/sd-json.c; the
 * rules below are the same in all of them) accepts a document.
 *
 * Written from systemd's source, as a recursive descent over code points,
 * independently of measure/json.c, so that the fuzz targets can check
 * json.c and the merge against it; tests/test-systemd-json.c checks this
 * model against the real parser in libsystemd-shared.
 *
 * systemd reads the file into a C string, so the document ends at the
 * first NUL byte. Then:
 *  - whitespace: space, tab, LF, CR; one value, nothing after it;
 *  - literals true, false, null; numbers by RFC 8259's grammar, any size
 *    (too large ones become doubles or null, never an error);
 *  - in strings: bytes 0x01-0x1f and 0x7f are refused; other bytes
 *    >= 0x80 must form UTF-8 in the shortest form; escapes are \" \\ \/ \b
 *    \f \n \r \t and \uXXXX, where \u0000 is refused, a high surrogate must
 *    be followed by an escaped low one and a lone low one is refused;
 *  - every character of a string, raw or escaped, must be a Unicode scalar
 *    value that is not a noncharacter (U+FDD0..U+FDEF, U+xFFFE, U+xFFFF):
 *    systemd's unichar_is_valid(), applied by utf8_is_valid_n() when the
 *    parsed string becomes a JSON variant;
 *  - containers nest at most SD_JSON_MODEL_DEPTH_MAX deep (approximately:
 *    v252 counts depth on the built variants, v257+ on the parser stack,
 *    and the two differ by one at the limit; no test goes near it);
 *  - duplicate keys are accepted.
 */
#ifndef TESTS_SD_JSON_MODEL_H
#define TESTS_SD_JSON_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SD_JSON_MODEL_DEPTH_MAX 2048

bool sd_json_model_accepts(const uint8_t *data, size_t len);

/* Deepest container nesting in data[0..len) (brackets outside strings; for inputs the model accepts). */
size_t sd_json_model_depth(const uint8_t *data, size_t len);

#endif
