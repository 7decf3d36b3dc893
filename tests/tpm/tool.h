/* SPDX-License-Identifier: MIT */
/* tool.h - error reporting and file reading shared by tpm-policy-tool's modules. */
#ifndef TESTS_TPM_TOOL_H
#define TESTS_TPM_TOOL_H

#include <stddef.h>
#include <stdint.h>

/* Print "tpm-policy-tool: <message>" to stderr; returns -1 for `return tool_error(...)`. */
int tool_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Read a whole file of at most @max bytes; NUL-terminated. On failure prints the reason, returns -1. */
int tool_read_file(const char *path, size_t max, uint8_t **ret_buf, size_t *ret_len);

#endif
