/* SPDX-License-Identifier: MIT */
/*
 * fuzz-host.h - what the fuzz targets that drive host-tools/ share: an
 * invariant check that reports on the real stderr, quieting the tools' own
 * messages (they go to stderr, which is /dev/null here), and input handed
 * over as a file (a memfd, named /proc/self/fd/N).
 */
#ifndef TESTS_FUZZ_FUZZ_HOST_H
#define TESTS_FUZZ_FUZZ_HOST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create */
#endif
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static FILE *fuzz_real_stderr;

/* Abort with the failed invariant (sanitizer reports use fd 2 directly, so they are seen too). */
#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(fuzz_real_stderr ? fuzz_real_stderr : stderr,                      \
				"%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* From the first call on, stderr is /dev/null: the tools' messages are expected, and many. */
static inline void fuzz_quiet_stderr(void)
{
	if (fuzz_real_stderr)
		return;
	fuzz_real_stderr = stderr;
	stderr = fopen("/dev/null", "w");
	CHECK(stderr != NULL);
}

/* A memfd holding @size bytes of @data, its name in @path; the caller closes it. */
static inline int fuzz_memfd(const void *data, size_t size, char path[64])
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC);

	CHECK(fd >= 0);
	CHECK(size == 0 || write(fd, data, size) == (ssize_t)size);
	snprintf(path, 64, "/proc/self/fd/%d", fd);
	return fd;
}

#endif
