/* SPDX-License-Identifier: MIT */
/*
 * efi-host.h - the firmware the stub's glue runs against on the host.
 *
 * stub/ and efi-lib/ sources are compiled unchanged against gnu-efi's
 * headers (-fshort-wchar, MS ABI function pointers) and linked with this
 * directory instead of gnu-efi's libefi and a firmware:
 *   libefi.c         the few libefi functions they call (StrLen, CopyMem,
 *                    Print, UnicodeVSPrint, ...); console output is captured
 *                    line by line;
 *   boot-services.c  BS: pool and pages from malloc, tracked, so a leak, a
 *                    double free or a free of the wrong size is a violation;
 *                    a protocol database for Install/Uninstall/Locate/Handle;
 *   tpm-fake.c       EFI_TCG2_PROTOCOL and EFI_CC_MEASUREMENT_PROTOCOL that
 *                    record every event (tpm-fake.h);
 *   memfs.c          an in-memory EFI_FILE_PROTOCOL volume with fault knobs
 *                    (memfs.h);
 *   glue.c           the collect-and-hand-over flow of stub.c over them,
 *                    and glue-check.c, the invariants it must keep (glue.h).
 * Everything here is single-threaded test scaffolding; efi_host_reset()
 * starts a fresh firmware.
 */
#ifndef TESTS_EFI_HOST_H
#define TESTS_EFI_HOST_H

#include <efi.h>
#include <stddef.h>

/* ------------------------------------------------------------ violations */

/*
 * Something the code under test must never do (free twice, leak, measure
 * other bytes than it hands over, ...). Recorded, not fatal: the caller
 * checks efi_host_violation_count() (unit tests print them, fuzz aborts).
 */
void efi_host_violation(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
size_t efi_host_violation_count(void);
/* The recorded messages, one per line, to stderr. */
void efi_host_violations_print(void);

/* ------------------------------------------------------------ memory */

struct efi_host_alloc_faults {
	unsigned long pool_fail_at;  /* the Nth AllocatePool call fails (1-based); 0: none */
	unsigned long pages_fail_at; /* the Nth AllocatePages call fails; 0: none */
	UINTN pages_max;             /* an AllocatePages of more pages fails; 0: no limit */
};
void efi_host_set_alloc_faults(const struct efi_host_alloc_faults *f);

struct efi_host_memory {
	size_t pool_blocks;        /* live AllocatePool blocks */
	UINT64 pool_bytes;         /* their sizes as requested */
	size_t page_allocs;        /* live AllocatePages allocations */
	UINT64 pages;              /* their pages */
	unsigned long pool_calls;  /* AllocatePool calls so far, failed ones included */
	unsigned long pages_calls; /* AllocatePages calls so far */
	unsigned long failed;      /* allocations refused by a fault knob */
};
void efi_host_memory(struct efi_host_memory *ret);
/* Pages allocated at @addr: their count, 0 if @addr starts no live page allocation. */
UINTN efi_host_pages_at(const void *addr);
/* Free everything still live (after a violation was recorded for it), so runs stay independent. */
void efi_host_reclaim(void);

/* Host memory is not unlimited: larger page requests fail, as on a small machine. */
#define EFI_HOST_PAGES_MAX ((UINTN)(1u << 30) / EFI_PAGE_SIZE)

/* Byte values fresh allocations are filled with (the firmware does not zero them). */
#define EFI_HOST_POOL_POISON 0xaf
#define EFI_HOST_PAGE_POISON 0xa5

/* ------------------------------------------------------------ protocols */

/* Install @iface for @guid on *@handle (a new handle if *@handle is NULL). */
EFI_STATUS efi_host_install(EFI_HANDLE *handle, const EFI_GUID *guid, void *iface);
/* The first interface installed for @guid, and its handle; NULL if none. */
void *efi_host_find_protocol(const EFI_GUID *guid, EFI_HANDLE *ret_handle);
/* The interface for @guid on @handle, NULL if none. */
void *efi_host_handle_protocol(EFI_HANDLE handle, const EFI_GUID *guid);
size_t efi_host_protocol_count(void);
/* Make UninstallMultipleProtocolInterfaces fail with @status (0: it works). */
void efi_host_set_uninstall_status(EFI_STATUS status);
/* Providers LocateProtocol answers from (tpm-fake.c registers the TCG2 and CC fakes). */
typedef void *(*efi_host_locate_fn)(const EFI_GUID *guid);
void efi_host_set_locate(efi_host_locate_fn fn);

/* ------------------------------------------------------------ console */

/* Lines printed so far (UTF-8, no newline), in order. */
size_t efi_host_log_count(void);
const char *efi_host_log_line(size_t i);
/* How many lines contain @needle. */
size_t efi_host_log_find(const char *needle);
/* Lines that held a C0 or C1 control character (stored escaped as \xNN, as DEL is). */
size_t efi_host_log_unsafe_lines(void);
/* Echo every line to stderr as it is printed (EFI_HOST_LOG=1 in the environment does too). */
void efi_host_log_echo(int on);
void efi_host_log_print(void);

/* ------------------------------------------------------------ all of it */

/*
 * A fresh firmware: no knobs, no log, no violations, no protocols, and
 * live allocations freed without a word (check efi_host_memory() first).
 */
void efi_host_reset(void);

/* Loader variables (runtime.c): forget them all; how often @name was set, its last value (ASCII) in @value. */
void efi_host_vars_reset(void);
unsigned efi_host_var_sets(const char *name, char *value, size_t cap);

/* UTF-16 helpers for tests. */
size_t efi_host_strlen16(const CHAR16 *s);
/* ASCII @s into @out (@cap units with the NUL). */
void efi_host_ascii_to16(const char *s, CHAR16 *out, size_t cap);

#endif
