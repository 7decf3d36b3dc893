/* SPDX-License-Identifier: MIT */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int errorf(const char *fmt, ...)
{
	va_list ap;

	fputs("sysext-stub: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

void warnf(const char *fmt, ...)
{
	va_list ap;

	fputs("sysext-stub: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int read_file(const char *path, uint64_t max_size, uint8_t **ret_buf, size_t *ret_len)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t done = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errorf("%s: cannot open: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		errorf("%s: cannot stat: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		errorf("%s: not a regular file", path);
		goto fail;
	}
	if ((uint64_t)st.st_size > max_size) {
		errorf("%s: too large (%lld bytes, limit %llu)", path, (long long)st.st_size,
		       (unsigned long long)max_size);
		goto fail;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		errorf("%s: out of memory for %lld bytes", path, (long long)st.st_size);
		goto fail;
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			errorf("%s: read error: %s", path, strerror(errno));
			goto fail;
		}
		if (n == 0) {
			errorf("%s: file shrank while reading", path);
			goto fail;
		}
		done += (size_t)n;
	}
	close(fd);
	*ret_buf = buf;
	*ret_len = done;
	return 0;
fail:
	free(buf);
	close(fd);
	return -1;
}

int write_file_atomic(const char *path, const void *buf, size_t len, unsigned mode)
{
	char *dircopy = strdup(path), *tmp = NULL;
	const uint8_t *p = buf;
	int fd = -1, r = -1;

	if (!dircopy || asprintf(&tmp, "%s/.%s.XXXXXX", dirname(dircopy), strrchr(path, '/') ? strrchr(path, '/') + 1 : path) < 0) {
		tmp = NULL;
		errorf("%s: out of memory", path);
		goto out;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		errorf("%s: cannot create a temporary file next to it: %s", path, strerror(errno));
		goto out;
	}
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			errorf("%s: write error: %s", path, strerror(errno));
			goto out;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fchmod(fd, mode) < 0 || fsync(fd) < 0) {
		errorf("%s: cannot finish writing: %s", path, strerror(errno));
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		errorf("%s: cannot finish writing: %s", path, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		errorf("%s: cannot rename the temporary file into place: %s", path, strerror(errno));
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	if (r < 0 && tmp)
		unlink(tmp);
	free(tmp);
	free(dircopy);
	return r;
}

int align_up_u32(uint32_t v, uint32_t a, uint32_t *ret)
{
	uint64_t r = ((uint64_t)v + a - 1) & ~((uint64_t)a - 1);

	if (r > UINT32_MAX)
		return -1;
	*ret = (uint32_t)r;
	return 0;
}
