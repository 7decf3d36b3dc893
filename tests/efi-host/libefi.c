/* SPDX-License-Identifier: MIT */
/*
 * libefi.c - the part of gnu-efi's libefi the stub's glue calls, for the
 * host: string and memory helpers, the protocol GUIDs, and Print /
 * UnicodeVSPrint with gnu-efi's conversions (%s UTF-16, %a ASCII, %r a
 * status, %c, %d/%u/%x 32-bit unless 'l' makes them 64-bit). Console output
 * is captured line by line (efi-host.h) instead of printed. A conversion
 * this formatter does not know is a violation, so a new one in the stub is
 * noticed here rather than printed wrong.
 */
#include <efi.h>
#include <efilib.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "efi-host.h"
#include "internal.h"

EFI_GUID gEfiFileInfoGuid = EFI_FILE_INFO_ID;
EFI_GUID gEfiSimpleFileSystemProtocolGuid = EFI_SIMPLE_FILE_SYSTEM_PROTOCOL_GUID;
EFI_GUID gEfiDevicePathProtocolGuid = EFI_DEVICE_PATH_PROTOCOL_GUID;
EFI_GUID gEfiLoadedImageProtocolGuid = EFI_LOADED_IMAGE_PROTOCOL_GUID;

/* ------------------------------------------------------------ strings and memory */

UINTN StrLen(IN CONST CHAR16 *s)
{
	UINTN n = 0;

	while (s[n])
		n++;
	return n;
}

INTN StrCmp(IN CONST CHAR16 *a, IN CONST CHAR16 *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (INTN)*a - (INTN)*b;
}

VOID SetMem(IN VOID *buf, IN UINTN size, IN UINT8 value)
{
	if (size)
		memset(buf, value, size);
}

VOID ZeroMem(IN VOID *buf, IN UINTN size)
{
	if (size)
		memset(buf, 0, size);
}

VOID CopyMem(IN VOID *dest, IN CONST VOID *src, IN UINTN len)
{
	if (len)
		memmove(dest, src, len);
}

size_t efi_host_strlen16(const CHAR16 *s)
{
	return StrLen(s);
}

void efi_host_ascii_to16(const char *s, CHAR16 *out, size_t cap)
{
	size_t i = 0;

	for (; s[i] && i + 1 < cap; i++)
		out[i] = (CHAR16)(unsigned char)s[i];
	out[i] = 0;
}

/* ------------------------------------------------------------ formatting */

/* Output of one conversion run: UTF-16 units into @buf (@cap units with the NUL). */
struct out16 {
	CHAR16 *buf;
	size_t cap, len;
};

static void put(struct out16 *o, CHAR16 c)
{
	if (o->len + 1 < o->cap)
		o->buf[o->len++] = c;
}

static void put_ascii(struct out16 *o, const char *s)
{
	for (; *s; s++)
		put(o, (CHAR16)(unsigned char)*s);
}

static const char *status_name(EFI_STATUS s)
{
	static const struct {
		EFI_STATUS status;
		const char *name;
	} names[] = {
		{ EFI_SUCCESS, "Success" },
		{ EFI_LOAD_ERROR, "Load Error" },
		{ EFI_INVALID_PARAMETER, "Invalid Parameter" },
		{ EFI_UNSUPPORTED, "Unsupported" },
		{ EFI_BAD_BUFFER_SIZE, "Bad Buffer Size" },
		{ EFI_BUFFER_TOO_SMALL, "Buffer Too Small" },
		{ EFI_DEVICE_ERROR, "Device Error" },
		{ EFI_WRITE_PROTECTED, "Write Protected" },
		{ EFI_OUT_OF_RESOURCES, "Out of Resources" },
		{ EFI_VOLUME_CORRUPTED, "Volume Corrupt" },
		{ EFI_VOLUME_FULL, "Volume Full" },
		{ EFI_NOT_FOUND, "Not Found" },
		{ EFI_ACCESS_DENIED, "Access Denied" },
		{ EFI_ALREADY_STARTED, "Already started" },
		{ EFI_PROTOCOL_ERROR, "Protocol error" },
		{ EFI_END_OF_FILE, "End of File" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].status == s)
			return names[i].name;
	return NULL;
}

/* One conversion (after '%'); returns the units of @fmt it used, 0 for an unknown one. */
static size_t convert(struct out16 *o, const CHAR16 *fmt, va_list *args)
{
	char num[32];
	size_t used = 0;
	int is_long = 0;

	if (fmt[used] == 'l') {
		is_long = 1;
		used++;
	}
	switch (fmt[used]) {
	case 's': {
		const CHAR16 *s = va_arg(*args, const CHAR16 *);

		if (!s)
			put_ascii(o, "(null)");
		for (; s && *s; s++)
			put(o, *s);
		break;
	}
	case 'a': {
		const char *s = va_arg(*args, const char *);

		put_ascii(o, s ? s : "(null)");
		break;
	}
	case 'r': {
		EFI_STATUS st = va_arg(*args, EFI_STATUS);
		const char *name = status_name(st);

		if (!name) {
			snprintf(num, sizeof(num), "%lx[%lu]", (unsigned long)st, (unsigned long)(st & ~EFIERR(0)));
			name = num;
		}
		put_ascii(o, name);
		break;
	}
	case 'c':
		put(o, (CHAR16)va_arg(*args, UINTN));
		break;
	case 'd':
		snprintf(num, sizeof(num), "%lld", is_long ? (long long)va_arg(*args, INT64) : (long long)va_arg(*args, INT32));
		put_ascii(o, num);
		break;
	case 'u':
		snprintf(num, sizeof(num), "%llu",
			 is_long ? (unsigned long long)va_arg(*args, UINT64) : (unsigned long long)va_arg(*args, UINT32));
		put_ascii(o, num);
		break;
	case 'x':
		snprintf(num, sizeof(num), "%llx",
			 is_long ? (unsigned long long)va_arg(*args, UINT64) : (unsigned long long)va_arg(*args, UINT32));
		put_ascii(o, num);
		break;
	case '%':
		put(o, '%');
		break;
	default:
		return 0;
	}
	return used + 1;
}

static void format16(struct out16 *o, const CHAR16 *fmt, va_list args)
{
	va_list ap;

	va_copy(ap, args);
	for (const CHAR16 *p = fmt; *p; p++) {
		size_t used;

		if (*p != '%') {
			put(o, *p);
			continue;
		}
		used = convert(o, p + 1, &ap);
		if (!used) {
			efi_host_violation("libefi: format conversion '%%%c' is not supported here", (char)p[1]);
			break;
		}
		p += used;
	}
	va_end(ap);
	o->buf[o->len] = 0;
}

UINTN UnicodeVSPrint(OUT CHAR16 *str, IN UINTN str_size, IN CONST CHAR16 *fmt, va_list args)
{
	struct out16 o = { str, str_size / sizeof(CHAR16), 0 };

	if (o.cap == 0)
		return 0;
	format16(&o, fmt, args);
	return o.len;
}

/* ------------------------------------------------------------ the console */

#define LOG_PENDING_MAX 4096

static struct {
	char **lines;
	size_t n, cap;
	size_t unsafe;
	char pending[LOG_PENDING_MAX * 4 + 8]; /* UTF-8 of the line being printed */
	size_t pending_len;
	int pending_unsafe;
	int echo;
} console;

static void line_done(void)
{
	char *copy;

	console.pending[console.pending_len] = 0;
	if (console.echo || getenv("EFI_HOST_LOG"))
		fprintf(stderr, "[efi] %s\n", console.pending);
	efi_host_reserve(&console.lines, &console.cap, console.n, sizeof(*console.lines));
	copy = strdup(console.pending);
	if (!copy)
		abort();
	console.lines[console.n++] = copy;
	console.unsafe += console.pending_unsafe;
	console.pending_len = 0;
	console.pending_unsafe = 0;
}

static void pending_add(const char *s, size_t n)
{
	if (console.pending_len + n < sizeof(console.pending))
		memcpy(console.pending + console.pending_len, s, n), console.pending_len += n;
}

/*
 * One UTF-16 unit onto the console; control characters are stored escaped.
 * C0 and C1 ones (what starts an escape sequence) are counted as unsafe;
 * DEL starts none and is only escaped.
 */
static void console_unit(CHAR16 c)
{
	char b[8];

	if (c == '\n') {
		line_done();
		return;
	}
	if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
		console.pending_unsafe |= c != 0x7f;
		snprintf(b, sizeof(b), "\\x%02x", (unsigned)c);
		pending_add(b, strlen(b));
	} else if (c < 0x80) {
		b[0] = (char)c;
		pending_add(b, 1);
	} else if (c < 0x800) {
		b[0] = (char)(0xc0 | (c >> 6));
		b[1] = (char)(0x80 | (c & 0x3f));
		pending_add(b, 2);
	} else {
		b[0] = (char)(0xe0 | (c >> 12));
		b[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		b[2] = (char)(0x80 | (c & 0x3f));
		pending_add(b, 3);
	}
}

UINTN Print(IN CONST CHAR16 *fmt, ...)
{
	CHAR16 line[LOG_PENDING_MAX];
	struct out16 o = { line, LOG_PENDING_MAX, 0 };
	va_list args;

	va_start(args, fmt);
	format16(&o, fmt, args);
	va_end(args);
	for (size_t i = 0; i < o.len; i++)
		console_unit(line[i]);
	return o.len;
}

size_t efi_host_log_count(void)
{
	return console.n;
}

const char *efi_host_log_line(size_t i)
{
	return i < console.n ? console.lines[i] : NULL;
}

size_t efi_host_log_find(const char *needle)
{
	size_t n = 0;

	for (size_t i = 0; i < console.n; i++)
		n += strstr(console.lines[i], needle) != NULL;
	return n;
}

size_t efi_host_log_unsafe_lines(void)
{
	return console.unsafe;
}

void efi_host_log_echo(int on)
{
	console.echo = on;
}

void efi_host_log_print(void)
{
	for (size_t i = 0; i < console.n; i++)
		fprintf(stderr, "  | %s\n", console.lines[i]);
}

void efi_host_log_reset(void)
{
	if (console.pending_len)
		line_done();
	for (size_t i = 0; i < console.n; i++)
		free(console.lines[i]);
	free(console.lines);
	console.lines = NULL;
	console.n = console.cap = console.unsafe = 0;
	console.pending_len = 0;
	console.pending_unsafe = 0;
}
