/* SPDX-License-Identifier: MIT */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
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

int read_fd_to_end(int fd, const char *path, uint64_t max_size, size_t size_hint, uint8_t **ret_buf,
		   size_t *ret_len)
{
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;

	for (;;) {
		ssize_t n;

		/* Always keep one byte free: it ends the data with a NUL. */
		if (cap - len < 2) {
			size_t ncap = cap ? 2 * cap : (size_hint ? size_hint + 2 : 64 * 1024);
			uint8_t *nbuf;

			if (ncap > max_size + 2)
				ncap = max_size + 2;
			nbuf = realloc(buf, ncap);
			if (!nbuf) {
				errorf("%s: out of memory", path);
				goto fail;
			}
			buf = nbuf;
			cap = ncap;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			errorf("%s: read error: %s", path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max_size) {
			errorf("%s: larger than %llu bytes", path, (unsigned long long)max_size);
			goto fail;
		}
	}
	buf[len] = 0;
	*ret_buf = buf;
	*ret_len = len;
	return 0;
fail:
	free(buf);
	return -1;
}

int open_regular_file(const char *path, struct stat *st)
{
	/* O_NONBLOCK: a FIFO nobody writes to is refused below instead of blocking open(). */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return errorf("%s: cannot open: %s", path, strerror(errno));
	if (fstat(fd, st) < 0) {
		errorf("%s: cannot stat: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		errorf("%s: not a regular file", path);
		close(fd);
		return -1;
	}
	return fd;
}

int read_file(const char *path, uint64_t max_size, uint8_t **ret_buf, size_t *ret_len)
{
	struct stat st;
	int fd, r = -1;

	fd = open_regular_file(path, &st);
	if (fd < 0)
		return -1;
	if ((uint64_t)st.st_size > max_size) {
		errorf("%s: too large (%lld bytes, limit %llu)", path, (long long)st.st_size,
		       (unsigned long long)max_size);
		goto out;
	}
	if (read_fd_to_end(fd, path, max_size, (size_t)st.st_size, ret_buf, ret_len) < 0)
		goto out;
	if (*ret_len != (uint64_t)st.st_size) {
		errorf("%s: file changed size while reading", path);
		free(*ret_buf);
		*ret_buf = NULL;
		goto out;
	}
	r = 0;
out:
	close(fd);
	return r;
}

int read_any_file(const char *path, uint64_t max_size, bool missing_ok, uint8_t **ret_buf, size_t *ret_len)
{
	struct stat st;
	int r, fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		if (missing_ok && errno == ENOENT)
			return 1;
		return errorf("%s: cannot open: %s", path, strerror(errno));
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
		r = errorf("%s: is a directory", path);
	else
		r = read_fd_to_end(fd, path, max_size, 0, ret_buf, ret_len);
	close(fd);
	return r;
}

/*
 * A new file next to @path (@dir is its directory) for the new contents,
 * created as open(2) creates one with @mode: the umask and a default ACL
 * apply. Its fd, with its name in *ret_tmp; or -1 (printed).
 */
static int create_temporary(const char *path, const char *dir, unsigned mode, char **ret_tmp)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;

	for (int attempt = 0; attempt < 100; attempt++) {
		uint64_t nonce;
		char *tmp = NULL;
		int fd;

		if (getrandom(&nonce, sizeof(nonce), 0) != sizeof(nonce))
			return errorf("%s: no random name for a temporary file: %s", path, strerror(errno));
		if (asprintf(&tmp, "%s/.%s.%012llx", dir, base, (unsigned long long)(nonce & 0xffffffffffffULL)) < 0)
			return errorf("%s: out of memory", path);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)mode);
		if (fd >= 0) {
			*ret_tmp = tmp;
			return fd;
		}
		free(tmp);
		if (errno != EEXIST)
			return errorf("%s: cannot create a temporary file next to it: %s", path, strerror(errno));
	}
	return errorf("%s: cannot create a temporary file next to it: every name tried exists", path);
}

static int write_all(int fd, const char *path, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errorf("%s: write error: %s", path, strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int write_file_atomic(const char *path, const void *buf, size_t len, unsigned mode)
{
	char *dircopy = strdup(path), *tmp = NULL;
	const char *dir;
	int dirfd = -1, fd = -1, r = -1;
	bool renamed = false;

	if (!dircopy) {
		errorf("%s: out of memory", path);
		goto out;
	}
	dir = dirname(dircopy); /* may be a static "." rather than in dircopy */
	/* Opened first: a directory we cannot sync fails the write before anything changes. */
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		errorf("%s: cannot open its directory: %s", path, strerror(errno));
		goto out;
	}
	fd = create_temporary(path, dir, mode, &tmp);
	if (fd < 0 || write_all(fd, path, buf, len) < 0)
		goto out;
	if (fsync(fd) < 0) {
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
	renamed = true;
	/* The rename is durable once the directory is on disk. EINVAL: a file system that cannot sync one. */
	if (fsync(dirfd) < 0 && errno != EINVAL) {
		errorf("%s: written, but its directory could not be synced, so a crash may lose it: %s", path,
		       strerror(errno));
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	if (r < 0 && tmp && !renamed)
		unlink(tmp);
	if (dirfd >= 0)
		close(dirfd);
	free(tmp);
	free(dircopy);
	return r;
}

char *shown_text(const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = strlen(s);
	char *out = n <= (SIZE_MAX - 1) / 4 ? malloc(4 * n + 1) : NULL, *p = out;

	if (!out)
		return NULL;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c < 0x7f) {
			*p++ = (char)c;
			continue;
		}
		*p++ = '\\';
		*p++ = 'x';
		*p++ = hex[c >> 4];
		*p++ = hex[c & 0xf];
	}
	*p = '\0';
	return out;
}

void shown_free(char *shown)
{
	free(shown);
}

int parse_uint(const char *s, unsigned max, unsigned *ret)
{
	unsigned long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > max)
			return -1;
	}
	*ret = (unsigned)v;
	return 0;
}

int align_up_u32(uint32_t v, uint32_t a, uint32_t *ret)
{
	uint64_t r = ((uint64_t)v + a - 1) & ~((uint64_t)a - 1);

	if (r > UINT32_MAX)
		return -1;
	*ret = (uint32_t)r;
	return 0;
}
