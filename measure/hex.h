/* SPDX-License-Identifier: MIT */
/*
 * hex.h - hex digits: the one parser of them for the stub, the host tools
 * and the tests (measure/json.c's \uXXXX escapes, the signature files'
 * digests, digests on the command line and in JSON).
 *
 * A hex digit is 0-9, a-f or A-F; nothing else (no "0x", no whitespace).
 */
#ifndef MEASURE_HEX_H
#define MEASURE_HEX_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

/* The value 0..15 of hex digit @c, or -1 if @c is not one. */
int hex_digit_value(uint8_t c);

/*
 * Decode hex[0..hex_len) into exactly @out_len bytes. MS_ERR_INVALID unless
 * hex_len == 2 * out_len and every character is a hex digit; @out may then
 * hold part of the result.
 */
ms_status hex_to_bytes(const void *hex, size_t hex_len, uint8_t *out, size_t out_len);

#endif
