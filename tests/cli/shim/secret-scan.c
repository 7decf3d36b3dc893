/* SPDX-License-Identifier: MIT */
/*
 * secret-scan.c - LD_PRELOAD shim that looks for key material left in heap
 * memory (tests/cli/test_sign.py, make cli-check).
 *
 *   SECRET_SCAN_PATTERNS=HEX[,HEX...]  byte strings to look for (at most 8,
 *                                      8 to 64 bytes each), e.g. a slice of
 *                                      an RSA key's private exponent d
 *   SECRET_SCAN_REPORT=FILE            where the findings are appended
 *
 * Every block about to be freed (free, realloc - which may move it and
 * leave the old copy behind - and realloc to size 0) is searched over its
 * whole malloc_usable_size(), not just what was asked for, and so is every
 * block still allocated when the process ends (allocations are tracked in a
 * table outside the heap). Each occurrence is one line
 *   hit <free|realloc|exit> pattern=N size=S offset=O
 * and the end of the process adds
 *   done frees=F live=L untracked=U hits=H
 * so a test can tell "no hit" from "the shim never ran".
 *
 * The shim itself never allocates: glibc's __libc_* entry points do the
 * work, the table is mmap'ed, the report is written with write(2).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <malloc.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void *__libc_memalign(size_t align, size_t size);
extern void __libc_free(void *p);

#define MAX_PATTERNS 8
#define PATTERN_MAX 64
#define TABLE_SLOTS (1u << 20) /* live blocks tracked; more are counted as untracked */
#define TOMBSTONE ((uintptr_t)1)

static struct {
	uint8_t bytes[PATTERN_MAX];
	size_t len;
} patterns[MAX_PATTERNS];
static size_t n_patterns;
static int report_fd = -1;
static bool initialised, in_exit;
static uintptr_t *table; /* open addressing, linear probing; 0 empty */
static unsigned long frees, untracked, hits;
static volatile char lock;

static void take(void)
{
	while (__atomic_test_and_set(&lock, __ATOMIC_ACQUIRE))
		;
}

static void give(void)
{
	__atomic_clear(&lock, __ATOMIC_RELEASE);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void put(const char *s)
{
	size_t len = strlen(s);

	while (report_fd >= 0 && len) {
		ssize_t n = write(report_fd, s, len);

		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

static void put_num(unsigned long v)
{
	char buf[24], *p = buf + sizeof(buf) - 1;

	*p = 0;
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(p);
}

/* Under the lock. A malformed pattern list is reported and disables nothing silently: it is a hit. */
static void init(void)
{
	const char *spec = getenv("SECRET_SCAN_PATTERNS"), *path = getenv("SECRET_SCAN_REPORT");

	initialised = true;
	if (path)
		report_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	table = mmap(NULL, TABLE_SLOTS * sizeof(*table), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (table == MAP_FAILED)
		table = NULL;
	for (const char *s = spec; s && *s && n_patterns < MAX_PATTERNS;) {
		size_t len = 0;
		int hi, lo;

		while (*s && *s != ',') {
			hi = hexval(s[0]);
			lo = hi < 0 ? -1 : hexval(s[1]);
			if (lo < 0 || len == PATTERN_MAX) {
				put("error bad SECRET_SCAN_PATTERNS\n");
				hits++;
				return;
			}
			patterns[n_patterns].bytes[len++] = (uint8_t)(hi << 4 | lo);
			s += 2;
		}
		if (len < 8) {
			put("error pattern shorter than 8 bytes\n");
			hits++;
			return;
		}
		patterns[n_patterns++].len = len;
		if (*s == ',')
			s++;
	}
}

static void scan(const void *p, const char *when)
{
	size_t size = malloc_usable_size((void *)p);

	for (size_t i = 0; i < n_patterns; i++) {
		const uint8_t *at = memmem(p, size, patterns[i].bytes, patterns[i].len);

		if (!at)
			continue;
		hits++;
		put("hit ");
		put(when);
		put(" pattern=");
		put_num(i);
		put(" size=");
		put_num(size);
		put(" offset=");
		put_num((unsigned long)(at - (const uint8_t *)p));
		put("\n");
	}
}

static size_t slot_of(uintptr_t v)
{
	return (size_t)((v >> 4) * 0x9E3779B97F4A7C15ull >> 44) & (TABLE_SLOTS - 1);
}

static void track(void *p)
{
	uintptr_t v = (uintptr_t)p;

	if (!p)
		return;
	if (!table) {
		untracked++;
		return;
	}
	for (size_t i = slot_of(v), n = 0; n < TABLE_SLOTS; i = (i + 1) & (TABLE_SLOTS - 1), n++)
		if (table[i] == 0 || table[i] == TOMBSTONE) {
			table[i] = v;
			return;
		}
	untracked++;
}

static void untrack(void *p)
{
	uintptr_t v = (uintptr_t)p;

	if (!table)
		return;
	for (size_t i = slot_of(v), n = 0; n < TABLE_SLOTS && table[i]; i = (i + 1) & (TABLE_SLOTS - 1), n++)
		if (table[i] == v) {
			table[i] = TOMBSTONE;
			return;
		}
}

static void enter(void)
{
	take();
	if (!initialised)
		init();
}

void *malloc(size_t size)
{
	void *p = __libc_malloc(size);

	enter();
	track(p);
	give();
	return p;
}

void *calloc(size_t n, size_t size)
{
	void *p = __libc_calloc(n, size);

	enter();
	track(p);
	give();
	return p;
}

void *memalign(size_t align, size_t size)
{
	void *p = __libc_memalign(align, size);

	enter();
	track(p);
	give();
	return p;
}

void *aligned_alloc(size_t align, size_t size)
{
	return memalign(align, size);
}

int posix_memalign(void **ret, size_t align, size_t size)
{
	void *p;

	if (align < sizeof(void *) || (align & (align - 1)))
		return 22; /* EINVAL */
	p = memalign(align, size);
	if (!p)
		return 12; /* ENOMEM */
	*ret = p;
	return 0;
}

void free(void *p)
{
	if (!p)
		return;
	enter();
	if (!in_exit) {
		frees++;
		scan(p, "free");
		untrack(p);
	}
	give();
	__libc_free(p);
}

void *realloc(void *p, size_t size)
{
	void *q;

	if (!p)
		return malloc(size);
	if (size == 0) {
		free(p);
		return NULL;
	}
	/* Whether glibc moves the block is its choice: a secret in it would be left behind if it does. */
	enter();
	scan(p, "realloc");
	untrack(p);
	give();
	q = __libc_realloc(p, size);
	enter();
	track(q ? q : p); /* on failure the old block stays allocated */
	give();
	return q;
}

__attribute__((destructor)) static void at_exit(void)
{
	unsigned long live = 0;

	enter();
	in_exit = true;
	for (size_t i = 0; table && i < TABLE_SLOTS; i++)
		if (table[i] > TOMBSTONE) {
			live++;
			scan((void *)table[i], "exit");
		}
	put("done frees=");
	put_num(frees);
	put(" live=");
	put_num(live);
	put(" untracked=");
	put_num(untracked);
	put(" hits=");
	put_num(hits);
	put("\n");
	give();
}
